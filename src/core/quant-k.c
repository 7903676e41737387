/*
 * quant-k.c: ggml's k-quants, super-blocks of 256 elements in sub-blocks
 * of 16 or 32 with their own small scales: Q2_K, Q3_K, Q4_K, Q5_K and Q6_K
 * (ggml-common.h block_q*_K, ggml-quants.c dequantize_row_q*_K).
 */
#include "m40-int.h"

#include <math.h>
#include <string.h>

#include "quant.h"

M40I_VECTORIZE

#define QK_K 256

struct block_q2_k {
	uint8_t scales[QK_K / 16]; /* per 16: scale in the low nibble, min in the high */
	uint8_t qs[QK_K / 4];      /* 2-bit quants */
	uint16_t d, dmin;          /* scale of the scales, scale of the mins */
};
struct block_q3_k {
	uint8_t hmask[QK_K / 8];   /* third bit of each quant, set means +4 */
	uint8_t qs[QK_K / 4];      /* low 2 bits */
	uint8_t scales[12];        /* 16 6-bit scales, offset by 32 */
	uint16_t d;
};
struct block_q4_k {
	uint16_t d, dmin;
	uint8_t scales[12];        /* 8 6-bit scales and 8 6-bit mins */
	uint8_t qs[QK_K / 2];
};
struct block_q5_k {
	uint16_t d, dmin;
	uint8_t scales[12];
	uint8_t qh[QK_K / 8];      /* fifth bits */
	uint8_t qs[QK_K / 2];
};
struct block_q6_k {
	uint8_t ql[QK_K / 2];      /* low 4 bits */
	uint8_t qh[QK_K / 4];      /* high 2 bits */
	int8_t scales[QK_K / 16];
	uint16_t d;
};
_Static_assert(sizeof(struct block_q2_k) == 84, "q2_K block");
_Static_assert(sizeof(struct block_q3_k) == 110, "q3_K block");
_Static_assert(sizeof(struct block_q4_k) == 144, "q4_K block");
_Static_assert(sizeof(struct block_q5_k) == 176, "q5_K block");
_Static_assert(sizeof(struct block_q6_k) == 210, "q6_K block");

/*
 * Q2_K: sub-block s (16 elements) takes its 2-bit quants from bit pair
 * (s % 8) / 2 of 16 bytes of qs; y = d * scale - dmin * min.
 */
M40I_INLINE void decode_q2_k(const void *src, float *restrict y, int64_t nb)
{
	M40I_EXACT_BODY
	const struct block_q2_k *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK_K) {
		float d = m40i_half_to_float(b[i].d), dmin = m40i_half_to_float(b[i].dmin);

		for (int s = 0; s < 16; s++) {
			const uint8_t *q = b[i].qs + 32 * (s / 8) + 16 * (s % 2);
			int shift = 2 * ((s % 8) / 2);
			float dl = d * (b[i].scales[s] & 15), ml = dmin * (b[i].scales[s] >> 4);

			for (int l = 0; l < 16; l++)
				y[16 * s + l] = dl * ((q[l] >> shift) & 3) - ml;
		}
	}
}

/* The 16 6-bit scales of Q3_K: low 4 bits in bytes 0-7, the top 2 in 8-11. */
M40I_INLINE void q3_k_scales(const uint8_t packed[12], int8_t sc[16])
{
	const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
	uint32_t aux[4], tmp;

	memcpy(aux, packed, 12);
	tmp = aux[2];
	aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
	aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
	aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
	aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
	memcpy(sc, aux, 16);
}

/* Q3_K: as Q2_K for the low bits; a clear hmask bit subtracts 4. */
M40I_INLINE void decode_q3_k(const void *src, float *restrict y, int64_t nb)
{
	M40I_EXACT_BODY
	const struct block_q3_k *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK_K) {
		float d = m40i_half_to_float(b[i].d);
		int8_t sc[16];

		q3_k_scales(b[i].scales, sc);
		for (int s = 0; s < 16; s++) {
			int n = s / 8, j = (s % 8) / 2, h = s % 2;
			const uint8_t *q = b[i].qs + 32 * n + 16 * h;
			const uint8_t *hm = b[i].hmask + 16 * h;
			int bit = 4 * n + j;
			float dl = d * (sc[s] - 32);

			for (int l = 0; l < 16; l++)
				y[16 * s + l] = dl * (((q[l] >> (2 * j)) & 3) - 4 * (~hm[l] >> bit & 1));
		}
	}
}

/* Scale and min j (0-7) of Q4_K and Q5_K, 6 bits each. */
M40I_INLINE void scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m)
{
	if (j < 4) {
		*sc = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
		*m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
	}
}

/* Q4_K: 64 elements per 32 bytes of qs, low nibbles first;
 * y = d * scale * q - dmin * min per sub-block of 32. */
M40I_INLINE void decode_q4_k(const void *src, float *restrict y, int64_t nb)
{
	M40I_EXACT_BODY
	const struct block_q4_k *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK_K) {
		float d = m40i_half_to_float(b[i].d), dmin = m40i_half_to_float(b[i].dmin);

		for (int j = 0; j < 4; j++) {
			const uint8_t *q = b[i].qs + 32 * j;
			uint8_t sc1, m1, sc2, m2;
			float d1, d2, min1, min2;

			scale_min_k4(2 * j, b[i].scales, &sc1, &m1);
			scale_min_k4(2 * j + 1, b[i].scales, &sc2, &m2);
			d1 = d * sc1, min1 = dmin * m1;
			d2 = d * sc2, min2 = dmin * m2;
			for (int l = 0; l < 32; l++) {
				y[64 * j + l] = d1 * (q[l] & 15) - min1;
				y[64 * j + 32 + l] = d2 * (q[l] >> 4) - min2;
			}
		}
	}
}

