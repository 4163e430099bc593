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

#include "patch.h"

/* Frames a module is asked for at a time; longer blocks are split. */
#define GRAPH_CHUNK 256

/* Note events queued for the coming graph_process call, at most. */
#define GRAPH_MAX_EVENTS 512

struct graph;

/*
 * Compile `p` for `rate` frames per second.  When `old` is given, every
 * instance whose module has the same name, type and scope there (and whose
 * voice still exists) continues from the old instance's state, so an edit
 * does not restart oscillators, envelopes or delay lines.  Never fails but
 * for memory (which is fatal on the control plane).
 */
struct graph *graph_compile(const struct patch *p, float rate,
    const struct graph *old);
void graph_free(struct graph *g);

/*
 * Run `frames` frames: in[c] holds the engine's input channel c (or is
 * NULL for silence), out[c] receives output channel c.  Channel counts are
 * the patch's.  Queued note events take effect at their frame offsets.
 */
void graph_process(struct graph *g, const float *const *in, float *const *out,
    unsigned frames);

/* Queue a note on/off or pitch bend at `frame` of the coming block.
 * Returns -1 when the queue is full (the event is dropped and counted). */
int graph_note_on(struct graph *g, unsigned frame, unsigned note,
    unsigned velocity);
int graph_note_off(struct graph *g, unsigned frame, unsigned note);
int graph_pitch_bend(struct graph *g, unsigned frame, float amount);
/* Release every voice at the start of the coming block. */
void graph_all_notes_off(struct graph *g);

/* Set parameter `param` of patch module `module` in every instance. */
void graph_set_param(struct graph *g, int module, unsigned param, float value);

/* Counters for the curious: events dropped because the queue was full. */
unsigned long graph_dropped_events(const struct graph *g);

/* Instances (modules times voices) in the graph. */
unsigned graph_instance_count(const struct graph *g);

#endif
