/*
 * cuda-ops.c: every op of the CUDA backend against the CPU backend (the
 * oracle), on fresh random inputs each run (seed printed; M40_SEED repeats
 * one), outputs poisoned with NaN before each GPU op.
 *
 * matmul: every computable format on awkward shapes (rows not a multiple of
 * the rows a block takes, K of one block, K not a multiple of 8 for the
 * plain types), n = 1..17 and 40 (the matrix-vector kernels, in passes of
 * 8) and n = 70 (the dequantize + GEMM path).  Limit: |gpu - cpu| <= 3e-5 *
 * sum_c |w_rc x_c| + 1e-30 for every output (FP32 rounding is ~1e-6 of
 * that sum; a wrong scale on one sub-block of 16 in 4096 is ~4e-3).
 * get_rows, rmsnorm, add, add_bias, swiglu, rope (normal, NeoX, partial,
 * frequency factors, positions to 8191), kv_store (bit-exact F16),
 * attention (decode splits and prompts, GQA, head sizes 4..256, contexts
 * to 8192), gather_rows; a step replayed as a CUDA graph; the error paths
 * (unsupported type, out of memory).
 *
 * Exit 77 without the CUDA backend or a GPU.  With an argument "bench"
 * it times the matrix-vector kernels on 7B-shaped matrices instead; with
 * "once" it runs each format's 7B-shaped matrices once (for ncu).
 */
#include <config.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <m40/m40.h>

#include "backend-ops.h"

#define SKIP 77

static const m40_backend_ops *G, *C;
static m40_backend *gb, *cb;
static uint64_t rng_state;
static int failures, checks;

