/*
 * src/engine.h — the parent's side of the hybrid engine: creates the shared
 * region, spawns the DSP child (fork + exec of this binary with
 * --dsp-child), runs cycles against it with a bounded wait, sends it patch
 * commands, and supervises it: a dead or hung child is replaced and the
 * patch replayed, and the module it was running is named.  Live, a warm
 * standby child holds the patch compiled and takes over at the next cycle
 * when the active one dies or stops; the notes sounding are replayed into
 * it.
 *
 * engine_cycle is real-time safe (no allocation, lock or print; futex
 * calls only).  Everything else is control plane.
 */
#ifndef FORKSYNTH_ENGINE_H
#define FORKSYNTH_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "patch.h"
#include "region.h"

struct engine_options {
	unsigned rate;              /* frames per second */
	unsigned max_block;         /* frames per cycle, at most */
	unsigned graph_block;       /* the child runs a cycle as consecutive
				       graph blocks of this many frames (an
				       offline render hands over several
				       blocks per cycle: fewer wake-ups, the
				       same output); 0: a cycle is one block */
	unsigned n_inputs, n_outputs;
	unsigned threads;           /* DSP threads in the child, >= 1 */
	int pipeline;               /* play cycle k-1 while k runs: one block late */
	int no_fork;                /* run the DSP threads in this process */
	int live;                   /* a live session: keep a warm standby
				       child (forked only) and replay the
				       notes sounding into a new child;
				       offline render replays its score */
	unsigned hang_ms;           /* a child silent this long is hung (default 1000) */
	int hot;                    /* workers between cycles: ENGINE_HOT_* */
	unsigned rt_priority;       /* SCHED_FIFO priority for the DSP threads, just
				       below the audio thread's; 0: normal scheduling
				       (offline render) */
	int no_clip;                /* outputs not held within GUARD_CEILING
				       (non-finite samples still become 0) */
};

/* Whether the DSP threads stay awake, spinning, between cycles: by the
 * load (hot while the DSP needs a quarter of the period or more), always,
 * or never. */
enum engine_hot {
	ENGINE_HOT_AUTO = 0,
	ENGINE_HOT_ON,
	ENGINE_HOT_OFF
};

/* What one cycle came to. */
enum engine_status {
	ENGINE_OK = 0,              /* the child's output was copied out */
	ENGINE_LATE,                /* deadline passed: last good block faded out */
	ENGINE_DOWN                 /* no child: silence */
};

struct engine;

/* Create the region and start the first child; returns NULL with a message
 * in err when the child cannot be started at all. */
struct engine *engine_start(const struct engine_options *o, char *err,
    size_t err_size);

/* Stop the child and free everything; leaves nothing in /dev/shm. */
void engine_stop(struct engine *e);

/*
 * One cycle: hand `frames` frames of input and the cycle's note events to
 * the child, wait for its output until the absolute CLOCK_MONOTONIC time
 * `deadline_ns` (0: wait as long as it takes; for offline use), copy the
 * output.  In pipeline mode the output is the previous cycle's.  When the
 * active child has crashed, or after a cycle without its output has exited
 * or stopped, and a standby is ready, the standby takes this cycle.
 */
enum engine_status engine_cycle(struct engine *e, const float *const *in,
    float *const *out, unsigned frames, const struct region_midi *events,
    unsigned n_events, uint64_t deadline_ns);

/* JACK transport at the first frame of the next engine_cycle (the JACK
 * thread, before it): handed to the child with that cycle.  Never called
 * (offline renders), the transport stands and the patch's tempo rules.
 * Real-time safe. */
void engine_transport(struct engine *e, const struct region_transport *t);

/* Send one patch command (already validated against the parent's patch)
 * to the child and to the standby.  Waits while the control ring is full.
 * Returns 0, or -1 (no child, or longer than the ring can ever hold). */
int engine_command(struct engine *e, const char *line);

/*
 * The probe: from now on the child copies output `target` ("NAME.OUTPUT",
 * already checked against the patch; "" or NULL: none) of a module, summed
 * over its voices, into the region's probe ring; a new child gets the
 * same request after its patch.  The target is kept by name: a module
 * renamed or removed is no longer found (nothing is written) until one of
 * that name is back.  Call with the session's lock held.  Returns 0, or -1
 * when there is no child now (a new one will get it).
 */
int engine_probe(struct engine *e, const char *target);
/* The target asked for, "" for none. */
const char *engine_probe_target(const struct engine *e);

struct scope_history;
/* Move the probed samples the active child has written into h, each one
 * checked (scope_history_append); a break (a new child, a full ring)
 * becomes a gap in h.  Returns the samples moved, 0 when none came, -1
 * while there is no probe or the child has not taken the request yet.
 * One reader, with the session's lock held. */
int engine_probe_read(struct engine *e, struct scope_history *h);

/* Replace the child's patch with `p` in one message ("!load" and p as
 * text), applied as one unit: only numeric parameters differ, and they
 * are set; else one new graph.  Counts as one command for engine_sync. */
int engine_load(struct engine *e, const struct patch *p);

/* Wait until the child has put every command sent so far into effect, at
 * most timeout_ms.  Returns 0; 1 on timeout (the child lives and is still
 * at work: reading files, planning FFTs); -1 when the child is dead. */
int engine_sync(struct engine *e, unsigned timeout_ms);

