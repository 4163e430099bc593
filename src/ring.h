/*
 * src/ring.h — lock-free single-producer single-consumer rings that live
 * inside the shared region, usable by two processes that map it at
 * different addresses: the shared part (struct ring_hdr plus its data area)
 * holds indices and offsets, never pointers; each side works through its
 * own private handle (struct ring) that knows where this process sees it.
 *
 * Two kinds share one header:
 *   - message rings carry variable-length byte messages (the control ring,
 *     parent -> child, and the event ring, child -> parent); a message is
 *     always contiguous in the buffer, so it can be read in place;
 *   - element rings carry fixed-size records (audio frames, meter values).
 *
 * Every push/pop/reserve/commit/peek/release is wait-free: no syscall, no
 * allocation, no lock, bounded work.  Exactly one producer and one
 * consumer (thread or process) per ring.  To sleep while a ring is empty or
 * full, pair it with a futex word (futex.h) outside the ring.
 *
 * The consumer never trusts the producer: an impossible index or length
 * (a crashed or buggy peer scribbling on the region) yields RING_CORRUPT,
 * never an out-of-bounds access.
 */
#ifndef FORKSYNTH_RING_H
#define FORKSYNTH_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define RING_MAGIC_MSG  0x464d5347u /* "FMSG" */
#define RING_MAGIC_ELEM 0x46454c4du /* "FELM" */
#define RING_VERSION    1u

/* Return codes (negative; a successful pop returns a length > 0). */
#define RING_FULL    (-1) /* no room now: nothing was written, try later */
#define RING_TOOBIG  (-2) /* can never fit (push) / buffer too small (pop) */
#define RING_CORRUPT (-3) /* the peer wrote an impossible index or length */

/*
 * WARNING: struct ring_hdr is shared between two processes, possibly two
 * builds of forksynth.  It is a wire format: fixed-width fields, explicit
 * padding, each index alone on its 64-byte line.  Do not reorder or resize
 * a field without bumping RING_VERSION; the _Static_asserts in ring.c pin
 * the layout.  The data area follows at data_offset bytes from the header.
 */
struct ring_hdr {
	/* line 0: written once by ring_*_init, read-only afterwards */
	uint32_t magic;        /* RING_MAGIC_MSG or RING_MAGIC_ELEM */
	uint32_t version;      /* RING_VERSION */
	uint32_t capacity;     /* bytes (message ring) or elements; power of two */
	uint32_t elem_size;    /* bytes per element; 1 for a message ring */
	uint32_t data_offset;  /* bytes from this header to the data area */
	uint32_t pad0[11];

	/* line 1: written by the producer only */
	_Atomic uint32_t head; /* free-running write index (bytes or elements) */
	uint32_t pad1[15];

	/* line 2: written by the consumer only */
	_Atomic uint32_t tail; /* free-running read index (bytes or elements) */
	uint32_t pad2[15];
};

/*
 * One side's handle on a ring, in that process's private memory.  Geometry
 * is copied here when the ring is laid out or attached, so a peer that
 * scribbles on the shared header cannot steer this side out of bounds.
 * The producer and the consumer each need their OWN handle (even as two
 * threads of one process): the caches below are per side.  Fields are
 * private to ring.c.
 */
struct ring {
	struct ring_hdr *hdr;  /* the shared header, in this process's mapping */
	unsigned char *data;   /* the shared data area, in this process's mapping */
	uint32_t capacity;     /* bytes or elements */
	uint32_t mask;         /* capacity - 1 */
	uint32_t elem_size;    /* bytes per element */
	uint32_t magic;        /* kind */
	uint32_t head;         /* producer: own write index (authoritative) */
	uint32_t tail;         /* consumer: own read index (authoritative) */
	uint32_t head_cache;   /* consumer: last head seen */
	uint32_t tail_cache;   /* producer: last tail seen */
	uint32_t res_skip;     /* producer, message ring: wrap padding reserved */
	uint32_t res_len;      /* producer, message ring: payload bytes reserved */
	uint32_t peek_bytes;   /* consumer, message ring: record bytes peeked */
};

/* ---------------------------------------------------------------- setup */

/* Bytes of region needed for a message ring with `capacity` data bytes. */
size_t ring_msg_bytes(uint32_t capacity);