static uint64_t
rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* uniform in [-1, 1) */
static float
frand(void)
{
	return (float)((double)(rnd() >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void
fill(float *v, size_t n, float scale)
{
	for (size_t i = 0; i < n; i++)
		v[i] = frand() * scale;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n > 0 ? n : 1);
	if (p == NULL) {
		fprintf(stderr, "cuda-ops: out of memory\n");
		exit(99);
	}
	return p;
}

static void
die(const char *what, const m40_error *err)
{
	printf("FAIL: %s: %s\n", what, err->msg);
	exit(1);
}

/* device buffer with a copy of host data */
static void *
dev_copy(const void *src, size_t bytes)
{
	m40_error err;
	void *d;
	if (G->alloc(gb, bytes, &d, &err) != M40_OK)
		die("alloc", &err);
	if (src != NULL && G->upload(gb, d, src, bytes, &err) != M40_OK)
		die("upload", &err);
	return d;
}

/* device buffer of n floats, all NaN */
static float *
dev_nan(size_t n)
{
	float *h = xmalloc(n * sizeof *h);
	for (size_t i = 0; i < n; i++)
		h[i] = NAN;
	float *d = dev_copy(h, n * sizeof *h);
	free(h);
	return d;
}

static void
dev_poison(float *d, size_t n)
{
	m40_error err;
	float *h = xmalloc(n * sizeof *h);
	for (size_t i = 0; i < n; i++)
		h[i] = NAN;
	if (G->upload(gb, d, h, n * sizeof *h, &err) != M40_OK)
		die("upload", &err);
	free(h);
}

static void
fetch(void *dst, const void *src, size_t bytes)
{
	m40_error err;
	if (G->download(gb, dst, src, bytes, &err) != M40_OK)
		die("download", &err);
}

static void
gpu_sync(const char *what)
{
	m40_error err;
	if (G->sync(gb, &err) != M40_OK)
		die(what, &err);
}

/* Compare n values; the limit for element i is tol * scale[i] (or tol * s0
 * when scale is NULL).  Counts a check and reports the worst. */
static void
compare(const char *what, const float *got, const float *want, size_t n, const double *scale, double s0,
	double tol)
{
	double worst = 0;
	size_t bad = 0, at = 0;
	for (size_t i = 0; i < n; i++) {
		double lim = tol * (scale ? scale[i] : s0) + 1e-30;
		double d = fabs((double)got[i] - (double)want[i]);
		if (!(d <= lim)) {
			if (bad == 0)
				at = i;
			bad++;
		}
		if (lim > 0 && d / lim > worst)
			worst = isnan(d) ? INFINITY : d / lim;
	}
	checks++;
	if (bad) {
		failures++;
		printf("FAIL: %s: %zu of %zu values off (first at %zu: %g, want %g), worst %.2f of limit\n", what, bad,
			n, at, got[at], want[at], worst);
	} else {
		printf("ok: %s (%zu values, worst %.3f of limit)\n", what, n, worst);
	}
}

/* ---- random weights ------------------------------------------------- */

static const int types[] = {
	M40_TYPE_F32, M40_TYPE_F16, M40_TYPE_BF16, M40_TYPE_Q8_0, M40_TYPE_Q4_0, M40_TYPE_Q4_1, M40_TYPE_Q5_0,
	M40_TYPE_Q5_1, M40_TYPE_Q2_K, M40_TYPE_Q3_K, M40_TYPE_Q4_K, M40_TYPE_Q5_K, M40_TYPE_Q6_K, M40_TYPE_IQ4_NL,
};

static void
put_half(uint8_t *p, float v)
{
	uint16_t h = m40_fp32_to_fp16(v);
	p[0] = (uint8_t)(h & 0xFF);
	p[1] = (uint8_t)(h >> 8);
}

/* a random scale: sign and magnitude in [2^-9, 2^-5] */
static float
rscale(void)
{
	float m = ldexpf(1.0f + 0.5f * (frand() + 1.0f), -9 + (int)(rnd() % 4));
	return (rnd() & 1) ? m : -m;
}

/* rows x cols of type with random bits and sane scales */
static uint8_t *
random_weight(int type, int64_t rows, int64_t cols, size_t *row_bytes)
{
	size_t rb = m40_type_row_bytes(type, cols), bb = m40_type_block_bytes(type);
	size_t total = rb * (size_t)rows;
	uint8_t *w = xmalloc(total);
	int offs[2] = { -1, -1 };

	*row_bytes = rb;
	for (size_t i = 0; i < total; i++)
		w[i] = (uint8_t)rnd();
	switch (type) {
	case M40_TYPE_F32:
		for (size_t i = 0; i < total / 4; i++)
			((float *)w)[i] = frand();
		return w;
	case M40_TYPE_F16:
		for (size_t i = 0; i < total / 2; i++)
			put_half(w + 2 * i, frand());
		return w;
	case M40_TYPE_BF16:
		for (size_t i = 0; i < total / 2; i++) {
			uint16_t h = m40_fp32_to_bf16(frand());
			w[2 * i] = (uint8_t)(h & 0xFF);
			w[2 * i + 1] = (uint8_t)(h >> 8);
		}
		return w;
	case M40_TYPE_Q4_0: case M40_TYPE_Q5_0: case M40_TYPE_Q8_0: case M40_TYPE_IQ4_NL:
		offs[0] = 0;
		break;
	case M40_TYPE_Q4_1: case M40_TYPE_Q5_1: case M40_TYPE_Q4_K: case M40_TYPE_Q5_K:
		offs[0] = 0;
		offs[1] = 2;
		break;
	case M40_TYPE_Q2_K:
		offs[0] = 80;
		offs[1] = 82;
		break;
	case M40_TYPE_Q3_K:
		offs[0] = 108;
		break;
	case M40_TYPE_Q6_K:
		offs[0] = 208;
		break;
	}
	for (size_t b = 0; b < total / bb; b++)
		for (int k = 0; k < 2; k++)
			if (offs[k] >= 0)
				put_half(w + b * bb + offs[k], rscale());
	return w;
}

/* ---- matmul ----------------------------------------------------------- */

static void
test_matmul(int type, int64_t rows, int64_t cols, const int *ns, int n_ns)
{
	size_t rb;
	int nmax = 0;
	for (int i = 0; i < n_ns; i++)
		if (ns[i] > nmax)
			nmax = ns[i];
	uint8_t *w = random_weight(type, rows, cols, &rb);
	float *deq = xmalloc((size_t)cols * sizeof *deq);
	float *x = xmalloc((size_t)nmax * cols * sizeof *x);
	float *yc = xmalloc((size_t)nmax * rows * sizeof *yc);
	float *yg = xmalloc((size_t)nmax * rows * sizeof *yg);
	double *lim = xmalloc((size_t)nmax * rows * sizeof *lim);
	float *absw = xmalloc((size_t)rows * cols * sizeof *absw);

	for (int64_t r = 0; r < rows; r++) {
		if (m40_dequantize_row(type, w + r * rb, deq, cols) != M40_OK) {
			printf("FAIL: cannot dequantize %s on the CPU\n", m40_type_name(type));
			failures++;
			goto out;
		}
		for (int64_t c = 0; c < cols; c++)
			absw[r * cols + c] = fabsf(deq[c]);
	}
	void *wd = dev_copy(w, rb * (size_t)rows);
	float *xd = dev_copy(NULL, (size_t)nmax * cols * sizeof *x);
	float *yd = dev_nan((size_t)nmax * rows);
	m40_weight wc = { w, type, rows, cols, rb }, wg = { wd, type, rows, cols, rb };
	for (int t = 0; t < n_ns; t++) {
		int n = ns[t];
		char what[128];
		m40_error err;
		fill(x, (size_t)n * cols, 1.0f);
		if (G->upload(gb, xd, x, (size_t)n * cols * sizeof *x, &err) != M40_OK)
			die("upload", &err);
		dev_poison(yd, (size_t)n * rows);
		if (C->matmul(cb, &wc, x, yc, n) != M40_OK) {
			printf("FAIL: CPU matmul %s\n", m40_type_name(type));
			failures++;
			continue;
		}
		if (G->matmul(gb, &wg, xd, yd, n) != M40_OK) {
			m40_error e2;
			G->sync(gb, &e2);
			printf("FAIL: GPU matmul %s: %s\n", m40_type_name(type), e2.msg);
			failures++;
			continue;
		}
		fetch(yg, yd, (size_t)n * rows * sizeof *yg);
		for (int i = 0; i < n; i++)
			for (int64_t r = 0; r < rows; r++) {
				double s = 0;
				for (int64_t c = 0; c < cols; c++)
					s += (double)absw[r * cols + c] * fabs((double)x[(size_t)i * cols + c]);
				lim[(size_t)i * rows + r] = s;
			}
		snprintf(what, sizeof what, "matmul %-6s %4" PRId64 " x %-5" PRId64 " n=%-2d", m40_type_name(type), rows,
			cols, n);
		compare(what, yg, yc, (size_t)n * rows, lim, 0, 3e-5);
	}
	G->free(gb, wd);
	G->free(gb, xd);
	G->free(gb, yd);
out:
	free(w);
	free(deq);
	free(x);
	free(yc);
	free(yg);
	free(lim);
	free(absw);
}

/* lim[i][r] = sum_c |w[r][c]| |x[i][c]| */
static double *
abs_limits(int type, const uint8_t *w, size_t rb, int64_t rows, int64_t cols, const float *x, int n)
{
	double *lim = xmalloc((size_t)n * rows * sizeof *lim);
	float *deq = xmalloc((size_t)cols * sizeof *deq);
	for (int64_t r = 0; r < rows; r++) {
		if (m40_dequantize_row(type, w + r * rb, deq, cols) != M40_OK)
			memset(deq, 0, (size_t)cols * sizeof *deq);
		for (int i = 0; i < n; i++) {
			double s = 0;
			for (int64_t c = 0; c < cols; c++)
				s += fabs((double)deq[c]) * fabs((double)x[(size_t)i * cols + c]);
			lim[(size_t)i * rows + r] = s;
		}
	}
	free(deq);
	return lim;
}

/* The optional fused ops (Q, K, V in one; y += W x; silu(W_g x) * (W_u x))
 * against the CPU's separate ops; rows odd (partial thread blocks).  With
 * norm, Q/K/V and SwiGLU take x through rmsnorm(x, g) first.  V is of
 * vtype (Q4_K_M files mix Q4_K and Q6_K). */
static void
test_fused(int type, int64_t rows, int64_t cols, int norm, int vtype)
{
	static const int ns[] = { 1, 3, 8, 16, 40, 70 };
	const int nmax = 70;
	int64_t rr[3] = { rows, rows, rows / 2 + 1 };
	size_t rbs[3];
	int ty[3] = { type, type, vtype };
	uint8_t *h[3];
	void *d[3];
	m40_weight wc[3], wg[3];
	float *yc[3], *yd[3];
	m40_error err;

	memset(&err, 0, sizeof err);
	if (G->matmul_qkv == NULL || G->matmul_add == NULL || G->matmul_swiglu == NULL) {
		printf("SKIP: no fused ops\n");
		return;
	}
	for (int i = 0; i < 3; i++) {
		h[i] = random_weight(ty[i], rr[i], cols, &rbs[i]);
		d[i] = dev_copy(h[i], rbs[i] * (size_t)rr[i]);
		wc[i] = (m40_weight){ h[i], ty[i], rr[i], cols, rbs[i] };
		wg[i] = (m40_weight){ d[i], ty[i], rr[i], cols, rbs[i] };
		yc[i] = xmalloc((size_t)nmax * rows * sizeof(float));
		yd[i] = dev_nan((size_t)nmax * rows);
	}
	float *x = xmalloc((size_t)nmax * cols * sizeof *x), *xd = dev_copy(NULL, (size_t)nmax * cols * sizeof *x);
	float *xn = xmalloc((size_t)nmax * cols * sizeof *xn), *xnd = dev_nan((size_t)nmax * cols);
	float *g = xmalloc((size_t)cols * sizeof *g), *gd = NULL;
	float *y0 = xmalloc((size_t)nmax * rows * sizeof *y0), *yg = xmalloc((size_t)nmax * rows * sizeof *yg);
	float *want = xmalloc((size_t)nmax * rows * sizeof *want), *tmpd = dev_nan((size_t)nmax * rows);
	double *sl = xmalloc((size_t)nmax * rows * sizeof *sl);
	for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
		int n = ns[t];
		char what[128];
		double *lim[3];
		size_t m = (size_t)n * rows;
		/* x of magnitude ~3, so that the norm matters */
		fill(x, (size_t)n * cols, 3.0f);
		if (G->upload(gb, xd, x, (size_t)n * cols * sizeof *x, &err) != M40_OK)
			die("upload", &err);
		memcpy(xn, x, (size_t)n * cols * sizeof *x);
		if (norm) {
			for (int64_t c = 0; c < cols; c++)
				g[c] = 1.0f + 0.5f * frand();
			if (gd == NULL)
				gd = dev_copy(g, (size_t)cols * sizeof *g);
			else if (G->upload(gb, gd, g, (size_t)cols * sizeof *g, &err) != M40_OK)
				die("upload", &err);
			if (C->rmsnorm(cb, x, g, xn, n, (int)cols, 1e-5f) != M40_OK)
				die("cpu rmsnorm", &err);
		}
		for (int i = 0; i < 3; i++) {
			if (C->matmul(cb, &wc[i], xn, yc[i], n) != M40_OK)
				die("cpu matmul", &err);
			lim[i] = abs_limits(ty[i], h[i], rbs[i], rr[i], cols, xn, n);
			dev_poison(yd[i], m);
		}
		/* Q, K, V */
		if (G->matmul_qkv(gb, xd, norm ? gd : NULL, 1e-5f, xnd, &wg[0], &wg[1], &wg[2], yd[0], yd[1], yd[2],
			n) != M40_OK || G->sync(gb, &err))
			die("matmul_qkv", &err);
		for (int i = 0; i < 3; i++) {
			fetch(yg, yd[i], (size_t)n * rr[i] * sizeof *yg);
			snprintf(what, sizeof what, "fused %sqkv %-6s out %d %3" PRId64 " x %-4" PRId64 " n=%-2d",
				norm ? "norm+" : "", m40_type_name(ty[i]), i, rr[i], cols, n);
			compare(what, yg, yc[i], (size_t)n * rr[i], lim[i], 0, 3e-5);
		}
		/* silu(W_g x) * (W_u x) */
		dev_poison(yd[0], m);
		if (G->matmul_swiglu(gb, xd, norm ? gd : NULL, 1e-5f, xnd, &wg[0], &wg[1], yd[0], tmpd, n) != M40_OK ||
			G->sync(gb, &err))
			die("matmul_swiglu", &err);
		fetch(yg, yd[0], m * sizeof *yg);
		for (size_t i = 0; i < m; i++) {
			double gt = yc[0][i], u = yc[1][i];
			want[i] = (float)(gt / (1.0 + exp(-gt)) * u);
			sl[i] = 1.1 * fabs(u) * lim[0][i] + (fabs(gt) + 1e-3) * lim[1][i] + 1e-6 * fabs(want[i]) / 3e-5;
		}
		snprintf(what, sizeof what, "fused %sswiglu %-6s %3" PRId64 " x %-4" PRId64 " n=%-2d", norm ? "norm+" : "",
			m40_type_name(type), rows, cols, n);
		compare(what, yg, want, m, sl, 0, 3e-5);
		if (norm) {
			for (int i = 0; i < 3; i++)
				free(lim[i]);
			continue;
		}
		/* y += W x */
		fill(y0, m, 4.0f);
		if (G->upload(gb, yd[0], y0, m * sizeof *y0, &err) != M40_OK)
			die("upload", &err);
		dev_poison(tmpd, m);
		if (G->matmul_add(gb, &wg[0], xd, yd[0], tmpd, n) != M40_OK || G->sync(gb, &err))
			die("matmul_add", &err);
		fetch(yg, yd[0], m * sizeof *yg);
		for (size_t i = 0; i < m; i++) {
			want[i] = y0[i] + yc[0][i];
			sl[i] = lim[0][i] + fabs((double)y0[i]);
		}
		snprintf(what, sizeof what, "fused add %-6s %3" PRId64 " x %-4" PRId64 " n=%-2d", m40_type_name(type), rows,
			cols, n);
		compare(what, yg, want, m, sl, 0, 3e-5);
		for (int i = 0; i < 3; i++)
			free(lim[i]);
	}
	for (int i = 0; i < 3; i++) {
		G->free(gb, d[i]);
		G->free(gb, yd[i]);
		free(h[i]);
		free(yc[i]);
	}
	G->free(gb, xd);
	G->free(gb, xnd);
	if (gd != NULL)
		G->free(gb, gd);
	G->free(gb, tmpd);
	free(x);
	free(xn);
	free(g);
	free(y0);
	free(yg);
	free(want);
	free(sl);
}

static void
test_get_rows(int type)
{
	int64_t rows = 37, cols = m40_type_block_size(type) == 1 ? 72 : 2 * m40_type_block_size(type);
	size_t rb;
	int n = 6;
	int32_t ids[6];
	uint8_t *w = random_weight(type, rows, cols, &rb);
	float *want = xmalloc((size_t)n * cols * sizeof *want), *got = xmalloc((size_t)n * cols * sizeof *got);
	for (int i = 0; i < n; i++)
		ids[i] = (int32_t)(rnd() % rows);
	ids[0] = 0;
	ids[1] = (int32_t)rows - 1;
	m40_weight wc = { w, type, rows, cols, rb };
	void *wd = dev_copy(w, rb * rows);
	int32_t *idd = dev_copy(ids, sizeof ids);
	float *od = dev_nan((size_t)n * cols);
	m40_weight wg = { wd, type, rows, cols, rb };
	double mx = 0;
	char what[96];
	C->get_rows(cb, &wc, ids, n, want);
	G->get_rows(gb, &wg, idd, n, od);
	fetch(got, od, (size_t)n * cols * sizeof *got);
	for (size_t i = 0; i < (size_t)n * cols; i++)
		mx = fmax(mx, fabs(want[i]));
	snprintf(what, sizeof what, "get_rows %s", m40_type_name(type));
	compare(what, got, want, (size_t)n * cols, NULL, mx, 1e-6);
	G->free(gb, wd);
	G->free(gb, idd);
	G->free(gb, od);
	free(w);
	free(want);
	free(got);
}

/* ---- element-wise ops --------------------------------------------------- */

static void
test_small_ops(void)
{
	/* a warp a row up to 1024, a block a row above; float4 or scalar loads */
	const int dims[] = { 7, 8, 64, 130, 300, 1030, 4096 };
	for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
		int n = 7, dim = dims[k];
		size_t len = (size_t)n * dim;
		float *x = xmalloc(len * 4), *g = xmalloc((size_t)dim * 4), *want = xmalloc(len * 4), *got = xmalloc(len * 4);
		char what[64];
		fill(x, len, 3.0f);
		fill(g, dim, 1.0f);
		float *xd = dev_copy(x, len * 4), *gd = dev_copy(g, (size_t)dim * 4), *yd = dev_nan(len);
		C->rmsnorm(cb, x, g, want, n, dim, 1e-5f);
		G->rmsnorm(gb, xd, gd, yd, n, dim, 1e-5f);
		fetch(got, yd, len * 4);
		snprintf(what, sizeof what, "rmsnorm dim %d", dim);
		compare(what, got, want, len, NULL, 8.0, 1e-6);
		/* rows that start off a 16-byte boundary */
		G->rmsnorm(gb, xd + 1, gd, yd + 1, n - 1, dim, 1e-5f);
		C->rmsnorm(cb, x + 1, g, want + 1, n - 1, dim, 1e-5f);
		fetch(got, yd, len * 4);
		snprintf(what, sizeof what, "rmsnorm dim %d unaligned", dim);
		compare(what, got + 1, want + 1, len - dim, NULL, 8.0, 1e-6);
		/* in place, as qwen3's per-head norm runs */
		G->rmsnorm(gb, xd, gd, xd, n, dim, 1e-6f);
		C->rmsnorm(cb, x, g, x, n, dim, 1e-6f);
		fetch(got, xd, len * 4);
		snprintf(what, sizeof what, "rmsnorm in place dim %d", dim);
		compare(what, got, x, len, NULL, 8.0, 1e-6);
		G->free(gb, xd);
		G->free(gb, gd);
		G->free(gb, yd);
		free(x);
		free(g);
		free(want);
		free(got);
	}
	{
		size_t n = 100003;
		int rows = 13, dim = 777;
		float *a = xmalloc(n * 4), *b = xmalloc(n * 4), *o = xmalloc(n * 4), *got = xmalloc(n * 4);
		fill(a, n, 8.0f);
		fill(b, n, 2.0f);
		float *ad = dev_copy(a, n * 4), *bd = dev_copy(b, n * 4), *od = dev_nan(n);
		G->swiglu(gb, ad, bd, od, n);
		C->swiglu(cb, a, b, o, n);
		fetch(got, od, n * 4);
		compare("swiglu", got, o, n, NULL, 16.0, 1e-6);
		G->add(gb, ad, bd, n);
		C->add(cb, a, b, n);
		fetch(got, ad, n * 4);
		compare("add", got, a, n, NULL, 10.0, 1e-7);
		G->add_bias(gb, ad, bd, rows, dim);
		C->add_bias(cb, a, b, rows, dim);
		fetch(got, ad, n * 4);
		compare("add_bias", got, a, n, NULL, 12.0, 1e-7);
		int32_t sel[4] = { 5, 0, 12, 5 };
		int32_t *seld = dev_copy(sel, sizeof sel);
		float *gd = dev_nan(4 * (size_t)dim);
		G->gather_rows(gb, ad, seld, 4, dim, gd);
		C->gather_rows(cb, a, sel, 4, dim, o);
		fetch(got, gd, 4 * (size_t)dim * 4);
		compare("gather_rows", got, o, 4 * (size_t)dim, NULL, 1.0, 0.0);
		G->free(gb, ad);
		G->free(gb, bd);
		G->free(gb, od);
		G->free(gb, seld);
		G->free(gb, gd);
		free(a);
		free(b);
		free(o);
		free(got);
	}
}

