/*
 * dsp/fault.c — a module that misbehaves on command, so that the engine's
 * crash, exit, hang and deadline paths are tested for real, and what the
 * engine does with a module that blows up (huge, nan) and with a child
 * that writes garbage into its output block (poison) or into the probe's
 * ring (lie).  Built only with
 * --enable-fault-injection (and into the test binary tests/forksynth-fi);
 * never in a normal build.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "module.h"
#include "region.h"

enum fault_mode {
	FAULT_NONE = 0, FAULT_CRASH, FAULT_HANG, FAULT_SLOW, FAULT_ABORT, FAULT_EXIT,
	FAULT_HUGE, FAULT_NAN, FAULT_POISON, FAULT_LIE
};

enum { P_MODE, P_AFTER, P_SLOW };

struct fault {
	float rate;
	int mode;
	double after;          /* seconds of audio before the fault fires */
	double slow_ms;        /* busy time per block in slow mode, ms */
	unsigned long frames;  /* frames processed by this instance */
};

static const char *const fault_modes[] = {
	"none", "crash", "hang", "slow", "abort", "exit", "huge", "nan", "poison",
	"lie", NULL
};

static const struct param_desc fault_params[] = {
	[P_MODE] = { "mode", "", PARAM_CHOICE, 0, 9, 0,
	    "none, crash (SIGSEGV), hang (spin forever), slow (busy per block), "
	    "abort, exit (status 1, as a sanitizer's report does), huge (output "
	    "1e30), nan (output NaN), poison (the child's output block carries "
	    "1e30, NaN, inf and -1e30 in turn, every 16th sample of out.1), lie "
	    "(the probe's samples carry the same, and its ring index, request "
	    "number and drop count are scribbled on)",
	    fault_modes },
	[P_AFTER] = { "after", "s", PARAM_REAL, 0, 3600, 0,
	    "seconds of audio this instance plays before the fault fires", NULL },
	[P_SLOW] = { "slow", "ms", PARAM_REAL, 0, 1000, 1,
	    "slow mode: milliseconds of busy work per block", NULL },
};

static const struct port_desc fault_inputs[] = {
	{ "in", "audio, passed through unchanged" },
};

static const struct port_desc fault_outputs[] = {
	{ "out", "the input, until the fault fires" },
};

/* Monotonic time in nanoseconds. */
static unsigned long long
fault_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* Write through a null pointer: a real SIGSEGV.  Not checked for null, so
 * that a build with -fsanitize=undefined crashes here too instead of
 * reporting the store and exiting. */
__attribute__((noinline, no_sanitize("null"))) static void
fault_segv(void)
{
	volatile int *volatile nowhere = NULL;
	*nowhere = 1;
}

/* Set while an instance in poison mode is due: the engine thread then
 * spoils every output block (fault_poison). */
static _Atomic int fault_poisoning;

/* child_output_hook (src/child.c): what a broken or lying child would
 * leave in its output block: every 16th sample of the first channel, in
 * turn 1e30, NaN, inf, -1e30 (as many clipped as not finite). */
static void
fault_poison(float *const *out, unsigned n_out, unsigned frames)
{
	static const float garbage[4] = { 1e30f, NAN, INFINITY, -1e30f };
	if (!atomic_load_explicit(&fault_poisoning, memory_order_relaxed))
		return;
	for (unsigned i = 0; n_out > 0 && i < frames; i += 16)
		out[0][i] = garbage[(i / 16) % 4];
}

extern void (*child_output_hook)(float *const *out, unsigned n_out,
    unsigned frames);

/* Set while an instance in lie mode is due: the engine thread then spoils
 * the probe (fault_lie). */
static _Atomic int fault_lying;

/* child_probe_hook (src/child.c): what a lying child would do to the
 * probe: before the block is written (`written` 0), every 4th sample in
 * turn 1e30, NaN, inf, -1e30; after it, an impossible ring head (every
 * 3rd block), a wrong request number (every 64th), a drop count that
 * jumps (every 40th). */
