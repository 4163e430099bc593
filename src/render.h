/*
 * src/render.h — offline render: a patch and a score to an audio file, as
 * fast as the machine goes, deterministic to the byte.  It runs through the
 * same engine as live playback: the forked DSP child and its thread pool.
 */
#ifndef FORKSYNTH_RENDER_H
#define FORKSYNTH_RENDER_H

#include "patch.h"
#include "score.h"

struct render_options {
	const char *path;       /* output file */
	const char *format;     /* audiofile.h's format name, or NULL: by extension */
	double seconds;         /* length; <= 0 means the score's end + 2 s */
	unsigned rate;          /* frames per second */
	unsigned block;         /* frames per cycle (like a JACK period) */
	int overwrite;          /* replace an existing file */
	int progress;           /* draw a progress bar on stderr */
	const char *score_name; /* names the score in messages */
	unsigned threads;       /* DSP threads (0: one per online CPU) */
	int no_fork;            /* run the DSP threads in this process */
	int hot;                /* enum engine_hot */
	unsigned hang_ms;       /* a silent child is hung after this (0: 1000) */
	int no_clip;            /* samples beyond 0 dBFS kept (never NaN, inf) */
};

/*
 * Render `patch` playing `score` into o->path.  Every score command is
 * checked against the patch before anything is written.  Returns 0, or -1
 * after printing a message that names the file or the score line.
 */
int render_run(const struct patch *patch, const struct score *score,
    const struct render_options *o);

/* Frames a render of these options will produce for this score. */
unsigned long render_frames(const struct score *score,
    const struct render_options *o);

#endif
