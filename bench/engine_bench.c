/*
 * bench/engine_bench.c — the engine measured end to end, to answer the seed
 * question of DESIGN.md section 0 with figures from one run: what the
 * process boundary costs per cycle next to a raw cross-process futex
 * ping-pong; how far the thread pool scales on a 64-voice patch; the hybrid
 * (forked DSP child) against --no-fork (threads in one process) for
 * throughput, peak memory and parameter-update latency; how much audio a
 * killed child costs; and the memory of the built-in patch.  Prints
 * markdown sections and appends them to the file named by --out.  It
 * reports and never asserts.
 *
 *   engine_bench [--out FILE]
 *
 * The engine starts its DSP child by re-executing /proc/self/exe with
 * --dsp-child, so this program answers to that flag.  It also re-executes
 * itself with --probe for the measurements that include peak memory, so
 * that each runs in a fresh process whose high-water mark (VmHWM) no
 * earlier measurement has raised.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "child.h"
#include "dsp_util.h"
#include "engine.h"
#include "futex.h"
#include "graph.h"
#include "log.h"
#include "patch.h"
#include "voice_patch.h"
#include "region.h"

#define RATE 48000u
#define BLOCK 256u                 /* frames per cycle of the voice renders */
#define CHANNELS 2u                /* in.N and out.N of every patch here */
#define HANDOFF_FRAMES 64u         /* frames per cycle of the handoff test */
#define HANDOFF_CYCLES 20000u      /* timed round trips */
#define HANDOFF_WARMUP 2000u       /* untimed round trips before them */
#define RENDER_SECONDS 20.0        /* audio rendered per scaling run */
#define SCALING_ROUNDS 3u          /* interleaved rounds; the best is kept */
#define MEMORY_SECONDS 5.0         /* audio rendered before reading VmHWM */
#define WARM_BLOCKS 600u           /* blocks until all 64 voices sound */
#define LATENCY_TRIALS 200u        /* per way of timing a command */
#define COUNT_TRIALS 20u           /* per way of counting affected blocks */
#define MAX_AFFECT 100u            /* blocks to wait for an affected one */
#define GAIN_PATCH 0.05f           /* amp.gain as the voice patch sets it */
#define GAIN_SET 0.5f              /* what the parameter update sets */
#define PARENT_SPIN_NS 20000u      /* src/engine.c: CYCLE_SPIN_NS */
#define CHILD_SPIN_NS 50000u       /* src/child.c: ENGINE_SPIN_NS */
#define DEADLINE_ALPHA 0.75        /* paced cycles wait this much of a period */
#define PERIOD_NS ((uint64_t)BLOCK * 1000000000u / RATE)
#define BLOCK_MS (1000.0 * BLOCK / RATE)


/* The --out file, opened for appending; NULL without --out. */
static FILE *out_file;

/* The first warning the DSP side posted (real-time scheduling refused...). */
static char engine_warning[256];

/* Output buffers of one engine: CHANNELS blocks of BLOCK frames. */
struct io {
	float buf[CHANNELS][BLOCK];
	float *ch[CHANNELS];
};

/* Print a piece of the report on stdout and append it to the --out file. */
static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
emit(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (out_file != NULL) {
		va_start(ap, fmt);
		vfprintf(out_file, fmt, ap);
		va_end(ap);
	}
}

/* Flush the report so far (before a fork, and after each section). */
static void
emit_flush(void)
{
	fflush(stdout);
	if (out_file != NULL)
		fflush(out_file);
}

/* CLOCK_MONOTONIC now, in nanoseconds. */
static uint64_t
now_ns(void)
{
	return futex_now_ns();
}

/* Sleep until the absolute CLOCK_MONOTONIC time t (ns). */
static void
sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000u), (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* One spin-loop hint to the CPU. */
static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Order two doubles for qsort. */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile (0..1) of n samples, which it sorts. */
static double
quantile(double *v, size_t n, double q)
{
	qsort(v, n, sizeof *v, cmp_double);
	return v[(size_t)(q * (double)(n - 1) + 0.5)];
}

/* Online CPUs. */
static unsigned
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

/* A point in time for CPU accounting: the machine's busy time and this
 * program's own (itself and its reaped descendants), in seconds. */
struct cpu_mark {
	double t, busy, own;
};

/* Take a CPU accounting mark now. */
static struct cpu_mark
cpu_mark(void)
{
	struct cpu_mark m = { (double)now_ns() / 1e9, 0, 0 };
	unsigned long long v[8] = { 0 };
	struct rusage self, children;
	FILE *f = fopen("/proc/stat", "r");

	if (f != NULL) {
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8)
			/* user nice system [idle iowait] irq softirq steal */
			m.busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) /
			    (double)sysconf(_SC_CLK_TCK);
		fclose(f);
	}
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &children);
	m.own = (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec +
	    children.ru_utime.tv_sec + children.ru_stime.tv_sec) +
	    (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec +
	    children.ru_utime.tv_usec + children.ru_stime.tv_usec) / 1e6;
	return m;
}

/* CPUs kept busy by other processes between two marks (the DSP child
 * counts as ours once reaped). */
static double
other_load(struct cpu_mark a, struct cpu_mark b)
{
	double other = (b.busy - a.busy) - (b.own - a.own);

	return other > 0 && b.t > a.t ? other / (b.t - a.t) : 0.0;
}

/* The kB figure of a "Key:  N kB" line of /proc/PID/status (pid 0: this
 * process), or -1 when it cannot be read. */
