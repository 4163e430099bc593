/*
 * tests/patch_roundtrip_test.c — saving a patch writes commands that rebuild
 * it exactly: every example patch (patches/NAME.fsp), a programmatic patch using
 * every parameter kind of every module type, random floats, and the empty
 * patch all survive load → save → load → save with identical text.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "patch.h"
#include "util.h"

/* Save p into a new string (the caller frees it), or NULL. */
static char *
save_text(const struct patch *p)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL) {
		fail("open_memstream failed");
		return NULL;
	}
	if (patch_save(p, f) != 0)
		fail("patch_save failed");
	fclose(f);
	return text;
}

/* Save p, load the text, save again: the texts and patches must match.
 * Returns the first text (the caller frees it). */
static char *
roundtrip(const char *what, const struct patch *p)
{
	static struct patch q, r;
	struct patch_error err;
	char buf[512];
	char *one = save_text(p), *two = NULL;

	if (one == NULL)
		return NULL;
	patch_init(&q, p->n_inputs, p->n_outputs);
	if (patch_load_text(&q, one, what, &err) != 0) {
		patch_error_format(&err, buf, sizeof buf);
		fail("%s: saved text does not load: %s\n%s", what, buf, one);
		return one;
	}
	if (!patch_equal(p, &q))
		fail("%s: the reloaded patch differs", what);
	two = save_text(&q);
	if (two != NULL && strcmp(one, two) != 0)
		fail("%s: saving twice differs:\n%s---\n%s", what, one, two);
	patch_init(&r, p->n_inputs, p->n_outputs);
	if (two != NULL && (patch_load_text(&r, two, what, &err) != 0 ||
	    !patch_equal(&q, &r)))
		fail("%s: the second reload differs", what);
	free(two);
	return one;
}

/* Compare names for qsort. */
static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every example patch in $top_srcdir/patches loads and round-trips. */
static void
test_examples(void)
{
	static struct patch p;
	struct patch_error err;
	const char *top = getenv("top_srcdir");
	char dir[1024], path[2048], buf[512];
	char *names[256];
	unsigned n = 0;

	snprintf(dir, sizeof dir, "%s/patches", top != NULL ? top : ".");
	DIR *d = opendir(dir);
	if (d == NULL) {
		fail("cannot open %s", dir);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 256) {
		size_t len = strlen(e->d_name);
		if (len > 4 && strcmp(e->d_name + len - 4, ".fsp") == 0)
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof names[0], compare_names);
	if (n < 3)
		fail("only %u example patches in %s (expected at least 3)", n,
		    dir);
	for (unsigned i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		patch_init(&p, 2, 2);
		if (patch_load_file(&p, path, &err) != 0) {
			patch_error_format(&err, buf, sizeof buf);
			fail("%s", buf);
		} else if (p.n_modules == 0 || p.n_connections == 0) {
			fail("%s: no modules or no connections", names[i]);
		} else {
			int stereo = 0;
			for (unsigned c = 0; c < p.n_connections; c++)
				if (p.connections[c].to.module == PATCH_IO_OUT)
					stereo |= 1 << p.connections[c].to.port;
			if (stereo != 3)
				fail("%s: does not feed both out.1 and out.2",
				    names[i]);
			free(roundtrip(names[i], &p));
			printf("ok: %s: %u modules, %u connections, poly %u\n",
			    names[i], p.n_modules, p.n_connections, p.poly);
		}
		free(names[i]);
	}
}

/* A value of parameter d that is not its default, for `salt` 0, 1, 2... */
static float
other_value(const struct param_desc *d, unsigned salt)
{
	if (d->kind == PARAM_CHOICE || d->kind == PARAM_INT) {
		for (float v = d->max; v >= d->min; v -= 1)
			if (v != d->def && (salt-- == 0 || v - 1 < d->min))
				return v;
		return d->def;
	}
	float v = d->min + (d->max - d->min) * (0.123456789f + 0.1f * (float)salt);
	return v != d->def ? v : (d->min + d->max) / 2;
}

/* One module of every type, every parameter changed by command text, and
 * connections of every kind; checked value by value, then round-tripped. */
