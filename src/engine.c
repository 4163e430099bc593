/*
 * src/engine.c — the parent's side of the engine: region, spawning,
 * the cycle handshake with a deadline, commands, supervision.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "engine.h"
#include "futex.h"
#include "guard.h"
#include "log.h"
#include "shm.h"

/* Spin this long for the child's answer before sleeping, ns. */
#define CYCLE_SPIN_NS 20000
/* A child that dies within this long of starting counts as a failed start
 * (one that hangs, within this long plus the hang timeout: a hang is seen
 * only that much later). */
#define EARLY_DEATH_NS 1000000000ull
/* A DSP late this many cycles in a row is too slow for now: the callback
 * then waits only LATE_WAIT_NS for it, giving the rest of the period back
 * to JACK and the other clients (the block is faded out either way), and
 * waits the whole deadline again every LATE_PROBE cycles to find out
 * whether it has caught up. */
#define LATE_STREAK 2
#define LATE_PROBE 16
#define LATE_WAIT_NS 100000
/* Failed starts in a row before giving up. */
#define MAX_FAILED_STARTS 5

struct engine {
	struct engine_options o;
	struct shm shm;
	struct region r;
	char exe[4096];
	pid_t pid;
	int pidfd;                  /* -1 when pidfd_open is not available */
	struct dsp *inproc;         /* --no-fork */
	uint32_t seq;               /* last cycle requested */
	uint32_t sent;              /* control messages sent to this child */
	_Atomic int down;           /* no child: engine_cycle stays away */
	_Atomic int in_cycle;       /* engine_cycle is running */
	uint64_t started_ns;        /* when this child reported ready, 0 before */
	unsigned failed_starts;
	int failed;
	uint32_t last_heartbeat;
	uint64_t heartbeat_ns;      /* when the heartbeat last moved */
	unsigned long cycles, late, downs, restarts;
	unsigned late_streak;       /* late cycles in a row */
	int last_own_fault;
	float *last_good;           /* n_outputs * max_block: for the fade */
	int have_last_good;
	int pending;                /* pipeline: a cycle is in flight */
	/* note events the child may not have had yet (see submit) */
	struct region_midi carry[REGION_MAX_EVENTS];
	unsigned n_carry;
	struct output_guard guard;  /* what leaves the child: ceiling, counts */
};

