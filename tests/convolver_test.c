/*
 * tests/convolver_test.c — the partitioned convolver (dsp/convolver_core.c)
 * against a direct convolution in double precision:
 *
 *  1. an impulse gives back the IR from frame 0 on, with nothing before
 *     (mono with the right input unconnected, stereo, true stereo): the
 *     first 64 frames bit-exact, the whole response within -100 dB;
 *  2. white noise through white-noise IRs of 1, 2, 63, 64, 65, 1000, 4096,
 *     48000 and 240000 frames (5 s), called with 16, 64, 256 frames and a
 *     varying pattern (37, 256, 1, 100, 255, 3, 64, 190): relative RMS error
 *     <= -100 dB; for the long IRs the reference is computed directly at a
 *     spread of output windows only (the start and 8 windows of 256 frames);
 *  3. the head on this thread and the tail on a second one, concurrently,
 *     and the tail before the head: bit-identical to conv_process, and no
 *     tail block late;
 *  4. processing allocates nothing (malloc and friends counted by
 *     interposition on glibc) and keeps its memory.
 *
 * It also prints, without a bound, the cost of a stereo 2 s IR at 64 and
 * 256 frames per call as a percentage of one core at 48 kHz.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convolver_core.h"
#include "util.h"

#define RATE 48000.0
#define ERR_BOUND_DB (-100.0)
#define REF_BUDGET 4e8          /* multiply-adds for a full reference */

/* ---- counting allocations (glibc: the __libc_ entry points) ---- */

static volatile unsigned long alloc_count;

/* A sanitizer brings its own allocator, which glibc's free must never see:
 * no counting there.  GCC says so by macro, clang by __has_feature. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

#if defined(__GLIBC__) && !defined(SANITIZED)
#include <malloc.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

void *
malloc(size_t n)
{
	alloc_count++;
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t size)
{
	alloc_count++;
	return __libc_calloc(n, size);
}

void *
realloc(void *p, size_t n)
{
	alloc_count++;
	return __libc_realloc(p, n);
}

void
free(void *p)
{
	__libc_free(p);
}

int
posix_memalign(void **p, size_t align, size_t n)
{
	alloc_count++;
	*p = __libc_memalign(align, n);
	return *p == NULL ? 12 /* ENOMEM */ : 0;
}

void *
aligned_alloc(size_t align, size_t n)
{
	alloc_count++;
	return __libc_memalign(align, n);
}

void *
memalign(size_t align, size_t n)
{
	alloc_count++;
	return __libc_memalign(align, n);
}
#define COUNTING_ALLOCS 1
#else
#define COUNTING_ALLOCS 0
#endif

/* ---- signals ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* Uniform in [-1, 1). */
static float
noise(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (float)((double)(rng_state >> 11) / 4503599627370496.0 - 1.0);
}

static float *
noise_array(size_t n)
{
	float *x = xcalloc_test(n, sizeof *x);
	for (size_t i = 0; i < n; i++)
		x[i] = noise();
	return x;
}

/* ---- running the convolver ---- */

enum mode { MODE_PLAIN, MODE_TAIL_FIRST, MODE_THREAD };

struct worker {
	pthread_t thread;
	pthread_barrier_t go, done;
	struct conv *c;
	int quit;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	for (;;) {
		pthread_barrier_wait(&w->go);
		if (w->quit)
			break;
		conv_process_tail(w->c);
		pthread_barrier_wait(&w->done);
	}
	return NULL;
}

/*
 * Convolve `frames` frames in calls of pattern[0], pattern[1], ...
 * (cycling); in_r may be NULL.  Counts allocations inside processing.
 */
static void
run(struct conv *c, const float *in_l, const float *in_r, float *out_l,
    float *out_r, size_t frames, const unsigned *pattern, unsigned n_pattern,
    enum mode mode, unsigned long *allocs)
{
	struct worker w = { .c = c };
	unsigned long before;

