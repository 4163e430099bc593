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
 * Hard sync takes another path while the sync input is connected: the
 * naive waveform (a ramp, a pulse, a triangle or a sine computed from the
 * phase) plus band-limited corrections from blep.c at every discontinuity,
 * at its exact sub-sample time: the saw's and pulse's own edges, the
 * triangle's corners, and each reset, where the jump in value and slope
 * (and for the sine the next two derivatives too) is corrected.  The reset
 * time is where a cubic through four sync samples crosses 0, so the synced
 * path looks one sample ahead, and the symmetric kernel delays it BLEP_ZC
 * more: the output is VCO_SYNC_LATENCY samples late while sync is
 * connected.  With sine masters to 3 kHz aliases stay below -60 dBc over
 * the whole band and below -75 dBc under 10 kHz (tests/
 * vco_sync_alias_test.c).  A band-limited saw master is harder: the ripple
 * its samples carry near Nyquist moves the cubic's crossing by an amount
 * that depends on where it falls between samples (about -36 dBc at
 * 700 -> 1000 Hz).  The free path is untouched.  Entering and leaving the
 * synced path keep the phase continuous.
 *
 * freq, detune, pw, fm and level glide over SMOOTH_SECONDS; octave and wave
 * change at once.  Parameters set before the first block apply at once.
 *
 * Voices side by side (process_lanes): the free path of every wave runs
 * 4 or 8 voices at once, bit-identical to process; the synced path runs
 * per voice.  The kernel is the end of this file, which includes itself
 * once per vector width (VCO_LANE_WIDTH set), so it is written once.
 */
#ifndef VCO_LANE_WIDTH   /* the module; the lane kernel is at the end */

#include <math.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "blep.h"
#include "dsp_util.h"
#include "lanes.h"
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
#define VCO_RING (4 * BLEP_ZC)  /* synced samples pending, a power of two */
#define VCO_RING_MASK (VCO_RING - 1)
#define VCO_SYNC_LATENCY (BLEP_ZC + 1)  /* samples, while sync is connected */
_Static_assert(VCO_SYNC_LATENCY == 33, "the sync port's help states the latency");
#define VCO_QUARTER 0x40000000u  /* a quarter cycle of phase */

/* The synced path's generator: samples written BLEP_ZC before they are
 * emitted, so that corrections can reach both sides of an event. */
struct vco_sync {
	float ring[VCO_RING];      /* naive values plus corrections */
	uint32_t ring_phase[VCO_RING];  /* phase of each generated sample */
	unsigned pos;              /* ring index of the next sample generated */
	uint32_t phase;            /* phase of the last sample generated */
	float hist[3];             /* sync input 3, 2 and 1 samples back */
};

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
	uint32_t phase;           /* 2^-32 cycles, when sync is not connected */
	struct vco_sync sync;     /* the synced path's state */
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
	[VCO_IN_SYNC] = { "sync", "hard sync: phase resets where this rises through 0 (audio); "
	    "while connected, out is 33 samples late (0.7 ms at 48 kHz)" },
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
	blep_init();
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

/* The naive (not band-limited) `wave` at `phase`, pulse width `pwph`:
 * the shapes the tables hold, with their edges and corners sharp. */
static inline __attribute__((always_inline)) float
vco_naive(const struct vco *v, unsigned wave, uint32_t phase, uint32_t pwph)
{
	float x = (float)phase * (1.0f / 4294967296.0f);
	float pw = (float)pwph * (1.0f / 4294967296.0f);

	switch (wave) {
	case VCO_SAW:
		return 2.0f * x - 1.0f;
	case VCO_PULSE:
		return phase < pwph ? 2.0f - 2.0f * pw : -2.0f * pw;
	case VCO_TRIANGLE:
		if (phase < VCO_QUARTER)
			return 4.0f * x;
		if (phase < 3 * VCO_QUARTER)
			return 2.0f - 4.0f * x;
		return 4.0f * x - 4.0f;
	default:
		return wavetable_read(v->sine, phase);
	}
}

/* Correct, in the ring, a breakpoint of the naive wave at phase `at` if the
 * phase passes it (start excluded, end included) in a stretch from `from`
 * that covers `len` of phase, starting `start` samples before the sample
 * now generated, at `inc` per sample; d0, d1: its jumps in value and slope. */
