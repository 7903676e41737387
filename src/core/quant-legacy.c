/* quant-legacy.c: ggml's first block formats, 32 elements a block with one
 * FP16 scale: Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 (ggml-common.h, ggml-quants.c). */
#include "m40-int.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "quant.h"

M40I_VECTORIZE

#define QK 32

struct block_q4_0 {
	uint16_t d;       /* scale */
	uint8_t qs[QK / 2]; /* element j in the low nibble of qs[j], j+16 in the high */
};
struct block_q4_1 {
	uint16_t d, m;    /* scale and minimum */
	uint8_t qs[QK / 2];
};
struct block_q5_0 {
	uint16_t d;
	uint8_t qh[4];    /* bit j: fifth bit of element j */
	uint8_t qs[QK / 2];
};
struct block_q5_1 {
	uint16_t d, m;
	uint8_t qh[4];
	uint8_t qs[QK / 2];
};
struct block_q8_0 {
	uint16_t d;
	int8_t qs[QK];
};
_Static_assert(sizeof(struct block_q4_0) == 18, "q4_0 block");
_Static_assert(sizeof(struct block_q4_1) == 20, "q4_1 block");
_Static_assert(sizeof(struct block_q5_0) == 22, "q5_0 block");
_Static_assert(sizeof(struct block_q5_1) == 24, "q5_1 block");
_Static_assert(sizeof(struct block_q8_0) == 34, "q8_0 block");

/* ---- Q4_0: y = d * (q - 8) ---- */

M40I_INLINE void decode_q4_0(const void *src, float *restrict y, int64_t nb)
{
	M40I_EXACT_BODY
	const struct block_q4_0 *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK) {
		float d = m40i_half_to_float(b[i].d);

		for (int j = 0; j < QK / 2; j++) {
			y[j] = ((b[i].qs[j] & 15) - 8) * d;
			y[j + QK / 2] = ((b[i].qs[j] >> 4) - 8) * d;
		}
	}
}

M40I_EXACT static void dequantize_q4_0(const void *src, float *y, int64_t nb)
{
	M40I_EXACT_BODY
	decode_q4_0(src, y, nb);
}

/* The element of largest magnitude maps to -8. */
M40I_EXACT static void quantize_q4_0(const float *x, void *dst, int64_t nb)
{
	M40I_EXACT_BODY
	struct block_q4_0 *b = dst;

	for (int64_t i = 0; i < nb; i++, x += QK) {
		float amax = 0, max = 0, d, id;

		for (int j = 0; j < QK; j++)
			if (amax < fabsf(x[j])) {
				amax = fabsf(x[j]);
				max = x[j];
			}
		d = max / -8;
		id = d ? 1.0f / d : 0.0f;
		b[i].d = m40_fp32_to_fp16(d);
		for (int j = 0; j < QK / 2; j++) {
			int q0 = (int8_t)(x[j] * id + 8.5f);
			int q1 = (int8_t)(x[j + QK / 2] * id + 8.5f);
			q0 = q0 < 15 ? q0 : 15;
			q1 = q1 < 15 ? q1 : 15;
			b[i].qs[j] = (uint8_t)(q0 | q1 << 4);
		}
	}
}

/* ---- Q4_1: y = d * q + m ---- */

M40I_INLINE void decode_q4_1(const void *src, float *restrict y, int64_t nb)
{
	M40I_EXACT_BODY
	const struct block_q4_1 *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK) {
		float d = m40i_half_to_float(b[i].d), m = m40i_half_to_float(b[i].m);

		for (int j = 0; j < QK / 2; j++) {
			y[j] = (b[i].qs[j] & 15) * d + m;
			y[j + QK / 2] = (b[i].qs[j] >> 4) * d + m;
		}
	}
}

M40I_EXACT static void dequantize_q4_1(const void *src, float *y, int64_t nb)
{
	M40I_EXACT_BODY
	decode_q4_1(src, y, nb);
}

static void min_max(const float *x, int n, float *min, float *max)
{
	*min = FLT_MAX;
	*max = -FLT_MAX;
	for (int j = 0; j < n; j++) {
		if (x[j] < *min)
			*min = x[j];
		if (x[j] > *max)
			*max = x[j];
	}
}

