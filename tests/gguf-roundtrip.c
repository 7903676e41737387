/* gguf-roundtrip.c: write every metadata type and every tensor type, read it back, compare.
 * Both GGUF versions, through memory and through a file. */
#include <config.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <m40/m40.h>

#include "check.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
fill(void *p, size_t n)
{
	unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)next();
}

/* ---- expected metadata ------------------------------------------------- */

#define MAX_KV 128

struct expect {
	char key[64];
	m40_gguf_value v;
};

static struct expect want[MAX_KV];
static size_t n_want;
/* storage the expected values point into, freed at exit */
static void *owned[4096];
static size_t n_owned;

static void *
keep(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (p == NULL || n_owned == sizeof owned / sizeof owned[0]) {
		fprintf(stderr, "out of memory\n");
		exit(99);
	}
	owned[n_owned++] = p;
	return p;
}

static void
expect(const char *key, const m40_gguf_value *v)
{
	if (n_want == MAX_KV)
		exit(99);
	snprintf(want[n_want].key, sizeof want[n_want].key, "%s", key);
	want[n_want].v = *v;
	n_want++;
}

static size_t
elem_size(enum m40_gguf_type t)
{
	static const size_t sz[] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };

	return sz[t];
}

/* A numeric array of n random elements (bools 0/1, floats finite). */
static m40_gguf_value
num_array(enum m40_gguf_type t, uint64_t n)
{
	m40_gguf_value v = { .type = M40_GGUF_ARRAY };
	size_t sz = elem_size(t);
	unsigned char *d = keep((size_t)n * sz);
	uint64_t i;

	for (i = 0; i < n; i++) {
		if (t == M40_GGUF_BOOL) {
			d[i] = next() & 1;
		} else if (t == M40_GGUF_FLOAT32) {
			float f = (float)((int64_t)(next() % 2000001) - 1000000) / 1024.0f;
			memcpy(d + 4 * i, &f, 4); /* little-endian host assumed by the test */
		} else if (t == M40_GGUF_FLOAT64) {
			double x = (double)(int64_t)next() / 3.0;
			memcpy(d + 8 * i, &x, 8);
		} else {
			fill(d + sz * i, sz);
		}
	}
	v.v.arr.type = t;
	v.v.arr.n = n;
	v.v.arr.data = d;
	return v;
}

static m40_gguf_value
str_value(const char *s, size_t len)
{
	m40_gguf_value v = { .type = M40_GGUF_STRING };
	char *c = keep(len + 1);

	memcpy(c, s, len);
	v.v.str.ptr = c;
	v.v.str.len = len;
	return v;
}

static m40_gguf_value
item_array(enum m40_gguf_type t, m40_gguf_value *items, uint64_t n)
{
	m40_gguf_value v = { .type = M40_GGUF_ARRAY };

	v.v.arr.type = t;
	v.v.arr.n = n;
	v.v.arr.items = items;
	return v;
}

/* Nest an array of two int16 `depth` levels deep. */
static m40_gguf_value
deep(int depth)
{
	m40_gguf_value *inner;

	if (depth == 1)
		return num_array(M40_GGUF_INT16, 2);
	inner = keep(sizeof *inner);
	*inner = deep(depth - 1);
	return item_array(M40_GGUF_ARRAY, inner, 1);
}

static void
put(m40_gguf_writer *w, const char *key, m40_gguf_value v)
{
	m40_status st = m40_gguf_set_value(w, key, &v);

	CHECK(st == M40_OK, "set_value %s: %s", key, m40_strerror(st));
	expect(key, &v);
}

