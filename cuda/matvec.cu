/*
 * matvec.cu: decode matrix-vector products y[n][rows] = x[n][cols] . w^T on
 * weights in their GGUF blocks, for n <= M40_CUDA_MV_MAX sequences at once
 * (each weight byte is read once for all n).  Written for sm_52: FP32
 * arithmetic only, no dp4a.
 *
 * Two kernels.  mvq_kernel (below "the decode kernels") takes every format
 * on 16-byte aligned x and, fused, the Q/K/V products (with RMSNorm, RoPE
 * and the KV store), gate/up with SwiGLU and y += W x.  mv_kernel is the
 * fallback for what it cannot take (F32, weights not aligned to their
 * blocks): a warp per two rows, blocks staged through shared memory.
 *
 * Integer to float without I2F: a quant q (< 128) is put into byte 2 of
 * 0x4B000000 with one PRMT, giving f = 2^23 + q * 2^16 = 65536 * (128 + q).
 * Then sum_j q_j x_j = sum_j f_j x_j / 65536 - 128 * sum_j x_j, and the
 * sums of x are taken once for all the rows that use them.  So a weight
 * costs one PRMT and one FFMA per sequence; offsets and minimums fold into
 * the same x-sum term.  Q8_0 and IQ4_NL need all 8 bits: byte 0 of
 * 0x4B000000 and one FADD make them exact.
 */
#include "m40-int.h"

#include "m40-cuda.h"
#include "m40-quant.cuh"
#include "m40-rope.cuh"

#include <limits.h>
#include <string.h>

#define MV_WARPS 4
#define MV_RPW 2

/* The quant formats' chunks read a warp's staged copy in shared memory
 * (or global memory in the fallback), so these are plain loads. */
__device__ __forceinline__ uint32_t ld32(const uint8_t *p)
{
	return *(const unsigned int *)p;
}

__device__ __forceinline__ uint16_t ld16(const uint8_t *p)
{
	return *(const unsigned short *)p;
}

/* NW words from the 2-byte aligned address q + sh / 8 (q 4-byte aligned,
 * sh 0 or 16) into o[0..NW): aligned loads and funnel shifts.  NEXT: the
 * word after them lies in the block, so it is read whole, without a test. */
template <int NW, bool NEXT>
__device__ __forceinline__ void ldw_a2q(const unsigned int *q, uint32_t sh, uint32_t *o)
{
	uint32_t w[NW + 1];
	/* (a shift of 16 takes the high half of w[i] and the low half of w[i+1]) */
#pragma unroll
	for (int i = 0; i < NW; i++)
		w[i] = q[i];
	/* only the low half of the last word is used: unless NEXT, read just
	 * that, so nothing past the block (or the allocation) is touched */
	w[NW] = NEXT ? q[NW] : sh ? (uint32_t)*(const unsigned short *)(q + NW) : 0u;
#pragma unroll
	for (int i = 0; i < NW; i++)
		o[i] = __funnelshift_r(w[i], w[i + 1], sh);
}

template <int NW>
__device__ __forceinline__ void ldw_a2(const uint8_t *p, uint32_t *o)
{
	uintptr_t a = (uintptr_t)p;
	ldw_a2q<NW, false>((const unsigned int *)(a & ~(uintptr_t)3), (uint32_t)(a & 2) * 8, o);
}

__device__ __forceinline__ float4 ldx4(const float *p)
{
	return __ldg((const float4 *)p);
}

/* A[s] = sum over 16 values (4 words of byte-2 floats) times x[s][0..15]. */
template <int N>
__device__ __forceinline__ void dot16(const uint32_t (&q)[4], const float *x, int K, float (&A)[N])
{
	float f[16];
#pragma unroll
	for (int i = 0; i < 4; i++) {
		f[4 * i + 0] = FB2(q[i], 0);
		f[4 * i + 1] = FB2(q[i], 1);
		f[4 * i + 2] = FB2(q[i], 2);
		f[4 * i + 3] = FB2(q[i], 3);
	}
#pragma unroll
	for (int s = 0; s < N; s++) {
		const float *xs = x + (size_t)s * K;
		float a = 0.0f;
#pragma unroll
		for (int i = 0; i < 4; i++) {
			float4 v = ldx4(xs + 4 * i);
			a = fmaf(f[4 * i + 0], v.x, a);
			a = fmaf(f[4 * i + 1], v.y, a);
			a = fmaf(f[4 * i + 2], v.z, a);
			a = fmaf(f[4 * i + 3], v.w, a);
		}
		A[s] = a;
	}
}

/* a[s] += dA * A[s] - dS * sx[s][piece] */
template <int N>
__device__ __forceinline__ void fold(float (&a)[N], const float (&A)[N], float dA, float dS,
	const float *sx, int KP)
{
#pragma unroll
	for (int s = 0; s < N; s++)
		a[s] += dA * A[s] - dS * sx[s * KP];
}

/* 4 bits t spread to bit 4 of each byte */
__device__ __forceinline__ uint32_t spread4(uint32_t t)
{
	return ((t * 0x00204081u) & 0x01010101u) << 4;
}

/*
 * One struct per format: QK columns per block, BYTES per block, CPB chunks
 * per block (one lane does one chunk), SX whether the kernel needs x-sums,
 * ALIGN the byte alignment of the data and row_bytes it assumes.
 * chunk() adds the chunk's contribution for every sequence: x points at the
 * block's first column of sequence 0, sx at its first 16-column sum.
 */
template <int T> struct Fmt;

template <> struct Fmt<M40_TYPE_F32> {
	enum { QK = 4, BYTES = 16, CPB = 1, SX = 0, ALIGN = 16, STAGE = 0 };
	template <int N>
	static __device__ __forceinline__ void chunk(const uint8_t *b, int c, const float *x, int K,
		const float *sx, int KP, float (&a)[N])
	{
		float4 w = __ldg((const float4 *)b);
#pragma unroll
		for (int s = 0; s < N; s++) {
			float4 v = ldx4(x + (size_t)s * K);
			a[s] = fmaf(w.x, v.x, fmaf(w.y, v.y, fmaf(w.z, v.z, fmaf(w.w, v.w, a[s]))));
		}
	}
};

template <> struct Fmt<M40_TYPE_F16> {
	enum { QK = 8, BYTES = 16, CPB = 1, SX = 0, ALIGN = 16, STAGE = 0 };
	template <int N>
	static __device__ __forceinline__ void chunk(const uint8_t *b, int c, const float *x, int K,
		const float *sx, int KP, float (&a)[N])
	{
		uint4 w = __ldg((const uint4 *)b);
		float f[8] = { h_lo(w.x), h_hi(w.x), h_lo(w.y), h_hi(w.y), h_lo(w.z), h_hi(w.z), h_lo(w.w), h_hi(w.w) };
#pragma unroll
		for (int s = 0; s < N; s++) {
			float4 v0 = ldx4(x + (size_t)s * K), v1 = ldx4(x + (size_t)s * K + 4);
			float t = a[s];
			t = fmaf(f[0], v0.x, t); t = fmaf(f[1], v0.y, t); t = fmaf(f[2], v0.z, t); t = fmaf(f[3], v0.w, t);
			t = fmaf(f[4], v1.x, t); t = fmaf(f[5], v1.y, t); t = fmaf(f[6], v1.z, t); t = fmaf(f[7], v1.w, t);
			a[s] = t;
		}
	}
};

template <> struct Fmt<M40_TYPE_BF16> {
	enum { QK = 8, BYTES = 16, CPB = 1, SX = 0, ALIGN = 16, STAGE = 0 };
	template <int N>
	static __device__ __forceinline__ void chunk(const uint8_t *b, int c, const float *x, int K,
		const float *sx, int KP, float (&a)[N])
	{
		uint4 w = __ldg((const uint4 *)b);
		float f[8] = {
			__uint_as_float(w.x << 16), __uint_as_float(w.x & 0xFFFF0000u),
			__uint_as_float(w.y << 16), __uint_as_float(w.y & 0xFFFF0000u),
			__uint_as_float(w.z << 16), __uint_as_float(w.z & 0xFFFF0000u),
			__uint_as_float(w.w << 16), __uint_as_float(w.w & 0xFFFF0000u),
		};
#pragma unroll
		for (int s = 0; s < N; s++) {
			float4 v0 = ldx4(x + (size_t)s * K), v1 = ldx4(x + (size_t)s * K + 4);
			float t = a[s];
			t = fmaf(f[0], v0.x, t); t = fmaf(f[1], v0.y, t); t = fmaf(f[2], v0.z, t); t = fmaf(f[3], v0.w, t);
			t = fmaf(f[4], v1.x, t); t = fmaf(f[5], v1.y, t); t = fmaf(f[6], v1.z, t); t = fmaf(f[7], v1.w, t);
			a[s] = t;
		}
	}
};

template <> struct Fmt<M40_TYPE_Q4_0> {
	enum { QK = 32, BYTES = 18, CPB = 1, SX = 1, ALIGN = 2, STAGE = 1 };
	template <int N>
	static __device__ __forceinline__ void chunk(const uint8_t *b, int c, const float *x, int K,
		const float *sx, int KP, float (&a)[N])
	{
		float d = m40q_h2f_u16(ld16(b));
		uint32_t q[4], lo[4], hi[4];
		ldw_a2<4>(b + 2, q);
#pragma unroll
		for (int i = 0; i < 4; i++) {
			lo[i] = q[i] & 0x0F0F0F0Fu;
			hi[i] = (q[i] >> 4) & 0x0F0F0F0Fu;
		}
		float A[N], B[N];
		dot16<N>(lo, x, K, A);
		dot16<N>(hi, x + 16, K, B);
#pragma unroll
		for (int s = 0; s < N; s++)
			a[s] += d * ((A[s] + B[s]) * (1.0f / 65536.0f) - 136.0f * (sx[s * KP] + sx[s * KP + 1]));
	}
};

template <> struct Fmt<M40_TYPE_Q4_1> {
	enum { QK = 32, BYTES = 20, CPB = 1, SX = 1, ALIGN = 4, STAGE = 1 };
	template <int N>
	static __device__ __forceinline__ void chunk(const uint8_t *b, int c, const float *x, int K,
		const float *sx, int KP, float (&a)[N])
	{
		uint32_t dm = ld32(b);
		float d = h_lo(dm), m = h_hi(dm);
		uint32_t lo[4], hi[4];
#pragma unroll
		for (int i = 0; i < 4; i++) {
			uint32_t q = ld32(b + 4 + 4 * i);
			lo[i] = q & 0x0F0F0F0Fu;
			hi[i] = (q >> 4) & 0x0F0F0F0Fu;
		}
		float A[N], B[N];
		dot16<N>(lo, x, K, A);
		dot16<N>(hi, x + 16, K, B);
		float dS = 128.0f * d - m;
#pragma unroll
		for (int s = 0; s < N; s++)
			a[s] += d * (1.0f / 65536.0f) * (A[s] + B[s]) - dS * (sx[s * KP] + sx[s * KP + 1]);
	}
};

template <> struct Fmt<M40_TYPE_Q5_0> {
	enum { QK = 32, BYTES = 22, CPB = 1, SX = 1, ALIGN = 2, STAGE = 1 };
	template <int N>
	static __device__ __forceinline__ void chunk(const uint8_t *b, int c, const float *x, int K,
		const float *sx, int KP, float (&a)[N])
	{
		float d = m40q_h2f_u16(ld16(b));
		uint32_t qh[1], q[4], lo[4], hi[4];
		ldw_a2<1>(b + 2, qh);
		ldw_a2<4>(b + 6, q);
#pragma unroll
		for (int i = 0; i < 4; i++) {
			lo[i] = (q[i] & 0x0F0F0F0Fu) | spread4((qh[0] >> (4 * i)) & 0xF);
			hi[i] = ((q[i] >> 4) & 0x0F0F0F0Fu) | spread4((qh[0] >> (16 + 4 * i)) & 0xF);
		}
		float A[N], B[N];
		dot16<N>(lo, x, K, A);
		dot16<N>(hi, x + 16, K, B);
#pragma unroll
		for (int s = 0; s < N; s++)
			a[s] += d * ((A[s] + B[s]) * (1.0f / 65536.0f) - 144.0f * (sx[s * KP] + sx[s * KP + 1]));
	}
};

