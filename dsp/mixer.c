/*
 * dsp/mixer.c — four-input mixer with smoothed per-input levels and a
 * smoothed master; inputs are summed in fixed order (in1, in2, in3, in4) so
 * results are reproducible bit for bit.
 */
#include <string.h>

#include "dsp_util.h"
#include "lanes.h"
#include "module.h"
#include "smoother_lanes.h"

#define MIXER_CHANNELS 4

enum { MIXER_N_IN = MIXER_CHANNELS };
enum { MIXER_OUT, MIXER_N_OUT };
/* parameters: level1..level4 at 0..3, master at 4 */
enum { MIXER_MASTER = MIXER_CHANNELS, MIXER_N_P };

struct mixer {
	struct smoother level[MIXER_CHANNELS];   /* linear, 0..2 */
	struct smoother master;                  /* linear, 0..2 */
	int running;               /* process has run: smooth changes */
};

static const struct param_desc mixer_params[MIXER_N_P] = {
	{ .name = "level1", .unit = "", .kind = PARAM_REAL, .min = 0.0f,
	    .max = 2.0f, .def = 1.0f, .help = "linear level of in1, 0..2" },
	{ .name = "level2", .unit = "", .kind = PARAM_REAL, .min = 0.0f,
	    .max = 2.0f, .def = 1.0f, .help = "linear level of in2, 0..2" },
	{ .name = "level3", .unit = "", .kind = PARAM_REAL, .min = 0.0f,
	    .max = 2.0f, .def = 1.0f, .help = "linear level of in3, 0..2" },
	{ .name = "level4", .unit = "", .kind = PARAM_REAL, .min = 0.0f,
	    .max = 2.0f, .def = 1.0f, .help = "linear level of in4, 0..2" },
	[MIXER_MASTER] = { .name = "master", .unit = "", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 2.0f, .def = 1.0f,
	    .help = "linear level of the sum, 0..2" },
};

/* Prepare zeroed state: every level at its default, settled. */
static void
mixer_init(void *self, float rate, uint32_t seed)
{
	struct mixer *m = self;

	(void)seed;
	for (unsigned c = 0; c < MIXER_CHANNELS; c++)
		smoother_init(&m->level[c], mixer_params[c].def, rate,
		    SMOOTH_SECONDS);
	smoother_init(&m->master, mixer_params[MIXER_MASTER].def, rate,
	    SMOOTH_SECONDS);
}

/* Set a level (linear factor); it is reached smoothly once running. */
static void
mixer_set_param(void *self, unsigned index, float value)
{
	struct mixer *m = self;
	struct smoother *s;

	if (index < MIXER_CHANNELS)
		s = &m->level[index];
	else if (index == MIXER_MASTER)
		s = &m->master;
	else
		return;
	smoother_set(s, value);
	if (!m->running)           /* before the first block: no glide */
		s->cur = value;
}

/* Sum the connected inputs times their levels, then times master. */
static void
mixer_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct mixer *m = self;
	float *y = out[MIXER_OUT];

	m->running = 1;
	for (unsigned i = 0; i < frames; i++)
		y[i] = 0.0f;
	for (unsigned c = 0; c < MIXER_CHANNELS; c++) {
		const float *x = in[c];
		struct smoother *s = &m->level[c];
		if (x == NULL) {
			/* keep the smoother moving on time even while silent */
			if (smoother_moving(s))
				for (unsigned i = 0; i < frames; i++)
					smoother_next(s);
			continue;
		}
		if (!smoother_moving(s)) {
			float g = s->cur;
			for (unsigned i = 0; i < frames; i++)
				y[i] += x[i] * g;
		} else {
			for (unsigned i = 0; i < frames; i++)
				y[i] += x[i] * smoother_next(s);
		}
	}
	if (!smoother_moving(&m->master)) {
		float g = m->master.cur;
		if (g != 1.0f)
			for (unsigned i = 0; i < frames; i++)
				y[i] *= g;
	} else {
		for (unsigned i = 0; i < frames; i++)
			y[i] *= smoother_next(&m->master);
	}
}

