/*
 * backend-cpu.c: the portable CPU backend, the correctness oracle.
 *
 * Plain C and a pool of threads: each op runs at once in the caller's
 * memory (allocations are ordinary heap blocks, upload and download are
 * memcpy).  Matrix products share their output rows among the threads,
 * attention its (token, KV head) pairs; the small element-wise ops run on the
 * calling thread.  Activations are FP32 throughout; the KV cache is
 * F16 as backend-ops.h lays it out.
 */
#include "m40-int.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend-ops.h"
#include "quant.h"
#include "threadpool.h"

#define ALIGN 64

struct m40_backend {
	m40i_pool *pool;
	float *f16;          /* the 65536 halves as floats: fast cache reads */
	float *scores;       /* attention scores, score_cap per thread */
	size_t score_cap;
};

/* ---- discovery ------------------------------------------------------ */

static m40_status
cpu_device_count(int *count, m40_error *err)
{
	(void)err;
	*count = 1;
	return M40_OK;
}

/* The first "model name" of /proc/cpuinfo, or a generic name. */
static void
cpu_name(char *name, size_t size)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(name, size, "CPU");
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
			colon++;
			while (*colon == ' ' || *colon == '\t')
				colon++;
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(name, size, "%s", colon);
			break;
		}
	}
	fclose(f);
}

/* MemAvailable of /proc/meminfo in bytes, or 0. */
static uint64_t
mem_available(void)
{
	char line[256];
	unsigned long long kb;
	uint64_t bytes = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
			bytes = (uint64_t)kb * 1024;
			break;
		}
	fclose(f);
	return bytes;
}

static m40_status
cpu_device_info(int device, m40_device_info *info, m40_error *err)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	long avail = sysconf(_SC_AVPHYS_PAGES), cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (device != 0)
		return m40_error_set(err, M40_E_NOTFOUND, _("no CPU device %d (there is 1)"), device);
	memset(info, 0, sizeof *info);
	cpu_name(info->name, sizeof info->name);
	info->total_mem = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
	info->free_mem = mem_available();
	if (info->free_mem == 0 && avail > 0 && page > 0)
		info->free_mem = (uint64_t)avail * (uint64_t)page;
	info->multiprocessors = cores > 0 ? (int)cores : 1;
	return M40_OK;
}

/* ---- lifetime and memory ------------------------------------------------ */

static void cpu_close(m40_backend *be);

static m40_status
cpu_open(int device, int n_threads, m40_backend **out, m40_error *err)
{
	m40_backend *be;
	m40_status s;
	long cores;
	uint32_t h;

	*out = NULL;
	if (device != 0)
		return m40_error_set(err, M40_E_NOTFOUND, _("no CPU device %d (there is 1)"), device);
	if (n_threads <= 0) {
		cores = sysconf(_SC_NPROCESSORS_ONLN);
		n_threads = cores > 0 ? (int)cores : 1;
	}
	be = calloc(1, sizeof *be);
	if (be == NULL || (be->f16 = malloc(65536 * sizeof *be->f16)) == NULL) {
		free(be);
		return m40_error_set(err, M40_E_NOMEM, _("out of memory opening the CPU backend"));
	}
	for (h = 0; h < 65536; h++)
		be->f16[h] = m40_fp16_to_fp32((uint16_t)h);
	if ((s = m40i_pool_new(n_threads, &be->pool, err)) != M40_OK) {
		cpu_close(be);
		return s;
	}
	*out = be;
	return M40_OK;
}

static void
cpu_close(m40_backend *be)
{
	if (be == NULL)
		return;
	m40i_pool_free(be->pool);
	free(be->scores);
	free(be->f16);
	free(be);
}

static m40_status
cpu_alloc(m40_backend *be, size_t bytes, void **ptr, m40_error *err)
{
	size_t size = (bytes + ALIGN - 1) / ALIGN * ALIGN;

	(void)be;
	*ptr = aligned_alloc(ALIGN, size > 0 ? size : ALIGN);
	if (*ptr == NULL)
		return m40_error_set(err, M40_E_DEVICE_OOM,
			_("out of memory allocating %zu bytes on the CPU (%llu MiB free)"), bytes,
			(unsigned long long)(mem_available() >> 20));
	return M40_OK;
}

static void
cpu_free(m40_backend *be, void *ptr)
{
	(void)be;
	free(ptr);
}

static m40_status
cpu_upload(m40_backend *be, void *dst, const void *src, size_t bytes, m40_error *err)
{
	(void)be;
	(void)err;
	if (bytes > 0)
		memcpy(dst, src, bytes);
	return M40_OK;
}

static m40_status
cpu_sync(m40_backend *be, m40_error *err)
{
	(void)be;
	(void)err;
	return M40_OK;
}

