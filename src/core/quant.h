/*
 * quant.h: the tensor formats on the CPU (internal): block decoders, dot
 * products of stored rows with FP32 activations, and the kernel skeleton
 * every format shares.
 *
 * Each format writes one function, the decoder of whole blocks into floats
 * (exactly ggml's dequantize_row_*), as plain loops over a block that GCC
 * vectorizes (see M40I_VECTORIZE).  M40I_FORMAT_KERNELS builds the format's
 * dot products from it: decode up to M40I_CHUNK elements into a buffer on
 * the stack, then multiply-add it with x in 8-wide GCC/Clang vector
 * extensions; for batches, four rows against three activations at a time
 * (m40i_tile4x3_f32).  That source compiles twice: for the baseline CPU and,
 * on x86-64, with AVX2+FMA+F16C, picked at run time (m40i_kernels_best).
 * The AVX2 set replaces the one-row dot of each format by a hand-written
 * kernel (name_dot_fused in the format's file) that unpacks a block's
 * quants to bytes and multiplies-adds without storing floats, and for
 * Q4_K, Q5_K, Q6_K and F16 decodes with AVX2 for the batch kernels.
 * Activations stay FP32 throughout.
 *
 * Block rows must be 2-byte aligned (GGUF aligns tensors to 32 bytes and
 * every block is an even number of bytes); x and y need no alignment.
 */
#ifndef M40_QUANT_H
#define M40_QUANT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Dot of one stored row (n elements of type) with FP32 x.  The type must be
 * computable and n a multiple of its block size (0 otherwise). */
float m40i_vec_dot(int type, const void *row, const float *x, int64_t n);
/* y[j*y_stride] = dot(row, x + j*n) for j < nx: the row is decoded once for
 * all nx activations (prompt batches); the same as nx calls of m40i_vec_dot
 * up to float reassociation. */
void m40i_vec_dot_multi(int type, const void *row, const float *x, int64_t n,
			int nx, float *y, size_t y_stride);
/* y[j*y_stride + r] = dot(row r, x + j*n) for r < nrows, j < nx, the rows
 * row_bytes apart: the faster form of the same for prompt batches, since
 * each activation, once loaded, meets four rows (up to reassociation the
 * same as nrows calls of m40i_vec_dot_multi). */
void m40i_vec_dot_tile(int type, const void *rows, size_t row_bytes, int nrows,
		       const float *x, int64_t n, int nx, float *y, size_t y_stride);

/* Kernel sets: the baseline one and, where the CPU has them, AVX2+FMA and
 * AVX-512 (the AVX2 set with AVX-512 one-row dots for the formats of
 * common models). */
enum { M40I_KERNELS_BASE, M40I_KERNELS_AVX2, M40I_KERNELS_AVX512, M40I_KERNELS_COUNT };

typedef float (*m40i_dot_fn)(const void *row, const float *x, int64_t n);
typedef void (*m40i_dot_multi_fn)(const void *row, const float *x, int64_t n,
				  int nx, float *y, size_t y_stride);
typedef void (*m40i_dot_tile_fn)(const void *rows, size_t row_bytes, int nrows,
				 const float *x, int64_t n, int nx, float *y, size_t y_stride);

/* One tensor format. */
struct m40i_format {
	int type; /* enum m40_type */
	int block_size; /* elements per block */
	size_t block_bytes;
	/* Exactly ggml's dequantization, bit for bit. */
	void (*dequantize)(const void *src, float *dst, int64_t nblocks);
	/* ggml's reference quantizer, or NULL where m40-llm has none. */
	void (*quantize)(const float *src, void *dst, int64_t nblocks);
	struct {
		m40i_dot_fn dot;
		m40i_dot_multi_fn dot_multi;
		m40i_dot_tile_fn dot_tile;
	} kernels[M40I_KERNELS_COUNT];
};

/* The format of a computable type, or NULL. */
const struct m40i_format *m40i_format_of(int type);
/* The best kernel set this CPU runs. */
int m40i_kernels_best(void);

