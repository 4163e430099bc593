/*
 * dsp/waveshaper.c — waveshaper: saturation or wave folding, driven hard
 * without aliasing, by running the curve at 8 times the sample rate.
 *
 * Curves (x is the input times the drive gain g, plus the bias):
 *   saturate   erf(sqrt(pi)/2 x): unit slope at 0, smooth knee to +-1;
 *   fold       sin(pi/2 x): up to 1 it bends like a soft saturator, beyond
 *              it folds back (g = 10 folds a full-scale sine five times).
 * Both are entire functions, so the harmonics of a driven sine fall off
 * faster than exponentially: at 8x oversampling (384 kHz at 48 kHz) the
 * harmonics that fold back into the audio band are below -75 dBc for a
 * full-scale sine at full drive (+20 dB), 5 or 9 kHz (tests/waveshaper_test).
 *
 * Oversampling is three 2x stages of linear-phase halfband FIRs (Kaiser
 * windowed, designed at init), each passing 0 .. 0.4167 of the base rate
 * (20 kHz at 48 kHz) and stopping, by about 90 dB or more, whatever would
 * fold into it.  The chain's delay is made a whole number of base samples
 * (WS_LATENCY) by a short pad at the top rate, and the dry signal is delayed
 * by the same amount, so `mix` crossfades two aligned signals.
 *
 * The wet signal passes a DC blocker (5 Hz highpass), so a bias (even
 * harmonics) leaves no offset.  Every parameter glides per sample; a mode
 * change crossfades the two curves over 10 ms.
 */
#include <math.h>

#include "dsp_util.h"
#include "module.h"

/* Oversampling factor and its stages. */
#define WS_STAGES 3
#define WS_OVER (1 << WS_STAGES)
/* Half lengths K of the halfband FIRs (4K - 1 taps), stage 1 first. */
#define WS_K1 20
#define WS_K2 6
#define WS_K3 5
#define WS_KMAX WS_K1
/* Kaiser beta of the halfband design: about 100 dB of stopband. */
#define WS_BETA 10.06
/* Base frames processed per chunk (work buffers hold WS_OVER times it). */
#define WS_CHUNK 64
/* Top-rate samples of padding that make the chain's delay whole: the
 * stages delay (2K1-1) + (2K2-1)/2 + (2K3-1)/4 = 39 + 5.5 + 2.25 base
 * samples; 2 top-rate samples (0.25 base) more make 47. */
#define WS_PAD 2
/* The wet path's delay, base samples; the dry path is delayed as much. */
#define WS_LATENCY 47
/* Highest drive, dB: the antialiasing promise holds up to here. */
#define WS_DRIVE_MAX 20.0f
/* DC blocker corner, Hz. */
#define WS_DC_HZ 5.0f

enum { WS_IN, WS_DRIVE_CV, WS_N_IN };
enum { WS_OUT, WS_N_OUT };
enum { WS_MODE, WS_DRIVE, WS_BIAS, WS_MIX, WS_LEVEL, WS_N_P };
enum { WS_SATURATE, WS_FOLD, WS_N_MODES };

/* One 2x halfband stage: its even-indexed taps, and histories for the
 * upsampler (input rate) and the downsampler (even and odd high-rate
 * samples).  Histories are doubled so a window is always contiguous. */
struct ws_stage {
	unsigned k;                    /* half length: 2k even taps */
	float taps[2 * WS_KMAX];       /* h[2j], j = 0 .. 2k-1 */
	float up[2 * 2 * WS_KMAX];     /* input history, newest first at up_pos */
	unsigned up_pos;
	float dn_even[2 * 2 * WS_KMAX];   /* v[2m] history, newest at dn_pos */
	unsigned dn_pos;
	float dn_odd[WS_KMAX];         /* v[2m+1], a ring of k */
	unsigned odd_pos;
};

