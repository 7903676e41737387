/*
 * backend-cuda.cu: the CUDA backend's ops table (backend-ops.h): devices,
 * memory, uploads through pinned staging buffers, sticky errors, and the
 * step captured as a CUDA graph per batch size.
 *
 * Graphs: the first step of a batch size n runs eagerly (scratch buffers
 * grow then), the second is captured and launched, later ones replay the
 * graph.  Everything that varies between steps lives in device buffers the
 * engine uploads before the step (the graph rule of backend-ops.h), so a
 * replay needs no update.  When a scratch buffer must grow, every cached
 * graph is dropped (it holds the old pointer) and captured again.
 *
 * Errors: a failed launch or a device fault is recorded (the first one
 * sticks) and reported by the next sync with where it happened.
 */
#include "m40-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m40-cuda.h"
#ifndef M40_NO_CUBLAS
#include <cublas_v2.h>
#endif

#define PIN_BYTES ((size_t)16 << 20)
/* Uploads at least this big go through the pinned double buffer. */
#define PIN_MIN ((size_t)1 << 20)
#define BLAS_WORK_BYTES M40_GPU_BLAS_WORK_BYTES
#define MIB(b) ((double)(b) / (1024.0 * 1024.0))

m40_status m40c_fail(m40_backend *be, cudaError_t e, const char *where)
{
	m40_status code = e == cudaErrorMemoryAllocation ? M40_E_DEVICE_OOM : M40_E_DEVICE;
	if (be->sticky == M40_OK) {
		be->sticky = code;
		snprintf(be->sticky_msg, sizeof be->sticky_msg, _("CUDA error in %s on device %d: %s"), where,
			be->device, cudaGetErrorString(e));
	}
	return code;
}

m40_status m40c_check(m40_backend *be, const char *where)
{
	cudaError_t e = cudaGetLastError();
	return e == cudaSuccess ? M40_OK : m40c_fail(be, e, where);
}

static void drop_graphs(m40_backend *be)
{
	for (int n = 0; n <= M40_CUDA_GRAPH_MAX; n++) {
		if (be->graph[n]) {
			cudaGraphExecDestroy(be->graph[n]);
			be->graph[n] = NULL;
		}
		if (be->graph_state[n] == 2)
			be->graph_state[n] = 1;
	}
}

m40_status m40c_scratch(m40_backend *be, void **buf, size_t *have, size_t need, const char *what)
{
	cudaError_t e;
	if (*have >= need)
		return M40_OK;
	if (be->capturing) {
		/* cannot allocate inside a capture: the run_step falls back */
		if (be->sticky == M40_OK) {
			be->sticky = M40_E_DEVICE;
			snprintf(be->sticky_msg, sizeof be->sticky_msg, _("%s grew during graph capture"), what);
		}
		return M40_E_DEVICE;
	}
	if ((e = cudaStreamSynchronize(be->stream)) != cudaSuccess)
		return m40c_fail(be, e, what);
	drop_graphs(be);
	if (*buf)
		cudaFree(*buf);
	*buf = NULL;
	*have = 0;
	need = (need + 4095) & ~(size_t)4095;
	if ((e = cudaMalloc(buf, need)) != cudaSuccess) {
		size_t fr = 0, tot = 0;
		cudaGetLastError();
		cudaMemGetInfo(&fr, &tot);
		*buf = NULL;
		if (be->sticky == M40_OK) {
			be->sticky = M40_E_DEVICE_OOM;
			snprintf(be->sticky_msg, sizeof be->sticky_msg,
				_("out of GPU memory for %s: %.1f MiB needed, %.1f MiB free of %.1f MiB on device %d"), what,
				MIB(need), MIB(fr), MIB(tot), be->device);
		}
		return M40_E_DEVICE_OOM;
	}
	*have = need;
	return M40_OK;
}

/* ---- discovery ---------------------------------------------------------- */

