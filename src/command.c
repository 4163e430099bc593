/*
 * src/command.c — the command language: the tokenizer, the command table,
 * each command's exec function, and reading a patch or score file whole
 * (again, while someone is still writing it).
 *
 * Every exec function validates everything before it changes the patch, so
 * a failing command leaves it untouched without copying ~90 KB per command.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "midimap.h"
#include "log.h"

static int exec_poly(struct patch *, const struct cmd_tokens *,
    struct patch_error *);
static int exec_mono(struct patch *, const struct cmd_tokens *,
    struct patch_error *);
static int exec_voice(struct patch *, const struct cmd_tokens *,
    struct patch_error *);
static int exec_global(struct patch *, const struct cmd_tokens *,
    struct patch_error *);
static int exec_set(struct patch *, const struct cmd_tokens *,
    struct patch_error *);
static int exec_connect(struct patch *, const struct cmd_tokens *,
    struct patch_error *);
static int exec_disconnect(struct patch *, const struct cmd_tokens *,
    struct patch_error *);
static int exec_remove(struct patch *, const struct cmd_tokens *,
    struct patch_error *);
static int exec_rename(struct patch *, const struct cmd_tokens *,
    struct patch_error *);
static int exec_tempo(struct patch *, const struct cmd_tokens *,
    struct patch_error *);

const struct cmd_entry cmd_table[] = {
	{
		.name = "poly",
		.usage = "N",
		.min_args = 1, .max_args = 1,
		.args = { CMD_ARG_COUNT },
		.help = "set the number of voices of voice-scoped modules",
		.exec = exec_poly
	},
	{
		.name = "mono",
		.usage = "",
		.min_args = 0, .max_args = 0,
		.help = "one voice, last-note priority, legato (poly N leaves it)",
		.exec = exec_mono
	},
	{
		.name = "voice",
		.usage = "TYPE NAME [PARAM=VALUE ...]",
		.min_args = 2, .max_args = -1,
		.args = { CMD_ARG_TYPE, CMD_ARG_NEW_NAME, CMD_ARG_ASSIGN },
		.help = "add a module with one instance per voice",
		.exec = exec_voice
	},
	{
		.name = "global",
		.usage = "TYPE NAME [PARAM=VALUE ...]",
		.min_args = 2, .max_args = -1,
		.args = { CMD_ARG_TYPE, CMD_ARG_NEW_NAME, CMD_ARG_ASSIGN },
		.help = "add a module with one instance shared by all voices",
		.exec = exec_global
	},
	{
		.name = "set",
		.usage = "NAME.PARAM VALUE",
		.min_args = 2, .max_args = 2,
		.args = { CMD_ARG_PARAM, CMD_ARG_VALUE },
		.help = "set a parameter (a number, or a choice by name)",
		.exec = exec_set
	},
	{
		.name = "connect",
		.usage = "FROM.OUTPUT TO.INPUT",
		.min_args = 2, .max_args = 2,
		.args = { CMD_ARG_OUTPUT, CMD_ARG_INPUT },
		.help = "connect an output (or in.N) to an input (or out.N); "
		    "inputs sum",
		.exec = exec_connect
	},
	{
		.name = "disconnect",
		.usage = "FROM.OUTPUT TO.INPUT",
		.min_args = 2, .max_args = 2,
		.args = { CMD_ARG_OUTPUT, CMD_ARG_INPUT },
		.help = "remove a connection",
		.exec = exec_disconnect
	},
	{
		.name = "remove",
		.usage = "NAME",
		.min_args = 1, .max_args = 1,
		.args = { CMD_ARG_MODULE },
		.help = "remove a module and all its connections",
		.exec = exec_remove
	},
	{
		.name = "rename",
		.usage = "OLD NEW",
		.min_args = 2, .max_args = 2,
		.args = { CMD_ARG_MODULE, CMD_ARG_NEW_NAME },
		.help = "rename a module, keeping its parameters and connections",
		.exec = exec_rename
	},
	{
		.name = "map",
		.usage = "SOURCE [ch N] NAME.PARAM [min X] [max Y] [curve lin|exp]",
		.min_args = 2, .max_args = -1,
		.args = { CMD_ARG_NONE },
		.help = "map a controller onto a parameter; SOURCE: cc N, cc14 N, "
		    "bend, pressure, polypressure, velocity",
		.exec = midimap_exec_map
	},
	{
		.name = "unmap",
		.usage = "SOURCE [ch N] | NAME.PARAM",
		.min_args = 1, .max_args = 4,
		.args = { CMD_ARG_NONE },
		.help = "remove the mappings of a controller, or to a parameter",
		.exec = midimap_exec_unmap
	},
	{
		.name = "channel",
		.usage = "N|omni",
		.min_args = 1, .max_args = 1,
		.args = { CMD_ARG_NONE },
		.help = "hear MIDI channel N (1..16) only, or every channel (omni)",
		.exec = midimap_exec_channel
	},
	{
		.name = "tempo",
		.usage = "BPM",
		.min_args = 1, .max_args = 1,
		.args = { CMD_ARG_NONE },
		.help = "the patch's tempo, 20..999 quarter notes a minute, for "
		    "sync=tempo and seq while JACK transport stands (default 120)",
		.exec = exec_tempo
	},
	{ .name = NULL }
};

/* Words that may not name a module besides the command names. */
static const char *const reserved_names[] = { "in", "out", "help", NULL };