/* quant-float.c */
extern const struct m40i_format m40i_format_f32, m40i_format_f16, m40i_format_bf16;
/* quant-legacy.c */
extern const struct m40i_format m40i_format_q4_0, m40i_format_q4_1,
	m40i_format_q5_0, m40i_format_q5_1, m40i_format_q8_0;
/* quant-k.c */
extern const struct m40i_format m40i_format_q2_k, m40i_format_q3_k,
	m40i_format_q4_k, m40i_format_q5_k, m40i_format_q6_k;
/* quant-iq.c */
extern const struct m40i_format m40i_format_iq4_nl;

/* ---- building blocks for the decoders ---- */

/* These helpers are always inlined, so GCC's note that 32-byte vector
 * arguments pass differently with and without AVX does not apply (it is
 * raised at every call, hence off for the rest of the file). */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpsabi"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#define M40I_INLINE static inline __attribute__((always_inline))

/*
 * ggml's decoders and reference quantizers compute d * q - m, x * id + 0.5
 * as two roundings; where the compiler may fuse them into one (-march with
 * FMA), M40I_EXACT on a function keeps them two, so dequantization stays
 * bit-exact and quantization byte-exact whatever the flags.
 */
#if defined(__clang__)
#define M40I_EXACT
#define M40I_EXACT_BODY _Pragma("clang fp contract(off)")
#elif defined(__GNUC__)
#define M40I_EXACT __attribute__((optimize("fp-contract=off")))
#define M40I_EXACT_BODY
#else
#define M40I_EXACT
#define M40I_EXACT_BODY
#endif

typedef float f32x8 __attribute__((vector_size(32)));

/* memcpy keeps loads and stores free of alignment and aliasing rules; the
 * compiler turns each into one unaligned vector move. */
