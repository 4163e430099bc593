/*
 * tests/patchfile_test.c — saving keeps the user's file theirs: the
 * format-preserving merge changes only the lines that changed (comments,
 * blank lines, order and spacing of the rest kept; modules and connections
 * added, removed, renamed; poly and tempo changed), falls back to nothing when the
 * text cannot be followed, and the save rules hold on real files in a
 * scratch directory (mode kept, symlink followed, a FIFO and a directory
 * refused even with force, an unrelated file and a file changed on disk
 * refused without force).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "command.h"
#include "patch.h"
#include "patchfile.h"

static const char base_text[] =
    "# my pad: a comment at the top\n"
    "poly 8\n"
    "\n"
    "# ---- voices\n"
    "voice vco    osc   wave=saw detune=-8   # the saw\n"
    "voice ladder flt   cutoff=400 res=0.25\n"
    "voice vca    amp\n"
    "\n"
    "global delay echo  time=0.42            # echo\n"
    "set flt.res 0.3\n"
    "\n"
    "connect osc.out    flt.in\n"
    "connect flt.out    amp.in               # into the vca\n"
    "connect amp.out    echo.in\n"
    "connect echo.out   out.1\n";

/* Lines of `a` not in `b` (as a multiset), joined by '|', into buf. */
static void
lines_only_in(const char *a, const char *b, char *buf, size_t size)
{
	char *bcopy = strdup(b), *acopy = strdup(a), *save = NULL;
	int used[1024] = { 0 };
	char *blines[1024];
	int nb = 0;
	buf[0] = '\0';
	for (char *s = bcopy, *nl; *s != '\0' && nb < 1024; s = nl + 1) {
		nl = strchr(s, '\n');
		blines[nb++] = s;
		if (nl == NULL)
			break;
		*nl = '\0';
	}
	for (char *l = strtok_r(acopy, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save)) {
		int found = 0;
		for (int i = 0; i < nb && !found; i++)
			if (!used[i] && strcmp(blines[i], l) == 0)
				used[i] = found = 1;
		if (!found) {
			if (buf[0] != '\0')
				strncat(buf, "|", size - strlen(buf) - 1);
			strncat(buf, l, size - strlen(buf) - 1);
		}
	}
	free(acopy);
	free(bcopy);
}

/* Load `text`, run the commands (one a line), merge into `text`; check
 * that the result builds the edited patch and that exactly `gone` lines
 * left and `came` lines arrived ('|'-joined; "" for none).  Returns the
 * merged text (free it) or NULL. */
static char *
edit(const char *what, const char *text, const char *commands,
    const char *gone, const char *came)
{
	static struct patch p, q;
	struct patch_error err;
	char buf[4096], msg[600];

	patch_init(&p, 2, 2);
	if (patch_load_text(&p, text, what, &err) != 0) {
		patch_error_format(&err, msg, sizeof msg);
		CHECK(0, "%s: base does not load: %s", what, msg);
		return NULL;
	}
	snprintf(buf, sizeof buf, "%s", commands);
	char *save = NULL;
	for (char *c = strtok_r(buf, "\n", &save); c != NULL;
	    c = strtok_r(NULL, "\n", &save)) {
		if (patch_exec_line(&p, c, 0, &err) != 0) {
			CHECK(0, "%s: '%s': %s", what, c, err.message);
			return NULL;
		}
	}
	char *out = patchfile_merge(text, &p);
	CHECK(out != NULL, "%s: the merge gave up", what);
	if (out == NULL)
		return NULL;
	patch_init(&q, 2, 2);
	CHECK(patch_load_text(&q, out, what, &err) == 0 && patch_equal(&p, &q),
	    "%s: the merged text does not build the patch:\n%s", what, out);
	char got_gone[4096], got_came[4096];
	lines_only_in(text, out, got_gone, sizeof got_gone);
	lines_only_in(out, text, got_came, sizeof got_came);
	CHECK(strcmp(got_gone, gone) == 0, "%s: lines gone:\n  got  '%s'\n  want '%s'",
	    what, got_gone, gone);
	CHECK(strcmp(got_came, came) == 0, "%s: lines added:\n  got  '%s'\n  want '%s'",
	    what, got_came, came);
	printf("ok: %s\n", what);
	return out;
}