/* Fill in the column and message of an error; returns -1 for tail calls. */
int
cmd_error(struct patch_error *err, unsigned column, const char *fmt, ...)
{
	va_list ap;

	err->column = column;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return -1;
}

/* Look a command up in the table by name. */
const struct cmd_entry *
cmd_find(const char *name)
{
	for (const struct cmd_entry *e = cmd_table; e->name != NULL; e++)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

/* Tell whether a word may not name a module. */
int
cmd_is_reserved(const char *name)
{
	for (unsigned i = 0; reserved_names[i] != NULL; i++)
		if (strcmp(reserved_names[i], name) == 0)
			return 1;
	return cmd_find(name) != NULL;
}

/* Whether c separates words. */
static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	    c == '\f';
}

/* Bytes of the well-formed UTF-8 sequence at s (at most `left` bytes
 * there), or 0 when it is not one: overlong forms, surrogates and code
 * points past U+10FFFF are not. */
static size_t
utf8_sequence(const unsigned char *s, size_t left)
{
	unsigned c = s[0];
	size_t n;
	unsigned cp, min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int
cmd_check_text(const char *text, size_t len, struct patch_error *err)
{
	const unsigned char *s = (const unsigned char *)text;
	for (size_t i = 0; i < len;) {
		if (s[i] == '\0')
			return cmd_error(err, (unsigned)i + 1, "a NUL byte; lines are "
			    "text, nothing of this one was run");
		size_t n = utf8_sequence(s + i, len - i);
		if (n == 0)
			return cmd_error(err, (unsigned)i + 1, "invalid UTF-8 (byte "
			    "0x%02x); text must be UTF-8, nothing of this line was run",
			    s[i]);
		i += n;
	}
	return 0;
}

/* Split one line into words, remembering where each began. */
int
cmd_tokenize(const char *line, struct cmd_tokens *t, struct patch_error *err)
{
	const char *s = line;
	char *w = t->buf;

	t->n = 0;
	size_t len = strlen(line);
	if (len > CMD_LINE_MAX)
		return cmd_error(err, CMD_LINE_MAX + 1,
		    "line is longer than %d bytes", CMD_LINE_MAX);
	if (cmd_check_text(line, len, err) != 0)
		return -1;
	for (;;) {
		while (is_blank(*s))
			s++;
		if (*s == '\0' || *s == '#')
			return 0;
		if (t->n == CMD_MAX_TOKENS)
			return cmd_error(err, (unsigned)(s - line) + 1,
			    "too many words (at most %d)", CMD_MAX_TOKENS);
		unsigned i = t->n++;
		char *start = w;
		t->argv[i] = w;
		t->column[i] = (unsigned)(s - line) + 1;
		t->eq[i] = -1;
		t->eq_column[i] = 0;
		while (*s != '\0' && !is_blank(*s)) {
			if (*s != '"') {
				if (*s == '=' && t->eq[i] < 0) {
					t->eq[i] = (int)(w - start);
					t->eq_column[i] = (unsigned)(s - line) + 1;
				}
				*w++ = *s++;
				continue;
			}
			const char *quote = s++;
			while (*s != '"') {
				if (*s == '\0' || *s == '\n')
					return cmd_error(err,
					    (unsigned)(quote - line) + 1,
					    "unterminated quote");
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				*w++ = *s++;
			}
			s++;
		}
		*w++ = '\0';
		t->end[i] = (unsigned)(s - line) + 1;
	}
}

/* Append the names of `n` items (each `stride` bytes apart, name first)
 * to buf as "a, b, c", or "none". */
static void
list_names(char *buf, size_t size, const void *items, size_t stride,
    unsigned n)
{
	size_t len = 0;

	buf[0] = '\0';
	if (n == 0) {
		snprintf(buf, size, "none");
		return;
	}
	for (unsigned i = 0; i < n && len < size; i++) {
		const char *name =
		    *(const char *const *)((const char *)items + i * stride);
		int k = snprintf(buf + len, size - len, "%s%s",
		    i ? ", " : "", name);
		if (k < 0)
			break;
		len += (size_t)k;
	}
}

/* The list of command names, for messages. */
static void
list_commands(char *buf, size_t size)
{
	unsigned n = 0;
	while (cmd_table[n].name != NULL)
		n++;
	list_names(buf, size, cmd_table, sizeof cmd_table[0], n);
}

/* The list of module type names, for messages. */
static void
list_types(char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; module_table[i] != NULL && len < size; i++) {
		int k = snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
		    module_table[i]->name);
		if (k < 0)
			break;
		len += (size_t)k;
	}
}

