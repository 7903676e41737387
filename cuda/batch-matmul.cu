/*
 * batch-matmul.cu: y[n][rows] = x[n][cols] . w^T (or y += it) for decode
 * batches of up to M40_CUDA_MV_BATCH sequences, straight from the GGUF
 * blocks.
 *
 * Up to 16 sequences (bmq_kernel): a thread block owns 64 rows; for each
 * 32-column slab, a thread dequantizes 8 weights of each of 4 rows into
 * registers (four threads a row read its block's bytes side by side, so a
 * warp's loads touch eight rows, not 32) and multiplies them with the
 * batch's x for those 8 columns, read from shared memory; the 4 threads of
 * a row add up their sums at the end.
 *
 * 17 to 64 sequences (bmm_kernel): a thread block owns 128 rows.  For
 * each slab, its 128 or 256 threads dequantize the 128 x 32 weights into
 * shared memory, again four a thread at a time; then they multiply the
 * slab with the x slab from register tiles (8 rows x 4 sequences), as an
 * SGEMM does.
 *
 * Either way a weight costs a few instructions to decode once and n FFMAs,
 * where the matrix-vector kernels (matvec.cu) decode it once a pass of at
 * most M40_CUDA_MV_MAX sequences and load every lane's own x.
 * Where the rows alone give too few thread blocks to fill the card, K is
 * split across blocks: their partial sums go to the weight-tile scratch
 * and a second kernel adds them up, in a fixed order.
 *
 * FP32 arithmetic only; the integer quants and scales become floats by
 * the 2^23 trick (an OR or a PRMT into the mantissa of 2^23, FB2 and FB0
 * in m40-quant.cuh), not I2F, which Maxwell runs at a quarter of the FP32
 * rate.
 */
#include "m40-int.h"

#include <limits.h>

#include "m40-cuda.h"
#include "m40-quant.cuh"

#define BK 32       /* columns a slab */
#define WSTRIDE (BK + 4) /* floats a row of the weight slab in shared memory */

/* q (0 <= q < 2^23) as a float, exactly. */
__device__ __forceinline__ float u2f(uint32_t q)
{
	return __uint_as_float(0x4B000000u | q) - 8388608.0f;
}

__device__ __forceinline__ uint32_t ld8(const uint8_t *p)
{
	return __ldg(p);
}

/* byte i of w, i known only at run time */
__device__ __forceinline__ uint32_t byte_of(uint32_t w, int i)
{
	return (w >> (8 * i)) & 0xFFu;
}

/* Slab<T>::quad(row, k0, q, v): v[i] = w[row][k0 + 4 q + i], i < 4, for the
 * slab at column k0 (a multiple of 32) and q < 8.  A: the alignment the
 * loads need of the data pointer and row_bytes (checked by the launcher). */
template <int T> struct Slab;

/* bytes of a 32-weight 4-bit block (Q4_0, Q4_1, IQ4_NL, the low bits of
 * Q5_0, Q5_1): byte i holds columns i and i + 16; quad q's four nibbles
 * are in word q & 3, low halves for q < 4 */
__device__ __forceinline__ uint32_t nib(uint32_t w, int q, int i)
{
	return (w >> (8 * i + (q >= 4 ? 4 : 0))) & 15u;
}

/* quad q's four nibbles of word w, one a byte (for FB2: the 4-bit and
 * smaller quants become floats by one PRMT and one FFMA a weight, the
 * 128 of FB2 folded into the FFMA's addend) */
__device__ __forceinline__ uint32_t nibs(uint32_t w, int q)
{
	return (w >> (q >= 4 ? 4 : 0)) & 0x0F0F0F0Fu;
}

/* v[i] = a * FB2(t, i) + m: a quad of FB2 bytes as weights (a carries
 * FB2_UNIT, m the 128 of FB2) */
__device__ __forceinline__ void fb2_quad(uint32_t t, float a, float m, float (&v)[4])
{
#pragma unroll
	for (int i = 0; i < 4; i++)
		v[i] = fmaf(a, FB2(t, i), m);
}

template <> struct Slab<M40_TYPE_F16> {
	enum { A = 8 };
	static __device__ __forceinline__ void quad(const uint8_t *row, int k0, int q, float (&v)[4])
	{
		uint2 u = __ldg((const uint2 *)(row + 2 * (k0 + 4 * q)));
		v[0] = h_lo(u.x), v[1] = h_hi(u.x), v[2] = h_lo(u.y), v[3] = h_hi(u.y);
	}
};

template <> struct Slab<M40_TYPE_BF16> {
	enum { A = 8 };
	static __device__ __forceinline__ void quad(const uint8_t *row, int k0, int q, float (&v)[4])
	{
		uint2 u = __ldg((const uint2 *)(row + 2 * (k0 + 4 * q)));
		v[0] = __uint_as_float(u.x << 16), v[1] = __uint_as_float(u.x & 0xFFFF0000u);
		v[2] = __uint_as_float(u.y << 16), v[3] = __uint_as_float(u.y & 0xFFFF0000u);
	}
};

template <> struct Slab<M40_TYPE_Q4_0> {
	enum { A = 2 };
	static __device__ __forceinline__ void quad(const uint8_t *row, int k0, int q, float (&v)[4])
	{
		const uint8_t *b = row + (k0 / 32) * 18;
		uint32_t t = nibs(ld32a2(b + 2 + 4 * (q & 3)), q);
		float d = h_lo(ldg16(b)), a = d * FB2_UNIT, m = -136.0f * d;
		fb2_quad(t, a, m, v);
	}
};

template <> struct Slab<M40_TYPE_Q4_1> {
	enum { A = 4 };
	static __device__ __forceinline__ void quad(const uint8_t *row, int k0, int q, float (&v)[4])
	{
		const uint8_t *b = row + (k0 / 32) * 20;
		uint32_t t = nibs(ldg32(b + 4 + 4 * (q & 3)), q), dm = ldg32(b);
		float d = h_lo(dm), a = d * FB2_UNIT, m = fmaf(-128.0f, d, h_hi(dm));
		fb2_quad(t, a, m, v);
	}
};

