/*
 * dsp/pan.c — equal-power panner: a mono input placed between left and
 * right so that left^2 + right^2 stays constant (each -3 dB at centre).
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "dsp_util.h"
#include "lanes.h"
#include "module.h"
#include "smoother_lanes.h"

enum { PAN_IN, PAN_CV, PAN_N_IN };
enum { PAN_LEFT, PAN_RIGHT, PAN_N_OUT };
enum { PAN_POS, PAN_N_P };

struct pan {
	struct smoother pos;     /* -1 (left) .. 1 (right) */
	int running;             /* process has run: smooth changes */
};

static const struct param_desc pan_params[PAN_N_P] = {
	[PAN_POS] = { .name = "pan", .unit = "", .kind = PARAM_REAL,
	    .min = -1.0f, .max = 1.0f, .def = 0.0f,
	    .help = "position, -1 left .. 0 centre (-3 dB each) .. 1 right" },
};

/* Prepare zeroed state: centred, settled. */
static void
pan_init(void *self, float rate, uint32_t seed)
{
	struct pan *p = self;

	(void)seed;
	smoother_init(&p->pos, pan_params[PAN_POS].def, rate, SMOOTH_SECONDS);
}

/* Set the position in [-1, 1]; it is reached smoothly once running. */
static void
pan_set_param(void *self, unsigned index, float value)
{
	struct pan *p = self;

	if (index != PAN_POS)
		return;
	smoother_set(&p->pos, value);
	if (!p->running)         /* before the first block: no glide */
		p->pos.cur = value;
}

/* sin x for x in [0, pi/2]: its Taylor polynomial to x^13 (error below
 * 1e-9, under float rounding), in Horner form.  Plain arithmetic rather
 * than sinf, so the lane kernel below computes the same bits in vectors
 * and a compiler may vectorise a voice's frames. */
static inline float
pan_sin(float x)
{
	float x2 = x * x;
	float p = 1.0f / 6227020800.0f;
	p = p * x2 - 1.0f / 39916800.0f;
	p = p * x2 + 1.0f / 362880.0f;
	p = p * x2 - 1.0f / 5040.0f;
	p = p * x2 + 1.0f / 120.0f;
	p = p * x2 - 1.0f / 6.0f;
	p = p * x2 + 1.0f;
	return x * p;
}

/* Left and right gains, cos and sin of an angle a in [0, pi/2], for a
 * position in [-1, 1] (clamped): cos a = sin(pi/2 - a). */
static inline void
pan_gains(float pos, float *l, float *r)
{
	float a = (clampf(pos, -1.0f, 1.0f) + 1.0f) * (float)(DSP_PI / 4);
	*l = pan_sin((float)(DSP_PI / 2) - a);
	*r = pan_sin(a);
}

/* Whether cv[0 .. n) holds one value, bit for bit (a key-tracked or
 * held position: its gains then need computing once). */
static inline int
pan_cv_constant(const float *cv, unsigned n)
{
	uint32_t first, b, diff = 0;
	memcpy(&first, cv, sizeof first);
	for (unsigned i = 1; i < n; i++) {
		memcpy(&b, cv + i, sizeof b);
		diff |= b ^ first;
	}
	return diff == 0;
}

/* Split the input into left and right by the smoothed position plus cv. */
static void
pan_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct pan *p = self;
	const float *x = in[PAN_IN], *cv = in[PAN_CV];
	float *yl = out[PAN_LEFT], *yr = out[PAN_RIGHT];
	float l, r;

	p->running = 1;
	if (x == NULL) {
		for (unsigned i = 0; i < frames; i++) {
			smoother_next(&p->pos);
			yl[i] = yr[i] = 0.0f;
		}
		return;
	}
	if (!smoother_moving(&p->pos) && (cv == NULL ||
	    pan_cv_constant(cv, frames))) {
		/* the same position at every frame: the same gains (a settled
		 * smoother's next value is its target) */
		pan_gains(cv == NULL ? p->pos.cur : p->pos.target + cv[0], &l, &r);
		for (unsigned i = 0; i < frames; i++) {
			yl[i] = x[i] * l;
			yr[i] = x[i] * r;
		}
		return;
	}
	for (unsigned i = 0; i < frames; i++) {
		float pos = smoother_next(&p->pos);
		if (cv != NULL)
			pos += cv[i];
		pan_gains(pos, &l, &r);
		yl[i] = x[i] * l;
		yr[i] = x[i] * r;
	}
}

/* Four frames of pan_gains at once, lane by lane its operations. */
static inline void
pan_gains4(lanes_v4 pos, lanes_v4 *l, lanes_v4 *r)
{
	const lanes_v4 lo = { -1.0f, -1.0f, -1.0f, -1.0f };
	const lanes_v4 hi = { 1.0f, 1.0f, 1.0f, 1.0f };
	/* clampf: pos > lo ? (pos < hi ? pos : hi) : lo (NaN gives lo) */
	lanes_v4i above = pos > lo, below = pos < hi;
	lanes_v4 c = (lanes_v4)((below & (lanes_v4i)pos) | (~below & (lanes_v4i)hi));
	c = (lanes_v4)((above & (lanes_v4i)c) | (~above & (lanes_v4i)lo));
	lanes_v4 a = (c + 1.0f) * (float)(DSP_PI / 4);
	lanes_v4 u[2] = { (float)(DSP_PI / 2) - a, a };
	lanes_v4 g[2];

	for (unsigned k = 0; k < 2; k++) {
		lanes_v4 x2 = u[k] * u[k];
		lanes_v4 p = x2 * (1.0f / 6227020800.0f) - 1.0f / 39916800.0f;
		p = p * x2 + 1.0f / 362880.0f;
		p = p * x2 - 1.0f / 5040.0f;
		p = p * x2 + 1.0f / 120.0f;
		p = p * x2 - 1.0f / 6.0f;
		p = p * x2 + 1.0f;
		g[k] = u[k] * p;
	}
	*l = g[0];
	*r = g[1];
}