template <> struct Fmt<M40_TYPE_Q5_1> {
	enum { QK = 32, BYTES = 24, CPB = 1, SX = 1, ALIGN = 8, STAGE = 1 };
	template <int N>
	static __device__ __forceinline__ void chunk(const uint8_t *b, int c, const float *x, int K,
		const float *sx, int KP, float (&a)[N])
	{
		uint2 hdr = *(const uint2 *)b;
		float d = h_lo(hdr.x), m = h_hi(hdr.x);
		uint32_t qh = hdr.y;
		uint2 q01 = *(const uint2 *)(b + 8), q23 = *(const uint2 *)(b + 16);
		uint32_t q[4] = { q01.x, q01.y, q23.x, q23.y }, lo[4], hi[4];
#pragma unroll
		for (int i = 0; i < 4; i++) {
			lo[i] = (q[i] & 0x0F0F0F0Fu) | spread4((qh >> (4 * i)) & 0xF);
			hi[i] = ((q[i] >> 4) & 0x0F0F0F0Fu) | spread4((qh >> (16 + 4 * i)) & 0xF);
		}
		float A[N], B[N];
		dot16<N>(lo, x, K, A);
		dot16<N>(hi, x + 16, K, B);
		float dS = 128.0f * d - m;
#pragma unroll
		for (int s = 0; s < N; s++)
			a[s] += d * (1.0f / 65536.0f) * (A[s] + B[s]) - dS * (sx[s * KP] + sx[s * KP + 1]);
	}
};

template <> struct Fmt<M40_TYPE_Q8_0> {
	enum { QK = 32, BYTES = 34, CPB = 1, SX = 0, ALIGN = 2, STAGE = 1 };
	template <int N>
	static __device__ __forceinline__ void chunk(const uint8_t *b, int c, const float *x, int K,
		const float *sx, int KP, float (&a)[N])
	{
		float d = m40q_h2f_u16(ld16(b));
		uint32_t q[8];
		ldw_a2<8>(b + 2, q);
		float f[32];
#pragma unroll
		for (int i = 0; i < 8; i++) {
			uint32_t v = q[i] ^ 0x80808080u;
			f[4 * i + 0] = FB0(v, 0) - 8388736.0f;
			f[4 * i + 1] = FB0(v, 1) - 8388736.0f;
			f[4 * i + 2] = FB0(v, 2) - 8388736.0f;
			f[4 * i + 3] = FB0(v, 3) - 8388736.0f;
		}
#pragma unroll
		for (int s = 0; s < N; s++) {
			const float *xs = x + (size_t)s * K;
			float t = 0.0f;
#pragma unroll
			for (int i = 0; i < 8; i++) {
				float4 v = ldx4(xs + 4 * i);
				t = fmaf(f[4 * i + 0], v.x, t);
				t = fmaf(f[4 * i + 1], v.y, t);
				t = fmaf(f[4 * i + 2], v.z, t);
				t = fmaf(f[4 * i + 3], v.w, t);
			}
			a[s] = fmaf(d, t, a[s]);
		}
	}
};

/* IQ4_NL levels + 128, four to a word, for PRMT lookups. */
#define IQ4_T0 0x3F2D1801u /* 1 24 45 63 */
#define IQ4_T1 0x766A5D4Fu /* 79 93 106 118 */
#define IQ4_T2 0xA6998D81u /* 129 141 153 166 */
#define IQ4_T3 0xF1D9C5B5u /* 181 197 217 241 */

/* 4 nibbles (a 16-bit selector) to their 4 levels + 128 */
__device__ __forceinline__ uint32_t iq4_lookup(uint32_t sel)
{
	uint32_t s7 = sel & 0x7777u;
	uint32_t r0 = __byte_perm(IQ4_T0, IQ4_T1, s7);
	uint32_t r1 = __byte_perm(IQ4_T2, IQ4_T3, s7);
	return __byte_perm(r0, r1, 0x3210u | ((sel & 0x8888u) >> 1));
}

template <> struct Fmt<M40_TYPE_IQ4_NL> {
	enum { QK = 32, BYTES = 18, CPB = 1, SX = 0, ALIGN = 2, STAGE = 1 };
	template <int N>
	static __device__ __forceinline__ void chunk(const uint8_t *b, int c, const float *x, int K,
		const float *sx, int KP, float (&a)[N])
	{
		float d = m40q_h2f_u16(ld16(b));
		uint32_t q[4];
		ldw_a2<4>(b + 2, q);
		/* f[4i + k] pairs with x[4i + k] and g[4i + k] with x[16 + 4i + k] */
		float f[16], g[16];
#pragma unroll
		for (int i = 0; i < 4; i++) {
			uint32_t u0 = iq4_lookup(q[i] & 0xFFFF), u1 = iq4_lookup(q[i] >> 16);
			f[4 * i + 0] = FB0(u0, 0) - 8388736.0f;
			g[4 * i + 0] = FB0(u0, 1) - 8388736.0f;
			f[4 * i + 1] = FB0(u0, 2) - 8388736.0f;
			g[4 * i + 1] = FB0(u0, 3) - 8388736.0f;
			f[4 * i + 2] = FB0(u1, 0) - 8388736.0f;
			g[4 * i + 2] = FB0(u1, 1) - 8388736.0f;
			f[4 * i + 3] = FB0(u1, 2) - 8388736.0f;
			g[4 * i + 3] = FB0(u1, 3) - 8388736.0f;
		}
#pragma unroll
		for (int s = 0; s < N; s++) {
			const float *xs = x + (size_t)s * K;
			float t = 0.0f;
#pragma unroll
			for (int i = 0; i < 4; i++) {
				float4 v = ldx4(xs + 4 * i), w = ldx4(xs + 16 + 4 * i);
				t = fmaf(f[4 * i + 0], v.x, t);
				t = fmaf(f[4 * i + 1], v.y, t);
				t = fmaf(f[4 * i + 2], v.z, t);
				t = fmaf(f[4 * i + 3], v.w, t);
				t = fmaf(g[4 * i + 0], w.x, t);
				t = fmaf(g[4 * i + 1], w.y, t);
				t = fmaf(g[4 * i + 2], w.z, t);
				t = fmaf(g[4 * i + 3], w.w, t);
			}
			a[s] = fmaf(d, t, a[s]);
		}
	}
};

/* Q2_K: chunk c = (half, k2): 16 columns in each of the 4 shift groups. */
template <> struct Fmt<M40_TYPE_Q2_K> {
	enum { QK = 256, BYTES = 84, CPB = 4, SX = 1, ALIGN = 4, STAGE = 1 };
	template <int N>
	static __device__ __forceinline__ void chunk(const uint8_t *b, int c, const float *x, int K,
		const float *sx, int KP, float (&a)[N])
	{
		int half = c >> 1, k2 = c & 1;
		uint32_t dd = ld32(b + 80);
		float d = h_lo(dd), dmin = h_hi(dd);
		uint32_t q[4];
#pragma unroll
		for (int i = 0; i < 4; i++)
			q[i] = ld32(b + 16 + 32 * half + 16 * k2 + 4 * i);
		/* the 4 scale bytes of this chunk: k2 + 0, 2, 4, 6 of the half's 8 */
		uint32_t sw = __byte_perm(ld32(b + 8 * half), ld32(b + 8 * half + 4), k2 ? 0x7531u : 0x6420u);
		uint32_t slo = sw & 0x0F0F0F0Fu, shi = (sw >> 4) & 0x0F0F0F0Fu;
		float d6 = d * (1.0f / 65536.0f), m6 = dmin * (1.0f / 65536.0f);
		const float *xc = x + 16 * k2 + 128 * half;
		const float *sc = sx + k2 + 8 * half;
#pragma unroll
		for (int g = 0; g < 4; g++) {
			uint32_t u[4];
#pragma unroll
			for (int i = 0; i < 4; i++)
				u[i] = (q[i] >> (2 * g)) & 0x03030303u;
			float dl = fmaf(d6, FB2(slo, g), -128.0f * d), ml = fmaf(m6, FB2(shi, g), -128.0f * dmin);
			float A[N];
			dot16<N>(u, xc + 32 * g, K, A);
			fold<N>(a, A, dl * (1.0f / 65536.0f), 128.0f * dl + ml, sc + 2 * g, KP);
		}
	}
};

template <> struct Fmt<M40_TYPE_Q3_K> {
	enum { QK = 256, BYTES = 110, CPB = 4, SX = 1, ALIGN = 2, STAGE = 1 };
	template <int N>
	static __device__ __forceinline__ void chunk(const uint8_t *b, int c, const float *x, int K,
		const float *sx, int KP, float (&a)[N])
	{
		int half = c >> 1, k2 = c & 1;
		float d = m40q_h2f_u16(ld16(b + 108));
		uint32_t q[4], h[4];
		ldw_a2<4>(b + 32 + 32 * half + 16 * k2, q);
		ldw_a2<4>(b + 16 * k2, h);
		/* scale i = 8 half + 2 g + k2: low 4 bits in byte 2g + k2 (nibble
		 * half), high 2 bits in byte 8 + (2g + k2) % 4 at bit 2 (2 half + g / 2) */
		uint32_t sw[3];
		ldw_a2<3>(b + 96, sw);
		uint32_t sel = k2 ? 0x7531u : 0x6420u;
		uint32_t lo = (__byte_perm(sw[0], sw[1], sel) >> (4 * half)) & 0x0F0F0F0Fu;
		uint32_t hb = __byte_perm(sw[2], 0, k2 ? 0x3131u : 0x2020u) >> (4 * half);
		hb = (hb & 0x00000303u) | ((hb >> 2) & 0x03030000u);
		uint32_t s6 = lo | (hb << 4);
		float d6 = d * (1.0f / 65536.0f);
		const float *xc = x + 16 * k2 + 128 * half;
		const float *sc = sx + k2 + 8 * half;
#pragma unroll
		for (int g = 0; g < 4; g++) {
			uint32_t u[4];
			int hs = 4 * half + g;
#pragma unroll
			for (int i = 0; i < 4; i++)
				u[i] = ((q[i] >> (2 * g)) & 0x03030303u) | (((h[i] >> hs) & 0x01010101u) << 2);
			float dl = fmaf(d6, FB2(s6, g), -160.0f * d); /* d * (scale - 32) */
			float A[N];
			dot16<N>(u, xc + 32 * g, K, A);
			fold<N>(a, A, dl * (1.0f / 65536.0f), 132.0f * dl, sc + 2 * g, KP);
		}
	}
};

/* Q4_K / Q5_K: the scales and minimums of sub-blocks 2j and 2j+1 from the
 * 12 scale bytes at s (4-aligned), as d * scale and dmin * min. */
__device__ __forceinline__ void k4_scales(const uint8_t *s, int j, float d, float dmin, float (&dl)[2],
	float (&ml)[2])
{
	uint32_t sh = 16 * (j & 1);
	uint32_t a = ld32(s) >> sh, b = ld32(s + 4) >> sh, c = ld32(s + 8) >> sh;
	uint32_t sc = j < 2 ? (a & 0x3F3Fu) : ((c & 0x0F0Fu) | ((a >> 2) & 0x3030u));
	uint32_t m = j < 2 ? (b & 0x3F3Fu) : (((c >> 4) & 0x0F0Fu) | ((b >> 2) & 0x3030u));
	/* FB2 gives 65536 * (128 + v) */
	float d6 = d * (1.0f / 65536.0f), m6 = dmin * (1.0f / 65536.0f);
	dl[0] = fmaf(d6, FB2(sc, 0), -128.0f * d);
	dl[1] = fmaf(d6, FB2(sc, 1), -128.0f * d);
	ml[0] = fmaf(m6, FB2(m, 0), -128.0f * dmin);
	ml[1] = fmaf(m6, FB2(m, 1), -128.0f * dmin);
}

/* Sub-blocks 2j (l0, l1: 16 + 16 columns) and 2j+1 (h0, h1) of a Q4_K/Q5_K
 * chunk, folded one sub-block at a time (fewer live registers). */
template <int N>
__device__ __forceinline__ void k4_fold(const uint32_t (&l0)[4], const uint32_t (&l1)[4], const uint32_t (&h0)[4],
	const uint32_t (&h1)[4], const float *xc, int K, const float *sc, int KP, const float (&dl)[2],
	const float (&ml)[2], float (&a)[N])
{
	float A[N], B[N];
	dot16<N>(l0, xc, K, A);
	dot16<N>(l1, xc + 16, K, B);
	float a0 = dl[0] * (1.0f / 65536.0f), s0 = 128.0f * dl[0] + ml[0];
#pragma unroll
	for (int s = 0; s < N; s++)
		a[s] += a0 * (A[s] + B[s]) - s0 * (sc[s * KP] + sc[s * KP + 1]);
	dot16<N>(h0, xc + 32, K, A);
	dot16<N>(h1, xc + 48, K, B);
	float a1 = dl[1] * (1.0f / 65536.0f), s1 = 128.0f * dl[1] + ml[1];
#pragma unroll
	for (int s = 0; s < N; s++)
		a[s] += a1 * (A[s] + B[s]) - s1 * (sc[s * KP + 2] + sc[s * KP + 3]);
}