template <> struct Slab<M40_TYPE_IQ4_NL> {
	enum { A = 2 };
	/* levels: the non-linear table in shared memory (a constant-memory
	 * lookup with a different index in each lane would serialize) */
	static __device__ __forceinline__ void quad(const uint8_t *row, int k0, int q, float (&v)[4],
		const float *levels)
	{
		const uint8_t *b = row + (k0 / 32) * 18;
		uint32_t w = ld32a2(b + 2 + 4 * (q & 3));
		float d = h_lo(ldg16(b));
#pragma unroll
		for (int i = 0; i < 4; i++)
			v[i] = d * levels[nib(w, q, i)];
	}
};

template <> struct Slab<M40_TYPE_Q5_0> {
	enum { A = 2 };
	static __device__ __forceinline__ void quad(const uint8_t *row, int k0, int q, float (&v)[4])
	{
		const uint8_t *b = row + (k0 / 32) * 22;
		uint32_t w = ld32a2(b + 6 + 4 * (q & 3));
		/* the high bits of columns 16 h .. 16 h + 15 */
		uint32_t qh = ldg16(b + 2 + (q >= 4 ? 2 : 0)) >> (4 * (q & 3));
		float d = h_lo(ldg16(b)), m = -16.0f * d;
#pragma unroll
		for (int i = 0; i < 4; i++)
			v[i] = fmaf(d, u2f(nib(w, q, i) | ((qh >> i) & 1u) << 4), m);
	}
};

template <> struct Slab<M40_TYPE_Q5_1> {
	enum { A = 4 };
	static __device__ __forceinline__ void quad(const uint8_t *row, int k0, int q, float (&v)[4])
	{
		const uint8_t *b = row + (k0 / 32) * 24;
		uint32_t w = ldg32(b + 8 + 4 * (q & 3)), dm = ldg32(b), qh = ldg32(b + 4) >> (4 * q);
		float d = h_lo(dm), m = h_hi(dm);
#pragma unroll
		for (int i = 0; i < 4; i++)
			v[i] = fmaf(d, u2f(nib(w, q, i) | ((qh >> i) & 1u) << 4), m);
	}
};

template <> struct Slab<M40_TYPE_Q8_0> {
	enum { A = 2 };
	static __device__ __forceinline__ void quad(const uint8_t *row, int k0, int q, float (&v)[4])
	{
		const uint8_t *b = row + (k0 / 32) * 34;
		/* the signed bytes plus 128 (their top bits flipped) */
		uint32_t t = ld32a2(b + 2 + 4 * q) ^ 0x80808080u;
		float d = h_lo(ldg16(b));
#pragma unroll
		for (int i = 0; i < 4; i++)
			v[i] = d * (FB0(t, i) - 8388736.0f); /* 2^23 + 128 */
	}
};

/* The K-quants: slab k0 of a 256-column super-block is, in ggml's terms,
 * half j >> 7 and group (j & 127) >> 5 (Q2_K, Q3_K, Q6_K) or pair j >> 6
 * and nibble (j >> 5) & 1 (Q4_K, Q5_K), j = k0 % 256; quad q lies in the
 * 16-column sub-block q >> 2 of it. */
template <> struct Slab<M40_TYPE_Q2_K> {
	enum { A = 4 };
	static __device__ __forceinline__ void quad(const uint8_t *row, int k0, int q, float (&v)[4])
	{
		const uint8_t *b = row + (k0 / 256) * 84;
		const int j = k0 % 256, half = j >> 7, g = (j & 127) >> 5;
		uint32_t w = ldg32(b + 16 + 32 * half + 4 * q), dd = ldg32(b + 80);
		uint32_t sc = ld8(b + 8 * half + 2 * g + (q >> 2)), t = (w >> (2 * g)) & 0x03030303u;
		float a = h_lo(dd) * u2f(sc & 15), m = fmaf(-128.0f, a, -h_hi(dd) * u2f(sc >> 4));
		a *= FB2_UNIT;
		fb2_quad(t, a, m, v);
	}
};

template <> struct Slab<M40_TYPE_Q3_K> {
	enum { A = 2 };
	static __device__ __forceinline__ void quad(const uint8_t *row, int k0, int q, float (&v)[4])
	{
		const uint8_t *b = row + (k0 / 256) * 110;
		const int j = k0 % 256, half = j >> 7, g = (j & 127) >> 5, hs = 4 * half + g;
		const int is = 8 * half + 2 * g + (q >> 2); /* the sub-block's scale */
		uint32_t hm = ld32a2(b + 4 * q), w = ld32a2(b + 32 + 32 * half + 4 * q);
		uint32_t lo = ld8(b + 96 + (is & 7)) >> (is < 8 ? 0 : 4) & 15u;
		uint32_t hi = ld8(b + 104 + (is & 3)) >> (2 * (is >> 2)) & 3u;
		float a = h_lo(ldg16(b + 108)) * (u2f(lo | hi << 4) - 32.0f);
		/* q - 4 where the high bit is clear: (q + 4 h) - 4 */
		uint32_t t = ((w >> (2 * g)) & 0x03030303u) | ((hm >> hs) & 0x01010101u) << 2;
		fb2_quad(t, a * FB2_UNIT, -132.0f * a, v);
	}
};

/* Q4_K and Q5_K: the 6-bit scale and min of sub-block sub, times d and
 * -dmin (m40q_scale_min_k4's rule on words: its byte array, indexed at
 * run time, would go to local memory).  Both halves' rules are computed
 * and one selected, without a branch: a branch here split the loads of a
 * thread's rows into one basic block a row, and bmq_kernel waited for
 * each row's header in turn (4 round trips to memory a slab group). */