/*
 * Lay out a message ring in `bytes` bytes at mem (64-byte aligned) and fill
 * the handle r; the data area gets the largest power of two that fits (64
 * bytes to 2^31).  Returns 0, or -1 if mem is misaligned or too small.
 */
int ring_msg_init(struct ring *r, void *mem, size_t bytes);

/* Bytes of region for an element ring of `capacity` elements of elem_size bytes. */
size_t ring_elem_bytes(uint32_t elem_size, uint32_t capacity);

/*
 * Lay out an element ring at mem (64-byte aligned): capacity_pow2 elements
 * (a power of two, 2..2^31) of elem_size bytes each; mem must hold
 * ring_elem_bytes() bytes.  Fills the handle r.  Returns 0, or -1 on bad
 * arguments.
 */
int ring_elem_init(struct ring *r, void *mem, uint32_t elem_size,
    uint32_t capacity_pow2);

/*
 * Fill the handle r for a ring laid out at mem (by this or another process)
 * within `bytes` bytes of region, after checking magic, version, sizes and
 * bounds.  magic is RING_MAGIC_MSG or RING_MAGIC_ELEM.  Returns 0 or -1.
 */
int ring_attach(struct ring *r, void *mem, size_t bytes, uint32_t magic);

/*
 * Empty the ring and this handle's caches.  Only while no peer uses it (for
 * instance before spawning a new DSP child after a crash); the new peer
 * attaches afterwards.
 */
void ring_reset(struct ring *r);

/* --------------------------------------------------- message ring: producer */

/* Largest payload in bytes a push can ever accept (capacity / 2 - 8). */
uint32_t ring_msg_max(const struct ring *r);

/*
 * Copy one message of len bytes (1..ring_msg_max) into the ring.  Returns 0,
 * RING_FULL (nothing written: the ring never overwrites), or RING_TOOBIG.
 */
int ring_msg_push(struct ring *r, const void *msg, uint32_t len);

/*
 * Zero-copy push, step 1: get room for a message of up to len bytes,
 * contiguous and 8-byte aligned.  Returns NULL if full or too big.
 */
void *ring_msg_reserve(struct ring *r, uint32_t len);

/* Zero-copy push, step 2: publish the reserved message with len bytes (<= reserved). */
void ring_msg_commit(struct ring *r, uint32_t len);

/* --------------------------------------------------- message ring: consumer */

/*
 * Copy the next message into buf (cap bytes).  Returns its length in bytes,
 * 0 if the ring is empty, RING_TOOBIG if cap is too small (the message
 * stays; ring_msg_peek tells its size), or RING_CORRUPT.
 */
int ring_msg_pop(struct ring *r, void *buf, uint32_t cap);

/*
 * Zero-copy pop, step 1: point *msg at the next message, in place, 8-byte
 * aligned.  Returns its length in bytes, 0 if empty, or RING_CORRUPT.
 */
int ring_msg_peek(struct ring *r, const void **msg);

/* Zero-copy pop, step 2: let go of the message ring_msg_peek returned. */
void ring_msg_release(struct ring *r);

/* ------------------------------------------------------------- element ring */

/* Elements the producer may write now. */
uint32_t ring_elem_space(struct ring *r);

/* Elements the consumer may read now. */
uint32_t ring_elem_avail(struct ring *r);

/* Copy up to n elements from src; returns how many were written (0 if full). */
uint32_t ring_elem_push(struct ring *r, const void *src, uint32_t n);

/* Copy up to n elements to dst; returns how many were read (0 if empty). */
uint32_t ring_elem_pop(struct ring *r, void *dst, uint32_t n);

/*
 * Zero-copy write: point at the first free element and set *n to how many
 * contiguous elements may be written there (0 if full).
 */
void *ring_elem_reserve(struct ring *r, uint32_t *n);

/* Publish n elements (at most the *n ring_elem_reserve gave) written there. */
void ring_elem_commit(struct ring *r, uint32_t n);

/*
 * Zero-copy read: point at the oldest element and set *n to how many
 * contiguous elements may be read there (0 if empty).
 */
const void *ring_elem_peek(struct ring *r, uint32_t *n);

/* Let go of n elements (at most the *n ring_elem_peek gave) read there. */
void ring_elem_release(struct ring *r, uint32_t n);

#endif