static inline __attribute__((always_inline)) void
vco_sync_break(struct vco_sync *s, uint32_t at, uint32_t from, uint32_t len,
    uint32_t inc, float start, float d0, float d1)
{
	uint32_t ahead = at - from;
	float d[2] = { d0, d1 };

	if (ahead == 0 || ahead > len)
		return;
	blep_add(s->ring, VCO_RING_MASK, s->pos - BLEP_ZC,
	    start - (float)ahead / (float)inc, d, d1 != 0.0f ? 2 : 1);
}

/* Correct every breakpoint of `wave` in one stretch (see vco_sync_break). */
static inline __attribute__((always_inline)) void
vco_sync_stretch(struct vco_sync *s, unsigned wave, uint32_t from,
    uint32_t len, uint32_t inc, float start, uint32_t pwph)
{
	float slope = 8.0f * (float)inc * (1.0f / 4294967296.0f);

	switch (wave) {
	case VCO_SAW:
		vco_sync_break(s, 0, from, len, inc, start, -2.0f, 0.0f);
		break;
	case VCO_PULSE:
		vco_sync_break(s, 0, from, len, inc, start, 2.0f, 0.0f);
		vco_sync_break(s, pwph, from, len, inc, start, -2.0f, 0.0f);
		break;
	case VCO_TRIANGLE:
		vco_sync_break(s, VCO_QUARTER, from, len, inc, start, 0.0f,
		    -slope);
		vco_sync_break(s, 3 * VCO_QUARTER, from, len, inc, start, 0.0f,
		    slope);
		break;
	default:
		break;
	}
}

/* Correct a reset from phase `at` to 0, `before` samples before the sample
 * now generated: the jumps in value and slope, and for the sine in the
 * second and third derivatives too. */
static inline __attribute__((always_inline)) void
vco_sync_reset(const struct vco *v, struct vco_sync *s, unsigned wave,
    uint32_t at, uint32_t inc, float before, uint32_t pwph)
{
	float d[BLEP_ORDERS] = { 0 };
	float w, sn, cs, wk = 1.0f, jump[4];
	unsigned orders = 1;

	d[0] = vco_naive(v, wave, 0, pwph) - vco_naive(v, wave, at, pwph);
	switch (wave) {
	case VCO_TRIANGLE:
		/* slope 4 cycles^-1 after; -4 in the falling half before */
		if (at >= VCO_QUARTER && at < 3 * VCO_QUARTER)
			d[1] = 8.0f * (float)inc * (1.0f / 4294967296.0f);
		orders = 2;
		break;
	case VCO_SINE:
		w = (float)(2.0 * DSP_PI / 4294967296.0) * (float)inc;
		sn = wavetable_read(v->sine, at);
		cs = wavetable_read(v->sine, at + VCO_QUARTER);
		/* the k-th derivative is w^k sin(phase + k quarter cycles) */
		jump[0] = -sn;
		jump[1] = 1.0f - cs;
		jump[2] = sn;
		jump[3] = cs - 1.0f;
		for (unsigned k = 0; k < BLEP_ORDERS; k++, wk *= w)
			d[k] = wk * jump[k & 3];
		orders = BLEP_ORDERS;
		break;
	default:
		break;
	}
	blep_add(s->ring, VCO_RING_MASK, s->pos - BLEP_ZC, before, d, orders);
}

/* Generate one synced sample at `inc`, pulse width `pwph`: when `reset`,
 * the phase restarts at 0 `before` samples (0..1) before it. */
static inline __attribute__((always_inline)) void
vco_sync_step(struct vco *v, unsigned wave, uint32_t inc, uint32_t pwph,
    int reset, float before)
{
	struct vco_sync *s = &v->sync;
	uint32_t from = s->phase, ph;

	if (reset) {
		/* up to the reset, then from 0: the two stretches add to inc */
		uint32_t first = (uint32_t)((1.0 - (double)before) * inc);

		vco_sync_stretch(s, wave, from, first, inc, 1.0f, pwph);
		vco_sync_reset(v, s, wave, from + first, inc, before, pwph);
		ph = inc - first;
		vco_sync_stretch(s, wave, 0, ph, inc, before, pwph);
	} else {
		vco_sync_stretch(s, wave, from, inc, inc, 1.0f, pwph);
		ph = from + inc;
	}
	s->ring[s->pos & VCO_RING_MASK] += vco_naive(v, wave, ph, pwph);
	s->ring_phase[s->pos & VCO_RING_MASK] = ph;
	s->phase = ph;
	s->pos++;
}

