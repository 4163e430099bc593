/*
 * tests/engine_cycle_test.c — the cycle handshake through the real forked
 * child: sync mode adds no latency, pipeline mode exactly one block; a late
 * child costs a faded block and a late count, never a wait past the
 * deadline; a dead child is seen at once; commands take effect; the child
 * is replaced after a crash with the patch replayed; a child that exits
 * on every start is given up on, not restarted forever; per-module cost is
 * sampled where the time goes; a whole patch is loaded as one unit;
 * a child periods behind loses no note; a scribbled header harms nothing;
 * a corrupt control ring ends the child and the replay applies the command;
 * structural edits fade out and in without a click; a cycle run as
 * several graph blocks comes out as those blocks run cycle by cycle.
 */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audiofile.h"
#include "child.h"
#include "engine.h"
#include "futex.h"
#include "log.h"
#include "util.h"

#define BLOCK 64
#define RATE 48000

/* Where the tests write impulse responses (made in main). */
static char tmpdir[] = "/tmp/fs-engine-cycle.XXXXXX";

/* Start an engine on `text`, fail the test when it cannot start. */
static struct engine *
start(const char *text, int pipeline, int no_fork, struct patch *p)
{
	char err[256];
	struct patch_error perr;
	struct engine_options o = {
		.rate = RATE, .max_block = BLOCK, .n_inputs = 2, .n_outputs = 2,
		.threads = 2, .pipeline = pipeline, .no_fork = no_fork, .hang_ms = 500,
		/* these cycles carry ramps and sums far beyond 0 dBFS on purpose:
		 * the clamp is tests/clip_test.sh's */
		.no_clip = 1,
	};
	patch_init(p, 2, 2);
	if (patch_load_text(p, text, "test", &perr) != 0) {
		fprintf(stderr, "patch: %s\n", perr.message);
		exit(99);
	}
	struct engine *e = engine_start(&o, err, sizeof err);
	if (e == NULL) {
		fprintf(stderr, "engine: %s\n", err);
		exit(99);
	}
	engine_load(e, p);
	if (engine_sync(e, 5000) != 0)
		fail("the child did not take the patch");
	return e;
}

/* Fill a block with a ramp that names the cycle: value = cycle + i/1000. */
static void
ramp(float *x, unsigned cycle)
{
	for (unsigned i = 0; i < BLOCK; i++)
		x[i] = (float)cycle + (float)i / 1000.0f;
}

/* Latency of a pass-through patch: 0 cycles in sync mode, 1 in pipeline. */
static void
test_latency(int pipeline, int no_fork)
{
	static struct patch p;
	struct engine *e = start("global vca thru gain=1\nconnect in.1 thru.in\n"
	    "connect thru.out out.1\n", pipeline, no_fork, &p);
	float in1[BLOCK], l[BLOCK], r[BLOCK];
	const float *in[2] = { in1, NULL };
	float *out[2] = { l, r };
	int bad = 0;
	for (unsigned k = 1; k <= 200; k++) {
		ramp(in1, k);
		enum engine_status st = engine_cycle(e, in, out, BLOCK, NULL, 0, 0);
		unsigned want = pipeline ? k - 1 : k;
		if (st != ENGINE_OK) {
			bad++;
			continue;
		}
		if (want == 0)
			continue;
		float expect[BLOCK];
		ramp(expect, want);
		if (memcmp(l, expect, sizeof l) != 0)
			bad++;
	}
	if (bad)
		fail("%s%s: %d of 200 cycles wrong", pipeline ? "pipeline" : "sync",
		    no_fork ? " (no-fork)" : "", bad);
	else
		printf("ok: %s%s mode adds exactly %d block(s) of latency\n",
		    pipeline ? "pipeline" : "sync", no_fork ? " (no-fork)" : "",
		    pipeline);
	engine_stop(e);
}

/* A child that hangs: engine_cycle returns at its deadline with the last
 * good block faded, counts it late; supervision replaces the child. */
