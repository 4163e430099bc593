/*
 * src/live.c — a live session.  The main thread reads commands from stdin
 * and answers each with "ok" or the error; a supervisor thread looks after
 * the DSP child and reports events (restarts, xruns, late cycles, bad MIDI)
 * on stderr.  Signals become a quit request through a signalfd.  On the way
 * out the patch is autosaved.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "engine.h"
#include "live.h"
#include "recorder.h"
#include "log.h"

/* What the threads of a session share; `lock` guards patch and engine
 * control (never taken on the JACK thread). */
struct session {
	pthread_mutex_t lock;
	struct patch *patch;
	struct engine *engine;
	struct jackio *jack;
	struct recorder *recorder;
	const struct live_options *o;
	int recorder_failed_seen;
	_Atomic int quit;
	char quit_reason[300];
};

int
autosave_path(char *buf, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char dir[512];
	if (state != NULL && state[0] == '/')
		snprintf(dir, sizeof dir, "%s/forksynth", state);
	else if (home != NULL && home[0] == '/')
		snprintf(dir, sizeof dir, "%s/.local/state/forksynth", home);
	else
		return -1;
	/* make each missing level; ours is private */
	for (char *s = dir + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(dir, 0755);
		*s = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	snprintf(buf, size, "%s/autosave.fsp", dir);
	return 0;
}

int
patch_write_atomic(const struct patch *p, const char *path)
{
	char tmp[600];
	snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	int rc = patch_save(p, f);
	if (fflush(f) != 0 || fsync(fd) != 0)
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

/* Save the patch to the autosave file and say where. */
static void
autosave(const struct patch *p)
{
	char path[600];
	if (autosave_path(path, sizeof path) != 0 || patch_write_atomic(p, path) != 0)
		warn("could not autosave the patch: %s", strerror(errno));
	else
		info("patch autosaved to %s", path);
}

/* The supervisor: every 20 ms look after the child, and report what
 * changed on stderr. */
static void *
supervise_main(void *arg)
{
	struct session *s = arg;
	struct jackio_counters last = { 0 }, now;
	char msg[600], event[300];

	while (!atomic_load(&s->quit)) {
		usleep(20000);
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
		if (now.late != last.late)
			info("the DSP missed its deadline in %lu cycle(s) (%lu so far)",
			    now.late - last.late, now.late);
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

/* Parse "note N V SECONDS" (headless only); 1 if it was one. */
static int
note_command(struct session *s, const char *line)
{
	unsigned note, vel;
	double seconds;
	char extra;
	if (strncmp(line, "note", 4) != 0 || (line[4] != ' ' && line[4] != '\t'))
		return 0;
	if (sscanf(line + 4, " %u %u %lf %c", &note, &vel, &seconds, &extra) != 3 ||
	    note > 127 || vel < 1 || vel > 127 || !(seconds > 0 && seconds < 3600))
		printf("error: usage: note NOTE(0..127) VELOCITY(1..127) SECONDS\n");
	else if (jackio_note(s->jack, note, vel, seconds) != 0)
		printf("error: too many notes queued\n");
	else
		printf("ok\n");
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
	const char *ext = o->record_format == NULL ? "wav" :
	    strncmp(o->record_format, "wav", 3) == 0 ? "wav" : o->record_format;
	snprintf(buf, size, "%s/forksynth-%s.%s", o->record_dir ? o->record_dir : ".",
	    stamp, ext);
	for (int k = 2; access(buf, F_OK) == 0 && k < 100; k++)
		snprintf(buf, size, "%s/forksynth-%s-%d.%s",
		    o->record_dir ? o->record_dir : ".", stamp, k, ext);
}

/* record [FILE] | record stop | record status: start, stop, or say. */
static int
record_command(struct session *s, const char *line)
{
	char path[600], err[600];
	struct recorder_status rs;

	if (strncmp(line, "record", 6) != 0 || (line[6] != '\0' && line[6] != ' '))
		return 0;
	const char *arg = line + 6 + strspn(line + 6, " \t");
	if (strcmp(arg, "stop") == 0) {
		recorder_status(s->recorder, &rs);
		if (recorder_stop(s->recorder, err, sizeof err) != 0)
			printf("error: %s\n", err);
		else if (!rs.recording && !rs.failed)
			printf("error: not recording\n");
		else
			printf("ok stopped %s: %llu frames, %llu lost\n", rs.path,
			    rs.frames, rs.dropped);
		return 1;
	}
	if (strcmp(arg, "status") == 0) {
		recorder_status(s->recorder, &rs);
		printf("ok %s %s %llu frames, %llu lost%s%s\n",
		    rs.recording ? "recording" : "not recording", rs.path, rs.frames,
		    rs.dropped, rs.failed ? "; stopped: " : "", rs.error);
		return 1;
	}
	if (*arg == '\0')
		record_name(s->o, path, sizeof path);
	else
		snprintf(path, sizeof path, "%s", arg);
	if (recorder_start(s->recorder, path, s->o->record_format, s->o->force,
	    err, sizeof err) != 0) {
		printf("error: %s\n", err);
	} else {
		s->recorder_failed_seen = 0;
		printf("ok recording to %s\n", path);
	}
	return 1;
}

/* Run one command line from stdin and answer it. */
static void
run_line(struct session *s, char *line)
{
	struct patch_error err = { 0 };
	char msg[600];

	line[strcspn(line, "\r\n")] = '\0';
	const char *p = line + strspn(line, " \t");
	if (*p == '\0' || *p == '#')
		return;
	if (strcmp(p, "quit") == 0) {
		snprintf(s->quit_reason, sizeof s->quit_reason, "quit");
		atomic_store(&s->quit, 1);
		printf("ok\n");
		return;
	}
	if (strcmp(p, "help") == 0) {
		cmd_help(stdout, NULL);
		printf("note NOTE VELOCITY SECONDS   play a note now\n"
		    "record [FILE] | record stop | record status\n"
		    "stats                        counters since the start\nquit\nok\n");
		return;
	}
	if (strcmp(p, "stats") == 0) {
		struct jackio_counters c;
		struct engine_info ei;
		jackio_counters(s->jack, &c);
		pthread_mutex_lock(&s->lock);
		engine_info(s->engine, &ei);
		pthread_mutex_unlock(&s->lock);
		printf("ok cycles %lu xruns %lu late %lu down %lu restarts %lu "
		    "bad_midi %lu max_cycle_us %lu period %u\n", c.cycles, c.xruns,
		    c.late, c.down, ei.restarts, c.bad_midi, c.max_cycle_ns / 1000,
		    c.period);
		return;
	}
	if (note_command(s, p) || record_command(s, p))
		return;
	pthread_mutex_lock(&s->lock);
	if (patch_exec_line(s->patch, p, 0, &err) != 0) {
		patch_error_format(&err, msg, sizeof msg);
		printf("error: %s\n", msg);
	} else {
		/* when the child is being replaced this fails, and the replay of
		 * the patch carries the change instead */
		engine_command(s->engine, p);
		printf("ok\n");
	}
	pthread_mutex_unlock(&s->lock);
}

int
live_run(const struct live_options *o, struct patch *patch)
{
	static struct session s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char err[512];
	sigset_t sigs;

	/* signals arrive as data on a descriptor, for every thread */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);

	s.patch = patch;
	s.o = o;
	s.jack = jackio_open(&o->jack, err, sizeof err);
	if (s.jack == NULL) {
		fprintf(stderr, "forksynth: %s\n", err);
		return 1;
	}
	unsigned period = jackio_period(s.jack);
	int prio = jackio_rt_priority(s.jack);
	struct engine_options eo = {
		.rate = jackio_rate(s.jack),
		.max_block = period > 8192 ? period : 8192,
		.n_inputs = o->jack.n_inputs, .n_outputs = o->jack.n_outputs,
		.threads = o->threads ? o->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
		.pipeline = o->jack.pipeline, .no_fork = o->no_fork,
		.rt_priority = prio > 1 ? (unsigned)prio - 1 : 0,
	};
	s.engine = engine_start(&eo, err, sizeof err);
	if (s.engine == NULL) {
		fprintf(stderr, "forksynth: %s\n", err);
		jackio_close(s.jack);
		return 1;
	}
	engine_load(s.engine, patch);
	engine_sync(s.engine, 5000);
	unsigned all[32], n_rec = o->n_record_ports;
	const unsigned *rec_ports = o->record_ports;
	if (n_rec == 0) {
		for (unsigned c = 0; c < o->jack.n_outputs && c < 32; c++)
			all[c] = c;
		rec_ports = all;
		n_rec = o->jack.n_outputs < 32 ? o->jack.n_outputs : 32;
	}
	s.recorder = recorder_create(eo.rate, n_rec, 12.0);
	jackio_set_recorder(s.jack, s.recorder, rec_ports, n_rec);
	if (o->record_path != NULL &&
	    recorder_start(s.recorder, o->record_path, o->record_format, o->force,
	    err, sizeof err) != 0) {
		fprintf(stderr, "forksynth: %s\n", err);
		engine_stop(s.engine);
		jackio_close(s.jack);
		recorder_free(s.recorder);
		return 1;
	}
	if (jackio_start(s.jack, s.engine, err, sizeof err) != 0) {
		fprintf(stderr, "forksynth: %s\n", err);
		engine_stop(s.engine);
		jackio_close(s.jack);
		return 1;
	}
	struct engine_info ei;
	engine_info(s.engine, &ei);
	info("playing %s as JACK client '%s': %u Hz, %u frames (%.1f ms), %s, "
	    "%u DSP thread(s)%s%s", o->patch_name, o->jack.name, eo.rate, period,
	    1000.0 * period / eo.rate, o->jack.pipeline ? "pipeline (+1 period)" : "sync",
	    ei.threads, o->no_fork ? ", in-process" : "",
	    prio > 1 ? "" : ", no real-time priority");
	info("commands on stdin (help, quit); ports %s:in_1.., %s:out_1.., %s:midi_in",
	    o->jack.name, o->jack.name, o->jack.name);
	fflush(stderr);

	pthread_t sup;
	pthread_create(&sup, NULL, supervise_main, &s);

	/* stdin read raw and split here: stdio's buffer would hide lines
	 * from poll */
	static char buf[8192];
	size_t len = 0;
	int stdin_open = 1;
	while (!atomic_load(&s.quit)) {
		struct pollfd pfd[2] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
		};
		if (poll(pfd, 2, 100) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == sizeof si)
				snprintf(s.quit_reason, sizeof s.quit_reason,
				    "signal %u (%s)", si.ssi_signo, strsignal((int)si.ssi_signo));
			atomic_store(&s.quit, 1);
			break;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(STDIN_FILENO, buf + len, sizeof buf - 1 - len);
			if (n <= 0) {
				snprintf(s.quit_reason, sizeof s.quit_reason, "end of input");
				atomic_store(&s.quit, 1);
				break;
			}
			len += (size_t)n;
			char *start = buf, *nl;
			while ((nl = memchr(start, '\n', len - (size_t)(start - buf))) != NULL) {
				*nl = '\0';
				run_line(&s, start);
				start = nl + 1;
			}
			len -= (size_t)(start - buf);
			memmove(buf, start, len);
			if (len == sizeof buf - 1) {
				printf("error: line longer than %zu bytes ignored\n", len);
				len = 0;
			}
			fflush(stdout);
		}
	}
	pthread_join(sup, NULL);
	info("stopping: %s", s.quit_reason);
	struct jackio_counters c;
	jackio_counters(s.jack, &c);
	engine_info(s.engine, &ei);
	jackio_close(s.jack);
	engine_stop(s.engine);
	struct recorder_status rs;
	recorder_status(s.recorder, &rs);
	if (rs.recording || rs.failed) {
		if (recorder_stop(s.recorder, err, sizeof err) != 0 && !rs.failed)
			info("recording: %s", err);
		info("recording %s finished: %llu frames, %llu lost", rs.path,
		    rs.frames, rs.dropped);
	}
	recorder_free(s.recorder);
	info("%lu cycles, %lu xruns, %lu late, %lu without DSP, %lu DSP restarts; "
	    "longest callback %.3f ms of a %.3f ms period", c.cycles, c.xruns, c.late,
	    c.down, ei.restarts, c.max_cycle_ns / 1e6, 1000.0 * c.period / eo.rate);
	autosave(patch);
	close(sfd);
	return c.shutdown ? 1 : 0;
}
