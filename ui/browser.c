/*
 * ui/browser.c — the patch browser (ui/browser.h): lists the patch files
 * of the user's folder and the examples with their first comment lines,
 * auditions the highlighted one through the same click-free replacement a
 * load uses, and puts back exactly what played (unsaved edits, selection,
 * view) on Esc.  While a patch is auditioned the autosave keeps writing the
 * user's patch (session_autosave_hold), and nothing may edit or save the
 * patch playing: it is not the user's until Enter keeps it.
 */
#define _GNU_SOURCE
#include <curses.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "browser.h"
#include "log.h"
#include "patchfile.h"
#include "ui_internal.h"

#define BROWSER_MAX 256            /* patch files listed, at most */

struct browser_entry {
	char path[BROWSER_PATH_MAX];
	char name[96];             /* shown: the path inside its folder */
	unsigned dir;              /* index into dirs[] */
	char comment[200];         /* the first comment line, or "" */
	char error[400];           /* why it does not load, or "" */
};

struct browser {
	char dirs[BROWSER_DIRS_MAX][BROWSER_PATH_MAX];
	unsigned n_dirs;
	struct browser_entry *entries;     /* [BROWSER_MAX] */
	unsigned n, left_out;              /* listed, and those past the limit */
	int open;                          /* the view is showing it */
	int sel, scroll;
	int playing;                       /* the entry auditioned, -1: none */
	struct patch *saved;               /* what played when it opened */
	enum ui_view back_view;
	int sel_module, sel_param, sel_conn, focus_params, scroll_params;
	int keep_confirm;                  /* Enter was refused for unsaved work */
};

unsigned
browser_dirs(char dirs[][BROWSER_PATH_MAX], unsigned max)
{
	char cand[BROWSER_DIRS_MAX][BROWSER_PATH_MAX];
	unsigned nc = 0, n = 0;
	const char *data = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	if (data != NULL && data[0] == '/')
		snprintf(cand[nc++], BROWSER_PATH_MAX, "%s/forksynth/patches", data);
	else if (home != NULL && home[0] == '/')
		snprintf(cand[nc++], BROWSER_PATH_MAX, "%s/.local/share/forksynth/patches",
		    home);
	snprintf(cand[nc++], BROWSER_PATH_MAX, "%s", FORKSYNTH_PATCHES_DIR);
	/* run from the build tree (not installed): its source's examples */
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	size_t blen = strlen(FORKSYNTH_BUILDDIR);
	if (len > 0) {
		exe[len] = '\0';
		if (strncmp(exe, FORKSYNTH_BUILDDIR, blen) == 0 && exe[blen] == '/')
			snprintf(cand[nc++], BROWSER_PATH_MAX, "%s", FORKSYNTH_SOURCE_PATCHES);
	}
	for (unsigned i = 0; i < nc && n < max; i++) {
		char a[PATH_MAX], b[PATH_MAX];
		int same = 0;
		for (unsigned k = 0; k < n && !same; k++)
			same = strcmp(dirs[k], cand[i]) == 0 ||
			    (realpath(dirs[k], a) != NULL && realpath(cand[i], b) != NULL &&
			    strcmp(a, b) == 0);
		if (!same)
			snprintf(dirs[n++], BROWSER_PATH_MAX, "%.*s", BROWSER_PATH_MAX - 1,
			    cand[i]);
	}
	return n;
}

/* Read a patch file whole: a regular file only (a FIFO or a device in
 * the folder must not hang the screen), at most PATCHFILE_TEXT_MAX bytes,
 * no NUL.  0, or -1 with why in err. */