static void
test_deadline(void)
{
	static struct patch p;
	struct engine *e = start("global vca thru gain=1\nglobal fault stuck\n"
	    "connect in.1 thru.in\nconnect thru.out stuck.in\nconnect stuck.out out.1\n",
	    0, 0, &p);
	float in1[BLOCK], l[BLOCK], r[BLOCK];
	const float *in[2] = { in1, NULL };
	float *out[2] = { l, r };
	for (unsigned i = 0; i < BLOCK; i++)
		in1[i] = 0.5f;
	engine_cycle(e, in, out, BLOCK, NULL, 0, 0);     /* a good block */
	engine_command(e, "set stuck.mode hang");
	engine_sync(e, 5000);
	/* 10 cycles: the first hangs the child; each must end by its deadline */
	unsigned late = 0;
	uint64_t worst = 0;
	for (unsigned k = 0; k < 10; k++) {
		uint64_t t0 = futex_now_ns();
		enum engine_status st = engine_cycle(e, in, out, BLOCK, NULL, 0,
		    t0 + 2000000);
		uint64_t took = futex_now_ns() - t0;
		if (took > worst)
			worst = took;
		if (st == ENGINE_LATE)
			late++;
		if (k == 0 && !(st == ENGINE_LATE && l[0] > 0.49f && l[BLOCK - 1] == 0.0f))
			fail("the first late block is not the last good one faded out "
			    "(%g .. %g)", l[0], l[BLOCK - 1]);
		if (k > 0 && peak(l, BLOCK) != 0)
			fail("a late block after the fade is not silent");
	}
	/* correctness, not speed: the wait ends near the deadline (2 ms), not
	 * when the hung child would answer (never) */
	if (late != 10 || worst > 500000000ull)
		fail("deadline: %u of 10 late, longest wait %.1f ms", late, worst / 1e6);
	else
		printf("ok: a hung child costs late cycles bounded by the deadline "
		    "(10 of 10 late, longest wait %.2f ms for a 2 ms deadline)\n",
		    worst / 1e6);
	char msg[512];
	int rc = engine_supervise(e, &p, 0, msg, sizeof msg);
	if (rc != 0)
		fail("a hang within hang_ms was acted on too early: %s", msg);
	usleep(600000);
	rc = engine_supervise(e, &p, 0, msg, sizeof msg);
	if (rc != 1 || strstr(msg, "stopped answering") == NULL ||
	    strstr(msg, "'stuck'") == NULL)
		fail("hang supervision: rc %d, '%s'", rc, msg);
	else
		printf("ok: %s\n", msg);
	struct engine_info info;
	engine_info(e, &info);
	if (info.late < 10 || info.restarts != 1)
		fail("counters: late %lu, restarts %lu", info.late, info.restarts);
	engine_stop(e);
}

/* Run `cycles` cycles in real time (one every BLOCK frames of RATE), each
 * waiting at most `deadline_ns` (0: until done), with a note event of
 * `kind` (none for 0xff) in cycle `at + i` for note `first + step * i`,
 * i < n.  Returns the RMS of out.1 over the last `tail` cycles. */
static float
play_notes(struct engine *e, unsigned cycles, uint64_t deadline_ns,
    uint8_t kind, unsigned at, int first, int step, unsigned n, unsigned tail)
{
	float l[BLOCK], r[BLOCK];
	double sum = 0;
	float *out[2] = { l, r };
	uint64_t period = (uint64_t)BLOCK * 1000000000ull / RATE;
	uint64_t next = futex_now_ns();
	for (unsigned k = 0; k < cycles; k++) {
		struct region_midi ev = { .frame = 10, .kind = kind, .velocity = 100 };
		unsigned n_ev = 0;
		if (kind != 0xff && k >= at && k < at + n) {
			ev.note = (uint8_t)(first + step * (int)(k - at));
			n_ev = 1;
		}
		engine_cycle(e, NULL, out, BLOCK, &ev, n_ev,
		    deadline_ns ? futex_now_ns() + deadline_ns : 0);
		for (unsigned i = 0; k >= cycles - tail && i < BLOCK; i++)
			sum += (double)l[i] * l[i];
		next += period;
		uint64_t now = futex_now_ns();
		if (next > now)
			usleep((useconds_t)((next - now) / 1000));
	}
	return tail ? (float)sqrt(sum / ((double)tail * BLOCK)) : 0.0f;
}

/* A child more than a period behind passes over the cycles it had no time
 * for, but none of their notes: held notes sound when it catches up, and
 * released ones end, none stuck. */
