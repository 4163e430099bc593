/*
 * ui/ui.c — the terminal UI's main loop and its care of the terminal: the
 * screen is set up on a copy of the terminal's descriptor while stdout and
 * stderr go into a pipe whose lines become messages (so nothing the
 * session, the DSP child, libjack or jackd prints can garble the screen);
 * signals arrive through a signalfd; the terminal is restored on every way
 * out, fatal signals included.  Keys, the DSP child's and JACK's figures
 * and the note-off timing of the piano all meet in one poll loop.
 */
#define _GNU_SOURCE
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "engine.h"
#include "futex.h"
#include "jackio.h"
#include "live.h"
#include "log.h"
#include "standin.h"
#include "browser.h"
#include "ui.h"
#include "osc.h"
#include "ui_internal.h"

/* last: its capability macros would clash with names above */
#include <term.h>

/* The default key bindings (ui/default.rc, compiled in). */
extern const char ui_default_rc[];

#define FRAME_NS 50000000ull       /* redraw period: meters move at 20 Hz */
#define LOAD_NS 250000000ull       /* window of the load figures */
#define COST_NS 500000000ull       /* window of the module costs */
#define LEVEL_FALL_DB_PER_S 30.0   /* how fast a level meter falls */
#define HOLD_NS 1500000000ull      /* how long a peak mark stays */
#define ERROR_STAYS_S 5            /* seconds an error keeps the message line */
#define ANSWER_STAYS_S 3           /* seconds news waits behind an answer */

/* What the fatal-signal handler and the exit hook need to give the
 * terminal back: plain data, set before the screen starts. */
static struct {
	int active;                /* curses owns the terminal */
	int tty;                   /* our copy of the terminal's output */
	int saved_out, saved_err;  /* the original stdout and stderr */
	struct termios termios;    /* the terminal's settings before us */
	int have_termios;
	int suspend_key;           /* the terminal's suspend key (C-z), or -1 */
	char reset[128];           /* leave the alternate screen, show the cursor */
	size_t reset_len;
} term_state = { .tty = -1, .saved_out = -1, .saved_err = -1, .suspend_key = -1 };

/* Give the terminal back, from anywhere (async-signal-safe). */
static void
terminal_restore_raw(void)
{
	if (!term_state.active)
		return;
	term_state.active = 0;
	if (term_state.have_termios)
		tcsetattr(STDIN_FILENO, TCSANOW, &term_state.termios);
	if (term_state.tty >= 0 && term_state.reset_len > 0) {
		ssize_t n = write(term_state.tty, term_state.reset, term_state.reset_len);
		(void)n;
	}
	if (term_state.saved_out >= 0)
		dup2(term_state.saved_out, STDOUT_FILENO);
	if (term_state.saved_err >= 0)
		dup2(term_state.saved_err, STDERR_FILENO);
}

/* A fatal signal in the parent: terminal first, then die as we would. */
static void
on_fatal_signal(int sig)
{
	static const char msg[] = "forksynth: fatal signal in the UI process; the "
	    "autosave holds the patch as of the last change\n";
	terminal_restore_raw();
	ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
	(void)n;
	signal(sig, SIG_DFL);
	raise(sig);
}

/* exit() from anywhere (fatal(), say) ends curses properly. */
static void
on_exit_restore(void)
{
	if (!term_state.active)
		return;
	endwin();
	terminal_restore_raw();
}

/* Append a capability's string to the reset sequence. */
static void
reset_add(const char *cap)
{
	char *s = tigetstr(cap);
	if (s == NULL || s == (char *)-1)
		return;
	size_t n = strlen(s);
	if (term_state.reset_len + n < sizeof term_state.reset) {
		memcpy(term_state.reset + term_state.reset_len, s, n);
		term_state.reset_len += n;
	}
}

/* The xterm modes for mouse reports: presses, releases and the wheel
 * (1000), in SGR form (1006), which has no limit on the column. */
#define MOUSE_ON "\033[?1000h\033[?1006h"
#define MOUSE_OFF "\033[?1006l\033[?1000l"

