/*
 * dsp/convolver_core.c — zero-latency non-uniformly partitioned convolution
 * (direct-form head + uniformly partitioned overlap-save levels of growing
 * block size, after Gardner 1995 and Garcia 2002).
 *
 * The IR h[0..L) is cut into consecutive pieces:
 *
 *   taps [0, 64)          direct form (time domain), in the head
 *   level 0: B = 64       taps [64, 256)      3 partitions, in the head
 *   level 1: B = 256      taps [256, 2048)    7 partitions, in the head
 *   level 2: B = 1024     taps [2048, 8192)   6 partitions, in the tail
 *   level 3: B = 4096     taps [8192, 32768)  6 partitions, in the tail
 *   level 4: B = 16384    taps [32768, ...)   the rest, in the tail
 *
 * (the last level used takes the rest of the IR; which one is last is
 * chosen by a cost model, so a 2 s IR may end with many B = 4096
 * partitions rather than a few of 16384).
 *
 * One level.  Its block length is B, its FFT size 2B, its first tap
 * off = d B, and its partitions are h_j = h[off + jB, off + (j+1)B),
 * j = 0..P-1.  Input block m is x[mB, (m+1)B); its spectrum
 *   X_m = FFT_2B( x[(m-1)B, (m+1)B) )
 * is kept in a frequency-domain delay line (FDL) of P spectra, and
 *   H_j = FFT_2B( h_j zero-padded to 2B ) / (2B)
 * is prepared once.  Overlap-save: the last B samples of
 *   IFFT_2B( sum_j X_{q-d-j} H_j )
 * are exactly sum_{k in level} h[k] x[t - k] for t in [qB, (q+1)B): the
 * circular wrap of a B-tap filter over a 2B window only spoils the first B
 * outputs, which are discarded.  Output block q needs input blocks up to
 * q - d, complete at frame (q - d + 1)B, i.e. (d - 1)B frames before the
 * block is played.
 *
 *   d = 1 (levels 0, 1: "sync"): computed by the head at the block
 *     boundary, from input complete exactly then; the result is played
 *     over the next B frames.  Zero latency, no slack.
 *   d = 2 (levels 2..4: "tail"): (d-1)B >= 1024 frames of slack.  The tail
 *     spreads the work of block q (one forward FFT per input, P complex
 *     multiply-accumulates per path, one inverse FFT per output) over the
 *     calls in that window, in proportion to elapsed frames, and stores
 *     the result in its level's output ring, which the head reads.  The
 *     tail reads only input the head has published as done, and writes
 *     only frames at least CONV_MAX_BLOCK past it, which no running head
 *     reads.  This is the head/tail contract of the header; it needs
 *     (d - 1)B >= 3 CONV_MAX_BLOCK (see tail_level()).
 *
 * Precision.  Everything is float.  FFTW's float transforms have an RMS
 * relative error near 1e-7 sqrt(log2 N); products and sums over at most a
 * few tens of partitions per bin add little.  Measured relative RMS error
 * against a double-precision direct convolution: about -130 dB (see
 * tests/convolver_test.c); the required bound is -100 dB.
 *
 * Spectra are stored split (all real parts, then all imaginary parts,
 * B + 1 bins padded to a multiple of 4) so that the multiply-accumulate is
 * four bins per SSE operation without shuffles.
 */
#include <assert.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fftw3.h>

#include "convolver_core.h"

typedef float v4sf __attribute__((vector_size(16)));

/* Taps computed in direct form; equals the first level's offset d B. */
#define HEAD_TAPS 64
#define N_LEVELS 5

/* The ladder of levels: block length B (frames) and delay d (blocks). */
static const struct {
	unsigned B, d;
} level_table[N_LEVELS] = {
	{ 64, 1 }, { 256, 1 }, { 1024, 2 }, { 4096, 2 }, { 16384, 2 },
};

/*
 * Cost model used to choose the last level, in arbitrary time units per
 * frame and path: a real FFT of N points costs about CF N log2 N and one
 * complex multiply-accumulate of a bin CM.  Calibrated on x86-64 SSE2 by
 * timing the candidate layouts (a stereo 2 s IR ends with B = 4096).
 */
#define COST_FFT 0.25
#define COST_MAC 1.0

