/*
 * dsp/wavetable.h — band-limited, mip-mapped wavetables shared by the
 * oscillators (vco, lfo), and small helpers those modules share: table
 * lookup with a 32-bit phase, mip level selection, a parameter glide that
 * always reaches its target, and a seeded PRNG.
 *
 * Phase is an unsigned 32-bit fraction of a cycle (2^32 = one cycle), so it
 * wraps exactly; a phase increment is likewise in 2^-32 cycles per sample,
 * and "linc" is its log2 (so linc = log2(freq * 2^32 / rate)).
 *
 * The tables are built once by wavetable_init() (idempotent, thread-safe via
 * pthread_once, call it from a module's init, never from process) and are
 * read-only afterwards: WT_SHAPES shapes of WT_LEVELS levels of WT_SIZE+1
 * floats each, plus one sine table, about 1.3 MiB of static storage.
 */
#ifndef FORKSYNTH_DSP_WAVETABLE_H
#define FORKSYNTH_DSP_WAVETABLE_H

#include <stdint.h>

#include "dsp_util.h"

#define WT_BITS 12                      /* log2 of points per cycle */
#define WT_SIZE (1u << WT_BITS)         /* points per cycle (plus 1 guard) */
#define WT_FRAC_BITS (32 - WT_BITS)     /* phase bits below a table index */
#define WT_FRAC_SCALE (1.0f / (float)(1u << WT_FRAC_BITS))
#define WT_HMAX 1024                    /* harmonics in the richest level */
#define WT_LEVELS_PER_OCT 4             /* mip levels per octave */
#define WT_LEVELS 42                    /* 1024 harmonics down to none */
#define WT_LIMIT 0.45                   /* highest harmonic, x sample rate */
/* linc at which the richest level's top harmonic reaches WT_LIMIT:
 * log2(WT_LIMIT / WT_HMAX * 2^32). */
#define WT_LINC0 20.84799690655495f
/* Largest linc any oscillator may use: WT_LIMIT of the rate. */
#define WT_LINC_MAX 30.84799690655495f

enum wt_shape {
	WT_SAW = 0,       /* rising ramp, -1 to 1, fundamental 2/pi */
	WT_TRIANGLE,      /* 0 at phase 0, peak +1 at 1/4, -1 at 3/4 */
	WT_SHAPES
};

/* Build all tables once; safe to call from any thread, any number of times. */
void wavetable_init(void);

/* Level 0 of `shape`: WT_LEVELS tables of WT_SIZE + 1 floats, back to back;
 * level j holds floor(WT_HMAX * 2^(-j/4)) harmonics. */
const float *wavetable_shape(enum wt_shape shape);

/* The pure sine table: WT_SIZE + 1 floats, sin(2 pi i / WT_SIZE). */
const float *wavetable_sine(void);

/* Linear interpolation in one table (WT_SIZE + 1 floats) at `phase`. */
static inline float
wavetable_read(const float *t, uint32_t phase)
{
	uint32_t i = phase >> WT_FRAC_BITS;
	float f = (float)(phase & ((1u << WT_FRAC_BITS) - 1)) * WT_FRAC_SCALE;
	return t[i] + f * (t[i + 1] - t[i]);
}

/*
 * The mip levels to blend for a phase increment of 2^linc: the result is
 * (1 - *w) * level[*j] + *w * level[*j + 1].  Both levels keep every harmonic
 * below WT_LIMIT of the rate; the top harmonics fade out linearly over the
 * last quarter octave below the limit instead of switching.
 */
static inline void
wavetable_level(float linc, unsigned *j, float *w)
{
	float q = (float)WT_LEVELS_PER_OCT * (linc - WT_LINC0);
	int c;

	if (q <= -1.0f) {
		*j = 0;
		*w = 0.0f;
		return;
	}
	if (q > (float)(WT_LEVELS - 2)) {
		*j = WT_LEVELS - 2;
		*w = 1.0f;
		return;
	}
	c = (int)q;                     /* ceil(q) for q > -1, no libm call */
	if ((float)c < q)
		c++;
	*j = (unsigned)c;
	*w = q - (float)c + 1.0f;
}

/* Blend of levels j and j+1 of a shape (from wavetable_shape) at `phase`. */
static inline float
wavetable_read2(const float *shape, unsigned j, float w, uint32_t phase)
{
	const float *a = shape + (size_t)j * (WT_SIZE + 1);
	const float *b = a + (WT_SIZE + 1);
	uint32_t i = phase >> WT_FRAC_BITS;
	float f = (float)(phase & ((1u << WT_FRAC_BITS) - 1)) * WT_FRAC_SCALE;
	float va = a[i] + f * (a[i + 1] - a[i]);
	float vb = b[i] + f * (b[i + 1] - b[i]);
	return va + w * (vb - va);
}

/* xorshift64* state step: 64 bits of well-mixed output per call. */
static inline uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* A nonzero generator state from a 32-bit seed (splitmix64 of it). */
static inline uint64_t
rng_seed(uint32_t seed)
{
	uint64_t z = (uint64_t)seed + 0x9E3779B97F4A7C15ULL;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	return z != 0 ? z : 0x9E3779B97F4A7C15ULL;
}

/* Uniform float in [-1, 1) from the top 24 bits of the generator. */
static inline float
rng_uniform(uint64_t *s)
{
	return (float)(rng_next(s) >> 40) * (1.0f / 8388608.0f) - 1.0f;
}

#endif