static void
test_slow_child_keeps_notes(void)
{
	static struct patch p;
	struct engine *e = start("poly 8\nvoice midi note\nvoice vco osc wave=sine\n"
	    "voice adsr env attack=0.001 decay=0.001 sustain=1 release=0.005\n"
	    "voice vca amp\nglobal fault slowpoke slow=4\n"
	    "connect note.pitch osc.pitch\nconnect note.gate env.gate\n"
	    "connect osc.out amp.in\nconnect env.out amp.cv\n"
	    "connect amp.out slowpoke.in\nconnect slowpoke.out out.1\n", 0, 0, &p);
	/* 4 ms of work per 1.3 ms block: three cycles of four go without */
	engine_command(e, "set slowpoke.mode slow");
	engine_sync(e, 5000);
	play_notes(e, 40, 1000000, NOTE_EVENT_ON, 2, 60, 1, 8, 0);
	engine_command(e, "set slowpoke.mode none");
	engine_sync(e, 5000);
	float held = play_notes(e, 200, 0, 0xff, 0, 0, 0, 0, 150);
	engine_command(e, "set slowpoke.mode slow");
	engine_sync(e, 5000);
	/* the note-offs in the other order, so that they meet the child's
	 * rhythm otherwise than the note-ons did */
	play_notes(e, 40, 1000000, NOTE_EVENT_OFF, 2, 67, -1, 8, 0);
	engine_command(e, "set slowpoke.mode none");
	engine_sync(e, 5000);
	float after = play_notes(e, 100, 0, 0xff, 0, 0, 0, 0, 20);
	struct engine_info info;
	engine_info(e, &info);
	if (info.late < 20)
		fail("the slow child was late in only %lu cycles", info.late);
	/* eight unit sines of different pitch: RMS 2; three of them 1.2 */
	if (held < 1.5f)
		fail("notes sent while the child was behind were not all played "
		    "(RMS %.2f once it caught up, 2 for all eight)", held);
	if (after > 1e-6f)
		fail("a note stays on after its note-off was sent while the child "
		    "was behind (RMS %g 100 cycles later)", after);
	if (info.late >= 20 && held >= 1.5f && after <= 1e-6f)
		printf("ok: a child 3 periods behind (%lu late cycles) loses no "
		    "note: 8 notes on sound (RMS %.2f of 2), 8 notes off end "
		    "(RMS %g)\n", info.late, held, after);
	engine_stop(e);
}

/* A dead child is seen at once (its handler sets the flag), and after the
 * restart the replayed patch plays again. */
static void
test_crash_and_replay(void)
{
	static struct patch p;
	struct engine *e = start("global vca thru gain=2\nglobal fault boom\n"
	    "connect in.1 thru.in\nconnect thru.out boom.in\nconnect boom.out out.1\n",
	    0, 0, &p);
	float in1[BLOCK], l[BLOCK], r[BLOCK];
	const float *in[2] = { in1, NULL };
	float *out[2] = { l, r };
	for (unsigned i = 0; i < BLOCK; i++)
		in1[i] = 0.25f;
	engine_command(e, "set boom.mode crash");
	engine_sync(e, 5000);
	uint64_t t0 = futex_now_ns();
	enum engine_status st = engine_cycle(e, in, out, BLOCK, NULL, 0, t0 + 2000000000ull);
	if (st != ENGINE_DOWN)
		fail("a crashing child: status %d, want ENGINE_DOWN", st);
	else
		printf("ok: a crash is seen in %.2f ms, not at the 2 s deadline\n",
		    (futex_now_ns() - t0) / 1e6);
	char msg[512];
	/* the parent's patch says mode=none: the replay brings a sane child */
	int rc = engine_supervise(e, &p, 0, msg, sizeof msg);
	if (rc != 1 || strstr(msg, "signal 11") == NULL || strstr(msg, "'boom'") == NULL)
		fail("crash supervision: rc %d, '%s'", rc, msg);
	else
		printf("ok: %s\n", msg);
	engine_sync(e, 5000);
	st = engine_cycle(e, in, out, BLOCK, NULL, 0, 0);
	if (st != ENGINE_OK || l[0] != 0.5f)
		fail("after the restart: status %d, output %g, want 0.5", st, l[0]);
	else
		printf("ok: the replayed patch plays again after the restart\n");
	engine_stop(e);
}

/* A child that exits with a status on every start (as a sanitizer's
 * report makes it) is its own fault: supervision gives up after a few
 * starts, as an offline render's loop of cycle and supervise would. */
static void
test_exit_every_start(void)
{
	static struct patch p;
	struct engine *e = start("global fault quits mode=exit\n"
	    "connect in.1 quits.in\nconnect quits.out out.1\n", 0, 0, &p);
	float l[BLOCK], r[BLOCK];
	float *out[2] = { l, r };
	char msg[512] = "";
	int rc = 0, rounds = 0;
	/* once the replayed patch is in, each cycle meets a dying child */
	while (rc >= 0 && rounds < 20) {
		engine_sync(e, 5000);
		enum engine_status st = engine_cycle(e, NULL, out, BLOCK, NULL, 0, 0);
		rc = engine_supervise(e, &p, st == ENGINE_LATE, msg, sizeof msg);
		rounds++;
	}
	if (rc != -1 || strstr(msg, "exited with status 1") == NULL ||
	    strstr(msg, "giving up") == NULL)
		fail("a child exiting on every start: after %d supervisions rc %d, "
		    "'%s'", rounds, rc, msg);
	else
		printf("ok: after %d supervisions: %s\n", rounds, msg);
	engine_stop(e);
}

/* A child that scribbles on the shared header (as a buggy or hostile one
 * could: it maps the region writable) changes nothing the parent uses:
 * cycles go on and copy the right blocks; and when it then dies, the next
 * child finds a sound header again and plays. */