M40I_INLINE f32x8 m40i_load8(const float *p)
{
	f32x8 v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* A macro: GCC notes an ABI change for 32-byte vector arguments. */
#define m40i_store8(p, v) \
	do { \
		f32x8 v_ = (v); \
		memcpy((p), &v_, sizeof v_); \
	} while (0)

M40I_INLINE uint16_t m40i_rd16(const void *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/*
 * IEEE half to float, exact for every input (NaN payloads kept): move
 * exponent and mantissa into place and rebias; infinities
 * and NaNs get the rest of the exponent range, and subnormals are
 * renormalized by one float subtraction.  (F. Giesen's half_to_float.)
 */
M40I_INLINE float m40i_half_to_float(uint16_t h)
{
	uint32_t o = (uint32_t)(h & 0x7fff) << 13;
	uint32_t e = o & 0x0f800000u; /* the exponent field, shifted */
	float f;

	o += (127 - 15) << 23;
	if (e == 0x0f800000u) /* Inf or NaN */
		o += (128 - 16) << 23;
	else if (e == 0) { /* zero or subnormal */
		o += 1 << 23;
		memcpy(&f, &o, sizeof f);
		f -= 6.103515625e-05f; /* 2^-14 */
		memcpy(&o, &f, sizeof o);
	}
	o |= (uint32_t)(h & 0x8000) << 16;
	memcpy(&f, &o, sizeof f);
	return f;
}

/* The same without branches, for loops the compiler vectorizes. */
M40I_INLINE float m40i_half_to_float_nb(uint16_t h)
{
	uint32_t o = (uint32_t)(h & 0x7fff) << 13, e = o & 0x0f800000u, os;
	float f, sub;

	o += (127 - 15) << 23;
	o += e == 0x0f800000u ? (uint32_t)(128 - 16) << 23 : 0;
	os = o + (1 << 23);
	memcpy(&sub, &os, sizeof sub);
	sub -= 6.103515625e-05f;
	memcpy(&os, &sub, sizeof os);
	o = e == 0 ? os : o;
	o |= (uint32_t)(h & 0x8000) << 16;
	memcpy(&f, &o, sizeof f);
	return f;
}

/* ---- the kernel skeleton ---- */

/* Elements decoded at a time: one k-quant super-block, eight of 32; for
 * the batch tile four super-blocks (four rows of them: 16 KB on the stack),
 * so the sums of its twelve accumulators are taken less often. */
#define M40I_CHUNK 256
#define M40I_TILE_CHUNK 1024

typedef void (*m40i_decode_fn)(const void *src, float *dst, int64_t nblocks);

/* Dot of n floats; n need not be a multiple of 8. */
M40I_INLINE float m40i_dot_f32(const float *w, const float *x, int64_t n)
{
	f32x8 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
	int64_t i = 0;
	float s = 0;

	for (; i + 32 <= n; i += 32) {
		a0 += m40i_load8(w + i) * m40i_load8(x + i);
		a1 += m40i_load8(w + i + 8) * m40i_load8(x + i + 8);
		a2 += m40i_load8(w + i + 16) * m40i_load8(x + i + 16);
		a3 += m40i_load8(w + i + 24) * m40i_load8(x + i + 24);
	}
	for (; i + 8 <= n; i += 8)
		a0 += m40i_load8(w + i) * m40i_load8(x + i);
	a0 = (a0 + a1) + (a2 + a3);
	for (int k = 0; k < 8; k++)
		s += a0[k];
	for (; i < n; i++)
		s += w[i] * x[i];
	return s;
}

/* Dot of a row of blocks with x: decode a chunk, then multiply-add it. */
M40I_INLINE float m40i_dot_blocks(m40i_decode_fn decode, int bsize, size_t bbytes,
				  const void *row, const float *x, int64_t n)
{
	const unsigned char *src = row;
	float w[M40I_CHUNK];
	float s = 0;

	for (int64_t i = 0; i < n; i += M40I_CHUNK) {
		int64_t len = n - i < M40I_CHUNK ? n - i : M40I_CHUNK;
		decode(src + (size_t)(i / bsize) * bbytes, w, len / bsize);
		s += m40i_dot_f32(w, x + i, len);
	}
	return s;
}

/* Dots of w with four activation rows x, x + stride, ...: each load of w
 * serves four multiply-adds, two accumulators a row hide the latency. */
M40I_INLINE void m40i_dot4_f32(const float *w, const float *x, int64_t stride,
			       int64_t n, float *y, size_t y_stride)
{
	const float *x0 = x, *x1 = x + stride, *x2 = x + 2 * stride, *x3 = x + 3 * stride;
	f32x8 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
	f32x8 b0 = { 0 }, b1 = { 0 }, b2 = { 0 }, b3 = { 0 };
	int64_t i = 0;

	/* (Named accumulators: GCC keeps an array of them in memory.) */
	for (; i + 16 <= n; i += 16) {
		f32x8 w0 = m40i_load8(w + i), w1 = m40i_load8(w + i + 8);
		a0 += w0 * m40i_load8(x0 + i);
		b0 += w1 * m40i_load8(x0 + i + 8);
		a1 += w0 * m40i_load8(x1 + i);
		b1 += w1 * m40i_load8(x1 + i + 8);
		a2 += w0 * m40i_load8(x2 + i);
		b2 += w1 * m40i_load8(x2 + i + 8);
		a3 += w0 * m40i_load8(x3 + i);
		b3 += w1 * m40i_load8(x3 + i + 8);
	}
	a0 += b0, a1 += b1, a2 += b2, a3 += b3;
	{
		float s[4] = { 0 };
		for (int k = 0; k < 8; k++) {
			s[0] += a0[k];
			s[1] += a1[k];
			s[2] += a2[k];
			s[3] += a3[k];
		}
		for (; i < n; i++) {
			s[0] += w[i] * x0[i];
			s[1] += w[i] * x1[i];
			s[2] += w[i] * x2[i];
			s[3] += w[i] * x3[i];
		}
		for (int j = 0; j < 4; j++)
			y[j * y_stride] += s[j];
	}
}

/* The same for nx activations, decoding each chunk of the row once. */
M40I_INLINE void m40i_dot_multi_blocks(m40i_decode_fn decode, int bsize, size_t bbytes,
				       const void *row, const float *x, int64_t n,
				       int nx, float *y, size_t y_stride)
{
	const unsigned char *src = row;
	float w[M40I_CHUNK];

	for (int j = 0; j < nx; j++)
		y[j * y_stride] = 0;
	for (int64_t i = 0; i < n; i += M40I_CHUNK) {
		int64_t len = n - i < M40I_CHUNK ? n - i : M40I_CHUNK;
		int j = 0;

		decode(src + (size_t)(i / bsize) * bbytes, w, len / bsize);
		for (; j + 4 <= nx; j += 4)
			m40i_dot4_f32(w, x + j * n + i, n, len, y + j * y_stride, y_stride);
		for (; j < nx; j++)
			y[j * y_stride] += m40i_dot_f32(w, x + j * n + i, len);
	}
}

/*
 * The register tile of m40i_vec_dot_tile: four decoded rows (w, M40I_TILE_CHUNK
 * apart) times three activations (x, stride apart), twelve accumulators;
 * per 8 elements 7 loads feed 12 multiply-adds.  y[j * y_stride + r] +=.
 */
M40I_INLINE void m40i_tile4x3_f32(const float *w, const float *x, int64_t stride,
				  int64_t n, float *y, size_t y_stride)
{
	const float *w0 = w, *w1 = w + M40I_TILE_CHUNK, *w2 = w + 2 * M40I_TILE_CHUNK, *w3 = w + 3 * M40I_TILE_CHUNK;
	const float *x0 = x, *x1 = x + stride, *x2 = x + 2 * stride;
	f32x8 c00 = { 0 }, c01 = { 0 }, c02 = { 0 }, c10 = { 0 }, c11 = { 0 }, c12 = { 0 };
	f32x8 c20 = { 0 }, c21 = { 0 }, c22 = { 0 }, c30 = { 0 }, c31 = { 0 }, c32 = { 0 };
	int64_t i = 0;

	for (; i + 8 <= n; i += 8) {
		f32x8 a0 = m40i_load8(x0 + i), a1 = m40i_load8(x1 + i), a2 = m40i_load8(x2 + i), b;

		b = m40i_load8(w0 + i);
		c00 += b * a0, c01 += b * a1, c02 += b * a2;
		b = m40i_load8(w1 + i);
		c10 += b * a0, c11 += b * a1, c12 += b * a2;
		b = m40i_load8(w2 + i);
		c20 += b * a0, c21 += b * a1, c22 += b * a2;
		b = m40i_load8(w3 + i);
		c30 += b * a0, c31 += b * a1, c32 += b * a2;
	}
	{
		f32x8 c[4][3] = { { c00, c01, c02 }, { c10, c11, c12 }, { c20, c21, c22 }, { c30, c31, c32 } };
		for (int r = 0; r < 4; r++)
			for (int j = 0; j < 3; j++) {
				float s = 0;
				for (int k = 0; k < 8; k++)
					s += c[r][j][k];
				for (int64_t t = i; t < n; t++)
					s += w[r * M40I_TILE_CHUNK + t] * x[j * stride + t];
				y[j * y_stride + r] += s;
			}
	}
}

/* m40i_vec_dot_tile from a decoder: four rows at a time, each chunk of
 * them decoded once for all nx activations. */
M40I_INLINE void m40i_dot_tile_blocks(m40i_decode_fn decode, m40i_dot_multi_fn multi,
				      int bsize, size_t bbytes, const void *rows,
				      size_t row_bytes, int nrows, const float *x, int64_t n,
				      int nx, float *y, size_t y_stride)
{
	const unsigned char *src = rows;
	float w[4 * M40I_TILE_CHUNK];
	int r = 0;

	for (; r + 4 <= nrows; r += 4) {
		for (int j = 0; j < nx; j++)
			for (int k = 0; k < 4; k++)
				y[j * y_stride + r + k] = 0;
		for (int64_t i = 0; i < n; i += M40I_TILE_CHUNK) {
			int64_t len = n - i < M40I_TILE_CHUNK ? n - i : M40I_TILE_CHUNK;
			const unsigned char *blk = src + (size_t)r * row_bytes + (size_t)(i / bsize) * bbytes;
			int j = 0;

			for (int k = 0; k < 4; k++)
				decode(blk + k * row_bytes, w + k * M40I_TILE_CHUNK, len / bsize);
			for (; j + 3 <= nx; j += 3)
				m40i_tile4x3_f32(w, x + j * n + i, n, len, y + j * y_stride + r, y_stride);
			for (; j < nx; j++)
				for (int k = 0; k < 4; k++)
					y[j * y_stride + r + k] += m40i_dot_f32(w + k * M40I_TILE_CHUNK, x + j * n + i, len);
		}
	}
	for (; r < nrows; r++)
		multi(src + (size_t)r * row_bytes, x, n, nx, y + r, y_stride);
}

/*
 * GCC's -O2 vectorizes only loops it deems very cheap, which excludes the
 * byte-to-float conversions every decoder is made of; the quant-*.c files
 * say M40I_VECTORIZE after their includes to get -O3's cost model for
 * their own functions.  (Without it the code is the same, only slower.)
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__)
#define M40I_VECTORIZE _Pragma("GCC optimize(\"tree-vectorize\", \"vect-cost-model=dynamic\")")
#else
#define M40I_VECTORIZE
#endif

/* (-DM40_NO_AVX2 builds the portable kernels alone, as on other CPUs.) */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(M40_NO_AVX2)
#define M40I_HAVE_AVX2 1
#define M40I_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define M40I_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#endif

#ifdef M40I_HAVE_AVX2
/*
 * For the hand-written AVX2 dot products of the most used formats: GCC
 * widens bytes to floats poorly from generic code, and a fused kernel
 * saves the round trip of the decoded block through memory.  Each computes
 * w = (its decoder's value) and sums w * x like the generic kernel.
 */
#include <immintrin.h>

/* Eight bytes at p, zero- or sign-extended, as floats. */
M40I_TARGET_AVX2 static inline __m256 m40i_u8x8_ps(const uint8_t *p)
{
	return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}

M40I_TARGET_AVX2 static inline __m256 m40i_i8x8_ps(const int8_t *p)
{
	return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}

/* Sixteen bytes at p as floats, for the AVX-512 dots. */
M40I_TARGET_AVX512 static inline __m512 m40i_u8x16_ps512(const uint8_t *p)
{
	return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p)));
}