	if (mode == MODE_THREAD) {
		pthread_barrier_init(&w.go, NULL, 2);
		pthread_barrier_init(&w.done, NULL, 2);
		if (pthread_create(&w.thread, NULL, worker_main, &w) != 0) {
			fail("pthread_create");
			exit(99);
		}
	}
	before = alloc_count;
	for (size_t done = 0, k = 0; done < frames; k++) {
		unsigned n = pattern[k % n_pattern];
		if (n > frames - done)
			n = (unsigned)(frames - done);
		const float *r = in_r != NULL ? in_r + done : NULL;
		switch (mode) {
		case MODE_PLAIN:
			conv_process(c, in_l + done, r, out_l + done,
			    out_r + done, n);
			break;
		case MODE_TAIL_FIRST:
			conv_process_tail(c);
			conv_process_head(c, in_l + done, r, out_l + done,
			    out_r + done, n);
			break;
		case MODE_THREAD:
			pthread_barrier_wait(&w.go);
			conv_process_head(c, in_l + done, r, out_l + done,
			    out_r + done, n);
			pthread_barrier_wait(&w.done);
			break;
		}
		done += n;
	}
	if (allocs != NULL)
		*allocs += alloc_count - before;
	if (mode == MODE_THREAD) {
		w.quit = 1;
		pthread_barrier_wait(&w.go);
		pthread_join(w.thread, NULL);
		pthread_barrier_destroy(&w.go);
		pthread_barrier_destroy(&w.done);
	}
}

static struct conv_ir *
make_ir(float **h, unsigned n_ch, size_t len)
{
	char err[200];
	struct conv_ir *ir = conv_ir_create((const float *const *)h, n_ch, len,
	    err, sizeof err);
	if (ir == NULL) {
		fail("conv_ir_create(%u ch, %zu): %s", n_ch, len, err);
		exit(1);
	}
	return ir;
}

/* ---- the reference: direct convolution in double ---- */

/* The IR channel from input i to output o for a routing of n_ch, or -1. */
static int
route(unsigned n_ch, unsigned i, unsigned o)
{
	if (n_ch == 4)
		return (int)(2 * i + o);
	if (i != o)
		return -1;
	return n_ch == 2 ? (int)i : 0;
}

/* sum_k h[k] x[t-k], four partial sums (the order does not matter in
 * double at the precision checked). */
static double
direct(const float *h, size_t len, const float *x, size_t t)
{
	double s[4] = { 0, 0, 0, 0 };
	size_t kmax = t + 1 < len ? t + 1 : len, k = 0;
	for (; k + 4 <= kmax; k += 4)
		for (unsigned j = 0; j < 4; j++)
			s[j] += (double)h[k + j] * x[t - k - j];
	for (; k < kmax; k++)
		s[0] += (double)h[k] * x[t - k];
	return (s[0] + s[1]) + (s[2] + s[3]);
}

/* Output frames compared: all when the reference is cheap, else the first
 * 512 and 8 windows of 256 spread over the rest. */
static size_t
pick_frames(size_t *idx, size_t frames, size_t len)
{
	size_t n = 0;
	if ((double)frames * (double)len <= REF_BUDGET) {
		for (size_t t = 0; t < frames; t++)
			idx[n++] = t;
		return n;
	}
	for (size_t t = 0; t < 512; t++)
		idx[n++] = t;
	for (unsigned w = 0; w < 8; w++) {
		/* odd offsets: every window starts at another block phase */
		size_t at = 512 + (frames - 1024) / 8 * w + 37 * w + 101;
		for (size_t t = 0; t < 256; t++)
			idx[n++] = at + t;
	}
	return n;
}

/* ---- 1: impulse response ---- */

