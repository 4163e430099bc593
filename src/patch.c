/*
 * src/patch.c — the authoritative patch: running command lines on it,
 * loading it from text or a file (all or nothing), saving it as the
 * commands that rebuild it, and formatting errors and ports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "log.h"
#include "midimap.h"
#include "patch.h"

/* Largest patch text accepted, bytes. */
#define PATCH_TEXT_MAX (1024 * 1024)

/* Make an empty one-voice patch with the given channel counts. */
void
patch_init(struct patch *p, unsigned n_inputs, unsigned n_outputs)
{
	memset(p, 0, sizeof *p);
	p->poly = 1;
	p->tempo = PATCH_TEMPO_DEFAULT;
	p->n_inputs = n_inputs < PATCH_MAX_IO ? n_inputs : PATCH_MAX_IO;
	p->n_outputs = n_outputs < PATCH_MAX_IO ? n_outputs : PATCH_MAX_IO;
}

/* Find a module by name. */
int
patch_find_module(const struct patch *p, const char *name)
{
	for (unsigned i = 0; i < p->n_modules; i++)
		if (strcmp(p->modules[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Run one command line: all of it or none of it. */
int
patch_exec_line(struct patch *p, const char *text, unsigned line,
    struct patch_error *err)
{
	struct patch_error scratch;
	struct cmd_tokens t;
	const struct cmd_entry *e;

	if (err == NULL)
		err = &scratch;
	err->file[0] = '\0';
	err->line = line;
	err->column = 0;
	err->message[0] = '\0';
	if (cmd_parse(text, &t, &e, err) != 0)
		return -1;
	if (e == NULL)
		return 0;
	return e->exec(p, &t, err);
}

/* Replace the patch by the one the text builds, or leave it be. */
int
patch_load_text(struct patch *p, const char *text, const char *file,
    struct patch_error *err)
{
	struct patch_error scratch;
	char buf[CMD_LINE_MAX + 1];
	const char *s = text;
	unsigned line = 1;

	if (err == NULL)
		err = &scratch;
	if (file == NULL)
		file = "";
	if (strlen(text) > PATCH_TEXT_MAX) {
		snprintf(err->file, sizeof err->file, "%s", file);
		err->line = 0;
		return cmd_error(err, 0, "patch is larger than %d bytes",
		    PATCH_TEXT_MAX);
	}
	struct patch *tmp = xmalloc(sizeof *tmp);
	patch_init(tmp, p->n_inputs, p->n_outputs);
	for (; *s != '\0'; line++) {
		size_t len = strcspn(s, "\n");
		int failed;
		if (len > CMD_LINE_MAX) {
			err->line = line;
			failed = cmd_error(err, CMD_LINE_MAX + 1,
			    "line is longer than %d bytes", CMD_LINE_MAX);
		} else {
			memcpy(buf, s, len);
			buf[len] = '\0';
			failed = patch_exec_line(tmp, buf, line, err);
		}
		if (failed) {
			snprintf(err->file, sizeof err->file, "%s", file);
			free(tmp);
			return -1;
		}
		s += len;
		if (*s == '\n')
			s++;
	}
	*p = *tmp;
	free(tmp);
	return 0;
}

/* Load a patch file, all or nothing. */
int
patch_load_file(struct patch *p, const char *path, struct patch_error *err)
{
	struct patch_error scratch;
	char *text;

	if (err == NULL)
		err = &scratch;
	if (cmd_read_file(path, PATCH_TEXT_MAX, &text, err) != 0)
		return -1;
	int r = patch_load_text(p, text, path, err);
	free(text);
	return r;
}

/* The larger of `width` and the length of s. */
static int
widest(int width, const char *s)
{
	int len = (int)strlen(s);
	return len > width ? len : width;
}

/* Write name="text" with quotes and backslashes escaped. */
static void
save_text(FILE *out, const char *name, const char *text)
{
	fprintf(out, " %s=\"", name);
	for (const char *c = text; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			fputc('\\', out);
		fputc(*c, out);
	}
	fputc('"', out);
}

/* Write the commands that rebuild the patch exactly. */
int
patch_save(const struct patch *p, FILE *out)
{
	char value[64], from[80], to[80];
	int type_w = 0, name_w = 0, from_w = 0;

	for (unsigned i = 0; i < p->n_modules; i++) {
		type_w = widest(type_w, p->modules[i].type->name);
		name_w = widest(name_w, p->modules[i].name);
	}
	for (unsigned i = 0; i < p->n_connections; i++) {
		patch_port_name(p, p->connections[i].from, 1, from, sizeof from);
		from_w = widest(from_w, from);
	}
	fprintf(out, "# forksynth patch: %u module%s, %u connection%s\n",
	    p->n_modules, p->n_modules == 1 ? "" : "s", p->n_connections,
	    p->n_connections == 1 ? "" : "s");
	if (p->mono)
		fprintf(out, "mono\n");
	else
		fprintf(out, "poly %u\n", p->poly);
	if (p->tempo != PATCH_TEMPO_DEFAULT) {
		char bpm[32];
		patch_format_tempo(p->tempo, bpm, sizeof bpm);
		fprintf(out, "tempo %s\n", bpm);
	}
	if (p->n_modules > 0)
		fputc('\n', out);
	for (unsigned i = 0; i < p->n_modules; i++) {
		const struct patch_module *m = &p->modules[i];
		const struct module_type *type = m->type;
		unsigned n = 0;
		for (unsigned k = 0; k < type->n_params && k < MODULE_MAX_PARAMS; k++)
			n += type->params[k].kind == PARAM_TEXT ? m->text[0] != '\0' :
			    m->params[k] != type->params[k].def;
		fprintf(out, "%-6s %-*s %-*s", m->scope == SCOPE_VOICE ?
		    "voice" : "global", type_w, type->name, n ? name_w : 0,
		    m->name);
		for (unsigned k = 0; k < type->n_params && k < MODULE_MAX_PARAMS;
		    k++) {
			if (type->params[k].kind == PARAM_TEXT) {
				if (m->text[0] != '\0')
					save_text(out, type->params[k].name, m->text);
				continue;
			}
			if (m->params[k] == type->params[k].def)
				continue;
			cmd_format_value(&type->params[k], m->params[k], value,
			    sizeof value);
			fprintf(out, " %s=%s", type->params[k].name, value);
		}
		fputc('\n', out);
	}
	if (p->n_connections > 0)
		fputc('\n', out);
	for (unsigned i = 0; i < p->n_connections; i++) {
		patch_port_name(p, p->connections[i].from, 1, from, sizeof from);
		patch_port_name(p, p->connections[i].to, 0, to, sizeof to);
		fprintf(out, "connect %-*s %s\n", from_w, from, to);
	}
	if (p->channel != 0 || p->n_maps > 0)
		fputc('\n', out);
	midimap_save(p, out);
	if (fflush(out) != 0 || ferror(out)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

/* Write a tempo the way patch files spell it: the shortest text that reads
 * back as the same float. */
void
patch_format_tempo(float bpm, char *buf, size_t size)
{
	static const struct param_desc tempo_desc = {
		.name = "tempo", .unit = "BPM", .kind = PARAM_REAL,
		.min = PATCH_TEMPO_MIN, .max = PATCH_TEMPO_MAX,
		.def = PATCH_TEMPO_DEFAULT,
	};
	cmd_format_value(&tempo_desc, bpm, buf, size);
}

/* Compare two patches by content. */
int
patch_equal(const struct patch *a, const struct patch *b)
{
	if (a->poly != b->poly || a->mono != b->mono || a->tempo != b->tempo ||
	    a->n_inputs != b->n_inputs ||
	    a->n_outputs != b->n_outputs || a->n_modules != b->n_modules ||
	    a->n_connections != b->n_connections || !midimap_equal(a, b))
		return 0;
	for (unsigned i = 0; i < a->n_modules; i++) {
		const struct patch_module *x = &a->modules[i], *y = &b->modules[i];
		if (strcmp(x->name, y->name) != 0 || x->type != y->type ||
		    x->scope != y->scope || strcmp(x->text, y->text) != 0)
			return 0;
		for (unsigned k = 0; k < x->type->n_params && k < MODULE_MAX_PARAMS;
		    k++)
			if (x->params[k] != y->params[k])
				return 0;
	}
	for (unsigned i = 0; i < a->n_connections; i++) {
		const struct patch_connection *x = &a->connections[i];
		const struct patch_connection *y = &b->connections[i];
		if (x->from.module != y->from.module ||
		    x->from.port != y->from.port ||
		    x->to.module != y->to.module || x->to.port != y->to.port)
			return 0;
	}
	return 1;
}

/* Format an error as "file:line:column: message". */
void
patch_error_format(const struct patch_error *err, char *buf, size_t size)
{
	if (err->file[0] != '\0' && err->line > 0 && err->column > 0)
		snprintf(buf, size, "%s:%u:%u: %s", err->file, err->line,
		    err->column, err->message);
	else if (err->file[0] != '\0' && err->line > 0)
		snprintf(buf, size, "%s:%u: %s", err->file, err->line,
		    err->message);
	else if (err->file[0] != '\0')
		snprintf(buf, size, "%s: %s", err->file, err->message);
	else if (err->line > 0 && err->column > 0)
		snprintf(buf, size, "%u:%u: %s", err->line, err->column,
		    err->message);
	else if (err->line > 0)
		snprintf(buf, size, "%u: %s", err->line, err->message);
	else if (err->column > 0)
		snprintf(buf, size, "column %u: %s", err->column, err->message);
	else
		snprintf(buf, size, "%s", err->message);
}

/* Spell a port the way commands write it. */
void
patch_port_name(const struct patch *p, struct patch_port port, int output,
    char *buf, size_t size)
{
	if (port.module == PATCH_IO_IN || port.module == PATCH_IO_OUT) {
		snprintf(buf, size, "%s.%d", port.module == PATCH_IO_IN ? "in" :
		    "out", port.port + 1);
		return;
	}
	if (port.module < 0 || (unsigned)port.module >= p->n_modules) {
		snprintf(buf, size, "?");
		return;
	}
	const struct patch_module *m = &p->modules[port.module];
	unsigned n = output ? m->type->n_outputs : m->type->n_inputs;
	const struct port_desc *d = output ? m->type->outputs : m->type->inputs;
	if (port.port < 0 || (unsigned)port.port >= n)
		snprintf(buf, size, "%s.?", m->name);
	else
		snprintf(buf, size, "%s.%s", m->name, d[port.port].name);
}
