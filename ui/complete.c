/*
 * ui/complete.c — tab completion for the `:` prompt (ui/complete.h).
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "complete.h"

/* Add `text` (with an optional suffix) when it starts with `prefix`. */
static void
offer(struct completion *c, const char *prefix, const char *text,
    const char *suffix)
{
	char word[COMPLETE_WORD_MAX];
	if (snprintf(word, sizeof word, "%s%s", text, suffix) >= (int)sizeof word ||
	    strncmp(word, prefix, strlen(prefix)) != 0 || c->n == COMPLETE_MAX)
		return;
	for (unsigned i = 0; i < c->n; i++)
		if (strcmp(c->items[i], word) == 0)
			return;
	memcpy(c->items[c->n++], word, sizeof word);
}

/* Ports of every module, as NAME.PORT, plus the engine's in.N or out.N. */
static void
offer_ports(struct completion *c, const struct patch *p, const char *prefix,
    int outputs)
{
	char word[COMPLETE_WORD_MAX];
	for (unsigned m = 0; m < p->n_modules; m++) {
		const struct module_type *t = p->modules[m].type;
		unsigned n = outputs ? t->n_outputs : t->n_inputs;
		for (unsigned k = 0; k < n; k++) {
			snprintf(word, sizeof word, "%s.%s", p->modules[m].name,
			    outputs ? t->outputs[k].name : t->inputs[k].name);
			offer(c, prefix, word, "");
		}
	}
	unsigned n_io = outputs ? p->n_inputs : p->n_outputs;
	for (unsigned k = 0; k < n_io; k++) {
		snprintf(word, sizeof word, "%s.%u", outputs ? "in" : "out", k + 1);
		offer(c, prefix, word, "");
	}
}

