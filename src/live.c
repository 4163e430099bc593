/*
 * src/live.c — the headless front end: the main thread reads commands from
 * stdin and answers each with one line, "ok ..." or "error: ...", in order
 * (the protocol's contract, forksynth(1) HEADLESS PROTOCOL); the session's
 * supervisor reports events on stderr.  Signals become a quit request
 * through a signalfd.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "command.h"
#include "live.h"
#include "log.h"
#include "nsm.h"
#include "osc.h"
#include "standin.h"

/* The longest line taken, in bytes without the newline.  A longer one is
 * answered with one error when its newline (or the end of input) comes;
 * none of it runs. */
#define LIVE_LINE_MAX 8191

/* Bytes read from stdin at a time; answers are flushed after each read. */
#define LIVE_READ_SIZE 65536

/* A line being gathered from stdin. */
struct live_line {
	char text[LIVE_LINE_MAX + 1];
	size_t len;                /* bytes kept in text */
	unsigned long long seen;   /* bytes of the line read, kept or not */
	unsigned long long number; /* 1-based, for messages */
};

int
live_signals(const int *extra, unsigned n)
{
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	for (unsigned i = 0; i < n; i++)
		sigaddset(&sigs, extra[i]);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &sigs, SFD_CLOEXEC);
}

/* `help`: the command summary as information lines, each starting with
 * "# " so that no script takes one for an answer; then the answer. */
static void
print_help(void)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	if (f == NULL)
		fatal("out of memory");
	cmd_help(f, NULL);
	fputs("note NOTE VELOCITY SECONDS   play a note now (NOTE: 0..127 or C4, F#3)\n"
	    "record [FILE] | record stop | record status\n"
	    "save [FILE]                  write the patch to its own file, or to FILE\n"
	    "                             (keeps the file's layout and comments; refuses\n"
	    "                             to replace another file or one changed on disk)\n"
	    "save! [FILE]                 the same, replacing such a file\n"
	    "stats                        counters since the start\n"
	    "help                         this text\n"
	    "quit                         end the session (lines after it are not read)\n"
	    "Every line gets one answer line, in order: ok ... or error: ...;\n"
	    "lines starting with # are information, like these.\n", f);
	fclose(f);
	for (char *line = text; *line != '\0';) {
		size_t len = strcspn(line, "\n");
		printf("# %.*s\n", (int)len, line);
		line += len + (line[len] == '\n');
	}
	free(text);
	printf("ok help\n");
}

/* Answer one whole line from stdin (its newline removed).  Returns 1 when
 * it was `quit`. */
static int
run_line(struct session *s, struct live_line *l)
{
	char reply[1200], msg[700];
	struct patch_error err = { 0 };

	if (l->seen > l->len) {
		printf("error: line %llu is %llu bytes, longer than %d; none of it "
		    "was run\n", l->number, l->seen, LIVE_LINE_MAX);
		return 0;
	}
	/* a CRLF line ends in \r: not part of the command */
	if (l->len > 0 && l->text[l->len - 1] == '\r')
		l->len--;
	l->text[l->len] = '\0';
	if (cmd_check_text(l->text, l->len, &err) != 0) {
		patch_error_format(&err, msg, sizeof msg);
		printf("error: %s\n", msg);
		return 0;
	}
	const char *p = l->text + strspn(l->text, " \t");
	if (*p == '\0' || *p == '#') {
		printf("ok\n");
		return 0;
	}
	if (strcmp(p, "help") == 0) {
		print_help();
		return 0;
	}
	session_exec(s, p, reply, sizeof reply);
	printf("%s\n", reply);
	return session_should_quit(s);
}

/* Add `n` bytes of the current line (no newline among them); past
 * LIVE_LINE_MAX they are only counted. */
static void
line_add(struct live_line *l, const char *bytes, size_t n)
{
	size_t room = LIVE_LINE_MAX - l->len;
	size_t take = n < room ? n : room;
	if (l->seen == l->len) {
		memcpy(l->text + l->len, bytes, take);
		l->len += take;
	}
	l->seen += n;
}

/* Start the next line. */
static void
line_next(struct live_line *l)
{
	l->len = 0;
	l->seen = 0;
	l->number++;
}

/* Split `n` bytes read from stdin into lines and answer each whole one.
 * Returns 1 after `quit`. */