M40I_EXACT static void quantize_q4_1(const float *x, void *dst, int64_t nb)
{
	M40I_EXACT_BODY
	struct block_q4_1 *b = dst;

	for (int64_t i = 0; i < nb; i++, x += QK) {
		float min, max, d, id;

		min_max(x, QK, &min, &max);
		d = (max - min) / 15;
		id = d ? 1.0f / d : 0.0f;
		b[i].d = m40_fp32_to_fp16(d);
		b[i].m = m40_fp32_to_fp16(min);
		for (int j = 0; j < QK / 2; j++) {
			int q0 = (int8_t)((x[j] - min) * id + 0.5f);
			int q1 = (int8_t)((x[j + QK / 2] - min) * id + 0.5f);
			q0 = q0 < 15 ? q0 : 15;
			q1 = q1 < 15 ? q1 : 15;
			b[i].qs[j] = (uint8_t)(q0 | q1 << 4);
		}
	}
}

/* ---- Q5_0: y = d * (q - 16) ---- */

M40I_INLINE void decode_q5_0(const void *src, float *restrict y, int64_t nb)
{
	M40I_EXACT_BODY
	const struct block_q5_0 *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK) {
		float d = m40i_half_to_float(b[i].d);
		uint32_t qh;

		memcpy(&qh, b[i].qh, sizeof qh);
		for (int j = 0; j < QK / 2; j++) {
			int lo = (b[i].qs[j] & 15) | (qh >> j & 1) << 4;
			int hi = (b[i].qs[j] >> 4) | (qh >> (j + QK / 2) & 1) << 4;
			y[j] = (lo - 16) * d;
			y[j + QK / 2] = (hi - 16) * d;
		}
	}
}

M40I_EXACT static void dequantize_q5_0(const void *src, float *y, int64_t nb)
{
	M40I_EXACT_BODY
	decode_q5_0(src, y, nb);
}

M40I_EXACT static void quantize_q5_0(const float *x, void *dst, int64_t nb)
{
	M40I_EXACT_BODY
	struct block_q5_0 *b = dst;

	for (int64_t i = 0; i < nb; i++, x += QK) {
		float amax = 0, max = 0, d, id;
		uint32_t qh = 0;

		for (int j = 0; j < QK; j++)
			if (amax < fabsf(x[j])) {
				amax = fabsf(x[j]);
				max = x[j];
			}
		d = max / -16;
		id = d ? 1.0f / d : 0.0f;
		b[i].d = m40_fp32_to_fp16(d);
		for (int j = 0; j < QK / 2; j++) {
			int q0 = (int8_t)(x[j] * id + 16.5f);
			int q1 = (int8_t)(x[j + QK / 2] * id + 16.5f);
			q0 = q0 < 31 ? q0 : 31;
			q1 = q1 < 31 ? q1 : 31;
			b[i].qs[j] = (uint8_t)((q0 & 15) | (q1 & 15) << 4);
			qh |= (uint32_t)(q0 >> 4 & 1) << j;
			qh |= (uint32_t)(q1 >> 4 & 1) << (j + QK / 2);
		}
		memcpy(b[i].qh, &qh, sizeof qh);
	}
}

/* ---- Q5_1: y = d * q + m ---- */

M40I_INLINE void decode_q5_1(const void *src, float *restrict y, int64_t nb)
{
	M40I_EXACT_BODY
	const struct block_q5_1 *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK) {
		float d = m40i_half_to_float(b[i].d), m = m40i_half_to_float(b[i].m);
		uint32_t qh;

		memcpy(&qh, b[i].qh, sizeof qh);
		for (int j = 0; j < QK / 2; j++) {
			int lo = (b[i].qs[j] & 15) | (qh >> j & 1) << 4;
			int hi = (b[i].qs[j] >> 4) | (qh >> (j + QK / 2) & 1) << 4;
			y[j] = lo * d + m;
			y[j + QK / 2] = hi * d + m;
		}
	}
}

M40I_EXACT static void dequantize_q5_1(const void *src, float *y, int64_t nb)
{
	M40I_EXACT_BODY
	decode_q5_1(src, y, nb);
}

