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
 *     calls in that window, in proportion to elapsed frames, and adds the
 *     result into an output ring that the head reads.  It only ever
 *     writes frames >= (start of its call) + CONV_MAX_BLOCK, so the head of
 *     the same call never reads what the tail is writing; it only reads
 *     input frames before the start of its call, which the head wrote in
 *     earlier calls.  This is the head/tail contract of the header; it
 *     needs (d - 1)B >= 2 CONV_MAX_BLOCK (see tail_level()).
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
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
	uint64_t q;             /* tail levels: the output block in progress */
	unsigned done;          /* tail levels: its work units done */
};

struct conv {
	const struct conv_ir *ir;
	size_t bytes;           /* allocated, for conv_memory() */
	/* shared by head and tail, see the contract in the header */
	float *in_ring[2];      /* input history, frame t at t & mask */
	float *out_ring[2];     /* tail results, read and cleared by the head */
	uint64_t mask;
	uint64_t start[2];      /* start frame of block k in slot k & 1 */
	/* head only */
	uint64_t head_calls;
	float *lin[2];          /* HEAD_TAPS-1 past frames, then this block */
	float *fir;             /* one path's direct-form output */
	/* tail only */
	uint64_t tail_calls;
	/* each level is either head only (sync) or tail only */
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

/* acc += x * h over nb split bins (nb a multiple of 4, 16-byte aligned). */
static void
cmac(float *restrict acc, const float *restrict x, const float *restrict h,
    unsigned nb)
{
	v4sf *ar = (v4sf *)acc, *ai = (v4sf *)(acc + nb);
	const v4sf *xr = (const v4sf *)x, *xi = (const v4sf *)(x + nb);
	const v4sf *hr = (const v4sf *)h, *hi = (const v4sf *)(h + nb);

	for (unsigned k = 0; k < nb / 4; k++) {
		ar[k] += xr[k] * hr[k] - xi[k] * hi[k];
		ai[k] += xr[k] * hi[k] + xi[k] * hr[k];
	}
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
	/*
	 * FFTW_MEASURE: about 2x faster transforms than FFTW_ESTIMATE here.
	 * The first plan of each size costs up to ~0.1 s (all five sizes, both
	 * directions, well under 1 s); FFTW then remembers it for the life of
	 * the process, and conv_wisdom_save() keeps it across runs.
	 */
	l->r2c = fftwf_plan_dft_r2c_1d((int)n, t, (fftwf_complex *)c,
	    FFTW_MEASURE);
	l->c2r = fftwf_plan_dft_c2r_1d((int)n, (fftwf_complex *)c, t,
	    FFTW_MEASURE);
	if (l->r2c == NULL || l->c2r == NULL)
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
		/* History: the tail reads (d+1)B frames back while the head
		 * writes up to two blocks ahead. */
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
		fftwf_free(c->out_ring[i]);
		fftwf_free(c->lin[i]);
	}
	fftwf_free(c->fir);
	for (unsigned k = 0; k < N_LEVELS; k++) {
		struct lv_state *s = &c->lv[k];
		for (unsigned i = 0; i < 2; i++) {
			fftwf_free(s->fdl[i]);
			fftwf_free(s->acc[i]);
			fftwf_free(s->y[i]);
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
	int has_tail = 0;

	if (c == NULL)
		return NULL;
	c->ir = ir;
	c->mask = ir->ring - 1;
	for (unsigned k = 0; k < ir->n_levels; k++)
		has_tail |= !ir->lv[k].sync;
	for (unsigned i = 0; i < 2; i++) {
		c->in_ring[i] = zalloc(ir->ring * sizeof(float), &bytes);
		c->lin[i] = zalloc(LIN_LEN * sizeof(float), &bytes);
		if (c->in_ring[i] == NULL || c->lin[i] == NULL)
			goto fail;
		if (has_tail) {
			c->out_ring[i] = zalloc(ir->ring * sizeof(float), &bytes);
			if (c->out_ring[i] == NULL)
				goto fail;
		}
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
		if (c->out_ring[i] != NULL)
			memset(c->out_ring[i], 0, ir->ring * sizeof(float));
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
		}
		/* The first output block with any input in it: q = d uses
		 * input block 0, complete at frame B. */
		s->q = l->d;
		s->done = 0;
	}
	c->start[0] = c->start[1] = 0;
	c->head_calls = c->tail_calls = 0;
}

/*
 * The work on output block q of level l, in units: unit 0 transforms input
 * block m = q - d into the FDL and clears the sums; unit 1 + j adds
 * partition j's products; unit P + 1 transforms back and hands the block
 * (the last B samples of the inverse transform) to the head: a sync
 * level's block is played from y[] over the next B frames, a tail level's
 * is added into the output ring at frames [qB, (q+1)B).
 */
static void
level_unit(struct conv *c, const struct ir_level *l, struct lv_state *s,
    uint64_t q, unsigned unit)
{
	const struct conv_ir *ir = c->ir;
	uint64_t m = q - l->d;
	unsigned B = l->B, nb = l->nb;
	size_t spec = 2 * (size_t)nb;

	if (unit == 0) {
		/* X_m = FFT of x[(m-1)B, (m+1)B); frames before 0 are the
		 * ring's initial zeros (unsigned wrap is intended). */
		uint64_t from = (m - 1) * B;
		for (unsigned i = 0; i < 2; i++) {
			const float *r = c->in_ring[i];
			for (unsigned t = 0; t < 2 * B; t++)
				s->tbuf[t] = r[(from + t) & c->mask];
			fftwf_execute_dft_r2c(l->r2c, s->tbuf,
			    (fftwf_complex *)s->cbuf);
			deinterleave(s->fdl[i] + (m % l->P) * spec, nb, s->cbuf,
			    B + 1);
			memset(s->acc[i], 0, spec * sizeof(float));
		}
	} else if (unit <= l->P) {
		/* Partition j meets X_{m-j}, in slot (m - j) mod P. */
		unsigned j = unit - 1;
		size_t slot = (m % l->P + l->P - j) % l->P;
		for (unsigned p = 0; p < ir->n_paths; p++) {
			const struct path *pa = &ir->path[p];
			cmac(s->acc[pa->out], s->fdl[pa->in] + slot * spec,
			    l->H[pa->ch] + (size_t)j * spec, nb);
		}
	} else {
		for (unsigned o = 0; o < 2; o++) {
			const float *y = s->tbuf + B;
			interleave(s->cbuf, s->acc[o], nb, B + 1);
			fftwf_execute_dft_c2r(l->c2r, (fftwf_complex *)s->cbuf,
			    s->tbuf);
			if (l->sync) {
				memcpy(s->y[o], y, B * sizeof(float));
			} else {
				float *r = c->out_ring[o];
				uint64_t at = q * B;
				for (unsigned t = 0; t < B; t++)
					r[(at + t) & c->mask] += y[t];
			}
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
	uint64_t T = c->start[c->head_calls & 1];
	const float *in[2] = { in_l, in_r != NULL ? in_r : in_l };
	float *out[2] = { out_l, out_r };
	unsigned step = ir->n_levels > 0 ? ir->lv[0].B : CONV_MAX_BLOCK;

	/* Take the input first: the outputs may be the inputs. */
	for (unsigned i = 0; i < 2; i++) {
		float *r = c->in_ring[i];
		memcpy(c->lin[i] + HEAD_TAPS - 1, in[i], n * sizeof(float));
		for (unsigned t = 0; t < n; t++)
			r[(T + t) & c->mask] = in[i][t];
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
			for (unsigned u = 0; u < l->P + 2; u++)
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
			if (c->out_ring[o] != NULL) {
				float *r = c->out_ring[o];
				for (unsigned f = 0; f < len; f++) {
					uint64_t at = (t + f) & c->mask;
					y[f] += r[at];
					r[at] = 0;
				}
			}
		}
		i += len;
	}
	c->start[(c->head_calls + 1) & 1] = T + n;
	c->head_calls++;
}

/*
 * Advance tail level l at a call starting at frame T.  Output block q needs
 * input complete at A = (q-d+1)B and is played from qB.  It may be written
 * only while qB >= T + CONV_MAX_BLOCK (the head of this call reads up to
 * T + n - 1), so it must be finished in the last call with
 * T + 2 CONV_MAX_BLOCK > qB; with (d-1)B >= 2 CONV_MAX_BLOCK the first
 * call at or after A can still write it.  In between, the work is spread:
 * by a call at T, the fraction (T - A + 64) / (span + 64) of the units is
 * done, span = qB - 2 CONV_MAX_BLOCK - A.
 */
static void
tail_level(struct conv *c, const struct ir_level *l, struct lv_state *s,
    uint64_t T)
{
	unsigned units = l->P + 2;

	for (;;) {
		uint64_t q = s->q;
		uint64_t A = (q - l->d + 1) * l->B;
		uint64_t due = q * l->B;
		unsigned target;

		if (T < A)
			return;
		if (due < T + 2 * CONV_MAX_BLOCK) {
			target = units;
		} else {
			uint64_t span = due - 2 * CONV_MAX_BLOCK - A;
			target = (unsigned)(((T - A + 64) * units + span + 63) /
			    (span + 64));
			if (target > units)
				target = units;
		}
		while (s->done < target)
			level_unit(c, l, s, q, s->done++);
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
	uint64_t T = c->start[c->tail_calls & 1];

	for (unsigned k = 0; k < ir->n_levels; k++)
		if (!ir->lv[k].sync)
			tail_level(c, &ir->lv[k], &c->lv[k], T);
	c->tail_calls++;
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
	return fftwf_export_wisdom_to_filename(path) ? 0 : -1;
}
