/* quant-float.c: the plain float formats F32, F16 and BF16, and the
 * half/bfloat16 conversions. */
#include "m40-int.h"

#include <string.h>

#include "quant.h"

M40I_VECTORIZE

float m40_fp16_to_fp32(uint16_t h)
{
	return m40i_half_to_float(h);
}

/*
 * Float to half, rounding to nearest even; overflow gives infinity, NaN
 * stays NaN (quiet, sign and top payload bits kept).  (F. Giesen's
 * float_to_half_fast3_rtne.)
 */
uint16_t m40_fp32_to_fp16(float f)
{
	uint32_t x, ax;
	uint16_t sign;

	memcpy(&x, &f, sizeof x);
	sign = (uint16_t)((x >> 16) & 0x8000);
	ax = x & 0x7fffffff;
	if (ax > 0x7f800000) /* NaN */
		return sign | 0x7e00 | ((ax >> 13) & 0x1ff);
	if (ax >= 0x477ff000) /* 65520 and up round to infinity */
		return sign | 0x7c00;
	if (ax < 0x38800000) { /* below 2^-14: a half subnormal or zero */
		/* Adding 0.5 leaves the float with the half's ulp, 2^-24, so
		 * the FPU rounds to nearest even for us. */
		float a;
		uint32_t u;
		memcpy(&a, &ax, sizeof a);
		a += 0.5f;
		memcpy(&u, &a, sizeof u);
		return sign | (uint16_t)(u - 0x3f000000);
	}
	/* Normal: rebias the exponent, round the 13 dropped mantissa bits
	 * to nearest even (a carry moves into the exponent, as it should). */
	ax -= (uint32_t)(127 - 15) << 23;
	ax += 0xfff + ((ax >> 13) & 1);
	return sign | (uint16_t)(ax >> 13);
}

