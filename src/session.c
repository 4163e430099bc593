/*
 * src/session.c — a live session (src/session.h): opens the JACK client
 * and the engine, runs the supervisor thread that looks after the DSP
 * child and reports events on stderr, executes command lines from either
 * front end, replaces the patch click-free, autosaves it, and closes
 * everything in order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "engine.h"
#include "futex.h"
#include "latency.h"
#include "log.h"
#include "midilive.h"
#include "midimap.h"
#include "patchfile.h"
#include "recorder.h"
#include "score.h"
#include "session.h"

/* Late cycles are told at most once a second, with the module that costs
 * most per period and what can be done: one line a second is readable, one
 * a tick (50 a second) buries everything else. */
#define LATE_REPORT_NS 1000000000ull

struct late_report {
	uint64_t at_ns;                      /* last report or baseline */
	unsigned long late, cycles;          /* counters then */
	uint64_t cost_ns[PATCH_MAX_MODULES]; /* module costs then */
	uint64_t cost_frames;
	uint32_t cost_gen;                   /* graph generation they are of */
	int cost_valid;
};

/* The autosave is written at most this often while changes come in: a
 * stream of commands costs one write per interval, not one per command. */
#define AUTOSAVE_INTERVAL_NS 500000000ull

/* What the threads of a session share; `lock` guards patch, origin and
 * engine control (never taken on the JACK thread); `autosave_lock`
 * serializes the autosave's writers (the supervisor, the way out, a
 * change of origin). */
struct session {
	pthread_mutex_t lock;
	struct patch *patch;
	struct patchfile *file;          /* the patch's own file, for save */
	struct engine *engine;
	struct jackio *jack;
	struct recorder *recorder;
	const struct live_options *o;
	char origin[600];                /* what the autosave is of */
	pthread_mutex_t autosave_lock;
	struct patch *autosave_copy;     /* the patch as the autosave writes it */
	struct patch *autosave_held;     /* while auditioning: the user's patch,
	                                    written instead of the one playing */
	int autosave_holding;            /* autosave_held is in force (lock) */
	_Atomic int autosave_dirty;      /* changed since the last autosave */
	_Atomic uint64_t autosave_at;    /* ns of the last autosave */
	unsigned rate, period;
	int recorder_failed_seen;
	struct late_report late;         /* the supervisor's, for late cycles */
	pthread_t supervisor;
	_Atomic int quit;
	char quit_reason[300];
	struct midilive *midi;           /* MIDI heard: status, learn (lock) */
	char learn_msg[300];             /* the last learn's outcome (lock) */
	int learn_msg_new;               /* not yet taken by the UI (lock) */
	unsigned long midi_lost_told;    /* MIDI events missed, as last told */
};

static void update_latency(struct session *s);

/* Append `text` to buf (at `*len`, within `size`) with every byte outside
 * [A-Za-z0-9_-] written %XX, so that different texts give different file
 * names and none is a path. */
static void
append_escaped(char *buf, size_t size, size_t *len, const char *text,
    size_t max)
{
	for (size_t i = 0; text[i] != '\0' && i < max && *len + 4 < size; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-')
			buf[(*len)++] = (char)c;
		else
			*len += (size_t)snprintf(buf + *len, size - *len, "%%%02X", c);
	}
	buf[*len] = '\0';
}

int
autosave_dir(const char *client, char *buf, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char dir[700];
	size_t len;
	if (state != NULL && state[0] == '/')
		len = (size_t)snprintf(dir, 512, "%s/forksynth/autosave/", state);
	else if (home != NULL && home[0] == '/')
		len = (size_t)snprintf(dir, 512, "%s/.local/state/forksynth/autosave/",
		    home);
	else
		return -1;
	if (len >= 512)
		return -1;
	append_escaped(dir, sizeof dir, &len, client, 60);
	/* make each missing level; ours is private */
	for (char *s = dir + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(dir, 0700);    /* XDG: missing levels are private */
		*s = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	if (strlen(dir) >= size)
		return -1;
	snprintf(buf, size, "%s", dir);
	return 0;
}

int
autosave_path(const char *client, const char *origin, char *buf, size_t size)
{
	char dir[700], name[200];
	size_t len = 0;
	if (autosave_dir(client, dir, sizeof dir) != 0)
		return -1;
	/* the patch file's name, readable, and a hash of its whole path, so
	 * that two pad.fsp in different folders keep two autosaves */
	uint64_t hash = 0xcbf29ce484222325ull;   /* FNV-1a */
	for (const char *c = origin; *c != '\0'; c++)
		hash = (hash ^ (unsigned char)*c) * 0x100000001b3ull;
	const char *base = origin[0] == '/' ? strrchr(origin, '/') + 1 : "built-in";
	size_t base_len = strlen(base);
	if (base_len > 4 && strcmp(base + base_len - 4, ".fsp") == 0)
		base_len -= 4;
	append_escaped(name, sizeof name, &len, base, base_len < 40 ? base_len : 40);
	if (snprintf(buf, size, "%s/%s-%08x.fsp", dir, name,
	    (unsigned)(hash ^ hash >> 32)) >= (int)size)
		return -1;
	return 0;
}

/* The comment that starts an autosave, before the origin. */
#define ORIGIN_MARK "# forksynth autosave of: "

void
patch_origin(const char *patch_path, char *buf, size_t size)
{
	char *full = patch_path != NULL ? realpath(patch_path, NULL) : NULL;
	snprintf(buf, size, "%s", full != NULL ? full :
	    patch_path != NULL ? patch_path : "(the built-in patch)");
	free(full);
}

int
autosave_origin(const char *autosave_file, char *buf, size_t size)
{
	char line[700];
	FILE *f = fopen(autosave_file, "r");
	int rc = -1;
	if (f == NULL)
		return -1;
	if (fgets(line, sizeof line, f) != NULL &&
	    strncmp(line, ORIGIN_MARK, strlen(ORIGIN_MARK)) == 0) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(buf, size, "%s", line + strlen(ORIGIN_MARK));
		rc = 0;
	}
	fclose(f);
	return rc;
}