static m40_status cu_device_count(int *count, m40_error *err)
{
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);
	*count = 0;
	if (e != cudaSuccess) {
		cudaGetLastError();
		return m40_error_set(err, M40_E_NODEVICE, _("no usable CUDA device: %s"), cudaGetErrorString(e));
	}
	if (n == 0)
		return m40_error_set(err, M40_E_NODEVICE, _("no CUDA device found"));
	*count = n;
	return M40_OK;
}

static m40_status cu_device_info(int device, m40_device_info *info, m40_error *err)
{
	cudaDeviceProp p;
	int n = 0, cur = 0;
	size_t fr = 0, tot = 0;
	m40_status s;
	cudaError_t e;

	memset(info, 0, sizeof *info);
	if ((s = cu_device_count(&n, err)) != M40_OK)
		return s;
	if (device < 0 || device >= n)
		return m40_error_set(err, M40_E_NOTFOUND, _("no CUDA device %d (there are %d)"), device, n);
	if ((e = cudaGetDeviceProperties(&p, device)) != cudaSuccess)
		return m40_error_set(err, M40_E_DEVICE, _("CUDA device %d: %s"), device, cudaGetErrorString(e));
	snprintf(info->name, sizeof info->name, "%s", p.name);
	info->cc_major = p.major;
	info->cc_minor = p.minor;
	info->total_mem = p.totalGlobalMem;
	info->multiprocessors = p.multiProcessorCount;
	cudaDriverGetVersion(&info->driver_version);
	cudaRuntimeGetVersion(&info->runtime_version);
	cudaGetDevice(&cur);
	if (cudaSetDevice(device) == cudaSuccess && cudaMemGetInfo(&fr, &tot) == cudaSuccess) {
		info->free_mem = fr;
		info->total_mem = tot;
	}
	cudaGetLastError();
	cudaSetDevice(cur);
	return M40_OK;
}

/* ---- lifetime ------------------------------------------------------------ */

static void cu_close(m40_backend *be)
{
	if (be == NULL)
		return;
	cudaSetDevice(be->device);
	if (be->stream)
		cudaStreamSynchronize(be->stream);
	drop_graphs(be);
#ifndef M40_NO_CUBLAS
	if (be->blas)
		cublasDestroy((cublasHandle_t)be->blas);
#endif
	cudaFree(be->blas_work);
	cudaFree(be->tile);
	cudaFree(be->part);
	for (int i = 0; i < 2; i++) {
		if (be->pin[i])
			cudaFreeHost(be->pin[i]);
		if (be->pin_done[i])
			cudaEventDestroy(be->pin_done[i]);
	}
	if (be->copy_stream)
		cudaStreamDestroy(be->copy_stream);
	if (be->stream)
		cudaStreamDestroy(be->stream);
	cudaGetLastError();
	free(be);
}

/* The measuring knobs, read at open (m40llm(7)): $M40_CUDA_MV_BATCH, the
 * largest batch for the matrix-vector kernels, and $M40_CUDA_MV_ROWS,
 * "type=rows,..." with 4 or 8 rows a thread block for one sequence. */
static void read_knobs(m40_backend *be)
{
	const char *mb = getenv("M40_CUDA_MV_BATCH"), *p = getenv("M40_CUDA_MV_ROWS");
	be->mv_batch = M40_CUDA_MV_DEFAULT;
	if (mb != NULL && atoi(mb) >= 0)
		be->mv_batch = atoi(mb) < M40_CUDA_MV_BATCH ? atoi(mb) : M40_CUDA_MV_BATCH;
	while (p != NULL && *p) {
		size_t len = strcspn(p, "=,");
		int rows = p[len] == '=' ? atoi(p + len + 1) : 0;
		for (int t = 0; t < M40_TYPE_COUNT && (rows == 4 || rows == 8); t++) {
			const char *nm = m40_type_name(t);
			if (nm != NULL && strlen(nm) == len && strncmp(nm, p, len) == 0)
				be->mv_rows[t] = (unsigned char)rows;
		}
		p = strchr(p, ',');
		p = p != NULL ? p + 1 : NULL;
	}
}

