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
