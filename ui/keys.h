/*
 * ui/keys.h — key names as the rc file writes them ("j", "C-r", "Enter",
 * "PageUp", "F5") and the key map: which command each key runs.  Bindings
 * are data, set by `bind KEY COMMAND` lines (ui/default.rc, then the user's
 * ~/.config/forksynth/rc).
 */
#ifndef FORKSYNTH_UI_KEYS_H
#define FORKSYNTH_UI_KEYS_H

#include <stddef.h>

#define KEYMAP_MAX 256             /* bindings, at most */
#define KEY_COMMAND_MAX 160        /* bytes of a bound command, with NUL */

/* Keys that ncurses reports in several ways, folded into one code each. */
#define UI_KEY_ENTER  '\n'
#define UI_KEY_ESCAPE 27
#define UI_KEY_TAB    '\t'

struct binding {
	int key;                           /* ncurses key code */
	char command[KEY_COMMAND_MAX];
};

struct keymap {
	unsigned n;
	struct binding b[KEYMAP_MAX];
};

/* The key called `name`, or -1. */
int key_parse(const char *name);

/* The name of `key` as key_parse reads it, into buf. */
void key_describe(int key, char *buf, size_t size);

/* Fold the codes a terminal may send for Enter and Backspace into one. */
int key_normalize(int key);

/* Bind `key` to `command`, replacing an earlier binding; an empty command
 * unbinds.  Returns 0, or -1 when the map is full or the command too long. */
int keymap_bind(struct keymap *m, int key, const char *command);

/* The command bound to `key`, or NULL. */
const char *keymap_lookup(const struct keymap *m, int key);

#endif
