/*
 * src/child.h — the DSP side of the engine: a control thread that turns
 * patch commands from the control ring into graphs, and an engine thread
 * (with the pool's workers) that runs one cycle per request.  It runs in the
 * forked child (`forksynth --dsp-child`), or inside the parent for --no-fork.
 */
#ifndef FORKSYNTH_CHILD_H
#define FORKSYNTH_CHILD_H

#include "region.h"

struct dsp;

/* The exit status of a child that found its control ring corrupt: it can
 * no longer take commands, so it ends and the parent starts a fresh one
 * and replays the patch (with --no-fork the control thread stops instead,
 * with an error event). */
#define CHILD_EXIT_CORRUPT_RING 70

/* Start the DSP threads on an attached region; the region must stay mapped
 * until dsp_stop.  Sets sync->ready once the engine thread waits for work.
 * Returns NULL with a message in err on failure. */
struct dsp *dsp_start(struct region *r, char *err, size_t err_size);

/* Stop and join the threads, free every graph. */
void dsp_stop(struct dsp *d);

/* Tests only: when set (by the fault-injection build's `fault` module),
 * called by the engine thread on each cycle's output block after the graph
 * has run, to play a child that writes garbage there.  NULL otherwise. */
extern void (*child_output_hook)(float *const *out, unsigned n_out,
    unsigned frames);

/* The hidden entry point `forksynth --dsp-child FD SIZE PARENT_PID`:
 * map the region, catch fatal signals to blame a module, run until the
 * parent goes away.  Returns the process exit status. */
int child_main(int argc, char **argv);

#endif