/*
 * Where the sync input crosses 0 between samples b (<= 0) and c (> 0), as
 * a fraction 0..1 of the way from b to c: a root of the cubic through a, b,
 * c, d (one sample apart), found by Newton steps kept inside the bracket.
 * A cubic bends less than a line on a sine master (its error there is
 * below 1e-5 sample up to 3 kHz, a line's up to 0.003).  Non-finite
 * neighbours fall back to the line through b and c.
 */
static float
vco_sync_crossing(float a, float b, float c, float d)
{
	double lo = 0.0, hi = 1.0, x = (double)b / ((double)b - (double)c);
	double c1, c2, c3;

	if (!(x >= 0.0))                /* also NaN, from infinities */
		x = 0.0;
	if (x > 1.0)
		x = 1.0;
	if (!isfinite(a) || !isfinite(b) || !isfinite(c) || !isfinite(d))
		return (float)x;
	c1 = c - b / 2.0 - a / 3.0 - d / 6.0;
	c2 = (a + c) / 2.0 - b;
	c3 = (d - a) / 6.0 + (b - c) / 2.0;
	for (unsigned i = 0; i < 12; i++) {
		double p = b + x * (c1 + x * (c2 + x * c3));
		double slope = c1 + x * (2.0 * c2 + x * 3.0 * c3);
		double next;

		if (p == 0.0)
			break;
		if (p < 0.0)
			lo = x;
		else
			hi = x;
		next = x - p / slope;
		if (!(next >= lo && next <= hi))   /* also NaN */
			next = 0.5 * (lo + hi);
		if (fabs(next - x) < 1e-9) {
			x = next;
			break;
		}
		x = next;
	}
	return (float)x;
}

/* Start the synced path where the free one stands: fill the ring with the
 * next BLEP_ZC samples from `phase`, so the first emitted is at `phase`. */
static void
vco_sync_enter(struct vco *v, unsigned wave, uint32_t inc, uint32_t pwph,
    float sync0)
{
	struct vco_sync *s = &v->sync;

	for (unsigned i = 0; i < VCO_RING; i++)
		s->ring[i] = 0.0f;
	s->pos = 0;
	s->phase = v->phase - inc;
	for (unsigned i = 0; i < BLEP_ZC; i++)
		vco_sync_step(v, wave, inc, pwph, 0, 0.0f);
	/* drop corrections that fell before the first sample */
	for (unsigned i = VCO_RING - BLEP_ZC; i < VCO_RING; i++)
		s->ring[i] = 0.0f;
	s->hist[0] = s->hist[1] = s->hist[2] = sync0;
}

/* Leave the synced path: the free one goes on from the next sample that
 * the synced path would have emitted. */
static void
vco_sync_leave(struct vco *v)
{
	v->phase = v->sync.ring_phase[(v->sync.pos - BLEP_ZC) & VCO_RING_MASK];
}

/* Render m frames of `wave` into y from per-frame increments, levels and
 * pulse widths, with hard sync when `sync` is not NULL. */
static inline __attribute__((always_inline)) void
vco_render(struct vco *v, unsigned wave, const uint32_t *inc,
    const unsigned *lj, const float *lw, const uint32_t *pwph,
    const float *sync, float *y, unsigned m)
{
	struct vco_sync *s = &v->sync;
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
		/* a crossing between the sync samples 2 and 1 back resets the
		 * sample generated now; the one after it shapes the cubic */
		float a = s->hist[0], b = s->hist[1], c = s->hist[2];
		float d = sync[k];
		int reset = b <= 0.0f && c > 0.0f;
		float before = reset ? 1.0f - vco_sync_crossing(a, b, c, d) : 0.0f;
		unsigned out;

		vco_sync_step(v, wave, inc[k], pwph[k], reset, before);
		s->hist[0] = b;
		s->hist[1] = c;
		s->hist[2] = d;
		out = (s->pos - 1 - BLEP_ZC) & VCO_RING_MASK;
		y[k] = s->ring[out];
		s->ring[out] = 0.0f;
	}
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

	int entering = sync != NULL && !v->syncing;

	v->started = 1;
	if (sync == NULL && v->syncing)
		vco_sync_leave(v);
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
			if (v->wave != VCO_SINE && sync == NULL)  /* naive: none */
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
		if (entering && done == 0)
			vco_sync_enter(v, v->wave, inc[0], pwph[0], sync[0]);
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

