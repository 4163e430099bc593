/*
 * src/patchfile.c — a patch's own file (patchfile.h): the format-preserving
 * merge of a patch into a file's text, the safe atomic write, and the save
 * rules (what needs force, what is refused).
 *
 * The merge edits the lines that made the old patch and never guesses
 * blindly: its result is loaded again and must build exactly the patch
 * being saved, else the canonical form is written instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command.h"
#include "log.h"
#include "midimap.h"
#include "patchfile.h"

/* ---------------------------------------------------------------- text */

/* A growing string. */
struct sbuf {
	char *s;
	size_t len, cap;
};

/* Append n bytes of s. */
static void
sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *bigger = xmalloc(cap);
		if (b->len > 0)
			memcpy(bigger, b->s, b->len);
		free(b->s);
		b->s = bigger;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Append a string. */
static void
sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

/* Append `n` spaces. */
static void
sbuf_pad(struct sbuf *b, int n)
{
	for (; n > 0; n--)
		sbuf_add(b, " ", 1);
}

/* What `save` writes of p, as a string (free it). */
static char *
text_of(const struct patch *p, void (*save)(const struct patch *, FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL)
		fatal("out of memory");
	save(p, f);
	fclose(f);
	return text;
}

static void
save_whole(const struct patch *p, FILE *f)
{
	patch_save(p, f);
}

char *
patchfile_canonical(const struct patch *p)
{
	return text_of(p, save_whole);
}

/* ---------------------------------------------------------------- merge */

enum line_kind {
	LINE_OTHER = 0,     /* blank or comment: kept as it is */
	LINE_POLY,          /* poly N or mono */
	LINE_TEMPO,         /* tempo BPM */
	LINE_MODULE,        /* voice/global TYPE NAME ... */
	LINE_SET,           /* set NAME.PARAM VALUE */
	LINE_CONNECT,       /* connect FROM TO */
	LINE_MIDI           /* map, unmap, channel: rewritten as a group */
};

/* One line of the file being merged. */
struct mline {
	char *text;             /* current text, without the newline */
	enum line_kind kind;
	int module;             /* LINE_MODULE, LINE_SET: base module index */
	int conn;               /* LINE_CONNECT: base connection index */
	int deleted;
	struct sbuf after;      /* new lines to insert after this one */
};

/* Where a parameter of a base module was last given: a line and the word
 * on it (0: never given; the value is the default). */
struct assign {
	int line;
	unsigned word;
	int given;
};

/* The merge's working state. */
struct merge {
	const struct patch *p;
	struct patch *base;
	struct mline *lines;
	int n_lines;
	struct sbuf before;     /* new lines to insert before the first one */
	int final_newline;      /* the text ended with a newline */
	struct assign (*assign)[MODULE_MAX_PARAMS];  /* [base module][param] */
	int *base_to_p;         /* base module -> p module, or -1 */
	int *p_from_base;       /* p module -> base module, or -1 (new) */
};

/* Whether a value needs quotes to read back as one word. */
static int
needs_quotes(const char *s)
{
	if (*s == '\0')
		return 1;
	for (; *s != '\0'; s++)
		if (*s == ' ' || *s == '\t' || *s == '"' || *s == '\\' ||
		    *s == '#' || *s == '\r' || *s == '\v' || *s == '\f')
			return 1;
	return 0;
}

/* The value of parameter k of module m as the language spells it. */
static void
format_param(const struct patch_module *m, unsigned k, struct sbuf *out)
{
	const struct param_desc *d = &m->type->params[k];
	char value[64];

	if (d->kind != PARAM_TEXT) {
		cmd_format_value(d, m->params[k], value, sizeof value);
		sbuf_puts(out, value);
		return;
	}
	if (!needs_quotes(m->text)) {
		sbuf_puts(out, m->text);
		return;
	}
	sbuf_puts(out, "\"");
	for (const char *c = m->text; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			sbuf_add(out, "\\", 1);
		sbuf_add(out, c, 1);
	}
	sbuf_puts(out, "\"");
}

/* Whether parameter k differs between two modules of the same type. */
static int
param_differs(const struct patch_module *a, const struct patch_module *b,
    unsigned k)
{
	if (a->type->params[k].kind == PARAM_TEXT)
		return strcmp(a->text, b->text) != 0;
	return a->params[k] != b->params[k];
}