static m40_status
cpu_run_step(m40_backend *be, int n, m40_status (*step)(void *ctx), void *ctx, m40_error *err)
{
	m40_status s;

	(void)be;
	s = step(ctx);
	if (s != M40_OK)
		return m40_error_set(err, s, _("a step of %d tokens failed on the CPU: %s"), n,
			m40_strerror(s));
	return M40_OK;
}

/* ---- compute ---------------------------------------------------------- */

static m40_status
cpu_get_rows(m40_backend *be, const m40_weight *w, const int32_t *ids, int n, float *out)
{
	int i;

	(void)be;
	for (i = 0; i < n; i++) {
		const char *row = (const char *)w->data + (size_t)ids[i] * w->row_bytes;
		m40_status s = m40_dequantize_row(w->type, row, out + (size_t)i * w->cols, w->cols);
		if (s != M40_OK)
			return s;
	}
	return M40_OK;
}

/*
 * Output rows are handed out in chunks from a shared counter, so a thread
 * that the OS delays (a busy machine) does not hold up the others.  One
 * token: a row at a time (m40i_vec_dot).  A batch: each chunk is a tile
 * of weight rows, decoded once per chunk of activations that fits in cache
 * (m40i_vec_dot_tile).
 */
#define ROW_TILE 16
/* Activations per pass: half of a 2 MiB L2 (pp64 +13% over 192 KiB). */
#define X_CHUNK_BYTES (1024 * 1024)

struct matmul_job {
	const m40_weight *w;
	const float *x;
	float *y;
	int n;
	long tile;              /* rows per chunk */
	atomic_long next;       /* first row of the next chunk */
};

static void
matmul_tile(const struct matmul_job *j, long r0, long r1)
{
	const m40_weight *w = j->w;
	const char *data = w->data;
	long r;
	int x0, nx, chunk;

	if (j->n == 1) {
		for (r = r0; r < r1; r++)
			j->y[r] = m40i_vec_dot(w->type, data + (size_t)r * w->row_bytes, j->x, w->cols);
		return;
	}
	chunk = (int)(X_CHUNK_BYTES / ((size_t)w->cols * sizeof(float)));
	if (chunk < 4)
		chunk = 4;
	for (x0 = 0; x0 < j->n; x0 += chunk) {
		nx = j->n - x0 < chunk ? j->n - x0 : chunk;
		m40i_vec_dot_tile(w->type, data + (size_t)r0 * w->row_bytes, w->row_bytes, (int)(r1 - r0),
			j->x + (size_t)x0 * w->cols, w->cols, nx, j->y + (size_t)x0 * w->rows + r0,
			(size_t)w->rows);
	}
}

static void
matmul_worker(void *ctx, int ti, int nt)
{
	struct matmul_job *j = ctx;
	long r0;

	(void)ti;
	(void)nt;
	while ((r0 = atomic_fetch_add(&j->next, j->tile)) < j->w->rows)
		matmul_tile(j, r0, r0 + j->tile < j->w->rows ? r0 + j->tile : j->w->rows);
}

static m40_status
cpu_matmul(m40_backend *be, const m40_weight *w, const float *x, float *y, int n)
{
	struct matmul_job j = { w, x, y, n, ROW_TILE, 0 };
	int nt = m40i_pool_size(be->pool);

	if (n <= 0)
		return M40_OK;
	/* About 8 chunks per thread for one token; ROW_TILE rows for batches. */
	if (n == 1 && w->rows / (8L * nt) > ROW_TILE)
		j.tile = w->rows / (8L * nt);
	atomic_init(&j.next, 0);
	m40i_pool_run(be->pool, matmul_worker, &j);
	return M40_OK;
}

static m40_status
cpu_rmsnorm(m40_backend *be, const float *x, const float *g, float *y, int n, int dim, float eps)
{
	int i, d;

	(void)be;
	for (i = 0; i < n; i++) {
		const float *xi = x + (size_t)i * dim;
		float *yi = y + (size_t)i * dim;
		double ss = 0;
		float scale;

		for (d = 0; d < dim; d++)
			ss += (double)xi[d] * xi[d];
		scale = (float)(1.0 / sqrt(ss / dim + eps));
		for (d = 0; d < dim; d++)
			yi[d] = xi[d] * scale * g[d];
	}
	return M40_OK;
}

static m40_status
cpu_add(m40_backend *be, float *y, const float *x, size_t n)
{
	size_t i;

	(void)be;
	for (i = 0; i < n; i++)
		y[i] += x[i];
	return M40_OK;
}

