/*
 * src/region.c — lays out and checks the shared region (src/region.h):
 * sizes, offsets, the rings inside it.
 */
#include <stdio.h>
#include <string.h>

#include "region.h"

_Static_assert(sizeof(struct region_header) % 8 == 0, "header padding");
_Static_assert(sizeof(struct region_line) == 64, "one line per hot index");
_Static_assert(sizeof(struct region_midi) == 16, "midi record layout");
_Static_assert(offsetof(struct region_cost, ns) == 64, "cost rows start a line");

/* Round up to a 64-byte boundary. */
static uint64_t
align64(uint64_t n)
{
	return (n + 63) & ~(uint64_t)63;
}

/* Offsets of every part, computed the same way by both sides. */
static void
layout(struct region_header *h, unsigned max_block, unsigned n_in,
    unsigned n_out)
{
	uint64_t off = align64(sizeof *h) + align64(sizeof(struct region_sync));
	h->off_audio = off;
	off += align64((uint64_t)2 * (n_in + n_out) * max_block * sizeof(float));
	h->off_midi = off;
	off += align64((uint64_t)2 * REGION_MAX_EVENTS * sizeof(struct region_midi));
	h->off_control = off;
	off += align64(ring_msg_bytes(REGION_CONTROL_BYTES));
	h->off_events = off;
	off += align64(ring_msg_bytes(REGION_EVENT_BYTES));
	h->off_stats = off;
	off += align64((uint64_t)REGION_MAX_THREADS * sizeof(struct pool_thread_stats));
	h->off_tasks = off;
	off += align64((uint64_t)REGION_MAX_TASKS * sizeof(int32_t));
	h->off_cost = off;
	off += align64(sizeof(struct region_cost));
	h->off_probe = off;
	off += align64(sizeof(struct region_probe)) +
	    align64(ring_elem_bytes(sizeof(float), REGION_PROBE_FRAMES));
	h->size = off;
}

size_t
region_size(unsigned max_block, unsigned n_inputs, unsigned n_outputs)
{
	struct region_header h;
	layout(&h, max_block, n_inputs, n_outputs);
	/* whole pages */
	return (size_t)((h.size + 4095) & ~(uint64_t)4095);
}

/* Point r's fields into its mapping from its own copy of the header. */
static void
resolve(struct region *r, void *base, size_t size)
{
	unsigned char *b = base;
	r->base = base;
	r->size = size;
	r->hdr = base;
	r->sync = (struct region_sync *)(b + align64(sizeof *r->hdr));
	r->audio = (float *)(b + r->dims.off_audio);
	r->midi = (struct region_midi *)(b + r->dims.off_midi);
	r->stats = (struct pool_thread_stats *)(b + r->dims.off_stats);
	r->task_module = (_Atomic int32_t *)(b + r->dims.off_tasks);
	r->cost = (struct region_cost *)(b + r->dims.off_cost);
	r->probe = (struct region_probe *)(b + r->dims.off_probe);
}

/* Where the probe's ring lies, from this side's offsets. */
static void *
probe_ring_mem(const struct region *r)
{
	return (unsigned char *)r->base + r->dims.off_probe +
	    align64(sizeof(struct region_probe));
}

/* Lay both rings out afresh at this side's offsets. */
static void
rings_init(struct region *r)
{
	unsigned char *b = r->base;
	ring_msg_init(&r->control, b + r->dims.off_control,
	    ring_msg_bytes(REGION_CONTROL_BYTES));
	ring_msg_init(&r->events, b + r->dims.off_events,
	    ring_msg_bytes(REGION_EVENT_BYTES));
	ring_elem_init(&r->probe_ring, probe_ring_mem(r), sizeof(float),
	    REGION_PROBE_FRAMES);
}