/* Whether parameter k of m differs from its default. */
static int
param_set(const struct patch_module *m, unsigned k)
{
	if (m->type->params[k].kind == PARAM_TEXT)
		return m->text[0] != '\0';
	return m->params[k] != m->type->params[k].def;
}

/*
 * Replace bytes [from, to) of *line by `repl`.  The first run of two or
 * more blanks after it (the gap before an aligned column or comment)
 * shrinks or grows by the change in length, one blank kept at least, so
 * that what follows it stays in its column.
 */
static void
line_splice(char **line, size_t from, size_t to, const char *repl)
{
	char *s = *line;
	size_t len = strlen(s), rlen = strlen(repl);
	long grow = (long)rlen - (long)(to - from);
	size_t gap = to, gap_len = 0;
	while (s[gap] != '\0') {
		size_t k = strspn(s + gap, " ");
		if (k >= 2 && s[gap + k] != '\0') {
			gap_len = k;
			break;
		}
		gap += k > 0 ? k : 1;
	}
	long keep = (long)gap_len - grow;
	if (keep < 1)
		keep = 1;
	struct sbuf b = { 0 };
	sbuf_add(&b, s, from);
	sbuf_puts(&b, repl);
	if (gap_len == 0) {
		sbuf_add(&b, s + to, len - to);
	} else {
		sbuf_add(&b, s + to, gap - to);
		sbuf_pad(&b, (int)keep);
		sbuf_add(&b, s + gap + gap_len, len - gap - gap_len);
	}
	free(s);
	*line = b.s;
}

/* Tokenize a line of the merge (it loaded once, so it tokenizes). */
static int
tokens_of(const char *line, struct cmd_tokens *t)
{
	struct patch_error err;
	return cmd_tokenize(line, t, &err);
}

/* Replace word `w` of line i by `repl`; `from_eq`: only what follows its
 * first '=' (a PARAM=VALUE word). */
static void
replace_word(struct merge *m, int i, unsigned w, int from_eq, const char *repl)
{
	struct cmd_tokens t;
	if (tokens_of(m->lines[i].text, &t) != 0 || w >= t.n)
		return;   /* cannot happen; the verification would catch it */
	size_t from = t.column[w] - 1, to = t.end[w] - 1;
	if (from_eq) {
		if (t.eq_column[w] == 0)
			return;
		from = t.eq_column[w];
	}
	line_splice(&m->lines[i].text, from, to, repl);
}

/* Append " word" after the last word of line i (before a comment). */
static void
append_word(struct merge *m, int i, const char *word)
{
	struct cmd_tokens t;
	if (tokens_of(m->lines[i].text, &t) != 0 || t.n == 0)
		return;
	size_t at = t.end[t.n - 1] - 1;
	struct sbuf b = { 0 };
	sbuf_puts(&b, " ");
	sbuf_puts(&b, word);
	line_splice(&m->lines[i].text, at, at, b.s);
	free(b.s);
}

/* Split the text into lines and learn what each one does.  0, or -1 when
 * a line does something the merge cannot follow. */
