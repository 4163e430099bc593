/*
 * dsp/vco_lanes.h — the vco's lane kernel (dsp/vco.c, process_lanes): the
 * free and the synced path of every wave for 4 or 8 voices at once,
 * bit-identical to vco_process.  Not a header of its own: dsp/vco.c includes it once per
 * vector width, with VCO_LANE_WIDTH set to 4 (lanes_v4, SSE2) and to 8
 * (lanes_v8, in target("avx2") functions), after its own definitions.
 */
#ifndef VCO_LANE_WIDTH
#error "dsp/vco_lanes.h is included by dsp/vco.c, with VCO_LANE_WIDTH set"
#endif

#define VCO_PASTE(a, b) a##_##b
#define VCO_NAMED(a, b) VCO_PASTE(a, b)
#define VCO_NAME(x) VCO_NAMED(x, VCO_LANE_WIDTH)
#define VF VCO_NAME(vco_vf)     /* floats */
#define VI VCO_NAME(vco_vi)     /* int32: table indices, masks */
#define VU VCO_NAME(vco_vu)     /* uint32: phases, increments */
#define W VCO_LANE_WIDTH
#if VCO_LANE_WIDTH == 8
#define VCO_TARGET __attribute__((target("avx2")))
#define VCO_BLEP_ADD blep_add_avx2
typedef lanes_v8 VF;
typedef lanes_v8i VI;
#else
#define VCO_TARGET
#define VCO_BLEP_ADD blep_add
typedef lanes_v4 VF;
typedef lanes_v4i VI;
#endif
typedef uint32_t VU __attribute__((vector_size(sizeof(VF))));
#define VCO_INLINE static inline __attribute__((always_inline)) VCO_TARGET

/* Every lane x (of type `type`). */
#define VCO_SPLAT(type, x) ((type){ 0 } + (x))

/* t[idx] in each lane, one lane after the other. */
VCO_INLINE VF
VCO_NAME(vco_gather)(const float *t, VI idx)
{
	VF r;

	for (unsigned l = 0; l < W; l++)
		r[l] = t[idx[l]];
	return r;
}

/* t[idx] into *v0 and t[idx + 1] into *v1, in each lane: the two neighbours
 * are one 64-bit load per lane, split into even and odd floats. */
VCO_INLINE void
VCO_NAME(vco_gather_pair)(const float *t, VI idx, VF *v0, VF *v1)
{
#if defined(__x86_64__)
	const __m64 *p[W];

	for (unsigned l = 0; l < W; l++)
		p[l] = (const __m64 *)(t + idx[l]);
	/* x: pairs of lanes 0, 1 (and 4, 5); y: of lanes 2, 3 (and 6, 7) */
	__m128 x = _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), p[0]), p[1]);
	__m128 y = _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), p[2]), p[3]);
#if VCO_LANE_WIDTH == 8
	__m128 x1 = _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), p[4]), p[5]);
	__m128 y1 = _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), p[6]), p[7]);
	__m256 xx = _mm256_insertf128_ps(_mm256_castps128_ps256(x), x1, 1);
	__m256 yy = _mm256_insertf128_ps(_mm256_castps128_ps256(y), y1, 1);

	*v0 = (VF)_mm256_shuffle_ps(xx, yy, 0x88);
	*v1 = (VF)_mm256_shuffle_ps(xx, yy, 0xdd);
#else
	*v0 = (VF)_mm_shuffle_ps(x, y, 0x88);
	*v1 = (VF)_mm_shuffle_ps(x, y, 0xdd);
#endif
#else
	*v0 = VCO_NAME(vco_gather)(t, idx);
	*v1 = VCO_NAME(vco_gather)(t, idx + 1);
#endif
}

/* |x| in each lane, as fabsf. */
VCO_INLINE VF
VCO_NAME(vco_vabs)(VF x)
{
	return (VF)((VI)x & 0x7fffffff);
}

/* clampf in each lane: NaN gives lo. */
VCO_INLINE VF
VCO_NAME(vco_vclamp)(VF x, float lo, float hi)
{
	VF lov = VCO_SPLAT(VF, lo), hiv = VCO_SPLAT(VF, hi);
	VF r = VCO_SELECT(x < hiv, x, hiv);

	return VCO_SELECT(x > lov, r, lov);
}