__device__ __forceinline__ void k4_scale(const uint8_t *b, int sub, float *a, float *m)
{
	const uint4 h = __ldg((const uint4 *)b); /* Q4_K, Q5_K super-blocks are 16-byte aligned (A) */
	const uint32_t dd = h.x, i = sub & 3;
	const uint32_t b0 = byte_of(h.y, i), b1 = byte_of(h.z, i), b2 = byte_of(h.w, i);
	const bool low = sub < 4;
	const uint32_t sc = low ? b0 & 63u : (b2 & 15u) | (b0 >> 6) << 4;
	const uint32_t mn = low ? b1 & 63u : (b2 >> 4) | (b1 >> 6) << 4;
	*a = h_lo(dd) * u2f(sc);
	*m = -h_hi(dd) * u2f(mn);
}

template <> struct Slab<M40_TYPE_Q4_K> {
	enum { A = 16 };
	static __device__ __forceinline__ void quad(const uint8_t *row, int k0, int q, float (&v)[4])
	{
		const uint8_t *b = row + (k0 / 256) * 144;
		const int j = k0 % 256, pair = j >> 6, hi = (j >> 5) & 1;
		uint32_t t = (ldg32(b + 16 + 32 * pair + 4 * q) >> (4 * hi)) & 0x0F0F0F0Fu;
		float a, m;
		k4_scale(b, 2 * pair + hi, &a, &m);
		m = fmaf(-128.0f, a, m);
		a *= FB2_UNIT;
		fb2_quad(t, a, m, v);
	}
};

template <> struct Slab<M40_TYPE_Q5_K> {
	enum { A = 16 };
	static __device__ __forceinline__ void quad(const uint8_t *row, int k0, int q, float (&v)[4])
	{
		const uint8_t *b = row + (k0 / 256) * 176;
		const int j = k0 % 256, pair = j >> 6, hi = (j >> 5) & 1, hs = 2 * pair + hi;
		uint32_t w = ldg32(b + 48 + 32 * pair + 4 * q), qh = ldg32(b + 16 + 4 * q);
		float a, m;
		k4_scale(b, hs, &a, &m);
#pragma unroll
		for (int i = 0; i < 4; i++)
			v[i] = fmaf(a, u2f(((byte_of(w, i) >> (4 * hi)) & 15u) | ((byte_of(qh, i) >> hs) & 1u) << 4), m);
	}
};

template <> struct Slab<M40_TYPE_Q6_K> {
	enum { A = 2 };
	static __device__ __forceinline__ void quad(const uint8_t *row, int k0, int q, float (&v)[4])
	{
		const uint8_t *b = row + (k0 / 256) * 210;
		const int j = k0 % 256, half = j >> 7, g = (j & 127) >> 5;
		uint32_t ql = ld32a2(b + 64 * half + 32 * (g & 1) + 4 * q), qh = ld32a2(b + 128 + 32 * half + 4 * q);
		/* the signed scale plus 128 (its top bit flipped) */
		uint32_t sc = ld8(b + 192 + 8 * half + 2 * g + (q >> 2)) ^ 0x80u;
		float a = h_lo(ldg16(b + 208)) * (u2f(sc) - 128.0f);
		uint32_t t = ((ql >> (4 * (g >> 1))) & 0x0F0F0F0Fu) | ((qh >> (2 * g)) & 0x03030303u) << 4;
		fb2_quad(t, a * FB2_UNIT, -160.0f * a, v);
	}
};

template <int T>
__device__ __forceinline__ void slab_quad(const uint8_t *row, int k0, int q, float (&v)[4], const float *levels)
{
	Slab<T>::quad(row, k0, q, v);
}

template <>
__device__ __forceinline__ void slab_quad<M40_TYPE_IQ4_NL>(const uint8_t *row, int k0, int q, float (&v)[4],
	const float *levels)
{
	Slab<M40_TYPE_IQ4_NL>::quad(row, k0, q, v, levels);
}

/* N slabs at once (bmq_kernel), where they share their bytes: Q4_K's and
 * Q5_K's slabs 2p and 2p + 1 of a super-block are the low and high
 * nibbles of the same 32 bytes under the same header; Q6_K's four slabs
 * of a half share its high bits and, two by two, its low nibbles; Q2_K's
 * and Q3_K's four slabs of a half share their low bits.  load
 * takes a row's words of quads q0 + qstep h and the slabs' scales (as FB2
 * wants them) once; quad then decodes slab hs of the group.  N = 1: no
 * groups. */
template <int T, int QP> struct SlabGroup {
	enum { N = 1 };
	struct Raw {
	};
	static __device__ __forceinline__ void load(const uint8_t *row, int k0, int q0, int qstep, Raw &r) {}
	static __device__ __forceinline__ void quad(const Raw &r, int h, int hs, float (&v)[4]) {}
};

/* Q4_K, Q5_K: the scales and minimums of sub-blocks 2 pair and 2 pair + 1
 * as fb2_quad wants them */
__device__ __forceinline__ void k4_pair_scales(const uint8_t *b, int pair, float (&a)[2], float (&m)[2])
{
#pragma unroll
	for (int hs = 0; hs < 2; hs++) {
		float sa, sm;
		k4_scale(b, 2 * pair + hs, &sa, &sm);
		m[hs] = fmaf(-128.0f, sa, sm);
		a[hs] = sa * FB2_UNIT;
	}
}

