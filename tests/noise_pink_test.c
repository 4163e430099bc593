/*
 * tests/noise_pink_test.c — the noise module's spectra: pink falls 3 dB per
 * octave within +-0.5 dB over the octave bands 31.5 Hz .. 16 kHz (20 Hz to
 * 20 kHz), white is flat within +-0.5 dB over the same bands, at 44.1, 48
 * and 96 kHz.
 *
 * Long averaged spectrum: Welch's method, Blackman-Harris window, segments
 * of 16384 frames (32768 at 96 kHz) overlapping by half, 1024 segments
 * (about 3 minutes of noise) from a fixed seed.  Band power is the sum of bins
 * between f/sqrt(2) and f*sqrt(2) (the top band is cut at Nyquist - 5 %).
 * Pink: the best-fit line through band power in dB against log2(f) gives
 * the slope (reported, bound -3 +- 0.1 dB/oct); each band's deviation from
 * the ideal -3 dB/oct line with the best-fit offset must be within 0.5 dB.
 * White: band power per Hz deviates from its mean within 0.5 dB; the mean
 * of the signal is ~0 (|mean| < 0.001) and rms is 0.577 x level.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#define SEG_MAX 32768u
#define SEGS 1024u            /* segments, half-overlapped */
#define BANDS 10               /* 31.5 Hz .. 16 kHz */
#define SEED 12345u

static unsigned SEG;            /* frames per segment at this rate */
static size_t FRAMES;           /* frames analysed at this rate */

/* Average Blackman-Harris power spectrum (SEG/2+1 bins) of x[0..n). */
static double *
welch(const float *x, size_t n)
{
	double *avg = xcalloc_test(SEG / 2 + 1, sizeof *avg);
	unsigned segs = 0;

	for (size_t off = 0; off + SEG <= n; off += SEG / 2, segs++) {
		double *p = spectrum(x + off, SEG, WINDOW_BLACKMAN_HARRIS);
		for (unsigned k = 0; k <= SEG / 2; k++)
			avg[k] += p[k];
		free(p);
	}
	for (unsigned k = 0; k <= SEG / 2; k++)
		avg[k] /= segs;
	return avg;
}

/* Octave-band power density (per bin) in dB, centres 31.25 * 2^b Hz. */
static void
bands(const double *p, double rate, double *db, double *centre)
{
	for (unsigned b = 0; b < BANDS; b++) {
		double fc = 1000.0 * exp2((double)b - 5.0);   /* 31.25 .. 16000 */
		double lo = fc / M_SQRT2, hi = fc * M_SQRT2, s = 0;
		unsigned n = 0;

		if (hi > 0.475 * rate)
			hi = 0.475 * rate;
		for (unsigned k = (unsigned)ceil(lo * SEG / rate);
		    k <= (unsigned)floor(hi * SEG / rate); k++, n++)
			s += p[k];
		centre[b] = fc;
		db[b] = db_power(s / n);
	}
}

/* Run noise of `color` at `rate` for FRAMES frames; returns the buffer. */
static float *
run(unsigned color, double rate)
{
	struct inst *m = inst_new("noise", (float)rate, SEED);
	float *y = xcalloc_test(FRAMES, sizeof *y);
	float *out[1] = { y };

	inst_set(m, "color", (float)color);
	inst_run(m, NULL, out, FRAMES, 512);
	inst_free(m);
	return y;
}

/* Check pink noise at `rate`. */
static void
check_pink(double rate)
{
	float *y = run(1, rate);
	double *p = welch(y, FRAMES);
	double db[BANDS], fc[BANDS], sx = 0, sy = 0, sxx = 0, sxy = 0;
	double worst = 0, off = 0;
	char name[96];

	bands(p, rate, db, fc);
	/* band power = density x bandwidth (bandwidth doubles per band) */
	for (unsigned b = 0; b < BANDS; b++) {
		double x = log2(fc[b]);
		double v = db[b] + 10 * log10(fc[b]);   /* power in the band */
		/* the top band may be cut at Nyquist: use density + width */
		sx += x;
		sy += v;
		sxx += x * x;
		sxy += x * v;
	}
	double slope = (BANDS * sxy - sx * sy) / (BANDS * sxx - sx * sx);
	/* densities: ideal slope -3 dB/oct, best-fit offset */
	for (unsigned b = 0; b < BANDS; b++)
		off += db[b] + 3.0 * log2(fc[b]);
	off /= BANDS;
	for (unsigned b = 0; b < BANDS; b++) {
		double d = db[b] + 3.0 * log2(fc[b]) - off;
		if (fabs(d) > fabs(worst))
			worst = d;
		printf("  pink %g Hz band %7.1f Hz: %+.3f dB\n", rate, fc[b], d);
	}
	/* slope of density is slope of band power - 3 dB/oct */
	slope -= 10 * log10(2.0);
	snprintf(name, sizeof name, "pink %g Hz fitted slope", rate);
	report(name, slope, "dB/oct", "within 0.1 of", -3.0,
	    fabs(slope + 3.0) <= 0.1);
	snprintf(name, sizeof name, "pink %g Hz worst band deviation", rate);
	report(name, fabs(worst), "dB", "<=", 0.5, fabs(worst) <= 0.5);
	snprintf(name, sizeof name, "pink %g Hz rms", rate);
	double r = rms(y, FRAMES);
	report(name, r, "", "within 0.02 of", 0.25, fabs(r - 0.25) <= 0.02);
	free(p);
	free(y);
}

/* Check white noise at `rate`. */
static void
check_white(double rate)
{
	float *y = run(0, rate);
	double *p = welch(y, FRAMES);
	double db[BANDS], fc[BANDS], mean = 0, worst = 0, sum = 0;
	char name[96];

	bands(p, rate, db, fc);
	for (unsigned b = 0; b < BANDS; b++)
		mean += db[b];
	mean /= BANDS;
	for (unsigned b = 0; b < BANDS; b++)
		if (fabs(db[b] - mean) > fabs(worst))
			worst = db[b] - mean;
	for (size_t i = 0; i < FRAMES; i++)
		sum += y[i];
	snprintf(name, sizeof name, "white %g Hz worst band deviation", rate);
	report(name, fabs(worst), "dB", "<=", 0.5, fabs(worst) <= 0.5);
	snprintf(name, sizeof name, "white %g Hz |mean|", rate);
	report(name, fabs(sum / FRAMES), "", "<=", 0.001,
	    fabs(sum / FRAMES) <= 0.001);
	snprintf(name, sizeof name, "white %g Hz rms", rate);
	double r = rms(y, FRAMES);
	report(name, r, "", "within 0.01 of", 0.57735,
	    fabs(r - 0.57735) <= 0.01);
	free(p);
	free(y);
}

int
main(void)
{
	static const double rates[] = { 44100, 48000, 96000 };

	for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
		/* about 0.34 s segments: 5.9 Hz bins at 44.1 and 48 kHz, 2.9 Hz
		 * at 96 kHz, so the 31.5 Hz band spans at least 4 bins */
		SEG = rates[i] > 50000 ? SEG_MAX : SEG_MAX / 2;
		FRAMES = (size_t)SEG * (SEGS / 2 + 1);
		check_pink(rates[i]);
		check_white(rates[i]);
	}
	return test_status();
}