/* The merge: one case per kind of change. */
static void
test_merge(void)
{
	free(edit("nothing changed", base_text, "", "", ""));
	free(edit("a parameter on a module line", base_text, "set flt.cutoff 800",
	    "voice ladder flt   cutoff=400 res=0.25",
	    "voice ladder flt   cutoff=800 res=0.25"));
	free(edit("a parameter set again later: the set line changes", base_text,
	    "set flt.res 0.5", "set flt.res 0.3", "set flt.res 0.5"));
	free(edit("a longer value keeps the comment's column", base_text,
	    "set osc.detune -12",
	    "voice vco    osc   wave=saw detune=-8   # the saw",
	    "voice vco    osc   wave=saw detune=-12  # the saw"));
	free(edit("a parameter the file does not give is appended", base_text,
	    "set amp.gain 0.5", "voice vca    amp", "voice vca    amp gain=0.5"));
	free(edit("a choice", base_text, "set osc.wave pulse",
	    "voice vco    osc   wave=saw detune=-8   # the saw",
	    "voice vco    osc   wave=pulse detune=-8 # the saw"));
	free(edit("module added after the last module line", base_text,
	    "global pan p2 pan=0.5\nconnect echo.out p2.in", "",
	    "global pan   p2 pan=0.5|connect echo.out   p2.in"));
	free(edit("module removed with its connections; comments stay", base_text,
	    "remove echo",
	    "global delay echo  time=0.42            # echo|"
	    "connect amp.out    echo.in|connect echo.out   out.1", ""));
	free(edit("connection added after the last connect line", base_text,
	    "connect amp.out out.2", "", "connect amp.out    out.2"));
	free(edit("connection removed, with its comment", base_text,
	    "disconnect flt.out amp.in",
	    "connect flt.out    amp.in               # into the vca", ""));
	free(edit("renamed module", base_text, "rename flt filter",
	    "voice ladder flt   cutoff=400 res=0.25|set flt.res 0.3|"
	    "connect osc.out    flt.in|"
	    "connect flt.out    amp.in               # into the vca",
	    "voice ladder filter cutoff=400 res=0.25|set filter.res 0.3|"
	    "connect osc.out    filter.in|"
	    "connect filter.out amp.in               # into the vca"));
	free(edit("renamed, removed and re-added under the old name", base_text,
	    "rename amp a2\nvoice vca amp gain=0.2",
	    "voice vca    amp|connect flt.out    amp.in               # into the vca|"
	    "connect amp.out    echo.in",
	    "voice vca    a2|voice  vca   amp gain=0.2|"
	    "connect flt.out    a2.in                # into the vca|"
	    "connect a2.out     echo.in"));
	free(edit("poly changed in place", base_text, "poly 4", "poly 8", "poly 4"));
	free(edit("mono", base_text, "mono", "poly 8", "mono"));
	free(edit("a module removed and added again moves to the end", base_text,
	    "remove osc\nvoice vco osc wave=saw detune=-8\nconnect osc.out flt.in",
	    "voice vco    osc   wave=saw detune=-8   # the saw",
	    "voice  vco   osc detune=-8"));
	free(edit("no poly line: one is added before the first command",
	    "# x\nglobal vco o\nconnect o.out out.1\n", "poly 3", "", "poly 3"));
	free(edit("tempo added after the poly line", base_text, "tempo 92.5",
	    "", "tempo 92.5"));
	char *t = edit("tempo added: right below poly", base_text, "tempo 140",
	    "", "tempo 140");
	CHECK(t != NULL && strstr(t, "poly 8\ntempo 140\n\n# ---- voices") != NULL,
	    "tempo not below the poly line:\n%s", t ? t : "(null)");
	free(t);
	free(edit("tempo changed in place, its comment kept",
	    "tempo 100   # slow\nglobal lfo l sync=tempo\n", "tempo 90",
	    "tempo 100   # slow", "tempo 90    # slow"));
	free(edit("tempo back to the default: the line says 120",
	    "tempo 100\nglobal lfo l\n", "tempo 120", "tempo 100", "tempo 120"));
	free(edit("no command line at all: tempo goes first", "# only a comment\n",
	    "tempo 60", "", "tempo 60"));
	free(edit("an empty file gets everything", "",
	    "poly 2\nglobal vco o\nconnect o.out out.1", "",
	    "poly 2|global vco o|connect o.out out.1"));

	/* a last line without a newline stays without one */
	char *out = edit("no final newline", "poly 2\nglobal vco o level=0.5",
	    "set o.level 0.25", "global vco o level=0.5", "global vco o level=0.25");
	CHECK(out != NULL && strcmp(out, "poly 2\nglobal vco o level=0.25") == 0,
	    "final newline added: '%s'", out ? out : "(null)");
	free(out);

	/* what the merge cannot follow: it gives up, the caller writes the
	 * canonical form */
	static struct patch p;
	patch_init(&p, 2, 2);
	patch_load_text(&p, base_text, "", NULL);
	CHECK(patchfile_merge("poly 8\nvoice nosuchtype x\n", &p) == NULL,
	    "a text that does not load was merged");
	CHECK(patchfile_merge("global vco a\nremove a\n", &p) == NULL,
	    "a text with a remove line was merged");
	CHECK(patchfile_merge(NULL, &p) == NULL, "no text was merged");
	CHECK(patchfile_merge("global vco a\nglobal vco b freq=100\nremove a\n"
	    "remove b\n", &p) == NULL, "module lines removed later were merged");
	printf("ok: texts that do not load or undo themselves are not merged\n");
}

