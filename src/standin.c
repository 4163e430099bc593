/*
 * src/standin.c — the stand-in process that takes C-z for a live session
 * (src/standin.h).
 *
 * Protocol: the terminal sends SIGTSTP to the whole foreground process
 * group, so the session (child) and the stand-in (parent) both get it.
 * The session blocks SIGTSTP (a signalfd reads it), gives the terminal
 * back, stops reading and drawing, and writes one byte to the ready pipe;
 * the stand-in waits for that byte (at most 1 s) and stops itself with
 * SIGSTOP, which the shell reports as a stopped job.  `fg` sends SIGCONT to
 * the group: the stand-in waits again, and the session, which keeps
 * SIGTTIN and SIGTTOU ignored so that the terminal can never stop it,
 * takes the screen back once it is the foreground again.  Signals sent to
 * the stand-in alone (kill PID: si_code SI_USER from another process) go
 * on to the session; those from the terminal reached it already.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "standin.h"

static int ready_fd = -1;        /* the session's end of the ready pipe */

int
standin_active(void)
{
	return ready_fd >= 0;
}

void
standin_suspended(void)
{
	if (ready_fd >= 0) {
		ssize_t n = write(ready_fd, "z", 1);
		(void)n;
	}
}

/* The stand-in's life: pass signals on, stop on C-z, end as the session
 * ends.  Never returns. */
static void
stand_in(pid_t session, int ready)
{
	sigset_t sigs;
	siginfo_t si;
	int status;
	sigemptyset(&sigs);
	int caught[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGCONT,
	    SIGCHLD, SIGUSR1, SIGUSR2 };
	for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++)
		sigaddset(&sigs, caught[i]);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	for (;;) {
		pid_t done = waitpid(session, &status, WNOHANG);
		if (done == session)
			break;
		if (done < 0 && errno != EINTR)
			exit(1);
		if (sigwaitinfo(&sigs, &si) < 0)
			continue;
		int from_elsewhere = si.si_code == SI_USER && si.si_pid != session;
		switch (si.si_signo) {
		case SIGCHLD:
			break;
		case SIGTSTP: {
			char c;
			struct pollfd pfd = { .fd = ready, .events = POLLIN };
			if (from_elsewhere)
				kill(session, SIGTSTP);
			if (poll(&pfd, 1, 1000) > 0) {
				ssize_t n = read(ready, &c, 1);
				(void)n;
			}
			raise(SIGSTOP);
			break;
		}
		default:
			/* SIGCONT from `fg` went to the whole group; the
			 * rest from the terminal did too */
			if (from_elsewhere || si.si_signo == SIGCONT)
				kill(session, si.si_signo);
			break;
		}
	}
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &sigs, NULL);
		raise(WTERMSIG(status));
	}
	exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

void
standin_start(void)
{
	int pfd[2];
	pid_t parent = getpid();
	if (pipe(pfd) != 0) {
		warn("no stand-in for C-z (pipe: %s): C-z would stop the sound", strerror(errno));
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		warn("no stand-in for C-z (fork: %s): C-z would stop the sound", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return;
	}
	if (pid > 0) {
		close(pfd[1]);
		stand_in(pid, pfd[0]);
	}
	close(pfd[0]);
	ready_fd = pfd[1];
	/* the terminal must never stop the session: reads and writes in
	 * the background fail instead, and are not made */
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	/* a stand-in killed outright ends the session (cleanly, autosaved) */
	prctl(PR_SET_PDEATHSIG, SIGHUP);
	if (getppid() != parent)
		raise(SIGHUP);
}
