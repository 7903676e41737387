/* gguf-corrupt.c: many broken variants of one valid GGUF file, each refused cleanly.
 *
 * Every variant must give a non-OK status, no handle, and a one-line message
 * (a byte offset in it for structural errors); ASan/UBSan catch any bad access.
 * With --write DIR, a few of the variants are also written to DIR for the
 * m40-inspect test (gguf-inspect.sh).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <m40/m40.h>

#include "check.h"

/* ---- the valid base file and where its fields are ---------------------- */

#define N_KV 8
#define N_T 3

static unsigned char *base;
static size_t base_size;

static struct layout {
	size_t kv_key[N_KV], kv_type[N_KV], kv_val[N_KV];
	size_t t_name[N_T], t_ndims[N_T], t_dims[N_T], t_type[N_T], t_offset[N_T];
	size_t info_end, data_offset, data_end;
} L;

static uint64_t
get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

static void
put_le(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static size_t
scalar_size(uint32_t t)
{
	static const size_t sz[] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };

	return sz[t];
}

/* Skip a value of type t at off in the (trusted) base file. */
static size_t
skip_value(uint32_t t, size_t off)
{
	uint64_t n, i;
	uint32_t et;

	if (t == M40_GGUF_STRING)
		return off + 8 + (size_t)get_le(base + off, 8);
	if (t != M40_GGUF_ARRAY)
		return off + scalar_size(t);
	et = (uint32_t)get_le(base + off, 4);
	n = get_le(base + off + 4, 8);
	off += 12;
	if (scalar_size(et) != 0)
		return off + (size_t)n * scalar_size(et);
	for (i = 0; i < n; i++)
		off = skip_value(et, off);
	return off;
}

static void
make_base(void)
{
	static const char *const strs[] = { "a", "bc", "" };
	static const uint16_t u16[] = { 1, 2, 3 };
	static const int32_t i32[] = { 1, 2, 3 };
	unsigned char data[512];
	m40_gguf_value inner[2], outer;
	m40_gguf_writer *w = m40_gguf_writer_new();
	int64_t ne[3];
	m40_error err;
	void *buf;
	size_t off, i, j;

	for (i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 37 + 11);
	memset(inner, 0, sizeof inner);
	inner[0].type = inner[1].type = M40_GGUF_ARRAY;
	inner[0].v.arr.type = inner[1].v.arr.type = M40_GGUF_INT32;
	inner[0].v.arr.n = 2;
	inner[0].v.arr.data = i32;
	inner[1].v.arr.n = 1;
	inner[1].v.arr.data = i32 + 2;
	memset(&outer, 0, sizeof outer);
	outer.type = M40_GGUF_ARRAY;
	outer.v.arr.type = M40_GGUF_ARRAY;
	outer.v.arr.n = 2;
	outer.v.arr.items = inner;

	if (w == NULL || m40_gguf_set_str(w, "general.architecture", "llama") ||
	    m40_gguf_set_u32(w, "general.alignment", 32) || m40_gguf_set_u32(w, "k.a1", 7) ||
	    m40_gguf_set_bool(w, "k.a2", true) || m40_gguf_set_str(w, "k.str", "hello") ||
	    m40_gguf_set_arr(w, "k.arr", M40_GGUF_UINT16, u16, 3) ||
	    m40_gguf_set_arr_str(w, "k.strs", strs, 3) || m40_gguf_set_value(w, "k.nest", &outer))
		goto broken;
	ne[0] = 8, ne[1] = 4;
	if (m40_gguf_add_tensor(w, "t.1", M40_TYPE_F32, 2, ne, data, 128))
		goto broken;
	ne[0] = 64, ne[1] = 2;
	if (m40_gguf_add_tensor(w, "t.2", M40_TYPE_Q8_0, 2, ne, data, 136))
		goto broken;
	ne[0] = 256, ne[1] = 1, ne[2] = 2;
	if (m40_gguf_add_tensor(w, "t.3", M40_TYPE_Q4_K, 3, ne, data, 288))
		goto broken;
	if (m40_gguf_writer_to_memory(w, 3, &buf, &base_size, &err) != M40_OK)
		goto broken;
	m40_gguf_writer_free(w);
	base = buf;

	off = 24;
	for (i = 0; i < N_KV; i++) {
		L.kv_key[i] = off;
		off += 8 + (size_t)get_le(base + off, 8);
		L.kv_type[i] = off;
		L.kv_val[i] = off + 4;
		off = skip_value((uint32_t)get_le(base + off, 4), off + 4);
	}
	for (i = 0; i < N_T; i++) {
		L.t_name[i] = off;
		off += 8 + (size_t)get_le(base + off, 8);
		L.t_ndims[i] = off;
		L.t_dims[i] = off + 4;
		off += 4 + 8 * (size_t)get_le(base + off, 4);
		L.t_type[i] = off;
		L.t_offset[i] = off + 4;
		off += 12;
	}
	L.info_end = off;
	L.data_offset = (off + 31) / 32 * 32;
	L.data_end = 0;
	for (i = 0; i < N_T; i++) {
		/* bytes of each tensor, from the type table */
		uint64_t t_end = L.data_offset + get_le(base + L.t_offset[i], 8);
		uint32_t nd = (uint32_t)get_le(base + L.t_ndims[i], 4);
		uint64_t rows = 1;
		for (j = 1; j < nd; j++)
			rows *= get_le(base + L.t_dims[i] + 8 * j, 8);
		t_end += m40_type_row_bytes((int)get_le(base + L.t_type[i], 4),
			(int64_t)get_le(base + L.t_dims[i], 8)) * rows;
		if (t_end > L.data_end)
			L.data_end = (size_t)t_end;
	}
	return;
broken:
	fprintf(stderr, "gguf-corrupt: cannot build the base file\n");
	exit(99);
}

