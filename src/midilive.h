/*
 * src/midilive.h — the control plane's view of the MIDI being played: what
 * it shows (activity, keys down, the last note and controller), MIDI learn,
 * and the patch values of mapped parameters kept in step with the knobs.
 *
 * The JACK thread hands every MIDI event it takes to the control plane
 * through a lock-free queue (jackio_midi_seen); the session's supervisor
 * feeds them here under the session lock.  Nothing here runs on a
 * real-time thread.
 */
#ifndef FORKSYNTH_MIDILIVE_H
#define FORKSYNTH_MIDILIVE_H

#include <stddef.h>

#include "patch.h"
#include "region.h"

/* What the UI's MIDI field shows. */
struct midi_status {
	unsigned long messages;      /* MIDI events taken since the start */
	int last_note;               /* last note on, -1 before the first */
	unsigned last_velocity;
	char last_control[32];       /* "cc74=100", "bend", "" before any */
	unsigned keys;               /* keys down now (held notes) */
	int learning;                /* MIDI learn waits for a controller */
};

struct midilive;

struct midilive *midilive_new(void);
void midilive_free(struct midilive *ml);

/* What midilive_take did. */
enum {
	MIDILIVE_VALUES = 1,         /* mapped parameters of p changed */
	MIDILIVE_LEARNED = 2         /* *line holds a `map` command to run */
};

/*
 * Take n events heard, in order: the status, the 14-bit pairs, MIDI learn
 * (the first controller that moves while learning makes the `map` line
 * in `line`, and learning ends), and the patch values of parameters that
 * controllers are mapped onto (whole-module sources only: velocity and
 * polyphonic aftertouch act per voice and leave the patch alone).
 * Returns MIDILIVE_* bits.
 */
int midilive_take(struct midilive *ml, struct patch *p,
    const struct region_midi *ev, unsigned n, char *line, size_t size);

/* Wait for the next controller to map it onto module.param (by name). */
void midilive_learn(struct midilive *ml, const char *module,
    const char *param);

/* Stop waiting; 1 if it was waiting. */
int midilive_learn_cancel(struct midilive *ml);

void midilive_status(const struct midilive *ml, struct midi_status *out);

#endif