static m40_status cu_open(int device, int n_threads, m40_backend **out, m40_error *err)
{
	m40_backend *be;
	m40_status s;
	cudaError_t e;
	int n = 0;

	*out = NULL;
	if ((s = cu_device_count(&n, err)) != M40_OK)
		return s;
	if (device < 0 || device >= n)
		return m40_error_set(err, M40_E_NOTFOUND, _("no CUDA device %d (there are %d)"), device, n);
	be = (m40_backend *)calloc(1, sizeof *be);
	if (be == NULL)
		return m40_error_set(err, M40_E_NOMEM, _("out of memory"));
	be->device = device;
	read_knobs(be);
	if ((e = cudaSetDevice(device)) != cudaSuccess
		|| (e = cudaStreamCreateWithFlags(&be->stream, cudaStreamNonBlocking)) != cudaSuccess
		|| (e = cudaStreamCreateWithFlags(&be->copy_stream, cudaStreamNonBlocking)) != cudaSuccess
		|| (e = cudaDeviceGetAttribute(&be->sm_count, cudaDevAttrMultiProcessorCount, device)) != cudaSuccess)
		goto fail;
	for (int i = 0; i < 2; i++) {
		if ((e = cudaEventCreateWithFlags(&be->pin_done[i], cudaEventDisableTiming)) != cudaSuccess)
			goto fail;
		/* without pinned memory, uploads are plain copies */
		if (cudaHostAlloc(&be->pin[i], PIN_BYTES, cudaHostAllocDefault) != cudaSuccess) {
			be->pin[i] = NULL;
			cudaGetLastError();
		}
	}
	be->pin_bytes = be->pin[0] && be->pin[1] ? PIN_BYTES : 0;
#ifndef M40_NO_CUBLAS
	{
		cublasHandle_t h;
		if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) {
			cu_close(be);
			return m40_error_set(err, M40_E_DEVICE, _("cannot start cuBLAS on CUDA device %d"), device);
		}
		be->blas = h;
		cublasSetStream(h, be->stream);
		/* FP32 as Maxwell does it: the default mode keeps FP32 precision (no
		 * TF32), so SGEMM runs on the FP32 units */
		cublasSetMathMode(h, CUBLAS_DEFAULT_MATH);
		if (cudaMalloc(&be->blas_work, BLAS_WORK_BYTES) == cudaSuccess) {
			be->blas_work_bytes = BLAS_WORK_BYTES;
			cublasSetWorkspace(h, be->blas_work, BLAS_WORK_BYTES);
		} else {
			be->blas_work = NULL;
			cudaGetLastError();
		}
	}
#endif
	*out = be;
	return M40_OK;
fail:
	cudaGetLastError();
	cu_close(be);
	return m40_error_set(err, M40_E_DEVICE, _("cannot open CUDA device %d: %s"), device, cudaGetErrorString(e));
}

/* ---- memory -------------------------------------------------------------- */

static m40_status cu_alloc(m40_backend *be, size_t bytes, void **ptr, m40_error *err)
{
	cudaError_t e;
	*ptr = NULL;
	cudaSetDevice(be->device);
	if ((e = cudaMalloc(ptr, bytes > 0 ? bytes : 1)) != cudaSuccess) {
		size_t fr = 0, tot = 0;
		cudaGetLastError();
		cudaMemGetInfo(&fr, &tot);
		*ptr = NULL;
		if (e == cudaErrorMemoryAllocation)
			return m40_error_set(err, M40_E_DEVICE_OOM,
				_("out of GPU memory: %.1f MiB needed, %.1f MiB free of %.1f MiB on CUDA device %d"),
				MIB(bytes), MIB(fr), MIB(tot), be->device);
		return m40_error_set(err, M40_E_DEVICE, _("cudaMalloc of %zu bytes on device %d: %s"), bytes,
			be->device, cudaGetErrorString(e));
	}
	return M40_OK;
}

static void cu_free(m40_backend *be, void *ptr)
{
	if (ptr == NULL)
		return;
	cudaSetDevice(be->device);
	cudaFree(ptr);
	cudaGetLastError();
}

static m40_status report(m40_backend *be, cudaError_t e, const char *what, m40_error *err)
{
	m40c_fail(be, e, what);
	m40_status code = be->sticky;
	m40_error_set(err, code, "%s", be->sticky_msg);
	return code;
}