/* One level of the prepared IR. */
struct ir_level {
	unsigned B;             /* block (partition) length, frames */
	unsigned d;             /* the first partition starts at tap d B */
	unsigned P;             /* partitions */
	unsigned nb;            /* floats per spectrum half: B+1 rounded up to 4 */
	int sync;               /* d == 1: computed by the head at boundaries */
	size_t off;             /* first tap covered, d B */
	float *H[4];            /* per IR channel: P spectra, split, / (2B) */
	fftwf_plan r2c, c2r;    /* 2B real <-> B+1 complex */
};

/* One input -> output path with the IR channel it uses. */
struct path {
	unsigned in, out, ch;
};

struct conv_ir {
	size_t length;          /* frames */
	unsigned n_ch;          /* 1, 2 or 4 */
	unsigned n_paths;       /* 2 or 4 */
	struct path path[4];
	unsigned head_taps;     /* min(length, HEAD_TAPS) */
	v4sf *head[4];          /* per channel: h[HEAD_TAPS-1-u] in all lanes */
	unsigned n_levels;
	unsigned ring;          /* history and output ring length, power of 2 */
	size_t bytes;           /* allocated, for conv_ir_memory() */
	struct ir_level lv[N_LEVELS];
};

/* The running state of one level. */
struct lv_state {
	float *fdl[2];          /* per input: P spectra, block m in slot m % P */
	float *acc[2];          /* per output: the sum of products, split */
	float *tbuf;            /* 2B time samples */
	float *cbuf;            /* B+1 interleaved complex bins */
	float *y[2];            /* sync levels: per output, the current block */
	float *ring[2];         /* tail levels: per output, finished blocks,
	                         * frame t at t & rmask, cleared once played */
	uint64_t rmask;
	uint64_t q;             /* tail levels: the output block in progress */
	unsigned done;          /* tail levels: its work units done */
};

struct conv {
	const struct conv_ir *ir;
	size_t bytes;           /* allocated, for conv_memory() */
	/* shared by head and tail, see the contract in the header */
	float *in_ring[2];      /* input history, frame t at t & mask */
	uint64_t mask;
	_Atomic uint64_t head_done; /* frames the head has finished */
	_Atomic unsigned long late; /* tail blocks dropped as late */
	/* head only */
	uint64_t t;             /* frames taken so far */
	float *lin[2];          /* HEAD_TAPS-1 past frames, then this block */
	float *fir;             /* one path's direct-form output */
	/* each level is either head only (sync) or tail only, and so are
	 * its buffers, except a tail level's rings (see tail_level()) */
	struct lv_state lv[N_LEVELS];
};

/* Room after the block in lin[]: the direct form reads 8 frames at once. */
#define LIN_LEN (HEAD_TAPS - 1 + CONV_MAX_BLOCK + 8)

static void *
zalloc(size_t bytes, size_t *total)
{
	void *p = fftwf_malloc(bytes ? bytes : 1);
	if (p != NULL) {
		memset(p, 0, bytes);
		*total += bytes;
	}
	return p;
}

static unsigned
round4(unsigned x)
{
	return (x + 3) & ~3u;
}

/* Per frame and path, in COST units, of a level of P blocks of B. */
static double
level_cost(unsigned B, size_t P)
{
	double n = 2.0 * B;
	return (2 * COST_FFT * n * log2(n) + (double)P * (B + 1) * COST_MAC) /
	    B;
}

/*
 * Choose the levels for an IR of `length` frames: the number of levels
 * (the last one takes the rest) with the least modelled cost.
 */
static unsigned
choose_levels(size_t length)
{
	unsigned best = 0, k_max = 0;
	double best_cost = 0;

	while (k_max < N_LEVELS && (size_t)level_table[k_max].d *
	    level_table[k_max].B < length)
		k_max++;
	for (unsigned k = 1; k <= k_max; k++) {
		double cost = 0;
		for (unsigned i = 0; i < k; i++) {
			unsigned B = level_table[i].B;
			size_t off = (size_t)level_table[i].d * B;
			size_t end = i + 1 < k ? (size_t)level_table[i + 1].d *
			    level_table[i + 1].B : length;
			cost += level_cost(B, (end - off + B - 1) / B);
		}
		if (best == 0 || cost < best_cost) {
			best = k;
			best_cost = cost;
		}
	}
	return best;
}

/* Split (re[], im[]) from FFTW's interleaved complex, n bins. */
static void
deinterleave(float *restrict split, unsigned nb, const float *restrict c,
    unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		split[k] = c[2 * k];
		split[nb + k] = c[2 * k + 1];
	}
}

