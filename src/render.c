/*
 * src/render.c — the offline render driver: feeds score events into the
 * graph at their exact frames, runs it block by block, writes the output
 * through libsndfile.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audiofile.h"
#include "engine.h"
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

/* Where a render stands: what has been sent to the engine and written. */
struct render_pos {
	unsigned long frame;         /* next frame to run */
	size_t next_note, next_cmd;  /* score cursors */
};

/* How long a render waits for the child to take a patch or a command:
 * loading big IR files and planning their FFTs can take seconds on a
 * loaded machine, but a render must never run a block on a patch only half
 * in effect (it would not be the same render twice). */
#define RENDER_SYNC_NOTE_MS  10000
#define RENDER_SYNC_LIMIT_S  300

/* Wait until the child has applied every command sent.  0 when it has,
 * or when the child died (the next cycle reports it down and the render
 * replays); -1 after RENDER_SYNC_LIMIT_S, with the reason printed. */
static int
render_sync(struct engine *e)
{
	unsigned waited_s = 0;
	int rc;
	while ((rc = engine_sync(e, RENDER_SYNC_NOTE_MS)) > 0) {
		waited_s += RENDER_SYNC_NOTE_MS / 1000;
		if (waited_s >= RENDER_SYNC_LIMIT_S) {
			fprintf(stderr, "forksynth: the DSP child has not taken the patch "
			    "in %u s; is an IR file on a stalled disk or a pipe?\n", waited_s);
			return -1;
		}
		if (waited_s == RENDER_SYNC_NOTE_MS / 1000)
			fprintf(stderr, "forksynth: still loading the patch in the DSP "
			    "child (IR files, FFT plans)...\n");
	}
	return 0;
}

/* Send the score commands that fall before frame + n to the parent's patch
 * copy and the engine, and wait until they are in effect, so that they
 * land on this block boundary whatever the timing. */
static int
send_commands(struct engine *e, struct patch *p, const struct score *score,
    struct render_pos *pos, unsigned long end, unsigned rate,
    const char *score_name)
{
	struct patch_error perr = { 0 };
	char err[512];
	int sent = 0;
	while (pos->next_cmd < score->n) {
		const struct score_event *ev = &score->events[pos->next_cmd];
		if (ev->kind != SCORE_COMMAND) {
			pos->next_cmd++;
			continue;
		}
		if ((unsigned long)llround(ev->time * rate) >= end)
			break;
		if (score_event_exec(p, ev, score_name, &perr) != 0) {
			patch_error_format(&perr, err, sizeof err);
			fprintf(stderr, "forksynth: %s\n", err);
			return -1;
		}
		engine_command(e, ev->command);
		sent = 1;
		pos->next_cmd++;
	}
	if (sent)
		return render_sync(e);
	return 0;
}

/* An offline render hands the child up to this many frames per cycle, in
 * whole blocks, each run as a block of its own (engine_options.graph_block):
 * the same output as block by block, with a quarter of the hand-overs at
 * the default block of 256 (each about 40 us of wake-ups on a VM).  A
 * crash then costs up to this many frames of silence instead of one
 * block's. */
#define RENDER_BATCH_FRAMES 1024

/* Frames of the next cycle from pos->frame, whose first block of
 * `first` frames has had its commands sent: whole blocks after it while
 * they fit in max_frames, no score command is due in them (a command acts
 * at the start of its own block, as in a render block by block), their
 * note events fit one cycle, and, replaying, the cycle ends where the file
 * does. */
static unsigned
cycle_frames(const struct score *score, const struct render_note *notes,
    size_t n_notes, const struct render_pos *pos, unsigned first,
    unsigned block, unsigned max_frames, unsigned long total,
    unsigned long written, unsigned rate)
{
	unsigned long start = pos->frame, end = start + first;
	unsigned long next_cmd = ULONG_MAX;
	for (size_t i = pos->next_cmd; i < score->n; i++)
		if (score->events[i].kind == SCORE_COMMAND) {
			next_cmd = (unsigned long)llround(score->events[i].time * rate);
			break;
		}
	size_t note = pos->next_note;
	while (note < n_notes && notes[note].frame < end)
		note++;
	while (end < total && end - start + block <= max_frames &&
	    (start >= written || end < written)) {
		unsigned long next = total - end < block ? total : end + block;
		size_t upto = note;
		while (upto < n_notes && notes[upto].frame < next)
			upto++;
		if (next_cmd < next || upto - pos->next_note > REGION_MAX_EVENTS)
			break;
		note = upto;
		end = next;
	}
	return (unsigned)(end - start);
}