/* ---- running one variant ------------------------------------------------ */

static int n_variants;
static const char *write_dir;

static void
save_variant(const char *name, const unsigned char *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s.gguf", write_dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "gguf-corrupt: cannot write %s\n", path);
		exit(99);
	}
}

/* Open p[0..n); it must fail, with a message naming `want` when given. */
static void
refuse(const char *name, const unsigned char *p, size_t n, const char *want, bool quiet)
{
	m40_gguf *g = (m40_gguf *)&g; /* must come back NULL */
	m40_error err;
	m40_status st;
	unsigned char *copy = malloc(n ? n : 1);

	/* an exact-size heap copy, so ASan sees any read past the end */
	if (copy == NULL)
		exit(99);
	memcpy(copy, p, n);
	m40_error_clear(&err);
	st = m40_gguf_open_memory(copy, n, &g, &err);
	n_variants++;
	CHECK(st != M40_OK, "%s: accepted", name);
	if (st == M40_OK) {
		m40_gguf_close(g);
	} else {
		CHECK(g == NULL, "%s: handle not NULL", name);
		CHECK(err.code == st, "%s: error code %d, status %d", name, err.code, st);
		CHECK(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL, "%s: message '%s'", name,
			err.msg);
		if (want != NULL)
			CHECK(strstr(err.msg, want) != NULL, "%s: message '%s' lacks '%s'", name, err.msg,
				want);
		if (!quiet)
			printf("ok %s: %s\n", name, err.msg);
	}
	free(copy);
}

/* Patch an n-byte field at off of a copy of the base file, and refuse it. */
static void
patch(const char *name, size_t off, uint64_t v, int n, const char *want)
{
	unsigned char *p = malloc(base_size);

	if (p == NULL)
		exit(99);
	memcpy(p, base, base_size);
	put_le(p + off, v, n);
	refuse(name, p, base_size, want, false);
	if (write_dir != NULL && (strcmp(name, "magic") == 0 || strcmp(name, "n_kv-huge") == 0 ||
	    strcmp(name, "t.2-offset-past-end") == 0 || strcmp(name, "t.1-dims-overflow") == 0))
		save_variant(name, p, base_size);
	free(p);
}

