/*
 * tests/ring_stress_test.c — the shared-memory rings under load, between two
 * PROCESSES that map the region at different addresses: a child produces
 * millions of variable-length messages and fixed-size records, the parent
 * consumes them and checks there is no loss, duplication or reordering and
 * that every byte is intact.  Both sides sleep on futex doorbells when the
 * ring is empty or full.  Also single-process checks: a full ring refuses
 * (never overwrites), oversized messages are refused, a scribbled header is
 * reported as corrupt, and a random push/pop sequence matches a model FIFO.
 *
 *   ring_stress_test                  cross-process (fork; default)
 *   ring_stress_test --threads [N]    same producer/consumer as two threads,
 *                                     for -fsanitize=thread; N messages
 *
 * Exit status 0 when every check passes, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "futex.h"
#include "log.h"
#include "ring.h"
#include "shm.h"

#define MSG_MAXLEN   200u                /* payload bytes, 1..MSG_MAXLEN */
#define MSG_RING     (64u * 1024)        /* data bytes of the message ring */
#define ELEM_RING    4096u               /* elements in the element ring */
#define SPIN_TRIES   200                 /* polls before sleeping on a futex */
#define SLEEP_NS     (50u * 1000 * 1000) /* safety-net futex deadline */

/* One fixed-size record of the element ring (16 bytes). */
struct rec {
	uint64_t seq;
	uint64_t check;  /* mix(seq) */
};

/* A futex doorbell: a waiter flags itself, the other side rings only then. */
struct bell {
	_Atomic uint32_t seq;      /* futex word, bumped by each ring */
	_Atomic uint32_t waiting;  /* 1 while the waiter may be asleep */
	uint32_t pad[14];
};

/* What lives at offset 0 of the test region; rings follow at fixed offsets. */
struct sync {
	struct bell data;   /* consumer sleeps here when the ring is empty */
	struct bell space;  /* producer sleeps here when the ring is full */
	uint64_t prod_sum;  /* producer's checksum of everything it sent */
	uint64_t prod_n;    /* messages or records sent */
	uint64_t sleeps;    /* producer's futex sleeps */
	uint64_t timeouts;  /* producer's futex sleeps that hit the deadline */
	uint32_t pad[8];
};

#define OFF_MSG   4096u
#define OFF_ELEM  (OFF_MSG + 128u * 1024)
#define REGION    (OFF_ELEM + 128u * 1024)

/* Counters for one side's waiting. */
struct waitstat {
	uint64_t sleeps, timeouts, spins;
};

static uint64_t n_msgs = 5000000;
static uint64_t n_recs = 10000000;

/* splitmix64: a well-mixed 64-bit value from a sequence number. */
static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Payload length in bytes of message i. */
static uint32_t
msg_len(uint64_t i)
{
	return 1 + (uint32_t)(mix(i) % MSG_MAXLEN);
}

/* Fill buf with the len bytes of message i. */
static void
msg_fill(uint64_t i, unsigned char *buf, uint32_t len)
{
	uint64_t h = mix(i ^ 0x5555);
	uint32_t k;

	for (k = 0; k < len; k++)
		buf[k] = (unsigned char)((h >> ((k & 7) * 8)) + k * 13 + (i & 0xff));
}

/* FNV-1a style running checksum over bytes. */
static uint64_t
sum_bytes(uint64_t s, const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n--)
		s = (s ^ *b++) * 0x100000001b3ull;
	return s;
}

/* CPU hint inside a spin loop. */
static void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	sched_yield();
#endif
}