/* Q4_K: chunk j: sub-blocks 2j (low nibbles of qs[32j..32j+32]) and 2j+1
 * (high nibbles), two 16-byte loads. */
template <> struct Fmt<M40_TYPE_Q4_K> {
	enum { QK = 256, BYTES = 144, CPB = 4, SX = 1, ALIGN = 16, STAGE = 1 };
	template <int N>
	static __device__ __forceinline__ void chunk(const uint8_t *b, int j, const float *x, int K,
		const float *sx, int KP, float (&a)[N])
	{
		uint32_t dd = ld32(b);
		float dl[2], ml[2];
		k4_scales(b + 4, j, h_lo(dd), h_hi(dd), dl, ml);
		uint4 w0 = *(const uint4 *)(b + 16 + 32 * j), w1 = *(const uint4 *)(b + 32 + 32 * j);
		uint32_t q0[4] = { w0.x, w0.y, w0.z, w0.w }, q1[4] = { w1.x, w1.y, w1.z, w1.w };
		uint32_t l0[4], l1[4], h0[4], h1[4];
#pragma unroll
		for (int i = 0; i < 4; i++) {
			l0[i] = q0[i] & 0x0F0F0F0Fu;
			l1[i] = q1[i] & 0x0F0F0F0Fu;
			h0[i] = (q0[i] >> 4) & 0x0F0F0F0Fu;
			h1[i] = (q1[i] >> 4) & 0x0F0F0F0Fu;
		}
		k4_fold<N>(l0, l1, h0, h1, x + 64 * j, K, sx + 4 * j, KP, dl, ml, a);
	}
};

template <> struct Fmt<M40_TYPE_Q5_K> {
	enum { QK = 256, BYTES = 176, CPB = 4, SX = 1, ALIGN = 16, STAGE = 1 };
	template <int N>
	static __device__ __forceinline__ void chunk(const uint8_t *b, int j, const float *x, int K,
		const float *sx, int KP, float (&a)[N])
	{
		uint32_t dd = ld32(b);
		float dl[2], ml[2];
		k4_scales(b + 4, j, h_lo(dd), h_hi(dd), dl, ml);
		uint4 w0 = *(const uint4 *)(b + 48 + 32 * j), w1 = *(const uint4 *)(b + 64 + 32 * j);
		uint4 e0 = *(const uint4 *)(b + 16), e1 = *(const uint4 *)(b + 32);
		uint32_t q0[4] = { w0.x, w0.y, w0.z, w0.w }, q1[4] = { w1.x, w1.y, w1.z, w1.w };
		uint32_t g0[4] = { e0.x, e0.y, e0.z, e0.w }, g1[4] = { e1.x, e1.y, e1.z, e1.w };
		uint32_t l0[4], l1[4], h0[4], h1[4];
#pragma unroll
		for (int i = 0; i < 4; i++) {
			uint32_t u0 = g0[i] >> (2 * j), u1 = g1[i] >> (2 * j);
			l0[i] = (q0[i] & 0x0F0F0F0Fu) | ((u0 << 4) & 0x10101010u);
			l1[i] = (q1[i] & 0x0F0F0F0Fu) | ((u1 << 4) & 0x10101010u);
			h0[i] = ((q0[i] >> 4) & 0x0F0F0F0Fu) | ((u0 << 3) & 0x10101010u);
			h1[i] = ((q1[i] >> 4) & 0x0F0F0F0Fu) | ((u1 << 3) & 0x10101010u);
		}
		k4_fold<N>(l0, l1, h0, h1, x + 64 * j, K, sx + 4 * j, KP, dl, ml, a);
	}
};

/* Q6_K: chunk c = (half, k2): 16 columns of each of the 4 groups. */
template <> struct Fmt<M40_TYPE_Q6_K> {
	enum { QK = 256, BYTES = 210, CPB = 4, SX = 1, ALIGN = 2, STAGE = 1 };
	template <int N>
	static __device__ __forceinline__ void chunk(const uint8_t *b, int c, const float *x, int K,
		const float *sx, int KP, float (&a)[N])
	{
		int half = c >> 1, k2 = c & 1;
		float d = m40q_h2f_u16(ld16(b + 208));
		uint32_t qa[4], qb[4], qh[4];
		ldw_a2<4>(b + 64 * half + 16 * k2, qa);
		ldw_a2<4>(b + 64 * half + 32 + 16 * k2, qb);
		ldw_a2<4>(b + 128 + 32 * half + 16 * k2, qh);
		const signed char *scp = (const signed char *)(b + 192 + 8 * half + k2);
		const float *xc = x + 128 * half + 16 * k2;
		const float *sc = sx + 8 * half + k2;
#pragma unroll
		for (int g = 0; g < 4; g++) {
			uint32_t u[4];
#pragma unroll
			for (int i = 0; i < 4; i++) {
				uint32_t l4 = ((g & 1) ? qb[i] : qa[i]) >> (4 * (g >> 1));
				u[i] = (l4 & 0x0F0F0F0Fu) | (((qh[i] >> (2 * g)) & 0x03030303u) << 4);
			}
			float dl = d * (float)scp[2 * g];
			float A[N];
			dot16<N>(u, xc + 32 * g, K, A);
			fold<N>(a, A, dl * (1.0f / 65536.0f), 160.0f * dl, sc + 2 * g, KP);
		}
	}
};

/* 16-byte words of one warp's segment of a row: 32 / CPB blocks */
template <int T> struct Seg {
	enum { BYTES = 32 / Fmt<T>::CPB * Fmt<T>::BYTES, W16 = (BYTES + 15) / 16, PER_LANE = (W16 + 31) / 32 };
};

template <int T, int N>
__global__ void __launch_bounds__(MV_WARPS * 32)
mv_kernel(const uint8_t *__restrict__ w, size_t row_bytes, int rows, int K, const float *__restrict__ x,
	float *__restrict__ y, int staged)
{
	typedef Fmt<T> F;
	typedef Seg<T> S;
	extern __shared__ float sx[];
	/* staged segments, two rows a warp, one word of slack for ldw_a2 */
	__shared__ uint4 stg[F::STAGE ? MV_WARPS : 1][MV_RPW][F::STAGE ? S::W16 + 1 : 1];
	const int KP = K / 16;
	if (F::SX) {
#pragma unroll
		for (int s = 0; s < N; s++)
			for (int p = threadIdx.x; p < KP; p += blockDim.x) {
				const float *xp = x + (size_t)s * K + 16 * p;
				float4 v0 = ldx4(xp), v1 = ldx4(xp + 4), v2 = ldx4(xp + 8), v3 = ldx4(xp + 12);
				sx[s * KP + p] = ((v0.x + v0.y) + (v0.z + v0.w)) + ((v1.x + v1.y) + (v1.z + v1.w)) +
					((v2.x + v2.y) + (v2.z + v2.w)) + ((v3.x + v3.y) + (v3.z + v3.w));
			}
		__syncthreads();
	}
	const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
	const int row0 = (blockIdx.x * MV_WARPS + warp) * MV_RPW;
	if (row0 >= rows)
		return;
	const bool two = row0 + 1 < rows;
	float acc[MV_RPW][N];
#pragma unroll
	for (int r = 0; r < MV_RPW; r++)
#pragma unroll
		for (int s = 0; s < N; s++)
			acc[r][s] = 0.0f;
	/* lane l always takes part l % CPB of blocks l / CPB, + 32 / CPB, ... */
	const int nb = K / F::QK, part = lane % F::CPB, bstep = 32 / F::CPB, myb = lane / F::CPB;
	const uint8_t *g0 = w + (size_t)row0 * row_bytes;
	const uint8_t *g1 = two ? g0 + row_bytes : g0;
	if (F::STAGE && staged) {
		/* The warp copies each segment of its two rows with coalesced
		 * 16-byte loads (the next one prefetched into registers while
		 * this one is computed), then every lane decodes its chunk from
		 * shared memory: 18- or 34-byte blocks read lane by lane would
		 * touch each sector several times. */
		uint4 *s0 = stg[warp][0], *s1 = stg[warp][1];
		const uint8_t *c0 = (const uint8_t *)s0 + myb * F::BYTES, *c1 = (const uint8_t *)s1 + myb * F::BYTES;
		/* prefetching costs registers: only for the decode of few sequences */
		const bool pref = N <= 2;
		uint4 r0[S::PER_LANE], r1[S::PER_LANE];
		int seg_words = ((nb < bstep ? nb : bstep) * F::BYTES) / 16;
		if (pref) {
#pragma unroll
			for (int k = 0; k < S::PER_LANE; k++)
				if (lane + 32 * k < seg_words) {
					r0[k] = __ldg((const uint4 *)g0 + lane + 32 * k);
					r1[k] = __ldg((const uint4 *)g1 + lane + 32 * k);
				}
		}
		for (int b0 = 0; b0 < nb; b0 += bstep) {
			if (!pref) {
				const uint4 *q0 = (const uint4 *)(g0 + (size_t)b0 * F::BYTES);
				const uint4 *q1 = (const uint4 *)(g1 + (size_t)b0 * F::BYTES);
#pragma unroll
				for (int k = 0; k < S::PER_LANE; k++)
					if (lane + 32 * k < seg_words) {
						r0[k] = __ldg(q0 + lane + 32 * k);
						r1[k] = __ldg(q1 + lane + 32 * k);
					}
			}
#pragma unroll
			for (int k = 0; k < S::PER_LANE; k++)
				if (lane + 32 * k < seg_words) {
					s0[lane + 32 * k] = r0[k];
					s1[lane + 32 * k] = r1[k];
				}
			__syncwarp();
			int b1 = b0 + bstep;
			if (pref && b1 < nb) {
				const uint4 *q0 = (const uint4 *)(g0 + (size_t)b1 * F::BYTES);
				const uint4 *q1 = (const uint4 *)(g1 + (size_t)b1 * F::BYTES);
				int left = nb - b1;
				int nw = ((left < bstep ? left : bstep) * F::BYTES) / 16;
#pragma unroll
				for (int k = 0; k < S::PER_LANE; k++)
					if (lane + 32 * k < nw) {
						r0[k] = __ldg(q0 + lane + 32 * k);
						r1[k] = __ldg(q1 + lane + 32 * k);
					}
			}
			int bi = b0 + myb;
			if (bi < nb) {
				const float *xb = x + (size_t)bi * F::QK;
				const float *sb = sx + bi * (F::QK / 16);
				F::template chunk<N>(c0, part, xb, K, sb, KP, acc[0]);
				F::template chunk<N>(c1, part, xb, K, sb, KP, acc[1]);
			}
			seg_words = b1 < nb ? (((nb - b1) < bstep ? (nb - b1) : bstep) * F::BYTES) / 16 : 0;
			__syncwarp();
		}
	} else {
		int bi = myb;
		const uint8_t *p0 = g0 + (size_t)bi * F::BYTES;
		const uint8_t *p1 = g1 + (size_t)bi * F::BYTES;
		const float *xb = x + (size_t)bi * F::QK;
		const float *sb = sx + bi * (F::QK / 16);
		for (; bi < nb; bi += bstep) {
			F::template chunk<N>(p0, part, xb, K, sb, KP, acc[0]);
			F::template chunk<N>(p1, part, xb, K, sb, KP, acc[1]);
			p0 += bstep * F::BYTES;
			p1 += bstep * F::BYTES;
			xb += bstep * F::QK;
			sb += bstep * (F::QK / 16);
		}
	}
#pragma unroll
	for (int r = 0; r < MV_RPW; r++) {
#pragma unroll
		for (int s = 0; s < N; s++) {
			float v = warp_sum(acc[r][s]);
			if (lane == s && (r == 0 || two))
				y[(size_t)s * rows + row0 + r] = v;
		}
	}
}

/* Any type, any alignment: a warp per row, one element at a time. */
__global__ void mv_generic(int type, const uint8_t *__restrict__ w, size_t row_bytes, int rows, int K,
	const float *__restrict__ x, float *__restrict__ y, int n)
{
	const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
	if (row >= rows)
		return;
	const uint8_t *wr = w + (size_t)row * row_bytes;
	float acc[M40_CUDA_MV_MAX];
	for (int s = 0; s < M40_CUDA_MV_MAX; s++)
		acc[s] = 0.0f;
	for (int c = lane; c < K; c += 32) {
		float v = m40q_row_elem(type, wr, c);
#pragma unroll
		for (int s = 0; s < M40_CUDA_MV_MAX; s++)
			if (s < n)
				acc[s] = fmaf(v, x[(size_t)s * K + c], acc[s]);
	}
#pragma unroll
	for (int s = 0; s < M40_CUDA_MV_MAX; s++) {
		float v = warp_sum(acc[s]);
		if (lane == 0 && s < n)
			y[(size_t)s * rows + row] = v;
	}
}

