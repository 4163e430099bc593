/*
 * dsp/convolver.c — the `convolver` module: stereo convolution with an
 * impulse response from a file (mono, stereo or true stereo), with zero
 * added latency (dsp/convolver_core.c).
 *
 * The IR is a resource (module.h): read, resampled and transformed in the
 * DSP child's control thread, never on the real-time path, then handed over
 * between blocks.  The old IR keeps playing meanwhile, and fades out over
 * `fade` seconds while the new one fades in, so a switch makes no click.
 * (The new IR starts from silent history, so for a moment it sounds as if
 * the input had just begun: its reverb builds up during the fade.)
 *
 * Threads: process() runs the current IR's head (the part due this block)
 * and the whole of a fading IR; background() runs the current IR's tail
 * (the long partitions, for later blocks) on another pool thread.  Only
 * resource_swap, between blocks, changes which IR is current.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "convolver_core.h"
#include "dsp_util.h"
#include "irfile.h"
#include "module.h"

#define MAX_RETIRED 4

enum { CV_IN_L, CV_IN_R, CV_N_IN };
enum { CV_OUT_L, CV_OUT_R, CV_N_OUT };
enum { CV_IR, CV_GAIN, CV_NORMALIZE, CV_MIX, CV_FADE, CV_N_P };

/* One loaded IR and the running state that goes with it. */
struct cv_res {
	struct conv_ir *ir;
	struct conv *conv;
};

struct convolver {
	float rate;
	struct cv_res *cur;                 /* playing */
	struct cv_res *fading;              /* the one before, fading out */
	unsigned fade_left;                 /* frames of fade to go */
	unsigned fade_frames;               /* length of a crossfade, frames */
	struct cv_res *retired[MAX_RETIRED];/* done with, for resource_free */
	int running;                        /* a block has been processed */
	struct smoother gain;               /* linear */
	struct smoother mix;                /* 0 dry .. 1 wet */
	float wet[2][CONV_MAX_BLOCK];
	float old[2][CONV_MAX_BLOCK];
};

static const char *const cv_normalize_choices[] = { "off", "on", NULL };

static const struct param_desc cv_params[CV_N_P] = {
	[CV_IR] = { .name = "ir", .unit = "", .kind = PARAM_TEXT,
	    .help = "impulse response: any file libsndfile reads, 1, 2 or 4 "
	    "(true stereo) channels, resampled to the engine's rate" },
	[CV_GAIN] = { .name = "gain", .unit = "dB", .kind = PARAM_REAL,
	    .min = -60.0f, .max = 24.0f, .def = 0.0f,
	    .help = "level of the convolved signal" },
	[CV_NORMALIZE] = { .name = "normalize", .unit = "", .kind = PARAM_CHOICE,
	    .min = 0, .max = 1, .def = 0, .choices = cv_normalize_choices,
	    .help = "scale the IR to unit energy when it is loaded" },
	[CV_FADE] = { .name = "fade", .unit = "s", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 2.0f, .def = 0.05f,
	    .help = "crossfade when the IR changes; 0 switches at once" },
	[CV_MIX] = { .name = "mix", .unit = "", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 1.0f, .def = 1.0f,
	    .help = "dry/wet balance, 0 dry .. 1 wet" },
};

static const struct port_desc cv_inputs[CV_N_IN] = {
	[CV_IN_L] = { "left", "audio in; alone it feeds both sides" },
	[CV_IN_R] = { "right", "audio in, right" },
};

static const struct port_desc cv_outputs[CV_N_OUT] = {
	[CV_OUT_L] = { "left", "audio out, left" },
	[CV_OUT_R] = { "right", "audio out, right" },
};

/* FFTW's wisdom file under $XDG_CACHE_HOME (or ~/.cache), made private. */
static int
wisdom_path(char *buf, size_t size)
{
	const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char dir[512];
	if (cache != NULL && cache[0] == '/')
		snprintf(dir, sizeof dir, "%s/forksynth", cache);
	else if (home != NULL && home[0] == '/')
		snprintf(dir, sizeof dir, "%s/.cache/forksynth", home);
	else
		return -1;
	for (char *s = dir + 1; *s != '\0'; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(dir, 0700);    /* XDG: missing levels are private */
			*s = '/';
		}
	mkdir(dir, 0700);
	snprintf(buf, size, "%s/fftw-wisdom", dir);
	return 0;
}