static m40_status cu_upload(m40_backend *be, void *dst, const void *src, size_t bytes, m40_error *err)
{
	cudaError_t e;
	if (bytes == 0)
		return M40_OK;
	cudaSetDevice(be->device);
	if (bytes < PIN_MIN || be->pin_bytes == 0) {
		/* ordered on the compute stream; src may be reused on return */
		if ((e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, be->stream)) != cudaSuccess)
			return report(be, e, _("upload"), err);
		if (bytes >= PIN_MIN && (e = cudaStreamSynchronize(be->stream)) != cudaSuccess)
			return report(be, e, _("upload"), err);
		return M40_OK;
	}
	/* big (weights): the host copies into one pinned buffer while the
	 * other one's DMA runs */
	if ((e = cudaStreamSynchronize(be->stream)) != cudaSuccess)
		return report(be, e, _("upload"), err);
	size_t off = 0;
	int i = 0;
	while (off < bytes) {
		size_t len = bytes - off < be->pin_bytes ? bytes - off : be->pin_bytes;
		if ((e = cudaEventSynchronize(be->pin_done[i])) != cudaSuccess)
			return report(be, e, _("upload"), err);
		memcpy(be->pin[i], (const char *)src + off, len);
		if ((e = cudaMemcpyAsync((char *)dst + off, be->pin[i], len, cudaMemcpyHostToDevice,
			     be->copy_stream)) != cudaSuccess
			|| (e = cudaEventRecord(be->pin_done[i], be->copy_stream)) != cudaSuccess)
			return report(be, e, _("upload"), err);
		off += len;
		i ^= 1;
	}
	if ((e = cudaStreamSynchronize(be->copy_stream)) != cudaSuccess)
		return report(be, e, _("upload"), err);
	return M40_OK;
}

static m40_status cu_sync(m40_backend *be, m40_error *err)
{
	cudaSetDevice(be->device);
	cudaError_t e = cudaStreamSynchronize(be->stream);
	if (e != cudaSuccess)
		m40c_fail(be, e, _("a queued kernel"));
	if (be->sticky != M40_OK) {
		m40_status code = be->sticky;
		m40_error_set(err, code, "%s", be->sticky_msg);
		be->sticky = M40_OK;
		be->sticky_msg[0] = '\0';
		return code;
	}
	return M40_OK;
}

static m40_status cu_download(m40_backend *be, void *dst, const void *src, size_t bytes, m40_error *err)
{
	cudaError_t e;
	if (bytes == 0)
		return M40_OK;
	cudaSetDevice(be->device);
	if ((e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, be->stream)) != cudaSuccess)
		m40c_fail(be, e, _("download"));
	return cu_sync(be, err);
}

/* ---- the step -------------------------------------------------------------- */

static m40_status step_failed(m40_backend *be, int n, m40_status s, m40_error *err)
{
	if (be->sticky != M40_OK)
		return m40_error_set(err, be->sticky, "%s", be->sticky_msg);
	return m40_error_set(err, s, _("a step of %d tokens failed on the GPU: %s"), n, m40_strerror(s));
}