static long
status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	long kb = -1;
	size_t klen = strlen(key);
	FILE *f;

	if (pid > 0)
		snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof path, "/proc/self/status");
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, klen) == 0) {
			kb = strtol(line + klen, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* Point the channel pointers of io at its buffers. */
static void
io_init(struct io *io)
{
	memset(io->buf, 0, sizeof io->buf);
	for (unsigned c = 0; c < CHANNELS; c++)
		io->ch[c] = io->buf[c];
}

/* Whether every output sample of io is (practically) zero. */
static int
io_silent(const struct io *io)
{
	for (unsigned c = 0; c < CHANNELS; c++)
		for (unsigned i = 0; i < BLOCK; i++)
			if (fabsf(io->buf[c][i]) > 1e-6f)
				return 0;
	return 1;
}

/* Fold io's output into a running FNV-1a hash. */
static uint64_t
io_hash(const struct io *io, uint64_t h)
{
	const unsigned char *p = (const unsigned char *)io->buf;

	for (size_t i = 0; i < sizeof io->buf; i++)
		h = (h ^ p[i]) * 1099511628211u;
	return h;
}

/* The note events of voice-render block b, as bench/bench.c's bench_voices
 * plays them: a note-on every 8 blocks cycling through the notes, note-offs
 * from the 64th note-on on; all voices sound.  Returns the event count. */
static unsigned
voice_events(unsigned long b, struct region_midi *ev)
{
	unsigned n = 0;

	if (b % 8 == 0) {
		unsigned k = (unsigned)((b / 8) % 64);
		ev[n++] = (struct region_midi){ .frame = 0, .kind = NOTE_EVENT_ON,
		    .note = (uint8_t)(36 + k % 48),
		    .velocity = (uint8_t)(40 + (k * 37) % 88) };
	}
	if (b % 8 == 4 && b >= 8 * 64)
		ev[n++] = (struct region_midi){ .frame = 0, .kind = NOTE_EVENT_OFF,
		    .note = (uint8_t)(36 + ((b / 8) - 64) % 48) };
	return n;
}

/* A patch parsed from command-language text, with CHANNELS ins and outs. */
static struct patch *
load_patch(const char *text, const char *name)
{
	struct patch *p = xmalloc(sizeof *p);
	struct patch_error err;
	char msg[512];

	patch_init(p, CHANNELS, CHANNELS);
	if (patch_load_text(p, text, name, &err) != 0) {
		patch_error_format(&err, msg, sizeof msg);
		fatal("engine_bench: %s", msg);
	}
	return p;
}

/* Read the DSP side's pending event messages, keeping the first warning. */
static void
drain_engine_events(struct engine *e)
{
	char msg[512];

	while (engine_poll_event(e, msg, sizeof msg) > 0) {
		if (strncmp(msg, "error", 5) == 0)
			fatal("engine_bench: the DSP side said: %s", msg);
		if (engine_warning[0] == '\0')
			snprintf(engine_warning, sizeof engine_warning, "%.200s", msg);
	}
}

/* Start an engine with `threads` DSP threads (a forked child, or threads
 * in this process with no_fork) and put patch p into effect in it. */
static struct engine *
start_engine(const struct patch *p, unsigned threads, int no_fork,
    unsigned max_block)
{
	struct engine_options o = {
		.rate = RATE, .max_block = max_block,
		.n_inputs = p->n_inputs, .n_outputs = p->n_outputs,
		.threads = threads, .no_fork = no_fork,
	};
	char err[256];
	struct engine *e = engine_start(&o, err, sizeof err);

	if (e == NULL)
		fatal("engine_bench: %s", err);
	if (engine_load(e, p) != 0 || engine_sync(e, 10000) != 0)
		fatal("engine_bench: the DSP side did not take the patch");
	drain_engine_events(e);
	return e;
}

/* Run one voice-pattern block on e into io; returns the engine status. */
static enum engine_status
voice_cycle(struct engine *e, unsigned long b, struct io *io,
    uint64_t deadline_ns)
{
	struct region_midi ev[2];
	unsigned n = voice_events(b, ev);

	return engine_cycle(e, NULL, io->ch, BLOCK, ev, n, deadline_ns);
}

/* ----------------------------------------------- 1. handoff round trip */

/* One direction of the raw ping-pong: a futex word and a sleeper flag. */
struct chan {
	_Atomic uint32_t word;     /* the last counter value sent */
	_Atomic uint32_t sleeping; /* 1 while the reader may be in futex_wait */
	uint32_t pad[14];
};

/* The shared page of the raw ping-pong: parent -> child, child -> parent. */
struct pingpong {
	struct chan ping;
	struct chan pong;
};

/* Percentiles of one latency distribution, in microseconds. */
struct dist {
	double p50, p99, p999, max;
};

/* The percentiles of n samples in µs (sorts them). */
static struct dist
dist_of(double *us, size_t n)
{
	struct dist d;

	d.p50 = quantile(us, n, 0.50);
	d.p99 = quantile(us, n, 0.99);
	d.p999 = quantile(us, n, 0.999);
	d.max = us[n - 1];
	return d;
}

/* Send v on c and wake its reader: always (spin_ns 0), or only when it
 * flagged itself asleep (the engine's protocol). */
static void
chan_send(struct chan *c, uint32_t v, uint64_t spin_ns)
{
	atomic_store_explicit(&c->word, v, memory_order_seq_cst);
	if (spin_ns == 0 || atomic_load_explicit(&c->sleeping, memory_order_seq_cst))
		futex_wake(&c->word, 1);
}

/* Wait until c carries v: poll for spin_ns, then sleep on the futex. */
static void
chan_recv(struct chan *c, uint32_t v, uint64_t spin_ns)
{
	if (spin_ns != 0) {
		uint64_t until = now_ns() + spin_ns;
		do {
			for (int i = 0; i < 64; i++) {
				if (atomic_load_explicit(&c->word, memory_order_acquire) == v)
					return;
				cpu_relax();
			}
		} while (now_ns() < until);
	}
	for (;;) {
		atomic_store_explicit(&c->sleeping, 1, memory_order_seq_cst);
		uint32_t cur = atomic_load_explicit(&c->word, memory_order_seq_cst);
		if (cur == v)
			break;
		futex_wait(&c->word, cur, NULL);
	}
	atomic_store_explicit(&c->sleeping, 0, memory_order_relaxed);
}

/* Raw cross-process round trips through two futex words in a
 * MAP_SHARED|MAP_ANONYMOUS page, the parent spinning parent_spin ns and
 * the forked process child_spin ns before sleeping (0: always sleep). */
static struct dist
raw_pingpong(uint64_t parent_spin, uint64_t child_spin)
{
	struct pingpong *pp = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double *us = xcalloc(HANDOFF_CYCLES, sizeof *us);
	uint32_t total = HANDOFF_WARMUP + HANDOFF_CYCLES;

	if (pp == MAP_FAILED)
		fatal("engine_bench: mmap: %s", strerror(errno));
	emit_flush();
	pid_t pid = fork();
	if (pid < 0)
		fatal("engine_bench: fork: %s", strerror(errno));
	if (pid == 0) {
		for (uint32_t i = 1; i <= total; i++) {
			chan_recv(&pp->ping, i, child_spin);
			chan_send(&pp->pong, i, child_spin ? parent_spin : 0);
		}
		_exit(0);
	}
	for (uint32_t i = 1; i <= total; i++) {
		uint64_t t0 = now_ns();
		chan_send(&pp->ping, i, parent_spin ? child_spin : 0);
		chan_recv(&pp->pong, i, parent_spin);
		if (i > HANDOFF_WARMUP)
			us[i - HANDOFF_WARMUP - 1] = (double)(now_ns() - t0) / 1e3;
	}
	waitpid(pid, NULL, 0);
	munmap(pp, 4096);
	struct dist d = dist_of(us, HANDOFF_CYCLES);
	free(us);
	return d;
}

/* Timed engine_cycle calls of HANDOFF_FRAMES frames on the empty poly-1
 * patch, sync mode, no deadline. */
static struct dist
engine_handoff(unsigned threads, int no_fork, unsigned long *bad)
{
	struct patch *p = xmalloc(sizeof *p);
	double *us = xcalloc(HANDOFF_CYCLES, sizeof *us);
	static float l[HANDOFF_FRAMES], r[HANDOFF_FRAMES];
	float *out[CHANNELS] = { l, r };

	patch_init(p, CHANNELS, CHANNELS);
	struct engine *e = start_engine(p, threads, no_fork, HANDOFF_FRAMES);
	*bad = 0;
	for (unsigned i = 0; i < HANDOFF_WARMUP + HANDOFF_CYCLES; i++) {
		uint64_t t0 = now_ns();
		enum engine_status st = engine_cycle(e, NULL, out, HANDOFF_FRAMES,
		    NULL, 0, 0);
		uint64_t t1 = now_ns();
		*bad += st != ENGINE_OK;
		if (i >= HANDOFF_WARMUP)
			us[i - HANDOFF_WARMUP] = (double)(t1 - t0) / 1e3;
	}
	engine_stop(e);
	struct dist d = dist_of(us, HANDOFF_CYCLES);
	free(us);
	free(p);
	return d;
}

/* Section 1: the engine's cycle next to the raw futex ping-pong. */
static void
section_handoff(void)
{
	unsigned n = online_cpus();
	unsigned long bad[4];

	fprintf(stderr, "engine_bench: 1. handoff round trip\n");
	struct cpu_mark m0 = cpu_mark();
	struct dist raw = raw_pingpong(0, 0);
	struct dist raw_spin = raw_pingpong(PARENT_SPIN_NS, CHILD_SPIN_NS);
	struct dist hy1 = engine_handoff(1, 0, &bad[0]);
	struct dist hyn = engine_handoff(n, 0, &bad[1]);
	struct dist nf1 = engine_handoff(1, 1, &bad[2]);
	struct dist nfn = engine_handoff(n, 1, &bad[3]);
	double other = other_load(m0, cpu_mark());

	emit("## 1. Handoff round trip per cycle (empty poly-1 patch)\n\n");
	emit("%u timed cycles of %u frames after %u warm-up, sync mode, deadline 0; "
	    "each `engine_cycle` call timed with CLOCK_MONOTONIC.  Raw: a forked "
	    "process bounces two futex words in a MAP_SHARED|MAP_ANONYMOUS page, "
	    "same counts; \"spin\" polls %u µs (parent) / %u µs (other side) before "
	    "sleeping and wakes only a sleeper, as the engine does "
	    "(src/engine.c CYCLE_SPIN_NS, src/child.c ENGINE_SPIN_NS).\n\n",
	    HANDOFF_CYCLES, HANDOFF_FRAMES, HANDOFF_WARMUP,
	    PARENT_SPIN_NS / 1000, CHILD_SPIN_NS / 1000);
	emit("| measure | p50 µs | p99 µs | p99.9 µs | max µs | cycles not OK |\n");
	emit("|---|---:|---:|---:|---:|---:|\n");
#define ROW(label, d, b) emit("| %s | %.2f | %.2f | %.2f | %.1f | %s |\n", \
    label, (d).p50, (d).p99, (d).p999, (d).max, b)
	char b0[4][24];
	for (int i = 0; i < 4; i++)
		snprintf(b0[i], sizeof b0[i], "%lu", bad[i]);
	char label[4][96];
	snprintf(label[0], sizeof label[0], "engine, hybrid (forked child), 1 thread");
	snprintf(label[1], sizeof label[1], "engine, hybrid (forked child), %u threads", n);
	snprintf(label[2], sizeof label[2], "engine, --no-fork, 1 thread");
	snprintf(label[3], sizeof label[3], "engine, --no-fork, %u threads", n);
	ROW("raw futex ping-pong, always sleep and wake", raw, "—");
	ROW("raw futex ping-pong, spin then sleep", raw_spin, "—");
	ROW(label[0], hy1, b0[0]);
	ROW(label[1], hyn, b0[1]);
	ROW(label[2], nf1, b0[2]);
	ROW(label[3], nfn, b0[3]);
#undef ROW
	emit("\n| measure | value | aim |\n|---|---:|---|\n");
	emit("| engine p50 (hybrid, 1 thread) / raw spin p50 | %.2f× | ≤ 2× |\n",
	    hy1.p50 / raw_spin.p50);
	emit("| engine p50 (hybrid, 1 thread) / raw always-sleep p50 | %.2f× | |\n",
	    hy1.p50 / raw.p50);
	emit("| engine p50 (hybrid, %u threads) / raw spin p50 | %.2f× | |\n", n,
	    hyn.p50 / raw_spin.p50);
	emit("| process boundary: hybrid p50 − --no-fork p50 (1 thread) | %+.2f µs | |\n\n",
	    hy1.p50 - nf1.p50);
	emit("Other processes kept %.2f of the %u CPUs busy meanwhile.\n\n", other, n);
	emit_flush();
}

/* ---------------------------------------------------------- 2. scaling */

/* Render `seconds` of the voice pattern on e as fast as it goes; returns
 * the wall time in seconds, counts cycles not ENGINE_OK into *bad and
 * hashes the output into *hash. */
static double
render_voices(struct engine *e, double seconds, unsigned long *bad,
    uint64_t *hash)
{
	static struct io io;
	unsigned long blocks = (unsigned long)(seconds * RATE) / BLOCK;

	io_init(&io);
	*bad = 0;
	*hash = 14695981039346656037u;
	uint64_t t0 = now_ns();
	for (unsigned long b = 0; b < blocks; b++) {
		*bad += voice_cycle(e, b, &io, 0) != ENGINE_OK;
		*hash = io_hash(&io, *hash);
	}
	return (double)(now_ns() - t0) / 1e9;
}

/* The same render with no engine and no pool: graph_process on this
 * thread, as bench/bench.c does it; returns the wall time in seconds. */
static double
render_in_thread(const struct patch *p, double seconds, uint64_t *hash)
{
	static struct io io;
	struct region_midi ev[2];
	unsigned long blocks = (unsigned long)(seconds * RATE) / BLOCK;
	struct graph *g = graph_compile(p, (float)RATE, NULL);

	io_init(&io);
	*hash = 14695981039346656037u;
	uint64_t t0 = now_ns();
	for (unsigned long b = 0; b < blocks; b++) {
		unsigned n = voice_events(b, ev);
		for (unsigned i = 0; i < n; i++) {
			if (ev[i].kind == NOTE_EVENT_ON)
				graph_note_on(g, 0, ev[i].note, ev[i].velocity);
			else
				graph_note_off(g, 0, ev[i].note);
		}
		graph_process(g, NULL, io.ch, BLOCK);
		*hash = io_hash(&io, *hash);
	}
	double wall = (double)(now_ns() - t0) / 1e9;
	graph_free(g);
	return wall;
}

/* One configuration of the scaling table over its rounds: the best wall
 * time, the other processes' load during that run, every wall time. */
struct scaling_row {
	double best, best_other;
	double best_tasks;               /* Σ threads' task time in that run, s */
	double walls[SCALING_ROUNDS];
	unsigned long bad;
};

/* Record one run of a scaling configuration. */
static void
scaling_note(struct scaling_row *row, unsigned round, double wall, double other,
    double tasks)
{
	row->walls[round] = wall;
	if (round == 0 || wall < row->best) {
		row->best = wall;
		row->best_other = other;
		row->best_tasks = tasks;
	}
}

/* Seconds the engine's DSP threads have spent inside tasks, summed. */
static double
task_seconds(const struct engine *e, unsigned threads)
{
	const struct region *r = engine_region(e);
	uint64_t ns = 0;

	for (unsigned t = 0; t < threads; t++)
		ns += atomic_load_explicit(&r->stats[t].busy_ns, memory_order_relaxed);
	return (double)ns / 1e9;
}

/* Emit one scaling row: best wall, real-time factor, speedup against
 * `ref` (the best of 1 thread), task time against ref_tasks, the other
 * load, every round's wall. */
static void
scaling_emit(const char *label, const struct scaling_row *row, double ref,
    double ref_tasks, const char *bad, const char *aim)
{
	char walls[128], tasks[64] = "—";
	size_t used = 0;

	for (unsigned r = 0; r < SCALING_ROUNDS; r++)
		used += (size_t)snprintf(walls + used, sizeof walls - used, "%s%.2f",
		    r ? " / " : "", row->walls[r]);
	if (row->best_tasks > 0)
		snprintf(tasks, sizeof tasks, "%.2f s (%.2f×)", row->best_tasks,
		    row->best_tasks / ref_tasks);
	emit("| %s | %.2f s | %.1f× | %.2f× | %s | %s | %.2f | %s | %s |\n", label,
	    row->best, RENDER_SECONDS / row->best, ref / row->best, tasks, bad,
	    row->best_other, walls, aim);
}

/* Make the calling thread SCHED_FIFO one above the DSP threads (as JACK's
 * callback thread is), not inherited by forked children; or back to normal
 * scheduling with on 0.  Returns 0, or -1 when not allowed. */
static int
driver_realtime(int on)
{
	struct sched_param sp = { .sched_priority = 0 };

	if (!on)
		return sched_setscheduler(0, SCHED_OTHER, &sp);
	sp.sched_priority = sched_get_priority_max(SCHED_FIFO) - 9;
	return sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp);
}

