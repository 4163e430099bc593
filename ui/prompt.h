/*
 * ui/prompt.h — the `:` prompt's line editor: insert and delete at a
 * cursor, Emacs-style kills, history browsed with Up and Down, and the
 * insertion of a completion.  No drawing here: ui/view.c draws `buf`.
 */
#ifndef FORKSYNTH_UI_PROMPT_H
#define FORKSYNTH_UI_PROMPT_H

#include <stddef.h>

#include "complete.h"

#define PROMPT_MAX 1024            /* bytes of a line, with NUL */
#define HISTORY_MAX 200            /* lines remembered */

enum prompt_result {
	PROMPT_EDITING = 0,            /* keep going */
	PROMPT_DONE,                   /* Enter: run buf */
	PROMPT_CANCEL,                 /* Esc or C-c (or Backspace on empty) */
	PROMPT_COMPLETE                /* Tab: the caller completes */
};

struct prompt {
	char buf[PROMPT_MAX];
	size_t len, cursor;            /* bytes */
	char (*history)[PROMPT_MAX];   /* [HISTORY_MAX], oldest first */
	unsigned n_history;
	int browsing;                  /* history index shown, or -1 */
	char draft[PROMPT_MAX];        /* the line being typed before browsing */
};

/* Allocate the history; free with prompt_free. */
void prompt_init(struct prompt *p);
void prompt_free(struct prompt *p);

/* Begin editing with `initial` text (may be "") and the cursor at its end. */
void prompt_start(struct prompt *p, const char *initial);

/* Handle one key. */
enum prompt_result prompt_key(struct prompt *p, int key);

/* Columns the first `n` bytes of UTF-8 `text` take (one per character). */
size_t prompt_columns(const char *text, size_t n);

/* Remember a line (not a repeat of the last one). */
void prompt_remember(struct prompt *p, const char *line);

/* Replace the word being completed with the candidates' common part, or
 * the only candidate and a blank after it (none after '=' or '/'). */
void prompt_complete(struct prompt *p, const struct completion *c);

#endif
