/*
 * src/engine.c — the parent's side of the engine: region, spawning,
 * the cycle handshake with a deadline, commands, supervision.
 */
#define _GNU_SOURCE
#include <dirent.h>
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
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "engine.h"
#include "futex.h"
#include "guard.h"
#include "held.h"
#include "log.h"
#include "scope.h"
#include "shm.h"

/* Spin this long for the child's answer before sleeping, ns. */
#define CYCLE_SPIN_NS 20000
/* A child that dies within this long of starting (or of taking over)
 * counts as a failed start (one that hangs, within this long plus the hang
 * timeout: a hang is seen only that much later). */
#define EARLY_DEATH_NS 1000000000ull
/* A DSP late this many cycles in a row is too slow for now: the callback
 * then waits only LATE_WAIT_NS for it, giving the rest of the period back
 * to JACK and the other clients (the block is faded out either way), and
 * waits the whole deadline again every LATE_PROBE cycles, or at once when
 * the child has applied a command (which may have lightened the patch), to
 * find out whether it has caught up. */
#define LATE_STREAK 2
#define LATE_PROBE 16
#define LATE_WAIT_NS 100000
/* Late this many cycles in a row, the DSP is overloaded, not merely woken
 * late by a busy machine: the callback stops asking it for blocks (it
 * "sheds" them) except to probe.  Shed cycles leave the CPUs to the control
 * path: the child's control thread and the parent's front end would
 * otherwise get only what real-time throttling leaves (50 ms a second),
 * and an undo of the edit that overloaded the DSP would take seconds to be
 * heard.  Their note events go with the next request. */
#define SHED_STREAK LATE_PROBE
/* A killed child is waited for this long at most: one whose threads
 * cannot finish dying (starved by real-time threads elsewhere on the
 * machine) is reaped later, not waited for with the session lock held. */
#define REAP_WAIT_NS 2000000000ull
#define MAX_UNREAPED 16
/* Failed starts in a row before giving up. */
#define MAX_FAILED_STARTS 5
/* The JACK thread takes over from a failed active child at its next cycle;
 * when it has not within this long (no cycles run: the server stopped, or
 * freewheels), the supervisor does it. */
#define TAKEOVER_GRACE_NS 100000000ull
/* A standby that has not started and taken its patch within this long is
 * replaced. */
#define STANDBY_START_NS 10000000000ull
/* A standby whose control ring stays full this long takes no more
 * commands: it is replaced (the active child is waited for as long as it
 * lives). */
#define STANDBY_COMMAND_WAIT_NS 100000000ull

/*
 * The children.  A live engine keeps two slots, each a shared region and
 * maybe a child on it: the active one, which runs the cycles, and a warm
 * standby, started with the patch compiled and its threads asleep, which
 * takes over when the active one dies or stops.  Who changes a slot's role:
 *
 *   EMPTY -> STARTING -> STANDBY       the supervisor (session lock held)
 *   STANDBY -> ACTIVE, ACTIVE -> RETIRED   the JACK thread at a takeover,
 *                                      or the supervisor while `down` keeps
 *                                      the JACK thread away
 *   STANDBY -> STARTING (lost), RETIRED -> EMPTY   the supervisor
 *
 * The two that can race for a standby (the JACK thread taking over, the
 * supervisor replacing a dead standby) do it by compare-and-swap on its
 * role: one wins.  `active` is the index of the ACTIVE slot, written with
 * its role.  A slot's other fields are the supervisor's while it is not
 * ACTIVE; the JACK thread reads those of the ACTIVE slot only.  Commands
 * (the session lock held) go to the active child and to a live standby,
 * in the same order: a standby holds the same patch.  Regions are never
 * unmapped before engine_stop, so a reader holding an old slot's region
 * reads stale statistics, never freed memory.
 */
enum slot_role {
	SLOT_EMPTY = 0,     /* no child */
	SLOT_STARTING,      /* a standby spawned, its patch not yet in effect */
	SLOT_STANDBY,       /* a standby ready to take over */
	SLOT_ACTIVE,        /* the child the cycles go to */
	SLOT_RETIRED        /* was active and failed; the JACK thread has left
			       it: the supervisor reaps and reports it */
};

struct child_slot {
	struct shm shm;
	struct region r;
	pid_t pid;                  /* 0: none */
	int pidfd;                  /* -1 when pidfd_open is not available */
	_Atomic int role;           /* enum slot_role */
	uint32_t sent;              /* control messages sent to this child */
	uint64_t started_ns;        /* ready, or took over; 0 before */
	uint64_t spawned_ns;        /* forked (a standby's start timeout) */
	uint32_t last_heartbeat;
	uint64_t heartbeat_ns;      /* when the heartbeat last moved */
	uint64_t heartbeat_cpu_ns;  /* the child's CPU time then */
	int start_killed;           /* its start failed to a SIGKILL */
	uint64_t failed_ns;         /* active: first seen failed, 0 */
	int hung;                   /* killed for a hang (the report says so) */
	_Atomic int lost;           /* a standby that stopped taking commands */
};

struct engine {
	struct engine_options o;
	char exe[4096];
	struct child_slot slot[2];
	_Atomic int active;         /* index of the ACTIVE slot */
	int standby;                /* keep a warm standby (live, forked) */
	struct dsp *inproc;         /* --no-fork */
	uint32_t seq;               /* last cycle requested of the active */
	_Atomic int down;           /* no child: engine_cycle stays away */
	_Atomic int in_cycle;       /* engine_cycle is running */
	unsigned failed_starts;
	int failed;
	unsigned standby_failures;  /* standbys that died starting, in a row */
	uint64_t standby_after_ns;  /* no new standby before then (backoff) */
	unsigned long cycles, late, downs, restarts;
	unsigned long standby_lost; /* standbys replaced (died, stopped, hung) */
	_Atomic unsigned long takeovers;    /* by the JACK thread or supervisor */
	_Atomic unsigned replayed;  /* notes replayed at the last takeover */
	unsigned late_streak;       /* late cycles in a row */
	unsigned long shed;         /* cycles not asked of an overloaded DSP */
	uint32_t probe_applied;     /* the child's applied count at the last
				       request while overloaded */
	int played_silence;         /* the last cycle's output was faded out */
	struct region_transport transport; /* for the next cycle (engine_transport) */
	int last_own_fault;
	float *last_good;           /* n_outputs * max_block: for the fade */
	int have_last_good;
	int pending;                /* pipeline: a cycle is in flight */
	/* note events the child may not have had yet (see submit) */
	struct region_midi carry[REGION_MAX_EVENTS];
	unsigned n_carry;
	struct held_notes held;     /* what sounds: replayed into a new child */
	pid_t unreaped[MAX_UNREAPED];   /* killed, not yet reaped */
	unsigned n_unreaped;
	struct output_guard guard;  /* what leaves the child: ceiling, counts */
	/* the probe (engine_probe), under the session's lock */
	char probe_target[PATCH_NAME_MAX + 40];  /* NAME.OUTPUT, "" none */
	uint32_t probe_id;          /* its request's number, 0: never asked */
	int probe_slot;             /* the slot whose ring is in step with the
				       request, -1: none (a new child starts
				       with no request, so it is never in
				       step before it has shown ours) */
	pid_t probe_pid;            /* and its child then (a respawn in the
				       same slot is a break) */
	uint32_t probe_dropped;     /* its `dropped` word, as last read */
};

