/*
 * src/midimap.c — controller mappings and the MIDI channel (midimap.h):
 * parsing `map`, `unmap` and `channel`, the controller-to-value curve,
 * and the forms in which mappings are saved, listed and tagged.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "midimap.h"

/* The source words of the language, indexed by enum map_source. */
static const char *const source_names[] = {
	[MAP_CC] = "cc", [MAP_CC14] = "cc14", [MAP_BEND] = "bend",
	[MAP_PRESSURE] = "pressure", [MAP_POLY_PRESSURE] = "polypressure",
	[MAP_VELOCITY] = "velocity",
};
#define N_SOURCES (sizeof source_names / sizeof source_names[0])

/* Parse a whole decimal number in [lo, hi] from text; 0 or -1. */
static int
parse_whole(const char *text, long lo, long hi, long *out)
{
	char *end;
	if (*text < '0' || *text > '9')
		return -1;
	long v = strtol(text, &end, 10);
	if (*end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Whether parameter d is a frequency or a time (an exponential knob). */
static int
unit_is_exponential(const struct param_desc *d)
{
	return d->unit != NULL && (strcmp(d->unit, "Hz") == 0 ||
	    strcmp(d->unit, "s") == 0 || strcmp(d->unit, "ms") == 0);
}

/* The curve a mapping from lo to hi of parameter d takes by default. */
static int
default_curve(const struct param_desc *d, float lo, float hi)
{
	return unit_is_exponential(d) && lo > 0.0f && hi > 0.0f;
}

/* Parse "SOURCE [NUMBER] [ch N]" from word *i on into m; moves *i past
 * it.  `need_target`: words must follow. */
static int
parse_source(const struct cmd_tokens *t, unsigned *i, struct patch_map *m,
    int *channel_given, struct patch_error *err)
{
	unsigned s;
	long v;

	for (s = 0; s < N_SOURCES; s++)
		if (strcmp(t->argv[*i], source_names[s]) == 0)
			break;
	if (s == N_SOURCES)
		return cmd_error(err, t->column[*i], "unknown controller '%.40s' "
		    "(expected cc N, cc14 N, bend, pressure, polypressure or "
		    "velocity)", t->argv[*i]);
	m->source = (unsigned char)s;
	(*i)++;
	if (s == MAP_CC || s == MAP_CC14) {
		long top = s == MAP_CC ? 127 : 31;
		if (*i >= t->n)
			return cmd_error(err, t->end[*i - 1], "%s needs a "
			    "controller number 0..%ld", source_names[s], top);
		if (parse_whole(t->argv[*i], 0, top, &v) != 0)
			return cmd_error(err, t->column[*i], "controller number must "
			    "be 0..%ld%s, got '%.40s'", top, s == MAP_CC14 ?
			    " (the MSB; its LSB is number+32)" : "", t->argv[*i]);
		m->number = (unsigned char)v;
		(*i)++;
	}
	*channel_given = 0;
	if (*i < t->n && strcmp(t->argv[*i], "ch") == 0) {
		if (*i + 1 >= t->n || parse_whole(t->argv[*i + 1], 1, 16, &v) != 0)
			return cmd_error(err, *i + 1 < t->n ? t->column[*i + 1] :
			    t->end[*i], "ch needs a MIDI channel 1..16, got "
			    "'%.40s'", *i + 1 < t->n ? t->argv[*i + 1] : "");
		m->channel = (unsigned char)v;
		*channel_given = 1;
		*i += 2;
	}
	return 0;
}

/* Parse word i as NAME.PARAM of a numeric parameter of p into m. */
static int
parse_target(const struct patch *p, const struct cmd_tokens *t, unsigned i,
    struct patch_map *m, struct patch_error *err)
{
	char name[PATCH_NAME_MAX];
	const char *w = t->argv[i], *dot = strchr(w, '.');

	if (dot == NULL || dot == w || dot[1] == '\0' ||
	    (size_t)(dot - w) >= sizeof name)
		return cmd_error(err, t->column[i], "expected NAME.PARAM, got "
		    "'%.40s'", w);
	memcpy(name, w, (size_t)(dot - w));
	name[dot - w] = '\0';
	int mod = patch_find_module(p, name);
	if (mod < 0)
		return cmd_error(err, t->column[i], "no module named '%.40s'",
		    name);
	const struct module_type *type = p->modules[mod].type;
	int k = module_param_index(type, dot + 1);
	if (k < 0 || k >= MODULE_MAX_PARAMS)
		return cmd_error(err, t->column[i], "module '%s' has no parameter "
		    "'%.40s' (see `help %s` or --list-modules)", name, dot + 1,
		    type->name);
	if (type->params[k].kind == PARAM_TEXT)
		return cmd_error(err, t->column[i], "%s is a file name; only "
		    "numbers and choices can follow a controller", w);
	m->module = mod;
	m->param = (unsigned)k;
	return 0;
}

/* Whether two mappings listen to the same controller on the same
 * channel and drive the same parameter. */
static int
same_binding(const struct patch_map *a, const struct patch_map *b)
{
	return a->source == b->source && a->number == b->number &&
	    a->channel == b->channel && a->module == b->module &&
	    a->param == b->param;
}

int
midimap_exec_map(struct patch *p, const struct cmd_tokens *t,
    struct patch_error *err)
{
	struct patch_map m = { 0 };
	unsigned i = 1;
	int ch_given, curve = -1;

	if (parse_source(t, &i, &m, &ch_given, err) != 0)
		return -1;
	if (i >= t->n)
		return cmd_error(err, t->end[i - 1], "map needs a parameter "
		    "to drive: map SOURCE NAME.PARAM (e.g. map cc 74 flt.cutoff)");
	if (parse_target(p, t, i, &m, err) != 0)
		return -1;
	const struct param_desc *d = &p->modules[m.module].type->params[m.param];
	m.lo = d->min;
	m.hi = d->max;
	for (i++; i < t->n; i += 2) {
		const char *opt = t->argv[i];
		if (strcmp(opt, "min") != 0 && strcmp(opt, "max") != 0 &&
		    strcmp(opt, "curve") != 0 && strcmp(opt, "ch") != 0)
			return cmd_error(err, t->column[i], "unknown option "
			    "'%.40s' (expected min X, max Y, curve lin|exp or ch N)",
			    opt);
		if (i + 1 >= t->n)
			return cmd_error(err, t->end[i], "%s needs a value", opt);
		if (strcmp(opt, "ch") == 0) {
			long ch;
			if (ch_given)
				return cmd_error(err, t->column[i], "ch is given twice");
			if (parse_whole(t->argv[i + 1], 1, 16, &ch) != 0)
				return cmd_error(err, t->column[i + 1], "ch needs a MIDI "
				    "channel 1..16, got '%.40s'", t->argv[i + 1]);
			m.channel = (unsigned char)ch;
			ch_given = 1;
			continue;
		}
		if (strcmp(opt, "curve") == 0) {
			if (strcmp(t->argv[i + 1], "lin") == 0)
				curve = 0;
			else if (strcmp(t->argv[i + 1], "exp") == 0)
				curve = 1;
			else
				return cmd_error(err, t->column[i + 1], "curve is lin "
				    "or exp, got '%.40s'", t->argv[i + 1]);
			continue;
		}
		float v;
		if (cmd_parse_value(d, t->argv[i + 1], t->column[i + 1], &v,
		    err) != 0)
			return -1;
		if (opt[1] == 'i')
			m.lo = v;
		else
			m.hi = v;
	}
	if (curve == 1 && !(m.lo > 0.0f && m.hi > 0.0f))
		return cmd_error(err, t->column[1], "curve exp needs both ends "
		    "above zero (min %g, max %g): give min and max, or curve lin",
		    (double)m.lo, (double)m.hi);
	m.curve_exp = (unsigned char)(curve >= 0 ? curve :
	    default_curve(d, m.lo, m.hi));
	for (unsigned k = 0; k < p->n_maps; k++)
		if (same_binding(&p->maps[k], &m)) {
			p->maps[k] = m;        /* a new range for the same knob */
			return 0;
		}
	if (p->n_maps == PATCH_MAX_MAPS)
		return cmd_error(err, t->column[1], "too many mappings (at most "
		    "%d); unmap some first", PATCH_MAX_MAPS);
	p->maps[p->n_maps++] = m;
	return 0;
}

/* Drop mapping i, keeping the others' order. */
static void
drop_map(struct patch *p, unsigned i)
{
	memmove(&p->maps[i], &p->maps[i + 1],
	    (p->n_maps - i - 1) * sizeof p->maps[0]);
	p->n_maps--;
	memset(&p->maps[p->n_maps], 0, sizeof p->maps[0]);
}

int
midimap_exec_unmap(struct patch *p, const struct cmd_tokens *t,
    struct patch_error *err)
{
	struct patch_map want = { 0 };
	unsigned i = 1, dropped = 0;
	int by_target = strchr(t->argv[1], '.') != NULL, ch_given = 0;

	if (by_target) {
		if (t->n > 2)
			return cmd_error(err, t->column[2], "unmap NAME.PARAM takes "
			    "nothing more, got '%.40s'", t->argv[2]);
		if (parse_target(p, t, 1, &want, err) != 0)
			return -1;
	} else {
		if (parse_source(t, &i, &want, &ch_given, err) != 0)
			return -1;
		if (i < t->n)
			return cmd_error(err, t->column[i], "unexpected '%.40s' "
			    "(unmap SOURCE [ch N], or unmap NAME.PARAM)", t->argv[i]);
	}
	for (unsigned k = p->n_maps; k-- > 0;) {
		const struct patch_map *m = &p->maps[k];
		int hit = by_target ? m->module == want.module &&
		    m->param == want.param : m->source == want.source &&
		    m->number == want.number && (!ch_given ||
		    m->channel == want.channel);
		if (hit) {
			drop_map(p, k);
			dropped++;
		}
	}
	if (dropped == 0) {
		char what[64];
		if (by_target)
			snprintf(what, sizeof what, "to %.40s", t->argv[1]);
		else if (want.source == MAP_CC || want.source == MAP_CC14)
			snprintf(what, sizeof what, "from %s %u",
			    source_names[want.source], want.number);
		else
			snprintf(what, sizeof what, "from %s",
			    source_names[want.source]);
		return cmd_error(err, t->column[1], "nothing is mapped %s%s "
		    "(`maps` lists the mappings)", what, ch_given ?
		    " on that channel" : "");
	}
	return 0;
}

int
midimap_exec_channel(struct patch *p, const struct cmd_tokens *t,
    struct patch_error *err)
{
	long v;
	if (strcmp(t->argv[1], "omni") == 0) {
		p->channel = 0;
		return 0;
	}
	if (parse_whole(t->argv[1], 1, 16, &v) != 0)
		return cmd_error(err, t->column[1], "channel is a MIDI channel "
		    "1..16 or omni (every channel), got '%.40s'", t->argv[1]);
	p->channel = (unsigned)v;
	return 0;
}

void
midimap_module_removed(struct patch *p, int m)
{
	for (unsigned k = p->n_maps; k-- > 0;)
		if (p->maps[k].module == m)
			drop_map(p, k);
	for (unsigned k = 0; k < p->n_maps; k++)
		if (p->maps[k].module > m)
			p->maps[k].module--;
}

void
midimap_describe(const struct patch *p, unsigned i, char *buf, size_t size)
{
	const struct patch_map *m = &p->maps[i];
	char lo[64], hi[64];
	size_t n = 0;

	buf[0] = '\0';
	if (m->module < 0 || (unsigned)m->module >= p->n_modules)
		return;
	const struct patch_module *pm = &p->modules[m->module];
	const struct param_desc *d = &pm->type->params[m->param];
#define ADD(...) do { if (n < size) n += (size_t)snprintf(buf + n, size - n, \
	__VA_ARGS__); } while (0)
	ADD("%s", source_names[m->source]);
	if (m->source == MAP_CC || m->source == MAP_CC14)
		ADD(" %u", m->number);
	if (m->channel != 0)
		ADD(" ch %u", m->channel);
	ADD(" %s.%s", pm->name, d->name);
	cmd_format_value(d, m->lo, lo, sizeof lo);
	cmd_format_value(d, m->hi, hi, sizeof hi);
	if (m->lo != d->min)
		ADD(" min %s", lo);
	if (m->hi != d->max)
		ADD(" max %s", hi);
	if (m->curve_exp != default_curve(d, m->lo, m->hi))
		ADD(" curve %s", m->curve_exp ? "exp" : "lin");
#undef ADD
}

