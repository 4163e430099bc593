/*
 * tests/parser_errors_test.c — malformed patch text: every error names the
 * exact line:column of the offending token and says what was expected, and
 * a failing load or command leaves the patch byte for byte untouched.
 * Files read whole: one dated in the future, a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "patch.h"
#include "util.h"

/* Three modules that many cases below build on (lines 1..3). */
#define PRE "voice midi note\nvoice vco osc1\nvoice ladder flt\n"

struct bad {
	const char *text;
	unsigned line, column;
	const char *message;      /* a substring of the message */
};

static const struct bad cases[] = {
	{ "frobnicate x", 1, 1, "unknown command 'frobnicate' (expected one "
	    "of: poly, mono, voice, global, set, connect, disconnect, remove" },
	{ "  voice vcoo osc", 1, 9, "unknown module type 'vcoo' (expected one "
	    "of: midi, vco, " },
	{ PRE "voice vco osc1", 4, 11, "module 'osc1' already exists" },
	{ "voice vco in", 1, 11, "'in' is reserved" },
	{ "global vca out", 1, 12, "'out' is reserved" },
	{ "global vca connect", 1, 12, "'connect' is reserved" },
	{ "voice vco 9osc", 1, 11, "invalid name '9osc'" },
	{ "voice vco os-c", 1, 11, "invalid name 'os-c'" },
	{ "voice vco abcdefghijabcdefghijabcdefghijXY", 1, 11,
	    "is too long (at most 31 bytes)" },
	{ "voice vco", 1, 10, "missing NAME (usage: voice TYPE NAME" },
	{ "set", 1, 4, "missing NAME.PARAM" },
	{ PRE "connect osc1.out", 4, 17, "missing TO.INPUT" },
	{ PRE "remove osc1 flt", 4, 13, "unexpected 'flt' (usage: remove NAME)" },
	{ "poly 4 4", 1, 8, "unexpected '4'" },
	{ PRE "set flt.cutoff abc", 4, 16, "expected a number for cutoff, got "
	    "'abc'" },
	{ PRE "set flt.cutoff 1.5x", 4, 16, "expected a number for cutoff, got "
	    "'1.5x'" },
	{ PRE "set flt.cutoff nan", 4, 16, "expected a finite number for "
	    "cutoff, got 'nan'" },
	{ "voice ladder f2 res=0.1 cutoff=inf", 1, 32, "expected a finite "
	    "number for cutoff, got 'inf'" },
	{ "voice ladder f2 cutoff=1e9", 1, 24, "cutoff must be in " },
	{ PRE "set flt.res -5", 4, 13, "res must be in " },
	{ "poly 1.5", 1, 6, "poly must be a whole number, got 1.5" },
	{ "poly 0", 1, 6, "poly must be in 1..4096 voices, got 0" },
	{ "poly 100000", 1, 6, "poly must be in 1..4096 voices, got 100000" },
	{ "poly many", 1, 6, "expected a number for poly, got 'many'" },
	{ PRE "set osc1.wave square", 4, 15, "unknown wave 'square' (expected "
	    "one of: saw, pulse, triangle, sine)" },
	{ "voice noise n color=blue", 1, 21, "unknown color 'blue' (expected "
	    "one of: white, pink)" },
	{ "set osc9.freq 1", 1, 5, "no module named 'osc9'" },
	{ PRE "connect osc1.out flt9.in", 4, 18, "no module named 'flt9'" },
	{ PRE "connect osc9.out flt.in", 4, 9, "no module named 'osc9'" },
	{ PRE "set flt.cutof 100", 4, 5, "module 'flt' has no parameter "
	    "'cutof' (parameters: cutoff, " },
	{ "voice ladder f2 cutof=100", 1, 17, "module type 'ladder' has no "
	    "parameter 'cutof' (parameters: cutoff, " },
	{ PRE "connect osc1.outt flt.in", 4, 9, "module 'osc1' has no output "
	    "'outt' (outputs: out)" },
	{ PRE "connect osc1.out flt.inn", 4, 18, "module 'flt' has no input "
	    "'inn' (inputs: in, pitch, mod)" },
	{ PRE "connect osc1.out flt.out", 4, 18, "module 'flt' has no input "
	    "'out': it is an output" },
	{ PRE "connect flt.in osc1.pitch", 4, 9, "module 'flt' has no output "
	    "'in': it is an input" },
	{ PRE "connect in.0 flt.in", 4, 9, "engine input must be in.1..in.2, "
	    "got 'in.0'" },
	{ PRE "connect osc1.out out.9", 4, 18, "engine output must be "
	    "out.1..out.2, got 'out.9'" },
	{ PRE "connect osc1.out out.x", 4, 18, "engine output must be" },
	{ PRE "connect out.1 flt.in", 4, 9, "'out.1' is an engine output" },
	{ PRE "connect osc1.out in.1", 4, 18, "'in.1' is an engine input" },
	{ PRE "connect osc1 flt.in", 4, 9, "expected NAME.OUTPUT or in.N, got "
	    "'osc1'" },
	{ PRE "connect osc1.out .in", 4, 18, "expected NAME.INPUT or out.N, "
	    "got '.in'" },
	{ PRE "set osc1 3", 4, 5, "expected NAME.PARAM, got 'osc1'" },
	{ PRE "connect osc1.out flt.in\n  connect osc1.out flt.in", 5, 11,
	    "osc1.out is already connected to flt.in" },
	{ PRE "disconnect osc1.out flt.in", 4, 12, "osc1.out is not connected "
	    "to flt.in" },
	{ "remove ghost", 1, 8, "no module named 'ghost'" },
	{ PRE "rename osc1 flt", 4, 13, "module 'flt' already exists" },
	{ PRE "rename osc2 lead", 4, 8, "no module named 'osc2'" },
	{ "voice vco \"osc", 1, 11, "unterminated quote" },
	{ "voice vco \"a#b\" # a comment", 1, 11, "invalid name 'a#b'" },
	{ "voice vco o wave=saw#comment", 1, 18, "unknown wave 'saw#comment'" },
	{ "voice ladder f2 cutoff=", 1, 17, "missing value after '=' in "
	    "'cutoff='" },
	{ "voice ladder f2 =5", 1, 17, "missing parameter name before '='" },
	{ "voice ladder f2 cutoff", 1, 17, "expected PARAM=VALUE, got "
	    "'cutoff'" },
	{ "voice ladder f2 res=0.5 res=0.6", 1, 25, "parameter 'res' given "
	    "twice" },
	{ "poly 4\n# a comment\nvoice vco osc1 wave=sawtooth\nvoice vca amp",
	    3, 21, "unknown wave 'sawtooth'" },
	{ "poly 4\r\n\r\nvoice vco osc1\r\nconnect osc1.out flt.in\r\n", 4, 18,
	    "no module named 'flt'" },
	{ PRE "remove flt\nconnect osc1.out flt.in", 5, 18,
	    "no module named 'flt'" },
};

