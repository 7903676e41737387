/* gguf-write.c: build a GGUF file in memory and write it out atomically. */
#include "m40-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf-int.h"

struct wtensor {
	char *name;
	int type;
	uint32_t n_dims;
	int64_t ne[M40_GGUF_MAX_DIMS];
	void *data;
	size_t size;
};

struct m40_gguf_writer {
	m40_gguf_kv *kv; /* keys and value trees owned here */
	size_t n_kv, cap_kv;
	struct wtensor *t;
	size_t n_t, cap_t;
};

m40_gguf_writer *
m40_gguf_writer_new(void)
{
	return calloc(1, sizeof(m40_gguf_writer));
}

/* Free what a copied value owns (not the value itself). */
static void
value_free(m40_gguf_value *v)
{
	uint64_t i;

	if (v->type == M40_GGUF_STRING) {
		free((void *)v->v.str.ptr);
	} else if (v->type == M40_GGUF_ARRAY) {
		free((void *)v->v.arr.data);
		if (v->v.arr.items != NULL) {
			m40_gguf_value *items = (m40_gguf_value *)v->v.arr.items;
			for (i = 0; i < v->v.arr.n; i++)
				value_free(&items[i]);
			free(items);
		}
	}
}

void
m40_gguf_writer_free(m40_gguf_writer *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n_kv; i++) {
		free((void *)w->kv[i].key);
		value_free(&w->kv[i].value);
	}
	free(w->kv);
	for (i = 0; i < w->n_t; i++) {
		free(w->t[i].name);
		free(w->t[i].data);
	}
	free(w->t);
	free(w);
}

/* Whether an integer or bool value fits the width its type has in the file. */
static bool
scalar_fits(const m40_gguf_value *v)
{
	size_t sz = m40i_gguf_scalar_size(v->type);
	int64_t lim;

	switch (v->type) {
	case M40_GGUF_BOOL:
		return v->v.u64 <= 1;
	case M40_GGUF_FLOAT32:
	case M40_GGUF_FLOAT64:
	case M40_GGUF_UINT64:
	case M40_GGUF_INT64:
		return true;
	case M40_GGUF_INT8:
	case M40_GGUF_INT16:
	case M40_GGUF_INT32:
		lim = (int64_t)1 << (8 * sz - 1);
		return v->v.i64 >= -lim && v->v.i64 < lim;
	default:
		return (v->v.u64 >> (8 * sz)) == 0;
	}
}

/* Deep copy of src into dst; on failure dst owns nothing. */
static m40_status
value_copy(m40_gguf_value *dst, const m40_gguf_value *src, unsigned depth)
{
	size_t esz;
	uint64_t i;
	m40_gguf_value *items;
	char *s;
	void *data;

	memset(dst, 0, sizeof *dst);
	if ((unsigned)src->type >= M40_GGUF_TYPE_COUNT)
		return M40_E_INVALID;
	dst->type = src->type;
	if (src->type == M40_GGUF_STRING) {
		if (src->v.str.len >= SIZE_MAX || (src->v.str.ptr == NULL && src->v.str.len != 0))
			return M40_E_INVALID;
		s = malloc((size_t)src->v.str.len + 1);
		if (s == NULL)
			return M40_E_NOMEM;
		if (src->v.str.len != 0)
			memcpy(s, src->v.str.ptr, (size_t)src->v.str.len);
		s[src->v.str.len] = '\0';
		dst->v.str.ptr = s;
		dst->v.str.len = src->v.str.len;
		return M40_OK;
	}
	if (src->type != M40_GGUF_ARRAY) {
		if (!scalar_fits(src))
			return M40_E_RANGE;
		dst->v = src->v;
		return M40_OK;
	}
	if (depth >= M40I_GGUF_MAX_DEPTH || (unsigned)src->v.arr.type >= M40_GGUF_TYPE_COUNT)
		return M40_E_INVALID;
	dst->v.arr.type = src->v.arr.type;
	esz = m40i_gguf_scalar_size(src->v.arr.type);
	if (esz != 0) {
		if (src->v.arr.n > SIZE_MAX / esz || (src->v.arr.data == NULL && src->v.arr.n != 0))
			return M40_E_INVALID;
		data = malloc(src->v.arr.n != 0 ? (size_t)src->v.arr.n * esz : 1);
		if (data == NULL)
			return M40_E_NOMEM;
		if (src->v.arr.n != 0)
			memcpy(data, src->v.arr.data, (size_t)src->v.arr.n * esz);
		dst->v.arr.data = data;
		dst->v.arr.n = src->v.arr.n;
		return M40_OK;
	}
	if (src->v.arr.n == 0)
		return M40_OK;
	if (src->v.arr.items == NULL || src->v.arr.n > SIZE_MAX / sizeof *items)
		return M40_E_INVALID;
	items = calloc((size_t)src->v.arr.n, sizeof *items);
	if (items == NULL)
		return M40_E_NOMEM;
	dst->v.arr.items = items;
	for (i = 0; i < src->v.arr.n; i++) {
		m40_status st = M40_E_INVALID;

		if (src->v.arr.items[i].type == src->v.arr.type)
			st = value_copy(&items[i], &src->v.arr.items[i], depth + 1);
		if (st != M40_OK) {
			dst->v.arr.n = i; /* free what was copied */
			value_free(dst);
			memset(dst, 0, sizeof *dst);
			return st;
		}
		dst->v.arr.n = i + 1;
	}
	return M40_OK;
}