template <int T, int N>
static void launch_n(m40_backend *be, const m40_weight *w, const float *x, float *y, size_t smem)
{
	int per = MV_WARPS * MV_RPW;
	unsigned grid = (unsigned)((w->rows + per - 1) / per);
	/* staging copies whole 16-byte words: rows must start 16-aligned */
	int staged = ((uintptr_t)w->data % 16) == 0 && (w->row_bytes % 16) == 0 &&
		(Seg<T>::BYTES % 16) == 0;
	mv_kernel<T, N><<<grid, MV_WARPS * 32, smem, be->stream>>>((const uint8_t *)w->data, w->row_bytes,
		(int)w->rows, (int)w->cols, x, y, staged);
}

/* 48 KiB of x-sums at most: n * cols / 16 floats */
#define SX_MAX (48 * 1024)

template <int T>
static m40_status mv_typed(m40_backend *be, const m40_weight *w, const float *x, float *y, int n)
{
	typedef Fmt<T> F;
	int K = (int)w->cols;
	if (K % F::QK || K % 4 || ((uintptr_t)w->data % F::ALIGN) || (w->row_bytes % F::ALIGN) ||
		((uintptr_t)x % 16) || (F::SX && K % 16))
		return M40_E_UNSUPPORTED; /* caller falls back */
	size_t per = F::SX ? (size_t)(K / 16) * sizeof(float) : 0;
	int step = n;
	while (step > 1 && per * step > SX_MAX)
		step = (step + 1) / 2;
	if (per > SX_MAX)
		return M40_E_UNSUPPORTED;
	for (int s0 = 0; s0 < n; s0 += step) {
		int m = n - s0 < step ? n - s0 : step;
		const float *xs = x + (size_t)s0 * K;
		float *ys = y + (size_t)s0 * w->rows;
		size_t smem = per * m;
		switch (m) {
		case 1: launch_n<T, 1>(be, w, xs, ys, smem); break;
		case 2: launch_n<T, 2>(be, w, xs, ys, smem); break;
		case 3: launch_n<T, 3>(be, w, xs, ys, smem); break;
		case 4: launch_n<T, 4>(be, w, xs, ys, smem); break;
		case 5: launch_n<T, 5>(be, w, xs, ys, smem); break;
		case 6: launch_n<T, 6>(be, w, xs, ys, smem); break;
		case 7: launch_n<T, 7>(be, w, xs, ys, smem); break;
		default: launch_n<T, 8>(be, w, xs, ys, smem); break;
		}
	}
	return M40_OK;
}

/* ---- the decode kernels: contiguous x, several rows a warp, split K ----
 *
 * Each lane takes W columns of one block (4 at a time, float4 loads of x)
 * in every one of R rows; consecutive lanes take consecutive pieces of the
 * same blocks, so a warp's x load covers a few whole 32-byte sectors
 * instead of one sector per lane, and each x register serves R rows.  NWK
 * warps of a thread block share the R rows and split the blocks of K
 * between them (enough warps in flight to cover memory latency), then add
 * their sums in shared memory.  Per row a lane decodes its W weights once
 * into floats f (the PRMT trick), then for each sequence folds its x
 * pieces into all R rows.
 *
 * Columns of one scale form a group of GW = W / G weights.  With f = 65536
 * (128 + q) the group's sum is dA * sum (q - z) x + nS * sum x; the kernel
 * starts each group's chain at OFF * sum x (OFF = -65536 (128 + z), taken
 * once per group from the loaded x and shared by all rows), so a row pays
 * one FFMA a group for dA (two with a minimum nS), and the 1 / 65536 (UNIT)
 * is applied once per output at the end. */
#define MV_NWK 4
/* Sequences up to which the kernels fold RMSNorm in (above, the caller
 * normalizes first: more kernels to compile for a smaller gain). */
#define MV_NORM_MAX 2

/* the 4 bytes of v (each < 128) as FB2 floats into f[0..3] */
__device__ __forceinline__ void fb2x4(uint32_t v, float *f)
{
	f[0] = FB2(v, 0);
	f[1] = FB2(v, 1);
	f[2] = FB2(v, 2);
	f[3] = FB2(v, 3);
}

/* The 4 bytes of v (any of 0..255) as floats v * 2^-133: byte 2 of a zero
 * word, one PRMT each.  Below 128 that is a denormal, from 128 on the
 * exponent field's low bit is the byte's top bit and the value stays
 * linear (2^-126 (1 + m / 2^23) = 2^-149 (2^23 + m)).  The kernel scales
 * x by 2^100 (XS) so the products are normal numbers (x itself must stay
 * below 2^27 in magnitude, far above any activation); FFMA takes denormal
 * operands at full speed, and nothing here flushes them (no fast math). */
#define FD2(v, i) __uint_as_float(__byte_perm((v), 0u, 0x4044 | ((i) << 8)))
__device__ __forceinline__ void fd2x4(uint32_t v, float *f)
{
	f[0] = FD2(v, 0);
	f[1] = FD2(v, 1);
	f[2] = FD2(v, 2);
	f[3] = FD2(v, 3);
}
/* for the FD2 formats: x scale, chain start per unit of sum x for a zero
 * point of 128, and the factor of the whole sum */
#define FD2_XS 1267650600228229401496703205376.0f /* 2^100 */
#define FD2_OFF (-1.49011611938476562500e-08f)    /* -128 * 2^-133 * 2^100 = -2^-26 */
#define FD2_UNIT 8589934592.0f                    /* 2^133 / 2^100 */

/* A field of bits 0..23 of v, the rest masked off, read as a float is
 * field * 2^-149: a denormal, or from bit 23 on the smallest normal
 * exponent, where the value stays linear (as for FD2).  So a 4-bit or
 * 2-bit weight at bit p becomes a float with one LOP and no PRMT or shift
 * (a field above bit 23 takes one shift a word first).  x is loaded times
 * 2^(FA_E - p) for the field it meets, so every product is x * q *
 * 2^(FA_E - 149) whatever p; FA_E = 80 keeps x * 2^80 finite (x up to
 * 2^48) and the sums normal numbers. */
#define FA(v, mask) __uint_as_float((v) & (mask))
#define FA_E 80
#define FA_UNIT 590295810358705651712.0f /* 2^(149 - FA_E) = 2^69 */
/* 2^(FA_E - bit) for a field at bit (folded to a constant once the
 * loops that ask are unrolled); bit: that of byte b's field at bit s of
 * the byte, byte 3 read from v >> 8 */
__device__ __forceinline__ float fa_xs(int b, int s)
{
	return __int_as_float((127 + FA_E - ((b == 3 ? 16 : 8 * b) + s)) << 23);
}

/* the 8 nibbles of u: lo[b] = low nibble of byte b, hi[b] = high nibble */
__device__ __forceinline__ void fa_nibbles(uint32_t u, float *lo, float *hi)
{
	uint32_t t = u >> 8;
	lo[0] = FA(u, 0x0000000Fu);
	lo[1] = FA(u, 0x00000F00u);
	lo[2] = FA(u, 0x000F0000u);
	lo[3] = FA(t, 0x000F0000u);
	hi[0] = FA(u, 0x000000F0u);
	hi[1] = FA(u, 0x0000F000u);
	hi[2] = FA(u, 0x00F00000u);
	hi[3] = FA(t, 0x00F00000u);
}

/*
 * One struct per format.  QK columns and BYTES bytes a block, LPB lanes a
 * block, W columns a lane (col0(p) + coff(i), i < W / 4: pieces of 4), G
 * scale groups among them, NRAW raw words a lane loads per row (load issues
 * them; decode turns them into f, dA and nS).  xs(i) is the factor
 * x's element i is loaded with, OFF the chain start per unit of sum x (0:
 * no x sums needed), NS whether there is a minimum term, UNIT the factor
 * of the whole sum.
 */
template <int T> struct Q;
/* the formats that load x as it is */
struct QPlainX {
	static __device__ __forceinline__ float xs(int) { return 1.0f; }
};

/* F16, BF16: a "block" of 256 columns, lane p takes columns 4p.. and
 * 128 + 4p.. (8-byte loads; a warp's x load is 512 contiguous bytes). */
template <> struct Q<M40_TYPE_F16> : QPlainX {
	enum { QK = 256, BYTES = 512, LPB = 32, W = 8, G = 1, NS = 0, ALIGN = 8, NRAW = 4 };
	static constexpr float OFF = 0.0f, UNIT = 1.0f;
	static __device__ __forceinline__ int col0(int p) { return 4 * p; }
	static __device__ __forceinline__ int coff(int i) { return 128 * i; }
	static __device__ __forceinline__ void load(const uint8_t *b, int p, uint32_t (&w)[NRAW])
	{
		uint2 u = __ldg((const uint2 *)(b + 8 * p)), v = __ldg((const uint2 *)(b + 256 + 8 * p));
		w[0] = u.x; w[1] = u.y; w[2] = v.x; w[3] = v.y;
	}
	static __device__ __forceinline__ void decode(const uint32_t (&w)[NRAW], int p, float (&f)[W], float (&dA)[G],
		float (&nS)[G])
	{
#pragma unroll
		for (int i = 0; i < 4; i++) {
			f[2 * i] = h_lo(w[i]);
			f[2 * i + 1] = h_hi(w[i]);
		}
		dA[0] = 1.0f;
	}
};

template <> struct Q<M40_TYPE_BF16> : QPlainX {
	enum { QK = 256, BYTES = 512, LPB = 32, W = 8, G = 1, NS = 0, ALIGN = 8, NRAW = 4 };
	static constexpr float OFF = 0.0f, UNIT = 1.0f;
	static __device__ __forceinline__ int col0(int p) { return 4 * p; }
	static __device__ __forceinline__ int coff(int i) { return 128 * i; }
	static __device__ __forceinline__ void load(const uint8_t *b, int p, uint32_t (&w)[NRAW])
	{
		Q<M40_TYPE_F16>::load(b, p, w);
	}
	static __device__ __forceinline__ void decode(const uint32_t (&w)[NRAW], int p, float (&f)[W], float (&dA)[G],
		float (&nS)[G])
	{
#pragma unroll
		for (int i = 0; i < 4; i++) {
			f[2 * i] = __uint_as_float(w[i] << 16);
			f[2 * i + 1] = __uint_as_float(w[i] & 0xFFFF0000u);
		}
		dA[0] = 1.0f;
	}
};

/* Q4_1, Q5_1: 2 lanes a block; lane p takes the words
 * at qs[4p + 8m] (m = 0, 1): columns 4p + 8m.. (low nibbles) and
 * 16 + 4p + 8m.. (high), so lanes 0, 1 read whole 32-byte sectors of x. */
#define Q32_COFF(i) (8 * ((i) & 1) + 16 * ((i) >> 1))
/* Q4_0, Q5_0 and IQ4_NL: lane p takes the 8 bytes at qs[8p] by aligned loads
 * and funnel shifts (3 loads where two words from 2-byte aligned
 * addresses took 4): columns 8p.. (low nibbles) and 16 + 8p.. (high). */
#define Q32C_COFF(i) (4 * ((i) & 1) + 16 * ((i) >> 1))
template <> struct Q<M40_TYPE_Q4_0> {
	enum { QK = 32, BYTES = 18, LPB = 2, W = 16, G = 1, NS = 0, ALIGN = 2, NRAW = 3 };
	static constexpr float OFF = -8.0f / FA_UNIT, UNIT = FA_UNIT;
	static __device__ __forceinline__ float xs(int i) { return fa_xs(i & 3, i >= 8 ? 4 : 0); }
	static __device__ __forceinline__ int col0(int p) { return 8 * p; }
	static __device__ __forceinline__ int coff(int i) { return Q32C_COFF(i); }
	static __device__ __forceinline__ void load(const uint8_t *b, int p, uint32_t (&w)[NRAW])
	{
		w[0] = __ldg((const unsigned short *)b);
		ldw_a2<2>(b + 2 + 8 * p, w + 1);
	}
	static __device__ __forceinline__ void decode(const uint32_t (&w)[NRAW], int p, float (&f)[W], float (&dA)[G],
		float (&nS)[G])
	{
#pragma unroll
		for (int m = 0; m < 2; m++)
			fa_nibbles(w[1 + m], f + 4 * m, f + 8 + 4 * m);
		dA[0] = h_lo(w[0]);
	}
};

