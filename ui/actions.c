/*
 * ui/actions.c — what keys and `:` lines do: the table of UI commands
 * (moving, stepping values, adding, connecting, removing, undo, views,
 * saving and loading, bindings), the pick lists that lead to patch
 * commands, the piano mode, and the path every edit takes to the session
 * (undo snapshot; the session autosaves).
 */
#define _GNU_SOURCE
#include <curses.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command.h"
#include "engine.h"
#include "futex.h"
#include "jackio.h"
#include "patchfile.h"
#include "recorder.h"
#include "browser.h"
#include "ui_internal.h"

/* An edit to the same parameter within this long joins the last undo step. */
#define COALESCE_NS 1500000000ull

static struct patch_module *
selected_module(struct ui *u)
{
	struct patch *p = session_patch(u->s);
	if (u->sel_module < 0 || (unsigned)u->sel_module >= p->n_modules)
		return NULL;
	return &p->modules[u->sel_module];
}

void
ui_clamp_selection(struct ui *u)
{
	struct patch *p = session_patch(u->s);
	if (u->sel_module >= (int)p->n_modules)
		u->sel_module = (int)p->n_modules - 1;
	if (u->sel_module < 0)
		u->sel_module = p->n_modules > 0 ? 0 : -1;
	struct patch_module *m = selected_module(u);
	int n_params = m != NULL ? (int)m->type->n_params : 0;
	if (u->sel_param >= n_params)
		u->sel_param = n_params - 1;
	if (u->sel_param < 0)
		u->sel_param = 0;
	if (u->sel_conn >= (int)p->n_connections)
		u->sel_conn = (int)p->n_connections - 1;
	if (u->sel_conn < 0)
		u->sel_conn = 0;
	if (n_params == 0)
		u->focus_params = 0;
}

/* Whether a and b differ in more than numeric parameters. */
static int
structure_differs(const struct patch *a, const struct patch *b)
{
	if (a->n_modules != b->n_modules || a->n_connections != b->n_connections)
		return 1;
	for (unsigned m = 0; m < a->n_modules; m++)
		if (strcmp(a->modules[m].name, b->modules[m].name) != 0 ||
		    a->modules[m].type != b->modules[m].type)
			return 1;
	return 0;
}

void
ui_update_modified(struct ui *u)
{
	u->modified = !patch_equal(session_patch(u->s), u->clean) ||
	    strcmp(u->patch_file, u->clean_file) != 0;
}

void
ui_mark_clean(struct ui *u)
{
	*u->clean = *session_patch(u->s);
	memcpy(u->clean_file, u->patch_file, sizeof u->clean_file);
	u->modified = 0;
}

/* After the patch changed from `before`: undo, selections (the session
 * has autosaved it). */
static void
after_change(struct ui *u, const struct patch *before, const char *coalesce)
{
	uint64_t now = futex_now_ns();
	int joined = coalesce != NULL && strcmp(coalesce, u->coalesce) == 0 &&
	    now - u->coalesce_at < COALESCE_NS;
	if (!joined)
		undo_push(&u->undo, before, u->patch_file);
	snprintf(u->coalesce, sizeof u->coalesce, "%s", coalesce ? coalesce : "");
	u->coalesce_at = now;
	if (structure_differs(before, session_patch(u->s)))
		u->st.cost_valid = 0;
	ui_update_modified(u);
	/* a module just added is the one to work on */
	if (session_patch(u->s)->n_modules > before->n_modules) {
		u->sel_module = (int)session_patch(u->s)->n_modules - 1;
		u->focus_params = 0;
	}
	ui_clamp_selection(u);
}

int
ui_apply(struct ui *u, const char *line, const char *coalesce)
{
	char reply[1200];
	*u->scratch = *session_patch(u->s);
	int rc = session_exec(u->s, line, reply, sizeof reply);
	if (rc != 0) {
		ui_message(u, 1, "%s", strncmp(reply, "error: ", 7) == 0 ? reply + 7 : reply);
		return UI_REDRAW;
	}
	if (!patch_equal(u->scratch, session_patch(u->s)))
		after_change(u, u->scratch, coalesce);
	if (strncmp(reply, "ok ", 3) == 0)
		ui_message(u, 0, "%s", reply + 3);
	else
		ui_message(u, 0, "%s", line);
	return UI_REDRAW;
}

/* Replace the whole patch (undo, redo, load) click-free. */
static void
replace_patch(struct ui *u, const struct patch *next)
{
	if (structure_differs(session_patch(u->s), next))
		u->st.cost_valid = 0;
	session_replace(u->s, next);
	ui_update_modified(u);
	u->coalesce[0] = '\0';
	ui_clamp_selection(u);
}

/* ---------------------------------------------------------------- moving */

/* Rows in the list the current view moves through. */
static int
list_length(struct ui *u)
{
	struct patch *p = session_patch(u->s);
	struct patch_module *m = selected_module(u);
	switch (u->view) {
	case VIEW_PATCH:
		return u->focus_params ? (m ? (int)m->type->n_params : 0) : (int)p->n_modules;
	case VIEW_CONNECTIONS:
		return (int)p->n_connections;
	default:
		return 0;
	}
}

/* Move the selection (or scroll a view without one) by `delta` rows. */
static int
move_selection(struct ui *u, int delta)
{
	if (u->view == VIEW_BROWSER)
		return browser_move(u, delta);
	int n = list_length(u);
	int *sel = u->view == VIEW_CONNECTIONS ? &u->sel_conn :
	    u->focus_params ? &u->sel_param : &u->sel_module;
	if (u->view == VIEW_PATCH || u->view == VIEW_CONNECTIONS) {
		long v = (long)*sel + delta;
		*sel = n == 0 ? 0 : v < 0 ? 0 : v >= n ? n - 1 : (int)v;
		if (u->view == VIEW_PATCH && !u->focus_params)
			u->sel_param = 0;
	} else {
		long v = (long)u->scroll[u->view] + delta;
		u->scroll[u->view] = v < 0 ? 0 : v > 100000 ? 100000 : (int)v;
	}
	return UI_REDRAW;
}

