/*
 * dsp/noise.c — white and pink noise.
 *
 * White: xorshift64* (seeded by splitmix64 of the init seed, so each
 * instance is deterministic), uniform in [-1, 1), rms 0.577 x level.
 *
 * Pink: white noise through a cascade of first-order pole/zero sections,
 * (1 - a_k z^-1) / (1 - b_k z^-1).  The poles sit an octave apart from 5 Hz
 * up to the sample rate (b_k = exp(-2 pi f_k / rate)); a zero between each
 * pair would give -3 dB/oct in the analog domain, but mapped to z that way
 * the slope flattens in the top two octaves.  So init fits the zeros by
 * Levenberg-Marquardt: the log magnitude is least-squares matched to the
 * -3 dB/oct line on a 1/8-octave grid from 10 Hz to 0.46 of the rate (offset
 * free).  The result is within about +-0.1 dB of the line from 20 Hz to
 * 20 kHz at 44.1 kHz and better at higher rates.  Init costs a few
 * milliseconds; the filter costs one multiply-add pair per section.
 * Pink is scaled to an rms of 0.25 x level (its peaks are near 1).
 */
#include <math.h>
#include <string.h>

#include "dsp_util.h"
#include "module.h"
#include "wavetable.h"

enum { NOISE_N_IN };
enum { NOISE_OUT_OUT, NOISE_N_OUT };
enum { NOISE_P_COLOR, NOISE_P_LEVEL, NOISE_N_P };
enum { NOISE_WHITE, NOISE_PINK };

#define NOISE_SECTIONS 16       /* pink sections (poles to 5 Hz x 2^15) */
#define NOISE_GRID 200          /* pink fit: frequencies at most */
#define NOISE_LOW_POLE 5.0      /* Hz */
#define NOISE_PINK_RMS 0.25

/* Four floats in one SSE/NEON register (GCC and Clang vector extension). */
typedef float v4sf __attribute__((vector_size(16)));

struct noise {
	unsigned color;           /* NOISE_WHITE, NOISE_PINK */
	float level;              /* output gain */
	struct smoother level_glide;
	uint64_t rng;
	float gain;               /* pink: makes its rms NOISE_PINK_RMS */
	/* pink, in vector layout: section k at [k % 4 * 4 + k / 4] */
	float a[NOISE_SECTIONS];  /* zeros */
	float b[NOISE_SECTIONS];  /* poles */
	float x1[NOISE_SECTIONS]; /* each section's previous input */
	float y1[NOISE_SECTIONS]; /* each section's previous output */
	int started;              /* process has run */
};

static const char *const noise_colors[] = { "white", "pink", NULL };

static const struct port_desc noise_outputs[NOISE_N_OUT] = {
	[NOISE_OUT_OUT] = { "out", "noise, audio: white rms 0.577 x level (uniform), pink rms 0.25 x level" },
};

static const struct param_desc noise_params[NOISE_N_P] = {
	[NOISE_P_COLOR] = { "color", "", PARAM_CHOICE, 0, 1, 0,
	    "spectrum: white (flat) or pink (-3 dB/octave, equal power per octave)", noise_colors },
	[NOISE_P_LEVEL] = { "level", "", PARAM_REAL, 0, 1, 1,
	    "output gain, linear", NULL },
};

/* 10 log10 |1 - a e^-jw|^2 where c = cos w, dB. */
static double
noise_section_db(double a, double c)
{
	return 10.0 * log10(1.0 - 2.0 * a * c + a * a);
}

/* Residuals of the pink fit for zeros a[]: e[g] = response - target, minus
 * their mean (the offset is free); returns the sum of squares. */
static double
noise_fit_error(const double *a, const double *b, unsigned k_n,
    const double *c, const double *target, unsigned g_n, double *e)
{
	double mean = 0, ss = 0;

	for (unsigned g = 0; g < g_n; g++) {
		double h = 0;
		for (unsigned k = 0; k < k_n; k++)
			h += noise_section_db(a[k], c[g]) -
			    noise_section_db(b[k], c[g]);
		e[g] = h - target[g];
		mean += e[g];
	}
	mean /= g_n;
	for (unsigned g = 0; g < g_n; g++) {
		e[g] -= mean;
		ss += e[g] * e[g];
	}
	return ss;
}

/* Solve the k_n x k_n system m (augmented by its right-hand column) in
 * place by Gauss-Jordan elimination with partial pivoting; result in x. */