template <> struct Q<M40_TYPE_Q4_1> {
	enum { QK = 32, BYTES = 20, LPB = 2, W = 16, G = 1, NS = 1, ALIGN = 4, NRAW = 3 };
	static constexpr float OFF = 0.0f, UNIT = FA_UNIT;
	static __device__ __forceinline__ float xs(int i) { return fa_xs(i & 3, i >= 8 ? 4 : 0); }
	static __device__ __forceinline__ int col0(int p) { return 4 * p; }
	static __device__ __forceinline__ int coff(int i) { return Q32_COFF(i); }
	static __device__ __forceinline__ void load(const uint8_t *b, int p, uint32_t (&w)[NRAW])
	{
		w[0] = ldg32(b);
		w[1] = ldg32(b + 4 + 4 * p);
		w[2] = ldg32(b + 12 + 4 * p);
	}
	static __device__ __forceinline__ void decode(const uint32_t (&w)[NRAW], int p, float (&f)[W], float (&dA)[G],
		float (&nS)[G])
	{
#pragma unroll
		for (int k = 0; k < 2; k++)
			fa_nibbles(w[1 + k], f + 4 * k, f + 8 + 4 * k);
		dA[0] = h_lo(w[0]);
		nS[0] = h_hi(w[0]);
	}
};

template <> struct Q<M40_TYPE_Q5_0> : QPlainX {
	enum { QK = 32, BYTES = 22, LPB = 2, W = 16, G = 1, NS = 0, ALIGN = 2, NRAW = 4 };
	static constexpr float OFF = -144.0f * 65536.0f, UNIT = FB2_UNIT;
	static __device__ __forceinline__ int col0(int p) { return Q<M40_TYPE_Q4_0>::col0(p); }
	static __device__ __forceinline__ int coff(int i) { return Q<M40_TYPE_Q4_0>::coff(i); }
	static __device__ __forceinline__ void load(const uint8_t *b, int p, uint32_t (&w)[NRAW])
	{
		w[0] = __ldg((const unsigned short *)b);
		w[1] = ld32a2(b + 2);
		ldw_a2<2>(b + 6 + 8 * p, w + 2);
	}
	static __device__ __forceinline__ void decode(const uint32_t (&w)[NRAW], int p, float (&f)[W], float (&dA)[G],
		float (&nS)[G])
	{
		uint32_t qh = w[1] >> (8 * p);
#pragma unroll
		for (int m = 0; m < 2; m++) {
			uint32_t u = w[2 + m];
			fb2x4((u & 0x0F0F0F0Fu) | spread4((qh >> (4 * m)) & 0xF), f + 4 * m);
			fb2x4(((u >> 4) & 0x0F0F0F0Fu) | spread4((qh >> (16 + 4 * m)) & 0xF), f + 8 + 4 * m);
		}
		dA[0] = h_lo(w[0]);
	}
};

template <> struct Q<M40_TYPE_Q5_1> : QPlainX {
	enum { QK = 32, BYTES = 24, LPB = 2, W = 16, G = 1, NS = 1, ALIGN = 4, NRAW = 4 };
	static constexpr float OFF = -128.0f * 65536.0f, UNIT = FB2_UNIT;
	static __device__ __forceinline__ int col0(int p) { return 4 * p; }
	static __device__ __forceinline__ int coff(int i) { return Q32_COFF(i); }
	static __device__ __forceinline__ void load(const uint8_t *b, int p, uint32_t (&w)[NRAW])
	{
		w[0] = ldg32(b);
		w[1] = ldg32(b + 4);
		w[2] = ldg32(b + 8 + 4 * p);
		w[3] = ldg32(b + 16 + 4 * p);
	}
	static __device__ __forceinline__ void decode(const uint32_t (&w)[NRAW], int p, float (&f)[W], float (&dA)[G],
		float (&nS)[G])
	{
		uint32_t qh = w[1] >> (4 * p);
#pragma unroll
		for (int k = 0; k < 2; k++) {
			uint32_t u = w[2 + k];
			fb2x4((u & 0x0F0F0F0Fu) | spread4((qh >> (8 * k)) & 0xF), f + 4 * k);
			fb2x4(((u >> 4) & 0x0F0F0F0Fu) | spread4((qh >> (16 + 8 * k)) & 0xF), f + 8 + 4 * k);
		}
		dA[0] = h_lo(w[0]);
		nS[0] = h_hi(w[0]);
	}
};

/* IQ4_NL: Q4_0's layout; the levels + 128 come from PRMT lookups and need
 * all 8 bits: FD2 floats. */
template <> struct Q<M40_TYPE_IQ4_NL> {
	enum { QK = 32, BYTES = 18, LPB = 2, W = 16, G = 1, NS = 0, ALIGN = 2, NRAW = 3 };
	static constexpr float OFF = FD2_OFF, UNIT = FD2_UNIT;
	static __device__ __forceinline__ float xs(int) { return FD2_XS; }
	static __device__ __forceinline__ int col0(int p) { return Q<M40_TYPE_Q4_0>::col0(p); }
	static __device__ __forceinline__ int coff(int i) { return Q<M40_TYPE_Q4_0>::coff(i); }
	static __device__ __forceinline__ void load(const uint8_t *b, int p, uint32_t (&w)[NRAW])
	{
		Q<M40_TYPE_Q4_0>::load(b, p, w);
	}
	static __device__ __forceinline__ void decode(const uint32_t (&w)[NRAW], int p, float (&f)[W], float (&dA)[G],
		float (&nS)[G])
	{
#pragma unroll
		for (int m = 0; m < 2; m++) {
			/* bytes b0..b3: nibbles (lo, hi) of each; the lookup of a
			 * 16-bit selector yields levels of lo0 hi0 lo1 hi1, and
			 * FD2 takes any byte (no PRMT to regroup them) */
			uint32_t u0 = iq4_lookup(w[1 + m] & 0xFFFF), u1 = iq4_lookup(w[1 + m] >> 16);
			float *lo = f + 4 * m, *hi = f + 8 + 4 * m;
			lo[0] = FD2(u0, 0);
			hi[0] = FD2(u0, 1);
			lo[1] = FD2(u0, 2);
			hi[1] = FD2(u0, 3);
			lo[2] = FD2(u1, 0);
			hi[2] = FD2(u1, 1);
			lo[3] = FD2(u1, 2);
			hi[3] = FD2(u1, 3);
		}
		dA[0] = h_lo(w[0]);
	}
};

/* Q8_0: 4 lanes a block; lane p takes the 8 bytes at qs[8p] (columns
 * 8p..), by aligned loads and funnel shifts; q + 128 as FD2 floats. */
template <> struct Q<M40_TYPE_Q8_0> {
	enum { QK = 32, BYTES = 34, LPB = 4, W = 8, G = 1, NS = 0, ALIGN = 2, NRAW = 3 };
	static constexpr float OFF = FD2_OFF, UNIT = FD2_UNIT;
	static __device__ __forceinline__ float xs(int) { return FD2_XS; }
	static __device__ __forceinline__ int col0(int p) { return 8 * p; }
	static __device__ __forceinline__ int coff(int i) { return 4 * i; }
	static __device__ __forceinline__ void load(const uint8_t *b, int p, uint32_t (&w)[NRAW])
	{
		w[0] = __ldg((const unsigned short *)b);
		ldw_a2<2>(b + 2 + 8 * p, w + 1);
	}
	static __device__ __forceinline__ void decode(const uint32_t (&w)[NRAW], int p, float (&f)[W], float (&dA)[G],
		float (&nS)[G])
	{
		fd2x4(w[1] ^ 0x80808080u, f);
		fd2x4(w[2] ^ 0x80808080u, f + 4);
		dA[0] = h_lo(w[0]);
	}
};

/* Q4_K / Q5_K scales from the 3 scale words a, b, c (k4_scales): d * scale
 * and -dmin * min of sub-blocks 2j and 2j + 1. */
__device__ __forceinline__ void k4_scales_w(uint32_t a, uint32_t b, uint32_t c, int j, float d, float dmin,
	float (&dA)[2], float (&nS)[2])
{
	uint32_t sh = 16 * (j & 1);
	a >>= sh;
	b >>= sh;
	c >>= sh;
	uint32_t sc = j < 2 ? (a & 0x3F3Fu) : ((c & 0x0F0Fu) | ((a >> 2) & 0x3030u));
	uint32_t m = j < 2 ? (b & 0x3F3Fu) : (((c >> 4) & 0x0F0Fu) | ((b >> 2) & 0x3030u));
	/* FB2 gives 65536 * (128 + v) */
	float d6 = d * FB2_UNIT, m6 = dmin * -FB2_UNIT;
	dA[0] = fmaf(d6, FB2(sc, 0), -128.0f * d);
	dA[1] = fmaf(d6, FB2(sc, 1), -128.0f * d);
	nS[0] = fmaf(m6, FB2(m, 0), 128.0f * dmin);
	nS[1] = fmaf(m6, FB2(m, 1), 128.0f * dmin);
}

/* v's four words into w[0..4) */
__device__ __forceinline__ void words4(uint4 v, uint32_t *w)
{
	w[0] = v.x;
	w[1] = v.y;
	w[2] = v.z;
	w[3] = v.w;
}

/* Q4_K: 8 lanes a super-block; lane p = 2j + k takes the 16 bytes at
 * qs[32j + 16k] in one load: low nibbles are columns 64j + 16k.. of
 * sub-block 2j, high nibbles the same of sub-block 2j+1 (32 columns on).
 * (Four 4-byte loads 8 bytes apart, so that lanes k = 0, 1 shared 32-byte
 * sectors of x, took four times the L1 requests for the same quants; x's
 * loads touch as many 128-byte lines either way.) */
#define K4_COFF(i) (4 * ((i) & 3) + 32 * ((i) >> 2))
template <> struct Q<M40_TYPE_Q4_K> {
	enum { QK = 256, BYTES = 144, LPB = 8, W = 32, G = 2, NS = 1, ALIGN = 16, NRAW = 8 };
	static constexpr float OFF = 0.0f, UNIT = FA_UNIT;
	static __device__ __forceinline__ float xs(int i) { return fa_xs(i & 3, i >= 16 ? 4 : 0); }
	static __device__ __forceinline__ int col0(int p) { return 64 * (p >> 1) + 16 * (p & 1); }
	static __device__ __forceinline__ int coff(int i) { return K4_COFF(i); }
	static __device__ __forceinline__ void load(const uint8_t *b, int p, uint32_t (&w)[NRAW])
	{
		words4(__ldg((const uint4 *)b), w);
		words4(__ldg((const uint4 *)(b + 16 + 32 * (p >> 1) + 16 * (p & 1))), w + 4);
	}
	static __device__ __forceinline__ void decode(const uint32_t (&w)[NRAW], int p, float (&f)[W], float (&dA)[G],
		float (&nS)[G])
	{
		k4_scales_w(w[1], w[2], w[3], p >> 1, h_lo(w[0]), h_hi(w[0]), dA, nS);
#pragma unroll
		for (int m = 0; m < 4; m++)
			fa_nibbles(w[4 + m], f + 4 * m, f + 16 + 4 * m);
	}
};

template <> struct Q<M40_TYPE_Q5_K> : QPlainX {
	enum { QK = 256, BYTES = 176, LPB = 8, W = 32, G = 2, NS = 1, ALIGN = 16, NRAW = 12 };
	static constexpr float OFF = -128.0f * 65536.0f, UNIT = FB2_UNIT;
	static __device__ __forceinline__ int col0(int p) { return 64 * (p >> 1) + 16 * (p & 1); }
	static __device__ __forceinline__ int coff(int i) { return K4_COFF(i); }
	static __device__ __forceinline__ void load(const uint8_t *b, int p, uint32_t (&w)[NRAW])
	{
		words4(__ldg((const uint4 *)b), w);
		words4(__ldg((const uint4 *)(b + 48 + 32 * (p >> 1) + 16 * (p & 1))), w + 4);
		words4(__ldg((const uint4 *)(b + 16 + 16 * (p & 1))), w + 8);
	}
	static __device__ __forceinline__ void decode(const uint32_t (&w)[NRAW], int p, float (&f)[W], float (&dA)[G],
		float (&nS)[G])
	{
		int j = p >> 1;
		k4_scales_w(w[1], w[2], w[3], j, h_lo(w[0]), h_hi(w[0]), dA, nS);
#pragma unroll
		for (int m = 0; m < 4; m++) {
			uint32_t u = w[4 + m], e = w[8 + m] >> (2 * j);
			fb2x4((u & 0x0F0F0F0Fu) | ((e << 4) & 0x10101010u), f + 4 * m);
			fb2x4(((u >> 4) & 0x0F0F0F0Fu) | ((e << 3) & 0x10101010u), f + 16 + 4 * m);
		}
	}
};

/* Q6_K, Q3_K, Q2_K: 8 lanes a super-block; lane p = 4h + kk takes columns
 * l0 = 16 (kk >> 1) + 4 (kk & 1) and l0 + 8 (4 each, one scale) of the 4
 * groups g of half h: columns 128h + 32g + l. */