/* Start over from frame 0 on a fresh child: the patch as it was, cursors
 * at the start.  The blocks already written are run again unwritten, so
 * the child's state is exactly what an uninterrupted render would have. */
static int
rewind_render(struct engine *e, struct patch *p, const struct patch *initial,
    struct render_pos *pos)
{
	*p = *initial;
	*pos = (struct render_pos){ 0 };
	engine_load(e, p);
	return render_sync(e);
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
	unsigned batch = block < RENDER_BATCH_FRAMES ?
	    RENDER_BATCH_FRAMES / block * block : block;
	if (score_check(score, patch, score_name, &perr) != 0) {
		patch_error_format(&perr, err, sizeof err);
		fprintf(stderr, "forksynth: %s\n", err);
		return -1;
	}

	struct engine_options eo = {
		.rate = o->rate, .max_block = batch, .graph_block = block,
		.n_inputs = patch->n_inputs, .n_outputs = channels,
		.threads = o->threads ? o->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
		.no_fork = o->no_fork, .hang_ms = o->hang_ms, .hot = o->hot,
		.no_clip = o->no_clip,
	};
	struct engine *e = engine_start(&eo, err, sizeof err);
	if (e == NULL) {
		fprintf(stderr, "forksynth: %s\n", err);
		return -1;
	}
	struct audiofile *f = audiofile_create(o->path, o->format, o->rate,
	    channels, total, o->overwrite, err, sizeof err);
	if (f == NULL) {
		fprintf(stderr, "forksynth: %s\n", err);
		engine_stop(e);
		return -1;
	}

	/* note events at absolute frames, offs before ons at the same frame */
	size_t n_notes = 0;
	struct render_note *notes = xcalloc(2 * score->n + 1, sizeof *notes);
	for (size_t i = 0; i < score->n; i++) {
		const struct score_event *ev = &score->events[i];
		if (ev->kind != SCORE_NOTE)
			continue;
		unsigned long on = (unsigned long)llround(ev->time * o->rate);
		unsigned long off = (unsigned long)llround((ev->time + ev->duration) * o->rate);
		notes[n_notes++] = (struct render_note){ on, ev->note, ev->velocity, 2 * i };
		notes[n_notes++] = (struct render_note){ off > on ? off : on + 1,
		    ev->note, 0, 2 * i + 1 };
	}
	qsort(notes, n_notes, sizeof *notes, note_cmp);

	struct patch *p = xmalloc(sizeof *p);
	float **out = xcalloc(channels, sizeof *out);
	for (unsigned c = 0; c < channels; c++)
		out[c] = xcalloc(batch, sizeof(float));
	float *interleaved = xcalloc((size_t)batch * channels, sizeof(float));
	struct region_midi *events = xcalloc(REGION_MAX_EVENTS, sizeof *events);