static void
interleave(float *restrict c, const float *restrict split, unsigned nb,
    unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		c[2 * k] = split[k];
		c[2 * k + 1] = split[nb + k];
	}
}

/* Partitions multiplied per pass (and per tail work unit). */
#define MAC_GROUP 4

/*
 * acc += sum over u < cnt of x[u] * h[u], over nb split bins (nb a
 * multiple of 4, all 16-byte aligned), cnt <= MAC_GROUP.  The sums stay in
 * registers across the group: one load and store of acc per group rather
 * than per partition.
 */
static void
cmac_group(float *restrict acc, const float *const *x, const float *const *h,
    unsigned cnt, unsigned nb)
{
	v4sf *ar = (v4sf *)acc, *ai = (v4sf *)(acc + nb);

	for (unsigned k = 0; k < nb / 4; k++) {
		v4sf re = ar[k], im = ai[k];
		for (unsigned u = 0; u < cnt; u++) {
			const v4sf *xr = (const v4sf *)x[u];
			const v4sf *xi = (const v4sf *)(x[u] + nb);
			const v4sf *hr = (const v4sf *)h[u];
			const v4sf *hi = (const v4sf *)(h[u] + nb);
			re += xr[k] * hr[k] - xi[k] * hi[k];
			im += xr[k] * hi[k] + xi[k] * hr[k];
		}
		ar[k] = re;
		ai[k] = im;
	}
}

/*
 * Plans for a real FFT of n points and its inverse, on arrays aligned like
 * t and c.  Measured plans when the wisdom has them (conv_wisdom_load or
 * conv_wisdom_measure), else estimated ones: measuring costs up to 1.4 s
 * per size here, estimating a few ms, for transforms up to 1.7x slower.
 */
static int
plan_pair(unsigned n, float *t, float *c, fftwf_plan *r2c, fftwf_plan *c2r)
{
	unsigned flags = FFTW_MEASURE | FFTW_WISDOM_ONLY;

	*r2c = fftwf_plan_dft_r2c_1d((int)n, t, (fftwf_complex *)c, flags);
	*c2r = fftwf_plan_dft_c2r_1d((int)n, (fftwf_complex *)c, t, flags);
	if (*r2c == NULL || *c2r == NULL) {
		if (*r2c != NULL)
			fftwf_destroy_plan(*r2c);
		if (*c2r != NULL)
			fftwf_destroy_plan(*c2r);
		*r2c = fftwf_plan_dft_r2c_1d((int)n, t, (fftwf_complex *)c,
		    FFTW_ESTIMATE);
		*c2r = fftwf_plan_dft_c2r_1d((int)n, (fftwf_complex *)c, t,
		    FFTW_ESTIMATE);
	}
	return *r2c != NULL && *c2r != NULL;
}

int
conv_wisdom_measure(void)
{
	int ok = 1;

	for (unsigned k = 0; k < N_LEVELS; k++) {
		unsigned n = 2 * level_table[k].B;
		float *t = fftwf_malloc(n * sizeof *t);
		float *c = fftwf_malloc((n + 2) * sizeof *c);
		fftwf_plan p = NULL, q = NULL;
		if (t != NULL && c != NULL) {
			p = fftwf_plan_dft_r2c_1d((int)n, t,
			    (fftwf_complex *)c, FFTW_MEASURE);
			q = fftwf_plan_dft_c2r_1d((int)n, (fftwf_complex *)c,
			    t, FFTW_MEASURE);
		}
		ok &= p != NULL && q != NULL;
		if (p != NULL)
			fftwf_destroy_plan(p);
		if (q != NULL)
			fftwf_destroy_plan(q);
		fftwf_free(t);
		fftwf_free(c);
	}
	return ok ? 0 : -1;
}

void
conv_ir_free(struct conv_ir *ir)
{
	if (ir == NULL)
		return;
	for (unsigned k = 0; k < ir->n_levels; k++) {
		struct ir_level *l = &ir->lv[k];
		for (unsigned ch = 0; ch < 4; ch++)
			fftwf_free(l->H[ch]);
		if (l->r2c != NULL)
			fftwf_destroy_plan(l->r2c);
		if (l->c2r != NULL)
			fftwf_destroy_plan(l->c2r);
	}
	for (unsigned ch = 0; ch < 4; ch++)
		fftwf_free(ir->head[ch]);
	fftwf_free(ir);
}

