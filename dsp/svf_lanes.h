/*
 * dsp/svf_lanes.h — the svf's lane kernel (dsp/svf.c, process_lanes):
 * 4 or 8 voices at once, bit-identical to svf_process.
 * Not a header of its own: dsp/svf.c includes it once per vector type
 * (SVF_LV set: lanes_v4, and lanes_v8 in target("avx2") functions), after
 * its own definitions.
 */
#ifndef SVF_LV
#error "dsp/svf_lanes.h is included by dsp/svf.c, with SVF_LV set"
#endif

/* A helper of this vector type: svf_lanes_<name>_v4 or _v8. */
#define LN(name) SVF_LFN(svf_lanes_##name)
#define LANES(name) LANES_FN(name, SVF_LW)
#define LINE static inline __attribute__((always_inline)) SVF_LATTR

typedef SVF_LV LN(v);
typedef SVF_LVI LN(vi);
/*
 * The filter runs in double, so one float vector of lanes is two double
 * vectors of the same size: its low and high half (a double vector of all
 * the lanes would be twice a register, which GCC splits poorly).
 */
typedef float LN(hf) __attribute__((vector_size(SVF_LW * sizeof(float) / 2)));
typedef double LN(d) __attribute__((vector_size(SVF_LW * sizeof(float))));
typedef int64_t LN(di) __attribute__((vector_size(SVF_LW * sizeof(float))));

/* Lane by lane: a where `mask` is set, else b. */
LINE LN(v)
LN(select)(LN(vi) mask, LN(v) a, LN(v) b)
{
	return (LN(v))((mask & (LN(vi))a) | (~mask & (LN(vi))b));
}

LINE LN(d)
LN(select_d)(LN(di) mask, LN(d) a, LN(d) b)
{
	return (LN(d))((mask & (LN(di))a) | (~mask & (LN(di))b));
}

/* Lane by lane clampf: x > lo ? (x < hi ? x : hi) : lo, so NaN gives lo. */
LINE LN(v)
LN(clamp)(LN(v) x, LN(v) lo, LN(v) hi)
{
	return LN(select)(x > lo, LN(select)(x < hi, x, hi), lo);
}

/*
 * The low and high halves of the lanes in double, and back.  GCC 12 splits
 * __builtin_convertvector between four floats and four doubles into two
 * halves through memory even where AVX converts them in one instruction,
 * so x86 takes the conversions by name (the same IEEE conversions).
 */
LINE LN(d)
LN(lo)(LN(v) x)
{
#if defined(__x86_64__) && SVF_LW == 8
	return _mm256_cvtps_pd(_mm256_castps256_ps128(x));
#elif defined(__x86_64__)
	return _mm_cvtps_pd(x);
#else
	return __builtin_convertvector(__builtin_shufflevector(x, x, SVF_LO),
	    LN(d));
#endif
}

LINE LN(d)
LN(hi)(LN(v) x)
{
#if defined(__x86_64__) && SVF_LW == 8
	return _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
#elif defined(__x86_64__)
	return _mm_cvtps_pd(_mm_movehl_ps(x, x));
#else
	return __builtin_convertvector(__builtin_shufflevector(x, x, SVF_HI),
	    LN(d));
#endif
}

LINE LN(v)
LN(join)(LN(d) lo, LN(d) hi)
{
#if defined(__x86_64__) && SVF_LW == 8
	return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
#elif defined(__x86_64__)
	return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
#else
	return __builtin_shufflevector(__builtin_convertvector(lo, LN(hf)),
	    __builtin_convertvector(hi, LN(hf)), SVF_ALL);
#endif
}

/* glide_param_next in every lane: the distance one sample towards 0 (its
 * target) as smoother_next steps it, added to the base. */
LINE LN(v)
LN(glide_next)(LN(v) base, LN(v) *cur, LN(v) target, LN(v) coef)
{
	LN(v) d = target - *cur;
	LN(v) next = *cur + d * coef;
	LN(vi) snap = (next == *cur) |
	    (LANES(abs)(d) < 1e-5f * (1.0f + LANES(abs)(target)));
	*cur = LN(select)(snap, target, next);
	return base + *cur;
}