static void
build_metadata(m40_gguf_writer *w)
{
	static const char utf8[] = "Gr\xc3\xbc\xc3\x9f" "e, \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\xa6\x99";
	static const char *const strs[] = { "", "a", utf8, "\xe2\x96\x81the", "<|endoftext|>" };
	m40_gguf_value v, *items, *items2;
	int t, i;
	char key[64];

	/* scalars through the typed setters, at their extremes */
	CHECK(m40_gguf_set_u8(w, "s.u8", 255) == M40_OK, "set_u8");
	v = (m40_gguf_value){ .type = M40_GGUF_UINT8, .v.u64 = 255 };
	expect("s.u8", &v);
	CHECK(m40_gguf_set_i8(w, "s.i8", -128) == M40_OK, "set_i8");
	v = (m40_gguf_value){ .type = M40_GGUF_INT8, .v.i64 = -128 };
	expect("s.i8", &v);
	CHECK(m40_gguf_set_u16(w, "s.u16", 65535) == M40_OK, "set_u16");
	v = (m40_gguf_value){ .type = M40_GGUF_UINT16, .v.u64 = 65535 };
	expect("s.u16", &v);
	CHECK(m40_gguf_set_i16(w, "s.i16", -32768) == M40_OK, "set_i16");
	v = (m40_gguf_value){ .type = M40_GGUF_INT16, .v.i64 = -32768 };
	expect("s.i16", &v);
	CHECK(m40_gguf_set_u32(w, "s.u32", 4294967295u) == M40_OK, "set_u32");
	v = (m40_gguf_value){ .type = M40_GGUF_UINT32, .v.u64 = 4294967295u };
	expect("s.u32", &v);
	CHECK(m40_gguf_set_i32(w, "s.i32", INT32_MIN) == M40_OK, "set_i32");
	v = (m40_gguf_value){ .type = M40_GGUF_INT32, .v.i64 = INT32_MIN };
	expect("s.i32", &v);
	CHECK(m40_gguf_set_u64(w, "s.u64", UINT64_MAX) == M40_OK, "set_u64");
	v = (m40_gguf_value){ .type = M40_GGUF_UINT64, .v.u64 = UINT64_MAX };
	expect("s.u64", &v);
	CHECK(m40_gguf_set_i64(w, "s.i64", INT64_MIN) == M40_OK, "set_i64");
	v = (m40_gguf_value){ .type = M40_GGUF_INT64, .v.i64 = INT64_MIN };
	expect("s.i64", &v);
	CHECK(m40_gguf_set_f32(w, "s.f32", -1.5e-7f) == M40_OK, "set_f32");
	v = (m40_gguf_value){ .type = M40_GGUF_FLOAT32, .v.f64 = -1.5e-7f };
	expect("s.f32", &v);
	CHECK(m40_gguf_set_f32(w, "s.f32inf", INFINITY) == M40_OK, "set_f32 inf");
	v = (m40_gguf_value){ .type = M40_GGUF_FLOAT32, .v.f64 = INFINITY };
	expect("s.f32inf", &v);
	CHECK(m40_gguf_set_f64(w, "s.f64", 3.141592653589793) == M40_OK, "set_f64");
	v = (m40_gguf_value){ .type = M40_GGUF_FLOAT64, .v.f64 = 3.141592653589793 };
	expect("s.f64", &v);
	CHECK(m40_gguf_set_bool(w, "s.true", true) == M40_OK, "set_bool");
	v = (m40_gguf_value){ .type = M40_GGUF_BOOL, .v.u64 = 1 };
	expect("s.true", &v);
	CHECK(m40_gguf_set_bool(w, "s.false", false) == M40_OK, "set_bool");
	v = (m40_gguf_value){ .type = M40_GGUF_BOOL, .v.u64 = 0 };
	expect("s.false", &v);
	CHECK(m40_gguf_set_str(w, "s.empty", "") == M40_OK, "set_str");
	v = str_value("", 0);
	expect("s.empty", &v);
	CHECK(m40_gguf_set_str(w, "s.utf8", utf8) == M40_OK, "set_str");
	v = str_value(utf8, strlen(utf8));
	expect("s.utf8", &v);
	/* a string with a NUL inside survives as bytes */
	put(w, "s.nul", str_value("a\0b", 3));
	/* a UTF-8 key */
	put(w, "s.\xc3\xa9t\xc3\xa9", str_value("summer", 6));

	/* replacing a key keeps one entry, with the new value */
	CHECK(m40_gguf_set_u32(w, "s.replaced", 1) == M40_OK, "set_u32");
	CHECK(m40_gguf_set_str(w, "s.replaced", "second") == M40_OK, "replace");
	v = str_value("second", 6);
	expect("s.replaced", &v);

	/* numeric arrays of each type, empty and not */
	for (t = 0; t < M40_GGUF_TYPE_COUNT; t++) {
		if (t == M40_GGUF_STRING || t == M40_GGUF_ARRAY)
			continue;
		snprintf(key, sizeof key, "a.%s", m40_gguf_type_name(t));
		put(w, key, num_array(t, 3 + next() % 29));
		snprintf(key, sizeof key, "a.%s.empty", m40_gguf_type_name(t));
		put(w, key, num_array(t, 0));
	}
	/* through the typed array setters */
	v = num_array(M40_GGUF_INT32, 7);
	CHECK(m40_gguf_set_arr(w, "a.set_arr", M40_GGUF_INT32, v.v.arr.data, 7) == M40_OK, "set_arr");
	expect("a.set_arr", &v);
	CHECK(m40_gguf_set_arr_str(w, "a.set_arr_str", strs, 5) == M40_OK, "set_arr_str");
	items = keep(5 * sizeof *items);
	for (i = 0; i < 5; i++)
		items[i] = str_value(strs[i], strlen(strs[i]));
	v = item_array(M40_GGUF_STRING, items, 5);
	expect("a.set_arr_str", &v);
	put(w, "a.string.empty", item_array(M40_GGUF_STRING, NULL, 0));
	put(w, "a.array.empty", item_array(M40_GGUF_ARRAY, NULL, 0));

	/* nested: arrays of arrays of each numeric type (ragged, one empty) */
	items = keep(4 * sizeof *items);
	items[0] = num_array(M40_GGUF_INT32, 5);
	items[1] = num_array(M40_GGUF_INT32, 0);
	items[2] = num_array(M40_GGUF_FLOAT32, 3);
	items[3] = num_array(M40_GGUF_UINT64, 2);
	put(w, "n.mixed", item_array(M40_GGUF_ARRAY, items, 4));
	/* arrays of arrays of strings */
	items = keep(3 * sizeof *items);
	for (i = 0; i < 3; i++) {
		int j, k = i + 1;
		items2 = keep((size_t)k * sizeof *items2);
		for (j = 0; j < k; j++)
			items2[j] = str_value(strs[(i + j) % 5], strlen(strs[(i + j) % 5]));
		items[i] = item_array(M40_GGUF_STRING, items2, (uint64_t)k);
	}
	put(w, "n.strings", item_array(M40_GGUF_ARRAY, items, 3));
	/* as deep as the format allows */
	put(w, "n.deep16", deep(16));

	/* the writer refuses what the reader would refuse */
	v = deep(17);
	CHECK(m40_gguf_set_value(w, "n.deep17", &v) == M40_E_INVALID, "17 levels accepted");
	v = (m40_gguf_value){ .type = M40_GGUF_UINT8, .v.u64 = 256 };
	CHECK(m40_gguf_set_value(w, "bad.u8", &v) != M40_OK, "u8 256 accepted");
	v = (m40_gguf_value){ .type = M40_GGUF_INT16, .v.i64 = -40000 };
	CHECK(m40_gguf_set_value(w, "bad.i16", &v) != M40_OK, "i16 -40000 accepted");
	v = (m40_gguf_value){ .type = M40_GGUF_BOOL, .v.u64 = 2 };
	CHECK(m40_gguf_set_value(w, "bad.bool", &v) != M40_OK, "bool 2 accepted");
	v = (m40_gguf_value){ .type = (enum m40_gguf_type)13 };
	CHECK(m40_gguf_set_value(w, "bad.type", &v) == M40_E_INVALID, "type 13 accepted");
	items = keep(2 * sizeof *items);
	items[0] = str_value("x", 1);
	items[1] = num_array(M40_GGUF_INT8, 1);
	v = item_array(M40_GGUF_STRING, items, 2);
	CHECK(m40_gguf_set_value(w, "bad.mixed", &v) == M40_E_INVALID, "mixed items accepted");
	CHECK(m40_gguf_set_u8(w, "", 1) == M40_E_INVALID, "empty key accepted");
	CHECK(m40_gguf_set_u8(w, "bad\nkey", 1) == M40_E_INVALID, "control char key accepted");
	CHECK(m40_gguf_set_u8(w, "bad\xff", 1) == M40_E_INVALID, "invalid UTF-8 key accepted");
	CHECK(m40_gguf_set_arr(w, "bad.arr", M40_GGUF_STRING, strs, 1) == M40_E_INVALID,
		"set_arr of strings accepted");
}

