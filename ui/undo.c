/*
 * ui/undo.c — undo and redo stacks of patches (ui/undo.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "undo.h"

/* Push a copy of p and its file onto a stack, dropping its oldest entry
 * when full. */
static void
stack_push(struct undo_entry **stack, unsigned *n, const struct patch *p,
    const char *file)
{
	struct undo_entry *e;
	if (*n == UNDO_MAX) {
		e = stack[0];
		memmove(stack, stack + 1, (UNDO_MAX - 1) * sizeof *stack);
		(*n)--;
	} else {
		e = xmalloc(sizeof *e);
	}
	e->patch = *p;
	snprintf(e->file, sizeof e->file, "%s", file);
	stack[(*n)++] = e;
}

void
undo_push(struct undo *u, const struct patch *before, const char *file)
{
	stack_push(u->past, &u->n_past, before, file);
	while (u->n_future > 0)
		free(u->future[--u->n_future]);
}

int
undo_step(struct undo *u, struct patch *current, char *file, int redo)
{
	struct undo_entry **from = redo ? u->future : u->past;
	unsigned *n_from = redo ? &u->n_future : &u->n_past;
	if (*n_from == 0)
		return -1;
	struct undo_entry *e = from[--*n_from];
	if (redo)
		stack_push(u->past, &u->n_past, current, file);
	else
		stack_push(u->future, &u->n_future, current, file);
	*current = e->patch;
	snprintf(file, UNDO_FILE_MAX, "%s", e->file);
	free(e);
	return 0;
}

void
undo_free(struct undo *u)
{
	while (u->n_past > 0)
		free(u->past[--u->n_past]);
	while (u->n_future > 0)
		free(u->future[--u->n_future]);
}
