/*
 * ui/ui_internal.h — the state the UI's files share: what is shown, the
 * mode, the selections, the prompt, the pick list, the statistics sampled
 * for the meters, and the message log.  Only the UI thread touches it.
 *
 * The patch is read directly from the session without its lock: the UI
 * thread makes every edit but two, which the supervisor makes under the
 * session lock: the values of parameters that MIDI controllers are mapped
 * onto (single floats), and the `map` a MIDI learn adds.  The mappings are
 * read under the lock (view.c).
 */
#ifndef FORKSYNTH_UI_INTERNAL_H
#define FORKSYNTH_UI_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "complete.h"
#include "engine.h"
#include "keys.h"
#include "meter.h"
#include "patch.h"
#include "piano.h"
#include "prompt.h"
#include "region.h"
#include "search.h"
#include "session.h"
#include "undo.h"

/* What a key handler asks of the main loop (htop's HandlerResult). */
#define UI_HANDLED 0x1
#define UI_REDRAW  0x2
#define UI_QUIT    0x4

#define UI_LOG_LINES 400           /* messages kept for the log view */
#define UI_MESSAGE_MAX 1024
#define UI_MAX_METERS 32           /* output level meters */
#define UI_PICK_MAX 1024           /* items in a pick list */

enum ui_view {
	VIEW_PATCH = 0,            /* modules and the selected one's parameters */
	VIEW_CONNECTIONS,
	VIEW_COST,                 /* modules by DSP cost, like top */
	VIEW_LOG,                  /* every message */
	VIEW_BROWSER,              /* the patch files, auditioned (ui/browser.c) */
	VIEW_SCOPE,                /* the oscilloscope (ui/scopeview.c) */
	VIEW_SPECTRUM,             /* the spectrum (ui/scopeview.c) */
	VIEW_HELP,
	N_VIEWS
};

enum ui_mode {
	MODE_NORMAL = 0,           /* keys run their bound commands */
	MODE_PROMPT,               /* the `:` line */
	MODE_PICK,                 /* choosing from a list */
	MODE_PIANO,                /* letter keys play notes */
	MODE_SEARCH                /* the `/` line: a term to find */
};

/* What a pick list's choice goes on to do. */
enum pick_purpose {
	PICK_ADD_TYPE,             /* a module type to add */
	PICK_ADD_SCOPE,            /* voice or global, for `context` type */
	PICK_CONNECT_FROM,         /* an output to connect */
	PICK_CONNECT_TO,           /* an input for `context` output */
	PICK_DISCONNECT            /* a connection to remove */
};

struct pick {
	enum pick_purpose purpose;
	char title[96];
	char context[COMPLETE_WORD_MAX];
	unsigned n;
	char (*items)[COMPLETE_WORD_MAX];  /* [UI_PICK_MAX] */
	char filter[64];           /* typed: items containing it are shown */
	int names_only;            /* match the first word only */
	int sel;                   /* index among the shown items */
};

/* What a mouse click can land on: a place on the screen that the last
 * drawing put there (ui/mouse.c reads them). */
enum hit_kind {
	HIT_VIEW,                  /* a view's name on the tab line */
	HIT_MODULE,                /* a row of the module list */
	HIT_PARAM,                 /* a parameter of the selected module */
	HIT_CONNECTION,            /* a row of the connections view */
	HIT_PATCHFILE              /* a patch in the browser */
};
#define UI_MAX_HITS 256

struct hit {
	int y, x0, x1;             /* row, columns [x0, x1) */
	enum hit_kind kind;
	int index;                 /* view, module, parameter, row */
};