static int
read_patch_file(const char *path, char **text, char *err, size_t size)
{
	struct stat st;
	*text = NULL;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, size, "cannot open it: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, size, "not a regular file");
		close(fd);
		return -1;
	}
	if (st.st_size > PATCHFILE_TEXT_MAX) {
		snprintf(err, size, "larger than %d bytes", PATCHFILE_TEXT_MAX);
		close(fd);
		return -1;
	}
	char *buf = xmalloc((size_t)st.st_size + 1);
	size_t len = 0;
	ssize_t r;
	while (len < (size_t)st.st_size &&
	    (r = read(fd, buf + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, size, "a binary file (it holds a NUL byte)");
		free(buf);
		return -1;
	}
	*text = buf;
	return 0;
}

/* The first comment line of a patch text, without its '#' and, when it
 * starts with the file's own name ("pad.fsp — a pad"), without that. */
static void
first_comment(const char *text, const char *base, char *buf, size_t size)
{
	buf[0] = '\0';
	while (*text != '\0') {
		size_t len = strcspn(text, "\n");
		const char *p = text + strspn(text, " \t");
		const char *end = text + len;
		text = *end == '\n' ? end + 1 : end;
		if (p >= end)
			continue;
		if (*p != '#')
			return;        /* commands before any comment: none */
		while (p < end && (*p == '#' || *p == ' ' || *p == '\t'))
			p++;
		if (p >= end)
			continue;
		size_t blen = strlen(base);
		if ((size_t)(end - p) > blen && strncmp(p, base, blen) == 0) {
			const char *q = p + blen;
			q += strspn(q, " \t");
			if (strncmp(q, "\xe2\x80\x94", 3) == 0)      /* an em dash */
				q += 3;
			else if (*q == '-' || *q == ':')
				q++;
			q += strspn(q, " \t");
			if (q < end && q != p + blen)
				p = q;
		}
		snprintf(buf, size, "%.*s", (int)(end - p), p);
		return;
	}
}

/* Load the text of entry e into u->scratch (the session's channel
 * counts); on failure its error is set.  0 or -1. */
static int
load_entry(struct ui *u, struct browser_entry *e)
{
	struct patch_error err = { 0 };
	char *text;
	*u->scratch = *session_patch(u->s);
	if (read_patch_file(e->path, &text, e->error, sizeof e->error) != 0)
		return -1;
	const char *base = strrchr(e->path, '/') ? strrchr(e->path, '/') + 1 : e->path;
	first_comment(text, base, e->comment, sizeof e->comment);
	int rc = patch_load_text(u->scratch, text, e->path, &err);
	free(text);
	if (rc != 0) {
		/* the file is named on its row already: line, column, why */
		if (err.line > 0)
			snprintf(e->error, sizeof e->error, "line %u, column %u: %.300s",
			    err.line, err.column, err.message);
		else
			snprintf(e->error, sizeof e->error, "%.300s", err.message);
		return -1;
	}
	e->error[0] = '\0';
	return 0;
}

static int
compare_entries(const void *a, const void *b)
{
	const struct browser_entry *x = a, *y = b;
	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Add the *.fsp files of dirs[d] (and of its folders one level down, like
 * with-ir/) to the list. */
static void
scan_dir(struct ui *u, unsigned d, const char *dir, const char *prefix, int depth)
{
	struct browser *b = u->browser;
	DIR *dp = opendir(dir);
	struct dirent *de;
	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		const char *nm = de->d_name;
		size_t len = strlen(nm);
		char path[BROWSER_PATH_MAX * 2];
		struct stat st;
		if (nm[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, nm);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth == 0) {
			char sub[96];
			snprintf(sub, sizeof sub, "%s/", nm);
			scan_dir(u, d, path, sub, 1);
			continue;
		}
		if (len < 5 || strcmp(nm + len - 4, ".fsp") != 0 || !S_ISREG(st.st_mode))
			continue;
		if (b->n == BROWSER_MAX || strlen(path) >= BROWSER_PATH_MAX) {
			b->left_out++;
			continue;
		}
		struct browser_entry *e = &b->entries[b->n++];
		memset(e, 0, sizeof *e);
		snprintf(e->path, sizeof e->path, "%s", path);
		snprintf(e->name, sizeof e->name, "%s%s", prefix, nm);
		e->dir = d;
		load_entry(u, e);
	}
	closedir(dp);
}