/* Two fields of n bytes each. */
static void
patch2(const char *name, size_t off1, uint64_t v1, size_t off2, uint64_t v2, int n, const char *want)
{
	unsigned char *p = malloc(base_size);

	if (p == NULL)
		exit(99);
	memcpy(p, base, base_size);
	put_le(p + off1, v1, n);
	put_le(p + off2, v2, n);
	refuse(name, p, base_size, want, false);
	free(p);
}

/* ---- the variants -------------------------------------------------------- */

static void
truncations(void)
{
	size_t cut, n_ok = 0;
	char name[64];
	m40_gguf *g;
	m40_error err;
	unsigned char *copy;

	/* every length up to the data section and a bit past it, then a sample */
	for (cut = 0; cut < base_size; cut += cut < L.data_offset + 40 ? 1 : 7) {
		snprintf(name, sizeof name, "truncated-at-%zu", cut);
		if (cut < L.data_end) {
			refuse(name, base, cut, cut < 4 ? NULL : "byte ", true);
			if (write_dir != NULL && cut == L.kv_val[2] + 2)
				save_variant("truncated", base, cut);
		} else {
			/* only padding is gone: still a whole file */
			copy = malloc(cut ? cut : 1);
			memcpy(copy, base, cut);
			CHECK(m40_gguf_open_memory(copy, cut, &g, &err) == M40_OK, "%s refused: %s",
				name, err.msg);
			m40_gguf_close(g);
			free(copy);
			n_ok++;
		}
	}
	printf("ok truncations: %d refused (every byte up to %zu, then every 7th), %zu padding-only cuts read\n",
		n_variants, L.data_offset + 40, n_ok);
	refuse("truncated-at-data-end-minus-1", base, L.data_end - 1, "beyond the end", false);
}

static void
header(void)
{
	static const unsigned char ggml[] = "GGJT\x03\0\0\0";

	refuse("empty", (const unsigned char *)"", 0, "too short", false);
	refuse("three-bytes", (const unsigned char *)"GGU", 3, "too short", false);
	refuse("old-ggjt", ggml, 8, "not a GGUF file", false);
	patch("magic", 0, 0x47554747 ^ 0x20, 4, "not a GGUF file");
	patch("version-0", 4, 0, 4, "version 0");
	patch("version-1", 4, 1, 4, "version 1");
	patch("version-4", 4, 4, 4, "version 4");
	patch("version-huge", 4, 0xffffffff, 4, "version 4294967295");
	patch("version-big-endian", 4, 0x03000000, 4, "big-endian");
	refuse("header-without-counts", base, 12, "tensor count", false);
	patch("n_tensors-huge", 8, UINT64_MAX, 8, "tensors cannot fit");
	patch("n_tensors-2^32", 8, 1ULL << 32, 8, "tensors cannot fit");
	patch("n_tensors-plus-1", 8, N_T + 1, 8, "byte ");
	patch("n_kv-huge", 16, UINT64_MAX, 8, "key-value pairs cannot fit");
	patch("n_kv-2^40", 16, 1ULL << 40, 8, "key-value pairs cannot fit");
	patch("n_kv-plus-1", 16, N_KV + 1, 8, "byte ");
}