/* A patch that the failing loads must leave exactly as it was. */
static const char *const keep =
    "poly 3\nglobal vca keep gain=0.5\nconnect in.1 keep.in\n"
    "connect keep.out out.2\n";

/* Check that err says `line`:`column` and contains `message`. */
static void
check_error(const char *what, const struct patch_error *err, unsigned line,
    unsigned column, const char *message)
{
	if (err->line != line || err->column != column)
		fail("%s: error at %u:%u, expected %u:%u (%s)", what, err->line,
		    err->column, line, column, err->message);
	else if (strstr(err->message, message) == NULL)
		fail("%s: message '%s' lacks '%s'", what, err->message, message);
	else
		printf("ok %u:%u: %s\n", line, column, err->message);
}

/* Load each bad text over a known patch, and run its last line on a patch
 * holding the lines before it: both must fail and change nothing. */
static void
test_cases(void)
{
	static struct patch p, before;
	struct patch_error err;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct bad *c = &cases[i];
		char what[64];
		snprintf(what, sizeof what, "case %zu", i + 1);

		patch_init(&p, 2, 2);
		if (patch_load_text(&p, keep, "keep", &err) != 0) {
			fail("%s: the known patch does not load: %s", what,
			    err.message);
			continue;
		}
		memcpy(&before, &p, sizeof p);
		if (patch_load_text(&p, c->text, "bad.fsp", &err) == 0) {
			fail("%s: '%s' loaded", what, c->text);
			continue;
		}
		check_error(what, &err, c->line, c->column, c->message);
		if (strcmp(err.file, "bad.fsp") != 0)
			fail("%s: error names file '%s'", what, err.file);
		if (memcmp(&p, &before, sizeof p) != 0)
			fail("%s: a failed load changed the patch", what);

		/* the same failure as one command on a live patch */
		const char *last = strrchr(c->text, '\n');
		size_t head = last != NULL ? (size_t)(last - c->text) + 1 : 0;
		char *prefix = strndup(c->text, head);
		patch_init(&p, 2, 2);
		if (head > 0 && patch_load_text(&p, prefix, "", &err) != 0) {
			free(prefix);
			continue;      /* the failure is in an earlier line */
		}
		free(prefix);
		memcpy(&before, &p, sizeof p);
		if (patch_exec_line(&p, c->text + head, 7, &err) == 0)
			fail("%s: '%s' ran", what, c->text + head);
		else if (err.line != 7 || err.column != c->column)
			fail("%s: exec error at %u:%u", what, err.line, err.column);
		if (memcmp(&p, &before, sizeof p) != 0)
			fail("%s: a failed command changed the patch", what);
	}
}

