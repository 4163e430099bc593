/*
 * dsp/tempo.h — musical time for tempo-synced modules: the song position
 * the engine hands them once per chunk, and the note divisions they count
 * it in.
 *
 * Positions and divisions are in whole notes (a 4/4 bar is 1, a quarter
 * note 0.25), so a division's length is its name read as a fraction:
 * 1/8 is 0.125, a dotted 1/8 (1/8d) 0.1875, a triplet 1/8 (1/8t) 1/12.
 * The engine (src/child.c) fills struct dsp_tempo from JACK transport when
 * it rolls and from the patch's own tempo otherwise; modules only read it.
 */
#ifndef FORKSYNTH_DSP_TEMPO_H
#define FORKSYNTH_DSP_TEMPO_H

/* The tempo a module assumes before the engine has told it one, BPM. */
#define TEMPO_DEFAULT_BPM 120.0

/* Where the music stands at the first frame of the coming chunk. */
struct dsp_tempo {
	double position;          /* whole notes since the song's start */
	double per_frame;         /* whole notes per frame (> 0) */
	double bpm;               /* beats per minute, informative */
	int rolling;              /* JACK transport rolls (0: the patch's own
				     clock, stopped transport or offline) */
};

/* Counting divisions, a module adds this many to the count, so that a
 * division boundary that falls on a frame in exact arithmetic lands on that
 * frame despite rounding (1e-9 of a division is far below a frame). */
#define TEMPO_NUDGE 1e-9

/* The division choices, in the order of their parameter values. */
#define TEMPO_DIVISION_NAMES \
	"4/1", "2/1", "1/1", "1/2", "1/4", "1/8", "1/16", "1/32", "1/64", \
	"1/2d", "1/4d", "1/8d", "1/16d", "1/2t", "1/4t", "1/8t", "1/16t"
#define TEMPO_N_DIVISIONS 17
/* The index of "1/4" among the division choices. */
#define TEMPO_DIVISION_QUARTER 4

/* The length of division choice `index`, in whole notes. */
static inline double
tempo_division_length(unsigned index)
{
	static const double len[TEMPO_N_DIVISIONS] = {
		4.0, 2.0, 1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625,
		0.75, 0.375, 0.1875, 0.09375,
		1.0 / 3.0, 1.0 / 6.0, 1.0 / 12.0, 1.0 / 24.0,
	};
	return len[index < TEMPO_N_DIVISIONS ? index : TEMPO_DIVISION_QUARTER];
}

/* The tempo at `bpm` quarter notes per minute from position 0, at `rate`
 * frames per second: what a module uses until the engine says otherwise. */
static inline struct dsp_tempo
tempo_default(float rate)
{
	struct dsp_tempo t = {
		.position = 0.0,
		.per_frame = TEMPO_DEFAULT_BPM / 60.0 / 4.0 / (double)rate,
		.bpm = TEMPO_DEFAULT_BPM,
		.rolling = 0,
	};
	return t;
}

#endif