template <int QP> struct SlabGroup<M40_TYPE_Q4_K, QP> {
	enum { N = 2 };
	struct Raw {
		uint32_t w[QP];
		float a[2], m[2];
	};
	static __device__ __forceinline__ void load(const uint8_t *row, int k0, int q0, int qstep, Raw &r)
	{
		const uint8_t *b = row + (k0 / 256) * 144;
		const int pair = (k0 % 256) >> 6;
#pragma unroll
		for (int h = 0; h < QP; h++)
			r.w[h] = ldg32(b + 16 + 32 * pair + 4 * (q0 + qstep * h));
		k4_pair_scales(b, pair, r.a, r.m);
	}
	static __device__ __forceinline__ void quad(const Raw &r, int h, int hs, float (&v)[4])
	{
		const uint32_t t = (r.w[h] >> (4 * hs)) & 0x0F0F0F0Fu;
		fb2_quad(t, r.a[hs], r.m[hs], v);
	}
};

/* Q5_K: the same, with the high bits of sub-blocks 2p and 2p + 1 at bits
 * 2p and 2p + 1 of each byte of the quad's qh word. */
template <int QP> struct SlabGroup<M40_TYPE_Q5_K, QP> {
	enum { N = 2 };
	struct Raw {
		uint32_t w[QP], qh[QP];
		float a[2], m[2];
	};
	static __device__ __forceinline__ void load(const uint8_t *row, int k0, int q0, int qstep, Raw &r)
	{
		const uint8_t *b = row + (k0 / 256) * 176;
		const int pair = (k0 % 256) >> 6;
#pragma unroll
		for (int h = 0; h < QP; h++) {
			const int q = q0 + qstep * h;
			r.w[h] = ldg32(b + 48 + 32 * pair + 4 * q);
			r.qh[h] = ldg32(b + 16 + 4 * q) >> (2 * pair);
		}
		k4_pair_scales(b, pair, r.a, r.m);
	}
	static __device__ __forceinline__ void quad(const Raw &r, int h, int hs, float (&v)[4])
	{
		const uint32_t t = ((r.w[h] >> (4 * hs)) & 0x0F0F0F0Fu) | ((r.qh[h] >> hs) & 0x01010101u) << 4;
		fb2_quad(t, r.a[hs], r.m[hs], v);
	}
};

/* Q2_K: the four slabs of a half are the four 2-bit fields of the same
 * bytes; quad h's four scale bytes (8 half + 2 g + h) come as one word. */
template <int QP> struct SlabGroup<M40_TYPE_Q2_K, QP> {
	enum { N = 4 };
	struct Raw {
		uint32_t w[QP], sc[QP];
		float d, dmin;
	};
	static __device__ __forceinline__ void load(const uint8_t *row, int k0, int q0, int qstep, Raw &r)
	{
		const uint8_t *b = row + (k0 / 256) * 84;
		const int half = (k0 % 256) >> 7;
		const uint32_t s0 = ldg32(b + 8 * half), s1 = ldg32(b + 8 * half + 4), dd = ldg32(b + 80);
#pragma unroll
		for (int h = 0; h < QP; h++) {
			const int q = q0 + qstep * h;
			r.w[h] = ldg32(b + 16 + 32 * half + 4 * q);
			r.sc[h] = __byte_perm(s0, s1, (q >> 2) ? 0x7531u : 0x6420u);
		}
		r.d = h_lo(dd);
		r.dmin = h_hi(dd);
	}
	static __device__ __forceinline__ void quad(const Raw &r, int h, int g, float (&v)[4])
	{
		const uint32_t t = (r.w[h] >> (2 * g)) & 0x03030303u, sc = (r.sc[h] >> (8 * g)) & 0xFFu;
		float a = r.d * u2f(sc & 15), m = fmaf(-128.0f, a, -r.dmin * u2f(sc >> 4));
		a *= FB2_UNIT;
		fb2_quad(t, a, m, v);
	}
};

/* Q3_K: likewise for the low bits; the high bits of all eight slabs are
 * in the quad's hmask word, and its four 6-bit scales come packed
 * (q3k_scales6). */
template <int QP> struct SlabGroup<M40_TYPE_Q3_K, QP> {
	enum { N = 4 };
	struct Raw {
		uint32_t w[QP], hm[QP], s6[QP];
		float d;
	};
	static __device__ __forceinline__ void load(const uint8_t *row, int k0, int q0, int qstep, Raw &r)
	{
		const uint8_t *b = row + (k0 / 256) * 110;
		const int half = (k0 % 256) >> 7;
		const uint32_t l0 = ld32a2(b + 96), l1 = ld32a2(b + 100), hw = ld32a2(b + 104);
#pragma unroll
		for (int h = 0; h < QP; h++) {
			const int q = q0 + qstep * h, k2 = q >> 2;
			r.w[h] = ld32a2(b + 32 + 32 * half + 4 * q);
			r.hm[h] = ld32a2(b + 4 * q) >> (4 * half);
			r.s6[h] = q3k_scales6(l0, l1, hw, half, k2);
		}
		r.d = h_lo(ldg16(b + 108));
	}
	static __device__ __forceinline__ void quad(const Raw &r, int h, int g, float (&v)[4])
	{
		/* q - 4 where the high bit is clear: (q + 4 h) - 4 */
		const uint32_t t = ((r.w[h] >> (2 * g)) & 0x03030303u) | ((r.hm[h] >> g) & 0x01010101u) << 2;
		const float a = fmaf(r.d * FB2_UNIT, FB2(r.s6[h], g), -160.0f * r.d); /* d * (scale - 32) */
		fb2_quad(t, a * FB2_UNIT, -132.0f * a, v);
	}
};

