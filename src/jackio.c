/*
 * src/jackio.c — the JACK client.  The process callback decodes MIDI into
 * note events at their frame offsets, hands the period to the engine with
 * a deadline of a fraction of the period, and never waits longer.  Latency
 * is reported as what the engine adds (nothing in sync mode, one period in
 * pipeline mode).  The callback also keeps each output's peak and its own
 * busy time for the meters, and plays the notes the control plane queues
 * (the `note` command, the computer-keyboard piano).  Nothing here
 * allocates, locks or prints on the JACK thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jack/jack.h>
#include <jack/midiport.h>
#include <jack/thread.h>
#include <jack/transport.h>

#include "engine.h"
#include "futex.h"
#include "jackio.h"
#include "log.h"
#include "recorder.h"
#include "region.h"
#include "ring.h"
#include "scope.h"

extern char **environ;

#define MAX_PORTS 32
#define NOTE_QUEUE 1024         /* control-plane notes waiting, at most */
#define MAX_PENDING_OFFS 1024   /* control-plane notes sounding, at most */
#define SEEN_QUEUE 4096         /* MIDI messages told to the control plane,
				   waiting at most */

/* What a note message from the control plane asks for. */
enum queued_kind {
	QUEUED_TIMED = 0,           /* note on now, off after `frames` */
	QUEUED_ON,                  /* note on now, held until a QUEUED_OFF */
	QUEUED_OFF,                 /* note off now */
	QUEUED_PANIC                /* all sound off, pending offs dropped */
};

/* A note message from the control plane. */
struct queued_note {
	uint32_t kind;              /* enum queued_kind */
	uint32_t note, velocity;
	uint64_t frames;            /* QUEUED_TIMED: frames it is held */
};

/* A control-plane note waiting for its note off. */
struct pending_off {
	uint32_t note;
	uint64_t frames_left;
};

struct jackio {
	jack_client_t *client;
	jack_port_t *in[MAX_PORTS], *out[MAX_PORTS], *midi;
	unsigned n_in, n_out;
	struct jack_options o;
	struct engine *_Atomic engine;
	struct recorder *_Atomic recorder;
	struct tap *_Atomic tap;           /* the scope's copy of the outputs */
	unsigned rec_ports[MAX_PORTS], n_rec_ports;
	_Atomic unsigned period;
	unsigned rate;
	/* frames the patch adds per output (a limiter's look-ahead) */
	_Atomic unsigned patch_latency[MAX_PORTS];
	struct region_midi events[REGION_MAX_EVENTS];
	/* control-plane notes: a ring from the main thread, offs kept here */
	void *notes_mem;
	struct ring notes_tx, notes_rx;
	struct pending_off offs[MAX_PENDING_OFFS];
	unsigned n_offs;
	/* MIDI heard, for the control plane (jackio_midi_seen) */
	void *seen_mem;
	struct ring seen_tx, seen_rx;
	_Atomic int channel;                 /* 1..16 heard, 0: omni */
	/* meters: per output, the bits of the largest |sample| since read */
	_Atomic uint32_t peaks[MAX_PORTS];
	/* counters */
	_Atomic unsigned long cycles, xruns, late, down, bad_midi, max_cycle_ns;
	_Atomic unsigned long seen_lost;     /* MIDI messages not told: queue full */
	_Atomic unsigned long recent_max_ns;  /* longest since jackio_take_recent_max */
	_Atomic unsigned long overlong;       /* callbacks longer than their period */
	_Atomic unsigned long long busy_ns;
	_Atomic int shutdown;
	char shutdown_reason[256];
	/* closing: the callback touches nothing but its own ports (set
	 * before the client is closed); in_process: a callback is running */
	_Atomic int closing, in_process;
};

/* Set when jack_client_close did not return in time (jackio_stuck). */
static _Atomic int close_stuck;

/* Decode one raw MIDI message into events (at most 2: the mod wheel and
 * the sustain pedal are also controllers for mappings) at ev; the number
 * made, 0 if it is ignored (system messages, another channel than
 * `channel` when that is 1..16), -1 if it is malformed. */
