/*
 * dsp/ladder_drive_lanes.h — the ladder's lane kernel for the driven path
 * (drive > 0, dsp/ladder.c ladder_run_os): 4 or 8 voices at once, each a
 * lane, bit-identical to ladder_process.
 *
 * Everything ladder_run_os does is plain float arithmetic, so a lane runs
 * the very operations its voice would, in the same order: the halfband
 * resamplers (one allpass state vector per section), the stage saturators
 * (ladder_ratio and ladder_ratio_asym, their branches as selects), the
 * loop's solution (ladder_feedback) and the DC blocker, in double as the
 * scalar code keeps it (a vector of doubles per lane group).
 *
 * Not a header of its own: dsp/ladder.c includes it once per vector type,
 * after dsp/ladder_lanes.h (whose helpers it uses), with the same macros.
 */
#ifndef LADDER_LV
#error "dsp/ladder_drive_lanes.h is included by dsp/ladder.c, with LADDER_LV set"
#endif

#define LN(name) LADDER_LFN(ladder_lanes_##name)
#define LANES(name) LANES_FN(name, LADDER_LW)
#define LINE static inline __attribute__((always_inline)) LADDER_LATTR

/* Doubles, one a lane (the DC blocker's state). */
typedef LADDER_LVD LN(vd);

/* Lane by lane a > b ? a : b (MAXPS on x86, which returns b for a NaN). */
LINE LN(v)
LN(max)(LN(v) a, LN(v) b)
{
#if defined(__x86_64__) && LADDER_LW == 8
	return _mm256_max_ps(a, b);
#elif defined(__x86_64__)
	return _mm_max_ps(a, b);
#else
	return LN(select)(a > b, a, b);
#endif
}

/* ladder_ratio in every lane. */
LINE LN(v)
LN(ratio)(LN(v) x)
{
	LN(v) xc = LN(clamp)(x, LN(splat)(-3.0f), LN(splat)(3.0f));
	LN(v) x2 = xc * xc;
	LN(v) m = LANES(abs)(x) * (1.0f / 3.0f);
	return (27.0f + x2) / ((27.0f + 9.0f * x2) *
	    LN(max)(m, LN(splat)(1.0f)));
}

/* struct ladder_asym in every lane. */
struct LN(asym) {
	LN(v) b, b2, kb;
};

/* ladder_asym_make in every lane. */
LINE struct LN(asym)
LN(asym_make)(LN(v) b)
{
	struct LN(asym) a;
	LN(v) b2 = b * b, nb = 9.0f - b2;

	a.b = b;
	a.b2 = b2;
	a.kb = (27.0f + 9.0f * b2) / (9.0f * nb * nb);
	return a;
}

/* ladder_ratio_asym in every lane. */
LINE LN(v)
LN(ratio_asym)(LN(v) x, const struct LN(asym) *a)
{
	LN(v) one = LN(splat)(1.0f);
	LN(v) u = x + a->b;
	LN(v) uc = LN(clamp)(u, LN(splat)(-3.0f), LN(splat)(3.0f));
	LN(v) u2 = uc * uc;
	LN(vi) clipped = LANES(abs)(u) > 3.0f;
	LN(v) xe = LN(select)(clipped, uc - a->b, one);
	LN(v) xd = LN(select)(clipped, x, one);
	LN(v) num = 729.0f - 216.0f * uc * a->b + 27.0f * (u2 + a->b2) +
	    9.0f * u2 * a->b2;
	return (num * a->kb * xe) / ((27.0f + 9.0f * u2) * xd);
}

/* struct ladder_hb in every lane. */
struct LN(hb) {
	LN(v) x1[LADDER_HB1_N], y1[LADDER_HB1_N];
	LN(v) held;
};

/* Lane l of *h from the voice's halfband *s, or back. */
LINE void
LN(hb_load)(struct LN(hb) *h, unsigned l, const struct ladder_hb *s)
{
	for (unsigned i = 0; i < LADDER_HB1_N; i++) {
		h->x1[i][l] = s->x1[i];
		h->y1[i][l] = s->y1[i];
	}
	h->held[l] = s->held;
}

LINE void
LN(hb_store)(const struct LN(hb) *h, unsigned l, struct ladder_hb *s)
{
	for (unsigned i = 0; i < LADDER_HB1_N; i++) {
		s->x1[i] = h->x1[i][l];
		s->y1[i] = h->y1[i][l];
	}
	s->held = h->held[l];
}