/* The active slot. */
static struct child_slot *
active_slot(const struct engine *e)
{
	return (struct child_slot *)&e->slot[atomic_load_explicit(&e->active,
	    memory_order_acquire)];
}

/* The slot that is not active (the standby's, when there is one). */
static struct child_slot *
other_slot(const struct engine *e)
{
	return (struct child_slot *)&e->slot[!atomic_load_explicit(&e->active,
	    memory_order_acquire)];
}

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

/* Fork and exec `exe --dsp-child FD SIZE PPID` on slot c's region.
 * Between fork and exec only async-signal-safe calls. */
static pid_t
spawn_child(struct engine *e, struct child_slot *c)
{
	char fd_arg[24], size_arg[24], ppid_arg[24];
	format_ull(fd_arg, (unsigned long long)c->shm.fd);
	format_ull(size_arg, (unsigned long long)c->shm.size);
	format_ull(ppid_arg, (unsigned long long)getpid());
	char *argv[] = { e->exe, "--dsp-child", fd_arg, size_arg, ppid_arg, NULL };

	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* child: keep only stdio and its region (not the other slot's) */
	int keep = c->shm.fd;
	if (shm_fd_for_exec(keep, -1) < 0)
		_exit(126);
	for (int fd = 3; fd < 1024; fd++)
		if (fd != keep)
			close(fd);
	execv(e->exe, argv);
	_exit(127);
}

static uint64_t child_cpu_ns(const struct child_slot *c);

/* Note that slot c's child is up now: its heartbeat starts from here. */
static void
mark_started(struct child_slot *c)
{
	c->started_ns = futex_now_ns();
	c->heartbeat_ns = c->started_ns;
	c->heartbeat_cpu_ns = child_cpu_ns(c);
	c->last_heartbeat = atomic_load(&c->r.sync->heartbeat.v);
}

/* Wait for slot c's new child's ready flag; 0, or -1 if it died or timed
 * out. */
static int
wait_ready(struct child_slot *c, unsigned timeout_ms)
{
	uint64_t until = futex_now_ns() + (uint64_t)timeout_ms * 1000000;
	while (atomic_load(&c->r.sync->ready.v) == 0) {
		struct timespec ts;
		int status;
		if (c->pid > 0 && waitpid(c->pid, &status, WNOHANG) == c->pid) {
			c->pid = 0;
			c->start_killed = WIFSIGNALED(status) &&
			    WTERMSIG(status) == SIGKILL;
			return -1;
		}
		if (futex_now_ns() >= until)
			return -1;
		futex_deadline_after(&ts, 10000000);
		futex_wait(&c->r.sync->ready.v, 0, &ts);
	}
	mark_started(c);
	return 0;
}

/* SIGKILL `pid` and reap it into *status, waiting REAP_WAIT_NS at most;
 * one not reaped by then is kept for reap_late.  Returns 1 when reaped
 * (or already gone), 0 when left for later (*status untouched). */
static int
kill_reap(struct engine *e, pid_t pid, int *status)
{
	uint64_t until = futex_now_ns() + REAP_WAIT_NS;
	int st;
	kill(pid, SIGKILL);
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			*status = st;
			return 1;
		}
		if (r < 0 && errno == ECHILD)
			return 1;
		if (futex_now_ns() >= until)
			break;
		usleep(1000);
	}
	if (e->n_unreaped < MAX_UNREAPED)
		e->unreaped[e->n_unreaped++] = pid;
	return 0;
}

/* Reap the killed children kill_reap could not wait for. */
static void
reap_late(struct engine *e)
{
	unsigned kept = 0;
	for (unsigned i = 0; i < e->n_unreaped; i++) {
		pid_t r = waitpid(e->unreaped[i], NULL, WNOHANG);
		if (r == 0)
			e->unreaped[kept++] = e->unreaped[i];
	}
	e->n_unreaped = kept;
}

/* How slot c's child ended, if it has, as a wait status, without reaping
 * it: 1 and *status, else 0. */
static int
exit_status_peek(const struct child_slot *c, int *status)
{
	siginfo_t si;
	si.si_pid = 0;
	if (c->pid <= 0 || waitid(P_PID, (id_t)c->pid, &si,
	    WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid != c->pid)
		return 0;
	*status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) :
	    W_EXITCODE(0, si.si_status);
	return 1;
}

static void stop_dsp(struct engine *e, struct child_slot *c);
static void end_child(struct engine *e, struct child_slot *c, int *status);

/* Fork a child on slot c's (reset) region; it starts on its own. */
static int
fork_child(struct engine *e, struct child_slot *c, char *err, size_t err_size)
{
	c->started_ns = 0;
	c->start_killed = 0;
	c->sent = 0;
	c->hung = 0;
	c->failed_ns = 0;
	atomic_store(&c->lost, 0);
	c->spawned_ns = futex_now_ns();
	c->pid = spawn_child(e, c);
	if (c->pid < 0) {
		snprintf(err, err_size, "cannot fork the DSP child: %s", strerror(errno));
		c->pid = 0;
		return -1;
	}
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	return 0;
}

/* Start the active DSP side on slot c's (reset) region: a forked child, or
 * threads here, and wait until it runs.  On failure nothing of it is left
 * running. */
static int
start_dsp(struct engine *e, struct child_slot *c, char *err, size_t err_size)
{
	e->seq = 0;
	e->n_carry = 0;
	e->pending = 0;
	if (e->o.no_fork) {
		c->started_ns = 0;
		c->sent = 0;
		e->inproc = dsp_start(&c->r, err, err_size);
		if (e->inproc == NULL)
			return -1;
		if (wait_ready(c, 5000) == 0)
			return 0;
		snprintf(err, err_size, "the DSP threads did not start");
		stop_dsp(e, c);
		return -1;
	}
	if (fork_child(e, c, err, err_size) != 0)
		return -1;
	if (wait_ready(c, 5000) != 0) {
		snprintf(err, err_size, "the DSP child (%s) did not start", e->exe);
		stop_dsp(e, c);
		return -1;
	}
	return 0;
}