/* fast_exp2f in every lane, for x >= 0 (where floor truncates). */
LINE LN(v)
LN(exp2)(LN(v) x)
{
	LN(vi) il = __builtin_convertvector(x, LN(vi));
	LN(v) fr = x - __builtin_convertvector(il, LN(v));
	LN(v) p = 1.0f + fr * (0.6931470282f + fr * (0.240229401f +
	    fr * (0.05548531785f + fr * (0.009674557619f +
	    fr * (0.001248275028f + fr * 0.0002154104459f)))));
	return (LN(v))((LN(vi))p + (il << 23));
}

/* svf_tan in every lane. */
LINE LN(v)
LN(tan)(LN(v) x)
{
	LN(v) x2 = x * x;
	LN(v) num = x * (135135.0f + x2 * (-17325.0f + x2 * (378.0f - x2)));
	LN(v) den = 135135.0f + x2 * (-62370.0f + x2 * (3150.0f - 28.0f * x2));
	return num / den;
}

/* svf_exact in every lane. */
LINE LN(v)
LN(exact)(LN(v) o, LN(v) pi_over_rate)
{
	return LN(tan)(pi_over_rate * LN(exp2)(o));
}

/*
 * svf_coeffs, lane by lane, on the octaves o[0..n) and damping k[0..n) (a
 * vector of lanes per sample): every lane decides for itself, as
 * svf_coeffs decides for its voice, and lanes set in `exact`
 * (coef_per_sample) never interpolate.  A segment is computed one way only
 * when all its lanes agree, else both ways and each lane takes its own.
 */
LINE void
LN(coeffs)(const LN(v) *o, const LN(v) *k, unsigned n, LN(v) pi_over_rate,
    LN(vi) exact, LN(v) *g)
{
	g[0] = LN(exact)(o[0], pi_over_rate);
	for (unsigned a = 0; a + 1 < n; ) {
		unsigned len = n - 1 - a < SVF_SEG ? n - 1 - a : SVF_SEG;
		unsigned b = a + len, mid = a + len / 2;
		float inv = 1.0f / (float)len;
		LN(v) tol = SVF_SEG_TOL * k[a], d = o[b] - o[a];
		LN(vi) smooth = ~exact;

		/* svf_seg_straight */
		for (unsigned j = a + 1; j < b; j++) {
			LN(v) line = o[a] + d * ((float)(j - a) * inv);
			smooth &= LANES(abs)(o[j] - line) <= tol;
		}
		if (!LANES(any)(smooth)) {
			for (unsigned j = a + 1; j <= b; j++)
				g[j] = LN(exact)(o[j], pi_over_rate);
			a = b;
			continue;
		}
		g[b] = LN(exact)(o[b], pi_over_rate);
		LN(v) gm = LN(exact)(o[mid], pi_over_rate);
		float tm = (float)(mid - a) * inv;
		smooth &= LANES(abs)(gm - (g[a] + (g[b] - g[a]) * tm)) <= tol * gm;
		int all = LANES(all)(smooth), none = !LANES(any)(smooth);
		for (unsigned j = a + 1; j < b; j++) {
			float t = (float)(j - a) * inv;
			LN(v) lerp = g[a] + (g[b] - g[a]) * t;
			if (all) {
				g[j] = lerp;
				continue;
			}
			LN(v) e = LN(exact)(o[j], pi_over_rate);
			g[j] = none ? e : LN(select)(smooth, lerp, e);
		}
		a = b;
	}
}

/* One half of the lanes' coefficients, svf_process's per-sample ones
 * where `vary` is set: g and k (float) in double, the a's from them. */
struct LN(coef) {
	LN(d) k, a1, a2, a3;
};

LINE void
LN(coef_varying)(struct LN(coef) *c, const struct LN(coef) *settled,
    LN(di) vary, LN(d) g, LN(d) k)
{
	LN(d) a1 = 1.0 / (1.0 + g * (g + k));
	LN(d) a2 = g * a1;

	c->k = LN(select_d)(vary, k, settled->k);
	c->a1 = LN(select_d)(vary, a1, settled->a1);
	c->a2 = LN(select_d)(vary, a2, settled->a2);
	c->a3 = LN(select_d)(vary, g * a2, settled->a3);
}

/* One half of the lanes through svf_process's filter step, from input v0:
 * the integrators ic1, ic2, and lowpass, bandpass, highpass and notch. */
struct LN(outs) {
	LN(d) lp, bp, hp, notch;
};