/* The `k`-th word of a usage string (k from 0) into buf. */
static void
usage_word(const char *usage, int k, char *buf, size_t size)
{
	const char *s = usage;

	for (; k > 0 && *s != '\0'; k--) {
		s = strchr(s, ' ');
		if (s == NULL) {
			snprintf(buf, size, "an argument");
			return;
		}
		s++;
	}
	size_t len = strcspn(s, " ");
	snprintf(buf, size, "%.*s", (int)len, s);
}

/* Tokenize a line, find its command and check its argument count. */
int
cmd_parse(const char *line, struct cmd_tokens *t,
    const struct cmd_entry **entry, struct patch_error *err)
{
	char list[160], word[64];

	*entry = NULL;
	if (cmd_tokenize(line, t, err) != 0)
		return -1;
	if (t->n == 0)
		return 0;
	const struct cmd_entry *e = cmd_find(t->argv[0]);
	if (e == NULL) {
		list_commands(list, sizeof list);
		return cmd_error(err, t->column[0],
		    "unknown command '%.40s' (expected one of: %s)",
		    t->argv[0], list);
	}
	int nargs = (int)t->n - 1;
	if (nargs < e->min_args) {
		usage_word(e->usage, nargs, word, sizeof word);
		return cmd_error(err, t->end[t->n - 1], "missing %s (usage: %s %s)",
		    word, e->name, e->usage);
	}
	if (e->max_args >= 0 && nargs > e->max_args) {
		unsigned i = (unsigned)e->max_args + 1;
		return cmd_error(err, t->column[i],
		    "unexpected '%.40s' (usage: %s %s)", t->argv[i], e->name,
		    e->usage);
	}
	*entry = e;
	return 0;
}

/* Print one command's usage and help, or the whole table. */
int
cmd_help(FILE *out, const char *name)
{
	const struct cmd_entry *e = name != NULL ? cmd_find(name) : NULL;

	if (e != NULL) {
		fprintf(out, "usage: %s %s\n  %s\n", e->name, e->usage, e->help);
		return 0;
	}
	for (e = cmd_table; e->name != NULL; e++)
		fprintf(out, "  %-10s %-28s %s\n", e->name, e->usage, e->help);
	return name == NULL ? 0 : -1;
}

/* Parse a finite number with nothing after it into *d (and *f as float). */
static int
parse_number(const char *text, double *d, float *f)
{
	char *end;

	if (*text == '\0' || is_blank(*text))
		return -1;
	*d = strtod(text, &end);
	if (*end != '\0')
		return -1;
	*f = strtof(text, &end);
	return 0;
}

/* A text parameter (a file name): not empty, fits, and usable as far as
 * the module type can tell (text_check); copied into dst. */
static int
parse_text(const struct module_type *type, const struct param_desc *d,
    const char *text, unsigned column, char *dst, struct patch_error *err)
{
	char why[300];
	if (text[0] == '\0')
		return cmd_error(err, column, "%s needs a file name", d->name);
	if (strlen(text) >= PARAM_TEXT_MAX)
		return cmd_error(err, column, "%s: file name longer than %d bytes",
		    d->name, PARAM_TEXT_MAX - 1);
	if (type->text_check != NULL && type->text_check(text, why, sizeof why) != 0)
		return cmd_error(err, column, "%s", why);
	snprintf(dst, PARAM_TEXT_MAX, "%s", text);
	return 0;
}

