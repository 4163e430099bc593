/*
 * tests/analyze.c — measurements on a recorded file for the black-box
 * tests, first channel:
 *
 *   analyze onsets FILE            frames where sound starts after silence
 *   analyze freq FILE START LEN    strongest frequency in [START, START+LEN), Hz
 *   analyze rms FILE START LEN     RMS level of that span
 *   analyze mean FILE START LEN    mean (DC) of that span
 *   analyze zeros FILE             longest run of frames silent in every
 *                                  channel, not counting the file's ends
 *   analyze maxstep FILE START LEN largest jump between neighbouring samples
 *   analyze maxcurve FILE START LEN largest second difference: a click stands
 *                                  out of a smooth tone by orders of magnitude
 *   analyze errdb A B              error of A against B over B's length
 *                                  (all channels), dB relative to B's RMS
 *   analyze leveldev FILE START LEN WINDOW
 *                                  the level across [START, START+LEN): RMS
 *                                  over every WINDOW frames sliding by one
 *                                  (a whole number of a tone's periods),
 *                                  printed as "DEV MIN MAX": the largest
 *                                  deviation from the first window's, and
 *                                  the lowest and highest, all in dB
 *   analyze dip FILE LEVEL WINDOW  longest run of frames whose envelope
 *                                  (largest |sample| within WINDOW frames
 *                                  around it) stays below LEVEL, not
 *                                  counting the file's ends: "RUN START"
 *
 *   analyze rises FILE LEVEL       frames where the signal rises through
 *                                  LEVEL (the sample before is below it,
 *                                  this one at or above), one a line: an
 *                                  LFO's or a gate's periods are their
 *                                  differences
 *
 *   analyze safety FILE [CEILING]  over all channels: "peak P nonfinite N
 *                                  over K", the largest finite |x|, the
 *                                  samples that are NaN or infinite, and
 *                                  those beyond CEILING (default 1)
 *
 * ANALYZE_CHANNEL=N (0-based) measures channel N instead of the first.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>
#include <sndfile.h>

/* Read the first channel of `path`; exits with a message on failure. */
static float *
read_mono(const char *path, long *frames, int *rate)
{
	SF_INFO info = { 0 };
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	if (f == NULL) {
		fprintf(stderr, "analyze: %s: %s\n", path, sf_strerror(NULL));
		exit(2);
	}
	float *all = calloc((size_t)info.frames * info.channels + 1, sizeof(float));
	float *mono = calloc((size_t)info.frames + 1, sizeof(float));
	const char *env = getenv("ANALYZE_CHANNEL");
	int ch = env != NULL ? atoi(env) : 0;
	if (ch < 0 || ch >= info.channels) {
		fprintf(stderr, "analyze: %s has no channel %d\n", path, ch);
		exit(2);
	}
	sf_readf_float(f, all, info.frames);
	for (long i = 0; i < info.frames; i++)
		mono[i] = all[i * info.channels + ch];
	sf_close(f);
	free(all);
	*frames = (long)info.frames;
	*rate = info.samplerate;
	return mono;
}

/* Frames where sound starts: the first sample above 1e-5 after at least
 * 1000 frames below it, counted when the signal then passes 1e-3 within
 * 2000 frames (so noise does not count). */
static void
onsets(const float *x, long n)
{
	long quiet = 0;        /* a file that starts with sound has no onset there */
	for (long i = 0; i < n; i++) {
		if (fabsf(x[i]) < 1e-5f) {
			quiet++;
			continue;
		}
		if (quiet >= 1000)
			for (long k = i; k < n && k < i + 2000; k++)
				if (fabsf(x[k]) > 1e-3f) {
					printf("%ld\n", i);
					break;
				}
		quiet = 0;
	}
}

/* The strongest frequency of a span: Blackman-Harris window, FFT, and a
 * parabola through the peak bin's neighbours (log magnitudes). */
