/*
 * dsp/vco.c — band-limited oscillator: saw, pulse with PWM, triangle, sine;
 * exponential FM, hard sync.
 *
 * Saw and triangle read the mip-mapped tables of wavetable.c, blending the
 * two levels chosen for the instantaneous frequency (so no harmonic is above
 * 0.45 of the rate, and none switches in or out abruptly).  Pulse is the
 * difference of two saws half a width apart, so it is band-limited and has
 * no DC at any width.  Sine reads a pure sine table.  Phase is a 32-bit
 * accumulator (exact wrap); with no pitch or fm input connected and no glide
 * moving, the increment is computed once per block in double precision, so a
 * frequency of rate * m / 2^k gives an exactly periodic output.
 *
 * Hard sync resets the phase at the sub-sample time the sync input rises
 * through 0 and smooths the step with a 2-sample polyBLEP; that needs one
 * sample of delay, which the output has only while sync is connected.  The
 * polyBLEP corrects the step but not the slope change, and the tables' own
 * band limit no longer holds across a reset, so a synced oscillator aliases
 * more (about -40 dBc for a 1 kHz saw synced to 700 Hz at 48 kHz) than a
 * free one (below -80 dBc from 20 Hz up).
 *
 * freq, detune, pw, fm and level glide over SMOOTH_SECONDS; octave and wave
 * change at once.  Parameters set before the first block apply at once.
 */
#include <math.h>

#include "dsp_util.h"
#include "module.h"
#include "wavetable.h"

enum { VCO_IN_PITCH, VCO_IN_FM, VCO_IN_PW, VCO_IN_SYNC, VCO_N_IN };
enum { VCO_OUT_OUT, VCO_N_OUT };
enum {
	VCO_P_WAVE, VCO_P_FREQ, VCO_P_OCTAVE, VCO_P_DETUNE, VCO_P_PW,
	VCO_P_FM, VCO_P_LEVEL, VCO_N_P
};
enum { VCO_SAW, VCO_PULSE, VCO_TRIANGLE, VCO_SINE };

#define VCO_CHUNK 64            /* frames of per-sample state on the stack */
#define VCO_PW_MIN 0.02f
#define VCO_PW_MAX 0.98f

struct vco {
	const float *saw;         /* wavetable levels */
	const float *tri;
	const float *sine;
	double inc_scale;         /* phase units per Hz: 2^32 / rate */
	unsigned wave;            /* VCO_SAW ... */
	float freq;               /* Hz at pitch 0 */
	float octave;             /* whole octaves */
	float detune;             /* cents */
	uint32_t base_inc;        /* phase increment at pitch 0, 2^-32 cycles */
	float base_linc;          /* log2(base_inc) */
	struct smoother glide;    /* pitch distance from base_linc, octaves */
	float fm;                 /* octaves per unit of fm input */
	struct smoother fm_glide;
	float pw;                 /* pulse width, fraction of a cycle */
	struct smoother pw_glide;
	float level;              /* output gain */
	struct smoother level_glide;
	uint32_t phase;           /* 2^-32 cycles */
	float sync_last;          /* previous sync input sample */
	float delayed;            /* sample held back while sync is connected */
	int syncing;              /* sync was connected last block */
	int started;              /* process has run */
};

static const char *const vco_waves[] = {
	"saw", "pulse", "triangle", "sine", NULL
};

static const struct port_desc vco_inputs[VCO_N_IN] = {
	[VCO_IN_PITCH] = { "pitch", "pitch, octaves added to freq (0 = freq; midi pitch is 0 at A4)" },
	[VCO_IN_FM] = { "fm", "exponential FM, scaled by the fm parameter (octaves per unit)" },
	[VCO_IN_PW] = { "pw", "pulse width offset, fraction of a cycle added to pw" },
	[VCO_IN_SYNC] = { "sync", "hard sync: phase resets where this rises through 0 (audio)" },
};

