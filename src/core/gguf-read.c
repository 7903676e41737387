/* gguf-read.c: map a GGUF (v2, v3) file and validate every field before use. */
#include "m40-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf-int.h"

/*
 * Rules beyond the format itself, decided here:
 * - every dimension is >= 1 (a 0 or negative dimension is refused), a tensor
 *   has 1 to 4 dimensions, and the element count and byte size fit in int64;
 * - keys and tensor names are 1..65535 bytes of UTF-8 without control
 *   characters, and unique;
 * - a BOOL is 0 or 1; general.alignment is an integer, a power of two;
 * - counts are checked against the bytes left before anything is allocated,
 *   so memory stays proportional to the file size.
 * Tensor data may overlap (llama.cpp never checks it either).
 */

/* Smallest possible encodings, for bounding counts by the bytes left. */
#define MIN_KV_BYTES (8 + 1 + 4 + 1)            /* key len, 1-byte key, type, u8 */
#define MIN_TENSOR_BYTES (8 + 1 + 4 + 8 + 4 + 8) /* name, n_dims, 1 dim, type, offset */

/* ---- a bump allocator freed all at once by m40_gguf_close ------------- */

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	max_align_t data[];
};

#define ARENA_BLOCK (64 * 1024)

static void *
arena_alloc(struct arena_block **head, size_t n)
{
	struct arena_block *b = *head;
	size_t cap;
	void *p;

	if (n > SIZE_MAX - 64)
		return NULL;
	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	if (b == NULL || b->cap - b->used < n) {
		cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		b = malloc(sizeof *b + cap);
		if (b == NULL)
			return NULL;
		b->used = 0;
		b->cap = cap;
		if (*head != NULL && cap > ARENA_BLOCK) {
			/* a big one-off: keep filling the current block */
			b->next = (*head)->next;
			(*head)->next = b;
		} else {
			b->next = *head;
			*head = b;
		}
	}
	p = (unsigned char *)b->data + b->used;
	b->used += n;
	return p;
}

static void
arena_free(struct arena_block *b)
{
	while (b != NULL) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
}

/* ---- name index: open addressing over names at the start of records ---- */

struct name_index {
	size_t *slot; /* record index, or SIZE_MAX when empty */
	size_t mask;
};

static uint64_t
hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Records are arrays of structs whose first member is the name. */
static const char *
record_name(const void *base, size_t stride, size_t i)
{
	const char *const *p = (const char *const *)((const char *)base + i * stride);

	return *p;
}

static size_t
index_find(const struct name_index *ix, const void *base, size_t stride, const char *name)
{
	size_t i;

	if (ix->slot == NULL)
		return SIZE_MAX;
	for (i = hash_name(name) & ix->mask; ix->slot[i] != SIZE_MAX; i = (i + 1) & ix->mask)
		if (strcmp(record_name(base, stride, ix->slot[i]), name) == 0)
			return ix->slot[i];
	return SIZE_MAX;
}

static void
index_add(struct name_index *ix, const char *name, size_t rec)
{
	size_t i;

	for (i = hash_name(name) & ix->mask; ix->slot[i] != SIZE_MAX; i = (i + 1) & ix->mask)
		;
	ix->slot[i] = rec;
}

static bool
index_init(struct arena_block **arena, struct name_index *ix, size_t n)
{
	size_t cap = 8, i;

	while (cap < 2 * n)
		cap *= 2;
	ix->slot = arena_alloc(arena, cap * sizeof *ix->slot);
	if (ix->slot == NULL)
		return false;
	for (i = 0; i < cap; i++)
		ix->slot[i] = SIZE_MAX;
	ix->mask = cap - 1;
	return true;
}

/* ---- the handle -------------------------------------------------------- */

struct m40_gguf {
	const unsigned char *base;
	uint64_t size;
	void *map; /* the mapping to unmap, NULL over a caller's buffer */
	size_t map_size;
	uint32_t version;
	uint32_t alignment;
	uint64_t data_offset;
	size_t n_kv;
	m40_gguf_kv *kv;
	const char **kv_cstr; /* NUL-terminated copies of STRING values */
	struct name_index kv_index;
	size_t n_tensors;
	m40_gguf_tensor *tensors;
	struct name_index tensor_index;
	struct arena_block *arena;
};