/*
 * Voices side by side (module_type.process_lanes, dsp/lanes.h).  Lanes
 * that share a wave run together, lane l of each vector being lane l's
 * voice; each lane follows process exactly: chunks of VCO_CHUNK frames,
 * a lane's increment from its base_inc while it neither glides nor has
 * pitch or fm connected, else from fast_exp2f of its pitch sum, the same
 * table reads and blends.  A smoother that moves in some lane at a
 * chunk's start is advanced in every lane all chunk long, where process
 * advances it only in lanes where it moves: a settled smoother returns
 * exactly 0 and stays put, and adding 0 to these (never -0) sums, or
 * multiplying by a level of exactly 1, changes no bit.  Table points are
 * read as neighbouring pairs, one 64-bit load per lane (AVX2's gather was
 * slower on Zen 5), and inputs and outputs cross between per-lane rows and
 * lane vectors by W x W transposes.
 *
 * The kernel is the end of this file, compiled once per vector width: the
 * file includes itself with VCO_LANE_WIDTH set to 4 (lanes_v4, SSE2) and to
 * 8 (lanes_v8, in target("avx2") functions).
 */

/* Lane-wise a where mask (all ones or all zeros per lane), else b; a, b
 * and mask vectors of one size. */
#define VCO_SELECT(mask, a, b) \
	((__typeof__(a))(((mask) & (__typeof__(mask))(a)) | \
	    (~(mask) & (__typeof__(mask))(b))))

#define VCO_LANE_WIDTH 4
#include "vco.c"
#undef VCO_LANE_WIDTH
#if defined(__x86_64__)
#define VCO_LANE_WIDTH 8
#include "vco.c"
#undef VCO_LANE_WIDTH
#endif

/* Run `lanes` instances side by side on `path` (see above).  The synced
 * path stays per voice: its BLEP ring, event search and cubic root
 * finding branch per sample and per lane.  A lone lane of a wave runs
 * through process too, and so do two at a fixed pitch (no pitch or fm
 * connected): there half a vector of table reads costs more than two
 * voices' (2.0 against 2.9 ns per voice-sample for a saw on Zen 5).
 * Up to 4 lanes take the 4-float kernel on either path; an 8-lane
 * vector padded from 5 to 8 costs less than two of 4. */
static void
vco_process_lanes(void *const *self, const float *const *const *in,
    float *const *const *out, unsigned lanes, unsigned frames, unsigned path)
{
	struct vco *const *v = (struct vco *const *)self;
	unsigned pick[LANES_MAX];

	if (in[0][VCO_IN_SYNC] != NULL) {
		for (unsigned l = 0; l < lanes; l++)
			vco_process(self[l], in[l], out[l], frames);
		return;
	}
	for (unsigned l = 0; l < lanes; l++) {
		v[l]->started = 1;
		if (v[l]->syncing)
			vco_sync_leave(v[l]);
		v[l]->syncing = 0;
	}
	for (unsigned wave = VCO_SAW; wave <= VCO_SINE; wave++) {
		unsigned count = 0;

		for (unsigned l = 0; l < lanes; l++)
			if (v[l]->wave == wave)
				pick[count++] = l;
		if (count == 1 || (count == 2 && in[0][VCO_IN_PITCH] == NULL &&
		    in[0][VCO_IN_FM] == NULL)) {
			for (unsigned i = 0; i < count; i++)
				vco_process(self[pick[i]], in[pick[i]],
				    out[pick[i]], frames);
			continue;
		}
#if defined(__x86_64__)
		if (path == LANES_AVX2 && count > 4) {
			vco_lanes_run_8(v, in, out, pick, count, frames, wave);
			continue;
		}
#else
		(void)path;
#endif
		for (unsigned first = 0; first < count; first += 4)
			vco_lanes_run_4(v, in, out, pick + first,
			    count - first < 4 ? count - first : 4, frames, wave);
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
	.process_lanes = vco_process_lanes,
};

#else  /* VCO_LANE_WIDTH: the lane kernel, vectors of that many floats */

#define VCO_PASTE(a, b) a##_##b
#define VCO_NAMED(a, b) VCO_PASTE(a, b)
#define VCO_NAME(x) VCO_NAMED(x, VCO_LANE_WIDTH)
#define VF VCO_NAME(vco_vf)     /* floats */
#define VI VCO_NAME(vco_vi)     /* int32: table indices, masks */
#define VU VCO_NAME(vco_vu)     /* uint32: phases, increments */
#define W VCO_LANE_WIDTH
#if VCO_LANE_WIDTH == 8
#define VCO_TARGET __attribute__((target("avx2")))
typedef lanes_v8 VF;
typedef lanes_v8i VI;
#else
#define VCO_TARGET
typedef lanes_v4 VF;
typedef lanes_v4i VI;
#endif
typedef uint32_t VU __attribute__((vector_size(sizeof(VF))));
#define VCO_INLINE static inline __attribute__((always_inline)) VCO_TARGET

/* Every lane x (of type `type`). */
#define VCO_SPLAT(type, x) ((type){ 0 } + (x))

/* t[idx] in each lane, one lane after the other. */
VCO_INLINE VF
VCO_NAME(vco_gather)(const float *t, VI idx)
{
	VF r;

	for (unsigned l = 0; l < W; l++)
		r[l] = t[idx[l]];
	return r;
}

/* t[idx] into *v0 and t[idx + 1] into *v1, in each lane: the two neighbours
 * are one 64-bit load per lane, split into even and odd floats. */
VCO_INLINE void
VCO_NAME(vco_gather_pair)(const float *t, VI idx, VF *v0, VF *v1)
{
#if defined(__x86_64__)
	const __m64 *p[W];

	for (unsigned l = 0; l < W; l++)
		p[l] = (const __m64 *)(t + idx[l]);
	/* x: pairs of lanes 0, 1 (and 4, 5); y: of lanes 2, 3 (and 6, 7) */
	__m128 x = _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), p[0]), p[1]);
	__m128 y = _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), p[2]), p[3]);
