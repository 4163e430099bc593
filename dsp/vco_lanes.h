/*
 * dsp/vco_lanes.h — the vco's lane kernel (dsp/vco.c, process_lanes): the
 * free path of every wave for 4 or 8 voices at once, bit-identical to
 * vco_process.  Not a header of its own: dsp/vco.c includes it once per
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
typedef lanes_v8 VF;
typedef lanes_v8i VI;
#else
#define VCO_TARGET
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

/*
 * The lanes pick[0 .. count) of v, all playing `wave`, for `frames` frames
 * without sync: process's free path, W lanes at once.  Lanes past count
 * repeat the first and are not stored.
 */
VCO_INLINE void
VCO_NAME(vco_lanes_body)(struct vco *const *v, const float *const *const *in,
    float *const *const *out, const unsigned *pick, unsigned count,
    unsigned frames, unsigned wave)
{
	struct vco *lv[W];
	const float *pitch[W], *fm_in[W], *pw_in[W];
	float *y_out[W];
	VU phase, base_inc;
	VF base_linc, glide, glide_coef, fm, fm_glide, fm_coef;
	VF pw, pw_glide, pw_coef, level, level_glide, level_coef;
	const VF settled = VCO_SPLAT(VF, 0.0f);   /* every glide's target */
	const float *saw = v[pick[0]]->saw;       /* tables: shared statics */
	const float *tri = v[pick[0]]->tri, *sine = v[pick[0]]->sine;

	for (unsigned l = 0; l < W; l++) {
		unsigned i = pick[l < count ? l : 0];
		const struct vco *s = v[i];

		lv[l] = v[i];
		pitch[l] = in[i][VCO_IN_PITCH];
		fm_in[l] = in[i][VCO_IN_FM];
		pw_in[l] = in[i][VCO_IN_PW];
		y_out[l] = out[i][VCO_OUT_OUT];
		phase[l] = s->phase;
		base_inc[l] = s->base_inc;
		base_linc[l] = s->base_linc;
		glide[l] = s->glide.cur;
		glide_coef[l] = s->glide.coef;
		fm[l] = s->fm;
		fm_glide[l] = s->fm_glide.cur;
		fm_coef[l] = s->fm_glide.coef;
		pw[l] = s->pw;
		pw_glide[l] = s->pw_glide.cur;
		pw_coef[l] = s->pw_glide.coef;
		level[l] = s->level;
		level_glide[l] = s->level_glide.cur;
		level_coef[l] = s->level_glide.coef;
	}
	for (unsigned done = 0; done < frames; done += VCO_CHUNK) {
		unsigned m = frames - done < VCO_CHUNK ? frames - done : VCO_CHUNK;
		VF pitch_v[VCO_CHUNK], fm_v[VCO_CHUNK], pw_v[VCO_CHUNK];
		VU inc_v[VCO_CHUNK], pwph_v[VCO_CHUNK];
		VI j_v[VCO_CHUNK];
		VF w_v[VCO_CHUNK], y[VCO_CHUNK];
		VI varying, fixed_j;
		VF fixed_w;
		/* smoothers that move in some lane at the chunk's start; one
		 * settled in every lane would add exactly 0 all chunk long */
		int gliding = LANES_FN(any, VCO_LANE_WIDTH)(glide != settled);
		int fm_gliding = LANES_FN(any, VCO_LANE_WIDTH)(fm_glide != settled);
		int pw_gliding = LANES_FN(any, VCO_LANE_WIDTH)(pw_glide != settled);
		int level_gliding = LANES_FN(any, VCO_LANE_WIDTH)(level_glide != settled);
		int any, all;

		/* which lanes follow the per-sample pitch, as process decides
		 * at each chunk's start */
		if (pitch[0] != NULL || fm_in[0] != NULL)
			varying = VCO_SPLAT(VI, -1);
		else
			varying = glide != settled;
		any = LANES_FN(any, VCO_LANE_WIDTH)(varying);
		all = !LANES_FN(any, VCO_LANE_WIDTH)(~varying);
		VCO_NAME(vco_vlevel)(base_linc, &fixed_j, &fixed_w);
		if (pitch[0] != NULL)
			VCO_NAME(vco_lanes_in)(pitch_v, pitch, done, m);
		if (fm_in[0] != NULL)
			VCO_NAME(vco_lanes_in)(fm_v, fm_in, done, m);
		if (wave == VCO_PULSE && pw_in[0] != NULL)
			VCO_NAME(vco_lanes_in)(pw_v, pw_in, done, m);

		/* increments and mip levels of the lanes that follow their
		 * pitch (every lane, when pitch or fm is connected) */
		for (unsigned k = 0; k < m && any; k++) {
			VF o = base_linc;
			VU inc;
			VI j;
			VF w;

			if (gliding)
				o += VCO_NAME(vco_vsmooth)(&glide, settled,
				    glide_coef);
			if (pitch[0] != NULL)
				o += pitch_v[k];
			if (fm_in[0] != NULL && fm_gliding)
				o += (fm + VCO_NAME(vco_vsmooth)(&fm_glide, settled,
				    fm_coef)) * fm_v[k];
			else if (fm_in[0] != NULL)
				o += fm * fm_v[k];
			o = VCO_NAME(vco_vclamp)(o, 0.0f, WT_LINC_MAX);
			inc = VCO_NAME(vco_vinc)(o);
			if (wave != VCO_SINE)
				VCO_NAME(vco_vlevel)(o, &j, &w);
			else
				j = fixed_j, w = fixed_w;
			if (!all) {
				inc = VCO_SELECT(varying, inc, base_inc);
				j = VCO_SELECT(varying, j, fixed_j);
				w = VCO_SELECT(varying, w, fixed_w);
			}
			inc_v[k] = inc;
			j_v[k] = j;
			w_v[k] = w;
		}
		/* pulse widths */
		for (unsigned k = 0; k < m && wave == VCO_PULSE; k++) {
			VF p = pw;

			if (pw_gliding)
				p += VCO_NAME(vco_vsmooth)(&pw_glide, settled,
				    pw_coef);
			if (pw_in[0] != NULL)
				p += pw_v[k];
			p = VCO_NAME(vco_vclamp)(p, VCO_PW_MIN, VCO_PW_MAX);
			pwph_v[k] = VCO_NAME(vco_vtou32)(p * 4294967296.0f);
		}
		/* waveform and level */
		for (unsigned k = 0; k < m; k++) {
			VU inc = any ? inc_v[k] : base_inc;
			VI j = any ? j_v[k] : fixed_j;
			VF w = any ? w_v[k] : fixed_w, x;

			switch (wave) {
			case VCO_SAW:
				x = VCO_NAME(vco_vread2)(saw, j, w, phase);
				break;
			case VCO_PULSE:
				x = VCO_NAME(vco_vread2)(saw, j, w,
				    phase - pwph_v[k]) -
				    VCO_NAME(vco_vread2)(saw, j, w, phase);
				break;
			case VCO_TRIANGLE:
				x = VCO_NAME(vco_vread2)(tri, j, w, phase);
				break;
			default:
				x = VCO_NAME(vco_vread)(sine, phase);
				break;
			}
			if (level_gliding)
				x *= level + VCO_NAME(vco_vsmooth)(&level_glide,
				    settled, level_coef);
			else
				x *= level;
			y[k] = x;
			phase += inc;
		}
		VCO_NAME(vco_lanes_out)(y_out, y, done, m, count);
	}
	for (unsigned l = 0; l < count; l++) {
		struct vco *s = lv[l];

		s->phase = phase[l];
		s->glide.cur = glide[l];
		s->fm_glide.cur = fm_glide[l];
		s->pw_glide.cur = pw_glide[l];
		s->level_glide.cur = level_glide[l];
	}
}

/* vco_lanes_body with the wave fixed at compile time. */
static VCO_TARGET void
VCO_NAME(vco_lanes_run)(struct vco *const *v, const float *const *const *in,
    float *const *const *out, const unsigned *pick, unsigned count,
    unsigned frames, unsigned wave)
{
	switch (wave) {
	case VCO_SAW:
		VCO_NAME(vco_lanes_body)(v, in, out, pick, count, frames, VCO_SAW);
		break;
	case VCO_PULSE:
		VCO_NAME(vco_lanes_body)(v, in, out, pick, count, frames,
		    VCO_PULSE);
		break;
	case VCO_TRIANGLE:
		VCO_NAME(vco_lanes_body)(v, in, out, pick, count, frames,
		    VCO_TRIANGLE);
		break;
	default:
		VCO_NAME(vco_lanes_body)(v, in, out, pick, count, frames,
		    VCO_SINE);
		break;
	}
}

#undef VCO_TARGET
#undef VCO_INLINE
#undef VF
#undef VI
#undef VU
#undef W
