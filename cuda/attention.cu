/*
 * attention.cu: softmax(q . K^T * scale) V over an FP16 KV cache with FP32
 * math, for any number of queries, each at its own sequence and position
 * (it sees positions 0..pos of its sequence).
 *
 * Decode (few queries): flash-decoding.  The context is cut into splits of
 * SPLIT keys; block (head, query, split) computes an unnormalized partial
 * (running max, sum, weighted V), so a long context spreads over the whole
 * GPU, and the last block of a (query, head) to finish combines the splits
 * (a counter per (query, head), counted up by each block and set back to 0
 * by the last, saves a second launch).  The grid depends only on n and
 * n_ctx (graph rule); splits past a query's position write an empty partial
 * and only count.  Prompts (many queries) use one split per query: the grid
 * is wide already.
 *
 * Inside a block: a tile of 128 keys, one key per thread for the scores,
 * then groups of threads over the keys, each thread a few head dimensions,
 * for the weighted sum of V, with the online-softmax rescale.
 */
#include "m40-int.h"

#include <cuda_fp16.h>
#include <math.h>

#include "m40-cuda.h"

#define AT_THREADS 128
#define SPLIT M40_GPU_SPLIT_KEYS
#define MAX_HD 256
/* The split counters lead the partials buffer, at a fixed size so that no
 * call's partials ever lie on them: n <= M40_CUDA_MV_BATCH queries of up to
 * 256 heads (more heads take the one-split path). */
#define AT_COUNTERS M40_GPU_SPLIT_COUNTERS

struct at_args {
	const __half *k, *v;
	const float *q;
	const int32_t *seq, *pos;
	float *out, *part;
	int *count; /* [n][n_head]: splits done; 0 between launches */
	int n_seq, n_ctx, n_head, group, hd, kv_dim, n_split, vec;
	float scale;
};

__device__ __forceinline__ float block_reduce(float v, float *red, bool is_max)
{
#pragma unroll
	for (int o = 16; o > 0; o >>= 1) {
		float w = __shfl_xor_sync(0xffffffffu, v, o);
		v = is_max ? fmaxf(v, w) : v + w;
	}
	__syncthreads();
	if ((threadIdx.x & 31) == 0)
		red[threadIdx.x >> 5] = v;
	__syncthreads();
	v = red[0];
#pragma unroll
	for (int i = 1; i < AT_THREADS / 32; i++)
		v = is_max ? fmaxf(v, red[i]) : v + red[i];
	return v;
}

/* The splits that hold keys of a query at len keys: the combine reads
 * these, and blocks of later splits have nothing to do. */
__device__ __forceinline__ int attn_splits(const at_args &a, int len)
{
	int ns = (len + SPLIT - 1) / SPLIT;
	return a.n_split == 1 || ns < 1 ? 1 : ns < a.n_split ? ns : a.n_split;
}

/* The score of one key (its row kr of hd halves, 16-byte aligned) against
 * qs: 128 dimensions a round, their 16 loads out before any is used. */
__device__ __forceinline__ float key_score(const __half *kr, const float *qs, int hd)
{
	float acc = 0.0f;
	for (int d0 = 0; d0 < hd; d0 += 128) {
		uint4 u[16];
#pragma unroll
		for (int e = 0; e < 16; e++)
			u[e] = d0 + 8 * e < hd ? *(const uint4 *)(kr + d0 + 8 * e) : make_uint4(0, 0, 0, 0);
#pragma unroll
		for (int e = 0; e < 16; e++) {
			const __half2 *h2 = (const __half2 *)&u[e];
			const int d = d0 + 8 * e;
			if (d >= hd)
				break;
#pragma unroll
			for (int c = 0; c < 4; c++) {
				float2 f = __half22float2(h2[c]);
				acc = fmaf(qs[d + 2 * c], f.x, acc);
				acc = fmaf(qs[d + 2 * c + 1], f.y, acc);
			}
		}
	}
	return acc;
}