static void
test_rope(int neox, int n_dims, int head_dim, int factors, float base)
{
	int n = 9, n_head = 5;
	size_t len = (size_t)n * n_head * head_dim;
	float *x = xmalloc(len * 4), *got = xmalloc(len * 4), ff[128];
	int32_t pos[9];
	char what[96];
	fill(x, len, 2.0f);
	for (int i = 0; i < n; i++)
		pos[i] = (int32_t)(rnd() % 8192);
	pos[0] = 0;
	pos[1] = 8191;
	for (int i = 0; i < n_dims / 2; i++)
		ff[i] = 1.0f + 7.0f * (frand() + 1.0f);
	float *xd = dev_copy(x, len * 4), *ffd = dev_copy(ff, sizeof ff);
	int32_t *pd = dev_copy(pos, sizeof pos);
	m40_rope rc = { n_dims, neox, base, 0.5f, factors ? ff : NULL };
	m40_rope rg = { n_dims, neox, base, 0.5f, factors ? ffd : NULL };
	C->rope(cb, x, pos, n, n_head, head_dim, &rc);
	G->rope(gb, xd, pd, n, n_head, head_dim, &rg);
	fetch(got, xd, len * 4);
	snprintf(what, sizeof what, "rope %s n_dims %d head %d%s", neox ? "neox" : "normal", n_dims, head_dim,
		factors ? " freq factors" : "");
	compare(what, got, x, len, NULL, 4.0, 2e-6);
	G->free(gb, xd);
	G->free(gb, ffd);
	G->free(gb, pd);
	free(x);
	free(got);
}