/* smoother_next in each lane, on the lanes' cur, target and coef. */
VCO_INLINE VF
VCO_NAME(vco_vsmooth)(VF *cur, VF target, VF coef)
{
	VF d = target - *cur;
	VF next = *cur + d * coef;
	VI snap = (next == *cur) | (VCO_NAME(vco_vabs)(d) <
	    1e-5f * (1.0f + VCO_NAME(vco_vabs)(target)));

	next = VCO_SELECT(snap, target, next);
	*cur = next;
	return next;
}

/* (uint32_t)fast_exp2f(x) in each lane, for x in [0, WT_LINC_MAX] (so
 * floorf is truncation and the result is below 2^31). */
VCO_INLINE VU
VCO_NAME(vco_vinc)(VF x)
{
	VI whole = __builtin_convertvector(x, VI);
	VF f = x - __builtin_convertvector(whole, VF);
	VF p = 1.0f + f * (0.6931470282f + f * (0.240229401f +
	    f * (0.05548531785f + f * (0.009674557619f + f * (0.001248275028f +
	    f * 0.0002154104459f)))));
	VU bits = (VU)p + ((VU)whole << 23);

	return (VU)__builtin_convertvector((VF)bits, VI);
}

/* (uint32_t)x in each lane, for x in [0, 2^32). */
VCO_INLINE VU
VCO_NAME(vco_vtou32)(VF x)
{
	VI big = x >= 2147483648.0f;
	VF low = x - VCO_SELECT(big, VCO_SPLAT(VF, 2147483648.0f),
	    VCO_SPLAT(VF, 0.0f));

	return (VU)__builtin_convertvector(low, VI) ^ ((VU)big & 0x80000000u);
}

/* wavetable_level in each lane: levels j, j + 1 blended by w. */
VCO_INLINE void
VCO_NAME(vco_vlevel)(VF linc, VI *j, VF *w)
{
	VF q = (float)WT_LEVELS_PER_OCT * (linc - WT_LINC0);
	VI c = __builtin_convertvector(q, VI);   /* q in [-84, 41]: no overflow */
	VI below = q <= -1.0f, above = q > (float)(WT_LEVELS - 2);
	VF wc;

	c -= __builtin_convertvector(c, VF) < q;  /* true is -1: ceil(q) */
	wc = q - __builtin_convertvector(c, VF) + 1.0f;
	*j = VCO_SELECT(above, VCO_SPLAT(VI, WT_LEVELS - 2),
	    VCO_SELECT(below, VCO_SPLAT(VI, 0), c));
	*w = VCO_SELECT(above, VCO_SPLAT(VF, 1.0f),
	    VCO_SELECT(below, VCO_SPLAT(VF, 0.0f), wc));
}

/* wavetable_read2 in each lane: levels j, j + 1 of `shape`. */
VCO_INLINE VF
VCO_NAME(vco_vread2)(const float *shape, VI j, VF w, VU phase)
{
	VI a = j * (int)(WT_SIZE + 1) + (VI)(phase >> WT_FRAC_BITS);
	VI b = a + (int)(WT_SIZE + 1);
	VF f = __builtin_convertvector((VI)(phase &
	    ((1u << WT_FRAC_BITS) - 1)), VF) * WT_FRAC_SCALE;
	VF a0, a1, b0, b1, va, vb;

	VCO_NAME(vco_gather_pair)(shape, a, &a0, &a1);
	VCO_NAME(vco_gather_pair)(shape, b, &b0, &b1);
	va = a0 + f * (a1 - a0);
	vb = b0 + f * (b1 - b0);

	return va + w * (vb - va);
}

/* wavetable_read in each lane. */
VCO_INLINE VF
VCO_NAME(vco_vread)(const float *t, VU phase)
{
	VI i = (VI)(phase >> WT_FRAC_BITS);
	VF f = __builtin_convertvector((VI)(phase &
	    ((1u << WT_FRAC_BITS) - 1)), VF) * WT_FRAC_SCALE;
	VF a0, a1;

	VCO_NAME(vco_gather_pair)(t, i, &a0, &a1);
	return a0 + f * (a1 - a0);
}

