/*
 * src/midimap.h — controller mappings and the MIDI channel: the `map`,
 * `unmap` and `channel` commands of the language, the value a controller
 * gives a mapped parameter, and the saved and listed forms.
 *
 * A mapping (struct patch_map) runs a parameter from `lo` (controller at
 * 0) to `hi` (controller at its top), exponentially for frequencies and
 * times (when both ends are above zero), linearly otherwise.  The same
 * arithmetic runs in the DSP child's graph (sample-accurate, per voice for
 * velocity and polyphonic aftertouch) and in the parent (which keeps the
 * patch's value in step with the knob, for the UI, `save` and replays).
 */
#ifndef FORKSYNTH_MIDIMAP_H
#define FORKSYNTH_MIDIMAP_H

#include <stddef.h>
#include <stdio.h>

#include "command.h"
#include "patch.h"

/* The command language's entry points (see cmd_table in command.c). */
int midimap_exec_map(struct patch *p, const struct cmd_tokens *t,
    struct patch_error *err);
int midimap_exec_unmap(struct patch *p, const struct cmd_tokens *t,
    struct patch_error *err);
int midimap_exec_channel(struct patch *p, const struct cmd_tokens *t,
    struct patch_error *err);

/* Module `m` has been removed from p: drop its mappings and renumber the
 * others' module indices. */
void midimap_module_removed(struct patch *p, int m);

/* Write the `channel` line (when not omni) and one `map` line per
 * mapping, in order. */
void midimap_save(const struct patch *p, FILE *out);

/* Whether a and b have the same channel and mappings. */
int midimap_equal(const struct patch *a, const struct patch *b);

/* The arguments of the `map` line that makes mapping i of p
 * ("cc 74 flt.cutoff", "bend ch 2 osc1.detune min -50 max 50"). */
void midimap_describe(const struct patch *p, unsigned i, char *buf,
    size_t size);

/* A short tag for the controller of a mapping: "cc74", "cc1+33", "bend",
 * "at", "pat", "vel"; with ":N" when it listens to channel N only. */
void midimap_tag(const struct patch_map *m, char *buf, size_t size);

/* The first mapping of module m's parameter k in p, or -1. */
int midimap_find(const struct patch *p, int m, unsigned k);

/* The state 14-bit controller pairs need: the last MSB and LSB seen per
 * channel and pair.  Zeroed at start. */
struct midimap_cc14 {
	unsigned char msb[16][32], lsb[16][32];
};

/* Take a controller event (NOTE_EVENT_CC) into the pair state. */
void midimap_cc14_update(struct midimap_cc14 *st, unsigned channel,
    unsigned number, unsigned raw);

/*
 * Where event (kind, channel, number, raw, amount; the fields of struct
 * note_event) puts mapping m's controller, in [0, 1]: 1 and *pos when the
 * event moves m's controller, else 0.  Call midimap_cc14_update first.
 * Real-time safe.
 */
int midimap_position(const struct patch_map *m, unsigned kind,
    unsigned channel, unsigned number, unsigned raw, float amount,
    const struct midimap_cc14 *st, float *pos);

/* The parameter value of mapping m at controller position pos in [0, 1]
 * (before the parameter's own clamp).  Real-time safe. */
float midimap_value(const struct patch_map *m, float pos);

#endif
