/*
 * src/region.h — the layout of the one shared-memory region where the parent
 * and the DSP child meet: header, cycle sync, audio and MIDI blocks, the
 * control and event rings, per-thread statistics, per-module cost.
 *
 * WARNING: this is a wire format between two processes.  Offsets, never
 * pointers; fixed-width fields; every index that one side writes often sits
 * alone on its 64-byte line.  Change a field and bump REGION_VERSION: the
 * child refuses a region whose magic or version differs from its own.
 */
#ifndef FORKSYNTH_REGION_H
#define FORKSYNTH_REGION_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "pool.h"
#include "ring.h"

#define REGION_MAGIC    0x464b5359u      /* "FKSY" */
#define REGION_VERSION  8u

#define REGION_MAX_THREADS   POOL_MAX_THREADS
/* Tasks in a graph's plan, at most, each with a task -> running module
 * slot: 4096 voices in a few voice stages, their partial sums, the globals
 * (a plan with more runs serially). */
#define REGION_MAX_TASKS     32768
#define REGION_MAX_MODULES   128         /* cost rows: PATCH_MAX_MODULES */
#define REGION_MAX_EVENTS    512         /* note events per cycle */
/* A whole patch goes as one message ("!load"), of at most half the ring:
 * the largest patch (128 modules with 31-byte names, every parameter set,
 * 255-byte file names all escaped, 512 connections) saves to about 120 KiB,
 * so 512 KiB leaves twice that. */
#define REGION_CONTROL_BYTES (512u << 10)
#define REGION_EVENT_BYTES   (64u << 10)
/* Samples of the probed signal (`probe NAME.OUTPUT`) the child may write
 * ahead of the parent's reading: 0.68 s at 48 kHz. */
#define REGION_PROBE_FRAMES  32768u

/* Header flags. */
#define REGION_PIPELINE 0x1u             /* the child may run a period late */
#define REGION_HOT_ON   0x2u             /* workers spin between cycles, always */
#define REGION_HOT_OFF  0x4u             /* workers sleep between cycles, always
					    (neither: by the DSP load) */

/* What the parent fixes before spawning; read-only for the child. */
struct region_header {
	uint32_t magic;
	uint32_t version;
	uint64_t size;                   /* bytes of the whole region */
	uint32_t rate;                   /* frames per second */
	uint32_t max_block;              /* frames per cycle, at most */
	uint32_t n_inputs, n_outputs;    /* audio channels */
	uint32_t n_threads;              /* DSP threads in the child */
	uint32_t flags;                  /* REGION_* */
	uint64_t off_audio;              /* float in[2][n_in][max] then out[2][n_out][max] */
	uint64_t off_midi;               /* struct region_midi[2][REGION_MAX_EVENTS] */
	uint64_t off_control;            /* ring: parent -> child commands */
	uint64_t off_events;             /* ring: child -> parent events */
	uint64_t off_stats;              /* struct pool_thread_stats[REGION_MAX_THREADS] */
	uint64_t off_tasks;              /* _Atomic int32_t[REGION_MAX_TASKS] */
	uint64_t off_cost;               /* struct region_cost */
	uint64_t off_probe;              /* struct region_probe, then its ring */
	uint32_t rt_priority;            /* SCHED_FIFO priority of DSP threads, 0: none */
	uint32_t pad[1];
};

/* One note event of a cycle, at a frame offset inside it. */
struct region_midi {
	uint32_t frame;
	uint8_t kind;                    /* enum note_event_kind */
	uint8_t note;
	uint8_t velocity;
	uint8_t channel;                 /* 0..15, or NOTE_CHANNEL_ANY */
	float amount;
	uint32_t origin;                 /* parent: the first cycle holding it */
};

/*
 * JACK transport at a cycle's first frame, as the JACK thread read it
 * (jack_transport_query).  Written by the parent before it publishes the
 * cycle; the child checks what it uses (src/child.c, song_tempo): a BPM
 * that is not finite or not in TRANSPORT_MIN_BPM..TRANSPORT_MAX_BPM, or a
 * beat type outside 1..128, make it ignore the BBT part.  Bar, beat, tick
 * and the meter are handed over for completeness; the position is taken
 * from `frame`.
 */
#define REGION_TRANSPORT_ROLLING 0x1u    /* transport rolls */
#define REGION_TRANSPORT_BBT     0x2u    /* bar, beat, tick and bpm are valid
					    (a timebase master runs) */
struct region_transport {
	uint32_t flags;                  /* REGION_TRANSPORT_* */
	int32_t bar;                     /* 1-based */
	int32_t beat;                    /* 1-based, within the bar */
	int32_t tick;                    /* 0-based, within the beat */
	uint64_t frame;                  /* transport frame */
	double ticks_per_beat;
	double bpm;                      /* beats per minute */
	float beats_per_bar;
	float beat_type;                 /* note value of a beat: 4 = quarter */
};

/* A value on its own cache line. */
struct region_line {
	_Atomic uint32_t v;
	uint32_t pad[15];
};