/* One engine run of the scaling table: start, render, read the task time,
 * stop; noted as round r of row.  Returns the output hash. */
static uint64_t
scaling_run(struct scaling_row *row, unsigned r, const struct patch *p,
    unsigned threads, int no_fork)
{
	unsigned long bad;
	uint64_t hash;
	struct cpu_mark m0 = cpu_mark();
	struct engine *e = start_engine(p, threads, no_fork, BLOCK);
	double wall = render_voices(e, RENDER_SECONDS, &bad, &hash);
	double tasks = task_seconds(e, threads);

	engine_stop(e);
	scaling_note(row, r, wall, other_load(m0, cpu_mark()), tasks);
	row->bad += bad;
	return hash;
}

/* Emit a scaling row with a label, its cycles not OK and an aim. */
static void
scaling_emit_row(const char *label, const struct scaling_row *row,
    const struct scaling_row *one, const char *aim)
{
	char bad[24];

	snprintf(bad, sizeof bad, "%lu", row->bad);
	scaling_emit(label, row, one->best, one->best_tasks, bad, aim);
}

/* The hybrid and --no-fork rows at N threads, for section 3. */
static struct scaling_row seed_rows[2];

/* Section 2: the 64-voice render on 1 .. N+1 DSP threads (hybrid), on N
 * threads with a real-time driver thread, and on N threads with --no-fork,
 * in SCALING_ROUNDS interleaved rounds, the best of each kept. */
