/*
 * dsp/blep.c — builds the band-limited step, ramp and higher-order residual
 * table once, and adds one event's corrections to a ring of samples.
 *
 * The kernel h is a Kaiser-windowed sinc (cut off at BLEP_CUTOFF, window
 * BLEP_ZC samples either side) normalised to unit area.  The residual of
 * order k at offset x before the event is H(k+1)(x), the k-fold running
 * integral of h; after the event it follows from the kernel's symmetry.
 * Both ends of each residual are zero, so an event touches exactly
 * BLEP_TAPS samples.  Exact residuals of order 2 and up would not vanish
 * after the event: they keep a polynomial made of the kernel's even moments
 * (int s^2 h(s) ds is not 0, as the passband's fine ripple makes it).  The
 * mirrored residuals leave that polynomial out; for a jump that is a whole
 * sinusoid (the sine's reset) the left-out parts of all orders cancel, and
 * what remains is the truncation after order 3, which sets the synced
 * sine's floor (about -78 dBc for a 7 kHz slave; more orders make it worse,
 * as their residuals grow like 32^k / k!).
 *
 * Table layout: [order][row][tap], row = BLEP_PHASES * (event time before
 * the first sample after it), BLEP_PHASES + 1 rows so that a lookup blends
 * two neighbouring rows linearly; about 130 KiB of static storage.
 * (The figures in blep.h were measured from this kernel: beta 10, 64 taps.)
 */
#include <math.h>
#include <pthread.h>

#include "blep.h"
#include "dsp_util.h"

#define BLEP_BETA 10.0                 /* Kaiser window shape */
#define BLEP_CUTOFF 0.45               /* cycles per sample */
#define BLEP_HALF (BLEP_ZC * BLEP_PHASES)  /* grid steps from -ZC to 0 */

static float blep_table[BLEP_ORDERS][BLEP_PHASES + 1][BLEP_TAPS];
static pthread_once_t blep_once = PTHREAD_ONCE_INIT;

/* 8-point Gauss-Legendre nodes and weights on [-1, 1] (half of them). */
static const double blep_gl_x[4] = {
	0.1834346424956498, 0.5255324099163290,
	0.7966664774136267, 0.9602898564975363,
};
static const double blep_gl_w[4] = {
	0.3626837833783620, 0.3137066458778873,
	0.2223810344533745, 0.1012285362903763,
};

/* Modified Bessel function of the first kind, order 0 (power series). */
static double
blep_bessel_i0(double x)
{
	double sum = 1.0, term = 1.0, q = x * x / 4.0;

	for (unsigned k = 1; k < 64 && term > 1e-17 * sum; k++) {
		term *= q / ((double)k * k);
		sum += term;
	}
	return sum;
}

/* The kernel at t samples from its centre (|t| <= BLEP_ZC), unnormalised. */
static double
blep_kernel(double t)
{
	double u = t / BLEP_ZC, a = 2.0 * DSP_PI * BLEP_CUTOFF * t;
	double sinc = fabs(a) < 1e-12 ? 1.0 : sin(a) / a;
	double w = blep_bessel_i0(BLEP_BETA * sqrt(fmax(0.0, 1.0 - u * u))) /
	    blep_bessel_i0(BLEP_BETA);

	return 2.0 * BLEP_CUTOFF * sinc * w;
}

/* Store H, the integrals at grid point i (x = -BLEP_ZC + i / BLEP_PHASES,
 * x <= 0), in every table entry it gives: as itself before the event
 * (taps below BLEP_ZC, offset x) and, mirrored, after it (offset -x). */
static void
blep_store(unsigned i, const double *h)
{
	unsigned j = i / BLEP_PHASES, p = i % BLEP_PHASES;
	unsigned q = 2 * BLEP_HALF - i;
	unsigned jr = q / BLEP_PHASES, pr = q % BLEP_PHASES;

	for (unsigned k = 0; k < BLEP_ORDERS; k++) {
		/* before: r_k(x) = H(k+1)(x); after, by the kernel's symmetry,
		 * r_k(x) = -(-1)^k H(k+1)(-x) */
		float before = (float)h[k];
		float after = (float)(k % 2 == 0 ? -h[k] : h[k]);

		if (j < BLEP_ZC)
			blep_table[k][p][j] = before;
		if (p == 0 && j > 0 && j - 1 < BLEP_ZC)
			blep_table[k][BLEP_PHASES][j - 1] = before;
		if (jr >= BLEP_ZC && jr < BLEP_TAPS)
			blep_table[k][pr][jr] = after;
		if (pr == 0 && jr - 1 >= BLEP_ZC && jr - 1 < BLEP_TAPS)
			blep_table[k][BLEP_PHASES][jr - 1] = after;
	}
}