struct waveshaper {
	float rate;
	struct ws_stage st[WS_STAGES];
	struct glide_param drive;      /* dB */
	struct glide_param bias;
	struct glide_param mix;        /* 0 dry .. 1 wet */
	struct glide_param level;      /* linear */
	unsigned mode;                 /* the curve faded to */
	unsigned mode_from;            /* the curve faded from */
	float fade;                    /* 0 = mode_from .. 1 = mode */
	float fade_step;               /* per top-rate sample */
	float pad[WS_PAD];             /* top-rate delay making the latency whole */
	float dry[WS_LATENCY];         /* dry delay ring */
	unsigned dry_pos;
	float dc_x1, dc_y1, dc_r;      /* DC blocker: one zero at 1, one pole */
	int running;                   /* process has run: smooth changes */
	/* work buffers, top rate */
	float a[WS_CHUNK * WS_OVER], b[WS_CHUNK * WS_OVER];
	float gain[WS_CHUNK], off[WS_CHUNK];
};

static const char *const ws_modes[] = { "saturate", "fold", NULL };

static const struct param_desc ws_params[WS_N_P] = {
	[WS_MODE] = { .name = "mode", .unit = "", .kind = PARAM_CHOICE,
	    .min = 0, .max = WS_N_MODES - 1, .def = WS_SATURATE,
	    .help = "curve: saturate (erf, soft to +-1) or fold (sine folder); changes crossfade",
	    .choices = ws_modes },
	[WS_DRIVE] = { .name = "drive", .unit = "dB", .kind = PARAM_REAL,
	    .min = 0.0f, .max = WS_DRIVE_MAX, .def = 6.0f,
	    .help = "gain into the curve, dB; antialiased to -70 dBc up to 20 dB for a full-scale sine" },
	[WS_BIAS] = { .name = "bias", .unit = "", .kind = PARAM_REAL,
	    .min = -1.0f, .max = 1.0f, .def = 0.0f,
	    .help = "offset added after the drive: asymmetry, even harmonics (DC is blocked)" },
	[WS_MIX] = { .name = "mix", .unit = "", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 1.0f, .def = 1.0f,
	    .help = "dry/wet crossfade, 0 dry only .. 1 wet only (dry delayed to match)" },
	[WS_LEVEL] = { .name = "level", .unit = "", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 2.0f, .def = 1.0f,
	    .help = "linear output gain, 0..2" },
};

/* Modified Bessel function of the first kind, order 0 (Kaiser window). */
static double
ws_bessel_i0(double x)
{
	double sum = 1.0, term = 1.0;

	for (int k = 1; k < 60; k++) {
		double q = x / (2.0 * k);
		term *= q * q;
		sum += term;
		if (term < 1e-17 * sum)
			break;
	}
	return sum;
}

/* Design stage `s` with half length k: a Kaiser-windowed halfband lowpass
 * of 4k - 1 taps (centre 0.5, every other tap zero), whose nonzero odd
 * taps are normalised to sum 0.5 so the DC gain is exactly 1.  Keeps the
 * even-indexed taps h[2j], the only ones the polyphase forms need. */
static void
ws_stage_design(struct ws_stage *s, unsigned k)
{
	int n = 4 * (int)k - 1, c = 2 * (int)k - 1;
	double h[4 * WS_KMAX], sum = 0.0;

	for (int i = 0; i < n; i++) {
		int o = i - c;
		if (o % 2 == 0) {
			h[i] = 0.0;
			continue;
		}
		double r = (double)o / c;
		double w = ws_bessel_i0(WS_BETA * sqrt(fmax(0.0, 1.0 - r * r))) /
		    ws_bessel_i0(WS_BETA);
		h[i] = sin(DSP_PI * o / 2.0) / (DSP_PI * o) * w;
		sum += h[i];
	}
	s->k = k;
	for (unsigned j = 0; j < 2 * k; j++)
		s->taps[j] = (float)(h[2 * j] * 0.5 / sum);
}

/* Upsample n samples of x by 2 into y (2n samples): the zero-stuffed
 * signal through the halfband, gain 2.  Even outputs are the FIR over the
 * input history, odd ones the input delayed by k - 1 samples. */