template <int QP> struct SlabGroup<M40_TYPE_Q6_K, QP> {
	enum { N = 4 };
	struct Raw {
		uint32_t ql[2][QP], qh[QP];
		float a[4][QP]; /* d * scale / 65536 of slab g, quad h */
	};
	static __device__ __forceinline__ void load(const uint8_t *row, int k0, int q0, int qstep, Raw &r)
	{
		const uint8_t *b = row + (k0 / 256) * 210;
		const int half = (k0 % 256) >> 7;
		const float d = h_lo(ldg16(b + 208)) * FB2_UNIT;
#pragma unroll
		for (int h = 0; h < QP; h++) {
			const int q = q0 + qstep * h;
			r.ql[0][h] = ld32a2(b + 64 * half + 4 * q);
			r.ql[1][h] = ld32a2(b + 64 * half + 32 + 4 * q);
			r.qh[h] = ld32a2(b + 128 + 32 * half + 4 * q);
			/* the signed scales plus 128 (their top bits flipped) */
#pragma unroll
			for (int g = 0; g < 4; g++)
				r.a[g][h] = d * (u2f(ld8(b + 192 + 8 * half + 2 * g + (q >> 2)) ^ 0x80u) - 128.0f);
		}
	}
	static __device__ __forceinline__ void quad(const Raw &r, int h, int g, float (&v)[4])
	{
		const uint32_t t = ((r.ql[g & 1][h] >> (4 * (g >> 1))) & 0x0F0F0F0Fu) |
			((r.qh[h] >> (2 * g)) & 0x03030303u) << 4;
		const float a = r.a[g][h], m = a * (-160.0f * 65536.0f);
		fb2_quad(t, a, m, v);
	}
};

/* bmm_kernel's tiles: NT sequences a block (32 or 64), BMM rows, each
 * thread TM rows x TN sequences: 16 threads along the rows (a thread's
 * rows 16 apart) and NT / 4 along the sequences, 4 NT threads in all.
 * With the 8 x 8 tiles of 64 threads it had before, a Q4_K thread took 209
 * registers on the H100 (4 blocks, 8 warps an SM) and the products at 64
 * sequences issued in 53% of the cycles: too few warps to cover the slab
 * loads and the barriers.  Each thread dequantizes BMM * 8 / threads
 * quads and loads 2 float4s of x a slab. */
#define BMM 128
template <int NT> struct Tile {
	enum {
		TM = 8,
		TN = 4,
		MT = BMM / TM,          /* threads along the rows */
		NTH = MT * (NT / TN),   /* threads a block */
		QT = BMM * 8 / NTH,     /* quads a thread dequantizes */
		XS = NT + 4             /* floats a column of the x slab */
	};
	static_assert(QT * NTH == BMM * 8, "whole quads");
	static_assert(NT * BK == 8 * NTH, "2 float4s of x a thread");
};

/* Thread blocks an SM must hold at once: 4 of 128 threads; of 256, 3 on
 * sm_52 (80 registers) except where that spills there, and 2 from sm_70
 * on, where 3 spills every type. */
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 700
#define BMM_MIN3 1
#else
#define BMM_MIN3 0
#endif
template <int T, int NT> struct BmmMinB {
	enum {
		V = NT == 32 ? 4 : BMM_MIN3 && T != M40_TYPE_F16 && T != M40_TYPE_Q3_K && T != M40_TYPE_Q5_K ? 3 : 2
	};
};

/* Slabs [z * sps, (z + 1) * sps) of the columns; with part, the sums go to
 * part[z][n][rows], else to y (added where add). */
template <int T, int NT>
__global__ void __launch_bounds__(Tile<NT>::NTH, (BmmMinB<T, NT>::V))
bmm_kernel(const uint8_t *__restrict__ w, size_t row_bytes, int rows, int K, const float *__restrict__ x, int n,
	float *__restrict__ y, int add, int sps, float *__restrict__ part)
{
	typedef Tile<NT> P;
	enum { RS = P::NTH / 8 }; /* rows between a thread's quads */
	__shared__ __align__(16) float ws[BMM][WSTRIDE];
	__shared__ __align__(16) float xs[BK][P::XS];
	__shared__ float levels[16];
	const int t = threadIdx.x, tm = t % P::MT, tn = t / P::MT;
	const int row0 = blockIdx.x * BMM, z = blockIdx.z;
	const int s0 = z * sps, s1 = min(K / BK, s0 + sps);
	/* dequantizing: quad q of rows t / 8 + RS i; rows past the end repeat
	 * the last one (their sums are not stored); 32-bit offsets, as in
	 * bmq_kernel */
	const int q = t % 8, r8 = t / 8;
	uint32_t wr[P::QT];
#pragma unroll
	for (int i = 0; i < P::QT; i++)
		wr[i] = (uint32_t)min(row0 + r8 + RS * i, rows - 1) * (uint32_t)row_bytes;
	/* loading x: the float4 at column 4 (t % 8) of sequences t / 8 + RS u
	 * (a warp reads 4 sequences' 128 contiguous bytes) */
	const int xc = t % 8;
	const float4 *xp[2];
#pragma unroll
	for (int u = 0; u < 2; u++)
		xp[u] = (const float4 *)(x + (size_t)min(r8 + RS * u, n - 1) * K) + xc;
	if (T == M40_TYPE_IQ4_NL && t < 16)
		levels[t] = (float)m40q_iq4nl[t];
	float acc[P::TM][P::TN];
#pragma unroll
	for (int i = 0; i < P::TM; i++)
#pragma unroll
		for (int j = 0; j < P::TN; j++)
			acc[i][j] = 0.0f;
	for (int sl = s0; sl < s1; sl++) {
		const int k0 = sl * BK;
		/* x first, so that its loads and the weights' are in flight together */
		float4 xv[2];
#pragma unroll
		for (int u = 0; u < 2; u++)
			xv[u] = r8 + RS * u < n ? __ldg(xp[u] + k0 / 4) : make_float4(0, 0, 0, 0);
		__syncthreads(); /* the slab before is used up (and levels are set) */
#pragma unroll
		for (int i = 0; i < P::QT; i++) {
			float v[4];
			slab_quad<T>(w + wr[i], k0, q, v, levels);
			*(float4 *)&ws[r8 + RS * i][4 * q] = make_float4(v[0], v[1], v[2], v[3]);
		}
#pragma unroll
		for (int u = 0; u < 2; u++) {
			float *d = &xs[4 * xc][r8 + RS * u];
			d[0] = xv[u].x;
			d[P::XS] = xv[u].y;
			d[2 * P::XS] = xv[u].z;
			d[3 * P::XS] = xv[u].w;
		}
		__syncthreads();
#pragma unroll 2
		for (int k4 = 0; k4 < BK; k4 += 4) {
			float4 a[P::TM];
#pragma unroll
			for (int i = 0; i < P::TM; i++)
				a[i] = *(const float4 *)&ws[tm + i * P::MT][k4];
#pragma unroll
			for (int kk = 0; kk < 4; kk++) {
				const float4 c = *(const float4 *)&xs[k4 + kk][4 * tn];
#pragma unroll
				for (int i = 0; i < P::TM; i++) {
					const float ai = kk == 0 ? a[i].x : kk == 1 ? a[i].y : kk == 2 ? a[i].z : a[i].w;
					acc[i][0] = fmaf(ai, c.x, acc[i][0]);
					acc[i][1] = fmaf(ai, c.y, acc[i][1]);
					acc[i][2] = fmaf(ai, c.z, acc[i][2]);
					acc[i][3] = fmaf(ai, c.w, acc[i][3]);
				}
			}
		}
	}
#pragma unroll
	for (int i = 0; i < P::TM; i++) {
		const int r = row0 + tm + i * P::MT;
#pragma unroll
		for (int j = 0; j < P::TN; j++) {
			const int s = 4 * tn + j;
			if (r >= rows || s >= n)
				continue;
			if (part != NULL)
				part[((size_t)z * n + s) * rows + r] = acc[i][j];
			else if (add)
				y[(size_t)s * rows + r] += acc[i][j];
			else
				y[(size_t)s * rows + r] = acc[i][j];
		}
	}
}

