/*
 * dsp/dsp_util.h — small inline helpers shared by the DSP modules: parameter
 * smoothing, fast exponentials, clamping and denormal control.
 */
#ifndef FORKSYNTH_DSP_UTIL_H
#define FORKSYNTH_DSP_UTIL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lanes.h"

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

#define DSP_PI 3.14159265358979323846

/* Time constant, in seconds, of parameter smoothing: short enough to feel
 * immediate, long enough that a stepped parameter makes no audible zipper. */
#define SMOOTH_SECONDS 0.010f

/*
 * A one-pole parameter smoother.  `cur` moves toward `target` by a fixed
 * fraction per sample; once close enough it snaps, so a settled smoother
 * costs a compare.
 */
struct smoother {
	float cur;
	float target;
	float coef;      /* fraction of the remaining distance per sample */
};

/* Start at `value`, settled, with a time constant of `seconds` at `rate`. */
static inline void
smoother_init(struct smoother *s, float value, float rate, float seconds)
{
	s->cur = s->target = value;
	s->coef = 1.0f - expf(-1.0f / (seconds * rate));
}

static inline void
smoother_set(struct smoother *s, float target)
{
	s->target = target;
}

/* True while the smoother is still moving. */
static inline int
smoother_moving(const struct smoother *s)
{
	return s->cur != s->target;
}

/* Advance one sample and return the new value.  In float the step
 * d * coef falls below the rounding of `cur` before the distance is tiny, so
 * the smoother snaps to the target once a step stops moving it or the
 * distance is below 1e-5 of the target's scale (-100 dB: inaudible). */
static inline float
smoother_next(struct smoother *s)
{
	float d = s->target - s->cur;
	float next = s->cur + d * s->coef;
	if (next == s->cur || fabsf(d) < 1e-5f * (1.0f + fabsf(s->target)))
		next = s->target;
	s->cur = next;
	return next;
}

/* x clamped to [lo, hi]; NaN gives lo, so a bad input cannot poison state. */
static inline float
clampf(float x, float lo, float hi)
{
	return x > lo ? (x < hi ? x : hi) : lo;
}

/*
 * A glide: a smoother whose target is always 0, holding the distance of a
 * smoothed parameter from its target (value = target + glide).  Near 0 the
 * float steps stay fine-grained, and a settled glide is exactly 0, so the
 * settled parameter is exactly the value set (a frequency stays exactly
 * periodic, a cutoff in octaves does not stall short of its target).
 */
static inline void
glide_init(struct smoother *g, float rate)
{
	smoother_init(g, 0.0f, rate, SMOOTH_SECONDS);
}

/* The target moves from `old` to `now`: keep the current value continuous. */
static inline void
glide_retarget(struct smoother *g, float old, float now)
{
	g->cur += old - now;
	g->target = 0.0f;
}

/* A parameter with its glide: the value is base + d. */
struct glide_param {
	struct smoother d;      /* distance from base, decaying to 0 */
	float base;             /* the target */
};

/* Start settled at `value`. */
static inline void
glide_param_init(struct glide_param *p, float value, float rate)
{
	glide_init(&p->d, rate);
	p->base = value;
}

/* Glide from the current value toward `target`. */
static inline void
glide_param_set(struct glide_param *p, float target)
{
	glide_retarget(&p->d, p->base, target);
	p->base = target;
}

/* Advance one sample and return the value. */
static inline float
glide_param_next(struct glide_param *p)
{
	return p->base + smoother_next(&p->d);
}

/* 2^x for x in about [-100, 100], relative error about 1e-7 (float
 * rounding; 2e-4 cent).  A least-squares degree-6 polynomial of 2^f on the
 * fraction f in [0, 1), the exponent set by bit construction. */
static inline float
fast_exp2f(float x)
{
	float fl = floorf(x);
	float f = x - fl;                /* [0, 1) */
	float p = 1.0f + f * (0.6931470282f + f * (0.240229401f +
	    f * (0.05548531785f + f * (0.009674557619f + f * (0.001248275028f +
	    f * 0.0002154104459f)))));
	union { float f; uint32_t i; } u = { p };
	u.i += (uint32_t)(int32_t)fl << 23;    /* unsigned: defined for fl < 0 */
	return u.f;
}

#if defined(__x86_64__)
/*
 * Signals of a lane kernel (module.h, process_lanes) in tiles: a tile holds
 * W frames of W voices side by side, tile[t][l] being frame t of lane l.
 * tile_write transposes one so that lane l's W frames go to y[l][at ..
 * at + W) for the lanes l < n (lanes past n are padding), W vector stores
 * instead of W * W scalar ones; tile_read fills one from x[l][at ..] for
 * all W lanes (give padding lanes a real signal).  They only move bits.
 * x86-64 only, as the lane paths are (lanes.h).
 */