/* An integer argument, or `def` when absent or not a number. */
static int
arg_int(int argc, const char *const *argv, int i, int def)
{
	char *end;
	if (i >= argc)
		return def;
	long v = strtol(argv[i], &end, 10);
	return *end == '\0' && v > -100000 && v < 100000 ? (int)v : def;
}

static int
run_down(struct ui *u, int argc, const char *const *argv)
{
	return move_selection(u, arg_int(argc, argv, 1, 1));
}

static int
run_up(struct ui *u, int argc, const char *const *argv)
{
	return move_selection(u, -arg_int(argc, argv, 1, 1));
}

static int
run_top(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	return move_selection(u, -1000000);
}

static int
run_bottom(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	return move_selection(u, 1000000);
}

static int
run_left(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	if (u->view == VIEW_PATCH)
		u->focus_params = 0;
	return UI_REDRAW;
}

static int
run_right(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	struct patch_module *m = selected_module(u);
	if (u->view == VIEW_PATCH && m != NULL && m->type->n_params > 0)
		u->focus_params = 1;
	return UI_REDRAW;
}

/* ---------------------------------------------------------------- values */

int
view_log_scale(const struct param_desc *d)
{
	return d->kind == PARAM_REAL && d->min > 0 && d->max / d->min >= 100;
}

/* `value` moved by `steps` fine steps (10 make a coarse one). */
static float
step_value(const struct param_desc *d, float value, int steps)
{
	switch (d->kind) {
	case PARAM_CHOICE:
		return value + (steps > 0 ? 1 : -1);
	case PARAM_INT: {
		float coarse = fmaxf(1, floorf((d->max - d->min) / 10));
		return value + (abs(steps) >= 10 ? (float)(steps / 10) * coarse : (float)steps);
	}
	default:
		if (view_log_scale(d))
			return (value < d->min ? d->min : value) * exp2f((float)steps / 24);
		return value + (float)steps * (d->max - d->min) / 200;
	}
}

/* The selected parameter, with its module; NULL when there is none. */
static const struct param_desc *
selected_param(struct ui *u, struct patch_module **mod)
{
	struct patch_module *m = selected_module(u);
	if (m == NULL || u->sel_param < 0 || (unsigned)u->sel_param >= m->type->n_params)
		return NULL;
	*mod = m;
	return &m->type->params[u->sel_param];
}

static int
run_value(struct ui *u, int argc, const char *const *argv)
{
	struct patch_module *m;
	const struct param_desc *d = selected_param(u, &m);
	char line[300], text[64], key[COMPLETE_WORD_MAX];
	if (u->view != VIEW_PATCH || d == NULL) {
		ui_message(u, 1, "select a parameter first (Right or l on a module)");
		return UI_REDRAW;
	}
	if (d->kind == PARAM_TEXT) {
		snprintf(line, sizeof line, "set %s.%s ", m->name, d->name);
		prompt_start(&u->prompt, line);
		u->mode = MODE_PROMPT;
		return UI_REDRAW;
	}
	int steps = arg_int(argc, argv, 1, 1);
	float v = param_clamp(d, step_value(d, m->params[u->sel_param], steps));
	cmd_format_value(d, v, text, sizeof text);
	snprintf(line, sizeof line, "set %s.%s %s", m->name, d->name, text);
	snprintf(key, sizeof key, "%s.%s", m->name, d->name);
	return ui_apply(u, line, key);
}

static int
run_input_value(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	struct patch_module *m;
	const struct param_desc *d = selected_param(u, &m);
	char line[300];
	if (u->view != VIEW_PATCH || d == NULL) {
		ui_message(u, 1, "select a parameter first (Right or l on a module)");
		return UI_REDRAW;
	}
	snprintf(line, sizeof line, "set %s.%s ", m->name, d->name);
	prompt_start(&u->prompt, line);
	u->mode = MODE_PROMPT;
	return UI_REDRAW;
}

/* learn: MIDI learn on the selected parameter; the supervisor maps the
 * next controller that moves and the main loop tells the outcome. */
static int
run_learn(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	struct patch_module *m;
	char msg[300];
	if (u->view != VIEW_PATCH || !u->focus_params ||
	    selected_param(u, &m) == NULL) {
		ui_message(u, 1, "MIDI learn: select a parameter first (Right or l "
		    "on a module), then L");
		return UI_REDRAW;
	}
	int rc = session_learn(u->s, u->sel_module, (unsigned)u->sel_param, msg,
	    sizeof msg);
	ui_message(u, rc != 0, "%s", msg);
	return UI_REDRAW;
}

static int
run_enter(struct ui *u, int argc, const char *const *argv)
{
	if (u->view == VIEW_BROWSER)
		return browser_keep(u);
	if (u->view == VIEW_PATCH && u->focus_params)
		return run_input_value(u, argc, argv);
	if (u->view == VIEW_PATCH)
		return run_right(u, argc, argv);
	return UI_HANDLED;
}

/* ---------------------------------------------------------------- picking */

/* Open a pick list. */
static void
pick_open(struct ui *u, enum pick_purpose purpose, const char *title,
    const char *context)
{
	u->pick.purpose = purpose;
	snprintf(u->pick.title, sizeof u->pick.title, "%s", title);
	snprintf(u->pick.context, sizeof u->pick.context, "%s", context);
	u->pick.n = 0;
	u->pick.filter[0] = '\0';
	u->pick.sel = 0;
	u->pick.names_only = purpose == PICK_ADD_TYPE || purpose == PICK_ADD_SCOPE;
	u->mode = MODE_PICK;
}

static void
pick_add(struct ui *u, const char *item)
{
	if (u->pick.n < UI_PICK_MAX)
		snprintf(u->pick.items[u->pick.n++], COMPLETE_WORD_MAX, "%s", item);
}

unsigned
ui_pick_shown(const struct ui *u, unsigned *shown, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < u->pick.n && n < max; i++) {
		const char *item = u->pick.items[i];
		const char *hit = strstr(item, u->pick.filter);
		/* lists of names with a description after: match the name */
		size_t name_len = u->pick.names_only ? strcspn(item, " ") : strlen(item);
		if (hit != NULL && (size_t)(hit - item) + strlen(u->pick.filter) <= name_len)
			shown[n++] = i;
	}
	return n;
}