#if VCO_LANE_WIDTH == 8
	__m128 x1 = _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), p[4]), p[5]);
	__m128 y1 = _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), p[6]), p[7]);
	__m256 xx = _mm256_insertf128_ps(_mm256_castps128_ps256(x), x1, 1);
	__m256 yy = _mm256_insertf128_ps(_mm256_castps128_ps256(y), y1, 1);

	*v0 = (VF)_mm256_shuffle_ps(xx, yy, 0x88);
	*v1 = (VF)_mm256_shuffle_ps(xx, yy, 0xdd);
#else
	*v0 = (VF)_mm_shuffle_ps(x, y, 0x88);
	*v1 = (VF)_mm_shuffle_ps(x, y, 0xdd);
#endif
#else
	*v0 = VCO_NAME(vco_gather)(t, idx);
	*v1 = VCO_NAME(vco_gather)(t, idx + 1);
#endif
}

/* |x| in each lane, as fabsf. */
VCO_INLINE VF
VCO_NAME(vco_vabs)(VF x)
{
	return (VF)((VI)x & 0x7fffffff);
}

/* clampf in each lane: NaN gives lo. */
VCO_INLINE VF
VCO_NAME(vco_vclamp)(VF x, float lo, float hi)
{
	VF lov = VCO_SPLAT(VF, lo), hiv = VCO_SPLAT(VF, hi);
	VF r = VCO_SELECT(x < hiv, x, hiv);

	return VCO_SELECT(x > lov, r, lov);
}

/* smoother_next in each lane, on the lanes' cur, target and coef. */
VCO_INLINE VF
VCO_NAME(vco_vsmooth)(VF *cur, VF target, VF coef)
{
	VF d = target - *cur;
	VF next = *cur + d * coef;
	VI snap = (next == *cur) | (VCO_NAME(vco_vabs)(d) <
	    1e-5f * (1.0f + VCO_NAME(vco_vabs)(target)));

	next = VCO_SELECT(snap, target, next);
	*cur = next;
	return next;
}

/* (uint32_t)fast_exp2f(x) in each lane, for x in [0, WT_LINC_MAX] (so
 * floorf is truncation and the result is below 2^31). */
VCO_INLINE VU
VCO_NAME(vco_vinc)(VF x)
{
	VI whole = __builtin_convertvector(x, VI);
	VF f = x - __builtin_convertvector(whole, VF);
	VF p = 1.0f + f * (0.6931470282f + f * (0.240229401f +
	    f * (0.05548531785f + f * (0.009674557619f + f * (0.001248275028f +
	    f * 0.0002154104459f)))));
	VU bits = (VU)p + ((VU)whole << 23);

	return (VU)__builtin_convertvector((VF)bits, VI);
}

/* (uint32_t)x in each lane, for x in [0, 2^32). */
VCO_INLINE VU
VCO_NAME(vco_vtou32)(VF x)
{
	VI big = x >= 2147483648.0f;
	VF low = x - VCO_SELECT(big, VCO_SPLAT(VF, 2147483648.0f),
	    VCO_SPLAT(VF, 0.0f));

	return (VU)__builtin_convertvector(low, VI) ^ ((VU)big & 0x80000000u);
}