/* Async-signal-safe decimal formatting for the exec arguments. */
static void
format_ull(char *buf, unsigned long long v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (int i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
}

/* Fork and exec `exe --dsp-child FD SIZE PPID`.  Between fork and exec
 * only async-signal-safe calls. */
static pid_t
spawn_child(struct engine *e)
{
	char fd_arg[24], size_arg[24], ppid_arg[24];
	format_ull(fd_arg, (unsigned long long)e->shm.fd);
	format_ull(size_arg, (unsigned long long)e->shm.size);
	format_ull(ppid_arg, (unsigned long long)getpid());
	char *argv[] = { e->exe, "--dsp-child", fd_arg, size_arg, ppid_arg, NULL };

	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* child: keep only stdio and the region */
	int keep = e->shm.fd;
	if (shm_fd_for_exec(keep, -1) < 0)
		_exit(126);
	for (int fd = 3; fd < 1024; fd++)
		if (fd != keep)
			close(fd);
	execv(e->exe, argv);
	_exit(127);
}

/* Wait for the new child's ready flag; 0, or -1 if it died or timed out. */
static int
wait_ready(struct engine *e, unsigned timeout_ms)
{
	uint64_t until = futex_now_ns() + (uint64_t)timeout_ms * 1000000;
	while (atomic_load(&e->r.sync->ready.v) == 0) {
		struct timespec ts;
		int status;
		if (e->pid > 0 && waitpid(e->pid, &status, WNOHANG) == e->pid) {
			e->pid = 0;
			return -1;
		}
		if (futex_now_ns() >= until)
			return -1;
		futex_deadline_after(&ts, 10000000);
		futex_wait(&e->r.sync->ready.v, 0, &ts);
	}
	e->started_ns = futex_now_ns();
	e->heartbeat_ns = e->started_ns;
	e->last_heartbeat = atomic_load(&e->r.sync->heartbeat.v);
	return 0;
}

static void stop_dsp(struct engine *e);

/* Start a DSP side on the (reset) region: a forked child, or threads here.
 * On failure nothing of it is left running. */
static int
start_dsp(struct engine *e, char *err, size_t err_size)
{
	e->started_ns = 0;
	e->seq = 0;
	e->n_carry = 0;
	e->sent = 0;
	e->pending = 0;
	if (e->o.no_fork) {
		e->inproc = dsp_start(&e->r, err, err_size);
		if (e->inproc == NULL)
			return -1;
		if (wait_ready(e, 5000) == 0)
			return 0;
		snprintf(err, err_size, "the DSP threads did not start");
		stop_dsp(e);
		return -1;
	}
	e->pid = spawn_child(e);
	if (e->pid < 0) {
		snprintf(err, err_size, "cannot fork the DSP child: %s", strerror(errno));
		e->pid = 0;
		return -1;
	}
	e->pidfd = (int)syscall(SYS_pidfd_open, e->pid, 0);
	if (wait_ready(e, 5000) != 0) {
		snprintf(err, err_size, "the DSP child (%s) did not start", e->exe);
		stop_dsp(e);
		return -1;
	}
	return 0;
}

struct engine *
engine_start(const struct engine_options *o, char *err, size_t err_size)
{
	struct engine *e = xcalloc(1, sizeof *e);
	e->o = *o;
	if (e->o.threads == 0)
		e->o.threads = 1;
	if (e->o.threads > REGION_MAX_THREADS)
		e->o.threads = REGION_MAX_THREADS;
	if (e->o.hang_ms == 0)
		e->o.hang_ms = 1000;
	e->pidfd = -1;
	ssize_t n = readlink("/proc/self/exe", e->exe, sizeof e->exe - 1);
	if (n <= 0) {
		snprintf(err, err_size, "cannot find this program (/proc/self/exe)");
		free(e);
		return NULL;
	}
	e->exe[n] = '\0';

	size_t size = region_size(o->max_block, o->n_inputs, o->n_outputs);
	int rc = shm_create(&e->shm, size, 0);
	if (rc != 0) {
		snprintf(err, err_size, "%s", e->shm.error);
		free(e);
		return NULL;
	}
	region_format(&e->r, e->shm.base, e->shm.size, o->rate, o->max_block,
	    o->n_inputs, o->n_outputs, e->o.threads,
	    (o->pipeline ? REGION_PIPELINE : 0) |
	    (o->hot == ENGINE_HOT_ON ? REGION_HOT_ON : 0) |
	    (o->hot == ENGINE_HOT_OFF ? REGION_HOT_OFF : 0), o->rt_priority);
	e->last_good = xcalloc((size_t)o->n_outputs * o->max_block, sizeof(float));
	guard_init(&e->guard, o->no_clip);
	if (start_dsp(e, err, err_size) != 0) {
		engine_stop(e);
		return NULL;
	}
	return e;
}

/* Stop the DSP side (kill and reap the child, or join the threads). */
static void
stop_dsp(struct engine *e)
{
	if (e->inproc != NULL) {
		dsp_stop(e->inproc);
		e->inproc = NULL;
	}
	if (e->pid > 0) {
		kill(e->pid, SIGKILL);
		waitpid(e->pid, NULL, 0);
		e->pid = 0;
	}
	if (e->pidfd >= 0) {
		close(e->pidfd);
		e->pidfd = -1;
	}
}

void
engine_stop(struct engine *e)
{
	if (e == NULL)
		return;
	stop_dsp(e);
	shm_close(&e->shm);
	free(e->last_good);
	free(e);
}

/* The last good output faded to silence over this block (then silence). */
static void
fade_out(struct engine *e, float *const *out, unsigned frames)
{
	for (unsigned c = 0; c < e->o.n_outputs; c++) {
		float *lg = e->last_good + (size_t)c * e->o.max_block;
		for (unsigned i = 0; i < frames; i++)
			out[c][i] = e->have_last_good ?
			    lg[i] * (1.0f - (float)(i + 1) / (float)frames) : 0.0f;
	}
	e->have_last_good = 0;
}

/* Copy the child's output for `seq` out, keeping it as the last good.
 * NaN and infinity (a broken module, a scribbling child) become silence
 * here: they would poison every filter downstream in other clients; the
 * rest is held within the ceiling (src/guard.h), and both are counted. */
static void
take_output(struct engine *e, uint32_t seq, float *const *out, unsigned frames)
{
	for (unsigned c = 0; c < e->o.n_outputs; c++) {
		const float *src = region_audio(&e->r, 1, seq & 1, c);
		float *dst = out[c];
		guard_copy(&e->guard, c, dst, src, frames);
		memcpy(e->last_good + (size_t)c * e->o.max_block, dst,
		    frames * sizeof(float));
	}
	e->have_last_good = 1;
}

/* Whether the forked child has ended, without reaping it (a kill from
 * outside sets no dead flag): its pidfd turns readable, or, where there is
 * no pidfd, waitid says so. */
static int
child_exited(const struct engine *e)
{
	if (e->pid <= 0)
		return !e->o.no_fork;
	if (e->pidfd >= 0) {
		struct pollfd pfd = { .fd = e->pidfd, .events = POLLIN };
		return poll(&pfd, 1, 0) > 0;
	}
	siginfo_t si = { 0 };
	if (waitid(P_PID, (id_t)e->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
		return errno == ECHILD;
	return si.si_pid == e->pid;
}

static int child_hung(struct engine *e);

/* Wait until done_seq reaches `seq`, the child dies, or the deadline.
 * With no deadline (offline) it also gives up on a child that has exited
 * or stopped beating.  Returns 1 when done. */
static int
wait_done(struct engine *e, uint32_t seq, uint64_t deadline_ns)
{
	struct region_sync *s = e->r.sync;
	uint64_t spin_until = futex_now_ns() + CYCLE_SPIN_NS;
	for (;;) {
		uint32_t done = atomic_load_explicit(&s->done_seq.v, memory_order_acquire);
		if (done == seq)
			return 1;
		if (atomic_load_explicit(&s->dead.v, memory_order_relaxed))
			return 0;
		uint64_t now = futex_now_ns();
		if (deadline_ns != 0 && now >= deadline_ns)
			return 0;
		if (now < spin_until) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
			continue;
		}
		if (deadline_ns == 0 && e->pid > 0) {
			if (child_exited(e) || child_hung(e))
				return 0;
		}
		struct timespec ts;
		uint64_t until = deadline_ns ? deadline_ns : now + 10000000;
		ts.tv_sec = (time_t)(until / 1000000000);
		ts.tv_nsec = (long)(until % 1000000000);
		atomic_store(&s->parent_waiting.v, 1);
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load(&s->done_seq.v) != seq)
			futex_wait(&s->done_seq.v, done, &ts);
		atomic_store(&s->parent_waiting.v, 0);
	}
}

/* Write inputs and events for `seq` and publish the request; 1 when
 * published.  The child runs the newest cycle published and passes over
 * older ones it had no time for; so that their notes are not lost with
 * them (a lost note-off holds its note forever), every note event stays in
 * the cycles published after it, at frame 0, until the child has started
 * a cycle that held it.  Each carries the first cycle that held it, and the
 * child applies only those of cycles after the last one it ran: every
 * note exactly once.  A cycle whose buffers the child is still reading
 * (it runs the one two before) is not published; its notes go with the
 * next. */
static int
submit(struct engine *e, uint32_t seq, const float *const *in, unsigned frames,
    const struct region_midi *events, unsigned n_events)
{
	struct region_sync *s = e->r.sync;
	unsigned parity = seq & 1;
	/* done before taken: equal, the child is between cycles */
	uint32_t done = atomic_load(&s->done_seq.v);
	uint32_t taken = atomic_load(&s->taken_seq.v);
	unsigned kept = 0;
	for (unsigned i = 0; i < e->n_carry; i++)
		if (e->carry[i].origin == 0 || (int32_t)(e->carry[i].origin - taken) > 0)
			e->carry[kept++] = e->carry[i];
	e->n_carry = kept;
	int published = ((taken ^ seq) & 1) != 0 || taken == done;
	uint32_t origin = published ? seq : 0;
	for (unsigned i = 0; i < e->n_carry; i++)
		if (e->carry[i].origin == 0)
			e->carry[i].origin = origin;
	struct region_midi *dst = e->r.midi + (size_t)parity * REGION_MAX_EVENTS;
	unsigned n = published ? e->n_carry : 0;
	if (n > 0)
		memcpy(dst, e->carry, n * sizeof *dst);
	for (unsigned i = 0; i < n_events; i++) {
		struct region_midi ev = events[i];
		ev.origin = origin;
		if (published && n < REGION_MAX_EVENTS)
			dst[n++] = ev;
		ev.frame = 0;
		if (e->n_carry < REGION_MAX_EVENTS)
			e->carry[e->n_carry++] = ev;
	}
	if (!published)
		return 0;
	for (unsigned c = 0; c < e->o.n_inputs; c++) {
		float *in_dst = region_audio(&e->r, 0, parity, c);
		if (in != NULL && in[c] != NULL)
			memcpy(in_dst, in[c], frames * sizeof(float));
		else
			memset(in_dst, 0, frames * sizeof(float));
	}
	s->n_midi[parity] = n;
	s->frames[parity] = frames;
	atomic_store_explicit(&s->req_seq.v, seq, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&s->child_sleeping.v, memory_order_relaxed))
		futex_wake(&s->req_seq.v, 1);
	return 1;
}

