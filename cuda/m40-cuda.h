/*
 * m40-cuda.h: what the CUDA backend's files share.  Each .cu file holds one
 * family of kernels and its launchers; a launcher takes the backend (for its
 * stream and scratch buffers), launches, and returns the launch status.
 * backend-cuda.cu turns these into the ops table of backend-ops.h.
 */
#ifndef M40_CUDA_H
#define M40_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime.h>

#include "backend-ops.h"
#include "gpu-buffers.h"

/* Largest batch the matrix-vector kernels take in one pass; larger decode
 * batches run in passes of this many, prompts go to the GEMM path. */
#define M40_CUDA_MV_MAX 8
/* Batches up to this size may use the matrix-vector kernels (in passes of
 * M40_CUDA_MV_MAX) or batch-matmul.cu; larger ones the GEMM path.  The
 * crossover between the first two is M40_CUDA_MV_DEFAULT: on an H100
 * (7B Q4_K_M, aggregate t/s, matrix-vector / batch-matmul's 4-sequence
 * kernel, in turn in one call) 2 sequences gave 362 / 263, 3 gave 377 /
 * 392 and 4 gave 411 / 519. */
#define M40_CUDA_MV_BATCH 64
/* attention splits the keys for the batches the estimate counts */
static_assert(M40_CUDA_MV_BATCH == M40_GPU_SPLIT_TOKENS, "gpu-buffers.h");
#define M40_CUDA_MV_DEFAULT 2
/* Batch sizes with a cached graph (larger ones run eagerly). */
#define M40_CUDA_GRAPH_MAX 1024

struct m40_backend {
	int device;
	int sm_count;             /* multiprocessors, for sizing grids */
	cudaStream_t stream;      /* all compute and small copies */
	cudaStream_t copy_stream; /* large uploads */
	void *blas;               /* cublasHandle_t, or NULL without cuBLAS */
	void *blas_work;          /* cuBLAS workspace (so capture allocates nothing) */
	size_t blas_work_bytes;
	/* pinned staging for uploads, double-buffered */
	void *pin[2];
	cudaEvent_t pin_done[2];
	size_t pin_bytes;
	/* scratch: dequantized weight tiles (prefill), or the split sums of
	 * batch-matmul.cu */
	float *tile;
	size_t tile_bytes;
	/* scratch: flash-decoding partial results */
	float *part;
	size_t part_bytes;
	/* the first failure since the last sync */
	m40_status sticky;
	char sticky_msg[M40_ERROR_MSG_SIZE];
	/* graphs: 0 not seen, 1 ran once eagerly, 2 captured */
	unsigned char graph_state[M40_CUDA_GRAPH_MAX + 1];
	cudaGraphExec_t graph[M40_CUDA_GRAPH_MAX + 1];
	int capturing;
	/* decode batches up to this size take the matrix-vector kernels
	 * (M40_CUDA_MV_DEFAULT, or $M40_CUDA_MV_BATCH at open, at most
	 * M40_CUDA_MV_BATCH, for measuring the crossover) */
	int mv_batch;
	/* rows a thread block of the one-sequence matrix-vector kernels by
	 * type, 4 or 8, 0 for the default ($M40_CUDA_MV_ROWS at open, e.g.
	 * "q4_K=4,q8_0=8", for measuring) */
	unsigned char mv_rows[M40_TYPE_COUNT];
};

/* backend-cuda.cu */
/* Record a device failure (the first one sticks until sync); returns it. */
m40_status m40c_fail(m40_backend *be, cudaError_t e, const char *where);
/* cudaGetLastError after a launch, recorded as above. */
m40_status m40c_check(m40_backend *be, const char *where);
/* Grow a scratch buffer (only outside capture; drops cached graphs). */
m40_status m40c_scratch(m40_backend *be, void **buf, size_t *have, size_t need, const char *what);

/* matvec.cu: y[n][rows] = x[n][cols] . w^T for n <= M40_CUDA_MV_MAX. */
m40_status m40c_matvec(m40_backend *be, const m40_weight *w, const float *x, float *y, int n);
/* The same fused: nw (1-3) weights of one type and cols on the same x in
 * one launch, y[i] = w[i] x (M40C_FUSE_NONE), y[0] += w[0] x (M40C_FUSE_ADD),
 * or y[0] = silu(w[0] x) * (w[1] x) (M40C_FUSE_SWIGLU), n <= M40_CUDA_MV_BATCH;
 * with g not NULL, x is rmsnorm(x, g, eps) first.  M40_E_UNSUPPORTED, with
 * nothing launched, where the fast kernels cannot take them (the caller
 * issues the separate ops). */