int
browser_open(struct ui *u, enum ui_view from)
{
	if (u->browser == NULL) {
		u->browser = xcalloc(1, sizeof *u->browser);
		u->browser->entries = xcalloc(BROWSER_MAX, sizeof *u->browser->entries);
		u->browser->saved = xmalloc(sizeof *u->browser->saved);
	}
	struct browser *b = u->browser;
	if (b->open)
		return UI_REDRAW;
	char highlighted[BROWSER_PATH_MAX];
	snprintf(highlighted, sizeof highlighted, "%s",
	    b->n > 0 && b->sel < (int)b->n ? b->entries[b->sel].path : "");
	b->n = b->left_out = 0;
	b->n_dirs = browser_dirs(b->dirs, BROWSER_DIRS_MAX);
	for (unsigned d = 0; d < b->n_dirs; d++) {
		unsigned first = b->n;
		scan_dir(u, d, b->dirs[d], "", 0);
		qsort(b->entries + first, b->n - first, sizeof b->entries[0],
		    compare_entries);
	}
	/* the highlight starts where it was, else on the patch playing */
	b->sel = 0;
	for (unsigned i = 0; i < b->n; i++)
		if (strcmp(b->entries[i].path, highlighted[0] ? highlighted :
		    u->patch_file) == 0)
			b->sel = (int)i;
	b->open = 1;
	b->playing = -1;
	b->keep_confirm = 0;
	b->back_view = from;
	b->sel_module = u->sel_module;
	b->sel_param = u->sel_param;
	b->sel_conn = u->sel_conn;
	b->focus_params = u->focus_params;
	b->scroll_params = u->scroll_params;
	return UI_REDRAW;
}

int
browser_auditioning(const struct ui *u)
{
	return u->browser != NULL && u->browser->open && u->browser->playing >= 0;
}

/* Play entry i in place of what plays now, click-free; a patch that does
 * not load leaves the one playing alone. */
static void
audition(struct ui *u, int i)
{
	struct browser *b = u->browser;
	struct browser_entry *e = &b->entries[i];
	b->keep_confirm = 0;
	if (load_entry(u, e) != 0) {
		ui_message(u, 1, "%s does not load: %s; still playing %s", e->name,
		    e->error, b->playing >= 0 ? b->entries[b->playing].name :
		    u->patch_file[0] ? u->patch_file : "the built-in patch");
		return;
	}
	/* the user's patch as it is now (edits made while the browser was
	 * open included); from here on the autosave writes it */
	if (b->playing < 0) {
		*b->saved = *session_patch(u->s);
		session_autosave_hold(u->s, b->saved);
	}
	session_replace(u->s, u->scratch);
	u->st.cost_valid = 0;
	u->coalesce[0] = '\0';
	b->playing = i;
	ui_clamp_selection(u);
	ui_message(u, 0, "auditioning %s: Enter keeps it, Esc goes back", e->name);
}

int
browser_select(struct ui *u, int index)
{
	struct browser *b = u->browser;
	if (b == NULL || !b->open || b->n == 0)
		return UI_HANDLED;
	b->sel = index < 0 ? 0 : index >= (int)b->n ? (int)b->n - 1 : index;
	if (b->sel != b->playing)
		audition(u, b->sel);
	return UI_REDRAW;
}

int
browser_move(struct ui *u, int delta)
{
	struct browser *b = u->browser;
	if (b == NULL || !b->open || b->n == 0)
		return UI_HANDLED;
	long v = (long)b->sel + delta;
	return browser_select(u, v < 0 ? 0 : v >= (long)b->n ? (int)b->n - 1 : (int)v);
}

/* Put back what played when the browser opened (its unsaved edits
 * included) and the selections; the autosave is the user's again. */