/*
 * Up to 16 sequences: each weight is used by few sequences, so the slab
 * need not go through shared memory.  A thread block owns QM rows; a
 * thread dequantizes quads q and q + 4 (q = t % 4) of rows t / 4 + 16 i
 * (i < 4) into registers and multiplies those 32 weights with the NS
 * sequences' x of their 8 columns, read from shared memory as float4s of 4
 * sequences (lanes of the same q read the same words).  The 4 threads of a
 * row add up their sums once, at the end, by shuffles.  Per slab a thread
 * pays 8 quads, NS FFMAs a weight and NS / 4 loads a column from shared
 * memory, where bmm_kernel also stores and reloads every weight.  Its
 * first version (one quad of 4 rows a thread, 32-row blocks) took 8
 * sequences from 545 to 675 t/s on the H100 (7B Q4_K_M, in turn in one
 * call), 16 from 1051 to 1061.
 */
/* Quads a thread takes of each of its rows: q and q + 4 share their
 * block's scale (and, in the 32-weight formats, their words), which the
 * compiler then decodes once.  On the H100 (in turn in one call) 2 took 16
 * sequences from 1050 to 1140 t/s and Q4_K's products at n = 16 from 446
 * to 404 us against 1 quad a thread. */
#define QP 2
#define QTR (8 / QP)          /* threads a row */
#define QRT 4                 /* rows a thread */
#define QTHREADS 64           /* threads a block */
#define QM (QTHREADS / QTR * QRT) /* rows a block */
/* the x slab in shared memory: (column c, sequence s); the pad after every
 * 8 columns puts the float4s of the 8 quads' columns in distinct banks */
#define XSG (BK * 4 + 16)
__device__ __forceinline__ int xs_at(int c, int s)
{
	return (s >> 2) * XSG + 4 * c + 4 * (c >> 3) + (s & 3);
}

/* bmq_kernel's share of the x slab at column k0: the float4 at xp[u] + k0
 * / 4 for sequence xq + 8 u, zero past the batch */
template <int NS, int XU>
__device__ __forceinline__ void bmq_load_x(float4 (&xv)[XU], const float4 *const (&xp)[XU], int xq, int n, int k0)
{
#pragma unroll
	for (int u = 0; u < XU; u++)
		xv[u] = xq + 8 * u < n && xq + 8 * u < NS ? __ldg(xp[u] + k0 / 4) : make_float4(0, 0, 0, 0);
}