/* The shipped pad: one step of a parameter changes one line. */
static void
test_pad(void)
{
	char path[1024], *text = NULL;
	struct patch_error err;
	const char *top = getenv("top_srcdir");
	snprintf(path, sizeof path, "%s/patches/pad.fsp", top ? top : ".");
	if (cmd_read_file(path, PATCHFILE_TEXT_MAX, &text, &err) != 0) {
		CHECK(0, "cannot read %s: %s", path, err.message);
		return;
	}
	free(edit("pad.fsp: flt.cutoff 500", text, "set flt.cutoff 500",
	    "voice ladder flt   cutoff=400 res=0.25 depth=3",
	    "voice ladder flt   cutoff=500 res=0.25 depth=3"));
	free(edit("pad.fsp: echo.mix, before its comment", text, "set echo.mix 0.5",
	    "global delay echo  time=0.42 feedback=0.55 mix=1   # wet only: dry goes via `dry`",
	    "global delay echo  time=0.42 feedback=0.55 mix=0.5 # wet only: dry goes via `dry`"));
	free(text);
}

/* Every example patch: each module renamed, each of its parameters set to
 * its maximum, one module removed: the merge follows (never gives up) and
 * builds the patch. */
static void
test_examples(void)
{
	static struct patch p, q;
	struct patch_error err;
	char dir[1024], path[1300], line[600];
	const char *top = getenv("top_srcdir");
	const char *names[] = { "pad", "bass", "pluck", "poly-lead", "reverb-keys",
	    "input-filter" };
	unsigned merges = 0;

	for (unsigned n = 0; n < sizeof names / sizeof names[0]; n++) {
		char *text = NULL;
		snprintf(dir, sizeof dir, "%s/patches", top ? top : ".");
		snprintf(path, sizeof path, "%s/%s.fsp", dir, names[n]);
		if (cmd_read_file(path, PATCHFILE_TEXT_MAX, &text, &err) != 0) {
			CHECK(0, "cannot read %s", path);
			continue;
		}
		patch_init(&p, 2, 2);
		if (patch_load_text(&p, text, path, &err) != 0) {
			CHECK(0, "%s does not load", path);
			free(text);
			continue;
		}
		q = p;
		for (unsigned m = 0; m < q.n_modules; m++) {
			p = q;
			const struct patch_module *pm = &q.modules[m];
			snprintf(line, sizeof line, "rename %s renamed_%u", pm->name, m);
			CHECK(patch_exec_line(&p, line, 0, &err) == 0, "%s", line);
			for (unsigned k = 0; k < pm->type->n_params; k++) {
				const struct param_desc *d = &pm->type->params[k];
				if (d->kind == PARAM_TEXT)
					continue;
				char value[64];
				cmd_format_value(d, d->kind == PARAM_CHOICE ? 0 : d->max,
				    value, sizeof value);
				snprintf(line, sizeof line, "set renamed_%u.%s %s", m,
				    d->name, value);
				CHECK(patch_exec_line(&p, line, 0, &err) == 0, "%s: %s",
				    line, err.message);
			}
			if (m + 1 < q.n_modules) {
				snprintf(line, sizeof line, "remove %s", q.modules[m + 1].name);
				patch_exec_line(&p, line, 0, &err);
			}
			char *out = patchfile_merge(text, &p);
			CHECK(out != NULL, "%s: module %s: the merge gave up", names[n],
			    pm->name);
			merges += out != NULL;
			free(out);
		}
		free(text);
	}
	printf("ok: %u merges of edited example patches\n", merges);
}