/* The optional matmul_qkv_rope against the GPU's own separate ops
 * (matmul_qkv with the norm, then rope_kv_store; both checked against the
 * CPU above): q rotated, the rotated k and v in the caches.  n = 1, 2 take
 * the kernels' RoPE epilogue where the RoPE is normal, others fall back. */
static void
test_qkv_rope(int type, int vtype, int neox, int n_dims, int factors, int n)
{
	const int n_head = 4, n_head_kv = 2, head_dim = 64, n_seq = 2, n_ctx = 12, cols = 256;
	const int kv_dim = n_head_kv * head_dim, q_dim = n_head * head_dim;
	const int64_t rows[3] = { q_dim, kv_dim, kv_dim };
	size_t lc = (size_t)n_seq * n_ctx * kv_dim, lq = (size_t)n * q_dim;
	int32_t seq[5] = { 1, 0, 1, 0, -1 }, pos[5] = { 11, 0, 3, 12, 2 };
	float ff[32], *x = xmalloc((size_t)n * cols * 4), *g = xmalloc(cols * 4);
	m40_weight wg[3];
	void *wd[3];
	char what[128];
	m40_error err;

	memset(&err, 0, sizeof err);
	if (G->matmul_qkv_rope == NULL || G->matmul_qkv == NULL || G->rope_kv_store == NULL) {
		printf("SKIP: no matmul_qkv_rope\n");
		free(x); free(g);
		return;
	}
	pos[0] = (int32_t)(4 + rnd() % 8); /* never 3: two tokens in one cache slot would race */
	fill(x, (size_t)n * cols, 3.0f);
	for (int c = 0; c < cols; c++)
		g[c] = 1.0f + 0.5f * frand();
	for (int i = 0; i < n_dims / 2; i++)
		ff[i] = 1.0f + 7.0f * (frand() + 1.0f);
	for (int i = 0; i < 3; i++) {
		size_t rb;
		int t = i == 2 ? vtype : type;
		uint8_t *h = random_weight(t, rows[i], cols, &rb);
		wd[i] = dev_copy(h, rb * (size_t)rows[i]);
		wg[i] = (m40_weight){ wd[i], t, rows[i], cols, rb };
		free(h);
	}
	float *xd = dev_copy(x, (size_t)n * cols * 4), *gd = dev_copy(g, cols * 4), *ffd = dev_copy(ff, sizeof ff);
	int32_t *sd = dev_copy(seq, sizeof seq), *pd = dev_copy(pos, sizeof pos);
	m40_rope rg = { n_dims, neox, 10000.0f, 0.5f, factors ? ffd : NULL };
	m40_kv_layout kv = { n_seq, n_ctx, n_head, n_head_kv, head_dim };
	uint16_t *zero = calloc(lc, 2), *c16 = xmalloc(lc * 2);
	float *qg[2], *cf[2][2];
	for (int m = 0; m < 2; m++) {
		float *qd = dev_nan(lq), *kd = dev_nan((size_t)n * kv_dim), *vd = dev_nan((size_t)n * kv_dim);
		float *xnd = dev_nan((size_t)n * cols);
		void *kc = dev_copy(zero, lc * 2), *vc = dev_copy(zero, lc * 2);
		m40_status st;
		if (m == 0) {
			st = G->matmul_qkv(gb, xd, gd, 1e-5f, xnd, &wg[0], &wg[1], &wg[2], qd, kd, vd, n);
			if (st == M40_OK)
				st = G->rope_kv_store(gb, &kv, &rg, qd, kd, vd, kc, vc, sd, pd, n);
		} else {
			st = G->matmul_qkv_rope(gb, xd, gd, 1e-5f, xnd, &wg[0], &wg[1], &wg[2], qd, kd, vd, &kv, &rg, kc,
				vc, sd, pd, n);
		}
		if (st != M40_OK || G->sync(gb, &err) != M40_OK)
			die("matmul_qkv_rope", &err);
		qg[m] = xmalloc(lq * 4);
		fetch(qg[m], qd, lq * 4);
		for (int i = 0; i < 2; i++) {
			cf[m][i] = xmalloc(lc * 4);
			fetch(c16, i ? vc : kc, lc * 2);
			for (size_t j = 0; j < lc; j++)
				cf[m][i][j] = m40_fp16_to_fp32(c16[j]);
		}
		G->free(gb, qd); G->free(gb, kd); G->free(gb, vd); G->free(gb, xnd); G->free(gb, kc); G->free(gb, vc);
	}
	double mq = 0, mc[2] = { 0, 0 };
	for (size_t i = 0; i < lq; i++)
		mq = fmax(mq, fabs(qg[0][i]));
	for (int i = 0; i < 2; i++)
		for (size_t j = 0; j < lc; j++)
			mc[i] = fmax(mc[i], fabs(cf[0][i][j]));
	for (int part = 0; part < 3; part++) {
		snprintf(what, sizeof what, "qkv+rope %s/%s %s n_dims %d%s n=%d: %s", m40_type_name(type),
			m40_type_name(vtype), neox ? "neox" : "normal", n_dims, factors ? " ff" : "", n,
			part == 0 ? "q" : part == 1 ? "k cache" : "v cache");
		if (part == 0)
			compare(what, qg[1], qg[0], lq, NULL, mq, 1e-5);
		else
			compare(what, cf[1][part - 1], cf[0][part - 1], lc, NULL, mc[part - 1], 2e-3);
	}
	for (int m = 0; m < 2; m++) {
		free(qg[m]);
		free(cf[m][0]);
		free(cf[m][1]);
	}
	for (int i = 0; i < 3; i++)
		G->free(gb, wd[i]);
	G->free(gb, xd); G->free(gb, gd); G->free(gb, ffd); G->free(gb, sd); G->free(gb, pd);
	free(zero); free(c16); free(x); free(g);
}

