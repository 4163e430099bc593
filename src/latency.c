/*
 * src/latency.c — the patch's added latency per output (src/latency.h):
 * the longest path, in frames, through modules that declare a latency.
 */
#include <string.h>

#include "latency.h"

enum { UNSEEN = 0, VISITING, DONE };

struct walk {
	const struct patch *p;
	float rate;
	unsigned char state[PATCH_MAX_MODULES];
	unsigned frames[PATCH_MAX_MODULES];   /* latency at the module's outputs */
};

/* The latency at the outputs of module m: its own plus the longest into
 * it.  A module met again while its inputs are being walked closes a loop;
 * the loop's way back counts as 0, so a loop adds its latency once. */
static unsigned
module_latency(struct walk *w, int m)
{
	if (m < 0 || (unsigned)m >= w->p->n_modules)
		return 0;                      /* in.N, or out of range */
	if (w->state[m] == DONE)
		return w->frames[m];
	if (w->state[m] == VISITING)
		return 0;
	w->state[m] = VISITING;
	unsigned longest = 0;
	for (unsigned c = 0; c < w->p->n_connections; c++) {
		const struct patch_connection *k = &w->p->connections[c];
		if (k->to.module != m)
			continue;
		unsigned in = module_latency(w, k->from.module);
		if (in > longest)
			longest = in;
	}
	const struct patch_module *pm = &w->p->modules[m];
	unsigned own = pm->type->latency != NULL ? pm->type->latency(pm->params, w->rate) : 0;
	w->state[m] = DONE;
	w->frames[m] = longest + own;
	return w->frames[m];
}

void
patch_latency(const struct patch *p, float rate, unsigned *frames, unsigned n)
{
	struct walk w;
	memset(&w, 0, sizeof w);
	w.p = p;
	w.rate = rate;
	for (unsigned c = 0; c < n; c++)
		frames[c] = 0;
	for (unsigned c = 0; c < p->n_connections; c++) {
		const struct patch_connection *k = &p->connections[c];
		if (k->to.module != PATCH_IO_OUT || k->to.port < 0 || (unsigned)k->to.port >= n)
			continue;
		unsigned l = module_latency(&w, k->from.module);
		if (l > frames[k->to.port])
			frames[k->to.port] = l;
	}
}
