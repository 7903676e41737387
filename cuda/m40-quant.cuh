/*
 * m40-quant.cuh: ggml block layouts on the device, element by element.
 * Used where one value at a time is enough (embedding rows, dequantized GEMM
 * tiles, the fallback matrix-vector kernel); matvec.cu has the fast paths.
 * FP16 and BF16 are storage only: every value becomes FP32 before arithmetic.
 */
#ifndef M40_QUANT_CUH
#define M40_QUANT_CUH

#include <stdint.h>
#include <cuda_fp16.h>

#include <m40/types.h>

#define M40_QK_K 256

__device__ __forceinline__ float m40q_h2f(const uint8_t *p)
{
	uint16_t h = (uint16_t)p[0] | ((uint16_t)p[1] << 8);
	return __half2float(__ushort_as_half(h));
}

__device__ __forceinline__ float m40q_h2f_u16(uint16_t h)
{
	return __half2float(__ushort_as_half(h));
}

/* The two halves of a word as FP16 values. */
__device__ __forceinline__ float h_lo(uint32_t w)
{
	return __half2float(__ushort_as_half((unsigned short)(w & 0xFFFF)));
}

__device__ __forceinline__ float h_hi(uint32_t w)
{
	return __half2float(__ushort_as_half((unsigned short)(w >> 16)));
}

/* Integer bytes as floats without I2F (a quarter-rate instruction on
 * Maxwell): one PRMT puts a byte into the mantissa of 2^23.
 * FB2(v, i): byte i of v (below 128) at bits 16..22, 65536 * (128 + q);
 * FB2_UNIT undoes the 65536.  FB0(v, i): byte i of v at bits 0..7,
 * 2^23 + q. */
#define FB_MAGIC 0x4B000000u
#define FB2(v, i) __uint_as_float(__byte_perm((v), FB_MAGIC, 0x7044 | ((i) << 8)))
#define FB0(v, i) __uint_as_float(__byte_perm((v), FB_MAGIC, 0x7440 | (i)))
#define FB2_UNIT (1.0f / 65536.0f)

/* Q3_K: the four 6-bit scales 8 half + 2 g + k2 (g < 4) of a super-block
 * as bytes g of one word, from its scale words l0, l1 (bytes 96..103) and
 * hw (104..107): the low 4 bits are nibble half of byte 2 g + k2, the high
 * 2 bits are bits 2 (2 half + g / 2) of byte 8 + (2 g + k2) % 4. */
__device__ __forceinline__ uint32_t q3k_scales6(uint32_t l0, uint32_t l1, uint32_t hw, int half, int k2)
{
	uint32_t lo = (__byte_perm(l0, l1, k2 ? 0x7531u : 0x6420u) >> (4 * half)) & 0x0F0F0F0Fu;
	uint32_t hb = __byte_perm(hw, 0, k2 ? 0x3131u : 0x2020u) >> (4 * half);
	hb = (hb & 0x00000303u) | ((hb >> 2) & 0x03030000u);
	return lo | hb << 4;
}

/* Loads of weight bytes through the read-only data cache. */
__device__ __forceinline__ uint32_t ldg16(const uint8_t *p)
{
	return __ldg((const unsigned short *)p);
}

__device__ __forceinline__ uint32_t ldg32(const uint8_t *p)
{
	return __ldg((const unsigned int *)p);
}

/* 4 bytes from a 2-byte aligned address */
__device__ __forceinline__ uint32_t ld32a2(const uint8_t *p)
{
	const unsigned short *h = (const unsigned short *)p;
	return __byte_perm((uint32_t)__ldg(h), (uint32_t)__ldg(h + 1), 0x5410);
}

/* IQ4_NL's non-linear 4-bit levels. */
__device__ __constant__ static const signed char m40q_iq4nl[16] = {
	-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113
};

/* Weights per block and bytes per block, for the computable types. */
__host__ __device__ __forceinline__ int m40q_block_size(int type)
{
	switch (type) {
	case M40_TYPE_F32: case M40_TYPE_F16: case M40_TYPE_BF16: return 1;
	case M40_TYPE_Q4_0: case M40_TYPE_Q4_1: case M40_TYPE_Q5_0: case M40_TYPE_Q5_1:
	case M40_TYPE_Q8_0: case M40_TYPE_IQ4_NL: return 32;
	case M40_TYPE_Q2_K: case M40_TYPE_Q3_K: case M40_TYPE_Q4_K: case M40_TYPE_Q5_K:
	case M40_TYPE_Q6_K: return M40_QK_K;
	default: return 0;
	}
}

__host__ __device__ __forceinline__ int m40q_block_bytes(int type)
{
	switch (type) {
	case M40_TYPE_F32: return 4;
	case M40_TYPE_F16: case M40_TYPE_BF16: return 2;
	case M40_TYPE_Q4_0: return 18;
	case M40_TYPE_Q4_1: return 20;
	case M40_TYPE_Q5_0: return 22;
	case M40_TYPE_Q5_1: return 24;
	case M40_TYPE_Q8_0: return 34;
	case M40_TYPE_IQ4_NL: return 18;
	case M40_TYPE_Q2_K: return 84;
	case M40_TYPE_Q3_K: return 110;
	case M40_TYPE_Q4_K: return 144;
	case M40_TYPE_Q5_K: return 176;
	case M40_TYPE_Q6_K: return 210;
	default: return 0;
	}
}

