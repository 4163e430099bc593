/*
 * ui/search.h — finding text in a list of lines for `/`, `n` and `N`:
 * a case-blind match in one line, and the next line that matches from a
 * position, forward or back, wrapping around the ends.  Pure: no
 * terminal, no session (ui/find.c applies it to the views).
 */
#ifndef FORKSYNTH_UI_SEARCH_H
#define FORKSYNTH_UI_SEARCH_H

#include <stddef.h>

#define SEARCH_MAX 64              /* bytes of a search term, with NUL */

/* Where `term` first occurs in `text`, ignoring ASCII case, or NULL;
 * an empty term matches nowhere. */
const char *search_in(const char *text, const char *term);

/* Whether item i of a list matches; ctx is the caller's. */
typedef int (*search_has_fn)(void *ctx, int i);

/*
 * The first of items 0..n-1 after `from` (dir 1) or before it (dir -1)
 * that `has` accepts, going round past the end to the other end; `from`
 * itself comes last.  from may be -1 (dir 1: start at 0) or n (dir -1:
 * start at n-1).  *wrapped says whether it went round.  Returns the
 * index, or -1 when none matches.
 */
int search_step(int n, int from, int dir, search_has_fn has, void *ctx,
    int *wrapped);

#endif