/* Every port of one direction, as the language names them. */
static void
pick_add_ports(struct ui *u, int outputs)
{
	struct completion *c = u->completion;
	complete_line(session_patch(u->s), outputs ? "connect " : "connect x ",
	    outputs ? 8 : 10, NULL, c);
	for (unsigned i = 0; i < c->n; i++)
		pick_add(u, c->items[i]);
}

static int
run_add(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	pick_open(u, PICK_ADD_TYPE, "add a module of type", "");
	for (unsigned i = 0; module_table[i] != NULL; i++) {
		char item[COMPLETE_WORD_MAX];
		snprintf(item, sizeof item, "%-9s %s", module_table[i]->name,
		    module_table[i]->help ? module_table[i]->help : "");
		pick_add(u, item);
	}
	return UI_REDRAW;
}

static int
run_connect(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	pick_open(u, PICK_CONNECT_FROM, "connect from output", "");
	pick_add_ports(u, 1);
	/* start at the selected module's first output */
	struct patch_module *m = selected_module(u);
	if (m != NULL && u->view == VIEW_PATCH)
		for (unsigned i = 0; i < u->pick.n; i++)
			if (strncmp(u->pick.items[i], m->name, strlen(m->name)) == 0 &&
			    u->pick.items[i][strlen(m->name)] == '.') {
				u->pick.sel = (int)i;
				break;
			}
	return UI_REDRAW;
}

/* A connection as "FROM TO" text, the way `disconnect` takes it. */
static void
connection_text(const struct patch *p, unsigned i, char *buf, size_t size)
{
	char from[80], to[80];
	patch_port_name(p, p->connections[i].from, 1, from, sizeof from);
	patch_port_name(p, p->connections[i].to, 0, to, sizeof to);
	snprintf(buf, size, "%.46s %.46s", from, to);
}

static int
run_disconnect(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	struct patch *p = session_patch(u->s);
	char text[COMPLETE_WORD_MAX];
	if (p->n_connections == 0) {
		ui_message(u, 1, "there are no connections");
		return UI_REDRAW;
	}
	pick_open(u, PICK_DISCONNECT, "disconnect", "");
	for (unsigned i = 0; i < p->n_connections; i++) {
		connection_text(p, i, text, sizeof text);
		pick_add(u, text);
	}
	return UI_REDRAW;
}

static int
run_remove(struct ui *u, int argc, const char *const *argv)
{
	struct patch *p = session_patch(u->s);
	char line[300], text[COMPLETE_WORD_MAX];
	if (argc > 1) {
		/* `remove NAME`: the patch command */
		snprintf(line, sizeof line, "remove %s", argv[1]);
		return argc == 2 ? ui_apply(u, line, NULL) :
		    (ui_message(u, 1, "usage: remove [NAME]"), UI_REDRAW);
	}
	if (u->view == VIEW_CONNECTIONS) {
		if (p->n_connections == 0)
			return UI_HANDLED;
		connection_text(p, (unsigned)u->sel_conn, text, sizeof text);
		snprintf(line, sizeof line, "disconnect %s", text);
		return ui_apply(u, line, NULL);
	}
	struct patch_module *m = selected_module(u);
	if (u->view != VIEW_PATCH || m == NULL) {
		ui_message(u, 1, "select a module to remove");
		return UI_REDRAW;
	}
	snprintf(line, sizeof line, "remove %s", m->name);
	return ui_apply(u, line, NULL);
}

/* A free name for a new module of `type`: the type and a number. */
static void
new_name(struct ui *u, const char *type, char *buf, size_t size)
{
	for (unsigned k = 1; k < 1000; k++) {
		snprintf(buf, size, "%.24s%u", type, k);
		if (patch_find_module(session_patch(u->s), buf) < 0)
			return;
	}
}

/* Act on the chosen item of the pick list. */
static int
pick_choose(struct ui *u, const char *item)
{
	char line[400], word[COMPLETE_WORD_MAX], name[PATCH_NAME_MAX];
	snprintf(word, sizeof word, "%s", item);
	word[strcspn(word, " ")] = '\0';
	u->mode = MODE_NORMAL;
	switch (u->pick.purpose) {
	case PICK_ADD_TYPE:
		pick_open(u, PICK_ADD_SCOPE, "one per voice, or one for all?", word);
		pick_add(u, "voice     one instance per voice");
		pick_add(u, "global    one instance shared by all voices");
		return UI_REDRAW;
	case PICK_ADD_SCOPE:
		new_name(u, u->pick.context, name, sizeof name);
		snprintf(line, sizeof line, "%s %s %s ", word, u->pick.context, name);
		prompt_start(&u->prompt, line);
		u->mode = MODE_PROMPT;
		ui_message(u, 0, "Enter adds it; type PARAM=VALUE first, or change the name");
		return UI_REDRAW;
	case PICK_CONNECT_FROM:
		pick_open(u, PICK_CONNECT_TO, "connect it to input", word);
		pick_add_ports(u, 0);
		return UI_REDRAW;
	case PICK_CONNECT_TO:
		snprintf(line, sizeof line, "connect %s %s", u->pick.context, word);
		return ui_apply(u, line, NULL);
	case PICK_DISCONNECT:
		snprintf(line, sizeof line, "disconnect %s", item);
		return ui_apply(u, line, NULL);
	}
	return UI_REDRAW;
}

