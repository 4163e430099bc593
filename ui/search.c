/*
 * ui/search.c — finding text in a list of lines (ui/search.h).
 */
#include <ctype.h>
#include <string.h>

#include "search.h"

const char *
search_in(const char *text, const char *term)
{
	size_t n = strlen(term);
	if (n == 0)
		return NULL;
	for (const char *t = text; *t != '\0'; t++) {
		size_t k = 0;
		while (k < n && t[k] != '\0' &&
		    tolower((unsigned char)t[k]) == tolower((unsigned char)term[k]))
			k++;
		if (k == n)
			return t;
	}
	return NULL;
}

int
search_step(int n, int from, int dir, search_has_fn has, void *ctx,
    int *wrapped)
{
	*wrapped = 0;
	if (n <= 0)
		return -1;
	dir = dir < 0 ? -1 : 1;
	if (from < -1)
		from = -1;
	if (from > n)
		from = n;
	int i = from;
	for (int step = 0; step < n + 1; step++) {
		i += dir;
		if (i >= n || i < 0) {
			/* round the end; a start outside the list is no wrap */
			if (from >= 0 && from < n)
				*wrapped = 1;
			i = dir > 0 ? 0 : n - 1;
		}
		if (has(ctx, i))
			return i;
		if (i == from)
			break;
	}
	*wrapped = 0;
	return -1;
}
