/*
 * ops.cu: the step's small kernels: RMSNorm, residual add, bias, SwiGLU,
 * RoPE (normal and NeoX, with Llama 3 frequency factors; m40-rope.cuh), the
 * FP16 KV store
 * and the row gather for logits.  All FP32 arithmetic; FP16 only as storage.
 */
#include "m40-int.h"

#include <cuda_fp16.h>

#include "m40-cuda.h"
#include "m40-rope.cuh"

/* x^2 added to s, and x * r * g: for one float or four. */
__device__ __forceinline__ float sum_sq(float s, float v)
{
	return fmaf(v, v, s);
}

__device__ __forceinline__ float sum_sq(float s, float4 v)
{
	return fmaf(v.w, v.w, fmaf(v.z, v.z, fmaf(v.y, v.y, fmaf(v.x, v.x, s))));
}

__device__ __forceinline__ float norm_scale(float v, float r, float g)
{
	return v * r * g;
}

__device__ __forceinline__ float4 norm_scale(float4 v, float r, float4 g)
{
	return make_float4(v.x * r * g.x, v.y * r * g.y, v.z * r * g.z, v.w * r * g.w);
}

/* RMSNorm, rows of up to 1024 floats: one warp a row, RN_WARPS rows a
 * block.  V is float4 where dim and the pointers allow, else float.  y may
 * be x (not __restrict__): each lane reads its elements before it writes
 * them, and no other lane touches them. */
#define RN_WARPS 4
template <typename V>
__global__ void __launch_bounds__(RN_WARPS * 32) rmsnorm_warp_kernel(const float *x, const float *__restrict__ g,
	float *y, int n, int dim, float eps)
{
	const int row = blockIdx.x * RN_WARPS + (threadIdx.x >> 5), lane = threadIdx.x & 31;
	if (row >= n)
		return; /* the whole warp */
	const int nv = dim / (int)(sizeof(V) / sizeof(float));
	const V *xr = (const V *)(x + (size_t)row * dim);
	const V *__restrict__ gv = (const V *)g;
	V *yr = (V *)(y + (size_t)row * dim);
	float s = 0.0f;
	for (int i = lane; i < nv; i += 32)
		s = sum_sq(s, xr[i]);
	float r = rsqrtf(warp_sum(s) / (float)dim + eps);
	for (int i = lane; i < nv; i += 32)
		yr[i] = norm_scale(xr[i], r, gv[i]);
}

/* The same for longer rows: one block a row. */
template <typename V>
__global__ void rmsnorm_block_kernel(const float *x, const float *__restrict__ g, float *y, int dim, float eps)
{
	__shared__ float part[32];
	const int nv = dim / (int)(sizeof(V) / sizeof(float));
	const V *xr = (const V *)(x + (size_t)blockIdx.x * dim);
	const V *__restrict__ gv = (const V *)g;
	V *yr = (V *)(y + (size_t)blockIdx.x * dim);
	float s = 0.0f;
	for (int i = threadIdx.x; i < nv; i += blockDim.x)
		s = sum_sq(s, xr[i]);
	s = warp_sum(s);
	if ((threadIdx.x & 31) == 0)
		part[threadIdx.x >> 5] = s;
	__syncthreads();
	if (threadIdx.x < 32) {
		s = threadIdx.x < (blockDim.x >> 5) ? part[threadIdx.x] : 0.0f;
		s = warp_sum(s);
		if (threadIdx.x == 0)
			part[0] = s;
	}
	__syncthreads();
	float r = rsqrtf(part[0] / (float)dim + eps);
	for (int i = threadIdx.x; i < nv; i += blockDim.x)
		yr[i] = norm_scale(xr[i], r, gv[i]);
}

__global__ void add_kernel(float *__restrict__ y, const float *__restrict__ x, size_t n)
{
	size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n)
		y[i] += x[i];
}

__global__ void add_bias_kernel(float *__restrict__ y, const float *__restrict__ b, size_t n, int dim)
{
	size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n)
		y[i] += b[i % dim];
}

__global__ void swiglu_kernel(const float *__restrict__ gate, const float *__restrict__ up, float *__restrict__ out,
	size_t n)
{
	size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) {
		float g = gate[i];
		out[i] = g / (1.0f + expf(-g)) * up[i];
	}
}

