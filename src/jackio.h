/*
 * src/jackio.h — forksynth as a JACK client: audio and MIDI ports, the
 * process callback that drives the engine's cycle, MIDI decoding, latency
 * reporting, xrun counting, server start and shutdown.
 */
#ifndef FORKSYNTH_JACKIO_H
#define FORKSYNTH_JACKIO_H

#include <stddef.h>

struct engine;

struct jack_options {
	const char *name;           /* client name */
	unsigned n_inputs;          /* audio inputs in_1 .. in_N */
	unsigned n_outputs;         /* audio outputs out_1 .. out_M */
	int connect;                /* connect to physical ports */
	int start_server;           /* start jackd when none runs */
	int pipeline;               /* one period of added latency */
	double deadline;            /* fraction of the period the DSP may take */
};

struct jackio;

/*
 * Open the client and register its ports (not active yet).  With no server
 * running and start_server set, start one (alsa with a sound card, else
 * dummy) and say so on stderr.  NULL with a message in err on failure.
 */
struct jackio *jackio_open(const struct jack_options *o, char *err,
    size_t err_size);

/* The server's rate (frames per second) and period (frames). */
unsigned jackio_rate(const struct jackio *j);
unsigned jackio_period(const struct jackio *j);

/* The frames the patch itself adds to each output (frames[c] for out_c+1,
 * n of them; src/latency.h): reported to JACK on top of the engine's own
 * latency, and the server asked to recompute when they change.  From the
 * control plane, never the process callback. */
void jackio_set_patch_latency(struct jackio *j, const unsigned *frames,
    unsigned n);

/* SCHED_FIFO priority of the JACK process thread, or 0 if it has none. */
int jackio_rt_priority(const struct jackio *j);

/* Start calling the engine from the process callback; connect ports if
 * asked.  Returns 0, or -1 with a message. */
int jackio_start(struct jackio *j, struct engine *e, char *err,
    size_t err_size);

struct recorder;
/* Record the outputs listed in ports[] (0-based, n of them) through `rec`
 * from the next period on; NULL stops feeding it. */
void jackio_set_recorder(struct jackio *j, struct recorder *rec,
    const unsigned *ports, unsigned n);

struct tap;
/* Copy the first tap_channels(tap) outputs into `tap` (src/scope.h) from
 * the next period on, for the scope; NULL stops.  A tap wider than the
 * outputs is refused (-1).  The tap must outlive the client or a
 * jackio_set_tap(j, NULL) followed by a period. */
int jackio_set_tap(struct jackio *j, struct tap *tap);

/* Audio outputs (out_1 .. out_N). */
unsigned jackio_outputs(const struct jackio *j);

/*
 * Notes from the control plane (the `note` command, the computer-keyboard
 * piano), played from the next period on, at its first frame.  Call these
 * from one thread only (they feed a single-producer queue).  Velocity is
 * 1..127.  Each returns 0, or -1 when the queue is full.
 */
/* Note on, held for `seconds`. */
int jackio_note(struct jackio *j, unsigned note, unsigned velocity,
    double seconds);
/* Note on, held until jackio_note_off. */
int jackio_note_on(struct jackio *j, unsigned note, unsigned velocity);
/* Note off: the voice holding the note releases. */
int jackio_note_off(struct jackio *j, unsigned note);
/* All sound off (as MIDI CC 120), and the pending ends of jackio_note's
 * notes dropped. */
int jackio_panic(struct jackio *j);

/* Per audio output (out_1 first, at most `max`), the largest |sample| the
 * callback has written since the previous call (read and reset), into
 * peaks[].  Returns the number of outputs.  One reader thread. */
unsigned jackio_peaks(struct jackio *j, float *peaks, unsigned max);

/* Counters since the start, and whether the server has gone away. */
struct jackio_counters {
	unsigned long cycles;       /* process callbacks */
	unsigned long xruns;        /* reported by the server */
	unsigned long late;         /* cycles the DSP missed its deadline */
	unsigned long down;         /* cycles with no DSP child */
	unsigned long bad_midi;     /* malformed MIDI messages ignored */
	unsigned long max_cycle_ns; /* longest process callback */
	unsigned long overlong;     /* process callbacks longer than the period */
	unsigned long long busy_ns; /* process callbacks' time, summed: their
				       share of wall time from deltas */
	unsigned period;            /* frames, now */
	int shutdown;               /* the server went away */
	char shutdown_reason[256];
};
void jackio_counters(const struct jackio *j, struct jackio_counters *c);

/* The longest process callback since the last call, ns; starts a new
 * window.  For one reader (the stats command). */
unsigned long jackio_take_recent_max(struct jackio *j);

/* Deactivate and close the client (safe after a shutdown). */
/* Hear MIDI channel `channel` (1..16) only, or every channel (0). */
void jackio_set_channel(struct jackio *j, unsigned channel);

struct region_midi;
/* Take up to `max` of the MIDI events heard since the last call (notes,
 * controllers, bend, aftertouch, in order; control thread only). */
unsigned jackio_midi_seen(struct jackio *j, struct region_midi *out,
    unsigned max);
/* MIDI events the control plane was not told of (its queue was full). */
unsigned long jackio_midi_seen_lost(const struct jackio *j);

/* Close the client: deactivate, close, free.  libjack's close is given
 * JACKIO_CLOSE_WAIT_S seconds; stuck past that, it is left to itself (the
 * process callback already touches nothing of the engine's or the
 * recorder's) and jackio_stuck() says so: the process should then end
 * with _exit, since libjack's own exit handlers may wait on the lock it
 * holds. */
#define JACKIO_CLOSE_WAIT_S 10
void jackio_close(struct jackio *j);
int jackio_stuck(void);

#endif