/* Plan, then transform the partitions of every channel for level k. */
static int
prepare_level(struct conv_ir *ir, unsigned k, const float *const *h,
    size_t length, size_t *bytes)
{
	struct ir_level *l = &ir->lv[k];
	unsigned B = l->B, n = 2 * B;
	size_t scratch = 0;
	float *t = zalloc(n * sizeof *t, &scratch);
	float *c = zalloc(2 * (B + 1) * sizeof *c, &scratch);
	int ok = 0;

	if (t == NULL || c == NULL)
		goto out;
	if (!plan_pair(n, t, c, &l->r2c, &l->c2r))
		goto out;
	for (unsigned ch = 0; ch < ir->n_ch; ch++) {
		l->H[ch] = zalloc((size_t)l->P * 2 * l->nb * sizeof(float),
		    bytes);
		if (l->H[ch] == NULL)
			goto out;
		for (unsigned j = 0; j < l->P; j++) {
			size_t from = l->off + (size_t)j * B;
			size_t len = from >= length ? 0 :
			    length - from < B ? length - from : B;
			float *Hj = l->H[ch] + (size_t)j * 2 * l->nb;
			memset(t, 0, n * sizeof *t);
			memcpy(t, h[ch] + from, len * sizeof *t);
			fftwf_execute_dft_r2c(l->r2c, t, (fftwf_complex *)c);
			for (unsigned b = 0; b < 2 * (B + 1); b++)
				c[b] *= 1.0f / (float)n;   /* exact: n is 2^k */
			deinterleave(Hj, l->nb, c, B + 1);
		}
	}
	ok = 1;
out:
	fftwf_free(t);
	fftwf_free(c);
	return ok;
}

struct conv_ir *
conv_ir_create(const float *const *channels, unsigned n_channels,
    size_t length, char *err, size_t err_size)
{
	size_t bytes = 0;
	struct conv_ir *ir;

	if (n_channels != 1 && n_channels != 2 && n_channels != 4) {
		snprintf(err, err_size, "%u IR channels: need 1, 2 or 4",
		    n_channels);
		return NULL;
	}
	if (length < 1 || length > (size_t)1 << 28) {
		snprintf(err, err_size, "IR length %zu frames: need 1 to 2^28",
		    length);
		return NULL;
	}
	for (unsigned ch = 0; ch < n_channels; ch++)
		if (channels == NULL || channels[ch] == NULL) {
			snprintf(err, err_size, "IR channel %u missing", ch);
			return NULL;
		}
	ir = zalloc(sizeof *ir, &bytes);
	if (ir == NULL)
		goto nomem;
	ir->length = length;
	ir->n_ch = n_channels;
	if (n_channels == 4) {
		static const struct path ts[4] = {
			{ 0, 0, 0 }, { 0, 1, 1 }, { 1, 0, 2 }, { 1, 1, 3 },
		};
		ir->n_paths = 4;
		memcpy(ir->path, ts, sizeof ts);
	} else {
		ir->n_paths = 2;
		ir->path[0] = (struct path){ 0, 0, 0 };
		ir->path[1] = (struct path){ 1, 1, n_channels == 2 ? 1 : 0 };
	}

	/* Direct form: reversed taps, each in all four lanes. */
	ir->head_taps = length < HEAD_TAPS ? (unsigned)length : HEAD_TAPS;
	for (unsigned ch = 0; ch < n_channels; ch++) {
		ir->head[ch] = zalloc(HEAD_TAPS * sizeof(v4sf), &bytes);
		if (ir->head[ch] == NULL)
			goto nomem;
		for (unsigned k = 0; k < ir->head_taps; k++) {
			float v = channels[ch][k];
			ir->head[ch][HEAD_TAPS - 1 - k] = (v4sf){ v, v, v, v };
		}
	}

	/* Partitioned levels. */
	ir->n_levels = choose_levels(length);
	ir->ring = 2 * CONV_MAX_BLOCK;
	for (unsigned k = 0; k < ir->n_levels; k++) {
		struct ir_level *l = &ir->lv[k];
		size_t end = k + 1 < ir->n_levels ?
		    (size_t)level_table[k + 1].d * level_table[k + 1].B : length;
		l->B = level_table[k].B;
		l->d = level_table[k].d;
		l->off = (size_t)l->d * l->B;
		l->P = (unsigned)((end - l->off + l->B - 1) / l->B);
		l->nb = round4(l->B + 1);
		l->sync = l->d == 1;
		/* the tail's schedule needs this slack (tail_level()) */
		assert(l->sync || (l->d - 1) * l->B >= 3 * CONV_MAX_BLOCK);
		/* History: the tail reads up to (d+1)B frames before the
		 * block it writes, while the head writes up to two calls
		 * ahead of what the tail has seen. */
		while (ir->ring < (l->d + 1) * l->B + 2 * CONV_MAX_BLOCK)
			ir->ring *= 2;
		if (!prepare_level(ir, k, channels, length, &bytes)) {
			snprintf(err, err_size, "FFT planning or memory failed "
			    "(block %u)", l->B);
			conv_ir_free(ir);
			return NULL;
		}
	}
	ir->bytes = bytes;
	return ir;
nomem:
	snprintf(err, err_size, "out of memory for a %zu-frame IR", length);
	conv_ir_free(ir);
	return NULL;
}