static int
merge_scan(struct merge *m, const char *text)
{
	struct cmd_tokens t;
	struct patch_error err;
	const struct cmd_entry *e;
	int n_modules = 0, n_conns = 0;

	int cap = 1;
	for (const char *s = text; *s != '\0'; s++)
		cap += *s == '\n';
	m->lines = xcalloc((size_t)cap, sizeof *m->lines);
	size_t len = strlen(text);
	m->final_newline = len == 0 || text[len - 1] == '\n';
	for (const char *s = text; *s != '\0';) {
		size_t n = strcspn(s, "\n");
		struct mline *l = &m->lines[m->n_lines++];
		l->text = xmalloc(n + 1);
		memcpy(l->text, s, n);
		l->text[n] = '\0';
		l->module = l->conn = -1;
		s += n;
		if (*s == '\n')
			s++;
	}
	for (int i = 0; i < m->n_lines; i++) {
		struct mline *l = &m->lines[i];
		if (cmd_parse(l->text, &t, &e, &err) != 0)
			return -1;
		if (e == NULL)
			continue;
		if (strcmp(e->name, "poly") == 0 || strcmp(e->name, "mono") == 0) {
			l->kind = LINE_POLY;
		} else if (strcmp(e->name, "tempo") == 0) {
			l->kind = LINE_TEMPO;
		} else if (strcmp(e->name, "voice") == 0 ||
		    strcmp(e->name, "global") == 0) {
			l->kind = LINE_MODULE;
			l->module = n_modules++;
			/* more module lines than modules: some are removed later */
			if (l->module >= (int)m->base->n_modules)
				return -1;
			const struct module_type *type = m->base->modules[l->module].type;
			for (unsigned w = 3; w < t.n; w++) {
				char name[64];
				snprintf(name, sizeof name, "%.*s", t.eq[w], t.argv[w]);
				int k = module_param_index(type, name);
				if (k < 0 || k >= MODULE_MAX_PARAMS)
					return -1;
				m->assign[l->module][k] = (struct assign){ i, w, 1 };
			}
		} else if (strcmp(e->name, "set") == 0) {
			char name[PATCH_NAME_MAX];
			const char *dot = strchr(t.argv[1], '.');
			if (dot == NULL || (size_t)(dot - t.argv[1]) >= sizeof name)
				return -1;
			snprintf(name, sizeof name, "%.*s", (int)(dot - t.argv[1]),
			    t.argv[1]);
			l->kind = LINE_SET;
			l->module = patch_find_module(m->base, name);
			if (l->module < 0)
				return -1;
			int k = module_param_index(m->base->modules[l->module].type,
			    dot + 1);
			if (k < 0 || k >= MODULE_MAX_PARAMS)
				return -1;
			m->assign[l->module][k] = (struct assign){ i, 2, 1 };
		} else if (strcmp(e->name, "connect") == 0) {
			l->kind = LINE_CONNECT;
			l->conn = n_conns++;
		} else if (strcmp(e->name, "map") == 0 ||
		    strcmp(e->name, "unmap") == 0 || strcmp(e->name, "channel") == 0) {
			l->kind = LINE_MIDI;
		} else {
			/* remove, rename, disconnect: lines that undo other lines */
			return -1;
		}
	}
	/* the lines must account for the whole patch */
	return n_modules == (int)m->base->n_modules &&
	    n_conns == (int)m->base->n_connections ? 0 : -1;
}

/*
 * Which module of p each base module became, walking p in order: a module
 * keeps its line when the base has it by name (same type and scope) after
 * the last one kept; a module without such a match takes over the line of
 * the next base module of the same type and scope that p does not have by
 * name in place (a rename).  From the first module that can do neither,
 * p's modules are written as new lines after the module lines, so that
 * loading the text gives p's order.
 */
static void
merge_match_modules(struct merge *m)
{
	const struct patch *p = m->p, *b = m->base;
	int last = -1, tail = 0;

	for (unsigned i = 0; i < b->n_modules; i++)
		m->base_to_p[i] = -1;
	for (unsigned j = 0; j < p->n_modules; j++) {
		const struct patch_module *pm = &p->modules[j];
		m->p_from_base[j] = -1;
		if (tail)
			continue;
		int i = patch_find_module(b, pm->name);
		if (i >= 0 && (i <= last || b->modules[i].type != pm->type ||
		    b->modules[i].scope != pm->scope))
			i = -1;
		for (unsigned k = (unsigned)(last + 1); i < 0 && k < b->n_modules; k++) {
			const struct patch_module *bm = &b->modules[k];
			int same = patch_find_module(p, bm->name);
			if (bm->type == pm->type && bm->scope == pm->scope &&
			    (same < 0 || same > (int)j))
				i = (int)k;
		}
		if (i < 0) {
			tail = 1;
			continue;
		}
		m->p_from_base[j] = i;
		m->base_to_p[i] = (int)j;
		last = i;
	}
}

/* A base port in p's numbering, or module -2 when its module is gone. */
static struct patch_port
map_port(const struct merge *m, struct patch_port port)
{
	if (port.module >= 0)
		port.module = m->base_to_p[port.module] >= 0 ?
		    m->base_to_p[port.module] : -3;
	return port;
}