m40_status
m40_gguf_set_value(m40_gguf_writer *w, const char *key, const m40_gguf_value *v)
{
	m40_gguf_value copy;
	m40_status st;
	size_t i;
	char *k;

	if (w == NULL || key == NULL || v == NULL || !m40i_gguf_name_ok(key, strlen(key)))
		return M40_E_INVALID;
	if ((st = value_copy(&copy, v, 0)) != M40_OK)
		return st;
	for (i = 0; i < w->n_kv; i++)
		if (strcmp(w->kv[i].key, key) == 0) {
			value_free(&w->kv[i].value);
			w->kv[i].value = copy;
			return M40_OK;
		}
	if (w->n_kv == w->cap_kv) {
		size_t cap = w->cap_kv ? 2 * w->cap_kv : 16;
		m40_gguf_kv *kv = realloc(w->kv, cap * sizeof *kv);
		if (kv == NULL) {
			value_free(&copy);
			return M40_E_NOMEM;
		}
		w->kv = kv;
		w->cap_kv = cap;
	}
	if ((k = strdup(key)) == NULL) {
		value_free(&copy);
		return M40_E_NOMEM;
	}
	w->kv[w->n_kv].key = k;
	w->kv[w->n_kv].value = copy;
	w->n_kv++;
	return M40_OK;
}

static m40_status
set_u(m40_gguf_writer *w, const char *key, enum m40_gguf_type t, uint64_t x)
{
	m40_gguf_value v = { .type = t, .v.u64 = x };

	return m40_gguf_set_value(w, key, &v);
}

static m40_status
set_i(m40_gguf_writer *w, const char *key, enum m40_gguf_type t, int64_t x)
{
	m40_gguf_value v = { .type = t, .v.i64 = x };

	return m40_gguf_set_value(w, key, &v);
}

m40_status m40_gguf_set_u8(m40_gguf_writer *w, const char *key, uint8_t v) { return set_u(w, key, M40_GGUF_UINT8, v); }
m40_status m40_gguf_set_i8(m40_gguf_writer *w, const char *key, int8_t v) { return set_i(w, key, M40_GGUF_INT8, v); }
m40_status m40_gguf_set_u16(m40_gguf_writer *w, const char *key, uint16_t v) { return set_u(w, key, M40_GGUF_UINT16, v); }
m40_status m40_gguf_set_i16(m40_gguf_writer *w, const char *key, int16_t v) { return set_i(w, key, M40_GGUF_INT16, v); }
m40_status m40_gguf_set_u32(m40_gguf_writer *w, const char *key, uint32_t v) { return set_u(w, key, M40_GGUF_UINT32, v); }
m40_status m40_gguf_set_i32(m40_gguf_writer *w, const char *key, int32_t v) { return set_i(w, key, M40_GGUF_INT32, v); }
m40_status m40_gguf_set_u64(m40_gguf_writer *w, const char *key, uint64_t v) { return set_u(w, key, M40_GGUF_UINT64, v); }
m40_status m40_gguf_set_i64(m40_gguf_writer *w, const char *key, int64_t v) { return set_i(w, key, M40_GGUF_INT64, v); }
m40_status m40_gguf_set_bool(m40_gguf_writer *w, const char *key, bool v) { return set_u(w, key, M40_GGUF_BOOL, v); }

m40_status
m40_gguf_set_f32(m40_gguf_writer *w, const char *key, float x)
{
	m40_gguf_value v = { .type = M40_GGUF_FLOAT32, .v.f64 = x };

	return m40_gguf_set_value(w, key, &v);
}

m40_status
m40_gguf_set_f64(m40_gguf_writer *w, const char *key, double x)
{
	m40_gguf_value v = { .type = M40_GGUF_FLOAT64, .v.f64 = x };

	return m40_gguf_set_value(w, key, &v);
}