/* ---- tensors ----------------------------------------------------------- */

#define MAX_T 64

struct texpect {
	char name[64];
	int type;
	uint32_t n_dims;
	int64_t ne[4];
	unsigned char *data;
	size_t size;
};

static struct texpect twant[MAX_T];
static size_t n_twant;

static void
build_tensors(m40_gguf_writer *w)
{
	int type;
	uint32_t j;
	unsigned char junk[64];
	int64_t ne[4];

	for (type = 0; type < M40_TYPE_COUNT; type++) {
		struct texpect *t;
		int64_t rows = 1;

		if (m40_type_name(type) == NULL)
			continue;
		t = &twant[n_twant++];
		snprintf(t->name, sizeof t->name, "blk.%d.%s.weight", type, m40_type_name(type));
		t->type = type;
		t->n_dims = 1 + (uint32_t)(next() % 4);
		t->ne[0] = m40_type_block_size(type) * (int64_t)(1 + next() % 3);
		if (m40_type_block_size(type) == 1)
			t->ne[0] += 2; /* odd row lengths for plain types */
		for (j = 1; j < 4; j++) {
			t->ne[j] = j < t->n_dims ? (int64_t)(1 + next() % 3) : 1;
			rows *= t->ne[j];
		}
		t->size = m40_type_row_bytes(type, t->ne[0]) * (size_t)rows;
		t->data = keep(t->size);
		fill(t->data, t->size);
		CHECK(m40_gguf_add_tensor(w, t->name, type, t->n_dims, t->ne, t->data, t->size) == M40_OK,
			"add_tensor %s", t->name);
	}
	/* a non-ASCII name, and a tensor one byte long */
	{
		struct texpect *t = &twant[n_twant++];
		snprintf(t->name, sizeof t->name, "\xce\xb8.bias");
		t->type = M40_TYPE_I8;
		t->n_dims = 1;
		t->ne[0] = 1;
		t->ne[1] = t->ne[2] = t->ne[3] = 1;
		t->size = 1;
		t->data = keep(1);
		t->data[0] = 0xa5;
		CHECK(m40_gguf_add_tensor(w, t->name, t->type, 1, t->ne, t->data, 1) == M40_OK,
			"add_tensor theta");
	}

	/* refused tensors */
	fill(junk, sizeof junk);
	ne[0] = 32;
	ne[1] = 1;
	CHECK(m40_gguf_add_tensor(w, twant[0].name, M40_TYPE_Q8_0, 1, ne, junk, 34) == M40_E_INVALID,
		"duplicate tensor accepted");
	CHECK(m40_gguf_add_tensor(w, "x.size", M40_TYPE_Q8_0, 1, ne, junk, 33) == M40_E_INVALID,
		"wrong size accepted");
	CHECK(m40_gguf_add_tensor(w, "x.type", 4, 1, ne, junk, 18) == M40_E_INVALID,
		"retired type 4 accepted");
	CHECK(m40_gguf_add_tensor(w, "x.type", M40_TYPE_COUNT, 1, ne, junk, 18) == M40_E_INVALID,
		"type 40 accepted");
	ne[0] = 16;
	CHECK(m40_gguf_add_tensor(w, "x.block", M40_TYPE_Q8_0, 1, ne, junk, 17) == M40_E_INVALID,
		"partial block accepted");
	ne[0] = 0;
	CHECK(m40_gguf_add_tensor(w, "x.zero", M40_TYPE_F32, 1, ne, junk, 0) == M40_E_INVALID,
		"zero dimension accepted");
	ne[0] = 4;
	CHECK(m40_gguf_add_tensor(w, "x.dims", M40_TYPE_F32, 5, ne, junk, 16) == M40_E_INVALID,
		"5 dims accepted");
	CHECK(m40_gguf_add_tensor(w, "x.dims", M40_TYPE_F32, 0, ne, junk, 16) == M40_E_INVALID,
		"0 dims accepted");
}

