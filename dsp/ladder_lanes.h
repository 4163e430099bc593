/*
 * dsp/ladder_lanes.h — the ladder's lane kernel (dsp/ladder.c,
 * process_lanes): the linear path (drive 0) of 4 or 8 voices at once,
 * bit-identical to ladder_process.
 * Not a header of its own: dsp/ladder.c includes it once per vector type
 * (LADDER_LV set: lanes_v4, and lanes_v8 in target("avx2") functions), after
 * its own definitions.
 */
#ifndef LADDER_LV
#error "dsp/ladder_lanes.h is included by dsp/ladder.c, with LADDER_LV set"
#endif

/* A helper of this vector type: ladder_lanes_<name>_v4 or _v8. */
#define LN(name) LADDER_LFN(ladder_lanes_##name)
#define LANES(name) LANES_FN(name, LADDER_LW)
#define LINE static inline __attribute__((always_inline)) LADDER_LATTR

typedef LADDER_LV LN(v);
typedef LADDER_LVI LN(vi);

/* v in every lane. */
LINE LN(v)
LN(splat)(float v)
{
	LN(v) r = { 0 };
	for (unsigned l = 0; l < LADDER_LW; l++)
		r[l] = v;
	return r;
}

/* Lane by lane: a where `mask` is set, else b. */
LINE LN(v)
LN(select)(LN(vi) mask, LN(v) a, LN(v) b)
{
	return (LN(v))((mask & (LN(vi))a) | (~mask & (LN(vi))b));
}

/*
 * Lane by lane clampf: x > lo ? (x < hi ? x : hi) : lo, so NaN gives lo.
 * On x86 that is max(min(hi, x), lo) with MINPS and MAXPS, which return
 * their second operand where the comparison fails: min(hi, x) is
 * hi < x ? hi : x (NaN stays NaN), then r > lo ? r : lo gives lo for a NaN,
 * for x <= lo and nothing else, given lo < hi and hi nonzero (so x == hi
 * has hi's bits), as for every clamp here.  Two instructions on the loop's
 * serial chain instead of two compares and two blends.
 */
LINE LN(v)
LN(clamp)(LN(v) x, LN(v) lo, LN(v) hi)
{
#if defined(__x86_64__) && LADDER_LW == 8
	return _mm256_max_ps(_mm256_min_ps(hi, x), lo);
#elif defined(__x86_64__)
	return _mm_max_ps(_mm_min_ps(hi, x), lo);
#else
	return LN(select)(x > lo, LN(select)(x < hi, x, hi), lo);
#endif
}

/* smoother_next in every lane: *cur one sample towards target. */
LINE LN(v)
LN(smooth)(LN(v) *cur, LN(v) target, LN(v) coef)
{
	LN(v) d = target - *cur;
	LN(v) next = *cur + d * coef;
	LN(vi) snap = (next == *cur) |
	    (LANES(abs)(d) < 1e-5f * (1.0f + LANES(abs)(target)));
	*cur = LN(select)(snap, target, next);
	return *cur;
}

/* ladder_exp2_v4 in every lane (x >= 0). */
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

/* ladder_feedback in every lane. */
LINE LN(v)
LN(feedback)(LN(v) t, LN(v) k, LN(v) ka, LN(v) pred)
{
	LN(v) p = LN(clamp)(pred, LN(splat)(-3.0f), LN(splat)(3.0f));
	LN(v) p2 = p * p;
	LN(v) m = LN(clamp)(LANES(abs)(pred) * (1.0f / 3.0f), LN(splat)(1.0f),
	    LN(splat)(1e4f));
	LN(v) q = (9.0f * m) * (3.0f + p2);
	LN(v) b = q + ka * (27.0f + p2);
	LN(v) a = LN(clamp)(t * q, -3.0f * b, 3.0f * b);
	LN(v) a2 = a * a, b27 = 27.0f * b;
	return (k * a) * (b27 * b + a2) / (b27 * (b * b) + (9.0f * b) * a2);
}

