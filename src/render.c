/*
 * src/render.c — the offline render driver: feeds score events into the
 * graph at their exact frames, runs it block by block, writes the output
 * through libsndfile.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audiofile.h"
#include "graph.h"
#include "log.h"
#include "render.h"

/* A note on or off at an absolute frame, from the score. */
struct render_note {
	unsigned long frame;
	unsigned note, velocity;     /* velocity 0: note off */
	unsigned long order;         /* tie-break: offs before ons at a frame */
};

/* Sort by frame; at one frame, note offs first, then file order. */
static int
note_cmp(const void *a, const void *b)
{
	const struct render_note *x = a, *y = b;
	if (x->frame != y->frame)
		return x->frame < y->frame ? -1 : 1;
	if ((x->velocity == 0) != (y->velocity == 0))
		return x->velocity == 0 ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

unsigned long
render_frames(const struct score *score, const struct render_options *o)
{
	double seconds = o->seconds;
	if (seconds <= 0) {
		double end = 0;
		for (size_t i = 0; i < score->n; i++) {
			const struct score_event *e = &score->events[i];
			double t = e->time + (e->kind == SCORE_NOTE ? e->duration : 0);
			if (t > end)
				end = t;
		}
		seconds = end + 2.0;
	}
	return (unsigned long)llround(seconds * o->rate);
}

/* Apply a score command to the patch (and the graph): a `set` only touches
 * one parameter; anything else recompiles, carrying state over. */
static int
apply_command(struct patch *p, struct graph **g, const struct score_event *e,
    float rate, const char *score_name, struct patch_error *err)
{
	static struct patch before;      /* control plane only; not reentrant */
	before = *p;
	if (score_event_exec(p, e, score_name, err) != 0)
		return -1;
	int same_shape = before.n_modules == p->n_modules &&
	    before.n_connections == p->n_connections && before.poly == p->poly &&
	    memcmp(before.connections, p->connections,
	        p->n_connections * sizeof p->connections[0]) == 0;
	for (unsigned m = 0; same_shape && m < p->n_modules; m++)
		same_shape = strcmp(before.modules[m].name, p->modules[m].name) == 0 &&
		    before.modules[m].type == p->modules[m].type &&
		    before.modules[m].scope == p->modules[m].scope;
	if (!same_shape) {
		struct graph *n = graph_compile(p, rate, *g);
		graph_free(*g);
		*g = n;
		return 0;
	}
	for (unsigned m = 0; m < p->n_modules; m++)
		for (unsigned k = 0; k < p->modules[m].type->n_params; k++)
			if (before.modules[m].params[k] != p->modules[m].params[k])
				graph_set_param(*g, (int)m, k, p->modules[m].params[k]);
	return 0;
}

/* Draw a progress bar on stderr: done of total frames. */
static void
progress_draw(unsigned long done, unsigned long total)
{
	int width = 40, filled = total ? (int)(width * done / total) : width;
	fprintf(stderr, "\rrendering [%.*s%*s] %3d%%", filled,
	    "########################################", width - filled, "",
	    total ? (int)(100 * done / total) : 100);
	if (done == total)
		fputc('\n', stderr);
}

int
render_run(const struct patch *patch, const struct score *score,
    const struct render_options *o)
{
	char err[512];
	unsigned long total = render_frames(score, o);
	unsigned channels = patch->n_outputs, block = o->block;

	const char *score_name = o->score_name ? o->score_name : "score";
	struct patch_error perr = { 0 };

	if (block == 0 || block > 8192)
		block = 256;
	if (score_check(score, patch, score_name, &perr) != 0) {
		patch_error_format(&perr, err, sizeof err);
		fprintf(stderr, "forksynth: %s\n", err);
		return -1;
	}

	struct audiofile *f = audiofile_create(o->path, o->rate, channels,
	    o->overwrite, err, sizeof err);
	if (f == NULL) {
		fprintf(stderr, "forksynth: %s\n", err);
		return -1;
	}

	/* note events at absolute frames, offs before ons at the same frame */
	size_t n_notes = 0;
	struct render_note *notes = xcalloc(2 * score->n + 1, sizeof *notes);
	for (size_t i = 0; i < score->n; i++) {
		const struct score_event *e = &score->events[i];
		if (e->kind != SCORE_NOTE)
			continue;
		unsigned long on = (unsigned long)llround(e->time * o->rate);
		unsigned long off = (unsigned long)llround((e->time + e->duration) * o->rate);
		notes[n_notes++] = (struct render_note){ on, e->note, e->velocity, 2 * i };
		notes[n_notes++] = (struct render_note){ off > on ? off : on + 1,
		    e->note, 0, 2 * i + 1 };
	}
	qsort(notes, n_notes, sizeof *notes, note_cmp);

	struct patch *p = xmalloc(sizeof *p);
	*p = *patch;
	struct graph *g = graph_compile(p, (float)o->rate, NULL);
	float **out = xcalloc(channels, sizeof *out);
	for (unsigned c = 0; c < channels; c++)
		out[c] = xcalloc(block, sizeof(float));
	float *interleaved = xcalloc((size_t)block * channels, sizeof(float));

	size_t next_note = 0, next_cmd = 0;
	int rc = 0;
	unsigned long last_drawn = 0;
	for (unsigned long frame = 0; frame < total && rc == 0; frame += block) {
		unsigned n = total - frame < block ? (unsigned)(total - frame) : block;
		/* commands take effect at the start of the block they fall in */
		while (next_cmd < score->n) {
			const struct score_event *e = &score->events[next_cmd];
			if (e->kind != SCORE_COMMAND) {
				next_cmd++;
				continue;
			}
			if ((unsigned long)llround(e->time * o->rate) >= frame + n)
				break;
			if (apply_command(p, &g, e, (float)o->rate, score_name,
			    &perr) != 0) {
				patch_error_format(&perr, err, sizeof err);
				fprintf(stderr, "forksynth: %s\n", err);
				rc = -1;
			}
			next_cmd++;
		}
		while (next_note < n_notes && notes[next_note].frame < frame + n) {
			const struct render_note *e = &notes[next_note++];
			unsigned at = (unsigned)(e->frame - frame);
			if (e->velocity > 0)
				graph_note_on(g, at, e->note, e->velocity);
			else
				graph_note_off(g, at, e->note);
		}
		graph_process(g, NULL, out, n);
		for (unsigned i = 0; i < n; i++)
			for (unsigned c = 0; c < channels; c++)
				interleaved[(size_t)i * channels + c] = out[c][i];
		if (audiofile_write(f, interleaved, n, err, sizeof err) != 0) {
			fprintf(stderr, "forksynth: %s\n", err);
			rc = -1;
		}
		if (o->progress && (frame + n - last_drawn >= o->rate / 4 ||
		    frame + n == total)) {
			progress_draw(frame + n, total);
			last_drawn = frame + n;
		}
	}
	if (audiofile_close(f, err, sizeof err) != 0) {
		fprintf(stderr, "forksynth: %s\n", err);
		rc = -1;
	}
	graph_free(g);
	for (unsigned c = 0; c < channels; c++)
		free(out[c]);
	free(out);
	free(interleaved);
	free(notes);
	free(p);
	return rc;
}
