/*
 * ui/find.c — `/`, `n` and `N` in the views that hold text: the help,
 * the log and the module list.  A search moves the view to the next (or
 * previous) line holding the term, says plainly when there is none, and
 * notes when it went round an end; ui/view.c highlights the term.
 */
#include <stdio.h>
#include <string.h>

#include "search.h"
#include "ui_internal.h"

#define HELP_LINES_MAX 256

/* The lines of the view being searched. */
struct find_list {
	struct ui *u;
	enum ui_view view;
	char (*help)[160];         /* the help's lines */
	unsigned first_log;        /* log: index of the oldest line kept */
};

static int
find_has(void *ctx, int i)
{
	struct find_list *l = ctx;
	struct ui *u = l->u;
	switch (l->view) {
	case VIEW_HELP:
		return search_in(l->help[i], u->search) != NULL;
	case VIEW_LOG:
		return search_in(u->log[(l->first_log + (unsigned)i) % UI_LOG_LINES],
		    u->search) != NULL;
	default: {
		const struct patch_module *pm = &session_patch(u->s)->modules[i];
		return search_in(pm->name, u->search) != NULL ||
		    search_in(pm->type->name, u->search) != NULL;
	}
	}
}

/* What a view is called in a message. */
static const char *
view_word(enum ui_view v)
{
	return v == VIEW_HELP ? "the help" : v == VIEW_LOG ? "the log" :
	    "the module list";
}

int
find_run(struct ui *u, int dir)
{
	static char help[HELP_LINES_MAX][160];
	struct find_list l = { .u = u, .view = u->view, .help = help };
	int n, from;

	if (u->search[0] == '\0') {
		ui_message(u, 1, "no search yet: / and a word searches the help, "
		    "the log and the module list");
		return UI_REDRAW;
	}
	switch (u->view) {
	case VIEW_HELP:
		n = (int)view_help_lines(u, help, HELP_LINES_MAX);
		/* from the match shown, else from above the first row shown */
		from = u->search_at >= 0 && u->search_at < n ? u->search_at :
		    dir > 0 ? u->scroll[VIEW_HELP] - 1 : u->scroll[VIEW_HELP];
		break;
	case VIEW_LOG: {
		unsigned have = u->log_n < UI_LOG_LINES ? u->log_n : UI_LOG_LINES;
		n = (int)have;
		l.first_log = u->log_n - have;
		/* from the line at the bottom of the screen */
		from = n - 1 - u->scroll[VIEW_LOG];
		break;
	}
	case VIEW_PATCH:
		n = (int)session_patch(u->s)->n_modules;
		from = u->sel_module;
		break;
	default:
		ui_message(u, 1, "search works in the help (?), the log (4) and the "
		    "module list (1); not in this view");
		return UI_REDRAW;
	}
	int wrapped = 0;
	int at = search_step(n, from, dir, find_has, &l, &wrapped);
	if (at < 0) {
		ui_message(u, 1, "not found: '%s' is nowhere in %s", u->search,
		    view_word(u->view));
		return UI_REDRAW;
	}
	switch (u->view) {
	case VIEW_HELP:
		u->search_at = at;
		/* the match near the top, a line of context above it */
		u->scroll[VIEW_HELP] = at > 0 ? at - 1 : 0;
		break;
	case VIEW_LOG:
		u->scroll[VIEW_LOG] = n - 1 - at;
		break;
	default:
		u->sel_module = at;
		u->focus_params = 0;
		u->scroll_params = 0;
		u->sel_param = 0;
		break;
	}
	if (wrapped)
		ui_message(u, 0, "/%s: %s, went on from the %s", u->search,
		    dir > 0 ? "passed the end" : "passed the top",
		    dir > 0 ? "top" : "end");
	else
		ui_message(u, 0, "/%s", u->search);
	return UI_REDRAW;
}

void
find_start(struct ui *u, const char *term)
{
	snprintf(u->search, sizeof u->search, "%s", term);
	/* a new term starts from where the view is, not the last match */
	u->search_at = -1;
}