/* Figures sampled from the engine and the JACK callback for the meters. */
struct ui_stats {
	uint64_t at;                           /* ns, last sample */
	unsigned threads;                      /* DSP threads shown */
	uint64_t busy[REGION_MAX_THREADS];     /* ns busy, last sample */
	double load[REGION_MAX_THREADS];       /* busy share of wall time */
	struct engine_sched sched[REGION_MAX_THREADS]; /* as reported, checked */
	unsigned rt_priority;                  /* SCHED_FIFO asked for, 0: none */
	unsigned long long jack_busy;
	double jack_load;
	unsigned n_out;
	double level_db[UI_MAX_METERS];        /* falling display level */
	double hold_db[UI_MAX_METERS];
	uint64_t hold_until[UI_MAX_METERS];
	/* CLIP marks: per output, its clipped + non-finite count when the
	 * marks were last cleared, and whether it has grown since (latched) */
	uint64_t clip_cleared[UI_MAX_METERS];
	int clip[UI_MAX_METERS];
	/* per-module cost, sampled every half second */
	uint64_t cost_at;
	uint64_t cost_ns[PATCH_MAX_MODULES];
	uint64_t cost_frames;
	double cost[PATCH_MAX_MODULES];        /* share of one core */
	int cost_valid;                        /* baseline taken for this shape */
};

struct ui {
	struct session *s;
	const struct live_options *o;
	struct patch *scratch;     /* a patch-sized buffer for comparisons */
	enum ui_view view;
	enum ui_view help_from;    /* the view help was opened from */
	enum ui_mode mode;
	unsigned long midi_seen;   /* MIDI events counted at the last frame */
	int midi_active;           /* some came since the frame before */
	int focus_params;          /* patch view: the parameter list has focus */
	int sel_module, sel_param, sel_conn;
	int scroll[N_VIEWS];       /* first row shown of each view's list */
	int scroll_params;
	struct prompt prompt;
	struct completion *completion;
	struct pick pick;
	char search[SEARCH_MAX];   /* the term `/` looks for; "" none */
	int search_at;             /* help: the line of the last match, -1 */
	struct keymap keys;
	struct piano piano;
	struct undo undo;
	char coalesce[COMPLETE_WORD_MAX];  /* NAME.PARAM the last edit stepped */
	uint64_t coalesce_at;
	struct ui_stats st;
	char patch_file[512];      /* where :w writes; "" for the built-in patch */
	int modified;              /* differs from `clean` ([+]) */
	struct patch *clean;       /* the patch as last loaded or written */
	char clean_file[512];      /* and the file it was loaded from or
				      written to */
	int z_pending;             /* Z was pressed: ZZ or ZQ may follow */
	int suspended;             /* C-z: the shell has the terminal */
	int continued;             /* SIGCONT since: fg or bg */
	/* messages */
	char log[UI_LOG_LINES][UI_MESSAGE_MAX];
	unsigned log_n;            /* lines ever logged */
	char message[UI_MESSAGE_MAX];
	int message_error;
	int message_news;           /* the message line shows news, not an answer */
	time_t message_at;         /* when the message line was set */
	const char *context;       /* the rc file being run, or NULL */
	unsigned context_line;
	char errbuf[4096];         /* partial line read from the stderr pipe */
	size_t errbuf_len;
	/* where the last drawing put what a click can select */
	struct hit hits[UI_MAX_HITS];
	unsigned n_hits;
	struct browser *browser;   /* the patch browser's state, or NULL */
	struct scopeview *scope;   /* the scope and spectrum, or NULL */
	/* terminal */
	int mouse;                 /* clicks and the wheel are asked for */
	int color;
	struct meter_colors colors;
	int pair_title, pair_error, pair_dim, pair_rec;
};

/* ui/actions.c: run a command line (a UI command such as `down`, `w`,
 * `bind`, or a patch or session command); handle a key in the current
 * mode.  Both return UI_* flags. */
int ui_execute(struct ui *u, const char *line);
/* Run the UI command called `name` (its argv[0] may differ, an alias). */
int ui_execute_command(struct ui *u, const char *name, int argc,
    const char *const *argv);
