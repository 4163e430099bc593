/*
 * tests/score_test.c — scores: notes by number and by name, timed patch
 * commands, sorting by time with ties kept in file order, and errors that
 * name line:column, including errors of commands run at render time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patch.h"
#include "score.h"
#include "util.h"

/* Parse a small score and check every field of every event. */
static void
test_parse(void)
{
	struct score s;
	struct patch_error err;
	const char *text =
	    "# a score\n"
	    "\n"
	    "at 1.5 note 60 100 0.5   # middle C\n"
	    "at 0 note A4 90 2\n"
	    "  at 1.0 set flt.cutoff 2000 # brighter\n"
	    "at 0.5 connect osc1.out \"flt.in\"\n"
	    "at 1.0 note C#3 1 0.25\n";

	if (score_load_text(&s, text, "t.score", &err) != 0) {
		fail("score: %u:%u: %s", err.line, err.column, err.message);
		return;
	}
	if (s.n != 5) {
		fail("%zu events, expected 5", s.n);
		score_free(&s);
		return;
	}
	const struct score_event *e = s.events;
	if (e[0].kind != SCORE_NOTE || e[0].time != 0 || e[0].note != 69 ||
	    e[0].velocity != 90 || e[0].duration != 2 || e[0].line != 4)
		fail("event 0: A4 at 0 s");
	if (e[1].kind != SCORE_COMMAND || e[1].time != 0.5 ||
	    strcmp(e[1].command, "connect osc1.out \"flt.in\"") != 0 ||
	    e[1].line != 6 || e[1].column != 8)
		fail("event 1: '%s' line %u column %u", e[1].command, e[1].line,
		    e[1].column);
	if (e[2].kind != SCORE_COMMAND || e[2].time != 1.0 ||
	    strcmp(e[2].command, "set flt.cutoff 2000") != 0 ||
	    e[2].line != 5 || e[2].column != 10)
		fail("event 2: '%s' line %u column %u", e[2].command, e[2].line,
		    e[2].column);
	if (e[3].kind != SCORE_NOTE || e[3].time != 1.0 || e[3].note != 49 ||
	    e[3].velocity != 1 || e[3].duration != 0.25 || e[3].line != 7)
		fail("event 3: C#3 at 1 s (tie after line 5)");
	if (e[4].kind != SCORE_NOTE || e[4].time != 1.5 || e[4].note != 60 ||
	    e[4].velocity != 100 || e[4].duration != 0.5)
		fail("event 4: note 60 at 1.5 s");
	printf("ok: parse and sort\n");
	score_free(&s);
	if (s.n != 0 || s.events != NULL)
		fail("score_free left events");
}

/* Note names map to MIDI numbers with A4 = 69 and C4 = 60. */
static void
test_note_names(void)
{
	static const struct { const char *name; int note; } names[] = {
		{ "A4", 69 }, { "C4", 60 }, { "C#3", 49 }, { "Eb2", 39 },
		{ "C-1", 0 }, { "G9", 127 }, { "a4", 69 }, { "Bb3", 58 },
		{ "B#3", 60 }, { "Cb4", 59 }, { "E5", 76 }, { "0", 0 },
		{ "127", 127 }, { "F#-1", 6 },
	};
	struct score s;
	struct patch_error err;
	char line[64];

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(line, sizeof line, "at 0 note %s 64 1", names[i].name);
		if (score_load_text(&s, line, "", &err) != 0) {
			fail("'%s': %s", line, err.message);
			continue;
		}
		if (s.n != 1 || s.events[0].note != names[i].note)
			fail("%s is %d, expected %d", names[i].name,
			    s.n ? s.events[0].note : -1, names[i].note);
		score_free(&s);
	}
	printf("ok: %zu note names\n", sizeof names / sizeof names[0]);
}

/* Many ties interleaved with other times keep their file order. */
static void
test_stability(void)
{
	struct score s;
	struct patch_error err;
	size_t cap = 400 * 40, len = 0;
	char *text = malloc(cap);

	for (unsigned i = 0; i < 400; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "at %u note %u 100 1\n", (i * 7) % 3, i % 128);
	if (score_load_text(&s, text, "", &err) != 0) {
		fail("ties: %s", err.message);
		free(text);
		return;
	}
	int ok = s.n == 400;
	for (size_t i = 1; ok && i < s.n; i++)
		ok = s.events[i - 1].time < s.events[i].time ||
		    (s.events[i - 1].time == s.events[i].time &&
		    s.events[i - 1].line < s.events[i].line);
	if (!ok)
		fail("400 events with ties are not sorted stably");
	else
		printf("ok: stable sort of 400 events\n");
	score_free(&s);
	free(text);
}

struct bad {
	const char *text;
	unsigned line, column;
	const char *message;
};