static void
ws_up(struct ws_stage *s, const float *x, float *y, unsigned n)
{
	unsigned len = 2 * s->k;

	for (unsigned i = 0; i < n; i++) {
		s->up_pos = s->up_pos == 0 ? len - 1 : s->up_pos - 1;
		s->up[s->up_pos] = s->up[s->up_pos + len] = x[i];
		const float *w = s->up + s->up_pos;
		float acc = 0.0f;
		for (unsigned j = 0; j < len; j++)
			acc += s->taps[j] * w[j];
		y[2 * i] = 2.0f * acc;
		y[2 * i + 1] = w[s->k - 1];
	}
}

/* Downsample 2n samples of v by 2 into y (n samples) through the halfband:
 * y[m] = sum_j h[2j] v[2m - 2j] + 0.5 v[2(m - k) + 1]. */
static void
ws_down(struct ws_stage *s, const float *v, float *y, unsigned n)
{
	unsigned len = 2 * s->k, ring = s->k;

	for (unsigned i = 0; i < n; i++) {
		s->dn_pos = s->dn_pos == 0 ? len - 1 : s->dn_pos - 1;
		s->dn_even[s->dn_pos] = s->dn_even[s->dn_pos + len] = v[2 * i];
		const float *w = s->dn_even + s->dn_pos;
		float acc = 0.0f;
		for (unsigned j = 0; j < len; j++)
			acc += s->taps[j] * w[j];
		/* the odd sample of k pairs back sits where this pair's goes */
		unsigned slot = s->odd_pos;
		y[i] = acc + 0.5f * s->dn_odd[slot];
		s->dn_odd[slot] = v[2 * i + 1];
		s->odd_pos = slot + 1 == ring ? 0 : slot + 1;
	}
}

/* The curve `mode` at x. */
static inline float
ws_curve(unsigned mode, float x)
{
	if (mode == WS_FOLD)
		return sinf((float)(DSP_PI / 2) * x);
	/* erf(sqrt(pi)/2 x): slope 1 at 0 */
	return erff(0.886226925f * x);
}

/* Prepare zeroed state: defaults, settled, silent filters. */
static void
ws_init(void *self, float rate, uint32_t seed)
{
	struct waveshaper *w = self;
	static const unsigned ks[WS_STAGES] = { WS_K1, WS_K2, WS_K3 };

	(void)seed;
	w->rate = rate;
	for (unsigned s = 0; s < WS_STAGES; s++)
		ws_stage_design(&w->st[s], ks[s]);
	glide_param_init(&w->drive, ws_params[WS_DRIVE].def, rate);
	glide_param_init(&w->bias, ws_params[WS_BIAS].def, rate);
	glide_param_init(&w->mix, ws_params[WS_MIX].def, rate);
	glide_param_init(&w->level, ws_params[WS_LEVEL].def, rate);
	w->mode = w->mode_from = WS_SATURATE;
	w->fade = 1.0f;
	w->fade_step = 1.0f / (SMOOTH_SECONDS * rate * WS_OVER);
	w->dc_r = 1.0f - 2.0f * (float)DSP_PI * WS_DC_HZ / rate;
}

/* Set a parameter: mode (a crossfade), drive in dB, bias, mix, level;
 * values are reached smoothly once running. */
static void
ws_set_param(void *self, unsigned index, float value)
{
	struct waveshaper *w = self;
	struct glide_param *p;

	switch (index) {
	case WS_MODE: {
		unsigned m = value >= 0.5f ? WS_FOLD : WS_SATURATE;
		if (m == w->mode)
			return;
		w->mode_from = w->mode;
		w->mode = m;
		/* a new fade starts from wherever the old one had got to */
		w->fade = w->running ? 1.0f - w->fade : 1.0f;
		return;
	}
	case WS_DRIVE: p = &w->drive; break;
	case WS_BIAS:  p = &w->bias; break;
	case WS_MIX:   p = &w->mix; break;
	case WS_LEVEL: p = &w->level; break;
	default: return;
	}
	glide_param_set(p, value);
	if (!w->running)               /* before the first block: no glide */
		p->d.cur = 0.0f;
}

/* Shape n base frames (n <= WS_CHUNK) upsampled in v (n * WS_OVER
 * samples) into y, through the curve, the mode crossfade and the pad. */