int ui_key(struct ui *u, int key);
/* The UI commands, for completion and the help view. */
struct ui_command {
	const char *name;
	const char *alias;         /* a short name (w, e, q), or NULL */
	const char *usage;
	const char *help;
	int (*run)(struct ui *u, int argc, const char *const *argv);
};
extern const struct ui_command ui_commands[];
/* Whether `name` is a command a key may run: a UI command or its alias, a
 * session command (note, record, save, stats) or a patch command. */
int ui_command_known(const char *name);
extern const struct complete_command ui_complete_commands[];
/* Run a patch or session command, keeping undo and the autosave. */
int ui_apply(struct ui *u, const char *line, const char *coalesce);
/* Load the patch file at `path` in place of the one playing, click-free,
 * as `e FILE` does; `before` is what undo goes back to. */
int ui_load_file(struct ui *u, const char *path, const struct patch *before);
/* The items of the pick list that pass its filter, into shown[] (indices);
 * returns how many. */
unsigned ui_pick_shown(const struct ui *u, unsigned *shown, unsigned max);

/* ui/ui.c: the answer to what the user did, for the message line and
 * the log. */
void ui_message(struct ui *u, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Set u->modified: whether the patch or its file differ from what was
 * last loaded or written (undoing back to it clears [+]). */
void ui_update_modified(struct ui *u);
/* What is loaded or written now is the clean state. */
void ui_mark_clean(struct ui *u);
/* Keep the selections inside the patch after it changed. */
void ui_clamp_selection(struct ui *u);

/* ui/find.c: search the view for u->search, forward (dir 1, n) or back
 * (-1, N), moving the view to the match; UI_* flags.  find_start sets a
 * new term. */
int find_run(struct ui *u, int dir);
void find_start(struct ui *u, const char *term);

/* ui/view.c: the help screen's lines, built from the tables, into lines;
 * returns how many. */
unsigned view_help_lines(struct ui *u, char lines[][160], unsigned max);
/* ui/view.c: draw the whole screen. */
void view_draw(struct ui *u);
/* Note that row y, columns [x, x + width) of the screen show `kind`
 * number `index`, for clicks. */
void view_hit(struct ui *u, enum hit_kind kind, int index, int y, int x,
    int width);
/* The names of the views, as `view NAME` takes them. */
extern const char *const ui_view_names[N_VIEWS];

/* ui/mouse.c: a mouse report (ncurses' KEY_MOUSE, or the xterm SGR
 * sequence that followed an Esc, read with getch) and what it does.  Both
 * return UI_* flags; mouse_sgr returns -1 when the keys after the Esc were
 * not a mouse report (they are given back to be read again). */
int mouse_key(struct ui *u);
int mouse_sgr(struct ui *u);
/* ui/ui.c: ask the terminal for clicks and the wheel (xterm SGR
 * reports), or stop asking. */
void mouse_enable(struct ui *u, int on);
/* ui/scopeview.c: the scope and spectrum.  scopeview_tick reads the
 * output tap and the probe (every frame, whatever the view); the draw
 * functions fill rows [top, bottom); the run functions are the UI
 * commands scope-input, trigger, scope-zoom and peak-clear. */
void scopeview_tick(struct ui *u);
void scopeview_draw_scope(struct ui *u, int top, int bottom);
void scopeview_draw_spectrum(struct ui *u, int top, int bottom);
int scopeview_run_source(struct ui *u, int argc, const char *const *argv);
int scopeview_run_trigger(struct ui *u, int argc, const char *const *argv);
int scopeview_run_zoom(struct ui *u, int argc, const char *const *argv);
int scopeview_run_peak_clear(struct ui *u, int argc, const char *const *argv);
void scopeview_free(struct ui *u);

/* How a parameter value reads on screen ("1.2k Hz", "saw") into buf, and
 * where it sits on its bar (0..1). */
void view_format_value(const struct param_desc *d, float v, char *buf,
    size_t size);
double view_value_fraction(const struct param_desc *d, float v);
/* Whether a parameter is best stepped and shown on a log scale. */
int view_log_scale(const struct param_desc *d);

#endif
