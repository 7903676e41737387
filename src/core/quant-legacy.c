/* quant-legacy.c: ggml's first block formats, 32 elements a block with one
 * FP16 scale: Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 (ggml-common.h, ggml-quants.c). */
#include "m40-int.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "quant.h"

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

/* The 32 nibbles of qs in element order. */
M40I_INLINE void unpack_nibbles(const uint8_t *qs, uint8_t q[QK])
{
	u8x16 v = m40i_load_u8x16(qs), lo = v & 15, hi = v >> 4;

	memcpy(q, &lo, 16);
	memcpy(q + 16, &hi, 16);
}

/* Elements k..k+7 of a 5-bit block: nibble plus bit k+i of qh as 16. */
M40I_INLINE f32x8 five_bits(const uint8_t q[QK], uint32_t qh, int k)
{
	const u32x8 lane = { 0, 1, 2, 3, 4, 5, 6, 7 };
	u32x8 high = (((u32x8){ 0 } + qh) >> (lane + (uint32_t)k)) & 1;
	u32x8 low = __builtin_convertvector(m40i_load_u8x8(q + k), u32x8);

	return __builtin_convertvector((i32x8)(low | high << 4), f32x8);
}

/* ---- Q4_0: y = d * (q - 8) ---- */

M40I_INLINE void decode_q4_0(const void *src, float *y, int64_t nb)
{
	const struct block_q4_0 *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK) {
		float d = m40i_half_to_float(b[i].d);
		uint8_t q[QK];

		unpack_nibbles(b[i].qs, q);
		for (int k = 0; k < QK; k += 8)
			m40i_store8(y + k, (m40i_u8_to_f32(m40i_load_u8x8(q + k)) - 8.0f) * d);
	}
}

static void dequantize_q4_0(const void *src, float *y, int64_t nb)
{
	decode_q4_0(src, y, nb);
}

/* The element of largest magnitude maps to -8. */
static void quantize_q4_0(const float *x, void *dst, int64_t nb)
{
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

M40I_INLINE void decode_q4_1(const void *src, float *y, int64_t nb)
{
	const struct block_q4_1 *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK) {
		float d = m40i_half_to_float(b[i].d), m = m40i_half_to_float(b[i].m);
		uint8_t q[QK];

		unpack_nibbles(b[i].qs, q);
		for (int k = 0; k < QK; k += 8)
			m40i_store8(y + k, m40i_u8_to_f32(m40i_load_u8x8(q + k)) * d + m);
	}
}

static void dequantize_q4_1(const void *src, float *y, int64_t nb)
{
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

static void quantize_q4_1(const float *x, void *dst, int64_t nb)
{
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

M40I_INLINE void decode_q5_0(const void *src, float *y, int64_t nb)
{
	const struct block_q5_0 *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK) {
		float d = m40i_half_to_float(b[i].d);
		uint8_t q[QK];
		uint32_t qh;

		memcpy(&qh, b[i].qh, sizeof qh);
		unpack_nibbles(b[i].qs, q);
		for (int k = 0; k < QK; k += 8)
			m40i_store8(y + k, (five_bits(q, qh, k) - 16.0f) * d);
	}
}

static void dequantize_q5_0(const void *src, float *y, int64_t nb)
{
	decode_q5_0(src, y, nb);
}

static void quantize_q5_0(const float *x, void *dst, int64_t nb)
{
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

M40I_INLINE void decode_q5_1(const void *src, float *y, int64_t nb)
{
	const struct block_q5_1 *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK) {
		float d = m40i_half_to_float(b[i].d), m = m40i_half_to_float(b[i].m);
		uint8_t q[QK];
		uint32_t qh;

		memcpy(&qh, b[i].qh, sizeof qh);
		unpack_nibbles(b[i].qs, q);
		for (int k = 0; k < QK; k += 8)
			m40i_store8(y + k, five_bits(q, qh, k) * d + m);
	}
}

static void dequantize_q5_1(const void *src, float *y, int64_t nb)
{
	decode_q5_1(src, y, nb);
}

static void quantize_q5_1(const float *x, void *dst, int64_t nb)
{
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

M40I_INLINE void decode_q8_0(const void *src, float *y, int64_t nb)
{
	const struct block_q8_0 *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK) {
		float d = m40i_half_to_float(b[i].d);

		for (int k = 0; k < QK; k += 8) {
			i8x8 q;
			memcpy(&q, b[i].qs + k, sizeof q);
			m40i_store8(y + k, m40i_i8_to_f32(q) * d);
		}
	}
}

static void dequantize_q8_0(const void *src, float *y, int64_t nb)
{
	decode_q8_0(src, y, nb);
}

static void quantize_q8_0(const float *x, void *dst, int64_t nb)
{
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
		.kernels = M40I_KERNELS(name), \
	};
LEGACY_FORMAT(q4_0, Q4_0)
LEGACY_FORMAT(q4_1, Q4_1)
LEGACY_FORMAT(q5_0, Q5_0)
LEGACY_FORMAT(q5_1, Q5_1)
LEGACY_FORMAT(q8_0, Q8_0)
