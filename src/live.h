/*
 * src/live.h — the headless front end of a live session: commands on
 * stdin, answers on stdout, events on stderr.
 */
#ifndef FORKSYNTH_LIVE_H
#define FORKSYNTH_LIVE_H

#include "patch.h"
#include "session.h"

/* Run until stdin ends, `quit`, a signal or the server going away.
 * `patch` is the authoritative patch; it is autosaved on the way out.
 * Returns the process exit status. */
int live_run(const struct live_options *o, struct patch *patch);

/* Block SIGINT, SIGTERM and SIGHUP (plus the `n` signals of `extra`) in
 * every thread started after this call and return a signalfd that reads
 * them, or -1.  SIGPIPE is ignored. */
int live_signals(const int *extra, unsigned n);

#endif