/* One thread per rotated pair; blockIdx.y is the row. */
__global__ void rope_kernel(float *__restrict__ x, const int32_t *__restrict__ pos, int n_head, int head_dim,
	int n_dims, int neox, double lb, float freq_scale, const float *__restrict__ ff)
{
	int half = n_dims / 2;
	int t = blockIdx.x * blockDim.x + threadIdx.x;
	if (t >= n_head * half)
		return;
	int h = t / half, i = t % half;
	float *xh = x + (size_t)blockIdx.y * n_head * head_dim + (size_t)h * head_dim;
	/* the angle in double, as the CPU backend: long contexts keep their precision */
	float c, s;
	m40c_rope_cs(pos[blockIdx.y], i, n_dims, lb, freq_scale, ff, &c, &s);
	int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
	float x0 = xh[a], x1 = xh[b];
	xh[a] = x0 * c - x1 * s;
	xh[b] = x0 * s + x1 * c;
}

/* blockIdx.y is the token; positions outside the cache are skipped. */
__global__ void kv_store_kernel(__half *__restrict__ kc, __half *__restrict__ vc, const float *__restrict__ k,
	const float *__restrict__ v, const int32_t *__restrict__ seq, const int32_t *__restrict__ pos, int n_seq,
	int n_ctx, int kv_dim)
{
	int j = blockIdx.x * blockDim.x + threadIdx.x;
	int i = blockIdx.y;
	int s = seq[i], p = pos[i];
	if (j >= kv_dim || s < 0 || s >= n_seq || p < 0 || p >= n_ctx)
		return;
	size_t o = ((size_t)s * n_ctx + p) * kv_dim + j;
	kc[o] = __float2half_rn(k[(size_t)i * kv_dim + j]);
	vc[o] = __float2half_rn(v[(size_t)i * kv_dim + j]);
}

/* RoPE on q and k and the KV store in one launch: blockIdx.y is the token;
 * threads [0, nq) rotate q's pairs in place, threads nq + j (j < kv_dim)
 * store element j of v and of the rotated k (computed from k, which is left
 * as it is) into the caches. */
__global__ void rope_kv_kernel(float *__restrict__ q, const float *__restrict__ k, const float *__restrict__ v,
	__half *__restrict__ kc, __half *__restrict__ vc, const int32_t *__restrict__ seq,
	const int32_t *__restrict__ pos, int n_head, int n_head_kv, int head_dim, int n_dims, int neox,
	double lb, float freq_scale, const float *__restrict__ ff, int n_seq, int n_ctx)
{
	const int half = n_dims / 2, nq = n_head * half, kv_dim = n_head_kv * head_dim;
	const int t = blockIdx.x * blockDim.x + threadIdx.x, row = blockIdx.y;
	const int p = pos[row];
	if (t < nq) {
		int h = t / half, i = t % half;
		float *xh = q + (size_t)row * n_head * head_dim + (size_t)h * head_dim;
		float c, sn;
		m40c_rope_cs(p, i, n_dims, lb, freq_scale, ff, &c, &sn);
		int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
		float x0 = xh[a], x1 = xh[b];
		xh[a] = x0 * c - x1 * sn;
		xh[b] = x0 * sn + x1 * c;
		return;
	}
	const int j = t - nq, sq = seq[row];
	if (j >= kv_dim || sq < 0 || sq >= n_seq || p < 0 || p >= n_ctx)
		return;
	const float *kh = k + (size_t)row * kv_dim + (size_t)(j / head_dim) * head_dim;
	const int d = j % head_dim;
	float val = kh[d];
	if (d < n_dims) {
		int i = neox ? (d < half ? d : d - half) : d / 2;
		int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
		float c, sn;
		m40c_rope_cs(p, i, n_dims, lb, freq_scale, ff, &c, &sn);
		val = m40c_rope_elem(d == a, kh[a], kh[b], c, sn);
	}
	size_t o = ((size_t)sq * n_ctx + p) * kv_dim + j;
	kc[o] = __float2half_rn(val);
	vc[o] = __float2half_rn(v[(size_t)row * kv_dim + j]);
}

__global__ void gather_kernel(const float *__restrict__ x, const int32_t *__restrict__ rows, int dim,
	float *__restrict__ y)
{
	int c = blockIdx.x * blockDim.x + threadIdx.x;
	if (c < dim)
		y[(size_t)blockIdx.y * dim + c] = x[(size_t)rows[blockIdx.y] * dim + c];
}

static unsigned blocks(size_t n, unsigned per)
{
	return (unsigned)((n + per - 1) / per);
}