/* Turn text into a checked value for one parameter. */
int
cmd_parse_value(const struct param_desc *d, const char *text, unsigned column,
    float *value, struct patch_error *err)
{
	char list[160];
	double x;
	float f;

	if (d->kind == PARAM_CHOICE) {
		unsigned n = 0;
		for (; d->choices != NULL && d->choices[n] != NULL; n++)
			if (strcmp(d->choices[n], text) == 0) {
				*value = (float)n;
				return 0;
			}
		list_names(list, sizeof list, d->choices, sizeof d->choices[0], n);
		return cmd_error(err, column,
		    "unknown %s '%.40s' (expected one of: %s)", d->name, text,
		    list);
	}
	if (parse_number(text, &x, &f) != 0)
		return cmd_error(err, column, "expected a number for %s, got "
		    "'%.40s'", d->name, text);
	if (!isfinite(x))
		return cmd_error(err, column, "expected a finite number for %s, "
		    "got '%.40s'", d->name, text);
	if (d->kind == PARAM_INT && x != floor(x))
		return cmd_error(err, column, "%s must be a whole number, got "
		    "%.40s", d->name, text);
	if (!isfinite(f) || !(f >= d->min && f <= d->max))
		return cmd_error(err, column, "%s must be in %g..%g%s%s, got %.40s",
		    d->name, (double)d->min, (double)d->max,
		    d->unit != NULL && *d->unit != '\0' ? " " : "",
		    d->unit != NULL ? d->unit : "", text);
	*value = f;
	return 0;
}

/* Write a parameter value the way patch files spell it. */
void
cmd_format_value(const struct param_desc *d, float value, char *buf,
    size_t size)
{
	if (d->kind == PARAM_CHOICE && d->choices != NULL) {
		unsigned n = 0;
		while (d->choices[n] != NULL)
			n++;
		if (value >= 0 && value < (float)n) {
			snprintf(buf, size, "%s", d->choices[(unsigned)value]);
			return;
		}
	}
	/* the shortest text that reads back as exactly this float, without
	 * an exponent where plain digits do ("400", not "4e+02") */
	float mag = fabsf(value);
	int plain = mag == 0 || (mag >= 1e-4f && mag < 1e9f);
	for (int digits = 1; digits < 9; digits++) {
		snprintf(buf, size, "%.*g", digits, (double)value);
		if (strtof(buf, NULL) == value &&
		    (!plain || strchr(buf, 'e') == NULL))
			return;
	}
	snprintf(buf, size, "%.9g", (double)value);
}

/* How long a file must have stayed unchanged for its text to be trusted:
 * a writer pausing between pieces shorter than this is not mistaken for a
 * finished file.  A file that keeps changing is read this many times, a
 * little apart, before giving up. */
#define READ_QUIET_NS 100000000LL
#define READ_ATTEMPTS 5
#define READ_RETRY_NS 20000000LL

/* Sleep for `ns` nanoseconds, through signals. */
static void
sleep_ns(long long ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000LL),
	    (long)(ns % 1000000000LL) };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Whether two stats show the same file with the same contents, as far as
 * the kernel tells: device, inode, size, change and modification times. */
static int
same_version(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Nanoseconds since the file was last written (its modification time);
 * negative when that is in the future. */
static long long
write_age(const struct stat *st)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (long long)(now.tv_sec - st->st_mtim.tv_sec) * 1000000000LL +
	    (now.tv_nsec - st->st_mtim.tv_nsec);
}

/* Read what fd holds, up to a little more than `limit` bytes, into a new
 * NUL-terminated buffer.  Returns 0, or an errno value. */
static int
read_all(int fd, size_t limit, char **text, size_t *len)
{
	size_t cap = 65536;
	char *buf = xmalloc(cap + 1);

	*len = 0;
	for (;;) {
		if (*len == cap) {
			if (cap > limit)
				break;
			char *bigger = xmalloc(cap * 2 + 1);
			memcpy(bigger, buf, *len);
			free(buf);
			buf = bigger;
			cap *= 2;
		}
		ssize_t k = read(fd, buf + *len, cap - *len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;
			free(buf);
			return e;
		}
		if (k == 0)
			break;
		*len += (size_t)k;
	}
	buf[*len] = '\0';
	*text = buf;
	return 0;
}

/*
 * Whether the `len` bytes just read from fd (a regular file, `before` its
 * stat when opened) are one whole version of the file at `path`: nothing
 * changed during the read, the path still names that file, and it has
 * stayed so for READ_QUIET_NS (waiting for that if it has just changed).
 */
static int
read_was_stable(int fd, const char *path, const struct stat *before,
    size_t len)
{
	struct stat after, now;

	if (fstat(fd, &after) != 0 || !same_version(before, &after) ||
	    after.st_size != (off_t)len)
		return 0;
	if (stat(path, &now) != 0 || !same_version(&after, &now))
		return 0;
	long long age = write_age(&now);
	if (age >= READ_QUIET_NS)
		return 1;
	sleep_ns(age > 0 ? READ_QUIET_NS - age : READ_QUIET_NS);
	return stat(path, &now) == 0 && same_version(&after, &now);
}