static void
restore(struct ui *u)
{
	struct browser *b = u->browser;
	if (b->playing >= 0) {
		session_replace(u->s, b->saved);
		session_autosave_hold(u->s, NULL);
		u->st.cost_valid = 0;
	}
	b->playing = -1;
	u->sel_module = b->sel_module;
	u->sel_param = b->sel_param;
	u->sel_conn = b->sel_conn;
	u->focus_params = b->focus_params;
	u->scroll_params = b->scroll_params;
	ui_clamp_selection(u);
}

/* What plays when the browser is left: the user's file, or the built-in. */
static const char *
users_patch(const struct ui *u)
{
	return u->patch_file[0] ? u->patch_file : "the built-in patch";
}

int
browser_back(struct ui *u)
{
	struct browser *b = u->browser;
	if (b == NULL || !b->open)
		return UI_HANDLED;
	int was = b->playing >= 0;
	restore(u);
	b->open = 0;
	u->view = b->back_view == VIEW_BROWSER ? VIEW_PATCH : b->back_view;
	if (was)
		ui_message(u, 0, "back to %s%s, as it was", users_patch(u),
		    u->modified ? " [+]" : "");
	else
		ui_message(u, 0, "left the patch browser");
	return UI_REDRAW;
}

int
browser_follow(struct ui *u, enum ui_view from)
{
	struct browser *b = u->browser;
	if (u->view == VIEW_BROWSER && (b == NULL || !b->open))
		return browser_open(u, from);
	if (u->view == VIEW_BROWSER || b == NULL || !b->open)
		return 0;
	int was = b->playing >= 0;
	enum ui_view view = u->view;
	restore(u);
	b->open = 0;
	u->view = view;
	if (was)
		ui_message(u, 0, "left the browser: back to %s%s, as it was",
		    users_patch(u), u->modified ? " [+]" : "");
	return UI_REDRAW;
}

int
browser_keep(struct ui *u)
{
	struct browser *b = u->browser;
	if (b == NULL || !b->open || b->n == 0)
		return UI_HANDLED;
	struct browser_entry *e = &b->entries[b->sel];
	if (load_entry(u, e) != 0) {
		ui_message(u, 1, "nothing changed: %s does not load: %s", e->name,
		    e->error);
		return UI_REDRAW;
	}
	/* unsaved work is never dropped without a word: the first Enter
	 * says so, a second one loads (u undoes; the autosave keeps it) */
	if (u->modified && !b->keep_confirm) {
		b->keep_confirm = 1;
		ui_message(u, 1, "unsaved changes [+] to %s: Esc and :w writes them; "
		    "Enter again loads %s anyway (u undoes it, the autosave keeps them)",
		    users_patch(u), e->name);
		return UI_REDRAW;
	}
	/* the autosave of the user's patch is written now, before its origin
	 * changes: the edits stay in that patch's autosave */
	if (b->playing < 0)
		*b->saved = *session_patch(u->s);
	if (u->modified)
		session_autosave(u->s, 0);
	int was_playing = b->playing >= 0;
	session_autosave_hold(u->s, NULL);
	b->playing = -1;
	b->open = 0;
	u->view = VIEW_PATCH;
	/* loaded as `e FILE` loads, with the user's patch as the undo step */
	int had_changes = u->modified;
	char was[sizeof u->patch_file];
	snprintf(was, sizeof was, "%s", users_patch(u));
	int flags = ui_load_file(u, e->path, b->saved);
	if (strcmp(u->patch_file, e->path) != 0) {
		/* it changed on disk since and no longer loads: the user's
		 * patch plays again, not an audition nobody keeps */
		if (was_playing)
			session_replace(u->s, b->saved);
		return flags;
	}
	if (had_changes)
		ui_message(u, 0, "loaded %s; the unsaved changes to %s: u brings them "
		    "back, and its autosave keeps them", e->path, was);
	return flags;
}

/* Commands that neither change nor save the patch: they may run while
 * another patch is auditioned. */