/* Errors whose text depends on the module tables: built from them. */
static void
test_ranges(void)
{
	static struct patch p;
	struct patch_error err;
	const struct module_type *ladder = module_find("ladder");
	char want[256];
	int k = ladder != NULL ? module_param_index(ladder, "cutoff") : -1;

	if (k < 0) {
		fail("no ladder.cutoff in the module table");
		return;
	}
	const struct param_desc *d = &ladder->params[k];
	snprintf(want, sizeof want, "cutoff must be in %g..%g %s, got 1e9",
	    (double)d->min, (double)d->max, d->unit);
	patch_init(&p, 2, 2);
	if (patch_load_text(&p, PRE "set flt.cutoff 1e9", "", &err) == 0)
		fail("cutoff 1e9 accepted");
	else
		check_error("range message", &err, 4, 16, want);

	/* a whole-number parameter given a fraction, if any type has one */
	for (unsigned i = 0; module_table[i] != NULL; i++) {
		const struct module_type *t = module_table[i];
		for (unsigned j = 0; j < t->n_params; j++) {
			if (t->params[j].kind != PARAM_INT ||
			    t->params[j].min + 0.5f > t->params[j].max)
				continue;
			char line[128];
			snprintf(line, sizeof line, "voice %s m %s=%g", t->name,
			    t->params[j].name, (double)t->params[j].min + 0.5);
			snprintf(want, sizeof want, "%s must be a whole number",
			    t->params[j].name);
			patch_init(&p, 2, 2);
			if (patch_exec_line(&p, line, 1, &err) == 0)
				fail("'%s' accepted", line);
			else
				check_error(line, &err, 1,
				    (unsigned)(strchr(line, '=') - line) + 2, want);
			return;
		}
	}
	printf("note: no PARAM_INT parameter in the module tables\n");
}