static void
noise_solve(double m[NOISE_SECTIONS][NOISE_SECTIONS + 1], unsigned k_n,
    double *x)
{
	for (unsigned i = 0; i < k_n; i++) {
		unsigned p = i;
		for (unsigned r = i + 1; r < k_n; r++)
			if (fabs(m[r][i]) > fabs(m[p][i]))
				p = r;
		for (unsigned c = 0; c <= k_n; c++) {
			double t = m[i][c];
			m[i][c] = m[p][c];
			m[p][c] = t;
		}
		for (unsigned r = 0; r < k_n; r++) {
			if (r == i || m[i][i] == 0.0)
				continue;
			double f = m[r][i] / m[i][i];
			for (unsigned c = i; c <= k_n; c++)
				m[r][c] -= f * m[i][c];
		}
	}
	for (unsigned i = 0; i < k_n; i++)
		x[i] = m[i][i] != 0.0 ? m[i][k_n] / m[i][i] : 0.0;
}

/* Design the pink cascade for `rate` Hz: poles an octave apart, zeros fitted
 * (Levenberg-Marquardt) to -3 dB/oct; then the gain for NOISE_PINK_RMS. */
static void
noise_pink_design(struct noise *s, double rate)
{
	double a[NOISE_SECTIONS], b[NOISE_SECTIONS], step[NOISE_SECTIONS];
	double trial[NOISE_SECTIONS];
	double c[NOISE_GRID], target[NOISE_GRID], e[NOISE_GRID], e2[NOISE_GRID];
	double jac[NOISE_GRID][NOISE_SECTIONS];
	double m[NOISE_SECTIONS][NOISE_SECTIONS + 1];
	unsigned k_n = 0, g_n = 0;
	double lambda = 1e-2, err;

	/* poles from NOISE_LOW_POLE to the rate, zeros half an octave up */
	for (double f = NOISE_LOW_POLE; f < rate && k_n < NOISE_SECTIONS;
	    f *= 2.0, k_n++) {
		b[k_n] = exp(-2.0 * DSP_PI * f / rate);
		a[k_n] = exp(-2.0 * DSP_PI * f * M_SQRT2 / rate);
	}
	for (double f = 10.0; f <= 0.46 * rate && g_n < NOISE_GRID;
	    f *= exp2(0.125), g_n++) {
		c[g_n] = cos(2.0 * DSP_PI * f / rate);
		target[g_n] = -10.0 * log10(f);
	}

	err = noise_fit_error(a, b, k_n, c, target, g_n, e);
	for (int it = 0; it < 100 && err > 1e-8 * g_n; it++) {
		/* Jacobian of the dB response in each zero, offset projected out */
		for (unsigned k = 0; k < k_n; k++) {
			double mean = 0;
			for (unsigned g = 0; g < g_n; g++) {
				jac[g][k] = 10.0 / M_LN10 * (2.0 * a[k] - 2.0 * c[g]) /
				    (1.0 - 2.0 * a[k] * c[g] + a[k] * a[k]);
				mean += jac[g][k];
			}
			mean /= g_n;
			for (unsigned g = 0; g < g_n; g++)
				jac[g][k] -= mean;
		}
		/* damped normal equations (J'J + lambda diag) step = J'e */
		for (unsigned i = 0; i < k_n; i++) {
			for (unsigned j = 0; j < k_n; j++) {
				double t = 0;
				for (unsigned g = 0; g < g_n; g++)
					t += jac[g][i] * jac[g][j];
				m[i][j] = t;
			}
			m[i][i] *= 1.0 + lambda;
			double t = 0;
			for (unsigned g = 0; g < g_n; g++)
				t += jac[g][i] * e[g];
			m[i][k_n] = t;
		}
		noise_solve(m, k_n, step);
		for (unsigned k = 0; k < k_n; k++)
			trial[k] = clampf((float)(a[k] - step[k]), -0.999f, 0.999999f);
		double e_trial = noise_fit_error(trial, b, k_n, c, target, g_n, e2);
		if (e_trial < err) {
			for (unsigned k = 0; k < k_n; k++)
				a[k] = trial[k];
			for (unsigned g = 0; g < g_n; g++)
				e[g] = e2[g];
			err = e_trial;
			lambda *= 0.3;
		} else {
			lambda *= 10.0;
		}
	}

	/* rms of unit-variance white through the cascade: impulse energy */
	double x1[NOISE_SECTIONS] = { 0 }, y1[NOISE_SECTIONS] = { 0 };
	double energy = 0;
	/* one second: the slowest pole (5 Hz) has decayed by e^-31 */
	for (unsigned n = 0; n < (unsigned)rate; n++) {
		double x = n == 0 ? 1.0 : 0.0;
		for (unsigned k = 0; k < k_n; k++) {
			double y = x - a[k] * x1[k] + b[k] * y1[k];
			x1[k] = x;
			y1[k] = y;
			x = y;
		}
		energy += x * x;
	}
	/* section k goes to lane k / 4 of vector k % 4 (noise_pink_run) */
	for (unsigned k = 0; k < k_n; k++) {
		s->a[k % 4 * 4 + k / 4] = (float)a[k];
		s->b[k % 4 * 4 + k / 4] = (float)b[k];
	}
	/* white input is uniform in [-1, 1): variance 1/3 */
	s->gain = (float)(NOISE_PINK_RMS / sqrt(energy / 3.0));
}