/* Write the mouse modes straight to the terminal (stdout is the pipe). */
static void
mouse_modes(int on)
{
	const char *seq = on ? MOUSE_ON : MOUSE_OFF;
	if (term_state.tty < 0)
		return;
	ssize_t n = write(term_state.tty, seq, strlen(seq));
	(void)n;
}

void
mouse_enable(struct ui *u, int on)
{
	u->mouse = on;
	if (!term_state.active || u->suspended)
		return;
	/* ncurses decodes the reports its terminal description knows; the
	 * SGR ones it does not know come as keys (ui/mouse.c reads them) */
	mousemask(on ? ALL_MOUSE_EVENTS : 0, NULL);
	mouseinterval(0);
	mouse_modes(on);
}

/* Log `text` and show it on the message line when `show`. */
static void
post(struct ui *u, int error, int show, const char *text)
{
	time_t now = time(NULL);
	char stamp[16];
	if (show) {
		snprintf(u->message, sizeof u->message, "%s", text);
		u->message_error = error;
		u->message_at = now;
	}
	strftime(stamp, sizeof stamp, "%H:%M:%S", localtime(&now));
	snprintf(u->log[u->log_n % UI_LOG_LINES], UI_MESSAGE_MAX, "%.8s %s%.*s", stamp,
	    error ? "error: " : "", UI_MESSAGE_MAX - 20, text);
	u->log_n++;
}

void
ui_message(struct ui *u, int error, const char *fmt, ...)
{
	va_list ap;
	char text[UI_MESSAGE_MAX], full[UI_MESSAGE_MAX + 160];
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	/* while the rc runs, errors say where they come from */
	if (u->context != NULL && error) {
		snprintf(full, sizeof full, "%s:%u: %s", u->context, u->context_line, text);
		memcpy(text, full, sizeof text - 1);
		text[sizeof text - 1] = '\0';
	}
	post(u, error, 1, text);
	u->message_news = 0;
}

/* News from elsewhere (the supervisor, the DSP child, libjack): logged;
 * shown unless it would hide an error or a fresh answer to the user.  News
 * of trouble always replaces older news: the line never says "restart 3"
 * while the status line counts 9. */
static void
ui_news(struct ui *u, int error, const char *text)
{
	time_t age = time(NULL) - u->message_at;
	int show = u->message_error ? age >= ERROR_STAYS_S :
	    error || age >= ANSWER_STAYS_S;
	if (u->message_news && error)
		show = 1;
	post(u, error, show, text);
	if (show)
		u->message_news = 1;
}

/* A line from the stderr pipe: a message, an error if it says so. */
static void
captured_line(struct ui *u, char *line)
{
	if (strncmp(line, "forksynth: ", 11) == 0)
		line += 11;
	if (line[0] == '\0')
		return;
	int error = strstr(line, "error") != NULL || strstr(line, "warning") != NULL ||
	    strncmp(line, "DSP: warn", 9) == 0 ||
	    strstr(line, "DSP child") != NULL || strstr(line, "stopped") != NULL ||
	    strstr(line, "could not") != NULL;
	ui_news(u, error, line);
}

/* Read what arrived on the pipe and split it into lines. */
static void
read_captured(struct ui *u, int fd)
{
	ssize_t n;
	while ((n = read(fd, u->errbuf + u->errbuf_len,
	    sizeof u->errbuf - 1 - u->errbuf_len)) > 0) {
		u->errbuf_len += (size_t)n;
		char *start = u->errbuf, *nl;
		while ((nl = memchr(start, '\n', u->errbuf_len - (size_t)(start - u->errbuf)))) {
			*nl = '\0';
			captured_line(u, start);
			start = nl + 1;
		}
		u->errbuf_len -= (size_t)(start - u->errbuf);
		memmove(u->errbuf, start, u->errbuf_len);
		if (u->errbuf_len == sizeof u->errbuf - 1) {
			u->errbuf[u->errbuf_len] = '\0';
			captured_line(u, u->errbuf);
			u->errbuf_len = 0;
		}
	}
}

