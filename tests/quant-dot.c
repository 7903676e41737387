/*
 * quant-dot: the dot products (single, multi, tile) of every computable format against
 * dequantize-then-double-dot, on random blocks, with every kernel set this
 * CPU runs; the format table against types.c; argument checks.
 *
 * Error measure: |dot - ref| / sum |w_i x_i|, the bound float summation
 * guarantees whatever the order (relative to the result itself it would be
 * unbounded where terms cancel).  Tolerance 1e-5.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <m40/m40.h>
#include "quant.h"

static const int types[] = {
	M40_TYPE_F32, M40_TYPE_F16, M40_TYPE_BF16, M40_TYPE_Q8_0, M40_TYPE_Q4_0,
	M40_TYPE_Q4_1, M40_TYPE_Q5_0, M40_TYPE_Q5_1, M40_TYPE_Q2_K, M40_TYPE_Q3_K,
	M40_TYPE_Q4_K, M40_TYPE_Q5_K, M40_TYPE_Q6_K, M40_TYPE_IQ4_NL,
};

/* Byte offsets of the FP16 scales in a block (-1 ends the list). */
static const int *half_fields(int type)
{
	static const int at0[] = { 0, -1 }, at02[] = { 0, 2, -1 }, q2k[] = { 80, 82, -1 },
		q3k[] = { 108, -1 }, q6k[] = { 208, -1 }, none[] = { -1 };

	switch (type) {
	case M40_TYPE_Q4_0: case M40_TYPE_Q5_0: case M40_TYPE_Q8_0: case M40_TYPE_IQ4_NL:
		return at0;
	case M40_TYPE_Q4_1: case M40_TYPE_Q5_1: case M40_TYPE_Q4_K: case M40_TYPE_Q5_K:
		return at02;
	case M40_TYPE_Q2_K: return q2k;
	case M40_TYPE_Q3_K: return q3k;
	case M40_TYPE_Q6_K: return q6k;
	default: return none;
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Uniform in [-1, 1). */
static float unit(void)
{
	return (float)next() / 2147483648.0f - 1.0f;
}

/* A random row of n elements of type in buf (2-byte aligned). */
static void random_row(const struct m40i_format *f, unsigned char *buf, int64_t n)
{
	int64_t nb = n / f->block_size;

	if (f->type == M40_TYPE_F32 || f->type == M40_TYPE_F16 || f->type == M40_TYPE_BF16) {
		float *tmp = malloc((size_t)n * sizeof *tmp);
		for (int64_t i = 0; i < n; i++)
			tmp[i] = unit() * 3;
		if (m40_quantize_row(f->type, tmp, buf, n) != M40_OK)
			abort();
		free(tmp);
		return;
	}
	for (size_t i = 0; i < (size_t)nb * f->block_bytes; i++)
		buf[i] = (unsigned char)next();
	for (int64_t b = 0; b < nb; b++)
		for (const int *h = half_fields(f->type); *h >= 0; h++) {
			uint16_t v = m40_fp32_to_fp16(unit() * 0.1f);
			memcpy(buf + b * f->block_bytes + *h, &v, 2);
		}
}

static int failures, checks;

static void check(const char *what, const struct m40i_format *f, int ks, int64_t n,
		  float got, double ref, double mag)
{
	double err = fabs(got - ref) / (mag > 0 ? mag : 1);

	checks++;
	if (!(err <= 1e-5)) {
		printf("FAIL %s %s kernels %d n %lld: %.9g, reference %.9g (error %.3g of sum|wx| %.3g)\n",
		       what, m40_type_name(f->type), ks, (long long)n, got, ref, err, mag);
		failures++;
	}
}

static void test_format(const struct m40i_format *f, int64_t n, int nkernels)
{
	enum { NX = 5 };
	size_t bytes = (size_t)(n / f->block_size) * f->block_bytes;
	/* Rows 2-aligned, not more (F32 rows 4-aligned) */
	size_t off = f->type == M40_TYPE_F32 ? 4 : 2;
	unsigned char *buf = malloc(bytes + off);
	unsigned char *row = buf + off;
	float *w = malloc((size_t)n * sizeof *w);
	float *xbuf = malloc(((size_t)n * NX + 1) * sizeof *xbuf);
	float *x = xbuf + 1; /* not vector aligned */
	double ref[NX], mag[NX];
	float y[NX * 3];

	random_row(f, row, n);
	for (int64_t i = 0; i < n * NX; i++)
		x[i] = unit();
	if (m40_dequantize_row(f->type, row, w, n) != M40_OK) {
		printf("FAIL dequantize %s n %lld\n", m40_type_name(f->type), (long long)n);
		failures++;
	}
	for (int j = 0; j < NX; j++) {
		ref[j] = mag[j] = 0;
		for (int64_t i = 0; i < n; i++) {
			ref[j] += (double)w[i] * x[j * n + i];
			mag[j] += fabs((double)w[i] * x[j * n + i]);
		}
	}
	for (int ks = 0; ks < nkernels; ks++) {
		check("dot", f, ks, n, f->kernels[ks].dot(row, x, n), ref[0], mag[0]);
		for (int nx = 1; nx <= NX; nx += 2)
			for (size_t stride = 1; stride <= 3; stride += 2) {
				memset(y, 0xff, sizeof y); /* NaN unless written */
				f->kernels[ks].dot_multi(row, x, n, nx, y, stride);
				for (int j = 0; j < nx; j++)
					check("dot_multi", f, ks, n, y[j * stride], ref[j], mag[j]);
			}
	}
	/* The public entry points use the best kernels. */
	{
		int best = m40i_kernels_best();
		float a = m40i_vec_dot(f->type, row, x, n);
		float b = f->kernels[best].dot(row, x, n);
		checks++;
		if (memcmp(&a, &b, sizeof a) != 0) {
			printf("FAIL m40i_vec_dot %s differs from kernel set %d\n", m40_type_name(f->type), best);
			failures++;
		}
		m40i_vec_dot_multi(f->type, row, x, n, 2, y, 1);
		check("m40i_vec_dot_multi", f, best, n, y[1], ref[1], mag[1]);
	}
	free(buf);
	free(w);
	free(xbuf);
}

/* m40i_vec_dot_tile: 6 rows (a tile of 4 and 2 more), 7 activations
 * (two register tiles of 3 and one more), y rows 9 apart. */
static void test_tile(const struct m40i_format *f, int64_t n, int nkernels)
{
	enum { NR = 6, NX = 7, YS = 9 };
	size_t row_bytes = (size_t)(n / f->block_size) * f->block_bytes;
	unsigned char *buf = malloc(row_bytes * NR + 4), *rows = buf + 4;
	float *w = malloc((size_t)n * NR * sizeof *w), *x = malloc((size_t)n * NX * sizeof *x);
	float y[NX * YS];

	for (int r = 0; r < NR; r++) {
		random_row(f, rows + r * row_bytes, n);
		m40_dequantize_row(f->type, rows + r * row_bytes, w + r * n, n);
	}
	for (int64_t i = 0; i < n * NX; i++)
		x[i] = unit();
	for (int ks = 0; ks <= nkernels; ks++) {
		memset(y, 0xff, sizeof y);
		if (ks < nkernels)
			f->kernels[ks].dot_tile(rows, row_bytes, NR, x, n, NX, y, YS);
		else /* the public entry point */
			m40i_vec_dot_tile(f->type, rows, row_bytes, NR, x, n, NX, y, YS);
		for (int j = 0; j < NX; j++)
			for (int r = 0; r < NR; r++) {
				double ref = 0, mag = 0;
				for (int64_t i = 0; i < n; i++) {
					ref += (double)w[r * n + i] * x[j * n + i];
					mag += fabs((double)w[r * n + i] * x[j * n + i]);
				}
				check("dot_tile", f, ks, n, y[j * YS + r], ref, mag);
			}
	}
	free(buf);
	free(w);
	free(x);
}

int main(void)
{
	int nkernels = m40i_kernels_best() + 1;
	static const int64_t float_n[] = { 1, 7, 8, 33, 256, 300, 1000, 4096 };
	static const int64_t blocks[] = { 1, 2, 3, 8, 9, 17, 128 };

	static const char *const names[] = { "baseline", "baseline, AVX2+FMA", "baseline, AVX2+FMA, AVX-512" };
	printf("kernel sets tested: %d (%s)\n", nkernels, names[nkernels - 1]);
	for (size_t t = 0; t < (sizeof types / sizeof types[0]); t++) {
		const struct m40i_format *f = m40i_format_of(types[t]);
		int before = failures;

		if (f == NULL || f->type != types[t] || !m40_type_is_computable(types[t]) ||
		    f->block_size != m40_type_block_size(types[t]) ||
		    f->block_bytes != m40_type_block_bytes(types[t])) {
			printf("FAIL format table of type %d disagrees with types.c\n", types[t]);
			failures++;
			continue;
		}
		if (f->block_size == 1)
			for (size_t i = 0; i < (sizeof float_n / sizeof float_n[0]); i++) {
				test_format(f, float_n[i], nkernels);
				test_tile(f, float_n[i], nkernels);
			}
		else
			for (size_t i = 0; i < (sizeof blocks / sizeof blocks[0]); i++) {
				test_format(f, blocks[i] * f->block_size, nkernels);
				test_tile(f, blocks[i] * f->block_size, nkernels);
			}
		printf("%-7s %s\n", m40_type_name(types[t]), failures == before ? "ok" : "FAILED");
	}

	/* Refusals. */
	{
		float w[64], x[64] = { 0 };
		unsigned char q[256] = { 0 };
		checks++;
		if (m40_dequantize_row(M40_TYPE_Q4_0, q, w, 31) != M40_E_INVALID ||
		    m40_dequantize_row(M40_TYPE_Q8_1, q, w, 32) != M40_E_UNSUPPORTED ||
		    m40_dequantize_row(M40_TYPE_COUNT + 5, q, w, 32) != M40_E_UNSUPPORTED ||
		    m40_quantize_row(M40_TYPE_Q3_K, x, q, 256) != M40_E_UNSUPPORTED ||
		    m40_quantize_row(M40_TYPE_Q8_0, x, q, 33) != M40_E_INVALID ||
		    m40i_vec_dot(M40_TYPE_Q8_1, q, x, 32) != 0 || m40i_vec_dot(M40_TYPE_Q4_0, q, x, 31) != 0) {
			printf("FAIL refusal of a bad type or length\n");
			failures++;
		}
	}
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