m40_status m40c_rmsnorm(m40_backend *be, const float *x, const float *g, float *y, int n, int dim, float eps)
{
	if (n <= 0 || dim <= 0)
		return M40_OK;
	bool vec = dim % 4 == 0 && (((uintptr_t)x | (uintptr_t)g | (uintptr_t)y) % 16) == 0;
	if (dim <= 1024) {
		unsigned nb = blocks((size_t)n, RN_WARPS);
		if (vec)
			rmsnorm_warp_kernel<float4><<<nb, RN_WARPS * 32, 0, be->stream>>>(x, g, y, n, dim, eps);
		else
			rmsnorm_warp_kernel<float><<<nb, RN_WARPS * 32, 0, be->stream>>>(x, g, y, n, dim, eps);
	} else {
		int nv = vec ? dim / 4 : dim;
		int t = nv >= 1024 ? 1024 : ((nv + 31) / 32) * 32;
		if (vec)
			rmsnorm_block_kernel<float4><<<n, t, 0, be->stream>>>(x, g, y, dim, eps);
		else
			rmsnorm_block_kernel<float><<<n, t, 0, be->stream>>>(x, g, y, dim, eps);
	}
	return m40c_check(be, "rmsnorm");
}

m40_status m40c_add(m40_backend *be, float *y, const float *x, size_t n)
{
	if (n == 0)
		return M40_OK;
	add_kernel<<<blocks(n, 256), 256, 0, be->stream>>>(y, x, n);
	return m40c_check(be, "add");
}

m40_status m40c_add_bias(m40_backend *be, float *y, const float *bias, int n, int dim)
{
	size_t total = (size_t)n * dim;
	if (total == 0)
		return M40_OK;
	add_bias_kernel<<<blocks(total, 256), 256, 0, be->stream>>>(y, bias, total, dim);
	return m40c_check(be, "add_bias");
}

m40_status m40c_swiglu(m40_backend *be, const float *gate, const float *up, float *out, size_t n)
{
	if (n == 0)
		return M40_OK;
	swiglu_kernel<<<blocks(n, 256), 256, 0, be->stream>>>(gate, up, out, n);
	return m40c_check(be, "swiglu");
}

m40_status m40c_rope(m40_backend *be, float *x, const int32_t *pos, int n, int n_head, int head_dim,
	const m40_rope *rope)
{
	if (n <= 0)
		return M40_OK;
	int pairs = n_head * (rope->n_dims / 2);
	if (pairs <= 0)
		return M40_OK;
	dim3 grid(blocks((size_t)pairs, 128), (unsigned)n);
	rope_kernel<<<grid, 128, 0, be->stream>>>(x, pos, n_head, head_dim, rope->n_dims, rope->neox,
		log2((double)rope->freq_base), rope->freq_scale, rope->freq_factors);
	return m40c_check(be, "rope");
}

m40_status m40c_kv_store(m40_backend *be, const m40_kv_layout *kv, void *k_cache, void *v_cache, const float *k,
	const float *v, const int32_t *seq, const int32_t *pos, int n)
{
	int kv_dim = kv->n_head_kv * kv->head_dim;
	if (n <= 0)
		return M40_OK;
	dim3 grid(blocks((size_t)kv_dim, 128), (unsigned)n);
	kv_store_kernel<<<grid, 128, 0, be->stream>>>((__half *)k_cache, (__half *)v_cache, k, v, seq, pos,
		kv->n_seq, kv->n_ctx, kv_dim);
	return m40c_check(be, "kv_store");
}

m40_status m40c_rope_kv_store(m40_backend *be, const m40_kv_layout *kv, const m40_rope *rope, float *q,
	const float *k, const float *v, void *k_cache, void *v_cache, const int32_t *seq, const int32_t *pos, int n)
{
	if (n <= 0)
		return M40_OK;
	int kv_dim = kv->n_head_kv * kv->head_dim, nq = kv->n_head * (rope->n_dims / 2);
	dim3 grid(blocks((size_t)(nq + kv_dim), 128), (unsigned)n);
	rope_kv_kernel<<<grid, 128, 0, be->stream>>>(q, k, v, (__half *)k_cache, (__half *)v_cache, seq, pos,
		kv->n_head, kv->n_head_kv, kv->head_dim, rope->n_dims, rope->neox, log2((double)rope->freq_base), rope->freq_scale,
		rope->freq_factors, kv->n_seq, kv->n_ctx);
	return m40c_check(be, "rope_kv_store");
}

m40_status m40c_gather_rows(m40_backend *be, const float *x, const int32_t *rows, int n_out, int dim, float *y)
{
	if (n_out <= 0)
		return M40_OK;
	dim3 grid(blocks((size_t)dim, 256), (unsigned)n_out);
	gather_kernel<<<grid, 256, 0, be->stream>>>(x, rows, dim, y);
	return m40c_check(be, "gather_rows");
}
