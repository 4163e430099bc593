/*
 * tests/util.h — what the property tests share: running a module by name,
 * an FFTW-based spectrum analyser, tone measurement and reporting.
 */
#ifndef FORKSYNTH_TESTS_UTIL_H
#define FORKSYNTH_TESTS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "module.h"

/* One running instance of a module type, made from its registry entry. */
struct inst {
	const struct module_type *type;
	void *state;
	float rate;
};

/* Make an instance of the type called `name` (exits the test if unknown). */
struct inst *inst_new(const char *name, float rate, uint32_t seed);
void inst_free(struct inst *m);
/* Set a parameter by name (clamped as the engine would); exits if unknown. */
void inst_set(struct inst *m, const char *param, float value);
/*
 * Run `frames` frames (any count: split into blocks of `block` frames).
 * in[i] may be NULL (unconnected); each in[i] and out[i] holds `frames`.
 */
void inst_run(struct inst *m, float *const *in, float *const *out,
    size_t frames, unsigned block);

/* Windows for spectrum(). */
enum window { WINDOW_RECT, WINDOW_BLACKMAN_HARRIS };

/*
 * Power spectrum of x[0..n): n/2+1 bins of |X[k]|^2, scaled so that a full
 * scale sine exactly on bin k gives 0.25 (amplitude^2/4) in that bin with the
 * rectangular window.  The caller frees the result.
 */
double *spectrum(const float *x, size_t n, enum window w);

/* Amplitude and phase (radians) of the component at `freq` in x, by
 * projection over the whole buffer (choose n as whole periods). */
void tone_measure(const double *x, size_t n, double freq, double rate,
    double *amplitude, double *phase);

/* Fill x with amp*sin(2*pi*freq*t/rate). */
void gen_sine(float *x, size_t n, double freq, double rate, double amp);

double rms(const float *x, size_t n);
double peak(const float *x, size_t n);
/* 10*log10 of a power ratio, 20*log10 of an amplitude ratio. */
double db_power(double ratio);
double db_amp(double ratio);

/* Print one measured figure with its bound; count it as failed when !ok.
 * Format: "name: 12.3 unit (bound: <= 45 unit) ok|FAIL". */
void report(const char *name, double value, const char *unit,
    const char *relation, double bound, int ok);

/* Print a failure message, count it. */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Exit status for main: 0 when nothing failed, 1 otherwise. */
int test_status(void);

/* Allocate zeroed memory or exit. */
void *xcalloc_test(size_t n, size_t size);

#endif