static int
midi_decode(const jack_midi_event_t *m, struct region_midi *ev, int channel)
{
	if (m->size == 0 || !(m->buffer[0] & 0x80))
		return -1;
	unsigned status = m->buffer[0] & 0xf0;
	if (m->buffer[0] >= 0xf0)
		return 0;                          /* system messages: not ours */
	unsigned need = status == 0xc0 || status == 0xd0 ? 2 : 3;
	if (m->size < need)
		return -1;
	for (unsigned i = 1; i < need; i++)
		if (m->buffer[i] & 0x80)
			return -1;
	unsigned ch = m->buffer[0] & 0x0f;
	if (channel >= 1 && channel <= 16 && ch != (unsigned)channel - 1)
		return 0;
	unsigned d1 = m->buffer[1], d2 = need > 2 ? m->buffer[2] : 0;
	*ev = (struct region_midi){ .frame = m->time, .channel = (uint8_t)ch };
	switch (status) {
	case 0x90:
		ev->kind = d2 ? NOTE_EVENT_ON : NOTE_EVENT_OFF;
		ev->note = (uint8_t)d1;
		ev->velocity = (uint8_t)d2;
		return 1;
	case 0x80:
		ev->kind = NOTE_EVENT_OFF;
		ev->note = (uint8_t)d1;
		return 1;
	case 0xe0:
		ev->kind = NOTE_EVENT_BEND;
		ev->amount = (float)((int)((d2 << 7) | d1) - 8192) / 8192.0f;
		return 1;
	case 0xd0:
		ev->kind = NOTE_EVENT_PRESSURE;
		ev->amount = (float)d1 / 127.0f;
		return 1;
	case 0xa0:
		ev->kind = NOTE_EVENT_POLY_PRESSURE;
		ev->note = (uint8_t)d1;
		ev->amount = (float)d2 / 127.0f;
		return 1;
	case 0xb0:
		switch (d1) {
		case 120: ev->kind = NOTE_EVENT_SOUND_OFF; return 1;
		case 123: ev->kind = NOTE_EVENT_ALL_OFF; return 1;
		default:  break;
		}
		ev[1] = ev[0];
		ev[1].kind = NOTE_EVENT_CC;
		ev[1].note = (uint8_t)d1;
		ev[1].velocity = (uint8_t)d2;
		ev[1].amount = (float)d2 / 127.0f;
		if (d1 == 1) {
			ev->kind = NOTE_EVENT_MOD;
			ev->amount = (float)d2 / 127.0f;
			return 2;
		}
		if (d1 == 64) {
			ev->kind = NOTE_EVENT_SUSTAIN;
			ev->amount = d2 >= 64;
			return 2;
		}
		ev[0] = ev[1];
		return 1;
	default:
		return 0;
	}
}

/* Tell the control plane of a MIDI message taken: a copy of its event on
 * the seen queue (dropped and counted when the queue is full). */
static void
seen_push(struct jackio *j, const struct region_midi *ev)
{
	if (ring_elem_push(&j->seen_tx, ev, 1) != 1)
		atomic_fetch_add_explicit(&j->seen_lost, 1, memory_order_relaxed);
}

/* Add the control plane's notes (ons, offs and all sound off now, the
 * offs of timed notes when due) to the events. */