/* Once per process, on the control thread: plans from the cache, or
 * measured (a few seconds) and cached for the next time. */
static void
wisdom_once(void)
{
	static int done;
	char path[600];
	if (done)
		return;
	done = 1;
	if (wisdom_path(path, sizeof path) != 0)
		return;
	if (conv_wisdom_load(path) == 0)
		return;
	if (conv_wisdom_measure() == 0)
		conv_wisdom_save(path);
}

/* Check an IR file in the parent, before the command is accepted. */
static int
cv_text_check(const char *text, char *err, size_t err_size)
{
	return ir_check(text, err, err_size);
}

/* Free a loaded IR and its state (control thread). */
static void
cv_resource_free(void *r)
{
	struct cv_res *res = r;
	if (res == NULL)
		return;
	conv_free(res->conv);
	conv_ir_free(res->ir);
	free(res);
}

/* Read, resample, normalize and prepare an IR (control thread). */
static void *
cv_resource_load(const char *text, float rate, const float *params, char *err,
    size_t err_size)
{
	float **data;
	unsigned ch;
	size_t n;

	wisdom_once();
	if (ir_read(text, rate, &data, &ch, &n, err, err_size) != 0)
		return NULL;
	if (params[CV_NORMALIZE] >= 0.5f) {
		double energy = 0;
		for (unsigned c = 0; c < ch; c++)
			for (size_t i = 0; i < n; i++)
				energy += (double)data[c][i] * data[c][i];
		float scale = energy > 0 ? (float)(1.0 / sqrt(energy / (ch > 1 ? ch / 2.0 : 1))) : 1;
		for (unsigned c = 0; c < ch; c++)
			for (size_t i = 0; i < n; i++)
				data[c][i] *= scale;
	}
	struct cv_res *res = calloc(1, sizeof *res);
	if (res != NULL)
		res->ir = conv_ir_create((const float *const *)data, ch, n, err, err_size);
	ir_data_free(data, ch);
	if (res == NULL || res->ir == NULL) {
		if (res == NULL)
			snprintf(err, err_size, "%s: out of memory", text);
		free(res);
		return NULL;
	}
	res->conv = conv_create(res->ir);
	if (res->conv == NULL) {
		snprintf(err, err_size, "%s: out of memory", text);
		cv_resource_free(res);
		return NULL;
	}
	return res;
}

/* Keep a finished IR for the next swap to hand back; 0 if no room. */
static int
cv_retire(struct convolver *c, struct cv_res *res)
{
	for (unsigned i = 0; i < MAX_RETIRED; i++)
		if (c->retired[i] == NULL) {
			c->retired[i] = res;
			return 1;
		}
	return 0;
}

/* Between blocks: `r` becomes current; the current one fades out.  Returns
 * one IR that is done with, for freeing off the real-time path. */
static void *
cv_resource_swap(void *self, void *r)
{
	struct convolver *c = self;
	void *done = NULL;

	for (unsigned i = 0; i < MAX_RETIRED && done == NULL; i++) {
		done = c->retired[i];
		c->retired[i] = NULL;
	}
	/* a fade still under way is cut short (a slot was just freed, if
	 * `done` came from one) */
	if (c->fading != NULL) {
		if (done == NULL)
			done = c->fading;
		else
			cv_retire(c, c->fading);
		c->fading = NULL;
	}
	struct cv_res *old = c->cur;
	c->cur = r;
	if (old == NULL)
		return done;
	if (c->running && c->fade_frames > 0) {
		c->fading = old;
		c->fade_left = c->fade_frames;
	} else if (done == NULL) {
		done = old;
	} else if (!cv_retire(c, old)) {
		c->fading = old;        /* silent until a slot frees */
		c->fade_left = 0;
	}
	return done;
}

/* When the instance goes away (control thread): free every IR it holds. */
static void
cv_resources_drop(void *self)
{
	struct convolver *c = self;
	cv_resource_free(c->cur);
	cv_resource_free(c->fading);
	for (unsigned i = 0; i < MAX_RETIRED; i++)
		cv_resource_free(c->retired[i]);
	c->cur = c->fading = NULL;
	memset(c->retired, 0, sizeof c->retired);
}

