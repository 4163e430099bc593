/*
 * dsp/blep.h — band-limited corrections for the discontinuities of a
 * piecewise-smooth waveform: steps, slope changes and the next two orders,
 * at any sub-sample time, with a linear-phase kernel.
 *
 * A naive waveform with a jump of D0 in value, D1 in slope (per sample),
 * D2 in second derivative and D3 in third at time t_e becomes band-limited
 * when D_k * r_k(n - t_e) is added to every sample n within BLEP_ZC samples
 * of t_e, where r_k is the band-limited k-th integral of a unit step minus
 * the naive one (x^k / k! from t_e on).  The kernel is symmetric, so the
 * corrected signal is the naive one delayed by BLEP_ZC samples: a user keeps
 * a ring of at least 2 * BLEP_ZC pending samples and emits each BLEP_ZC
 * samples after writing its naive value.
 *
 * The kernel is a Kaiser-windowed sinc cut off at 0.45 of the rate: flat
 * (within 0.001 dB) to 0.40 of the rate and down more than 100 dB from
 * half the rate on, so nothing it passes folds back (the flat band is
 * 19.2 kHz wide at 48 kHz).
 *
 * blep_init() builds the table once (idempotent, thread-safe; call it from
 * a module's init, never from process); blep_add() is real-time safe.
 */
#ifndef FORKSYNTH_DSP_BLEP_H
#define FORKSYNTH_DSP_BLEP_H

#define BLEP_ZC 32                     /* samples either side of the event */
#define BLEP_TAPS (2 * BLEP_ZC)        /* samples one event touches */
#define BLEP_ORDERS 4                  /* value and three derivatives */
#define BLEP_PHASES 128                /* table rows per sample of event time */

/* Build the residual table once; safe from any thread, any number of times. */
void blep_init(void);

/*
 * Add the corrections for one event to ring entries first + j, j = 0 ..
 * BLEP_TAPS - 1, where entry i is ring[(i & mask) * stride] (stride 1: a
 * ring of its own; W: one lane of W rings interleaved), ring entry
 * first + BLEP_ZC is the first sample at or after the event, and the event
 * lies `before` samples (0 <= before <= 1) earlier than that sample.  d[k]
 * is the jump of the k-th derivative in per-sample units, k < orders <=
 * BLEP_ORDERS (later orders count as 0).
 */
void blep_add(float *ring, unsigned mask, unsigned first, unsigned stride,
    float before, const float *d, unsigned orders);

/* The type of blep_add. */
typedef void blep_add_fn(float *ring, unsigned mask, unsigned first,
    unsigned stride, float before, const float *d, unsigned orders);

#if defined(__x86_64__)
/* blep_add in AVX encoding, for callers compiled for AVX2 (x86-64 with
 * AVX2 only): their registers' upper halves make blep_add's SSE code
 * wait, 2x slower measured on an AMD EPYC. */
blep_add_fn blep_add_avx2;
#endif

#endif