static unsigned
control_notes(struct jackio *j, jack_nframes_t n, unsigned count)
{
	struct queued_note q;
	while (count < REGION_MAX_EVENTS && ring_elem_pop(&j->notes_rx, &q, 1) == 1) {
		struct region_midi *ev = &j->events[count++];
		*ev = (struct region_midi){ .frame = 0, .note = (uint8_t)q.note,
		    .channel = NOTE_CHANNEL_ANY };
		switch (q.kind) {
		case QUEUED_OFF:
			ev->kind = NOTE_EVENT_OFF;
			break;
		case QUEUED_PANIC:
			ev->kind = NOTE_EVENT_SOUND_OFF;
			j->n_offs = 0;
			break;
		default:
			ev->kind = NOTE_EVENT_ON;
			ev->velocity = (uint8_t)q.velocity;
			if (q.kind == QUEUED_TIMED && j->n_offs < MAX_PENDING_OFFS)
				j->offs[j->n_offs++] = (struct pending_off){ q.note, q.frames };
			break;
		}
	}
	for (unsigned i = 0; i < j->n_offs && count < REGION_MAX_EVENTS; ) {
		if (j->offs[i].frames_left < n) {
			j->events[count++] = (struct region_midi){
				.frame = (uint32_t)j->offs[i].frames_left,
				.kind = NOTE_EVENT_OFF, .note = (uint8_t)j->offs[i].note,
				.channel = NOTE_CHANNEL_ANY,
			};
			j->offs[i] = j->offs[--j->n_offs];
		} else {
			j->offs[i++].frames_left -= n;
		}
	}
	return count;
}

/* Raise each output's peak to this period's largest |sample|: a load and a
 * store, as only jackio_peaks (an exchange with 0) competes.  The bits of
 * non-negative floats order as the floats do. */
static void
peaks_update(struct jackio *j, float *const *out, jack_nframes_t n)
{
	for (unsigned c = 0; c < j->n_out; c++) {
		float m = 0.0f;
		uint32_t bits;
		for (jack_nframes_t i = 0; i < n; i++) {
			float a = fabsf(out[c][i]);
			m = a > m ? a : m;
		}
		memcpy(&bits, &m, sizeof bits);
		if (bits > atomic_load_explicit(&j->peaks[c], memory_order_relaxed))
			atomic_store_explicit(&j->peaks[c], bits, memory_order_relaxed);
	}
}

/* In each thread JACK starts for this client, before its first callback:
 * a name that top -H and ps -L show. */
static void
on_thread_init(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "fs-jack");
}

/* JACK transport at this cycle's first frame, for the engine's tempo
 * (jack_transport_query is real-time safe). */
static void
transport_read(struct jackio *j, struct region_transport *t)
{
	jack_position_t pos;
	jack_transport_state_t state = jack_transport_query(j->client, &pos);

	memset(t, 0, sizeof *t);
	if (state == JackTransportRolling)
		t->flags |= REGION_TRANSPORT_ROLLING;
	t->frame = pos.frame;
	if (pos.valid & JackPositionBBT) {
		t->flags |= REGION_TRANSPORT_BBT;
		t->bar = pos.bar;
		t->beat = pos.beat;
		t->tick = pos.tick;
		t->ticks_per_beat = pos.ticks_per_beat;
		t->bpm = pos.beats_per_minute;
		t->beats_per_bar = pos.beats_per_bar;
		t->beat_type = pos.beat_type;
	}
}

static int process_cycle(jack_nframes_t n, struct jackio *j);

/* The JACK process callback: a cycle, unless the client is being closed
 * (then silence, and nothing else is touched: the engine and the
 * recorder may be gone if libjack is stuck in jack_client_close). */
static int
on_process(jack_nframes_t n, void *arg)
{
	struct jackio *j = arg;
	atomic_store(&j->in_process, 1);
	int rc = 0;
	if (!atomic_load(&j->closing)) {
		rc = process_cycle(n, j);
	} else {
		for (unsigned c = 0; c < j->n_out; c++)
			memset(jack_port_get_buffer(j->out[c], n), 0, n * sizeof(float));
	}
	atomic_store(&j->in_process, 0);
	return rc;
}