/* Run the lines of an rc text as commands; errors name the source. */
static void
run_rc(struct ui *u, const char *text, const char *source)
{
	char line[CMD_LINE_MAX + 1];
	unsigned n = 0;
	while (*text != '\0') {
		size_t len = strcspn(text, "\n");
		n++;
		snprintf(line, sizeof line, "%.*s", (int)(len < CMD_LINE_MAX ? len : CMD_LINE_MAX),
		    text);
		text += len + (text[len] == '\n');
		const char *p = line + strspn(line, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		u->context = source;
		u->context_line = n;
		ui_execute(u, p);
		u->context = NULL;
	}
}

/* The user's rc: $XDG_CONFIG_HOME/forksynth/rc or ~/.config/forksynth/rc. */
static void
load_user_rc(struct ui *u)
{
	char path[600];
	const char *conf = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	if (conf != NULL && conf[0] == '/')
		snprintf(path, sizeof path, "%s/forksynth/rc", conf);
	else if (home != NULL && home[0] == '/')
		snprintf(path, sizeof path, "%s/.config/forksynth/rc", home);
	else
		return;
	if (access(path, F_OK) != 0)
		return;
	struct patch_error err = { 0 };
	char *text, msg[600];
	if (cmd_read_file(path, 1 << 20, &text, &err) != 0) {
		patch_error_format(&err, msg, sizeof msg);
		ui_message(u, 1, "%s", msg);
		return;
	}
	run_rc(u, text, path);
	free(text);
}

/*
 * Offer the autosave when it was saved from the same patch (file, or the
 * built-in one), differs from it, and is newer than its file.  Asks on the
 * screen; on yes, *patch becomes the autosave.
 */
static void
offer_restore(struct ui *u, struct patch *patch)
{
	char path[800], when[64], mine[600], theirs[600];
	struct stat as, ps;
	struct patch_error err = { 0 };
	const char *what = u->o->patch_path ? u->o->patch_path : "the built-in patch";
	patch_origin(u->o->patch_path, mine, sizeof mine);
	if (autosave_path(u->o->jack.name, mine, path, sizeof path) != 0 ||
	    stat(path, &as) != 0)
		return;
	if (autosave_origin(path, theirs, sizeof theirs) != 0 || strcmp(mine, theirs) != 0)
		return;
	if (u->o->patch_path != NULL && stat(u->o->patch_path, &ps) == 0 &&
	    (as.st_mtim.tv_sec < ps.st_mtim.tv_sec ||
	    (as.st_mtim.tv_sec == ps.st_mtim.tv_sec &&
	    as.st_mtim.tv_nsec <= ps.st_mtim.tv_nsec)))
		return;
	*u->scratch = *patch;
	if (patch_load_file(u->scratch, path, &err) != 0) {
		char msg[600];
		patch_error_format(&err, msg, sizeof msg);
		ui_message(u, 1, "the autosave is unreadable, not offered: %s", msg);
		return;
	}
	if (patch_equal(u->scratch, patch))
		return;
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&as.st_mtime));
	erase();
	mvprintw(2, 2, "Unsaved changes to %s", what);
	mvprintw(3, 2, "were autosaved by client '%s' at %s, in", u->o->jack.name, when);
	mvprintw(4, 2, "%s", path);
	mvprintw(5, 2, "(%u modules, %u connections; the file has %u and %u)",
	    u->scratch->n_modules, u->scratch->n_connections, patch->n_modules,
	    patch->n_connections);
	mvprintw(7, 2, "Restore the autosave of %s? [y/N] ", what);
	refresh();
	nodelay(stdscr, FALSE);
	int key = getch();
	nodelay(stdscr, TRUE);
	if (key == 'y' || key == 'Y') {
		*patch = *u->scratch;
		u->modified = 1;
		ui_message(u, 0, "restored the autosave of %s from %s (:w keeps it)",
		    what, when);
	} else {
		ui_message(u, 0, "kept %s; its autosave will be replaced by this "
		    "session's", what);
	}
}