/* A voice's frames from its row of positions `pos` plus `cv` (NULL:
 * none): what pan_process writes, four frames a vector. */
static void
pan_frames(const float *pos, const float *cv, const float *x, float *yl,
    float *yr, unsigned n)
{
	unsigned i = 0;

	for (; i + 4 <= n; i += 4) {
		lanes_v4 p, c, xv, gl, gr;
		memcpy(&p, pos + i, sizeof p);
		if (cv != NULL) {
			memcpy(&c, cv + i, sizeof c);
			p += c;
		}
		pan_gains4(p, &gl, &gr);
		memcpy(&xv, x + i, sizeof xv);
		gl *= xv;
		gr *= xv;
		memcpy(yl + i, &gl, sizeof gl);
		memcpy(yr + i, &gr, sizeof gr);
	}
	for (; i < n; i++) {
		float at = pos[i], gl, gr;
		if (cv != NULL)
			at += cv[i];
		pan_gains(at, &gl, &gr);
		yl[i] = x[i] * gl;
		yr[i] = x[i] * gr;
	}
}

/*
 * Voices side by side (module_type.process_lanes): while the position
 * glides in some voice, the group's smoothers run in vectors
 * (smoother_rows) and each voice's frames are computed from its row with
 * pan_process's operations in its order, bit for bit what process writes.
 * With a position cv the same rows (settled: the position, frames long)
 * free a voice's frames from the smoother's chain, so they vectorise.
 * Without a glide, a voice whose cv is not connected or holds one value
 * through the block runs through process, which then computes its gains
 * once.
 */
static void
pan_process_lanes(void *const *self, const float *const *const *in,
    float *const *const *out, unsigned lanes, unsigned frames, unsigned path)
{
	struct smoother_group pos;
	unsigned char done[LANES_MAX] = { 0 };

	smoother_group_init(&pos, self, offsetof(struct pan, pos), lanes);
	if (!smoother_any_moving(pos.s, lanes)) {
		/* settled: voices whose cv holds still (or is not connected)
		 * take one pair of gains for the block, in process */
		unsigned left = 0;
		for (unsigned l = 0; l < lanes; l++) {
			const float *cv = in[l][PAN_CV];
			done[l] = cv == NULL || in[l][PAN_IN] == NULL ||
			    pan_cv_constant(cv, frames);
			if (done[l])
				pan_process(self[l], in[l], out[l], frames);
			else
				left++;
		}
		if (left == 0)
			return;
	}
	lanes_count(lanes, frames);
	for (unsigned at = 0; at < frames; at += SMOOTHER_ROWS) {
		unsigned m = frames - at < SMOOTHER_ROWS ? frames - at :
		    SMOOTHER_ROWS;
		smoother_rows(pos.s, lanes, m, pos.rows, path);
		for (unsigned l = 0; l < lanes; l++) {
			const float *x = in[l][PAN_IN], *cv = in[l][PAN_CV];
			float *yl = out[l][PAN_LEFT] + at;
			float *yr = out[l][PAN_RIGHT] + at;
			const float *g = pos.row[l];
			if (done[l])
				continue;
			if (x == NULL) {
				for (unsigned i = 0; i < m; i++)
					yl[i] = yr[i] = 0.0f;
				continue;
			}
			pan_frames(g, cv != NULL ? cv + at : NULL, x + at, yl, yr,
			    m);
		}
	}
	for (unsigned l = 0; l < lanes; l++) {
		struct pan *p = self[l];
		p->running = 1;
	}
}

static const struct port_desc pan_inputs[PAN_N_IN] = {
	[PAN_IN] = { "in", "audio in [-1, 1]" },
	[PAN_CV] = { "pan", "position cv added to the pan parameter, -1..1" },
};

static const struct port_desc pan_outputs[PAN_N_OUT] = {
	[PAN_LEFT] = { "left", "audio: in * cos((pan + 1) * pi/4)" },
	[PAN_RIGHT] = { "right", "audio: in * sin((pan + 1) * pi/4)" },
};

const struct module_type pan_module = {
	.name = "pan",
	.help = "equal-power mono-to-stereo panner",
	.size = sizeof(struct pan),
	.inputs = pan_inputs,
	.n_inputs = PAN_N_IN,
	.outputs = pan_outputs,
	.n_outputs = PAN_N_OUT,
	.params = pan_params,
	.n_params = PAN_N_P,
	.init = pan_init,
	.set_param = pan_set_param,
	.process = pan_process,
	.process_lanes = pan_process_lanes,
};