/* Read a bounded text file whole, with errors that name it.  A regular
 * file is read again while it changes under us (someone is writing it). */
int
cmd_read_file(const char *path, size_t limit, char **text,
    struct patch_error *err)
{
	struct stat st;
	size_t len = 0;
	char *buf = NULL;

	*text = NULL;
	snprintf(err->file, sizeof err->file, "%s", path);
	err->line = 0;
	for (int attempt = 1;; attempt++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return cmd_error(err, 0, "cannot open %s: %s", path,
			    strerror(errno));
		int e = fstat(fd, &st) != 0 ? errno :
		    read_all(fd, limit, &buf, &len);
		int whole = e != 0 || len > limit || !S_ISREG(st.st_mode) ||
		    read_was_stable(fd, path, &st, len);
		close(fd);
		if (e != 0)
			return cmd_error(err, 0, "cannot read %s: %s", path,
			    strerror(e));
		if (whole)
			break;
		free(buf);
		if (attempt == READ_ATTEMPTS)
			return cmd_error(err, 0, "%s changed while being read; try "
			    "again when it is written", path);
		sleep_ns(READ_RETRY_NS);
	}
	if (len > limit) {
		free(buf);
		if (limit % (1024 * 1024) == 0)
			return cmd_error(err, 0, "%s is larger than %zu MiB", path,
			    limit / (1024 * 1024));
		return cmd_error(err, 0, "%s is larger than %zu bytes", path,
		    limit);
	}
	const char *nul = memchr(buf, '\0', len);
	if (nul != NULL) {
		unsigned line = 1, col = 1;
		for (const char *s = buf; s < nul; s++, col++)
			if (*s == '\n') {
				line++;
				col = 0;
			}
		free(buf);
		err->line = line;
		return cmd_error(err, col, "NUL byte in %s", path);
	}
	*text = buf;
	return 0;
}

/* Check that `name` at `column` may name a new module in p. */
static int
check_new_name(const struct patch *p, const char *name, unsigned column,
    struct patch_error *err)
{
	size_t len = strlen(name);