/* Transpose W vectors of W floats in place: r[a][b] becomes r[b][a]. */
VCO_INLINE void
VCO_NAME(vco_transpose)(VF *r)
{
#if VCO_LANE_WIDTH == 8
	tile_transpose8(r, r);
#else
	tile_transpose4(r, r);
#endif
}

/* m frames of input rows src[l] + from, lane by lane into vectors. */
VCO_INLINE void
VCO_NAME(vco_lanes_in)(VF *dst, const float *const *src, unsigned from,
    unsigned m)
{
	unsigned k = 0;

	for (; k + W <= m; k += W) {
		for (unsigned l = 0; l < W; l++)
			memcpy(&dst[k + l], src[l] + from + k, sizeof(VF));
		VCO_NAME(vco_transpose)(dst + k);
	}
	for (; k < m; k++)
		for (unsigned l = 0; l < W; l++)
			dst[k][l] = src[l][from + k];
}

/* m frames of vectors y, lane by lane into rows dst[l] + from for the
 * first `count` lanes; y is left transposed. */
VCO_INLINE void
VCO_NAME(vco_lanes_out)(float *const *dst, VF *y, unsigned from, unsigned m,
    unsigned count)
{
	unsigned k = 0;

	for (; k + W <= m; k += W) {
		VCO_NAME(vco_transpose)(y + k);
		for (unsigned l = 0; l < count; l++)
			memcpy(dst[l] + from + k, &y[k + l], sizeof(VF));
	}
	for (; k < m; k++)
		for (unsigned l = 0; l < count; l++)
			dst[l][from + k] = y[k][l];
}

/* (float)x in each lane, rounded as the scalar conversion: the high and
 * low 16 bits convert exactly, and their sum rounds once. */
VCO_INLINE VF
VCO_NAME(vco_vu2f)(VU x)
{
	return __builtin_convertvector((VI)(x >> 16), VF) * 65536.0f +
	    __builtin_convertvector((VI)(x & 0xffffu), VF);
}

/* vco_naive in each lane: the sharp-edged `wave` at `phase`, pulse width
 * `pwph`. */
VCO_INLINE VF
VCO_NAME(vco_vnaive)(const float *sine, unsigned wave, VU phase, VU pwph)
{
	VF x = VCO_NAME(vco_vu2f)(phase) * (1.0f / 4294967296.0f);
	VF pw;

	switch (wave) {
	case VCO_SAW:
		return 2.0f * x - 1.0f;
	case VCO_PULSE:
		pw = VCO_NAME(vco_vu2f)(pwph) * (1.0f / 4294967296.0f);
		return VCO_SELECT((VI)(phase < pwph), 2.0f - 2.0f * pw, -2.0f * pw);
	case VCO_TRIANGLE:
		return VCO_SELECT((VI)(phase < VCO_QUARTER), 4.0f * x,
		    VCO_SELECT((VI)(phase < 3 * VCO_QUARTER), 2.0f - 4.0f * x,
		    4.0f * x - 4.0f));
	default:
		return VCO_NAME(vco_vread)(sine, phase);
	}
}

/* The lanes where a step from `from` at `inc` passes a breakpoint of
 * `wave` (start excluded, end included): where vco_sync_stretch would
 * correct an edge or a corner. */
VCO_INLINE VI
VCO_NAME(vco_vbreaks)(unsigned wave, VU from, VU inc, VU pwph)
{
	VU a, b;

	switch (wave) {
	case VCO_SAW:
		a = 0u - from;
		return (VI)((a != 0u) & (a <= inc));
	case VCO_PULSE:
		a = 0u - from;
		b = pwph - from;
		return (VI)(((a != 0u) & (a <= inc)) | ((b != 0u) & (b <= inc)));
	case VCO_TRIANGLE:
		a = VCO_QUARTER - from;
		b = 3 * VCO_QUARTER - from;
		return (VI)(((a != 0u) & (a <= inc)) | ((b != 0u) & (b <= inc)));
	default:
		return VCO_SPLAT(VI, 0);
	}
}