void
region_format(struct region *r, void *base, size_t size, unsigned rate,
    unsigned max_block, unsigned n_inputs, unsigned n_outputs,
    unsigned n_threads, unsigned flags, unsigned rt_priority)
{
	struct region_header *h = base;
	memset(h, 0, sizeof *h);
	h->magic = REGION_MAGIC;
	h->version = REGION_VERSION;
	h->rate = rate;
	h->max_block = max_block;
	h->n_inputs = n_inputs;
	h->n_outputs = n_outputs;
	h->n_threads = n_threads;
	h->flags = flags;
	h->rt_priority = rt_priority;
	layout(h, max_block, n_inputs, n_outputs);
	r->dims = *h;
	resolve(r, base, size);
	region_reset(r);
}

int
region_attach(struct region *r, void *base, size_t size, char *err,
    size_t err_size)
{
	struct region_header got, want;
	const struct region_header *h = &got;

	/* one copy, checked, and used from then on: the parent cannot change
	 * a dimension under us after the check */
	if (size < sizeof got) {
		snprintf(err, err_size, "shared region: smaller than its header");
		return -1;
	}
	memcpy(&got, base, sizeof got);
	if (h->magic != REGION_MAGIC ||
	    h->version != REGION_VERSION) {
		snprintf(err, err_size, "shared region: wrong magic or version "
		    "(parent and child are different builds?)");
		return -1;
	}
	if (h->max_block == 0 || h->max_block > 65536 || h->n_inputs > 64 ||
	    h->n_outputs > 64 || h->n_threads == 0 ||
	    h->n_threads > REGION_MAX_THREADS || h->rate < 1000 || h->rate > 1000000) {
		snprintf(err, err_size, "shared region: impossible dimensions");
		return -1;
	}
	layout(&want, h->max_block, h->n_inputs, h->n_outputs);
	/* every offset is what these dimensions give, or nothing is trusted */
	if (want.size > size || want.off_audio != h->off_audio ||
	    want.off_midi != h->off_midi || want.off_control != h->off_control ||
	    want.off_events != h->off_events || want.off_stats != h->off_stats ||
	    want.off_tasks != h->off_tasks || want.off_cost != h->off_cost ||
	    want.off_probe != h->off_probe) {
		snprintf(err, err_size, "shared region: layout does not match its "
		    "size (%zu bytes)", size);
		return -1;
	}
	r->dims = got;
	resolve(r, base, size);
	unsigned char *b = base;
	if (ring_attach(&r->control, b + h->off_control,
	    ring_msg_bytes(REGION_CONTROL_BYTES), RING_MAGIC_MSG) != 0 ||
	    ring_attach(&r->events, b + h->off_events,
	    ring_msg_bytes(REGION_EVENT_BYTES), RING_MAGIC_MSG) != 0 ||
	    ring_attach(&r->probe_ring, probe_ring_mem(r),
	    ring_elem_bytes(sizeof(float), REGION_PROBE_FRAMES),
	    RING_MAGIC_ELEM) != 0) {
		snprintf(err, err_size, "shared region: rings are damaged");
		return -1;
	}
	return 0;
}

void
region_reset(struct region *r)
{
	struct region_sync *s = r->sync;
	memcpy(r->hdr, &r->dims, sizeof r->dims);
	memset(s, 0, sizeof *s);
	atomic_store(&s->blame_module, -1);
	rings_init(r);
	for (unsigned t = 0; t < REGION_MAX_THREADS; t++)
		pool_thread_stats_reset(&r->stats[t]);
	for (unsigned t = 0; t < REGION_MAX_TASKS; t++)
		atomic_store(&r->task_module[t], -1);
	memset(r->cost, 0, sizeof *r->cost);
	memset(r->probe, 0, sizeof *r->probe);
}

float *
region_audio(const struct region *r, int dir, unsigned parity, unsigned ch)
{
	const struct region_header *h = &r->dims;
	size_t block = h->max_block;
	size_t in_total = (size_t)2 * h->n_inputs * block;
	if (dir == 0)
		return r->audio + ((size_t)parity * h->n_inputs + ch) * block;
	return r->audio + in_total + ((size_t)parity * h->n_outputs + ch) * block;
}