/* ladder_exact_v4 in every lane (pi_over_rate per lane). */
LINE void
LN(exact)(LN(v) o, LN(v) pi_over_rate, LN(v) *G, LN(v) *H, LN(v) *C2)
{
	LN(v) x = pi_over_rate * LN(exp2)(o);
	LN(v) x2 = x * x;
	LN(v) num = x * (135135.0f + x2 * (-17325.0f + x2 * (378.0f - x2)));
	LN(v) den = 135135.0f + x2 * (-62370.0f + x2 * (3150.0f - 28.0f * x2));
	LN(v) inv = 1.0f / (num + den);

	*G = num * inv;
	*H = den * inv;
	*C2 = 2.0f * (den - num) * (den + num) / (den * den + num * num);
}

/* ladder_seg_near in every lane: a mask. */
LINE LN(vi)
LN(near)(LN(v) xa, LN(v) x, LN(v) xb, float t, LN(v) tol)
{
	return LANES(abs)(x - (xa + (xb - xa) * t)) <= tol;
}

/*
 * ladder_coeffs' segments, lane by lane, on the octaves o[0..n) (a vector
 * of lanes per sample): every lane decides for itself, as ladder_coeffs
 * decides for its voice, and lanes set in `exact` (coef_per_sample) never
 * interpolate.  A segment is computed one way only when all its lanes
 * agree, else both ways and each lane takes its own.
 */
LINE void
LN(coeffs)(const LN(v) *o, unsigned n, LN(v) pi_over_rate, LN(vi) exact,
    LN(v) tol, LN(v) *G, LN(v) *H, LN(v) *C2)
{
	LN(exact)(o[0], pi_over_rate, &G[0], &H[0], &C2[0]);
	for (unsigned a = 0; a + 1 < n; ) {
		unsigned len = n - 1 - a < LADDER_SEG ? n - 1 - a : LADDER_SEG;
		unsigned b = a + len, mid = a + len / 2;
		float inv = 1.0f / (float)len;
		LN(v) d = o[b] - o[a];
		LN(vi) smooth = ~exact;

		/* ladder_seg_straight */
		for (unsigned j = a + 1; j < b; j++) {
			LN(v) line = o[a] + d * ((float)(j - a) * inv);
			smooth &= LANES(abs)(o[j] - line) <= tol;
		}
		if (!LANES(any)(smooth)) {
			for (unsigned j = a + 1; j <= b; j++)
				LN(exact)(o[j], pi_over_rate, &G[j], &H[j],
				    &C2[j]);
			a = b;
			continue;
		}
		LN(v) gm, hm, cm;
		float tm = (float)(mid - a) * inv;
		LN(exact)(o[b], pi_over_rate, &G[b], &H[b], &C2[b]);
		LN(exact)(o[mid], pi_over_rate, &gm, &hm, &cm);
		smooth &= LN(near)(G[a], gm, G[b], tm, tol * gm) &
		    LN(near)(H[a], hm, H[b], tm, tol * hm) &
		    LN(near)(C2[a], cm, C2[b], tm, tol * 2.0f);
		int all = LANES(all)(smooth), none = !LANES(any)(smooth);
		for (unsigned j = a + 1; j < b; j++) {
			float t = (float)(j - a) * inv;
			LN(v) g = G[a] + (G[b] - G[a]) * t;
			LN(v) h = H[a] + (H[b] - H[a]) * t;
			LN(v) c2 = C2[a] + (C2[b] - C2[a]) * t;
			if (all) {
				G[j] = g;
				H[j] = h;
				C2[j] = c2;
				continue;
			}
			LN(exact)(o[j], pi_over_rate, &G[j], &H[j], &C2[j]);
			if (!none) {
				G[j] = LN(select)(smooth, g, G[j]);
				H[j] = LN(select)(smooth, h, H[j]);
				C2[j] = LN(select)(smooth, c2, C2[j]);
			}
		}
		a = b;
	}
}

/* A glide_param in every lane, and which lanes step it. */
struct LN(glide) {
	LN(v) base, cur, target, coef;
	LN(vi) stepping;
};