	if (len >= PATCH_NAME_MAX)
		return cmd_error(err, column, "name '%.40s...' is too long (at "
		    "most %d bytes)", name, PATCH_NAME_MAX - 1);
	int ok = len > 0 && (name[0] == '_' ||
	    (name[0] >= 'A' && name[0] <= 'Z') ||
	    (name[0] >= 'a' && name[0] <= 'z'));
	for (size_t i = 1; ok && i < len; i++) {
		char c = name[i];
		ok = c == '_' || (c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
	}
	for (size_t i = 0; !ok && i < len; i++)
		if ((unsigned char)name[i] >= 0x80)
			return cmd_error(err, column + (unsigned)i, "invalid name "
			    "'%.40s': names are ASCII (a letter or '_', then letters, "
			    "digits or '_'); non-ASCII text belongs in comments and "
			    "file names", name);
	if (!ok)
		return cmd_error(err, column, "invalid name '%.40s' (expected a "
		    "letter or '_', then letters, digits or '_')", name);
	if (cmd_is_reserved(name))
		return cmd_error(err, column, "'%s' is reserved and cannot name "
		    "a module", name);
	if (patch_find_module(p, name) >= 0)
		return cmd_error(err, column, "module '%s' already exists", name);
	return 0;
}

/* Find the module called `name` (at `column`), or fail. */
static int
find_module(const struct patch *p, const char *name, unsigned column,
    struct patch_error *err)
{
	int m = patch_find_module(p, name);
	if (m < 0)
		return cmd_error(err, column, "no module named '%.40s'", name);
	return m;
}

/* Split word `i` of t at its first '.' into a module name (into buf) and
 * return the part after it, or NULL when there is no such split. */
static const char *
split_dot(const struct cmd_tokens *t, unsigned i, char *buf, size_t size)
{
	const char *s = t->argv[i], *dot = strchr(s, '.');

	if (dot == NULL || dot == s || dot[1] == '\0' ||
	    (size_t)(dot - s) >= size)
		return NULL;
	memcpy(buf, s, (size_t)(dot - s));
	buf[dot - s] = '\0';
	return dot + 1;
}

/* Parse N of an engine port "in.N" / "out.N" into a 0-based channel. */
static int
parse_channel(const char *text, unsigned count, const char *side,
    const char *word, unsigned column, struct patch_error *err)
{
	unsigned long n = 0;
	int ok = *text >= '0' && *text <= '9';

	for (const char *s = text; ok && *s != '\0'; s++) {
		ok = *s >= '0' && *s <= '9';
		if (n < 100000)
			n = n * 10 + (unsigned long)(*s - '0');
	}
	if (count == 0)
		return cmd_error(err, column, "this patch has no engine %ss, got "
		    "'%.40s'", side, word);
	if (!ok || n < 1 || n > count)
		return cmd_error(err, column, "engine %s must be %s.1..%s.%u, got "
		    "'%.40s'", side, strcmp(side, "input") == 0 ? "in" : "out",
		    strcmp(side, "input") == 0 ? "in" : "out", count, word);
	return (int)n - 1;
}

/* Parse word `i` of t as a port: an output ("osc1.out", "in.2") when
 * `output`, else an input ("flt.in", "out.1"). */
static int
parse_port(const struct patch *p, const struct cmd_tokens *t, unsigned i,
    int output, struct patch_port *port, struct patch_error *err)
{
	const char *word = t->argv[i];
	unsigned col = t->column[i];
	char name[PATCH_NAME_MAX], list[160];
	const char *pname = split_dot(t, i, name, sizeof name);
	const char *want = output ? "NAME.OUTPUT or in.N" : "NAME.INPUT or out.N";

	if (pname == NULL)
		return cmd_error(err, col, "expected %s, got '%.40s'", want, word);
	if (strcmp(name, "in") == 0 || strcmp(name, "out") == 0) {
		int is_in = name[1] == 'n';
		if (is_in != output)
			return cmd_error(err, col, "'%.40s' is an engine %s; "
			    "expected %s", word, is_in ? "input (a source)" :
			    "output (a destination)", want);
		int ch = parse_channel(pname, is_in ? p->n_inputs : p->n_outputs,
		    is_in ? "input" : "output", word, col, err);
		if (ch < 0)
			return -1;
		port->module = is_in ? PATCH_IO_IN : PATCH_IO_OUT;
		port->port = ch;
		return 0;
	}
	int m = find_module(p, name, col, err);
	if (m < 0)
		return -1;
	const struct module_type *type = p->modules[m].type;
	int k = output ? module_output_index(type, pname) :
	    module_input_index(type, pname);
	if (k >= 0) {
		port->module = m;
		port->port = k;
		return 0;
	}
	if (output)
		list_names(list, sizeof list, type->outputs,
		    sizeof type->outputs[0], type->n_outputs);
	else
		list_names(list, sizeof list, type->inputs,
		    sizeof type->inputs[0], type->n_inputs);
	int other = output ? module_input_index(type, pname) :
	    module_output_index(type, pname);
	return cmd_error(err, col, "module '%s' has no %s '%.40s'%s (%ss: %s)",
	    name, output ? "output" : "input", pname,
	    other < 0 ? "" : output ? ": it is an input" : ": it is an output",
	    output ? "output" : "input", list);
}

/* Parse word `i` of t as a number for a count parameter of a command. */
static int
parse_count(const struct cmd_tokens *t, unsigned i, const char *what,
    long min, long max, const char *unit, long *value,
    struct patch_error *err)
{
	double x;
	float f;

	if (parse_number(t->argv[i], &x, &f) != 0 || !isfinite(x))
		return cmd_error(err, t->column[i], "expected a number for %s, "
		    "got '%.40s'", what, t->argv[i]);
	if (x != floor(x))
		return cmd_error(err, t->column[i], "%s must be a whole number, "
		    "got %.40s", what, t->argv[i]);
	if (x < (double)min || x > (double)max)
		return cmd_error(err, t->column[i], "%s must be in %ld..%ld %s, "
		    "got %.40s", what, min, max, unit, t->argv[i]);
	*value = (long)x;
	return 0;
}

/* poly N: the number of voices. */
static int
exec_poly(struct patch *p, const struct cmd_tokens *t, struct patch_error *err)
{
	long n = 0;

	if (parse_count(t, 1, "poly", 1, PATCH_MAX_POLY, "voices", &n, err) != 0)
		return -1;
	p->poly = (unsigned)n;
	p->mono = 0;
	return 0;
}

/* tempo BPM: the patch's own tempo. */
static int
exec_tempo(struct patch *p, const struct cmd_tokens *t, struct patch_error *err)
{
	double x;
	float f;

	if (parse_number(t->argv[1], &x, &f) != 0 || !isfinite(x))
		return cmd_error(err, t->column[1], "expected a number of beats "
		    "per minute for tempo, got '%.40s'", t->argv[1]);
	if (!(f >= PATCH_TEMPO_MIN && f <= PATCH_TEMPO_MAX))
		return cmd_error(err, t->column[1], "tempo must be in %g..%g BPM, "
		    "got %.40s", (double)PATCH_TEMPO_MIN, (double)PATCH_TEMPO_MAX,
		    t->argv[1]);
	p->tempo = f;
	return 0;
}

/* mono: one voice playing the last note held, legato between notes. */
static int
exec_mono(struct patch *p, const struct cmd_tokens *t, struct patch_error *err)
{
	(void)t;
	(void)err;
	p->poly = 1;
	p->mono = 1;
	return 0;
}

/* Add a module of word 1's type named word 2 with PARAM=VALUE words. */
static int
exec_add(struct patch *p, const struct cmd_tokens *t, enum scope scope,
    struct patch_error *err)
{
	struct patch_module m;
	char list[200], pname[64];
	unsigned seen = 0;