/* Files and directories matching prefix*, directories with a '/'. */
static void
offer_files(struct completion *c, const char *prefix)
{
	char pattern[COMPLETE_WORD_MAX + 2];
	glob_t g;
	snprintf(pattern, sizeof pattern, "%s*", prefix);
	if (glob(pattern, GLOB_MARK | GLOB_TILDE, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		offer(c, "", g.gl_pathv[i], "");
	globfree(&g);
}

/* Candidates for argument kind `kind` of a patch command whose earlier
 * words are words[0..n-1]. */
static void
offer_arg(struct completion *c, const struct patch *p, enum cmd_arg kind,
    char words[][COMPLETE_WORD_MAX], unsigned n, const char *prefix)
{
	char word[COMPLETE_WORD_MAX];
	switch (kind) {
	case CMD_ARG_TYPE:
		for (unsigned i = 0; module_table[i] != NULL; i++)
			offer(c, prefix, module_table[i]->name, "");
		break;
	case CMD_ARG_MODULE:
		for (unsigned m = 0; m < p->n_modules; m++)
			offer(c, prefix, p->modules[m].name, "");
		break;
	case CMD_ARG_PARAM:
		for (unsigned m = 0; m < p->n_modules; m++) {
			const struct module_type *t = p->modules[m].type;
			for (unsigned k = 0; k < t->n_params; k++) {
				snprintf(word, sizeof word, "%s.%s", p->modules[m].name,
				    t->params[k].name);
				offer(c, prefix, word, "");
			}
		}
		break;
	case CMD_ARG_VALUE: {
		/* a choice parameter's names */
		char *dot = n > 0 ? strchr(words[n - 1], '.') : NULL;
		if (dot == NULL)
			break;
		*dot = '\0';
		int m = patch_find_module(p, words[n - 1]);
		int k = m < 0 ? -1 : module_param_index(p->modules[m].type, dot + 1);
		*dot = '.';
		if (k < 0 || p->modules[m].type->params[k].kind != PARAM_CHOICE)
			break;
		for (const char *const *ch = p->modules[m].type->params[k].choices;
		    *ch != NULL; ch++)
			offer(c, prefix, *ch, "");
		break;
	}
	case CMD_ARG_ASSIGN: {
		/* voice/global TYPE NAME PARAM=... */
		const struct module_type *t = n >= 2 ? module_find(words[1]) : NULL;
		if (t == NULL)
			break;
		/* after PARAM=, a choice parameter's values, as PARAM=VALUE */
		const char *eq = strchr(prefix, '=');
		if (eq != NULL) {
			snprintf(word, sizeof word, "%.*s", (int)(eq - prefix), prefix);
			int k = module_param_index(t, word);
			if (k < 0 || t->params[k].kind != PARAM_CHOICE ||
			    t->params[k].choices == NULL)
				break;
			for (const char *const *ch = t->params[k].choices; *ch != NULL;
			    ch++) {
				char item[2 * COMPLETE_WORD_MAX];
				snprintf(item, sizeof item, "%s=", word);
				offer(c, prefix, item, *ch);
			}
			break;
		}
		for (unsigned k = 0; k < t->n_params; k++)
			offer(c, prefix, t->params[k].name, "=");
		break;
	}
	case CMD_ARG_OUTPUT:
		offer_ports(c, p, prefix, 1);
		break;
	case CMD_ARG_INPUT:
		offer_ports(c, p, prefix, 0);
		break;
	default:
		break;
	}
}

static int
compare_items(const void *a, const void *b)
{
	return strcmp(a, b);
}

unsigned
complete_line(const struct patch *p, const char *line, size_t cursor,
    const struct complete_command *extra, struct completion *c)
{
	char words[CMD_MAX_TOKENS][COMPLETE_WORD_MAX];
	unsigned n = 0;
	size_t i = 0;

	c->n = 0;
	c->common = 0;
	/* the words before the cursor; the last one (maybe empty) is the
	 * one to complete */
	c->start = 0;
	for (;;) {
		while (i < cursor && (line[i] == ' ' || line[i] == '\t'))
			i++;
		size_t begin = i;
		while (i < cursor && line[i] != ' ' && line[i] != '\t')
			i++;
		if (i == cursor) {
			c->start = begin;
			break;
		}
		if (n < CMD_MAX_TOKENS)
			snprintf(words[n++], COMPLETE_WORD_MAX, "%.*s", (int)(i - begin),
			    line + begin);
	}
	char prefix[COMPLETE_WORD_MAX];
	snprintf(prefix, sizeof prefix, "%.*s", (int)(cursor - c->start),
	    line + c->start);

	if (n == 0) {
		for (unsigned k = 0; cmd_table[k].name != NULL; k++)
			offer(c, prefix, cmd_table[k].name, "");
		for (unsigned k = 0; extra != NULL && extra[k].name != NULL; k++)
			offer(c, prefix, extra[k].name, "");
	} else if (cmd_find(words[0]) != NULL) {
		const struct cmd_entry *e = cmd_find(words[0]);
		unsigned arg = n - 1, last = 0;
		while (last + 1 < CMD_MAX_ARGS && e->args[last + 1] != CMD_ARG_NONE)
			last++;
		if (e->max_args < 0 || (int)arg < e->max_args)
			offer_arg(c, p, e->args[arg < last ? arg : last], words, n, prefix);
	} else {
		for (unsigned k = 0; extra != NULL && extra[k].name != NULL; k++) {
			if (strcmp(extra[k].name, words[0]) != 0)
				continue;
			if (extra[k].takes_file)
				offer_files(c, prefix);
			for (const char *const *w = extra[k].words; w != NULL && *w; w++)
				offer(c, prefix, *w, "");
		}
	}
	qsort(c->items, c->n, sizeof c->items[0], compare_items);
	if (c->n > 0) {
		c->common = strlen(c->items[0]);
		for (unsigned k = 1; k < c->n; k++) {
			size_t j = 0;
			while (j < c->common && c->items[k][j] == c->items[0][j])
				j++;
			c->common = j;
		}
	}
	return c->n;
}