void
session_set_origin(struct session *s, const char *patch_path)
{
	char origin[sizeof s->origin];
	patch_origin(patch_path, origin, sizeof origin);
	session_lock(s);
	memcpy(s->origin, origin, sizeof origin);
	session_unlock(s);
	/* the patch now belongs to that file: its own autosave */
	atomic_store(&s->autosave_dirty, 1);
}

int
session_autosave_file(struct session *s, char *buf, size_t size)
{
	session_lock(s);
	int rc = autosave_path(s->o->jack.name, s->origin, buf, size);
	session_unlock(s);
	return rc;
}

int
patch_write_atomic(const struct patch *p, const char *path, int durable,
    const char *header)
{
	char tmp[600];
	if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	int rc = 0;
	if (header != NULL && fprintf(f, "%s\n", header) < 0)
		rc = -1;
	if (patch_save(p, f) != 0)
		rc = -1;
	if (fflush(f) != 0 || (durable && fsync(fd) != 0))
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) == 0)
		return 0;
	int saved = errno;
	unlink(tmp);
	errno = saved;
	return -1;
}

int
session_autosave(struct session *s, int durable)
{
	char path[800], header[700];
	pthread_mutex_lock(&s->autosave_lock);
	session_lock(s);
	atomic_store(&s->autosave_dirty, 0);
	*s->autosave_copy = s->autosave_holding ? *s->autosave_held : *s->patch;
	snprintf(header, sizeof header, ORIGIN_MARK "%s", s->origin);
	int rc = autosave_path(s->o->jack.name, s->origin, path, sizeof path);
	session_unlock(s);
	/* written from the copy: the lock is not held across the disk */
	if (rc == 0)
		rc = patch_write_atomic(s->autosave_copy, path, durable, header);
	s->autosave_at = futex_now_ns();
	pthread_mutex_unlock(&s->autosave_lock);
	if (rc != 0)
		warn("could not autosave the patch: %s", strerror(errno));
	else if (durable)
		info("patch autosaved to %s", path);
	return rc;
}

void
session_autosave_hold(struct session *s, const struct patch *kept)
{
	session_lock(s);
	if (kept != NULL) {
		if (s->autosave_held == NULL)
			s->autosave_held = xmalloc(sizeof *s->autosave_held);
		*s->autosave_held = *kept;
	}
	s->autosave_holding = kept != NULL;
	session_unlock(s);
}

/* The supervisor's share of the autosave: write it when the patch changed
 * and the last write is AUTOSAVE_INTERVAL_NS old. */
static void
autosave_tick(struct session *s)
{
	if (atomic_load(&s->autosave_dirty) &&
	    futex_now_ns() - s->autosave_at >= AUTOSAVE_INTERVAL_NS)
		session_autosave(s, 0);
}

/* Take the counters and module costs as the next report's starting point.
 * Called with the session lock held. */
static void
late_baseline(struct session *s, struct late_report *r,
    const struct jackio_counters *c, uint64_t t)
{
	r->at_ns = t;
	r->late = c->late;
	r->cycles = c->cycles;
	r->cost_gen = atomic_load(&engine_region(s->engine)->cost->graph_gen);
	r->cost_valid = engine_module_cost(s->engine, r->cost_ns,
	    s->patch->n_modules, &r->cost_frames) == 0;
}

/* The DSP's own work is too small to be why cycles were late when all
 * modules together took less than this share of the period: the host was
 * busy (the deadline gives the DSP about three quarters of it). */
#define LATE_NOT_DSP_SHARE 0.25

/* Into buf: the module that cost most per block since the baseline, as
 * "'name' (type) takes X ms of the Y ms period", or "" when the child has
 * not timed a block of the same graph since.  Returns the share of the
 * period all modules took together, or -1 when not known.  Session lock
 * held. */
