/*
 * ui/undo.h — undo and redo as two stacks of whole patches (a patch is a
 * plain value of about 55 KB; a few hundred steps are a few MB).
 */
#ifndef FORKSYNTH_UI_UNDO_H
#define FORKSYNTH_UI_UNDO_H

#include "patch.h"

#define UNDO_MAX 200               /* steps kept each way; the oldest go */

struct undo {
	struct patch *past[UNDO_MAX];      /* oldest first */
	unsigned n_past;
	struct patch *future[UNDO_MAX];    /* next redo last */
	unsigned n_future;
};

/* Remember `before`, the patch an edit has just changed; clears redo. */
void undo_push(struct undo *u, const struct patch *before);

/* Step back (redo = 0) or forward: `current` goes onto the other stack
 * and *current becomes the remembered patch.  0, or -1 when there is
 * nothing to step to. */
int undo_step(struct undo *u, struct patch *current, int redo);

void undo_free(struct undo *u);

#endif