/* The per-cycle handshake and the liveness signals. */
struct region_sync {
	struct region_line req_seq;      /* parent: cycle requested (futex) */
	struct region_line done_seq;     /* child: cycle finished (futex) */
	struct region_line child_sleeping;   /* child sleeps on req_seq */
	struct region_line parent_waiting;   /* parent sleeps on done_seq */
	struct region_line control_seq;  /* parent: bumped per control message (futex) */
	struct region_line ready;        /* child: 1 once it runs (futex) */
	struct region_line heartbeat;    /* child: bumped every cycle and idle tick */
	struct region_line dead;         /* child: fatal signal number */
	struct region_line applied;      /* child: control messages applied */
	struct region_line graph_gen;    /* child: generation of the running graph */
	struct region_line taken_seq;    /* child: the cycle it last started */
	struct region_line voices_sounding; /* child: voices that sounded in
					    the last cycle (graph.h); the
					    parent clamps it to the polyphony */
	/* written by the parent before publishing req_seq, per seq parity */
	uint32_t frames[2];              /* frames of the cycle */
	uint32_t graph_block[2];         /* run as graph blocks of this many
					    frames, each like a cycle of its
					    own; 0 or >= frames: one */
	uint32_t n_midi[2];              /* events in the MIDI block */
	uint64_t clock[2];               /* frame clock at the cycle's start */
	uint32_t after_gap[2];           /* 1: the parent played silence (a fade
					    to it) before this cycle; informative
					    only: graph changes no longer fade
					    the whole output */
	struct region_transport transport[2]; /* at the cycle's first frame */
	/* written by the child's fatal-signal handler */
	_Atomic int32_t blame_module;    /* patch module running, or -1 */
	_Atomic int32_t blame_signal;
	uint32_t pad[8];
};

/*
 * Per-module cost, sampled: the child's engine thread profiles one block
 * in every few, and in those blocks each DSP thread adds the CLOCK_MONOTONIC
 * nanoseconds it spent in each module (process and background work, its
 * inputs summed) to its own row, at the module's patch index.  A row is
 * written by its thread only (relaxed load and store); anyone may read.
 * Cost as a share of one core in real time over an interval is
 * delta(sum of ns) / (delta(frames) / rate * 1e9).  Counters only grow,
 * but start again from zero in a respawned child.
 */
struct region_cost {
	_Atomic uint64_t frames;         /* engine: frames of the profiled blocks */
	_Atomic uint32_t graph_gen;      /* engine: generation of the graph whose
					    module indices the last profiled
					    block used */
	uint32_t pad[13];
	_Atomic uint64_t ns[REGION_MAX_THREADS][REGION_MAX_MODULES];
};

/*
 * The probe: the signal of one module output, which the child's engine
 * thread writes after each cycle into an element ring of floats (child ->
 * parent) that follows this struct.  The parent asks for a signal with
 * "!probe ID NAME.OUTPUT" (or "!probe ID off") on the control ring; the
 * engine thread stores ID in `id` (release) once the graph it runs uses
 * that request, before it writes any sample of it, so whatever the parent
 * finds in the ring after it has seen its ID (acquire) and emptied the
 * ring once is that signal.  A block the ring has no room for is not
 * written and `dropped` grows.  Like all the child writes, the samples
 * and both words are untrusted: the parent checks every one.
 */
struct region_probe {
	struct region_line id;           /* child: the probe request in effect */
	struct region_line dropped;      /* child: blocks not written (full) */
};

/* The region as one process sees it: its mapping and handles. */
struct region {
	void *base;
	size_t size;
	/* This side's own copy of the header, taken when it laid the region
	 * out (parent) or checked it (child): every dimension and offset is
	 * read from here, never again from shared memory, which the other
	 * side may scribble on at any time. */
	struct region_header dims;
	struct region_header *hdr;      /* the shared header: write only */
	struct region_sync *sync;
	float *audio;
	struct region_midi *midi;
	struct pool_thread_stats *stats;
	_Atomic int32_t *task_module;
	struct region_cost *cost;
	struct region_probe *probe;
	struct ring probe_ring;          /* this side's handle: child writes */
	struct ring control;             /* this side's handle */
	struct ring events;              /* this side's handle */
};

/* Bytes the region needs for these dimensions. */
size_t region_size(unsigned max_block, unsigned n_inputs, unsigned n_outputs);

/* Lay the region out in freshly zeroed memory `base` of `size` bytes (the
 * parent) and fill `r`. */
void region_format(struct region *r, void *base, size_t size, unsigned rate,
    unsigned max_block, unsigned n_inputs, unsigned n_outputs,
    unsigned n_threads, unsigned flags, unsigned rt_priority);

/* Check and attach to a region laid out by the parent (the child).
 * Returns 0, or -1 with a message in err. */
int region_attach(struct region *r, void *base, size_t size, char *err,
    size_t err_size);

/* Before a new child is spawned: write the header again from this side's
 * copy, lay the rings out afresh and reset the cycle state, whatever the
 * last child left there. */
void region_reset(struct region *r);

/* Input (dir 0) or output (dir 1) block of channel `ch` for seq parity. */
float *region_audio(const struct region *r, int dir, unsigned parity,
    unsigned ch);

#endif