/* Q4_K / Q5_K: the 6-bit scale and min of sub-block j (0..7). */
__device__ __forceinline__ void m40q_scale_min_k4(int j, const uint8_t *q, int *sc, int *m)
{
	if (j < 4) {
		*sc = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
		*m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
	}
}

/* Q3_K: the signed 6-bit scale of sub-block i (0..15). */
__device__ __forceinline__ int m40q_scale_q3k(int i, const uint8_t *s)
{
	int lo = i < 8 ? (s[i] & 0xF) : (s[i - 8] >> 4);
	int hi = (s[8 + (i & 3)] >> (2 * (i >> 2))) & 3;
	return (lo | (hi << 4)) - 32;
}

/* Element j (0 <= j < block size) of the block at b. */
__device__ __forceinline__ float m40q_elem(int type, const uint8_t *b, int j)
{
	switch (type) {
	case M40_TYPE_F32:
		return *(const float *)b;
	case M40_TYPE_F16:
		return m40q_h2f(b);
	case M40_TYPE_BF16:
		return __uint_as_float(((uint32_t)b[0] | ((uint32_t)b[1] << 8)) << 16);
	case M40_TYPE_Q4_0:
		return m40q_h2f(b) * (float)(((b[2 + (j & 15)] >> (4 * (j >> 4))) & 0xF) - 8);
	case M40_TYPE_Q4_1:
		return m40q_h2f(b) * (float)((b[4 + (j & 15)] >> (4 * (j >> 4))) & 0xF) + m40q_h2f(b + 2);
	case M40_TYPE_Q5_0: {
		uint32_t qh = b[2] | (b[3] << 8) | (b[4] << 16) | ((uint32_t)b[5] << 24);
		int q = ((b[6 + (j & 15)] >> (4 * (j >> 4))) & 0xF) | (((qh >> j) & 1) << 4);
		return m40q_h2f(b) * (float)(q - 16);
	}
	case M40_TYPE_Q5_1: {
		uint32_t qh = b[4] | (b[5] << 8) | (b[6] << 16) | ((uint32_t)b[7] << 24);
		int q = ((b[8 + (j & 15)] >> (4 * (j >> 4))) & 0xF) | (((qh >> j) & 1) << 4);
		return m40q_h2f(b) * (float)q + m40q_h2f(b + 2);
	}
	case M40_TYPE_Q8_0:
		return m40q_h2f(b) * (float)(signed char)b[2 + j];
	case M40_TYPE_IQ4_NL:
		return m40q_h2f(b) * (float)m40q_iq4nl[(b[2 + (j & 15)] >> (4 * (j >> 4))) & 0xF];
	case M40_TYPE_Q2_K: {
		int half = j >> 7, r = j & 127, g = r >> 5, l = r & 31;
		int sc = b[8 * half + 2 * g + (l >> 4)];
		int q = (b[16 + 32 * half + l] >> (2 * g)) & 3;
		return m40q_h2f(b + 80) * (float)(sc & 0xF) * (float)q - m40q_h2f(b + 82) * (float)(sc >> 4);
	}
	case M40_TYPE_Q3_K: {
		int half = j >> 7, r = j & 127, g = r >> 5, l = r & 31;
		int q = (b[32 + 32 * half + l] >> (2 * g)) & 3;
		if (!((b[l] >> (4 * half + g)) & 1))
			q -= 4;
		int sc = m40q_scale_q3k(8 * half + 2 * g + (l >> 4), b + 96);
		return m40q_h2f(b + 108) * (float)sc * (float)q;
	}
	case M40_TYPE_Q4_K: {
		int pair = j >> 6, r = j & 63, hi = r >> 5, l = r & 31, sc, m;
		m40q_scale_min_k4(2 * pair + hi, b + 4, &sc, &m);
		int q = (b[16 + 32 * pair + l] >> (4 * hi)) & 0xF;
		return m40q_h2f(b) * (float)sc * (float)q - m40q_h2f(b + 2) * (float)m;
	}
	case M40_TYPE_Q5_K: {
		int pair = j >> 6, r = j & 63, hi = r >> 5, l = r & 31, sc, m;
		m40q_scale_min_k4(2 * pair + hi, b + 4, &sc, &m);
		int q = ((b[48 + 32 * pair + l] >> (4 * hi)) & 0xF) | (((b[16 + l] >> (2 * pair + hi)) & 1) << 4);
		return m40q_h2f(b) * (float)sc * (float)q - m40q_h2f(b + 2) * (float)m;
	}
	case M40_TYPE_Q6_K: {
		int half = j >> 7, r = j & 127, g = r >> 5, l = r & 31;
		int lo = (b[64 * half + l + 32 * (g & 1)] >> (4 * (g >> 1))) & 0xF;
		int hb = (b[128 + 32 * half + l] >> (2 * g)) & 3;
		int sc = (signed char)b[192 + 8 * half + (l >> 4) + 2 * g];
		return m40q_h2f(b + 208) * (float)sc * (float)((lo | (hb << 4)) - 32);
	}
	default:
		return 0.0f;
	}
}

/* Element c of a row of the given type. */
__device__ __forceinline__ float m40q_row_elem(int type, const uint8_t *row, int64_t c)
{
	int qk = m40q_block_size(type);
	return m40q_elem(type, row + (c / qk) * m40q_block_bytes(type), (int)(c % qk));
}

#endif
