/* fuzz-gguf.c: libFuzzer target for the GGUF reader (see tests/fuzz/README). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <m40/m40.h>

/* Inputs past this size only slow the fuzzer down: the header is what matters. */
#define MAX_INPUT (1 << 20)

static volatile unsigned sink;

/* Walk a value tree the way a consumer would, touching every byte it points at. */
static void
walk(const m40_gguf_value *v)
{
	uint64_t i, len;
	const char *s;

	if (v->type == M40_GGUF_STRING) {
		if (v->v.str.len > 0)
			sink += (unsigned char)v->v.str.ptr[0] + (unsigned char)v->v.str.ptr[v->v.str.len - 1];
		return;
	}
	if (v->type != M40_GGUF_ARRAY)
		return;
	for (i = 0; i < v->v.arr.n; i++) {
		if (v->v.arr.type == M40_GGUF_ARRAY) {
			walk(&v->v.arr.items[i]);
		} else if (v->v.arr.type == M40_GGUF_STRING) {
			s = m40_gguf_arr_str(v, i, &len);
			if (s == NULL)
				abort();
			if (len > 0)
				sink += (unsigned char)s[len - 1];
		} else {
			sink += (unsigned)m40_gguf_arr_int(v, i) + (m40_gguf_arr_float(v, i) > 0.0);
		}
	}
}

/* Whatever the reader accepts, the writer must reproduce and the reader accept again. */
static void
rewrite(const m40_gguf *g)
{
	m40_gguf_writer *w = m40_gguf_writer_new();
	m40_gguf *g2 = NULL;
	m40_error err;
	void *buf = NULL;
	size_t size = 0, i;

	if (w == NULL)
		return;
	for (i = 0; i < m40_gguf_n_kv(g); i++) {
		const m40_gguf_kv *kv = m40_gguf_kv_at(g, i);
		if (m40_gguf_set_value(w, kv->key, &kv->value) != M40_OK)
			abort();
	}
	for (i = 0; i < m40_gguf_n_tensors(g); i++) {
		const m40_gguf_tensor *t = m40_gguf_tensor_at(g, i);
		if (m40_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, t->size) != M40_OK)
			abort();
	}
	if (m40_gguf_writer_to_memory(w, m40_gguf_version(g), &buf, &size, &err) != M40_OK)
		abort();
	if (m40_gguf_open_memory(buf, size, &g2, &err) != M40_OK)
		abort();
	if (m40_gguf_n_kv(g2) != m40_gguf_n_kv(g) || m40_gguf_n_tensors(g2) != m40_gguf_n_tensors(g))
		abort();
	for (i = 0; i < m40_gguf_n_tensors(g); i++) {
		const m40_gguf_tensor *a = m40_gguf_tensor_at(g, i), *b = m40_gguf_tensor_at(g2, i);
		if (a->size != b->size || (a->size > 0 && memcmp(a->data, b->data, a->size) != 0))
			abort();
	}
	m40_gguf_close(g2);
	free(buf);
	m40_gguf_writer_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	m40_gguf *g = NULL;
	m40_error err;
	size_t i;
	int64_t iv;
	double fv;
	bool bv;

	if (size > MAX_INPUT)
		return 0;
	m40_error_clear(&err);
	if (m40_gguf_open_memory(data, size, &g, &err) != M40_OK) {
		/* a refusal must say why, on one line */
		if (g != NULL || err.msg[0] == '\0' || strchr(err.msg, '\n') != NULL)
			abort();
		return 0;
	}
	for (i = 0; i < m40_gguf_n_kv(g); i++) {
		const m40_gguf_kv *kv = m40_gguf_kv_at(g, i);
		if (m40_gguf_get(g, kv->key) != &kv->value)
			abort();
		sink += m40_gguf_get_int(g, kv->key, &iv) + m40_gguf_get_float(g, kv->key, &fv) +
			m40_gguf_get_bool(g, kv->key, &bv) + (m40_gguf_get_str(g, kv->key) != NULL);
		walk(&kv->value);
	}
	for (i = 0; i < m40_gguf_n_tensors(g); i++) {
		const m40_gguf_tensor *t = m40_gguf_tensor_at(g, i);
		const unsigned char *p = t->data;
		if (m40_gguf_find_tensor(g, t->name) != t)
			abort();
		if (t->size > 0)
			sink += p[0] + p[t->size - 1];
	}
	rewrite(g);
	m40_gguf_close(g);
	return 0;
}
