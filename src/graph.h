/*
 * src/graph.h — a patch compiled for running: module instances (voice
 * modules once per voice), their buffers, the order to run them in, and the
 * voice allocator that routes notes to voices.
 *
 * Compiling allocates everything; running allocates nothing.  graph_process
 * and the graph_note / graph_set_param calls are safe on a real-time thread.
 */
#ifndef FORKSYNTH_GRAPH_H
#define FORKSYNTH_GRAPH_H

#include <stdatomic.h>
#include <stdint.h>

#include "patch.h"

/* Frames a module is asked for at a time; longer blocks are split. */
#define GRAPH_CHUNK 256

/* Note events queued for the coming graph_process call, at most. */
#define GRAPH_MAX_EVENTS 512
/* Chunks a block is cut into, at most, so that mapped controllers act at
 * their exact frames; events past that many act at the next chunk start
 * (a flood of controllers cannot multiply a block's cost without end). */
#define GRAPH_MAX_MAP_SPLITS 32

struct graph;

/*
 * Compile `p` for `rate` frames per second.  When `old` is given, every
 * instance whose module has the same name, type and scope there (and whose
 * voice still exists) adopts the old instance's state memory as it is, so
 * an edit restarts no oscillator, envelope or delay line.  `old` may still
 * be running on another thread meanwhile: compiling only reads its layout
 * and takes ownership of the adopted states (old must not run once the new
 * graph has, and freeing old leaves adopted states alone).  Parameters are
 * set at the new graph's first graph_process.  Connections that `old`
 * lacks fade in, and those it has that `p` lacks fade out (graph_continue
 * settles where).  Never fails but for memory (fatal on the control plane).
 */
struct graph *graph_compile(const struct patch *p, float rate,
    struct graph *old);

/* Take over what the running graph `old` knows beyond module state: the
 * voice allocation (the voices both graphs have, when the polyphony
 * changed), the loop edges' last chunks, and where each connection's fade
 * stands, so that an edit changes only what it touches: a connection it
 * adds fades in, one it removes fades out, the rest plays on bit for bit.
 * Real-time safe and bounded (no allocation); call right before the first
 * graph_process of `g`. */
void graph_continue(struct graph *g, const struct graph *old);
void graph_free(struct graph *g);

/* Whether every fade of the edit that made `g` is over (it has run long
 * enough): a module whose connections faded out may go now without a
 * sound.  For another thread than the engine's (a relaxed read). */
int graph_fades_over(const struct graph *g);

/*
 * Run `frames` frames: in[c] holds the engine's input channel c (or is
 * NULL for silence), out[c] receives output channel c.  Channel counts are
 * the patch's.  Queued note events take effect at their frame offsets.
 */
void graph_process(struct graph *g, const float *const *in, float *const *out,
    unsigned frames);

/* Queue a note on or off at `frame` of the coming block.
 * Returns -1 when the queue is full (the event is dropped). */
int graph_note_on(struct graph *g, unsigned frame, unsigned note,
    unsigned velocity);
int graph_note_off(struct graph *g, unsigned frame, unsigned note);
/* Queue any note event (module.h's kinds: notes, bend, mod wheel, sustain,
 * all notes off, all sound off) at ev->frame of the coming block. */
int graph_event(struct graph *g, const struct note_event *ev);
/* The song position and tempo at the first frame of the coming block
 * (dsp/tempo.h), handed to the modules that follow tempo.  Without it the
 * graph goes on from the last one at the same tempo (at first,
 * tempo_default: 120 BPM from position 0). */
void graph_set_tempo(struct graph *g, const struct dsp_tempo *t);

/* Set parameter `param` of patch module `module` in every instance. */
void graph_set_param(struct graph *g, int module, unsigned param, float value);

/* A voice sounds in a block when something that leaves it (an output of
 * one of its voice modules that a global module or an engine output reads)
 * peaks above this: -100 dBFS.  A voice with nothing leaving it never
 * sounds; a patch without voice modules has none sounding. */