static const struct port_desc vco_outputs[VCO_N_OUT] = {
	[VCO_OUT_OUT] = { "out", "audio, peak about level (saw 1.09 x level, pulse up to 1.96 x)" },
};

static const struct param_desc vco_params[VCO_N_P] = {
	[VCO_P_WAVE] = { "wave", "", PARAM_CHOICE, 0, 3, 0,
	    "waveform: saw, pulse (width pw), triangle or sine; switches at once", vco_waves },
	[VCO_P_FREQ] = { "freq", "Hz", PARAM_REAL, 0.1f, 20000, 440,
	    "frequency at pitch 0 (440 tracks the midi pitch output)", NULL },
	[VCO_P_OCTAVE] = { "octave", "oct", PARAM_INT, -4, 4, 0,
	    "whole octaves added to the frequency; switches at once", NULL },
	[VCO_P_DETUNE] = { "detune", "cents", PARAM_REAL, -1200, 1200, 0,
	    "fine tuning in cents (100 to a semitone)", NULL },
	[VCO_P_PW] = { "pw", "", PARAM_REAL, VCO_PW_MIN, VCO_PW_MAX, 0.5f,
	    "pulse width, fraction of a cycle high (0.5 square); pw input added", NULL },
	[VCO_P_FM] = { "fm", "oct", PARAM_REAL, 0, 8, 1,
	    "octaves of pitch per unit of the fm input", NULL },
	[VCO_P_LEVEL] = { "level", "", PARAM_REAL, 0, 1, 1,
	    "output gain, linear", NULL },
};

/* Recompute the pitch-0 increment after freq, octave or detune changed;
 * when `glide` is set the heard pitch moves there over SMOOTH_SECONDS. */
static void
vco_retune(struct vco *v, int glide)
{
	double inc = v->freq * exp2(v->octave + v->detune / 1200.0) *
	    v->inc_scale;
	double hi = exp2((double)WT_LINC_MAX);
	float old = v->base_linc;

	inc = inc < 1.0 ? 1.0 : (inc > hi ? hi : inc);
	v->base_inc = (uint32_t)llrint(inc);
	v->base_linc = (float)log2(inc);
	if (glide)
		glide_retarget(&v->glide, old, v->base_linc);
}

/* Prepare zeroed state at `rate` Hz with default parameters. */
static void
vco_init(void *self, float rate, uint32_t seed)
{
	struct vco *v = self;

	(void)seed;
	wavetable_init();
	v->saw = wavetable_shape(WT_SAW);
	v->tri = wavetable_shape(WT_TRIANGLE);
	v->sine = wavetable_sine();
	v->inc_scale = 4294967296.0 / rate;
	v->wave = (unsigned)vco_params[VCO_P_WAVE].def;
	v->freq = vco_params[VCO_P_FREQ].def;
	v->octave = vco_params[VCO_P_OCTAVE].def;
	v->detune = vco_params[VCO_P_DETUNE].def;
	v->pw = vco_params[VCO_P_PW].def;
	v->fm = vco_params[VCO_P_FM].def;
	v->level = vco_params[VCO_P_LEVEL].def;
	glide_init(&v->glide, rate);
	glide_init(&v->fm_glide, rate);
	glide_init(&v->pw_glide, rate);
	glide_init(&v->level_glide, rate);
	vco_retune(v, 0);
}

/* Set parameter `index` (already clamped to its range). */
static void
vco_set_param(void *self, unsigned index, float value)
{
	struct vco *v = self;
	int glide = v->started;
	float old;

	switch (index) {
	case VCO_P_WAVE:
		v->wave = (unsigned)value;
		break;
	case VCO_P_FREQ:
		v->freq = value;
		vco_retune(v, glide);
		break;
	case VCO_P_OCTAVE:
		v->octave = value;
		vco_retune(v, 0);
		break;
	case VCO_P_DETUNE:
		v->detune = value;
		vco_retune(v, glide);
		break;
	case VCO_P_PW:
		old = v->pw;
		v->pw = value;
		if (glide)
			glide_retarget(&v->pw_glide, old, value);
		break;
	case VCO_P_FM:
		old = v->fm;
		v->fm = value;
		if (glide)
			glide_retarget(&v->fm_glide, old, value);
		break;
	case VCO_P_LEVEL:
		old = v->level;
		v->level = value;
		if (glide)
			glide_retarget(&v->level_glide, old, value);
		break;
	}
}