/* wavetable_level in each lane: levels j, j + 1 blended by w. */
VCO_INLINE void
VCO_NAME(vco_vlevel)(VF linc, VI *j, VF *w)
{
	VF q = (float)WT_LEVELS_PER_OCT * (linc - WT_LINC0);
	VI c = __builtin_convertvector(q, VI);   /* q in [-84, 41]: no overflow */
	VI below = q <= -1.0f, above = q > (float)(WT_LEVELS - 2);
	VF wc;

	c -= __builtin_convertvector(c, VF) < q;  /* true is -1: ceil(q) */
	wc = q - __builtin_convertvector(c, VF) + 1.0f;
	*j = VCO_SELECT(above, VCO_SPLAT(VI, WT_LEVELS - 2),
	    VCO_SELECT(below, VCO_SPLAT(VI, 0), c));
	*w = VCO_SELECT(above, VCO_SPLAT(VF, 1.0f),
	    VCO_SELECT(below, VCO_SPLAT(VF, 0.0f), wc));
}

/* wavetable_read2 in each lane: levels j, j + 1 of `shape`. */
VCO_INLINE VF
VCO_NAME(vco_vread2)(const float *shape, VI j, VF w, VU phase)
{
	VI a = j * (int)(WT_SIZE + 1) + (VI)(phase >> WT_FRAC_BITS);
	VI b = a + (int)(WT_SIZE + 1);
	VF f = __builtin_convertvector((VI)(phase &
	    ((1u << WT_FRAC_BITS) - 1)), VF) * WT_FRAC_SCALE;
	VF a0, a1, b0, b1, va, vb;

	VCO_NAME(vco_gather_pair)(shape, a, &a0, &a1);
	VCO_NAME(vco_gather_pair)(shape, b, &b0, &b1);
	va = a0 + f * (a1 - a0);
	vb = b0 + f * (b1 - b0);

	return va + w * (vb - va);
}

/* wavetable_read in each lane. */
VCO_INLINE VF
VCO_NAME(vco_vread)(const float *t, VU phase)
{
	VI i = (VI)(phase >> WT_FRAC_BITS);
	VF f = __builtin_convertvector((VI)(phase &
	    ((1u << WT_FRAC_BITS) - 1)), VF) * WT_FRAC_SCALE;
	VF a0, a1;

	VCO_NAME(vco_gather_pair)(t, i, &a0, &a1);
	return a0 + f * (a1 - a0);
}

/* Whether any lane of mask is set. */
VCO_INLINE int
VCO_NAME(vco_any)(VI mask)
{
	int any = 0;

	for (unsigned l = 0; l < W; l++)
		any |= mask[l];
	return any != 0;
}

/* Transpose W vectors of W floats in place: r[a][b] becomes r[b][a]. */
VCO_INLINE void
VCO_NAME(vco_transpose)(VF *r)
{
#if defined(__x86_64__) && VCO_LANE_WIDTH == 8
	__m256 t[8], u[8];

	for (unsigned i = 0; i < 8; i += 2) {
		t[i] = _mm256_unpacklo_ps((__m256)r[i], (__m256)r[i + 1]);
		t[i + 1] = _mm256_unpackhi_ps((__m256)r[i], (__m256)r[i + 1]);
	}
	for (unsigned i = 0; i < 8; i += 4) {
		u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
		u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
		u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
		u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
	}
	for (unsigned i = 0; i < 4; i++) {
		r[i] = (VF)_mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
		r[i + 4] = (VF)_mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
	}
#elif defined(__x86_64__)
	__m128 r0 = (__m128)r[0], r1 = (__m128)r[1];
	__m128 r2 = (__m128)r[2], r3 = (__m128)r[3];

	_MM_TRANSPOSE4_PS(r0, r1, r2, r3);
	r[0] = (VF)r0, r[1] = (VF)r1, r[2] = (VF)r2, r[3] = (VF)r3;
#else
	for (unsigned a = 0; a < W; a++)
		for (unsigned b = a + 1; b < W; b++) {
			float x = r[a][b];

			r[a][b] = r[b][a];
			r[b][a] = x;
		}
#endif
}

/* m frames of input rows src[l] + from, lane by lane into vectors. */
VCO_INLINE void
VCO_NAME(vco_lanes_in)(VF *dst, const float *const *src, unsigned from,
    unsigned m)
{
	unsigned k = 0;

	for (; k + W <= m; k += W) {
		for (unsigned l = 0; l < W; l++)
			memcpy(&dst[k + l], src[l] + from + k, sizeof(VF));
		VCO_NAME(vco_transpose)(dst + k);
	}
	for (; k < m; k++)
		for (unsigned l = 0; l < W; l++)
			dst[k][l] = src[l][from + k];
}

