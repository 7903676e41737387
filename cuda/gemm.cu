/*
 * gemm.cu: y[n][rows] = x[n][cols] . w^T for prompts (large n): weight rows
 * are dequantized to FP32 tiles in scratch and multiplied with cuBLAS SGEMM
 * (F32 weights directly; cublasSgemmEx on F16 failed under CUDA 13 on an
 * H100 in pedantic mode, so F16 takes the tile path too).  The
 * handle is in pedantic math mode: FP32 arithmetic, no TF32, no tensor
 * cores.  Built with -DM40_NO_CUBLAS, a tiled FP32 kernel of our own does
 * the product instead (the compute_52 PTX test binary).
 */
#include "m40-int.h"

#include "m40-cuda.h"
#ifndef M40_NO_CUBLAS
#include <cublas_v2.h>
#endif

/* Tiles of dequantized weights: at most this many bytes (and 65535 rows). */
#define TILE_BYTES M40_GPU_TILE_BYTES

#define GT 64 /* output tile: GT rows x GT sequences */
#define GK 16

/* C[j][r] = sum_k X[j][k] * W[r][k], C with leading dimension ldc. */
__global__ void __launch_bounds__(256) sgemm_nt(const float *__restrict__ W, const float *__restrict__ X,
	float *__restrict__ C, int rows, int n, int K, int ldc)
{
	__shared__ float ws[GK][GT + 1];
	__shared__ float xs[GK][GT + 1];
	int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
	int r0 = blockIdx.x * GT, j0 = blockIdx.y * GT;
	float acc[4][4] = { { 0 } };
	for (int k0 = 0; k0 < K; k0 += GK) {
		for (int i = threadIdx.x; i < GT * GK; i += 256) {
			int rr = i / GK, kk = i % GK;
			int r = r0 + rr, j = j0 + rr, k = k0 + kk;
			ws[kk][rr] = (r < rows && k < K) ? W[(size_t)r * K + k] : 0.0f;
			xs[kk][rr] = (j < n && k < K) ? X[(size_t)j * K + k] : 0.0f;
		}
		__syncthreads();
#pragma unroll
		for (int kk = 0; kk < GK; kk++) {
			float a[4], b[4];
#pragma unroll
			for (int u = 0; u < 4; u++) {
				a[u] = ws[kk][tx + 16 * u];
				b[u] = xs[kk][ty + 16 * u];
			}
#pragma unroll
			for (int u = 0; u < 4; u++)
#pragma unroll
				for (int v = 0; v < 4; v++)
					acc[v][u] = fmaf(b[v], a[u], acc[v][u]);
		}
		__syncthreads();
	}
#pragma unroll
	for (int v = 0; v < 4; v++)
#pragma unroll
		for (int u = 0; u < 4; u++) {
			int r = r0 + tx + 16 * u, j = j0 + ty + 16 * v;
			if (r < rows && j < n)
				C[(size_t)j * ldc + r] = acc[v][u];
		}
}

static m40_status gemm_f32(m40_backend *be, const float *W, int rows, int K, const float *x, float *y, int n,
	int ldc)
{
#ifndef M40_NO_CUBLAS
	if (be->blas) {
		const float one = 1.0f, zero = 0.0f;
		cublasStatus_t s = cublasSgemm((cublasHandle_t)be->blas, CUBLAS_OP_T, CUBLAS_OP_N, rows, n, K, &one, W, K,
			x, K, &zero, y, ldc);
		if (s != CUBLAS_STATUS_SUCCESS)
			return m40c_fail(be, cudaErrorUnknown, "cublasSgemm");
		return m40c_check(be, "cublasSgemm");
	}
#endif
	dim3 grid((unsigned)((rows + GT - 1) / GT), (unsigned)((n + GT - 1) / GT));
	sgemm_nt<<<grid, 256, 0, be->stream>>>(W, x, y, rows, n, K, ldc);
	return m40c_check(be, "sgemm");
}

m40_status m40c_gemm(m40_backend *be, const m40_weight *w, const float *x, float *y, int n)
{
	int rows = (int)w->rows, K = (int)w->cols;
	m40_status st;

	if (n <= 0)
		return M40_OK;
	if (w->type == M40_TYPE_F32 && w->row_bytes == (size_t)K * 4)
		return gemm_f32(be, (const float *)w->data, rows, K, x, y, n, rows);
	size_t row_f32 = (size_t)K * sizeof(float);
	int64_t tr = (int64_t)(TILE_BYTES / row_f32);
	if (tr > rows)
		tr = rows;
	if (tr > 65535)
		tr = 65535;
	if (tr < 1)
		tr = 1;
	st = m40c_scratch(be, (void **)&be->tile, &be->tile_bytes, (size_t)tr * row_f32, "weight tile");
	if (st != M40_OK)
		return st;
	for (int64_t r0 = 0; r0 < rows; r0 += tr) {
		int64_t nr = rows - r0 < tr ? rows - r0 : tr;
		st = m40c_dequant_rows(be, w, r0, nr, be->tile);
		if (st != M40_OK)
			return st;
		st = gemm_f32(be, be->tile, (int)nr, K, x, y + r0, n, rows);
		if (st != M40_OK)
			return st;
	}
	return M40_OK;
}