/* One sample of `wave` at `phase`: mip levels j, j+1 blended by w, pulse
 * width `pwph` in 2^-32 cycles. */
static inline __attribute__((always_inline)) float
vco_sample(const struct vco *v, unsigned wave, uint32_t phase, unsigned j,
    float w, uint32_t pwph)
{
	switch (wave) {
	case VCO_SAW:
		return wavetable_read2(v->saw, j, w, phase);
	case VCO_PULSE:
		return wavetable_read2(v->saw, j, w, phase - pwph) -
		    wavetable_read2(v->saw, j, w, phase);
	case VCO_TRIANGLE:
		return wavetable_read2(v->tri, j, w, phase);
	default:
		return wavetable_read(v->sine, phase);
	}
}

/* Render m frames of `wave` into y from per-frame increments, levels and
 * pulse widths, with hard sync when `sync` is not NULL. */
static inline __attribute__((always_inline)) void
vco_render(struct vco *v, unsigned wave, const uint32_t *inc,
    const unsigned *lj, const float *lw, const uint32_t *pwph,
    const float *sync, float *y, unsigned m)
{
	uint32_t ph = v->phase;

	if (sync == NULL) {
		for (unsigned k = 0; k < m; k++) {
			y[k] = vco_sample(v, wave, ph, lj[k], lw[k], pwph[k]);
			ph += inc[k];
		}
		v->phase = ph;
		return;
	}
	for (unsigned k = 0; k < m; k++) {
		float s = sync[k], out;

		if (v->sync_last <= 0.0f && s > 0.0f) {
			/* crossed 0 a fraction tau of a sample after the last
			 * frame: r frames before this one */
			float r = 1.0f - v->sync_last / (v->sync_last - s);
			uint32_t since = (uint32_t)(r * (float)inc[k]);
			float before = vco_sample(v, wave, ph - since, lj[k],
			    lw[k], pwph[k]);
			float after = vco_sample(v, wave, 0, lj[k], lw[k],
			    pwph[k]);
			float d = after - before;

			ph = since;
			out = vco_sample(v, wave, ph, lj[k], lw[k], pwph[k]);
			v->delayed += d * r * r * 0.5f;
			out -= d * (1.0f - r) * (1.0f - r) * 0.5f;
		} else {
			out = vco_sample(v, wave, ph, lj[k], lw[k], pwph[k]);
		}
		v->sync_last = s;
		y[k] = v->delayed;
		v->delayed = out;
		ph += inc[k];
	}
	v->phase = ph;
}