/* out = m transposed, 4 x 4 floats (out may be m). */
static inline void
tile_transpose4(const lanes_v4 m[4], lanes_v4 out[4])
{
	lanes_v4 lo01 = __builtin_shufflevector(m[0], m[1], 0, 4, 1, 5);
	lanes_v4 hi01 = __builtin_shufflevector(m[0], m[1], 2, 6, 3, 7);
	lanes_v4 lo23 = __builtin_shufflevector(m[2], m[3], 0, 4, 1, 5);
	lanes_v4 hi23 = __builtin_shufflevector(m[2], m[3], 2, 6, 3, 7);

	out[0] = __builtin_shufflevector(lo01, lo23, 0, 1, 4, 5);
	out[1] = __builtin_shufflevector(lo01, lo23, 2, 3, 6, 7);
	out[2] = __builtin_shufflevector(hi01, hi23, 0, 1, 4, 5);
	out[3] = __builtin_shufflevector(hi01, hi23, 2, 3, 6, 7);
}

/* out = m transposed, 8 x 8 floats (AVX2; out may be m): pairs of rows
 * interleaved, then pairs of pairs, then the 128-bit halves exchanged. */
__attribute__((target("avx2"), always_inline)) static inline void
tile_transpose8(const lanes_v8 m[8], lanes_v8 out[8])
{
	lanes_v8 pair[8], quad[8];

	_Pragma("GCC unroll 8")
	for (unsigned t = 0; t < 8; t += 2) {
		pair[t] = __builtin_shufflevector(m[t], m[t + 1],
		    0, 8, 1, 9, 4, 12, 5, 13);
		pair[t + 1] = __builtin_shufflevector(m[t], m[t + 1],
		    2, 10, 3, 11, 6, 14, 7, 15);
	}
	/* quad[q]: columns q % 4 and q % 4 + 4 of rows q / 4 * 4 .. + 3 */
	_Pragma("GCC unroll 8")
	for (unsigned h = 0; h < 8; h += 4)
		for (unsigned j = 0; j < 2; j++) {
			lanes_v8 lo = pair[h + j], hi = pair[h + j + 2];
			quad[h + 2 * j] = __builtin_shufflevector(lo, hi,
			    0, 1, 8, 9, 4, 5, 12, 13);
			quad[h + 2 * j + 1] = __builtin_shufflevector(lo, hi,
			    2, 3, 10, 11, 6, 7, 14, 15);
		}
	_Pragma("GCC unroll 8")
	for (unsigned q = 0; q < 4; q++) {
		out[q] = __builtin_shufflevector(quad[q], quad[q + 4],
		    0, 1, 2, 3, 8, 9, 10, 11);
		out[q + 4] = __builtin_shufflevector(quad[q], quad[q + 4],
		    4, 5, 6, 7, 12, 13, 14, 15);
	}
}

static inline void
tile_write4(float *const *y, unsigned n, unsigned at, const lanes_v4 tile[4])
{
	lanes_v4 m[4];

	tile_transpose4(tile, m);
	for (unsigned l = 0; l < n; l++)
		memcpy(y[l] + at, &m[l], sizeof m[l]);
}

__attribute__((target("avx2"), always_inline)) static inline void
tile_write8(float *const *y, unsigned n, unsigned at, const lanes_v8 tile[8])
{
	lanes_v8 m[8];

	tile_transpose8(tile, m);
	for (unsigned l = 0; l < n; l++)
		memcpy(y[l] + at, &m[l], sizeof m[l]);
}

static inline void
tile_read4(const float *const *x, unsigned at, lanes_v4 tile[4])
{
	lanes_v4 m[4];

	for (unsigned l = 0; l < 4; l++)
		memcpy(&m[l], x[l] + at, sizeof m[l]);
	tile_transpose4(m, tile);
}

__attribute__((target("avx2"), always_inline)) static inline void
tile_read8(const float *const *x, unsigned at, lanes_v8 tile[8])
{
	lanes_v8 m[8];

	_Pragma("GCC unroll 8")
	for (unsigned l = 0; l < 8; l++)
		memcpy(&m[l], x[l] + at, sizeof m[l]);
	tile_transpose8(m, tile);
}

/* The last, short tile of a block: `frames` (< w) frames of a w-lane tile
 * seen as floats, tile[t * w + l], written to or read from the lanes. */
static inline void
tile_write_part(float *const *y, unsigned n, unsigned at, const float *tile,
    unsigned w, unsigned frames)
{
	for (unsigned l = 0; l < n; l++)
		for (unsigned t = 0; t < frames; t++)
			y[l][at + t] = tile[t * w + l];
}

static inline void
tile_read_part(const float *const *x, unsigned at, float *tile, unsigned w,
    unsigned frames)
{
	for (unsigned l = 0; l < w; l++)
		for (unsigned t = 0; t < frames; t++)
			tile[t * w + l] = x[l][at + t];
}
#endif /* __x86_64__ */

/* Flush denormals to zero on this thread (FTZ and DAZ), so decaying
 * filters and reverb tails never fall into slow arithmetic. */
static inline void
dsp_flush_denormals(void)
{
#if defined(__SSE__) || defined(__x86_64__)
	_mm_setcsr(_mm_getcsr() | 0x8040);
#endif
}

#endif