/* ladder_hb_chain in every lane. */
LINE LN(v)
LN(hb_chain)(struct LN(hb) *h, const float *c, unsigned n, unsigned first,
    LN(v) v)
{
	for (unsigned s = first; s < n; s += 2) {
		LN(v) y = c[s] * (v - h->y1[s]) + h->x1[s];
		h->x1[s] = v;
		h->y1[s] = y;
		v = y;
	}
	return v;
}

/* ladder_hb_up in every lane. */
LINE void
LN(hb_up)(struct LN(hb) *h, const float *c, unsigned n, LN(v) x, LN(v) *out)
{
	out[0] = LN(hb_chain)(h, c, n, 0, x);
	out[1] = LN(hb_chain)(h, c, n, 1, x);
}

/* ladder_hb_down in every lane. */
LINE LN(v)
LN(hb_down)(struct LN(hb) *h, const float *c, unsigned n, const LN(v) *in)
{
	LN(v) a = LN(hb_chain)(h, c, n, 0, in[0]);
	LN(v) b = LN(hb_chain)(h, c, n, 1, h->held);
	h->held = in[1];
	return 0.5f * (a + b);
}

/* One input sample (v: times the comp gain) up to LADDER_OS subsamples. */
LINE void
LN(os_up)(struct LN(hb) *up1, struct LN(hb) *up2, LN(v) v, LN(v) *xs)
{
	LN(v) t[2];

	LN(hb_up)(up1, ladder_hb1, LADDER_HB1_N, v, t);
	LN(hb_up)(up2, ladder_hb2, LADDER_HB2_N, t[0], &xs[0]);
	LN(hb_up)(up2, ladder_hb2, LADDER_HB2_N, t[1], &xs[2]);
}

/* The driven path's per-voice state, lane by lane. */
struct LN(drive) {
	LN(v) y1, y2, y3, y4, w1, w2, w3, w4;
	LN(v) va1, va2, va3, va4, vb1, vb2, vb3, vb4;
	LN(v) ya, yb;
	LADDER_LVU noise;
	struct LN(hb) up1, up2, down2, down1;
	LN(vd) dc, dc_coef;
};

/*
 * ladder_run_os's loop, without a start, on the voices f[0..used) in lanes
 * 0..used (used <= LADDER_LW), with the constant flag `asym` the same in
 * every voice (ladder_asym_on): x, pitch, mod, y and varying (its flag)
 * per voice; an input is NULL in every voice or in none.  Lanes from `used`
 * on repeat voice 0 and their results are thrown away.  The coefficients
 * come as in LN(run) (dsp/ladder_lanes.h), at LADDER_OS times the rate.
 *
 * Where a lane's parameters glide (k, c, comp, asym: only where its
 * coefficients vary, as in ladder_run_os), each input sample steps them
 * and is upsampled inside the sample loop with its own gain, as the scalar
 * code does; else the chunk's input is upsampled ahead of the loop.
 */
