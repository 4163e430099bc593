/*
 * dsp/wavetable.c — builds the band-limited mip-mapped tables once.
 *
 * Each level is an additive (Fourier) sum of the shape's harmonics up to a
 * count that falls by a quarter octave per level, summed in double precision
 * and stored as float.  Every harmonic's sine is read exactly from a double
 * sine table (index h*i mod WT_SIZE), so building costs about WT_HMAX *
 * WT_SIZE multiply-adds per shape (a few milliseconds), and the levels are
 * nested: level j is a snapshot of the running sum when its count is reached.
 *
 * Linear interpolation in a 4096-point table leaves images of harmonic h at
 * (WT_SIZE - h) times the fundamental, attenuated by sinc^2(1 - h/WT_SIZE);
 * with at most 1024 harmonics (a quarter of the table) the worst image of a
 * saw is about -81 dB relative to its fundamental.
 */
#include <math.h>
#include <pthread.h>

#include "wavetable.h"

static float wt_tables[WT_SHAPES][WT_LEVELS][WT_SIZE + 1];
static float wt_sine[WT_SIZE + 1];
static pthread_once_t wt_once = PTHREAD_ONCE_INIT;

/* Amplitude of sine harmonic h (1-based) of `shape`, peak-normalised to 1. */
static double
wavetable_coef(enum wt_shape shape, unsigned h)
{
	switch (shape) {
	case WT_SAW:
		/* 2 phi - 1 = -(2/pi) sum sin(2 pi h phi) / h */
		return -2.0 / (DSP_PI * h);
	case WT_TRIANGLE:
		/* (8/pi^2) sum (-1)^k sin(2 pi (2k+1) phi) / (2k+1)^2 */
		if (h % 2 == 0)
			return 0.0;
		return (h % 4 == 1 ? 8.0 : -8.0) / (DSP_PI * DSP_PI * h * h);
	default:
		return 0.0;
	}
}

/* Harmonics held by mip level j: floor(WT_HMAX * 2^(-j/4)). */
static unsigned
wavetable_harmonics(unsigned j)
{
	return (unsigned)floor(WT_HMAX * exp2(-(double)j / WT_LEVELS_PER_OCT) +
	    1e-9);
}

/* Fill every table; run exactly once through pthread_once. */
static void
wavetable_build(void)
{
	static double sine[WT_SIZE], acc[WT_SIZE];

	for (unsigned i = 0; i < WT_SIZE; i++)
		sine[i] = sin(2 * DSP_PI * i / WT_SIZE);
	for (unsigned i = 0; i <= WT_SIZE; i++)
		wt_sine[i] = (float)sine[i % WT_SIZE];

	for (unsigned s = 0; s < WT_SHAPES; s++) {
		unsigned h = 0;

		for (unsigned i = 0; i < WT_SIZE; i++)
			acc[i] = 0.0;
		/* from the poorest level to the richest, adding harmonics */
		for (int j = WT_LEVELS - 1; j >= 0; j--) {
			unsigned top = wavetable_harmonics((unsigned)j);
			float *t = wt_tables[s][j];

			for (h++; h <= top; h++) {
				double c = wavetable_coef((enum wt_shape)s, h);
				if (c == 0.0)
					continue;
				for (unsigned i = 0; i < WT_SIZE; i++)
					acc[i] += c * sine[(h * i) & (WT_SIZE - 1)];
			}
			h = top;
			for (unsigned i = 0; i < WT_SIZE; i++)
				t[i] = (float)acc[i];
			t[WT_SIZE] = t[0];
		}
	}
}

/* Build the tables on first call; later calls return at once. */
void
wavetable_init(void)
{
	pthread_once(&wt_once, wavetable_build);
}

/* The levels of `shape`, back to back (see wavetable.h). */
const float *
wavetable_shape(enum wt_shape shape)
{
	return &wt_tables[shape][0][0];
}

/* The pure sine table. */
const float *
wavetable_sine(void)
{
	return wt_sine;
}