enum engine_status
engine_cycle(struct engine *e, const float *const *in, float *const *out,
    unsigned frames, const struct region_midi *events, unsigned n_events,
    uint64_t deadline_ns)
{
	enum engine_status st;

	if (frames > e->o.max_block)
		frames = e->o.max_block;
	atomic_store(&e->in_cycle, 1);
	e->cycles++;
	if (atomic_load(&e->down)) {
		fade_out(e, out, frames);
		e->downs++;
		e->late_streak = 0;
		atomic_store(&e->in_cycle, 0);
		return ENGINE_DOWN;
	}
	if (deadline_ns != 0 && e->late_streak >= LATE_STREAK &&
	    e->late_streak % LATE_PROBE != 0) {
		uint64_t quick = futex_now_ns() + LATE_WAIT_NS;
		if (quick < deadline_ns)
			deadline_ns = quick;
	}
	if (!e->o.pipeline) {
		uint32_t seq = e->seq + 1;
		int published = submit(e, seq, in, frames, events, n_events);
		if (published)
			e->seq = seq;
		if (published && wait_done(e, seq, deadline_ns)) {
			take_output(e, seq, out, frames);
			st = ENGINE_OK;
		} else if (atomic_load(&e->r.sync->dead.v) != 0) {
			fade_out(e, out, frames);
			st = ENGINE_DOWN;
			e->downs++;
		} else {
			fade_out(e, out, frames);
			st = ENGINE_LATE;
			e->late++;
		}
	} else {
		/* play what the child made of the previous cycle, then submit */
		uint32_t prev = e->seq;
		if (e->pending && wait_done(e, prev, deadline_ns)) {
			take_output(e, prev, out, frames);
			st = ENGINE_OK;
		} else {
			fade_out(e, out, frames);
			st = e->pending ? ENGINE_LATE : ENGINE_OK;
			if (e->pending)
				e->late++;
		}
		if (submit(e, e->seq + 1, in, frames, events, n_events)) {
			e->seq++;
			e->pending = 1;
		}
	}
	e->late_streak = st == ENGINE_LATE ? e->late_streak + 1 : 0;
	atomic_store(&e->in_cycle, 0);
	return st;
}

