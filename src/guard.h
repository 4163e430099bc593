/*
 * src/guard.h — keeps blow-ups out of what forksynth plays: the cheap test
 * the DSP child runs on every module's output (non-finite, or beyond
 * +60 dBFS: the module is reset), the clamp the parent applies to every
 * block it takes from shared memory (non-finite samples become 0, the rest
 * is held within the output ceiling, both counted), and the rate-limited
 * report of module resets.
 *
 * guard_exceeds and guard_copy are real-time safe: no allocation, lock,
 * print or system call.
 */
#ifndef FORKSYNTH_GUARD_H
#define FORKSYNTH_GUARD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* A module output beyond this magnitude (+60 dBFS), or not finite, has
 * blown up: the module is reset. */
#define GUARD_BLOWUP_LIMIT 1000.0f

/* The final outputs are held within +-GUARD_CEILING: 0 dBFS, full scale for
 * every sound card and fixed-point file (see forksynth(1), OUTPUT SAFETY). */
#define GUARD_CEILING 1.0f

/* Output channels counted one by one; any beyond share the last count. */
#define GUARD_MAX_CHANNELS 64

/* The bits of |limit| as a float: |x| > limit, or x not finite, exactly
 * when (bits of x with the sign cleared) > these bits. */
uint32_t guard_limit_bits(float limit);

/* Whether any of x[0 .. n) is not finite or beyond the limit given by
 * `limit_bits` (guard_limit_bits): one branch-free pass. */
int guard_exceeds(const float *x, unsigned n, uint32_t limit_bits);

/* The largest |x[i]|, for messages; *nonfinite set when a sample is NaN
 * or infinite (which then does not count in the largest). */
float guard_peak(const float *x, unsigned n, int *nonfinite);

/* Per output channel: samples held at the ceiling, samples not finite
 * (replaced by 0).  Written by the one thread that copies blocks, read by
 * anyone. */
struct guard_counts {
	_Atomic uint64_t clipped;
	_Atomic uint64_t nonfinite;
};

struct output_guard {
	float ceiling;             /* GUARD_CEILING, or FLT_MAX with no clip */
	uint32_t limit_bits;       /* guard_limit_bits(ceiling) */
	struct guard_counts ch[GUARD_MAX_CHANNELS];
};

/* Set up a guard: clamp at GUARD_CEILING, or with `no_clip` let every
 * finite value through (non-finite ones still become 0). */
void guard_init(struct output_guard *g, int no_clip);

/*
 * Copy n samples of output channel c from `src`, which another process may
 * be writing at the same time, into `dst`: each sample of src is read
 * once; what lands in dst is finite and within the ceiling, and the
 * changes are counted.
 */
void guard_copy(struct output_guard *g, unsigned c, float *restrict dst,
    const float *src, unsigned n);

/* Apply the same rule in place (an offline buffer nobody else writes). */
void guard_apply(struct output_guard *g, unsigned c, float *x, unsigned n);

/* Counts summed over every channel. */
void guard_totals(const struct output_guard *g, uint64_t *clipped,
    uint64_t *nonfinite);

/* Channel c's counts (clipped + non-finite: anything that changed). */
uint64_t guard_channel_changed(const struct output_guard *g, unsigned c);

/* ------------------------------------------------------------ reset reports
 * The DSP child's control thread gathers the module resets the engine
 * made and tells of them: a module's first reset at once, later ones of
 * the same module at most once every GUARD_REPORT_NS, summed. */

#define GUARD_REPORT_NS 5000000000ull
#define GUARD_REPORT_NAMES 128

struct reset_note {
	char name[32];             /* the patch module's name */
	char type[32];             /* its type */
	unsigned long pending;     /* resets not told of yet */
	unsigned long total;       /* resets ever */
	float peak;                /* largest finite |x| among the pending */
	int nonfinite;             /* a pending one was not finite */
	uint64_t told_ns;          /* when last told of, 0: never */
};

struct reset_log {
	struct reset_note notes[GUARD_REPORT_NAMES];
	unsigned n;
};

/* Add `count` resets of module `name` (of `type`). */
void reset_log_add(struct reset_log *log, const char *name, const char *type,
    unsigned long count, float peak, int nonfinite);

/* The next message due at `now_ns` ("warn module ..."), into buf; 1 when
 * there was one, 0 when nothing is due. */
int reset_log_next(struct reset_log *log, uint64_t now_ns, char *buf,
    size_t size);

#endif