static void
test_impulse(unsigned n_ch, size_t len)
{
	static const unsigned pattern[] = { 64 };
	const char *name = n_ch == 1 ? "mono" : n_ch == 2 ? "stereo" :
	    "true stereo";
	float *h[4];
	size_t frames = len + 1000;
	float *x = xcalloc_test(frames, sizeof *x);
	float *zero = xcalloc_test(frames, sizeof *zero);
	float *out[2] = { xcalloc_test(frames, sizeof(float)),
	    xcalloc_test(frames, sizeof(float)) };
	char label[160];

	for (unsigned ch = 0; ch < n_ch; ch++)
		h[ch] = noise_array(len);
	struct conv_ir *ir = make_ir(h, n_ch, len);
	x[0] = 1;
	/* the impulse on each input in turn (mono: right unconnected) */
	for (unsigned i = 0; i < (n_ch == 1 ? 1u : 2u); i++) {
		struct conv *c = conv_create(ir);
		const float *in_l = i == 0 ? x : zero;
		const float *in_r = n_ch == 1 ? NULL : i == 1 ? x : zero;
		run(c, in_l, in_r, out[0], out[1], frames, pattern, 1,
		    MODE_PLAIN, NULL);
		for (unsigned o = 0; o < 2; o++) {
			/* mono, right unconnected: both outputs are L * IR 0 */
			int ch = n_ch == 1 ? 0 : route(n_ch, i, o);
			double e2 = 0, r2 = 0, head_err = 0;
			for (size_t t = 0; t < frames; t++) {
				double want = ch >= 0 && t < len ? h[ch][t] : 0;
				double e = out[o][t] - want;
				e2 += e * e;
				r2 += want * want;
				if (t < 64 && fabs(e) > head_err)
					head_err = fabs(e);
			}
			if (r2 == 0) {
				snprintf(label, sizeof label, "impulse %s in %c: "
				    "out %c peak (silent path)", name, "LR"[i],
				    "LR"[o]);
				report(label, db_amp(peak(out[o], frames)), "dB",
				    "<=", -200, peak(out[o], frames) == 0);
				continue;
			}
			snprintf(label, sizeof label, "impulse %s in %c: out %c "
			    "frames 0-63 max |error|", name, "LR"[i], "LR"[o]);
			report(label, head_err, "", "<=", 0, head_err == 0);
			snprintf(label, sizeof label, "impulse %s in %c: out %c "
			    "relative RMS error", name, "LR"[i], "LR"[o]);
			double db = db_power(e2 / r2);
			report(label, db, "dB", "<=", ERR_BOUND_DB,
			    db <= ERR_BOUND_DB);
		}
		conv_free(c);
	}
	conv_ir_free(ir);
	for (unsigned ch = 0; ch < n_ch; ch++)
		free(h[ch]);
	free(x);
	free(zero);
	free(out[0]);
	free(out[1]);
}

/* ---- 2, 3, 4: noise against the reference ---- */

static const unsigned pat16[] = { 16 }, pat64[] = { 64 }, pat256[] = { 256 };
static const unsigned patvar[] = { 37, 256, 1, 100, 255, 3, 64, 190 };
static const struct {
	const char *name;
	const unsigned *p;
	unsigned n;
} patterns[] = {
	{ "16", pat16, 1 }, { "64", pat64, 1 }, { "256", pat256, 1 },
	{ "varying", patvar, 8 },
};

static void
test_noise(unsigned n_ch, size_t len, int mono_input, int check_threads)
{
	size_t frames = len + (len > 40000 ? 48000 : 20000);
	float *h[4], *in[2], *out[2], *out2[2];
	size_t *idx = xcalloc_test(frames, sizeof *idx);
	size_t n_idx = pick_frames(idx, frames, len);
	double *ref[2];
	char label[160];
	unsigned long allocs = 0;

	for (unsigned ch = 0; ch < n_ch; ch++)
		h[ch] = noise_array(len);
	for (unsigned i = 0; i < 2; i++) {
		in[i] = noise_array(frames);
		out[i] = xcalloc_test(frames, sizeof(float));
		out2[i] = xcalloc_test(frames, sizeof(float));
		ref[i] = xcalloc_test(n_idx, sizeof(double));
	}
	if (mono_input)
		memcpy(in[1], in[0], frames * sizeof(float));
	for (unsigned o = 0; o < 2; o++)
		for (size_t j = 0; j < n_idx; j++)
			for (unsigned i = 0; i < 2; i++) {
				int ch = route(n_ch, i, o);
				if (ch >= 0)
					ref[o][j] += direct(h[ch], len, in[i],
					    idx[j]);
			}

	struct conv_ir *ir = make_ir(h, n_ch, len);
	for (unsigned p = 0; p < sizeof patterns / sizeof patterns[0]; p++) {
		struct conv *c = conv_create(ir);
		size_t mem = conv_memory(c);
		double e2 = 0, r2 = 0;
		run(c, in[0], mono_input ? NULL : in[1], out[0], out[1], frames,
		    patterns[p].p, patterns[p].n, MODE_PLAIN, &allocs);
		for (unsigned o = 0; o < 2; o++)
			for (size_t j = 0; j < n_idx; j++) {
				double e = out[o][idx[j]] - ref[o][j];
				e2 += e * e;
				r2 += ref[o][j] * ref[o][j];
			}
		double db = db_power(e2 / r2);
		snprintf(label, sizeof label, "noise %u-ch IR %zu frames%s, "
		    "calls of %s: relative RMS error", n_ch, len,
		    mono_input ? " (right input unconnected)" : "",
		    patterns[p].name);
		report(label, db, "dB", "<=", ERR_BOUND_DB, db <= ERR_BOUND_DB);
		if (conv_memory(c) != mem)
			fail("%s: memory changed while processing", label);
		if (conv_late_blocks(c) != 0)
			fail("%s: %lu tail blocks late", label,
			    conv_late_blocks(c));

		/* 3: the same calls with the tail first, and on a thread */
		if (check_threads && patterns[p].n > 1) {
			for (int m = MODE_TAIL_FIRST; m <= MODE_THREAD; m++) {
				struct conv *c2 = conv_create(ir);
				size_t diff = 0;
				run(c2, in[0], mono_input ? NULL : in[1],
				    out2[0], out2[1], frames, patterns[p].p,
				    patterns[p].n, (enum mode)m, NULL);
				for (unsigned o = 0; o < 2; o++)
					for (size_t t = 0; t < frames; t++)
						diff += memcmp(&out[o][t],
						    &out2[o][t],
						    sizeof(float)) != 0;
				snprintf(label, sizeof label, "IR %zu frames, "
				    "tail %s: frames differing from "
				    "conv_process", len, m == MODE_THREAD ?
				    "on a second thread" : "before head");
				report(label, (double)diff, "", "<=", 0,
				    diff == 0);
				if (conv_late_blocks(c2) != 0)
					fail("%s: %lu tail blocks late", label,
					    conv_late_blocks(c2));
				conv_free(c2);
			}
		}
		conv_free(c);
	}
	if (COUNTING_ALLOCS) {
		snprintf(label, sizeof label, "IR %zu frames: allocations while "
		    "processing", len);
		report(label, (double)allocs, "", "<=", 0, allocs == 0);
	}
	conv_ir_free(ir);
	for (unsigned ch = 0; ch < n_ch; ch++)
		free(h[ch]);
	for (unsigned i = 0; i < 2; i++) {
		free(in[i]);
		free(out[i]);
		free(out2[i]);
		free(ref[i]);
	}
	free(idx);
}