static void
cv_init(void *self, float rate, uint32_t seed)
{
	struct convolver *c = self;
	(void)seed;
	c->rate = rate;
	smoother_init(&c->gain, 1.0f, rate, SMOOTH_SECONDS);
	smoother_init(&c->mix, cv_params[CV_MIX].def, rate, SMOOTH_SECONDS);
	c->fade_frames = (unsigned)(cv_params[CV_FADE].def * rate);
}

static void
cv_set_param(void *self, unsigned index, float value)
{
	struct convolver *c = self;
	if (index == CV_FADE) {
		c->fade_frames = (unsigned)(value * c->rate);
		return;
	}
	struct smoother *s = index == CV_GAIN ? &c->gain : index == CV_MIX ? &c->mix : NULL;
	if (s == NULL)
		return;
	float v = index == CV_GAIN ? powf(10.0f, value / 20.0f) : value;
	if (!c->running)
		smoother_init(s, v, c->rate, SMOOTH_SECONDS);
	else
		smoother_set(s, v);
}

/* The long partitions of the current IR: may run on another thread
 * during the block (the core's contract). */
static void
cv_background(void *self)
{
	struct convolver *c = self;
	if (c->cur != NULL)
		conv_process_tail(c->cur->conv);
}

/* After a blow-up: silent history for the IRs it holds, which it keeps. */
static void
cv_reset(void *self)
{
	struct convolver *c = self;
	if (c->cur != NULL)
		conv_reset(c->cur->conv);
	if (c->fading != NULL)
		conv_reset(c->fading->conv);
	memset(c->wet, 0, sizeof c->wet);
	memset(c->old, 0, sizeof c->old);
}

static void
cv_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct convolver *c = self;
	static const float silence[CONV_MAX_BLOCK];
	const float *l = in[CV_IN_L] != NULL ? in[CV_IN_L] : in[CV_IN_R];
	const float *r = in[CV_IN_R] != NULL ? in[CV_IN_R] : l;

	c->running = 1;
	if (l == NULL)
		l = r = silence;
	if (frames > CONV_MAX_BLOCK)
		frames = CONV_MAX_BLOCK;   /* the graph never asks for more */
	if (c->cur != NULL)
		conv_process_head(c->cur->conv, l, r, c->wet[0], c->wet[1], frames);
	else
		memset(c->wet, 0, sizeof c->wet);
	if (c->fading != NULL) {
		conv_process(c->fading->conv, l, r, c->old[0], c->old[1], frames);
		for (unsigned i = 0; i < frames; i++) {
			float k = c->fade_left > 0 ? (float)c->fade_left / (float)c->fade_frames : 0.0f;
			c->wet[0][i] = c->wet[0][i] * (1.0f - k) + c->old[0][i] * k;
			c->wet[1][i] = c->wet[1][i] * (1.0f - k) + c->old[1][i] * k;
			if (c->fade_left > 0)
				c->fade_left--;
		}
		if (c->fade_left == 0 && cv_retire(c, c->fading))
			c->fading = NULL;
	}
	for (unsigned i = 0; i < frames; i++) {
		float g = smoother_next(&c->gain), m = smoother_next(&c->mix);
		out[CV_OUT_L][i] = l[i] * (1.0f - m) + c->wet[0][i] * g * m;
		out[CV_OUT_R][i] = r[i] * (1.0f - m) + c->wet[1][i] * g * m;
	}
}

const struct module_type convolver_module = {
	.name = "convolver",
	.help = "convolution with an impulse response file: zero latency, click-free IR changes",
	.size = sizeof(struct convolver),
	.inputs = cv_inputs, .n_inputs = CV_N_IN,
	.outputs = cv_outputs, .n_outputs = CV_N_OUT,
	.params = cv_params, .n_params = CV_N_P,
	.init = cv_init,
	.set_param = cv_set_param,
	.process = cv_process,
	.text_check = cv_text_check,
	.resource_load = cv_resource_load,
	.resource_swap = cv_resource_swap,
	.resource_free = cv_resource_free,
	.resources_drop = cv_resources_drop,
	.background = cv_background,
	.reset = cv_reset,
};