/*
 * Voices side by side (module_type.process_lanes): a level that glides in
 * some voice runs in vectors across the group's voices (smoother_rows),
 * and each voice sums its inputs times its rows in mixer_process's order,
 * bit for bit what process writes.  Levels settled in every voice are
 * read as they are.  With no level gliding anywhere, each voice runs
 * through process, already vectorised along its frames.
 */
static void
mixer_process_lanes(void *const *self, const float *const *const *in,
    float *const *const *out, unsigned lanes, unsigned frames, unsigned path)
{
	struct smoother *level[MIXER_CHANNELS + 1][LANES_MAX];
	int moving[MIXER_CHANNELS + 1], any = 0;
	float row[LANES_MAX][SMOOTHER_ROWS];
	float *rows[LANES_MAX];

	for (unsigned c = 0; c <= MIXER_CHANNELS; c++) {
		for (unsigned l = 0; l < lanes; l++) {
			struct mixer *m = self[l];
			level[c][l] = c < MIXER_CHANNELS ? &m->level[c] :
			    &m->master;
		}
		moving[c] = smoother_any_moving(level[c], lanes);
		any |= moving[c];
	}
	if (!any) {
		for (unsigned l = 0; l < lanes; l++)
			mixer_process(self[l], in[l], out[l], frames);
		return;
	}
	for (unsigned l = 0; l < lanes; l++)
		rows[l] = row[l];
	lanes_count(lanes, frames);
	for (unsigned at = 0; at < frames; at += SMOOTHER_ROWS) {
		unsigned n = frames - at < SMOOTHER_ROWS ? frames - at :
		    SMOOTHER_ROWS;
		for (unsigned l = 0; l < lanes; l++)
			memset(out[l][MIXER_OUT] + at, 0, n * sizeof(float));
		for (unsigned c = 0; c < MIXER_CHANNELS; c++) {
			if (moving[c])
				smoother_rows(level[c], lanes, n, rows, path);
			for (unsigned l = 0; l < lanes; l++) {
				const float *x = in[l][c];
				float *y = out[l][MIXER_OUT] + at;
				if (x == NULL)
					continue;
				x += at;
				if (moving[c]) {
					for (unsigned i = 0; i < n; i++)
						y[i] += x[i] * row[l][i];
				} else {
					float g = level[c][l]->cur;
					for (unsigned i = 0; i < n; i++)
						y[i] += x[i] * g;
				}
			}
		}
		if (moving[MIXER_CHANNELS])
			smoother_rows(level[MIXER_CHANNELS], lanes, n, rows,
			    path);
		for (unsigned l = 0; l < lanes; l++) {
			float *y = out[l][MIXER_OUT] + at;
			float g = level[MIXER_CHANNELS][l]->cur;
			if (moving[MIXER_CHANNELS])
				for (unsigned i = 0; i < n; i++)
					y[i] *= row[l][i];
			else if (g != 1.0f)
				for (unsigned i = 0; i < n; i++)
					y[i] *= g;
		}
	}
	for (unsigned l = 0; l < lanes; l++) {
		struct mixer *m = self[l];
		m->running = 1;
	}
}

static const struct port_desc mixer_inputs[MIXER_N_IN] = {
	{ "in1", "audio in [-1, 1]" },
	{ "in2", "audio in [-1, 1]" },
	{ "in3", "audio in [-1, 1]" },
	{ "in4", "audio in [-1, 1]" },
};

static const struct port_desc mixer_outputs[MIXER_N_OUT] = {
	[MIXER_OUT] = { "out", "audio: master * sum of level_n * in_n" },
};

const struct module_type mixer_module = {
	.name = "mixer",
	.help = "4-input mixer with per-input levels and a master level",
	.size = sizeof(struct mixer),
	.inputs = mixer_inputs,
	.n_inputs = MIXER_N_IN,
	.outputs = mixer_outputs,
	.n_outputs = MIXER_N_OUT,
	.params = mixer_params,
	.n_params = MIXER_N_P,
	.init = mixer_init,
	.set_param = mixer_set_param,
	.process = mixer_process,
	.process_lanes = mixer_process_lanes,
};