/* Q5_K: Q4_K with a fifth bit, bit 2j (low) or 2j+1 (high) of qh[l]. */
M40I_INLINE void decode_q5_k(const void *src, float *restrict y, int64_t nb)
{
	M40I_EXACT_BODY
	const struct block_q5_k *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK_K) {
		float d = m40i_half_to_float(b[i].d), dmin = m40i_half_to_float(b[i].dmin);

		for (int j = 0; j < 4; j++) {
			const uint8_t *q = b[i].qs + 32 * j, *qh = b[i].qh;
			uint8_t sc1, m1, sc2, m2;
			float d1, d2, min1, min2;

			scale_min_k4(2 * j, b[i].scales, &sc1, &m1);
			scale_min_k4(2 * j + 1, b[i].scales, &sc2, &m2);
			d1 = d * sc1, min1 = dmin * m1;
			d2 = d * sc2, min2 = dmin * m2;
			for (int l = 0; l < 32; l++) {
				int lo = (q[l] & 15) | (qh[l] >> (2 * j) & 1) << 4;
				int hi = (q[l] >> 4) | (qh[l] >> (2 * j + 1) & 1) << 4;
				y[64 * j + l] = d1 * lo - min1;
				y[64 * j + 32 + l] = d2 * hi - min2;
			}
		}
	}
}

/* Q6_K: each half (128 elements) takes 64 bytes of ql and 32 of qh; four
 * runs of 32 elements with 8-bit scales per 16; y = d * scale * (q - 32). */
M40I_INLINE void decode_q6_k(const void *src, float *restrict y, int64_t nb)
{
	M40I_EXACT_BODY
	const struct block_q6_k *b = src;

	for (int64_t i = 0; i < nb; i++) {
		float d = m40i_half_to_float(b[i].d);

		for (int n = 0; n < 2; n++, y += 128) {
			const uint8_t *ql = b[i].ql + 64 * n, *qh = b[i].qh + 32 * n;
			const int8_t *sc = b[i].scales + 8 * n;

			for (int half = 0; half < 2; half++) { /* 16 elements share a scale */
				float d1 = d * sc[half], d2 = d * sc[half + 2];
				float d3 = d * sc[half + 4], d4 = d * sc[half + 6];

				for (int l = 16 * half; l < 16 * half + 16; l++) {
					int q1 = ((ql[l] & 15) | (qh[l] & 3) << 4) - 32;
					int q2 = ((ql[l + 32] & 15) | (qh[l] >> 2 & 3) << 4) - 32;
					int q3 = ((ql[l] >> 4) | (qh[l] >> 4 & 3) << 4) - 32;
					int q4 = ((ql[l + 32] >> 4) | (qh[l] >> 6 & 3) << 4) - 32;
					y[l] = d1 * q1;
					y[l + 32] = d2 * q2;
					y[l + 64] = d3 * q3;
					y[l + 96] = d4 * q4;
				}
			}
		}
	}
}

/* ---- ggml's reference quantizers for Q4_K, Q5_K, Q6_K (no importance matrix) ---- */

/* Round to nearest, ties to even, as ggml does (|f| < 2^22). */
static int nearest_int(float f)
{
	float v = f + 12582912.f; /* 1.5 * 2^23 */
	int32_t i;

	memcpy(&i, &v, sizeof i);
	return (i & 0x007fffff) - 0x00400000;
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * Q4_K's sub-block fit (ggml make_qkx2_quants): levels L in 0..nmax with
 * x ~ scale * L - the_min, weighted least squares over nstep+1 trial
 * scales around nmax / (max - min).
 */
M40I_EXACT static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights,
					 uint8_t *L, float *the_min, uint8_t *Laux,
					 float rmin, float rdelta, int nstep)
{
	M40I_EXACT_BODY
	float min = x[0], max = x[0], sum_w = weights[0], sum_x = sum_w * x[0];
	float iscale, scale, best_error = 0;

	for (int i = 1; i < n; i++) {
		if (x[i] < min)
			min = x[i];
		if (x[i] > max)
			max = x[i];
		sum_w += weights[i];
		sum_x += weights[i] * x[i];
	}
	if (min > 0)
		min = 0;
	if (max == min) {
		memset(L, 0, (size_t)n);
		*the_min = -min;
		return 0.f;
	}
	iscale = nmax / (max - min);
	scale = 1 / iscale;
	for (int i = 0; i < n; i++) {
		int l = nearest_int(iscale * (x[i] - min));
		float diff;
		L[i] = (uint8_t)clampi(l, 0, nmax);
		diff = scale * L[i] + min - x[i];
		best_error += weights[i] * (diff * diff);
	}
	for (int is = 0; is <= nstep; is++) {
		float sum_l = 0, sum_l2 = 0, sum_xl = 0, D;

		iscale = (rmin + rdelta * is + nmax) / (max - min);
		for (int i = 0; i < n; i++) {
			int l = clampi(nearest_int(iscale * (x[i] - min)), 0, nmax);
			float w = weights[i];
			Laux[i] = (uint8_t)l;
			sum_l += w * l;
			sum_l2 += w * l * l;
			sum_xl += w * l * x[i];
		}
		D = sum_w * sum_l2 - sum_l * sum_l;
		if (D > 0) {
			float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
			float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
			float cur_error = 0;

			if (this_min > 0) {
				this_min = 0;
				this_scale = sum_xl / sum_l2;
			}
			for (int i = 0; i < n; i++) {
				float diff = this_scale * Laux[i] + this_min - x[i];
				cur_error += weights[i] * (diff * diff);
			}
			if (cur_error < best_error) {
				memcpy(L, Laux, (size_t)n);
				best_error = cur_error;
				scale = this_scale;
				min = this_min;
			}
		}
	}
	*the_min = -min;
	return scale;
}