M40I_TARGET_AVX512 static inline __m512 m40i_i8x16_ps512(const int8_t *p)
{
	return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)));
}

/* Ask for the block M40I_PREFETCH_AHEAD bytes past p (of size bytes) now:
 * rows stream from memory, faster than the hardware prefetcher fetches
 * them when the machine is busy.  (Past the end of the row is harmless.) */
#define M40I_PREFETCH_AHEAD 2048
#define M40I_PREFETCH(p, size) \
	do { \
		const char *pf_ = (const char *)(p) + M40I_PREFETCH_AHEAD; \
		for (size_t o_ = 0; o_ < (size); o_ += 64) \
			__builtin_prefetch(pf_ + o_); \
	} while (0)

/* acc0..acc3 += w * x for 32 elements: w = w_of(conv(q + 8k)) for the
 * k-th vector of 8, conv one of the two above, x advancing with them. */
#define M40I_ACC_BLOCK32(conv, q, w_of) \
	do { \
		acc0 = _mm256_fmadd_ps(w_of(conv(q)), _mm256_loadu_ps(x), acc0); \
		acc1 = _mm256_fmadd_ps(w_of(conv((q) + 8)), _mm256_loadu_ps(x + 8), acc1); \
		acc2 = _mm256_fmadd_ps(w_of(conv((q) + 16)), _mm256_loadu_ps(x + 16), acc2); \
		acc3 = _mm256_fmadd_ps(w_of(conv((q) + 24)), _mm256_loadu_ps(x + 24), acc3); \
	} while (0)