LINE void
LN(drive_body)(struct ladder *const *f, unsigned used, const float *const *x,
    const float *const *pitch, const float *const *mod, float *const *y,
    const int *varying, unsigned n, int asym)
{
	LN(v) zero = LN(splat)(0.0f);
	struct LN(drive) s;
	/* ladder_run_os's k, c, comp gain and asym, per lane */
	LN(v) k = zero, c = zero, gain = zero, b = zero;
	struct LN(asym) as;
	struct LN(cut) cut;
	struct LN(glide) kg, cg, comp, ag;
	LN(vi) gliding = (LN(vi))zero;
	int any_gliding = 0;
	const float *xp[LADDER_LW];
	/* the chunk's coefficients, its input and output at LADDER_OS times
	 * the rate, and its output at the rate: a vector of lanes a sample */
	LN(v) Gt[LADDER_CHUNK], Ht[LADDER_CHUNK], Ct[LADDER_CHUNK];
	LN(v) xs[LADDER_OS * LADDER_CHUNK], ys[LADDER_OS * LADDER_CHUNK];
	LN(v) Yt[LADDER_CHUNK];

	memset(&s, 0, sizeof s);
	memset(&kg, 0, sizeof kg);
	memset(&cg, 0, sizeof cg);
	memset(&comp, 0, sizeof comp);
	memset(&ag, 0, sizeof ag);
	for (unsigned l = 0; l < LADDER_LW; l++) {
		unsigned v = l < used ? l : 0;
		struct ladder *fv = f[v];
		int glides = smoother_moving(&fv->k.d) ||
		    smoother_moving(&fv->c.d) ||
		    smoother_moving(&fv->comp.d) ||
		    smoother_moving(&fv->asym.d);

		s.y1[l] = fv->y[0]; s.y2[l] = fv->y[1];
		s.y3[l] = fv->y[2]; s.y4[l] = fv->y[3];
		s.w1[l] = fv->w[0]; s.w2[l] = fv->w[1];
		s.w3[l] = fv->w[2]; s.w4[l] = fv->w[3];
		s.va1[l] = fv->va[0]; s.va2[l] = fv->va[1];
		s.va3[l] = fv->va[2]; s.va4[l] = fv->va[3];
		s.vb1[l] = fv->vb[0]; s.vb2[l] = fv->vb[1];
		s.vb3[l] = fv->vb[2]; s.vb4[l] = fv->vb[3];
		s.ya[l] = fv->ya;
		s.yb[l] = fv->yb;
		s.noise[l] = fv->noise;
		LN(hb_load)(&s.up1, l, &fv->up1);
		LN(hb_load)(&s.up2, l, &fv->up2);
		LN(hb_load)(&s.down2, l, &fv->down2);
		LN(hb_load)(&s.down1, l, &fv->down1);
		s.dc[l] = fv->dc;
		s.dc_coef[l] = fv->dc_coef;
		k[l] = fv->k.base;
		c[l] = fv->c.base;
		b[l] = fv->asym.base;
		gain[l] = 1.0f + fv->comp.base * k[l];
		if (glides) {   /* this block starts from where they are now */
			k[l] += fv->k.d.cur;
			c[l] += fv->c.d.cur;
			b[l] += fv->asym.d.cur;
			gain[l] = 1.0f + (fv->comp.base + fv->comp.d.cur) * k[l];
		}
		/* ladder_run_os steps them where coefficients vary */
		if (varying[v] && glides) {
			gliding[l] = -1;
			any_gliding = 1;
		}
		LN(cut_load)(&cut, l, fv, varying[v], LADDER_OS, pitch[v],
		    mod[v]);
		LN(glide_load)(&kg, l, &fv->k);
		LN(glide_load)(&cg, l, &fv->c);
		LN(glide_load)(&comp, l, &fv->comp);
		LN(glide_load)(&ag, l, &fv->asym);
		xp[l] = x[v];
	}
	as = LN(asym_make)(b);

	for (unsigned done = 0; done < n; done += LADDER_CHUNK) {
		unsigned m = n - done < LADDER_CHUNK ? n - done : LADDER_CHUNK;

		if (cut.any_varying)
			LN(cut_chunk)(&cut, done, m, LADDER_SEG_TOL *
			    (4.0f - (kg.base + kg.cur)), Gt, Ht, Ct);
		if (!any_gliding)   /* the input, upsampled ahead of the loop */
			for (unsigned j = 0; j < m; j++)
				LN(os_up)(&s.up1, &s.up2, xp[0] != NULL ?
				    gain * LANES(gather)(xp, done + j) : zero,
				    &xs[LADDER_OS * j]);
		for (unsigned j = 0; j < m; j++) {
			LN(v) G, H, c2;

			LN(cut_at)(&cut, Gt, Ht, Ct, j, &G, &H, &c2);
			if (any_gliding) {
				LN(v) kn = LN(glide_next)(&kg);
				LN(v) cn = LN(glide_next)(&cg);
				LN(v) gn = 1.0f + LN(glide_next)(&comp) * kn;
				k = LN(select)(gliding, kn, k);
				c = LN(select)(gliding, cn, c);
				gain = LN(select)(gliding, gn, gain);
				if (asym) {
					struct LN(asym) an = LN(asym_make)(
					    LN(glide_next)(&ag));
					as.b = LN(select)(gliding, an.b, as.b);
					as.b2 = LN(select)(gliding, an.b2,
					    as.b2);
					as.kb = LN(select)(gliding, an.kb,
					    as.kb);
				}
				LN(os_up)(&s.up1, &s.up2, xp[0] != NULL ?
				    gain * LANES(gather)(xp, done + j) : zero,
				    &xs[LADDER_OS * j]);
			}
			for (unsigned q = 0; q < LADDER_OS; q++) {
				unsigned i = LADDER_OS * j + q;
#define LADDER_R(v) (asym ? LN(ratio_asym)((v), &as) : LN(ratio)(v))
				/* from here on ladder_run_os's subsample,
				 * lane by lane */
				s.noise = s.noise * 1664525u + 1013904223u;
				LN(v) in = xs[i] + __builtin_convertvector(
				    (LN(vi))s.noise, LN(v)) *
				    (LADDER_NOISE / 2147483648.0f);
				LN(v) pred = c2 * s.ya - s.yb;
				LN(v) HG = H - G;
				LN(v) h1 = HG * s.y1 + G * s.w1;
				LN(v) h2 = HG * s.y2 + G * s.w2;
				LN(v) h3 = HG * s.y3 + G * s.w3;
				LN(v) h4 = HG * s.y4 + G * s.w4;
				LN(v) r1 = LADDER_R(c * (c2 * s.va1 - s.vb1));
				LN(v) r2 = LADDER_R(c * (c2 * s.va2 - s.vb2));
				LN(v) r3 = LADDER_R(c * (c2 * s.va3 - s.vb3));
				LN(v) r4 = LADDER_R(c * (c2 * s.va4 - s.vb4));
				LN(v) g1 = G * r1, g2 = G * r2;
				LN(v) g3 = G * r3, g4 = G * r4;
				LN(v) g34 = g3 * g4, g234 = g2 * g34;
				LN(v) a = g1 * g234;
				LN(v) bb = (g234 * h1 + g34 * h2) +
				    (g4 * h3 + h4);
				LN(v) u = in - LN(feedback)(a * in + bb, k,
				    k * a, pred);
				s.vb1 = s.va1; s.va1 = u;
				s.w1 = u * LADDER_R(c * u);
				s.y1 = G * s.w1 + h1;
				s.vb2 = s.va2; s.va2 = s.y1;
				s.w2 = s.y1 * LADDER_R(c * s.y1);
				s.y2 = G * s.w2 + h2;
				s.vb3 = s.va3; s.va3 = s.y2;
				s.w3 = s.y2 * LADDER_R(c * s.y2);
				s.y3 = G * s.w3 + h3;
				s.vb4 = s.va4; s.va4 = s.y3;
				s.w4 = s.y3 * LADDER_R(c * s.y3);
				s.y4 = G * s.w4 + h4;
				s.yb = s.ya;
				s.ya = s.y4;
				ys[i] = s.y4;
#undef LADDER_R
			}
		}
		/* down to the rate, and the DC taken off (in double) */
		for (unsigned j = 0; j < m; j++) {
			LN(v) t[2];
			t[0] = LN(hb_down)(&s.down2, ladder_hb2, LADDER_HB2_N,
			    &ys[LADDER_OS * j]);
			t[1] = LN(hb_down)(&s.down2, ladder_hb2, LADDER_HB2_N,
			    &ys[LADDER_OS * j + 2]);
			LN(vd) v = __builtin_convertvector(LN(hb_down)(&s.down1,
			    ladder_hb1, LADDER_HB1_N, t), LN(vd));
			s.dc += s.dc_coef * (v - s.dc);
			Yt[j] = __builtin_convertvector(v - s.dc, LN(v));
		}
		LANES(rows_write)(Yt, m, used, y, done);
	}
	for (unsigned l = 0; l < used; l++) {
		struct ladder *fv = f[l];

		fv->y[0] = s.y1[l]; fv->y[1] = s.y2[l];
		fv->y[2] = s.y3[l]; fv->y[3] = s.y4[l];
		fv->w[0] = s.w1[l]; fv->w[1] = s.w2[l];
		fv->w[2] = s.w3[l]; fv->w[3] = s.w4[l];
		fv->va[0] = s.va1[l]; fv->va[1] = s.va2[l];
		fv->va[2] = s.va3[l]; fv->va[3] = s.va4[l];
		fv->vb[0] = s.vb1[l]; fv->vb[1] = s.vb2[l];
		fv->vb[2] = s.vb3[l]; fv->vb[3] = s.vb4[l];
		fv->ya = s.ya[l];
		fv->yb = s.yb[l];
		fv->noise = s.noise[l];
		LN(hb_store)(&s.up1, l, &fv->up1);
		LN(hb_store)(&s.up2, l, &fv->up2);
		LN(hb_store)(&s.down2, l, &fv->down2);
		LN(hb_store)(&s.down1, l, &fv->down1);
		fv->dc = s.dc[l];
		LN(cut_store)(&cut, l, fv);
		if (gliding[l] && n > 0) {
			fv->k.d.cur = kg.cur[l];
			fv->c.d.cur = cg.cur[l];
			fv->comp.d.cur = comp.cur[l];
			if (asym)
				fv->asym.d.cur = ag.cur[l];
		}
	}
}

/* The kernel, its saturators biased (asym) or not. */
static LADDER_LATTR void
LN(drive_run)(struct ladder *const *f, unsigned used, const float *const *x,
    const float *const *pitch, const float *const *mod, float *const *y,
    const int *varying, unsigned n, int asym)
{
	if (asym)
		LN(drive_body)(f, used, x, pitch, mod, y, varying, n, 1);
	else
		LN(drive_body)(f, used, x, pitch, mod, y, varying, n, 0);
}

#undef LINE
#undef LANES
#undef LN