LINE void
LN(step)(LN(d) *ic1, LN(d) *ic2, LN(d) v0, const struct LN(coef) *c,
    struct LN(outs) *o)
{
	LN(d) v3 = v0 - *ic2;
	LN(d) v1 = c->a1 * *ic1 + c->a2 * v3;          /* bandpass state */
	LN(d) v2 = *ic2 + c->a2 * *ic1 + c->a3 * v3;   /* lowpass state */
	*ic1 = 2.0 * v1 - *ic1;
	*ic2 = 2.0 * v2 - *ic2;
	LN(d) b = c->k * v1;
	o->lp = v2;
	o->bp = b;
	o->hp = v0 - b - v2;
	o->notch = v0 - b;
}

/* Lane l of the half (lo, hi) it lives in: read, and written (clang takes
 * no address of a vector element). */
#define SVF_LANE_GET(lo, hi, l) \
	((l) < SVF_LW / 2 ? (lo)[(l)] : (hi)[(l) - SVF_LW / 2])
#define SVF_LANE_SET(lo, hi, l, v) do { \
	if ((l) < SVF_LW / 2) \
		(lo)[(l)] = (v); \
	else \
		(hi)[(l) - SVF_LW / 2] = (v); \
} while (0)

/*
 * svf_process's loop on the voices f[0..used) in lanes 0..used (used <=
 * SVF_LW), in[l] and out[l] as process takes them (an input is NULL in
 * every voice or in none).  Lanes from `used` on repeat voice 0 and their
 * results are thrown away.
 */
