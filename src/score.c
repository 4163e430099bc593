/*
 * src/score.c — scores for offline render: one timed event a line, either
 * "at TIME note NOTE VELOCITY DURATION" or "at TIME COMMAND ..." with any
 * command of the patch language, sorted by time with ties in file order.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "log.h"
#include "score.h"

/* Largest score text accepted, bytes. */
#define SCORE_TEXT_MAX (16 * 1024 * 1024)

/* Parse a finite number with nothing after it. */
static int
parse_real(const char *text, double *x)
{
	char *end;

	if (*text == '\0' || *text == ' ' || *text == '\t')
		return -1;
	*x = strtod(text, &end);
	return *end == '\0' && isfinite(*x) ? 0 : -1;
}

int
score_note_parse(const char *text, long *note)
{
	static const int semitone[7] = { 9, 11, 0, 2, 4, 5, 7 };  /* A..G */
	const char *s = text;
	double x;
	long octave = 0;
	int sign = 1, acc = 0;

	if (parse_real(text, &x) == 0) {
		if (x != floor(x) || fabs(x) > 1e6)
			return -1;
		*note = (long)x;
		return 0;
	}
	char c = *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
	if (c < 'A' || c > 'G')
		return -1;
	s++;
	if (*s == '#' || *s == 'b') {
		acc = *s == '#' ? 1 : -1;
		s++;
	}
	if (*s == '-') {
		sign = -1;
		s++;
	}
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9' && octave < 100; s++)
		octave = octave * 10 + (*s - '0');
	if (*s != '\0')
		return -1;
	*note = 12 * (sign * octave + 1) + semitone[c - 'A'] + acc;
	return 0;
}

/* Parse a whole number in min..max from word i of t, naming it `what`. */
static int
parse_byte(const struct cmd_tokens *t, unsigned i, const char *what,
    long min, long max, long *value, struct patch_error *err)
{
	double x;

	if (parse_real(t->argv[i], &x) != 0 || x != floor(x))
		return cmd_error(err, t->column[i], "expected a whole number for "
		    "%s, got '%.40s'", what, t->argv[i]);
	if (x < (double)min || x > (double)max)
		return cmd_error(err, t->column[i], "%s must be in %ld..%ld, got "
		    "%.40s", what, min, max, t->argv[i]);
	*value = (long)x;
	return 0;
}

/* Parse "note NOTE VELOCITY DURATION" from words 2.. of t into ev. */
static int
parse_note_event(const struct cmd_tokens *t, struct score_event *ev,
    struct patch_error *err)
{
	static const char *const usage[] = { "NOTE", "VELOCITY", "DURATION" };
	long note = 0, vel = 0;
	double dur;

	if (t->n < 6)
		return cmd_error(err, t->end[t->n - 1], "missing %s (usage: at "
		    "TIME note NOTE VELOCITY DURATION)", usage[t->n - 3]);
	if (t->n > 6)
		return cmd_error(err, t->column[6], "unexpected '%.40s' (usage: "
		    "at TIME note NOTE VELOCITY DURATION)", t->argv[6]);
	if (score_note_parse(t->argv[3], &note) != 0)
		return cmd_error(err, t->column[3], "expected a note 0..127 or a "
		    "name like A4, C#3, Eb2, got '%.40s'", t->argv[3]);
	if (note < 0 || note > 127)
		return cmd_error(err, t->column[3], "note must be in 0..127 "
		    "(C-1..G9), got %.40s", t->argv[3]);
	if (parse_byte(t, 4, "velocity", 1, 127, &vel, err) != 0)
		return -1;
	if (parse_real(t->argv[5], &dur) != 0)
		return cmd_error(err, t->column[5], "expected a duration in "
		    "seconds, got '%.40s'", t->argv[5]);
	if (!(dur > 0))
		return cmd_error(err, t->column[5], "duration must be > 0 s, got "
		    "%.40s", t->argv[5]);
	ev->kind = SCORE_NOTE;
	ev->note = (unsigned char)note;
	ev->velocity = (unsigned char)vel;
	ev->duration = dur;
	return 0;
}

/* Parse one score line (already tokenized as t) into ev. */
static int
parse_event(const char *line, const struct cmd_tokens *t,
    struct score_event *ev, struct patch_error *err)
{
	struct cmd_tokens sub;
	const struct cmd_entry *e;