int
engine_command(struct engine *e, const char *line)
{
	uint32_t len = (uint32_t)strlen(line) + 1;
	int rc;
	if (atomic_load(&e->down))
		return -1;
	while ((rc = ring_msg_push(&e->r.control, line, len)) == RING_FULL) {
		if (atomic_load(&e->r.sync->dead.v))
			return -1;
		usleep(200);
	}
	if (rc != 0)
		return -1;      /* RING_TOOBIG: never fits */
	e->sent++;
	atomic_fetch_add(&e->r.sync->control_seq.v, 1);
	futex_wake(&e->r.sync->control_seq.v, 1);
	return 0;
}

int
engine_load(struct engine *e, const struct patch *p)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	if (f == NULL || fputs("!load\n", f) == EOF || patch_save(p, f) != 0)
		fatal("out of memory saving the patch for the DSP child");
	fclose(f);
	int rc = engine_command(e, text);
	free(text);
	return rc;
}

int
engine_sync(struct engine *e, unsigned timeout_ms)
{
	uint64_t until = futex_now_ns() + (uint64_t)timeout_ms * 1000000;
	uint32_t applied;
	while ((applied = atomic_load(&e->r.sync->applied.v)) != e->sent) {
		if (atomic_load(&e->r.sync->dead.v) || child_exited(e))
			return -1;
		if (futex_now_ns() >= until)
			return 1;
		/* woken by the child's control thread; 10 ms slices to notice
		 * a dead child */
		struct timespec ts;
		futex_deadline_after(&ts, 10000000);
		futex_wait(&e->r.sync->applied.v, applied, &ts);
	}
	return 0;
}

