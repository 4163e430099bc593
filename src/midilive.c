/*
 * src/midilive.c — the control plane's view of the MIDI being played
 * (midilive.h): status, MIDI learn, mapped parameter values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "midilive.h"
#include "midimap.h"

struct midilive {
	struct midi_status st;
	unsigned char down[128];
	struct midimap_cc14 cc14;
	char learn_module[PATCH_NAME_MAX];
	char learn_param[64];
};

struct midilive *
midilive_new(void)
{
	struct midilive *ml = xcalloc(1, sizeof *ml);
	ml->st.last_note = -1;
	return ml;
}

void
midilive_free(struct midilive *ml)
{
	free(ml);
}

/* The `map` source words for the controller of event e, or 0 when e
 * moves no controller that learn takes (notes, the wheel's and pedal's
 * twins of their controller events). */
static int
learn_source(const struct region_midi *e, char *buf, size_t size)
{
	switch (e->kind) {
	case NOTE_EVENT_CC:
		snprintf(buf, size, "cc %u", e->note & 127u);
		return 1;
	case NOTE_EVENT_BEND:
		snprintf(buf, size, "bend");
		return 1;
	case NOTE_EVENT_PRESSURE:
		snprintf(buf, size, "pressure");
		return 1;
	case NOTE_EVENT_POLY_PRESSURE:
		snprintf(buf, size, "polypressure");
		return 1;
	default:
		return 0;
	}
}

/* Note what event e shows: keys, last note, last controller. */
static void
show(struct midilive *ml, const struct region_midi *e)
{
	struct midi_status *st = &ml->st;
	st->messages++;
	switch (e->kind) {
	case NOTE_EVENT_ON:
		if (!ml->down[e->note & 127]) {
			ml->down[e->note & 127] = 1;
			st->keys++;
		}
		st->last_note = e->note & 127;
		st->last_velocity = e->velocity;
		break;
	case NOTE_EVENT_OFF:
		if (ml->down[e->note & 127]) {
			ml->down[e->note & 127] = 0;
			st->keys--;
		}
		break;
	case NOTE_EVENT_ALL_OFF:
	case NOTE_EVENT_SOUND_OFF:
		memset(ml->down, 0, sizeof ml->down);
		st->keys = 0;
		break;
	case NOTE_EVENT_CC:
		snprintf(st->last_control, sizeof st->last_control, "cc%u=%u",
		    e->note & 127u, e->velocity & 127u);
		break;
	case NOTE_EVENT_BEND:
		snprintf(st->last_control, sizeof st->last_control, "bend%+d",
		    (int)(e->amount * 8192.0f));
		break;
	case NOTE_EVENT_PRESSURE:
		snprintf(st->last_control, sizeof st->last_control, "at=%d",
		    (int)(e->amount * 127.0f + 0.5f));
		break;
	case NOTE_EVENT_POLY_PRESSURE:
		snprintf(st->last_control, sizeof st->last_control, "pat=%d",
		    (int)(e->amount * 127.0f + 0.5f));
		break;
	default:
		break;
	}
}

int
midilive_take(struct midilive *ml, struct patch *p,
    const struct region_midi *ev, unsigned n, char *line, size_t size)
{
	int done = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct region_midi *e = &ev[i];
		char src[32];
		show(ml, e);
		if (e->kind == NOTE_EVENT_CC)
			midimap_cc14_update(&ml->cc14, e->channel, e->note, e->velocity);
		if (ml->st.learning && !(done & MIDILIVE_LEARNED) &&
		    learn_source(e, src, sizeof src)) {
			snprintf(line, size, "map %s %s.%s", src, ml->learn_module,
			    ml->learn_param);
			ml->st.learning = 0;
			done |= MIDILIVE_LEARNED;
		}
		for (unsigned k = 0; k < p->n_maps; k++) {
			const struct patch_map *m = &p->maps[k];
			float pos;
			if (m->source == MAP_VELOCITY || m->source == MAP_POLY_PRESSURE ||
			    m->module < 0 || (unsigned)m->module >= p->n_modules ||
			    !midimap_position(m, e->kind, e->channel, e->note,
			    e->velocity, e->amount, &ml->cc14, &pos))
				continue;
			struct patch_module *pm = &p->modules[m->module];
			if (m->param >= pm->type->n_params)
				continue;
			float v = param_clamp(&pm->type->params[m->param],
			    midimap_value(m, pos));
			if (pm->params[m->param] != v) {
				pm->params[m->param] = v;
				done |= MIDILIVE_VALUES;
			}
		}
	}
	return done;
}

void
midilive_learn(struct midilive *ml, const char *module, const char *param)
{
	snprintf(ml->learn_module, sizeof ml->learn_module, "%s", module);
	snprintf(ml->learn_param, sizeof ml->learn_param, "%s", param);
	ml->st.learning = 1;
}

int
midilive_learn_cancel(struct midilive *ml)
{
	int was = ml->st.learning;
	ml->st.learning = 0;
	return was;
}

void
midilive_status(const struct midilive *ml, struct midi_status *out)
{
	*out = ml->st;
}