/* Lane l of *g from p. */
LINE void
LN(glide_load)(struct LN(glide) *g, unsigned l, const struct glide_param *p)
{
	g->base[l] = p->base;
	g->cur[l] = p->d.cur;
	g->target[l] = p->d.target;
	g->coef[l] = p->d.coef;
}

/* glide_param_next in every lane. */
LINE LN(v)
LN(glide_next)(struct LN(glide) *g)
{
	return g->base + LN(smooth)(&g->cur, g->target, g->coef);
}

/*
 * The cutoff of a group, lane by lane: what ladder_coeffs (a varying lane)
 * or ladder_settled_coeffs (a settled one) takes of each voice, at `os`
 * times the rate (1: the linear path, LADDER_OS: the driven one).
 */
struct LN(cut) {
	struct LN(glide) oct;   /* the cutoff parameter, octaves */
	LN(v) depth, lo, hi, pi_over_rate;
	LN(vi) vary;            /* lanes with coefficients per sample */
	LN(vi) per_sample;      /* lanes never interpolated (coef_per_sample) */
	LN(v) Gc, Hc, C2c;      /* the coefficients of the settled lanes */
	int any_varying;
	const float *pp[LADDER_LW], *mp[LADDER_LW];   /* pitch, mod */
};

/* Lane l of *cut from the voice fv (varying: ladder_run's flag). */
LINE void
LN(cut_load)(struct LN(cut) *cut, unsigned l, const struct ladder *fv,
    int varying, unsigned os, const float *pitch, const float *mod)
{
	if (l == 0) {
		LN(v) zero = LN(splat)(0.0f);
		cut->oct.base = cut->oct.cur = cut->oct.target = zero;
		cut->oct.coef = zero;
		cut->oct.stepping = cut->vary = cut->per_sample = (LN(vi))zero;
		cut->Gc = cut->Hc = cut->C2c = zero;
		cut->any_varying = 0;
	}
	if (varying) {
		cut->vary[l] = -1;
		cut->any_varying = 1;
	} else {
		float G, H, c2;
		ladder_settled_coeffs(fv, os, &G, &H, &c2);
		cut->Gc[l] = G;
		cut->Hc[l] = H;
		cut->C2c[l] = c2;
	}
	LN(glide_load)(&cut->oct, l, &fv->oct);
	cut->depth[l] = fv->depth;
	cut->per_sample[l] = fv->coef_per_sample ? -1 : 0;
	cut->lo[l] = fv->oct_lo;
	cut->hi[l] = fv->oct_hi;
	/* as ladder_run and ladder_run_os pass it to ladder_coeffs */
	cut->pi_over_rate[l] = os == 1 ? fv->pi_over_rate :
	    fv->pi_over_rate / LADDER_OS;
	cut->pp[l] = pitch;
	cut->mp[l] = mod;
}

/*
 * The coefficients of the chunk of m samples from `done` into G, H and C2
 * (a vector of lanes per sample), when any lane varies: ladder_coeffs, lane
 * by lane, with tol its tolerance (from k where the chunk starts); settled
 * lanes get their block's coefficients.  Steps the cutoff's glide.
 */
LINE void
LN(cut_chunk)(struct LN(cut) *cut, unsigned done, unsigned m, LN(v) tol,
    LN(v) *G, LN(v) *H, LN(v) *C2)
{
	LN(v) o[LADDER_CHUNK];

	/* ladder_coeffs: the cutoff glides in this chunk or not */
	cut->oct.stepping = cut->vary & (cut->oct.cur != cut->oct.target);
	int any_oct = LANES(any)(cut->oct.stepping);
	for (unsigned j = 0; j < m; j++) {
		unsigned i = done + j;
		LN(v) v = cut->oct.base;
		if (any_oct)
			v = LN(select)(cut->oct.stepping,
			    LN(glide_next)(&cut->oct), v);
		if (cut->pp[0] != NULL)
			v += LANES(gather)(cut->pp, i);
		if (cut->mp[0] != NULL)
			v += cut->depth * LANES(gather)(cut->mp, i);
		o[j] = LN(clamp)(v, cut->lo, cut->hi);
	}
	LN(coeffs)(o, m, cut->pi_over_rate, cut->per_sample, tol, G, H, C2);
	if (!LANES(all)(cut->vary))
		for (unsigned j = 0; j < m; j++) {
			G[j] = LN(select)(cut->vary, G[j], cut->Gc);
			H[j] = LN(select)(cut->vary, H[j], cut->Hc);
			C2[j] = LN(select)(cut->vary, C2[j], cut->C2c);
		}
}

