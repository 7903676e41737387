/* quant-iq.c: IQ4_NL, blocks of 32 4-bit indices into a fixed non-linear
 * table of 16 levels with one FP16 scale (ggml-common.h block_iq4_nl). */
#include "m40-int.h"

#include <string.h>

#include "quant.h"

M40I_VECTORIZE

#define QK 32

struct block_iq4_nl {
	uint16_t d;
	uint8_t qs[QK / 2]; /* element j: low nibble of qs[j]; j+16: high nibble */
};
_Static_assert(sizeof(struct block_iq4_nl) == 18, "iq4_nl block");

static const int8_t kvalues_iq4nl[16] = {
	-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
};

/* y = d * kvalues[q] */
M40I_INLINE void decode_iq4_nl(const void *src, float *restrict y, int64_t nb)
{
	M40I_EXACT_BODY
	const struct block_iq4_nl *b = src;

	for (int64_t i = 0; i < nb; i++, y += QK) {
		float d = m40i_half_to_float(b[i].d);

		for (int j = 0; j < QK / 2; j++) {
			y[j] = kvalues_iq4nl[b[i].qs[j] & 15] * d;
			y[j + QK / 2] = kvalues_iq4nl[b[i].qs[j] >> 4] * d;
		}
	}
}

M40I_EXACT static void dequantize_iq4_nl(const void *src, float *y, int64_t nb)
{
	M40I_EXACT_BODY
	decode_iq4_nl(src, y, nb);
}

#ifdef M40I_HAVE_AVX2
/* AVX2: the table lookup is one byte shuffle per 16 nibbles. */
M40I_TARGET_AVX2 static inline void iq4_nl_unpack(const struct block_iq4_nl *b, int8_t q[QK])
{
	const __m128i table = _mm_loadu_si128((const __m128i *)kvalues_iq4nl), low4 = _mm_set1_epi8(15);
	__m128i v = _mm_loadu_si128((const __m128i *)b->qs);

	_mm_store_si128((__m128i *)q, _mm_shuffle_epi8(table, _mm_and_si128(v, low4)));
	_mm_store_si128((__m128i *)(q + 16), _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(v, 4), low4)));
}

M40I_TARGET_AVX2 static float iq4_nl_dot_fused(const void *row, const float *x, int64_t n)
{
	const struct block_iq4_nl *b = row;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
	int8_t q[QK] __attribute__((aligned(32)));

	for (int64_t i = 0; i < n / QK; i++, x += QK) {
		__m256 vd = _mm256_set1_ps(m40i_half_to_float(b[i].d));

		M40I_PREFETCH(b + i, sizeof *b);
		iq4_nl_unpack(b + i, q);
		M40I_ACC_BLOCK32(m40i_i8x8_ps, q, M40I_SCALE);
	}
	return m40i_hsum_avx2(acc0, acc1, acc2, acc3);
}

M40I_TARGET_AVX2 static inline void decode_iq4_nl_avx2(const void *src, float *restrict y, int64_t nb)
{
	const struct block_iq4_nl *b = src;
	int8_t q[QK] __attribute__((aligned(32)));

	for (int64_t i = 0; i < nb; i++, y += QK) {
		__m256 vd = _mm256_set1_ps(m40i_half_to_float(b[i].d));

		iq4_nl_unpack(b + i, q);
		for (int k = 0; k < QK; k += 8)
			_mm256_storeu_ps(y + k, M40I_SCALE(m40i_i8x8_ps(q + k)));
	}
}
#else
#define decode_iq4_nl_avx2 decode_iq4_nl
#endif

M40I_FORMAT_KERNELS2(iq4_nl, decode_iq4_nl, decode_iq4_nl_avx2, QK, sizeof(struct block_iq4_nl))

const struct m40i_format m40i_format_iq4_nl = {
	.type = M40_TYPE_IQ4_NL,
	.block_size = QK,
	.block_bytes = sizeof(struct block_iq4_nl),
	.dequantize = dequantize_iq4_nl,
	.quantize = NULL,
	.kernels = M40I_KERNELS_FUSED(iq4_nl),
};