/* Which module to blame: the one the crash handler saw, else the one a
 * DSP thread was running (a hang, or SIGKILL from outside). */
static int
blame_module(const struct engine *e)
{
	int m = atomic_load(&e->r.sync->blame_module);
	if (m >= 0)
		return m;
	for (unsigned t = 0; t < e->o.threads; t++) {
		int task = atomic_load(&e->r.stats[t].task);
		if (task >= 0 && task < REGION_MAX_TASKS) {
			m = atomic_load(&e->r.task_module[task]);
			if (m >= 0)
				return m;
		}
	}
	return -1;
}

/* Whether the child is gone (reaped into *status) or silent too long. */
static int
child_gone(struct engine *e, int *status)
{
	if (e->pid <= 0)
		return e->o.no_fork ? 0 : 1;
	if (!child_exited(e))
		return 0;
	if (waitpid(e->pid, status, WNOHANG) == e->pid) {
		e->pid = 0;
		return 1;
	}
	return 0;
}

/* Whether the child looks hung: a cycle pending and no heartbeat lately. */
static int
child_hung(struct engine *e)
{
	struct region_sync *s = e->r.sync;
	uint32_t hb = atomic_load(&s->heartbeat.v);
	uint64_t now = futex_now_ns();
	if (hb != e->last_heartbeat) {
		e->last_heartbeat = hb;
		e->heartbeat_ns = now;
		return 0;
	}
	return now - e->heartbeat_ns > (uint64_t)e->o.hang_ms * 1000000;
}