/* Read a whole small file into a static buffer. */
static const char *
slurp(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Write text to path with mode. */
static void
put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* The save rules on real files. */
static void
test_save(void)
{
	char dir[] = "/tmp/patchfile-test.XXXXXX", msg[2048];
	static struct patch p;
	struct stat st;

	if (mkdtemp(dir) == NULL || chdir(dir) != 0) {
		CHECK(0, "scratch directory: %s", strerror(errno));
		return;
	}
	umask(022);
	put("mine.fsp", base_text, 0644);
	patch_init(&p, 2, 2);
	patch_load_text(&p, base_text, "", NULL);
	struct patchfile *f = patchfile_new("mine.fsp", base_text);

	patch_exec_line(&p, "set flt.cutoff 900", 0, NULL);
	CHECK(patchfile_save(f, &p, NULL, 0, msg, sizeof msg) == 0, "save: %s", msg);
	CHECK(strcmp(msg, "saved mine.fsp") == 0, "save said '%s'", msg);
	CHECK(stat("mine.fsp", &st) == 0 && (st.st_mode & 07777) == 0644,
	    "mode became %o", st.st_mode & 07777);
	CHECK(strstr(slurp("mine.fsp"), "# my pad: a comment at the top\n") &&
	    strstr(slurp("mine.fsp"), "cutoff=900 res=0.25\n"), "saved: %s",
	    slurp("mine.fsp"));
	printf("ok: own file saved, mode 0644 kept, comments kept\n");

	/* changed on disk by someone else: refused, then forced */
	put("mine.fsp", "# edited elsewhere\npoly 2\n", 0640);
	patch_exec_line(&p, "set flt.cutoff 1000", 0, NULL);
	CHECK(patchfile_save(f, &p, NULL, 0, msg, sizeof msg) != 0 &&
	    strstr(msg, "changed on disk") && strstr(msg, "save!"),
	    "a file changed on disk was overwritten: %s", msg);
	CHECK(strcmp(slurp("mine.fsp"), "# edited elsewhere\npoly 2\n") == 0,
	    "refused save changed the file");
	CHECK(patchfile_save(f, &p, NULL, 1, msg, sizeof msg) == 0, "save!: %s", msg);
	CHECK(strncmp(slurp("mine.fsp"), "# edited elsewhere\npoly 8\n", 26) == 0,
	    "forced save did not keep the file's new layout: %s", slurp("mine.fsp"));
	CHECK(stat("mine.fsp", &st) == 0 && (st.st_mode & 07777) == 0640,
	    "mode became %o", st.st_mode & 07777);
	printf("ok: a file changed on disk needs force, then keeps its new layout\n");

	/* changed on disk into something that does not load: refused; forced,
	 * the layout it had when saved is used */
	put("mine.fsp", "poly 8\nvoice nosuchtype x\n", 0644);
	CHECK(patchfile_save(f, &p, NULL, 0, msg, sizeof msg) != 0 &&
	    strstr(msg, "changed on disk"), "broken file on disk: %s", msg);
	CHECK(patchfile_save(f, &p, NULL, 1, msg, sizeof msg) == 0, "save!: %s", msg);
	CHECK(strncmp(slurp("mine.fsp"), "# edited elsewhere\npoly 8\n", 26) == 0,
	    "forced over a broken file: %s", slurp("mine.fsp"));
	printf("ok: a file that no longer loads needs force, then gets the last "
	    "layout saved\n");

	/* an unrelated file: refused without force */
	put("notes.txt", "my notes\n", 0600);
	CHECK(patchfile_save(f, &p, "notes.txt", 0, msg, sizeof msg) != 0 &&
	    strstr(msg, "notes.txt") && strstr(msg, "not this patch's file"),
	    "unrelated file: %s", msg);
	CHECK(strcmp(slurp("notes.txt"), "my notes\n") == 0, "notes.txt changed");
	/* a new file is fine, and becomes the patch's own, with the layout */
	CHECK(patchfile_save(f, &p, "copy.fsp", 0, msg, sizeof msg) == 0, "new: %s", msg);
	CHECK(strcmp(patchfile_path(f), "copy.fsp") == 0, "own file is %s",
	    patchfile_path(f));
	CHECK(strstr(slurp("copy.fsp"), "# edited elsewhere") != NULL,
	    "save as lost the layout: %s", slurp("copy.fsp"));
	CHECK(stat("copy.fsp", &st) == 0 && (st.st_mode & 07777) == 0644,
	    "new file mode %o", st.st_mode & 07777);
	CHECK(patchfile_save(f, &p, "notes.txt", 1, msg, sizeof msg) == 0 &&
	    strstr(slurp("notes.txt"), "poly 8"), "forced save over notes: %s", msg);
	printf("ok: unrelated file needs force; a new file does not\n");

	/* a symlink: the target is written, the link stays a link */
	mkdir("real", 0755);
	put("real/target.fsp", base_text, 0664);
	symlink("real/target.fsp", "link.fsp");
	patchfile_set(f, "link.fsp", base_text);
	CHECK(patchfile_save(f, &p, NULL, 0, msg, sizeof msg) == 0, "link: %s", msg);
	CHECK(lstat("link.fsp", &st) == 0 && S_ISLNK(st.st_mode), "the link is gone");
	CHECK(strstr(slurp("real/target.fsp"), "cutoff=1000") != NULL,
	    "target not written");
	CHECK(stat("real/target.fsp", &st) == 0 && (st.st_mode & 07777) == 0664,
	    "target mode %o", st.st_mode & 07777);
	printf("ok: a symlink is followed and stays a link\n");

	/* FIFO and directory: refused even with force, still there */
	mkfifo("fifo", 0644);
	mkdir("adir", 0755);
	const char *bad[] = { "fifo", "adir" };
	for (int i = 0; i < 2; i++) {
		for (int force = 0; force < 2; force++) {
			CHECK(patchfile_save(f, &p, bad[i], force, msg, sizeof msg) != 0 &&
			    strstr(msg, bad[i]) && strstr(msg, "not a patch file"),
			    "%s (force %d): %s", bad[i], force, msg);
			CHECK(patchfile_write(bad[i], "x\n", msg, sizeof msg) != 0,
			    "patchfile_write wrote %s", bad[i]);
		}
	}
	CHECK(lstat("fifo", &st) == 0 && S_ISFIFO(st.st_mode), "the FIFO is gone");
	CHECK(lstat("adir", &st) == 0 && S_ISDIR(st.st_mode), "the directory is gone");
	printf("ok: a FIFO and a directory are refused even with force\n");

	/* nothing left behind */
	CHECK(system("ls -a | grep -q '\\.fsp\\.'") != 0,
	    "temporary files were left");
	patchfile_free(f);
	char rm[600];
	snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
	if (chdir("/") != 0 || system(rm) != 0)
		printf("could not remove %s\n", dir);
}

int
main(void)
{
	test_merge();
	test_pad();
	test_examples();
	test_save();
	return check_verdict();
}