/* The partial of keys [t0, t1) of sequence s for head h of query i: into
 * part (split launch) or, normalized, into out (one split).
 *
 * V, where rows are 16-byte aligned (vec): hd / 8 threads a key, each 8
 * dimensions by one 16-byte load, and the block's threads in G groups of
 * keys, each thread's 8 keys a round loaded before any is used: a tile of
 * 128 keys takes 2 rounds of loads at hd = 128, where one thread a
 * dimension took 16 rounds of 2-byte loads (a decode step at a short
 * context waits on little else).  Otherwise G groups of hd threads (hd <=
 * 128), or each thread two dimensions. */
__device__ __forceinline__ void attn_partial(const at_args &a, int h, int i, int s, int t0, int t1, float *part)
{
	__shared__ float qs[MAX_HD];
	__shared__ float ps[AT_THREADS];
	__shared__ float red[AT_THREADS / 32];
	__shared__ float osum[AT_THREADS * 8];
	const int hd = a.hd;
	const float *q = a.q + (size_t)i * a.n_head * hd + (size_t)h * hd;
	for (int d = threadIdx.x; d < hd; d += AT_THREADS)
		qs[d] = q[d] * a.scale;
	const size_t kvh = (size_t)(h / a.group) * hd;
	const __half *kb = a.k + (size_t)s * a.n_ctx * a.kv_dim + kvh;
	const __half *vb = a.v + (size_t)s * a.n_ctx * a.kv_dim + kvh;
	const int tg = a.vec ? hd / 8 : hd <= AT_THREADS ? hd : AT_THREADS; /* threads a key */
	const int G = AT_THREADS / tg;
	const int g = threadIdx.x / tg;
	const int d0 = a.vec ? 8 * (threadIdx.x % tg) : threadIdx.x % tg;
	const bool vthr = g < G;
	float o[8], m = -INFINITY, l = 0.0f;
#pragma unroll
	for (int e = 0; e < 8; e++)
		o[e] = 0.0f;
	__syncthreads();
	for (int tb = t0; tb < t1; tb += AT_THREADS) {
		int t = tb + threadIdx.x;
		float sc = -INFINITY;
		if (t < t1) {
			const __half *kr = kb + (size_t)t * a.kv_dim;
			if (a.vec) {
				sc = key_score(kr, qs, hd);
			} else {
				float acc = 0.0f;
				for (int d = 0; d < hd; d++)
					acc = fmaf(qs[d], __half2float(kr[d]), acc);
				sc = acc;
			}
		}
		float tmax = block_reduce(sc, red, true);
		float mn = fmaxf(m, tmax);
		float p = t < t1 ? expf(sc - mn) : 0.0f;
		float alpha = expf(m - mn); /* 0 on the first tile */
		ps[threadIdx.x] = p;
		float psum = block_reduce(p, red, false);
		l = l * alpha + psum;
		m = mn;
#pragma unroll
		for (int e = 0; e < 8; e++)
			o[e] *= alpha;
		const int nt = t1 - tb < AT_THREADS ? t1 - tb : AT_THREADS;
		const __half *vt = vb + (size_t)tb * a.kv_dim + d0;
		if (vthr && a.vec) {
			for (int k = g; k < nt; k += 8 * G) {
				uint4 u[8];
#pragma unroll
				for (int r = 0; r < 8; r++)
					u[r] = k + r * G < nt ? *(const uint4 *)(vt + (size_t)(k + r * G) * a.kv_dim)
							      : make_uint4(0, 0, 0, 0);
#pragma unroll
				for (int r = 0; r < 8; r++) {
					const float pk = k + r * G < nt ? ps[k + r * G] : 0.0f;
					const __half2 *h2 = (const __half2 *)&u[r];
#pragma unroll
					for (int c = 0; c < 4; c++) {
						float2 f = __half22float2(h2[c]);
						o[2 * c] = fmaf(pk, f.x, o[2 * c]);
						o[2 * c + 1] = fmaf(pk, f.y, o[2 * c + 1]);
					}
				}
			}
		} else if (vthr) {
			const bool two = hd > AT_THREADS && d0 + AT_THREADS < hd;
			int k = g;
			/* 8 keys a round, loads first: the loop is bound by their latency */
			for (; k + 7 * G < nt; k += 8 * G) {
				float v0[8], v1[8];
#pragma unroll
				for (int e = 0; e < 8; e++) {
					v0[e] = __half2float(vt[(size_t)(k + e * G) * a.kv_dim]);
					v1[e] = two ? __half2float(vt[(size_t)(k + e * G) * a.kv_dim + AT_THREADS]) : 0.0f;
				}
#pragma unroll
				for (int e = 0; e < 8; e++) {
					o[0] = fmaf(ps[k + e * G], v0[e], o[0]);
					o[1] = fmaf(ps[k + e * G], v1[e], o[1]);
				}
			}
			for (; k < nt; k += G) {
				o[0] = fmaf(ps[k], __half2float(vt[(size_t)k * a.kv_dim]), o[0]);
				if (two)
					o[1] = fmaf(ps[k], __half2float(vt[(size_t)k * a.kv_dim + AT_THREADS]), o[1]);
			}
		}
		__syncthreads();
	}
	/* sum the groups: osum[g][d] */
	if (vthr && a.vec) {
#pragma unroll
		for (int e = 0; e < 8; e++)
			osum[g * hd + d0 + e] = o[e];
	} else if (vthr) {
		osum[g * hd + d0] = o[0];
		if (hd > AT_THREADS && d0 + AT_THREADS < hd)
			osum[d0 + AT_THREADS] = o[1];
	}
	__syncthreads();
	float *out = part != NULL ? part + 2 : a.out + (size_t)i * a.n_head * hd + (size_t)h * hd;
	const float inv = part != NULL ? 1.0f : 1.0f / l;
	for (int d = threadIdx.x; d < hd; d += AT_THREADS) {
		float r = 0.0f;
		for (int gg = 0; gg < G; gg++)
			r += osum[gg * hd + d];
		out[d] = r * inv;
	}
	if (part != NULL && threadIdx.x == 0) {
		part[0] = m;
		part[1] = l;
	}
}