	memset(&m, 0, sizeof m);
	m.type = module_find(t->argv[1]);
	if (m.type == NULL) {
		list_types(list, sizeof list);
		return cmd_error(err, t->column[1], "unknown module type "
		    "'%.40s' (expected one of: %s)", t->argv[1], list);
	}
	if (check_new_name(p, t->argv[2], t->column[2], err) != 0)
		return -1;
	if (p->n_modules == PATCH_MAX_MODULES)
		return cmd_error(err, t->column[2], "too many modules (at most "
		    "%d)", PATCH_MAX_MODULES);
	snprintf(m.name, sizeof m.name, "%s", t->argv[2]);
	m.scope = scope;
	for (unsigned i = 0; i < m.type->n_params && i < MODULE_MAX_PARAMS; i++)
		m.params[i] = m.type->params[i].def;
	for (unsigned i = 3; i < t->n; i++) {
		const char *w = t->argv[i];
		int eq = t->eq[i];
		if (eq < 0)
			return cmd_error(err, t->column[i], "expected PARAM=VALUE, "
			    "got '%.40s'", w);
		if (eq == 0)
			return cmd_error(err, t->column[i], "missing parameter "
			    "name before '=' in '%.40s'", w);
		if (w[eq + 1] == '\0')
			return cmd_error(err, t->column[i], "missing value after "
			    "'=' in '%.40s'", w);
		snprintf(pname, sizeof pname, "%.*s", eq, w);
		int k = (size_t)eq < sizeof pname ?
		    module_param_index(m.type, pname) : -1;
		if (k < 0 || k >= MODULE_MAX_PARAMS) {
			list_names(list, sizeof list, m.type->params,
			    sizeof m.type->params[0], m.type->n_params);
			return cmd_error(err, t->column[i], "module type '%s' has "
			    "no parameter '%.40s' (parameters: %s)", m.type->name,
			    pname, list);
		}
		if (seen & (1u << k))
			return cmd_error(err, t->column[i], "parameter '%s' given "
			    "twice", pname);
		seen |= 1u << k;
		if (m.type->params[k].kind == PARAM_TEXT) {
			if (parse_text(m.type, &m.type->params[k], w + eq + 1,
			    t->eq_column[i] + 1, m.text, err) != 0)
				return -1;
		} else if (cmd_parse_value(&m.type->params[k], w + eq + 1,
		    t->eq_column[i] + 1, &m.params[k], err) != 0) {
			return -1;
		}
	}
	p->modules[p->n_modules++] = m;
	return 0;
}

/* voice TYPE NAME [PARAM=VALUE ...]: add a voice-scoped module. */
static int
exec_voice(struct patch *p, const struct cmd_tokens *t, struct patch_error *err)
{
	return exec_add(p, t, SCOPE_VOICE, err);
}

/* global TYPE NAME [PARAM=VALUE ...]: add a global module. */
static int
exec_global(struct patch *p, const struct cmd_tokens *t,
    struct patch_error *err)
{
	return exec_add(p, t, SCOPE_GLOBAL, err);
}

/* set NAME.PARAM VALUE: set one parameter. */
static int
exec_set(struct patch *p, const struct cmd_tokens *t, struct patch_error *err)
{
	char name[PATCH_NAME_MAX], list[200];
	const char *pname = split_dot(t, 1, name, sizeof name);
	float v;

	if (pname == NULL)
		return cmd_error(err, t->column[1], "expected NAME.PARAM, got "
		    "'%.40s'", t->argv[1]);
	int m = find_module(p, name, t->column[1], err);
	if (m < 0)
		return -1;
	const struct module_type *type = p->modules[m].type;
	int k = module_param_index(type, pname);
	if (k < 0 || k >= MODULE_MAX_PARAMS) {
		list_names(list, sizeof list, type->params, sizeof type->params[0],
		    type->n_params);
		return cmd_error(err, t->column[1], "module '%s' has no parameter "
		    "'%.40s' (parameters: %s)", name, pname, list);
	}
	if (type->params[k].kind == PARAM_TEXT) {
		char text[PARAM_TEXT_MAX];
		if (parse_text(type, &type->params[k], t->argv[2], t->column[2],
		    text, err) != 0)
			return -1;
		memcpy(p->modules[m].text, text, sizeof text);
		return 0;
	}
	if (cmd_parse_value(&type->params[k], t->argv[2], t->column[2], &v,
	    err) != 0)
		return -1;
	p->modules[m].params[k] = v;
	return 0;
}

/* Index of the connection from `a` to `b` in p, or -1. */
static int
find_connection(const struct patch *p, struct patch_port a,
    struct patch_port b)
{
	for (unsigned i = 0; i < p->n_connections; i++) {
		const struct patch_connection *c = &p->connections[i];
		if (c->from.module == a.module && c->from.port == a.port &&
		    c->to.module == b.module && c->to.port == b.port)
			return (int)i;
	}
	return -1;
}

/* connect FROM.OUTPUT TO.INPUT: add a connection. */
static int
exec_connect(struct patch *p, const struct cmd_tokens *t,
    struct patch_error *err)
{
	struct patch_port a, b;