/* Over-long lines, by patch_load_text and by patch_exec_line. */
static void
test_long_line(void)
{
	static struct patch p;
	struct patch_error err;
	char *text = malloc(CMD_LINE_MAX + 64);

	memset(text, 'x', CMD_LINE_MAX + 10);
	memcpy(text, "poly 2\n# ", 9);
	text[CMD_LINE_MAX + 10] = '\0';
	patch_init(&p, 2, 2);
	if (patch_load_text(&p, text, "long.fsp", &err) == 0)
		fail("an over-long line loaded");
	else
		check_error("long line", &err, 2, CMD_LINE_MAX + 1,
		    "line is longer than 4096 bytes");
	if (patch_exec_line(&p, text + 7, 1, &err) == 0)
		fail("an over-long command ran");
	else
		check_error("long command", &err, 1, CMD_LINE_MAX + 1,
		    "longer than 4096");
	/* exactly CMD_LINE_MAX bytes is fine */
	text[7 + CMD_LINE_MAX] = '\0';
	if (patch_load_text(&p, text, "long.fsp", &err) != 0)
		fail("a line of exactly %d bytes failed: %s", CMD_LINE_MAX,
		    err.message);
	free(text);
}

/* Files: missing, a directory, too large, a NUL byte; all name the path. */
static void
test_files(void)
{
	static struct patch p, before;
	struct patch_error err;
	char path[] = "/tmp/forksynth-parser-XXXXXX", want[256], buf[512];
	const char *missing = "/nonexistent/forksynth/missing.fsp";

	patch_init(&p, 2, 2);
	patch_load_text(&p, keep, "", &err);
	memcpy(&before, &p, sizeof p);

	if (patch_load_file(&p, missing, &err) == 0)
		fail("a missing file loaded");
	snprintf(want, sizeof want, "%s: %s", missing, strerror(ENOENT));
	if (strstr(err.message, want) == NULL)
		fail("missing file message '%s' lacks '%s'", err.message, want);
	else
		printf("ok: %s\n", err.message);
	if (patch_load_file(&p, "/", &err) == 0 ||
	    strstr(err.message, "/: ") == NULL)
		fail("a directory: '%s'", err.message);
	else
		printf("ok: %s\n", err.message);

	int fd = mkstemp(path);
	if (fd < 0) {
		fail("mkstemp: %s", strerror(errno));
		return;
	}
	FILE *f = fdopen(fd, "w");
	for (int i = 0; i < 40000; i++)
		fprintf(f, "# padding padding padding padding\n");
	fclose(f);
	if (patch_load_file(&p, path, &err) == 0 ||
	    strstr(err.message, "larger than 1 MiB") == NULL ||
	    strstr(err.message, path) == NULL)
		fail("a 1.4 MB file: '%s'", err.message);
	else
		printf("ok: %s\n", err.message);

	f = fopen(path, "w");
	fputs("poly 2\nvoice vco a\n\n", f);
	fwrite("voice vco b\0c\n", 1, 14, f);
	fclose(f);
	if (patch_load_file(&p, path, &err) == 0)
		fail("a file with a NUL byte loaded");
	else
		check_error("NUL byte", &err, 4, 12, "NUL byte");

	f = fopen(path, "w");
	fputs("poly 2\nvoice vco osc1\n\nconnect osc1.out flt.in\n", f);
	fclose(f);
	if (patch_load_file(&p, path, &err) == 0)
		fail("a bad file loaded");
	patch_error_format(&err, buf, sizeof buf);
	snprintf(want, sizeof want, "%s:4:18: no module named 'flt'", path);
	if (strcmp(buf, want) != 0)
		fail("formatted '%s', expected '%s'", buf, want);
	else
		printf("ok: %s\n", buf);
	if (memcmp(&p, &before, sizeof p) != 0)
		fail("failed file loads changed the patch");
	unlink(path);
}

/* Files the stability check of cmd_read_file must not refuse: one dated
 * an hour ahead (a clock out of step) and a pipe, read once as it comes. */