/* A key while a pick list is open: type to filter, arrows, Enter, Esc. */
static int
pick_key(struct ui *u, int key)
{
	unsigned shown[UI_PICK_MAX];
	unsigned n = ui_pick_shown(u, shown, UI_PICK_MAX);
	size_t len = strlen(u->pick.filter);
	switch (key) {
	case UI_KEY_ESCAPE:
	case 'c' & 0x1f:
		u->mode = MODE_NORMAL;
		ui_message(u, 0, "cancelled");
		break;
	case UI_KEY_ENTER:
		if (n == 0) {
			ui_message(u, 1, "nothing matches '%s'", u->pick.filter);
			break;
		}
		return pick_choose(u, u->pick.items[shown[u->pick.sel < (int)n ? u->pick.sel : 0]]);
	case KEY_UP:
		u->pick.sel = u->pick.sel > 0 ? u->pick.sel - 1 : 0;
		break;
	case KEY_DOWN:
	case UI_KEY_TAB:
		u->pick.sel = u->pick.sel + 1 < (int)n ? u->pick.sel + 1 : u->pick.sel;
		break;
	case KEY_PPAGE:
		u->pick.sel = u->pick.sel > 10 ? u->pick.sel - 10 : 0;
		break;
	case KEY_NPAGE:
		u->pick.sel = u->pick.sel + 10 < (int)n ? u->pick.sel + 10 : (int)n - 1;
		break;
	case KEY_BACKSPACE:
		if (len > 0)
			u->pick.filter[len - 1] = '\0';
		u->pick.sel = 0;
		break;
	default:
		if (key > ' ' && key < 127 && len + 1 < sizeof u->pick.filter) {
			u->pick.filter[len] = (char)key;
			u->pick.filter[len + 1] = '\0';
			u->pick.sel = 0;
		}
		break;
	}
	return UI_REDRAW;
}

/* ---------------------------------------------------------------- undo */

/* The patch's own file is now `path` (NULL: none), with `text`, or when
 * that is NULL the file's text on disk now: :w keeps its layout. */
static void
adopt_file(struct ui *u, const char *path, const char *text)
{
	struct patch_error err;
	char *disk = NULL;
	if (path != NULL && text == NULL &&
	    cmd_read_file(path, PATCHFILE_TEXT_MAX, &disk, &err) == 0)
		text = disk;
	patchfile_set(session_file(u->s), path, text);
	free(disk);
}

static int
undo_or_redo(struct ui *u, int redo)
{
	char file[UNDO_FILE_MAX];
	*u->scratch = *session_patch(u->s);
	snprintf(file, sizeof file, "%s", u->patch_file);
	if (undo_step(&u->undo, u->scratch, file, redo) != 0) {
		ui_message(u, 1, "nothing to %s", redo ? "redo" : "undo");
		return UI_REDRAW;
	}
	/* past a load, the patch is the old file's again */
	if (strcmp(file, u->patch_file) != 0) {
		snprintf(u->patch_file, sizeof u->patch_file, "%s", file);
		session_set_origin(u->s, file[0] ? file : NULL);
		adopt_file(u, file[0] ? file : NULL, NULL);
	}
	replace_patch(u, u->scratch);
	ui_message(u, 0, "%s (%u more to undo, %u to redo)", redo ? "redone" : "undone",
	    u->undo.n_past, u->undo.n_future);
	return UI_REDRAW;
}

static int
run_undo(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	return undo_or_redo(u, 0);
}

static int
run_redo(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	return undo_or_redo(u, 1);
}

/* ---------------------------------------------------------------- views */

const char *const ui_view_names[N_VIEWS] = {
	"patch", "connections", "cost", "log", "browser", "scope", "spectrum", "help"
};

static int
run_view(struct ui *u, int argc, const char *const *argv)
{
	const char *name = argc > 1 ? argv[1] : "next";
	if (strcmp(name, "next") == 0) {
		u->view = (u->view + 1) % VIEW_HELP;
		return UI_REDRAW;
	}
	if (strcmp(name, "prev") == 0) {
		u->view = (u->view + VIEW_HELP - 1) % VIEW_HELP;
		return UI_REDRAW;
	}
	for (int v = 0; v < N_VIEWS; v++)
		if (strcmp(name, ui_view_names[v]) == 0) {
			if (v == VIEW_HELP && u->view != VIEW_HELP)
				u->help_from = u->view;
			u->view = v;
			return UI_REDRAW;
		}
	ui_message(u, 1, "no view '%s': patch, connections, cost, log, browser, "
	    "scope, spectrum, help, next, prev",
	    name);
	return UI_REDRAW;
}

static int
run_help(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	/* help again goes back to the view it was opened from */
	if (u->view == VIEW_HELP) {
		u->view = u->help_from;
	} else {
		u->help_from = u->view;
		u->view = VIEW_HELP;
	}
	return UI_REDRAW;
}

/* search [TEXT]: find TEXT in the view; no TEXT opens the `/` line. */
static int
run_search(struct ui *u, int argc, const char *const *argv)
{
	char term[SEARCH_MAX] = "";
	if (argc < 2) {
		prompt_start(&u->prompt, "");
		u->mode = MODE_SEARCH;
		return UI_REDRAW;
	}
	for (int i = 1; i < argc; i++) {
		if (i > 1)
			strncat(term, " ", sizeof term - strlen(term) - 1);
		strncat(term, argv[i], sizeof term - strlen(term) - 1);
	}
	find_start(u, term);
	return find_run(u, 1);
}

static int
run_search_next(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	return find_run(u, 1);
}

static int
run_search_prev(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	return find_run(u, -1);
}

static int
run_prompt(struct ui *u, int argc, const char *const *argv)
{
	char text[PROMPT_MAX] = "";
	for (int i = 1; i < argc; i++) {
		strncat(text, argv[i], sizeof text - strlen(text) - 2);
		strcat(text, " ");
	}
	prompt_start(&u->prompt, text);
	u->mode = MODE_PROMPT;
	return UI_REDRAW;
}

static int
run_redraw(struct ui *u, int argc, const char *const *argv)
{
	(void)u, (void)argc, (void)argv;
	clearok(curscr, TRUE);
	return UI_REDRAW;
}

/* ---------------------------------------------------------------- playing */

static int
run_piano(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	u->mode = MODE_PIANO;
	ui_message(u, 0, "piano: z s x d c v ... and q 2 w 3 e ... play; Left/Right "
	    "octave, Up/Down velocity, Space panic, Esc leaves");
	return UI_REDRAW;
}

static int
run_panic(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	piano_clear(&u->piano);
	if (jackio_panic(session_jack(u->s)) != 0)
		ui_message(u, 1, "panic: the note queue is full, try again");
	else
		ui_message(u, 0, "panic: all sound off");
	return UI_REDRAW;
}