static m40_status cu_run_step(m40_backend *be, int n, m40_status (*step)(void *ctx), void *ctx, m40_error *err)
{
	cudaError_t e;
	m40_status s;

	cudaSetDevice(be->device);
	if (n < 0 || n > M40_CUDA_GRAPH_MAX || be->graph_state[n] == 0 || be->graph_state[n] == 3) {
		if (n >= 0 && n <= M40_CUDA_GRAPH_MAX && be->graph_state[n] == 0)
			be->graph_state[n] = 1;
		s = step(ctx);
		return s == M40_OK ? M40_OK : step_failed(be, n, s, err);
	}
	if (be->graph_state[n] == 1) {
		cudaGraph_t g = NULL;
		m40_status keep = be->sticky;
		char keep_msg[M40_ERROR_MSG_SIZE];
		memcpy(keep_msg, be->sticky_msg, sizeof keep_msg);
		e = cudaStreamBeginCapture(be->stream, cudaStreamCaptureModeThreadLocal);
		if (e == cudaSuccess) {
			be->capturing = 1;
			s = step(ctx);
			be->capturing = 0;
			e = cudaStreamEndCapture(be->stream, &g);
			if (e == cudaSuccess && s == M40_OK)
				e = cudaGraphInstantiateWithFlags(&be->graph[n], g, 0);
			if (g)
				cudaGraphDestroy(g);
		}
		if (e != cudaSuccess || s != M40_OK) {
			/* not capturable: forget what the capture recorded, run eagerly from now on */
			cudaGetLastError();
			be->graph[n] = NULL;
			be->graph_state[n] = 3;
			be->sticky = keep;
			memcpy(be->sticky_msg, keep_msg, sizeof keep_msg);
			s = step(ctx);
			return s == M40_OK ? M40_OK : step_failed(be, n, s, err);
		}
		be->graph_state[n] = 2;
	}
	if ((e = cudaGraphLaunch(be->graph[n], be->stream)) != cudaSuccess) {
		m40c_fail(be, e, _("graph launch"));
		return m40_error_set(err, be->sticky, "%s", be->sticky_msg);
	}
	return M40_OK;
}

/* ---- compute ---------------------------------------------------------------- */

static m40_status cu_get_rows(m40_backend *be, const m40_weight *w, const int32_t *ids, int n, float *out)
{
	if (!m40c_type_ok(w->type))
		goto unsupported;
	return m40c_get_rows(be, w, ids, n, out);
unsupported:
	if (be->sticky == M40_OK) {
		be->sticky = M40_E_UNSUPPORTED;
		snprintf(be->sticky_msg, sizeof be->sticky_msg,
			_("tensor type %s is not supported by the CUDA backend"), m40_type_name(w->type));
	}
	return M40_E_UNSUPPORTED;
}

static m40_status cu_matmul(m40_backend *be, const m40_weight *w, const float *x, float *y, int n)
{
	if (!m40c_type_ok(w->type)) {
		if (be->sticky == M40_OK) {
			be->sticky = M40_E_UNSUPPORTED;
			snprintf(be->sticky_msg, sizeof be->sticky_msg,
				_("tensor type %s is not supported by the CUDA backend"), m40_type_name(w->type));
		}
		return M40_E_UNSUPPORTED;
	}
	if (n <= be->mv_batch)
		return m40c_matvec(be, w, x, y, n);
	m40_status st = m40c_batch_matmul(be, w, x, y, n, 0);
	return st == M40_E_UNSUPPORTED ? m40c_gemm(be, w, x, y, n) : st;
}

/* The fused ops: one launch where the fast matrix-vector kernels take the
 * weights (and the norm, for one or two sequences), else the separate ops. */
static m40_status cu_matmul_add(m40_backend *be, const m40_weight *w, const float *x, float *y, float *tmp, int n)
{
	m40_status st = m40c_matvec_fused(be, M40C_FUSE_ADD, &w, 1, x, NULL, 0.0f, &y, n);
	if (st != M40_E_UNSUPPORTED)
		return st;
	/* batches past the matrix-vector kernels: batch-matmul.cu adds in place
	 * (a type it does not take goes on to cu_matmul, which reports it) */
	if (n > be->mv_batch && (st = m40c_batch_matmul(be, w, x, y, n, 1)) != M40_E_UNSUPPORTED)
		return st;
	if ((st = cu_matmul(be, w, x, tmp, n)) != M40_OK)
		return st;
	return m40c_add(be, y, tmp, (size_t)n * w->rows);
}

/* The normalized input of the unfused path: xn, or x itself without g. */
static m40_status norm_input(m40_backend *be, const float *x, const float *g, float eps, float *xn, int n,
	int dim, const float **in)
{
	*in = x;
	if (g == NULL)
		return M40_OK;
	*in = xn;
	return m40c_rmsnorm(be, x, g, xn, n, dim, eps);
}

/* Q, K and V by groups of one type and width (Q4_K_M files mix Q4_K and
 * Q6_K): group t holds size[t] of them, indices idx[t][] in order; returns
 * the number of groups. */
