/*
 * ui/complete.h — tab completion for the `:` prompt: command names, module
 * types, module names, NAME.PARAM, ports, choice values and PARAM=, driven
 * by the command table's argument kinds (src/command.h), plus file names
 * for the commands that take one.
 */
#ifndef FORKSYNTH_UI_COMPLETE_H
#define FORKSYNTH_UI_COMPLETE_H

#include <stddef.h>

#include "patch.h"

#define COMPLETE_MAX 256           /* candidates, at most */
#define COMPLETE_WORD_MAX 96       /* bytes of one candidate, with NUL */

/* Commands the prompt knows besides the patch commands, for completion:
 * a name and whether its argument is a file. */
struct complete_command {
	const char *name;
	int takes_file;
	const char *const *words;      /* fixed argument words, or NULL */
};

struct completion {
	size_t start;                  /* byte offset where the word begins */
	unsigned n;                    /* candidates */
	char items[COMPLETE_MAX][COMPLETE_WORD_MAX];
	size_t common;                 /* bytes all candidates share */
};

/*
 * Complete the word that ends at byte `cursor` of `line` against patch p.
 * `extra` lists further commands (NULL-name terminated).  Fills c, sorted,
 * without duplicates; returns the number of candidates.
 */
unsigned complete_line(const struct patch *p, const char *line, size_t cursor,
    const struct complete_command *extra, struct completion *c);

#endif
