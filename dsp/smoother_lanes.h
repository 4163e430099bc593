/*
 * dsp/smoother_lanes.h — the parameter smoothers (dsp_util.h) of several
 * voices advanced side by side, for the lane kernels of modules whose only
 * sample-to-sample state is a smoothed parameter (vca, pan, mixer).
 *
 * While a smoother glides, process pays its whole dependency chain
 * (subtract, multiply, add, two compares, a select) once per sample and
 * voice; a vector runs it for four or eight voices in the same time.  The
 * lane operations are smoother_next's, in its order, so each lane's values
 * are bit for bit what process computes.  The rest of such a module (a
 * multiply by the smoothed gain) is already vectorised along the frames of
 * one voice, so its kernel runs a group through these rows and the voices
 * one by one after.
 */
#ifndef FORKSYNTH_DSP_SMOOTHER_LANES_H
#define FORKSYNTH_DSP_SMOOTHER_LANES_H

#include <stddef.h>

#include "dsp_util.h"
#include "lanes.h"

/* Frames of smoother values made per call: rows[LANES_MAX][this] floats
 * (2 KiB) fit on any thread's stack. */
#define SMOOTHER_ROWS 64

/*
 * rows[l][i] = what the (i + 1)-th smoother_next(s[l]) returns, for lanes
 * l < n and frames i < frames (<= SMOOTHER_ROWS), and s[l] is left as that
 * many calls leave it.  A smoother settled at the start is not stepped: its
 * row is its current value, as process reads it without a step.
 * The body is instantiated for 4 lanes (SSE2) and 8 (AVX2) below.
 */
#define SMOOTHER_ROWS_BODY(V, VI, W)                                         \
	V cur, target, coef;                                                 \
	V out[SMOOTHER_ROWS];                                                \
	for (unsigned l = 0; l < W; l++) {                                   \
		/* padding lanes: a settled smoother at 0, never stored */   \
		const struct smoother *p = l < n ? s[l] : &(struct smoother){ 0 }; \
		cur[l] = p->cur;                                             \
		/* settled (cur == target, maybe as -0 and +0): process     \
		 * uses cur as it is, so the row holds cur's bits */         \
		target[l] = smoother_moving(p) ? p->target : p->cur;         \
		coef[l] = p->coef;                                           \
	}                                                                    \
	/* the tolerance of smoother_next: 1e-5 of the target's scale */     \
	V tol = 1e-5f * (1.0f + LANES_FN(abs, W)(target));                   \
	for (unsigned i = 0; i < frames; i++) {                              \
		V d = target - cur;                                          \
		V next = cur + d * coef;                                     \
		VI snap = (next == cur) | (LANES_FN(abs, W)(d) < tol);       \
		next = (V)((snap & (VI)target) | (~snap & (VI)next));        \
		cur = next;                                                  \
		out[i] = next;                                               \
	}                                                                    \
	for (unsigned l = 0; l < n; l++)                                     \
		s[l]->cur = cur[l];                                          \
	LANES_FN(rows_write, W)(out, frames, n, rows, 0)

static inline void
smoother_rows4(struct smoother *const *s, unsigned n, unsigned frames,
    float *const *rows)
{
	SMOOTHER_ROWS_BODY(lanes_v4, lanes_v4i, 4);
}

/* Not inlined into smoother_rows, which is compiled for any x86-64: a
 * call to it runs only where the CPU has AVX2. */
#if defined(__x86_64__)
__attribute__((target("avx2")))
#endif
static inline void
smoother_rows8(struct smoother *const *s, unsigned n, unsigned frames,
    float *const *rows)
{
	SMOOTHER_ROWS_BODY(lanes_v8, lanes_v8i, 8);
}

/* One smoother of each voice of a group, and a row of its values for each
 * (smoother_rows writes them): s[l] and rows[l] point into the voices'
 * states and into row[l]. */
struct smoother_group {
	struct smoother *s[LANES_MAX];
	float *rows[LANES_MAX];
	float row[LANES_MAX][SMOOTHER_ROWS];
};

/* Point g at the smoother `offset` bytes into each of the n states `self`
 * (offsetof(struct module, field)). */
static inline void
smoother_group_init(struct smoother_group *g, void *const *self,
    size_t offset, unsigned n)
{
	for (unsigned l = 0; l < n; l++) {
		g->s[l] = (struct smoother *)((char *)self[l] + offset);
		g->rows[l] = g->row[l];
	}
}

/* Whether any of the n smoothers is gliding. */
static inline int
smoother_any_moving(struct smoother *const *s, unsigned n)
{
	for (unsigned l = 0; l < n; l++)
		if (smoother_moving(s[l]))
			return 1;
	return 0;
}

/* The same for any number of lanes (n <= LANES_MAX) on `path`: one 8-lane
 * vector on AVX2 for more than four, else vectors of four. */
static inline void
smoother_rows(struct smoother *const *s, unsigned n, unsigned frames,
    float *const *rows, unsigned path)
{
	if (!smoother_any_moving(s, n)) {
		/* all settled (a pan's cv moves it): each row its value */
		for (unsigned l = 0; l < n; l++)
			for (unsigned i = 0; i < frames; i++)
				rows[l][i] = s[l]->cur;
		return;
	}
#if defined(__x86_64__)
	if (path == LANES_AVX2 && n > 4) {
		smoother_rows8(s, n, frames, rows);
		return;
	}
#else
	(void)path;
#endif
	for (unsigned l = 0; l < n; l += 4)
		smoother_rows4(s + l, n - l < 4 ? n - l : 4, frames, rows + l);
}

#endif
