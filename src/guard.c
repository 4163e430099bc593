/*
 * src/guard.c — keeps blow-ups out of what forksynth plays (src/guard.h):
 * the one-pass test of a buffer against a magnitude limit, the parent's
 * clamping copy out of shared memory, and the DSP child's rate-limited
 * report of the modules it reset.
 *
 * The test works on the bits: with the sign cleared, a float's bits order
 * as its magnitude does, and NaN and the infinities sit above every finite
 * value.  So "limit - (bits & 0x7fffffff)", computed unsigned, has its top
 * bit set exactly for a sample that is beyond the limit or not finite, and
 * OR-ing those differences over a block answers for the whole block with
 * integer operations four lanes at a time (SSE2, NEON), no branch.
 */
#include <math.h>
#include <float.h>
#include <stdio.h>
#include <string.h>

#include "guard.h"

/* Four lanes of 32 bits (GCC and clang vector extension). */
typedef uint32_t guard_v4 __attribute__((vector_size(16)));

#define SIGN_CLEAR 0x7fffffffu
#define EXP_ALL 0x7f800000u

uint32_t
guard_limit_bits(float limit)
{
	uint32_t bits;
	memcpy(&bits, &limit, sizeof bits);
	return bits & SIGN_CLEAR;
}

/* The OR of limit - |bits| over x[i .. n), scalar (the tail). */
static inline uint32_t
exceed_tail(const float *x, unsigned i, unsigned n, uint32_t limit_bits)
{
	uint32_t r = 0, b;
	for (; i < n; i++) {
		memcpy(&b, &x[i], sizeof b);
		r |= limit_bits - (b & SIGN_CLEAR);
	}
	return r;
}

int
guard_exceeds(const float *x, unsigned n, uint32_t limit_bits)
{
	const guard_v4 mask = { SIGN_CLEAR, SIGN_CLEAR, SIGN_CLEAR, SIGN_CLEAR };
	const guard_v4 lim = { limit_bits, limit_bits, limit_bits, limit_bits };
	guard_v4 acc = { 0, 0, 0, 0 }, a, b;
	unsigned i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&a, x + i, sizeof a);
		memcpy(&b, x + i + 4, sizeof b);
		acc |= lim - (a & mask);
		acc |= lim - (b & mask);
	}
	uint32_t r = acc[0] | acc[1] | acc[2] | acc[3];
	r |= exceed_tail(x, i, n, limit_bits);
	return (r >> 31) != 0;
}

float
guard_peak(const float *x, unsigned n, int *nonfinite)
{
	float peak = 0.0f;
	uint32_t b;
	for (unsigned i = 0; i < n; i++) {
		memcpy(&b, &x[i], sizeof b);
		if ((b & EXP_ALL) == EXP_ALL) {
			*nonfinite = 1;
			continue;
		}
		float a = fabsf(x[i]);
		if (a > peak)
			peak = a;
	}
	return peak;
}

void
guard_init(struct output_guard *g, int no_clip)
{
	memset(g, 0, sizeof *g);
	g->ceiling = no_clip ? FLT_MAX : GUARD_CEILING;
	g->limit_bits = guard_limit_bits(g->ceiling);
}

/* Hold x[0 .. n) within the ceiling, non-finite samples to 0, and count
 * (only ever run on a block that guard_exceeds found wanting). */
static void
fix_block(struct output_guard *g, unsigned c, float *x, unsigned n)
{
	struct guard_counts *k = &g->ch[c < GUARD_MAX_CHANNELS ? c :
	    GUARD_MAX_CHANNELS - 1];
	uint64_t clipped = 0, nonfinite = 0;
	float ceiling = g->ceiling;
	uint32_t b;

	for (unsigned i = 0; i < n; i++) {
		memcpy(&b, &x[i], sizeof b);
		if ((b & EXP_ALL) == EXP_ALL) {
			x[i] = 0.0f;
			nonfinite++;
		} else if (x[i] > ceiling) {
			x[i] = ceiling;
			clipped++;
		} else if (x[i] < -ceiling) {
			x[i] = -ceiling;
			clipped++;
		}
	}
	/* one writer: a plain load and store each */
	if (clipped != 0)
		atomic_store_explicit(&k->clipped, atomic_load_explicit(&k->clipped,
		    memory_order_relaxed) + clipped, memory_order_relaxed);
	if (nonfinite != 0)
		atomic_store_explicit(&k->nonfinite, atomic_load_explicit(
		    &k->nonfinite, memory_order_relaxed) + nonfinite,
		    memory_order_relaxed);
}