/*
 * Q4_K and Q5_K (ggml quantize_row_q4_K_ref / _q5_K_ref): fit each sub-block
 * of 32 with levels 0..nmax, store the fits' scales and mins as 6-bit
 * multiples of d and dmin, then requantize with the stored values.  L gets
 * the levels, for the caller to pack.
 */
M40I_EXACT static void quantize_k4(const float *x, int nmax, float rmin, int nstep, uint16_t *d_out,
				   uint16_t *dmin_out, uint8_t scales_out[12], uint8_t L[QK_K])
{
	M40I_EXACT_BODY
	uint8_t Laux[32];
	float weights[32], mins[8], scales[8], max_scale = 0, max_min = 0, inv_scale, inv_min;
	float d, dmin;

	for (int j = 0; j < 8; j++) {
		float sum_x2 = 0, av_x;
		for (int l = 0; l < 32; l++)
			sum_x2 += x[32 * j + l] * x[32 * j + l];
		av_x = sqrtf(sum_x2 / 32);
		for (int l = 0; l < 32; l++)
			weights[l] = av_x + fabsf(x[32 * j + l]);
		scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j],
					     Laux, rmin, 0.1f, nstep);
		if (scales[j] > max_scale)
			max_scale = scales[j];
		if (mins[j] > max_min)
			max_min = mins[j];
	}
	inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
	inv_min = max_min > 0 ? 63.f / max_min : 0.f;
	for (int j = 0; j < 8; j++) {
		uint8_t ls = (uint8_t)clampi(nearest_int(inv_scale * scales[j]), 0, 63);
		uint8_t lm = (uint8_t)clampi(nearest_int(inv_min * mins[j]), 0, 63);
		if (j < 4) {
			scales_out[j] = ls;
			scales_out[j + 4] = lm;
		} else {
			scales_out[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
			scales_out[j - 4] |= (uint8_t)((ls >> 4) << 6);
			scales_out[j] |= (uint8_t)((lm >> 4) << 6);
		}
	}
	*d_out = m40_fp32_to_fp16(max_scale / 63.f);
	*dmin_out = m40_fp32_to_fp16(max_min / 63.f);
	d = m40_fp16_to_fp32(*d_out);
	dmin = m40_fp16_to_fp32(*dmin_out);
	for (int j = 0; j < 8; j++) {
		uint8_t sc, m;
		float dl, dm;
		scale_min_k4(j, scales_out, &sc, &m);
		dl = d * sc;
		if (!dl)
			continue;
		dm = dmin * m;
		for (int ii = 0; ii < 32; ii++)
			L[32 * j + ii] = (uint8_t)clampi(nearest_int((x[32 * j + ii] + dm) / dl), 0, nmax);
	}
}

static void quantize_q4_k(const float *x, void *dst, int64_t nb)
{
	struct block_q4_k *b = dst;

	for (int64_t i = 0; i < nb; i++, x += QK_K) {
		uint8_t L[QK_K];

		quantize_k4(x, 15, -1.f, 20, &b[i].d, &b[i].dmin, b[i].scales, L);
		for (int j = 0; j < QK_K; j += 64)
			for (int l = 0; l < 32; l++)
				b[i].qs[j / 2 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
	}
}

static void quantize_q5_k(const float *x, void *dst, int64_t nb)
{
	struct block_q5_k *b = dst;

	for (int64_t i = 0; i < nb; i++, x += QK_K) {
		uint8_t L[QK_K];

		quantize_k4(x, 31, -0.5f, 15, &b[i].d, &b[i].dmin, b[i].scales, L);
		memset(b[i].qh, 0, sizeof b[i].qh);
		for (int j = 0; j < QK_K; j += 64)
			for (int l = 0; l < 32; l++) {
				int l1 = L[j + l], l2 = L[j + l + 32];
				b[i].qh[l] |= (uint8_t)((l1 >> 4) << (j / 32) | (l2 >> 4) << (j / 32 + 1));
				b[i].qs[j / 2 + l] = (uint8_t)((l1 & 15) | (l2 & 15) << 4);
			}
	}
}

/* Q6_K's sub-block fit (ggml make_qx_quants, rmse_type 1, no weights):
 * signed levels in -nmax..nmax-1, L = level + nmax. */
M40I_EXACT static float make_qx_quants(int n, int nmax, const float *x, uint8_t *L)
{
	M40I_EXACT_BODY
	float max = 0, amax = 0, iscale, sumlx = 0, suml2 = 0, scale, best;

	for (int i = 0; i < n; i++)
		if (fabsf(x[i]) > amax) {
			amax = fabsf(x[i]);
			max = x[i];
		}
	if (amax < 1e-15f) { /* GROUP_MAX_EPS */
		memset(L, 0, (size_t)n);
		return 0.f;
	}
	iscale = -nmax / max;
	for (int i = 0; i < n; i++) {
		int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
		float w = x[i] * x[i];
		L[i] = (uint8_t)(l + nmax);
		sumlx += w * x[i] * l;
		suml2 += w * l * l;
	}
	scale = suml2 ? sumlx / suml2 : 0.0f;
	best = scale * sumlx;
	for (int is = -9; is <= 9; is++) {
		if (is == 0)
			continue;
		iscale = -(nmax + 0.1f * is) / max;
		sumlx = suml2 = 0;
		for (int i = 0; i < n; i++) {
			int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
			float w = x[i] * x[i];
			sumlx += w * x[i] * l;
			suml2 += w * l * l;
		}
		if (suml2 > 0 && sumlx * sumlx > best * suml2) {
			for (int i = 0; i < n; i++)
				L[i] = (uint8_t)(nmax + clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1));
			scale = sumlx / suml2;
			best = scale * sumlx;
		}
	}
	return scale;
}