/*
 * Fill the table; run exactly once through pthread_once.  H(k+1)(x), the
 * integral of (x - s)^k / k! h(s) from -BLEP_ZC to x, is carried from one
 * grid point to the next exactly (a Taylor shift of the lower orders) plus
 * the new step's own integral by Gauss-Legendre, so no error builds up.
 * Only x <= 0 is needed: there H is the small pre-ringing, and the kernel's
 * symmetry gives the residuals after the event from it, vanishing at
 * +BLEP_ZC as they do at -BLEP_ZC.
 */
static void
blep_build(void)
{
	const double step = 1.0 / BLEP_PHASES;
	double h[BLEP_ORDERS] = { 0 }, area = 0.0, scale;

	/* the area of the left half, for unit total area */
	for (unsigned i = 0; i < BLEP_HALF; i++) {
		double mid = -BLEP_ZC + (i + 0.5) * step;

		for (unsigned g = 0; g < 8; g++) {
			double x = blep_gl_x[g / 2] * (g % 2 ? 1.0 : -1.0);
			area += blep_gl_w[g / 2] * 0.5 * step *
			    blep_kernel(mid + 0.5 * step * x);
		}
	}
	scale = 0.5 / area;

	blep_store(0, h);
	for (unsigned i = 0; i < BLEP_HALF; i++) {
		double left = -BLEP_ZC + i * step, right = left + step;
		double next[BLEP_ORDERS], own[BLEP_ORDERS] = { 0 };

		/* this step's own part: int (right - s)^k / k! h(s) ds */
		for (unsigned g = 0; g < 8; g++) {
			double x = blep_gl_x[g / 2] * (g % 2 ? 1.0 : -1.0);
			double s = left + 0.5 * step * (1.0 + x);
			double f = blep_gl_w[g / 2] * 0.5 * step * scale *
			    blep_kernel(s), pw = 1.0;

			for (unsigned k = 0; k < BLEP_ORDERS; k++) {
				own[k] += f * pw;
				pw *= (right - s) / (k + 1);
			}
		}
		/* the earlier part, shifted: sum_j step^j / j! H(k+1-j) */
		for (unsigned k = 0; k < BLEP_ORDERS; k++) {
			double sum = own[k], c = 1.0;

			for (unsigned j = 0; j <= k; j++) {
				sum += c * h[k - j];
				c *= step / (j + 1);
			}
			next[k] = sum;
		}
		for (unsigned k = 0; k < BLEP_ORDERS; k++)
			h[k] = next[k];
		blep_store(i + 1, h);
	}
}

/* Build the table on first call; later calls return at once. */
void
blep_init(void)
{
	pthread_once(&blep_once, blep_build);
}

/* Add one event's corrections (see blep.h); compiled once per
 * instruction set below. */
static inline __attribute__((always_inline)) void
blep_add_body(float *ring, unsigned mask, unsigned first, unsigned stride,
    float before, const float *d, unsigned orders)
{
	float pos = before * (float)BLEP_PHASES, f, c[BLEP_TAPS];
	unsigned row;

	if (!(pos >= 0.0f))             /* also NaN */
		pos = 0.0f;
	if (pos > (float)BLEP_PHASES)
		pos = (float)BLEP_PHASES;
	row = (unsigned)pos;
	if (row >= BLEP_PHASES)
		row = BLEP_PHASES - 1;
	f = pos - (float)row;
	for (unsigned j = 0; j < BLEP_TAPS; j++)
		c[j] = 0.0f;
	if (orders > BLEP_ORDERS)
		orders = BLEP_ORDERS;
	for (unsigned k = 0; k < orders; k++) {
		const float *a = blep_table[k][row], *b = blep_table[k][row + 1];
		float dk = d[k];

		if (dk == 0.0f)
			continue;
		for (unsigned j = 0; j < BLEP_TAPS; j++)
			c[j] += dk * (a[j] + f * (b[j] - a[j]));
	}
	for (unsigned j = 0; j < BLEP_TAPS; j++)
		ring[((first + j) & mask) * stride] += c[j];
}

void
blep_add(float *ring, unsigned mask, unsigned first, unsigned stride,
    float before, const float *d, unsigned orders)
{
	blep_add_body(ring, mask, first, stride, before, d, orders);
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) void
blep_add_avx2(float *ring, unsigned mask, unsigned first, unsigned stride,
    float before, const float *d, unsigned orders)
{
	blep_add_body(ring, mask, first, stride, before, d, orders);
}
#endif