static double
peak_frequency(const float *x, long len, int rate)
{
	double *in = fftw_malloc(sizeof(double) * (size_t)len);
	fftw_complex *out = fftw_malloc(sizeof(fftw_complex) * (size_t)(len / 2 + 1));
	for (long i = 0; i < len; i++) {
		double a = 2 * M_PI * (double)i / (double)len;
		in[i] = x[i] * (0.35875 - 0.48829 * cos(a) + 0.14128 * cos(2 * a) -
		    0.01168 * cos(3 * a));
	}
	fftw_plan p = fftw_plan_dft_r2c_1d((int)len, in, out, FFTW_ESTIMATE);
	fftw_execute(p);
	long best = 1;
	double mag[3], bm = 0;
	for (long k = 1; k < len / 2; k++) {
		double m = hypot(out[k][0], out[k][1]);
		if (m > bm) {
			bm = m;
			best = k;
		}
	}
	for (int d = -1; d <= 1; d++)
		mag[d + 1] = log(hypot(out[best + d][0], out[best + d][1]) + 1e-30);
	double shift = 0.5 * (mag[0] - mag[2]) / (mag[0] - 2 * mag[1] + mag[2]);
	fftw_destroy_plan(p);
	fftw_free(in);
	fftw_free(out);
	return ((double)best + shift) * rate / (double)len;
}

/* Print the longest run of frames whose envelope (max |x| over the
 * `window` frames centred on it) is below `level`, between the first and
 * the last frame at or above it, and where it starts. */
static void
dip(const float *x, long n, double level, long window)
{
	long half = window > 1 ? window / 2 : 1;
	long run = 0, best = 0, best_start = 0, seen = 0;
	for (long i = 0; i < n; i++) {
		double m = 0;
		long a = i - half < 0 ? 0 : i - half, b = i + half > n ? n : i + half;
		for (long k = a; k < b; k++)
			if (fabs(x[k]) > m)
				m = fabs(x[k]);
		if (m < level) {
			run++;
			continue;
		}
		if (seen && run > best) {
			best = run;
			best_start = i - run;
		}
		run = 0;
		seen = 1;
	}
	printf("%ld %ld\n", best, best_start);
}