static void
test_scribbled_header(void)
{
	static struct patch p;
	struct engine *e = start("global vca thru gain=2\n"
	    "connect in.1 thru.in\nconnect thru.out out.1\n", 0, 0, &p);
	struct region_header *h = engine_region(e)->hdr;
	float in1[BLOCK], l[BLOCK], r[BLOCK];
	const float *in[2] = { in1, NULL };
	float *out[2] = { l, r };
	char msg[512];
	int bad = 0;

	for (unsigned i = 0; i < BLOCK; i++)
		in1[i] = 0.25f;
	h->max_block = 0x40000000u;
	h->n_inputs = 100000;
	h->n_outputs = 100000;
	h->off_audio = 0xfffffff0u;
	for (unsigned c = 0; c < 200; c++) {
		enum engine_status st = engine_cycle(e, in, out, BLOCK, NULL, 0, 0);
		if (st != ENGINE_OK || l[0] != 0.5f || l[BLOCK - 1] != 0.5f)
			bad++;
	}
	if (bad)
		fail("with a scribbled header %d of 200 cycles went wrong", bad);
	else
		printf("ok: a scribbled header (max_block 2^30, 100000 channels, a wild "
		    "audio offset): 200 cycles right\n");
	h->magic = 0;
	h->version = 99;
	engine_kill_child(e);
	engine_cycle(e, in, out, BLOCK, NULL, 0, 0);
	int rc = engine_supervise(e, &p, 0, msg, sizeof msg);
	engine_sync(e, 5000);
	enum engine_status st = engine_cycle(e, in, out, BLOCK, NULL, 0, 0);
	if (rc != 1 || st != ENGINE_OK || l[0] != 0.5f)
		fail("after a scribbled magic and a kill: rc %d '%s', status %d, "
		    "output %g", rc, msg, st, l[0]);
	else
		printf("ok: magic and version scribbled, child killed: %s; the new "
		    "child plays\n", msg);
	engine_stop(e);
}

/* A control ring the child finds corrupt (its producer index scribbled
 * past anything the ring holds) ends that child: it could take no more
 * commands.  The next one gets the patch replayed, commands included. */
static void
test_corrupt_control_ring(void)
{
	static struct patch p;
	struct engine *e = start("global vca thru gain=2\n"
	    "connect in.1 thru.in\nconnect thru.out out.1\n", 0, 0, &p);
	const struct ring *control = &engine_region(e)->control;
	float in1[BLOCK], l[BLOCK], r[BLOCK];
	const float *in[2] = { in1, NULL };
	float *out[2] = { l, r };
	struct patch_error perr;
	char msg[512] = "";
	enum engine_status st = ENGINE_OK;
	int rc = 0;

	for (unsigned i = 0; i < BLOCK; i++)
		in1[i] = 0.25f;
	/* the parent's copy of the patch takes the change, as a session's does */
	if (patch_exec_line(&p, "set thru.gain 1.5", 0, &perr) != 0)
		fail("set thru.gain 1.5 refused: %s", perr.message);
	engine_command(e, "set thru.gain 1.5");
	engine_sync(e, 5000);
	atomic_store(&control->hdr->head, atomic_load(&control->hdr->head) +
	    3 * control->capacity + 5);
	for (unsigned c = 0; c < 3000 && st == ENGINE_OK; c++) {
		st = engine_cycle(e, in, out, BLOCK, NULL, 0, 0);
		if (st == ENGINE_OK)
			usleep(1000);
	}
	if (st != ENGINE_OK)
		rc = engine_supervise(e, &p, 0, msg, sizeof msg);
	engine_sync(e, 5000);
	st = engine_cycle(e, in, out, BLOCK, NULL, 0, 0);
	if (rc != 1 || strstr(msg, "control ring corrupt") == NULL ||
	    st != ENGINE_OK || l[0] != 0.375f)
		fail("a corrupt control ring: rc %d '%s', then status %d, output %g "
		    "(want 0.375)", rc, msg, st, l[0]);
	else
		printf("ok: a corrupt control ring: %s; the replayed patch plays "
		    "(output %g)\n", msg, l[0]);
	engine_stop(e);
}

/* Open file descriptors and mappings of this process. */
static void
count_resources(unsigned *fds, unsigned *maps)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	*maps = 0;
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		(*maps)++;
	if (f != NULL)
		fclose(f);
	*fds = 0;
	for (int fd = 0; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			(*fds)++;
}