/* One period: MIDI in, one engine cycle, audio out. */
static int
process_cycle(jack_nframes_t n, struct jackio *j)
{
	uint64_t start = futex_now_ns();
	const float *in[MAX_PORTS];
	float *out[MAX_PORTS];
	unsigned count = 0;

	for (unsigned c = 0; c < j->n_in; c++)
		in[c] = jack_port_get_buffer(j->in[c], n);
	for (unsigned c = 0; c < j->n_out; c++)
		out[c] = jack_port_get_buffer(j->out[c], n);
	void *mbuf = jack_port_get_buffer(j->midi, n);
	uint32_t n_midi = jack_midi_get_event_count(mbuf);
	int channel = atomic_load_explicit(&j->channel, memory_order_relaxed);
	for (uint32_t i = 0; i < n_midi && count < REGION_MAX_EVENTS; i++) {
		jack_midi_event_t m;
		if (jack_midi_event_get(&m, mbuf, i) != 0)
			continue;
		if (count + 2 > REGION_MAX_EVENTS)
			break;
		int r = midi_decode(&m, &j->events[count], channel);
		if (r > 0 && j->events[count].frame < n) {
			for (int k = 0; k < r; k++)
				seen_push(j, &j->events[count + (unsigned)k]);
			count += (unsigned)r;
		} else if (r < 0)
			atomic_fetch_add_explicit(&j->bad_midi, 1, memory_order_relaxed);
	}
	count = control_notes(j, n, count);

	struct engine *e = atomic_load_explicit(&j->engine, memory_order_acquire);
	atomic_fetch_add_explicit(&j->cycles, 1, memory_order_relaxed);
	if (e == NULL) {
		for (unsigned c = 0; c < j->n_out; c++)
			memset(out[c], 0, n * sizeof(float));
		return 0;
	}
	uint64_t deadline = start + (uint64_t)(j->o.deadline * n * 1e9 / j->rate);
	struct region_transport transport;
	transport_read(j, &transport);
	engine_transport(e, &transport);
	enum engine_status st = engine_cycle(e, in, out, n, j->events, count, deadline);
	if (st == ENGINE_LATE)
		atomic_fetch_add_explicit(&j->late, 1, memory_order_relaxed);
	else if (st == ENGINE_DOWN)
		atomic_fetch_add_explicit(&j->down, 1, memory_order_relaxed);
	peaks_update(j, out, n);
	struct tap *tap = atomic_load_explicit(&j->tap, memory_order_acquire);
	if (tap != NULL)
		tap_push(tap, (const float *const *)out, n);
	struct recorder *rec = atomic_load_explicit(&j->recorder, memory_order_acquire);
	if (rec != NULL) {
		const float *chans[MAX_PORTS];
		for (unsigned c = 0; c < j->n_rec_ports; c++)
			chans[c] = out[j->rec_ports[c]];
		recorder_push(rec, chans, n);
	}
	unsigned long took = (unsigned long)(futex_now_ns() - start);
	if (took > atomic_load_explicit(&j->max_cycle_ns, memory_order_relaxed))
		atomic_store_explicit(&j->max_cycle_ns, took, memory_order_relaxed);
	if (took > atomic_load_explicit(&j->recent_max_ns, memory_order_relaxed))
		atomic_store_explicit(&j->recent_max_ns, took, memory_order_relaxed);
	if (took > (uint64_t)n * 1000000000u / j->rate)
		atomic_fetch_add_explicit(&j->overlong, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&j->busy_ns, took, memory_order_relaxed);
	return 0;
}

/* Latency: what arrives at an input leaves output c `added` + the patch's
 * own latency for c frames later (and the other way round for playback
 * latency, where an input counts its longest way out). */
static void
on_latency(jack_latency_callback_mode_t mode, void *arg)
{
	struct jackio *j = arg;
	jack_latency_range_t range = { UINT32_MAX, 0 }, r;
	unsigned added = j->o.pipeline ? atomic_load(&j->period) : 0;

	if (mode == JackCaptureLatency) {
		for (unsigned c = 0; c <= j->n_in; c++) {
			jack_port_get_latency_range(c < j->n_in ? j->in[c] : j->midi, mode, &r);
			range.min = r.min < range.min ? r.min : range.min;
			range.max = r.max > range.max ? r.max : range.max;
		}
		for (unsigned c = 0; c < j->n_out; c++) {
			unsigned own = added + atomic_load(&j->patch_latency[c]);
			jack_latency_range_t out = { range.min + own, range.max + own };
			jack_port_set_latency_range(j->out[c], mode, &out);
		}
	} else {
		for (unsigned c = 0; c < j->n_out; c++) {
			unsigned own = atomic_load(&j->patch_latency[c]);
			jack_port_get_latency_range(j->out[c], mode, &r);
			r.min += own;
			r.max += own;
			range.min = r.min < range.min ? r.min : range.min;
			range.max = r.max > range.max ? r.max : range.max;
		}
		range.min += added;
		range.max += added;
		for (unsigned c = 0; c < j->n_in; c++)
			jack_port_set_latency_range(j->in[c], mode, &range);
		jack_port_set_latency_range(j->midi, mode, &range);
	}
}