/* ---- KV cache and attention ------------------------------------------------ */

/* The optional fused rope_kv_store against the separate GPU ops (rope on q
 * and k, kv_store): q, both caches; a position outside the cache and a
 * negative sequence are skipped alike. */
static void
test_rope_kv(int neox, int n_dims, int head_dim, int factors)
{
	const int n = 5, n_head = 4, n_head_kv = 2, n_seq = 2, n_ctx = 12, kv_dim = n_head_kv * head_dim;
	size_t lq = (size_t)n * n_head * head_dim, lk = (size_t)n * kv_dim;
	size_t lc = (size_t)n_seq * n_ctx * kv_dim;
	int32_t seq[5] = { 0, 1, 1, 0, -1 }, pos[5] = { 0, 11, 3, 12, 2 };
	float ff[128], *q = xmalloc(lq * 4), *k = xmalloc(lk * 4), *v = xmalloc(lk * 4);
	char what[96];

	if (G->rope_kv_store == NULL) {
		printf("SKIP: no rope_kv_store\n");
		free(q); free(k); free(v);
		return;
	}
	pos[2] = (int32_t)(rnd() % 11);
	fill(q, lq, 2.0f);
	fill(k, lk, 2.0f);
	fill(v, lk, 2.0f);
	for (int i = 0; i < n_dims / 2; i++)
		ff[i] = 1.0f + 7.0f * (frand() + 1.0f);
	float *ffd = dev_copy(ff, sizeof ff);
	int32_t *sd = dev_copy(seq, sizeof seq), *pd = dev_copy(pos, sizeof pos);
	m40_rope rg = { n_dims, neox, 10000.0f, 0.5f, factors ? ffd : NULL };
	m40_kv_layout kv = { n_seq, n_ctx, n_head, n_head_kv, head_dim };
	uint16_t *zero = calloc(lc, 2), *c[2][2];
	float *cf[2][2], *qg[2];
	for (int m = 0; m < 2; m++) {
		float *qd = dev_copy(q, lq * 4), *kd = dev_copy(k, lk * 4), *vd = dev_copy(v, lk * 4);
		void *kc = dev_copy(zero, lc * 2), *vc = dev_copy(zero, lc * 2);
		if (m == 0) {
			G->rope(gb, qd, pd, n, n_head, head_dim, &rg);
			G->rope(gb, kd, pd, n, n_head_kv, head_dim, &rg);
			G->kv_store(gb, &kv, kc, vc, kd, vd, sd, pd, n);
		} else {
			G->rope_kv_store(gb, &kv, &rg, qd, kd, vd, kc, vc, sd, pd, n);
		}
		gpu_sync("rope_kv_store");
		qg[m] = xmalloc(lq * 4);
		fetch(qg[m], qd, lq * 4);
		for (int i = 0; i < 2; i++) {
			c[m][i] = xmalloc(lc * 2);
			cf[m][i] = xmalloc(lc * 4);
			fetch(c[m][i], i ? vc : kc, lc * 2);
			for (size_t j = 0; j < lc; j++)
				cf[m][i][j] = m40_fp16_to_fp32(c[m][i][j]);
		}
		G->free(gb, qd); G->free(gb, kd); G->free(gb, vd); G->free(gb, kc); G->free(gb, vc);
	}
	snprintf(what, sizeof what, "rope_kv_store %s n_dims %d head %d%s: q", neox ? "neox" : "normal", n_dims,
		head_dim, factors ? " freq factors" : "");
	compare(what, qg[1], qg[0], lq, NULL, 4.0, 1e-6);
	snprintf(what, sizeof what, "rope_kv_store %s n_dims %d head %d%s: k cache", neox ? "neox" : "normal", n_dims,
		head_dim, factors ? " freq factors" : "");
	compare(what, cf[1][0], cf[0][0], lc, NULL, 4.0, 1e-3);
	snprintf(what, sizeof what, "rope_kv_store %s n_dims %d head %d%s: v cache", neox ? "neox" : "normal", n_dims,
		head_dim, factors ? " freq factors" : "");
	compare(what, cf[1][1], cf[0][1], lc, NULL, 4.0, 0.0);
	for (int m = 0; m < 2; m++) {
		free(qg[m]);
		for (int i = 0; i < 2; i++) {
			free(c[m][i]);
			free(cf[m][i]);
		}
	}
	G->free(gb, ffd); G->free(gb, sd); G->free(gb, pd);
	free(zero); free(q); free(k); free(v);
}

