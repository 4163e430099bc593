/*
 * fuzz/score_fuzz.c — a libFuzzer target for scores ("at T note N V D",
 * "at T COMMAND").  A score that loads must hold only valid events, sorted
 * by time with ties in file order, each command being its own text in the
 * line; a score that fails must be empty with an error inside the text.
 * The commands then run on the built-in patch, as score_check and one by
 * one: both must agree, a failing command must leave the patch untouched,
 * and the patch that results must survive saving and reloading.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "fuzz.h"
#include "patch.h"
#include "score.h"

/* Check one event of a loaded score against its line of the text. */
static void
check_event(const char *text, const struct score_event *ev)
{
	size_t len = 0;
	const char *line = fuzz_line(text, ev->line, &len);

	if (line == NULL)
		fuzz_fail(text, "an event from line %u, not in the text",
		    ev->line);
	if (!isfinite(ev->time) || ev->time < 0)
		fuzz_fail(text, "line %u: time %g", ev->line, ev->time);
	if (ev->kind == SCORE_NOTE) {
		if (ev->note > 127 || ev->velocity < 1 || ev->velocity > 127 ||
		    !isfinite(ev->duration) || !(ev->duration > 0))
			fuzz_fail(text, "line %u: note %u velocity %u duration "
			    "%g", ev->line, ev->note, ev->velocity, ev->duration);
		return;
	}
	if (ev->kind != SCORE_COMMAND)
		fuzz_fail(text, "line %u: event of kind %d", ev->line, ev->kind);
	size_t k = strnlen(ev->command, sizeof ev->command);
	if (k == 0 || k == sizeof ev->command)
		fuzz_fail(text, "line %u: a command of %zu bytes", ev->line, k);
	if (ev->column < 1 || ev->column - 1 + k > len ||
	    memcmp(line + ev->column - 1, ev->command, k) != 0)
		fuzz_fail(text, "line %u: command '%s' is not at column %u",
		    ev->line, ev->command, ev->column);
}

/* Check a loaded score: valid events in order. */
static void
check_score(const char *text, const struct score *s)
{
	if ((s->n == 0) != (s->events == NULL))
		fuzz_fail(text, "%zu events at %p", s->n, (void *)s->events);
	for (size_t i = 0; i < s->n; i++) {
		check_event(text, &s->events[i]);
		if (i == 0)
			continue;
		const struct score_event *a = &s->events[i - 1], *b = &s->events[i];
		if (a->time > b->time || (a->time == b->time && a->line >= b->line))
			fuzz_fail(text, "events out of order: line %u at %g s "
			    "before line %u at %g s", a->line, a->time, b->line,
			    b->time);
	}
}

/* Run the commands on the built-in patch both ways, then round-trip it. */
static void
run_commands(const char *text, const struct score *s)
{
	static struct patch base, p, before;
	static int loaded;
	struct patch_error check_err, err;

	if (!loaded) {
		patch_init(&base, 2, 2);
		if (patch_load_text(&base, builtin_patch, "built-in", &err) != 0)
			fuzz_fail(text, "the built-in patch: %s", err.message);
		loaded = 1;
	}
	int checked = score_check(s, &base, "fuzz.score", &check_err);
	p = base;
	size_t i = 0;
	for (; i < s->n; i++) {
		before = p;
		if (score_event_exec(&p, &s->events[i], "fuzz.score", &err) == 0)
			continue;
		if (memcmp(&before, &p, sizeof p) != 0)
			fuzz_fail(text, "line %u failed (%s) but changed the patch",
			    s->events[i].line, err.message);
		if (err.line != s->events[i].line ||
		    strcmp(err.file, "fuzz.score") != 0)
			fuzz_fail(text, "line %u: error names '%s' line %u",
			    s->events[i].line, err.file, err.line);
		fuzz_check_error(text, &err, "score_event_exec");
		break;
	}
	if ((checked == 0) != (i == s->n))
		fuzz_fail(text, "score_check says %d, the events one by one %s",
		    checked, i == s->n ? "ran" : "failed");
	if (checked != 0 && (check_err.line != err.line ||
	    check_err.column != err.column ||
	    strcmp(check_err.message, err.message) != 0))
		fuzz_fail(text, "score_check failed at %u:%u (%s), the events at "
		    "%u:%u (%s)", check_err.line, check_err.column,
		    check_err.message, err.line, err.column, err.message);
	fuzz_roundtrip(&p, text);
}

/* One input: load it as a score, check it, run it. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct score s;
	struct patch_error err;

	char *text = fuzz_text(data, size);
	if (score_load_text(&s, text, "fuzz.score", &err) != 0) {
		if (s.n != 0 || s.events != NULL)
			fuzz_fail(text, "a failed score holds %zu events", s.n);
		if (strcmp(err.file, "fuzz.score") != 0)
			fuzz_fail(text, "a score error names file '%s'", err.file);
		fuzz_check_error(text, &err, "score_load_text");
	} else {
		check_score(text, &s);
		run_commands(text, &s);
		score_free(&s);
	}
	free(text);
	return 0;
}