	if (parse_port(p, t, 1, 1, &a, err) != 0 ||
	    parse_port(p, t, 2, 0, &b, err) != 0)
		return -1;
	if (find_connection(p, a, b) >= 0)
		return cmd_error(err, t->column[1], "%s is already connected to "
		    "%s", t->argv[1], t->argv[2]);
	if (p->n_connections == PATCH_MAX_CONNECTIONS)
		return cmd_error(err, t->column[1], "too many connections (at "
		    "most %d)", PATCH_MAX_CONNECTIONS);
	p->connections[p->n_connections].from = a;
	p->connections[p->n_connections].to = b;
	p->n_connections++;
	return 0;
}

/* Remove connection i, keeping the order of the others. */
static void
drop_connection(struct patch *p, unsigned i)
{
	memmove(&p->connections[i], &p->connections[i + 1],
	    (p->n_connections - i - 1) * sizeof p->connections[0]);
	p->n_connections--;
	memset(&p->connections[p->n_connections], 0, sizeof p->connections[0]);
}

/* disconnect FROM.OUTPUT TO.INPUT: remove a connection. */
static int
exec_disconnect(struct patch *p, const struct cmd_tokens *t,
    struct patch_error *err)
{
	struct patch_port a, b;

	if (parse_port(p, t, 1, 1, &a, err) != 0 ||
	    parse_port(p, t, 2, 0, &b, err) != 0)
		return -1;
	int i = find_connection(p, a, b);
	if (i < 0)
		return cmd_error(err, t->column[1], "%s is not connected to %s",
		    t->argv[1], t->argv[2]);
	drop_connection(p, (unsigned)i);
	return 0;
}

/* remove NAME: remove a module and its connections, renumbering the rest. */
static int
exec_remove(struct patch *p, const struct cmd_tokens *t,
    struct patch_error *err)
{
	int m = find_module(p, t->argv[1], t->column[1], err);
	if (m < 0)
		return -1;
	for (unsigned i = p->n_connections; i-- > 0;)
		if (p->connections[i].from.module == m ||
		    p->connections[i].to.module == m)
			drop_connection(p, i);
	for (unsigned i = 0; i < p->n_connections; i++) {
		struct patch_connection *c = &p->connections[i];
		if (c->from.module > m)
			c->from.module--;
		if (c->to.module > m)
			c->to.module--;
	}
	midimap_module_removed(p, m);
	memmove(&p->modules[m], &p->modules[m + 1],
	    (p->n_modules - (unsigned)m - 1) * sizeof p->modules[0]);
	p->n_modules--;
	memset(&p->modules[p->n_modules], 0, sizeof p->modules[0]);
	return 0;
}

/* rename OLD NEW: give a module a new name. */
static int
exec_rename(struct patch *p, const struct cmd_tokens *t,
    struct patch_error *err)
{
	int m = find_module(p, t->argv[1], t->column[1], err);
	if (m < 0 || check_new_name(p, t->argv[2], t->column[2], err) != 0)
		return -1;
	memset(p->modules[m].name, 0, sizeof p->modules[m].name);
	snprintf(p->modules[m].name, sizeof p->modules[m].name, "%s",
	    t->argv[2]);
	return 0;
}