M40I_EXACT static void quantize_q5_1(const float *x, void *dst, int64_t nb)
{
	M40I_EXACT_BODY
	struct block_q5_1 *b = dst;

	for (int64_t i = 0; i < nb; i++, x += QK) {
		float min, max, d, id;
		uint32_t qh = 0;

		min_max(x, QK, &min, &max);
		d = (max - min) / 31;
		id = d ? 1.0f / d : 0.0f;
		b[i].d = m40_fp32_to_fp16(d);
		b[i].m = m40_fp32_to_fp16(min);
		for (int j = 0; j < QK / 2; j++) {
			unsigned q0 = (uint8_t)((x[j] - min) * id + 0.5f);
			unsigned q1 = (uint8_t)((x[j + QK / 2] - min) * id + 0.5f);
			b[i].qs[j] = (uint8_t)((q0 & 15) | (q1 & 15) << 4);
			qh |= (q0 >> 4 & 1) << j;
			qh |= (q1 >> 4 & 1) << (j + QK / 2);
		}
		memcpy(b[i].qh, &qh, sizeof qh);
	}
}

/* ---- Q8_0: y = d * q ---- */

M40I_INLINE void decode_q8_0(const void *src, float *restrict y, int64_t nb)
{
	M40I_EXACT_BODY
	const struct block_q8_0 *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK) {
		float d = m40i_half_to_float(b[i].d);

		for (int j = 0; j < QK; j++)
			y[j] = b[i].qs[j] * d;
	}
}

M40I_EXACT static void dequantize_q8_0(const void *src, float *y, int64_t nb)
{
	M40I_EXACT_BODY
	decode_q8_0(src, y, nb);
}

M40I_EXACT static void quantize_q8_0(const float *x, void *dst, int64_t nb)
{
	M40I_EXACT_BODY
	struct block_q8_0 *b = dst;

	for (int64_t i = 0; i < nb; i++, x += QK) {
		float amax = 0, d, id;

		for (int j = 0; j < QK; j++)
			if (amax < fabsf(x[j]))
				amax = fabsf(x[j]);
		d = amax / 127;
		id = d ? 1.0f / d : 0.0f;
		b[i].d = m40_fp32_to_fp16(d);
		for (int j = 0; j < QK; j++)
			b[i].qs[j] = (int8_t)roundf(x[j] * id);
	}
}

#ifdef M40I_HAVE_AVX2
/* AVX2 dots: each block's 32 quants become 32 bytes in element order,
 * then w = (q - offset) * d or q * d + m, as the decoders compute it. */
/* The 32 nibbles of qs as bytes in element order. */
M40I_TARGET_AVX2 static inline __m256i nibbles32(const uint8_t *qs)
{
	__m128i v = _mm_loadu_si128((const __m128i *)qs), low4 = _mm_set1_epi8(15);

	return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), low4), _mm_and_si128(v, low4));
}

/* Bit j of the 32 bits at qh as 0x10 in byte j (ggml's bytes_from_bits_32). */
M40I_TARGET_AVX2 static inline __m256i fifth_bits32(const uint8_t *qh)
{
	uint32_t bits;
	__m256i v;

	memcpy(&bits, qh, sizeof bits);
	v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits),
				_mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
						  0x0101010101010101, 0x0000000000000000));
	v = _mm256_or_si256(v, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe)); /* all but bit j%8 */
	v = _mm256_cmpeq_epi8(v, _mm256_set1_epi64x(-1));
	return _mm256_and_si256(v, _mm256_set1_epi8(16));
}

M40I_TARGET_AVX2 static float q4_0_dot_fused(const void *row, const float *x, int64_t n)
{
	const struct block_q4_0 *b = row;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
	int8_t q[QK] __attribute__((aligned(32)));

	for (int64_t i = 0; i < n / QK; i++, x += QK) {
		M40I_PREFETCH(b + i, sizeof *b);
		__m256 vd = _mm256_set1_ps(m40i_half_to_float(b[i].d));
		_mm256_store_si256((__m256i *)q, _mm256_sub_epi8(nibbles32(b[i].qs), _mm256_set1_epi8(8)));
		M40I_ACC_BLOCK32(m40i_i8x8_ps, q, M40I_SCALE);
	}
	return m40i_hsum_avx2(acc0, acc1, acc2, acc3);
}