static void
section_scaling(void)
{
	unsigned n = online_cpus();
	unsigned top = n + 1 < POOL_MAX_THREADS ? n + 1 : POOL_MAX_THREADS;
	struct patch *p = load_patch(voice_patch, "voice patch");
	struct scaling_row row[POOL_MAX_THREADS + 3];
	const unsigned rt_row = top + 1, nofork_row = top + 2;
	int rt_driver = 1;                /* allowed to run the driver SCHED_FIFO */
	uint64_t hash, hash0 = 0;
	int same = 1;

	fprintf(stderr, "engine_bench: 2. scaling\n");
	memset(row, 0, sizeof row);
	for (unsigned r = 0; r < SCALING_ROUNDS; r++) {
		fprintf(stderr, "engine_bench:    round %u: in-thread", r + 1);
		struct cpu_mark m0 = cpu_mark();
		double wall = render_in_thread(p, RENDER_SECONDS, &hash);
		scaling_note(&row[0], r, wall, other_load(m0, cpu_mark()), 0);
		if (r == 0)
			hash0 = hash;
		same &= hash == hash0;
		for (unsigned t = 1; t <= top; t++) {
			fprintf(stderr, ", %u", t);
			same &= scaling_run(&row[t], r, p, t, 0) == hash0;
		}
		fprintf(stderr, " threads, %u --no-fork", n);
		same &= scaling_run(&row[nofork_row], r, p, n, 1) == hash0;
		if (rt_driver && driver_realtime(1) == 0) {
			fprintf(stderr, ", %u with a real-time driver", n);
			same &= scaling_run(&row[rt_row], r, p, n, 0) == hash0;
			driver_realtime(0);
		} else {
			rt_driver = 0;
		}
		fprintf(stderr, "\n");
	}
	seed_rows[0] = row[n];
	seed_rows[1] = row[nofork_row];

	emit("## 2. Scaling: 64-voice patch, blocks of %u\n\n", BLOCK);
	emit("%.0f s of audio rendered as fast as possible (deadline 0), all 64 voices "
	    "sounding (a note-on every 8 blocks, as bench/bench.c); %u online CPUs; "
	    "the hybrid engine unless said otherwise.  %u interleaved rounds; the "
	    "table gives the best wall time of each configuration and how many CPUs "
	    "other processes kept busy during that run (the DSP threads run "
	    "SCHED_FIFO when allowed; the driving parent thread here runs at normal "
	    "priority, as in `forksynth --render`).  Task time: what the pool's "
	    "threads spent inside tasks (the region's per-thread busy_ns), summed, "
	    "and against 1 thread: above 1× the same work got slower when shared "
	    "(caches, memory bandwidth); the rest of threads × wall is scheduling, "
	    "waiting and the serial part (handoff, event routing, the sum of the "
	    "voices).\n\n", RENDER_SECONDS, n, SCALING_ROUNDS);
	emit("| threads | wall time (best) | real-time factor | speedup vs 1 thread | "
	    "task time, Σ threads | cycles not OK | CPUs busy with other processes | "
	    "every round, s | aim |\n");
	emit("|---|---:|---:|---:|---:|---:|---:|---|---|\n");
	scaling_emit("no engine: graph_process on the calling thread", &row[0],
	    row[1].best, row[1].best_tasks, "—", "");
	for (unsigned t = 1; t <= top; t++) {
		char label[48];
		snprintf(label, sizeof label, "%u%s", t, t > n ? " (oversubscribed)" : "");
		scaling_emit_row(label, &row[t], &row[1], t == 2 ? "≥ 1.8× on 2 cores" : "");
	}
	char label[96];
	snprintf(label, sizeof label, "%u, --no-fork (threads in this process)", n);
	scaling_emit_row(label, &row[nofork_row], &row[1], "");
	if (rt_driver) {
		snprintf(label, sizeof label, "%u, driver thread SCHED_FIFO above the "
		    "DSP threads (as a JACK callback)", n);
		scaling_emit_row(label, &row[rt_row], &row[1], "");
	} else {
		emit("| %u, real-time driver thread | not allowed here | | | | | | | |\n", n);
	}
	emit("\nOutput bit-identical across every run, thread count, mode and the "
	    "in-thread graph: %s.\n\n", same ? "yes" : "NO");
	emit_flush();
	free(p);
}

/* ------------------------------------------------------- probes (fresh) */

/* What a seed-question probe measures for one mode. */
struct seed_result {
	double wall;                     /* s for RENDER_SECONDS of audio */
	unsigned long bad;               /* cycles not OK in that render */
	long parent_hwm_kb, child_hwm_kb;
	double sync_p50, sync_p99;       /* command -> engine_sync returned, µs */
	double spin_p50, spin_p99;       /* command -> applied counter moved, µs */
	unsigned long pair_mismatch;     /* reference and test differed unprompted */
	unsigned synced_valid, paced_valid;
	unsigned synced_k[COUNT_TRIALS]; /* blocks to the first affected one */
	unsigned paced_k[COUNT_TRIALS];
	unsigned long pair_bad;          /* cycles not OK in the latency part */
};