static void
test_odd_files(void)
{
	static struct patch p;
	struct patch_error err;
	char dir[] = "/tmp/forksynth-parser-XXXXXX", path[64], buf[512];
	const char *text = "poly 3\nvoice vco a\nvoice vca b\n";

	if (mkdtemp(dir) == NULL) {
		fail("mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof path, "%s/future.fsp", dir);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	struct timespec ahead[2];
	clock_gettime(CLOCK_REALTIME, &ahead[0]);
	ahead[0].tv_sec += 3600;
	ahead[1] = ahead[0];
	utimensat(AT_FDCWD, path, ahead, 0);
	patch_init(&p, 2, 2);
	if (patch_load_file(&p, path, &err) != 0 || p.n_modules != 2) {
		patch_error_format(&err, buf, sizeof buf);
		fail("a file dated in the future: %s", buf);
	} else {
		printf("ok: a file dated in the future loads\n");
	}
	unlink(path);

	snprintf(path, sizeof path, "%s/pipe.fsp", dir);
	if (mkfifo(path, 0600) != 0) {
		fail("mkfifo: %s", strerror(errno));
		rmdir(dir);
		return;
	}
	pid_t child = fork();
	if (child == 0) {
		int fd = open(path, O_WRONLY);
		for (const char *s = text; *s != '\0'; s++) {
			if (write(fd, s, 1) != 1)
				_exit(1);
			usleep(2000);
		}
		_exit(0);
	}
	patch_init(&p, 2, 2);
	if (patch_load_file(&p, path, &err) != 0 || p.n_modules != 2) {
		patch_error_format(&err, buf, sizeof buf);
		fail("a patch through a pipe, slowly: %s (%u modules)", buf,
		    p.n_modules);
	} else {
		printf("ok: a patch through a pipe, slowly, loads\n");
	}
	waitpid(child, NULL, 0);
	unlink(path);
	rmdir(dir);
}

/* Formatting with parts missing, and lines that must succeed. */
static void
test_format_and_good(void)
{
	static struct patch p;
	struct patch_error err;
	char buf[512];

	patch_init(&p, 2, 2);
	if (patch_exec_line(&p, "voice vco 1x", 0, &err) == 0)
		fail("'voice vco 1x' ran");
	patch_error_format(&err, buf, sizeof buf);
	if (strncmp(buf, "column 11: invalid name", 23) != 0)
		fail("prompt error formatted as '%s'", buf);
	err.column = 0;
	err.line = 0;
	patch_error_format(&err, buf, sizeof buf);
	if (strncmp(buf, "invalid name", 12) != 0)
		fail("bare error formatted as '%s'", buf);

	static const char *const good[] = {
		"  # only a comment",
		"",
		"\t",
		"voice vco osc1 wave=pulse pw=0.25 # comment",
		"voice vco \"osc2\" wave=\"sine\"",
		"global pan p #comment right after",
		"connect osc1.out p.in",
		"connect osc2.out p.in",
		"connect p.left out.1",
		"connect in.2 out.2",
		"set osc1.wave triangle",
		"disconnect osc2.out p.in",
		"rename osc2 sub",
		"remove osc1",
		"poly 4096",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (patch_exec_line(&p, good[i], (unsigned)i + 1, &err) != 0)
			fail("'%s' failed: %s", good[i], err.message);
	if (p.n_modules != 2 || p.n_connections != 2 || p.poly != 4096 ||
	    patch_find_module(&p, "sub") != 0 ||
	    patch_find_module(&p, "p") != 1)
		fail("after the good lines: %u modules, %u connections, poly %u",
		    p.n_modules, p.n_connections, p.poly);
	else if (p.connections[0].from.module != 1 ||
	    p.connections[0].to.module != PATCH_IO_OUT ||
	    p.connections[1].from.module != PATCH_IO_IN ||
	    p.connections[1].from.port != 1)
		fail("connections not renumbered after remove");
	else
		printf("ok: %zu good lines\n", sizeof good / sizeof good[0]);
}

int
main(void)
{
	test_cases();
	test_ranges();
	test_long_line();
	test_files();
	test_odd_files();
	test_format_and_good();
	printf("%zu malformed inputs checked\n", sizeof cases / sizeof cases[0]);
	return test_status();
}