/* A new period: latencies follow (the server asks for them again). */
static int
on_buffer_size(jack_nframes_t n, void *arg)
{
	struct jackio *j = arg;
	atomic_store(&j->period, n);
	return 0;
}

static int
on_xrun(void *arg)
{
	struct jackio *j = arg;
	atomic_fetch_add(&j->xruns, 1);
	return 0;
}

/* The server is going away: note why; the main loop ends the session. */
static void
on_shutdown(jack_status_t code, const char *reason, void *arg)
{
	struct jackio *j = arg;
	(void)code;
	snprintf(j->shutdown_reason, sizeof j->shutdown_reason, "%s",
	    reason != NULL ? reason : "no reason given");
	atomic_store(&j->shutdown, 1);
}

/* Whether this machine has a sound card ALSA can open. */
static int
have_sound_card(void)
{
	FILE *f = fopen("/proc/asound/cards", "r");
	char line[256];
	int found = 0;
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, "no soundcards") == NULL && line[0] == ' ' &&
		    line[1] >= '0' && line[1] <= '9')
			found = 1;
	fclose(f);
	return found;
}

/* Start jackd with an argument vector (never a shell): alsa with a card,
 * else dummy; temporary, so it ends with its last client. */
static int
start_server(char *err, size_t err_size)
{
	const char *server = getenv("JACK_DEFAULT_SERVER");
	int alsa = have_sound_card();
	char *argv[12];
	int n = 0;
	argv[n++] = "jackd";
	argv[n++] = "-T";
	if (server != NULL && server[0] != '\0') {
		argv[n++] = "-n";
		argv[n++] = (char *)server;
	}
	argv[n++] = "-d";
	argv[n++] = alsa ? "alsa" : "dummy";
	argv[n++] = "-r";
	argv[n++] = "48000";
	argv[n++] = "-p";
	argv[n++] = "256";
	argv[n] = NULL;

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	/* its own process group: C-c and C-z at our terminal are not for
	 * the server (-T ends it with its last client) */
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	pid_t pid;
	int rc = posix_spawnp(&pid, "jackd", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		snprintf(err, err_size, "no JACK server is running and jackd could "
		    "not be started (%s): install jackd2 or start a server", strerror(rc));
		return -1;
	}
	info("no JACK server was running: started 'jackd -T -d %s -r 48000 -p 256' "
	    "(pid %d); it stops with its last client", alsa ? "alsa" : "dummy", (int)pid);
	return 0;
}

/* JACK's own messages would crowd out ours: keep them quiet (ours say
 * what went wrong and what to do). */
static void
jack_quiet(const char *msg)
{
	(void)msg;
}

/* Whether a client called `name` runs on the server (asked through a
 * short-lived probe client). */
static int
name_taken(const char *name)
{
	jack_client_t *probe = jack_client_open("forksynth-probe", JackNoStartServer, NULL);
	char pattern[128];
	int taken = 0;
	if (probe == NULL)
		return 0;
	snprintf(pattern, sizeof pattern, "^%s:", name);
	const char **ports = jack_get_ports(probe, pattern, NULL, 0);
	taken = ports != NULL && ports[0] != NULL;
	jack_free(ports);
	jack_client_close(probe);
	return taken;
}