template <int T, int NS>
__global__ void __launch_bounds__(QTHREADS)
bmq_kernel(const uint8_t *__restrict__ w, size_t row_bytes, int rows, int K, const float *__restrict__ x, int n,
	float *__restrict__ y, int add, int sps, float *__restrict__ part)
{
	enum { XU = NS < 8 ? 1 : NS / 8, NV = QRT * NS, RG = QTHREADS / QTR };
	__shared__ __align__(16) float xs[2][NS / 4 * XSG];
	__shared__ float levels[16];
	const int t = threadIdx.x, tq = t % QTR, rg = t / QTR;
	const int row0 = blockIdx.x * QM, z = blockIdx.z;
	const int s0 = z * sps, s1 = min(K / BK, s0 + sps);
	/* quads tq + QTR h of rows rg + RG i; rows past the end repeat the last
	 * one (their sums are not stored) */
	/* as 32-bit offsets (the launcher keeps a matrix under 4 GiB): the
	 * compiler recomputes them in the loop rather than hold 64-bit
	 * pointers, and 64-bit products cost sm_52 ~15 XMADs each */
	uint32_t wr[QRT];
#pragma unroll
	for (int i = 0; i < QRT; i++)
		wr[i] = (uint32_t)min(row0 + rg + RG * i, rows - 1) * (uint32_t)row_bytes;
	if (T == M40_TYPE_IQ4_NL && t < 16)
		levels[t] = (float)m40q_iq4nl[t];
	/* x: the float4 at column 4 (t % 8) of sequences t / 8 + 8 u (below NS) */
	const int xc = t % 8, xq = t / 8;
	const float4 *xp[XU];
#pragma unroll
	for (int u = 0; u < XU; u++)
		xp[u] = (const float4 *)(x + (size_t)min(xq + 8 * u, n - 1) * K) + xc;
	float acc[NV];
#pragma unroll
	for (int i = 0; i < NV; i++)
		acc[i] = 0.0f;
	typedef SlabGroup<T, QP> SP;
	enum { SU = SP::N }; /* slabs an iteration */
	int buf = 0;
	/* x is loaded a slab ahead: loaded in the slab that used it, its
	 * latency (L2) stalled every slab; ahead, 16 sequences' Q4_K product
	 * took 288 us on the H200, not 310 */
	float4 xv[XU];
	bmq_load_x<NS>(xv, xp, xq, n, s0 * BK);
	for (int sl2 = s0; sl2 < s1; sl2 += SU) {
		typename SP::Raw pr[QRT];
		if (SU > 1)
#pragma unroll
			for (int i = 0; i < QRT; i++)
				SP::load(w + wr[i], sl2 * BK, tq, QTR, pr[i]);
#pragma unroll
		for (int hs = 0; hs < SU; hs++, buf ^= 1) {
			const int sl = sl2 + hs, k0 = sl * BK;
			/* xs[buf] was last read two slabs ago, before the barrier below
			 * that every thread passed in the slab before */
#pragma unroll
			for (int u = 0; u < XU; u++) {
				float *d = xs[buf];
				const int s = xq + 8 * u;
				if (s >= NS)
					break;
				d[xs_at(4 * xc, s)] = xv[u].x;
				d[xs_at(4 * xc + 1, s)] = xv[u].y;
				d[xs_at(4 * xc + 2, s)] = xv[u].z;
				d[xs_at(4 * xc + 3, s)] = xv[u].w;
			}
			bmq_load_x<NS>(xv, xp, xq, n, (sl + 1 < s1 ? sl + 1 : sl) * BK); /* the last slab reloads itself */
			if (T == M40_TYPE_IQ4_NL && sl == s0)
				__syncthreads(); /* levels are set */
			float v[QRT][QP][4];
#pragma unroll
			for (int i = 0; i < QRT; i++)
#pragma unroll
				for (int h = 0; h < QP; h++)
					if (SU > 1)
						SP::quad(pr[i], h, hs, v[i][h]);
					else
						slab_quad<T>(w + wr[i], k0, tq + QTR * h, v[i][h], levels);
			__syncthreads();
#pragma unroll
			for (int h = 0; h < QP; h++)
#pragma unroll
				for (int kk = 0; kk < 4; kk++)
#pragma unroll
					for (int g = 0; g < NS / 4; g++) {
						const float4 f = *(const float4 *)&xs[buf][xs_at(4 * (tq + QTR * h) + kk, 4 * g)];
#pragma unroll
						for (int i = 0; i < QRT; i++) {
							float *a = acc + i * NS + 4 * g;
							a[0] = fmaf(v[i][h][kk], f.x, a[0]);
							a[1] = fmaf(v[i][h][kk], f.y, a[1]);
							a[2] = fmaf(v[i][h][kk], f.z, a[2]);
							a[3] = fmaf(v[i][h][kk], f.w, a[3]);
						}
					}
		}
	}
	/* the sums over the row's QTR lanes: each round hands half of the
	 * values to the partner lane and keeps the other half, so lane tq ends
	 * with acc[NV / QTR * tq ..] */
	if (QTR == 8) {
		lanes_half_sum<NV, 4>(acc, tq);
		lanes_half_sum<NV / 2, 2>(acc, tq);
		lanes_half_sum<NV / 4, 1>(acc, tq);
	} else {
		lanes_half_sum<NV, 2>(acc, tq);
		lanes_half_sum<NV / 2, 1>(acc, tq);
	}
#pragma unroll
	for (int j = 0; j < NV / QTR; j++) {
		const int f = NV / QTR * tq + j, r = row0 + rg + RG * (f / NS), s = f % NS;
		if (r >= rows || s >= n)
			continue;
		if (part != NULL)
			part[((size_t)z * n + s) * rows + r] = acc[j];
		else if (add)
			y[(size_t)s * rows + r] += acc[j];
		else
			y[(size_t)s * rows + r] = acc[j];
	}
}

/* y[i] (+)= the sum over the splits of part[z][i], z in order. */
__global__ void bmm_sum(const float *__restrict__ part, int splits, size_t m, float *__restrict__ y, int add)
{
	size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= m)
		return;
	float v = 0.0f;
	for (int z = 0; z < splits; z++)
		v += part[(size_t)z * m + i];
	y[i] = add ? y[i] + v : v;
}

/* The most splits of K: each at least 4 slabs, the partial sums within
 * the weight-tile scratch (whose size the memory estimate counts). */
static int bmm_max_splits(int rows, int K, int n)
{
	int s = K / BK / 4;
	size_t room = M40_GPU_TILE_BYTES / ((size_t)n * rows * sizeof(float));
	if ((size_t)s > room)
		s = (int)room;
	return s < 1 ? 1 : s;
}

/* Slabs a split of K, for a kernel whose thread blocks take bm rows,
 * per_sm of them an SM at once, and slabs in groups of g: the least time
 * in rounds of blocks times slabs a block, the last round counted as a
 * full one (a 4096-row matrix in 9 splits of 128-row blocks takes 288
 * blocks, one round more than 8 splits on 132 SMs of 2 blocks each, for
 * one slab less a block) and a block's setup and stores as 2 slabs; more
 * splits only where they save 5%, for their partial sums cost memory
 * traffic and the kernel that adds them. */