/* Clear the CLIP marks of the output meters (the counts in `stats` go on). */
static int
run_clear_clip(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	for (unsigned i = 0; i < UI_MAX_METERS; i++) {
		u->st.clip_cleared[i] = engine_output_changed(session_engine(u->s), i);
		u->st.clip[i] = 0;
	}
	ui_message(u, 0, "clip marks cleared");
	return UI_REDRAW;
}

static int
run_piano_hold(struct ui *u, int argc, const char *const *argv)
{
	double first, repeat;
	if (argc != 3 || sscanf(argv[1], "%lf", &first) != 1 ||
	    sscanf(argv[2], "%lf", &repeat) != 1 || !(first > 0.05 && first < 10) ||
	    !(repeat > 0.01 && repeat < 10)) {
		ui_message(u, 1, "usage: piano-hold FIRST REPEAT (seconds: how long a "
		    "press sounds, and each auto-repeat extends it)");
		return UI_REDRAW;
	}
	u->piano.first_hold = (uint64_t)(first * 1e9);
	u->piano.repeat_hold = (uint64_t)(repeat * 1e9);
	if (u->context == NULL)
		ui_message(u, 0, "a piano key now sounds %.2f s, each repeat extends it "
		    "by %.2f s", first, repeat);
	return UI_REDRAW;
}

/* A key in piano mode: notes, octave, velocity, panic, Esc. */
static int
piano_key(struct ui *u, int key)
{
	struct piano *pn = &u->piano;
	int note = piano_note_for_key(pn, key);
	if (note >= 0) {
		int r = piano_press(pn, note, futex_now_ns());
		/* a note the queue refused still ends in time: a stray note
		 * off is harmless */
		if (r > 0 && jackio_note_on(session_jack(u->s), (unsigned)note,
		    (unsigned)pn->velocity) != 0)
			ui_message(u, 1, "the note queue is full");
		return UI_REDRAW;
	}
	switch (key) {
	case UI_KEY_ESCAPE:
		u->mode = MODE_NORMAL;
		ui_message(u, 0, "piano off");
		return UI_REDRAW;
	case KEY_LEFT:
		pn->octave = pn->octave > -1 ? pn->octave - 1 : -1;
		return UI_REDRAW;
	case KEY_RIGHT:
		pn->octave = pn->octave < 8 ? pn->octave + 1 : 8;
		return UI_REDRAW;
	case KEY_UP:
		pn->velocity = pn->velocity + 10 > 127 ? 127 : pn->velocity + 10;
		return UI_REDRAW;
	case KEY_DOWN:
		pn->velocity = pn->velocity - 10 < 1 ? 1 : pn->velocity - 10;
		return UI_REDRAW;
	case ' ':
		return run_panic(u, 0, NULL);
	default:
		/* letters play here: other keys do nothing rather than surprise */
		ui_message(u, 0, "piano: the two letter rows play; Esc goes back to keys");
		return UI_REDRAW;
	}
}

/* ---------------------------------------------------------------- files */

static int
run_record(struct ui *u, int argc, const char *const *argv)
{
	struct recorder_status rs;
	char line[700];
	if (argc > 1) {
		snprintf(line, sizeof line, "record %s", argv[1]);
		return ui_apply(u, line, NULL);
	}
	recorder_status(session_recorder(u->s), &rs);
	return ui_apply(u, rs.recording ? "record stop" : "record", NULL);
}

/* :w [FILE] and :w! [FILE]: save through the session's `save`, which keeps
 * the file's layout and refuses what needs force. */
static int
write_patch(struct ui *u, int argc, const char *const *argv, int force)
{
	char line[700], reply[1600];
	const char *path = argc > 1 ? argv[1] : u->patch_file;
	if (path[0] == '\0') {
		ui_message(u, 1, "no file name: the built-in patch has none; :w FILE");
		return UI_REDRAW;
	}
	if (argc > 2) {
		ui_message(u, 1, "usage: w[!] [FILE] (a name with blanks: quote it)");
		return UI_REDRAW;
	}
	/* the rest of a save line is the file name: any name goes whole */
	size_t n = (size_t)snprintf(line, sizeof line, "save%s ", force ? "!" : "");
	for (const char *c = path; *c != '\0' && n + 1 < sizeof line; c++)
		line[n++] = *c;
	line[n] = '\0';
	if (session_exec(u->s, line, reply, sizeof reply) != 0) {
		ui_message(u, 1, "%s", strncmp(reply, "error: ", 7) == 0 ? reply + 7 :
		    reply);
		return UI_REDRAW;
	}
	if (path != u->patch_file)
		snprintf(u->patch_file, sizeof u->patch_file, "%s", path);
	session_set_origin(u->s, u->patch_file);
	ui_mark_clean(u);
	ui_message(u, 0, "wrote %s (%u modules, %u connections)",
	    strncmp(reply, "ok saved ", 9) == 0 ? reply + 9 : reply,
	    session_patch(u->s)->n_modules, session_patch(u->s)->n_connections);
	return UI_REDRAW;
}

static int
run_write(struct ui *u, int argc, const char *const *argv)
{
	return write_patch(u, argc, argv, 0);
}

static int
run_write_force(struct ui *u, int argc, const char *const *argv)
{
	return write_patch(u, argc, argv, 1);
}

int
ui_load_file(struct ui *u, const char *path, const struct patch *before)
{
	struct patch_error err = { 0 };
	char msg[600];
	const char *argv[] = { "edit", path };
	char *text = NULL;
	*u->scratch = *before;
	if (cmd_read_file(argv[1], PATCHFILE_TEXT_MAX, &text, &err) != 0 ||
	    patch_load_text(u->scratch, text, argv[1], &err) != 0) {
		free(text);
		patch_error_format(&err, msg, sizeof msg);
		ui_message(u, 1, "%s; the patch playing is unchanged", msg);
		return UI_REDRAW;
	}
	undo_push(&u->undo, before, u->patch_file);
	session_set_origin(u->s, argv[1]);
	replace_patch(u, u->scratch);
	snprintf(u->patch_file, sizeof u->patch_file, "%s", argv[1]);
	adopt_file(u, argv[1], text);
	free(text);
	ui_mark_clean(u);
	u->sel_module = u->sel_param = u->sel_conn = 0;
	u->focus_params = 0;
	ui_clamp_selection(u);
	ui_message(u, 0, "loaded %s (u undoes)", argv[1]);
	return UI_REDRAW;
}

