/*
 * ui/mouse.c — the mouse, where the terminal reports it: a click selects
 * what it lands on (a view's name on the tab line, a module, a parameter,
 * a connection, a patch in the browser), the wheel turns the parameter
 * under the pointer (or the selected one) by its fine step and scrolls
 * lists.  Reports arrive either decoded by ncurses (KEY_MOUSE) or as the
 * xterm SGR sequence ESC [ < BUTTON ; COLUMN ; ROW M|m read key by key;
 * where they land comes from the places the last drawing noted (hits).
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "browser.h"
#include "ui_internal.h"

enum mouse_button {
	MOUSE_LEFT,
	MOUSE_WHEEL_UP,
	MOUSE_WHEEL_DOWN,
	MOUSE_OTHER
};

/* What the last drawing put at row y, column x, or NULL. */
static const struct hit *
hit_at(const struct ui *u, int y, int x)
{
	/* later drawings lie over earlier ones */
	for (unsigned i = u->n_hits; i-- > 0;) {
		const struct hit *h = &u->hits[i];
		if (h->y == y && x >= h->x0 && x < h->x1)
			return h;
	}
	return NULL;
}

/* The wheel over the parameter list or with a parameter selected: step
 * it as + and - do; elsewhere: move through the view's list. */
static int
wheel(struct ui *u, const struct hit *h, int up)
{
	if (h != NULL && h->kind == HIT_PARAM) {
		u->focus_params = 1;
		u->sel_param = h->index;
		return ui_execute(u, up ? "value 1" : "value -1");
	}
	if (u->view == VIEW_PATCH && u->focus_params &&
	    (h == NULL || h->kind != HIT_MODULE))
		return ui_execute(u, up ? "value 1" : "value -1");
	if (u->view == VIEW_PATCH && h != NULL && h->kind == HIT_MODULE)
		u->focus_params = 0;
	return ui_execute(u, up ? "up" : "down");
}

/* A press of the left button on h. */
static int
click(struct ui *u, const struct hit *h)
{
	char line[64];
	if (h == NULL)
		return UI_HANDLED;
	switch (h->kind) {
	case HIT_VIEW:
		snprintf(line, sizeof line, "view %s", ui_view_names[h->index]);
		return ui_execute(u, line);
	case HIT_MODULE:
		u->sel_module = h->index;
		u->sel_param = 0;
		u->focus_params = 0;
		ui_clamp_selection(u);
		return UI_REDRAW;
	case HIT_PARAM:
		u->sel_param = h->index;
		u->focus_params = 1;
		ui_clamp_selection(u);
		return UI_REDRAW;
	case HIT_CONNECTION:
		u->sel_conn = h->index;
		ui_clamp_selection(u);
		return UI_REDRAW;
	case HIT_PATCHFILE:
		return browser_select(u, h->index);
	}
	return UI_HANDLED;
}

/* Act on a report at screen row y, column x (0-based). */
static int
mouse_event(struct ui *u, enum mouse_button b, int y, int x)
{
	/* a prompt or a pick list has the keys: clicks do not reach behind */
	if (!u->mouse || (u->mode != MODE_NORMAL && u->mode != MODE_PIANO))
		return UI_HANDLED;
	/* a report from beyond the screen (a stale size, a lying terminal) */
	if (y < 0 || y >= LINES || x < 0 || x >= COLS)
		return UI_HANDLED;
	const struct hit *h = hit_at(u, y, x);
	switch (b) {
	case MOUSE_LEFT:
		return click(u, h);
	case MOUSE_WHEEL_UP:
	case MOUSE_WHEEL_DOWN:
		return wheel(u, h, b == MOUSE_WHEEL_UP);
	default:
		return UI_HANDLED;
	}
}

int
mouse_key(struct ui *u)
{
	MEVENT ev;
	if (getmouse(&ev) != OK)
		return UI_HANDLED;
	enum mouse_button b = MOUSE_OTHER;
	if (ev.bstate & BUTTON4_PRESSED)
		b = MOUSE_WHEEL_UP;
#ifdef BUTTON5_PRESSED
	else if (ev.bstate & BUTTON5_PRESSED)
		b = MOUSE_WHEEL_DOWN;
#endif
	else if (ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED))
		b = MOUSE_LEFT;
	return mouse_event(u, b, ev.y, ev.x);
}

/* The next key of a report, waiting a little for one that is late. */
static int
next_key(void)
{
	timeout(30);
	int k = getch();
	nodelay(stdscr, TRUE);
	return k;
}

int
mouse_sgr(struct ui *u)
{
	int first = next_key(), second = ERR;
	long field[3] = { 0, 0, 0 };
	int f = 0, digits = 0, valid = 1, release = 0, k = ERR;

	/* ESC was read; a report goes on with [ < */
	if (first == '[')
		second = next_key();
	if (first != '[' || second != '<') {
		/* not a report: the keys are read again as keys */
		if (second != ERR)
			ungetch(second);
		if (first != ERR)
			ungetch(first);
		return -1;
	}
	/* BUTTON ; COLUMN ; ROW, then M or m; a report cut short or absurd
	 * is read to its end and dropped, never taken for keys */
	for (int n = 0; n < 64; n++) {
		k = next_key();
		if (k >= '0' && k <= '9') {
			if (++digits > 5)
				valid = 0;
			else
				field[f] = field[f] * 10 + (k - '0');
		} else if (k == ';') {
			if (digits == 0 || f == 2)
				valid = 0;
			else
				f++;
			digits = 0;
		} else {
			break;
		}
	}
	if (k != 'M' && k != 'm') {
		if (k != ERR)
			ungetch(k);    /* a key after a cut-short report */
		return UI_HANDLED;
	}
	if (!valid || f != 2 || digits == 0)
		return UI_HANDLED;
	release = k == 'm';
	if (release || field[1] < 1 || field[2] < 1)
		return UI_HANDLED;
	long button = field[0];
	enum mouse_button b = MOUSE_OTHER;
	if (button & 32)
		b = MOUSE_OTHER;                   /* motion */
	else if ((button & 64) && (button & 3) == 0)
		b = MOUSE_WHEEL_UP;
	else if ((button & 64) && (button & 3) == 1)
		b = MOUSE_WHEEL_DOWN;
	else if ((button & (64 | 128 | 3)) == 0)
		b = MOUSE_LEFT;
	return mouse_event(u, b, (int)field[2] - 1, (int)field[1] - 1);
}
