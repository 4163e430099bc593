/*
 * dsp/dynamics.h — level arithmetic shared by the compressor and the
 * limiter: a fast base-2 logarithm, decibel conversions and the time
 * constant of a one-pole follower.
 */
#ifndef FORKSYNTH_DSP_DYNAMICS_H
#define FORKSYNTH_DSP_DYNAMICS_H

#include <math.h>
#include <stdint.h>

#include "dsp_util.h"

/* dB per octave of amplitude: 20 log10(2). */
#define DB_PER_LOG2 6.020599913f

/* log2(x) for finite x > 0, absolute error below 1e-5 (6e-5 dB): the
 * exponent from the bits, the mantissa m in [1, 2) through a polynomial
 * of t = (m - 1) / (m + 1), which converges fast on that range. */
static inline float
fast_log2f(float x)
{
	union { float f; uint32_t i; } u = { x };
	int e = (int)((u.i >> 23) & 0xff) - 127;
	u.i = (u.i & 0x007fffffu) | 0x3f800000u;   /* mantissa in [1, 2) */
	float t = (u.f - 1.0f) / (u.f + 1.0f);      /* [0, 1/3) */
	float t2 = t * t;
	/* 2/ln 2 * atanh(t) = 2/ln 2 * (t + t^3/3 + t^5/5 + t^7/7 + t^9/9) */
	float p = t * (2.885390082f + t2 * (0.9617966940f + t2 * (0.5770780164f +
	    t2 * (0.4121985831f + t2 * 0.3205988980f))));
	return (float)e + p;
}

/* Amplitude to dB, with a floor (-200 dB) for silence and denormals. */
static inline float
amp_to_db(float a)
{
	return a > 1e-10f ? DB_PER_LOG2 * fast_log2f(a) : -200.0f;
}

/* dB to amplitude. */
static inline float
db_to_amp(float db)
{
	return fast_exp2f(db * (1.0f / DB_PER_LOG2));
}

/* The per-sample coefficient of a one-pole follower with time constant
 * `seconds`: it covers 1 - 1/e (63.2 %) of a step in that time. */
static inline float
follower_coef(float seconds, float rate)
{
	return expf(-1.0f / (seconds * rate));
}

#endif