static m40_status
cpu_add_bias(m40_backend *be, float *y, const float *bias, int n, int dim)
{
	int i, d;

	(void)be;
	for (i = 0; i < n; i++)
		for (d = 0; d < dim; d++)
			y[(size_t)i * dim + d] += bias[d];
	return M40_OK;
}

static m40_status
cpu_swiglu(m40_backend *be, const float *gate, const float *up, float *out, size_t n)
{
	size_t i;

	(void)be;
	for (i = 0; i < n; i++) {
		float g = gate[i];
		out[i] = g / (1.0f + expf(-g)) * up[i];
	}
	return M40_OK;
}

/*
 * Pair p of a head turns by pos * freq_scale * base^(-2p/n_dims) / factor[p]
 * (angles in double, so long contexts keep their precision).  Normal RoPE
 * pairs dims (2p, 2p+1); NeoX pairs (p, p + n_dims/2).  Dims past n_dims
 * are left alone.
 */
static m40_status
cpu_rope(m40_backend *be, float *x, const int32_t *pos, int n, int n_head, int head_dim,
	const m40_rope *rope)
{
	int half = rope->n_dims / 2, i, h, p;
	float *cs = malloc(2 * (size_t)(half > 0 ? half : 1) * sizeof *cs);

	(void)be;
	if (cs == NULL)
		return M40_E_NOMEM;
	for (i = 0; i < n; i++) {
		for (p = 0; p < half; p++) {
			double theta = (double)pos[i] * rope->freq_scale *
				pow(rope->freq_base, -2.0 * p / rope->n_dims);
			if (rope->freq_factors != NULL)
				theta /= rope->freq_factors[p];
			cs[2 * p] = (float)cos(theta);
			cs[2 * p + 1] = (float)sin(theta);
		}
		for (h = 0; h < n_head; h++) {
			float *v = x + ((size_t)i * n_head + h) * head_dim;
			for (p = 0; p < half; p++) {
				int a = rope->neox ? p : 2 * p;
				int b = rope->neox ? p + half : 2 * p + 1;
				float c = cs[2 * p], s = cs[2 * p + 1];
				float va = v[a], vb = v[b];
				v[a] = va * c - vb * s;
				v[b] = va * s + vb * c;
			}
		}
	}
	free(cs);
	return M40_OK;
}

static m40_status
cpu_kv_store(m40_backend *be, const m40_kv_layout *kv, void *k_cache, void *v_cache, const float *k,
	const float *v, const int32_t *seq, const int32_t *pos, int n)
{
	size_t kv_dim = (size_t)kv->n_head_kv * kv->head_dim, d;
	uint16_t *kc = k_cache, *vc = v_cache;
	int i;

	(void)be;
	for (i = 0; i < n; i++) {
		size_t at = ((size_t)seq[i] * kv->n_ctx + (size_t)pos[i]) * kv_dim;
		for (d = 0; d < kv_dim; d++) {
			kc[at + d] = m40_fp32_to_fp16(k[(size_t)i * kv_dim + d]);
			vc[at + d] = m40_fp32_to_fp16(v[(size_t)i * kv_dim + d]);
		}
	}
	return M40_OK;
}

struct attention_job {
	m40_backend *be;
	const m40_kv_layout *kv;
	const uint16_t *k_cache, *v_cache;
	const float *q;
	const int32_t *seq, *pos;
	int n;
	float scale;
	float *out;
	atomic_long next;       /* next (token, KV head) pair, token-major */
};

/*
 * Dot product and y += a x over head_dim floats, in 8-wide vectors (GCC
 * and Clang vector extensions) with two accumulators; attention runs them
 * for every cached position.  On x86-64 GCC also builds attend() for AVX2
 * and picks it at run time.
 */
typedef float v8f __attribute__((vector_size(32)));

