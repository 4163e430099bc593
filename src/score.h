/*
 * src/score.h — scores for offline render: timed commands in the command
 * language, such as "at 0.5 note 57 100 2.0" or "at 1.0 set flt.cutoff 2000".
 */
#ifndef FORKSYNTH_SCORE_H
#define FORKSYNTH_SCORE_H

#include <stddef.h>

#include "patch.h"

enum score_kind {
	SCORE_NOTE = 0,     /* note on at `time`, off at time + duration */
	SCORE_COMMAND       /* a patch command run at `time` */
};

struct score_event {
	double time;              /* seconds from the start, >= 0 */
	enum score_kind kind;
	unsigned char note;       /* SCORE_NOTE: MIDI note 0..127 */
	unsigned char velocity;   /* SCORE_NOTE: 1..127 */
	double duration;          /* SCORE_NOTE: seconds held, > 0 */
	char command[256];        /* SCORE_COMMAND: the command text */
	unsigned line;            /* where it came from, for messages */
	unsigned column;          /* 1-based column where `command` starts */
};

struct score {
	size_t n;
	struct score_event *events;   /* sorted by time; ties keep file order */
};

/* Parse a MIDI note given as 0..127 or a name such as A4, C#3, Eb2 or
 * C-1 (A4 = 69, C4 = 60), as scores and the `note` command take it; the
 * note may be out of 0..127 on success.  Returns 0, or -1. */
int score_note_parse(const char *text, long *note);

/* Parse a score; on error the score is empty and err names line:column. */
int score_load_text(struct score *s, const char *text, const char *file,
    struct patch_error *err);
int score_load_file(struct score *s, const char *path, struct patch_error *err);
void score_free(struct score *s);

/*
 * Run a SCORE_COMMAND event on p: all or nothing, like patch_exec_line, but
 * an error's line and column point into the score (`file` names it).
 * Returns 0, or -1 with p untouched.
 */
int score_event_exec(struct patch *p, const struct score_event *ev,
    const char *file, struct patch_error *err);

/*
 * Check every command of the score against a copy of p, in time order, so
 * a render can refuse a bad score before it starts.  Returns 0 or -1.
 */
int score_check(const struct score *s, const struct patch *p,
    const char *file, struct patch_error *err);

#endif