static void
fault_lie(struct region *r, float *buf, unsigned frames, int written)
{
	static const float garbage[4] = { 1e30f, NAN, INFINITY, -1e30f };
	static unsigned calls;
	static uint32_t true_id;
	if (!atomic_load_explicit(&fault_lying, memory_order_relaxed))
		return;
	if (!written) {
		for (unsigned i = 0; i < frames; i += 4)
			buf[i] = garbage[(i / 4) % 4];
		return;
	}
	calls++;
	/* the head: until the next block is written; the request number:
	 * for one block, then the true one again; so that the samples keep
	 * coming between the lies */
	if (calls % 3 == 0)
		atomic_store(&r->probe_ring.hdr->head, 0xdeadbeefu);
	if (calls % 64 == 0)
		true_id = atomic_exchange(&r->probe->id.v,
		    atomic_load(&r->probe->id.v) + 12345);
	else if (calls % 64 == 1 && calls > 1)
		atomic_store(&r->probe->id.v, true_id);
	if (calls % 40 == 0)
		atomic_fetch_add(&r->probe->dropped.v, 1000003);
}

extern void (*child_probe_hook)(struct region *r, float *buf, unsigned frames,
    int written);

/* Built into a program that has the engine: hook the poison in. */
__attribute__((constructor)) static void
fault_hook_install(void)
{
	child_output_hook = fault_poison;
	child_probe_hook = fault_lie;
}

/* Set up a well-behaved instance.  With FORKSYNTH_FAULT_LOAD_MS set, each
 * new instance takes that long to create, as a patch with big IR files to
 * read and FFTs to plan does; this runs where those do, in the child's
 * control thread while it builds a graph, never on the audio path. */
static void
fault_init(void *self, float rate, uint32_t seed)
{
	struct fault *f = self;
	(void)seed;
	f->rate = rate;
	f->slow_ms = 1;
	const char *load = getenv("FORKSYNTH_FAULT_LOAD_MS");
	long ms = load != NULL ? strtol(load, NULL, 10) : 0;
	if (ms > 0) {
		struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
}

/* Set mode, after or slow. */
static void
fault_set_param(void *self, unsigned index, float value)
{
	struct fault *f = self;
	if (index == P_MODE)
		f->mode = (int)value;
	else if (index == P_AFTER)
		f->after = value;
	else if (index == P_SLOW)
		f->slow_ms = value;
}

/* Pass audio through; misbehave once `after` seconds have played. */
static void
fault_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct fault *f = self;
	int due = f->frames >= (unsigned long)(f->after * f->rate);

	f->frames += frames;
	if (in[0] != NULL)
		memcpy(out[0], in[0], frames * sizeof(float));
	else
		memset(out[0], 0, frames * sizeof(float));
	if (!due)
		return;
	switch (f->mode) {
	case FAULT_CRASH:
		fault_segv();
		break;
	case FAULT_HANG:
		for (;;)
			;
	case FAULT_SLOW: {
		unsigned long long until = fault_now_ns() +
		    (unsigned long long)(f->slow_ms * 1e6);
		while (fault_now_ns() < until)
			;
		break;
	}
	case FAULT_ABORT:
		raise(SIGABRT);
		break;
	case FAULT_EXIT:
		_exit(1);
	case FAULT_HUGE:
		for (unsigned i = 0; i < frames; i++)
			out[0][i] = 1e30f;
		break;
	case FAULT_NAN:
		out[0][frames / 2] = NAN;
		break;
	case FAULT_POISON:
		atomic_store_explicit(&fault_poisoning, 1, memory_order_relaxed);
		break;
	case FAULT_LIE:
		atomic_store_explicit(&fault_lying, 1, memory_order_relaxed);
		break;
	default:
		break;
	}
}

const struct module_type fault_module = {
	.name = "fault",
	.help = "test module: crashes, hangs, runs slow or exits on command (fault-injection builds only)",
	.size = sizeof(struct fault),
	.inputs = fault_inputs, .n_inputs = 1,
	.outputs = fault_outputs, .n_outputs = 1,
	.params = fault_params, .n_params = 3,
	.init = fault_init,
	.set_param = fault_set_param,
	.process = fault_process,
};
