/*
 * quant-dot: speed of the CPU dot products, one thread, per tensor format.
 *
 *   make bench/quant-dot && bench/quant-dot [MB [NX]]
 *
 * For each format: a matrix of random blocks of MB megabytes (default 256,
 * well past the caches, as a model's weights are) with rows of 2048
 * elements (TinyLlama's width), times one FP32 vector: decode (m40i_vec_dot,
 * each weight once) in G weights/s for each kernel set the CPU has (0 where
 * it lacks one; AVX-512 differs from AVX2 for Q4_K, Q6_K), and the prompt
 * case with NX activations (default 24, what the CPU backend passes for
 * 2048 columns) in G multiply-adds/s: m40i_vec_dot_multi row by row, and
 * m40i_vec_dot_tile 16 rows a call.  Best of 3 passes, CPU time.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <m40/m40.h>
#include "quant.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the machine may be shared */
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const int types[] = {
	M40_TYPE_F32, M40_TYPE_F16, M40_TYPE_BF16, M40_TYPE_Q8_0, M40_TYPE_Q4_0,
	M40_TYPE_Q4_1, M40_TYPE_Q5_0, M40_TYPE_Q5_1, M40_TYPE_Q2_K, M40_TYPE_Q3_K,
	M40_TYPE_Q4_K, M40_TYPE_Q5_K, M40_TYPE_Q6_K, M40_TYPE_IQ4_NL,
};

int main(int argc, char **argv)
{
	const int64_t n = 2048;
	size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	int nx = argc > 2 ? atoi(argv[2]) : 24;
	int best = m40i_kernels_best();
	float *x = malloc((size_t)n * nx * sizeof *x), *y = malloc((size_t)nx * sizeof *y);
	volatile float sink = 0;

	for (int64_t i = 0; i < n * nx; i++)
		x[i] = (float)((i * 7919) % 2001 - 1000) / 1000;
	printf("rows of %lld, %zu MB a matrix, prompt batch %d\n", (long long)n, mb, nx);
	printf("%-7s %5s %10s %10s %11s %13s %13s\n", "format", "bits", "base Gw/s", "avx2 Gw/s",
	       "avx512 Gw/s", "multi GMAC/s", "tile GMAC/s");
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		const struct m40i_format *f = m40i_format_of(types[t]);
		size_t row_bytes = (size_t)(n / f->block_size) * f->block_bytes;
		size_t rows = mb * 1024 * 1024 / row_bytes;
		unsigned char *w = malloc(rows * row_bytes);
		double rate[M40I_KERNELS_COUNT] = { 0 }, multi = 0, tile = 0;
		float *yt = malloc(sizeof *yt * rows * nx);

		/* Random bytes with sane FP16 scales: dequantize and requantize
		 * random floats where a quantizer exists, else fill with one
		 * valid-looking pattern (speed does not depend on values). */
		{
			float *tmp = malloc((size_t)n * sizeof *tmp);
			for (int64_t i = 0; i < n; i++)
				tmp[i] = (float)((i * 104729) % 1999 - 999) / 999;
			for (size_t r = 0; r < rows; r++) {
				if (f->quantize)
					f->quantize(tmp, w + r * row_bytes, n / f->block_size);
				else
					for (size_t i = 0; i < row_bytes; i++)
						w[r * row_bytes + i] = (unsigned char)((i * 37 + r) % 61);
			}
			free(tmp);
		}
		for (int ks = 0; ks <= best; ks++)
			for (int pass = 0; pass < 3; pass++) {
				double t0 = now(), dt;
				for (size_t r = 0; r < rows; r++)
					sink += f->kernels[ks].dot(w + r * row_bytes, x, n);
				dt = now() - t0;
				if (rows * n / dt / 1e9 > rate[ks])
					rate[ks] = rows * n / dt / 1e9;
			}
		for (int pass = 0; pass < 3; pass++) {
			double t0 = now(), dt;
			for (size_t r = 0; r < rows; r++) {
				f->kernels[best].dot_multi(w + r * row_bytes, x, n, nx, y, 1);
				sink += y[0];
			}
			dt = now() - t0;
			if ((double)rows * n * nx / dt / 1e9 > multi)
				multi = (double)rows * n * nx / dt / 1e9;
		}
		for (int pass = 0; pass < 3; pass++) {
			double t0 = now(), dt;
			for (size_t r = 0; r + 16 <= rows; r += 16)
				f->kernels[best].dot_tile(w + r * row_bytes, row_bytes, 16, x, n, nx,
							  yt + r, rows);
			sink += yt[0];
			dt = now() - t0;
			if ((double)(rows / 16 * 16) * n * nx / dt / 1e9 > tile)
				tile = (double)(rows / 16 * 16) * n * nx / dt / 1e9;
		}
		free(yt);
		printf("%-7s %5.2f %10.2f %10.2f %11.2f %13.2f %13.2f\n", m40_type_name(f->type),
		       8.0 * f->block_bytes / f->block_size, rate[M40I_KERNELS_BASE],
		       rate[M40I_KERNELS_AVX2], rate[M40I_KERNELS_AVX512], multi, tile);
		fflush(stdout);
		free(w);
	}
	free(x);
	free(y);
	return sink == 12345 ? 1 : 0;
}