enum { M40C_FUSE_NONE, M40C_FUSE_ADD, M40C_FUSE_SWIGLU };
m40_status m40c_matvec_fused(m40_backend *be, int fuse, const m40_weight *const *w, int nw, const float *x,
	const float *g, float eps, float *const *y, int n);
/* The Q/K/V product (M40C_FUSE_NONE, x through rmsnorm with g) that also
 * does RoPE and the KV store: role[i] says what weight i is; q rows come
 * out rotated in y, k and v rows go to the caches only.  Normal RoPE and
 * one or two sequences; M40_E_UNSUPPORTED (nothing launched) otherwise.
 * dry: only the answer, nothing launched. */
enum { M40C_ROLE_Q, M40C_ROLE_K, M40C_ROLE_V };
typedef struct m40c_qkv_store {
	int role[3];
	const m40_kv_layout *kv;
	const m40_rope *rope;
	void *k_cache, *v_cache;
	const int32_t *seq, *pos;
} m40c_qkv_store;
m40_status m40c_matvec_qkv_rope(m40_backend *be, const m40_weight *const *w, int nw, const float *x,
	const float *g, float eps, float *const *y, int n, const m40c_qkv_store *qs, int dry);
/* batch-matmul.cu: y (+)= w x for n <= M40_CUDA_MV_BATCH from weight slabs
 * dequantized once into shared memory (decode batches too large for the
 * matrix-vector passes); M40_E_UNSUPPORTED, nothing launched, where it
 * cannot take w. */
m40_status m40c_batch_matmul(m40_backend *be, const m40_weight *w, const float *x, float *y, int n, int add);
/* gemm.cu: the same for any n, by dequantized tiles and SGEMM. */
m40_status m40c_gemm(m40_backend *be, const m40_weight *w, const float *x, float *y, int n);
/* dequant.cu */
m40_status m40c_get_rows(m40_backend *be, const m40_weight *w, const int32_t *ids, int n, float *out);
/* rows [r0, r0 + nr) of w as FP32 into out[nr][cols]. */
m40_status m40c_dequant_rows(m40_backend *be, const m40_weight *w, int64_t r0, int64_t nr, float *out);
/* ops.cu */
m40_status m40c_rmsnorm(m40_backend *be, const float *x, const float *g, float *y, int n, int dim, float eps);
m40_status m40c_add(m40_backend *be, float *y, const float *x, size_t n);
m40_status m40c_add_bias(m40_backend *be, float *y, const float *bias, int n, int dim);
m40_status m40c_swiglu(m40_backend *be, const float *gate, const float *up, float *out, size_t n);
m40_status m40c_rope(m40_backend *be, float *x, const int32_t *pos, int n, int n_head, int head_dim,
	const m40_rope *rope);
m40_status m40c_kv_store(m40_backend *be, const m40_kv_layout *kv, void *k_cache, void *v_cache,
	const float *k, const float *v, const int32_t *seq, const int32_t *pos, int n);
/* rope(q), rope(k) and kv_store in one launch (k itself is not rotated). */
m40_status m40c_rope_kv_store(m40_backend *be, const m40_kv_layout *kv, const m40_rope *rope, float *q,
	const float *k, const float *v, void *k_cache, void *v_cache, const int32_t *seq, const int32_t *pos, int n);
m40_status m40c_gather_rows(m40_backend *be, const float *x, const int32_t *rows, int n_out, int dim, float *y);
/* attention.cu */
m40_status m40c_attention(m40_backend *be, const m40_kv_layout *kv, const void *k_cache, const void *v_cache,
	const float *q, const int32_t *seq, const int32_t *pos, int n, float scale, float *out);

/* True for the types the kernels compute with. */
int m40c_type_ok(int type);

#ifdef __CUDACC__
/* The sum of v over the 32 lanes of a warp, in every lane. */
__device__ __forceinline__ float warp_sum(float v)
{
#pragma unroll
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

/* One round of sums over lanes: v[0..M) of this lane and of lane ^ O; the
 * lane with bit O set keeps the upper half, the other the lower, in
 * v[0..M / 2).  Rounds of O = 16, 8, ... leave each lane the full sum of
 * its own share of the values in fewer shuffles than separate sums. */
template <int M, int O, int NV>
__device__ __forceinline__ void lanes_half_sum(float (&v)[NV], int lane)
{
	const bool up = lane & O;
#pragma unroll
	for (int i = 0; i < M / 2; i++) {
		float send = up ? v[i] : v[i + M / 2];
		float keep = up ? v[i + M / 2] : v[i];
		v[i] = keep + __shfl_xor_sync(0xffffffffu, send, O);
	}
}
#endif

#endif