void
guard_copy(struct output_guard *g, unsigned c, float *restrict dst,
    const float *src, unsigned n)
{
	/* copy first, then judge the copy: the other process may change src
	 * between two reads, never dst */
	memcpy(dst, src, n * sizeof(float));
	guard_apply(g, c, dst, n);
}

void
guard_apply(struct output_guard *g, unsigned c, float *x, unsigned n)
{
	if (guard_exceeds(x, n, g->limit_bits))
		fix_block(g, c, x, n);
}

void
guard_totals(const struct output_guard *g, uint64_t *clipped,
    uint64_t *nonfinite)
{
	*clipped = *nonfinite = 0;
	for (unsigned c = 0; c < GUARD_MAX_CHANNELS; c++) {
		*clipped += atomic_load_explicit(&g->ch[c].clipped,
		    memory_order_relaxed);
		*nonfinite += atomic_load_explicit(&g->ch[c].nonfinite,
		    memory_order_relaxed);
	}
}

uint64_t
guard_channel_changed(const struct output_guard *g, unsigned c)
{
	if (c >= GUARD_MAX_CHANNELS)
		c = GUARD_MAX_CHANNELS - 1;
	return atomic_load_explicit(&g->ch[c].clipped, memory_order_relaxed) +
	    atomic_load_explicit(&g->ch[c].nonfinite, memory_order_relaxed);
}

/* ------------------------------------------------------------ reset reports */

/* The note for `name`: the one there, a free slot, or the one told of
 * longest ago with nothing pending; NULL when every slot waits to be told. */
static struct reset_note *
note_for(struct reset_log *log, const char *name)
{
	struct reset_note *oldest = NULL;
	for (unsigned i = 0; i < log->n; i++) {
		struct reset_note *n = &log->notes[i];
		if (strcmp(n->name, name) == 0)
			return n;
		if (n->pending == 0 && (oldest == NULL || n->told_ns < oldest->told_ns))
			oldest = n;
	}
	if (log->n < GUARD_REPORT_NAMES)
		oldest = &log->notes[log->n++];
	if (oldest != NULL)
		memset(oldest, 0, sizeof *oldest);
	return oldest;
}

void
reset_log_add(struct reset_log *log, const char *name, const char *type,
    unsigned long count, float peak, int nonfinite)
{
	struct reset_note *n = note_for(log, name);
	if (n == NULL || count == 0)
		return;
	snprintf(n->name, sizeof n->name, "%s", name);
	snprintf(n->type, sizeof n->type, "%s", type);
	n->pending += count;
	n->total += count;
	if (peak > n->peak)
		n->peak = peak;
	n->nonfinite |= nonfinite;
}

int
reset_log_next(struct reset_log *log, uint64_t now_ns, char *buf, size_t size)
{
	for (unsigned i = 0; i < log->n; i++) {
		struct reset_note *n = &log->notes[i];
		char what[96];
		if (n->pending == 0 ||
		    (n->told_ns != 0 && now_ns - n->told_ns < GUARD_REPORT_NS))
			continue;
		if (n->nonfinite)
			snprintf(what, sizeof what, "its output was not a number "
			    "(NaN or infinite)");
		else
			snprintf(what, sizeof what, "its output reached %.3g, beyond "
			    "+60 dBFS", (double)n->peak);
		if (n->told_ns == 0)
			snprintf(buf, size, "warn module '%s' (%s) blew up: %s; it was "
			    "reset to silence and the rest of the patch plays on",
			    n->name, n->type, what);
		else
			snprintf(buf, size, "warn module '%s' (%s) blew up again, %lu "
			    "time(s) since the last report (%lu in all): %s; reset "
			    "each time", n->name, n->type, n->pending, n->total, what);
		n->told_ns = now_ns != 0 ? now_ns : 1;
		n->pending = 0;
		n->peak = 0.0f;
		n->nonfinite = 0;
		return 1;
	}
	return 0;
}