static const char *const audition_safe[] = {
	"down", "up", "top", "bottom", "left", "right", "enter", "view", "help",
	"prompt", "redraw", "piano", "panic", "piano-hold", "record", "quit", "q",
	"quit!", "q!", "bind", "unbind", "clear-clip", "browse", "note", "stats",
	"mouse", NULL
};

int
browser_allows(struct ui *u, const char *name)
{
	if (!browser_auditioning(u))
		return 1;
	for (unsigned i = 0; audition_safe[i] != NULL; i++)
		if (strcmp(name, audition_safe[i]) == 0)
			return 1;
	ui_message(u, 1, "%s: %s is only auditioned; Enter keeps it, Esc goes back "
	    "to %s, then %s", name, u->browser->entries[u->browser->playing].name,
	    users_patch(u), name);
	return 0;
}

/* Print at (y, x) at most `width` columns of text. */
static void
row(int y, int x, int width, const char *text)
{
	if (y < 0 || y >= LINES || x >= COLS || width <= 0)
		return;
	if (x + width > COLS)
		width = COLS - x;
	mvprintw(y, x, "%-*.*s", width, width, text);
}

void
browser_draw(struct ui *u, int top, int bottom)
{
	struct browser *b = u->browser;
	char line[700];
	if (b == NULL || !b->open)
		return;
	int rows = bottom - top - 3;     /* a heading; two rows of detail */
	if (b->playing >= 0)
		snprintf(line, sizeof line, "PATCHES: auditioning %s  (Enter keeps, "
		    "Esc back to %s%s)", b->entries[b->playing].name, users_patch(u),
		    u->modified ? " [+]" : "");
	else
		snprintf(line, sizeof line, "PATCHES (%u)  j/k auditions, Enter keeps, "
		    "Esc goes back", b->n);
	attron(A_BOLD);
	row(top, 0, COLS, line);
	attroff(A_BOLD);
	if (b->n == 0) {
		row(top + 1, 1, COLS - 1, "no patch files (*.fsp) in:");
		for (unsigned d = 0; d < b->n_dirs; d++)
			row(top + 2 + (int)d, 3, COLS - 3, b->dirs[d]);
		return;
	}
	if (rows < 1)
		rows = 1;
	if (b->sel < b->scroll)
		b->scroll = b->sel;
	if (b->sel >= b->scroll + rows)
		b->scroll = b->sel - rows + 1;
	int namew = 22;
	for (int i = 0; i < rows && b->scroll + i < (int)b->n; i++) {
		int k = b->scroll + i;
		const struct browser_entry *e = &b->entries[k];
		int broken = e->error[0] != '\0';
		snprintf(line, sizeof line, "%c%-*s %s%s", k == b->playing ? '>' : ' ',
		    namew, e->name, broken ? "ERROR " : "", broken ? e->error : e->comment);
		if (k == b->sel)
			attron(A_REVERSE);
		if (broken && u->color)
			attron(COLOR_PAIR(u->pair_error));
		row(top + 1 + i, 0, COLS, line);
		if (broken && u->color)
			attroff(COLOR_PAIR(u->pair_error));
		if (k == b->sel)
			attroff(A_REVERSE);
		view_hit(u, HIT_PATCHFILE, k, top + 1 + i, 0, COLS);
	}
	/* the highlighted one: where it is, and why it does not load */
	const struct browser_entry *e = &b->entries[b->sel];
	snprintf(line, sizeof line, "%s", e->path);
	row(bottom - 2, 0, COLS, line);
	if (e->error[0] != '\0')
		snprintf(line, sizeof line, "does not load: %s", e->error);
	else if (b->left_out > 0)
		snprintf(line, sizeof line, "(%u more patch files not listed)", b->left_out);
	else
		line[0] = '\0';
	row(bottom - 1, 0, COLS, line);
}

void
browser_free(struct ui *u)
{
	if (u->browser == NULL)
		return;
	free(u->browser->entries);
	free(u->browser->saved);
	free(u->browser);
	u->browser = NULL;
}