/* ---- comparison --------------------------------------------------------- */

static bool
same_value(const m40_gguf_value *a, const m40_gguf_value *b)
{
	uint64_t i;
	size_t sz;

	if (a->type != b->type)
		return false;
	switch (a->type) {
	case M40_GGUF_STRING:
		return a->v.str.len == b->v.str.len &&
			(a->v.str.len == 0 || memcmp(a->v.str.ptr, b->v.str.ptr, a->v.str.len) == 0);
	case M40_GGUF_ARRAY:
		if (a->v.arr.type != b->v.arr.type || a->v.arr.n != b->v.arr.n)
			return false;
		sz = elem_size(a->v.arr.type);
		if (sz != 0)
			return a->v.arr.n == 0 ||
				memcmp(a->v.arr.data, b->v.arr.data, (size_t)a->v.arr.n * sz) == 0;
		for (i = 0; i < a->v.arr.n; i++)
			if (!same_value(&a->v.arr.items[i], &b->v.arr.items[i]))
				return false;
		return true;
	case M40_GGUF_FLOAT32:
		return (float)a->v.f64 == (float)b->v.f64;
	case M40_GGUF_FLOAT64:
		return memcmp(&a->v.f64, &b->v.f64, sizeof(double)) == 0;
	case M40_GGUF_INT8:
	case M40_GGUF_INT16:
	case M40_GGUF_INT32:
	case M40_GGUF_INT64:
		return a->v.i64 == b->v.i64;
	default:
		return a->v.u64 == b->v.u64;
	}
}

