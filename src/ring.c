/*
 * src/ring.c — SPSC message and element rings in shared memory.
 *
 * Indices are free-running uint32_t counts (bytes for a message ring,
 * elements for an element ring) that wrap modulo 2^32; capacity is a power
 * of two <= 2^31, so head - tail is always the fill level.  The producer
 * writes data, then publishes head with a release store; the consumer reads
 * head with an acquire load, reads data, then publishes tail with a release
 * store, which the producer acquires before reusing that space.
 *
 * A message is a record: an 8-byte header {len, ~len} and the payload,
 * padded to 8 bytes.  A record never wraps: when it does not fit before the
 * end of the buffer the producer writes a wrap marker {0xffffffff, 0} there
 * and starts again at offset 0.  So a message needs at most capacity / 2
 * bytes to be guaranteed to fit in an empty ring.
 */
#include <string.h>

#include "ring.h"

#define RING_WRAP     0xffffffffu /* record length meaning "continue at 0" */
#define RING_REC_HDR  8u          /* bytes of record header */

/* The wire layout: pinned, so that a change is a conscious version bump. */
_Static_assert(sizeof(struct ring_hdr) == 192, "ring_hdr is 3 cache lines");
_Static_assert(offsetof(struct ring_hdr, head) == 64, "head on line 1");
_Static_assert(offsetof(struct ring_hdr, tail) == 128, "tail on line 2");
_Static_assert(sizeof(_Atomic uint32_t) == 4, "atomic index is 4 bytes");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
    "32-bit atomics must be lock-free (address-free) for shared memory");

/* A message record header, at an 8-byte aligned offset of the data area. */
struct ring_rec {
	uint32_t len;   /* payload bytes, or RING_WRAP */
	uint32_t check; /* ~len: catches a scribbled header */
};

/* Round a byte count up to a multiple of 8. */
static uint32_t
ring_align8(uint32_t n)
{
	return (n + 7u) & ~7u;
}

/* True if x is a power of two in [lo, 2^31]. */
static int
ring_pow2_ok(uint32_t x, uint32_t lo)
{
	return x >= lo && x <= 0x80000000u && (x & (x - 1)) == 0;
}

/* Free room in bytes or elements, refreshing the tail only if want > cached room. */
static uint32_t
ring_free(struct ring *r, uint32_t want)
{
	uint32_t used = r->head - r->tail_cache;

	if (used > r->capacity || r->capacity - used < want) {
		r->tail_cache = atomic_load_explicit(&r->hdr->tail,
		    memory_order_acquire);
		used = r->head - r->tail_cache;
		if (used > r->capacity)  /* impossible tail: act as full */
			return 0;
	}
	return r->capacity - used;
}

/*
 * Filled bytes or elements, refreshing the head only if want > cached
 * fill; returns UINT32_MAX for an impossible head.
 */
static uint32_t
ring_used(struct ring *r, uint32_t want)
{
	uint32_t used = r->head_cache - r->tail;

	if (used > r->capacity || used < want) {
		r->head_cache = atomic_load_explicit(&r->hdr->head,
		    memory_order_acquire);
		used = r->head_cache - r->tail;
		if (used > r->capacity)
			return UINT32_MAX;
	}
	return used;
}

/* Fill the handle from a header that is known to be valid. */
static void
ring_handle_fill(struct ring *r, struct ring_hdr *h)
{
	memset(r, 0, sizeof *r);
	r->hdr = h;
	r->data = (unsigned char *)h + h->data_offset;
	r->capacity = h->capacity;
	r->mask = h->capacity - 1;
	r->elem_size = h->elem_size;
	r->magic = h->magic;
	r->head = atomic_load_explicit(&h->head, memory_order_acquire);
	r->tail = atomic_load_explicit(&h->tail, memory_order_acquire);
	r->head_cache = r->head;
	r->tail_cache = r->tail;
}

/* Write a fresh header at mem. */
static void
ring_hdr_init(struct ring_hdr *h, uint32_t magic, uint32_t capacity,
    uint32_t elem_size)
{
	memset(h, 0, sizeof *h);
	h->magic = magic;
	h->version = RING_VERSION;
	h->capacity = capacity;
	h->elem_size = elem_size;
	h->data_offset = (uint32_t)sizeof *h;
	atomic_store_explicit(&h->head, 0, memory_order_relaxed);
	atomic_store_explicit(&h->tail, 0, memory_order_release);
}

size_t
ring_msg_bytes(uint32_t capacity)
{
	return sizeof(struct ring_hdr) + capacity;
}