size_t
conv_ir_length(const struct conv_ir *ir)
{
	return ir->length;
}

unsigned
conv_ir_channels(const struct conv_ir *ir)
{
	return ir->n_ch;
}

size_t
conv_ir_memory(const struct conv_ir *ir)
{
	return ir->bytes;
}

void
conv_free(struct conv *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < 2; i++) {
		fftwf_free(c->in_ring[i]);
		fftwf_free(c->lin[i]);
	}
	fftwf_free(c->fir);
	for (unsigned k = 0; k < N_LEVELS; k++) {
		struct lv_state *s = &c->lv[k];
		for (unsigned i = 0; i < 2; i++) {
			fftwf_free(s->fdl[i]);
			fftwf_free(s->acc[i]);
			fftwf_free(s->y[i]);
			fftwf_free(s->ring[i]);
		}
		fftwf_free(s->tbuf);
		fftwf_free(s->cbuf);
	}
	fftwf_free(c);
}

struct conv *
conv_create(const struct conv_ir *ir)
{
	size_t bytes = 0;
	struct conv *c = zalloc(sizeof *c, &bytes);

	if (c == NULL)
		return NULL;
	c->ir = ir;
	c->mask = ir->ring - 1;
	for (unsigned i = 0; i < 2; i++) {
		c->in_ring[i] = zalloc(ir->ring * sizeof(float), &bytes);
		c->lin[i] = zalloc(LIN_LEN * sizeof(float), &bytes);
		if (c->in_ring[i] == NULL || c->lin[i] == NULL)
			goto fail;
	}
	c->fir = zalloc((CONV_MAX_BLOCK + 8) * sizeof(float), &bytes);
	if (c->fir == NULL)
		goto fail;
	for (unsigned k = 0; k < ir->n_levels; k++) {
		const struct ir_level *l = &ir->lv[k];
		struct lv_state *s = &c->lv[k];
		for (unsigned i = 0; i < 2; i++) {
			s->fdl[i] = zalloc((size_t)l->P * 2 * l->nb *
			    sizeof(float), &bytes);
			s->acc[i] = zalloc(2 * l->nb * sizeof(float), &bytes);
			if (s->fdl[i] == NULL || s->acc[i] == NULL)
				goto fail;
			if (l->sync) {
				s->y[i] = zalloc(l->B * sizeof(float), &bytes);
				if (s->y[i] == NULL)
					goto fail;
			} else {
				/* blocks are written up to d B ahead of what
				 * the tail has seen, which the head may trail
				 * by one call */
				size_t len = 1;
				while (len < (size_t)l->d * l->B +
				    2 * CONV_MAX_BLOCK)
					len *= 2;
				s->rmask = len - 1;
				s->ring[i] = zalloc(len * sizeof(float), &bytes);
				if (s->ring[i] == NULL)
					goto fail;
			}
		}
		s->tbuf = zalloc(2 * l->B * sizeof(float), &bytes);
		s->cbuf = zalloc(2 * (l->B + 1) * sizeof(float), &bytes);
		if (s->tbuf == NULL || s->cbuf == NULL)
			goto fail;
	}
	c->bytes = bytes;
	conv_reset(c);
	return c;
fail:
	conv_free(c);
	return NULL;
}

size_t
conv_memory(const struct conv *c)
{
	return c->bytes;
}