/* The lanes of one group as vectors: what both kernels carry from chunk
 * to chunk, lane l being voice pick[l] (lanes past count repeat the first
 * and are not stored). */
struct VCO_NAME(vco_lanes) {
	struct vco *lv[W];
	const float *pitch[W], *fm_in[W], *pw_in[W], *sync_in[W];
	float *y_out[W];
	VU phase, base_inc;
	VF base_linc, glide, glide_coef, fm, fm_glide, fm_coef;
	VF pw, pw_glide, pw_coef, level, level_glide, level_coef;
};

VCO_INLINE void
VCO_NAME(vco_lanes_load)(struct VCO_NAME(vco_lanes) *g, struct vco *const *v,
    const float *const *const *in, float *const *const *out,
    const unsigned *pick, unsigned count)
{
	for (unsigned l = 0; l < W; l++) {
		unsigned i = pick[l < count ? l : 0];
		const struct vco *s = v[i];

		g->lv[l] = v[i];
		g->pitch[l] = in[i][VCO_IN_PITCH];
		g->fm_in[l] = in[i][VCO_IN_FM];
		g->pw_in[l] = in[i][VCO_IN_PW];
		g->sync_in[l] = in[i][VCO_IN_SYNC];
		g->y_out[l] = out[i][VCO_OUT_OUT];
		g->phase[l] = s->phase;
		g->base_inc[l] = s->base_inc;
		g->base_linc[l] = s->base_linc;
		g->glide[l] = s->glide.cur;
		g->glide_coef[l] = s->glide.coef;
		g->fm[l] = s->fm;
		g->fm_glide[l] = s->fm_glide.cur;
		g->fm_coef[l] = s->fm_glide.coef;
		g->pw[l] = s->pw;
		g->pw_glide[l] = s->pw_glide.cur;
		g->pw_coef[l] = s->pw_glide.coef;
		g->level[l] = s->level;
		g->level_glide[l] = s->level_glide.cur;
		g->level_coef[l] = s->level_glide.coef;
	}
}

/* Store the first `count` lanes' phase and smoothers: the phase into the
 * synced path's when `synced`, else into the free path's. */
VCO_INLINE void
VCO_NAME(vco_lanes_store)(const struct VCO_NAME(vco_lanes) *g,
    unsigned count, int synced)
{
	for (unsigned l = 0; l < count; l++) {
		struct vco *s = g->lv[l];

		if (synced)
			s->sync.phase = g->phase[l];
		else
			s->phase = g->phase[l];
		s->glide.cur = g->glide[l];
		s->fm_glide.cur = g->fm_glide[l];
		s->pw_glide.cur = g->pw_glide[l];
		s->level_glide.cur = g->level_glide[l];
	}
}

/*
 * One chunk's increments (and mip levels j, w when `levels`) and pulse
 * widths, frames done .. done + m, as process computes them: per frame in
 * the lanes that follow their pitch, else fixed_j, fixed_w and base_inc.
 * Returns whether any lane follows its pitch; when none does, inc_v, j_v
 * and w_v are not written.
 */
