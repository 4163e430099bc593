/*
 * fuzz/command_fuzz.c — a libFuzzer target for the command language.  The
 * input runs line by line through patch_exec_line and whole through
 * patch_load_text.  Findings (abort): a failing command that changes the
 * patch, an error that points outside the text, the two ways disagreeing,
 * a failed load that changes the patch, and a patch that does not survive
 * patch_save and reloading unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "fuzz.h"
#include "patch.h"

/* The patch each input starts from: an empty one, 2 inputs, 2 outputs. */
static void
start(struct patch *p)
{
	patch_init(p, 2, 2);
}

/* Run every line on `p`, failures included; return the first failing
 * line's error in *first (first->line is 0 when all lines ran). */
static void
run_lines(struct patch *p, const char *text, struct patch_error *first)
{
	static struct patch before;
	struct patch_error err;
	unsigned n = 1;

	memset(first, 0, sizeof *first);
	for (const char *s = text; *s != '\0'; n++) {
		size_t len = strcspn(s, "\n");
		char *line = strndup(s, len);
		before = *p;
		if (patch_exec_line(p, line, n, &err) != 0) {
			if (memcmp(&before, p, sizeof before) != 0)
				fuzz_fail(text, "line %u failed (%s) but changed the "
				    "patch", n, err.message);
			if (err.line != n || err.file[0] != '\0')
				fuzz_fail(text, "line %u: error names '%s' line %u",
				    n, err.file, err.line);
			fuzz_check_error(text, &err, "patch_exec_line");
			if (first->line == 0)
				*first = err;
		}
		free(line);
		s += len;
		if (*s == '\n')
			s++;
	}
}

/* Load the whole text and compare with running it line by line. */
static void
load_whole(const char *text, const struct patch *lines,
    const struct patch_error *first)
{
	static struct patch whole, before;
	struct patch_error err;

	start(&whole);
	patch_exec_line(&whole, "global vca keep gain=0.5", 0, NULL);
	before = whole;
	if (patch_load_text(&whole, text, "fuzz.fsp", &err) == 0) {
		if (first->line != 0)
			fuzz_fail(text, "loaded whole, but line %u failed: %s",
			    first->line, first->message);
		if (!patch_equal(&whole, lines))
			fuzz_fail(text, "loading whole and line by line differ");
		return;
	}
	if (memcmp(&before, &whole, sizeof before) != 0)
		fuzz_fail(text, "a failed load changed the patch");
	if (strcmp(err.file, "fuzz.fsp") != 0)
		fuzz_fail(text, "a load error names file '%s'", err.file);
	fuzz_check_error(text, &err, "patch_load_text");
	if (first->line != err.line || first->column != err.column ||
	    strcmp(first->message, err.message) != 0)
		fuzz_fail(text, "load failed at %u:%u (%s), line by line at "
		    "%u:%u (%s)", err.line, err.column, err.message, first->line,
		    first->column, first->message);
}

/* One input: both ways of running it, then the round trip. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct patch lines;
	struct patch_error first;

	char *text = fuzz_text(data, size);
	start(&lines);
	run_lines(&lines, text, &first);
	load_whole(text, &lines, &first);
	fuzz_roundtrip(&lines, text);
	free(text);
	return 0;
}