/* e FILE: load a patch in place of this one; refused, as q is, while
 * there are unsaved changes.  `anyway` (e!) loads over them: u undoes,
 * and the autosave keeps them. */
static int
load_patch(struct ui *u, int argc, const char *const *argv, int anyway)
{
	if (argc != 2) {
		ui_message(u, 1, "usage: %s FILE (load a patch, replacing this one)",
		    anyway ? "e!" : "e");
		return UI_REDRAW;
	}
	if (u->modified && !anyway) {
		ui_message(u, 1, "unsaved changes [+]: :w writes them, :e! %s loads it "
		    "anyway (u undoes; the autosave keeps them)", argv[1]);
		return UI_REDRAW;
	}
	return ui_load_file(u, argv[1], session_patch(u->s));
}

static int
run_load(struct ui *u, int argc, const char *const *argv)
{
	return load_patch(u, argc, argv, 0);
}

static int
run_load_anyway(struct ui *u, int argc, const char *const *argv)
{
	return load_patch(u, argc, argv, 1);
}

/* Open the patch browser (the view; ui/browser.c does the rest). */
static int
run_browse(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	u->view = VIEW_BROWSER;
	return UI_REDRAW;
}

/* mouse [on|off]: clicks and the wheel, or the terminal's own selection. */
static int
run_mouse(struct ui *u, int argc, const char *const *argv)
{
	int on = argc < 2 ? !u->mouse : strcmp(argv[1], "on") == 0 ? 1 :
	    strcmp(argv[1], "off") == 0 ? 0 : -1;
	if (on < 0 || argc > 2) {
		ui_message(u, 1, "usage: mouse [on|off] (no argument: switch)");
		return UI_REDRAW;
	}
	mouse_enable(u, on);
	if (u->context == NULL)
		ui_message(u, 0, "%s", on ? "mouse on: click selects, the wheel turns a "
		    "parameter (Shift-drag selects text in most terminals)" :
		    "mouse off: the terminal selects text again");
	return UI_REDRAW;
}

/* Leave now; the session autosaves the patch on the way out. */
static int
quit_now(struct ui *u)
{
	session_quit(u->s, "quit");
	return UI_QUIT;
}

/* q: leave, unless the patch has changes not written to its file. */
static int
run_quit(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	if (!u->modified)
		return quit_now(u);
	ui_message(u, 1, "unsaved changes [+]: :w writes them, :wq writes and quits "
	    "(ZZ too), :q! quits anyway (the autosave keeps them)");
	return UI_REDRAW;
}

/* q!: leave even with unsaved changes; they stay in the autosave. */
static int
run_quit_anyway(struct ui *u, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	return quit_now(u);
}

/* wq [FILE]: write the patch, then leave if that worked.  `only_changed`
 * (ZZ, :x) writes only when there is something to write. */
static int
write_and_quit(struct ui *u, int argc, const char *const *argv, int only_changed)
{
	if (only_changed && !u->modified && argc < 2)
		return quit_now(u);
	if (argc < 2 && u->patch_file[0] == '\0') {
		ui_message(u, 1, "no file name: the built-in patch has none; :wq FILE "
		    "writes it there and quits, :q! quits (the autosave keeps it)");
		return UI_REDRAW;
	}
	int flags = ui_execute_command(u, "write", argc, argv);
	return u->modified ? flags : quit_now(u);
}

static int
run_write_quit(struct ui *u, int argc, const char *const *argv)
{
	return write_and_quit(u, argc, argv, 0);
}

static int
run_exit(struct ui *u, int argc, const char *const *argv)
{
	return write_and_quit(u, argc, argv, 1);
}

/* Commands the session runs besides the patch language's. */
static const char *const session_commands[] = {
	"note", "record", "save", "save!", "stats", "probe", NULL
};

int
ui_command_known(const char *name)
{
	for (const struct ui_command *c = ui_commands; c->name != NULL; c++)
		if (strcmp(name, c->name) == 0 ||
		    (c->alias != NULL && strcmp(name, c->alias) == 0))
			return 1;
	for (unsigned i = 0; session_commands[i] != NULL; i++)
		if (strcmp(name, session_commands[i]) == 0)
			return 1;
	return cmd_find(name) != NULL;
}

static int
run_bind(struct ui *u, int argc, const char *const *argv)
{
	char command[KEY_COMMAND_MAX] = "";
	int key = argc > 1 ? key_parse(argv[1]) : -1;
	if (argc < 3 || key < 0) {
		ui_message(u, 1, "usage: bind KEY COMMAND (KEY: a, C-r, Enter, Up, "
		    "PageDown, F5 ...)%s%s", argc > 1 ? "; unknown key " : "",
		    argc > 1 ? argv[1] : "");
		return UI_REDRAW;
	}
	for (int i = 2; i < argc; i++) {
		if (i > 2)
			strncat(command, " ", sizeof command - strlen(command) - 1);
		strncat(command, argv[i], sizeof command - strlen(command) - 1);
	}
	/* a command that cannot run is refused now, not when the key is
	 * pressed some time later */
	if (!ui_command_known(argv[2])) {
		ui_message(u, 1, "bind: no command '%s' (%s stays %s); : then Tab "
		    "lists the commands", argv[2], argv[1],
		    keymap_lookup(&u->keys, key) ? "as it was" : "unbound");
		return UI_REDRAW;
	}
	if (keymap_bind(&u->keys, key, command) != 0)
		ui_message(u, 1, "bind: too many bindings or too long a command");
	return UI_HANDLED;
}

static int
run_unbind(struct ui *u, int argc, const char *const *argv)
{
	int key = argc == 2 ? key_parse(argv[1]) : -1;
	if (key < 0) {
		ui_message(u, 1, "usage: unbind KEY");
		return UI_REDRAW;
	}
	keymap_bind(&u->keys, key, "");
	return UI_HANDLED;
}