m40_status
m40_gguf_set_str(m40_gguf_writer *w, const char *key, const char *s)
{
	m40_gguf_value v = { .type = M40_GGUF_STRING };

	if (s == NULL)
		return M40_E_INVALID;
	v.v.str.ptr = s;
	v.v.str.len = strlen(s);
	return m40_gguf_set_value(w, key, &v);
}

m40_status
m40_gguf_set_arr(m40_gguf_writer *w, const char *key, enum m40_gguf_type t, const void *data,
	uint64_t n)
{
	m40_gguf_value v = { .type = M40_GGUF_ARRAY };

	if (m40i_gguf_scalar_size(t) == 0)
		return M40_E_INVALID;
	v.v.arr.type = t;
	v.v.arr.n = n;
	v.v.arr.data = data;
	return m40_gguf_set_value(w, key, &v);
}

m40_status
m40_gguf_set_arr_str(m40_gguf_writer *w, const char *key, const char *const *s, uint64_t n)
{
	m40_gguf_value v = { .type = M40_GGUF_ARRAY }, *items = NULL;
	m40_status st;
	uint64_t i;

	if (n != 0 && (s == NULL || n > SIZE_MAX / sizeof *items))
		return M40_E_INVALID;
	if (n != 0 && (items = calloc((size_t)n, sizeof *items)) == NULL)
		return M40_E_NOMEM;
	for (i = 0; i < n; i++) {
		if (s[i] == NULL) {
			free(items);
			return M40_E_INVALID;
		}
		items[i].type = M40_GGUF_STRING;
		items[i].v.str.ptr = s[i];
		items[i].v.str.len = strlen(s[i]);
	}
	v.v.arr.type = M40_GGUF_STRING;
	v.v.arr.n = n;
	v.v.arr.items = items;
	st = m40_gguf_set_value(w, key, &v);
	free(items);
	return st;
}

m40_status
m40_gguf_add_tensor(m40_gguf_writer *w, const char *name, int type, uint32_t n_dims,
	const int64_t *ne, const void *data, size_t size)
{
	struct wtensor *t;
	uint64_t rows = 1;
	size_t row_bytes, i;
	uint32_t j;

	if (w == NULL || name == NULL || ne == NULL || !m40i_gguf_name_ok(name, strlen(name)) ||
	    n_dims < 1 || n_dims > M40_GGUF_MAX_DIMS || m40_type_block_size(type) == 0)
		return M40_E_INVALID;
	for (j = 0; j < n_dims; j++) {
		if (ne[j] < 1)
			return M40_E_INVALID;
		if (j > 0) {
			if (rows > (uint64_t)INT64_MAX / (uint64_t)ne[j])
				return M40_E_RANGE;
			rows *= (uint64_t)ne[j];
		}
	}
	row_bytes = m40_type_row_bytes(type, ne[0]);
	if (row_bytes == 0 || rows > (uint64_t)(INT64_MAX / ne[0]) || rows > SIZE_MAX / row_bytes)
		return M40_E_INVALID;
	if (size != row_bytes * rows || (data == NULL && size != 0))
		return M40_E_INVALID;
	for (i = 0; i < w->n_t; i++)
		if (strcmp(w->t[i].name, name) == 0)
			return M40_E_INVALID;
	if (w->n_t == w->cap_t) {
		size_t cap = w->cap_t ? 2 * w->cap_t : 16;
		struct wtensor *nt = realloc(w->t, cap * sizeof *nt);
		if (nt == NULL)
			return M40_E_NOMEM;
		w->t = nt;
		w->cap_t = cap;
	}
	t = &w->t[w->n_t];
	memset(t, 0, sizeof *t);
	t->name = strdup(name);
	t->data = malloc(size != 0 ? size : 1);
	if (t->name == NULL || t->data == NULL) {
		free(t->name);
		free(t->data);
		return M40_E_NOMEM;
	}
	memcpy(t->data, data, size);
	t->type = type;
	t->n_dims = n_dims;
	for (j = 0; j < M40_GGUF_MAX_DIMS; j++)
		t->ne[j] = j < n_dims ? ne[j] : 1;
	t->size = size;
	w->n_t++;
	return M40_OK;
}

/* ---- serialization: one pass into a sink (a growing buffer or a file) -- */

struct sink {
	int fd; /* -1: keep everything in buf */
	unsigned char *buf;
	size_t len, cap;
	uint64_t total;
	int error; /* errno of the first failure, or ENOMEM */
};

#define SINK_FLUSH (1 << 20)