static void
ws_shape(struct waveshaper *w, const float *v, float *y, unsigned n)
{
	unsigned top = n * WS_OVER;

	for (unsigned i = 0; i < top; i++) {
		float x = v[i] * w->gain[i / WS_OVER] + w->off[i / WS_OVER];
		float s = ws_curve(w->mode, x);
		if (w->fade < 1.0f) {
			float f = w->fade;
			s = f * s + (1.0f - f) * ws_curve(w->mode_from, x);
			w->fade = fminf(1.0f, f + w->fade_step);
		}
		/* the pad: a WS_PAD-sample delay at the top rate */
		float out = w->pad[WS_PAD - 1];
		for (unsigned k = WS_PAD - 1; k > 0; k--)
			w->pad[k] = w->pad[k - 1];
		w->pad[0] = s;
		y[i] = out;
	}
}

/* Drive the input into the curve at 8x, back to the base rate, block DC,
 * mix with the delayed dry signal. */
static void
ws_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct waveshaper *w = self;
	const float *x = in[WS_IN], *dcv = in[WS_DRIVE_CV];
	float *y = out[WS_OUT];
	float base[WS_CHUNK], wet[WS_CHUNK];

	w->running = 1;
	for (unsigned done = 0; done < frames; done += WS_CHUNK) {
		unsigned n = frames - done < WS_CHUNK ? frames - done : WS_CHUNK;

		for (unsigned i = 0; i < n; i++) {
			float db = glide_param_next(&w->drive);
			if (dcv != NULL)
				db = clampf(db + dcv[done + i], 0.0f, WS_DRIVE_MAX);
			/* dB to linear: 2^(db / 6.0206) */
			w->gain[i] = fast_exp2f(db * 0.16609640f);
			w->off[i] = glide_param_next(&w->bias);
			float xi = x != NULL ? x[done + i] : 0.0f;
			/* NaN never enters; infinities are held at +-1e4 */
			base[i] = xi == xi ? clampf(xi, -1e4f, 1e4f) : 0.0f;
		}
		ws_up(&w->st[0], base, w->b, n);
		ws_up(&w->st[1], w->b, w->a, 2 * n);
		ws_up(&w->st[2], w->a, w->b, 4 * n);
		ws_shape(w, w->b, w->a, n);
		ws_down(&w->st[2], w->a, w->b, 4 * n);
		ws_down(&w->st[1], w->b, w->a, 2 * n);
		ws_down(&w->st[0], w->a, wet, n);

		for (unsigned i = 0; i < n; i++) {
			/* DC blocker: y = x - x1 + r y1 */
			float hp = wet[i] - w->dc_x1 + w->dc_r * w->dc_y1;
			w->dc_x1 = wet[i];
			w->dc_y1 = hp;
			float dry = w->dry[w->dry_pos];
			w->dry[w->dry_pos] = base[i];
			w->dry_pos = w->dry_pos + 1 == WS_LATENCY ? 0 : w->dry_pos + 1;
			float mix = glide_param_next(&w->mix);
			float level = glide_param_next(&w->level);
			y[done + i] = level * (dry + mix * (hp - dry));
		}
	}
}

static const struct port_desc ws_inputs[WS_N_IN] = {
	[WS_IN] = { "in", "audio in [-1, 1] (the promise is for full scale; hotter folds more)" },
	[WS_DRIVE_CV] = { "drive", "dB added to the drive parameter (sum held in 0..20 dB)" },
};

static const struct port_desc ws_outputs[WS_N_OUT] = {
	[WS_OUT] = { "out", "audio: level * (dry/wet mix), 47 samples late (dry too)" },
};

const struct module_type waveshaper_module = {
	.name = "waveshaper",
	.help = "saturation or wave folding, 8x oversampled (antialiased), DC blocked",
	.size = sizeof(struct waveshaper),
	.inputs = ws_inputs,
	.n_inputs = WS_N_IN,
	.outputs = ws_outputs,
	.n_outputs = WS_N_OUT,
	.params = ws_params,
	.n_params = WS_N_P,
	.init = ws_init,
	.set_param = ws_set_param,
	.process = ws_process,
};