static void
keys_and_values(void)
{
	char want[64];

	snprintf(want, sizeof want, "byte %zu:", L.kv_key[0]);
	patch("key-length-huge", L.kv_key[0], UINT64_MAX, 8, want);
	patch("key-length-file-size", L.kv_key[0], base_size, 8, "runs past the end");
	patch("key-length-one-past", L.kv_key[0], base_size - L.kv_key[0] - 8 + 1, 8, "runs past the end");
	patch("key-empty", L.kv_key[2], 0, 8, "key 2");
	patch("key-nul", L.kv_key[2] + 8 + 1, 0, 1, "key 2");      /* "k\0a1" */
	patch("key-control", L.kv_key[2] + 8 + 1, '\t', 1, "key 2");
	patch("key-bad-utf8", L.kv_key[2] + 8 + 1, 0xc3, 1, "key 2");
	patch("key-duplicate", L.kv_key[3] + 8 + 3, '1', 1, "duplicate key 'k.a1'"); /* k.a2 -> k.a1 */
	patch("value-type-13", L.kv_type[2], 13, 4, "unknown value type 13");
	patch("value-type-huge", L.kv_type[2], 0xffffffff, 4, "unknown value type");
	patch("bool-2", L.kv_val[3], 2, 1, "bool");
	patch("string-length-huge", L.kv_val[0], UINT64_MAX, 8, "runs past the end");
	patch("string-length-one-past", L.kv_val[0], base_size - L.kv_val[0] - 8 + 1, 8, "runs past the end");
	/* k.arr: u16 x 3 */
	patch("array-type-13", L.kv_val[5], 13, 4, "unknown array element type 13");
	patch("array-count-huge", L.kv_val[5] + 4, UINT64_MAX, 8, "runs past the end");
	patch("array-count-one-past", L.kv_val[5] + 4, (base_size - L.kv_val[5] - 12) / 2 + 1, 8,
		"runs past the end");
	/* k.arr as bools: its 1, 2, 3 elements are not all 0/1 */
	patch("array-bool-2", L.kv_val[5], M40_GGUF_BOOL, 4, "bool");
	/* k.strs: strings x 3 */
	patch("string-array-count-huge", L.kv_val[6] + 4, 1ULL << 61, 8, "runs past the end");
	patch("string-array-item-length", L.kv_val[6] + 12, UINT64_MAX - 3, 8, "runs past the end");
	/* k.nest: arrays x 2 */
	patch("nested-count-huge", L.kv_val[7] + 4, UINT64_MAX / 12, 8, "runs past the end");
	patch("nested-inner-type", L.kv_val[7] + 12, 99, 4, "unknown array element type 99");
	/* general.alignment */
	patch("alignment-0", L.kv_val[1], 0, 4, "general.alignment 0");
	patch("alignment-3", L.kv_val[1], 3, 4, "general.alignment 3");
	patch("alignment-48", L.kv_val[1], 48, 4, "general.alignment 48");
	patch("alignment-2^31", L.kv_val[1], 1U << 31, 4, "past the end");
	patch("alignment-float", L.kv_type[1], M40_GGUF_FLOAT32, 4, "not an integer");
	patch2("alignment-negative", L.kv_type[1], M40_GGUF_INT32, L.kv_val[1], (uint32_t)-32, 4,
		"general.alignment -32 is negative");
}

static void
depth_bomb(void)
{
	/* one key holding 100 arrays, each the only item of the one above */
	enum { LEVELS = 100 };
	static unsigned char p[24 + 8 + 4 + 4 + LEVELS * 12 + 12];
	size_t off = 0;
	int i;

	memcpy(p, "GGUF", 4);
	put_le(p + 4, 3, 4);
	put_le(p + 8, 0, 8);
	put_le(p + 16, 1, 8);
	off = 24;
	put_le(p + off, 4, 8);
	memcpy(p + off + 8, "bomb", 4);
	off += 12;
	put_le(p + off, M40_GGUF_ARRAY, 4);
	off += 4;
	for (i = 0; i < LEVELS; i++) {
		put_le(p + off, M40_GGUF_ARRAY, 4);
		put_le(p + off + 4, 1, 8);
		off += 12;
	}
	put_le(p + off, M40_GGUF_UINT8, 4);
	put_le(p + off + 4, 0, 8);
	off += 12;
	refuse("depth-bomb", p, off, "nested more than", false);
	if (write_dir != NULL)
		save_variant("depth-bomb", p, off);
}