static int qkv_groups(const m40_weight *const *w, int idx[3][3], int size[3])
{
	int ng = 0;
	for (int i = 0; i < 3; i++) {
		int t = 0;
		while (t < ng && (w[idx[t][0]]->type != w[i]->type || w[idx[t][0]]->cols != w[i]->cols))
			t++;
		if (t == ng)
			size[ng++] = 0;
		idx[t][size[t]++] = i;
	}
	return ng;
}

/* Q, K and V, each group of one type one launch with the norm folded in
 * where the kernels allow; the normalized input is made only for a group
 * they cannot take. */
static m40_status cu_matmul_qkv(m40_backend *be, const float *x, const float *g, float eps, float *xn,
	const m40_weight *wq, const m40_weight *wk, const m40_weight *wv, float *q, float *k, float *v, int n)
{
	const m40_weight *w[3] = { wq, wk, wv };
	float *y[3] = { q, k, v };
	const float *in = NULL;
	int idx[3][3], size[3], ng = qkv_groups(w, idx, size);
	m40_status st;
	for (int t = 0; t < ng; t++) {
		const m40_weight *gw[3];
		float *gy[3];
		const int m = size[t];
		for (int i = 0; i < m; i++) {
			gw[i] = w[idx[t][i]];
			gy[i] = y[idx[t][i]];
		}
		st = m40c_matvec_fused(be, M40C_FUSE_NONE, gw, m, x, g, eps, gy, n);
		if (st != M40_E_UNSUPPORTED) {
			if (st != M40_OK)
				return st;
			continue;
		}
		if (in == NULL && (st = norm_input(be, x, g, eps, xn, n, (int)wq->cols, &in)) != M40_OK)
			return st;
		if (g != NULL && (st = m40c_matvec_fused(be, M40C_FUSE_NONE, gw, m, in, NULL, 0.0f, gy, n))
			!= M40_E_UNSUPPORTED) {
			if (st != M40_OK)
				return st;
			continue;
		}
		for (int i = 0; i < m; i++)
			if ((st = cu_matmul(be, gw[i], in, gy[i], n)) != M40_OK)
				return st;
	}
	return M40_OK;
}

/* Q, K, V with RoPE and the KV store: by groups of one type where the
 * kernels take every group (checked before anything is launched), else
 * the products and then the rope_kv_store kernel. */
static m40_status cu_matmul_qkv_rope(m40_backend *be, const float *x, const float *g, float eps, float *xn,
	const m40_weight *wq, const m40_weight *wk, const m40_weight *wv, float *q, float *k, float *v,
	const m40_kv_layout *kv, const m40_rope *rope, void *k_cache, void *v_cache, const int32_t *seq,
	const int32_t *pos, int n)
{
	static const int role[3] = { M40C_ROLE_Q, M40C_ROLE_K, M40C_ROLE_V };
	const m40_weight *w[3] = { wq, wk, wv };
	float *y[3] = { q, k, v };
	const m40_weight *gw[3][3];
	float *gy[3][3];
	m40c_qkv_store qs[3];
	int idx[3][3], size[3], ng = qkv_groups(w, idx, size);
	bool fused = true;
	m40_status st;
	for (int t = 0; t < ng; t++) {
		for (int i = 0; i < size[t]; i++) {
			gw[t][i] = w[idx[t][i]];
			gy[t][i] = y[idx[t][i]];
			qs[t].role[i] = role[idx[t][i]];
		}
		qs[t].kv = kv;
		qs[t].rope = rope;
		qs[t].k_cache = k_cache;
		qs[t].v_cache = v_cache;
		qs[t].seq = seq;
		qs[t].pos = pos;
		fused = fused && m40c_matvec_qkv_rope(be, gw[t], size[t], x, g, eps, gy[t], n, &qs[t], 1) == M40_OK;
	}
	if (fused) {
		for (int t = 0; t < ng; t++)
			if ((st = m40c_matvec_qkv_rope(be, gw[t], size[t], x, g, eps, gy[t], n, &qs[t], 0)) != M40_OK)
				return st;
		return M40_OK;
	}
	if ((st = cu_matmul_qkv(be, x, g, eps, xn, wq, wk, wv, q, k, v, n)) != M40_OK)
		return st;
	return m40c_rope_kv_store(be, kv, rope, q, k, v, k_cache, v_cache, seq, pos, n);
}