const struct ui_command ui_commands[] = {
	{ "down", NULL, "[N]", "move down the list", run_down },
	{ "up", NULL, "[N]", "move up the list", run_up },
	{ "top", NULL, "", "go to the first row", run_top },
	{ "bottom", NULL, "", "go to the last row", run_bottom },
	{ "left", NULL, "", "back to the module list", run_left },
	{ "right", NULL, "", "into the selected module's parameters", run_right },
	{ "enter", NULL, "", "open a module; type a parameter's value", run_enter },
	{ "value", NULL, "STEPS", "step the selected parameter (1 fine, 10 coarse; "
	    "negative: down)", run_value },
	{ "input-value", NULL, "", "type an exact value for the selected parameter",
	    run_input_value },
	{ "learn", NULL, "", "MIDI learn: the next controller moved is mapped "
	    "onto the selected parameter (Esc cancels)", run_learn },
	{ "add", NULL, "", "add a module: pick a type and a scope", run_add },
	{ "remove", NULL, "", "remove the selected module (or connection)", run_remove },
	{ "connect-pick", NULL, "", "connect: pick an output, then an input",
	    run_connect },
	{ "disconnect-pick", NULL, "", "pick a connection to remove", run_disconnect },
	{ "undo", NULL, "", "undo the last change", run_undo },
	{ "redo", NULL, "", "redo what was undone", run_redo },
	{ "view", NULL, "NAME", "show patch, connections, cost, log, browser, scope, "
	    "spectrum, help; next, prev", run_view },
	{ "help", NULL, "", "the help screen (again: back)", run_help },
	{ "prompt", NULL, "[TEXT]", "open the : prompt, with TEXT typed", run_prompt },
	{ "search", NULL, "[TEXT]", "find TEXT in the help, the log or the module "
	    "list (no TEXT: type it after /)", run_search },
	{ "search-next", NULL, "", "the next match of the search, round the end",
	    run_search_next },
	{ "search-prev", NULL, "", "the previous match of the search",
	    run_search_prev },
	{ "redraw", NULL, "", "redraw the screen", run_redraw },
	{ "piano", NULL, "", "play the computer keyboard (Esc leaves)", run_piano },
	{ "panic", NULL, "", "all notes off, all sound off", run_panic },
	{ "piano-hold", NULL, "FIRST REPEAT", "seconds a key press sounds, and each "
	    "auto-repeat extends it", run_piano_hold },
	{ "record", NULL, "[FILE|stop|status]", "start or stop recording (no argument: "
	    "toggle)", run_record },
	{ "write", "w", "[FILE]", "save the patch to its file, or FILE (new, or "
	    "its own), keeping the file's comments and layout", run_write },
	{ "write!", "w!", "[FILE]", "save, replacing a file that is not the patch's "
	    "own or that changed on disk", run_write_force },
	{ "edit", "e", "FILE", "load a patch, replacing this one, click-free; "
	    "refused while there are unsaved changes [+]", run_load },
	{ "edit!", "e!", "FILE", "load a patch even with unsaved changes (u undoes; "
	    "the autosave keeps them)", run_load_anyway },
	{ "browse", NULL, "", "the patch browser: j/k audition, Enter keeps, Esc "
	    "goes back", run_browse },
	{ "mouse", NULL, "[on|off]", "clicks select, the wheel turns a parameter; "
	    "off: the terminal selects text", run_mouse },
	{ "quit", "q", "", "leave; refused while there are unsaved changes [+]",
	    run_quit },
	{ "quit!", "q!", "", "leave even with unsaved changes (the autosave keeps "
	    "them)", run_quit_anyway },
	{ "wq", NULL, "[FILE]", "write the patch (to its file, or FILE) and leave",
	    run_write_quit },
	{ "xit", "x", "[FILE]", "write the patch if it changed, and leave (ZZ)",
	    run_exit },
	{ "bind", NULL, "KEY COMMAND", "bind a key to a command", run_bind },
	{ "unbind", NULL, "KEY", "remove a key's binding", run_unbind },
	{ "clear-clip", NULL, "", "clear the CLIP marks of the output meters",
	    run_clear_clip },
	{ "scope-input", NULL, "[out.N|probe|next]", "what the scope and spectrum "
	    "show (no argument: the next)", scopeview_run_source },
	{ "trigger", NULL, "[rise|level L|free|next]", "the scope's trigger: rising "
	    "zero crossing, rising through L, or free run", scopeview_run_trigger },
	{ "scope-zoom", NULL, "in|out|FRAMES", "the scope's time scale: frames per "
	    "column (1 to 128)", scopeview_run_zoom },
	{ "peak-clear", NULL, "", "clear the spectrum's peak hold",
	    scopeview_run_peak_clear },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const char *const view_words[] = {
	"patch", "connections", "cost", "log", "browser", "scope", "spectrum", "help",
	"next", "prev", NULL
};
static const char *const source_words[] = {
	"out.1", "out.2", "probe", "next", NULL
};
static const char *const trigger_words[] = { "rise", "level", "free", "next", NULL };
static const char *const zoom_words[] = { "in", "out", NULL };
static const char *const record_words[] = { "stop", "status", NULL };
static const char *const note_words[] = { NULL };
static const char *const mouse_words[] = { "on", "off", NULL };

const struct complete_command ui_complete_commands[] = {
	{ "down", 0, NULL }, { "up", 0, NULL }, { "top", 0, NULL },
	{ "bottom", 0, NULL }, { "left", 0, NULL }, { "right", 0, NULL },
	{ "enter", 0, NULL }, { "value", 0, NULL }, { "input-value", 0, NULL },
	{ "add", 0, NULL }, { "connect-pick", 0, NULL }, { "learn", 0, NULL },
	{ "disconnect-pick", 0, NULL }, { "undo", 0, NULL }, { "redo", 0, NULL },
	{ "view", 0, view_words }, { "help", 0, NULL }, { "prompt", 0, NULL },
	{ "search", 0, NULL }, { "search-next", 0, NULL }, { "search-prev", 0, NULL },
	{ "redraw", 0, NULL }, { "piano", 0, NULL }, { "panic", 0, NULL },
	{ "piano-hold", 0, NULL }, { "record", 1, record_words },
	{ "write", 1, NULL }, { "w", 1, NULL }, { "write!", 1, NULL },
	{ "w!", 1, NULL }, { "edit", 1, NULL },
	{ "e", 1, NULL }, { "edit!", 1, NULL }, { "e!", 1, NULL }, { "quit", 0, NULL }, { "q", 0, NULL },
	{ "quit!", 0, NULL }, { "q!", 0, NULL }, { "wq", 1, NULL },
	{ "xit", 1, NULL }, { "x", 1, NULL },
	{ "bind", 0, NULL }, { "unbind", 0, NULL }, { "note", 0, note_words },
	{ "stats", 0, NULL }, { "clear-clip", 0, NULL },
	{ "browse", 0, NULL }, { "mouse", 0, mouse_words },
	{ "scope-input", 0, source_words }, { "trigger", 0, trigger_words },
	{ "scope-zoom", 0, zoom_words }, { "peak-clear", 0, NULL },
	{ "probe", 0, NULL },
	{ NULL, 0, NULL }
};

int
ui_execute_command(struct ui *u, const char *name, int argc,
    const char *const *argv)
{
	for (const struct ui_command *c = ui_commands; c->name != NULL; c++)
		if (strcmp(name, c->name) == 0)
			return c->run(u, argc, argv);
	return UI_HANDLED;
}

int
ui_execute(struct ui *u, const char *line)
{
	struct cmd_tokens t;
	struct patch_error err = { 0 };
	if (cmd_tokenize(line, &t, &err) != 0) {
		ui_message(u, 1, "column %u: %s", err.column, err.message);
		return UI_REDRAW;
	}
	if (t.n == 0)
		return UI_HANDLED;
	/* while the browser auditions, nothing edits or saves that patch */
	if (!browser_allows(u, t.argv[0]))
		return UI_REDRAW;
	for (const struct ui_command *c = ui_commands; c->name != NULL; c++)
		if (strcmp(t.argv[0], c->name) == 0 ||
		    (c->alias != NULL && strcmp(t.argv[0], c->alias) == 0))
			return c->run(u, (int)t.n, t.argv);
	return ui_apply(u, line, NULL);
}

int
ui_key(struct ui *u, int key)
{
	char name[32];
	switch (u->mode) {
	case MODE_PROMPT:
		switch (prompt_key(&u->prompt, key)) {
		case PROMPT_DONE:
			u->mode = MODE_NORMAL;
			return ui_execute(u, u->prompt.buf) | UI_REDRAW;
		case PROMPT_CANCEL:
			u->mode = MODE_NORMAL;
			return UI_REDRAW;
		case PROMPT_COMPLETE: {
			struct completion *c = u->completion;
			complete_line(session_patch(u->s), u->prompt.buf, u->prompt.cursor,
			    ui_complete_commands, c);
			prompt_complete(&u->prompt, c);
			if (c->n == 0) {
				ui_message(u, 0, "no completion");
			} else if (c->n > 1) {
				char list[UI_MESSAGE_MAX] = "";
				for (unsigned i = 0; i < c->n && strlen(list) + 2 < sizeof list; i++) {
					strncat(list, c->items[i], sizeof list - strlen(list) - 1);
					strncat(list, "  ", sizeof list - strlen(list) - 1);
				}
				ui_message(u, 0, "%s", list);
			}
			return UI_REDRAW;
		}
		default:
			return UI_REDRAW;
		}
	case MODE_SEARCH:
		switch (prompt_key(&u->prompt, key)) {
		case PROMPT_DONE:
			u->mode = MODE_NORMAL;
			if (u->prompt.buf[0] == '\0')
				return find_run(u, 1);     /* vim: / Enter repeats */
			find_start(u, u->prompt.buf);
			return find_run(u, 1);
		case PROMPT_CANCEL:
			u->mode = MODE_NORMAL;
			return UI_REDRAW;
		default:
			return UI_REDRAW;         /* Tab: nothing to complete */
		}
	default:
		break;
	}
	/* the bytes of a non-ASCII character: one message for the character
	 * (its first byte), nothing for the rest */
	if (key >= 0x80 && key <= 0xff) {
		if (key >= 0xc0)
			ui_message(u, 1, "a non-ASCII key does nothing here: names and "
			    "keys are ASCII (text with other characters goes in at the : "
			    "prompt, in comments and file names)");
		return UI_REDRAW;
	}
	switch (u->mode) {
	case MODE_PICK:
		return pick_key(u, key);
	case MODE_PIANO:
		return piano_key(u, key);
	default:
		break;
	}
	/* Esc ends a MIDI learn that waits */
	if (key == UI_KEY_ESCAPE && session_learn_cancel(u->s)) {
		ui_message(u, 0, "MIDI learn cancelled: nothing mapped");
		return UI_REDRAW;
	}
	/* the browser: Esc goes back to what played before it */
	if (key == UI_KEY_ESCAPE && u->view == VIEW_BROWSER)
		return browser_back(u);
	/* vim's ZZ (write if changed, quit) and ZQ (quit anyway), unless the
	 * user bound Z to something else */
	int z_pending = u->z_pending;
	u->z_pending = 0;
	if (z_pending && key == 'Z')
		return ui_execute(u, "xit");
	if (z_pending && key == 'Q')
		return ui_execute(u, "quit!");
	if (key == 'Z' && keymap_lookup(&u->keys, key) == NULL) {
		u->z_pending = 1;
		ui_message(u, 0, "Z: Z again writes (if changed) and quits, Q quits "
		    "without writing");
		return UI_REDRAW;
	}
	const char *command = keymap_lookup(&u->keys, key);
	/* Esc in normal mode has nothing to leave: it does nothing, silently
	 * (unless the user bound it) */
	if (command == NULL && key == UI_KEY_ESCAPE)
		return UI_HANDLED;
	if (command == NULL) {
		key_describe(key, name, sizeof name);
		ui_message(u, 1, "%s is not bound to anything (? for help)", name);
		return UI_REDRAW;
	}
	return ui_execute(u, command);
}