/* Head h of query i: combine the query's active splits into out, in one
 * pass with the online-softmax rescale, AT_CHUNK splits' max, sum and
 * value loaded before any is used (three passes, for the maxima, the sums
 * and the values, each waited on its loads split by split).  Other
 * blocks wrote the partials, so they are read with __ldcg
 * (from L2, never from a line this SM's L1 may hold from before they were
 * written). */
#define AT_CHUNK 8
__device__ __forceinline__ void attn_combine(const at_args &a, int h, int i)
{
	const int hd = a.hd;
	const float *base = a.part + ((size_t)i * a.n_head + h) * a.n_split * (hd + 2);
	const int ns = attn_splits(a, a.pos[i] + 1);
	for (int d = threadIdx.x; d < hd; d += AT_THREADS) {
		float m = -INFINITY, l = 0.0f, acc = 0.0f;
		for (int k0 = 0; k0 < ns; k0 += AT_CHUNK) {
			float mk[AT_CHUNK], lk[AT_CHUNK], vk[AT_CHUNK];
#pragma unroll
			for (int c = 0; c < AT_CHUNK; c++) {
				const float *p = base + (size_t)(k0 + c) * (hd + 2);
				const bool in = k0 + c < ns;
				mk[c] = in ? __ldcg(p) : -INFINITY;
				lk[c] = in ? __ldcg(p + 1) : 0.0f;
				vk[c] = in ? __ldcg(p + 2 + d) : 0.0f;
			}
			float mc = m;
#pragma unroll
			for (int c = 0; c < AT_CHUNK; c++)
				mc = fmaxf(mc, mk[c]);
			if (mc == -INFINITY)
				continue; /* no keys so far */
			const float r = expf(m - mc); /* 0 while m is -inf */
			acc *= r;
			l *= r;
#pragma unroll
			for (int c = 0; c < AT_CHUNK; c++) {
				if (mk[c] == -INFINITY)
					continue; /* an empty split: its sum and value are stale */
				const float e = expf(mk[c] - mc);
				acc = fmaf(vk[c], e, acc);
				l = fmaf(lk[c], e, l);
			}
			m = mc;
		}
		a.out[(size_t)i * a.n_head * hd + (size_t)h * hd + d] = l > 0.0f ? acc / l : 0.0f;
	}
}

/* Block (head, query, split): the split's partial; with several splits the
 * last block of (query, head) to count itself done also combines them.  A
 * query whose keys fit one split (a short context) is written directly. */