/* Index of connection c in p, or -1. */
static int
find_in_p(const struct patch *p, struct patch_connection c)
{
	for (unsigned j = 0; j < p->n_connections; j++) {
		const struct patch_connection *d = &p->connections[j];
		if (d->from.module == c.from.module && d->from.port == c.from.port &&
		    d->to.module == c.to.module && d->to.port == c.to.port)
			return (int)j;
	}
	return -1;
}

/* Pad line b with blanks to `column` (1-based) of a neighbour's word,
 * or with one blank when it is already there or past it. */
static void
pad_to(struct sbuf *b, unsigned column)
{
	if (column > 0 && b->len + 1 < column)
		sbuf_pad(b, (int)(column - 1 - b->len));
	else
		sbuf_puts(b, " ");
}

/* The new line for module j of p, with its type and name in the columns
 * of the module line `like` (or -1) so that it lines up with its
 * neighbours. */
static void
module_line(struct merge *m, unsigned j, int like, struct sbuf *out)
{
	struct cmd_tokens t;
	const struct patch_module *pm = &m->p->modules[j];
	struct sbuf l = { 0 };

	int have = like >= 0 && tokens_of(m->lines[like].text, &t) == 0 && t.n >= 3;
	if (have)
		sbuf_add(&l, m->lines[like].text, t.column[0] - 1);
	sbuf_puts(&l, pm->scope == SCOPE_VOICE ? "voice" : "global");
	pad_to(&l, have ? t.column[1] : 0);
	sbuf_puts(&l, pm->type->name);
	pad_to(&l, have ? t.column[2] : 0);
	sbuf_puts(&l, pm->name);
	for (unsigned k = 0; k < pm->type->n_params && k < MODULE_MAX_PARAMS; k++) {
		if (!param_set(pm, k))
			continue;
		sbuf_puts(&l, " ");
		sbuf_puts(&l, pm->type->params[k].name);
		sbuf_puts(&l, "=");
		format_param(pm, k, &l);
	}
	sbuf_puts(&l, "\n");
	sbuf_puts(out, l.s);
	free(l.s);
}

/* The new line for connection j of p, its second port in the column of
 * the connect line `like` (or -1). */
static void
connect_line(struct merge *m, unsigned j, int like, struct sbuf *out)
{
	struct cmd_tokens t;
	char from[80], to[80];
	struct sbuf l = { 0 };

	patch_port_name(m->p, m->p->connections[j].from, 1, from, sizeof from);
	patch_port_name(m->p, m->p->connections[j].to, 0, to, sizeof to);
	int have = like >= 0 && tokens_of(m->lines[like].text, &t) == 0 && t.n >= 3;
	if (have)
		sbuf_add(&l, m->lines[like].text, t.column[0] - 1);
	sbuf_puts(&l, "connect");
	pad_to(&l, have ? t.column[1] : 0);
	sbuf_puts(&l, from);
	pad_to(&l, have ? t.column[2] : 0);
	sbuf_puts(&l, to);
	sbuf_puts(&l, "\n");
	sbuf_puts(out, l.s);
	free(l.s);
}

/* Insert `text` (whole lines) after line i, or before the first line when
 * i is -1. */
static void
insert_after(struct merge *m, int i, const char *text)
{
	sbuf_puts(i < 0 ? &m->before : &m->lines[i].after, text);
}

/* Poly or mono, where the file says it, or a new line before its first
 * command. */
static void
merge_poly(struct merge *m)
{
	const struct patch *p = m->p, *b = m->base;
	char line[32];
	int last = -1, first_cmd = -1;

	if (p->poly == b->poly && p->mono == b->mono)
		return;
	for (int i = 0; i < m->n_lines; i++) {
		if (m->lines[i].kind == LINE_POLY)
			last = i;
		if (m->lines[i].kind != LINE_OTHER && first_cmd < 0)
			first_cmd = i;
	}
	if (p->mono)
		snprintf(line, sizeof line, "mono");
	else
		snprintf(line, sizeof line, "poly %u", p->poly);
	if (last >= 0) {
		struct cmd_tokens t;
		if (tokens_of(m->lines[last].text, &t) != 0 || t.n == 0)
			return;
		line_splice(&m->lines[last].text, t.column[0] - 1, t.end[t.n - 1] - 1, line);
		return;
	}
	strcat(line, "\n");
	insert_after(m, first_cmd >= 0 ? first_cmd - 1 : m->n_lines - 1, line);
}