M40I_TARGET_AVX2 static float q4_1_dot_fused(const void *row, const float *x, int64_t n)
{
	const struct block_q4_1 *b = row;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
	uint8_t q[QK] __attribute__((aligned(32)));

	for (int64_t i = 0; i < n / QK; i++, x += QK) {
		M40I_PREFETCH(b + i, sizeof *b);
		__m256 vd = _mm256_set1_ps(m40i_half_to_float(b[i].d));
		__m256 vm = _mm256_set1_ps(m40i_half_to_float(b[i].m));
		_mm256_store_si256((__m256i *)q, nibbles32(b[i].qs));
		M40I_ACC_BLOCK32(m40i_u8x8_ps, q, M40I_SCALE_MIN);
	}
	return m40i_hsum_avx2(acc0, acc1, acc2, acc3);
}

M40I_TARGET_AVX2 static float q5_0_dot_fused(const void *row, const float *x, int64_t n)
{
	const struct block_q5_0 *b = row;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
	int8_t q[QK] __attribute__((aligned(32)));

	for (int64_t i = 0; i < n / QK; i++, x += QK) {
		M40I_PREFETCH(b + i, sizeof *b);
		__m256 vd = _mm256_set1_ps(m40i_half_to_float(b[i].d));
		__m256i v = _mm256_or_si256(nibbles32(b[i].qs), fifth_bits32(b[i].qh));
		_mm256_store_si256((__m256i *)q, _mm256_sub_epi8(v, _mm256_set1_epi8(16)));
		M40I_ACC_BLOCK32(m40i_i8x8_ps, q, M40I_SCALE);
	}
	return m40i_hsum_avx2(acc0, acc1, acc2, acc3);
}

M40I_TARGET_AVX2 static float q5_1_dot_fused(const void *row, const float *x, int64_t n)
{
	const struct block_q5_1 *b = row;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
	uint8_t q[QK] __attribute__((aligned(32)));

	for (int64_t i = 0; i < n / QK; i++, x += QK) {
		M40I_PREFETCH(b + i, sizeof *b);
		__m256 vd = _mm256_set1_ps(m40i_half_to_float(b[i].d));
		__m256 vm = _mm256_set1_ps(m40i_half_to_float(b[i].m));
		_mm256_store_si256((__m256i *)q, _mm256_or_si256(nibbles32(b[i].qs), fifth_bits32(b[i].qh)));
		M40I_ACC_BLOCK32(m40i_u8x8_ps, q, M40I_SCALE_MIN);
	}
	return m40i_hsum_avx2(acc0, acc1, acc2, acc3);
}

M40I_TARGET_AVX2 static float q8_0_dot_fused(const void *row, const float *x, int64_t n)
{
	const struct block_q8_0 *b = row;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;

	for (int64_t i = 0; i < n / QK; i++, x += QK) {
		M40I_PREFETCH(b + i, sizeof *b);
		__m256 vd = _mm256_set1_ps(m40i_half_to_float(b[i].d));
		M40I_ACC_BLOCK32(m40i_i8x8_ps, b[i].qs, M40I_SCALE);
	}
	return m40i_hsum_avx2(acc0, acc1, acc2, acc3);
}
#endif

M40I_FORMAT_KERNELS(q4_0, decode_q4_0, QK, sizeof(struct block_q4_0))
M40I_FORMAT_KERNELS(q4_1, decode_q4_1, QK, sizeof(struct block_q4_1))
M40I_FORMAT_KERNELS(q5_0, decode_q5_0, QK, sizeof(struct block_q5_0))
M40I_FORMAT_KERNELS(q5_1, decode_q5_1, QK, sizeof(struct block_q5_1))
M40I_FORMAT_KERNELS(q8_0, decode_q8_0, QK, sizeof(struct block_q8_0))

#define LEGACY_FORMAT(name, TYPE) \
	const struct m40i_format m40i_format_##name = { \
		.type = M40_TYPE_##TYPE, \
		.block_size = QK, \
		.block_bytes = sizeof(struct block_##name), \
		.dequantize = dequantize_##name, \
		.quantize = quantize_##name, \
		.kernels = M40I_KERNELS_FUSED(name), \
	};
LEGACY_FORMAT(q4_0, Q4_0)
LEGACY_FORMAT(q4_1, Q4_1)
LEGACY_FORMAT(q5_0, Q5_0)
LEGACY_FORMAT(q5_1, Q5_1)
LEGACY_FORMAT(q8_0, Q8_0)