int
engine_supervise(struct engine *e, const struct patch *p, int kill_now,
    char *msg, size_t msg_size)
{
	int status = 0;
	char why[160], who[160] = "";

	msg[0] = '\0';
	if (e->failed)
		return -1;
	if (e->o.no_fork)
		return 0;
	int had_child = e->pid > 0;     /* 0 after a restart that failed */
	int gone = child_gone(e, &status);
	if (!gone && atomic_load(&e->r.sync->dead.v) != 0) {
		/* its fatal-signal handler ran: give it a moment to die */
		for (int i = 0; i < 500 && !gone; i++) {
			usleep(1000);
			gone = child_gone(e, &status);
		}
	}
	int hung = !gone && (kill_now || child_hung(e));
	if (!gone && !hung)
		return 0;

	/* keep engine_cycle away while the region is reset */
	atomic_store(&e->down, 1);
	while (atomic_load(&e->in_cycle))
		usleep(100);
	int module = blame_module(e);
	int sig = (int)atomic_load(&e->r.sync->dead.v);
	if (hung) {
		kill(e->pid, SIGKILL);
		waitpid(e->pid, &status, 0);
		e->pid = 0;
		snprintf(why, sizeof why, "stopped answering (no heartbeat for %u ms)",
		    e->o.hang_ms);
	} else if (sig == 0 && WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
	}
	if (!had_child) {
		snprintf(why, sizeof why, "could not be started");
	} else if (!hung) {
		if (sig != 0)
			snprintf(why, sizeof why, "died of signal %d (%s)", sig,
			    strsignal(sig));
		else if (WIFEXITED(status) &&
		    WEXITSTATUS(status) == CHILD_EXIT_CORRUPT_RING)
			snprintf(why, sizeof why, "found its control ring corrupt "
			    "and ended");
		else
			snprintf(why, sizeof why, "exited with status %d",
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	if (!had_child || strstr(why, "control ring") != NULL)
		who[0] = '\0';
	else if (module >= 0 && p != NULL && (unsigned)module < p->n_modules)
		snprintf(who, sizeof who, " while running module '%s' (%s)",
		    p->modules[module].name, p->modules[module].type->name);
	else
		snprintf(who, sizeof who, " between modules");
	/* its own fault (a fatal signal it caught, an exit of its own, a
	 * hang, or no start at all) soon after starting counts toward giving
	 * up; a kill from outside does not */
	int own_fault = hung || atomic_load(&e->r.sync->dead.v) != 0 ||
	    !had_child || WIFEXITED(status);
	e->last_own_fault = own_fault;
	uint64_t early_ns = EARLY_DEATH_NS +
	    (hung ? (uint64_t)e->o.hang_ms * 1000000u : 0);
	int early = own_fault && (e->started_ns == 0 ||
	    futex_now_ns() - e->started_ns < early_ns);
	e->failed_starts = early ? e->failed_starts + 1 : 0;
	stop_dsp(e);

	if (e->failed_starts >= MAX_FAILED_STARTS) {
		e->failed = 1;
		snprintf(msg, msg_size, "DSP child %s%s, and failed on each of its "
		    "last %u starts: giving up, audio stays silent (fix or remove "
		    "that module; the patch and the session are intact)",
		    why, who, e->failed_starts);
		return -1;
	}
	/* back off on repeated early deaths: 0, 100, 200, 400 ms */
	if (e->failed_starts > 0)
		usleep(100000u << (e->failed_starts - 1));

	char err[256] = "";
	region_reset(&e->r);
	/* a failed start is counted at the next call, which finds no child */
	if (start_dsp(e, err, sizeof err) != 0) {
		snprintf(msg, msg_size, "DSP child %s%s; restart failed: %s", why,
		    who, err);
		return 1;
	}
	e->have_last_good = 0;
	atomic_store(&e->down, 0);
	if (p != NULL)
		engine_load(e, p);    /* a child dying meanwhile is seen next time */
	e->restarts++;
	snprintf(msg, msg_size, "DSP child %s%s; restarted (restart %lu, pid %d)",
	    why, who, e->restarts, (int)e->pid);
	return 1;
}

int
engine_retry(struct engine *e, const struct patch *p, char *msg, size_t msg_size)
{
	char err[256] = "";
	msg[0] = '\0';
	if (!e->failed)
		return 0;
	region_reset(&e->r);
	if (start_dsp(e, err, sizeof err) != 0) {
		snprintf(msg, msg_size, "DSP child could not be started again: %s", err);
		return -1;
	}
	e->failed = 0;
	e->failed_starts = 0;
	e->have_last_good = 0;
	atomic_store(&e->down, 0);
	engine_load(e, p);
	e->restarts++;
	snprintf(msg, msg_size, "the patch changed: DSP child started again (restart "
	    "%lu, pid %d)", e->restarts, (int)e->pid);
	return 1;
}

int
engine_poll_event(struct engine *e, char *buf, size_t size)
{
	const void *msg;
	int n = ring_msg_peek(&e->r.events, &msg);
	if (n <= 0 || size == 0)
		return 0;
	/* a message longer than buf is cut, not left to block the ring */
	size_t len = (size_t)n < size ? (size_t)n : size;
	memcpy(buf, msg, len);
	ring_msg_release(&e->r.events);
	buf[len - 1] = '\0';
	return (int)len;
}

/* A thread's policy and priority from the region, checked: the child
 * is not trusted. */
static struct engine_sched
sched_checked(const struct pool_thread_stats *st)
{
	int policy = atomic_load_explicit(&st->policy, memory_order_acquire);
	int prio = atomic_load_explicit(&st->priority, memory_order_relaxed);
	struct engine_sched unknown = { -1, 0 };

	switch (policy) {
	case SCHED_FIFO:
	case SCHED_RR:
		if (prio < 1 || prio > 99)
			return unknown;
		break;
	case SCHED_OTHER:
	case SCHED_BATCH:
	case SCHED_IDLE:
		if (prio != 0)
			return unknown;
		break;
	default:
		return unknown;
	}
	return (struct engine_sched){ policy, prio };
}

const char *
engine_sched_name(int policy)
{
	switch (policy) {
	case SCHED_OTHER:
		return "other";
	case SCHED_FIFO:
		return "fifo";
	case SCHED_RR:
		return "rr";
	case SCHED_BATCH:
		return "batch";
	case SCHED_IDLE:
		return "idle";
	default:
		return "unknown";
	}
}

void
engine_info(const struct engine *e, struct engine_info *info)
{
	info->child_pid = e->pid;
	info->cycles = e->cycles;
	info->late = e->late;
	info->down = e->downs;
	info->restarts = e->restarts;
	info->failed = e->failed;
	info->last_own_fault = e->last_own_fault;
	info->threads = e->o.threads;
	info->rt_priority = e->o.rt_priority;
	guard_totals(&e->guard, &info->clipped, &info->nonfinite);
	info->busy_ns = info->idle_ns = 0;
	info->sleeps = info->steals = info->contended = 0;
	/* e->o.threads is the parent's own copy, within REGION_MAX_THREADS */
	for (unsigned t = 0; t < e->o.threads; t++) {
		const struct pool_thread_stats *st = &e->r.stats[t];
		info->sched[t] = sched_checked(st);
		info->busy_ns += atomic_load_explicit(&st->busy_ns,
		    memory_order_relaxed);
		info->idle_ns += atomic_load_explicit(&st->idle_ns,
		    memory_order_relaxed);
		info->sleeps += atomic_load_explicit(&st->sleeps,
		    memory_order_relaxed);
		info->steals += atomic_load_explicit(&st->steals,
		    memory_order_relaxed);
		info->contended += atomic_load_explicit(&st->contended,
		    memory_order_relaxed);
	}
}

int
engine_module_cost(const struct engine *e, uint64_t *ns, unsigned n_modules,
    uint64_t *profiled_frames)
{
	const struct region_cost *cost = e->r.cost;
	if (atomic_load(&e->down))
		return -1;
	*profiled_frames = atomic_load_explicit(&cost->frames, memory_order_acquire);
	for (unsigned m = 0; m < n_modules; m++) {
		ns[m] = 0;
		for (unsigned t = 0; t < e->o.threads && m < REGION_MAX_MODULES; t++)
			ns[m] += atomic_load_explicit(&cost->ns[t][m],
			    memory_order_relaxed);
	}
	return 0;
}

uint64_t
engine_output_changed(const struct engine *e, unsigned channel)
{
	return guard_channel_changed(&e->guard, channel);
}

const struct region *
engine_region(const struct engine *e)
{
	return &e->r;
}

void
engine_kill_child(struct engine *e)
{
	if (e->pid > 0)
		kill(e->pid, SIGKILL);
}