void
conv_reset(struct conv *c)
{
	const struct conv_ir *ir = c->ir;

	for (unsigned i = 0; i < 2; i++) {
		memset(c->in_ring[i], 0, ir->ring * sizeof(float));
		memset(c->lin[i], 0, LIN_LEN * sizeof(float));
	}
	for (unsigned k = 0; k < ir->n_levels; k++) {
		const struct ir_level *l = &ir->lv[k];
		struct lv_state *s = &c->lv[k];
		for (unsigned i = 0; i < 2; i++) {
			memset(s->fdl[i], 0, (size_t)l->P * 2 * l->nb *
			    sizeof(float));
			if (s->y[i] != NULL)
				memset(s->y[i], 0, l->B * sizeof(float));
			if (s->ring[i] != NULL)
				memset(s->ring[i], 0, (s->rmask + 1) *
				    sizeof(float));
		}
		/* The first output block with any input in it: q = d uses
		 * input block 0, complete at frame B. */
		s->q = l->d;
		s->done = 0;
	}
	c->t = 0;
	atomic_store(&c->head_done, 0);
	atomic_store(&c->late, 0);
}

/* dst[0..n) = frames [from, from + n) of a ring (two spans at most). */
static void
ring_read(float *restrict dst, const float *restrict ring, uint64_t mask,
    uint64_t from, size_t n)
{
	size_t at = (size_t)(from & mask), first = mask + 1 - at;
	if (first > n)
		first = n;
	memcpy(dst, ring + at, first * sizeof *dst);
	memcpy(dst + first, ring, (n - first) * sizeof *dst);
}

/* Frames [from, from + n) of a ring = src[0..n). */
static void
ring_write(float *restrict ring, uint64_t mask, uint64_t from,
    const float *restrict src, size_t n)
{
	size_t at = (size_t)(from & mask), first = mask + 1 - at;
	if (first > n)
		first = n;
	memcpy(ring + at, src, first * sizeof *src);
	memcpy(ring, src + first, (n - first) * sizeof *src);
}

/* Groups of MAC_GROUP partitions (the last may be short). */
static unsigned
groups(const struct ir_level *l)
{
	return (l->P + MAC_GROUP - 1) / MAC_GROUP;
}

/* Work units of one block of level l: see level_unit(). */
static unsigned
level_units(const struct ir_level *l)
{
	return 2 + groups(l) + 2;
}

/*
 * The work on output block q of level l, in units: units 0 and 1
 * transform input block m = q - d of the left and right input into the
 * FDL and clear the left and right sums; unit 2 + g adds the products of partitions
 * MAC_GROUP g .. MAC_GROUP (g+1) - 1; the last two transform the left and
 * right sums back and hand the block (the last B samples of the inverse
 * transform) to the head: a sync level's block is played from y[] over the
 * next B frames, a tail level's is added into the output ring at frames
 * [qB, (q+1)B).  (One transform per unit keeps the tail's largest unit to
 * one FFT of 2B points.)
 */
static void
level_unit(struct conv *c, const struct ir_level *l, struct lv_state *s,
    uint64_t q, unsigned unit)
{
	const struct conv_ir *ir = c->ir;
	uint64_t m = q - l->d;
	unsigned B = l->B, nb = l->nb, G = groups(l);
	size_t spec = 2 * (size_t)nb;

	if (unit < 2) {
		/* X_m = FFT of x[(m-1)B, (m+1)B); frames before 0 are the
		 * ring's initial zeros (unsigned wrap is intended). */
		unsigned i = unit;
		ring_read(s->tbuf, c->in_ring[i], c->mask, (m - 1) * B, 2 * B);
		fftwf_execute_dft_r2c(l->r2c, s->tbuf, (fftwf_complex *)s->cbuf);
		deinterleave(s->fdl[i] + (m % l->P) * spec, nb, s->cbuf, B + 1);
		memset(s->acc[i], 0, spec * sizeof(float));
	} else if (unit < 2 + G) {
		/* Partitions j = j0 .. j0+cnt-1; partition j meets X_{m-j},
		 * in slot (m - j) mod P. */
		unsigned j0 = (unit - 2) * MAC_GROUP;
		unsigned cnt = l->P - j0 < MAC_GROUP ? l->P - j0 : MAC_GROUP;
		for (unsigned p = 0; p < ir->n_paths; p++) {
			const struct path *pa = &ir->path[p];
			const float *x[MAC_GROUP], *h[MAC_GROUP];
			for (unsigned u = 0; u < cnt; u++) {
				size_t slot = (m % l->P + l->P - (j0 + u)) %
				    l->P;
				x[u] = s->fdl[pa->in] + slot * spec;
				h[u] = l->H[pa->ch] + (size_t)(j0 + u) * spec;
			}
			cmac_group(s->acc[pa->out], x, h, cnt, nb);
		}
	} else {
		unsigned o = unit - 2 - G;
		const float *y = s->tbuf + B;
		interleave(s->cbuf, s->acc[o], nb, B + 1);
		fftwf_execute_dft_c2r(l->c2r, (fftwf_complex *)s->cbuf, s->tbuf);
		if (l->sync) {
			memcpy(s->y[o], y, B * sizeof(float));
		} else {
			/* B divides the ring: no wrap inside */
			memcpy(s->ring[o] + ((q * B) & s->rmask), y,
			    B * sizeof(float));
		}
	}
}