/* Set up colours unless NO_COLOR says otherwise or the terminal has none. */
static void
setup_colors(struct ui *u)
{
	const char *no_color = getenv("NO_COLOR");
	u->color = has_colors() && (no_color == NULL || no_color[0] == '\0');
	if (!u->color)
		return;
	start_color();
	use_default_colors();
	init_pair(1, COLOR_GREEN, -1);
	init_pair(2, COLOR_YELLOW, -1);
	init_pair(3, COLOR_RED, -1);
	init_pair(4, COLOR_CYAN, -1);
	init_pair(5, COLOR_BLUE, -1);
	init_pair(6, COLOR_BLACK, COLOR_CYAN);
	init_pair(7, COLOR_WHITE, COLOR_RED);
	u->colors = (struct meter_colors){ .ok = 1, .warn = 2, .hot = 3, .param = 4,
	    .dim = 5 };
	u->pair_title = 6;
	u->pair_error = 3;
	u->pair_dim = 5;
	u->pair_rec = 7;
}

/* Sample the figures behind the meters. */
static void
sample_stats(struct ui *u, uint64_t now)
{
	struct ui_stats *st = &u->st;
	struct engine *e = session_engine(u->s);
	struct jackio *j = session_jack(u->s);
	struct engine_info ei;
	struct jackio_counters c;
	double dt = st->at ? (double)(now - st->at) * 1e-9 : 0;

	engine_info(e, &ei);
	st->threads = ei.threads < REGION_MAX_THREADS ? ei.threads : REGION_MAX_THREADS;
	memcpy(st->sched, ei.sched, st->threads * sizeof st->sched[0]);
	st->rt_priority = ei.rt_priority;
	/* levels: every frame */
	float peaks[UI_MAX_METERS];
	st->n_out = jackio_peaks(j, peaks, UI_MAX_METERS);
	if (st->n_out > UI_MAX_METERS)
		st->n_out = UI_MAX_METERS;
	for (unsigned i = 0; i < st->n_out; i++) {
		/* latched until clear-clip */
		st->clip[i] = engine_output_changed(e, i) > st->clip_cleared[i];
		double db = peaks[i] > 1e-6f ? 20 * log10(peaks[i]) : -120;
		double fallen = st->level_db[i] - LEVEL_FALL_DB_PER_S * (double)FRAME_NS * 1e-9;
		st->level_db[i] = db > fallen ? db : fallen;
		if (db >= st->hold_db[i] || now > st->hold_until[i]) {
			st->hold_db[i] = db;
			st->hold_until[i] = now + HOLD_NS;
		}
	}
	if (st->at != 0 && now - st->at < LOAD_NS)
		return;
	/* loads: busy time over wall time */
	const struct region *r = engine_region(e);
	for (unsigned t = 0; t < st->threads; t++) {
		uint64_t busy = atomic_load(&r->stats[t].busy_ns);
		st->load[t] = dt > 0 && busy >= st->busy[t] ?
		    (double)(busy - st->busy[t]) * 1e-9 / dt : 0;
		st->busy[t] = busy;
	}
	jackio_counters(j, &c);
	st->jack_load = dt > 0 && c.busy_ns >= st->jack_busy ?
	    (double)(c.busy_ns - st->jack_busy) * 1e-9 / dt : 0;
	st->jack_busy = c.busy_ns;
	st->at = now;
	/* module costs: the child's profiled blocks */
	if (now - st->cost_at < COST_NS)
		return;
	uint64_t ns[PATCH_MAX_MODULES], frames;
	unsigned n = session_patch(u->s)->n_modules;
	if (engine_module_cost(e, ns, n, &frames) != 0) {
		st->cost_valid = 0;
		return;
	}
	double rate = jackio_rate(j);
	if (st->cost_valid && frames > st->cost_frames) {
		double seconds = (double)(frames - st->cost_frames) / rate;
		for (unsigned m = 0; m < n; m++)
			st->cost[m] = ns[m] >= st->cost_ns[m] ?
			    (double)(ns[m] - st->cost_ns[m]) * 1e-9 / seconds : 0;
	} else if (!st->cost_valid || frames < st->cost_frames) {
		memset(st->cost, 0, sizeof st->cost);
	}
	memcpy(st->cost_ns, ns, n * sizeof ns[0]);
	st->cost_frames = frames;
	st->cost_at = now;
	st->cost_valid = 1;
}