struct jackio *
jackio_open(const struct jack_options *o, char *err, size_t err_size)
{
	jack_status_t status = 0;
	jack_options_t flags = JackNoStartServer | JackUseExactName;
	struct jackio *j = xcalloc(1, sizeof *j);
	j->o = *o;
	j->n_in = o->n_inputs < MAX_PORTS ? o->n_inputs : MAX_PORTS;
	j->n_out = o->n_outputs < MAX_PORTS ? o->n_outputs : MAX_PORTS;

	jack_set_error_function(jack_quiet);
	jack_set_info_function(jack_quiet);
	j->client = jack_client_open(o->name, flags, &status);
	if (j->client == NULL && (status & JackServerFailed) && o->start_server) {
		if (start_server(err, err_size) != 0) {
			free(j);
			return NULL;
		}
		for (int tries = 0; tries < 100 && j->client == NULL; tries++) {
			usleep(100000);
			j->client = jack_client_open(o->name, flags, &status);
		}
	}
	if (j->client == NULL) {
		if ((status & JackNameNotUnique) ||
		    (!(status & JackServerFailed) && name_taken(o->name)))
			snprintf(err, err_size, "a JACK client named '%s' already exists: "
			    "choose another with --name", o->name);
		else if (status & JackServerFailed)
			snprintf(err, err_size, "no JACK server is running%s",
			    o->start_server ? " and none could be started" :
			    " (start one, or drop --no-start-server)");
		else
			snprintf(err, err_size, "the JACK server refused client '%s' "
			    "(status 0x%x)", o->name, (unsigned)status);
		free(j);
		return NULL;
	}
	j->rate = jack_get_sample_rate(j->client);
	atomic_store(&j->period, jack_get_buffer_size(j->client));
	char port[64];
	for (unsigned c = 0; c < j->n_in; c++) {
		snprintf(port, sizeof port, "in_%u", c + 1);
		j->in[c] = jack_port_register(j->client, port, JACK_DEFAULT_AUDIO_TYPE,
		    JackPortIsInput, 0);
	}
	for (unsigned c = 0; c < j->n_out; c++) {
		snprintf(port, sizeof port, "out_%u", c + 1);
		j->out[c] = jack_port_register(j->client, port, JACK_DEFAULT_AUDIO_TYPE,
		    JackPortIsOutput, 0);
	}
	j->midi = jack_port_register(j->client, "midi_in", JACK_DEFAULT_MIDI_TYPE,
	    JackPortIsInput, 0);
	for (unsigned c = 0; c < j->n_in; c++)
		if (j->in[c] == NULL)
			j->midi = NULL;
	for (unsigned c = 0; c < j->n_out; c++)
		if (j->out[c] == NULL)
			j->midi = NULL;
	if (j->midi == NULL) {
		snprintf(err, err_size, "JACK refused to register forksynth's ports");
		jack_client_close(j->client);
		free(j);
		return NULL;
	}
	size_t bytes = ring_elem_bytes(sizeof(struct queued_note), NOTE_QUEUE);
	j->notes_mem = xaligned(bytes);
	ring_elem_init(&j->notes_tx, j->notes_mem, sizeof(struct queued_note), NOTE_QUEUE);
	ring_attach(&j->notes_rx, j->notes_mem, bytes, RING_MAGIC_ELEM);
	bytes = ring_elem_bytes(sizeof(struct region_midi), SEEN_QUEUE);
	j->seen_mem = xaligned(bytes);
	ring_elem_init(&j->seen_tx, j->seen_mem, sizeof(struct region_midi), SEEN_QUEUE);
	ring_attach(&j->seen_rx, j->seen_mem, bytes, RING_MAGIC_ELEM);

	jack_set_thread_init_callback(j->client, on_thread_init, j);
	jack_set_process_callback(j->client, on_process, j);
	jack_set_latency_callback(j->client, on_latency, j);
	jack_set_buffer_size_callback(j->client, on_buffer_size, j);
	jack_set_xrun_callback(j->client, on_xrun, j);
	jack_on_info_shutdown(j->client, on_shutdown, j);
	return j;
}