int
ring_msg_init(struct ring *r, void *mem, size_t bytes)
{
	size_t avail;
	uint32_t cap = 0x80000000u;

	if (((uintptr_t)mem & 63) != 0 || bytes < ring_msg_bytes(64))
		return -1;
	avail = bytes - sizeof(struct ring_hdr);
	while (cap > avail)
		cap >>= 1;
	ring_hdr_init(mem, RING_MAGIC_MSG, cap, 1);
	ring_handle_fill(r, mem);
	return 0;
}

size_t
ring_elem_bytes(uint32_t elem_size, uint32_t capacity)
{
	return sizeof(struct ring_hdr) + (size_t)elem_size * capacity;
}

int
ring_elem_init(struct ring *r, void *mem, uint32_t elem_size,
    uint32_t capacity_pow2)
{
	if (((uintptr_t)mem & 63) != 0 || elem_size == 0 ||
	    !ring_pow2_ok(capacity_pow2, 2))
		return -1;
	ring_hdr_init(mem, RING_MAGIC_ELEM, capacity_pow2, elem_size);
	ring_handle_fill(r, mem);
	return 0;
}

int
ring_attach(struct ring *r, void *mem, size_t bytes, uint32_t magic)
{
	struct ring_hdr *h = mem;
	uint32_t head, tail;

	if (((uintptr_t)mem & 63) != 0 || bytes < sizeof *h ||
	    h->magic != magic || h->version != RING_VERSION)
		return -1;
	if (magic == RING_MAGIC_MSG) {
		if (h->elem_size != 1 || !ring_pow2_ok(h->capacity, 64))
			return -1;
	} else if (magic == RING_MAGIC_ELEM) {
		if (h->elem_size == 0 || !ring_pow2_ok(h->capacity, 2))
			return -1;
	} else
		return -1;
	if (h->data_offset < sizeof *h || (h->data_offset & 63) != 0 ||
	    h->data_offset > bytes ||
	    (size_t)h->capacity * h->elem_size > bytes - h->data_offset)
		return -1;
	head = atomic_load_explicit(&h->head, memory_order_acquire);
	tail = atomic_load_explicit(&h->tail, memory_order_acquire);
	if (head - tail > h->capacity)
		return -1;
	if (magic == RING_MAGIC_MSG && ((head | tail) & 7) != 0)
		return -1;
	ring_handle_fill(r, h);
	return 0;
}

void
ring_reset(struct ring *r)
{
	atomic_store_explicit(&r->hdr->head, 0, memory_order_relaxed);
	atomic_store_explicit(&r->hdr->tail, 0, memory_order_release);
	r->head = r->tail = r->head_cache = r->tail_cache = 0;
	r->res_skip = r->res_len = r->peek_bytes = 0;
}

/* ------------------------------------------------------------ message ring */

uint32_t
ring_msg_max(const struct ring *r)
{
	return r->capacity / 2 - RING_REC_HDR;
}

void *
ring_msg_reserve(struct ring *r, uint32_t len)
{
	struct ring_rec *rec;
	uint32_t pos, contig, bytes, skip;

	if (len == 0 || len > ring_msg_max(r))
		return NULL;
	bytes = ring_align8(RING_REC_HDR + len);
	pos = r->head & r->mask;
	contig = r->capacity - pos;
	skip = contig < bytes ? contig : 0;
	if (ring_free(r, skip + bytes) < skip + bytes)
		return NULL;
	if (skip != 0) {
		/* Unpublished until commit moves head past it. */
		rec = (struct ring_rec *)(r->data + pos);
		rec->len = RING_WRAP;
		rec->check = ~RING_WRAP;
	}
	r->res_skip = skip;
	r->res_len = len;
	return r->data + ((r->head + skip) & r->mask) + RING_REC_HDR;
}

void
ring_msg_commit(struct ring *r, uint32_t len)
{
	struct ring_rec *rec;

	if (r->res_len == 0 || len == 0 || len > r->res_len) {
		r->res_len = 0;  /* nothing reserved, or a cancel */
		return;
	}
	rec = (struct ring_rec *)(r->data + ((r->head + r->res_skip) & r->mask));
	rec->len = len;
	rec->check = ~len;
	r->head += r->res_skip + ring_align8(RING_REC_HDR + len);
	r->res_len = 0;
	atomic_store_explicit(&r->hdr->head, r->head, memory_order_release);
}

int
ring_msg_push(struct ring *r, const void *msg, uint32_t len)
{
	void *p;

	if (len == 0 || len > ring_msg_max(r))
		return RING_TOOBIG;
	if ((p = ring_msg_reserve(r, len)) == NULL)
		return RING_FULL;
	memcpy(p, msg, len);
	ring_msg_commit(r, len);
	return 0;
}