void
midimap_save(const struct patch *p, FILE *out)
{
	char line[300];
	if (p->channel != 0)
		fprintf(out, "channel %u\n", p->channel);
	for (unsigned i = 0; i < p->n_maps; i++) {
		midimap_describe(p, i, line, sizeof line);
		fprintf(out, "map %s\n", line);
	}
}

int
midimap_equal(const struct patch *a, const struct patch *b)
{
	if (a->channel != b->channel || a->n_maps != b->n_maps)
		return 0;
	for (unsigned i = 0; i < a->n_maps; i++) {
		const struct patch_map *x = &a->maps[i], *y = &b->maps[i];
		if (!same_binding(x, y) || x->lo != y->lo || x->hi != y->hi ||
		    x->curve_exp != y->curve_exp)
			return 0;
	}
	return 1;
}

void
midimap_tag(const struct patch_map *m, char *buf, size_t size)
{
	int n;
	switch (m->source) {
	case MAP_CC:   n = snprintf(buf, size, "cc%u", m->number); break;
	case MAP_CC14: n = snprintf(buf, size, "cc%u+%u", m->number,
	    m->number + 32u); break;
	case MAP_BEND: n = snprintf(buf, size, "bend"); break;
	case MAP_PRESSURE: n = snprintf(buf, size, "at"); break;
	case MAP_POLY_PRESSURE: n = snprintf(buf, size, "pat"); break;
	default:       n = snprintf(buf, size, "vel"); break;
	}
	if (m->channel != 0 && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, ":%u", m->channel);
}