M40I_EXACT static void quantize_q6_k(const float *x, void *dst, int64_t nb)
{
	M40I_EXACT_BODY
	struct block_q6_k *b = dst;

	for (int64_t i = 0; i < nb; i++, x += QK_K) {
		uint8_t L[QK_K];
		float scales[16], max_scale = 0, max_abs_scale = 0, iscale;

		for (int ib = 0; ib < 16; ib++) {
			scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
			if (fabsf(scales[ib]) > max_abs_scale) {
				max_abs_scale = fabsf(scales[ib]);
				max_scale = scales[ib];
			}
		}
		if (max_abs_scale < 1e-15f) {
			memset(&b[i], 0, sizeof b[i]);
			continue;
		}
		iscale = -128.f / max_scale;
		b[i].d = m40_fp32_to_fp16(1 / iscale);
		for (int ib = 0; ib < 16; ib++) {
			int v = nearest_int(iscale * scales[ib]);
			b[i].scales[ib] = (int8_t)(v < 127 ? v : 127);
		}
		for (int j = 0; j < 16; j++) {
			float d = m40_fp16_to_fp32(b[i].d) * b[i].scales[j];
			if (!d)
				continue;
			for (int ii = 0; ii < 16; ii++)
				L[16 * j + ii] = (uint8_t)(clampi(nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
		}
		for (int j = 0; j < QK_K; j += 128)
			for (int l = 0; l < 32; l++) {
				const uint8_t *q = L + j + l;
				b[i].ql[j / 2 + l] = (uint8_t)((q[0] & 15) | (q[64] & 15) << 4);
				b[i].ql[j / 2 + l + 32] = (uint8_t)((q[32] & 15) | (q[96] & 15) << 4);
				b[i].qh[j / 4 + l] = (uint8_t)((q[0] >> 4) | (q[32] >> 4) << 2 |
							       (q[64] >> 4) << 4 | (q[96] >> 4) << 6);
			}
	}
}

#ifdef M40I_HAVE_AVX2
/* The 8 scales and 8 mins of a Q4_K/Q5_K block times d and dmin, as floats
 * (scale_min_k4 for all j at once, ggml's utmp shuffle). */
M40I_TARGET_AVX2 static inline void k4_scales(const uint8_t packed[12], float d, float dmin,
					      float sc[8], float mn[8])
{
	const uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
	uint32_t u[4], lo_mins;
	uint8_t bytes[16];

	memcpy(u, packed, 12);
	u[3] = ((u[2] >> 4) & kmask2) | (((u[1] >> 6) & kmask3) << 4);
	lo_mins = u[1] & kmask1;
	u[1] = (u[2] & kmask2) | (((u[0] >> 6) & kmask3) << 4);
	u[2] = lo_mins;
	u[0] &= kmask1;
	memcpy(bytes, u, 16); /* scales 0-7, then mins 0-7 */
	_mm256_storeu_ps(sc, _mm256_mul_ps(m40i_u8x8_ps(bytes), _mm256_set1_ps(d)));
	_mm256_storeu_ps(mn, _mm256_mul_ps(m40i_u8x8_ps(bytes + 8), _mm256_set1_ps(dmin)));
}

/* The 16 int8 scales of a Q6_K block times d, as floats. */
M40I_TARGET_AVX2 static inline void k6_scales(const int8_t scales[16], float d, float sc[16])
{
	_mm256_storeu_ps(sc, _mm256_mul_ps(m40i_i8x8_ps(scales), _mm256_set1_ps(d)));
	_mm256_storeu_ps(sc + 8, _mm256_mul_ps(m40i_i8x8_ps(scales + 8), _mm256_set1_ps(d)));
}

/* Q4_K, AVX2: the 256 nibbles as bytes in element order. */
M40I_TARGET_AVX2 static inline void q4_k_unpack(const struct block_q4_k *b, uint8_t q[QK_K])
{
	const __m256i low4 = _mm256_set1_epi8(15);

	for (int j = 0; j < 4; j++) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * j));
		_mm256_store_si256((__m256i *)(q + 64 * j), _mm256_and_si256(v, low4));
		_mm256_store_si256((__m256i *)(q + 64 * j + 32), _mm256_and_si256(_mm256_srli_epi16(v, 4), low4));
	}
}

