/*
 * src/live.h — a live session: the JACK client, the engine, the supervisor
 * thread, and (until the terminal UI) the headless command loop on stdin.
 */
#ifndef FORKSYNTH_LIVE_H
#define FORKSYNTH_LIVE_H

#include "jackio.h"
#include "patch.h"

struct live_options {
	struct jack_options jack;
	unsigned threads;           /* DSP threads (0: one per CPU) */
	int no_fork;
	const char *patch_name;     /* for messages: file or "built-in patch" */
	const char *record_path;    /* record from the first period, or NULL */
	const char *record_dir;     /* where `record` without a name writes */
	const char *record_format;  /* audiofile.h's format name, or NULL */
	unsigned record_ports[32];  /* outputs recorded, 0-based */
	unsigned n_record_ports;    /* 0: every output */
	int force;                  /* recordings may replace files */
};

/* Run until stdin ends, `quit`, a signal or the server going away.
 * `patch` is the authoritative patch; it is autosaved on the way out.
 * Returns the process exit status. */
int live_run(const struct live_options *o, struct patch *patch);

/* Write `p` atomically (temporary file, then rename) with mode 0600 to
 * `path`; 0, or -1 with errno. */
int patch_write_atomic(const struct patch *p, const char *path);

/* The autosave file: $XDG_STATE_HOME/forksynth/autosave.fsp (or
 * ~/.local/state/...), its directory created 0700.  Into buf. */
int autosave_path(char *buf, size_t size);

#endif