static void
compare(const m40_gguf *g, uint32_t version, uint32_t alignment, const char *how)
{
	size_t i, n_extra = alignment != M40_GGUF_DEFAULT_ALIGNMENT;
	int64_t iv;
	double fv;
	bool bv;
	uint64_t len;
	const char *s;

	printf("%s: version %u, %zu keys, %zu tensors, alignment %u, data at %llu, %llu bytes\n", how,
		m40_gguf_version(g), m40_gguf_n_kv(g), m40_gguf_n_tensors(g), m40_gguf_alignment(g),
		(unsigned long long)m40_gguf_data_offset(g), (unsigned long long)m40_gguf_file_size(g));
	CHECK(m40_gguf_version(g) == version, "%s: version %u", how, m40_gguf_version(g));
	CHECK(m40_gguf_alignment(g) == alignment, "%s: alignment %u", how, m40_gguf_alignment(g));
	CHECK(m40_gguf_data_offset(g) % alignment == 0, "%s: data offset unaligned", how);
	CHECK(m40_gguf_n_kv(g) == n_want + n_extra, "%s: %zu keys, wrote %zu", how, m40_gguf_n_kv(g),
		n_want + n_extra);
	for (i = 0; i < n_want; i++) {
		const m40_gguf_value *got = m40_gguf_get(g, want[i].key);
		CHECK(got != NULL, "%s: key %s missing", how, want[i].key);
		if (got != NULL)
			CHECK(same_value(&want[i].v, got), "%s: key %s differs", how, want[i].key);
	}
	/* keys come back in the order they were first set */
	for (i = 0; i < n_want && i < m40_gguf_n_kv(g); i++)
		CHECK(strcmp(m40_gguf_kv_at(g, i)->key, want[i].key) == 0, "%s: key %zu is %s", how, i,
			m40_gguf_kv_at(g, i)->key);
	CHECK(m40_gguf_kv_at(g, m40_gguf_n_kv(g)) == NULL, "%s: kv_at past the end", how);
	CHECK(m40_gguf_get(g, "no.such.key") == NULL, "%s: missing key found", how);

	/* typed getters and conversions */
	CHECK(m40_gguf_get_int(g, "s.i8", &iv) && iv == -128, "%s: get_int i8", how);
	CHECK(m40_gguf_get_int(g, "s.u32", &iv) && iv == 4294967295LL, "%s: get_int u32", how);
	CHECK(!m40_gguf_get_int(g, "s.u64", &iv), "%s: get_int of UINT64_MAX fits?", how);
	CHECK(!m40_gguf_get_int(g, "s.f64", &iv), "%s: get_int of a float", how);
	CHECK(!m40_gguf_get_int(g, "s.true", &iv), "%s: get_int of a bool", how);
	CHECK(m40_gguf_get_float(g, "s.f64", &fv) && fv == 3.141592653589793, "%s: get_float", how);
	CHECK(m40_gguf_get_float(g, "s.f32", &fv) && (float)fv == -1.5e-7f, "%s: get_float f32", how);
	CHECK(m40_gguf_get_float(g, "s.i16", &fv) && fv == -32768.0, "%s: get_float of int", how);
	CHECK(!m40_gguf_get_float(g, "s.utf8", &fv), "%s: get_float of a string", how);
	CHECK(m40_gguf_get_bool(g, "s.true", &bv) && bv, "%s: get_bool", how);
	CHECK(m40_gguf_get_bool(g, "s.false", &bv) && !bv, "%s: get_bool false", how);
	CHECK(!m40_gguf_get_bool(g, "s.u8", &bv), "%s: get_bool of an int", how);
	s = m40_gguf_get_str(g, "s.utf8");
	CHECK(s != NULL && strcmp(s, "Gr\xc3\xbc\xc3\x9f" "e, \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\xa6\x99") == 0,
		"%s: get_str utf8", how);
	s = m40_gguf_get_str(g, "s.empty");
	CHECK(s != NULL && *s == '\0', "%s: get_str empty", how);
	CHECK(m40_gguf_get_str(g, "s.u8") == NULL, "%s: get_str of an int", how);
	CHECK(m40_gguf_get_str(g, "no.such.key") == NULL, "%s: get_str missing", how);

	/* array helpers */
	{
		const m40_gguf_value *a = m40_gguf_get(g, "a.int16");
		int16_t e = 0;
		float f;
		if (a != NULL) {
			const m40_gguf_value *w16 = NULL;
			for (i = 0; i < n_want; i++)
				if (strcmp(want[i].key, "a.int16") == 0)
					w16 = &want[i].v;
			memcpy(&e, (const char *)w16->v.arr.data + 2, 2);
			CHECK(m40_gguf_arr_int(a, 1) == e, "%s: arr_int int16", how);
			CHECK(m40_gguf_arr_float(a, 1) == (double)e, "%s: arr_float int16", how);
			CHECK(m40_gguf_arr_int(a, a->v.arr.n) == 0, "%s: arr_int past the end", how);
		}
		a = m40_gguf_get(g, "a.float32");
		if (a != NULL) {
			memcpy(&f, a->v.arr.data, 4);
			CHECK(m40_gguf_arr_float(a, 0) == (double)f, "%s: arr_float float32", how);
		}
		a = m40_gguf_get(g, "a.set_arr_str");
		CHECK(a != NULL && m40_gguf_arr_str(a, 3, &len) != NULL && len == 6 &&
			memcmp(m40_gguf_arr_str(a, 3, &len), "\xe2\x96\x81the", 6) == 0,
			"%s: arr_str", how);
		CHECK(a != NULL && m40_gguf_arr_str(a, 5, &len) == NULL, "%s: arr_str past the end", how);
		CHECK(m40_gguf_arr_str(m40_gguf_get(g, "a.int16"), 0, &len) == NULL,
			"%s: arr_str of ints", how);
	}

	/* tensors */
	CHECK(m40_gguf_n_tensors(g) == n_twant, "%s: %zu tensors, wrote %zu", how,
		m40_gguf_n_tensors(g), n_twant);
	for (i = 0; i < n_twant && i < m40_gguf_n_tensors(g); i++) {
		const m40_gguf_tensor *t = m40_gguf_tensor_at(g, i);
		const struct texpect *e = &twant[i];
		CHECK(strcmp(t->name, e->name) == 0, "%s: tensor %zu is %s", how, i, t->name);
		CHECK(m40_gguf_find_tensor(g, e->name) == t, "%s: find_tensor %s", how, e->name);
		CHECK(t->type == e->type && t->n_dims == e->n_dims && t->ne[0] == e->ne[0] &&
			t->ne[1] == e->ne[1] && t->ne[2] == e->ne[2] && t->ne[3] == e->ne[3],
			"%s: tensor %s shape/type", how, e->name);
		CHECK(t->size == e->size, "%s: tensor %s size %llu, wrote %zu", how, e->name,
			(unsigned long long)t->size, e->size);
		CHECK(t->offset % alignment == 0, "%s: tensor %s offset %llu unaligned", how, e->name,
			(unsigned long long)t->offset);
		CHECK(t->size == e->size && memcmp(t->data, e->data, e->size) == 0,
			"%s: tensor %s bytes differ", how, e->name);
	}
	CHECK(m40_gguf_tensor_at(g, n_twant) == NULL, "%s: tensor_at past the end", how);
	CHECK(m40_gguf_find_tensor(g, "no.such.tensor") == NULL, "%s: missing tensor found", how);
}