static const struct bad cases[] = {
	{ "note 60 100 1", 1, 1, "expected 'at TIME ...', got 'note'" },
	{ "at", 1, 3, "missing TIME" },
	{ "at soon note 60 100 1", 1, 4, "expected a time in seconds, got "
	    "'soon'" },
	{ "at -1 note 60 100 1", 1, 4, "time must be >= 0 s, got -1" },
	{ "at nan note 60 100 1", 1, 4, "expected a time in seconds" },
	{ "at 1", 1, 5, "missing an event after the time" },
	{ "at 1 note 128 100 1", 1, 11, "note must be in 0..127" },
	{ "at 1 note H4 100 1", 1, 11, "expected a note 0..127 or a name like "
	    "A4" },
	{ "at 1 note G#9 100 1", 1, 11, "note must be in 0..127" },
	{ "at 1 note 60.5 100 1", 1, 11, "expected a note" },
	{ "at 1 note 60 0 1", 1, 14, "velocity must be in 1..127, got 0" },
	{ "at 1 note 60 128 1", 1, 14, "velocity must be in 1..127" },
	{ "at 1 note 60 9.5 1", 1, 14, "expected a whole number for velocity" },
	{ "at 1 note 60 100 0", 1, 18, "duration must be > 0 s, got 0" },
	{ "at 1 note 60 100 1s", 1, 18, "expected a duration in seconds" },
	{ "at 1 note 60 100", 1, 17, "missing DURATION" },
	{ "at 1 note 60", 1, 13, "missing VELOCITY" },
	{ "at 1 note 60 100 1 2", 1, 20, "unexpected '2'" },
	{ "at 1 frob x", 1, 6, "unknown command 'frob'" },
	{ "at 2.5 set flt.cutoff", 1, 22, "missing VALUE" },
	{ "at 1 poly 2 3", 1, 13, "unexpected '3'" },
	{ "at 1 set \"a.b 3", 1, 10, "unterminated quote" },
	{ "# header\nat 0 note 60 100 1\n\nat 1 note 61 100 -1\n", 4, 18,
	    "duration must be > 0" },
};

/* Malformed scores: exact line:column, and an empty score afterwards. */
static void
test_errors(void)
{
	struct score s;
	struct patch_error err;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct bad *c = &cases[i];
		if (score_load_text(&s, c->text, "bad.score", &err) == 0) {
			fail("'%s' parsed", c->text);
			score_free(&s);
			continue;
		}
		if (err.line != c->line || err.column != c->column)
			fail("'%s': error at %u:%u, expected %u:%u (%s)", c->text,
			    err.line, err.column, c->line, c->column,
			    err.message);
		else if (strstr(err.message, c->message) == NULL)
			fail("'%s': message '%s' lacks '%s'", c->text,
			    err.message, c->message);
		else if (strcmp(err.file, "bad.score") != 0)
			fail("'%s': file '%s'", c->text, err.file);
		else
			printf("ok %u:%u: %s\n", err.line, err.column,
			    err.message);
		if (s.n != 0 || s.events != NULL)
			fail("'%s': score not empty after an error", c->text);
	}
	if (score_load_file(&s, "/nonexistent/x.score", &err) == 0 ||
	    strstr(err.message, "/nonexistent/x.score") == NULL)
		fail("missing score file: '%s'", err.message);
}

/* Commands run against a patch: errors point into the score. */
static void
test_exec(void)
{
	static struct patch p, before;
	struct score s;
	struct patch_error err;
	char buf[512];
	const char *score =
	    "at 0 note 60 100 1\n"
	    "at 1 set flt.cutoff 2000\n"
	    "at 2   set flt.cutof 3000\n";

	patch_init(&p, 2, 2);
	if (patch_load_text(&p, "voice ladder flt\n", "", &err) != 0) {
		fail("patch: %s", err.message);
		return;
	}
	if (score_load_text(&s, score, "x.score", &err) != 0) {
		fail("score: %s", err.message);
		return;
	}
	if (score_check(&s, &p, "x.score", &err) == 0)
		fail("score_check accepted 'set flt.cutof'");
	patch_error_format(&err, buf, sizeof buf);
	if (strncmp(buf, "x.score:3:12: module 'flt' has no parameter 'cutof'",
	    51) != 0)
		fail("score_check: '%s'", buf);
	else
		printf("ok: %s\n", buf);
	memcpy(&before, &p, sizeof p);
	if (score_event_exec(&p, &s.events[1], "x.score", &err) != 0)
		fail("set flt.cutoff 2000: %s", err.message);
	else if (p.modules[0].params[module_param_index(p.modules[0].type,
	    "cutoff")] != 2000)
		fail("set flt.cutoff 2000 did not apply");
	memcpy(&before, &p, sizeof p);
	if (score_event_exec(&p, &s.events[2], "x.score", &err) == 0 ||
	    err.line != 3 || err.column != 12)
		fail("bad event: %u:%u", err.line, err.column);
	if (memcmp(&p, &before, sizeof p) != 0)
		fail("a failed score command changed the patch");
	score_free(&s);

	if (score_load_text(&s, "", "", &err) != 0 || s.n != 0)
		fail("an empty score");
	score_free(&s);
}

int
main(void)
{
	test_parse();
	test_note_names();
	test_stability();
	test_errors();
	test_exec();
	return test_status();
}