VCO_INLINE int
VCO_NAME(vco_lanes_control)(struct VCO_NAME(vco_lanes) *g, unsigned done,
    unsigned m, unsigned wave, int levels, VU *inc_v, VI *j_v, VF *w_v,
    VU *pwph_v, VI *fixed_j, VF *fixed_w)
{
	VF pitch_v[VCO_CHUNK], fm_v[VCO_CHUNK], pw_v[VCO_CHUNK];
	const VF settled = VCO_SPLAT(VF, 0.0f);   /* every glide's target */
	/* smoothers that move in some lane at the chunk's start; one
	 * settled in every lane would add exactly 0 all chunk long */
	int gliding = LANES_FN(any, VCO_LANE_WIDTH)(g->glide != settled);
	int fm_gliding = LANES_FN(any, VCO_LANE_WIDTH)(g->fm_glide != settled);
	int pw_gliding = LANES_FN(any, VCO_LANE_WIDTH)(g->pw_glide != settled);
	int has_pitch = g->pitch[0] != NULL, has_fm = g->fm_in[0] != NULL;
	VI varying;
	int any, all;

	/* which lanes follow the per-sample pitch, as process decides at
	 * each chunk's start */
	if (has_pitch || has_fm)
		varying = VCO_SPLAT(VI, -1);
	else
		varying = g->glide != settled;
	any = LANES_FN(any, VCO_LANE_WIDTH)(varying);
	all = !LANES_FN(any, VCO_LANE_WIDTH)(~varying);
	VCO_NAME(vco_vlevel)(g->base_linc, fixed_j, fixed_w);
	if (has_pitch)
		VCO_NAME(vco_lanes_in)(pitch_v, g->pitch, done, m);
	if (has_fm)
		VCO_NAME(vco_lanes_in)(fm_v, g->fm_in, done, m);
	if (wave == VCO_PULSE && g->pw_in[0] != NULL)
		VCO_NAME(vco_lanes_in)(pw_v, g->pw_in, done, m);

	for (unsigned k = 0; k < m && any; k++) {
		VF o = g->base_linc;
		VU inc;
		VI j = *fixed_j;
		VF w = *fixed_w;

		if (gliding)
			o += VCO_NAME(vco_vsmooth)(&g->glide, settled,
			    g->glide_coef);
		if (has_pitch)
			o += pitch_v[k];
		if (has_fm && fm_gliding)
			o += (g->fm + VCO_NAME(vco_vsmooth)(&g->fm_glide, settled,
			    g->fm_coef)) * fm_v[k];
		else if (has_fm)
			o += g->fm * fm_v[k];
		o = VCO_NAME(vco_vclamp)(o, 0.0f, WT_LINC_MAX);
		inc = VCO_NAME(vco_vinc)(o);
		if (levels)
			VCO_NAME(vco_vlevel)(o, &j, &w);
		if (!all) {
			inc = VCO_SELECT(varying, inc, g->base_inc);
			j = VCO_SELECT(varying, j, *fixed_j);
			w = VCO_SELECT(varying, w, *fixed_w);
		}
		inc_v[k] = inc;
		j_v[k] = j;
		w_v[k] = w;
	}
	for (unsigned k = 0; k < m; k++) {
		VF p = g->pw;

		if (wave != VCO_PULSE) {
			pwph_v[k] = VCO_SPLAT(VU, 0u);
			continue;
		}
		if (pw_gliding)
			p += VCO_NAME(vco_vsmooth)(&g->pw_glide, settled,
			    g->pw_coef);
		if (g->pw_in[0] != NULL)
			p += pw_v[k];
		p = VCO_NAME(vco_vclamp)(p, VCO_PW_MIN, VCO_PW_MAX);
		pwph_v[k] = VCO_NAME(vco_vtou32)(p * 4294967296.0f);
	}
	return any;
}

/* x times each lane's level, gliding where `gliding` (see vco_process). */
VCO_INLINE VF
VCO_NAME(vco_lanes_level)(struct VCO_NAME(vco_lanes) *g, VF x, int gliding)
{
	if (gliding)
		return x * (g->level + VCO_NAME(vco_vsmooth)(&g->level_glide,
		    VCO_SPLAT(VF, 0.0f), g->level_coef));
	return x * g->level;
}

/*
 * The lanes pick[0 .. count) of v, all playing `wave`, for `frames` frames
 * without sync: process's free path, W lanes at once.
 */