/* m frames of vectors y, lane by lane into rows dst[l] + from for the
 * first `count` lanes; y is left transposed. */
VCO_INLINE void
VCO_NAME(vco_lanes_out)(float *const *dst, VF *y, unsigned from, unsigned m,
    unsigned count)
{
	unsigned k = 0;

	for (; k + W <= m; k += W) {
		VCO_NAME(vco_transpose)(y + k);
		for (unsigned l = 0; l < count; l++)
			memcpy(dst[l] + from + k, &y[k + l], sizeof(VF));
	}
	for (; k < m; k++)
		for (unsigned l = 0; l < count; l++)
			dst[l][from + k] = y[k][l];
}

/*
 * The lanes pick[0 .. count) of v, all playing `wave`, for `frames` frames
 * without sync: process's free path, W lanes at once.  Lanes past count
 * repeat the first and are not stored.
 */
VCO_INLINE void
VCO_NAME(vco_lanes_body)(struct vco *const *v, const float *const *const *in,
    float *const *const *out, const unsigned *pick, unsigned count,
    unsigned frames, unsigned wave)
{
	struct vco *lv[W];
	const float *pitch[W], *fm_in[W], *pw_in[W];
	float *y_out[W];
	VU phase, base_inc;
	VF base_linc, glide, glide_coef, fm, fm_glide, fm_coef;
	VF pw, pw_glide, pw_coef, level, level_glide, level_coef;
	const VF settled = VCO_SPLAT(VF, 0.0f);   /* every glide's target */
	const float *saw = v[pick[0]]->saw;       /* tables: shared statics */
	const float *tri = v[pick[0]]->tri, *sine = v[pick[0]]->sine;

	for (unsigned l = 0; l < W; l++) {
		unsigned i = pick[l < count ? l : 0];
		const struct vco *s = v[i];

		lv[l] = v[i];
		pitch[l] = in[i][VCO_IN_PITCH];
		fm_in[l] = in[i][VCO_IN_FM];
		pw_in[l] = in[i][VCO_IN_PW];
		y_out[l] = out[i][VCO_OUT_OUT];
		phase[l] = s->phase;
		base_inc[l] = s->base_inc;
		base_linc[l] = s->base_linc;
		glide[l] = s->glide.cur;
		glide_coef[l] = s->glide.coef;
		fm[l] = s->fm;
		fm_glide[l] = s->fm_glide.cur;
		fm_coef[l] = s->fm_glide.coef;
		pw[l] = s->pw;
		pw_glide[l] = s->pw_glide.cur;
		pw_coef[l] = s->pw_glide.coef;
		level[l] = s->level;
		level_glide[l] = s->level_glide.cur;
		level_coef[l] = s->level_glide.coef;
	}
	for (unsigned done = 0; done < frames; done += VCO_CHUNK) {
		unsigned m = frames - done < VCO_CHUNK ? frames - done : VCO_CHUNK;
		VF pitch_v[VCO_CHUNK], fm_v[VCO_CHUNK], pw_v[VCO_CHUNK];
		VU inc_v[VCO_CHUNK], pwph_v[VCO_CHUNK];
		VI j_v[VCO_CHUNK];
		VF w_v[VCO_CHUNK], y[VCO_CHUNK];
		VI varying, fixed_j;
		VF fixed_w;
		/* smoothers that move in some lane at the chunk's start; one
		 * settled in every lane would add exactly 0 all chunk long */
		int gliding = VCO_NAME(vco_any)(glide != settled);
		int fm_gliding = VCO_NAME(vco_any)(fm_glide != settled);
		int pw_gliding = VCO_NAME(vco_any)(pw_glide != settled);
		int level_gliding = VCO_NAME(vco_any)(level_glide != settled);
		int any, all;

		/* which lanes follow the per-sample pitch, as process decides
		 * at each chunk's start */
		if (pitch[0] != NULL || fm_in[0] != NULL)
			varying = VCO_SPLAT(VI, -1);
		else
			varying = glide != settled;
		any = VCO_NAME(vco_any)(varying);
		all = !VCO_NAME(vco_any)(~varying);
		VCO_NAME(vco_vlevel)(base_linc, &fixed_j, &fixed_w);
		if (pitch[0] != NULL)
			VCO_NAME(vco_lanes_in)(pitch_v, pitch, done, m);
		if (fm_in[0] != NULL)
			VCO_NAME(vco_lanes_in)(fm_v, fm_in, done, m);
		if (wave == VCO_PULSE && pw_in[0] != NULL)
			VCO_NAME(vco_lanes_in)(pw_v, pw_in, done, m);

		/* increments and mip levels of the lanes that follow their
		 * pitch (every lane, when pitch or fm is connected) */
		for (unsigned k = 0; k < m && any; k++) {
			VF o = base_linc;
			VU inc;
			VI j;
			VF w;

			if (gliding)
				o += VCO_NAME(vco_vsmooth)(&glide, settled,
				    glide_coef);
			if (pitch[0] != NULL)
				o += pitch_v[k];
			if (fm_in[0] != NULL && fm_gliding)
				o += (fm + VCO_NAME(vco_vsmooth)(&fm_glide, settled,
				    fm_coef)) * fm_v[k];
			else if (fm_in[0] != NULL)
				o += fm * fm_v[k];
			o = VCO_NAME(vco_vclamp)(o, 0.0f, WT_LINC_MAX);
			inc = VCO_NAME(vco_vinc)(o);
			if (wave != VCO_SINE)
				VCO_NAME(vco_vlevel)(o, &j, &w);
			else
				j = fixed_j, w = fixed_w;
			if (!all) {
				inc = VCO_SELECT(varying, inc, base_inc);
				j = VCO_SELECT(varying, j, fixed_j);
				w = VCO_SELECT(varying, w, fixed_w);
			}
			inc_v[k] = inc;
			j_v[k] = j;
			w_v[k] = w;
		}
		/* pulse widths */
		for (unsigned k = 0; k < m && wave == VCO_PULSE; k++) {
			VF p = pw;

			if (pw_gliding)
				p += VCO_NAME(vco_vsmooth)(&pw_glide, settled,
				    pw_coef);
			if (pw_in[0] != NULL)
				p += pw_v[k];
			p = VCO_NAME(vco_vclamp)(p, VCO_PW_MIN, VCO_PW_MAX);
			pwph_v[k] = VCO_NAME(vco_vtou32)(p * 4294967296.0f);
		}
		/* waveform and level */
		for (unsigned k = 0; k < m; k++) {
			VU inc = any ? inc_v[k] : base_inc;
			VI j = any ? j_v[k] : fixed_j;
			VF w = any ? w_v[k] : fixed_w, x;

			switch (wave) {
			case VCO_SAW:
				x = VCO_NAME(vco_vread2)(saw, j, w, phase);
				break;
			case VCO_PULSE:
				x = VCO_NAME(vco_vread2)(saw, j, w,
				    phase - pwph_v[k]) -
				    VCO_NAME(vco_vread2)(saw, j, w, phase);
				break;
			case VCO_TRIANGLE:
				x = VCO_NAME(vco_vread2)(tri, j, w, phase);
				break;
			default:
				x = VCO_NAME(vco_vread)(sine, phase);
				break;
			}
			if (level_gliding)
				x *= level + VCO_NAME(vco_vsmooth)(&level_glide,
				    settled, level_coef);
			else
				x *= level;
			y[k] = x;
			phase += inc;
		}
		VCO_NAME(vco_lanes_out)(y_out, y, done, m, count);
	}
	for (unsigned l = 0; l < count; l++) {
		struct vco *s = lv[l];

		s->phase = phase[l];
		s->glide.cur = glide[l];
		s->fm_glide.cur = fm_glide[l];
		s->pw_glide.cur = pw_glide[l];
		s->level_glide.cur = level_glide[l];
	}
}

/* vco_lanes_body with the wave fixed at compile time. */
static VCO_TARGET void
VCO_NAME(vco_lanes_run)(struct vco *const *v, const float *const *const *in,
    float *const *const *out, const unsigned *pick, unsigned count,
    unsigned frames, unsigned wave)
{
	switch (wave) {
	case VCO_SAW:
		VCO_NAME(vco_lanes_body)(v, in, out, pick, count, frames, VCO_SAW);
		break;
	case VCO_PULSE:
		VCO_NAME(vco_lanes_body)(v, in, out, pick, count, frames,
		    VCO_PULSE);
		break;
	case VCO_TRIANGLE:
		VCO_NAME(vco_lanes_body)(v, in, out, pick, count, frames,
		    VCO_TRIANGLE);
		break;
	default:
		VCO_NAME(vco_lanes_body)(v, in, out, pick, count, frames,
		    VCO_SINE);
		break;
	}
}

#undef VCO_TARGET
#undef VCO_INLINE
#undef VF
#undef VI
#undef VU
#undef W
#endif  /* VCO_LANE_WIDTH */