int
main(int argc, char **argv)
{
	long n;
	int rate;
	if (argc < 3) {
		fprintf(stderr, "usage: analyze onsets|freq|rms FILE [START LEN]\n");
		return 2;
	}
	if (strcmp(argv[1], "errdb") == 0 && argc > 3) {
		SF_INFO ia = { 0 }, ib = { 0 };
		SNDFILE *fa = sf_open(argv[2], SFM_READ, &ia), *fb = sf_open(argv[3], SFM_READ, &ib);
		if (fa == NULL || fb == NULL || ia.channels != ib.channels) {
			if (fa != NULL)
				sf_close(fa);
			if (fb != NULL)
				sf_close(fb);
			return 2;
		}
		size_t total = (size_t)(ib.frames < ia.frames ? ib.frames : ia.frames) * (size_t)ia.channels;
		float *a = calloc(total + 1, sizeof(float)), *b = calloc(total + 1, sizeof(float));
		sf_read_float(fa, a, (sf_count_t)total);
		sf_read_float(fb, b, (sf_count_t)total);
		double e = 0, r = 0;
		for (size_t i = 0; i < total; i++) {
			e += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
			r += (double)b[i] * b[i];
		}
		printf("%.1f\n", 10 * log10((e + 1e-300) / (r + 1e-300)));
		sf_close(fa);
		sf_close(fb);
		free(a);
		free(b);
		return 0;
	}
	if (strcmp(argv[1], "safety") == 0) {
		SF_INFO info = { 0 };
		SNDFILE *f = sf_open(argv[2], SFM_READ, &info);
		double ceiling = argc > 3 ? atof(argv[3]) : 1.0, peak = 0;
		long nonfinite = 0, over = 0;
		float frame[64];
		if (f == NULL || info.channels > 64)
			return 2;
		while (sf_readf_float(f, frame, 1) == 1)
			for (int c = 0; c < info.channels; c++) {
				if (!isfinite(frame[c])) {
					nonfinite++;
					continue;
				}
				double a = fabs((double)frame[c]);
				if (a > peak)
					peak = a;
				if (a > ceiling)
					over++;
			}
		sf_close(f);
		printf("peak %g nonfinite %ld over %ld\n", peak, nonfinite, over);
		return 0;
	}
	if (strcmp(argv[1], "zeros") == 0) {
		SF_INFO info = { 0 };
		SNDFILE *f = sf_open(argv[2], SFM_READ, &info);
		if (f == NULL)
			return 2;
		float frame[64];
		long run = 0, best = 0, seen_sound = 0;
		while (sf_readf_float(f, frame, 1) == 1) {
			int silent = 1;
			for (int c = 0; c < info.channels && c < 64; c++)
				silent &= frame[c] == 0.0f;
			if (silent) {
				run++;
			} else {
				if (seen_sound && run > best)
					best = run;
				run = 0;
				seen_sound = 1;
			}
		}
		sf_close(f);
		printf("%ld\n", best);
		return 0;
	}
	float *x = read_mono(argv[2], &n, &rate);
	if (strcmp(argv[1], "rises") == 0 && argc > 3) {
		float level = (float)atof(argv[3]);
		for (long i = 1; i < n; i++)
			if (x[i - 1] < level && x[i] >= level)
				printf("%ld\n", i);
		free(x);
		return 0;
	}
	if (strcmp(argv[1], "dip") == 0 && argc > 4) {
		dip(x, n, atof(argv[3]), atol(argv[4]));
		free(x);
		return 0;
	}
	long start = argc > 3 ? atol(argv[3]) : 0, len = argc > 4 ? atol(argv[4]) : n;
	if (start < 0 || start > n)
		start = n;
	if (len > n - start)
		len = n - start;
	if (strcmp(argv[1], "onsets") == 0) {
		onsets(x, n);
	} else if (strcmp(argv[1], "freq") == 0 && len > 16) {
		printf("%.3f\n", peak_frequency(x + start, len, rate));
	} else if (strcmp(argv[1], "maxcurve") == 0) {
		double m = 0;
		for (long i = 2; i < len; i++) {
			const float *y = x + start + i;
			double c = fabs((double)y[0] - 2.0 * y[-1] + y[-2]);
			if (c > m)
				m = c;
		}
		printf("%.6f\n", m);
	} else if (strcmp(argv[1], "maxstep") == 0) {
		double m = 0;
		for (long i = 1; i < len; i++)
			if (fabs((double)x[start + i] - x[start + i - 1]) > m)
				m = fabs((double)x[start + i] - x[start + i - 1]);
		printf("%.6f\n", m);
	} else if (strcmp(argv[1], "leveldev") == 0 && argc > 5) {
		long w = atol(argv[5]);
		if (w < 1 || w > len) {
			fprintf(stderr, "analyze: window %ld out of the span\n", w);
			free(x);
			return 2;
		}
		/* sums in double, recomputed every window: no drift */
		double first = 0, lo = 1e300, hi = 0;
		for (long i = 0; i + w <= len; i++) {
			double e = 0;
			for (long k = 0; k < w; k++)
				e += (double)x[start + i + k] * x[start + i + k];
			e = sqrt(e / (double)w);
			if (i == 0)
				first = e;
			lo = e < lo ? e : lo;
			hi = e > hi ? e : hi;
		}
		if (first <= 0 || lo <= 0) {
			printf("inf -inf %.6f\n", hi > 0 ? 20 * log10(hi / first) : 0.0);
		} else {
			double dlo = 20 * log10(lo / first), dhi = 20 * log10(hi / first);
			printf("%.6f %.6f %.6f\n", fabs(dlo) > fabs(dhi) ? fabs(dlo) :
			    fabs(dhi), dlo, dhi);
		}
	} else if (strcmp(argv[1], "mean") == 0) {
		double s = 0;
		for (long i = 0; i < len; i++)
			s += x[start + i];
		printf("%.9f\n", len > 0 ? s / (double)len : 0.0);
	} else if (strcmp(argv[1], "rms") == 0) {
		double s = 0;
		for (long i = 0; i < len; i++)
			s += (double)x[start + i] * x[start + i];
		printf("%.6f\n", len > 0 ? sqrt(s / (double)len) : 0.0);
	} else {
		fprintf(stderr, "analyze: bad arguments\n");
		free(x);
		return 2;
	}
	free(x);
	return 0;
}