/* Prepare zeroed state at `rate` Hz with default parameters. */
static void
noise_init(void *self, float rate, uint32_t seed)
{
	struct noise *s = self;

	s->color = (unsigned)noise_params[NOISE_P_COLOR].def;
	s->level = noise_params[NOISE_P_LEVEL].def;
	glide_init(&s->level_glide, rate);
	s->rng = rng_seed(seed);
	noise_pink_design(s, rate);
}

/* Set parameter `index` (already clamped to its range). */
static void
noise_set_param(void *self, unsigned index, float value)
{
	struct noise *s = self;
	float old;

	switch (index) {
	case NOISE_P_COLOR:
		s->color = (unsigned)value;
		break;
	case NOISE_P_LEVEL:
		old = s->level;
		s->level = value;
		if (s->started)
			glide_retarget(&s->level_glide, old, value);
		break;
	}
}

/* Filter y[0..n) in place through the pink cascade.
 *
 * The sections run as a pipeline: at each step section k takes the output
 * section k-1 made at the step before, so all sections are independent
 * within a step and run four at a time in vectors.  Section k = 4 l + j
 * lives in lane l of vector j, so section k-1 is the same lane of vector
 * j-1, and only vector 0 needs its input shifted across lanes (from
 * vector 3, with the new white sample in lane 0).  The output is section 15
 * (lane 3 of vector 3) and lags the white input by NOISE_SECTIONS - 1
 * samples; unused sections have a = b = 0, a plain delay. */
static void
noise_pink_run(struct noise *s, float *y, unsigned n)
{
	v4sf a[4], b[4], v[4], x1[4];

	memcpy(a, s->a, sizeof a);
	memcpy(b, s->b, sizeof b);
	memcpy(v, s->y1, sizeof v);
	memcpy(x1, s->x1, sizeof x1);
	for (unsigned i = 0; i < n; i++) {
		v4sf in0 = { y[i], v[3][0], v[3][1], v[3][2] };
		v4sf in1 = v[0], in2 = v[1], in3 = v[2];

		v[0] = in0 - a[0] * x1[0] + b[0] * v[0];
		v[1] = in1 - a[1] * x1[1] + b[1] * v[1];
		v[2] = in2 - a[2] * x1[2] + b[2] * v[2];
		v[3] = in3 - a[3] * x1[3] + b[3] * v[3];
		x1[0] = in0;
		x1[1] = in1;
		x1[2] = in2;
		x1[3] = in3;
		y[i] = v[3][3] * s->gain;
	}
	memcpy(s->y1, v, sizeof v);
	memcpy(s->x1, x1, sizeof x1);
}

/* Produce `frames` frames of output. */
static void
noise_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct noise *s = self;
	float *y = out[NOISE_OUT_OUT];
	uint64_t rng = s->rng;

	(void)in;
	s->started = 1;
	for (unsigned i = 0; i < frames; i++)
		y[i] = rng_uniform(&rng);
	s->rng = rng;

	if (s->color == NOISE_PINK)
		noise_pink_run(s, y, frames);

	if (smoother_moving(&s->level_glide)) {
		for (unsigned i = 0; i < frames; i++)
			y[i] *= s->level + smoother_next(&s->level_glide);
	} else if (s->level != 1.0f) {
		for (unsigned i = 0; i < frames; i++)
			y[i] *= s->level;
	}
}

