/*
 * src/live.c — the headless front end: the main thread reads commands from
 * stdin and answers each with "ok" or the error; the session's supervisor
 * reports events on stderr.  Signals become a quit request through a
 * signalfd.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "command.h"
#include "live.h"
#include "log.h"

int
live_signals(int extra)
{
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	if (extra != 0)
		sigaddset(&sigs, extra);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &sigs, SFD_CLOEXEC);
}

/* Run one command line from stdin and answer it. */
static void
run_line(struct session *s, char *line)
{
	char reply[1200];

	line[strcspn(line, "\r\n")] = '\0';
	const char *p = line + strspn(line, " \t");
	if (*p == '\0' || *p == '#')
		return;
	if (strcmp(p, "help") == 0) {
		cmd_help(stdout, NULL);
		printf("note NOTE VELOCITY SECONDS   play a note now\n"
		    "record [FILE] | record stop | record status\n"
		    "stats                        counters since the start\nquit\nok\n");
		return;
	}
	session_exec(s, p, reply, sizeof reply);
	printf("%s\n", reply);
}

int
live_run(const struct live_options *o, struct patch *patch)
{
	char err[512];
	int sfd = live_signals(0);
	struct session *s = session_open(o, patch, err, sizeof err);
	if (s == NULL) {
		fprintf(stderr, "forksynth: %s\n", err);
		return 1;
	}
	/* in the background of a terminal, reading it would stop the whole
	 * process (SIGTTIN), and a stopped JACK client stalls the server */
	int read_stdin = !(isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) != getpgrp());
	if (read_stdin)
		info("commands on stdin (help, quit); ports %s:in_1.., %s:out_1.., "
		    "%s:midi_in", o->jack.name, o->jack.name, o->jack.name);
	else
		info("running in the background: the terminal is not read; stop with "
		    "kill -INT %d; ports %s:in_1.., %s:out_1.., %s:midi_in", (int)getpid(),
		    o->jack.name, o->jack.name, o->jack.name);
	fflush(stderr);

	/* stdin read raw and split here: stdio's buffer would hide lines
	 * from poll */
	static char buf[8192];
	size_t len = 0;
	while (!session_should_quit(s)) {
		struct pollfd pfd[2] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = read_stdin ? STDIN_FILENO : -1, .events = POLLIN },
		};
		if (poll(pfd, 2, 100) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			char why[100] = "a signal";
			if (read(sfd, &si, sizeof si) == sizeof si)
				snprintf(why, sizeof why, "signal %u (%s)", si.ssi_signo,
				    strsignal((int)si.ssi_signo));
			session_quit(s, why);
			break;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(STDIN_FILENO, buf + len, sizeof buf - 1 - len);
			if (n <= 0) {
				session_quit(s, "end of input");
				break;
			}
			len += (size_t)n;
			char *start = buf, *nl;
			while ((nl = memchr(start, '\n', len - (size_t)(start - buf))) != NULL) {
				*nl = '\0';
				run_line(s, start);
				start = nl + 1;
			}
			len -= (size_t)(start - buf);
			memmove(buf, start, len);
			if (len == sizeof buf - 1) {
				printf("error: line longer than %zu bytes ignored\n", len);
				len = 0;
			}
			fflush(stdout);
		}
	}
	int rc = session_close(s);
	close(sfd);
	return rc;
}