/* Q4_K dot, AVX2: per sub-block of 32, w = d*sc * q - dmin*m, acc += w * x. */
M40I_TARGET_AVX2 static float q4_k_dot_fused(const void *row, const float *x, int64_t n)
{
	const struct block_q4_k *b = row;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;

	for (int64_t i = 0; i < n / QK_K; i++) {
		float d = m40i_half_to_float(b[i].d), dmin = m40i_half_to_float(b[i].dmin);
		uint8_t q[QK_K] __attribute__((aligned(32)));
		float sc[8], mn[8];

		M40I_PREFETCH(b + i, sizeof *b);
		q4_k_unpack(b + i, q);
		k4_scales(b[i].scales, d, dmin, sc, mn);
		for (int s = 0; s < 8; s++, x += 32) {
			__m256 vd = _mm256_broadcast_ss(sc + s), vm = _mm256_broadcast_ss(mn + s);
			M40I_ACC_BLOCK32(m40i_u8x8_ps, q + 32 * s, M40I_SCALE_SUBMIN);
		}
	}
	return m40i_hsum_avx2(acc0, acc1, acc2, acc3);
}

/* Q4_K decoder for the AVX2 multi-row kernels. */
M40I_TARGET_AVX2 static inline void decode_q4_k_avx2(const void *src, float *restrict y, int64_t nb)
{
	const struct block_q4_k *b = src;

	for (int64_t i = 0; i < nb; i++) {
		float d = m40i_half_to_float(b[i].d), dmin = m40i_half_to_float(b[i].dmin);
		uint8_t q[QK_K] __attribute__((aligned(32)));
		float sc[8], mn[8];

		q4_k_unpack(b + i, q);
		k4_scales(b[i].scales, d, dmin, sc, mn);
		for (int s = 0; s < 8; s++) {
			__m256 vd = _mm256_broadcast_ss(sc + s), vm = _mm256_broadcast_ss(mn + s);
			for (int k = 0; k < 32; k += 8, y += 8)
				_mm256_storeu_ps(y, M40I_SCALE_SUBMIN(m40i_u8x8_ps(q + 32 * s + k)));
		}
	}
}

/* Q6_K, AVX2: the four 6-bit runs of each half as signed bytes q - 32. */
M40I_TARGET_AVX2 static inline void q6_k_unpack(const struct block_q6_k *b, int8_t q[QK_K])
{
	const __m256i low4 = _mm256_set1_epi8(15), bits45 = _mm256_set1_epi8(0x30);
	const __m256i off = _mm256_set1_epi8(32);

	for (int h = 0; h < 2; h++) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h));
		__m256i c = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32));
		__m256i hi = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
		/* the high bit pairs moved to bits 4-5 of each byte */
		__m256i h0 = _mm256_and_si256(_mm256_slli_epi16(hi, 4), bits45);
		__m256i h1 = _mm256_and_si256(_mm256_slli_epi16(hi, 2), bits45);
		__m256i h2 = _mm256_and_si256(hi, bits45);
		__m256i h3 = _mm256_and_si256(_mm256_srli_epi16(hi, 2), bits45);
		__m256i q1 = _mm256_or_si256(_mm256_and_si256(a, low4), h0);
		__m256i q2 = _mm256_or_si256(_mm256_and_si256(c, low4), h1);
		__m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), low4), h2);
		__m256i q4 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(c, 4), low4), h3);
		int8_t *o = q + 128 * h;
		_mm256_store_si256((__m256i *)o, _mm256_sub_epi8(q1, off));
		_mm256_store_si256((__m256i *)(o + 32), _mm256_sub_epi8(q2, off));
		_mm256_store_si256((__m256i *)(o + 64), _mm256_sub_epi8(q3, off));
		_mm256_store_si256((__m256i *)(o + 96), _mm256_sub_epi8(q4, off));
	}
}

/* Q6_K dot, AVX2: w = d*sc * q per 16, acc += w * x. */
M40I_TARGET_AVX2 static float q6_k_dot_fused(const void *row, const float *x, int64_t n)
{
	const struct block_q6_k *b = row;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;

	for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
		float d = m40i_half_to_float(b[i].d);
		int8_t q[QK_K] __attribute__((aligned(32)));
		float sc[16];

		M40I_PREFETCH(b + i, sizeof *b);
		q6_k_unpack(b + i, q);
		k6_scales(b[i].scales, d, sc);
		for (int s = 0; s < 16; s += 2) {
			const int8_t *qs = q + 16 * s;
			const float *xs = x + 16 * s;
			__m256 d0 = _mm256_broadcast_ss(sc + s), d1 = _mm256_broadcast_ss(sc + s + 1);

			acc0 = _mm256_fmadd_ps(_mm256_mul_ps(m40i_i8x8_ps(qs), d0), _mm256_loadu_ps(xs), acc0);
			acc1 = _mm256_fmadd_ps(_mm256_mul_ps(m40i_i8x8_ps(qs + 8), d0), _mm256_loadu_ps(xs + 8), acc1);
			acc2 = _mm256_fmadd_ps(_mm256_mul_ps(m40i_i8x8_ps(qs + 16), d1), _mm256_loadu_ps(xs + 16), acc2);
			acc3 = _mm256_fmadd_ps(_mm256_mul_ps(m40i_i8x8_ps(qs + 24), d1), _mm256_loadu_ps(xs + 24), acc3);
		}
	}
	return m40i_hsum_avx2(acc0, acc1, acc2, acc3);
}