#if defined(__x86_64__)
/*
 * Voices side by side (module.h, process_lanes): lane l of every vector is
 * voice l of the group, so each voice's serial recurrences (the xorshift
 * state, the pink cascade, the level glide) run W voices at once.  Each lane
 * does exactly the scalar operations of noise_process in the same order:
 *
 *   white   the 64-bit xorshift64* step, the multiply modulo 2^64, and its
 *           top 24 bits (< 2^24, so converting them through int32 is exact);
 *   pink    the same pipeline as noise_pink_run: at each step section k
 *           takes the output section k-1 made the step before, and
 *           computes (in - a x1) + b y1, x1 being its input of the step
 *           before (section k-1's output two steps back, kept in a
 *           rotation of three steps' outputs);
 *   level   y * (level + smoother_next(glide)).  A lane whose glide is
 *           settled has glide exactly 0 (its target), and y * (level + 0)
 *           equals y * level and y alone when level is 1, as process
 *           writes; such a lane's glide state is not written back.
 *
 * Lanes pink and white mix: when any lane is pink the cascade runs in all
 * and a mask picks, and only pink lanes keep the cascade's new state.
 * NOISE_LANES_KERNEL defines the kernel for one vector width; it is
 * instantiated for SSE2 (4 lanes) and AVX2 (8 lanes) below.
 */
#define NOISE_RNG_MUL 0x2545F4914F6CDD1DULL

/* Lane by lane, `m` (all ones or all zeros) ? t : f, on float vectors:
 * C has no vector conditional operator. */
#define NOISE_SELECT(vf, vi, m, t, f) \
	((vf)(((vi)(t) & (m)) | ((vi)(f) & ~(m))))

#define NOISE_LANES_KERNEL(fn, vf, vi, vu, W, attr, tile_write, ...)         \
attr static void                                                             \
fn(void *const *self, float *const *const *out, unsigned n, unsigned frames) \
{                                                                            \
	vf a[NOISE_SECTIONS], b[NOISE_SECTIONS];                             \
	/* pink: section outputs of the last three steps, rotating, since    \
	 * section k's previous input (x1) is section k-1's output the step  \
	 * before last; section 0's previous input is x1_0 */                \
	vf hist[3][NOISE_SECTIONS];                                          \
	vf *older = hist[0], *old = hist[1], *now = hist[2];                 \
	vf x1_0;                                                             \
	vf level, cur, target, coef, gain;                                   \
	vi pink, moving;                                                     \
	/* generator of lane l: rng[l / 2 % 2][l / 4 * 2 + l % 2], so the    \
	 * in-lane shuffle of both halves' low words (__VA_ARGS__) gives the \
	 * lanes in order */                                                 \
	vu rng[2];                                                           \
	/* the last W frames, written out to the lanes every W frames */     \
	vf tile[W];                                                          \
	int any_pink = 0, any_moving = 0;                                    \
	float *y[W];                                                         \
                                                                             \
	/* lanes past n repeat lane 0 and are never stored */                \
	for (unsigned l = 0; l < W; l++) {                                   \
		struct noise *s = self[l < n ? l : 0];                       \
		y[l] = out[l < n ? l : 0][NOISE_OUT_OUT];                    \
		rng[l / 2 % 2][l / 4 * 2 + l % 2] = s->rng;                  \
		level[l] = s->level;                                         \
		cur[l] = s->level_glide.cur;                                 \
		target[l] = s->level_glide.target;                           \
		coef[l] = s->level_glide.coef;                               \
		moving[l] = -smoother_moving(&s->level_glide);               \
		any_moving |= moving[l];                                     \
		pink[l] = -(s->color == NOISE_PINK);                         \
		any_pink |= s->color == NOISE_PINK;                          \
		gain[l] = s->gain;                                           \
		for (unsigned k = 0; k < NOISE_SECTIONS; k++) {              \
			unsigned at = k % 4 * 4 + k / 4;                     \
			a[k][l] = s->a[at];                                  \
			b[k][l] = s->b[at];                                  \
			old[k][l] = s->y1[at];                               \
			if (k > 0)                                           \
				older[k - 1][l] = s->x1[at];                 \
		}                                                            \
		x1_0[l] = s->x1[0];                                          \
	}                                                                    \
	for (unsigned i = 0; i < frames; i++) {                              \
		vu top[2];                                                   \
		for (unsigned h = 0; h < 2; h++) {                           \
			rng[h] ^= rng[h] >> 12;                              \
			rng[h] ^= rng[h] << 25;                              \
			rng[h] ^= rng[h] >> 27;                              \
			top[h] = (rng[h] * NOISE_RNG_MUL) >> 40;             \
		}                                                            \
		vi bits = __builtin_shufflevector((vi)top[0], (vi)top[1],    \
		    __VA_ARGS__);                                            \
		vf x = __builtin_convertvector(bits, vf) * (1.0f / 8388608.0f) \
		    - 1.0f;                                                  \
		if (any_pink) {                                              \
			vf in = old[0];                                      \
			now[0] = x - a[0] * x1_0 + b[0] * in;                \
			for (unsigned k = 1; k < NOISE_SECTIONS; k++) {      \
				vf out_old = old[k];                         \
				now[k] = in - a[k] * older[k - 1] +          \
				    b[k] * out_old;                          \
				in = out_old;                                \
			}                                                    \
			x1_0 = x;                                            \
			x = NOISE_SELECT(vf, vi, pink,                       \
			    now[NOISE_SECTIONS - 1] * gain, x);              \
			vf *spare = older;                                   \
			older = old;                                         \
			old = now;                                           \
			now = spare;                                         \
		}                                                            \
		if (any_moving) {                                            \
			vf d = target - cur;                                 \
			vf next = cur + d * coef;                            \
			vf dist = NOISE_SELECT(vf, vi, d < 0.0f, -d, d);     \
			vf scale = 1.0f + NOISE_SELECT(vf, vi, target < 0.0f, \
			    -target, target);                                \
			cur = NOISE_SELECT(vf, vi, (next == cur) |           \
			    (dist < 1e-5f * scale), target, next);           \
			x *= level + cur;                                    \
		} else {                                                     \
			x *= level;                                          \
		}                                                            \
		tile[i % W] = x;                                             \
		if (i % W == W - 1)                                          \
			tile_write(y, n, i - (W - 1), tile);                 \
		else if (i == frames - 1)                                    \
			tile_write_part(y, n, i - i % W, (const float *)tile, \
			    W, i % W + 1);                                   \
	}                                                                    \
	for (unsigned l = 0; l < n; l++) {                                   \
		struct noise *s = self[l];                                   \
		s->started = 1;                                              \
		s->rng = rng[l / 2 % 2][l / 4 * 2 + l % 2];                  \
		if (moving[l])                                               \
			s->level_glide.cur = cur[l];                         \
		if (!pink[l])                                                \
			continue;                                            \
		for (unsigned k = 0; k < NOISE_SECTIONS; k++) {              \
			unsigned at = k % 4 * 4 + k / 4;                     \
			s->y1[at] = old[k][l];                               \
			s->x1[at] = k > 0 ? older[k - 1][l] : x1_0[l];       \
		}                                                            \
	}                                                                    \
}