static int bmm_split_slabs(const m40_backend *be, int rows, int bm, int K, int n, int per_sm, int g)
{
	const int slabs = K / BK, blocks = (rows + bm - 1) / bm, most = bmm_max_splits(rows, K, n);
	const long cap = (long)(per_sm > 0 ? per_sm : 1) * (be->sm_count > 0 ? be->sm_count : 16);
	int best = (slabs + g - 1) / g * g;
	long best_t = (blocks + cap - 1) / cap * (best + 2);
	for (int s = 2; s <= most; s++) {
		const int sps = ((slabs + s - 1) / s + g - 1) / g * g, used = (slabs + sps - 1) / sps;
		const long t = ((long)blocks * used + cap - 1) / cap * (sps + 2);
		if (20 * t < 19 * best_t) {
			best = sps;
			best_t = t;
		}
	}
	return best;
}

/* NT: bmm_kernel's tile for 32 or 64 sequences; negative: bmq_kernel for
 * -NT (4, 8 or 16) */
template <int T, int NT>
static m40_status bmm_launch(m40_backend *be, const m40_weight *w, const float *x, float *y, int n, int add)
{
	enum {
		NB = NT > 0 ? NT : 32,
		NQ = NT < 0 ? -NT : 8,
		BR = NT < 0 ? QM : BMM,                  /* rows a block */
		NTH = NT < 0 ? QTHREADS : Tile<NB>::NTH, /* threads a block */
	};
	const int rows = (int)w->rows, K = (int)w->cols, slabs = K / BK;
	int per_sm = 0;
	cudaError_t e = NT < 0 ? cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, bmq_kernel<T, NQ>, NTH, 0)
			       : cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, bmm_kernel<T, NB>, NTH, 0);
	if (e != cudaSuccess)
		return m40c_fail(be, e, "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
	/* bmq_kernel: whole groups of slabs (8 slabs a super-block) */
	const int sps = bmm_split_slabs(be, rows, BR, K, n, per_sm, NT < 0 ? SlabGroup<T, QP>::N : 1);
	const int splits = (slabs + sps - 1) / sps;
	float *part = NULL;
	if (splits > 1) {
		m40_status st = m40c_scratch(be, (void **)&be->tile, &be->tile_bytes,
			(size_t)splits * n * rows * sizeof(float), "weight tile");
		if (st != M40_OK)
			return st;
		part = be->tile;
	}
	dim3 grid((unsigned)((rows + BR - 1) / BR), 1, (unsigned)splits);
	if (NT < 0)
		bmq_kernel<T, NQ><<<grid, NTH, 0, be->stream>>>((const uint8_t *)w->data, w->row_bytes, rows, K, x, n, y,
			add, sps, part);
	else
		bmm_kernel<T, NB><<<grid, NTH, 0, be->stream>>>((const uint8_t *)w->data, w->row_bytes, rows, K, x, n, y,
			add, sps, part);
	if (part != NULL) {
		size_t m = (size_t)n * rows;
		bmm_sum<<<(unsigned)((m + 255) / 256), 256, 0, be->stream>>>(part, splits, m, y, add);
	}
	return m40c_check(be, "batched matmul");
}

template <int T>
static m40_status bmm_typed(m40_backend *be, const m40_weight *w, const float *x, float *y, int n, int add)
{
	if ((uintptr_t)w->data % Slab<T>::A || w->row_bytes % Slab<T>::A ||
		(uint64_t)w->rows * w->row_bytes > UINT32_MAX)
		return M40_E_UNSUPPORTED;
	if (n <= 4)
		return bmm_launch<T, -4>(be, w, x, y, n, add);
	if (n <= 8)
		return bmm_launch<T, -8>(be, w, x, y, n, add);
	if (n <= 16)
		return bmm_launch<T, -16>(be, w, x, y, n, add);
	if (n <= 32)
		return bmm_launch<T, 32>(be, w, x, y, n, add);
	return bmm_launch<T, 64>(be, w, x, y, n, add);
}

m40_status m40c_batch_matmul(m40_backend *be, const m40_weight *w, const float *x, float *y, int n, int add)
{
	if (n <= 0)
		return M40_OK;
	if (n > M40_CUDA_MV_BATCH || w->cols % BK || w->cols > INT_MAX || w->rows > INT_MAX / M40_CUDA_MV_BATCH)
		return M40_E_UNSUPPORTED;
	switch (w->type) {
	case M40_TYPE_F16: return bmm_typed<M40_TYPE_F16>(be, w, x, y, n, add);
	case M40_TYPE_BF16: return bmm_typed<M40_TYPE_BF16>(be, w, x, y, n, add);
	case M40_TYPE_Q4_0: return bmm_typed<M40_TYPE_Q4_0>(be, w, x, y, n, add);
	case M40_TYPE_Q4_1: return bmm_typed<M40_TYPE_Q4_1>(be, w, x, y, n, add);
	case M40_TYPE_Q5_0: return bmm_typed<M40_TYPE_Q5_0>(be, w, x, y, n, add);
	case M40_TYPE_Q5_1: return bmm_typed<M40_TYPE_Q5_1>(be, w, x, y, n, add);
	case M40_TYPE_Q8_0: return bmm_typed<M40_TYPE_Q8_0>(be, w, x, y, n, add);
	case M40_TYPE_IQ4_NL: return bmm_typed<M40_TYPE_IQ4_NL>(be, w, x, y, n, add);
	case M40_TYPE_Q2_K: return bmm_typed<M40_TYPE_Q2_K>(be, w, x, y, n, add);
	case M40_TYPE_Q3_K: return bmm_typed<M40_TYPE_Q3_K>(be, w, x, y, n, add);
	case M40_TYPE_Q4_K: return bmm_typed<M40_TYPE_Q4_K>(be, w, x, y, n, add);
	case M40_TYPE_Q5_K: return bmm_typed<M40_TYPE_Q5_K>(be, w, x, y, n, add);
	case M40_TYPE_Q6_K: return bmm_typed<M40_TYPE_Q6_K>(be, w, x, y, n, add);
	default: return M40_E_UNSUPPORTED;
	}
}