/* Produce `frames` frames of output. */
static void
vco_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct vco *v = self;
	const float *pitch = in[VCO_IN_PITCH], *fm = in[VCO_IN_FM];
	const float *pw_in = in[VCO_IN_PW], *sync = in[VCO_IN_SYNC];
	float *y = out[VCO_OUT_OUT];
	uint32_t inc[VCO_CHUNK], pwph[VCO_CHUNK];
	unsigned lj[VCO_CHUNK];
	float lw[VCO_CHUNK];
	int pulse = v->wave == VCO_PULSE;

	v->started = 1;
	if (sync != NULL && !v->syncing) {
		/* entering the delayed (sync) path: repeat one sample */
		v->delayed = 0.0f;
		v->sync_last = sync[0];
	}
	v->syncing = sync != NULL;

	for (unsigned done = 0; done < frames; done += VCO_CHUNK) {
		unsigned m = frames - done < VCO_CHUNK ? frames - done : VCO_CHUNK;
		int varying = pitch != NULL || fm != NULL ||
		    smoother_moving(&v->glide);

		/* increments and mip levels */
		if (varying) {
			float o[VCO_CHUNK];

			for (unsigned k = 0; k < m; k++)
				o[k] = v->base_linc;
			if (smoother_moving(&v->glide))
				for (unsigned k = 0; k < m; k++)
					o[k] += smoother_next(&v->glide);
			if (pitch != NULL)
				for (unsigned k = 0; k < m; k++)
					o[k] += pitch[done + k];
			if (fm != NULL && smoother_moving(&v->fm_glide)) {
				for (unsigned k = 0; k < m; k++)
					o[k] += (v->fm + smoother_next(&v->fm_glide)) *
					    fm[done + k];
			} else if (fm != NULL) {
				for (unsigned k = 0; k < m; k++)
					o[k] += v->fm * fm[done + k];
			}
			for (unsigned k = 0; k < m; k++) {
				o[k] = clampf(o[k], 0.0f, WT_LINC_MAX);
				inc[k] = (uint32_t)fast_exp2f(o[k]);
			}
			if (v->wave != VCO_SINE)        /* sine needs no levels */
				for (unsigned k = 0; k < m; k++)
					wavetable_level(o[k], &lj[k], &lw[k]);
			else
				for (unsigned k = 0; k < m; k++)
					lj[k] = 0, lw[k] = 0.0f;
		} else {
			unsigned j;
			float w;

			wavetable_level(v->base_linc, &j, &w);
			for (unsigned k = 0; k < m; k++) {
				inc[k] = v->base_inc;
				lj[k] = j;
				lw[k] = w;
			}
		}
		/* pulse widths */
		if (pulse && (pw_in != NULL || smoother_moving(&v->pw_glide))) {
			for (unsigned k = 0; k < m; k++) {
				float p = v->pw + smoother_next(&v->pw_glide);

				if (pw_in != NULL)
					p += pw_in[done + k];
				p = clampf(p, VCO_PW_MIN, VCO_PW_MAX);
				pwph[k] = (uint32_t)(p * 4294967296.0f);
			}
		} else if (pulse) {
			uint32_t c = (uint32_t)(v->pw * 4294967296.0f);

			for (unsigned k = 0; k < m; k++)
				pwph[k] = c;
		} else {
			for (unsigned k = 0; k < m; k++)
				pwph[k] = 0;
		}
		/* waveform */
		float *yc = y + done;
		const float *sc = sync != NULL ? sync + done : NULL;
		switch (v->wave) {
		case VCO_SAW:
			vco_render(v, VCO_SAW, inc, lj, lw, pwph, sc, yc, m);
			break;
		case VCO_PULSE:
			vco_render(v, VCO_PULSE, inc, lj, lw, pwph, sc, yc, m);
			break;
		case VCO_TRIANGLE:
			vco_render(v, VCO_TRIANGLE, inc, lj, lw, pwph, sc, yc, m);
			break;
		default:
			vco_render(v, VCO_SINE, inc, lj, lw, pwph, sc, yc, m);
			break;
		}
		/* level */
		if (smoother_moving(&v->level_glide)) {
			for (unsigned k = 0; k < m; k++)
				yc[k] *= v->level + smoother_next(&v->level_glide);
		} else if (v->level != 1.0f) {
			for (unsigned k = 0; k < m; k++)
				yc[k] *= v->level;
		}
	}
}

const struct module_type vco_module = {
	.name = "vco",
	.help = "band-limited oscillator: saw, pulse (PWM), triangle, sine; exp FM, hard sync",
	.size = sizeof(struct vco),
	.inputs = vco_inputs,
	.n_inputs = VCO_N_IN,
	.outputs = vco_outputs,
	.n_outputs = VCO_N_OUT,
	.params = vco_params,
	.n_params = VCO_N_P,
	.init = vco_init,
	.set_param = vco_set_param,
	.process = vco_process,
};