/* No file named like a leftover temporary beside path. */
static int
count_temps(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".tmp") != NULL)
			n++;
	closedir(d);
	return n;
}

static void
round_trip(m40_gguf_writer *w, uint32_t version, uint32_t alignment, const char *dir)
{
	char path[4096], how[64];
	void *buf = NULL, *fbuf;
	size_t size = 0;
	m40_gguf *g = NULL;
	m40_error err;
	m40_status st;
	FILE *f;
	long flen;

	snprintf(how, sizeof how, "v%u memory", version);
	st = m40_gguf_writer_to_memory(w, version, &buf, &size, &err);
	CHECK(st == M40_OK, "%s: to_memory: %s", how, st == M40_OK ? "" : err.msg);
	if (st != M40_OK)
		return;
	st = m40_gguf_open_memory(buf, size, &g, &err);
	CHECK(st == M40_OK, "%s: open_memory: %s", how, st == M40_OK ? "" : err.msg);
	if (st == M40_OK)
		compare(g, version, alignment, how);
	m40_gguf_close(g);

	snprintf(how, sizeof how, "v%u file", version);
	snprintf(path, sizeof path, "%s/rt-v%u.gguf", dir, version);
	st = m40_gguf_writer_save(w, path, version, &err);
	CHECK(st == M40_OK, "%s: save: %s", how, st == M40_OK ? "" : err.msg);
	CHECK(count_temps(dir) == 0, "%s: temporary file left behind", how);
	st = m40_gguf_open(path, &g, &err);
	CHECK(st == M40_OK, "%s: open: %s", how, st == M40_OK ? "" : err.msg);
	if (st == M40_OK)
		compare(g, version, alignment, how);
	m40_gguf_close(g);
	/* the file holds exactly the bytes of to_memory */
	f = fopen(path, "rb");
	CHECK(f != NULL, "%s: reopen", how);
	if (f != NULL) {
		fseek(f, 0, SEEK_END);
		flen = ftell(f);
		rewind(f);
		fbuf = malloc(flen > 0 ? (size_t)flen : 1);
		CHECK(fbuf != NULL && (size_t)flen == size && fread(fbuf, 1, size, f) == size &&
			memcmp(fbuf, buf, size) == 0, "%s: file and memory bytes differ", how);
		free(fbuf);
		fclose(f);
	}
	unlink(path);
	free(buf);
}

