/* m40/gguf.h: a validating GGUF (v2, v3) reader over a mapped file, and a writer. */
#ifndef M40_GGUF_H
#define M40_GGUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <m40/error.h>
#include <m40/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Metadata value types, numbered as in the file. */
enum m40_gguf_type {
	M40_GGUF_UINT8 = 0,
	M40_GGUF_INT8 = 1,
	M40_GGUF_UINT16 = 2,
	M40_GGUF_INT16 = 3,
	M40_GGUF_UINT32 = 4,
	M40_GGUF_INT32 = 5,
	M40_GGUF_FLOAT32 = 6,
	M40_GGUF_BOOL = 7,
	M40_GGUF_STRING = 8,
	M40_GGUF_ARRAY = 9,
	M40_GGUF_UINT64 = 10,
	M40_GGUF_INT64 = 11,
	M40_GGUF_FLOAT64 = 12,
	M40_GGUF_TYPE_COUNT
};

#define M40_GGUF_MAX_DIMS 4
#define M40_GGUF_DEFAULT_ALIGNMENT 32

/*
 * A metadata value.  Strings point into the mapping and are NOT
 * NUL-terminated (use len).  Arrays: for numeric element types, `data`
 * points at n packed little-endian elements in the mapping (possibly
 * unaligned: read them with the m40_gguf_arr_* helpers); for strings and
 * nested arrays, `items` holds n parsed values.
 */
typedef struct m40_gguf_value {
	enum m40_gguf_type type;
	union {
		uint64_t u64; /* any unsigned integer type, and bool */
		int64_t i64;  /* any signed integer type */
		double f64;   /* FLOAT32 and FLOAT64 */
		struct {
			const char *ptr;
			uint64_t len;
		} str;
		struct {
			enum m40_gguf_type type;
			uint64_t n;
			const void *data;
			const struct m40_gguf_value *items;
		} arr;
	} v;
} m40_gguf_value;

typedef struct m40_gguf_kv {
	const char *key; /* NUL-terminated copy */
	m40_gguf_value value;
} m40_gguf_kv;

typedef struct m40_gguf_tensor {
	const char *name;    /* NUL-terminated copy */
	int type;            /* enum m40_type */
	uint32_t n_dims;
	int64_t ne[M40_GGUF_MAX_DIMS]; /* ne[0] is the row length; unused dims are 1 */
	uint64_t offset;     /* from the start of the data section */
	uint64_t size;       /* bytes */
	const void *data;    /* into the mapping */
} m40_gguf_tensor;

typedef struct m40_gguf m40_gguf;

/* Map and validate a file.  Every structural error is reported with the
 * byte offset where it was found.  Beyond the format, a file must have:
 * tensors of 1 to 4 dimensions, each >= 1, element counts and byte sizes
 * within int64; keys and tensor names of 1 to 65535 bytes of UTF-8 without
 * control characters, each unique; bools 0 or 1; arrays nested at most 16
 * deep; general.alignment an integer power of two. */
m40_status m40_gguf_open(const char *path, m40_gguf **out, m40_error *err);
/* Same over a caller-owned buffer that must outlive the handle (fuzzing, tests). */
m40_status m40_gguf_open_memory(const void *data, size_t size, m40_gguf **out, m40_error *err);
void m40_gguf_close(m40_gguf *g);

uint32_t m40_gguf_version(const m40_gguf *g);
uint64_t m40_gguf_file_size(const m40_gguf *g);
uint32_t m40_gguf_alignment(const m40_gguf *g);
uint64_t m40_gguf_data_offset(const m40_gguf *g);

size_t m40_gguf_n_kv(const m40_gguf *g);
const m40_gguf_kv *m40_gguf_kv_at(const m40_gguf *g, size_t i);
/* The value stored under key, or NULL. */
const m40_gguf_value *m40_gguf_get(const m40_gguf *g, const char *key);

