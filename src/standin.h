/*
 * src/standin.h — keeping the sound on across C-z: a live session in a
 * terminal runs in a child process while the process the shell started
 * stands in for it.  C-z stops only the stand-in (the shell sees a stopped
 * job and takes the terminal back); the session, its JACK client and its
 * DSP child play on.  `fg` continues both, and the UI draws again.
 */
#ifndef FORKSYNTH_STANDIN_H
#define FORKSYNTH_STANDIN_H

/*
 * Call before any thread exists, when stdin is a terminal.  Forks: the
 * child returns from here and runs the session; the parent never returns:
 * it passes on the signals sent to it alone (kill PID), stops itself on
 * C-z once the session has given the terminal back (standin_suspended),
 * and exits as the session does.  Without a fork (it failed) it returns in
 * the one process, and C-z stops everything as before.
 */
void standin_start(void);

/* Whether this process runs under a stand-in. */
int standin_active(void);

/* Tell the stand-in that the terminal is given back after a SIGTSTP: it
 * may stop now.  Async-signal-safe; a no-op without a stand-in. */
void standin_suspended(void);

#endif