unsigned
jackio_rate(const struct jackio *j)
{
	return j->rate;
}

void
jackio_set_patch_latency(struct jackio *j, const unsigned *frames, unsigned n)
{
	int changed = 0;
	for (unsigned c = 0; c < j->n_out; c++) {
		unsigned f = c < n ? frames[c] : 0;
		if (atomic_exchange(&j->patch_latency[c], f) != f)
			changed = 1;
	}
	if (changed)
		jack_recompute_total_latencies(j->client);
}

unsigned
jackio_period(const struct jackio *j)
{
	return atomic_load(&j->period);
}

int
jackio_rt_priority(const struct jackio *j)
{
	int p = jack_client_real_time_priority(j->client);
	return p > 0 ? p : 0;
}

/* Connect our outputs to the physical playback ports and every physical
 * MIDI source to midi_in. */
static void
connect_physical(struct jackio *j)
{
	const char **ports = jack_get_ports(j->client, NULL, JACK_DEFAULT_AUDIO_TYPE,
	    JackPortIsPhysical | JackPortIsInput);
	for (unsigned c = 0; ports != NULL && c < j->n_out && ports[c] != NULL; c++)
		if (jack_connect(j->client, jack_port_name(j->out[c]), ports[c]) != 0)
			warn("could not connect %s to %s", jack_port_name(j->out[c]), ports[c]);
	jack_free(ports);
	ports = jack_get_ports(j->client, NULL, JACK_DEFAULT_MIDI_TYPE,
	    JackPortIsPhysical | JackPortIsOutput);
	for (unsigned i = 0; ports != NULL && ports[i] != NULL; i++)
		jack_connect(j->client, ports[i], jack_port_name(j->midi));
	jack_free(ports);
}

int
jackio_start(struct jackio *j, struct engine *e, char *err, size_t err_size)
{
	atomic_store_explicit(&j->engine, e, memory_order_release);
	if (jack_activate(j->client) != 0) {
		snprintf(err, err_size, "the JACK server would not activate client '%s'",
		    j->o.name);
		return -1;
	}
	if (j->o.connect)
		connect_physical(j);
	return 0;
}

void
jackio_set_recorder(struct jackio *j, struct recorder *rec, const unsigned *ports,
    unsigned n)
{
	if (rec == NULL) {
		atomic_store_explicit(&j->recorder, NULL, memory_order_release);
		return;
	}
	j->n_rec_ports = 0;
	for (unsigned i = 0; i < n && i < MAX_PORTS; i++)
		if (ports[i] < j->n_out)
			j->rec_ports[j->n_rec_ports++] = ports[i];
	atomic_store_explicit(&j->recorder, rec, memory_order_release);
}

int
jackio_set_tap(struct jackio *j, struct tap *tap)
{
	if (tap != NULL && tap_channels(tap) > j->n_out)
		return -1;
	atomic_store_explicit(&j->tap, tap, memory_order_release);
	return 0;
}

unsigned
jackio_outputs(const struct jackio *j)
{
	return j->n_out;
}

/* Queue one note message for the process callback; -1 when full. */
static int
note_queue(struct jackio *j, enum queued_kind kind, unsigned note,
    unsigned velocity, uint64_t frames)
{
	struct queued_note q = {
		.kind = kind, .note = note & 127,
		.velocity = velocity < 1 ? 1 : velocity > 127 ? 127 : velocity,
		.frames = frames,
	};
	return ring_elem_push(&j->notes_tx, &q, 1) == 1 ? 0 : -1;
}

int
jackio_note(struct jackio *j, unsigned note, unsigned velocity, double seconds)
{
	return note_queue(j, QUEUED_TIMED, note, velocity,
	    (uint64_t)(seconds * j->rate));
}

int
jackio_note_on(struct jackio *j, unsigned note, unsigned velocity)
{
	return note_queue(j, QUEUED_ON, note, velocity, 0);
}

int
jackio_note_off(struct jackio *j, unsigned note)
{
	return note_queue(j, QUEUED_OFF, note, 0, 0);
}