#define K6_L0(p) (16 * (((p) >> 1) & 1) + 4 * ((p) & 1))
#define K6_COFF(i) (8 * ((i) & 1) + 32 * ((i) >> 1))
template <> struct Q<M40_TYPE_Q6_K> : QPlainX {
	enum { QK = 256, BYTES = 210, LPB = 8, W = 32, G = 4, NS = 0, ALIGN = 2, NRAW = 11 };
	static constexpr float OFF = -160.0f * 65536.0f, UNIT = FB2_UNIT;
	static __device__ __forceinline__ int col0(int p) { return 128 * (p >> 2) + K6_L0(p); }
	static __device__ __forceinline__ int coff(int i) { return K6_COFF(i); }
	static __device__ __forceinline__ void load(const uint8_t *b, int p, uint32_t (&w)[NRAW])
	{
		int h = p >> 2, l = K6_L0(p);
		w[0] = __ldg((const unsigned short *)(b + 208));
#pragma unroll
		for (int m = 0; m < 2; m++) {
			w[1 + m] = ld32a2(b + 64 * h + l + 8 * m);
			w[3 + m] = ld32a2(b + 64 * h + 32 + l + 8 * m);
			w[5 + m] = ld32a2(b + 128 + 32 * h + l + 8 * m);
		}
		const signed char *sc = (const signed char *)(b + 192 + 8 * h + (l >> 4));
#pragma unroll
		for (int g = 0; g < 4; g++)
			w[7 + g] = (uint32_t)(int)__ldg(sc + 2 * g);
	}
	static __device__ __forceinline__ void decode(const uint32_t (&w)[NRAW], int p, float (&f)[W], float (&dA)[G],
		float (&nS)[G])
	{
		float d = h_lo(w[0]);
#pragma unroll
		for (int g = 0; g < 4; g++) {
#pragma unroll
			for (int m = 0; m < 2; m++) {
				uint32_t l4 = ((g & 1) ? w[3 + m] : w[1 + m]) >> (4 * (g >> 1));
				fb2x4((l4 & 0x0F0F0F0Fu) | (((w[5 + m] >> (2 * g)) & 0x03030303u) << 4), f + 8 * g + 4 * m);
			}
			dA[g] = d * (float)(int)w[7 + g];
		}
	}
};

/* Q2_K and Q3_K: 4 lanes a super-block; lane p = 2h + k takes the 16
 * bytes l = 16k.. of half h, whose 2-bit field g (g < 4) holds columns
 * 128h + 32g + 16k + l under one scale (8h + 2g + k): a lane's 4 groups of
 * 16 weights are its bytes' 4 fields.  (With 8 lanes of 8 weights a
 * group, as the other K-quants have, the scales and the loads took 30 of
 * a row's ~130 instructions for 32 weights.) */
#define K2_COFF(i) (32 * ((i) >> 2) + 4 * ((i) & 3))
/* Q3_K: q = 2 bits of qs | the hmask bit << 2, value d * (scale - 32) * (q - 4).
 * Bit 4h + g of hmask byte 16k + l is the high bit of field g.  A field
 * and its high bit are merged by one LOP3 into bits s..s+2 of each byte
 * (s = 2g; 4 for field 3, whose bits 6..8 would leave the word), then each
 * weight is one FA.  The lane's 4 scales: low 4 bits in byte 2g + k
 * (nibble h), high 2 bits in byte 8 + (2g + k) % 4 at bit 2 (2h + g / 2). */
__device__ __forceinline__ int q3k_s(int g)
{
	return g < 3 ? 2 * g : 4;
}
template <> struct Q<M40_TYPE_Q3_K> {
	enum { QK = 256, BYTES = 110, LPB = 4, W = 64, G = 4, NS = 0, ALIGN = 2, NRAW = 12 };
	static constexpr float OFF = -4.0f / FA_UNIT, UNIT = FA_UNIT;
	static __device__ __forceinline__ float xs(int i) { return fa_xs(i & 3, q3k_s(i >> 4)); }
	static __device__ __forceinline__ int col0(int p) { return 128 * (p >> 1) + 16 * (p & 1); }
	static __device__ __forceinline__ int coff(int i) { return K2_COFF(i); }
	static __device__ __forceinline__ void load(const uint8_t *b, int p, uint32_t (&w)[NRAW])
	{
		const int h = p >> 1, k = p & 1;
		/* the block's pieces are 4-byte aligned among themselves: one
		 * aligned base; the words after qs's and hmask's are in the block */
		const uintptr_t a = (uintptr_t)b;
		const unsigned int *q = (const unsigned int *)(a & ~(uintptr_t)3);
		const uint32_t sh = (uint32_t)(a & 2) * 8;
		w[0] = __ldg((const unsigned short *)(b + 108));
		ldw_a2q<4, true>(q + 8 + 8 * h + 4 * k, sh, w + 1);
		ldw_a2q<4, true>(q + 4 * k, sh, w + 5);
		ldw_a2q<3, false>(q + 24, sh, w + 9);
	}
	static __device__ __forceinline__ void decode(const uint32_t (&w)[NRAW], int p, float (&f)[W], float (&dA)[G],
		float (&nS)[G])
	{
		const int h = p >> 1;
		float d = h_lo(w[0]);
		uint32_t s6 = q3k_scales6(w[9], w[10], w[11], h, p & 1);
		float d6 = d * FB2_UNIT;
#pragma unroll
		for (int m = 0; m < 4; m++) {
			/* the high bits of half h at bits 0..3 of each byte */
			const uint32_t q = w[1 + m], hm = w[5 + m] >> (4 * h);
#pragma unroll
			for (int g = 0; g < 4; g++) {
				const int s = q3k_s(g);
				const uint32_t lo = g < 3 ? q : q >> 2;
				/* bits s, s+1 from the field, bit s+2 from hm's bit g */
				const uint32_t c = ((lo ^ (hm << (s + 2 - g))) & (0x03030303u << s)) ^ (hm << (s + 2 - g));
				const uint32_t t = c >> 8;
				float *fg = f + 16 * g + 4 * m;
				fg[0] = FA(c, 0x7u << s);
				fg[1] = FA(c, 0x700u << s);
				fg[2] = FA(c, 0x70000u << s);
				fg[3] = FA(t, 0x70000u << s);
			}
		}
#pragma unroll
		for (int g = 0; g < 4; g++)
			dA[g] = fmaf(d6, FB2(s6, g), -160.0f * d); /* d * (scale - 32) */
	}
};

/* Q2_K: q = 2 bits, value d * (sc & 15) * q - dmin * (sc >> 4) */
template <> struct Q<M40_TYPE_Q2_K> {
	enum { QK = 256, BYTES = 84, LPB = 4, W = 64, G = 4, NS = 1, ALIGN = 4, NRAW = 7 };
	static constexpr float OFF = 0.0f, UNIT = FA_UNIT;
	/* column 16g + 4m + b of the lane: field g (bit 2g) of byte b */
	static __device__ __forceinline__ float xs(int i) { return fa_xs(i & 3, 2 * (i >> 4)); }
	static __device__ __forceinline__ int col0(int p) { return 128 * (p >> 1) + 16 * (p & 1); }
	static __device__ __forceinline__ int coff(int i) { return K2_COFF(i); }
	static __device__ __forceinline__ void load(const uint8_t *b, int p, uint32_t (&w)[NRAW])
	{
		const int h = p >> 1, k = p & 1;
		w[0] = ldg32(b + 80);
		w[1] = ldg32(b + 8 * h);
		w[2] = ldg32(b + 8 * h + 4);
#pragma unroll
		for (int m = 0; m < 4; m++)
			w[3 + m] = ldg32(b + 16 + 32 * h + 16 * k + 4 * m);
	}
	static __device__ __forceinline__ void decode(const uint32_t (&w)[NRAW], int p, float (&f)[W], float (&dA)[G],
		float (&nS)[G])
	{
		float d = h_lo(w[0]), dmin = h_hi(w[0]);
		/* the lane's scale bytes 8h + k + 2g as bytes g */
		uint32_t sw = __byte_perm(w[1], w[2], (p & 1) ? 0x7531u : 0x6420u);
		uint32_t slo = sw & 0x0F0F0F0Fu, shi = (sw >> 4) & 0x0F0F0F0Fu;
		float d6 = d * FB2_UNIT, m6 = dmin * -FB2_UNIT;
#pragma unroll
		for (int m = 0; m < 4; m++) {
			const uint32_t u = w[3 + m], t = u >> 8;
#pragma unroll
			for (int g = 0; g < 4; g++) {
				/* field g of bytes 0..3 (FA: byte 3 from the word >> 8) */
				float *fg = f + 16 * g + 4 * m;
				fg[0] = FA(u, 0x3u << (2 * g));
				fg[1] = FA(u, 0x300u << (2 * g));
				fg[2] = FA(u, 0x30000u << (2 * g));
				fg[3] = FA(t, 0x30000u << (2 * g));
			}
		}
#pragma unroll
		for (int g = 0; g < 4; g++) {
			dA[g] = fmaf(d6, FB2(slo, g), -128.0f * d);
			nS[g] = fmaf(m6, FB2(shi, g), 128.0f * dmin);
		}
	}
};

/* A lane's x pieces of one block (xl: the block's x at the lane's first
 * column); with a norm weight (gl likewise), ss gathers their squares and
 * the pieces are scaled by the weight (the 1 / rms comes at the end); then
 * by xs(i).
 * Per group: A0 = OFF * sum x, each row's chain start, and SU = sum x /
 * UNIT for the minimum term. */