/* Direct form: out[0..n) = sum_k h[k] x[t-k] over the first taps, from
 * lin = (HEAD_TAPS - 1 past frames, then the block), eight outputs at a
 * time in the same order of sums as the scalar loop. */
static void
direct_form(float *restrict out, const float *restrict lin,
    const v4sf *restrict hr, unsigned taps, unsigned n)
{
	for (unsigned i = 0; i < n; i += 8) {
		v4sf a0 = { 0, 0, 0, 0 }, a1 = a0;
		for (unsigned u = HEAD_TAPS - taps; u < HEAD_TAPS; u++) {
			v4sf x0, x1;
			memcpy(&x0, lin + i + u, sizeof x0);
			memcpy(&x1, lin + i + u + 4, sizeof x1);
			a0 += hr[u] * x0;
			a1 += hr[u] * x1;
		}
		memcpy(out + i, &a0, sizeof a0);
		memcpy(out + i + 4, &a1, sizeof a1);
	}
}

void
conv_process_head(struct conv *c, const float *in_l, const float *in_r,
    float *out_l, float *out_r, unsigned n)
{
	const struct conv_ir *ir = c->ir;
	uint64_t T = c->t;
	const float *in[2] = { in_l, in_r != NULL ? in_r : in_l };
	float *out[2] = { out_l, out_r };
	unsigned step = ir->n_levels > 0 ? ir->lv[0].B : CONV_MAX_BLOCK;

	assert(n <= CONV_MAX_BLOCK && out_l != out_r);

	/* Take the input first: the outputs may be the inputs. */
	for (unsigned i = 0; i < 2; i++) {
		memcpy(c->lin[i] + HEAD_TAPS - 1, in[i], n * sizeof(float));
		ring_write(c->in_ring[i], c->mask, T, in[i], n);
	}
	/* Direct-form taps. */
	memset(out_l, 0, n * sizeof(float));
	memset(out_r, 0, n * sizeof(float));
	for (unsigned p = 0; p < ir->n_paths; p++) {
		const struct path *pa = &ir->path[p];
		direct_form(c->fir, c->lin[pa->in], ir->head[pa->ch],
		    ir->head_taps, n);
		for (unsigned t = 0; t < n; t++)
			out[pa->out][t] += c->fir[t];
	}
	for (unsigned i = 0; i < 2; i++)
		memmove(c->lin[i], c->lin[i] + n,
		    (HEAD_TAPS - 1) * sizeof(float));

	/* Sync levels and the tail's output, in pieces that end at the
	 * smallest level's block boundaries. */
	for (unsigned i = 0; i < n; ) {
		uint64_t t = T + i;
		unsigned len = step - (unsigned)(t % step);
		if (len > n - i)
			len = n - i;
		for (unsigned k = 0; k < ir->n_levels; k++) {
			const struct ir_level *l = &ir->lv[k];
			if (!l->sync || t % l->B != 0 || t == 0)
				continue;
			for (unsigned u = 0; u < level_units(l); u++)
				level_unit(c, l, &c->lv[k], t / l->B, u);
		}
		for (unsigned o = 0; o < 2; o++) {
			float *y = out[o] + i;
			for (unsigned k = 0; k < ir->n_levels; k++) {
				const struct ir_level *l = &ir->lv[k];
				const float *src;
				if (!l->sync)
					continue;
				src = c->lv[k].y[o] + t % l->B;
				for (unsigned f = 0; f < len; f++)
					y[f] += src[f];
			}
			for (unsigned k = 0; k < ir->n_levels; k++) {
				struct lv_state *s = &c->lv[k];
				float *r;
				if (ir->lv[k].sync)
					continue;
				/* rings are multiples of step: no wrap */
				r = s->ring[o] + (t & s->rmask);
				for (unsigned f = 0; f < len; f++) {
					y[f] += r[f];
					r[f] = 0;
				}
			}
		}
		i += len;
	}
	c->t = T + n;
	/* release: the input written above is visible to a tail that sees
	 * the new count, and this head has stopped reading the rings */
	atomic_store_explicit(&c->head_done, T + n, memory_order_release);
}