static void
test_attention(int n_ctx, int n_head, int n_head_kv, int head_dim, const int *ns, int n_ns)
{
	m40_kv_layout kv = { 3, n_ctx, n_head, n_head_kv, head_dim };
	int kv_dim = n_head_kv * head_dim, q_dim = n_head * head_dim;
	size_t cache = (size_t)kv.n_seq * n_ctx * kv_dim;
	uint16_t *kc = xmalloc(cache * 2), *vc = xmalloc(cache * 2), *kg = xmalloc(cache * 2);
	char what[128];
	int chunk = n_ctx < 512 ? n_ctx : 512;
	float *k = xmalloc((size_t)chunk * kv_dim * 4), *v = xmalloc((size_t)chunk * kv_dim * 4);
	int32_t *seq = xmalloc((size_t)chunk * 4), *pos = xmalloc((size_t)chunk * 4);
	void *kcd = dev_copy(NULL, cache * 2), *vcd = dev_copy(NULL, cache * 2);
	float *kd = dev_copy(NULL, (size_t)chunk * kv_dim * 4), *vd = dev_copy(NULL, (size_t)chunk * kv_dim * 4);
	int32_t *sd = dev_copy(NULL, (size_t)chunk * 4), *pd = dev_copy(NULL, (size_t)chunk * 4);
	m40_error err;

	/* fill every position of every sequence through kv_store, in chunks */
	for (int s = 0; s < kv.n_seq; s++)
		for (int p0 = 0; p0 < n_ctx; p0 += chunk) {
			int m = n_ctx - p0 < chunk ? n_ctx - p0 : chunk;
			fill(k, (size_t)m * kv_dim, 2.0f);
			fill(v, (size_t)m * kv_dim, 1.0f);
			for (int i = 0; i < m; i++) {
				seq[i] = s;
				pos[i] = p0 + (i * 7919) % m; /* scattered order */
			}
			C->kv_store(cb, &kv, kc, vc, k, v, seq, pos, m);
			if (G->upload(gb, kd, k, (size_t)m * kv_dim * 4, &err) != M40_OK
				|| G->upload(gb, vd, v, (size_t)m * kv_dim * 4, &err) != M40_OK
				|| G->upload(gb, sd, seq, (size_t)m * 4, &err) != M40_OK
				|| G->upload(gb, pd, pos, (size_t)m * 4, &err) != M40_OK)
				die("upload", &err);
			G->kv_store(gb, &kv, kcd, vcd, kd, vd, sd, pd, m);
		}
	fetch(kg, kcd, cache * 2);
	snprintf(what, sizeof what, "kv_store ctx %d kv_dim %d", n_ctx, kv_dim);
	checks++;
	if (memcmp(kg, kc, cache * 2) != 0) {
		failures++;
		printf("FAIL: %s: K cache differs from the CPU's\n", what);
	} else {
		printf("ok: %s (%zu halves bit-exact)\n", what, cache);
	}
	for (int t = 0; t < n_ns; t++) {
		int n = ns[t];
		float *q = xmalloc((size_t)n * q_dim * 4), *want = xmalloc((size_t)n * q_dim * 4),
		      *got = xmalloc((size_t)n * q_dim * 4);
		int32_t *qs = xmalloc((size_t)n * 4), *qp = xmalloc((size_t)n * 4);
		fill(q, (size_t)n * q_dim, 1.0f);
		for (int i = 0; i < n; i++) {
			qs[i] = (int32_t)(rnd() % kv.n_seq);
			qp[i] = (int32_t)(rnd() % n_ctx);
		}
		qp[0] = n_ctx - 1;
		if (n > 1)
			qp[1] = 0;
		if (n > 2)
			qp[2] = n_ctx > 256 ? 256 : n_ctx / 2; /* a split boundary */
		float *qd = dev_copy(q, (size_t)n * q_dim * 4), *od = dev_nan((size_t)n * q_dim);
		int32_t *qsd = dev_copy(qs, (size_t)n * 4), *qpd = dev_copy(qp, (size_t)n * 4);
		float scale = 1.0f / sqrtf((float)head_dim);
		C->attention(cb, &kv, kc, vc, q, qs, qp, n, scale, want);
		G->attention(gb, &kv, kcd, vcd, qd, qsd, qpd, n, scale, od);
		fetch(got, od, (size_t)n * q_dim * 4);
		snprintf(what, sizeof what, "attention ctx %d heads %d/%d dim %d n=%d", n_ctx, n_head, n_head_kv,
			head_dim, n);
		compare(what, got, want, (size_t)n * q_dim, NULL, 1.0, 2e-5);
		G->free(gb, qd);
		G->free(gb, od);
		G->free(gb, qsd);
		G->free(gb, qpd);
		free(q);
		free(want);
		free(got);
		free(qs);
		free(qp);
	}
	G->free(gb, kcd);
	G->free(gb, vcd);
	G->free(gb, kd);
	G->free(gb, vd);
	G->free(gb, sd);
	G->free(gb, pd);
	free(kc);
	free(vc);
	free(kg);
	free(k);
	free(v);
	free(seq);
	free(pos);
}

/* ---- a step as a graph ------------------------------------------------------ */

struct step_ctx {
	m40_weight w;
	float *x, *h, *y;
	int32_t *ids;
	int n;
	m40_weight emb;
};

static m40_status
step_fn(void *p)
{
	struct step_ctx *s = p;
	m40_status st;
	if ((st = G->get_rows(gb, &s->emb, s->ids, s->n, s->x)) != M40_OK
		|| (st = G->matmul(gb, &s->w, s->x, s->h, s->n)) != M40_OK
		|| (st = G->swiglu(gb, s->h, s->h, s->y, (size_t)s->n * s->w.rows)) != M40_OK)
		return st;
	return M40_OK;
}