/* Half a float vector's lanes of generator state: two per 128 bits. */
typedef uint64_t noise_v2u __attribute__((vector_size(16)));
typedef uint64_t noise_v4u __attribute__((vector_size(32)));

NOISE_LANES_KERNEL(noise_lanes_sse2, lanes_v4, lanes_v4i, noise_v2u, 4, ,
    tile_write4, 0, 2, 4, 6)
NOISE_LANES_KERNEL(noise_lanes_avx2, lanes_v8, lanes_v8i, noise_v4u, 8,
    __attribute__((target("avx2"))), tile_write8, 0, 2, 8, 10, 4, 6, 12, 14)

/* Run `lanes` voices side by side on `path`.  A pass costs the same
 * whatever the lanes it fills, and pays from four (measured, 256 frames:
 * a pass of 4-lane SSE2 costs about 2.6 white and 3 pink voices through
 * process, an 8-lane AVX2 pass about 3.2 and 3.3): on AVX2 five to eight
 * lanes take one 8-lane pass, four lanes an SSE2 pass; on SSE2 each four
 * lanes take a pass; fewer lanes left over go through process. */
static void
noise_process_lanes(void *const *self, const float *const *const *in,
    float *const *const *out, unsigned lanes, unsigned frames, unsigned path)
{
	unsigned l = 0;

	if (path == LANES_AVX2 && lanes > 4) {
		lanes_count(lanes, frames);
		noise_lanes_avx2(self, out, lanes, frames);
		return;
	}
	for (; l + 4 <= lanes; l += 4) {
		lanes_count(4, frames);
		noise_lanes_sse2(self + l, out + l, 4, frames);
	}
	for (; l < lanes; l++)
		noise_process(self[l], in[l], out[l], frames);
}
#endif /* __x86_64__: lane kernels */

const struct module_type noise_module = {
	.name = "noise",
	.help = "noise source: white (uniform) or pink (-3 dB/octave, 20 Hz-20 kHz within 0.5 dB)",
	.size = sizeof(struct noise),
	.inputs = NULL,
	.n_inputs = NOISE_N_IN,
	.outputs = noise_outputs,
	.n_outputs = NOISE_N_OUT,
	.params = noise_params,
	.n_params = NOISE_N_P,
	.init = noise_init,
	.set_param = noise_set_param,
	.process = noise_process,
#if defined(__x86_64__)
	.process_lanes = noise_process_lanes,
#endif
};