/* Q6_K dot, AVX-512: one vector per 16 elements that share a scale. */
M40I_TARGET_AVX512 static float q6_k_dot_fused512(const void *row, const float *x, int64_t n)
{
	const struct block_q6_k *b = row;
	__m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;

	for (int64_t i = 0; i < n / QK_K; i++) {
		float d = m40i_half_to_float(b[i].d);
		int8_t q[QK_K] __attribute__((aligned(32)));
		float sc[16];

		M40I_PREFETCH(b + i, sizeof *b);
		q6_k_unpack(b + i, q);
		k6_scales(b[i].scales, d, sc);
		for (int s = 0; s < 16; s += 4, x += 64) {
			const int8_t *qs = q + 16 * s;
			acc0 = _mm512_fmadd_ps(_mm512_mul_ps(m40i_i8x16_ps512(qs), _mm512_set1_ps(sc[s])),
					       _mm512_loadu_ps(x), acc0);
			acc1 = _mm512_fmadd_ps(_mm512_mul_ps(m40i_i8x16_ps512(qs + 16), _mm512_set1_ps(sc[s + 1])),
					       _mm512_loadu_ps(x + 16), acc1);
			acc2 = _mm512_fmadd_ps(_mm512_mul_ps(m40i_i8x16_ps512(qs + 32), _mm512_set1_ps(sc[s + 2])),
					       _mm512_loadu_ps(x + 32), acc2);
			acc3 = _mm512_fmadd_ps(_mm512_mul_ps(m40i_i8x16_ps512(qs + 48), _mm512_set1_ps(sc[s + 3])),
					       _mm512_loadu_ps(x + 48), acc3);
		}
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

/* Q6_K decoder for the AVX2 multi-row kernels. */
M40I_TARGET_AVX2 static inline void decode_q6_k_avx2(const void *src, float *restrict y, int64_t nb)
{
	const struct block_q6_k *b = src;

	for (int64_t i = 0; i < nb; i++) {
		float d = m40i_half_to_float(b[i].d);
		int8_t q[QK_K] __attribute__((aligned(32)));
		float sc[16];

		q6_k_unpack(b + i, q);
		k6_scales(b[i].scales, d, sc);
		for (int s = 0; s < 16; s++, y += 16) {
			__m256 vd = _mm256_broadcast_ss(sc + s);
			_mm256_storeu_ps(y, M40I_SCALE(m40i_i8x8_ps(q + 16 * s)));
			_mm256_storeu_ps(y + 8, M40I_SCALE(m40i_i8x8_ps(q + 16 * s + 8)));
		}
	}
}

/* Q4_K dot, AVX-512: as the AVX2 one, 16 elements a vector. */
M40I_TARGET_AVX512 static float q4_k_dot_fused512(const void *row, const float *x, int64_t n)
{
	const struct block_q4_k *b = row;
	__m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;

	for (int64_t i = 0; i < n / QK_K; i++) {
		float d = m40i_half_to_float(b[i].d), dmin = m40i_half_to_float(b[i].dmin);
		uint8_t q[QK_K] __attribute__((aligned(32)));
		float sc[8], mn[8];

		M40I_PREFETCH(b + i, sizeof *b);
		q4_k_unpack(b + i, q);
		k4_scales(b[i].scales, d, dmin, sc, mn);
		for (int s = 0; s < 8; s += 2, x += 64) {
			__m512 d0 = _mm512_set1_ps(sc[s]), m0 = _mm512_set1_ps(mn[s]);
			__m512 d1 = _mm512_set1_ps(sc[s + 1]), m1 = _mm512_set1_ps(mn[s + 1]);
			const uint8_t *qs = q + 32 * s;

			acc0 = _mm512_fmadd_ps(_mm512_fmsub_ps(m40i_u8x16_ps512(qs), d0, m0), _mm512_loadu_ps(x), acc0);
			acc1 = _mm512_fmadd_ps(_mm512_fmsub_ps(m40i_u8x16_ps512(qs + 16), d0, m0), _mm512_loadu_ps(x + 16), acc1);
			acc2 = _mm512_fmadd_ps(_mm512_fmsub_ps(m40i_u8x16_ps512(qs + 32), d1, m1), _mm512_loadu_ps(x + 32), acc2);
			acc3 = _mm512_fmadd_ps(_mm512_fmsub_ps(m40i_u8x16_ps512(qs + 48), d1, m1), _mm512_loadu_ps(x + 48), acc3);
		}
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

/* Q5_K, AVX2: Q4_K's bytes with the fifth bits added as 16 where qh has them. */
M40I_TARGET_AVX2 static inline void q5_k_unpack(const struct block_q5_k *b, uint8_t q[QK_K])
{
	const __m256i low4 = _mm256_set1_epi8(15), sixteen = _mm256_set1_epi8(16), zero = _mm256_setzero_si256();
	__m256i qh = _mm256_loadu_si256((const __m256i *)b->qh);

	for (int j = 0; j < 4; j++) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * j));
		__m256i h1 = _mm256_cmpeq_epi8(_mm256_and_si256(qh, _mm256_set1_epi8((char)(1 << 2 * j))), zero);
		__m256i h2 = _mm256_cmpeq_epi8(_mm256_and_si256(qh, _mm256_set1_epi8((char)(2 << 2 * j))), zero);
		_mm256_store_si256((__m256i *)(q + 64 * j),
				   _mm256_or_si256(_mm256_and_si256(v, low4), _mm256_andnot_si256(h1, sixteen)));
		_mm256_store_si256((__m256i *)(q + 64 * j + 32),
				   _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), low4),
						   _mm256_andnot_si256(h2, sixteen)));
	}
}

