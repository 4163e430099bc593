/*
 * src/command.h — the command language (DESIGN.md §5): a tokenizer that
 * remembers where each word came from, and the one table of commands that
 * drives parsing, `help` and completion in the UI.
 *
 * A line is words separated by blanks.  A '#' at the start of a word
 * starts a comment that runs to the end of the line; inside a word it is
 * an ordinary character, so a score can say "C#3".  Double quotes group
 * blanks and '#' into a word ("\"" and "\\" escape inside them).  Every command either applies whole or fails leaving the
 * patch untouched.
 */
#ifndef FORKSYNTH_COMMAND_H
#define FORKSYNTH_COMMAND_H

#include <stdio.h>

#include "patch.h"

#define CMD_LINE_MAX 4096          /* bytes in one line, without the newline */
#define CMD_MAX_TOKENS 64          /* words in one line */
#define CMD_MAX_ARGS 4             /* described positional arguments */

/* One line split into words.  argv[] points into buf: do not copy this
 * struct by value and keep using the copy's argv. */
struct cmd_tokens {
	unsigned n;                        /* words, the command word included */
	const char *argv[CMD_MAX_TOKENS];  /* unquoted, NUL-terminated */
	unsigned column[CMD_MAX_TOKENS];   /* 1-based byte column of each word */
	unsigned end[CMD_MAX_TOKENS];      /* column just past each raw word */
	int eq[CMD_MAX_TOKENS];            /* offset in argv[i] of the first
	                                      unquoted '=', or -1 */
	unsigned eq_column[CMD_MAX_TOKENS];/* column of that '=', or 0 */
	char buf[CMD_LINE_MAX + CMD_MAX_TOKENS + 1];
};

/* What a positional argument is, for completion and help. */
enum cmd_arg {
	CMD_ARG_NONE = 0,
	CMD_ARG_COUNT,        /* a whole number */
	CMD_ARG_TYPE,         /* a module type: vco, ladder ... */
	CMD_ARG_NEW_NAME,     /* a name not used yet */
	CMD_ARG_MODULE,       /* an existing module's name */
	CMD_ARG_PARAM,        /* NAME.PARAM */
	CMD_ARG_VALUE,        /* a value for the preceding NAME.PARAM */
	CMD_ARG_ASSIGN,       /* PARAM=VALUE for the module being added */
	CMD_ARG_OUTPUT,       /* NAME.OUTPUT or in.N */
	CMD_ARG_INPUT         /* NAME.INPUT or out.N */
};

/* One command of the language. */
struct cmd_entry {
	const char *name;
	const char *usage;                 /* arguments, e.g. "NAME.PARAM VALUE" */
	int min_args;                      /* words after the command word */
	int max_args;                      /* -1: any number */
	enum cmd_arg args[CMD_MAX_ARGS];   /* the last one repeats when
	                                      max_args is -1 */
	const char *help;                  /* one line */
	/* Apply to p, or fail with err filled and p untouched. */
	int (*exec)(struct patch *p, const struct cmd_tokens *t,
	    struct patch_error *err);
};

/* The command table, terminated by an entry whose name is NULL. */
extern const struct cmd_entry cmd_table[];

/* The command called `name`, or NULL. */
const struct cmd_entry *cmd_find(const char *name);

/* Whether `name` may not name a module (in, out, command names). */
int cmd_is_reserved(const char *name);

/*
 * Split `line` (one line, at most CMD_LINE_MAX bytes of UTF-8) into t.  A
 * blank or comment-only line gives t->n == 0.  Returns 0, or -1 with err->column
 * and err->message set (err->file and err->line are left alone).
 */
int cmd_tokenize(const char *line, struct cmd_tokens *t,
    struct patch_error *err);

/*
 * Check that `len` bytes of `text` are UTF-8 text without a NUL.  Returns
 * 0, or -1 with err's column (1-based, of the first bad byte) and message.
 */
int cmd_check_text(const char *text, size_t len, struct patch_error *err);

/*
 * Tokenize `line` and find its command, checking the number of arguments.
 * *entry is NULL for a blank line.  Returns 0, or -1 with err's column and
 * message set.
 */
int cmd_parse(const char *line, struct cmd_tokens *t,
    const struct cmd_entry **entry, struct patch_error *err);

/* Print help for one command, or a summary of all when name is NULL or
 * unknown (then returns -1). */
int cmd_help(FILE *out, const char *name);

/*
 * Parse `text` as a value for parameter d: a finite number in range (whole
 * for PARAM_INT), or a choice's name.  On error fills err with `column`
 * and a message naming the range and unit.  Returns 0 or -1.
 */
int cmd_parse_value(const struct param_desc *d, const char *text,
    unsigned column, float *value, struct patch_error *err);

/* Format a parameter value as the language writes it into buf: the
 * choice's name, or the shortest number (at most "%.9g") that reads back
 * as exactly the same float. */
void cmd_format_value(const struct param_desc *d, float value, char *buf,
    size_t size);

/*
 * Read a whole file of at most `limit` bytes into a NUL-terminated buffer
 * (free it).  Errors name the path: missing or unreadable, too large, or
 * holding a NUL byte.  A regular file's text is taken only when the file
 * stayed the same (inode, size, times: fstat before and after the read,
 * stat of the path) during the read and for 0.1 s after its last change;
 * one that keeps changing is read again a few times, then refused as
 * "changed while being read": a file being rewritten in place, with pauses
 * under 0.1 s, is not taken at a prefix that happens to be valid.  Returns
 * 0, or -1 with err filled.
 */
int cmd_read_file(const char *path, size_t limit, char **text,
    struct patch_error *err);

/* Set err's column and message (printf-style); always returns -1. */
int cmd_error(struct patch_error *err, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