static m40_status cu_matmul_swiglu(m40_backend *be, const float *x, const float *g, float eps, float *xn,
	const m40_weight *w_gate, const m40_weight *w_up, float *gate, float *up, int n)
{
	const m40_weight *w[2] = { w_gate, w_up };
	float *y[2] = { gate, NULL };
	const float *in;
	m40_status st = m40c_matvec_fused(be, M40C_FUSE_SWIGLU, w, 2, x, g, eps, y, n);
	if (st != M40_E_UNSUPPORTED)
		return st;
	if ((st = norm_input(be, x, g, eps, xn, n, (int)w_gate->cols, &in)) != M40_OK)
		return st;
	if (g != NULL && (st = m40c_matvec_fused(be, M40C_FUSE_SWIGLU, w, 2, in, NULL, 0.0f, y, n)) != M40_E_UNSUPPORTED)
		return st;
	if ((st = cu_matmul(be, w_gate, in, gate, n)) != M40_OK || (st = cu_matmul(be, w_up, in, up, n)) != M40_OK)
		return st;
	return m40c_swiglu(be, gate, up, gate, (size_t)n * w_gate->rows);
}

static m40_status cu_rmsnorm(m40_backend *be, const float *x, const float *g, float *y, int n, int dim, float eps)
{
	return m40c_rmsnorm(be, x, g, y, n, dim, eps);
}

static m40_status cu_add(m40_backend *be, float *y, const float *x, size_t n)
{
	return m40c_add(be, y, x, n);
}

static m40_status cu_add_bias(m40_backend *be, float *y, const float *bias, int n, int dim)
{
	return m40c_add_bias(be, y, bias, n, dim);
}

static m40_status cu_swiglu(m40_backend *be, const float *gate, const float *up, float *out, size_t n)
{
	return m40c_swiglu(be, gate, up, out, n);
}

static m40_status cu_rope(m40_backend *be, float *x, const int32_t *pos, int n, int n_head, int head_dim,
	const m40_rope *rope)
{
	return m40c_rope(be, x, pos, n, n_head, head_dim, rope);
}

static m40_status cu_kv_store(m40_backend *be, const m40_kv_layout *kv, void *k_cache, void *v_cache,
	const float *k, const float *v, const int32_t *seq, const int32_t *pos, int n)
{
	return m40c_kv_store(be, kv, k_cache, v_cache, k, v, seq, pos, n);
}

static m40_status cu_attention(m40_backend *be, const m40_kv_layout *kv, const void *k_cache, const void *v_cache,
	const float *q, const int32_t *seq, const int32_t *pos, int n, float scale, float *out)
{
	return m40c_attention(be, kv, k_cache, v_cache, q, seq, pos, n, scale, out);
}

static m40_status cu_gather_rows(m40_backend *be, const float *x, const int32_t *rows, int n_out, int dim, float *y)
{
	return m40c_gather_rows(be, x, rows, n_out, dim, y);
}

static const m40_backend_ops cuda_ops = {
	"cuda",
	cu_device_count,
	cu_device_info,
	cu_open,
	cu_close,
	cu_alloc,
	cu_free,
	cu_upload,
	cu_download,
	cu_sync,
	cu_run_step,
	cu_get_rows,
	cu_matmul,
	cu_rmsnorm,
	cu_add,
	cu_add_bias,
	cu_swiglu,
	cu_rope,
	cu_kv_store,
	cu_attention,
	cu_gather_rows,
	cu_matmul_add,
	cu_matmul_qkv,
	cu_matmul_swiglu,
	m40c_rope_kv_store,
	cu_matmul_qkv_rope,
};

extern "C" const m40_backend_ops *m40i_backend_cuda(void)
{
	return &cuda_ops;
}
