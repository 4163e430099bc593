/*
 * ui/browser.h — the patch browser view: the example patches and the
 * user's own ($XDG_DATA_HOME/forksynth/patches), each with its first
 * comment line; moving auditions a patch, Esc goes back to what played
 * before, Enter keeps the one highlighted.
 */
#ifndef FORKSYNTH_UI_BROWSER_H
#define FORKSYNTH_UI_BROWSER_H

#include <stddef.h>

#include "ui_internal.h"

#define BROWSER_DIRS_MAX 3         /* folders listed */
#define BROWSER_PATH_MAX 512

/* The folders the browser lists, in order, into dirs (the user's first,
 * then the installed examples, then the source tree's when this program
 * runs from its build tree); folders that are the same are listed once
 * and a missing one is listed all the same (the user's may not exist
 * yet).  Returns how many. */
unsigned browser_dirs(char dirs[][BROWSER_PATH_MAX], unsigned max);

/* The view became the browser (coming from view `from`): list the
 * folders, remember what plays.  Returns UI_* flags. */
int browser_open(struct ui *u, enum ui_view from);
/* Move the highlight by `delta` rows (clamped) and audition the patch
 * it lands on; to row `index` for browser_select. */
int browser_move(struct ui *u, int delta);
int browser_select(struct ui *u, int index);
/* Esc: back to the patch that played when the browser opened, exactly,
 * and to the view before it. */
int browser_back(struct ui *u);
/* Enter: keep the highlighted patch, as `e FILE` would load it; with
 * unsaved changes, the first Enter says so and a second one loads. */
int browser_keep(struct ui *u);
/* The main loop's check after keys and clicks, with the view before
 * them: the view became the browser (open it), or the browser was left
 * some other way than Esc or Enter (Tab, a number, a click): then the
 * audition ends as with Esc. */
int browser_follow(struct ui *u, enum ui_view from);
/* Whether a patch other than the user's is playing. */
int browser_auditioning(const struct ui *u);
/* Whether the command named `name` may run now: while auditioning,
 * nothing may change or save the patch (it is not the user's); refused
 * ones get a message.  1: may run. */
int browser_allows(struct ui *u, const char *name);
/* Draw the view between rows top and bottom. */
void browser_draw(struct ui *u, int top, int bottom);
/* Free what the browser holds. */
void browser_free(struct ui *u);

#endif