VCO_INLINE void
VCO_NAME(vco_lanes_body)(struct vco *const *v, const float *const *const *in,
    float *const *const *out, const unsigned *pick, unsigned count,
    unsigned frames, unsigned wave)
{
	struct VCO_NAME(vco_lanes) g;
	const float *saw = v[pick[0]]->saw;       /* tables: shared statics */
	const float *tri = v[pick[0]]->tri, *sine = v[pick[0]]->sine;

	VCO_NAME(vco_lanes_load)(&g, v, in, out, pick, count);
	for (unsigned done = 0; done < frames; done += VCO_CHUNK) {
		unsigned m = frames - done < VCO_CHUNK ? frames - done : VCO_CHUNK;
		VU inc_v[VCO_CHUNK], pwph_v[VCO_CHUNK];
		VI j_v[VCO_CHUNK], fixed_j;
		VF w_v[VCO_CHUNK], y[VCO_CHUNK], fixed_w;
		int any = VCO_NAME(vco_lanes_control)(&g, done, m, wave,
		    wave != VCO_SINE, inc_v, j_v, w_v, pwph_v, &fixed_j, &fixed_w);
		int level_gliding = LANES_FN(any, VCO_LANE_WIDTH)(g.level_glide !=
		    VCO_SPLAT(VF, 0.0f));

		for (unsigned k = 0; k < m; k++) {
			VU inc = any ? inc_v[k] : g.base_inc;
			VI j = any ? j_v[k] : fixed_j;
			VF w = any ? w_v[k] : fixed_w, x;

			switch (wave) {
			case VCO_SAW:
				x = VCO_NAME(vco_vread2)(saw, j, w, g.phase);
				break;
			case VCO_PULSE:
				x = VCO_NAME(vco_vread2)(saw, j, w,
				    g.phase - pwph_v[k]) -
				    VCO_NAME(vco_vread2)(saw, j, w, g.phase);
				break;
			case VCO_TRIANGLE:
				x = VCO_NAME(vco_vread2)(tri, j, w, g.phase);
				break;
			default:
				x = VCO_NAME(vco_vread)(sine, g.phase);
				break;
			}
			y[k] = VCO_NAME(vco_lanes_level)(&g, x, level_gliding);
			g.phase += inc;
		}
		VCO_NAME(vco_lanes_out)(g.y_out, y, done, m, count);
	}
	VCO_NAME(vco_lanes_store)(&g, count, 0);
}

/*
 * The same lanes with sync connected, every one already on the synced
 * path: process's synced path, W lanes at once.  The W rings of pending
 * samples are interleaved into one ring of vectors for the block, each
 * lane's rotated so that entry 0 is its next sample; the naive wave, the
 * ring's add and read, the reset test and the breakpoint test run in
 * vectors.  A lane with an event in a sample (a reset, or an edge or a
 * corner passed) takes vco_sync_events, into its column of the ring; the
 * corrections of a sample land before its naive value, in process's order.
 * (Each lane's own ring, read and written lane by lane every sample,
 * measured 1.7x slower on AVX2.)  The AVX2 kernel corrects through
 * blep_add_avx2, as SSE code after 8-wide registers ran 2x slower.
 */
