/*
 * ui/undo.c — undo and redo stacks of patches (ui/undo.h).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "undo.h"

/* Push a copy of p onto a stack, dropping its oldest entry when full. */
static void
stack_push(struct patch **stack, unsigned *n, const struct patch *p)
{
	struct patch *copy;
	if (*n == UNDO_MAX) {
		copy = stack[0];
		memmove(stack, stack + 1, (UNDO_MAX - 1) * sizeof *stack);
		(*n)--;
	} else {
		copy = xmalloc(sizeof *copy);
	}
	*copy = *p;
	stack[(*n)++] = copy;
}

void
undo_push(struct undo *u, const struct patch *before)
{
	stack_push(u->past, &u->n_past, before);
	while (u->n_future > 0)
		free(u->future[--u->n_future]);
}

int
undo_step(struct undo *u, struct patch *current, int redo)
{
	struct patch **from = redo ? u->future : u->past;
	unsigned *n_from = redo ? &u->n_future : &u->n_past;
	if (*n_from == 0)
		return -1;
	struct patch *p = from[--*n_from];
	if (redo)
		stack_push(u->past, &u->n_past, current);
	else
		stack_push(u->future, &u->n_future, current);
	*current = *p;
	free(p);
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