static void
tensors(void)
{
	size_t d1 = L.t_dims[0] + 8; /* t.1 ne[1] */

	patch("tensor-name-huge", L.t_name[0], UINT64_MAX, 8, "runs past the end");
	patch("tensor-name-empty", L.t_name[0], 0, 8, "tensor 0");
	patch("tensor-name-control", L.t_name[1] + 8 + 1, '\n', 1, "tensor 1");
	patch("tensor-duplicate", L.t_name[1] + 8 + 2, '1', 1, "duplicate tensor 't.1'");
	patch("n_dims-0", L.t_ndims[0], 0, 4, "0 dimensions");
	patch("n_dims-5", L.t_ndims[0], 5, 4, "5 dimensions");
	patch("n_dims-huge", L.t_ndims[0], 0xffffffff, 4, "dimensions");
	patch("dim-0", L.t_dims[0], 0, 8, "dimension 0 is 0 ");
	patch("dim-negative", d1, (uint64_t)-4, 8, "dimension 1 is ");
	patch("dim-2^63", d1, 1ULL << 63, 8, "dimension 1 is ");
	/* 8 x 2^59 elements: fits int64; as F32 the bytes overflow */
	patch("t.1-bytes-overflow", d1, 1ULL << 59, 8, "byte size overflows");
	/* 8 x 2^61 overflows the element count at dim 1 */
	patch("t.1-dims-overflow", d1, 1ULL << 61, 8, "element count overflows");
	patch("t.1-data-past-end", d1, 1000, 8, "beyond the end");
	patch("type-retired-4", L.t_type[0], 4, 4, "unknown type id 4");
	patch("type-retired-31", L.t_type[0], 31, 4, "unknown type id 31");
	patch("type-40", L.t_type[0], 40, 4, "unknown type id 40");
	patch("type-huge", L.t_type[0], 0xffffffff, 4, "unknown type id");
	/* t.2 is q8_0 with rows of 64: as q4_K a row is not whole blocks */
	patch("row-not-whole-blocks", L.t_type[1], M40_TYPE_Q4_K, 4, "not a multiple");
	patch("t.2-offset-misaligned", L.t_offset[1], get_le(base + L.t_offset[1], 8) + 1, 8,
		"not a multiple of the alignment");
	patch("t.2-offset-past-end", L.t_offset[1], base_size, 8, "beyond the end");
	patch("t.2-offset-huge", L.t_offset[1], UINT64_MAX - 31, 8, "beyond the end");
	patch("t.3-offset-overhang", L.t_offset[2], (base_size - L.data_offset) / 32 * 32, 8,
		"beyond the end");
}

int
main(int argc, char **argv)
{
	m40_gguf *g;
	m40_error err;

	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		write_dir = argv[2];
	else if (argc != 1) {
		fprintf(stderr, "usage: gguf-corrupt [--write DIR]\n");
		return 99;
	}
	make_base();
	printf("base file: %zu bytes, %d keys, %d tensors, data section at %zu, tensors end at %zu\n",
		base_size, N_KV, N_T, L.data_offset, L.data_end);
	/* the base itself is fine, or every refusal below means nothing */
	CHECK(m40_gguf_open_memory(base, base_size, &g, &err) == M40_OK, "base refused: %s", err.msg);
	if (failures)
		return 99;
	CHECK(m40_gguf_data_offset(g) == L.data_offset, "the test's layout disagrees with the reader");
	m40_gguf_close(g);

	truncations();
	header();
	keys_and_values();
	depth_bomb();
	tensors();
	if (write_dir != NULL)
		save_variant("valid", base, base_size);
	free(base);
	printf("%d corrupt variants, %d checks, %d failed\n", n_variants, checks, failures);
	return failures ? 1 : 0;
}
