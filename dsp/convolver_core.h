/*
 * dsp/convolver_core.h — zero-latency, non-uniformly partitioned FFT
 * convolution of a stereo signal with a mono, stereo or true-stereo impulse
 * response (IR).  Float arrays in, float arrays out: IR files and module
 * plumbing belong to the caller.
 *
 * Two objects:
 *
 *   struct conv_ir   the prepared IR: partition spectra and FFTW plans.
 *                    Built and freed on the CONTROL thread only (FFTW's
 *                    planner is not thread-safe); read-only afterwards, so
 *                    any number of `struct conv` may share one.
 *   struct conv      the running state of one instance: input history,
 *                    spectra delay lines, output accumulators.  All memory
 *                    is allocated by conv_create; processing never
 *                    allocates, locks, plans or makes system calls.
 *
 * Routing.  The input is always a pair (left, right); the output a pair.
 *   1 IR channel  (mono):        L -> L and R -> R, both with that IR.
 *   2 IR channels (stereo):      L -> L with IR 0, R -> R with IR 1.
 *   4 IR channels (true stereo): IR 0 = L->L, 1 = L->R, 2 = R->L, 3 = R->R;
 *                                out_l = L*IR0 + R*IR2, out_r = L*IR1 + R*IR3.
 *
 * Splitting a block across two threads.  conv_process(c, ...) is
 * conv_process_head(c, ...) followed by conv_process_tail(c).  An engine
 * may instead call, once per block, both halves in any order or
 * concurrently from two threads, provided that:
 *   1. every block calls conv_process_head once and conv_process_tail
 *      once (on the same `struct conv`);
 *   2. both calls of block k have returned, and their effects are visible
 *      (a barrier, join or any release/acquire pair), before either call of
 *      block k + 1 starts.
 * The head takes the block's input and writes its output: it runs the
 * direct-form first taps and the short partitions, and plays what the tail
 * computed in earlier blocks.  It ends by publishing, with release, how
 * many frames it has done.  The tail reads that count (acquire) and uses
 * only input below it, and writes only output frames at least
 * CONV_MAX_BLOCK beyond it, which no head reads before the next block; it
 * finishes each of its blocks at least one call before it is played.  The
 * two halves never touch the same memory during a block except that count,
 * and each output frame of the tail is computed by one block of one level,
 * so the result is bit-identical whatever the order or overlap of the two
 * calls.  If the contract is broken by skipping tail calls, the tail may
 * fall behind: blocks it can no longer deliver safely are dropped (silent)
 * and counted by conv_late_blocks(); it catches up by itself.
 */
#ifndef FORKSYNTH_DSP_CONVOLVER_CORE_H
#define FORKSYNTH_DSP_CONVOLVER_CORE_H

#include <stddef.h>

/* The most frames one process call may take. */
#define CONV_MAX_BLOCK 256

struct conv_ir;
struct conv;

/*
 * Prepare an IR of `length` frames (>= 1) from n_channels arrays (1, 2 or
 * 4; see Routing above).  The samples are copied.  Plans FFTs: CONTROL
 * THREAD ONLY.  Returns NULL and a message in err on failure.
 */
struct conv_ir *conv_ir_create(const float *const *channels,
    unsigned n_channels, size_t length, char *err, size_t err_size);
/* Free an IR (control thread only; no `struct conv` may still use it). */
void conv_ir_free(struct conv_ir *ir);
/* The IR's length in frames. */
size_t conv_ir_length(const struct conv_ir *ir);
/* Its channel count: 1, 2 or 4. */
unsigned conv_ir_channels(const struct conv_ir *ir);
/* Bytes it holds (spectra of all partitions), not counting FFTW's plans. */
size_t conv_ir_memory(const struct conv_ir *ir);

/* Running state for `ir` (which must outlive it), silent history; NULL when
 * out of memory.  Off the real-time path. */
struct conv *conv_create(const struct conv_ir *ir);
void conv_free(struct conv *c);
/* Bytes allocated by conv_create for this instance (for the UI / budget). */
size_t conv_memory(const struct conv *c);
/* Forget all history: the next block starts from silence.  Not real-time
 * safe in cost (clears all state) but allocates nothing. */
void conv_reset(struct conv *c);

/*
 * Real-time: convolve n frames (1 <= n <= CONV_MAX_BLOCK, may change from
 * call to call).  in_r NULL means the right input is in_l.  Output frame t
 * depends on input frames up to and including t: no added latency.  Both
 * outputs are written (overwritten, not added to) and must be distinct;
 * each may be one of the inputs (in-place).  n = 0 is allowed and does
 * nothing but count as a block.
 */
void conv_process(struct conv *c, const float *in_l, const float *in_r,
    float *out_l, float *out_r, unsigned n);
/* The two halves of conv_process; see the contract above. */
void conv_process_head(struct conv *c, const float *in_l, const float *in_r,
    float *out_l, float *out_r, unsigned n);
void conv_process_tail(struct conv *c);
/* Tail blocks dropped because the tail ran too late (0 under the
 * contract).  Any thread. */
unsigned long conv_late_blocks(struct conv *c);

/*
 * FFT plans.  conv_ir_create uses measured plans when FFTW's wisdom holds
 * them, else estimated ones (a few ms to plan; the large transforms run up
 * to 1.7x slower, the whole convolver about 1.2x).  conv_wisdom_measure
 * measures every size the convolver uses (about 3 s the first time), so
 * IRs prepared afterwards get the fast plans; conv_wisdom_save keeps them
 * for the next run and conv_wisdom_load brings them back.  All three return
 * 0 on success, -1 on failure.  Like all FFTW planning they may only run on
 * the one thread that plans (the control thread), never concurrently with
 * conv_ir_create or conv_ir_free.
 */
int conv_wisdom_load(const char *path);
int conv_wisdom_save(const char *path);
int conv_wisdom_measure(void);

#endif