int
midimap_find(const struct patch *p, int m, unsigned k)
{
	for (unsigned i = 0; i < p->n_maps; i++)
		if (p->maps[i].module == m && p->maps[i].param == k)
			return (int)i;
	return -1;
}

void
midimap_cc14_update(struct midimap_cc14 *st, unsigned channel,
    unsigned number, unsigned raw)
{
	if (channel > 15)
		channel = 0;
	if (number < 32) {
		st->msb[channel][number] = (unsigned char)(raw & 127);
		st->lsb[channel][number] = 0;   /* a new MSB starts the pair */
	} else if (number < 64) {
		st->lsb[channel][number - 32] = (unsigned char)(raw & 127);
	}
}

/* Clamp x into [0, 1]. */
static float
unit_clamp(float x)
{
	return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x;
}

int
midimap_position(const struct patch_map *m, unsigned kind, unsigned channel,
    unsigned number, unsigned raw, float amount,
    const struct midimap_cc14 *st, float *pos)
{
	if (m->channel != 0 && channel != NOTE_CHANNEL_ANY &&
	    channel != (unsigned)m->channel - 1u)
		return 0;
	unsigned ch = channel > 15 ? 0 : channel;
	switch (m->source) {
	case MAP_CC:
		if (kind != NOTE_EVENT_CC || number != m->number)
			return 0;
		*pos = (float)(raw & 127) / 127.0f;
		return 1;
	case MAP_CC14:
		if (kind != NOTE_EVENT_CC || (number != m->number &&
		    number != m->number + 32u))
			return 0;
		*pos = (float)((st->msb[ch][m->number] << 7) |
		    st->lsb[ch][m->number]) / 16383.0f;
		return 1;
	case MAP_BEND:
		if (kind != NOTE_EVENT_BEND)
			return 0;
		*pos = unit_clamp((amount * 8192.0f + 8192.0f) / 16383.0f);
		return 1;
	case MAP_PRESSURE:
		if (kind != NOTE_EVENT_PRESSURE)
			return 0;
		*pos = unit_clamp(amount);
		return 1;
	case MAP_POLY_PRESSURE:
		if (kind != NOTE_EVENT_POLY_PRESSURE)
			return 0;
		*pos = unit_clamp(amount);
		return 1;
	case MAP_VELOCITY:
		if (kind != NOTE_EVENT_ON)
			return 0;
		*pos = (float)(raw & 127) / 127.0f;
		return 1;
	default:
		return 0;
	}
}

float
midimap_value(const struct patch_map *m, float pos)
{
	pos = unit_clamp(pos);
	if (m->curve_exp && m->lo > 0.0f && m->hi > 0.0f)
		return m->lo * powf(m->hi / m->lo, pos);
	return m->lo + (m->hi - m->lo) * pos;
}
