/*
 * dsp/vca.c — voltage-controlled amplifier: out = in * gain * cv, with the
 * gain parameter smoothed so a turned knob makes no zipper noise.
 */
#include <stddef.h>

#include "dsp_util.h"
#include "lanes.h"
#include "module.h"
#include "smoother_lanes.h"

enum { VCA_IN, VCA_CV, VCA_N_IN };
enum { VCA_OUT, VCA_N_OUT };
enum { VCA_GAIN, VCA_N_P };

struct vca {
	struct smoother gain;      /* linear factor, 0..2 */
	int running;               /* process has run: smooth changes */
};

static const struct param_desc vca_params[VCA_N_P] = {
	[VCA_GAIN] = { .name = "gain", .unit = "", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 2.0f, .def = 1.0f,
	    .help = "linear gain applied on top of cv, 0..2 (1 = unity)" },
};

/* Prepare zeroed state: gain at its default, settled. */
static void
vca_init(void *self, float rate, uint32_t seed)
{
	struct vca *v = self;

	(void)seed;
	smoother_init(&v->gain, vca_params[VCA_GAIN].def, rate, SMOOTH_SECONDS);
}

/* Set the gain (linear factor); it is reached smoothly once running. */
static void
vca_set_param(void *self, unsigned index, float value)
{
	struct vca *v = self;

	if (index != VCA_GAIN)
		return;
	smoother_set(&v->gain, value);
	if (!v->running)           /* before the first block: no glide */
		v->gain.cur = value;
}

/* Multiply the input by the smoothed gain and, when connected, the cv. */
static void
vca_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct vca *v = self;
	const float *x = in[VCA_IN], *cv = in[VCA_CV];
	float *y = out[VCA_OUT];

	v->running = 1;
	if (x == NULL) {
		for (unsigned i = 0; i < frames; i++) {
			smoother_next(&v->gain);
			y[i] = 0.0f;
		}
		return;
	}
	if (!smoother_moving(&v->gain)) {
		float g = v->gain.cur;
		if (cv != NULL)
			for (unsigned i = 0; i < frames; i++)
				y[i] = x[i] * g * cv[i];
		else
			for (unsigned i = 0; i < frames; i++)
				y[i] = x[i] * g;
		return;
	}
	for (unsigned i = 0; i < frames; i++) {
		float g = smoother_next(&v->gain);
		y[i] = cv != NULL ? x[i] * g * cv[i] : x[i] * g;
	}
}

/*
 * Voices side by side (module_type.process_lanes): while the gain glides
 * in some voice, the group's smoothers run in vectors (smoother_rows) and
 * each voice multiplies by its row, the products of vca_process in its
 * order, so every sample is bit for bit what process writes.  A settled
 * gain costs one multiply per sample that the compiler already vectorises
 * along a voice's frames, so then every voice runs through process.
 */
static void
vca_process_lanes(void *const *self, const float *const *const *in,
    float *const *const *out, unsigned lanes, unsigned frames, unsigned path)
{
	struct smoother_group gain;

	smoother_group_init(&gain, self, offsetof(struct vca, gain), lanes);
	if (!smoother_any_moving(gain.s, lanes)) {
		for (unsigned l = 0; l < lanes; l++)
			vca_process(self[l], in[l], out[l], frames);
		return;
	}
	lanes_count(lanes, frames);
	for (unsigned at = 0; at < frames; at += SMOOTHER_ROWS) {
		unsigned m = frames - at < SMOOTHER_ROWS ? frames - at :
		    SMOOTHER_ROWS;
		smoother_rows(gain.s, lanes, m, gain.rows, path);
		for (unsigned l = 0; l < lanes; l++) {
			const float *x = in[l][VCA_IN], *cv = in[l][VCA_CV];
			float *y = out[l][VCA_OUT] + at;
			const float *g = gain.row[l];
			if (x == NULL)
				for (unsigned i = 0; i < m; i++)
					y[i] = 0.0f;
			else if (cv != NULL)
				for (unsigned i = 0; i < m; i++)
					y[i] = x[at + i] * g[i] * cv[at + i];
			else
				for (unsigned i = 0; i < m; i++)
					y[i] = x[at + i] * g[i];
		}
	}
	for (unsigned l = 0; l < lanes; l++) {
		struct vca *v = self[l];
		v->running = 1;
	}
}

static const struct port_desc vca_inputs[VCA_N_IN] = {
	[VCA_IN] = { "in", "audio in [-1, 1]" },
	[VCA_CV] = { "cv", "gain cv, unipolar [0, 1] (not clamped); unconnected = 1" },
};

static const struct port_desc vca_outputs[VCA_N_OUT] = {
	[VCA_OUT] = { "out", "audio: in * gain * cv" },
};

const struct module_type vca_module = {
	.name = "vca",
	.help = "amplifier: out = in * gain * cv (cv = 1 when unconnected)",
	.size = sizeof(struct vca),
	.inputs = vca_inputs,
	.n_inputs = VCA_N_IN,
	.outputs = vca_outputs,
	.n_outputs = VCA_N_OUT,
	.params = vca_params,
	.n_params = VCA_N_P,
	.init = vca_init,
	.set_param = vca_set_param,
	.process = vca_process,
	.process_lanes = vca_process_lanes,
};