/* End the notes the piano held past their time. */
static void
piano_tick(struct ui *u, uint64_t now)
{
	int notes[PIANO_MAX_HELD];
	unsigned n = piano_due(&u->piano, now, notes, PIANO_MAX_HELD);
	for (unsigned i = 0; i < n; i++)
		jackio_note_off(session_jack(u->s), (unsigned)notes[i]);
}

/* Follow the terminal's new size. */
static void
resize(void)
{
	struct winsize ws;
	if (ioctl(term_state.tty, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
}

/* Take the suspend key (C-z) from the terminal: it reaches us as a key, so
 * that the screen is given back before anything in the job stops.  Were
 * the terminal to send SIGTSTP itself, a shell that runs forksynth (a
 * wrapper script) would stop at once and its shell's "Stopped" would land
 * on our screen, gone with it.  The setting becomes curses' own program
 * mode, so that it holds again after fg. */
static void
take_suspend_key(void)
{
	struct termios t;
	if (!term_state.have_termios ||
	    term_state.termios.c_cc[VSUSP] == _POSIX_VDISABLE ||
	    tcgetattr(STDIN_FILENO, &t) != 0)
		return;
	t.c_cc[VSUSP] = _POSIX_VDISABLE;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) != 0)
		return;
	term_state.suspend_key = term_state.termios.c_cc[VSUSP];
	def_prog_mode();
}

/* Start curses on our copy of the terminal; stdout and stderr go into the
 * pipe whose read end is returned (-1 on failure, with a message). */