/* Create slot c's region, laid out for the engine's dimensions. */
static int
slot_create(struct engine *e, struct child_slot *c, char *err, size_t err_size)
{
	const struct engine_options *o = &e->o;
	size_t size = region_size(o->max_block, o->n_inputs, o->n_outputs);
	int rc = shm_create(&c->shm, size, 0);
	if (rc != 0) {
		snprintf(err, err_size, "%s", c->shm.error);
		return -1;
	}
	region_format(&c->r, c->shm.base, c->shm.size, o->rate, o->max_block,
	    o->n_inputs, o->n_outputs, o->threads,
	    (o->pipeline ? REGION_PIPELINE : 0) |
	    (o->hot == ENGINE_HOT_ON ? REGION_HOT_ON : 0) |
	    (o->hot == ENGINE_HOT_OFF ? REGION_HOT_OFF : 0), o->rt_priority);
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
	e->standby = o->live && !o->no_fork;
	held_init(&e->held);
	for (int i = 0; i < 2; i++) {
		e->slot[i].pidfd = -1;
		e->slot[i].shm.fd = -1;
	}
	ssize_t n = readlink("/proc/self/exe", e->exe, sizeof e->exe - 1);
	if (n <= 0) {
		snprintf(err, err_size, "cannot find this program (/proc/self/exe)");
		free(e);
		return NULL;
	}
	e->exe[n] = '\0';

	e->last_good = xcalloc((size_t)o->n_outputs * o->max_block, sizeof(float));
	if (slot_create(e, &e->slot[0], err, err_size) != 0 ||
	    (e->standby && slot_create(e, &e->slot[1], err, err_size) != 0)) {
		engine_stop(e);
		return NULL;
	}
	guard_init(&e->guard, o->no_clip);
	atomic_store(&e->slot[0].role, SLOT_ACTIVE);
	if (start_dsp(e, &e->slot[0], err, err_size) != 0) {
		engine_stop(e);
		return NULL;
	}
	return e;
}

/* Stop slot c's DSP side (kill and reap the child, or join the threads). */
/* Kill and reap slot c's child, if any (*status: how it ended, when it
 * was reaped now), and close its pidfd. */
static void
end_child(struct engine *e, struct child_slot *c, int *status)
{
	if (c->pid > 0) {
		kill_reap(e, c->pid, status);
		c->pid = 0;
	}
	if (c->pidfd >= 0) {
		close(c->pidfd);
		c->pidfd = -1;
	}
}

static void
stop_dsp(struct engine *e, struct child_slot *c)
{
	int status;
	if (e->inproc != NULL && c == &e->slot[0]) {
		dsp_stop(e->inproc);
		e->inproc = NULL;
	}
	end_child(e, c, &status);
}

void
engine_stop(struct engine *e)
{
	if (e == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		stop_dsp(e, &e->slot[i]);
		shm_close(&e->slot[i].shm);
	}
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
		const float *src = region_audio(&active_slot(e)->r, 1, seq & 1, c);
		float *dst = out[c];
		guard_copy(&e->guard, c, dst, src, frames);
		memcpy(e->last_good + (size_t)c * e->o.max_block, dst,
		    frames * sizeof(float));
	}
	e->have_last_good = 1;
}

/* Whether slot c's forked child has ended, without reaping it (a kill
 * from outside sets no dead flag): its pidfd turns readable, or, where
 * there is no pidfd, waitid says so. */
static int
child_exited(const struct engine *e, const struct child_slot *c)
{
	if (c->pid <= 0)
		return !e->o.no_fork;
	if (c->pidfd >= 0) {
		struct pollfd pfd = { .fd = c->pidfd, .events = POLLIN };
		return poll(&pfd, 1, 0) > 0;
	}
	siginfo_t si = { 0 };
	if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
		return errno == ECHILD;
	return si.si_pid == c->pid;
}

/* Whether slot c's child has ended or is stopped (SIGSTOP, SIGTSTP, a
 * debugger), without reaping it and without blocking: one waitid.  A
 * stopped child runs no cycle and answers nothing; unlike "no answer for
 * a while", this never mistakes an overloaded child for a dead one.
 * *stopped_sig: the stopping signal, 0 when it ended. */
static int
child_down(const struct child_slot *c, int *stopped_sig)
{
	siginfo_t si;
	*stopped_sig = 0;
	if (c->pid <= 0)
		return 1;
	si.si_pid = 0;
	if (waitid(P_PID, (id_t)c->pid, &si,
	    WEXITED | WSTOPPED | WNOHANG | WNOWAIT) != 0)
		return errno == ECHILD;
	if (si.si_pid != c->pid)
		return 0;
	if (si.si_code == CLD_STOPPED || si.si_code == CLD_TRAPPED)
		*stopped_sig = si.si_status;
	return 1;
}

static int child_hung(const struct engine *e, struct child_slot *c);
static int child_hung_offline(const struct engine *e, struct child_slot *c);

/* Wait until the active child's done_seq reaches `seq`, the child dies, or
 * the deadline.  With no deadline (offline) it also gives up on a child
 * that has exited or stopped beating.  Returns 1 when done. */
static int
wait_done(struct engine *e, uint32_t seq, uint64_t deadline_ns)
{
	struct child_slot *c = active_slot(e);
	struct region_sync *s = c->r.sync;
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
		if (deadline_ns == 0 && c->pid > 0) {
			if (child_exited(e, c) || child_hung_offline(e, c))
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
    const struct region_midi *events, unsigned n_events, int hold)
{
	struct region *r = &active_slot(e)->r;
	struct region_sync *s = r->sync;
	unsigned parity = seq & 1;
	/* done before taken: equal, the child is between cycles */
	uint32_t done = atomic_load(&s->done_seq.v);
	uint32_t taken = atomic_load(&s->taken_seq.v);
	unsigned kept = 0;
	for (unsigned i = 0; i < e->n_carry; i++)
		if (e->carry[i].origin == 0 || (int32_t)(e->carry[i].origin - taken) > 0)
			e->carry[kept++] = e->carry[i];
	e->n_carry = kept;
	int published = !hold && (((taken ^ seq) & 1) != 0 || taken == done);
	uint32_t origin = published ? seq : 0;
	for (unsigned i = 0; i < e->n_carry; i++)
		if (e->carry[i].origin == 0)
			e->carry[i].origin = origin;
	struct region_midi *dst = r->midi + (size_t)parity * REGION_MAX_EVENTS;
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
		float *in_dst = region_audio(r, 0, parity, c);
		if (in != NULL && in[c] != NULL)
			memcpy(in_dst, in[c], frames * sizeof(float));
		else
			memset(in_dst, 0, frames * sizeof(float));
	}
	s->n_midi[parity] = n;
	s->frames[parity] = frames;
	s->graph_block[parity] = e->o.graph_block;
	s->after_gap[parity] = e->played_silence;
	s->transport[parity] = e->transport;
	atomic_store_explicit(&s->req_seq.v, seq, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&s->child_sleeping.v, memory_order_relaxed))
		futex_wake(&s->req_seq.v, 1);
	return 1;
}

/* Whether this cycle probes a DSP that has been late LATE_STREAK cycles
 * or more: every LATE_PROBE cycles, or once the child has applied a
 * command since the last probe. */