/* Ten crashes and restarts leak no fd and no mapping. */
static void
test_no_leaks(void)
{
	static struct patch p;
	unsigned fds0, maps0, fds1, maps1;
	struct engine *e = start("global fault boom\nconnect in.1 boom.in\n"
	    "connect boom.out out.1\n", 0, 0, &p);
	float l[BLOCK], r[BLOCK];
	float *out[2] = { l, r };
	char msg[512];
	engine_cycle(e, NULL, out, BLOCK, NULL, 0, 0);
	count_resources(&fds0, &maps0);
	for (int k = 0; k < 10; k++) {
		engine_kill_child(e);
		engine_cycle(e, NULL, out, BLOCK, NULL, 0, 0);
		if (engine_supervise(e, &p, 0, msg, sizeof msg) != 1)
			fail("restart %d: %s", k, msg);
		engine_sync(e, 5000);
		engine_cycle(e, NULL, out, BLOCK, NULL, 0, 0);
	}
	count_resources(&fds1, &maps1);
	if (fds1 != fds0 || maps1 > maps0)
		fail("after 10 restarts: fds %u -> %u, mappings %u -> %u",
		    fds0, fds1, maps0, maps1);
	else
		printf("ok: 10 restarts leak nothing (fds %u, mappings %u)\n",
		    fds1, maps1);
	engine_stop(e);
}

/* Run `n` cycles without input; append out.1 to rec (n * BLOCK frames). */
static void
run_blocks(struct engine *e, unsigned n, float *rec)
{
	float l[BLOCK], r[BLOCK];
	float *out[2] = { l, r };
	for (unsigned k = 0; k < n; k++) {
		if (engine_cycle(e, NULL, out, BLOCK, NULL, 0, 0) != ENGINE_OK)
			fail("cycle %u not OK", k);
		memcpy(rec + (size_t)k * BLOCK, l, sizeof l);
	}
}

/* The largest jump between neighbouring samples of x[0..n). */
static double
max_step(const float *x, size_t n)
{
	double m = 0;
	for (size_t i = 1; i < n; i++)
		if (fabs((double)x[i] - x[i - 1]) > m)
			m = fabs((double)x[i] - x[i - 1]);
	return m;
}

/* Per-module cost: an expensive module (many voices of a driven ladder)
 * costs more than a cheap one (a VCA), both are seen, one block in four is
 * timed, and the modules' time fits inside the threads' busy time. */
static void
test_module_cost(void)
{
	static struct patch p;
	static float rec[800 * BLOCK];
	struct engine *e = start("poly 32\nvoice vco osc wave=saw\n"
	    "voice ladder flt res=0.5 drive=1\nglobal vca amp gain=0.1\n"
	    "connect osc.out flt.in\nconnect flt.out amp.in\nconnect amp.out out.1\n",
	    0, 0, &p);
	uint64_t ns[PATCH_MAX_MODULES], frames;
	run_blocks(e, 800, rec);
	if (engine_module_cost(e, ns, p.n_modules, &frames) != 0) {
		fail("engine_module_cost: no child");
		engine_stop(e);
		return;
	}
	const struct region *r = engine_region(e);
	uint64_t busy = 0, sum = 0;
	for (unsigned t = 0; t < 2; t++)
		busy += atomic_load(&r->stats[t].busy_ns);
	for (unsigned m = 0; m < p.n_modules; m++)
		sum += ns[m];
	int osc = patch_find_module(&p, "osc"), flt = patch_find_module(&p, "flt");
	int amp = patch_find_module(&p, "amp");
	double real_ns = (double)frames / RATE * 1e9;
	printf("module cost, %% of one core over %llu profiled frames: osc %.2f, "
	    "flt %.2f, amp %.3f; modules' sum x 4 / threads' busy time %.2f\n",
	    (unsigned long long)frames, 100 * ns[osc] / real_ns,
	    100 * ns[flt] / real_ns, 100 * ns[amp] / real_ns, 4.0 * sum / busy);
	if (frames != 200 * BLOCK)
		fail("profiled %llu frames of 800 blocks, want one block in 4 (%u)",
		    (unsigned long long)frames, 200 * BLOCK);
	else if (ns[osc] == 0 || ns[flt] == 0 || ns[amp] == 0)
		fail("a module with no cost: osc %llu, flt %llu, amp %llu ns",
		    (unsigned long long)ns[osc], (unsigned long long)ns[flt],
		    (unsigned long long)ns[amp]);
	else if (ns[flt] <= ns[amp])
		fail("32 driven ladders cost no more than a VCA: %llu <= %llu ns",
		    (unsigned long long)ns[flt], (unsigned long long)ns[amp]);
	else if (sum > busy)
		fail("modules' time %llu ns beyond the threads' busy time %llu ns",
		    (unsigned long long)sum, (unsigned long long)busy);
	else
		printf("ok: per-module cost sampled one block in 4, ladders above the "
		    "VCA, inside the threads' busy time\n");
	engine_stop(e);
}

