/*
 * tests/util.c — shared by the property tests: module instances by name, an
 * FFTW (double precision) spectrum analyser, tone measurement, reporting.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "util.h"

static int failures;

void *
xcalloc_test(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(99);
	}
	return p;
}

struct inst *
inst_new(const char *name, float rate, uint32_t seed)
{
	const struct module_type *t = module_find(name);
	if (t == NULL || t->process == NULL) {
		fprintf(stderr, "no module type '%s' (or it has no process)\n", name);
		exit(99);
	}
	struct inst *m = xcalloc_test(1, sizeof *m);
	m->type = t;
	m->rate = rate;
	if (posix_memalign(&m->state, 64, module_state_size(t, rate)) != 0)
		exit(99);
	memset(m->state, 0, module_state_size(t, rate));
	t->init(m->state, rate, seed);
	return m;
}

void
inst_free(struct inst *m)
{
	free(m->state);
	free(m);
}

void
inst_set(struct inst *m, const char *param, float value)
{
	int i = module_param_index(m->type, param);
	if (i < 0) {
		fprintf(stderr, "module %s has no parameter '%s'\n",
		    m->type->name, param);
		exit(99);
	}
	m->type->set_param(m->state, (unsigned)i,
	    param_clamp(&m->type->params[i], value));
}

void
inst_run(struct inst *m, float *const *in, float *const *out, size_t frames,
    unsigned block)
{
	const float *ip[MODULE_MAX_PORTS];
	float *op[MODULE_MAX_PORTS];

	for (size_t done = 0; done < frames; done += block) {
		unsigned n = frames - done < block ? (unsigned)(frames - done) : block;
		for (unsigned i = 0; i < m->type->n_inputs; i++)
			ip[i] = in != NULL && in[i] != NULL ? in[i] + done : NULL;
		for (unsigned i = 0; i < m->type->n_outputs; i++)
			op[i] = out[i] + done;
		m->type->process(m->state, ip, op, n);
	}
}

double *
spectrum(const float *x, size_t n, enum window w)
{
	double *in = fftw_malloc(sizeof(double) * n);
	fftw_complex *out = fftw_malloc(sizeof(fftw_complex) * (n / 2 + 1));
	double *power = xcalloc_test(n / 2 + 1, sizeof(double));
	double gain = 0;

	for (size_t i = 0; i < n; i++) {
		double win = 1.0;
		if (w == WINDOW_BLACKMAN_HARRIS) {
			double a = 2 * M_PI * (double)i / (double)n;
			win = 0.35875 - 0.48829 * cos(a) + 0.14128 * cos(2 * a) -
			    0.01168 * cos(3 * a);
		}
		gain += win;
		in[i] = x[i] * win;
	}
	fftw_plan plan = fftw_plan_dft_r2c_1d((int)n, in, out, FFTW_ESTIMATE);
	fftw_execute(plan);
	/* normalise: a sine of amplitude A gives A/2 * sum(win) in its bin */
	for (size_t k = 0; k <= n / 2; k++) {
		double re = out[k][0] / gain, im = out[k][1] / gain;
		power[k] = re * re + im * im;
	}
	fftw_destroy_plan(plan);
	fftw_free(in);
	fftw_free(out);
	return power;
}

void
tone_measure(const double *x, size_t n, double freq, double rate,
    double *amplitude, double *phase)
{
	double s = 0, c = 0;
	for (size_t i = 0; i < n; i++) {
		double a = 2 * M_PI * freq * (double)i / rate;
		s += x[i] * sin(a);
		c += x[i] * cos(a);
	}
	s *= 2.0 / (double)n;
	c *= 2.0 / (double)n;
	*amplitude = sqrt(s * s + c * c);
	*phase = atan2(c, s);
}

void
gen_sine(float *x, size_t n, double freq, double rate, double amp)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(amp * sin(2 * M_PI * freq * (double)i / rate));
}

double
rms(const float *x, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)x[i] * x[i];
	return n ? sqrt(s / (double)n) : 0;
}

double
peak(const float *x, size_t n)
{
	double p = 0;
	for (size_t i = 0; i < n; i++)
		if (fabs(x[i]) > p)
			p = fabs(x[i]);
	return p;
}

double
db_power(double ratio)
{
	return 10 * log10(ratio > 1e-300 ? ratio : 1e-300);
}

double
db_amp(double ratio)
{
	return 20 * log10(ratio > 1e-300 ? ratio : 1e-300);
}

void
report(const char *name, double value, const char *unit, const char *relation,
    double bound, int ok)
{
	printf("%s: %.4g %s (bound: %s %.4g %s) %s\n", name, value, unit,
	    relation, bound, unit, ok ? "ok" : "FAIL");
	if (!ok)
		failures++;
}

void
fail(const char *fmt, ...)
{
	va_list ap;
	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failures++;
}

int
test_status(void)
{
	return failures ? 1 : 0;
}