/* The `channel` and `map` lines that rebuild p's MIDI settings (free it). */
static char *
midi_text(const struct patch *p)
{
	return text_of(p, midimap_save);
}

/* The channel and the mappings: kept as written when they did not change,
 * else every map/unmap/channel line goes and the canonical ones take the
 * place of the first of them (or follow the last line). */
static void
merge_midi(struct merge *m)
{
	char *now = midi_text(m->p), *was = midi_text(m->base);
	int first = -1;

	if (strcmp(now, was) != 0) {
		for (int i = 0; i < m->n_lines; i++)
			if (m->lines[i].kind == LINE_MIDI) {
				m->lines[i].deleted = 1;
				if (first < 0)
					first = i;
			}
		insert_after(m, first >= 0 ? first : m->n_lines - 1, now);
	}
	free(now);
	free(was);
}

/* The tempo, where the file says it (the last such line), or a new line
 * after the poly line, or before the first command. */
static void
merge_tempo(struct merge *m)
{
	const struct patch *p = m->p, *b = m->base;
	char line[48], bpm[32];
	int last = -1, after = -1, first_cmd = -1;

	if (p->tempo == b->tempo)
		return;
	for (int i = 0; i < m->n_lines; i++) {
		if (m->lines[i].kind == LINE_TEMPO)
			last = i;
		if (m->lines[i].kind == LINE_POLY)
			after = i;
		if (m->lines[i].kind != LINE_OTHER && first_cmd < 0)
			first_cmd = i;
	}
	patch_format_tempo(p->tempo, bpm, sizeof bpm);
	snprintf(line, sizeof line, "tempo %s", bpm);
	if (last >= 0) {
		struct cmd_tokens t;
		if (tokens_of(m->lines[last].text, &t) != 0 || t.n == 0)
			return;
		line_splice(&m->lines[last].text, t.column[0] - 1, t.end[t.n - 1] - 1, line);
		return;
	}
	strcat(line, "\n");
	if (after < 0)
		after = first_cmd >= 0 ? first_cmd - 1 : m->n_lines - 1;
	insert_after(m, after, line);
}

/* Module lines and set lines: rename, change values, remove, add. */
static void
merge_modules(struct merge *m)
{
	const struct patch *p = m->p, *b = m->base;
	int last_module = -1;

	for (int i = 0; i < m->n_lines; i++) {
		struct mline *l = &m->lines[i];
		if (l->kind == LINE_MODULE)
			last_module = i;
		if ((l->kind != LINE_MODULE && l->kind != LINE_SET) ||
		    m->base_to_p[l->module] >= 0)
			continue;
		l->deleted = 1;
	}
	for (unsigned i = 0; i < b->n_modules; i++) {
		int j = m->base_to_p[i];
		if (j < 0)
			continue;
		const struct patch_module *old = &b->modules[i], *now = &p->modules[j];
		if (strcmp(old->name, now->name) != 0)
			for (int k = 0; k < m->n_lines; k++) {
				struct mline *l = &m->lines[k];
				if (l->module != (int)i)
					continue;
				if (l->kind == LINE_MODULE) {
					replace_word(m, k, 2, 0, now->name);
				} else if (l->kind == LINE_SET) {
					struct cmd_tokens t;
					if (tokens_of(l->text, &t) != 0 || t.n < 2)
						continue;
					char word[PARAM_TEXT_MAX];
					snprintf(word, sizeof word, "%s%s", now->name,
					    strchr(t.argv[1], '.'));
					replace_word(m, k, 1, 0, word);
				}
			}
		int def_line = -1;
		for (int k = 0; k < m->n_lines; k++)
			if (m->lines[k].kind == LINE_MODULE && m->lines[k].module == (int)i)
				def_line = k;
		for (unsigned k = 0; k < now->type->n_params && k < MODULE_MAX_PARAMS;
		    k++) {
			if (!param_differs(old, now, k))
				continue;
			struct sbuf v = { 0 };
			const struct assign *a = &m->assign[i][k];
			if (a->given) {
				format_param(now, k, &v);
				replace_word(m, a->line, a->word,
				    m->lines[a->line].kind == LINE_MODULE, v.s);
			} else if (def_line >= 0) {
				sbuf_puts(&v, now->type->params[k].name);
				sbuf_puts(&v, "=");
				format_param(now, k, &v);
				append_word(m, def_line, v.s);
			}
			free(v.s);
		}
	}
	struct sbuf added = { 0 };
	for (unsigned j = 0; j < p->n_modules; j++)
		if (m->p_from_base[j] < 0)
			module_line(m, j, last_module, &added);
	if (added.len == 0)
		return;
	int at = last_module;
	if (at < 0)
		for (int i = 0; i < m->n_lines; i++)
			if (m->lines[i].kind == LINE_POLY)
				at = i;
	if (at < 0)
		for (int i = 0; i < m->n_lines && at < 0; i++)
			if (m->lines[i].kind == LINE_CONNECT)
				at = i - 1 >= 0 ? i - 1 : -1;
	if (at < 0 && m->n_lines > 0 && last_module < 0)
		at = m->n_lines - 1;
	insert_after(m, at, added.s);
	free(added.s);
}