static void
test_graph(void)
{
	int64_t rows = 96, cols = 256, vocab = 50;
	int n = 3;
	size_t rb, eb;
	uint8_t *w = random_weight(M40_TYPE_Q4_K, rows, cols, &rb);
	uint8_t *e = random_weight(M40_TYPE_Q8_0, vocab, cols, &eb);
	struct step_ctx s;
	float *x = xmalloc((size_t)n * cols * 4), *h = xmalloc((size_t)n * rows * 4), *want = xmalloc((size_t)n * rows * 4),
	      *got = xmalloc((size_t)n * rows * 4);
	m40_weight wc = { w, M40_TYPE_Q4_K, rows, cols, rb }, ec = { e, M40_TYPE_Q8_0, vocab, cols, eb };
	m40_error err;
	s.w = (m40_weight){ dev_copy(w, rb * rows), M40_TYPE_Q4_K, rows, cols, rb };
	s.emb = (m40_weight){ dev_copy(e, eb * vocab), M40_TYPE_Q8_0, vocab, cols, eb };
	s.x = dev_nan((size_t)n * cols);
	s.h = dev_nan((size_t)n * rows);
	s.y = dev_nan((size_t)n * rows);
	s.ids = dev_copy(NULL, (size_t)n * 4);
	s.n = n;
	/* run 1 eager, run 2 captured, runs 3.. replayed: each with new tokens */
	for (int run = 0; run < 5; run++) {
		int32_t ids[3];
		char what[64];
		for (int i = 0; i < n; i++)
			ids[i] = (int32_t)(rnd() % vocab);
		if (G->upload(gb, s.ids, ids, sizeof ids, &err) != M40_OK)
			die("upload", &err);
		dev_poison(s.y, (size_t)n * rows);
		if (G->run_step(gb, n, step_fn, &s, &err) != M40_OK)
			die("run_step", &err);
		gpu_sync("run_step");
		fetch(got, s.y, (size_t)n * rows * 4);
		C->get_rows(cb, &ec, ids, n, x);
		C->matmul(cb, &wc, x, h, n);
		C->swiglu(cb, h, h, want, (size_t)n * rows);
		double mx = 0;
		for (size_t i = 0; i < (size_t)n * rows; i++)
			mx = fmax(mx, fabs(want[i]));
		snprintf(what, sizeof what, "run_step as graph, run %d", run + 1);
		compare(what, got, want, (size_t)n * rows, NULL, mx, 1e-4);
	}
	G->free(gb, (void *)s.w.data);
	G->free(gb, (void *)s.emb.data);
	G->free(gb, s.x);
	G->free(gb, s.h);
	G->free(gb, s.y);
	G->free(gb, s.ids);
	free(w);
	free(e);
	free(x);
	free(h);
	free(want);
	free(got);
}

static void
test_errors(void)
{
	m40_error err;
	void *p = NULL;
	m40_status s = G->alloc(gb, (size_t)1 << 50, &p, &err);
	checks++;
	if (s != M40_E_DEVICE_OOM || strstr(err.msg, "MiB") == NULL) {
		failures++;
		printf("FAIL: a 1 PiB allocation gave status %d: %s\n", (int)s, err.msg);
	} else {
		printf("ok: out of memory: %s\n", err.msg);
	}
	m40_weight w = { NULL, M40_TYPE_IQ2_XXS, 4, 256, 66 };
	float *x = dev_nan(256), *y = dev_nan(4);
	s = G->matmul(gb, &w, x, y, 1);
	m40_status s2 = G->sync(gb, &err);
	checks++;
	if (s != M40_E_UNSUPPORTED || s2 != M40_E_UNSUPPORTED || strstr(err.msg, "iq2_xxs") == NULL) {
		failures++;
		printf("FAIL: unsupported type gave %d / %d: %s\n", (int)s, (int)s2, err.msg);
	} else {
		printf("ok: unsupported type: %s\n", err.msg);
	}
	gpu_sync("after the error tests"); /* reported once, then clear */
	G->free(gb, x);
	G->free(gb, y);
}

/* ---- bench: matrix-vector kernels on 7B shapes ---------------------------------- */

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct bench_ctx {
	m40_weight w[4];
	float *x, *y;
	int n;
};

static m40_status
bench_step(void *p)
{
	struct bench_ctx *b = p;
	for (int r = 0; r < 4; r++) {
		m40_status s = G->matmul(gb, &b->w[r], b->x, b->y, b->n);
		if (s != M40_OK)
			return s;
	}
	return M40_OK;
}

/* Each type's 4 matrices once at n = 1, eagerly: what ncu measures
 * (bench/gpu.sh divides executed instructions by the bytes printed). */
static int
once(void)
{
	static const int64_t shp[4][2] = { { 4096, 4096 }, { 11008, 4096 }, { 4096, 11008 }, { 32000, 4096 } };
	float *xh = xmalloc(11008 * 4);
	fill(xh, 11008, 1.0f);
	float *x = dev_copy(xh, 11008 * 4), *y = dev_nan(32000);
	free(xh);
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		size_t bytes = 0;
		m40_weight w[4];
		for (int r = 0; r < 4; r++) {
			size_t rb;
			uint8_t *h = random_weight(types[t], shp[r][0], shp[r][1], &rb);
			w[r] = (m40_weight){ dev_copy(h, rb * shp[r][0]), types[t], shp[r][0], shp[r][1], rb };
			bytes += rb * shp[r][0];
			free(h);
		}
		gpu_sync("once");
		for (int r = 0; r < 4; r++)
			G->matmul(gb, &w[r], x, y, 1);
		gpu_sync("once");
		printf("once %s %zu\n", m40_type_name(types[t]), bytes);
		for (int r = 0; r < 4; r++)
			G->free(gb, (void *)w[r].data);
	}
	G->free(gb, x);
	G->free(gb, y);
	return 0;
}

/* the types the bench also times with batches: the K-quants, Q4_0, Q8_0 */
static int
bench_batched(int type)
{
	switch (type) {
	case M40_TYPE_Q2_K: case M40_TYPE_Q3_K: case M40_TYPE_Q4_K: case M40_TYPE_Q5_K: case M40_TYPE_Q6_K:
	case M40_TYPE_Q4_0: case M40_TYPE_Q8_0:
		return 1;
	default:
		return 0;
	}
}