static int
probe_cycle(struct engine *e)
{
	/* written by the child, so not trusted: a wrong value only makes the
	 * probes more frequent */
	uint32_t applied = atomic_load_explicit(&active_slot(e)->r.sync->applied.v,
	    memory_order_relaxed);
	if (e->late_streak % LATE_PROBE == 0 || applied != e->probe_applied) {
		e->probe_applied = applied;
		return 1;
	}
	return 0;
}

/* Whether the active child has failed, seen without blocking: its crash
 * handler's dead flag, or, only after a cycle without its output (so that
 * the common path makes no system call), an exit or a stop (child_down).
 * Asked only while a standby is ready to take over. */
static int
active_failed(struct engine *e)
{
	struct child_slot *c = active_slot(e);
	int stopped;
	if (atomic_load_explicit(&c->r.sync->dead.v, memory_order_relaxed) != 0)
		return 1;
	return e->played_silence && child_down(c, &stopped);
}

/* The standby takes over (the JACK thread, or the supervisor while `down`
 * keeps the JACK thread away): it becomes the active child, the failed one
 * is left to the supervisor, and the notes sounding go to the new child
 * with its first cycle (see held_replay).  Its threads are asleep; the
 * first request wakes them.  Returns 1, or 0 when no standby is ready. */
static int
take_over(struct engine *e)
{
	int from = atomic_load_explicit(&e->active, memory_order_relaxed);
	struct child_slot *next = &e->slot[!from];
	int want = SLOT_STANDBY;
	int stopped;
	if (!e->standby || !atomic_compare_exchange_strong(&next->role, &want,
	    SLOT_ACTIVE))
		return 0;
	/* killed or stopped with the active one (the supervisor has not seen
	 * it yet): no takeover; the supervisor replaces both */
	if (atomic_load(&next->r.sync->dead.v) != 0 || child_down(next, &stopped)) {
		atomic_store(&next->role, SLOT_STANDBY);
		return 0;
	}
	atomic_store(&e->slot[from].role, SLOT_RETIRED);
	atomic_store_explicit(&e->active, !from, memory_order_release);
	e->seq = 0;
	e->pending = 0;
	e->late_streak = 0;
	e->played_silence = 1;
	e->n_carry = held_replay(&e->held, e->carry, REGION_MAX_EVENTS);
	atomic_store(&e->replayed, held_count(&e->held));
	atomic_fetch_add(&e->takeovers, 1);
	return 1;
}

void
engine_transport(struct engine *e, const struct region_transport *t)
{
	e->transport = *t;
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
		e->played_silence = 1;
		held_track(&e->held, events, n_events, frames);
		atomic_store(&e->in_cycle, 0);
		return ENGINE_DOWN;
	}
	/* a dead or stopped child: the standby takes this cycle */
	if (e->standby && atomic_load_explicit(&other_slot(e)->role,
	    memory_order_relaxed) == SLOT_STANDBY && active_failed(e))
		take_over(e);
	int shed = 0;
	if (deadline_ns != 0 && e->late_streak >= LATE_STREAK && !probe_cycle(e)) {
		uint64_t quick = futex_now_ns() + LATE_WAIT_NS;
		if (quick < deadline_ns)
			deadline_ns = quick;
		shed = e->late_streak >= SHED_STREAK;
	}
	e->shed += (unsigned long)shed;
	/* live, a restarted child is asked for no cycle before it has its
	 * first graph: the held notes replayed into it (held in carry until
	 * then) would find no voices.  Its word is not trusted, but a child
	 * that never says so only stays silent, as it could anyway. */
	int no_graph = e->o.live && atomic_load_explicit(
	    &active_slot(e)->r.sync->graph_gen.v, memory_order_acquire) == 0;
	if (!e->o.pipeline) {
		for (int attempt = 0; ; attempt++) {
			uint32_t seq = e->seq + 1;
			int published = submit(e, seq, in, frames, events, n_events,
			    shed || no_graph);
			if (published)
				e->seq = seq;
			if (published && wait_done(e, seq, deadline_ns)) {
				take_output(e, seq, out, frames);
				st = ENGINE_OK;
			} else if (atomic_load(&active_slot(e)->r.sync->dead.v) != 0) {
				/* it crashed during this cycle: the standby runs
				 * it, in what is left of the period */
				if (attempt == 0 && take_over(e)) {
					shed = 0;
					continue;
				}
				fade_out(e, out, frames);
				st = ENGINE_DOWN;
				e->downs++;
			} else if (no_graph) {
				fade_out(e, out, frames);
				st = ENGINE_DOWN;
				e->downs++;
			} else {
				fade_out(e, out, frames);
				st = ENGINE_LATE;
				e->late++;
			}
			break;
		}
	} else {
		/* play what the child made of the previous cycle, then submit */
		uint32_t prev = e->seq;
		if (e->pending && !shed && !no_graph && wait_done(e, prev, deadline_ns)) {
			take_output(e, prev, out, frames);
			st = ENGINE_OK;
		} else {
			fade_out(e, out, frames);
			st = e->pending ? ENGINE_LATE : ENGINE_OK;
			if (e->pending)
				e->late++;
			/* shed: no new request below, the one in flight stays
			 * pending for the next probe */
		}
		if (submit(e, e->seq + 1, in, frames, events, n_events,
		    shed || no_graph)) {
			e->seq++;
			e->pending = 1;
		}
	}
	e->late_streak = st == ENGINE_LATE ? e->late_streak + 1 : 0;
	e->played_silence = st != ENGINE_OK;
	/* after the cycle: a takeover replays the notes as they were before
	 * it, and this cycle's own events go with it */
	held_track(&e->held, events, n_events, frames);
	atomic_store(&e->in_cycle, 0);
	return st;
}

/* Send one control message to slot c's child.  Waits while its ring is
 * full: as long as the child lives, or at most `limit_ns` (0: no limit).
 * Returns 0, or -1 (dead, RING_TOOBIG, or the limit passed). */
static int
slot_command(struct child_slot *c, const char *line, uint64_t limit_ns)
{
	uint32_t len = (uint32_t)strlen(line) + 1;
	uint64_t until = limit_ns ? futex_now_ns() + limit_ns : 0;
	int rc;
	while ((rc = ring_msg_push(&c->r.control, line, len)) == RING_FULL) {
		if (atomic_load(&c->r.sync->dead.v) ||
		    (until != 0 && futex_now_ns() >= until))
			return -1;
		usleep(200);
	}
	if (rc != 0)
		return -1;      /* RING_TOOBIG: never fits */
	c->sent++;
	atomic_fetch_add(&c->r.sync->control_seq.v, 1);
	futex_wake(&c->r.sync->control_seq.v, 1);
	return 0;
}

/* The standby, when it has a live child that takes commands: it must see
 * every one the active child sees. */
static struct child_slot *
live_standby(struct engine *e)
{
	struct child_slot *c = other_slot(e);
	int role = atomic_load(&c->role);
	if (!e->standby || (role != SLOT_STARTING && role != SLOT_STANDBY) ||
	    c->pid <= 0 || atomic_load(&c->lost))
		return NULL;
	return c;
}