/* Connect lines: ports renamed, gone ones removed, new ones added after
 * the last connect line (or the new modules). */
static void
merge_connections(struct merge *m)
{
	const struct patch *p = m->p, *b = m->base;
	int *p_from_base = xmalloc((p->n_connections + 1) * sizeof *p_from_base);
	int *base_kept = xcalloc(b->n_connections + 1, sizeof *base_kept);
	int last_conn = -1, last_module = -1;

	for (unsigned j = 0; j < p->n_connections; j++)
		p_from_base[j] = -1;
	for (unsigned c = 0; c < b->n_connections; c++) {
		struct patch_connection x = {
			map_port(m, b->connections[c].from), map_port(m, b->connections[c].to)
		};
		int j = find_in_p(p, x);
		if (j >= 0)
			p_from_base[j] = (int)c;
	}
	int last = -1, tail = 0;
	for (unsigned j = 0; j < p->n_connections; j++) {
		int c = p_from_base[j];
		if (!tail && c > last) {
			last = c;
			base_kept[c] = (int)j + 1;
			continue;
		}
		tail = 1;
		p_from_base[j] = -1;
	}
	for (int i = 0; i < m->n_lines; i++) {
		struct mline *l = &m->lines[i];
		if (l->kind == LINE_MODULE)
			last_module = i;
		if (l->kind != LINE_CONNECT)
			continue;
		last_conn = i;
		if (base_kept[l->conn] == 0) {
			l->deleted = 1;
			continue;
		}
		struct cmd_tokens t;
		char name[80];
		const struct patch_connection *c = &p->connections[base_kept[l->conn] - 1];
		for (unsigned w = 1; w <= 2; w++) {
			if (tokens_of(l->text, &t) != 0 || t.n < 3)
				break;
			patch_port_name(p, w == 1 ? c->from : c->to, w == 1, name,
			    sizeof name);
			if (strcmp(t.argv[w], name) != 0)
				replace_word(m, i, w, 0, name);
		}
	}
	struct sbuf added = { 0 };
	for (unsigned j = 0; j < p->n_connections; j++)
		if (p_from_base[j] < 0)
			connect_line(m, j, last_conn, &added);
	if (added.len > 0) {
		int at = last_conn > last_module ? last_conn : last_module;
		if (at < 0)
			at = m->n_lines - 1;
		insert_after(m, at, added.s);
	}
	free(added.s);
	free(p_from_base);
	free(base_kept);
}

/* Whether `text` loads as exactly p. */
static int
builds(const char *text, const struct patch *p)
{
	struct patch *q = xmalloc(sizeof *q);
	struct patch_error err;
	patch_init(q, p->n_inputs, p->n_outputs);
	int ok = patch_load_text(q, text, "", &err) == 0 && patch_equal(q, p);
	free(q);
	return ok;
}

