/*
 * ui/undo.h — undo and redo as two stacks of whole patches (a patch is a
 * plain value of about 55 KB; a few hundred steps are a few MB), each with
 * the name of the file it belongs to, so that undoing past a load gives
 * back the old file's name too.
 */
#ifndef FORKSYNTH_UI_UNDO_H
#define FORKSYNTH_UI_UNDO_H

#include "patch.h"

#define UNDO_MAX 200               /* steps kept each way; the oldest go */
#define UNDO_FILE_MAX 512          /* bytes of a file name, with NUL */

/* One remembered state. */
struct undo_entry {
	struct patch patch;
	char file[UNDO_FILE_MAX];          /* "" for the built-in patch */
};

struct undo {
	struct undo_entry *past[UNDO_MAX];     /* oldest first */
	unsigned n_past;
	struct undo_entry *future[UNDO_MAX];   /* next redo last */
	unsigned n_future;
};

/* Remember `before` (of file `file`), the patch an edit has just changed;
 * clears redo. */
void undo_push(struct undo *u, const struct patch *before, const char *file);

/* Step back (redo = 0) or forward: the current patch and file go onto the
 * other stack and become the remembered ones (file: UNDO_FILE_MAX bytes).
 * 0, or -1 when there is nothing to step to. */
int undo_step(struct undo *u, struct patch *current, char *file, int redo);

void undo_free(struct undo *u);

#endif