/* Typed lookups: false when the key is missing or has an incompatible type.
 * Integers convert between widths when the value fits; floats accept ints. */
bool m40_gguf_get_int(const m40_gguf *g, const char *key, int64_t *out);
bool m40_gguf_get_float(const m40_gguf *g, const char *key, double *out);
bool m40_gguf_get_bool(const m40_gguf *g, const char *key, bool *out);
/* NUL-terminated copy owned by the handle (freed by m40_gguf_close). */
const char *m40_gguf_get_str(const m40_gguf *g, const char *key);

/* Array element access (value must be an ARRAY). */
int64_t m40_gguf_arr_int(const m40_gguf_value *arr, uint64_t i);
double m40_gguf_arr_float(const m40_gguf_value *arr, uint64_t i);
const char *m40_gguf_arr_str(const m40_gguf_value *arr, uint64_t i, uint64_t *len);

size_t m40_gguf_n_tensors(const m40_gguf *g);
const m40_gguf_tensor *m40_gguf_tensor_at(const m40_gguf *g, size_t i);
const m40_gguf_tensor *m40_gguf_find_tensor(const m40_gguf *g, const char *name);

const char *m40_gguf_type_name(enum m40_gguf_type t);

/* ---- writer ---------------------------------------------------------- */

typedef struct m40_gguf_writer m40_gguf_writer;

m40_gguf_writer *m40_gguf_writer_new(void);
void m40_gguf_writer_free(m40_gguf_writer *w);
/* Values are copied; setting an existing key replaces it. */
m40_status m40_gguf_set_u8(m40_gguf_writer *w, const char *key, uint8_t v);
m40_status m40_gguf_set_i8(m40_gguf_writer *w, const char *key, int8_t v);
m40_status m40_gguf_set_u16(m40_gguf_writer *w, const char *key, uint16_t v);
m40_status m40_gguf_set_i16(m40_gguf_writer *w, const char *key, int16_t v);
m40_status m40_gguf_set_u32(m40_gguf_writer *w, const char *key, uint32_t v);
m40_status m40_gguf_set_i32(m40_gguf_writer *w, const char *key, int32_t v);
m40_status m40_gguf_set_u64(m40_gguf_writer *w, const char *key, uint64_t v);
m40_status m40_gguf_set_i64(m40_gguf_writer *w, const char *key, int64_t v);
m40_status m40_gguf_set_f32(m40_gguf_writer *w, const char *key, float v);
m40_status m40_gguf_set_f64(m40_gguf_writer *w, const char *key, double v);
m40_status m40_gguf_set_bool(m40_gguf_writer *w, const char *key, bool v);
m40_status m40_gguf_set_str(m40_gguf_writer *w, const char *key, const char *v);
/* Array of n numeric elements of type t, packed as in the file. */
m40_status m40_gguf_set_arr(m40_gguf_writer *w, const char *key, enum m40_gguf_type t,
	const void *data, uint64_t n);
m40_status m40_gguf_set_arr_str(m40_gguf_writer *w, const char *key, const char *const *v, uint64_t n);
/* Any value, nested arrays included (the tree is copied). */
m40_status m40_gguf_set_value(m40_gguf_writer *w, const char *key, const m40_gguf_value *v);
/* Tensor data is copied; size must equal the type's row bytes times the rows. */
m40_status m40_gguf_add_tensor(m40_gguf_writer *w, const char *name, int type,
	uint32_t n_dims, const int64_t *ne, const void *data, size_t size);
/* Write to path through a temporary file and rename; version 2 or 3. */
m40_status m40_gguf_writer_save(m40_gguf_writer *w, const char *path, uint32_t version, m40_error *err);
/* The same bytes into a malloc'ed buffer owned by the caller. */
m40_status m40_gguf_writer_to_memory(m40_gguf_writer *w, uint32_t version, void **buf, size_t *size,
	m40_error *err);

#ifdef __cplusplus
}
#endif
#endif