float m40_bf16_to_fp32(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

/* Float to bfloat16 as ggml does it: round to nearest even, NaN quiet. */
uint16_t m40_fp32_to_bf16(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof u);
	if ((u & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((u >> 16) | 0x40);
	return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

/* ---- F32 ---- */

static void dequantize_f32(const void *src, float *dst, int64_t n)
{
	memcpy(dst, src, (size_t)n * sizeof *dst);
}

static void quantize_f32(const float *src, void *dst, int64_t n)
{
	memcpy(dst, src, (size_t)n * sizeof *src);
}

#define M40I_F32_KERNELS(sfx, attr) \
	attr static float f32_dot_##sfx(const void *row, const float *x, int64_t n) \
	{ \
		return m40i_dot_f32(row, x, n); \
	} \
	attr static void f32_dot_multi_##sfx(const void *row, const float *x, int64_t n, \
					     int nx, float *y, size_t y_stride) \
	{ \
		for (int j = 0; j < nx; j++) \
			y[j * y_stride] = m40i_dot_f32(row, x + j * n, n); \
	} \
	attr static void f32_dot_tile_##sfx(const void *rows, size_t row_bytes, int nrows, \
					    const float *x, int64_t n, int nx, float *y, \
					    size_t y_stride) \
	{ \
		m40i_dot_tile_blocks(dequantize_f32, f32_dot_multi_##sfx, 1, 4, rows, row_bytes, \
				     nrows, x, n, nx, y, y_stride); \
	}
M40I_F32_KERNELS(base, )
#ifdef M40I_HAVE_AVX2
M40I_F32_KERNELS(avx2, M40I_TARGET_AVX2)
#endif

const struct m40i_format m40i_format_f32 = {
	.type = M40_TYPE_F32,
	.block_size = 1,
	.block_bytes = 4,
	.dequantize = dequantize_f32,
	.quantize = quantize_f32,
	.kernels = M40I_KERNELS(f32),
};

/* ---- F16 ---- */

M40I_INLINE void decode_f16(const void *src, float *restrict dst, int64_t n)
{
	const uint16_t *h = src;

	for (int64_t i = 0; i < n; i++)
		dst[i] = m40i_half_to_float_nb(h[i]);
}

static void dequantize_f16(const void *src, float *dst, int64_t n)
{
	decode_f16(src, dst, n);
}

static void quantize_f16(const float *src, void *dst, int64_t n)
{
	unsigned char *d = dst;

	for (int64_t i = 0; i < n; i++) {
		uint16_t h = m40_fp32_to_fp16(src[i]);
		memcpy(d + 2 * i, &h, 2);
	}
}

#ifdef M40I_HAVE_AVX2
/* AVX2 (with F16C, which every AVX2 CPU has): vcvtph2ps converts 8 halves. */
M40I_TARGET_AVX2 static inline void decode_f16_avx2(const void *src, float *restrict dst, int64_t n)
{
	const uint16_t *h = src;
	int64_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
	for (; i < n; i++)
		dst[i] = m40i_half_to_float(h[i]);
}

M40I_TARGET_AVX2 static float f16_dot_fused(const void *row, const float *x, int64_t n)
{
	const uint16_t *h = row;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
	int64_t i = 0;
	float s;

#define HALF8(k) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i + (k))))
	for (; i + 32 <= n; i += 32) {
		M40I_PREFETCH(h + i, 64);
		acc0 = _mm256_fmadd_ps(HALF8(0), _mm256_loadu_ps(x + i), acc0);
		acc1 = _mm256_fmadd_ps(HALF8(8), _mm256_loadu_ps(x + i + 8), acc1);
		acc2 = _mm256_fmadd_ps(HALF8(16), _mm256_loadu_ps(x + i + 16), acc2);
		acc3 = _mm256_fmadd_ps(HALF8(24), _mm256_loadu_ps(x + i + 24), acc3);
	}
	for (; i + 8 <= n; i += 8)
		acc0 = _mm256_fmadd_ps(HALF8(0), _mm256_loadu_ps(x + i), acc0);
#undef HALF8
	s = m40i_hsum_avx2(acc0, acc1, acc2, acc3);
	for (; i < n; i++)
		s += m40i_half_to_float(h[i]) * x[i];
	return s;
}
#endif

#ifdef M40I_HAVE_AVX2
M40I_FORMAT_KERNELS2(f16, decode_f16, decode_f16_avx2, 1, 2)
#else
M40I_FORMAT_KERNELS(f16, decode_f16, 1, 2)
#endif

const struct m40i_format m40i_format_f16 = {
	.type = M40_TYPE_F16,
	.block_size = 1,
	.block_bytes = 2,
	.dequantize = dequantize_f16,
	.quantize = quantize_f16,
	.kernels = M40I_KERNELS_FUSED(f16),
};

/* ---- BF16 ---- */

M40I_INLINE void decode_bf16(const void *src, float *restrict dst, int64_t n)
{
	const uint16_t *h = src;

	for (int64_t i = 0; i < n; i++) {
		uint32_t u = (uint32_t)h[i] << 16;
		memcpy(dst + i, &u, sizeof u);
	}
}

static void dequantize_bf16(const void *src, float *dst, int64_t n)
{
	decode_bf16(src, dst, n);
}

static void quantize_bf16(const float *src, void *dst, int64_t n)
{
	unsigned char *d = dst;

	for (int64_t i = 0; i < n; i++) {
		uint16_t h = m40_fp32_to_bf16(src[i]);
		memcpy(d + 2 * i, &h, 2);
	}
}

#ifdef M40I_HAVE_AVX2
/* AVX2: a bfloat16 is the top half of a float. */
M40I_TARGET_AVX2 static float bf16_dot_fused(const void *row, const float *x, int64_t n)
{
	const uint16_t *h = row;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
	int64_t i = 0;
	float s;

#define BF8(k) _mm256_castsi256_ps(_mm256_slli_epi32( \
		_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(h + i + (k)))), 16))
	for (; i + 32 <= n; i += 32) {
		M40I_PREFETCH(h + i, 64);
		acc0 = _mm256_fmadd_ps(BF8(0), _mm256_loadu_ps(x + i), acc0);
		acc1 = _mm256_fmadd_ps(BF8(8), _mm256_loadu_ps(x + i + 8), acc1);
		acc2 = _mm256_fmadd_ps(BF8(16), _mm256_loadu_ps(x + i + 16), acc2);
		acc3 = _mm256_fmadd_ps(BF8(24), _mm256_loadu_ps(x + i + 24), acc3);
	}
	for (; i + 8 <= n; i += 8)
		acc0 = _mm256_fmadd_ps(BF8(0), _mm256_loadu_ps(x + i), acc0);
#undef BF8
	s = m40i_hsum_avx2(acc0, acc1, acc2, acc3);
	for (; i < n; i++)
		s += m40_bf16_to_fp32(h[i]) * x[i];
	return s;
}
#endif

M40I_FORMAT_KERNELS(bf16, decode_bf16, 1, 2)

const struct m40i_format m40i_format_bf16 = {
	.type = M40_TYPE_BF16,
	.block_size = 1,
	.block_bytes = 2,
	.dequantize = dequantize_bf16,
	.quantize = quantize_bf16,
	.kernels = M40I_KERNELS_FUSED(bf16),
};