template <int T, bool NORM>
__device__ __forceinline__ void qloadx(const float *xl, const float *gl, float (&xv)[Q<T>::W],
	float (&A0)[Q<T>::G], float (&SU)[Q<T>::G], float &ss)
{
	typedef Q<T> F;
	enum { GW = F::W / F::G };
#pragma unroll
	for (int i = 0; i < F::W / 4; i++) {
		float4 v = ldx4(xl + F::coff(i));
		if (NORM) {
			float4 g = ldx4(gl + F::coff(i));
			ss = fmaf(v.x, v.x, ss);
			ss = fmaf(v.y, v.y, ss);
			ss = fmaf(v.z, v.z, ss);
			ss = fmaf(v.w, v.w, ss);
			v.x *= g.x;
			v.y *= g.y;
			v.z *= g.z;
			v.w *= g.w;
		}
		xv[4 * i] = v.x;
		xv[4 * i + 1] = v.y;
		xv[4 * i + 2] = v.z;
		xv[4 * i + 3] = v.w;
	}
#pragma unroll
	for (int g = 0; g < F::G; g++) {
		float t = 0.0f;
		if (F::OFF != 0.0f || F::NS) {
			float q[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
#pragma unroll
			for (int i = 0; i < GW; i++)
				q[i & 3] += xv[GW * g + i];
			t = (q[0] + q[1]) + (q[2] + q[3]);
		}
		A0[g] = F::OFF * t;
		SU[g] = F::NS ? t * (1.0f / F::UNIT) : 0.0f;
	}
#pragma unroll
	for (int i = 0; i < F::W; i++)
		if (F::xs(i) != 1.0f)
			xv[i] *= F::xs(i);
}

/* A row's groups folded into its sums: each group's chain starts at A0. */
template <int T>
__device__ __forceinline__ float qfold(const float (&f)[Q<T>::W], const float (&xv)[Q<T>::W],
	const float (&dA)[Q<T>::G], const float (&nS)[Q<T>::G], const float (&A0)[Q<T>::G],
	const float (&SU)[Q<T>::G], float a)
{
	typedef Q<T> F;
	enum { GW = F::W / F::G };
#pragma unroll
	for (int g = 0; g < F::G; g++) {
		float A = A0[g];
#pragma unroll
		for (int i = 0; i < GW; i++)
			A = fmaf(f[GW * g + i], xv[GW * g + i], A);
		a = fmaf(dA[g], A, a);
		if (F::NS)
			a = fmaf(nS[g], SU[g], a);
	}
	return a;
}

/* v[0..R) summed over the warp, R a power of 2 up to 32: rounds of
 * lanes_half_sum while more than one value is left, then plain sums, so
 * lane l ends with the sum of v[l / (32 / R)] in fewer shuffles than R
 * separate sums. */
template <int N, int O> struct RowRounds {
	template <int R> static __device__ __forceinline__ float run(float (&t)[R], int lane)
	{
		lanes_half_sum<N, O>(t, lane);
		return RowRounds<N / 2, O / 2>::run(t, lane);
	}
};
template <int O> struct RowRounds<1, O> {
	template <int R> static __device__ __forceinline__ float run(float (&t)[R], int lane)
	{
		t[0] += __shfl_xor_sync(0xffffffffu, t[0], O);
		return RowRounds<1, O / 2>::run(t, lane);
	}
};
template <> struct RowRounds<1, 0> {
	template <int R> static __device__ __forceinline__ float run(float (&t)[R], int lane) { return t[0]; }
};

template <int R>
__device__ __forceinline__ float warp_sum_rows(const float (&v)[R], int lane)
{
	float t[R];
#pragma unroll
	for (int i = 0; i < R; i++)
		t[i] = v[i];
	return RowRounds<R, 16>::run(t, lane);
}

/* Rows a thread block.  One sequence: 8, except F16 and BF16 (4).  On the
 * H100 (tg128, 7B shapes, in turn in one call) 8 rows took Q4_0 from 306 to
 * 364 t/s, Q4_K_M (Q4_K and Q6_K) from 260 to 311, TinyLlama from 900 to
 * 973 and Q8_0 (4 lanes a block) from 270 to 276, while F16 did better with
 * 4 (199 against 198); 16 rows were slower for all of them.  A warp then has
 * more loads in flight, the x sums serve more rows, and a 4096-row matrix
 * fits the GPU in one wave.  On sm_52, 8 rows need no spills (at most 227
 * registers, Q3_K).  Two sequences: 4.  More: 2 where 32-weight pieces of
 * several sequences would not fit the registers, and from 2 sequences on
 * for the 64-weight pieces of Q2_K and Q3_K. */
template <int T, int N> struct QR {
	enum {
		R1 = T == M40_TYPE_F16 || T == M40_TYPE_BF16 ? 4 : 8,
		R = N == 1 ? R1 : (N > 2 && Q<T>::W >= 32) || Q<T>::W >= 64 ? 2 : 4,
		XREG = N <= 2
	};
};

/* Up to 3 matrices of one type and K in one launch (fused Q, K, V), or a
 * gate/up pair fused with SwiGLU.  Thread blocks [mat[m].blk, mat[m + 1].blk)
 * take matrix m; mode: MV_STORE y = W x, MV_ADD y += W x, MV_SWIGLU
 * y0 = silu(W0 x) * (W1 x) (each block takes R/2 rows of both; matrix 1
 * has no blocks of its own).
 * With a norm weight g, x is first rmsnorm(x, g, eps): a thread block's
 * warps together load every x once, so the block has the sum of squares
 * without a separate pass; x is scaled by g on load and the products by
 * 1 / rms at the end. */
enum { MV_STORE, MV_ADD, MV_SWIGLU };
struct MvMat {
	const uint8_t *w;
	float *y;
	uint32_t rb; /* row bytes (a matrix is under 4 GiB: mvq_fits) */
	int rows;
	int blk; /* its first thread block; INT_MAX: none */
};
struct MvJob {
	MvMat mat[3];
	int mode;
	const float *g;
	float eps;
	/* ROPE kernels (Q, K, V with RoPE and the KV store): what matrix m is
	 * (M40C_ROLE_*); q rows are rotated into y, k rows rotated and v rows
	 * as they are go to the FP16 caches at (seq[s], pos[s]) */
	int role[3];
	const int32_t *pos, *seq;
	unsigned short *kc, *vc;
	const float *ff;
	int hd, n_dims, n_seq, n_ctx, kv_dim;
	double lb; /* log2(freq_base) */
	float freq_scale;
};

/* Thread blocks an SM must hold at once, for one sequence: a register cap
 * that buys occupancy (6 with 4 rows a block, 3 with 8).  On the H100
 * (sm_90, 7B shapes, 4 rows, both in one run; runs differ by up to 10%)
 * 6 took the legacy formats and Q4_K 5-11% faster,
 * while Q5_K and Q6_K, which then spill, got slower (Q6_K 2.5x).  On sm_52
 * the legacy formats fit the cap without spilling; Q4_K would spill, and
 * Maxwell keeps local memory in L2 only, so there it runs uncapped. */
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 700
#define MV_CAP_Q4_K 0
#else
#define MV_CAP_Q4_K 1
#endif
template <int T, int N, int R> struct MvMinB {
	enum {
		V = N == 1 && (T == M40_TYPE_Q4_0 || T == M40_TYPE_Q4_1 || T == M40_TYPE_Q5_0 || T == M40_TYPE_Q5_1 ||
				      T == M40_TYPE_Q8_0 || (T == M40_TYPE_Q4_K && MV_CAP_Q4_K)) ? 24 / R : 1
	};
};

/* Warps a thread block: MV_NWK, but 2 for Q2_K and Q3_K, whose warps take
 * 8 super-blocks a round (so that at K = 4096 none is idle). */
template <int T> struct MvNwk {
	enum { V = T == M40_TYPE_Q2_K || T == M40_TYPE_Q3_K ? 2 : MV_NWK };
};

template <int T, int N, int R, bool NORM, bool ROPE>
__global__ void __launch_bounds__(MvNwk<T>::V * 32, (MvMinB<T, N, R>::V))
mvq_kernel(const MvJob j, int K, const float *__restrict__ x)
{
	typedef Q<T> F;
	enum { NWK = MvNwk<T>::V, BPI = 32 / F::LPB, STEP = NWK * BPI };
	__shared__ float red[NWK][R * N];
	__shared__ float rss[NWK][N];
	const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
	const int bid = blockIdx.x;
	const int m = bid >= j.mat[2].blk ? 2 : bid >= j.mat[1].blk ? 1 : 0;
	const uint8_t *w = j.mat[m].w;
	float *y = j.mat[m].y;
	const uint32_t rb = j.mat[m].rb;
	const int rows = j.mat[m].rows;
	const int sw = j.mode == MV_SWIGLU;
	const int rpb = sw ? R / 2 : R; /* output rows a block */
	/* The last block of a matrix whose rows are not a multiple of rpb
	 * moves back to end at its last row and stores only the rows the
	 * block before did not (so every block's rows are adjacent, without
	 * a clamp a row); only a matrix of fewer than rpb rows repeats its
	 * last row (whose sums are not stored). */
	const int row_n = (bid - j.mat[m].blk) * rpb; /* first row to store */
	const int row0 = row_n + rpb <= rows ? row_n : max(rows - rpb, 0);
	const int last = rows - 1 - row0;
	const int part = lane % F::LPB;
	const int nb = K / F::QK;
	/* the rows' first bytes: 32-bit offsets (a 64-bit product costs sm_52
	 * ~15 XMADs); with SwiGLU rows R/2.. are the same rows of the up
	 * matrix */
	const uint8_t *rp[R];
	{
		const uint32_t base = (uint32_t)row0 * rb;
		uint32_t o[R];
		o[0] = 0;
		if (last >= R - 1) { /* every block but one of a tiny matrix: no compares */
#pragma unroll
			for (int r = 1; r < R; r++)
				o[r] = o[r - 1] + rb;
		} else {
#pragma unroll
			for (int r = 1; r < R; r++)
				o[r] = o[r - 1] + (r <= last ? rb : 0u);
		}
		const uint8_t *p0 = w + base, *p1 = sw ? j.mat[1].w + base : p0;
#pragma unroll
		for (int r = 0; r < R; r++)
			rp[r] = r < R / 2 ? p0 + o[r] : p1 + (sw ? o[r - R / 2] : o[r]);
	}
	float acc[R][N], ss[N];
#pragma unroll
	for (int s = 0; s < N; s++) {
		ss[s] = 0.0f;
#pragma unroll
		for (int r = 0; r < R; r++)
			acc[r][s] = 0.0f;
	}
	int ib = warp * BPI + lane / F::LPB;
	const float *xl = x + (size_t)ib * F::QK + F::col0(part);
	const float *gl = NORM ? j.g + (size_t)ib * F::QK + F::col0(part) : NULL;
	unsigned off = (unsigned)ib * F::BYTES;
	for (; ib < nb; ib += STEP, xl += STEP * F::QK, gl += NORM ? STEP * F::QK : 0, off += STEP * F::BYTES) {
		uint32_t raw[R][F::NRAW];
#pragma unroll
		for (int r = 0; r < R; r++)
			F::load(rp[r] + off, part, raw[r]);
		if (QR<T, N>::XREG) {
			/* few sequences: x stays in registers, rows decoded in turn */
			float xv[N][F::W], A0[N][F::G], SU[N][F::G];
#pragma unroll
			for (int s = 0; s < N; s++)
				qloadx<T, NORM>(xl + (size_t)s * K, gl, xv[s], A0[s], SU[s], ss[s]);
#pragma unroll
			for (int r = 0; r < R; r++) {
				float f[F::W], dA[F::G], nS[F::G];
				F::decode(raw[r], part, f, dA, nS);
#pragma unroll
				for (int s = 0; s < N; s++)
					acc[r][s] = qfold<T>(f, xv[s], dA, nS, A0[s], SU[s], acc[r][s]);
			}
		} else {
			/* many: the rows' weights stay in registers, x loaded once a sequence */
			float f[R][F::W], dA[R][F::G], nS[R][F::G];
#pragma unroll
			for (int r = 0; r < R; r++)
				F::decode(raw[r], part, f[r], dA[r], nS[r]);
#pragma unroll
			for (int s = 0; s < N; s++) {
				float xv[F::W], A0[F::G], SU[F::G];
				qloadx<T, NORM>(xl + (size_t)s * K, gl, xv, A0, SU, ss[s]);
#pragma unroll
				for (int r = 0; r < R; r++)
					acc[r][s] = qfold<T>(f[r], xv, dA[r], nS[r], A0, SU, acc[r][s]);
			}
		}
	}
#pragma unroll
	for (int s = 0; s < N; s++) {
		float v[R];
#pragma unroll
		for (int r = 0; r < R; r++)
			v[r] = acc[r][s];
		float t = warp_sum_rows<R>(v, lane);
		if (lane % (32 / R) == 0)
			red[warp][(lane / (32 / R)) * N + s] = t;
	}
	if (NORM) {
#pragma unroll
		for (int s = 0; s < N; s++) {
			float v = warp_sum(ss[s]);
			if (lane == 0)
				rss[warp][s] = v;
		}
	}
	__syncthreads();
	for (int t = threadIdx.x; t < rpb * N; t += blockDim.x) {
		int r = t / N, s = t % N;
		float v = 0.0f, rms = F::UNIT;
		if (NORM) {
			float q = 0.0f;
#pragma unroll
			for (int k = 0; k < NWK; k++)
				q += rss[k][s];
			rms *= rsqrtf(q / (float)K + j.eps);
		}
#pragma unroll
		for (int k = 0; k < NWK; k++)
			v += red[k][t];
		v *= rms;
		if (row0 + r >= rows || row0 + r < row_n)
			continue;
		if (ROPE) {
			/* normal RoPE pairs rows 2i and 2i + 1 of a head: both in this
			 * block (rows is even, so row0 is) */
			const int role = j.role[m], row = row0 + r, p = j.pos[s], sq = j.seq[s];
			if (role != M40C_ROLE_V && row % j.hd < j.n_dims) {
				const int d = row % j.hd;
				float vp = 0.0f, c, sn;
#pragma unroll
				for (int k = 0; k < NWK; k++)
					vp += red[k][(r ^ 1) * N + s];
				vp *= rms;
				m40c_rope_cs(p, d / 2, j.n_dims, j.lb, j.freq_scale, j.ff, &c, &sn);
				v = d & 1 ? m40c_rope_elem(false, vp, v, c, sn) : m40c_rope_elem(true, v, vp, c, sn);
			}
			if (role == M40C_ROLE_Q)
				y[(size_t)s * rows + row] = v;
			else if (sq >= 0 && sq < j.n_seq && p >= 0 && p < j.n_ctx)
				(role == M40C_ROLE_K ? j.kc : j.vc)[((size_t)sq * j.n_ctx + p) * j.kv_dim + row] =
					__half_as_ushort(__float2half_rn(v));
			continue;
		}
		float *yp = y + (size_t)s * rows + row0 + r;
		if (sw) {
			float u = 0.0f;
#pragma unroll
			for (int k = 0; k < NWK; k++)
				u += red[k][t + (R / 2) * N];
			u *= rms;
			*yp = v / (1.0f + expf(-v)) * u;
		} else if (j.mode == MV_ADD) {
			*yp += v;
		} else {
			*yp = v;
		}
	}
}

/* The norm is compiled in only where asked for (NORM): a run-time test
 * in the x loads would split the unrolled loads into basic blocks and
 * cost the plain products a third of their speed (H100). */
template <int T, int N, int R>
static void mvq_launch_r(m40_backend *be, MvJob j, int K, const float *x)
{
	int rpb = j.mode == MV_SWIGLU ? R / 2 : R;
	int b0 = (j.mat[0].rows + rpb - 1) / rpb;
	int b1 = j.mat[1].w && j.mode != MV_SWIGLU ? (j.mat[1].rows + R - 1) / R : 0;
	int b2 = j.mat[2].w ? (j.mat[2].rows + R - 1) / R : 0;
	unsigned grid = (unsigned)(b0 + b1 + b2);
	j.mat[0].blk = 0;
	j.mat[1].blk = b1 ? b0 : INT_MAX;
	j.mat[2].blk = b2 ? b0 + b1 : INT_MAX;
	if (N <= MV_NORM_MAX && j.g != NULL && j.pos != NULL)
		mvq_kernel<T, N, R, (N <= MV_NORM_MAX), (N <= MV_NORM_MAX)><<<grid, MvNwk<T>::V * 32, 0, be->stream>>>(j, K, x);
	else if (N <= MV_NORM_MAX && j.g != NULL)
		mvq_kernel<T, N, R, (N <= MV_NORM_MAX), false><<<grid, MvNwk<T>::V * 32, 0, be->stream>>>(j, K, x);
	else
		mvq_kernel<T, N, R, false, false><<<grid, MvNwk<T>::V * 32, 0, be->stream>>>(j, K, x);
}

/* R rows a block by type and batch; for one sequence, $M40_CUDA_MV_ROWS
 * may ask for the other of 4 and 8. */
template <int T, int N>
static void mvq_launch(m40_backend *be, MvJob j, int K, const float *x)
{
	enum { R = QR<T, N>::R };
	if (N == 1 && be->mv_rows[T] != 0 && be->mv_rows[T] != R)
		mvq_launch_r<T, N, (N == 1 ? 12 - R : R)>(be, j, K, x);
	else
		mvq_launch_r<T, N, R>(be, j, K, x);
}

static bool mvq_fits(const m40_weight *w, int qk, int align, int K, int type)
{
	return w->type == type && w->cols == K && K % qk == 0 && (uintptr_t)w->data % align == 0 &&
		w->row_bytes % align == 0 && (uint64_t)w->rows * w->row_bytes <= UINT32_MAX;
}

/* Whether the RoPE epilogue takes this store: normal RoPE (pairs 2i,
 * 2i + 1 of a head fall in one thread block), the norm folded in. */
static bool qkv_store_ok(const m40c_qkv_store *qs, const m40_weight *const *w, int nw, const float *g, int n)
{
	const m40_kv_layout *kv = qs->kv;
	if (qs->rope->neox || g == NULL || n > MV_NORM_MAX || kv->head_dim % 2 || qs->rope->n_dims > kv->head_dim)
		return false;
	for (int i = 0; i < nw; i++) {
		int64_t want = qs->role[i] == M40C_ROLE_Q ? (int64_t)kv->n_head * kv->head_dim
			: (int64_t)kv->n_head_kv * kv->head_dim;
		if (w[i]->rows != want)
			return false;
	}
	return true;
}

/* nw weights (1..3) of type T on x[n][K]: checks everything first and
 * launches nothing when the fast kernels cannot take them (nor when dry). */
template <int T>
static m40_status mvq_typed(m40_backend *be, const m40_weight *const *w, int nw, int mode, const float *x,
	const float *g, float eps, float *const *y, int n, const m40c_qkv_store *qs, bool dry)
{
	typedef Q<T> F;
	int K = (int)w[0]->cols;
	if (K % 4 || ((uintptr_t)x % 16) || ((uintptr_t)g % 16) || (g != NULL && n > MV_NORM_MAX))
		return M40_E_UNSUPPORTED; /* caller falls back */
	for (int i = 0; i < nw; i++)
		if (!mvq_fits(w[i], F::QK, F::ALIGN, K, T))
			return M40_E_UNSUPPORTED;
	if (mode == MV_SWIGLU && (nw != 2 || w[1]->rows != w[0]->rows || w[1]->row_bytes != w[0]->row_bytes))
		return M40_E_UNSUPPORTED;
	if (qs != NULL && (mode != MV_STORE || !qkv_store_ok(qs, w, nw, g, n)))
		return M40_E_UNSUPPORTED;
	if (dry)
		return M40_OK;
	for (int s0 = 0; s0 < n; s0 += M40_CUDA_MV_MAX) {
		int c = n - s0 < M40_CUDA_MV_MAX ? n - s0 : M40_CUDA_MV_MAX;
		MvJob j;
		memset(&j, 0, sizeof j);
		j.mode = mode;
		j.g = g;
		j.eps = eps;
		for (int i = 0; i < nw; i++) {
			MvMat *mt = &j.mat[i];
			mt->w = (const uint8_t *)w[i]->data;
			mt->rb = (uint32_t)w[i]->row_bytes;
			mt->rows = (int)w[i]->rows;
			mt->y = mode == MV_SWIGLU && i == 1 ? NULL : y[i] + (size_t)s0 * w[i]->rows;
		}
		if (qs != NULL) {
			for (int i = 0; i < nw; i++)
				j.role[i] = qs->role[i];
			j.pos = qs->pos + s0;
			j.seq = qs->seq + s0;
			j.kc = (unsigned short *)qs->k_cache;
			j.vc = (unsigned short *)qs->v_cache;
			j.ff = qs->rope->freq_factors;
			j.hd = qs->kv->head_dim;
			j.n_dims = qs->rope->n_dims;
			j.n_seq = qs->kv->n_seq;
			j.n_ctx = qs->kv->n_ctx;
			j.kv_dim = qs->kv->n_head_kv * qs->kv->head_dim;
			j.lb = log2((double)qs->rope->freq_base);
			j.freq_scale = qs->rope->freq_scale;
		}
		const float *xs = x + (size_t)s0 * K;
		switch (c) {
		case 1: mvq_launch<T, 1>(be, j, K, xs); break;
		case 2: mvq_launch<T, 2>(be, j, K, xs); break;
		case 3: mvq_launch<T, 3>(be, j, K, xs); break;
		case 4: mvq_launch<T, 4>(be, j, K, xs); break;
		case 5: mvq_launch<T, 5>(be, j, K, xs); break;
		case 6: mvq_launch<T, 6>(be, j, K, xs); break;
		case 7: mvq_launch<T, 7>(be, j, K, xs); break;
		default: mvq_launch<T, 8>(be, j, K, xs); break;
		}
	}
	return M40_OK;
}

static m40_status mvq_any(m40_backend *be, const m40_weight *const *w, int nw, int mode, const float *x,
	const float *g, float eps, float *const *y, int n, const m40c_qkv_store *qs = NULL, bool dry = false)
{
	switch (w[0]->type) {
	case M40_TYPE_F16: return mvq_typed<M40_TYPE_F16>(be, w, nw, mode, x, g, eps, y, n, qs, dry);
	case M40_TYPE_BF16: return mvq_typed<M40_TYPE_BF16>(be, w, nw, mode, x, g, eps, y, n, qs, dry);
	case M40_TYPE_Q4_0: return mvq_typed<M40_TYPE_Q4_0>(be, w, nw, mode, x, g, eps, y, n, qs, dry);
	case M40_TYPE_Q4_1: return mvq_typed<M40_TYPE_Q4_1>(be, w, nw, mode, x, g, eps, y, n, qs, dry);
	case M40_TYPE_Q5_0: return mvq_typed<M40_TYPE_Q5_0>(be, w, nw, mode, x, g, eps, y, n, qs, dry);
	case M40_TYPE_Q5_1: return mvq_typed<M40_TYPE_Q5_1>(be, w, nw, mode, x, g, eps, y, n, qs, dry);
	case M40_TYPE_Q8_0: return mvq_typed<M40_TYPE_Q8_0>(be, w, nw, mode, x, g, eps, y, n, qs, dry);
	case M40_TYPE_Q4_K: return mvq_typed<M40_TYPE_Q4_K>(be, w, nw, mode, x, g, eps, y, n, qs, dry);
	case M40_TYPE_Q5_K: return mvq_typed<M40_TYPE_Q5_K>(be, w, nw, mode, x, g, eps, y, n, qs, dry);
	case M40_TYPE_Q6_K: return mvq_typed<M40_TYPE_Q6_K>(be, w, nw, mode, x, g, eps, y, n, qs, dry);
	case M40_TYPE_Q2_K: return mvq_typed<M40_TYPE_Q2_K>(be, w, nw, mode, x, g, eps, y, n, qs, dry);
	case M40_TYPE_Q3_K: return mvq_typed<M40_TYPE_Q3_K>(be, w, nw, mode, x, g, eps, y, n, qs, dry);
	case M40_TYPE_IQ4_NL: return mvq_typed<M40_TYPE_IQ4_NL>(be, w, nw, mode, x, g, eps, y, n, qs, dry);
	default: return M40_E_UNSUPPORTED;
	}
}

m40_status m40c_matvec_fused(m40_backend *be, int fuse, const m40_weight *const *w, int nw, const float *x,
	const float *g, float eps, float *const *y, int n)
{
	int mode = fuse == M40C_FUSE_ADD ? MV_ADD : fuse == M40C_FUSE_SWIGLU ? MV_SWIGLU : MV_STORE;
	if (n <= 0)
		return M40_OK;
	if (n > be->mv_batch || nw < 1 || nw > 3)
		return M40_E_UNSUPPORTED;
	m40_status st = mvq_any(be, w, nw, mode, x, g, eps, y, n);
	return st == M40_OK ? m40c_check(be, "fused matmul") : st;
}

m40_status m40c_matvec_qkv_rope(m40_backend *be, const m40_weight *const *w, int nw, const float *x,
	const float *g, float eps, float *const *y, int n, const m40c_qkv_store *qs, int dry)
{
	if (n <= 0)
		return M40_OK;
	if (n > be->mv_batch || nw < 1 || nw > 3)
		return M40_E_UNSUPPORTED;
	m40_status st = mvq_any(be, w, nw, MV_STORE, x, g, eps, y, n, qs, dry != 0);
	return st == M40_OK && !dry ? m40c_check(be, "Q, K, V with RoPE") : st;
}

m40_status m40c_matvec(m40_backend *be, const m40_weight *w, const float *x, float *y, int n)
{
	m40_status st;
	if (n <= 0)
		return M40_OK;
	if (n > M40_CUDA_MV_MAX) {
		for (int s0 = 0; s0 < n; s0 += M40_CUDA_MV_MAX) {
			int m = n - s0 < M40_CUDA_MV_MAX ? n - s0 : M40_CUDA_MV_MAX;
			st = m40c_matvec(be, w, x + (size_t)s0 * w->cols, y + (size_t)s0 * w->rows, m);
			if (st != M40_OK)
				return st;
		}
		return M40_OK;
	}
	st = mvq_any(be, &w, 1, MV_STORE, x, NULL, 0.0f, &y, n);
	if (st == M40_E_UNSUPPORTED) {
		switch (w->type) {
		case M40_TYPE_F32: st = mv_typed<M40_TYPE_F32>(be, w, x, y, n); break;
		case M40_TYPE_F16: st = mv_typed<M40_TYPE_F16>(be, w, x, y, n); break;
		case M40_TYPE_BF16: st = mv_typed<M40_TYPE_BF16>(be, w, x, y, n); break;
		case M40_TYPE_Q4_0: st = mv_typed<M40_TYPE_Q4_0>(be, w, x, y, n); break;
		case M40_TYPE_Q4_1: st = mv_typed<M40_TYPE_Q4_1>(be, w, x, y, n); break;
		case M40_TYPE_Q5_0: st = mv_typed<M40_TYPE_Q5_0>(be, w, x, y, n); break;
		case M40_TYPE_Q5_1: st = mv_typed<M40_TYPE_Q5_1>(be, w, x, y, n); break;
		case M40_TYPE_Q8_0: st = mv_typed<M40_TYPE_Q8_0>(be, w, x, y, n); break;
		case M40_TYPE_IQ4_NL: st = mv_typed<M40_TYPE_IQ4_NL>(be, w, x, y, n); break;
		case M40_TYPE_Q2_K: st = mv_typed<M40_TYPE_Q2_K>(be, w, x, y, n); break;
		case M40_TYPE_Q3_K: st = mv_typed<M40_TYPE_Q3_K>(be, w, x, y, n); break;
		case M40_TYPE_Q4_K: st = mv_typed<M40_TYPE_Q4_K>(be, w, x, y, n); break;
		case M40_TYPE_Q5_K: st = mv_typed<M40_TYPE_Q5_K>(be, w, x, y, n); break;
		case M40_TYPE_Q6_K: st = mv_typed<M40_TYPE_Q6_K>(be, w, x, y, n); break;
		default: return M40_E_UNSUPPORTED;
		}
	}
	if (st == M40_E_UNSUPPORTED) {
		unsigned grid = (unsigned)((w->rows + 3) / 4);
		mv_generic<<<grid, 128, 0, be->stream>>>(w->type, (const uint8_t *)w->data, w->row_bytes,
			(int)w->rows, (int)w->cols, x, y, n);
	}
	return m40c_check(be, "matmul");
}