char *
patchfile_merge(const char *base, const struct patch *p)
{
	struct merge m = { .p = p };
	struct patch_error err;
	char *out = NULL;

	if (base == NULL)
		return NULL;
	m.base = xmalloc(sizeof *m.base);
	patch_init(m.base, p->n_inputs, p->n_outputs);
	if (patch_load_text(m.base, base, "", &err) != 0) {
		free(m.base);
		return NULL;
	}
	m.assign = xcalloc(PATCH_MAX_MODULES, sizeof *m.assign);
	m.base_to_p = xcalloc(PATCH_MAX_MODULES, sizeof *m.base_to_p);
	m.p_from_base = xcalloc(PATCH_MAX_MODULES, sizeof *m.p_from_base);
	if (merge_scan(&m, base) == 0) {
		merge_match_modules(&m);
		merge_poly(&m);
		merge_tempo(&m);
		merge_modules(&m);
		merge_connections(&m);
		merge_midi(&m);
		struct sbuf b = { 0 };
		sbuf_puts(&b, "");
		if (m.before.len > 0)
			sbuf_puts(&b, m.before.s);
		for (int i = 0; i < m.n_lines; i++) {
			struct mline *l = &m.lines[i];
			int last = i == m.n_lines - 1;
			if (!l->deleted) {
				sbuf_puts(&b, l->text);
				if (!last || m.final_newline || l->after.len > 0)
					sbuf_puts(&b, "\n");
			}
			if (l->after.len > 0)
				sbuf_puts(&b, l->after.s);
		}
		out = b.s;
		if (!builds(out, p)) {
			free(out);
			out = NULL;
		}
	}
	for (int i = 0; i < m.n_lines; i++) {
		free(m.lines[i].text);
		free(m.lines[i].after.s);
	}
	free(m.lines);
	free(m.before.s);
	free(m.assign);
	free(m.base_to_p);
	free(m.p_from_base);
	free(m.base);
	return out;
}

/* ---------------------------------------------------------------- writing */

/* Write all of buf to fd. */
static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t k = write(fd, buf, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		buf += k;
		len -= (size_t)k;
	}
	return 0;
}

/* The current umask, without changing it for good. */
static mode_t
current_umask(void)
{
	mode_t m = umask(022);
	umask(m);
	return m;
}