static double
costliest_module(struct session *s, const struct late_report *r,
    unsigned period, char *buf, size_t size)
{
	uint64_t ns[PATCH_MAX_MODULES], frames;
	unsigned n = s->patch->n_modules;
	buf[0] = '\0';
	if (!r->cost_valid || period == 0 || s->rate == 0 ||
	    atomic_load(&engine_region(s->engine)->cost->graph_gen) != r->cost_gen ||
	    engine_module_cost(s->engine, ns, n, &frames) != 0 ||
	    frames <= r->cost_frames)
		return -1;
	int worst = -1;
	uint64_t worst_ns = 0, total_ns = 0;
	for (unsigned m = 0; m < n; m++) {
		uint64_t d = ns[m] >= r->cost_ns[m] ? ns[m] - r->cost_ns[m] : 0;
		total_ns += d;
		if (d > worst_ns) {
			worst_ns = d;
			worst = (int)m;
		}
	}
	if (worst < 0)
		return -1;
	double per_frame_ms = (double)worst_ns * 1e-6 / (double)(frames - r->cost_frames);
	double period_ms = 1000.0 * period / s->rate;
	const struct patch_module *pm = &s->patch->modules[worst];
	snprintf(buf, size, "; the costliest module is '%s' (%s), %.2f ms of each "
	    "%.2f ms period", pm->name, pm->type->name,
	    per_frame_ms * period, period_ms);
	return (double)total_ns * 1e-6 / (double)(frames - r->cost_frames) *
	    period / period_ms;
}