int
jackio_panic(struct jackio *j)
{
	return note_queue(j, QUEUED_PANIC, 0, 0, 0);
}

unsigned
jackio_peaks(struct jackio *j, float *peaks, unsigned max)
{
	for (unsigned c = 0; c < j->n_out && c < max; c++) {
		uint32_t bits = atomic_exchange_explicit(&j->peaks[c], 0,
		    memory_order_relaxed);
		memcpy(&peaks[c], &bits, sizeof bits);
	}
	return j->n_out;
}

unsigned long
jackio_take_recent_max(struct jackio *j)
{
	/* a longer cycle stored between the two counts in the next window */
	return atomic_exchange(&j->recent_max_ns, 0);
}

void
jackio_counters(const struct jackio *j, struct jackio_counters *c)
{
	/* late before cycles: a cycle ending between the two loads must not
	 * make more late cycles than cycles */
	c->late = atomic_load(&j->late);
	c->cycles = atomic_load(&j->cycles);
	c->xruns = atomic_load(&j->xruns);
	c->down = atomic_load(&j->down);
	c->bad_midi = atomic_load(&j->bad_midi);
	c->max_cycle_ns = atomic_load(&j->max_cycle_ns);
	c->overlong = atomic_load(&j->overlong);
	c->busy_ns = atomic_load(&j->busy_ns);
	c->period = atomic_load(&j->period);
	c->shutdown = atomic_load(&j->shutdown);
	snprintf(c->shutdown_reason, sizeof c->shutdown_reason, "%s",
	    c->shutdown ? j->shutdown_reason : "");
}

/* Deactivate and close the client (a thread of its own: libjack has been
 * seen to hang in jack_client_close, its own mutex held, with twenty
 * clients closing at once on a loaded machine). */
static void *
close_client(void *arg)
{
	struct jackio *j = arg;
#ifdef FORKSYNTH_FAULT_INJECTION
	/* tests: libjack stuck for good */
	if (getenv("FORKSYNTH_FI_STUCK_CLOSE") != NULL)
		for (;;)
			pause();
#endif
	if (!atomic_load(&j->shutdown))
		jack_deactivate(j->client);
	jack_client_close(j->client);
	return NULL;
}

void
jackio_close(struct jackio *j)
{
	if (j == NULL)
		return;
	atomic_store(&j->closing, 1);
	pthread_t t;
	if (pthread_create(&t, NULL, close_client, j) != 0) {
		close_client(j);
	} else {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += JACKIO_CLOSE_WAIT_S;
		if (pthread_timedjoin_np(t, NULL, &until) != 0) {
			/* leave it: the server drops the client when this
			 * process ends; j stays, for libjack and a callback
			 * that may still come (it touches only j and its
			 * ports) */
			pthread_detach(t);
			atomic_store(&close_stuck, 1);
			warn("the JACK client '%s' did not close within %d s (libjack "
			    "is stuck in jack_client_close); going on without it: the "
			    "server drops it when forksynth ends", j->o.name,
			    JACKIO_CLOSE_WAIT_S);
			for (int i = 0; i < 1000 && atomic_load(&j->in_process); i++)
				usleep(1000);
			return;
		}
	}
	free(j->notes_mem);
	free(j->seen_mem);
	free(j);
}

int
jackio_stuck(void)
{
	return atomic_load(&close_stuck);
}

void
jackio_set_channel(struct jackio *j, unsigned channel)
{
	atomic_store_explicit(&j->channel, channel <= 16 ? (int)channel : 0,
	    memory_order_relaxed);
}

unsigned long
jackio_midi_seen_lost(const struct jackio *j)
{
	return atomic_load_explicit(&j->seen_lost, memory_order_relaxed);
}

unsigned
jackio_midi_seen(struct jackio *j, struct region_midi *out, unsigned max)
{
	unsigned n = 0;
	while (n < max && ring_elem_pop(&j->seen_rx, &out[n], 1) == 1)
		n++;
	return n;
}