int
ring_msg_peek(struct ring *r, const void **msg)
{
	const struct ring_rec *rec;
	uint32_t used, pos, len, bytes, skip;
	int wraps;

	for (wraps = 0; wraps < 2; wraps++) {
		used = ring_used(r, 1);
		if (used == 0)
			return 0;
		if (used == UINT32_MAX || (used & 7) != 0)
			return RING_CORRUPT;
		pos = r->tail & r->mask;
		rec = (const struct ring_rec *)(r->data + pos);
		len = rec->len;
		if (rec->check != ~len)
			return RING_CORRUPT;
		if (len == RING_WRAP) {
			skip = r->capacity - pos;
			if (skip > used)
				return RING_CORRUPT;
			r->tail += skip;
			atomic_store_explicit(&r->hdr->tail, r->tail,
			    memory_order_release);
			continue;
		}
		if (len == 0 || len > ring_msg_max(r))
			return RING_CORRUPT;
		bytes = ring_align8(RING_REC_HDR + len);
		if (bytes > used || bytes > r->capacity - pos)
			return RING_CORRUPT;
		r->peek_bytes = bytes;
		*msg = rec + 1;
		return (int)len;
	}
	return RING_CORRUPT;  /* two wrap markers in a row */
}

void
ring_msg_release(struct ring *r)
{
	if (r->peek_bytes == 0)
		return;
	r->tail += r->peek_bytes;
	r->peek_bytes = 0;
	atomic_store_explicit(&r->hdr->tail, r->tail, memory_order_release);
}

int
ring_msg_pop(struct ring *r, void *buf, uint32_t cap)
{
	const void *msg;
	int n;

	n = ring_msg_peek(r, &msg);
	if (n <= 0)
		return n;
	if ((uint32_t)n > cap) {
		r->peek_bytes = 0;  /* leave it in the ring */
		return RING_TOOBIG;
	}
	memcpy(buf, msg, (size_t)n);
	ring_msg_release(r);
	return n;
}

/* ------------------------------------------------------------ element ring */

uint32_t
ring_elem_space(struct ring *r)
{
	return ring_free(r, UINT32_MAX);
}

uint32_t
ring_elem_avail(struct ring *r)
{
	uint32_t used = ring_used(r, UINT32_MAX);
	return used == UINT32_MAX ? 0 : used;
}

void *
ring_elem_reserve(struct ring *r, uint32_t *n)
{
	uint32_t pos = r->head & r->mask;
	uint32_t room = ring_free(r, UINT32_MAX);

	if (room > r->capacity - pos)
		room = r->capacity - pos;
	*n = room;
	return r->data + (size_t)pos * r->elem_size;
}

void
ring_elem_commit(struct ring *r, uint32_t n)
{
	r->head += n;
	atomic_store_explicit(&r->hdr->head, r->head, memory_order_release);
}

const void *
ring_elem_peek(struct ring *r, uint32_t *n)
{
	uint32_t pos = r->tail & r->mask;
	uint32_t used = ring_used(r, UINT32_MAX);

	if (used == UINT32_MAX)  /* impossible head: show nothing */
		used = 0;
	if (used > r->capacity - pos)
		used = r->capacity - pos;
	*n = used;
	return r->data + (size_t)pos * r->elem_size;
}

void
ring_elem_release(struct ring *r, uint32_t n)
{
	r->tail += n;
	atomic_store_explicit(&r->hdr->tail, r->tail, memory_order_release);
}

uint32_t
ring_elem_push(struct ring *r, const void *src, uint32_t n)
{
	uint32_t room, pos, first;
	size_t es = r->elem_size;

	room = ring_free(r, n);
	if (n > room)
		n = room;
	if (n == 0)
		return 0;
	pos = r->head & r->mask;
	first = r->capacity - pos;
	if (first > n)
		first = n;
	memcpy(r->data + pos * es, src, first * es);
	memcpy(r->data, (const unsigned char *)src + first * es,
	    (n - first) * es);
	ring_elem_commit(r, n);
	return n;
}

uint32_t
ring_elem_pop(struct ring *r, void *dst, uint32_t n)
{
	uint32_t used, pos, first;
	size_t es = r->elem_size;

	used = ring_used(r, n);
	if (used == UINT32_MAX)
		return 0;
	if (n > used)
		n = used;
	if (n == 0)
		return 0;
	pos = r->tail & r->mask;
	first = r->capacity - pos;
	if (first > n)
		first = n;
	memcpy(dst, r->data + pos * es, first * es);
	memcpy((unsigned char *)dst + first * es, r->data, (n - first) * es);
	ring_elem_release(r, n);
	return n;
}