M40I_TARGET_AVX2 static float q5_k_dot_fused(const void *row, const float *x, int64_t n)
{
	const struct block_q5_k *b = row;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;

	for (int64_t i = 0; i < n / QK_K; i++) {
		float d = m40i_half_to_float(b[i].d), dmin = m40i_half_to_float(b[i].dmin);
		uint8_t q[QK_K] __attribute__((aligned(32)));
		float sc[8], mn[8];

		M40I_PREFETCH(b + i, sizeof *b);
		q5_k_unpack(b + i, q);
		k4_scales(b[i].scales, d, dmin, sc, mn);
		for (int s = 0; s < 8; s++, x += 32) {
			__m256 vd = _mm256_broadcast_ss(sc + s), vm = _mm256_broadcast_ss(mn + s);
			M40I_ACC_BLOCK32(m40i_u8x8_ps, q + 32 * s, M40I_SCALE_SUBMIN);
		}
	}
	return m40i_hsum_avx2(acc0, acc1, acc2, acc3);
}

M40I_TARGET_AVX2 static inline void decode_q5_k_avx2(const void *src, float *restrict y, int64_t nb)
{
	const struct block_q5_k *b = src;

	for (int64_t i = 0; i < nb; i++) {
		float d = m40i_half_to_float(b[i].d), dmin = m40i_half_to_float(b[i].dmin);
		uint8_t q[QK_K] __attribute__((aligned(32)));
		float sc[8], mn[8];

		q5_k_unpack(b + i, q);
		k4_scales(b[i].scales, d, dmin, sc, mn);
		for (int s = 0; s < 8; s++) {
			__m256 vd = _mm256_broadcast_ss(sc + s), vm = _mm256_broadcast_ss(mn + s);
			for (int k = 0; k < 32; k += 8, y += 8)
				_mm256_storeu_ps(y, M40I_SCALE_SUBMIN(m40i_u8x8_ps(q + 32 * s + k)));
		}
	}
}

/* Bit pairs of 2-bit quants as bytes: byte 32*(4n+j) + l of q is bit pair j
 * of qs[32n + l], the element order of Q2_K and Q3_K. */
M40I_TARGET_AVX2 static inline __m256i bit_pair(__m256i v, int j)
{
	return _mm256_and_si256(_mm256_srli_epi16(v, 2 * j), _mm256_set1_epi8(3));
}

/* Q3_K, AVX2: the quants as signed bytes, bit pairs minus 4 where hmask
 * lacks the bit, and the 16 scales times d as floats. */
M40I_TARGET_AVX2 static inline void q3_k_unpack(const struct block_q3_k *b, int8_t q[QK_K], float dsc[16])
{
	const __m256i four = _mm256_set1_epi8(4), zero = _mm256_setzero_si256();
	__m256i hm = _mm256_loadu_si256((const __m256i *)b->hmask);
	float d = m40i_half_to_float(b->d);
	int8_t sc[16];

	for (int h = 0; h < 2; h++) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * h));
		for (int j = 0; j < 4; j++) {
			__m256i bit = _mm256_set1_epi8((char)(1 << (4 * h + j)));
			__m256i clear = _mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), zero);
			_mm256_store_si256((__m256i *)(q + 128 * h + 32 * j),
					   _mm256_sub_epi8(bit_pair(v, j), _mm256_and_si256(clear, four)));
		}
	}
	q3_k_scales(b->scales, sc);
	for (int s = 0; s < 16; s++)
		dsc[s] = d * (sc[s] - 32);
}

/* Q3_K dot, AVX2: w = d * (sc - 32) * q per 16, acc += w * x. */
M40I_TARGET_AVX2 static float q3_k_dot_fused(const void *row, const float *x, int64_t n)
{
	const struct block_q3_k *b = row;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;

	for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
		int8_t q[QK_K] __attribute__((aligned(32)));
		float sc[16];

		M40I_PREFETCH(b + i, sizeof *b);
		q3_k_unpack(b + i, q, sc);
		for (int s = 0; s < 16; s += 2) {
			const int8_t *qs = q + 16 * s;
			const float *xs = x + 16 * s;
			__m256 d0 = _mm256_broadcast_ss(sc + s), d1 = _mm256_broadcast_ss(sc + s + 1);

			acc0 = _mm256_fmadd_ps(_mm256_mul_ps(m40i_i8x8_ps(qs), d0), _mm256_loadu_ps(xs), acc0);
			acc1 = _mm256_fmadd_ps(_mm256_mul_ps(m40i_i8x8_ps(qs + 8), d0), _mm256_loadu_ps(xs + 8), acc1);
			acc2 = _mm256_fmadd_ps(_mm256_mul_ps(m40i_i8x8_ps(qs + 16), d1), _mm256_loadu_ps(xs + 16), acc2);
			acc3 = _mm256_fmadd_ps(_mm256_mul_ps(m40i_i8x8_ps(qs + 24), d1), _mm256_loadu_ps(xs + 24), acc3);
		}
	}
	return m40i_hsum_avx2(acc0, acc1, acc2, acc3);
}

M40I_TARGET_AVX2 static inline void decode_q3_k_avx2(const void *src, float *restrict y, int64_t nb)
{
	const struct block_q3_k *b = src;

	for (int64_t i = 0; i < nb; i++) {
		int8_t q[QK_K] __attribute__((aligned(32)));
		float sc[16];

		q3_k_unpack(b + i, q, sc);
		for (int s = 0; s < 16; s++, y += 16) {
			__m256 vd = _mm256_broadcast_ss(sc + s);
			_mm256_storeu_ps(y, M40I_SCALE(m40i_i8x8_ps(q + 16 * s)));
			_mm256_storeu_ps(y + 8, M40I_SCALE(m40i_i8x8_ps(q + 16 * s + 8)));
		}
	}
}