static int
take_input(struct session *s, struct live_line *l, const char *buf, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t part = nl != NULL ? (size_t)(nl - buf) : n;
		line_add(l, buf, part);
		if (nl == NULL)
			return 0;
		int quit = run_line(s, l);
		line_next(l);
		buf += part + 1;
		n -= part + 1;
		if (quit)
			return 1;
	}
	return 0;
}

int
live_run(const struct live_options *o, struct patch *patch)
{
	char err[512];
	/* under a stand-in, C-z arrives here and only pauses reading */
	static const int stop_signals[] = { SIGTSTP, SIGCONT };
	int sfd = live_signals(stop_signals, standin_active() ? 2 : 0);
	struct session *s = session_open(o, patch, err, sizeof err);
	if (s == NULL) {
		if (o->nsm != NULL)
			nsm_opened(o->nsm, 0, err);
		fprintf(stderr, "forksynth: %s\n", err);
		return 1;
	}
	if (o->nsm != NULL) {
		char msg[1300];
		snprintf(msg, sizeof msg, "forksynth plays %s as JACK client '%s'",
		    nsm_patch_path(o->nsm), o->jack.name);
		nsm_opened(o->nsm, 1, msg);
		info("NSM: %s", msg);
	}
	/* in the background of a terminal, reading it would stop the whole
	 * process (SIGTTIN), and a stopped JACK client stalls the server */
	int tty = isatty(STDIN_FILENO);
	int read_stdin = !(tty && tcgetpgrp(STDIN_FILENO) != getpgrp());
	if (read_stdin)
		info("commands on stdin (help, quit); ports %s:in_1.., %s:out_1.., "
		    "%s:midi_in", o->jack.name, o->jack.name, o->jack.name);
	else
		info("running in the background: the terminal is not read; stop with "
		    "kill -INT %d; ports %s:in_1.., %s:out_1.., %s:midi_in", (int)getpid(),
		    o->jack.name, o->jack.name, o->jack.name);
	fflush(stderr);

	/* stdin is read raw and split here (stdio's buffer would hide lines
	 * from poll); answers are buffered and flushed once per read, so a
	 * stream of commands is not one write per answer */
	static char out[LIVE_READ_SIZE];
	setvbuf(stdout, out, _IOFBF, sizeof out);
	static char buf[LIVE_READ_SIZE];
	static struct live_line line = { .number = 1 };
	while (!session_should_quit(s)) {
		/* a terminal is read only while this is its foreground job (C-z
		 * and fg, under a stand-in, change that) */
		if (tty && standin_active())
			read_stdin = tcgetpgrp(STDIN_FILENO) == getpgrp();
		struct pollfd pfd[4] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = read_stdin ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = o->osc ? osc_fd(o->osc) : -1, .events = POLLIN },
			{ .fd = o->nsm ? nsm_fd(o->nsm) : -1, .events = POLLIN },
		};
		int ready = poll(pfd, 4, 100);
		/* OSC and the session manager are taken here, on this thread,
		 * so that their commands and stdin's run one after another */
		if (pfd[2].revents & POLLIN)
			osc_take(o->osc, s);
		if (pfd[3].revents != 0)
			nsm_take(o->nsm, s);
		if (o->nsm != NULL)
			nsm_tick(o->nsm, s);
		if (ready <= 0 || session_should_quit(s))
			continue;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			char why[100] = "a signal";
			if (read(sfd, &si, sizeof si) == sizeof si) {
				if (si.ssi_signo == SIGCONT)
					continue;
				if (si.ssi_signo == SIGTSTP) {
					info("suspended: the sound plays on; fg to type "
					    "commands again");
					fflush(stderr);
					read_stdin = 0;
					standin_suspended();
					continue;
				}
				snprintf(why, sizeof why, "signal %u (%s)", si.ssi_signo,
				    strsignal((int)si.ssi_signo));
			}
			session_quit(s, why);
			break;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
			if (n <= 0) {
				/* the last line counts even without its newline */
				if (line.seen > 0)
					run_line(s, &line);
				fflush(stdout);
				/* under a session manager the session ends when the
				 * manager says (SIGTERM), not with the input */
				if (o->nsm != NULL) {
					read_stdin = 0;
					line_next(&line);
					continue;
				}
				if (!session_should_quit(s))
					session_quit(s, "end of input");
				break;
			}
			int quit = take_input(s, &line, buf, (size_t)n);
			fflush(stdout);
			if (quit)
				break;
		}
	}
	fflush(stdout);
	int rc = session_close(s);
	close(sfd);
	return rc;
}