/* Sample j's coefficients of the chunk that cut_chunk wrote into Gt, Ht
 * and Ct, or the settled ones when no lane varies (it wrote none then). */
LINE void
LN(cut_at)(const struct LN(cut) *cut, const LN(v) *Gt, const LN(v) *Ht,
    const LN(v) *Ct, unsigned j, LN(v) *G, LN(v) *H, LN(v) *c2)
{
	*G = cut->any_varying ? Gt[j] : cut->Gc;
	*H = cut->any_varying ? Ht[j] : cut->Hc;
	*c2 = cut->any_varying ? Ct[j] : cut->C2c;
}

/* Lane l's cutoff glide back to its voice. */
LINE void
LN(cut_store)(const struct LN(cut) *cut, unsigned l, struct ladder *fv)
{
	if (cut->vary[l])
		fv->oct.d.cur = cut->oct.cur[l];
}

/*
 * ladder_run's loop, without a start, on the voices f[0..used) in lanes
 * 0..used (used <= LADDER_LW): x, pitch, mod, y and varying (ladder_run's
 * flag) per voice; an input is NULL in every voice or in none.  Lanes from
 * `used` on repeat voice 0 and their results are thrown away.
 *
 * A varying lane's coefficients are ladder_coeffs' arithmetic, lane by
 * lane, for a chunk of LADDER_CHUNK samples ahead of its sample loop (which
 * decides, as ladder_coeffs does, whether the cutoff glides in the chunk,
 * and segment by segment whether to interpolate), all lanes of a sample in
 * one vector, so nothing needs transposing.
 */