/* ---- a cursor over the bytes, with errors naming the offset ------------ */

struct reader {
	const unsigned char *p;
	uint64_t size;
	uint64_t off;
	const char *name;
	m40_error *err;
};

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static m40_status
fail(struct reader *r, m40_status code, uint64_t at, const char *fmt, ...)
{
	char detail[M40_ERROR_MSG_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	/* TRANSLATORS: file name, byte offset, what is wrong there */
	return m40_error_set(r->err, code, _("%s: byte %llu: %s"), r->name,
		(unsigned long long)at, detail);
}

static uint64_t
left(const struct reader *r)
{
	return r->size - r->off;
}

static uint64_t
le(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/* Read an n-byte little-endian unsigned integer; what names it for the error. */
static m40_status
rd_uint(struct reader *r, unsigned n, uint64_t *v, const char *what)
{
	*v = 0; /* defined even on failure (and gcc -O2 stops warning) */
	if (left(r) < n)
		return fail(r, M40_E_FORMAT, r->off,
			_("the file ends inside the %s (%llu bytes left, %u needed)"), what,
			(unsigned long long)left(r), n);
	*v = le(r->p + r->off, n);
	r->off += n;
	return M40_OK;
}

static m40_status
rd_u32(struct reader *r, uint32_t *v, const char *what)
{
	uint64_t x;
	m40_status st = rd_uint(r, 4, &x, what);

	*v = (uint32_t)x;
	return st;
}

static m40_status
rd_str(struct reader *r, const char **ptr, uint64_t *len, const char *what)
{
	uint64_t at = r->off;
	m40_status st = rd_uint(r, 8, len, what);

	if (st != M40_OK)
		return st;
	if (*len > left(r))
		return fail(r, M40_E_FORMAT, at,
			_("%s length %llu runs past the end of the file (%llu bytes)"), what,
			(unsigned long long)*len, (unsigned long long)r->size);
	*ptr = (const char *)r->p + r->off;
	r->off += *len;
	return M40_OK;
}

size_t
m40i_gguf_scalar_size(enum m40_gguf_type t)
{
	switch (t) {
	case M40_GGUF_UINT8:
	case M40_GGUF_INT8:
	case M40_GGUF_BOOL:
		return 1;
	case M40_GGUF_UINT16:
	case M40_GGUF_INT16:
		return 2;
	case M40_GGUF_UINT32:
	case M40_GGUF_INT32:
	case M40_GGUF_FLOAT32:
		return 4;
	case M40_GGUF_UINT64:
	case M40_GGUF_INT64:
	case M40_GGUF_FLOAT64:
		return 8;
	default:
		return 0;
	}
}

bool
m40i_gguf_name_ok(const char *s, uint64_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	if (len == 0 || len > M40I_GGUF_MAX_NAME)
		return false;
	while (p < end) {
		unsigned c = *p, n, i;
		uint32_t cp;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		if ((size_t)(end - p) <= n)
			return false;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

static int64_t
sign_extend(uint64_t v, unsigned bytes)
{
	unsigned shift = 64 - 8 * bytes;

	return (int64_t)(v << shift) >> shift;
}

static float
float_bits(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

static double
double_bits(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof d);
	return d;
}

static m40_status rd_value(struct reader *r, struct m40_gguf *g, enum m40_gguf_type t,
	m40_gguf_value *v, unsigned depth);

static m40_status
rd_array(struct reader *r, struct m40_gguf *g, m40_gguf_value *v, unsigned depth)
{
	uint64_t at = r->off, n, i, min;
	uint32_t et;
	size_t esz;
	m40_gguf_value *items;
	m40_status st;

	if (depth >= M40I_GGUF_MAX_DEPTH)
		return fail(r, M40_E_FORMAT, at, _("arrays nested more than %d deep"),
			M40I_GGUF_MAX_DEPTH);
	if ((st = rd_u32(r, &et, _("array element type"))) != M40_OK)
		return st;
	if (et >= M40_GGUF_TYPE_COUNT)
		return fail(r, M40_E_FORMAT, at, _("unknown array element type %u"), et);
	if ((st = rd_uint(r, 8, &n, _("array length"))) != M40_OK)
		return st;
	v->v.arr.type = (enum m40_gguf_type)et;
	v->v.arr.n = n;
	v->v.arr.data = NULL;
	v->v.arr.items = NULL;
	esz = m40i_gguf_scalar_size((enum m40_gguf_type)et);
	min = esz != 0 ? esz : et == M40_GGUF_STRING ? 8 : 4 + 8;
	if (n > left(r) / min)
		return fail(r, M40_E_FORMAT, at + 4,
			_("array of %llu %s values runs past the end of the file (%llu bytes)"),
			(unsigned long long)n, m40_gguf_type_name((enum m40_gguf_type)et),
			(unsigned long long)r->size);
	if (esz != 0) {
		v->v.arr.data = r->p + r->off;
		if (et == M40_GGUF_BOOL)
			for (i = 0; i < n; i++)
				if (r->p[r->off + i] > 1)
					return fail(r, M40_E_FORMAT, r->off + i,
						_("bool value %u is neither 0 nor 1"),
						r->p[r->off + i]);
		r->off += n * esz;
		return M40_OK;
	}
	if (n == 0)
		return M40_OK;
	/* n * sizeof is bounded: n <= file size / 8 */
	items = arena_alloc(&g->arena, (size_t)n * sizeof *items);
	if (items == NULL)
		return fail(r, M40_E_NOMEM, at, _("no memory for an array of %llu values"),
			(unsigned long long)n);
	for (i = 0; i < n; i++)
		if ((st = rd_value(r, g, (enum m40_gguf_type)et, &items[i], depth + 1)) != M40_OK)
			return st;
	v->v.arr.items = items;
	return M40_OK;
}

static m40_status
rd_value(struct reader *r, struct m40_gguf *g, enum m40_gguf_type t, m40_gguf_value *v,
	unsigned depth)
{
	size_t sz = m40i_gguf_scalar_size(t);
	uint64_t x, at = r->off;
	m40_status st;

	memset(v, 0, sizeof *v);
	v->type = t;
	if (t == M40_GGUF_STRING)
		return rd_str(r, &v->v.str.ptr, &v->v.str.len, _("string"));
	if (t == M40_GGUF_ARRAY)
		return rd_array(r, g, v, depth);
	if ((st = rd_uint(r, (unsigned)sz, &x, _("value"))) != M40_OK)
		return st;
	switch (t) {
	case M40_GGUF_INT8:
	case M40_GGUF_INT16:
	case M40_GGUF_INT32:
	case M40_GGUF_INT64:
		v->v.i64 = sign_extend(x, (unsigned)sz);
		break;
	case M40_GGUF_FLOAT32:
		v->v.f64 = float_bits((uint32_t)x);
		break;
	case M40_GGUF_FLOAT64:
		v->v.f64 = double_bits(x);
		break;
	case M40_GGUF_BOOL:
		if (x > 1)
			return fail(r, M40_E_FORMAT, at, _("bool value %u is neither 0 nor 1"),
				(unsigned)x);
		/* fall through */
	default:
		v->v.u64 = x;
		break;
	}
	return M40_OK;
}

static bool
is_integer_type(enum m40_gguf_type t)
{
	return t != M40_GGUF_BOOL && t != M40_GGUF_FLOAT32 && t != M40_GGUF_FLOAT64 &&
		m40i_gguf_scalar_size(t) != 0;
}

static bool
is_signed_type(enum m40_gguf_type t)
{
	return t == M40_GGUF_INT8 || t == M40_GGUF_INT16 || t == M40_GGUF_INT32 ||
		t == M40_GGUF_INT64;
}

static char *
arena_strdup(struct m40_gguf *g, const char *s, uint64_t len)
{
	char *c = arena_alloc(&g->arena, (size_t)len + 1);

	if (c != NULL) {
		memcpy(c, s, (size_t)len);
		c[len] = '\0';
	}
	return c;
}

static m40_status
check_alignment(struct reader *r, struct m40_gguf *g, const m40_gguf_value *v, uint64_t at)
{
	uint64_t a;

	if (!is_integer_type(v->type))
		return fail(r, M40_E_FORMAT, at, _("general.alignment has type %s, not an integer"),
			m40_gguf_type_name(v->type));
	if (is_signed_type(v->type) && v->v.i64 < 0)
		return fail(r, M40_E_FORMAT, at, _("general.alignment %lld is negative"),
			(long long)v->v.i64);
	a = v->v.u64;
	if (a == 0 || (a & (a - 1)) != 0 || a > UINT32_MAX)
		return fail(r, M40_E_FORMAT, at,
			_("general.alignment %llu is not a power of two (up to 2^31)"),
			(unsigned long long)a);
	g->alignment = (uint32_t)a;
	return M40_OK;
}

static m40_status
parse_kvs(struct reader *r, struct m40_gguf *g)
{
	size_t i;
	m40_status st;

	for (i = 0; i < g->n_kv; i++) {
		m40_gguf_kv *kv = &g->kv[i];
		uint64_t at = r->off, len, vat;
		const char *key;
		uint32_t t;
		size_t dup;

		if ((st = rd_str(r, &key, &len, _("key"))) != M40_OK)
			return st;
		if (!m40i_gguf_name_ok(key, len))
			return fail(r, M40_E_FORMAT, at,
				_("key %zu is not 1 to %d bytes of printable UTF-8"), i,
				M40I_GGUF_MAX_NAME);
		if ((kv->key = arena_strdup(g, key, len)) == NULL)
			return fail(r, M40_E_NOMEM, at, _("no memory for key %zu"), i);
		dup = index_find(&g->kv_index, g->kv, sizeof *g->kv, kv->key);
		if (dup != SIZE_MAX)
			return fail(r, M40_E_FORMAT, at, _("duplicate key '%s' (also key %zu)"),
				kv->key, dup);
		index_add(&g->kv_index, kv->key, i);
		at = r->off;
		if ((st = rd_u32(r, &t, _("value type"))) != M40_OK)
			return st;
		if (t >= M40_GGUF_TYPE_COUNT)
			return fail(r, M40_E_FORMAT, at, _("key '%s' has unknown value type %u"),
				kv->key, t);
		vat = r->off;
		if ((st = rd_value(r, g, (enum m40_gguf_type)t, &kv->value, 0)) != M40_OK)
			return st;
		if (t == M40_GGUF_STRING) {
			g->kv_cstr[i] = arena_strdup(g, kv->value.v.str.ptr, kv->value.v.str.len);
			if (g->kv_cstr[i] == NULL)
				return fail(r, M40_E_NOMEM, vat, _("no memory for the value of '%s'"),
					kv->key);
		}
		if (strcmp(kv->key, "general.alignment") == 0 &&
		    (st = check_alignment(r, g, &kv->value, vat)) != M40_OK)
			return st;
	}
	return M40_OK;
}

/* Read one tensor's record; its offset is checked once the data section is known. */
static m40_status
parse_tensor(struct reader *r, struct m40_gguf *g, size_t i, uint64_t *offset_at)
{
	m40_gguf_tensor *t = &g->tensors[i];
	uint64_t at = r->off, len, d, nelem = 1, rows, row_bytes, blocks;
	const char *name;
	uint32_t n_dims, type, j;
	size_t dup;
	int bs;
	m40_status st;

	if ((st = rd_str(r, &name, &len, _("tensor name"))) != M40_OK)
		return st;
	if (!m40i_gguf_name_ok(name, len))
		return fail(r, M40_E_FORMAT, at,
			_("the name of tensor %zu is not 1 to %d bytes of printable UTF-8"), i,
			M40I_GGUF_MAX_NAME);
	if ((t->name = arena_strdup(g, name, len)) == NULL)
		return fail(r, M40_E_NOMEM, at, _("no memory for tensor %zu"), i);
	dup = index_find(&g->tensor_index, g->tensors, sizeof *g->tensors, t->name);
	if (dup != SIZE_MAX)
		return fail(r, M40_E_FORMAT, at, _("duplicate tensor '%s' (also tensor %zu)"),
			t->name, dup);
	index_add(&g->tensor_index, t->name, i);

	at = r->off;
	if ((st = rd_u32(r, &n_dims, _("tensor dimension count"))) != M40_OK)
		return st;
	if (n_dims < 1 || n_dims > M40_GGUF_MAX_DIMS)
		return fail(r, M40_E_FORMAT, at, _("tensor '%s' has %u dimensions (1 to %d allowed)"),
			t->name, n_dims, M40_GGUF_MAX_DIMS);
	t->n_dims = n_dims;
	for (j = 0; j < M40_GGUF_MAX_DIMS; j++)
		t->ne[j] = 1;
	for (j = 0; j < n_dims; j++) {
		at = r->off;
		if ((st = rd_uint(r, 8, &d, _("tensor dimensions"))) != M40_OK)
			return st;
		if (d == 0 || d > INT64_MAX)
			return fail(r, M40_E_FORMAT, at, _("tensor '%s': dimension %u is %llu (1 to 2^63-1 allowed)"),
				t->name, j, (unsigned long long)d);
		if (nelem > INT64_MAX / d)
			return fail(r, M40_E_FORMAT, at,
				_("tensor '%s': the element count overflows at dimension %u"),
				t->name, j);
		nelem *= d;
		t->ne[j] = (int64_t)d;
	}

	at = r->off;
	if ((st = rd_u32(r, &type, _("tensor type"))) != M40_OK)
		return st;
	bs = m40_type_block_size(type > INT32_MAX ? -1 : (int)type);
	if (bs == 0)
		return fail(r, M40_E_FORMAT, at, _("tensor '%s' has unknown type id %u"), t->name,
			type);
	t->type = (int)type;
	if ((uint64_t)t->ne[0] % (uint64_t)bs != 0)
		return fail(r, M40_E_FORMAT, at,
			_("tensor '%s': row length %lld is not a multiple of the %s block size %d"),
			t->name, (long long)t->ne[0], m40_type_name(t->type), bs);
	blocks = (uint64_t)t->ne[0] / (uint64_t)bs;
	if (blocks > UINT64_MAX / m40_type_block_bytes(t->type))
		return fail(r, M40_E_FORMAT, at, _("tensor '%s': the byte size overflows"),
			t->name);
	row_bytes = blocks * m40_type_block_bytes(t->type);
	rows = nelem / (uint64_t)t->ne[0];
	if (rows != 0 && row_bytes > UINT64_MAX / rows)
		return fail(r, M40_E_FORMAT, at, _("tensor '%s': the byte size overflows"),
			t->name);
	t->size = row_bytes * rows;

	*offset_at = r->off;
	return rd_uint(r, 8, &t->offset, _("tensor offset"));
}

static m40_status
check_tensor_data(struct reader *r, struct m40_gguf *g, m40_gguf_tensor *t, uint64_t at)
{
	uint64_t room = r->size - g->data_offset;

	if (t->offset % g->alignment != 0)
		return fail(r, M40_E_FORMAT, at,
			_("tensor '%s': offset %llu is not a multiple of the alignment %u"), t->name,
			(unsigned long long)t->offset, g->alignment);
	if (t->offset > room || t->size > room - t->offset)
		return fail(r, M40_E_FORMAT, at,
			_("tensor '%s': %llu bytes at offset %llu of the data section (byte %llu) run "
			  "beyond the end of the file (%llu bytes)"),
			t->name, (unsigned long long)t->size, (unsigned long long)t->offset,
			(unsigned long long)g->data_offset, (unsigned long long)r->size);
	t->data = r->p + g->data_offset + t->offset;
	return M40_OK;
}

static m40_status
parse_header(struct reader *r, struct m40_gguf *g)
{
	uint64_t n_tensors, n_kv, *offset_at;
	size_t i;
	m40_status st;

	if (r->size < 4)
		return fail(r, M40_E_FORMAT, 0, _("only %llu bytes, too short for a GGUF file"),
			(unsigned long long)r->size);
	if (memcmp(r->p, M40I_GGUF_MAGIC, 4) != 0)
		return fail(r, M40_E_FORMAT, 0,
			_("not a GGUF file (magic %02x %02x %02x %02x, expected \"GGUF\")"),
			r->p[0], r->p[1], r->p[2], r->p[3]);
	r->off = 4;
	if ((st = rd_u32(r, &g->version, _("version"))) != M40_OK)
		return st;
	if (g->version == 1)
		return fail(r, M40_E_UNSUPPORTED, 4,
			_("GGUF version 1 is not supported (convert the file to version 3)"));
	if (g->version != 2 && g->version != 3) {
		if ((g->version & 0xffff) == 0 && (g->version >> 24) >= 1 && (g->version >> 24) <= 3)
			return fail(r, M40_E_UNSUPPORTED, 4,
				_("big-endian GGUF files are not supported"));
		return fail(r, M40_E_UNSUPPORTED, 4,
			_("unsupported GGUF version %u (versions 2 and 3 are read)"), g->version);
	}
	if ((st = rd_uint(r, 8, &n_tensors, _("tensor count"))) != M40_OK ||
	    (st = rd_uint(r, 8, &n_kv, _("key-value count"))) != M40_OK)
		return st;
	if (n_kv > left(r) / MIN_KV_BYTES)
		return fail(r, M40_E_FORMAT, 16,
			_("%llu key-value pairs cannot fit in the file (%llu bytes)"),
			(unsigned long long)n_kv, (unsigned long long)r->size);
	if (n_tensors > left(r) / MIN_TENSOR_BYTES ||
	    n_kv * MIN_KV_BYTES + n_tensors * MIN_TENSOR_BYTES > left(r))
		return fail(r, M40_E_FORMAT, 8, _("%llu tensors cannot fit in the file (%llu bytes)"),
			(unsigned long long)n_tensors, (unsigned long long)r->size);
	g->n_kv = (size_t)n_kv;
	g->n_tensors = (size_t)n_tensors;

	g->kv = arena_alloc(&g->arena, g->n_kv * sizeof *g->kv);
	g->kv_cstr = arena_alloc(&g->arena, g->n_kv * sizeof *g->kv_cstr);
	g->tensors = arena_alloc(&g->arena, g->n_tensors * sizeof *g->tensors);
	offset_at = arena_alloc(&g->arena, g->n_tensors * sizeof *offset_at);
	if (g->kv == NULL || g->kv_cstr == NULL || g->tensors == NULL || offset_at == NULL ||
	    !index_init(&g->arena, &g->kv_index, g->n_kv) ||
	    !index_init(&g->arena, &g->tensor_index, g->n_tensors))
		return fail(r, M40_E_NOMEM, 8, _("no memory for %llu tensors and %llu keys"),
			(unsigned long long)n_tensors, (unsigned long long)n_kv);
	memset(g->kv_cstr, 0, g->n_kv * sizeof *g->kv_cstr);
	memset(g->tensors, 0, g->n_tensors * sizeof *g->tensors);

	g->alignment = M40_GGUF_DEFAULT_ALIGNMENT;
	if ((st = parse_kvs(r, g)) != M40_OK)
		return st;
	for (i = 0; i < g->n_tensors; i++)
		if ((st = parse_tensor(r, g, i, &offset_at[i])) != M40_OK)
			return st;

	/* r->off <= size, and alignment <= 2^31: no overflow */
	g->data_offset = (r->off + g->alignment - 1) / g->alignment * g->alignment;
	if (g->n_tensors == 0) {
		/* vocabulary-only files may end without the padding */
		if (g->data_offset > r->size)
			g->data_offset = r->size;
		return M40_OK;
	}
	if (g->data_offset > r->size)
		return fail(r, M40_E_FORMAT, r->off,
			_("the data section (aligned to %u) starts at byte %llu, past the end of the "
			  "file (%llu bytes)"),
			g->alignment, (unsigned long long)g->data_offset, (unsigned long long)r->size);
	for (i = 0; i < g->n_tensors; i++)
		if ((st = check_tensor_data(r, g, &g->tensors[i], offset_at[i])) != M40_OK)
			return st;
	return M40_OK;
}

static m40_status
open_bytes(const void *data, uint64_t size, const char *name, void *map, size_t map_size,
	m40_gguf **out, m40_error *err)
{
	struct reader r = { data, size, 0, name, err };
	struct m40_gguf *g;
	m40_status st;

	g = calloc(1, sizeof *g);
	if (g == NULL) {
		if (map != NULL)
			munmap(map, map_size);
		return m40_error_set(err, M40_E_NOMEM, _("%s: out of memory"), name);
	}
	g->base = data;
	g->size = size;
	g->map = map;
	g->map_size = map_size;
	if ((st = parse_header(&r, g)) != M40_OK) {
		m40_gguf_close(g);
		return st;
	}
	*out = g;
	return M40_OK;
}

m40_status
m40_gguf_open_memory(const void *data, size_t size, m40_gguf **out, m40_error *err)
{
	static const unsigned char empty[1];

	if (out == NULL || (data == NULL && size != 0))
		return m40_error_set(err, M40_E_INVALID, _("m40_gguf_open_memory: no buffer"));
	*out = NULL;
	return open_bytes(data != NULL ? data : empty, size, _("GGUF buffer"), NULL, 0, out, err);
}

m40_status
m40_gguf_open(const char *path, m40_gguf **out, m40_error *err)
{
	static const unsigned char empty[1];
	struct stat st;
	void *map = NULL;
	int fd, e;

	if (out == NULL || path == NULL)
		return m40_error_set(err, M40_E_INVALID, _("m40_gguf_open: no file name"));
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return m40_error_set(err, errno == ENOENT ? M40_E_NOTFOUND : M40_E_IO, "%s: %s",
			path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		e = errno;
		close(fd);
		return m40_error_set(err, M40_E_IO, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return m40_error_set(err, M40_E_IO, _("%s: not a regular file"), path);
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		return m40_error_set(err, M40_E_RANGE, _("%s: too large to map"), path);
	}
	if (st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			e = errno;
			close(fd);
			return m40_error_set(err, M40_E_IO, _("%s: cannot map: %s"), path,
				strerror(e));
		}
	}
	close(fd);
	return open_bytes(map != NULL ? map : empty, (uint64_t)st.st_size, path, map,
		(size_t)st.st_size, out, err);
}

void
m40_gguf_close(m40_gguf *g)
{
	if (g == NULL)
		return;
	if (g->map != NULL)
		munmap(g->map, g->map_size);
	arena_free(g->arena);
	free(g);
}

/* ---- getters ----------------------------------------------------------- */

uint32_t
m40_gguf_version(const m40_gguf *g)
{
	return g->version;
}

uint64_t
m40_gguf_file_size(const m40_gguf *g)
{
	return g->size;
}

uint32_t
m40_gguf_alignment(const m40_gguf *g)
{
	return g->alignment;
}

uint64_t
m40_gguf_data_offset(const m40_gguf *g)
{
	return g->data_offset;
}

size_t
m40_gguf_n_kv(const m40_gguf *g)
{
	return g->n_kv;
}

const m40_gguf_kv *
m40_gguf_kv_at(const m40_gguf *g, size_t i)
{
	return i < g->n_kv ? &g->kv[i] : NULL;
}

static size_t
kv_index(const m40_gguf *g, const char *key)
{
	if (g == NULL || key == NULL)
		return SIZE_MAX;
	return index_find(&g->kv_index, g->kv, sizeof *g->kv, key);
}

const m40_gguf_value *
m40_gguf_get(const m40_gguf *g, const char *key)
{
	size_t i = kv_index(g, key);

	return i != SIZE_MAX ? &g->kv[i].value : NULL;
}

/* An integer value as int64, when it is one and fits. */
static bool
value_int(const m40_gguf_value *v, int64_t *out)
{
	if (!is_integer_type(v->type))
		return false;
	if (is_signed_type(v->type)) {
		*out = v->v.i64;
		return true;
	}
	if (v->v.u64 > INT64_MAX)
		return false;
	*out = (int64_t)v->v.u64;
	return true;
}

bool
m40_gguf_get_int(const m40_gguf *g, const char *key, int64_t *out)
{
	const m40_gguf_value *v = m40_gguf_get(g, key);
	int64_t x;

	if (v == NULL || !value_int(v, &x))
		return false;
	if (out != NULL)
		*out = x;
	return true;
}

bool
m40_gguf_get_float(const m40_gguf *g, const char *key, double *out)
{
	const m40_gguf_value *v = m40_gguf_get(g, key);
	double x;

	if (v == NULL)
		return false;
	if (v->type == M40_GGUF_FLOAT32 || v->type == M40_GGUF_FLOAT64)
		x = v->v.f64;
	else if (is_signed_type(v->type))
		x = (double)v->v.i64;
	else if (is_integer_type(v->type))
		x = (double)v->v.u64;
	else
		return false;
	if (out != NULL)
		*out = x;
	return true;
}

bool
m40_gguf_get_bool(const m40_gguf *g, const char *key, bool *out)
{
	const m40_gguf_value *v = m40_gguf_get(g, key);

	if (v == NULL || v->type != M40_GGUF_BOOL)
		return false;
	if (out != NULL)
		*out = v->v.u64 != 0;
	return true;
}

const char *
m40_gguf_get_str(const m40_gguf *g, const char *key)
{
	size_t i = kv_index(g, key);

	return i != SIZE_MAX ? g->kv_cstr[i] : NULL;
}

/* Element i of a numeric array, widened; false for other arrays or i out of range. */
static bool
arr_elem(const m40_gguf_value *a, uint64_t i, m40_gguf_value *out)
{
	size_t sz;
	uint64_t x;

	if (a == NULL || a->type != M40_GGUF_ARRAY || i >= a->v.arr.n)
		return false;
	sz = m40i_gguf_scalar_size(a->v.arr.type);
	if (sz == 0)
		return false;
	x = le((const unsigned char *)a->v.arr.data + i * sz, (unsigned)sz);
	out->type = a->v.arr.type;
	switch (a->v.arr.type) {
	case M40_GGUF_FLOAT32:
		out->v.f64 = float_bits((uint32_t)x);
		break;
	case M40_GGUF_FLOAT64:
		out->v.f64 = double_bits(x);
		break;
	default:
		if (is_signed_type(a->v.arr.type))
			out->v.i64 = sign_extend(x, (unsigned)sz);
		else
			out->v.u64 = x;
		break;
	}
	return true;
}

int64_t
m40_gguf_arr_int(const m40_gguf_value *arr, uint64_t i)
{
	m40_gguf_value e;

	if (!arr_elem(arr, i, &e))
		return 0;
	if (e.type == M40_GGUF_FLOAT32 || e.type == M40_GGUF_FLOAT64)
		return e.v.f64 >= -9.2e18 && e.v.f64 <= 9.2e18 ? (int64_t)e.v.f64 : 0;
	return e.v.i64; /* unsigned values above INT64_MAX wrap */
}

double
m40_gguf_arr_float(const m40_gguf_value *arr, uint64_t i)
{
	m40_gguf_value e;

	if (!arr_elem(arr, i, &e))
		return 0.0;
	if (e.type == M40_GGUF_FLOAT32 || e.type == M40_GGUF_FLOAT64)
		return e.v.f64;
	if (is_signed_type(e.type))
		return (double)e.v.i64;
	return (double)e.v.u64;
}

const char *
m40_gguf_arr_str(const m40_gguf_value *arr, uint64_t i, uint64_t *len)
{
	const m40_gguf_value *e;

	if (arr == NULL || arr->type != M40_GGUF_ARRAY || arr->v.arr.type != M40_GGUF_STRING ||
	    i >= arr->v.arr.n)
		return NULL;
	e = &arr->v.arr.items[i];
	if (len != NULL)
		*len = e->v.str.len;
	return e->v.str.ptr;
}

size_t
m40_gguf_n_tensors(const m40_gguf *g)
{
	return g->n_tensors;
}

const m40_gguf_tensor *
m40_gguf_tensor_at(const m40_gguf *g, size_t i)
{
	return i < g->n_tensors ? &g->tensors[i] : NULL;
}

const m40_gguf_tensor *
m40_gguf_find_tensor(const m40_gguf *g, const char *name)
{
	size_t i;

	if (g == NULL || name == NULL)
		return NULL;
	i = index_find(&g->tensor_index, g->tensors, sizeof *g->tensors, name);
	return i != SIZE_MAX ? &g->tensors[i] : NULL;
}

const char *
m40_gguf_type_name(enum m40_gguf_type t)
{
	static const char *const names[M40_GGUF_TYPE_COUNT] = {
		"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
		"bool", "string", "array", "uint64", "int64", "float64",
	};

	if ((unsigned)t >= M40_GGUF_TYPE_COUNT)
		return "unknown";
	return names[t];
}