	if (strcmp(t->argv[0], "at") != 0)
		return cmd_error(err, t->column[0], "expected 'at TIME ...', got "
		    "'%.40s'", t->argv[0]);
	if (t->n < 2)
		return cmd_error(err, t->end[0], "missing TIME (usage: at TIME "
		    "note NOTE VELOCITY DURATION, or at TIME COMMAND ...)");
	if (parse_real(t->argv[1], &ev->time) != 0)
		return cmd_error(err, t->column[1], "expected a time in seconds, "
		    "got '%.40s'", t->argv[1]);
	if (!(ev->time >= 0))
		return cmd_error(err, t->column[1], "time must be >= 0 s, got "
		    "%.40s", t->argv[1]);
	if (t->n < 3)
		return cmd_error(err, t->end[1], "missing an event after the time "
		    "(note NOTE VELOCITY DURATION, or a command)");
	if (strcmp(t->argv[2], "note") == 0)
		return parse_note_event(t, ev, err);

	/* A command: keep its raw text, from its first word to its last. */
	size_t start = t->column[2] - 1, len = t->end[t->n - 1] - t->column[2];
	if (len >= sizeof ev->command)
		return cmd_error(err, t->column[2], "command is longer than %zu "
		    "bytes", sizeof ev->command - 1);
	memcpy(ev->command, line + start, len);
	ev->command[len] = '\0';
	ev->kind = SCORE_COMMAND;
	ev->column = t->column[2];
	if (cmd_parse(ev->command, &sub, &e, err) != 0) {
		err->column += ev->column - 1;
		return -1;
	}
	return 0;
}

/* Order events by time, then by line (qsort is not stable). */
static int
compare_events(const void *a, const void *b)
{
	const struct score_event *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Parse a score and sort its events by time, stably. */
int
score_load_text(struct score *s, const char *text, const char *file,
    struct patch_error *err)
{
	struct patch_error scratch;
	struct cmd_tokens t;
	char buf[CMD_LINE_MAX + 1];
	size_t lines = 1;
	unsigned line = 1;

	if (err == NULL)
		err = &scratch;
	s->n = 0;
	s->events = NULL;
	snprintf(err->file, sizeof err->file, "%s", file != NULL ? file : "");
	err->line = 0;
	err->column = 0;
	err->message[0] = '\0';
	if (strlen(text) > SCORE_TEXT_MAX)
		return cmd_error(err, 0, "score is larger than %d bytes",
		    SCORE_TEXT_MAX);
	for (const char *c = text; *c != '\0'; c++)
		lines += *c == '\n';
	struct score_event *ev = xcalloc(lines, sizeof *ev);
	size_t n = 0;
	for (const char *c = text; *c != '\0'; line++) {
		size_t len = strcspn(c, "\n");
		err->line = line;
		int failed = 0;
		if (len > CMD_LINE_MAX) {
			failed = cmd_error(err, CMD_LINE_MAX + 1,
			    "line is longer than %d bytes", CMD_LINE_MAX);
		} else {
			memcpy(buf, c, len);
			buf[len] = '\0';
			failed = cmd_tokenize(buf, &t, err);
			if (!failed && t.n > 0) {
				memset(&ev[n], 0, sizeof ev[n]);
				ev[n].line = line;
				ev[n].column = t.column[0];
				failed = parse_event(buf, &t, &ev[n], err);
				n += !failed;
			}
		}
		if (failed) {
			free(ev);
			return -1;
		}
		c += len;
		if (*c == '\n')
			c++;
	}
	qsort(ev, n, sizeof *ev, compare_events);
	if (n == 0) {
		free(ev);
		ev = NULL;
	}
	s->n = n;
	s->events = ev;
	return 0;
}

/* Parse a score file. */
int
score_load_file(struct score *s, const char *path, struct patch_error *err)
{
	struct patch_error scratch;
	char *text;

	if (err == NULL)
		err = &scratch;
	s->n = 0;
	s->events = NULL;
	if (cmd_read_file(path, SCORE_TEXT_MAX, &text, err) != 0)
		return -1;
	int r = score_load_text(s, text, path, err);
	free(text);
	return r;
}

/* Release a score's events and leave it empty. */
void
score_free(struct score *s)
{
	free(s->events);
	s->events = NULL;
	s->n = 0;
}

/* Run one timed command, pointing errors into the score. */
int
score_event_exec(struct patch *p, const struct score_event *ev,
    const char *file, struct patch_error *err)
{
	struct patch_error scratch;

	if (err == NULL)
		err = &scratch;
	if (ev->kind != SCORE_COMMAND)
		return 0;
	if (patch_exec_line(p, ev->command, ev->line, err) == 0)
		return 0;
	snprintf(err->file, sizeof err->file, "%s", file != NULL ? file : "");
	if (err->column > 0)
		err->column += ev->column - 1;
	return -1;
}

/* Try every timed command on a scratch copy of the patch. */
int
score_check(const struct score *s, const struct patch *p, const char *file,
    struct patch_error *err)
{
	struct patch *copy = xmalloc(sizeof *copy);
	int r = 0;

	*copy = *p;
	for (size_t i = 0; i < s->n && r == 0; i++)
		r = score_event_exec(copy, &s->events[i], file, err);
	free(copy);
	return r;
}