/* Send a message to the active child and to a live standby.  A standby
 * that cannot take it (its ring stays full: stopped, or stuck) is marked
 * lost, for the supervisor to replace. */
static int
send_all(struct engine *e, const char *line)
{
	if (atomic_load(&e->down))
		return -1;
	struct child_slot *sb = live_standby(e);
	if (sb != NULL && slot_command(sb, line, STANDBY_COMMAND_WAIT_NS) != 0)
		atomic_store(&sb->lost, 1);
	return slot_command(active_slot(e), line, 0);
}

int
engine_command(struct engine *e, const char *line)
{
	return send_all(e, line);
}

/* The patch as one "!load" message; the caller frees it. */
static char *
load_message(const struct patch *p)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	if (f == NULL || fputs("!load\n", f) == EOF || patch_save(p, f) != 0)
		fatal("out of memory saving the patch for the DSP child");
	fclose(f);
	return text;
}

/* Load patch p into slot c's child only (a new child). */
static void
slot_load(struct child_slot *c, const struct patch *p)
{
	char *text = load_message(p);
	slot_command(c, text, 0);
	free(text);
}

/* The probe request, to a new child after its patch. */
static void
slot_probe(struct engine *e, struct child_slot *c, uint64_t limit_ns)
{
	char msg[PATCH_NAME_MAX + 64];
	if (e->probe_id == 0)
		return;
	snprintf(msg, sizeof msg, "!probe %u %s", (unsigned)e->probe_id,
	    e->probe_target[0] ? e->probe_target : "off");
	if (slot_command(c, msg, limit_ns) != 0 && limit_ns != 0)
		atomic_store(&c->lost, 1);
}

int
engine_probe(struct engine *e, const char *target)
{
	snprintf(e->probe_target, sizeof e->probe_target, "%s",
	    target != NULL ? target : "");
	e->probe_id++;
	if (e->probe_id == 0)
		e->probe_id = 1;
	e->probe_slot = -1;
	char msg[PATCH_NAME_MAX + 64];
	snprintf(msg, sizeof msg, "!probe %u %s", (unsigned)e->probe_id,
	    e->probe_target[0] ? e->probe_target : "off");
	return send_all(e, msg);
}

const char *
engine_probe_target(const struct engine *e)
{
	return e->probe_target;
}

/* Let go of everything the probe ring holds. */
static void
probe_discard(struct region *r)
{
	ring_elem_release(&r->probe_ring, ring_elem_avail(&r->probe_ring));
}

int
engine_probe_read(struct engine *e, struct scope_history *h)
{
	int a = atomic_load_explicit(&e->active, memory_order_acquire);
	struct child_slot *c = &e->slot[a];
	struct region *r = &c->r;
	float buf[1024];
	uint32_t got;
	int total = 0;

	if (e->probe_target[0] == '\0' || atomic_load(&e->down))
		return -1;
	/* the child's word for the request it runs: until it is ours, what
	 * the ring holds is another signal's */
	uint32_t id = atomic_load_explicit(&r->probe->id.v, memory_order_acquire);
	if (id != e->probe_id) {
		probe_discard(r);
		e->probe_slot = -1;
		return -1;
	}
	if (e->probe_slot != a || e->probe_pid != c->pid) {
		/* first sight of our request in this child: what came before
		 * it goes; from here on the ring is this signal */
		probe_discard(r);
		e->probe_slot = a;
		e->probe_pid = c->pid;
		e->probe_dropped = atomic_load_explicit(&r->probe->dropped.v,
		    memory_order_relaxed);
		scope_history_gap(h);
		return 0;
	}
	/* bounded: a child writing as fast as we read cannot keep us here */
	for (unsigned rounds = 0; rounds < 64 &&
	    (got = ring_elem_pop(&r->probe_ring, buf, 1024)) > 0; rounds++) {
		scope_history_append(h, buf, got, 1);
		total += (int)got;
	}
	uint32_t dropped = atomic_load_explicit(&r->probe->dropped.v,
	    memory_order_relaxed);
	if (dropped != e->probe_dropped) {
		e->probe_dropped = dropped;
		scope_history_gap(h);
	}
	return total;
}

int
engine_load(struct engine *e, const struct patch *p)
{
	char *text = load_message(p);
	int rc = send_all(e, text);
	free(text);
	return rc;
}

int
engine_sync(struct engine *e, unsigned timeout_ms)
{
	uint64_t until = futex_now_ns() + (uint64_t)timeout_ms * 1000000;
	uint32_t applied;
	struct child_slot *c;
	/* the active slot read again each time: a takeover may happen */
	while ((applied = atomic_load(&(c = active_slot(e))->r.sync->applied.v)) !=
	    c->sent) {
		if (atomic_load(&c->r.sync->dead.v) || child_exited(e, c))
			return -1;
		if (futex_now_ns() >= until)
			return 1;
		/* woken by the child's control thread; 10 ms slices to notice
		 * a dead child */
		struct timespec ts;
		futex_deadline_after(&ts, 10000000);
		futex_wait(&c->r.sync->applied.v, applied, &ts);
	}
	return 0;
}

/* Which module to blame in slot c: the one the crash handler saw, else
 * the one a DSP thread was running (a hang, or SIGKILL from outside). */
static int
blame_module(const struct engine *e, const struct child_slot *c)
{
	int m = atomic_load(&c->r.sync->blame_module);
	if (m >= 0)
		return m;
	for (unsigned t = 0; t < e->o.threads; t++) {
		int task = atomic_load(&c->r.stats[t].task);
		if (task >= 0 && task < REGION_MAX_TASKS) {
			m = atomic_load(&c->r.task_module[task]);
			if (m >= 0)
				return m;
		}
	}
	return -1;
}

/* Whether slot c's child is gone (reaped into *status). */
static int
child_gone(struct engine *e, struct child_slot *c, int *status)
{
	if (c->pid <= 0)
		return e->o.no_fork ? 0 : 1;
	if (!child_exited(e, c))
		return 0;
	if (waitpid(c->pid, status, WNOHANG) == c->pid) {
		c->pid = 0;
		return 1;
	}
	return 0;
}

/* Whether slot c's child looks hung: no heartbeat lately. */
static int
child_hung(const struct engine *e, struct child_slot *c)
{
	struct region_sync *s = c->r.sync;
	uint32_t hb = atomic_load(&s->heartbeat.v);
	uint64_t now = futex_now_ns();
	if (hb != c->last_heartbeat) {
		c->last_heartbeat = hb;
		c->heartbeat_ns = now;
		c->heartbeat_cpu_ns = child_cpu_ns(c);
		return 0;
	}
	return now - c->heartbeat_ns > (uint64_t)e->o.hang_ms * 1000000;
}

/* Into why: how slot c's child ended, from the flags seen before it was
 * reaped (hung: killed for a hang; stopped: the signal that stopped it)
 * and its wait status. */