/* Wake the other side if it flagged itself as waiting on b. */
static void
bell_ring(struct bell *b)
{
	/* Orders our ring index store before the load of `waiting`. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&b->waiting, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&b->seq, 1, memory_order_release);
		futex_wake(&b->seq, 1);
	}
}

/*
 * Wait until try(arg) succeeds: poll a little, then sleep on b.  The flag is
 * raised before the final re-check so a ring between them is never lost.
 */
static void
bell_wait(struct bell *b, int (*try)(void *), void *arg, struct waitstat *ws)
{
	struct timespec dl;
	uint32_t seq;
	int i, rc;

	for (;;) {
		for (i = 0; i < SPIN_TRIES; i++) {
			if (try(arg))
				return;
			cpu_relax();
		}
		ws->spins++;
		seq = atomic_load_explicit(&b->seq, memory_order_acquire);
		atomic_store_explicit(&b->waiting, 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
		if (try(arg)) {
			atomic_store_explicit(&b->waiting, 0, memory_order_relaxed);
			return;
		}
		futex_deadline_after(&dl, SLEEP_NS);
		rc = futex_wait(&b->seq, seq, &dl);
		atomic_store_explicit(&b->waiting, 0, memory_order_relaxed);
		ws->sleeps++;
		if (rc == ETIMEDOUT)
			ws->timeouts++;
		else if (rc != 0 && rc != EAGAIN && rc != EINTR)
			fatal("futex_wait: %s", strerror(rc));
	}
}

/* ------------------------------------------------------------- messages */

/* State of one side of the message run. */
struct msg_side {
	struct ring r;
	struct sync *sync;
	uint64_t i;          /* next sequence number */
	uint32_t len;        /* current message length */
	unsigned char buf[MSG_MAXLEN];
	unsigned char want[MSG_MAXLEN];
	uint64_t sum;
	uint64_t bad;        /* consumer: mismatches */
	int got;             /* consumer: length of the last pop */
	struct waitstat ws;
};

/* Producer step: push message i, alternating copy and zero-copy. */
static int
msg_try_push(void *arg)
{
	struct msg_side *s = arg;
	void *p;

	if (s->i & 1) {
		if ((p = ring_msg_reserve(&s->r, s->len)) == NULL)
			return 0;
		memcpy(p, s->buf, s->len);
		ring_msg_commit(&s->r, s->len);
		return 1;
	}
	return ring_msg_push(&s->r, s->buf, s->len) == 0;
}

/* Consumer step: pop one message, alternating copy and zero-copy. */
static int
msg_try_pop(void *arg)
{
	struct msg_side *s = arg;
	const void *p;
	int n;

	if (s->i & 1) {
		n = ring_msg_peek(&s->r, &p);
		if (n > 0) {
			memcpy(s->buf, p, (size_t)n);
			ring_msg_release(&s->r);
		}
	} else
		n = ring_msg_pop(&s->r, s->buf, sizeof s->buf);
	if (n < 0)
		fatal("message ring: pop returned %d at message %" PRIu64, n, s->i);
	s->got = n;
	return n > 0;
}

/* Produce n_msgs messages into the ring at mem. */
static void
msg_produce(struct sync *sync, void *mem)
{
	struct msg_side *s = xcalloc(1, sizeof *s);

	if (ring_attach(&s->r, mem, OFF_ELEM - OFF_MSG, RING_MAGIC_MSG) != 0)
		fatal("producer: cannot attach the message ring");
	s->sync = sync;
	for (s->i = 0; s->i < n_msgs; s->i++) {
		s->len = msg_len(s->i);
		msg_fill(s->i, s->buf, s->len);
		s->sum = sum_bytes(s->sum, s->buf, s->len);
		bell_wait(&sync->space, msg_try_push, s, &s->ws);
		bell_ring(&sync->data);
	}
	sync->prod_sum = s->sum;
	sync->prod_n = s->i;
	sync->sleeps = s->ws.sleeps;
	sync->timeouts = s->ws.timeouts;
	free(s);
}

/* Consume n_msgs messages and check each; returns mismatches. */
static uint64_t
msg_consume(struct sync *sync, void *mem, uint64_t *sum, struct waitstat *ws)
{
	struct msg_side *s = xcalloc(1, sizeof *s);
	uint64_t bad;

	if (ring_attach(&s->r, mem, OFF_ELEM - OFF_MSG, RING_MAGIC_MSG) != 0)
		fatal("consumer: cannot attach the message ring");
	for (s->i = 0; s->i < n_msgs; s->i++) {
		bell_wait(&sync->data, msg_try_pop, s, &s->ws);
		bell_ring(&sync->space);
		s->len = msg_len(s->i);
		msg_fill(s->i, s->want, s->len);
		s->sum = sum_bytes(s->sum, s->buf, (size_t)s->got);
		if ((uint32_t)s->got != s->len ||
		    memcmp(s->buf, s->want, s->len) != 0) {
			if (s->bad++ < 5)
				fprintf(stderr, "message %" PRIu64 ": got %d bytes, "
				    "want %u, content %s\n", s->i, s->got, s->len,
				    (uint32_t)s->got == s->len ? "differs" : "-");
		}
	}
	*sum = s->sum;
	*ws = s->ws;
	bad = s->bad;
	free(s);
	return bad;
}

/* ------------------------------------------------------------- elements */

/* State of one side of the element run. */
struct elem_side {
	struct ring r;
	uint64_t next;       /* next sequence number to send or expect */
	uint64_t total;
	uint64_t sum;
	uint64_t bad;
	struct rec batch[128];
	struct waitstat ws;
};

/* Producer step: push a batch of 1..64 records, half the time zero-copy. */
static int
elem_try_push(void *arg)
{
	struct elem_side *s = arg;
	uint64_t h = mix(s->next * 7 + 1);
	uint32_t want = 1 + (uint32_t)(h % 64), n, k;
	struct rec *p;

	if (want > s->total - s->next)
		want = (uint32_t)(s->total - s->next);
	if (h & 0x100) {
		p = ring_elem_reserve(&s->r, &n);
		if (n > want)
			n = want;
		for (k = 0; k < n; k++) {
			p[k].seq = s->next + k;
			p[k].check = mix(s->next + k);
		}
		if (n)
			ring_elem_commit(&s->r, n);
	} else {
		for (k = 0; k < want; k++) {
			s->batch[k].seq = s->next + k;
			s->batch[k].check = mix(s->next + k);
		}
		n = ring_elem_push(&s->r, s->batch, want);
	}
	s->next += n;
	return n > 0;
}

/* Check one received record against the expected sequence. */
static void
elem_check(struct elem_side *s, const struct rec *e)
{
	if (e->seq != s->next || e->check != mix(s->next)) {
		if (s->bad++ < 5)
			fprintf(stderr, "record %" PRIu64 ": got seq %" PRIu64
			    "\n", s->next, e->seq);
	}
	s->sum = sum_bytes(s->sum, e, sizeof *e);
	s->next++;
}

/* Consumer step: pop a batch of 1..100 records, half the time zero-copy. */
static int
elem_try_pop(void *arg)
{
	struct elem_side *s = arg;
	uint64_t h = mix(s->next * 3 + 2);
	uint32_t want = 1 + (uint32_t)(h % 100), n, k;
	const struct rec *p;

	if (h & 0x100) {
		p = ring_elem_peek(&s->r, &n);
		if (n > want)
			n = want;
		for (k = 0; k < n; k++)
			elem_check(s, &p[k]);
		if (n)
			ring_elem_release(&s->r, n);
	} else {
		n = ring_elem_pop(&s->r, s->batch, want);
		for (k = 0; k < n; k++)
			elem_check(s, &s->batch[k]);
	}
	return n > 0;
}

/* Produce n_recs records into the ring at mem. */
static void
elem_produce(struct sync *sync, void *mem)
{
	struct elem_side *s = xcalloc(1, sizeof *s);

	if (ring_attach(&s->r, mem, REGION - OFF_ELEM, RING_MAGIC_ELEM) != 0)
		fatal("producer: cannot attach the element ring");
	s->total = n_recs;
	while (s->next < s->total) {
		bell_wait(&sync->space, elem_try_push, s, &s->ws);
		bell_ring(&sync->data);
	}
	sync->prod_n = s->next;
	sync->sleeps = s->ws.sleeps;
	sync->timeouts = s->ws.timeouts;
	free(s);
}

/* Consume n_recs records and check each; returns mismatches. */
static uint64_t
elem_consume(struct sync *sync, void *mem, uint64_t *got, struct waitstat *ws)
{
	struct elem_side *s = xcalloc(1, sizeof *s);
	uint64_t bad;

	if (ring_attach(&s->r, mem, REGION - OFF_ELEM, RING_MAGIC_ELEM) != 0)
		fatal("consumer: cannot attach the element ring");
	s->total = n_recs;
	while (s->next < s->total) {
		bell_wait(&sync->data, elem_try_pop, s, &s->ws);
		bell_ring(&sync->space);
	}
	*got = s->next;
	*ws = s->ws;
	bad = s->bad;
	free(s);
	return bad;
}

/* ---------------------------------------------------- single-process checks */

static int failures;

/* Count and report one failed check. */
static void
check(int ok, const char *what)
{
	if (!ok) {
		failures++;
		fprintf(stderr, "FAIL: %s\n", what);
	}
}

/* A full ring refuses; refused messages leave the ring intact. */
static void
test_full(void)
{
	static _Alignas(64) unsigned char mem[4096];
	unsigned char m[128] = { 0 }, out[256];
	struct ring r;
	const void *p;
	int n, k, pushed = 0;

	check(ring_msg_init(&r, mem, ring_msg_bytes(256)) == 0, "init 256");
	check(r.capacity == 256, "capacity 256");
	check(ring_msg_max(&r) == 120, "max payload 120");
	check(ring_msg_push(&r, m, 0) == RING_TOOBIG, "empty message refused");
	check(ring_msg_push(&r, m, 121) == RING_TOOBIG, "oversized refused");
	check(ring_msg_pop(&r, out, sizeof out) == 0, "empty pops 0");
	/* 16-byte payloads take 24-byte records: 10 fit in 256 bytes. */
	for (k = 0; k < 20; k++) {
		memset(m, k + 1, 16);
		if (ring_msg_push(&r, m, 16) != 0)
			break;
		pushed++;
	}
	check(pushed == 10, "10 messages fill 256 bytes");
	memset(m, 0xee, 16);
	check(ring_msg_push(&r, m, 16) == RING_FULL, "full ring says RING_FULL");
	check(ring_msg_reserve(&r, 9) == NULL, "full ring refuses a reserve");
	check(ring_msg_pop(&r, out, 4) == RING_TOOBIG, "small buffer refused");
	for (k = 0; k < 3; k++) {
		n = ring_msg_pop(&r, out, sizeof out);
		check(n == 16 && out[0] == k + 1 && out[15] == k + 1,
		    "first messages intact after a refused push");
	}
	/* 72 bytes free, 16 contiguous at the end: this one wraps. */
	memset(m, 0x77, 40);
	check(ring_msg_push(&r, m, 40) == 0, "push that wraps");
	for (k = 3; k < 10; k++) {
		n = ring_msg_pop(&r, out, sizeof out);
		check(n == 16 && out[0] == k + 1, "order kept across the wrap");
	}
	n = ring_msg_peek(&r, &p);
	check(n == 40 && ((const unsigned char *)p)[39] == 0x77 &&
	    ((uintptr_t)p & 7) == 0, "wrapped message contiguous and aligned");
	ring_msg_release(&r);
	check(ring_msg_pop(&r, out, sizeof out) == 0, "drained");
	check(ring_msg_push(&r, m, 120) == 0, "max payload fits when empty");

	/* Element ring: partial pushes, never an overwrite. */
	{
		static _Alignas(64) unsigned char emem[1024];
		uint32_t v[16], w[16], i;
		struct ring e;

		for (i = 0; i < 16; i++)
			v[i] = 100 + i;
		check(ring_elem_init(&e, emem, 4, 8) == 0, "elem init");
		check(ring_elem_init(&e, emem, 4, 6) != 0, "non power of two refused");
		check(ring_elem_init(&e, emem, 4, 8) == 0, "elem init again");
		check(ring_elem_push(&e, v, 10) == 8, "push 10 into 8 stores 8");
		check(ring_elem_push(&e, v, 1) == 0, "full element ring pushes 0");
		check(ring_elem_space(&e) == 0 && ring_elem_avail(&e) == 8,
		    "space 0, avail 8");
		check(ring_elem_pop(&e, w, 3) == 3 && w[0] == 100 && w[2] == 102,
		    "pop 3 in order");
		check(ring_elem_push(&e, v + 8, 5) == 3, "push wraps, 3 fit");
		check(ring_elem_pop(&e, w, 16) == 8 && w[0] == 103 && w[4] == 107 &&
		    w[5] == 108 && w[7] == 110, "pop across the wrap in order");
	}
}

/* A scribbled header or index is reported, never followed out of bounds. */
static void
test_corrupt(void)
{
	static _Alignas(64) unsigned char mem[1024];
	unsigned char m[16] = "hello", out[64];
	struct ring r, c;
	struct ring_hdr *h = (struct ring_hdr *)mem;

	ring_msg_init(&r, mem, sizeof mem);
	ring_msg_push(&r, m, 5);
	ring_attach(&c, mem, sizeof mem, RING_MAGIC_MSG);
	mem[sizeof *h] ^= 0x40;  /* the record's length */
	check(ring_msg_pop(&c, out, sizeof out) == RING_CORRUPT,
	    "scribbled length reported");
	mem[sizeof *h] ^= 0x40;
	check(ring_msg_pop(&c, out, sizeof out) == 5, "restored record pops");
	atomic_store(&h->head, 0x12345678);
	check(ring_msg_pop(&c, out, sizeof out) == RING_CORRUPT,
	    "impossible head reported");
	h->magic = 0;
	check(ring_attach(&c, mem, sizeof mem, RING_MAGIC_MSG) != 0,
	    "bad magic refused");
	ring_msg_init(&r, mem, sizeof mem);
	check(ring_attach(&c, mem, 300, RING_MAGIC_MSG) != 0,
	    "ring larger than its region refused");
}

/* Random pushes and pops of random lengths against a model FIFO. */
static void
test_model(void)
{
	static _Alignas(64) unsigned char mem[2048];
	uint32_t lens[1024];
	uint64_t seqs[1024], next_in = 0, next_out = 0;
	unsigned char m[MSG_MAXLEN], out[MSG_MAXLEN];
	unsigned q_head = 0, q_tail = 0, step, bad = 0, full = 0;
	struct ring r;
	uint64_t h;
	int n;

	ring_msg_init(&r, mem, ring_msg_bytes(1024));
	/* Start near 2^32 so the free-running indices wrap. */
	atomic_store(&r.hdr->head, 0xfffffe00u);
	atomic_store(&r.hdr->tail, 0xfffffe00u);
	ring_attach(&r, mem, ring_msg_bytes(1024), RING_MAGIC_MSG);
	for (step = 0; step < 1000000; step++) {
		h = mix(step + 99);
		if (h % 2 != 0) {
			uint32_t len = 1 + (uint32_t)((h >> 8) % MSG_MAXLEN);
			msg_fill(next_in, m, len);
			if (ring_msg_push(&r, m, len) == 0) {
				lens[q_head % 1024] = len;
				seqs[q_head++ % 1024] = next_in++;
			} else
				full++;
		} else {
			n = ring_msg_pop(&r, out, sizeof out);
			if (q_head == q_tail) {
				bad += n != 0;
				continue;
			}
			msg_fill(next_out, m, lens[q_tail % 1024]);
			if (n != (int)lens[q_tail % 1024] ||
			    seqs[q_tail % 1024] != next_out ||
			    memcmp(out, m, (size_t)n) != 0)
				bad++;
			q_tail++;
			next_out++;
		}
	}
	check(bad == 0, "random push/pop matches the model FIFO");
	check(full > 0, "model run reached a full ring");
	printf("model: %" PRIu64 " messages through a 1 KiB ring, %u full "
	    "refusals, %u mismatches\n", next_in, full, bad);
}

/* ------------------------------------------------------------------ runs */

/* Lay out both rings, with indices started just below 2^32. */
static void
region_init(void *base)
{
	struct ring r;
	unsigned char *b = base;

	memset(base, 0, OFF_MSG);
	if (ring_msg_init(&r, b + OFF_MSG, OFF_ELEM - OFF_MSG) != 0 ||
	    r.capacity != MSG_RING)
		fatal("message ring layout");
	atomic_store(&r.hdr->head, 0xffffefe8u);
	atomic_store(&r.hdr->tail, 0xffffefe8u);
	if (ring_elem_init(&r, b + OFF_ELEM, sizeof(struct rec), ELEM_RING) != 0 ||
	    ring_elem_bytes(sizeof(struct rec), ELEM_RING) > REGION - OFF_ELEM)
		fatal("element ring layout");
	atomic_store(&r.hdr->head, 0xffffff03u);
	atomic_store(&r.hdr->tail, 0xffffff03u);
}

/* Arguments of the producer thread in --threads mode. */
struct prod_arg {
	void *base;
	int phase;  /* 0 messages, 1 elements */
};

/* Producer thread body for --threads mode. */
static void *
prod_thread(void *arg)
{
	struct prod_arg *a = arg;
	unsigned char *b = a->base;

	if (a->phase == 0)
		msg_produce((struct sync *)b, b + OFF_MSG);
	else
		elem_produce((struct sync *)b, b + OFF_ELEM);
	return NULL;
}

/* The child: re-map the region at a new address and produce one phase. */
static void
child_main(struct shm *parent_view, int phase)
{
	struct shm own;
	unsigned char *b;
	int err;

	signal(SIGPIPE, SIG_DFL);
	err = shm_map_fd(&own, dup(parent_view->fd), REGION, 0);
	if (err != 0)
		fatal("child: %s", own.error);
	if (own.base == parent_view->base)
		fatal("child: region mapped at the same address");
	shm_close(parent_view);  /* the inherited view, not the region */
	b = own.base;
	if (phase == 0)
		msg_produce((struct sync *)b, b + OFF_MSG);
	else
		elem_produce((struct sync *)b, b + OFF_ELEM);
	shm_close(&own);
	_exit(0);
}

/* Run one phase with a producer child process or thread; returns mismatches. */
static uint64_t
run_phase(struct shm *s, int phase, int threads)
{
	unsigned char *b = s->base;
	struct sync *sync = (struct sync *)b;
	struct waitstat ws;
	struct prod_arg pa = { s->base, phase };
	pthread_t t;
	pid_t pid = 0;
	uint64_t bad, sum = 0, got = 0, t0, t1;
	int st;

	region_init(s->base);
	t0 = futex_now_ns();
	if (threads) {
		if (pthread_create(&t, NULL, prod_thread, &pa) != 0)
			fatal("pthread_create");
	} else {
		pid = fork();
		if (pid < 0)
			fatal("fork: %s", strerror(errno));
		if (pid == 0)
			child_main(s, phase);
	}
	if (phase == 0)
		bad = msg_consume(sync, b + OFF_MSG, &sum, &ws);
	else
		bad = elem_consume(sync, b + OFF_ELEM, &got, &ws);
	if (threads)
		pthread_join(t, NULL);
	else {
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			fprintf(stderr, "producer child failed (status %d)\n", st);
			bad++;
		}
	}
	t1 = futex_now_ns();
	if (phase == 0) {
		if (sync->prod_n != n_msgs || sync->prod_sum != sum)
			bad++;
		printf("messages: %" PRIu64 " sent, %" PRIu64 " received, "
		    "checksum %s, %" PRIu64 " bad, %.2f s (%.1f M msg/s)\n",
		    sync->prod_n, n_msgs, sync->prod_sum == sum ? "equal" :
		    "DIFFERS", bad, (double)(t1 - t0) / 1e9,
		    (double)n_msgs / ((double)(t1 - t0) / 1e3));
	} else {
		if (sync->prod_n != n_recs || got != n_recs)
			bad++;
		printf("records:  %" PRIu64 " sent, %" PRIu64 " received "
		    "(16 bytes each), %" PRIu64 " bad, %.2f s (%.1f M rec/s)\n",
		    sync->prod_n, got, bad, (double)(t1 - t0) / 1e9,
		    (double)got / ((double)(t1 - t0) / 1e3));
	}
	printf("  futex sleeps: producer %" PRIu64 " (%" PRIu64 " timed out), "
	    "consumer %" PRIu64 " (%" PRIu64 " timed out)\n", sync->sleeps,
	    sync->timeouts, ws.sleeps, ws.timeouts);
	return bad;
}

int
main(int argc, char **argv)
{
	struct shm s;
	uint64_t bad = 0;
	int threads = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "--threads") == 0) {
		threads = 1;
		if (argc > 2) {
			n_msgs = strtoull(argv[2], NULL, 10);
			n_recs = 2 * n_msgs;
		}
	} else if (argc > 1) {
		fprintf(stderr, "usage: %s [--threads [messages]]\n", argv[0]);
		return 2;
	}

	test_full();
	test_corrupt();
	test_model();
	printf("single-process checks: %s\n", failures ? "FAILED" : "ok");

	if (shm_create(&s, REGION, 0) != 0) {
		fprintf(stderr, "ring_stress_test: %s\n", s.error);
		return 1;
	}
	printf("region: %u bytes (%s%s), producer is a %s\n", REGION, s.backend,
	    s.locked ? ", locked" : "", threads ? "thread" : "process");
	bad += run_phase(&s, 0, threads);
	bad += run_phase(&s, 1, threads);
	shm_close(&s);

	printf("%s\n", bad == 0 && failures == 0 ? "PASS" : "FAIL");
	return bad == 0 && failures == 0 ? 0 : 1;
}