/* What the built-in-patch memory probe measures. */
struct memory_result {
	long parent_hwm_kb, child_hwm_kb;
	unsigned long bad;
	unsigned poly;
	double wall;
};

/* Two engines fed the same cycles: `ref` gets no command, `e` does. */
struct pair {
	struct engine *ref, *e;
	unsigned long block;             /* next block of the note pattern */
	struct io a, b;
	unsigned long bad;               /* cycles not ENGINE_OK */
};

/* One block of the note pattern on both engines; returns 1 when their
 * outputs are bit-identical. */
static int
pair_step(struct pair *pr)
{
	pr->bad += voice_cycle(pr->ref, pr->block, &pr->a, 0) != ENGINE_OK;
	pr->bad += voice_cycle(pr->e, pr->block, &pr->b, 0) != ENGINE_OK;
	pr->block++;
	return memcmp(pr->a.buf, pr->b.buf, sizeof pr->a.buf) == 0;
}

/* Send `set amp.gain G` to e and return the µs until it is in effect:
 * until engine_sync returns (spin 0) or until the region's applied
 * counter moves, polled with sched_yield (spin 1). */
static double
command_in_effect(struct engine *e, float gain, int spin)
{
	char line[64];
	const struct region *r = engine_region(e);
	uint32_t applied = atomic_load(&r->sync->applied.v);

	snprintf(line, sizeof line, "set amp.gain %g", (double)gain);
	uint64_t t0 = now_ns();
	if (engine_command(e, line) != 0)
		fatal("engine_bench: engine_command failed");
	if (spin) {
		while (atomic_load(&r->sync->applied.v) == applied) {
			sched_yield();  /* the woken control thread may share this CPU */
			if (now_ns() - t0 > 1000000000u)
				fatal("engine_bench: a command took over 1 s");
		}
	} else if (engine_sync(e, 1000) != 0) {
		fatal("engine_bench: engine_sync timed out");
	}
	uint64_t t1 = now_ns();
	if (spin && engine_sync(e, 1000) != 0)
		fatal("engine_bench: engine_sync timed out");
	return (double)(t1 - t0) / 1e3;
}

/* Put e's gain back to the patch's value and run both engines until they
 * agree for 3 blocks in a row; returns 0, or -1 if they never do. */
static int
pair_settle(struct pair *pr)
{
	command_in_effect(pr->e, GAIN_PATCH, 0);
	for (unsigned i = 0, run = 0; i < 1000; i++) {
		run = pair_step(pr) ? run + 1 : 0;
		if (run == 3)
			return 0;
	}
	return -1;
}

/* Blocks run after `set amp.gain` until e's output first differs from
 * ref's (1: the very next block); 0 if none within MAX_AFFECT.  Synced:
 * the command is sent with the engines idle and engine_sync awaited before
 * the next cycle.  Paced: the cycles run at real-time pace, and the
 * command lands at a point of a period spread over trials, unsynced. */
static unsigned
count_affected(struct pair *pr, int paced, unsigned trial)
{
	char line[64];

	snprintf(line, sizeof line, "set amp.gain %g", (double)GAIN_SET);
	if (!paced) {
		usleep(2000);
		command_in_effect(pr->e, GAIN_SET, 0);
		for (unsigned k = 1; k <= MAX_AFFECT; k++)
			if (!pair_step(pr))
				return k;
		return 0;
	}
	uint64_t start = now_ns();
	pair_step(pr);
	sleep_until(start + (uint64_t)(((double)trial + 0.5) / COUNT_TRIALS * (double)PERIOD_NS));
	if (engine_command(pr->e, line) != 0)
		fatal("engine_bench: engine_command failed");
	unsigned found = 0;
	for (unsigned k = 1; k <= MAX_AFFECT && found == 0; k++) {
		sleep_until(start + k * PERIOD_NS);
		if (!pair_step(pr))
			found = k;
	}
	if (engine_sync(pr->e, 1000) != 0)
		fatal("engine_bench: engine_sync timed out");
	return found;
}

/* The parameter-update latency of one mode: a test engine and a reference
 * engine in lockstep on the voice patch. */
static void
latency_trials(const struct patch *p, unsigned threads, int no_fork,
    struct seed_result *res)
{
	struct pair *pr = xcalloc(1, sizeof *pr);
	double *sync_us = xcalloc(LATENCY_TRIALS, sizeof *sync_us);
	double *spin_us = xcalloc(LATENCY_TRIALS, sizeof *spin_us);

	pr->ref = start_engine(p, threads, no_fork, BLOCK);
	pr->e = start_engine(p, threads, no_fork, BLOCK);
	io_init(&pr->a);
	io_init(&pr->b);
	for (unsigned i = 0; i < WARM_BLOCKS; i++)
		res->pair_mismatch += !pair_step(pr);
	/* the timings: toggle the gain up and down, each way by both methods */
	for (unsigned i = 0; i < 2 * LATENCY_TRIALS; i++) {
		pair_step(pr);
		usleep(2000);       /* idle between cycles: every spinner asleep */
		float g = i % 4 < 2 ? GAIN_SET : GAIN_PATCH;
		double us = command_in_effect(pr->e, g, (int)(i % 2));
		if (i % 2)
			spin_us[i / 2] = us;
		else
			sync_us[i / 2] = us;
	}
	res->sync_p50 = quantile(sync_us, LATENCY_TRIALS, 0.50);
	res->sync_p99 = quantile(sync_us, LATENCY_TRIALS, 0.99);
	res->spin_p50 = quantile(spin_us, LATENCY_TRIALS, 0.50);
	res->spin_p99 = quantile(spin_us, LATENCY_TRIALS, 0.99);
	/* the affected blocks, against the reference */
	int ok = pair_settle(pr) == 0;
	for (unsigned t = 0; t < COUNT_TRIALS && ok; t++) {
		res->synced_k[res->synced_valid++] = count_affected(pr, 0, t);
		ok = pair_settle(pr) == 0;
	}
	for (unsigned t = 0; t < COUNT_TRIALS && ok; t++) {
		res->paced_k[res->paced_valid++] = count_affected(pr, 1, t);
		ok = pair_settle(pr) == 0;
	}
	res->pair_bad = pr->bad;
	engine_stop(pr->e);
	engine_stop(pr->ref);
	free(sync_us);
	free(spin_us);
	free(pr);
}

/* The seed-question probe: peak memory of one mode with threads = online
 * CPUs after a render, then its parameter-update latency. */
static void
probe_seed(int no_fork, struct seed_result *res)
{
	struct patch *p = load_patch(voice_patch, "voice patch");
	unsigned n = online_cpus();
	struct engine_info info;
	uint64_t hash;

	struct engine *e = start_engine(p, n, no_fork, BLOCK);
	res->wall = render_voices(e, RENDER_SECONDS, &res->bad, &hash);
	engine_info(e, &info);
	res->parent_hwm_kb = status_kb(0, "VmHWM:");
	res->child_hwm_kb = info.child_pid > 0 ? status_kb(info.child_pid, "VmHWM:") : 0;
	engine_stop(e);
	latency_trials(p, n, no_fork, res);
	free(p);
}