/* Tell of the late cycles since the last report, once a second at most. */
static void
report_late(struct session *s, struct late_report *r,
    const struct jackio_counters *c)
{
	uint64_t t = futex_now_ns();
	if (c->late == r->late) {
		/* on time: keep the baseline fresh, so that the first report
		 * comes a second after things went wrong and measures that
		 * second */
		pthread_mutex_lock(&s->lock);
		late_baseline(s, r, c, t);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (t - r->at_ns < LATE_REPORT_NS)
		return;
	char worst[300];
	pthread_mutex_lock(&s->lock);
	double share = costliest_module(s, r, c->period, worst, sizeof worst);
	unsigned long late = c->late - r->late, cycles = c->cycles - r->cycles;
	late_baseline(s, r, c, t);
	pthread_mutex_unlock(&s->lock);
	if (share >= 0 && share < LATE_NOT_DSP_SHARE) {
		/* not the patch's fault: blaming a module would mislead */
		info("the DSP missed its deadline in %lu of %lu cycles (%lu so far), "
		    "but the DSP was not the cause: all its modules took %.0f %% of "
		    "the period%s; the host was busy (other programs, or a slowed "
		    "CPU) and the DSP got the CPU too late; what helps: a less busy "
		    "machine, a longer JACK period%s", late, cycles, c->late,
		    100 * share, worst, s->o->jack.pipeline ? "" :
		    ", or --pipeline (the DSP gets a whole period, for one period "
		    "more latency)");
		return;
	}
	info("the DSP missed its deadline in %lu of %lu cycles (%lu so far)%s; "
	    "what helps: %sa higher --deadline, fewer voices, a longer JACK "
	    "period, or %s", late, cycles, c->late, worst,
	    s->o->jack.pipeline ? "" :
	    "--pipeline (the DSP gets a whole period, for one period more "
	    "latency), ", worst[0] != '\0' ? "removing or simplifying that module" :
	    "a lighter patch");
}

/* Take the MIDI the JACK thread heard: the status the UI shows, MIDI
 * learn (a `map` run like a typed command), and the patch values of mapped
 * parameters (the DSP has already applied them, sample-accurately). */
static void
midi_tick(struct session *s)
{
	struct region_midi ev[256];
	char line[200], msg[600];
	unsigned n;
	unsigned long lost = jackio_midi_seen_lost(s->jack);
	if (lost != s->midi_lost_told) {
		info("the control plane missed %lu MIDI message(s) in a flood: the "
		    "sound took them all; the screen's values of mapped parameters "
		    "catch up at the next move", lost - s->midi_lost_told);
		s->midi_lost_told = lost;
	}
	while ((n = jackio_midi_seen(s->jack, ev, 256)) > 0) {
		pthread_mutex_lock(&s->lock);
		int r = midilive_take(s->midi, s->patch, ev, n, line, sizeof line);
		if (r & MIDILIVE_LEARNED) {
			struct patch_error err;
			if (patch_exec_line(s->patch, line, 0, &err) == 0) {
				engine_command(s->engine, line);
				snprintf(s->learn_msg, sizeof s->learn_msg, "learned: %s",
				    line + 4);
				r |= MIDILIVE_VALUES;
			} else {
				patch_error_format(&err, msg, sizeof msg);
				snprintf(s->learn_msg, sizeof s->learn_msg, "MIDI learn "
				    "failed: %.250s", msg);
			}
			s->learn_msg_new = 1;
		}
		pthread_mutex_unlock(&s->lock);
		if (r)
			atomic_store(&s->autosave_dirty, 1);
		if (r & MIDILIVE_LEARNED)
			info("%s", s->learn_msg);
	}
}

int
session_learn(struct session *s, int module, unsigned param, char *msg,
    size_t size)
{
	session_lock(s);
	if (module < 0 || (unsigned)module >= s->patch->n_modules ||
	    param >= s->patch->modules[module].type->n_params ||
	    s->patch->modules[module].type->params[param].kind == PARAM_TEXT) {
		session_unlock(s);
		snprintf(msg, size, "MIDI learn: choose a numeric parameter first");
		return -1;
	}
	const struct patch_module *pm = &s->patch->modules[module];
	midilive_learn(s->midi, pm->name, pm->type->params[param].name);
	snprintf(msg, size, "MIDI learn: move a controller for %s.%s (Esc "
	    "cancels)", pm->name, pm->type->params[param].name);
	session_unlock(s);
	return 0;
}

int
session_learn_cancel(struct session *s)
{
	session_lock(s);
	int was = midilive_learn_cancel(s->midi);
	session_unlock(s);
	return was;
}

int
session_learn_poll(struct session *s, char *msg, size_t size)
{
	session_lock(s);
	int got = s->learn_msg_new;
	if (got)
		snprintf(msg, size, "%s", s->learn_msg);
	s->learn_msg_new = 0;
	session_unlock(s);
	return got;
}

void
session_midi_status(struct session *s, struct midi_status *out)
{
	session_lock(s);
	midilive_status(s->midi, out);
	session_unlock(s);
}

/* The child's count of sounding voices `said` (untrusted), within what
 * the patch `p` can sound: none without voice modules, at most its
 * polyphony.  Under the session lock. */
static unsigned
voices_clamped(const struct patch *p, uint32_t said)
{
	int has_voice = 0;
	for (unsigned m = 0; m < p->n_modules && !has_voice; m++)
		has_voice = p->modules[m].scope == SCOPE_VOICE;
	if (!has_voice)
		return 0;
	return said < p->poly ? said : p->poly;
}

unsigned
session_voices_sounding(struct session *s)
{
	struct engine_info ei;
	session_lock(s);
	engine_info(s->engine, &ei);
	unsigned n = voices_clamped(s->patch, ei.voices_sounding);
	session_unlock(s);
	return n;
}

/* `maps`: every mapping as the line that makes it, on one answer line. */
static int
maps_command(struct session *s, const char *line, char *reply, size_t size)
{
	if (strcmp(line, "maps") != 0)
		return 0;
	session_lock(s);
	const struct patch *p = s->patch;
	size_t n = (size_t)snprintf(reply, size, "ok %u mapping%s%s", p->n_maps,
	    p->n_maps == 1 ? "" : "s", p->channel ? "" : ", channel omni");
	if (p->channel && n < size)
		n += (size_t)snprintf(reply + n, size - n, ", channel %u",
		    p->channel);
	for (unsigned i = 0; i < p->n_maps && n < size; i++) {
		char d[300];
		midimap_describe(p, i, d, sizeof d);
		n += (size_t)snprintf(reply + n, size - n, "%s map %s",
		    i == 0 ? ":" : ";", d);
	}
	session_unlock(s);
	return 1;
}

/* The supervisor: every 20 ms look after the child, and report what
 * changed on stderr. */
static void *
supervise_main(void *arg)
{
	struct session *s = arg;
	struct jackio_counters last = { 0 }, now;

	pthread_setname_np(pthread_self(), "fs-supervisor");
	struct late_report *late = &s->late;
	char msg[600], event[600];

	while (!atomic_load(&s->quit)) {
		usleep(20000);
		midi_tick(s);
		pthread_mutex_lock(&s->lock);
		int rc = engine_supervise(s->engine, s->patch, 0, msg, sizeof msg);
		while (engine_poll_event(s->engine, event, sizeof event) > 0)
			info("DSP: %s", event);
		pthread_mutex_unlock(&s->lock);
		if (rc != 0)
			info("%s", msg);
		jackio_counters(s->jack, &now);
		if (now.xruns != last.xruns)
			info("JACK reported an xrun (%lu so far)", now.xruns);
		report_late(s, late, &now);
		autosave_tick(s);
		if (now.bad_midi != last.bad_midi)
			info("ignored %lu malformed MIDI message(s)", now.bad_midi - last.bad_midi);
		if (now.period != last.period && last.period != 0)
			info("JACK period is now %u frames", now.period);
		struct recorder_status rs;
		recorder_status(s->recorder, &rs);
		if (rs.failed && !s->recorder_failed_seen) {
			info("recording stopped: %s; what was recorded is kept, the "
			    "music plays on", rs.error);
			s->recorder_failed_seen = 1;
		}
		if (now.shutdown) {
			snprintf(s->quit_reason, sizeof s->quit_reason,
			    "the JACK server went away (%s)", now.shutdown_reason);
			atomic_store(&s->quit, 1);
		}
		last = now;
	}
	return NULL;
}

/* Parse "note NOTE V SECONDS", NOTE a number or a name (C4, F#3) as
 * scores take it; 1 if it was one. */
static int
note_command(struct session *s, const char *line, char *reply, size_t size,
    int *rc)
{
	unsigned vel;
	long note = -1;
	double seconds;
	char name[16], extra;
	if (strncmp(line, "note", 4) != 0 || (line[4] != ' ' && line[4] != '\t'))
		return 0;
	*rc = -1;
	if (sscanf(line + 4, " %15s %u %lf %c", name, &vel, &seconds, &extra) != 3 ||
	    score_note_parse(name, &note) != 0 || note < 0 || note > 127 ||
	    vel < 1 || vel > 127 || !(seconds > 0 && seconds < 3600))
		snprintf(reply, size, "error: usage: note NOTE VELOCITY(1..127) SECONDS "
		    "(NOTE: 0..127 or a name, C-1 to G9: C4 is 60, A4 69, F#3, Eb2)");
	else if (jackio_note(s->jack, (unsigned)note, vel, seconds) != 0)
		snprintf(reply, size, "error: too many notes queued");
	else {
		snprintf(reply, size, "ok");
		*rc = 0;
	}
	return 1;
}

/* A file name for a recording started without one: the record directory
 * and the time, never an existing file. */
static void
record_name(const struct live_options *o, char *buf, size_t size)
{
	char stamp[32];
	time_t now = time(NULL);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
	const char *dir = o->record_dir ? o->record_dir : ".";
	const char *ext = o->record_format == NULL ? "wav" :
	    strncmp(o->record_format, "wav", 3) == 0 ? "wav" : o->record_format;
	snprintf(buf, size, "%s/forksynth-%s.%s", dir, stamp, ext);
	for (int k = 2; access(buf, F_OK) == 0 && k < 100; k++)
		snprintf(buf, size, "%s/forksynth-%s-%d.%s", dir, stamp, k, ext);
}

/* record [FILE] | record stop | record status: start, stop, or say. */
static int
record_command(struct session *s, const char *line, char *reply, size_t size,
    int *rc)
{
	char path[600], err[600];
	struct recorder_status rs;

	if (strncmp(line, "record", 6) != 0 || (line[6] != '\0' && line[6] != ' '))
		return 0;
	*rc = -1;
	const char *arg = line + 6 + strspn(line + 6, " \t");
	recorder_status(s->recorder, &rs);
	if (strcmp(arg, "stop") == 0) {
		if (recorder_stop(s->recorder, err, sizeof err) != 0)
			snprintf(reply, size, "error: %s", err);
		else if (!rs.recording && !rs.failed)
			snprintf(reply, size, "error: not recording");
		else {
			/* the counts after the last push, not before the stop */
			recorder_status(s->recorder, &rs);
			snprintf(reply, size, "ok stopped %s: %llu frames, %llu lost",
			    rs.path, rs.frames, rs.dropped);
			*rc = 0;
		}
		return 1;
	}
	if (strcmp(arg, "status") == 0) {
		snprintf(reply, size, "ok %s %s %llu frames, %llu lost%s%s",
		    rs.recording ? "recording" : "not recording", rs.path, rs.frames,
		    rs.dropped, rs.failed ? "; stopped: " : "", rs.error);
		*rc = 0;
		return 1;
	}
	if (*arg == '\0')
		record_name(s->o, path, sizeof path);
	else
		snprintf(path, sizeof path, "%s", arg);
	if (recorder_start(s->recorder, path, s->o->record_format, s->o->force,
	    err, sizeof err) != 0) {
		snprintf(reply, size, "error: %s", err);
	} else {
		s->recorder_failed_seen = 0;
		snprintf(reply, size, "ok recording to %s", path);
		*rc = 0;
	}
	return 1;
}

/* probe NAME.OUTPUT | probe off | probe: show a module's output in the
 * scope and spectrum (the DSP child copies it, summed over the voices);
 * checked against the patch here, so that a typo is one clear error.
 * 1 if it was the command. */
static int
probe_command(struct session *s, const char *line, char *reply, size_t size,
    int *rc)
{
	char target[200];
	if (strncmp(line, "probe", 5) != 0 || (line[5] != '\0' && line[5] != ' ' &&
	    line[5] != '\t'))
		return 0;
	*rc = -1;
	const char *arg = line + 5 + strspn(line + 5, " \t");
	size_t len = strcspn(arg, " \t");
	if (arg[len + strspn(arg + len, " \t")] != '\0' || len >= sizeof target) {
		snprintf(reply, size, "error: usage: probe NAME.OUTPUT (a module's "
		    "output), probe off, or probe alone to say what is probed");
		return 1;
	}
	memcpy(target, arg, len);
	target[len] = '\0';
	session_lock(s);
	if (len == 0) {
		const char *now = engine_probe_target(s->engine);
		snprintf(reply, size, "ok %s", now[0] ? now : "off");
		*rc = 0;
	} else if (strcmp(target, "off") == 0) {
		engine_probe(s->engine, "");
		snprintf(reply, size, "ok probe off");
		*rc = 0;
	} else {
		char *dot = strchr(target, '.');
		if (dot != NULL)
			*dot = '\0';
		int m = patch_find_module(s->patch, target);
		const struct module_type *t = m >= 0 ? s->patch->modules[m].type : NULL;
		int port = -1;
		for (unsigned o = 0; t != NULL && dot != NULL && o < t->n_outputs; o++)
			if (strcmp(t->outputs[o].name, dot + 1) == 0)
				port = (int)o;
		if (dot == NULL || dot[1] == '\0') {
			snprintf(reply, size, "error: probe: '%s' is not NAME.OUTPUT: "
			    "name a module's output, as in probe flt.out", target);
		} else if (t == NULL && (strcmp(target, "in") == 0 ||
		    strcmp(target, "out") == 0)) {
			snprintf(reply, size, "error: probe: %s.%s is not a module's "
			    "output: the scope shows out.N itself (o, or scope-input out.N)",
			    target, dot + 1);
		} else if (t == NULL) {
			snprintf(reply, size, "error: probe: no module '%s' in the patch "
			    "(probe NAME.OUTPUT; the module list shows the names)", target);
		} else if (port < 0) {
			char outs[200] = "";
			for (unsigned o = 0; o < t->n_outputs; o++)
				snprintf(outs + strlen(outs), sizeof outs - strlen(outs),
				    "%s%s", o ? ", " : "", t->outputs[o].name);
			snprintf(reply, size, "error: probe: %s (%s) has no output '%s'; "
			    "its outputs: %s", target, t->name, dot + 1,
			    t->n_outputs ? outs : "none");
		} else {
			*dot = '.';
			engine_probe(s->engine, target);
			*dot = '\0';
			snprintf(reply, size, "ok probing %s.%s%s", target, dot + 1,
			    s->patch->modules[m].scope == SCOPE_VOICE ?
			    " (the sum of its voices)" : "");
			*rc = 0;
		}
	}
	session_unlock(s);
	return 1;
}

/* The DSP gave up on the old patch; the patch changed: try it. */
static void
retry_if_given_up(struct session *s)
{
	char msg[400];
	session_lock(s);
	int rc = engine_retry(s->engine, s->patch, msg, sizeof msg);
	session_unlock(s);
	if (rc != 0)
		info("%s", msg);
}

/* save [FILE] | save! [FILE]: write the patch to its own file or FILE,
 * keeping the file's layout (src/patchfile.c); `save!` may replace a file
 * that is not the patch's own or that changed on disk.  1 if it was the
 * command. */
static int
save_command(struct session *s, const char *line, char *reply, size_t size,
    int *rc)
{
	char msg[1500];
	if (strncmp(line, "save", 4) != 0)
		return 0;
	int force = line[4] == '!';
	const char *rest = line + 4 + force;
	if (*rest != '\0' && *rest != ' ' && *rest != '\t')
		return 0;
	char path[600];
	snprintf(path, sizeof path, "%s", rest + strspn(rest, " \t"));
	for (size_t n = strlen(path); n > 0 && (path[n - 1] == ' ' ||
	    path[n - 1] == '\t'); n--)
		path[n - 1] = '\0';
	*rc = -1;
	/* a copy, so that the disk (fsync) never holds up the supervisor */
	struct patch *p = xmalloc(sizeof *p);
	session_lock(s);
	*p = *s->patch;
	session_unlock(s);
	int failed = patchfile_save(s->file, p, *path ? path : NULL, force, msg,
	    sizeof msg);
	free(p);
	snprintf(reply, size, "%s %s", failed ? "error:" : "ok", msg);
	*rc = failed ? -1 : 0;
	return 1;
}

/* The DSP threads' part of the stats answer, from `ei`: their summed
 * counters, then "sched" and each thread's policy:priority, thread 0 (the
 * engine thread) first.  Returns the characters written into buf. */
static int
format_dsp_stats(const struct engine_info *ei, char *buf, size_t size)
{
	int n = snprintf(buf, size, " dsp_busy_us %llu dsp_idle_us %llu "
	    "dsp_sleeps %llu dsp_steals %llu dsp_contended %llu sched",
	    (unsigned long long)(ei->busy_ns / 1000),
	    (unsigned long long)(ei->idle_ns / 1000),
	    (unsigned long long)ei->sleeps, (unsigned long long)ei->steals,
	    (unsigned long long)ei->contended);
	for (unsigned t = 0; t < ei->threads && n > 0 && (size_t)n < size; t++) {
		const struct engine_sched *sc = &ei->sched[t];
		int k = sc->policy < 0 ?
		    snprintf(buf + n, size - (size_t)n, "%sunknown",
		    t ? "," : " ") :
		    snprintf(buf + n, size - (size_t)n, "%s%s:%d", t ? "," : " ",
		    engine_sched_name(sc->policy), sc->priority);
		n = k < 0 ? -1 : n + k;
	}
	return n < 0 ? 0 : (size_t)n < size ? n : (int)size - 1;
}

/* The standby's state in the stats answer. */
static const char *
standby_name(enum engine_standby st)
{
	switch (st) {
	case ENGINE_STANDBY_READY:
		return "ready";
	case ENGINE_STANDBY_STARTING:
		return "starting";
	case ENGINE_STANDBY_NONE:
		return "none";
	default:
		return "off";
	}
}

int
session_exec(struct session *s, const char *line, char *reply, size_t size)
{
	struct patch_error err = { 0 };
	char msg[600];
	int rc = 0;

	const char *p = line + strspn(line, " \t");
	if (strcmp(p, "quit") == 0) {
		session_quit(s, "quit");
		snprintf(reply, size, "ok");
		return 0;
	}
	if (strcmp(p, "stats") == 0) {
		struct jackio_counters c;
		struct engine_info ei;
		jackio_counters(s->jack, &c);
		session_lock(s);
		engine_info(s->engine, &ei);
		unsigned sounding = voices_clamped(s->patch, ei.voices_sounding);
		session_unlock(s);
		int n = snprintf(reply, size, "ok cycles %lu xruns %lu late %lu "
		    "down %lu restarts %lu bad_midi %lu max_cycle_us %lu "
		    "recent_max_cycle_us %lu overlong %lu period %u", c.cycles,
		    c.xruns, c.late, c.down, ei.restarts, c.bad_midi,
		    c.max_cycle_ns / 1000, jackio_take_recent_max(s->jack) / 1000,
		    c.overlong, c.period);
		/* appended, so that readers of the fields above keep working */
		if (n > 0 && (size_t)n < size)
			n += format_dsp_stats(&ei, reply + n, size - (size_t)n);
		if (n > 0 && (size_t)n < size)
			n += snprintf(reply + n, size - (size_t)n, " shed %lu", ei.shed);
		if (n > 0 && (size_t)n < size)
			n += snprintf(reply + n, size - (size_t)n, " dsp_pid %d standby %s "
			    "standby_pid %d takeovers %lu standby_lost %lu",
			    (int)ei.child_pid, standby_name(ei.standby),
			    (int)ei.standby_pid, ei.takeovers, ei.standby_lost);
		/* output samples the parent held at the ceiling, and that were
		 * not finite, since the session started */
		if (n > 0 && (size_t)n < size)
			n += snprintf(reply + n, size - (size_t)n, " clipped %llu "
			    "nonfinite %llu", (unsigned long long)ei.clipped,
			    (unsigned long long)ei.nonfinite);
		/* voices that sounded in the last cycle (graph.h) */
		if (n > 0 && (size_t)n < size)
			snprintf(reply + n, size - (size_t)n, " voices_sounding %u",
			    sounding);
		return 0;
	}
	if (note_command(s, p, reply, size, &rc) ||
	    record_command(s, p, reply, size, &rc) ||
	    probe_command(s, p, reply, size, &rc))
		return rc;
	if (save_command(s, p, reply, size, &rc))
		return rc;
	if (maps_command(s, p, reply, size))
		return 0;
	session_lock(s);
	if (patch_exec_line(s->patch, p, 0, &err) != 0) {
		patch_error_format(&err, msg, sizeof msg);
		snprintf(reply, size, "error: %s", msg);
		rc = -1;
	} else {
		/* when the child is being replaced this fails, and the replay of
		 * the patch carries the change instead */
		engine_command(s->engine, p);
		update_latency(s);
		jackio_set_channel(s->jack, s->patch->channel);
		snprintf(reply, size, "ok");
	}
	session_unlock(s);
	/* the supervisor writes the autosave within AUTOSAVE_INTERVAL_NS (a
	 * rename, atomic); the way out writes it and syncs it */
	if (rc == 0) {
		atomic_store(&s->autosave_dirty, 1);
		retry_if_given_up(s);
	}
	return rc;
}

/* Tell JACK the latency the patch now adds per output (a limiter's
 * look-ahead).  Call with the lock held: the patch is read here; JACK is
 * only asked to recompute when a figure changed. */
static void
update_latency(struct session *s)
{
	unsigned frames[PATCH_MAX_IO];
	patch_latency(s->patch, (float)s->rate, frames, PATCH_MAX_IO);
	jackio_set_patch_latency(s->jack, frames, PATCH_MAX_IO);
}

/* Whether a and b have the same modules, files and connections, so that
 * only numeric parameters differ. */
static int
same_structure(const struct patch *a, const struct patch *b)
{
	if (a->poly != b->poly || a->mono != b->mono ||
	    a->n_modules != b->n_modules || a->n_connections != b->n_connections)
		return 0;
	for (unsigned m = 0; m < a->n_modules; m++)
		if (a->modules[m].type != b->modules[m].type ||
		    a->modules[m].scope != b->modules[m].scope ||
		    strcmp(a->modules[m].name, b->modules[m].name) != 0 ||
		    strcmp(a->modules[m].text, b->modules[m].text) != 0)
			return 0;
	return memcmp(a->connections, b->connections,
	    a->n_connections * sizeof a->connections[0]) == 0 &&
	    midimap_equal(a, b);
}

void
session_replace(struct session *s, const struct patch *next)
{
	char line[600], value[64];
	session_lock(s);
	if (!same_structure(s->patch, next)) {
		*s->patch = *next;
		engine_load(s->engine, s->patch);
		update_latency(s);
		jackio_set_channel(s->jack, s->patch->channel);
		session_unlock(s);
		atomic_store(&s->autosave_dirty, 1);
		retry_if_given_up(s);
		return;
	}
	for (unsigned m = 0; m < next->n_modules; m++) {
		const struct patch_module *a = &s->patch->modules[m], *b = &next->modules[m];
		for (unsigned k = 0; k < b->type->n_params; k++) {
			if (a->params[k] == b->params[k])
				continue;
			cmd_format_value(&b->type->params[k], b->params[k], value, sizeof value);
			snprintf(line, sizeof line, "set %s.%s %s", b->name,
			    b->type->params[k].name, value);
			engine_command(s->engine, line);
		}
	}
	*s->patch = *next;
	update_latency(s);
	session_unlock(s);
	atomic_store(&s->autosave_dirty, 1);
	retry_if_given_up(s);
}

void
session_quit(struct session *s, const char *reason)
{
	snprintf(s->quit_reason, sizeof s->quit_reason, "%s", reason);
	atomic_store(&s->quit, 1);
}

int
session_should_quit(const struct session *s)
{
	return atomic_load(&s->quit);
}

void
session_lock(struct session *s)
{
	pthread_mutex_lock(&s->lock);
}

int
session_trylock(struct session *s)
{
	return pthread_mutex_trylock(&s->lock) == 0 ? 0 : -1;
}

void
session_unlock(struct session *s)
{
	pthread_mutex_unlock(&s->lock);
}

struct patch *session_patch(struct session *s) { return s->patch; }
struct patchfile *session_file(struct session *s) { return s->file; }
struct engine *session_engine(struct session *s) { return s->engine; }
struct jackio *session_jack(struct session *s) { return s->jack; }
struct recorder *session_recorder(struct session *s) { return s->recorder; }
const struct live_options *session_options(const struct session *s) { return s->o; }

struct session *
session_open(const struct live_options *o, struct patch *patch, char *err,
    size_t err_size)
{
	struct session *s = xcalloc(1, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->autosave_lock, NULL);
	s->autosave_copy = xmalloc(sizeof *s->autosave_copy);
	s->patch = patch;
	s->o = o;
	session_set_origin(s, o->patch_path);
	s->jack = jackio_open(&o->jack, err, err_size);
	if (s->jack == NULL) {
		free(s->autosave_copy);
		free(s);
		return NULL;
	}
	s->rate = jackio_rate(s->jack);
	s->period = jackio_period(s->jack);
	int prio = jackio_rt_priority(s->jack);
	struct engine_options eo = {
		.rate = s->rate,
		.max_block = s->period > 8192 ? s->period : 8192,
		.n_inputs = o->jack.n_inputs, .n_outputs = o->jack.n_outputs,
		.threads = o->threads ? o->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
		.pipeline = o->jack.pipeline, .no_fork = o->no_fork, .live = 1,
		.hot = o->hot, .no_clip = o->no_clip,
		.rt_priority = prio > 1 ? (unsigned)prio - 1 : 0,
	};
	s->engine = engine_start(&eo, err, err_size);
	if (s->engine == NULL) {
		jackio_close(s->jack);
		free(s->autosave_copy);
		free(s);
		return NULL;
	}
	engine_load(s->engine, patch);
	update_latency(s);
	jackio_set_channel(s->jack, patch->channel);
	s->midi = midilive_new();
	engine_sync(s->engine, 5000);
	unsigned all[32], n_rec = o->n_record_ports;
	const unsigned *rec_ports = o->record_ports;
	if (n_rec == 0) {
		for (unsigned c = 0; c < o->jack.n_outputs && c < 32; c++)
			all[c] = c;
		rec_ports = all;
		n_rec = o->jack.n_outputs < 32 ? o->jack.n_outputs : 32;
	}
	s->recorder = recorder_create(eo.rate, n_rec, 12.0);
	jackio_set_recorder(s->jack, s->recorder, rec_ports, n_rec);
	if ((o->record_path != NULL &&
	    recorder_start(s->recorder, o->record_path, o->record_format, o->force,
	    err, err_size) != 0) ||
	    jackio_start(s->jack, s->engine, err, err_size) != 0) {
		jackio_close(s->jack);
		engine_stop(s->engine);
		recorder_free(s->recorder);
		midilive_free(s->midi);
		free(s->autosave_copy);
		free(s);
		return NULL;
	}
	struct engine_info ei;
	engine_info(s->engine, &ei);
	info("playing %s as JACK client '%s': %u Hz, %u frames (%.1f ms), %s, "
	    "%u DSP thread(s)%s%s", o->patch_name, o->jack.name, eo.rate, s->period,
	    1000.0 * s->period / eo.rate,
	    o->jack.pipeline ? "pipeline (+1 period)" : "sync",
	    ei.threads, o->no_fork ? ", in-process" : "",
	    prio > 1 ? "" : ", no real-time priority");
	s->file = patchfile_new(o->patch_path, o->patch_text);
	pthread_create(&s->supervisor, NULL, supervise_main, s);
	return s;
}

int
session_close(struct session *s)
{
	char err[600];
	atomic_store(&s->quit, 1);
	pthread_join(s->supervisor, NULL);
	info("stopping: %s", s->quit_reason[0] ? s->quit_reason : "quit");
	struct jackio_counters c;
	struct engine_info ei;
	jackio_counters(s->jack, &c);
	engine_info(s->engine, &ei);
	jackio_close(s->jack);
	engine_stop(s->engine);
	struct recorder_status rs;
	recorder_status(s->recorder, &rs);
	if (rs.recording || rs.failed) {
		if (recorder_stop(s->recorder, err, sizeof err) != 0 && !rs.failed)
			info("recording: %s", err);
		info("recording %s finished: %llu frames, %llu lost", rs.path,
		    rs.frames, rs.dropped);
	}
	recorder_free(s->recorder);
	info("%lu cycles, %lu xruns, %lu late, %lu without DSP, %lu DSP restarts; "
	    "longest callback %.3f ms of a %.3f ms period", c.cycles, c.xruns, c.late,
	    c.down, ei.restarts, c.max_cycle_ns / 1e6, 1000.0 * c.period / s->rate);
	if (ei.clipped != 0 || ei.nonfinite != 0)
		info("output: %llu sample(s) held at 0 dBFS%s, %llu NaN or infinite "
		    "sample(s) made 0", (unsigned long long)ei.clipped,
		    s->o->no_clip ? "" : " (--no-clip keeps them)",
		    (unsigned long long)ei.nonfinite);
	session_autosave(s, 1);
	patchfile_free(s->file);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->autosave_lock);
	free(s->autosave_copy);
	free(s->autosave_held);
	midilive_free(s->midi);
	free(s);
	return c.shutdown ? 1 : 0;
}