static void
test_every_kind(void)
{
	static struct patch p;
	struct patch_error err;
	char line[CMD_LINE_MAX], value[64];
	unsigned kinds = 0;

	patch_init(&p, 2, 2);
	patch_exec_line(&p, "poly 12", 1, &err);
	for (unsigned i = 0; module_table[i] != NULL; i++) {
		const struct module_type *t = module_table[i];
		/* a file parameter needs a real file: convolver_module_test.sh
		 * round-trips those */
		if (module_text_param(t) >= 0)
			continue;
		int len = snprintf(line, sizeof line, "%s %s m%u",
		    i % 2 ? "global" : "voice", t->name, i);
		/* half the parameters on the voice/global line, half by set */
		for (unsigned k = 0; k < t->n_params; k += 2) {
			cmd_format_value(&t->params[k], other_value(&t->params[k], 0),
			    value, sizeof value);
			len += snprintf(line + len, sizeof line - (size_t)len,
			    " %s=\"%s\"", t->params[k].name, value);
		}
		if (patch_exec_line(&p, line, 1, &err) != 0) {
			fail("'%s': %s", line, err.message);
			continue;
		}
		for (unsigned k = 1; k < t->n_params; k += 2) {
			cmd_format_value(&t->params[k], other_value(&t->params[k], 1),
			    value, sizeof value);
			snprintf(line, sizeof line, "set m%u.%s %s", i,
			    t->params[k].name, value);
			if (patch_exec_line(&p, line, 1, &err) != 0)
				fail("'%s': %s", line, err.message);
		}
		const struct patch_module *m = &p.modules[p.n_modules - 1];
		for (unsigned k = 0; k < t->n_params; k++) {
			float want = other_value(&t->params[k], k % 2);
			kinds |= 1u << t->params[k].kind;
			if (m->params[k] != want)
				fail("%s.%s is %.9g, expected %.9g", t->name,
				    t->params[k].name, (double)m->params[k],
				    (double)want);
		}
	}
	if (kinds != 7)
		fail("the module tables lack a parameter kind (mask %u)", kinds);

	/* connections: every output of each module to the next one's
	 * first input, engine ports both ways, a loop */
	for (unsigned i = 0; i < p.n_modules; i++) {
		const struct module_type *a = p.modules[i].type;
		const struct module_type *b =
		    p.modules[(i + 1) % p.n_modules].type;
		for (unsigned o = 0; o < a->n_outputs && b->n_inputs > 0; o++) {
			snprintf(line, sizeof line, "connect %s.%s %s.%s",
			    p.modules[i].name, a->outputs[o].name,
			    p.modules[(i + 1) % p.n_modules].name,
			    b->inputs[0].name);
			if (patch_exec_line(&p, line, 1, &err) != 0)
				fail("'%s': %s", line, err.message);
		}
		if (a->n_outputs > 0) {
			snprintf(line, sizeof line, "connect %s.%s out.%u",
			    p.modules[i].name, a->outputs[0].name, i % 2 + 1);
			if (patch_exec_line(&p, line, 1, &err) != 0)
				fail("'%s': %s", line, err.message);
		}
		if (a->n_inputs > 0) {
			snprintf(line, sizeof line, "connect in.%u %s.%s", i % 2 + 1,
			    p.modules[i].name, a->inputs[a->n_inputs - 1].name);
			if (patch_exec_line(&p, line, 1, &err) != 0)
				fail("'%s': %s", line, err.message);
		}
	}
	if (patch_exec_line(&p, "connect in.1 out.2", 1, &err) != 0)
		fail("in.1 → out.2: %s", err.message);
	char *text = roundtrip("every kind", &p);
	if (text != NULL) {
		printf("%s", text);
		printf("ok: %u modules, %u connections round-trip\n", p.n_modules,
		    p.n_connections);
	}
	free(text);
}

/* Random in-range floats written by patch_save read back bit-exact. */
static void
test_random_floats(void)
{
	static struct patch p;
	struct patch_error err;
	unsigned seed = 12345, tried = 0;

	for (int round = 0; round < 50; round++) {
		patch_init(&p, 2, 2);
		for (unsigned i = 0; module_table[i] != NULL; i++) {
			const struct module_type *t = module_table[i];
			char line[96];
			snprintf(line, sizeof line, "voice %s r%u", t->name, i);
			if (patch_exec_line(&p, line, 1, &err) != 0) {
				fail("'%s': %s", line, err.message);
				return;
			}
			struct patch_module *m = &p.modules[p.n_modules - 1];
			for (unsigned k = 0; k < t->n_params; k++) {
				const struct param_desc *d = &t->params[k];
				seed = seed * 1103515245u + 12345u;
				float u = (float)(seed >> 8) / 16777216.0f;
				float v = d->min + (d->max - d->min) * u;
				m->params[k] = param_clamp(d, v);
				tried++;
			}
		}
		free(roundtrip("random floats", &p));
	}
	printf("ok: %u random values round-trip\n", tried);
}

/* The empty patch saves as a header and "poly 1", and reloads equal. */
static void
test_empty(void)
{
	static struct patch p;
	const char *want = "# forksynth patch: 0 modules, 0 connections\npoly 1\n";

	patch_init(&p, 2, 2);
	char *text = roundtrip("empty", &p);
	if (text != NULL && strcmp(text, want) != 0)
		fail("the empty patch saves as '%s'", text);
	else
		printf("ok: empty patch\n");
	free(text);
}

/* Defaults are left out, numbers are short, and modules and connections
 * keep their order. */
static void
test_layout(void)
{
	static struct patch p;
	struct patch_error err;
	const char *src =
	    "voice vco a\nglobal vca bb\nconnect a.out bb.in\n"
	    "connect bb.out out.1\npoly 7\n"
	    "voice ladder f cutoff=4e2 res=0.10000\n";
	const char *want =
	    "# forksynth patch: 3 modules, 2 connections\npoly 7\n\n"
	    "voice  vco    a\nglobal vca    bb\n"
	    "voice  ladder f  cutoff=400 res=0.1\n\n"
	    "connect a.out  bb.in\nconnect bb.out out.1\n";

	patch_init(&p, 2, 2);
	if (patch_load_text(&p, src, "layout", &err) != 0) {
		fail("layout: %s", err.message);
		return;
	}
	char *text = roundtrip("layout", &p);
	if (text != NULL && strcmp(text, want) != 0)
		fail("layout saved as:\n%s", text);
	else
		printf("ok: layout\n");
	free(text);
}

int
main(void)
{
	test_examples();
	test_every_kind();
	test_random_floats();
	test_empty();
	test_layout();
	return test_status();
}