static SVF_LATTR void
LN(run)(struct svf *const *f, unsigned used, const float *const *const *in,
    float *const *const *out, unsigned n)
{
	LN(v) zf = { 0 };
	LN(d) zd = { 0 };
	/* the integrators, low and high half */
	LN(d) ic1_lo = zd, ic1_hi = zd, ic2_lo = zd, ic2_hi = zd;
	/* settled lanes' k and coefficients (svf_process's, once a block) */
	struct LN(coef) set_lo = { zd, zd, zd, zd }, set_hi = set_lo;
	LN(di) vary_lo = (LN(di))zd, vary_hi = (LN(di))zd;
	/* varying lanes: the glides and what the cutoff is made of */
	LN(v) oct_base = zf, oct_cur = zf, oct_target = zf, oct_coef = zf;
	LN(v) k_base = zf, k_cur = zf, k_target = zf, k_coef = zf;
	LN(v) depth = zf, lo = zf, hi = zf, pi_over_rate = zf;
	int any_varying = 0;
	const float *xp[SVF_LW], *pp[SVF_LW], *mp[SVF_LW];
	float *op[SVF_N_OUT][SVF_LW];
	/* the chunk's outputs, a vector of lanes per sample */
	LN(v) ot[SVF_N_OUT][SVF_CHUNK];
	/* the chunk's per-sample coefficients, ahead of its sample loop,
	 * and what they are made of */
	struct LN(coef) ct_lo[SVF_CHUNK], ct_hi[SVF_CHUNK];
	LN(v) Ot[SVF_CHUNK], Kt[SVF_CHUNK], Gt[SVF_CHUNK];
	/* lanes whose voice never takes control-rate coefficients */
	LN(vi) per_sample = (LN(vi))zf;

	for (unsigned l = 0; l < SVF_LW; l++) {
		unsigned v = l < used ? l : 0;
		const struct svf *fv = f[v];
		const float *const *vin = in[v];
		int varying = vin[SVF_IN_PITCH] != NULL ||
		    vin[SVF_IN_MOD] != NULL || smoother_moving(&fv->oct.d) ||
		    smoother_moving(&fv->k.d);

		SVF_LANE_SET(ic1_lo, ic1_hi, l, fv->ic1);
		SVF_LANE_SET(ic2_lo, ic2_hi, l, fv->ic2);
		if (varying) {
			SVF_LANE_SET(vary_lo, vary_hi, l, -1);
			any_varying = 1;
		} else {
			/* settled: exact prewarping, once per block */
			double g = tan(DSP_PI * exp2((double)fv->oct.base) /
			    fv->rate);
			double k = fv->k.base;
			double a1 = 1.0 / (1.0 + g * (g + k));
			SVF_LANE_SET(set_lo.k, set_hi.k, l, k);
			SVF_LANE_SET(set_lo.a1, set_hi.a1, l, a1);
			SVF_LANE_SET(set_lo.a2, set_hi.a2, l, g * a1);
			SVF_LANE_SET(set_lo.a3, set_hi.a3, l, g * (g * a1));
		}
		oct_base[l] = fv->oct.base;
		oct_cur[l] = fv->oct.d.cur;
		oct_target[l] = fv->oct.d.target;
		oct_coef[l] = fv->oct.d.coef;
		k_base[l] = fv->k.base;
		k_cur[l] = fv->k.d.cur;
		k_target[l] = fv->k.d.target;
		k_coef[l] = fv->k.d.coef;
		depth[l] = fv->depth;
		per_sample[l] = fv->coef_per_sample ? -1 : 0;
		lo[l] = fv->oct_lo;
		hi[l] = fv->oct_hi;
		pi_over_rate[l] = fv->pi_over_rate;
		xp[l] = vin[SVF_IN_IN];
		pp[l] = vin[SVF_IN_PITCH];
		mp[l] = vin[SVF_IN_MOD];
	}
	for (unsigned o = 0; o < SVF_N_OUT; o++)
		for (unsigned l = 0; l < used; l++)
			op[o][l] = out[l][o];

	for (unsigned done = 0; done < n; done += SVF_CHUNK) {
		unsigned m = n - done < SVF_CHUNK ? n - done : SVF_CHUNK;

		if (any_varying) {   /* svf_process's, lane by lane */
			for (unsigned j = 0; j < m; j++) {
				unsigned i = done + j;
				LN(v) o = LN(glide_next)(oct_base, &oct_cur,
				    oct_target, oct_coef);
				Kt[j] = LN(glide_next)(k_base, &k_cur, k_target,
				    k_coef);
				if (pp[0] != NULL)
					o += LANES(gather)(pp, i);
				if (mp[0] != NULL)
					o += depth * LANES(gather)(mp, i);
				Ot[j] = LN(clamp)(o, lo, hi);
			}
			LN(coeffs)(Ot, Kt, m, pi_over_rate, per_sample, Gt);
			for (unsigned j = 0; j < m; j++) {
				LN(coef_varying)(&ct_lo[j], &set_lo, vary_lo,
				    LN(lo)(Gt[j]), LN(lo)(Kt[j]));
				LN(coef_varying)(&ct_hi[j], &set_hi, vary_hi,
				    LN(hi)(Gt[j]), LN(hi)(Kt[j]));
			}
		}
		for (unsigned j = 0; j < m; j++) {
			unsigned i = done + j;
			LN(d) v0_lo = zd, v0_hi = zd;
			const struct LN(coef) *c_lo = &set_lo, *c_hi = &set_hi;
			struct LN(outs) o_lo, o_hi;

			if (xp[0] != NULL) {
				LN(v) xv = LANES(gather)(xp, i);
				v0_lo = LN(lo)(xv);
				v0_hi = LN(hi)(xv);
			}
			if (any_varying) {
				c_lo = &ct_lo[j];
				c_hi = &ct_hi[j];
			}
			LN(step)(&ic1_lo, &ic2_lo, v0_lo, c_lo, &o_lo);
			LN(step)(&ic1_hi, &ic2_hi, v0_hi, c_hi, &o_hi);
			ot[SVF_OUT_LP][j] = LN(join)(o_lo.lp, o_hi.lp);
			ot[SVF_OUT_BP][j] = LN(join)(o_lo.bp, o_hi.bp);
			ot[SVF_OUT_HP][j] = LN(join)(o_lo.hp, o_hi.hp);
			ot[SVF_OUT_NOTCH][j] = LN(join)(o_lo.notch, o_hi.notch);
		}
		for (unsigned o = 0; o < SVF_N_OUT; o++)
			LANES(rows_write)(ot[o], m, used, op[o], done);
	}
	for (unsigned l = 0; l < used; l++) {
		struct svf *fv = f[l];

		fv->ic1 = SVF_LANE_GET(ic1_lo, ic1_hi, l);
		fv->ic2 = SVF_LANE_GET(ic2_lo, ic2_hi, l);
		if (SVF_LANE_GET(vary_lo, vary_hi, l)) {
			fv->oct.d.cur = oct_cur[l];
			fv->k.d.cur = k_cur[l];
		}
	}
}

#undef SVF_LANE_GET
#undef SVF_LANE_SET
#undef LINE
#undef LANES
#undef LN