VCO_INLINE void
VCO_NAME(vco_lanes_sync_body)(struct vco *const *v,
    const float *const *const *in, float *const *const *out,
    const unsigned *pick, unsigned count, unsigned frames, unsigned wave)
{
	struct VCO_NAME(vco_lanes) g;
	VF ring[VCO_RING], hist_a, hist_b, hist_c;
	VU ring_phase[VCO_RING];
	const float *sine = v[pick[0]]->sine;
	unsigned now = 0;       /* ring entry of the sample generated next */

	VCO_NAME(vco_lanes_load)(&g, v, in, out, pick, count);
	for (unsigned l = 0; l < W; l++) {
		const struct vco_sync *s = &g.lv[l]->sync;

		for (unsigned i = 0; i < VCO_RING; i++) {
			ring[i][l] = s->ring[(s->pos + i) & VCO_RING_MASK];
			ring_phase[i][l] = s->ring_phase[(s->pos + i) &
			    VCO_RING_MASK];
		}
		g.phase[l] = s->phase;
		hist_a[l] = s->hist[0];
		hist_b[l] = s->hist[1];
		hist_c[l] = s->hist[2];
	}
	for (unsigned done = 0; done < frames; done += VCO_CHUNK) {
		unsigned m = frames - done < VCO_CHUNK ? frames - done : VCO_CHUNK;
		VU inc_v[VCO_CHUNK], pwph_v[VCO_CHUNK];
		VI j_v[VCO_CHUNK], fixed_j;
		VF w_v[VCO_CHUNK], y[VCO_CHUNK], sync_v[VCO_CHUNK], fixed_w;
		int any = VCO_NAME(vco_lanes_control)(&g, done, m, wave, 0,
		    inc_v, j_v, w_v, pwph_v, &fixed_j, &fixed_w);
		int level_gliding = LANES_FN(any, VCO_LANE_WIDTH)(g.level_glide !=
		    VCO_SPLAT(VF, 0.0f));

		VCO_NAME(vco_lanes_in)(sync_v, g.sync_in, done, m);
		for (unsigned k = 0; k < m; k++) {
			VU inc = any ? inc_v[k] : g.base_inc, pwph = pwph_v[k];
			VU from = g.phase, ph = from + inc;
			VF d = sync_v[k], x;
			/* a crossing between the sync samples 2 and 1 back
			 * resets the sample generated now */
			VI reset = (VI)(hist_b <= 0.0f) & (VI)(hist_c > 0.0f);
			VI event = reset | VCO_NAME(vco_vbreaks)(wave, from, inc,
			    pwph);
			unsigned slot = now & VCO_RING_MASK, emit;

			if (LANES_FN(any, VCO_LANE_WIDTH)(event)) {
				for (unsigned l = 0; l < count; l++) {
					struct vco_ring r = { (float *)ring + l, W,
					    now, VCO_BLEP_ADD };
					float before = 0.0f;

					if (event[l] == 0)
						continue;
					if (reset[l])
						before = 1.0f - vco_sync_crossing(
						    hist_a[l], hist_b[l], hist_c[l],
						    d[l]);
					ph[l] = vco_sync_events(g.lv[l], &r, wave,
					    from[l], inc[l], pwph[l], reset[l] != 0,
					    before);
				}
			}
			ring[slot] += VCO_NAME(vco_vnaive)(sine, wave, ph, pwph);
			ring_phase[slot] = ph;
			g.phase = ph;
			now++;
			emit = (now - 1 - BLEP_ZC) & VCO_RING_MASK;
			x = ring[emit];
			ring[emit] = VCO_SPLAT(VF, 0.0f);
			y[k] = VCO_NAME(vco_lanes_level)(&g, x, level_gliding);
			hist_a = hist_b;
			hist_b = hist_c;
			hist_c = d;
		}
		VCO_NAME(vco_lanes_out)(g.y_out, y, done, m, count);
	}
	for (unsigned l = 0; l < count; l++) {
		struct vco_sync *s = &g.lv[l]->sync;

		for (unsigned i = 0; i < VCO_RING; i++) {
			s->ring[(s->pos + i) & VCO_RING_MASK] = ring[i][l];
			s->ring_phase[(s->pos + i) & VCO_RING_MASK] =
			    ring_phase[i][l];
		}
		s->pos += frames;
		s->hist[0] = hist_a[l];
		s->hist[1] = hist_b[l];
		s->hist[2] = hist_c[l];
	}
	VCO_NAME(vco_lanes_store)(&g, count, 1);
}

/* vco_lanes_body, or with `synced` vco_lanes_sync_body, with the wave
 * fixed at compile time. */
static VCO_TARGET void
VCO_NAME(vco_lanes_run)(struct vco *const *v, const float *const *const *in,
    float *const *const *out, const unsigned *pick, unsigned count,
    unsigned frames, unsigned wave, int synced)
{
#define VCO_RUN(w) (synced ? \
	VCO_NAME(vco_lanes_sync_body)(v, in, out, pick, count, frames, w) : \
	VCO_NAME(vco_lanes_body)(v, in, out, pick, count, frames, w))
	switch (wave) {
	case VCO_SAW:
		VCO_RUN(VCO_SAW);
		break;
	case VCO_PULSE:
		VCO_RUN(VCO_PULSE);
		break;
	case VCO_TRIANGLE:
		VCO_RUN(VCO_TRIANGLE);
		break;
	default:
		VCO_RUN(VCO_SINE);
		break;
	}
#undef VCO_RUN
}

#undef VCO_TARGET
#undef VCO_BLEP_ADD
#undef VCO_INLINE
#undef VF
#undef VI
#undef VU
#undef W