/* Q2_K, AVX2: the bit pairs as bytes, scales and mins times d, dmin. */
M40I_TARGET_AVX2 static inline void q2_k_unpack(const struct block_q2_k *b, uint8_t q[QK_K],
						float dsc[16], float dmn[16])
{
	float d = m40i_half_to_float(b->d), dmin = m40i_half_to_float(b->dmin);

	for (int h = 0; h < 2; h++) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * h));
		for (int j = 0; j < 4; j++)
			_mm256_store_si256((__m256i *)(q + 128 * h + 32 * j), bit_pair(v, j));
	}
	for (int s = 0; s < 16; s++) {
		dsc[s] = d * (b->scales[s] & 15);
		dmn[s] = dmin * (b->scales[s] >> 4);
	}
}

/* Q2_K dot, AVX2: w = d*sc * q - dmin*m per 16, acc += w * x. */
M40I_TARGET_AVX2 static float q2_k_dot_fused(const void *row, const float *x, int64_t n)
{
	const struct block_q2_k *b = row;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;

	for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
		uint8_t q[QK_K] __attribute__((aligned(32)));
		float sc[16], mn[16];

		M40I_PREFETCH(b + i, sizeof *b);
		q2_k_unpack(b + i, q, sc, mn);
		for (int s = 0; s < 16; s += 2) {
			const uint8_t *qs = q + 16 * s;
			const float *xs = x + 16 * s;
			__m256 d0 = _mm256_broadcast_ss(sc + s), m0 = _mm256_broadcast_ss(mn + s);
			__m256 d1 = _mm256_broadcast_ss(sc + s + 1), m1 = _mm256_broadcast_ss(mn + s + 1);

			acc0 = _mm256_fmadd_ps(_mm256_fmsub_ps(m40i_u8x8_ps(qs), d0, m0), _mm256_loadu_ps(xs), acc0);
			acc1 = _mm256_fmadd_ps(_mm256_fmsub_ps(m40i_u8x8_ps(qs + 8), d0, m0), _mm256_loadu_ps(xs + 8), acc1);
			acc2 = _mm256_fmadd_ps(_mm256_fmsub_ps(m40i_u8x8_ps(qs + 16), d1, m1), _mm256_loadu_ps(xs + 16), acc2);
			acc3 = _mm256_fmadd_ps(_mm256_fmsub_ps(m40i_u8x8_ps(qs + 24), d1, m1), _mm256_loadu_ps(xs + 24), acc3);
		}
	}
	return m40i_hsum_avx2(acc0, acc1, acc2, acc3);
}

M40I_TARGET_AVX2 static inline void decode_q2_k_avx2(const void *src, float *restrict y, int64_t nb)
{
	const struct block_q2_k *b = src;

	for (int64_t i = 0; i < nb; i++) {
		uint8_t q[QK_K] __attribute__((aligned(32)));
		float sc[16], mn[16];

		q2_k_unpack(b + i, q, sc, mn);
		for (int s = 0; s < 16; s++, y += 16) {
			__m256 vd = _mm256_broadcast_ss(sc + s), vm = _mm256_broadcast_ss(mn + s);
			_mm256_storeu_ps(y, M40I_SCALE_SUBMIN(m40i_u8x8_ps(q + 16 * s)));
			_mm256_storeu_ps(y + 8, M40I_SCALE_SUBMIN(m40i_u8x8_ps(q + 16 * s + 8)));
		}
	}
}
#endif

#define K_FORMAT(name, TYPE, KERNELS, DECODE_AVX2, QUANTIZE) \
	M40I_EXACT static void dequantize_##name(const void *src, float *y, int64_t nb) \
	{ \
		M40I_EXACT_BODY \
		decode_##name(src, y, nb); \
	} \
	M40I_FORMAT_KERNELS2(name, decode_##name, DECODE_AVX2, QK_K, sizeof(struct block_##name)) \
	const struct m40i_format m40i_format_##name = { \
		.type = M40_TYPE_##TYPE, \
		.block_size = QK_K, \
		.block_bytes = sizeof(struct block_##name), \
		.dequantize = dequantize_##name, \
		.quantize = QUANTIZE, \
		.kernels = KERNELS(name), \
	};
#ifndef M40I_HAVE_AVX2
#define decode_q2_k_avx2 decode_q2_k
#define decode_q3_k_avx2 decode_q3_k
#define decode_q4_k_avx2 decode_q4_k
#define decode_q5_k_avx2 decode_q5_k
#define decode_q6_k_avx2 decode_q6_k
#endif
K_FORMAT(q2_k, Q2_K, M40I_KERNELS_FUSED, decode_q2_k_avx2, NULL)
K_FORMAT(q3_k, Q3_K, M40I_KERNELS_FUSED, decode_q3_k_avx2, NULL)
K_FORMAT(q4_k, Q4_K, M40I_KERNELS_FUSED512, decode_q4_k_avx2, quantize_q4_k)
K_FORMAT(q5_k, Q5_K, M40I_KERNELS_FUSED, decode_q5_k_avx2, quantize_q5_k)
K_FORMAT(q6_k, Q6_K, M40I_KERNELS_FUSED512, decode_q6_k_avx2, quantize_q6_k)