static inline v8f
load8(const float *p)
{
	v8f v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline float
dot(const float *a, const float *b, int n)
{
	v8f s0 = { 0 }, s1 = { 0 };
	float s = 0;
	int i = 0;

	for (; i + 16 <= n; i += 16) {
		s0 += load8(a + i) * load8(b + i);
		s1 += load8(a + i + 8) * load8(b + i + 8);
	}
	s0 += s1;
	for (int k = 0; k < 8; k++)
		s += s0[k];
	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static inline void
axpy(float *y, float a, const float *x, int n)
{
	int i = 0;

	for (; i + 8 <= n; i += 8) {
		v8f v = load8(y + i) + a * load8(x + i);
		memcpy(y + i, &v, sizeof v);
	}
	for (; i < n; i++)
		y[i] += a * x[i];
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define ATTEND_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ATTEND_CLONES
#endif

/*
 * One token against one KV head, for the group of query heads that share
 * it (GQA): each cached K and V row is converted from F16 once for the
 * whole group.  Per head: scores against positions 0..pos, softmax (minus
 * the maximum, summed in double), weighted sum of the values.  The
 * scratch holds group * n_ctx scores and a converted row.
 */
ATTEND_CLONES static void
attend(const struct attention_job *j, int i, int kvh, float *scratch)
{
	const m40_kv_layout *kv = j->kv;
	const float *f16 = j->be->f16;
	const int hd = kv->head_dim, group = kv->n_head / kv->n_head_kv, last = j->pos[i];
	const size_t kv_dim = (size_t)kv->n_head_kv * hd;
	const size_t base = (size_t)j->seq[i] * kv->n_ctx * kv_dim + (size_t)kvh * hd;
	const size_t first = (size_t)i * kv->n_head + (size_t)kvh * group; /* its first query head */
	float *row = scratch + (size_t)group * kv->n_ctx;
	int t, d, g;

	for (t = 0; t <= last; t++) {
		const uint16_t *k = j->k_cache + base + (size_t)t * kv_dim;
		for (d = 0; d < hd; d++)
			row[d] = f16[k[d]];
		for (g = 0; g < group; g++)
			scratch[(size_t)g * kv->n_ctx + t] = dot(j->q + (first + g) * hd, row, hd) * j->scale;
	}
	for (g = 0; g < group; g++) {
		float *score = scratch + (size_t)g * kv->n_ctx, max = -INFINITY;
		double sum = 0;
		for (t = 0; t <= last; t++)
			if (score[t] > max)
				max = score[t];
		for (t = 0; t <= last; t++) {
			score[t] = expf(score[t] - max);
			sum += score[t];
		}
		for (t = 0; t <= last; t++)
			score[t] = (float)(score[t] / sum);
		for (d = 0; d < hd; d++)
			j->out[(first + g) * hd + d] = 0;
	}
	for (t = 0; t <= last; t++) {
		const uint16_t *v = j->v_cache + base + (size_t)t * kv_dim;
		for (d = 0; d < hd; d++)
			row[d] = f16[v[d]];
		for (g = 0; g < group; g++)
			axpy(j->out + (first + g) * hd, scratch[(size_t)g * kv->n_ctx + t], row, hd);
	}
}

static void
attention_worker(void *ctx, int ti, int nt)
{
	struct attention_job *j = ctx;
	float *scratch = j->be->scores + (size_t)ti * j->be->score_cap;
	long w, total = (long)j->n * j->kv->n_head_kv;

	(void)nt;
	while ((w = atomic_fetch_add(&j->next, 1)) < total)
		attend(j, (int)(w / j->kv->n_head_kv), (int)(w % j->kv->n_head_kv), scratch);
}

static m40_status
cpu_attention(m40_backend *be, const m40_kv_layout *kv, const void *k_cache, const void *v_cache,
	const float *q, const int32_t *seq, const int32_t *pos, int n, float scale, float *out)
{
	struct attention_job j = { be, kv, k_cache, v_cache, q, seq, pos, n, scale, out, 0 };
	size_t need = (size_t)(kv->n_head / kv->n_head_kv) * kv->n_ctx + kv->head_dim;

	if (be->score_cap < need) {
		float *s = realloc(be->scores, need * (size_t)m40i_pool_size(be->pool) * sizeof *s);
		if (s == NULL)
			return M40_E_NOMEM;
		be->scores = s;
		be->score_cap = need;
	}
	atomic_init(&j.next, 0);
	m40i_pool_run(be->pool, attention_worker, &j);
	return M40_OK;
}

static m40_status
cpu_gather_rows(m40_backend *be, const float *x, const int32_t *rows, int n_out, int dim, float *y)
{
	int j;

	(void)be;
	for (j = 0; j < n_out; j++)
		memcpy(y + (size_t)j * dim, x + (size_t)rows[j] * dim, (size_t)dim * sizeof *y);
	return M40_OK;
}

static const m40_backend_ops cpu_ops = {
	.name = "cpu",
	.device_count = cpu_device_count,
	.device_info = cpu_device_info,
	.open = cpu_open,
	.close = cpu_close,
	.alloc = cpu_alloc,
	.free = cpu_free,
	.upload = cpu_upload,
	.download = cpu_upload,
	.sync = cpu_sync,
	.run_step = cpu_run_step,
	.get_rows = cpu_get_rows,
	.matmul = cpu_matmul,
	.rmsnorm = cpu_rmsnorm,
	.add = cpu_add,
	.add_bias = cpu_add_bias,
	.swiglu = cpu_swiglu,
	.rope = cpu_rope,
	.kv_store = cpu_kv_store,
	.attention = cpu_attention,
	.gather_rows = cpu_gather_rows,
};

const m40_backend_ops *
m40i_backend_cpu(void)
{
	return &cpu_ops;
}