/* The memory probe: the built-in patch, hybrid, threads = online CPUs,
 * MEMORY_SECONDS of the note pattern, then both high-water marks. */
static void
probe_memory(struct memory_result *res)
{
	struct patch *p = load_patch(builtin_patch, "builtin patch");
	struct engine_info info;
	uint64_t hash;

	res->poly = p->poly;
	struct engine *e = start_engine(p, online_cpus(), 0, BLOCK);
	res->wall = render_voices(e, MEMORY_SECONDS, &res->bad, &hash);
	engine_info(e, &info);
	res->parent_hwm_kb = status_kb(0, "VmHWM:");
	res->child_hwm_kb = info.child_pid > 0 ? status_kb(info.child_pid, "VmHWM:") : -1;
	engine_stop(e);
	free(p);
}

/* The hidden entry point `--probe seed hybrid|nofork FD` or `--probe
 * memory - FD`: measure in this fresh process, write the result struct to
 * FD.  Returns the exit status. */
static int
probe_main(int argc, char **argv)
{
	union {
		struct seed_result seed;
		struct memory_result memory;
	} res;
	size_t size;

	if (argc < 5)
		fatal("engine_bench: --probe KIND ARG FD");
	int fd = atoi(argv[4]);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	memset(&res, 0, sizeof res);
	dsp_flush_denormals();
	if (strcmp(argv[2], "seed") == 0) {
		probe_seed(strcmp(argv[3], "nofork") == 0, &res.seed);
		size = sizeof res.seed;
	} else {
		probe_memory(&res.memory);
		size = sizeof res.memory;
	}
	if (engine_warning[0] != '\0')
		fprintf(stderr, "engine_bench: probe: %s\n", engine_warning);
	if (write(fd, &res, size) != (ssize_t)size)
		return 1;
	close(fd);
	return 0;
}

/* Run this program again as `--probe KIND ARG FD` and read the `size`
 * bytes of its result back through a pipe. */
