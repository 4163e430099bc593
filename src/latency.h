/*
 * src/latency.h — the delay a patch adds between its inputs (or a note)
 * and each output, from the modules that delay their signal (a limiter's
 * look-ahead): what the JACK client reports on top of its own.
 */
#ifndef FORKSYNTH_LATENCY_H
#define FORKSYNTH_LATENCY_H

#include "patch.h"

/* Into frames[c] for each output out.(c+1), c < n (at most p->n_outputs
 * are meaningful; the rest get 0): the longest sum of module latencies on
 * any path that ends there, at `rate`.  A feedback loop counts once. */
void patch_latency(const struct patch *p, float rate, unsigned *frames,
    unsigned n);

#endif