#define M40I_SCALE(v) _mm256_mul_ps(v, vd)           /* w = q * d */
#define M40I_SCALE_MIN(v) _mm256_fmadd_ps(v, vd, vm) /* w = q * d + m */
#define M40I_SCALE_SUBMIN(v) _mm256_fmsub_ps(v, vd, vm) /* w = q * d - m */

M40I_TARGET_AVX2 static inline float m40i_hsum_avx2(__m256 a, __m256 b, __m256 c, __m256 d)
{
	__m256 v = _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d));
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}
#endif

/*
 * M40I_FORMAT_KERNELS(name, decode, block_size, block_bytes) defines
 * name_dot_base, name_dot_multi_base and their AVX2 twins from a decoder;
 * M40I_KERNELS(name) is the matching initializer of .kernels.
 */
#define M40I_FORMAT_KERNELS_1(name, sfx, attr, decode, bs, bb) \
	attr __attribute__((unused)) static float name##_dot_##sfx(const void *row, const float *x, int64_t n) \
	{ \
		return m40i_dot_blocks(decode, bs, bb, row, x, n); \
	} \
	attr static void name##_dot_multi_##sfx(const void *row, const float *x, int64_t n, \
						int nx, float *y, size_t y_stride) \
	{ \
		m40i_dot_multi_blocks(decode, bs, bb, row, x, n, nx, y, y_stride); \
	} \
	attr static void name##_dot_tile_##sfx(const void *rows, size_t row_bytes, int nrows, \
					       const float *x, int64_t n, int nx, float *y, \
					       size_t y_stride) \
	{ \
		m40i_dot_tile_blocks(decode, name##_dot_multi_##sfx, bs, bb, rows, row_bytes, \
				     nrows, x, n, nx, y, y_stride); \
	}