/* Write a one-channel impulse response: 1 at frame 0, then `tail` zeros. */
static void
write_ir(const char *path, unsigned tail)
{
	char err[256];
	float x[64] = { 1.0f };
	struct audiofile *f = audiofile_create(path, NULL, RATE, 1, 1 + tail, 1,
	    err, sizeof err);
	if (f == NULL || audiofile_write(f, x, 1 + tail, err, sizeof err) != 0 ||
	    audiofile_close(f, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(99);
	}
}

/* Graphs the child has published so far. */
static uint32_t
graphs(struct engine *e)
{
	return atomic_load(&engine_region(e)->sync->graph_gen.v);
}

/* engine_load sends the patch whole: numbers alone build no graph, a
 * structural change builds exactly one, and the largest patches fit the
 * control ring. */
static void
test_load_whole(void)
{
	static struct patch p, q;
	struct engine *e = start("global vca thru gain=1\nconnect in.1 thru.in\n"
	    "connect thru.out out.1\n", 0, 0, &p);
	float in1[BLOCK], l[BLOCK], r[BLOCK];
	const float *in[2] = { in1, NULL };
	float *out[2] = { l, r };
	for (unsigned i = 0; i < BLOCK; i++)
		in1[i] = 0.5f;
	uint32_t gen = graphs(e);
	q = p;
	patch_exec_line(&q, "set thru.gain 0.25", 0, NULL);
	if (engine_load(e, &q) != 0 || engine_sync(e, 5000) != 0)
		fail("reload with a new gain not taken");
	for (unsigned k = 0; k < 100; k++)
		engine_cycle(e, in, out, BLOCK, NULL, 0, 0);
	if (graphs(e) != gen || fabsf(l[BLOCK - 1] - 0.125f) > 1e-4f)
		fail("numbers-only reload: %u graph(s) built, output %g (want 0 "
		    "graphs, 0.125)", graphs(e) - gen, l[BLOCK - 1]);
	else
		printf("ok: a reload that changes numbers only sets them, no graph\n");
	patch_exec_line(&q, "global vca more gain=2", 0, NULL);
	patch_exec_line(&q, "connect thru.out more.in", 0, NULL);
	patch_exec_line(&q, "connect more.out out.2", 0, NULL);
	if (engine_load(e, &q) != 0 || engine_sync(e, 5000) != 0 ||
	    graphs(e) != gen + 1)
		fail("structural reload: %u graphs built, want 1", graphs(e) - gen);
	else
		printf("ok: a structural reload builds exactly one graph\n");

	/* the largest patch: every module, a 31-byte name, every parameter set,
	 * a 255-byte file name of quotes (each saved as two bytes), every
	 * connection */
	char line[1024], ir[PARAM_TEXT_MAX], quoted[2 * PARAM_TEXT_MAX], *text = NULL;
	size_t size = 0, k = 0;
	int used = snprintf(ir, sizeof ir, "%s/", tmpdir);
	memset(ir + used, '"', sizeof ir - 5 - (size_t)used);
	strcpy(ir + sizeof ir - 5, ".wav");
	write_ir(ir, 0);
	for (const char *c = ir; *c != '\0'; c++) {
		if (*c == '"')
			quoted[k++] = '\\';
		quoted[k++] = *c;
	}
	quoted[k] = '\0';
	patch_init(&q, 2, 2);
	q.poly = PATCH_MAX_POLY;
	for (unsigned m = 0; m < PATCH_MAX_MODULES; m++) {
		snprintf(line, sizeof line, "global convolver convolver_number_%03u_of_128 "
		    "ir=\"%s\" gain=-%.6f normalize=on fade=0.%06u mix=0.%06u", m,
		    quoted, 12.3456789 + m / 1000.0, 123457 + m, 654321 + m);
		if (patch_exec_line(&q, line, 0, NULL) != 0)
			fail("big patch: %s", line);
	}
	static const char *const sides[] = { "left", "right" };
	for (unsigned c = 0; c < PATCH_MAX_CONNECTIONS; c++) {
		snprintf(line, sizeof line, "connect convolver_number_%03u_of_128.%s "
		    "convolver_number_%03u_of_128.%s", c % PATCH_MAX_MODULES,
		    sides[c / PATCH_MAX_MODULES % 2], (c + 1 + c / 256) % PATCH_MAX_MODULES,
		    sides[c / PATCH_MAX_MODULES / 2]);
		if (patch_exec_line(&q, line, 0, NULL) != 0)
			fail("big patch: %s", line);
	}
	FILE *f = open_memstream(&text, &size);
	patch_save(&q, f);
	fclose(f);
	free(text);
	gen = graphs(e);
	char ev[512];
	while (engine_poll_event(e, ev, sizeof ev) > 0)
		;
	int taken = engine_load(e, &q) == 0 && engine_sync(e, 10000) == 0;
	int said = engine_poll_event(e, ev, sizeof ev) > 0;
	if (!taken || graphs(e) != gen + 1 || said)
		fail("a %zu-byte patch of %u modules and %u connections not taken "
		    "(%u graphs built) %s", size, q.n_modules, q.n_connections,
		    graphs(e) - gen, said ? ev : "");
	else
		printf("ok: a %zu-byte patch of %u modules and %u connections goes "
		    "as one message\n", size, q.n_modules, q.n_connections);
	unlink(ir);
	engine_stop(e);
}

/* Apply `commands` (one per line, each in effect before the next, all
 * before the next block) while sines play and look at the 40 blocks that
 * follow: the largest step stays within 3x the steady one before or after
 * (an abrupt switch jumps by up to the amplitude), and the last 20 blocks
 * show the new state: silence, or more than one sine. */
static void
declick_case(struct engine *e, const char *what, const char *commands,
    int silent_after)
{
	static float rec[120 * BLOCK];
	char buf[512];
	run_blocks(e, 80, rec);
	snprintf(buf, sizeof buf, "%s", commands);
	for (char *c = strtok(buf, "\n"); c != NULL; c = strtok(NULL, "\n")) {
		engine_command(e, c);
		engine_sync(e, 5000);
	}
	run_blocks(e, 40, rec + 80 * BLOCK);
	double before = max_step(rec + 40 * BLOCK, 40 * BLOCK);
	double after = max_step(rec + 100 * BLOCK, 20 * BLOCK);
	double steady = before > after ? before : after;
	double across = max_step(rec + 79 * BLOCK, 41 * BLOCK);
	double amplitude = peak(rec + 40 * BLOCK, 40 * BLOCK);
	double end = peak(rec + 100 * BLOCK, 20 * BLOCK);
	printf("%s: largest step %.4f before, %.4f across the change, %.4f after "
	    "(an abrupt switch jumps by up to %.4f); peak after %.4f\n", what,
	    before, across, after, silent_after ? amplitude : end, end);
	if (across > 3 * steady)
		fail("%s clicks: step %.4f, steady %.4f", what, across, steady);
	else if (silent_after ? end != 0.0 : end < 1.0)
		fail("%s: not in effect after the fade (peak %.4f)", what, end);
	else
		printf("ok: %s without a click, in effect after the fade\n", what);
}

/* Structural edits fade the old graph out and the new one in, also when
 * a text-only change (a new IR file) follows before the engine took the
 * structural one; a text-only change alone is not faded. */
static void
test_declick(void)
{
	static struct patch p;
	char a[64], b[64], text[512];
	snprintf(a, sizeof a, "%s/a.wav", tmpdir);
	snprintf(b, sizeof b, "%s/b.wav", tmpdir);
	write_ir(a, 63);
	write_ir(b, 31);
	snprintf(text, sizeof text, "global vco osc wave=sine freq=110 level=0.8\n"
	    "global convolver cv ir=\"%s\"\nconnect osc.out out.1\n"
	    "connect osc.out cv.left\nconnect cv.left out.2\n", a);
	struct engine *e = start(text, 0, 0, &p);
	declick_case(e, "disconnecting the sine", "disconnect osc.out out.1", 1);
	declick_case(e, "adding a sine and connecting both",
	    "global vco osc2 wave=sine freq=165 level=0.8\n"
	    "connect osc2.out out.1\nconnect osc.out out.1", 0);
	/* the last graph published differs from the one before only by a
	 * file; the engine takes it first, and must still fade */
	snprintf(text, sizeof text, "disconnect osc.out out.1\n"
	    "disconnect osc2.out out.1\nset cv.ir \"%s\"", b);
	declick_case(e, "structural edits, then a new IR, before the next block",
	    text, 1);
	engine_stop(e);
	unlink(a);
	unlink(b);
}

/* The patch and notes of test_graph_blocks: voices that start and end
 * inside blocks and on their edges, short enough to fall asleep between
 * notes, and a tempo-locked lfo that reads the song position. */
static const char graph_blocks_patch[] =
    "poly 4\n"
    "voice midi note\n"
    "voice vco osc wave=saw\n"
    "voice ladder flt cutoff=900 res=0.3\n"
    "voice adsr env attack=0.002 decay=0.01 sustain=0.5 release=0.01\n"
    "voice vca amp gain=0.3\n"
    "global lfo wob sync=tempo division=1/16\n"
    "connect note.pitch osc.pitch\n"
    "connect note.gate env.gate\n"
    "connect osc.out flt.in\n"
    "connect wob.out flt.mod\n"
    "connect env.out amp.cv\n"
    "connect flt.out amp.in\n"
    "connect amp.out out.1\n";
static const struct { unsigned on, off; uint8_t note; } graph_blocks_notes[] = {
	{ 0, 700, 57 }, { 37, 100, 60 }, { 64, 128, 64 }, { 255, 9000, 45 },
	{ 300, 301, 67 }, { 1000, 1500, 69 }, { 9100, 9164, 72 },
	{ 12000, 12777, 50 },
};

/* Run graph_blocks_patch for `total` frames in cycles of `cycle` frames,
 * each cut into blocks of `block` (the last one shorter where `cycle` is
 * not a multiple): one engine cycle per block (`in_parent`), or one per
 * cycle that the child runs as graph blocks.  Left output into `dst`. */
static void
run_graph_blocks(unsigned cycle, unsigned block, int in_parent,
    unsigned total, float *dst)
{
	static struct patch p;
	char err[256];
	struct patch_error perr;
	struct engine_options o = {
		.rate = RATE, .max_block = in_parent ? block : cycle,
		.graph_block = in_parent ? 0 : block,
		.n_inputs = 2, .n_outputs = 2, .threads = 2, .hang_ms = 2000,
		.no_clip = 1,
	};
	patch_init(&p, 2, 2);
	if (patch_load_text(&p, graph_blocks_patch, "test", &perr) != 0)
		fail("patch: %s", perr.message);
	struct engine *e = engine_start(&o, err, sizeof err);
	if (e == NULL)
		fail("engine: %s", err);
	engine_load(e, &p);
	if (engine_sync(e, 5000) != 0)
		fail("the child did not take the patch");
	float *l = xcalloc(cycle, sizeof(float)), *r = xcalloc(cycle, sizeof(float));
	float *out[2] = { l, r };
	for (unsigned at = 0; at < total; ) {
		unsigned in_cycle = at % cycle, n;
		if (in_parent)
			n = cycle - in_cycle < block ? cycle - in_cycle : block;
		else
			n = cycle;
		if (n > total - at)
			n = total - at;
		struct region_midi ev[32];
		unsigned n_ev = 0;
		for (size_t k = 0; k < sizeof graph_blocks_notes /
		    sizeof graph_blocks_notes[0]; k++)
			for (int off = 0; off < 2; off++) {
				unsigned f = off ? graph_blocks_notes[k].off :
				    graph_blocks_notes[k].on;
				if (f < at || f >= at + n)
					continue;
				ev[n_ev++] = (struct region_midi){
					.frame = f - at,
					.note = graph_blocks_notes[k].note,
					.kind = off ? NOTE_EVENT_OFF : NOTE_EVENT_ON,
					.velocity = off ? 0 : 100,
					.channel = NOTE_CHANNEL_ANY,
				};
			}
		if (engine_cycle(e, NULL, out, n, ev, n_ev, 0) != ENGINE_OK)
			fail("cycle at frame %u did not run", at);
		memcpy(dst + at, l, n * sizeof(float));
		at += n;
	}
	engine_stop(e);
	free(l);
	free(r);
}

/* An offline render hands the child several blocks per cycle
 * (engine_options.graph_block): what comes out must be exactly what those
 * blocks give as cycles of their own. */
static void
test_graph_blocks(void)
{
	enum { TOTAL = 24000 };
	static const struct { unsigned cycle, block; } cases[] = {
		{ 256, 64 }, { 1024, 256 }, { 1000, 100 }, { 700, 256 },
	};
	float *ref = xcalloc(TOTAL, sizeof(float));
	float *got = xcalloc(TOTAL, sizeof(float));
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		unsigned cycle = cases[c].cycle, block = cases[c].block;
		run_graph_blocks(cycle, block, 1, TOTAL, ref);
		run_graph_blocks(cycle, block, 0, TOTAL, got);
		double energy = 0;
		unsigned first_diff = TOTAL;
		for (unsigned i = 0; i < TOTAL; i++) {
			energy += (double)ref[i] * ref[i];
			if (first_diff == TOTAL && memcmp(&ref[i], &got[i], sizeof(float)) != 0)
				first_diff = i;
		}
		if (!(energy > 1.0))
			fail("graph blocks %u in cycles of %u: the reference is "
			    "nearly silent (energy %g)", block, cycle, energy);
		else if (first_diff != TOTAL)
			fail("graph blocks %u in cycles of %u: frame %u is %.9g, "
			    "block by block %.9g", block, cycle, first_diff,
			    got[first_diff], ref[first_diff]);
		else
			printf("ok: cycles of %u as graph blocks of %u equal those "
			    "blocks cycle by cycle (%u frames)\n", cycle, block,
			    (unsigned)TOTAL);
	}
	free(ref);
	free(got);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--dsp-child") == 0)
		return child_main(argc, argv);
	test_latency(0, 0);
	test_latency(1, 0);
	test_latency(0, 1);
	test_latency(1, 1);
	test_deadline();
	test_slow_child_keeps_notes();
	test_crash_and_replay();
	test_exit_every_start();
	test_scribbled_header();
	test_corrupt_control_ring();
	test_no_leaks();
	if (mkdtemp(tmpdir) == NULL)
		return 99;
	test_module_cost();
	test_load_whole();
	test_declick();
	test_graph_blocks();
	rmdir(tmpdir);
	return test_status();
}