	struct render_pos pos;
	int rc = rewind_render(e, p, patch, &pos);
	unsigned long written = 0, last_drawn = 0;
	unsigned long last_crash = (unsigned long)-1;
	while (pos.frame < total && rc == 0) {
		unsigned long frame = pos.frame;
		unsigned n = total - frame < block ? (unsigned)(total - frame) : block;
		if (send_commands(e, p, score, &pos, frame + n, o->rate, score_name) != 0) {
			rc = -1;
			break;
		}
		n = cycle_frames(score, notes, n_notes, &pos, n, block, batch,
		    total, written, o->rate);
		unsigned n_events = 0;
		while (pos.next_note < n_notes && notes[pos.next_note].frame < frame + n) {
			const struct render_note *ev = &notes[pos.next_note++];
			if (n_events == REGION_MAX_EVENTS)
				continue;   /* more than the engine takes in a cycle */
			events[n_events++] = (struct region_midi){
				.frame = (uint32_t)(ev->frame - frame),
				.kind = ev->velocity ? NOTE_EVENT_ON : NOTE_EVENT_OFF,
				.note = (uint8_t)ev->note, .velocity = (uint8_t)ev->velocity,
				.channel = NOTE_CHANNEL_ANY,
			};
		}
		enum engine_status st = engine_cycle(e, NULL, out, n, events, n_events, 0);
		pos.frame += n;
		if (st != ENGINE_OK) {
			/* the span a crash costs is silence; then replay up to here */
			char msg[512];
			for (unsigned c = 0; c < channels; c++)
				memset(out[c], 0, n * sizeof(float));
			int fast_forwarding = frame < written;
			if (!fast_forwarding) {
				for (unsigned i = 0; i < n; i++)
					for (unsigned c = 0; c < channels; c++)
						interleaved[(size_t)i * channels + c] = 0;
				if (audiofile_write(f, interleaved, n, err, sizeof err) != 0) {
					fprintf(stderr, "forksynth: %s\n", err);
					rc = -1;
				}
				written += n;
			}
			int s = engine_supervise(e, patch, st == ENGINE_LATE, msg, sizeof msg);
			if (msg[0] != '\0')
				fprintf(stderr, "%sforksynth: %s\n", o->progress ? "\n" : "", msg);
			if (s < 0) {
				rc = -1;
				break;
			}
			if (rewind_render(e, p, patch, &pos) != 0) {
				rc = -1;
				break;
			}
			/* a crash that comes back at the same frame while replaying
			 * is the patch's own: stop replaying and go on from the end
			 * of the file with a fresh state */
			struct engine_info ei;
			engine_info(e, &ei);
			int again = fast_forwarding && frame == last_crash && ei.last_own_fault;
			last_crash = frame;
			if (again) {
				send_commands(e, p, score, &pos, written, o->rate, score_name);
				while (pos.next_note < n_notes && notes[pos.next_note].frame < written)
					pos.next_note++;
				pos.frame = written;
			}
			continue;
		}
		if (frame < written)
			continue;    /* replaying what is already in the file */
		for (unsigned i = 0; i < n; i++)
			for (unsigned c = 0; c < channels; c++)
				interleaved[(size_t)i * channels + c] = out[c][i];
		if (audiofile_write(f, interleaved, n, err, sizeof err) != 0) {
			fprintf(stderr, "forksynth: %s\n", err);
			rc = -1;
		}
		written += n;
		if (o->progress && (written - last_drawn >= o->rate / 4 || written == total)) {
			progress_draw(written, total);
			last_drawn = written;
		}
	}
	/* a command in effect means the child has also reported on every
	 * block before it (a module it reset), so no message is left behind */
	if (rc == 0 && engine_command(e, "# end of render") == 0)
		render_sync(e);
	char ev_text[512];
	while (engine_poll_event(e, ev_text, sizeof ev_text) > 0)
		fprintf(stderr, "forksynth: DSP: %s\n", ev_text);
	struct engine_info ei;
	engine_info(e, &ei);
	if (ei.clipped != 0 || ei.nonfinite != 0)
		fprintf(stderr, "forksynth: output: %llu sample(s) held at 0 dBFS%s, "
		    "%llu NaN or infinite sample(s) made 0\n",
		    (unsigned long long)ei.clipped, o->no_clip ? "" :
		    " (--no-clip keeps them)", (unsigned long long)ei.nonfinite);
	/* a failed render leaves no partial file behind, and an old file
	 * that --force was to replace stays as it was */
	if (rc != 0) {
		audiofile_abandon(f);
		fprintf(stderr, "forksynth: %s: render failed; it is left as it "
		    "was before (no partial file)\n", o->path);
	} else if (audiofile_close(f, err, sizeof err) != 0) {
		fprintf(stderr, "forksynth: %s\n", err);
		rc = -1;
	}
	engine_stop(e);
	for (unsigned c = 0; c < channels; c++)
		free(out[c]);
	free(out);
	free(interleaved);
	free(events);
	free(notes);
	free(p);
	return rc;
}
