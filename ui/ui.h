/*
 * ui/ui.h — the terminal front end of a live session (DESIGN.md §7): the
 * ncurses screen, editing by keys and by the `:` prompt, the piano.
 */
#ifndef FORKSYNTH_UI_H
#define FORKSYNTH_UI_H

#include "patch.h"
#include "session.h"

/* Run the session with the terminal UI until the user quits, a signal or
 * the server going away.  `patch` is the authoritative patch (it may be
 * replaced by the autosave if the user accepts the offer).  Returns the
 * process exit status; the terminal is restored on every way out. */
int ui_run(const struct live_options *o, struct patch *patch);

#endif