#ifdef M40I_HAVE_AVX2
#define M40I_FORMAT_KERNELS(name, decode, bs, bb) \
	M40I_FORMAT_KERNELS_1(name, base, , decode, bs, bb) \
	M40I_FORMAT_KERNELS_1(name, avx2, M40I_TARGET_AVX2, decode, bs, bb)
/* The same with another decoder for AVX2. */
#define M40I_FORMAT_KERNELS2(name, decode, decode_avx2, bs, bb) \
	M40I_FORMAT_KERNELS_1(name, base, , decode, bs, bb) \
	M40I_FORMAT_KERNELS_1(name, avx2, M40I_TARGET_AVX2, decode_avx2, bs, bb)
#define M40I_KERNELS(name) \
	{ { name##_dot_base, name##_dot_multi_base, name##_dot_tile_base }, \
	  { name##_dot_avx2, name##_dot_multi_avx2, name##_dot_tile_avx2 }, \
	  { name##_dot_avx2, name##_dot_multi_avx2, name##_dot_tile_avx2 } }
/* The same with a hand-written AVX2 dot, name_dot_fused. */
#define M40I_KERNELS_FUSED(name) \
	{ { name##_dot_base, name##_dot_multi_base, name##_dot_tile_base }, \
	  { name##_dot_fused, name##_dot_multi_avx2, name##_dot_tile_avx2 }, \
	  { name##_dot_fused, name##_dot_multi_avx2, name##_dot_tile_avx2 } }
/* ... and an AVX-512 one, name_dot_fused512. */
#define M40I_KERNELS_FUSED512(name) \
	{ { name##_dot_base, name##_dot_multi_base, name##_dot_tile_base }, \
	  { name##_dot_fused, name##_dot_multi_avx2, name##_dot_tile_avx2 }, \
	  { name##_dot_fused512, name##_dot_multi_avx2, name##_dot_tile_avx2 } }
#else
#define M40I_FORMAT_KERNELS(name, decode, bs, bb) \
	M40I_FORMAT_KERNELS_1(name, base, , decode, bs, bb)
#define M40I_FORMAT_KERNELS2(name, decode, decode_avx2, bs, bb) \
	M40I_FORMAT_KERNELS_1(name, base, , decode, bs, bb)
#define M40I_KERNELS(name) \
	{ { name##_dot_base, name##_dot_multi_base, name##_dot_tile_base }, \
	  { name##_dot_base, name##_dot_multi_base, name##_dot_tile_base }, \
	  { name##_dot_base, name##_dot_multi_base, name##_dot_tile_base } }
#define M40I_KERNELS_FUSED(name) M40I_KERNELS(name)
#define M40I_KERNELS_FUSED512(name) M40I_KERNELS(name)
#endif

#endif