static int
terminal_start(char *err, size_t err_size)
{
	int pfd[2];
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(err, err_size, "the terminal UI needs a terminal on stdin and "
		    "stdout (use --no-ui to run headless)");
		return -1;
	}
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		snprintf(err, err_size, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	term_state.have_termios = tcgetattr(STDIN_FILENO, &term_state.termios) == 0;
	term_state.tty = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	term_state.saved_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	term_state.saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	FILE *tty = fdopen(term_state.tty, "w");
	if (tty == NULL || newterm(NULL, tty, stdin) == NULL) {
		snprintf(err, err_size, "cannot start the terminal (TERM=%s)",
		    getenv("TERM") ? getenv("TERM") : "unset");
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	term_state.active = 1;
	/* whatever else, the terminal stops sending mouse reports */
	memcpy(term_state.reset, MOUSE_OFF, sizeof MOUSE_OFF - 1);
	term_state.reset_len = sizeof MOUSE_OFF - 1;
	reset_add("sgr0");
	reset_add("cnorm");
	reset_add("rmcup");
	atexit(on_exit_restore);
	struct sigaction sa = { .sa_handler = on_fatal_signal };
	sigemptyset(&sa.sa_mask);
	int fatal_sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	for (size_t i = 0; i < sizeof fatal_sigs / sizeof fatal_sigs[0]; i++)
		sigaction(fatal_sigs[i], &sa, NULL);
	/* whatever anyone prints from now on becomes a message; a full pipe
	 * drops text rather than block a writer */
	fcntl(pfd[1], F_SETFL, O_NONBLOCK);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	fflush(stdout);
	fflush(stderr);
	dup2(pfd[1], STDOUT_FILENO);
	dup2(pfd[1], STDERR_FILENO);
	close(pfd[1]);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	take_suspend_key();
	return pfd[0];
}

/* C-z: give the terminal back as it was; the sound plays on and the
 * stand-in stops, so the shell takes over (src/standin.c).  As a key it
 * comes here first, then stops the job (suspend_job). */
static void
suspend(struct ui *u)
{
	if (u->suspended || !term_state.active)
		return;
	if (u->mouse)
		mouse_modes(0);
	endwin();
	u->suspended = 1;
	u->continued = 0;
	post(u, 0, 1, "suspended: the sound played on; the screen is back");
	standin_suspended();
}

/* The suspend key: the screen is the shell's again, then the whole job
 * (a wrapper's shell, the stand-in) gets the SIGTSTP the terminal would
 * have sent; ours is read from the signal fd and finds us suspended.
 * Without a stand-in, SIGTSTP stops this process as it would any (curses
 * gives the screen back and takes it again on fg). */
static void
suspend_job(struct ui *u)
{
	if (standin_active())
		suspend(u);
	kill(0, SIGTSTP);
}

/* Take the screen back once the job was continued (SIGCONT) and is the
 * terminal's foreground job again: after fg, not after bg.  (Right after
 * C-z this process is still the foreground until the stand-in stops.) */
static int
resume_if_foreground(struct ui *u)
{
	if (!u->suspended || !u->continued || tcgetpgrp(STDIN_FILENO) != getpgrp())
		return 0;
	u->suspended = 0;
	resize();
	clearok(curscr, TRUE);
	refresh();
	if (u->mouse)
		mouse_enable(u, 1);
	return UI_REDRAW;
}

/* Leave curses and give stdout and stderr back. */
static void
terminal_stop(void)
{
	if (!term_state.active)
		return;
	if (!isendwin()) {      /* after C-z it has ended already */
		mouse_modes(0);
		endwin();
	}
	term_state.active = 0;
	fflush(stdout);
	fflush(stderr);
	dup2(term_state.saved_out, STDOUT_FILENO);
	dup2(term_state.saved_err, STDERR_FILENO);
}

int
ui_run(const struct live_options *o, struct patch *patch)
{
	static struct ui ui;
	struct ui *u = &ui;
	char err[600];

	u->o = o;
	u->scratch = xmalloc(sizeof *u->scratch);
	/* clean: the patch as its file (or the built-in) has it, before an
	 * autosave may be restored over it */
	u->clean = xmalloc(sizeof *u->clean);
	u->search_at = -1;
	*u->clean = *patch;
	u->completion = xmalloc(sizeof *u->completion);
	u->pick.items = xcalloc(UI_PICK_MAX, COMPLETE_WORD_MAX);
	prompt_init(&u->prompt);
	piano_init(&u->piano);
	/* the meters start at silence, not at 0 dB falling */
	for (unsigned i = 0; i < UI_MAX_METERS; i++)
		u->st.level_db[i] = u->st.hold_db[i] = -120;
	snprintf(u->patch_file, sizeof u->patch_file, "%s",
	    o->patch_path ? o->patch_path : "");
	memcpy(u->clean_file, u->patch_file, sizeof u->clean_file);

	/* the screen shows UTF-8 text (the language's): the user's
	 * character set if it is UTF-8, else C.UTF-8; only LC_CTYPE, so that
	 * numbers are read and written the same everywhere */
	if (setlocale(LC_CTYPE, "") == NULL ||
	    strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
	static const int ui_signals[] = { SIGWINCH, SIGTSTP, SIGCONT };
	int sfd = live_signals(ui_signals, standin_active() ? 3 : 1);
	int cap = terminal_start(err, sizeof err);
	if (cap < 0) {
		fprintf(stderr, "forksynth: %s\n", err);
		return 1;
	}
	setup_colors(u);
	offer_restore(u, patch);
	erase();
	mvprintw(0, 0, "forksynth: starting the DSP and the JACK client ...");
	refresh();
	u->s = session_open(o, patch, err, sizeof err);
	if (u->s == NULL) {
		read_captured(u, cap);
		terminal_stop();
		for (unsigned i = u->log_n > 20 ? u->log_n - 20 : 0; i < u->log_n; i++)
			fprintf(stderr, "  %s\n", u->log[i % UI_LOG_LINES]);
		fprintf(stderr, "forksynth: %s\n", err);
		return 1;
	}
	u->mouse = 1;
	run_rc(u, ui_default_rc, "default bindings");
	load_user_rc(u);
	/* the rc may say `mouse off`; --no-mouse has the last word */
	mouse_enable(u, u->mouse && !o->no_mouse);
	ui_clamp_selection(u);
	if (u->message[0] == '\0')
		ui_message(u, 0, "playing %s; ? for help, : for commands, p for the piano",
		    o->patch_name);

	uint64_t next_frame = 0;
	int flags = UI_REDRAW;
	while (!session_should_quit(u->s) && !(flags & UI_QUIT)) {
		uint64_t now = futex_now_ns();
		uint64_t wake = next_frame;
		uint64_t piano_at = piano_next_deadline(&u->piano);
		if (piano_at < wake)
			wake = piano_at;
		int timeout = wake > now ? (int)((wake - now) / 1000000) + 1 : 0;
		/* suspended, the terminal is the shell's: not read, not drawn */
		flags |= resume_if_foreground(u);
		struct pollfd pfd[4] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = u->suspended ? -1 : STDIN_FILENO, .events = POLLIN },
			{ .fd = cap, .events = POLLIN },
			{ .fd = o->osc ? osc_fd(o->osc) : -1, .events = POLLIN },
		};
		poll(pfd, 4, timeout);
		/* OSC commands run here, between keys, never beside them */
		if (pfd[3].revents & POLLIN && osc_take(o->osc, u->s) > 0) {
			ui_update_modified(u);
			ui_clamp_selection(u);
			flags |= UI_REDRAW;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == sizeof si) {
				if (si.ssi_signo == SIGWINCH) {
					if (!u->suspended)
						resize();
					flags |= UI_REDRAW;
				} else if (si.ssi_signo == SIGTSTP) {
					suspend(u);
				} else if (si.ssi_signo == SIGCONT) {
					u->continued = 1;
					flags |= resume_if_foreground(u);
				} else {
					char why[100];
					snprintf(why, sizeof why, "signal %u (%s)", si.ssi_signo,
					    strsignal((int)si.ssi_signo));
					session_quit(u->s, why);
				}
			}
		}
		if (pfd[2].revents & POLLIN) {
			read_captured(u, cap);
			flags |= UI_REDRAW;
		}
		int key;
		enum ui_view view_before = u->view;
		while (!u->suspended && !(flags & UI_QUIT) && (key = getch()) != ERR) {
			/* ncurses has resized already (resize() above queues this) */
			if (key == KEY_RESIZE) {
				flags |= UI_REDRAW;
				continue;
			}
			if (key == term_state.suspend_key) {
				suspend_job(u);
				continue;
			}
			if (key == KEY_MOUSE) {
				flags |= mouse_key(u) | UI_REDRAW;
				continue;
			}
			/* an Esc may start a mouse report that ncurses did not know */
			int report = key == UI_KEY_ESCAPE ? mouse_sgr(u) : -1;
			if (report >= 0) {
				flags |= report | UI_REDRAW;
				continue;
			}
			flags |= ui_key(u, key_normalize(key));
		}
		/* the browser opens with its view, and ends its audition when
		 * left any way */
		flags |= browser_follow(u, view_before);
		/* the terminal went away: end as on a hang-up */
		if (pfd[1].revents & (POLLHUP | POLLERR | POLLNVAL))
			session_quit(u->s, "the terminal went away");
		now = futex_now_ns();
		piano_tick(u, now);
		if (now >= next_frame) {
			char learned[300];
			if (session_learn_poll(u->s, learned, sizeof learned))
				ui_message(u, 0, "%s", learned);
			/* knobs change mapped parameters: [+] follows them */
			if (session_patch(u->s)->n_maps > 0)
				ui_update_modified(u);
			sample_stats(u, now);
			scopeview_tick(u);
			flags |= UI_REDRAW;
			next_frame = now + FRAME_NS;
		}
		if ((flags & UI_REDRAW) && !u->suspended) {
			view_draw(u);
			flags &= ~UI_REDRAW;
		}
	}
	/* notes the piano still holds end with the session */
	jackio_panic(session_jack(u->s));
	terminal_stop();
	int rc = session_close(u->s);
	scopeview_free(u);
	close(cap);
	close(sfd);
	prompt_free(&u->prompt);
	undo_free(&u->undo);
	browser_free(u);
	free(u->pick.items);
	free(u->completion);
	free(u->scratch);
	free(u->clean);
	return rc;
}