static void
run_probe(const char *kind, const char *arg, void *res, size_t size)
{
	int fds[2], status;
	char fd_arg[16];

	if (pipe2(fds, O_CLOEXEC) != 0)
		fatal("engine_bench: pipe: %s", strerror(errno));
	snprintf(fd_arg, sizeof fd_arg, "%d", fds[1]);
	emit_flush();
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		fatal("engine_bench: fork: %s", strerror(errno));
	if (pid == 0) {
		fcntl(fds[1], F_SETFD, 0);
		execl("/proc/self/exe", "engine_bench", "--probe", kind, arg, fd_arg,
		    (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fds[0], (char *)res + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (got != size || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fatal("engine_bench: the %s %s probe failed", kind, arg);
}

/* ------------------------------------------------- 3. the seed question */

/* "p50 / max" of the affected-block counts, as blocks and ms of audio;
 * counts of 0 (never affected within MAX_AFFECT) add "[some never]". */
static void
format_k(const unsigned *k, unsigned n, char *buf, size_t size)
{
	double v[COUNT_TRIALS];
	unsigned none = 0;

	if (n == 0) {
		snprintf(buf, size, "no valid trial");
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		v[i] = k[i];
		none += k[i] == 0;
	}
	double p50 = quantile(v, n, 0.5), max = v[n - 1];
	snprintf(buf, size, "%.0f / %.0f blocks (%.1f / %.1f ms)%s", p50, max,
	    p50 * BLOCK_MS, max * BLOCK_MS, none ? " [some never]" : "");
}

/* Section 3: hybrid against --no-fork on the same patch. */
/* Section 3: hybrid against --no-fork on the same patch: throughput from
 * section 2's interleaved rounds, memory and latency from fresh probes. */
static void
section_seed(void)
{
	struct seed_result r[2];
	const struct scaling_row *w = seed_rows;
	unsigned n = online_cpus();
	const double mib = 1024.0;
	double other[2];

	fprintf(stderr, "engine_bench: 3. seed question: hybrid\n");
	struct cpu_mark m0 = cpu_mark();
	run_probe("seed", "hybrid", &r[0], sizeof r[0]);
	struct cpu_mark m1 = cpu_mark();
	fprintf(stderr, "engine_bench: 3. seed question: --no-fork\n");
	run_probe("seed", "nofork", &r[1], sizeof r[1]);
	other[0] = other_load(m0, m1);
	other[1] = other_load(m1, cpu_mark());

	emit("## 3. The seed question: hybrid vs threads in one process\n\n");
	emit("The 64-voice render of section 2 with %u threads.  Throughput: the "
	    "best of section 2's interleaved rounds.  Memory and latency: each mode "
	    "in a fresh process (re-executed, so that VmHWM starts clean) that "
	    "renders the %.0f s once more; peak memory is VmHWM of the parent plus, "
	    "for the hybrid, the child's VmHWM read just before stopping; the "
	    "shared region (%.0f KiB, mlocked) counts in both.  "
	    "Latency: with the engine idle between cycles (2 ms after the last), "
	    "`set amp.gain` alternately %g and %g; %u timings each way.  "
	    "\"Affected block\": blocks run after the command until the output "
	    "first differs from a reference engine fed the same cycles without it "
	    "(1 = the very next block; ms = that many blocks of %u frames at %u Hz); "
	    "%u trials.\n\n", n, RENDER_SECONDS,
	    (double)region_size(BLOCK, CHANNELS, CHANNELS) / 1024.0,
	    (double)GAIN_SET, (double)GAIN_PATCH, LATENCY_TRIALS, BLOCK, RATE,
	    COUNT_TRIALS);
	emit("| measure | (a) hybrid | (b) --no-fork | aim |\n|---|---:|---:|---|\n");
	emit("| wall time, %.0f s of audio (best of %u rounds) | %.2f s | %.2f s | |\n",
	    RENDER_SECONDS, SCALING_ROUNDS, w[0].best, w[1].best);
	emit("| real-time factor | %.1f× | %.1f× | |\n", RENDER_SECONDS / w[0].best,
	    RENDER_SECONDS / w[1].best);
	emit("| task time, Σ threads, in that run | %.2f s | %.2f s | |\n",
	    w[0].best_tasks, w[1].best_tasks);
	emit("| CPUs busy with other processes during that run | %.2f | %.2f | |\n",
	    w[0].best_other, w[1].best_other);
	emit("| wall time of the probe's render (single run, for reference) | "
	    "%.2f s | %.2f s | |\n", r[0].wall, r[1].wall);
	emit("| cycles not OK (rounds and probe) | %lu | %lu | 0 |\n",
	    w[0].bad + r[0].bad, w[1].bad + r[1].bad);
	emit("| peak memory, parent | %.1f MiB | %.1f MiB | |\n",
	    (double)r[0].parent_hwm_kb / mib, (double)r[1].parent_hwm_kb / mib);
	emit("| peak memory, child | %.1f MiB | — | |\n", (double)r[0].child_hwm_kb / mib);
	emit("| peak memory, all processes | %.1f MiB | %.1f MiB | |\n",
	    (double)(r[0].parent_hwm_kb + r[0].child_hwm_kb) / mib,
	    (double)r[1].parent_hwm_kb / mib);
	emit("| command → in effect (engine_sync returned), p50 / p99 | %.0f / %.0f µs | "
	    "%.0f / %.0f µs | |\n", r[0].sync_p50, r[0].sync_p99, r[1].sync_p50,
	    r[1].sync_p99);
	emit("| command → in effect (applied counter, polled with sched_yield), "
	    "p50 / p99 | %.0f / %.0f µs | %.0f / %.0f µs | |\n", r[0].spin_p50,
	    r[0].spin_p99, r[1].spin_p50, r[1].spin_p99);
	char ka[2][96], kb[2][96];
	for (int m = 0; m < 2; m++) {
		format_k(r[m].synced_k, r[m].synced_valid, ka[m], sizeof ka[m]);
		format_k(r[m].paced_k, r[m].paced_valid, kb[m], sizeof kb[m]);
	}
	emit("| first affected block after engine_sync, p50 / max | %s | %s | |\n",
	    ka[0], ka[1]);
	emit("| first affected block, cycles paced at real time, command unsynced at "
	    "a spread point of a period, p50 / max | %s | %s | |\n", kb[0], kb[1]);
	emit("| CPUs busy with other processes during the probe | %.2f | %.2f | |\n",
	    other[0], other[1]);
	emit("| trials valid (sync / paced); unprompted mismatches; cycles not OK | "
	    "%u / %u; %lu; %lu | %u / %u; %lu; %lu | %u / %u; 0; 0 |\n",
	    r[0].synced_valid, r[0].paced_valid, r[0].pair_mismatch, r[0].pair_bad,
	    r[1].synced_valid, r[1].paced_valid, r[1].pair_mismatch, r[1].pair_bad,
	    COUNT_TRIALS, COUNT_TRIALS);
	emit("\n| comparison | value |\n|---|---:|\n");
	emit("| hybrid wall / --no-fork wall (best of %u rounds) | %.3f× |\n",
	    SCALING_ROUNDS, w[0].best / w[1].best);
	emit("| hybrid memory − --no-fork memory | %+.1f MiB |\n",
	    (double)(r[0].parent_hwm_kb + r[0].child_hwm_kb - r[1].parent_hwm_kb) / mib);
	emit("| hybrid sync p50 − --no-fork sync p50 | %+.0f µs |\n\n",
	    r[0].sync_p50 - r[1].sync_p50);
	emit_flush();
}

/* ---------------------------------------------------------- 4. recovery */

/* What one recovery run saw, from the kill on. */
struct recovery {
	unsigned long not_ok;            /* cycles not ENGINE_OK (and missed periods) */
	unsigned long missed;            /* of which periods missed during the restart */
	unsigned long before_patch;      /* OK cycles before the replayed patch ran */
	unsigned long silent;            /* OK cycles with the patch, no note yet */
	unsigned long ok_after_kill;     /* OK cycles the dying child still made */
	unsigned long bad_after;         /* cycles not OK after recovery */
	double supervise_ms;             /* inside engine_supervise (all calls) */
	double first_ok_ms;              /* kill -> first OK cycle of the new child */
	double first_patch_ms;           /* kill -> first OK cycle with the patch */
	double first_sound_ms;           /* kill -> first non-silent output */
	unsigned long restarts;
	char msg[512];
};

/* Kill the child during a 64-voice hybrid render and count the cycles until
 * the new child sounds.  Paced: cycles at real-time pace with a deadline of
 * DEADLINE_ALPHA of a period, periods that pass inside engine_supervise
 * counted as lost (a live callback would have played silence); otherwise
 * as fast as possible with no deadline, waiting after a restart until the
 * replayed patch is in effect, as `forksynth --render` does (offline). */
static void
recovery_run(int paced, struct recovery *rc)
{
	struct patch *p = load_patch(voice_patch, "voice patch");
	struct engine *e = start_engine(p, online_cpus(), 0, BLOCK);
	const struct region *r = engine_region(e);
	struct engine_info info;
	static struct io io;
	unsigned long b = 0;

	memset(rc, 0, sizeof *rc);
	io_init(&io);
	for (; b < WARM_BLOCKS; b++)
		voice_cycle(e, b, &io, 0);
	uint64_t next = now_ns();
	for (unsigned i = 0; paced && i < 20; i++, b++) {
		sleep_until(next);
		voice_cycle(e, b, &io, next + (uint64_t)(DEADLINE_ALPHA * PERIOD_NS));
		next += PERIOD_NS;
	}
	if (paced)
		sleep_until(next);
	uint64_t t_kill = now_ns();
	engine_kill_child(e);
	int restarted = 0;
	for (unsigned long guard = 0; guard < 100000; guard++, b++) {
		if (paced)
			sleep_until(next);
		uint64_t deadline = paced ? next + (uint64_t)(DEADLINE_ALPHA * PERIOD_NS) : 0;
		int have_patch = atomic_load(&r->sync->graph_gen.v) != 0;
		enum engine_status st = voice_cycle(e, b, &io, deadline);
		next += PERIOD_NS;
		if (st != ENGINE_OK) {
			rc->not_ok++;
			char msg[512];
			uint64_t t0 = now_ns();
			int s = engine_supervise(e, p, 0, msg, sizeof msg);
			if (s < 0)
				fatal("engine_bench: the engine gave up: %s", msg);
			if (s == 1 && !restarted)
				snprintf(rc->msg, sizeof rc->msg, "%s", msg);
			if (s == 1 && !paced && engine_sync(e, 10000) != 0)
				fatal("engine_bench: the new child did not take the patch");
			rc->supervise_ms += (double)(now_ns() - t0) / 1e6;
			restarted |= s == 1;
			while (paced && now_ns() >= next) {
				/* a period that passed inside engine_supervise */
				next += PERIOD_NS;
				b++;
				rc->not_ok++;
				rc->missed++;
			}
			continue;
		}
		if (!restarted) {
			rc->ok_after_kill++;
			continue;
		}
		if (rc->first_ok_ms == 0)
			rc->first_ok_ms = (double)(now_ns() - t_kill) / 1e6;
		if (have_patch && rc->first_patch_ms == 0)
			rc->first_patch_ms = (double)(now_ns() - t_kill) / 1e6;
		if (!have_patch) {
			rc->before_patch++;
		} else if (io_silent(&io)) {
			rc->silent++;
		} else {
			rc->first_sound_ms = (double)(now_ns() - t_kill) / 1e6;
			break;
		}
	}
	for (unsigned i = 0; i < 200; i++, b++)
		rc->bad_after += voice_cycle(e, b, &io, 0) != ENGINE_OK;
	engine_info(e, &info);
	rc->restarts = info.restarts;
	drain_engine_events(e);
	engine_stop(e);
	free(p);
}

/* Section 4: audio lost to a killed child, offline and at real-time pace. */
static void
section_recovery(void)
{
	struct recovery rc[2];

	fprintf(stderr, "engine_bench: 4. recovery\n");
	struct cpu_mark m0 = cpu_mark();
	recovery_run(0, &rc[0]);
	recovery_run(1, &rc[1]);
	double other = other_load(m0, cpu_mark());

	emit("## 4. Recovery from a killed child (64-voice render, hybrid, %u threads)\n\n",
	    online_cpus());
	emit("`engine_kill_child` after %u blocks (all voices sounding); after each "
	    "cycle whose status is not ENGINE_OK, `engine_supervise(e, patch, 0, ...)` "
	    "reaps, respawns and replays the patch.  Offline: no deadline, as fast as "
	    "possible; after the restart `engine_sync` until the replayed patch is in "
	    "effect, as `forksynth --render` does (the parent waits, so the counts "
	    "of blocks are small and the wall times tell the cost).  Real-time pace: a cycle "
	    "every %.2f ms with a deadline of %.0f%% of the period, as a JACK "
	    "callback would run; periods that pass while engine_supervise runs "
	    "(synchronously here, on the supervisor thread in forksynth) count as "
	    "lost.  The voices held by the dead child are gone: after the patch is "
	    "back, output resumes with the next note-on of the pattern (≤ 8 blocks).\n\n",
	    WARM_BLOCKS, BLOCK_MS, DEADLINE_ALPHA * 100);
	emit("| measure | offline | real-time pace | aim |\n|---|---:|---:|---|\n");
	emit("| frames lost: cycles not ENGINE_OK × %u | %lu (%.1f ms) | %lu (%.1f ms) | ≤ 50 ms |\n",
	    BLOCK, rc[0].not_ok * BLOCK, (double)rc[0].not_ok * BLOCK_MS,
	    rc[1].not_ok * BLOCK, (double)rc[1].not_ok * BLOCK_MS);
	emit("| … of which periods that passed before the loop could cycle again "
	    "(inside engine_supervise, or this process descheduled) | %lu | %lu | |\n",
	    rc[0].missed, rc[1].missed);
	emit("| silent OK cycles before the replayed patch ran | %lu (%.1f ms) | %lu (%.1f ms) | |\n",
	    rc[0].before_patch, (double)rc[0].before_patch * BLOCK_MS,
	    rc[1].before_patch, (double)rc[1].before_patch * BLOCK_MS);
	emit("| all audio lost until the patch runs again (sum of the two rows above) | "
	    "%.1f ms | %.1f ms | ≤ 50 ms |\n",
	    (double)(rc[0].not_ok + rc[0].before_patch) * BLOCK_MS,
	    (double)(rc[1].not_ok + rc[1].before_patch) * BLOCK_MS);
	emit("| then silent until the next note-on | %lu blocks | %lu blocks | |\n",
	    rc[0].silent, rc[1].silent);
	emit("| OK cycles the dying child still made | %lu | %lu | |\n",
	    rc[0].ok_after_kill, rc[1].ok_after_kill);
	emit("| wall time inside engine_supervise (restart; offline also engine_sync) "
	    "| %.1f ms | %.1f ms | |\n", rc[0].supervise_ms, rc[1].supervise_ms);
	emit("| wall time kill → first OK cycle of the new child | %.1f ms | %.1f ms | |\n",
	    rc[0].first_ok_ms, rc[1].first_ok_ms);
	emit("| wall time kill → first OK cycle with the replayed patch running | "
	    "%.1f ms | %.1f ms | ≤ 50 ms |\n", rc[0].first_patch_ms, rc[1].first_patch_ms);
	emit("| wall time kill → first non-silent output (waits for a note-on) | "
	    "%.1f ms | %.1f ms | |\n", rc[0].first_sound_ms, rc[1].first_sound_ms);
	emit("| cycles not OK in the 200 after recovery; restarts | %lu; %lu | %lu; %lu | 0; 1 |\n",
	    rc[0].bad_after, rc[0].restarts, rc[1].bad_after, rc[1].restarts);
	emit("\nSupervisor: \"%s\"  Other processes kept %.2f of the %u CPUs "
	    "busy meanwhile.\n\n", rc[1].msg, other, online_cpus());
	emit_flush();
}

/* ------------------------------------------------------------ 5. memory */

/* Section 5: peak memory of the built-in patch. */
static void
section_memory(void)
{
	struct memory_result m;
	const double mib = 1024.0;

	fprintf(stderr, "engine_bench: 5. memory\n");
	run_probe("memory", "-", &m, sizeof m);
	double total = (double)(m.parent_hwm_kb + m.child_hwm_kb) / mib;
	emit("## 5. Memory: the built-in patch (%u voices), hybrid, %u threads\n\n",
	    m.poly, online_cpus());
	emit("VmHWM after %.0f s of audio (rendered in %.2f s, the note pattern of "
	    "section 2, %lu cycles not OK), in a fresh process; the shared region "
	    "(%.0f KiB) counts in both.\n\n", MEMORY_SECONDS, m.wall, m.bad,
	    (double)region_size(BLOCK, CHANNELS, CHANNELS) / 1024.0);
	emit("| measure | value | aim |\n|---|---:|---|\n");
	emit("| parent VmHWM | %.1f MiB | |\n", (double)m.parent_hwm_kb / mib);
	emit("| child VmHWM | %.1f MiB | |\n", (double)m.child_hwm_kb / mib);
	emit("| total | %.1f MiB | ≤ 16 MiB |\n\n", total);
	emit_flush();
}

/* ------------------------------------------------------------------ main */

/* The report's heading: when, where, on what. */
static void
emit_heading(void)
{
	char cpu[256] = "unknown", line[512], date[64];
	struct utsname u;
	time_t now = time(NULL);
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (f != NULL) {
		while (fgets(line, sizeof line, f))
			if (strncmp(line, "model name", 10) == 0) {
				char *c = strchr(line, ':');
				snprintf(cpu, sizeof cpu, "%.200s", c ? c + 2 : line);
				cpu[strcspn(cpu, "\n")] = '\0';
				break;
			}
		fclose(f);
	}
	if (uname(&u) != 0)
		snprintf(u.release, sizeof u.release, "unknown");
	strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
	emit("# forksynth engine bench\n\n");
	char load[64] = "?";
	f = fopen("/proc/loadavg", "r");
	if (f != NULL) {
		if (fgets(load, sizeof load, f) != NULL)
			load[strcspn(load, " ")] = '\0';
		fclose(f);
	}
	emit("%s, %s, %u online CPUs, Linux %s, %u Hz, load average %s at the "
	    "start.  The machine is shared: each section says how many CPUs other "
	    "processes kept busy while it ran (from /proc/stat minus this "
	    "program's own CPU time).\n\n", date, cpu, online_cpus(), u.release,
	    RATE, load);
}

/* Run the five sections in order (or the child / probe entry points). */
int
main(int argc, char **argv)
{
	const char *out_path = NULL;

	if (argc > 1 && strcmp(argv[1], "--dsp-child") == 0)
		return child_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], "--probe") == 0)
		return probe_main(argc, argv);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
			out_path = argv[++i];
		} else {
			fprintf(stderr, "usage: engine_bench [--out FILE]\n");
			return 2;
		}
	}
	if (out_path != NULL && (out_file = fopen(out_path, "a")) == NULL)
		fatal("engine_bench: cannot append to %s: %s", out_path, strerror(errno));
	dsp_flush_denormals();
	uint64_t t0 = now_ns();

	emit_heading();
	section_handoff();
	section_scaling();
	section_seed();
	section_recovery();
	section_memory();
	emit("Real-time scheduling: %s.  Bench run time %.0f s.\n\n",
	    engine_warning[0] ? engine_warning : "granted (no warning from the DSP side)",
	    (double)(now_ns() - t0) / 1e9);
	emit_flush();
	if (out_file != NULL) {
		fclose(out_file);
		fprintf(stderr, "engine_bench: appended to %s\n", out_path);
	}
	return 0;
}