int
patchfile_write(const char *path, const char *text, char *err, size_t size)
{
	struct stat lst, st;
	char target[PATH_MAX];
	int exists = 0;

	if (path[0] == '\0') {
		snprintf(err, size, "no file name given");
		return -1;
	}
	snprintf(target, sizeof target, "%s", path);
	if (lstat(path, &lst) == 0) {
		if (stat(path, &st) != 0) {
			snprintf(err, size, "%s is a symbolic link to a missing file "
			    "(%s); nothing was written: save to the link's target or "
			    "another name", path, strerror(errno));
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, size, "%s is %s, not a patch file; nothing was "
			    "written: give a file name", path, file_kind_name(st.st_mode));
			return -1;
		}
		if (S_ISLNK(lst.st_mode)) {
			char *real = realpath(path, NULL);
			if (real == NULL) {
				snprintf(err, size, "cannot follow the symbolic link %s: %s",
				    path, strerror(errno));
				return -1;
			}
			snprintf(target, sizeof target, "%s", real);
			free(real);
		}
		exists = 1;
	} else if (errno != ENOENT) {
		snprintf(err, size, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	char dirbuf[PATH_MAX], basebuf[PATH_MAX], tmp[PATH_MAX + 32];
	snprintf(dirbuf, sizeof dirbuf, "%s", target);
	snprintf(basebuf, sizeof basebuf, "%s", target);
	const char *dir = dirname(dirbuf), *name = basename(basebuf);
	if (snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, name) >= (int)sizeof tmp) {
		snprintf(err, size, "cannot write %s: %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, size, "cannot write %s: cannot create a file in %s: %s",
		    path, dir, strerror(errno));
		return -1;
	}
	mode_t mode = exists ? st.st_mode & 07777 : 0666 & ~current_umask();
	int rc = write_all(fd, text, strlen(text));
	if (rc == 0 && exists && fchown(fd, st.st_uid, st.st_gid) != 0) {
		/* not ours to give away: the file becomes the writer's, and
		 * set-id bits would not be safe to keep */
		mode &= 0777;
	}
	if (rc == 0)
		rc = fchmod(fd, mode);
	if (rc == 0)
		rc = fsync(fd);
	int e = errno;
	if (close(fd) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	/* the target may have been replaced meanwhile by something that is
	 * not a regular file: never rename over that */
	if (rc == 0 && exists && (lstat(target, &lst) != 0 || !S_ISREG(lst.st_mode))) {
		rc = -1;
		e = EEXIST;
	}
	if (rc == 0 && rename(tmp, target) != 0) {
		rc = -1;
		e = errno;
	}
	if (rc != 0) {
		unlink(tmp);
		snprintf(err, size, "cannot write %s: %s; nothing was changed", path,
		    strerror(e));
		return -1;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* ---------------------------------------------------------------- saving */

struct patchfile {
	char *path;       /* NULL: the patch has no file */
	char *text;       /* its text when loaded or saved, or NULL */
};

struct patchfile *
patchfile_new(const char *path, const char *text)
{
	struct patchfile *f = xcalloc(1, sizeof *f);
	patchfile_set(f, path, text);
	return f;
}

void
patchfile_free(struct patchfile *f)
{
	if (f == NULL)
		return;
	free(f->path);
	free(f->text);
	free(f);
}

void
patchfile_set(struct patchfile *f, const char *path, const char *text)
{
	char *p = path != NULL ? xstrdup(path) : NULL;
	char *t = text != NULL ? xstrdup(text) : NULL;
	free(f->path);
	free(f->text);
	f->path = p;
	f->text = t;
}

const char *
patchfile_path(const struct patchfile *f)
{
	return f->path;
}

/* Whether two stats are of the same file. */
static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int
patchfile_save(struct patchfile *f, const struct patch *p, const char *path,
    int force, char *msg, size_t size)
{
	struct stat st, own;
	char err[1200];

	if (path == NULL || path[0] == '\0')
		path = f->path;
	if (path == NULL) {
		snprintf(msg, size, "the patch has no file yet: give a file name");
		return -1;
	}
	int exists = stat(path, &st) == 0;
	if (exists && !S_ISREG(st.st_mode)) {
		snprintf(msg, size, "%s is %s, not a patch file; nothing was written "
		    "(force does not change that): give a file name", path,
		    file_kind_name(st.st_mode));
		return -1;
	}
	int is_own = exists && f->path != NULL && stat(f->path, &own) == 0 &&
	    same_file(&st, &own);
	if (exists && !is_own && !force) {
		snprintf(msg, size, "%s exists and is not this patch's file (%s%s); "
		    "nothing was written: save! %s (:w! in the screen) replaces it",
		    path, f->path ? "that is " : "it has none", f->path ? f->path : "",
		    path);
		return -1;
	}
	/* the layout to keep: the file as it is now when forced over a
	 * change on disk (where it still loads), else as it was loaded */
	char *text = NULL;
	if (is_own) {
		struct patch_error perr;
		char *disk = NULL;
		if (cmd_read_file(path, PATCHFILE_TEXT_MAX, &disk, &perr) != 0) {
			if (!force) {
				char why[600];
				patch_error_format(&perr, why, sizeof why);
				snprintf(msg, size, "cannot read %s to see whether it changed "
				    "(%s); nothing was written: save! %s replaces it", path,
				    why, path);
				return -1;
			}
		} else if (f->text == NULL || strcmp(disk, f->text) != 0) {
			if (!force) {
				free(disk);
				snprintf(msg, size, "%s changed on disk since it was loaded or "
				    "saved; nothing was written: save! %s (:w! in the screen) "
				    "replaces it with this patch, or save to another name",
				    path, path);
				return -1;
			}
			text = patchfile_merge(disk, p);
		}
		free(disk);
	}
	int canonical_note = 0;
	if (text == NULL)
		text = patchfile_merge(f->text, p);
	if (text == NULL) {
		text = patchfile_canonical(p);
		canonical_note = f->text != NULL;
	}
	if (strlen(text) > PATCHFILE_TEXT_MAX) {
		snprintf(msg, size, "%s: the patch text would be larger than %d bytes; "
		    "nothing was written", path, PATCHFILE_TEXT_MAX);
		free(text);
		return -1;
	}
	if (patchfile_write(path, text, err, sizeof err) != 0) {
		snprintf(msg, size, "%s", err);
		free(text);
		return -1;
	}
	patchfile_set(f, path, text);
	free(text);
	snprintf(msg, size, "saved %s%s", f->path, canonical_note ? " (in canonical "
	    "form: the layout of the patch's file could not be followed)" : "");
	return 0;
}