static int
bench(void)
{
	/* the shapes of one Llama-2-7B layer: q (4096x4096), gate (11008x4096),
	 * down (4096x11008), output (32000x4096) */
	static const int64_t shp[4][2] = { { 4096, 4096 }, { 11008, 4096 }, { 4096, 11008 }, { 32000, 4096 } };
	printf("matrix products, 4 matrices of 7B shapes (q, gate, down, output), graph replays\n");
	printf("%-7s %3s %10s %10s %8s %8s\n", "type", "n", "MB", "us/pass", "GB/s", "GFLOP/s");
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		int type = types[t];
		struct bench_ctx b;
		m40_error e0;
		/* a fresh backend: its graphs per n belong to one step */
		G->close(gb);
		if (G->open(0, 0, &gb, &e0) != M40_OK)
			die("open cuda", &e0);
		size_t bytes = 0;
		double macs = 0; /* multiply-adds a sequence */
		m40_error err;
		for (int r = 0; r < 4; r++) {
			size_t rb;
			uint8_t *w = random_weight(type, shp[r][0], shp[r][1], &rb);
			b.w[r] = (m40_weight){ dev_copy(w, rb * shp[r][0]), type, shp[r][0], shp[r][1], rb };
			bytes += rb * shp[r][0];
			macs += (double)shp[r][0] * shp[r][1];
			free(w);
		}
		float *xh = xmalloc(64 * 11008 * 4);
		fill(xh, 64 * 11008, 1.0f);
		b.x = dev_copy(xh, 64 * 11008 * 4);
		b.y = dev_nan(64 * 32000);
		free(xh);
		static const int nb[] = { 1, 2, 4, 8, 16, 32, 64 };
		for (size_t k = 0; k < sizeof nb / sizeof nb[0]; k++) {
			b.n = nb[k];
			if (nb[k] > 1 && !bench_batched(type))
				break;
			int reps = 30;
			for (int i = 0; i < 3; i++)
				if (G->run_step(gb, b.n, bench_step, &b, &err) != M40_OK)
					die("bench", &err);
			gpu_sync("bench");
			double t0 = now();
			for (int i = 0; i < reps; i++)
				if (G->run_step(gb, b.n, bench_step, &b, &err) != M40_OK)
					die("bench", &err);
			gpu_sync("bench");
			double dt = (now() - t0) / reps;
			printf("%-7s %3d %10.1f %10.1f %8.1f %8.0f\n", m40_type_name(type), b.n, bytes / 1e6, dt * 1e6,
				bytes / dt / 1e9, 2.0 * b.n * macs / dt / 1e9);
		}
		for (int r = 0; r < 4; r++)
			G->free(gb, (void *)b.w[r].data);
		G->free(gb, b.x);
		G->free(gb, b.y);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	m40_error err;
	m40_device_info info;
	int count = 0;
	const char *seed = getenv("M40_SEED");

	G = m40i_backend_cuda();
	C = m40i_backend_cpu();
	if (G == NULL) {
		printf("SKIP: the CUDA backend is not built in\n");
		return SKIP;
	}
	if (G->device_count(&count, &err) != M40_OK || count == 0) {
		printf("SKIP: %s\n", count == 0 && err.msg[0] ? err.msg : "no CUDA device");
		return SKIP;
	}
	if (G->device_info(0, &info, &err) != M40_OK)
		die("device_info", &err);
	printf("device 0: %s, compute %d.%d, %d SMs, %.0f MiB (%.0f free), driver %d, runtime %d\n", info.name,
		info.cc_major, info.cc_minor, info.multiprocessors, info.total_mem / 1048576.0, info.free_mem / 1048576.0,
		info.driver_version, info.runtime_version);
	if (G->open(0, 0, &gb, &err) != M40_OK)
		die("open cuda", &err);
	if (C->open(0, 2, &cb, &err) != M40_OK)
		die("open cpu", &err);
	rng_state = seed ? strtoull(seed, NULL, 0) : (uint64_t)time(NULL) * 2654435761u + 1;
	if (rng_state == 0)
		rng_state = 1;
	printf("seed %" PRIu64 " (M40_SEED repeats it)\n", rng_state);
	if (argc > 1 && (strcmp(argv[1], "bench") == 0 || strcmp(argv[1], "once") == 0)) {
		int r = strcmp(argv[1], "bench") == 0 ? bench() : once();
		G->close(gb);
		C->close(cb);
		return r;
	}

	static const int all_n[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 40, 70 };
	static const int some_n[] = { 1, 3, 8, 16, 40, 70 };
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		int type = types[t], qk = m40_type_block_size(type);
		if (qk == 1) {
			test_matmul(type, 1, 8, some_n, 6);
			test_matmul(type, 67, 100, some_n, 6); /* K not a multiple of 8: generic kernel */
			test_matmul(type, 17, 520, all_n, 19);
			test_matmul(type, 130, 4096, some_n, 6);
		} else {
			test_matmul(type, 1, qk, some_n, 6);
			test_matmul(type, 3, qk, some_n, 6);
			test_matmul(type, 67, 3 * qk, all_n, 19);
			/* rows 16-aligned (the staged path) and not (the direct one) */
			test_matmul(type, 130, qk == 32 ? 4096 : 2048, some_n, 6);
			if (qk != 32)
				test_matmul(type, 37, 2816, some_n, 6);
		}
		test_get_rows(type);
		test_fused(type, 67, 512, 0, type);
		test_fused(type, 67, 512, 1, type);
		if (qk == 256)
			test_fused(type, 67, 512, 1, type == M40_TYPE_Q6_K ? M40_TYPE_Q4_K : M40_TYPE_Q6_K);
	}
	test_small_ops();
	for (int neox = 0; neox < 2; neox++) {
		test_rope(neox, 64, 64, 0, 10000.0f);
		test_rope(neox, 32, 64, 1, 500000.0f);
		test_rope(neox, 8, 8, 0, 10000.0f);
		test_rope_kv(neox, 64, 64, 0);
		test_rope_kv(neox, 32, 64, 1);
		test_rope_kv(neox, 8, 8, 0);
	}
	{
		static const int qt[][2] = {
			{ M40_TYPE_Q4_0, M40_TYPE_Q4_0 }, { M40_TYPE_Q8_0, M40_TYPE_Q8_0 }, { M40_TYPE_F16, M40_TYPE_F16 },
			{ M40_TYPE_Q4_K, M40_TYPE_Q6_K }, { M40_TYPE_Q6_K, M40_TYPE_Q6_K }, { M40_TYPE_Q5_K, M40_TYPE_Q5_K },
			{ M40_TYPE_Q2_K, M40_TYPE_Q2_K },
		};
		for (size_t t = 0; t < sizeof qt / sizeof qt[0]; t++)
			for (int n = 1; n <= 5; n += 1 + (n == 2)) {
				test_qkv_rope(qt[t][0], qt[t][1], 0, 64, 0, n);
				test_qkv_rope(qt[t][0], qt[t][1], 0, 32, 1, n);
			}
		test_qkv_rope(M40_TYPE_Q4_K, M40_TYPE_Q4_K, 1, 64, 0, 1);
	}
	{
		static const int dec[] = { 1, 4, 16, 40, 70 };
		test_attention(40, 8, 4, 8, dec, 5);    /* stories260K's heads */
		test_attention(300, 2, 2, 4, dec, 5);   /* llama-2-tiny-random's */
		test_attention(1000, 8, 2, 64, dec, 5); /* split path, GQA */
		test_attention(700, 4, 4, 128, dec, 5);
		test_attention(300, 2, 1, 256, dec, 5);
		test_attention(600, 4, 4, 96, dec, 5);
		test_attention(8192, 4, 2, 64, dec, 5); /* long context */
	}
	test_graph();
	test_errors();
	G->close(gb);
	C->close(cb);
	printf("%d of %d checks failed\n", failures, checks);
	return failures ? 1 : 0;
}