static void
sink_flush(struct sink *s)
{
	size_t done = 0;

	while (s->error == 0 && done < s->len) {
		ssize_t n = write(s->fd, s->buf + done, s->len - done);
		if (n < 0) {
			if (errno != EINTR)
				s->error = errno;
			continue;
		}
		done += (size_t)n;
	}
	s->len = 0;
}

static void
sink_put(struct sink *s, const void *p, size_t n)
{
	if (s->error != 0 || n == 0)
		return;
	if (s->fd >= 0 && s->len + n > SINK_FLUSH) {
		sink_flush(s);
		if (n >= SINK_FLUSH) { /* big tensor: straight through */
			size_t done = 0;
			while (s->error == 0 && done < n) {
				ssize_t k = write(s->fd, (const unsigned char *)p + done, n - done);
				if (k < 0) {
					if (errno != EINTR)
						s->error = errno;
					continue;
				}
				done += (size_t)k;
			}
			s->total += n;
			return;
		}
	}
	if (n > s->cap - s->len) {
		size_t cap = s->cap ? s->cap : 4096;
		unsigned char *b;
		while (cap - s->len < n) {
			if (cap > SIZE_MAX / 2) {
				s->error = ENOMEM;
				return;
			}
			cap *= 2;
		}
		if ((b = realloc(s->buf, cap)) == NULL) {
			s->error = ENOMEM;
			return;
		}
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->total += n;
}

static void
put_le(struct sink *s, uint64_t v, unsigned n)
{
	unsigned char b[8];
	unsigned i;

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	sink_put(s, b, n);
}

static void
put_str(struct sink *s, const char *p, uint64_t len)
{
	put_le(s, len, 8);
	sink_put(s, p, (size_t)len);
}

static void
put_pad(struct sink *s, uint32_t align)
{
	static const unsigned char zeros[64];
	uint64_t pad = (align - s->total % align) % align;

	while (pad > 0) {
		size_t n = pad > sizeof zeros ? sizeof zeros : (size_t)pad;
		sink_put(s, zeros, n);
		pad -= n;
	}
}

static void
put_value(struct sink *s, const m40_gguf_value *v)
{
	uint64_t i;
	float f;
	uint32_t u32;
	uint64_t u64;

	switch (v->type) {
	case M40_GGUF_STRING:
		put_str(s, v->v.str.ptr, v->v.str.len);
		break;
	case M40_GGUF_ARRAY:
		put_le(s, (uint64_t)v->v.arr.type, 4);
		put_le(s, v->v.arr.n, 8);
		if (m40i_gguf_scalar_size(v->v.arr.type) != 0)
			sink_put(s, v->v.arr.data,
				(size_t)v->v.arr.n * m40i_gguf_scalar_size(v->v.arr.type));
		else
			for (i = 0; i < v->v.arr.n; i++)
				put_value(s, &v->v.arr.items[i]);
		break;
	case M40_GGUF_FLOAT32:
		f = (float)v->v.f64;
		memcpy(&u32, &f, 4);
		put_le(s, u32, 4);
		break;
	case M40_GGUF_FLOAT64:
		memcpy(&u64, &v->v.f64, 8);
		put_le(s, u64, 8);
		break;
	default:
		/* two's complement: the low bytes of i64 and u64 are the same */
		put_le(s, v->v.u64, (unsigned)m40i_gguf_scalar_size(v->type));
		break;
	}
}

static m40_status
writer_alignment(const m40_gguf_writer *w, uint32_t *align, m40_error *err)
{
	size_t i;

	*align = M40_GGUF_DEFAULT_ALIGNMENT;
	for (i = 0; i < w->n_kv; i++) {
		const m40_gguf_value *v = &w->kv[i].value;
		uint64_t a;

		if (strcmp(w->kv[i].key, "general.alignment") != 0)
			continue;
		a = v->v.u64;
		if (v->type == M40_GGUF_STRING || v->type == M40_GGUF_ARRAY ||
		    v->type == M40_GGUF_BOOL || v->type == M40_GGUF_FLOAT32 ||
		    v->type == M40_GGUF_FLOAT64 || a == 0 || (a & (a - 1)) != 0 || a > UINT32_MAX)
			return m40_error_set(err, M40_E_INVALID,
				_("general.alignment must be an integer power of two"));
		*align = (uint32_t)a;
	}
	return M40_OK;
}

static m40_status
serialize(const m40_gguf_writer *w, uint32_t version, struct sink *s, m40_error *err)
{
	uint32_t align;
	uint64_t offset = 0;
	size_t i;
	uint32_t j;
	m40_status st;

	if (w == NULL || (version != 2 && version != 3))
		return m40_error_set(err, M40_E_INVALID,
			_("GGUF version %u cannot be written (2 or 3)"), version);
	if ((st = writer_alignment(w, &align, err)) != M40_OK)
		return st;
	sink_put(s, M40I_GGUF_MAGIC, 4);
	put_le(s, version, 4);
	put_le(s, w->n_t, 8);
	put_le(s, w->n_kv, 8);
	for (i = 0; i < w->n_kv; i++) {
		put_str(s, w->kv[i].key, strlen(w->kv[i].key));
		put_le(s, (uint64_t)w->kv[i].value.type, 4);
		put_value(s, &w->kv[i].value);
	}
	for (i = 0; i < w->n_t; i++) {
		const struct wtensor *t = &w->t[i];

		put_str(s, t->name, strlen(t->name));
		put_le(s, t->n_dims, 4);
		for (j = 0; j < t->n_dims; j++)
			put_le(s, (uint64_t)t->ne[j], 8);
		put_le(s, (uint64_t)t->type, 4);
		put_le(s, offset, 8);
		offset += (t->size + align - 1) / align * align;
	}
	/* like gguf-py, a file without tensors ends without padding */
	if (w->n_t > 0)
		put_pad(s, align);
	for (i = 0; i < w->n_t; i++) {
		sink_put(s, w->t[i].data, w->t[i].size);
		put_pad(s, align);
	}
	if (s->fd >= 0)
		sink_flush(s);
	return M40_OK;
}

m40_status
m40_gguf_writer_to_memory(m40_gguf_writer *w, uint32_t version, void **buf, size_t *size,
	m40_error *err)
{
	struct sink s = { .fd = -1 };
	m40_status st;

	if (buf == NULL || size == NULL)
		return m40_error_set(err, M40_E_INVALID, _("m40_gguf_writer_to_memory: no buffer"));
	*buf = NULL;
	*size = 0;
	if ((st = serialize(w, version, &s, err)) != M40_OK) {
		free(s.buf);
		return st;
	}
	if (s.error != 0) {
		free(s.buf);
		return m40_error_set(err, M40_E_NOMEM, _("out of memory writing a GGUF buffer"));
	}
	*buf = s.buf;
	*size = s.len;
	return M40_OK;
}

/* Make the rename durable: fsync the directory holding path (best effort;
 * buf is scratch space at least as long as path). */
static void
sync_dir(const char *path, char *buf)
{
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL) {
		strcpy(buf, ".");
	} else {
		size_t n = slash == path ? 1 : (size_t)(slash - path);
		memcpy(buf, path, n);
		buf[n] = '\0';
	}
	fd = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

m40_status
m40_gguf_writer_save(m40_gguf_writer *w, const char *path, uint32_t version, m40_error *err)
{
	struct sink s = { .fd = -1 };
	char *tmp;
	size_t n;
	int attempt, e;
	m40_status st;

	if (path == NULL || *path == '\0')
		return m40_error_set(err, M40_E_INVALID, _("m40_gguf_writer_save: no file name"));
	n = strlen(path) + 64;
	if ((tmp = malloc(n)) == NULL)
		return m40_error_set(err, M40_E_NOMEM, _("%s: out of memory"), path);
	/* a fresh name beside the target, so that rename stays on one file system */
	for (attempt = 0; attempt < 100; attempt++) {
		snprintf(tmp, n, "%s.%ld-%d.tmp", path, (long)getpid(), attempt);
		s.fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (s.fd >= 0 || errno != EEXIST)
			break;
	}
	if (s.fd < 0) {
		e = errno;
		st = m40_error_set(err, M40_E_IO, _("%s: cannot create a temporary file: %s"), path,
			strerror(e));
		free(tmp);
		return st;
	}
	st = serialize(w, version, &s, err);
	free(s.buf);
	if (st == M40_OK && s.error == 0 && fsync(s.fd) != 0)
		s.error = errno;
	if (close(s.fd) != 0 && s.error == 0)
		s.error = errno;
	if (st == M40_OK && s.error != 0)
		st = m40_error_set(err, s.error == ENOMEM ? M40_E_NOMEM : M40_E_IO,
			_("%s: cannot write: %s"), tmp, strerror(s.error));
	if (st == M40_OK && rename(tmp, path) != 0) {
		e = errno;
		st = m40_error_set(err, M40_E_IO, _("cannot rename %s to %s: %s"), tmp, path,
			strerror(e));
	}
	if (st != M40_OK)
		unlink(tmp);
	else
		sync_dir(path, tmp);
	free(tmp);
	return st;
}