int
main(void)
{
	char dir[] = "/tmp/m40-gguf-rt.XXXXXX", path[4096];
	m40_gguf_writer *w;
	m40_gguf *g;
	m40_error err;
	void *buf;
	size_t size, i;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	w = m40_gguf_writer_new();
	if (w == NULL)
		return 99;
	build_metadata(w);
	build_tensors(w);
	printf("wrote %zu keys and %zu tensors (%d tensor types)\n", n_want, n_twant, (int)n_twant - 1);
	round_trip(w, 3, 32, dir);
	round_trip(w, 2, 32, dir);

	/* general.alignment: honoured by the writer, reported by the reader */
	CHECK(m40_gguf_set_u32(w, "general.alignment", 256) == M40_OK, "set alignment");
	round_trip(w, 3, 256, dir);
	CHECK(m40_gguf_set_u32(w, "general.alignment", 48) == M40_OK, "set alignment 48");
	CHECK(m40_gguf_writer_to_memory(w, 3, &buf, &size, &err) == M40_E_INVALID,
		"alignment 48 written");
	CHECK(m40_gguf_set_u32(w, "general.alignment", 32) == M40_OK, "set alignment 32");

	/* writer errors */
	CHECK(m40_gguf_writer_to_memory(w, 1, &buf, &size, &err) == M40_E_INVALID && err.msg[0],
		"version 1 written");
	CHECK(m40_gguf_writer_to_memory(w, 4, &buf, &size, &err) == M40_E_INVALID, "version 4 written");
	snprintf(path, sizeof path, "%s/no/such/dir/x.gguf", dir);
	CHECK(m40_gguf_writer_save(w, path, 3, &err) == M40_E_IO && err.msg[0] != '\0',
		"save into a missing directory");
	printf("save into a missing directory: %s\n", err.msg);
	CHECK(count_temps(dir) == 0, "temporary file left after a failed save");
	/* a bare file name saves into the current directory */
	if (chdir(dir) == 0) {
		CHECK(m40_gguf_writer_save(w, "rel.gguf", 3, &err) == M40_OK, "save rel.gguf: %s", err.msg);
		CHECK(m40_gguf_open("rel.gguf", &g, &err) == M40_OK, "open rel.gguf: %s", err.msg);
		m40_gguf_close(g);
		unlink("rel.gguf");
		CHECK(count_temps(".") == 0, "temporary file left after saving rel.gguf");
		CHECK(chdir("/") == 0, "chdir /");
	}
	m40_gguf_writer_free(w);

	/* an empty writer makes a valid empty file */
	w = m40_gguf_writer_new();
	CHECK(m40_gguf_writer_to_memory(w, 3, &buf, &size, &err) == M40_OK && size == 24,
		"empty file is %zu bytes", size);
	CHECK(m40_gguf_open_memory(buf, size, &g, &err) == M40_OK && m40_gguf_n_kv(g) == 0 &&
		m40_gguf_n_tensors(g) == 0, "empty file read back");
	m40_gguf_close(g);
	free(buf);
	m40_gguf_writer_free(w);
	m40_gguf_writer_free(NULL);
	m40_gguf_close(NULL);

	/* the reader's own argument errors */
	CHECK(m40_gguf_open(path, &g, &err) != M40_OK && g == NULL && err.msg[0] != '\0',
		"opening a missing file");
	printf("opening a missing file: %s\n", err.msg);
	CHECK(m40_gguf_open(dir, &g, &err) == M40_E_IO, "opening a directory");
	printf("opening a directory: %s\n", err.msg);

	rmdir(dir);
	for (i = 0; i < n_owned; i++)
		free(owned[i]);
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