/* ---- cost, printed only ---- */

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void
print_cost(void)
{
	size_t len = (size_t)(2 * RATE), frames = (size_t)(10 * RATE);
	float *h[2] = { noise_array(len), noise_array(len) };
	float *in[2] = { noise_array(frames), noise_array(frames) };
	float *out[2] = { xcalloc_test(frames, sizeof(float)),
	    xcalloc_test(frames, sizeof(float)) };
	double t0 = now();
	struct conv_ir *ir = make_ir(h, 2, len);
	double t_ir = now() - t0;
	struct conv *c = conv_create(ir);

	printf("stereo 2 s IR: prepared in %.0f ms; %.1f MB per instance, "
	    "%.1f MB shared IR\n", 1e3 * t_ir, conv_memory(c) / 1e6,
	    conv_ir_memory(ir) / 1e6);
	for (unsigned b = 64; b <= 256; b *= 4) {
		unsigned pattern[1] = { b };
		double best = 1e9;
		for (int rep = 0; rep < 3; rep++) {
			t0 = now();
			run(c, in[0], in[1], out[0], out[1], frames, pattern, 1,
			    MODE_PLAIN, NULL);
			double t = now() - t0;
			if (t < best)
				best = t;
		}
		printf("stereo 2 s IR, calls of %u: %.2f us per call, %.2f %% "
		    "of one core (not a bound)\n", b,
		    1e6 * best / ((double)frames / b),
		    100 * best / ((double)frames / RATE));
	}
	conv_free(c);
	conv_ir_free(ir);
	for (unsigned i = 0; i < 2; i++) {
		free(h[i]);
		free(in[i]);
		free(out[i]);
	}
}

int
main(void)
{
	static const size_t lengths[] = {
		1, 2, 63, 64, 65, 1000, 4096, 48000, 240000,
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!COUNTING_ALLOCS)
		printf("allocation counting needs glibc and no sanitizer: not checked\n");

	test_impulse(1, 50000);
	test_impulse(2, 50000);
	test_impulse(4, 50000);

	for (unsigned i = 0; i < sizeof lengths / sizeof lengths[0]; i++)
		test_noise(2, lengths[i], 0, lengths[i] >= 48000);
	test_noise(1, 4096, 1, 0);
	test_noise(4, 1000, 0, 0);
	test_noise(4, 48000, 0, 1);

	print_cost();
	return test_status();
}