__global__ void __launch_bounds__(AT_THREADS) attn_kernel(at_args a)
{
	__shared__ int last;
	const int h = blockIdx.x, i = blockIdx.y, split = blockIdx.z, hd = a.hd;
	const int s = a.seq[i];
	const int len = a.pos[i] + 1;
	if (!(s >= 0 && s < a.n_seq && len >= 1 && len <= a.n_ctx)) {
		if (split == 0)
			for (int d = threadIdx.x; d < hd; d += AT_THREADS)
				a.out[(size_t)i * a.n_head * hd + (size_t)h * hd + d] = 0.0f;
		return;
	}
	const int ns = attn_splits(a, len);
	if (split >= ns)
		return;
	if (ns == 1) {
		attn_partial(a, h, i, s, 0, len, NULL);
		return;
	}
	int t0 = split * SPLIT, t1 = t0 + SPLIT < len ? t0 + SPLIT : len;
	attn_partial(a, h, i, s, t0, t1, a.part + (((size_t)i * a.n_head + h) * a.n_split + split) * (hd + 2));
	/* every thread's partial writes reach L2 before thread 0 counts the split */
	__threadfence();
	__syncthreads();
	if (threadIdx.x == 0) {
		int *count = a.count + (size_t)i * a.n_head + h;
		last = atomicAdd(count, 1) == ns - 1;
		if (last)
			*count = 0; /* all splits have counted: zero for the next launch */
	}
	__syncthreads();
	if (!last)
		return;
	__threadfence();
	attn_combine(a, h, i);
}

m40_status m40c_attention(m40_backend *be, const m40_kv_layout *kv, const void *k_cache, const void *v_cache,
	const float *q, const int32_t *seq, const int32_t *pos, int n, float scale, float *out)
{
	if (n <= 0)
		return M40_OK;
	if (kv->head_dim > MAX_HD || kv->head_dim <= 0 || kv->n_head_kv <= 0 || kv->n_head % kv->n_head_kv)
		return m40c_fail(be, cudaErrorInvalidValue, "attention (head size)");
	at_args a;
	a.k = (const __half *)k_cache;
	a.v = (const __half *)v_cache;
	a.q = q;
	a.seq = seq;
	a.pos = pos;
	a.out = out;
	a.n_seq = kv->n_seq;
	a.n_ctx = kv->n_ctx;
	a.n_head = kv->n_head;
	a.group = kv->n_head / kv->n_head_kv;
	a.hd = kv->head_dim;
	a.kv_dim = kv->n_head_kv * kv->head_dim;
	a.scale = scale;
	a.vec = (a.hd % 8) == 0 && (a.kv_dim % 8) == 0 && ((uintptr_t)k_cache % 16) == 0 &&
		((uintptr_t)v_cache % 16) == 0;
	a.n_split = 1;
	a.part = NULL;
	a.count = NULL;
	if (n <= M40_CUDA_MV_BATCH && kv->n_ctx > SPLIT && (size_t)n * kv->n_head <= AT_COUNTERS) {
		const size_t cbytes = AT_COUNTERS * sizeof(int);
		a.n_split = (kv->n_ctx + SPLIT - 1) / SPLIT;
		size_t need = cbytes + (size_t)n * a.n_head * a.n_split * (a.hd + 2) * sizeof(float);
		size_t had = be->part_bytes;
		m40_status st = m40c_scratch(be, (void **)&be->part, &be->part_bytes, need, "attention partials");
		if (st != M40_OK)
			return st;
		if (be->part_bytes != had) {
			/* a new buffer (never during a capture): its counters start at 0 */
			cudaError_t e = cudaMemsetAsync(be->part, 0, cbytes, be->stream);
			if (e != cudaSuccess)
				return m40c_fail(be, e, "attention counters");
		}
		a.count = (int *)be->part;
		a.part = (float *)((char *)be->part + cbytes);
	}
	dim3 grid((unsigned)a.n_head, (unsigned)n, (unsigned)a.n_split);
	attn_kernel<<<grid, AT_THREADS, 0, be->stream>>>(a);
	return m40c_check(be, "attention");
}
