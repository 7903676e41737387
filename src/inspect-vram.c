/* inspect-vram.c: m40-inspect --vram, the GPU memory a run needs and whether it fits an M40. */
#include "inspect.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- --vram ------------------------------------------------------------ */

void
vram_estimate(const m40_model *m, const struct options *o, struct vram *r)
{
	const m40_hparams *hp = m40_model_hparams(m);
	m40_mem_estimate e;
	int lo = 0, hi = INT32_MAX;

	r->n_ctx = o->n_ctx ? o->n_ctx : hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096;
	r->n_batch = o->n_batch ? o->n_batch : 512;
	r->n_seq = o->n_seq ? o->n_seq : 1;
	r->budget = M40_CARD_BYTES - M40_CARD_RESERVED;
	m40_model_estimate_memory(m, r->n_ctx, r->n_seq, r->n_batch, &r->est);
	r->fits = r->est.total <= r->budget;
	/* The need grows with the context (the KV cache, the attention
	 * partials): the longest that fits, by bisection; lo fits or is 0. */
	while (lo < hi) {
		int mid = lo + (int)(((int64_t)hi - lo + 1) / 2);
		m40_model_estimate_memory(m, mid, r->n_seq, r->n_batch, &e);
		if (e.total <= r->budget)
			lo = mid;
		else
			hi = mid - 1;
	}
	r->max_ctx = lo;
}

void
print_vram(const struct vram *r)
{
	char b[64];

	putchar('\n');
	printf(ngettext("GPU memory for a context of %d, %d sequence, batches of %d tokens:\n",
		"GPU memory for a context of %d, %d sequences, batches of %d tokens:\n", r->n_seq),
		r->n_ctx, r->n_seq, r->n_batch);
	printf(_("  weights   %12s\n"), fmt_bytes(r->est.weights, b, sizeof b));
	printf(_("  KV cache  %12s  (FP16)\n"), fmt_bytes(r->est.kv_cache, b, sizeof b));
	printf(_("  scratch   %12s\n"), fmt_bytes(r->est.scratch, b, sizeof b));
	printf(_("  buffers   %12s  (CUDA backend)\n"), fmt_bytes(r->est.gpu_buffers, b, sizeof b));
	printf(_("  total     %12s\n"), fmt_bytes(r->est.total, b, sizeof b));
	if (r->fits) {
		printf(_("Fits a 24 GB Tesla M40 (%s usable).\n"), fmt_bytes(r->budget, b, sizeof b));
		return;
	}
	printf(_("Does not fit a 24 GB Tesla M40 (%s usable).  To fit:\n"),
		fmt_bytes(r->budget, b, sizeof b));
	if (r->max_ctx > 0)
		printf(_("  - reduce the context to %d or less (-c)\n"), r->max_ctx);
	if (r->n_seq > 1)
		printf(_("  - decode fewer sequences together (-s)\n"));
	if (r->n_batch > 64)
		printf(_("  - use smaller batches (-b)\n"));
	if (r->est.weights > r->budget / 2 || r->max_ctx == 0)
		printf(_("  - use a smaller quantization of the model (the weights alone take %s)\n"),
			fmt_bytes(r->est.weights, b, sizeof b));
}

json_t *
json_vram(const struct vram *r)
{
	return json_pack("{s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:i}",
		"n_ctx", r->n_ctx, "n_seq", r->n_seq, "n_batch", r->n_batch,
		"weights", (json_int_t)r->est.weights, "kv_cache", (json_int_t)r->est.kv_cache,
		"scratch", (json_int_t)r->est.scratch, "gpu_buffers", (json_int_t)r->est.gpu_buffers,
		"total", (json_int_t)r->est.total,
		"m40_usable", (json_int_t)r->budget, "fits_m40", r->fits, "max_ctx", r->max_ctx);
}