#define GRAPH_SOUNDING_PEAK 1e-5f

/* Voices that sounded in the last graph_process block, 0 .. polyphony.
 * Measuring only reads what the voices produced: the audio is the same.
 * For the thread that runs graph_process. */
unsigned graph_voices_sounding(const struct graph *g);

/* Voices asleep through the next block: given a note, released, and quiet
 * (below GRAPH_SOUNDING_PEAK) for 0.1 s; their modules do not run and
 * their outputs read 0 until an event for them comes.  For the thread that
 * runs graph_process. */
unsigned graph_voices_asleep(const struct graph *g);

/* Instances (modules times voices) in the graph. */
unsigned graph_instance_count(const struct graph *g);

/* Tasks in the graph's pool plan: voice and global tasks, partial sums,
 * background work.  A pool made for fewer runs the graph serially. */
unsigned graph_task_count(const struct graph *g);

/* Voices per voice task: 1, or a group run side by side by the modules'
 * lane kernels (dsp/lanes.h); depends on the path and the online CPUs,
 * never changes a sample. */
unsigned graph_lane_group(const struct graph *g);

struct pool;
/* Run this graph's tasks on `pool` from now on (NULL: serially, on the
 * calling thread).  The output is bit-identical either way. */
void graph_set_pool(struct graph *g, struct pool *pool);

/* The patch module this thread is running now, or -1: read by the DSP
 * child's fatal-signal handler to blame a crash on a module. */
extern _Thread_local volatile int graph_running_module;

/* Write, per task, the module it is running into slots[task] (n slots),
 * so that another process can see where a hung thread is stuck; a sum task
 * writes the module its time is charged to (see graph_set_cost). */
void graph_set_blame(struct graph *g, _Atomic int32_t *slots, unsigned n);

/* Time the instances in the coming graph_process calls: pool thread t
 * (pool_thread_index) adds the CLOCK_MONOTONIC nanoseconds it spends in
 * patch module m, its inputs and background work included, to rows[t][m];
 * rows has a row per pool thread.  The partial sums of a global module's
 * inputs count to that module; the sums of an engine output to the module
 * of its first source that a task produces (none when no task does).  NULL
 * stops timing.  Real-time safe; call between graph_process calls. */
void graph_set_cost(struct graph *g, _Atomic uint64_t (*rows)[PATCH_MAX_MODULES]);

/* Modules reset since the last call: an instance whose output went
 * non-finite or beyond +60 dBFS (src/guard.h) has its outputs silenced at
 * once and is reset between chunks, its parameters kept; the rest of the
 * graph plays on.  `name` and `type` point into the graph. */
struct graph_reset {
	int module;              /* patch module index */
	const char *name, *type;
	unsigned count;          /* resets (of any of its voices) */
	float peak;              /* largest finite |output| that caused one */
	int nonfinite;           /* one was caused by a NaN or infinity */
};

/* Take up to `max` modules reset since the last call into out; returns
 * how many.  For the one thread that owns the graph's life (the child's
 * control thread), while the engine may be running it. */
unsigned graph_take_resets(struct graph *g, struct graph_reset *out,
    unsigned max);

/* The error of a resource (a file) that failed to load while compiling,
 * or NULL; the instance kept what it had. */
const char *graph_load_error(const struct graph *g);

/* The patch module called `module` and the index of its output `port`
 * (into *port_index), or -1 when there is no such module or output.
 * Real-time safe (compares names, allocates nothing). */
int graph_find_output(const struct graph *g, const char *module,
    const char *port, unsigned *port_index);

/* From the coming graph_process calls on: write output `port` of patch
 * module `module`, summed over its voices (in voice order), into dst[0 ..
 * frames) of each call; module -1 (or an impossible one) stops it.
 * Real-time safe. */
void graph_set_probe(struct graph *g, int module, unsigned port, float *dst);


#endif