/*
 * Look after the child: reap a dead one, kill a hung one (no heartbeat for
 * hang_ms, or `kill_now`) or a stopped one, spawn a replacement (backing
 * off on repeated crashes) and replay `p` into it.  Live, with a standby
 * ready, the JACK thread has already switched to it (engine_cycle): this
 * reaps and reports the old child; and it keeps a standby started with
 * `p`, replacing one that dies, stops or hangs.  Writes what happened into
 * msg.  Returns 0 when nothing happened, 1 after a restart or a takeover
 * (or news of the standby), -1 when the engine has given up (the child
 * crashes on every start).  Called with the commands' lock held.
 */
int engine_supervise(struct engine *e, const struct patch *p, int kill_now,
    char *msg, size_t msg_size);

/* After the engine gave up (the child crashed on every start), try again
 * with patch `p` (the user changed it).  Returns 0 when it had not given
 * up, 1 after a start, -1 when the start failed; msg says what happened. */
int engine_retry(struct engine *e, const struct patch *p, char *msg,
    size_t msg_size);

/* Read the child's next event message ("error ...", "warn ...") into buf;
 * returns its length, 0 when there is none. */
int engine_poll_event(struct engine *e, char *buf, size_t size);

/* A DSP thread's scheduling as the thread reported it, checked by the
 * parent: anything the child could not have meant reads as unknown. */
struct engine_sched {
	int policy;                 /* SCHED_OTHER, SCHED_FIFO, SCHED_RR,
				       SCHED_BATCH or SCHED_IDLE; -1 unknown
				       (not said yet, or nonsense) */
	int priority;               /* 1..99 under SCHED_FIFO and SCHED_RR,
				       else 0 */
};

/* Where the warm standby stands. */
enum engine_standby {
	ENGINE_STANDBY_OFF = 0,     /* none kept (offline, --no-fork) */
	ENGINE_STANDBY_NONE,        /* none now (replaced, backing off) */
	ENGINE_STANDBY_STARTING,    /* started, taking the patch */
	ENGINE_STANDBY_READY        /* ready to take over */
};

/* Counters and facts for reports and the UI. */
struct engine_info {
	pid_t child_pid;            /* 0 with --no-fork or no child */
	pid_t standby_pid;          /* the standby's child, 0 when none */
	enum engine_standby standby;
	unsigned long takeovers;    /* restarts that were a standby taking over */
	unsigned long standby_lost; /* standbys replaced (died, stopped, hung) */
	unsigned long cycles, late, down, restarts;
	unsigned long shed;             /* cycles not asked of an overloaded DSP */
	int failed;                 /* gave up respawning */
	unsigned crash_streak;      /* deaths in a row that were the child's
				       own crash soon after its start or
				       takeover; kills from outside do not
				       count and end a streak */
	unsigned crash_limit;       /* the streak at which it gives up */
	int last_own_fault;         /* the last death was the child's own doing
				       (a fatal signal it caught, an exit, a
				       hang, or no start), not a kill from
				       outside */
	unsigned threads;
	unsigned rt_priority;       /* SCHED_FIFO priority asked for the DSP
				       threads, 0: none asked */
	/* per DSP thread (0 is the engine thread), threads entries */
	struct engine_sched sched[REGION_MAX_THREADS];
	/* sums over the DSP threads, cumulative for this child (a respawned
	 * one starts again from zero) */
	uint64_t busy_ns;           /* inside tasks */
	uint64_t idle_ns;           /* spinning with nothing to run */
	uint64_t sleeps;            /* futex sleeps while idle */
	uint64_t steals;            /* tasks taken from another's queue */
	uint64_t contended;         /* compare-and-swaps lost taking a task */
	/* output samples taken from the child, summed over the channels:
	 * held at the ceiling, and not finite (made 0); never reset */
	uint64_t clipped;
	uint64_t nonfinite;
	/* voices that sounded in the child's last cycle, as the child says
	 * (untrusted: any 32-bit value; clamp it to the polyphony); 0 while
	 * no child runs */
	uint32_t voices_sounding;
};
void engine_info(const struct engine *e, struct engine_info *info);

/*
 * Per-module cost: into ns[m] the CLOCK_MONOTONIC nanoseconds the DSP
 * threads have spent in patch module m (m < n_modules), into
 * *profiled_frames the frames of the blocks that were timed (the child
 * times one block in every few).  Both only grow; as a share of one core
 * in real time over an interval: delta(ns[m]) / (delta(profiled_frames) /
 * rate * 1e9).  Module indices are those of the graph generation in
 * engine_region(e)->cost->graph_gen: take a new baseline when it changes.
 * A respawned child starts again from zero (counters go backwards).
 * Returns 0, or -1 when there is no child (nothing written).
 */
int engine_module_cost(const struct engine *e, uint64_t *ns, unsigned n_modules,
    uint64_t *profiled_frames);

/* A policy's name in reports: "other", "fifo", "rr", "batch", "idle", or
 * "unknown" for -1 or anything else. */
const char *engine_sched_name(int policy);

/* Output channel `channel`'s samples clipped or not finite so far (the
 * UI's CLIP mark); only grows. */
uint64_t engine_output_changed(const struct engine *e, unsigned channel);

/* The region, for statistics (read-only use). */
const struct region *engine_region(const struct engine *e);

/* SIGKILL the child (tests and benches: crash recovery). */
void engine_kill_child(struct engine *e);

#endif