/*
 * Advance tail level l, seeing the head done up to frame D.  Output block q
 * needs input complete at A = (q-d+1)B and is played from qB.
 *
 * What the tail may do: the head of the current block, if it is still
 * running, has finished at most up to D + CONV_MAX_BLOCK (D is its start)
 * and reads only frames below that; if it has returned, D is its end.
 * So input below D is complete and visible (release/acquire on head_done),
 * and frames at or after D + CONV_MAX_BLOCK of the output rings are the
 * tail's to write.  D advances by at most 2 CONV_MAX_BLOCK from one tail
 * call to the next when the tail runs once per block (it may see the
 * previous head's end, then the current head's end).
 *
 * Schedule: block q is forced to completion in the first call with
 * qB < D + 3 CONV_MAX_BLOCK; that call can still write it, as the call
 * before saw D' >= D - 2 CONV_MAX_BLOCK and was not forced (or block q was
 * not yet available then: then D < A + 2 CONV_MAX_BLOCK, and
 * (d-1)B >= 3 CONV_MAX_BLOCK makes qB >= D + CONV_MAX_BLOCK); and it
 * comes before any head reads frame qB.  Before that the work is spread in
 * proportion to elapsed frames: by D, the fraction (D - A + 64) /
 * (span + 64) of the units, span = qB - 3 CONV_MAX_BLOCK - A.
 *
 * Each ring frame is written by one block of one level, so the result
 * does not depend on when the work was done.  A block that can no longer
 * be written (the contract broken: tail calls skipped) is dropped and
 * counted; it plays as silence.
 */
static void
tail_level(struct conv *c, const struct ir_level *l, struct lv_state *s,
    uint64_t D)
{
	unsigned units = level_units(l);

	for (;;) {
		uint64_t q = s->q;
		uint64_t A = (q - l->d + 1) * l->B;
		uint64_t due = q * l->B;
		unsigned target;

		if (D < A)
			return;
		if (due < D + 3 * CONV_MAX_BLOCK) {
			target = units;
		} else {
			uint64_t span = due - 3 * CONV_MAX_BLOCK - A;
			target = (unsigned)(((D - A + 64) * units + span + 63) /
			    (span + 64));
			if (target > units)
				target = units;
		}
		while (s->done < target) {
			if (s->done >= units - 2 && due < D + CONV_MAX_BLOCK) {
				/* too late to write: keep the spectra, drop
				 * the output */
				atomic_fetch_add_explicit(&c->late, 1,
				    memory_order_relaxed);
				s->done = units;
				break;
			}
			level_unit(c, l, s, q, s->done++);
		}
		if (s->done < units)
			return;
		s->q++;
		s->done = 0;
	}
}

void
conv_process_tail(struct conv *c)
{
	const struct conv_ir *ir = c->ir;
	uint64_t D = atomic_load_explicit(&c->head_done, memory_order_acquire);

	for (unsigned k = 0; k < ir->n_levels; k++)
		if (!ir->lv[k].sync)
			tail_level(c, &ir->lv[k], &c->lv[k], D);
}

unsigned long
conv_late_blocks(struct conv *c)
{
	return atomic_load_explicit(&c->late, memory_order_relaxed);
}

void
conv_process(struct conv *c, const float *in_l, const float *in_r,
    float *out_l, float *out_r, unsigned n)
{
	conv_process_head(c, in_l, in_r, out_l, out_r, n);
	conv_process_tail(c);
}

int
conv_wisdom_load(const char *path)
{
	return fftwf_import_wisdom_from_filename(path) ? 0 : -1;
}

int
conv_wisdom_save(const char *path)
{
	/* private (mkstemp makes it 0600) and whole: a temporary file in the
	 * same directory, renamed over the old one */
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
		return -1;
	int fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	fftwf_export_wisdom_to_file(f);
	int failed = ferror(f) != 0;
	if (fclose(f) != 0 || failed || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}