static void
death_reason(const struct engine *e, int hung, int stopped, int sig,
    int status, char *why, size_t size)
{
	if (hung)
		snprintf(why, size, "stopped answering (no heartbeat for %u ms)",
		    e->o.hang_ms);
	else if (stopped != 0)
		snprintf(why, size, "was stopped by signal %d (%s)", stopped,
		    strsignal(stopped));
	else if (sig != 0)
		snprintf(why, size, "died of signal %d (%s)", sig, strsignal(sig));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EXIT_CORRUPT_RING)
		snprintf(why, size, "found its control ring corrupt and ended");
	else
		snprintf(why, size, "exited with status %d",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Into who: " while running module 'x' (type)", " between modules", or
 * nothing when the module cannot be the cause. */
static void
death_module(int module, const struct patch *p, const char *why, char *who,
    size_t size)
{
	if (strstr(why, "control ring") != NULL || strstr(why, "stopped by") != NULL)
		who[0] = '\0';
	else if (module >= 0 && p != NULL && (unsigned)module < p->n_modules)
		snprintf(who, size, " while running module '%s' (%s)",
		    p->modules[module].name, p->modules[module].type->name);
	else
		snprintf(who, size, " between modules");
}

/* Count a death toward giving up: its own fault (a fatal signal it caught,
 * an exit of its own, a hang, or no start at all) soon after it started
 * or took over counts; a kill or a stop from outside does not. */
static void
count_failure(struct engine *e, const struct child_slot *c, int own_fault,
    int hung)
{
	uint64_t early_ns = EARLY_DEATH_NS +
	    (hung ? (uint64_t)e->o.hang_ms * 1000000u : 0);
	/* also one that never finished a cycle, however long a loaded
	 * machine took to see it */
	int early = own_fault && (c->started_ns == 0 ||
	    atomic_load(&c->r.sync->done_seq.v) == 0 ||
	    futex_now_ns() - c->started_ns < early_ns);
	e->last_own_fault = own_fault;
	e->failed_starts = early ? e->failed_starts + 1 : 0;
}

/* Keep engine_cycle away (it runs on, playing silence) until let_cycle. */
static void
hold_cycle(struct engine *e)
{
	atomic_store(&e->down, 1);
	while (atomic_load(&e->in_cycle))
		usleep(100);
}

static void
let_cycle(struct engine *e)
{
	e->have_last_good = 0;
	atomic_store(&e->down, 0);
}

/* Stop a standby, whatever its state (giving up, the engine failed). */
static void
standby_drop(struct engine *e)
{
	struct child_slot *c = other_slot(e);
	if (!e->standby)
		return;
	stop_dsp(e, c);
	region_reset(&c->r);
	atomic_store(&c->role, SLOT_EMPTY);
}

/* Give up: the child failed on each of its last starts.  Everything
 * stops; engine_retry starts again. */
static int
give_up(struct engine *e, const char *why, const char *who, char *msg,
    size_t msg_size)
{
	hold_cycle(e);
	stop_dsp(e, active_slot(e));
	standby_drop(e);
	e->failed = 1;
	snprintf(msg, msg_size, "DSP child %s%s, and failed on each of its "
	    "last %u starts: giving up, audio stays silent (fix or remove "
	    "that module; the patch and the session are intact)",
	    why, who, e->failed_starts);
	return -1;
}

/* Wait before the next start after `failed` early deaths in a row: 0,
 * 100, 200, 400 ms ... */
static uint64_t
backoff_ns(unsigned failed)
{
	return failed > 0 ? 100000000ull << (failed - 1) : 0;
}

/* Into buf: "; N held notes sound again", or nothing for none. */
static void
held_phrase(unsigned notes, char *buf, size_t size)
{
	buf[0] = '\0';
	if (notes > 0)
		snprintf(buf, size, "; %u held note%s sound%s again", notes,
		    notes == 1 ? "" : "s", notes == 1 ? "s" : "");
}

/* The standby took over from slot c (now RETIRED): reap it, say why it
 * went, and free the slot for a new standby. */
static int
retire(struct engine *e, struct child_slot *c, const struct patch *p,
    char *msg, size_t msg_size)
{
	char why[160], who[160];
	int status = 0, stopped = 0;
	int sig = (int)atomic_load(&c->r.sync->dead.v);
	int module = blame_module(e, c);

	if (!c->hung && sig == 0)
		child_down(c, &stopped);
	exit_status_peek(c, &status);
	end_child(e, c, &status);
	if (!c->hung && stopped == 0 && sig == 0 && WIFSIGNALED(status))
		sig = WTERMSIG(status);
	death_reason(e, c->hung, stopped, sig, status, why, sizeof why);
	death_module(module, p, why, who, sizeof who);
	int own_fault = c->hung || atomic_load(&c->r.sync->dead.v) != 0 ||
	    (stopped == 0 && WIFEXITED(status));
	count_failure(e, c, own_fault, c->hung);
	region_reset(&c->r);
	atomic_store(&c->role, SLOT_EMPTY);
	e->restarts++;
	struct child_slot *now_active = active_slot(e);
	mark_started(now_active);
	if (e->failed_starts >= MAX_FAILED_STARTS)
		return give_up(e, why, who, msg, msg_size);
	e->standby_after_ns = futex_now_ns() + backoff_ns(e->failed_starts);
	char held[80];
	held_phrase(atomic_load(&e->replayed), held, sizeof held);
	snprintf(msg, msg_size, "DSP child %s%s; the standby took over (restart "
	    "%lu, pid %d)%s", why, who, e->restarts, (int)now_active->pid, held);
	return 1;
}

/* A standby in slot c is lost (died, stopped, hung, or stopped taking
 * commands; or never got ready): reap it and free the slot.  `starting`:
 * it never got ready (counts toward the standby's backoff). */
static int
standby_lose(struct engine *e, struct child_slot *c, int starting,
    char *msg, size_t msg_size)
{
	char why[160];
	int status = 0, stopped = 0, hung = 0;
	int sig = (int)atomic_load(&c->r.sync->dead.v);
	int lost = atomic_load(&c->lost);

	if (sig == 0 && !child_down(c, &stopped) && !lost)
		hung = 1;
	exit_status_peek(c, &status);
	end_child(e, c, &status);
	if (!hung && !lost && stopped == 0 && sig == 0 && WIFSIGNALED(status))
		sig = WTERMSIG(status);
	if (lost)
		snprintf(why, sizeof why, "stopped taking commands");
	else if (hung && starting)
		snprintf(why, sizeof why, "did not get ready in %llu s",
		    STANDBY_START_NS / 1000000000ull);
	else
		death_reason(e, hung, stopped, sig, status, why, sizeof why);
	region_reset(&c->r);
	atomic_store(&c->role, SLOT_EMPTY);
	e->standby_lost++;
	uint64_t now = futex_now_ns();
	if (starting) {
		e->standby_failures++;
		e->standby_after_ns = now + backoff_ns(e->standby_failures);
	} else {
		e->standby_failures = 0;
		e->standby_after_ns = now;
	}
	if (starting && e->standby_failures >= MAX_FAILED_STARTS)
		snprintf(msg, msg_size, "the standby DSP child %s, and failed on "
		    "each of its last %u starts: no standby for now (a DSP crash "
		    "costs a restart, not a takeover)", why, e->standby_failures);
	else
		snprintf(msg, msg_size, "the standby DSP child %s; a new standby is "
		    "starting", why);
	return 1;
}

/* Keep a standby ready: start one in the free slot (off the real-time
 * path; the JACK thread never waits for it), promote it once its patch is
 * in effect, replace it when it dies, stops or hangs. */
static int
standby_tend(struct engine *e, const struct patch *p, char *msg,
    size_t msg_size)
{
	struct child_slot *c = other_slot(e);
	uint64_t now = futex_now_ns();
	int stopped;

	if (!e->standby || e->failed || p == NULL || atomic_load(&e->down))
		return 0;
	switch (atomic_load(&c->role)) {
	case SLOT_EMPTY: {
		char err[256];
		if (now < e->standby_after_ns ||
		    e->standby_failures >= MAX_FAILED_STARTS)
			return 0;
		region_reset(&c->r);
		if (fork_child(e, c, err, sizeof err) != 0) {
			e->standby_failures++;
			e->standby_after_ns = now + backoff_ns(e->standby_failures);
			snprintf(msg, msg_size, "no standby DSP child: %s", err);
			return 1;
		}
		atomic_store(&c->role, SLOT_STARTING);
		char *text = load_message(p);
		if (slot_command(c, text, STANDBY_COMMAND_WAIT_NS) != 0)
			atomic_store(&c->lost, 1);
		free(text);
		slot_probe(e, c, STANDBY_COMMAND_WAIT_NS);
		return 0;
	}
	case SLOT_STARTING:
		if (atomic_load(&c->lost) || atomic_load(&c->r.sync->dead.v) ||
		    child_down(c, &stopped) || now - c->spawned_ns > STANDBY_START_NS)
			return standby_lose(e, c, 1, msg, msg_size);
		if (atomic_load(&c->r.sync->ready.v) != 0 &&
		    atomic_load(&c->r.sync->applied.v) == c->sent) {
			mark_started(c);
			e->standby_failures = 0;
			atomic_store(&c->role, SLOT_STANDBY);
		}
		return 0;
	case SLOT_STANDBY: {
		if (!atomic_load(&c->lost) && !atomic_load(&c->r.sync->dead.v) &&
		    !child_down(c, &stopped) && !child_hung(e, c))
			return 0;
		/* the JACK thread may be taking it over right now: one wins */
		int want = SLOT_STANDBY;
		if (!atomic_compare_exchange_strong(&c->role, &want, SLOT_STARTING))
			return 0;
		return standby_lose(e, c, 0, msg, msg_size);
	}
	default:
		return 0;
	}
}

/* With a standby ready: the active child is never reaped here, the JACK
 * thread takes over from it at its next cycle.  A hung one is killed for
 * it to see; when no cycle comes (the server stopped) the takeover is done
 * here.  Returns what retire returns, or 0. */
static int
watch_active(struct engine *e, const struct patch *p, int kill_now,
    char *msg, size_t msg_size)
{
	struct child_slot *c = active_slot(e);
	int stopped;
	int failed = atomic_load(&c->r.sync->dead.v) != 0 || child_down(c, &stopped);
	if (!failed && (kill_now || child_hung(e, c))) {
		c->hung = 1;
		kill(c->pid, SIGKILL);
		failed = 1;
	}
	if (!failed)
		return 0;
	uint64_t now = futex_now_ns();
	if (c->failed_ns == 0) {
		c->failed_ns = now;
		return 0;
	}
	if (now - c->failed_ns < TAKEOVER_GRACE_NS)
		return 0;
	hold_cycle(e);
	int took = active_slot(e) == c && take_over(e);
	let_cycle(e);
	return took ? retire(e, c, p, msg, msg_size) : 0;
}

/* The CPU time slot c's child has used, all its threads, ns (0 when
 * there is no child or the kernel does not say). */
static uint64_t
child_cpu_ns(const struct child_slot *c)
{
	clockid_t clock;
	struct timespec ts;

	if (c->pid <= 0 || clock_getcpuclockid(c->pid, &clock) != 0 ||
	    clock_gettime(clock, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whether every thread of slot c's child sleeps: none running or waiting
 * for a CPU, none in disk wait, none stopped.  1 also when /proc does not
 * say (then only the clock can tell a hang, as live). */
static int
child_all_asleep(const struct child_slot *c)
{
	char path[64], line[512];
	int asleep = 1;

	snprintf(path, sizeof path, "/proc/%d/task", (int)c->pid);
	DIR *dir = opendir(path);
	if (dir == NULL)
		return 1;
	for (struct dirent *t; asleep && (t = readdir(dir)) != NULL; ) {
		if (t->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%.16s/stat", (int)c->pid,
		    t->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;       /* a thread that has just ended */
		size_t n = fread(line, 1, sizeof line - 1, f);
		fclose(f);
		line[n] = '\0';
		/* "tid (comm) S ...": the state follows the last ')' */
		const char *paren = strrchr(line, ')');
		if (paren != NULL && paren[1] == ' ' && paren[2] != 'S')
			asleep = 0;
	}
	closedir(dir);
	return asleep;
}

/* Whether slot c's child is hung, offline: judged by what it does, not by
 * the clock.  A child that the machine does not run (other work, SIGSTOP)
 * is slow, not hung; killing it would write a silent block into a render
 * that must not depend on timing.  Hung: it has used hang_ms of CPU time
 * without a heartbeat (a loop), or has not beaten for hang_ms while all
 * its threads sleep (waiting for what will not come). */
static int
child_hung_offline(const struct engine *e, struct child_slot *c)
{
	uint64_t hang_ns = (uint64_t)e->o.hang_ms * 1000000;

	if (!child_hung(e, c))
		return 0;       /* beating, or silent for less than hang_ms */
	return child_cpu_ns(c) - c->heartbeat_cpu_ns >= hang_ns ||
	    child_all_asleep(c);
}

int
engine_supervise(struct engine *e, const struct patch *p, int kill_now,
    char *msg, size_t msg_size)
{
	int status = 0;
	char why[160], who[160] = "";

	msg[0] = '\0';
	reap_late(e);
	if (e->failed)
		return -1;
	if (e->o.no_fork)
		return 0;
	/* a takeover by the JACK thread: report it, free the slot */
	for (int i = 0; i < 2; i++)
		if (atomic_load(&e->slot[i].role) == SLOT_RETIRED)
			return retire(e, &e->slot[i], p, msg, msg_size);

	struct child_slot *c = active_slot(e);
	if (e->standby && c->pid > 0 &&
	    atomic_load(&other_slot(e)->role) == SLOT_STANDBY) {
		int rc = watch_active(e, p, kill_now, msg, msg_size);
		if (rc != 0)
			return rc;
		return standby_tend(e, p, msg, msg_size);
	}

	/* no standby ready: as before a standby existed, replace the child
	 * and replay the patch */
	int had_child = c->pid > 0;     /* 0 after a restart that failed */
	int gone = child_gone(e, c, &status);
	if (!gone && atomic_load(&c->r.sync->dead.v) != 0) {
		/* its fatal-signal handler ran: give it a moment to die */
		for (int i = 0; i < 500 && !gone; i++) {
			usleep(1000);
			gone = child_gone(e, c, &status);
		}
	}
	int stopped = 0;
	if (!gone)
		child_down(c, &stopped);    /* exited meanwhile: seen next time */
	int hung = !gone && stopped == 0 && (kill_now || child_hung(e, c));
	if (!gone && !hung && stopped == 0)
		return standby_tend(e, p, msg, msg_size);

	hold_cycle(e);
	int module = blame_module(e, c);
	int sig = (int)atomic_load(&c->r.sync->dead.v);
	if (hung || stopped != 0) {
		kill_reap(e, c->pid, &status);
		c->pid = 0;
	} else if (sig == 0 && WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
	}
	if (!had_child)
		snprintf(why, sizeof why, "could not be started");
	else
		death_reason(e, hung, stopped, sig, status, why, sizeof why);
	if (had_child)
		death_module(module, p, why, who, sizeof who);
	/* a child that never started: its fault unless killed from outside
	 * while starting (there is no exit status to read: `status` is
	 * still 0, which reads as a clean exit) */
	int own_fault = had_child ? hung || atomic_load(&c->r.sync->dead.v) != 0 ||
	    (stopped == 0 && WIFEXITED(status)) : !c->start_killed;
	count_failure(e, c, own_fault, hung);
	stop_dsp(e, c);

	if (e->failed_starts >= MAX_FAILED_STARTS)
		return give_up(e, why, who, msg, msg_size);
	/* back off on repeated early deaths: 0, 100, 200, 400 ms */
	if (e->failed_starts > 0)
		usleep((useconds_t)(backoff_ns(e->failed_starts) / 1000));

	char err[256] = "";
	region_reset(&c->r);
	/* a failed start is counted at the next call, which finds no child */
	if (start_dsp(e, c, err, sizeof err) != 0) {
		snprintf(msg, msg_size, "DSP child %s%s; restart failed: %s", why,
		    who, err);
		return 1;
	}
	/* live, the notes sounding go to the new child with its first cycle
	 * (offline, the render replays its score instead) */
	unsigned notes = 0;
	if (e->o.live) {
		e->n_carry = held_replay(&e->held, e->carry, REGION_MAX_EVENTS);
		notes = held_count(&e->held);
	}
	let_cycle(e);
	if (p != NULL) {
		slot_load(c, p);     /* a child dying meanwhile is seen next time */
		slot_probe(e, c, 0);
	}
	e->restarts++;
	char held[80];
	held_phrase(notes, held, sizeof held);
	snprintf(msg, msg_size, "DSP child %s%s; restarted (restart %lu, pid %d)%s",
	    why, who, e->restarts, (int)c->pid, held);
	return 1;
}

int
engine_retry(struct engine *e, const struct patch *p, char *msg, size_t msg_size)
{
	char err[256] = "";
	struct child_slot *c = active_slot(e);
	msg[0] = '\0';
	if (!e->failed)
		return 0;
	region_reset(&c->r);
	if (start_dsp(e, c, err, sizeof err) != 0) {
		snprintf(msg, msg_size, "DSP child could not be started again: %s", err);
		return -1;
	}
	e->failed = 0;
	e->failed_starts = 0;
	e->standby_failures = 0;
	e->standby_after_ns = 0;
	let_cycle(e);
	slot_load(c, p);
	slot_probe(e, c, 0);
	e->restarts++;
	snprintf(msg, msg_size, "the patch changed: DSP child started again (restart "
	    "%lu, pid %d)", e->restarts, (int)c->pid);
	return 1;
}

int
engine_poll_event(struct engine *e, char *buf, size_t size)
{
	const void *msg;
	/* a standby's events repeat the active child's (the same patch):
	 * dropped */
	struct child_slot *sb = live_standby(e);
	while (sb != NULL && ring_msg_peek(&sb->r.events, &msg) > 0)
		ring_msg_release(&sb->r.events);
	struct ring *events = &active_slot(e)->r.events;
	int n = ring_msg_peek(events, &msg);
	if (n <= 0 || size == 0)
		return 0;
	/* a message longer than buf is cut, not left to block the ring */
	size_t len = (size_t)n < size ? (size_t)n : size;
	memcpy(buf, msg, len);
	ring_msg_release(events);
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
	const struct child_slot *c = active_slot(e);
	const struct child_slot *sb = other_slot(e);
	int sb_role = e->standby ? atomic_load(&sb->role) : SLOT_EMPTY;
	info->child_pid = c->pid;
	info->standby_pid = sb_role == SLOT_STANDBY || sb_role == SLOT_STARTING ?
	    sb->pid : 0;
	info->standby = !e->standby ? ENGINE_STANDBY_OFF :
	    sb_role == SLOT_STANDBY ? ENGINE_STANDBY_READY :
	    sb_role == SLOT_STARTING ? ENGINE_STANDBY_STARTING : ENGINE_STANDBY_NONE;
	info->standby_lost = e->standby_lost;
	info->takeovers = atomic_load(&e->takeovers);
	info->cycles = e->cycles;
	info->late = e->late;
	info->down = e->downs;
	info->restarts = e->restarts;
	info->shed = e->shed;
	info->failed = e->failed;
	info->crash_streak = e->failed_starts;
	info->crash_limit = MAX_FAILED_STARTS;
	info->last_own_fault = e->last_own_fault;
	info->threads = e->o.threads;
	info->rt_priority = e->o.rt_priority;
	guard_totals(&e->guard, &info->clipped, &info->nonfinite);
	info->voices_sounding = atomic_load(&e->down) ? 0 :
	    atomic_load_explicit(&c->r.sync->voices_sounding.v,
	    memory_order_relaxed);
	info->busy_ns = info->idle_ns = 0;
	info->sleeps = info->steals = info->contended = 0;
	/* e->o.threads is the parent's own copy, within REGION_MAX_THREADS */
	for (unsigned t = 0; t < e->o.threads; t++) {
		const struct pool_thread_stats *st = &c->r.stats[t];
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
	const struct region_cost *cost = active_slot(e)->r.cost;
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
	return &active_slot(e)->r;
}

void
engine_kill_child(struct engine *e)
{
	pid_t pid = active_slot(e)->pid;
	if (pid > 0)
		kill(pid, SIGKILL);
}