static LADDER_LATTR void
LN(run)(struct ladder *const *f, unsigned used, const float *const *x,
    const float *const *pitch, const float *const *mod, float *const *y,
    const int *varying, unsigned n)
{
	LN(v) zero = LN(splat)(0.0f);
	LN(v) y1 = zero, y2 = zero, y3 = zero, y4 = zero;
	LN(v) w1 = zero, w2 = zero, w3 = zero, w4 = zero, ya = zero, yb = zero;
	LADDER_LVU noise = (LADDER_LVU)(LN(vi))zero;
	/* ladder_run's k and gain */
	LN(v) k = zero, gain = zero;
	struct LN(cut) cut;
	struct LN(glide) kg, comp;
	int any_gliding = 0;
	const float *xp[LADDER_LW];
	/* the chunk's coefficients, ahead of its sample loop, and its
	 * output, a vector of lanes per sample */
	LN(v) Gt[LADDER_CHUNK], Ht[LADDER_CHUNK], Ct[LADDER_CHUNK];
	LN(v) Yt[LADDER_CHUNK];

	kg.stepping = comp.stepping = (LN(vi))zero;
	kg.base = kg.cur = kg.target = kg.coef = zero;
	comp.base = comp.cur = comp.target = comp.coef = zero;
	for (unsigned l = 0; l < LADDER_LW; l++) {
		unsigned v = l < used ? l : 0;
		struct ladder *fv = f[v];
		int glides = smoother_moving(&fv->k.d) ||
		    smoother_moving(&fv->c.d) || smoother_moving(&fv->comp.d);

		y1[l] = fv->y[0]; y2[l] = fv->y[1];
		y3[l] = fv->y[2]; y4[l] = fv->y[3];
		w1[l] = fv->w[0]; w2[l] = fv->w[1];
		w3[l] = fv->w[2]; w4[l] = fv->w[3];
		ya[l] = fv->ya;
		yb[l] = fv->yb;
		noise[l] = fv->noise;
		k[l] = fv->k.base;
		gain[l] = 1.0f + fv->comp.base * k[l];
		if (glides) {   /* this block starts from where they are now */
			k[l] += fv->k.d.cur;
			gain[l] = 1.0f + (fv->comp.base + fv->comp.d.cur) * k[l];
		}
		/* ladder_run steps these glides where coefficients vary */
		if (varying[v] && glides) {
			kg.stepping[l] = comp.stepping[l] = -1;
			any_gliding = 1;
		}
		LN(cut_load)(&cut, l, fv, varying[v], 1, pitch[v], mod[v]);
		LN(glide_load)(&kg, l, &fv->k);
		LN(glide_load)(&comp, l, &fv->comp);
		xp[l] = x[v];
	}

	for (unsigned done = 0; done < n; done += LADDER_CHUNK) {
		unsigned m = n - done < LADDER_CHUNK ? n - done : LADDER_CHUNK;

		if (cut.any_varying)
			LN(cut_chunk)(&cut, done, m, LADDER_SEG_TOL *
			    (4.0f - (kg.base + kg.cur)), Gt, Ht, Ct);
		for (unsigned j = 0; j < m; j++) {
			unsigned i = done + j;
			LN(v) G, H, c2;

			LN(cut_at)(&cut, Gt, Ht, Ct, j, &G, &H, &c2);
			if (any_gliding) {
				LN(v) kn = LN(glide_next)(&kg);
				LN(v) gn = 1.0f + LN(glide_next)(&comp) * kn;
				k = LN(select)(kg.stepping, kn, k);
				gain = LN(select)(comp.stepping, gn, gain);
			}
			noise = noise * 1664525u + 1013904223u;
			LN(v) in = __builtin_convertvector((LN(vi))noise, LN(v)) *
			    (LADDER_NOISE / 2147483648.0f);
			if (xp[0] != NULL)
				in += gain * LANES(gather)(xp, i);

			/* from here on ladder_run's sample, lane by lane */
			LN(v) pred = c2 * ya - yb;
			LN(v) HG = H - G;
			LN(v) h1 = HG * y1 + G * w1, h2 = HG * y2 + G * w2;
			LN(v) h3 = HG * y3 + G * w3, h4 = HG * y4 + G * w4;
			LN(v) G2 = G * G, G3 = G2 * G, G4 = G2 * G2;
			LN(v) t1 = G * in + h1;
			LN(v) t2 = (G2 * in + G * h1) + h2;
			LN(v) t3 = (G3 * in + G2 * h1) + (G * h2 + h3);
			LN(v) t4 = (G3 * h1 + G2 * h2) +
			    (G * h3 + (G4 * in + h4));
			LN(v) kfb = LN(feedback)(t4, k, k * G4, pred);
			w1 = in - kfb;
			w2 = y1 = t1 - G * kfb;
			w3 = y2 = t2 - G2 * kfb;
			w4 = y3 = t3 - G3 * kfb;
			y4 = t4 - G4 * kfb;
			yb = ya;
			ya = y4;
			Yt[j] = y4;
		}
		LANES(rows_write)(Yt, m, used, y, done);
	}
	for (unsigned l = 0; l < used; l++) {
		struct ladder *fv = f[l];

		fv->y[0] = y1[l]; fv->y[1] = y2[l];
		fv->y[2] = y3[l]; fv->y[3] = y4[l];
		fv->w[0] = w1[l]; fv->w[1] = w2[l];
		fv->w[2] = w3[l]; fv->w[3] = w4[l];
		fv->ya = ya[l];
		fv->yb = yb[l];
		fv->noise = noise[l];
		LN(cut_store)(&cut, l, fv);
		if (kg.stepping[l] && n > 0) {
			fv->k.d.cur = kg.cur[l];
			fv->comp.d.cur = comp.cur[l];
			/* ladder_run steps c's glide too; at drive 0 it is
			 * settled, and one step leaves it as n steps do */
			(void)smoother_next(&fv->c.d);
		}
	}
}

#undef LINE
#undef LANES
#undef LN
