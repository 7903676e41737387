/* gguf-types.c: the ggml type table (names, block sizes, bytes per block, row bytes). */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include <m40/m40.h>

#include "check.h"

/* From ggml.c type_traits and the block_* structs of ggml-common.h. */
static const struct {
	int id;
	const char *name;
	int block;
	size_t bytes;
	bool computable;
} known[] = {
	{ 0, "f32", 1, 4, true },        { 1, "f16", 1, 2, true },
	{ 2, "q4_0", 32, 18, true },     { 3, "q4_1", 32, 20, true },
	{ 6, "q5_0", 32, 22, true },     { 7, "q5_1", 32, 24, true },
	{ 8, "q8_0", 32, 34, true },     { 9, "q8_1", 32, 36, false },
	{ 10, "q2_K", 256, 84, true },   { 11, "q3_K", 256, 110, true },
	{ 12, "q4_K", 256, 144, true },  { 13, "q5_K", 256, 176, true },
	{ 14, "q6_K", 256, 210, true },  { 15, "q8_K", 256, 292, false },
	{ 16, "iq2_xxs", 256, 66, false }, { 17, "iq2_xs", 256, 74, false },
	{ 18, "iq3_xxs", 256, 98, false }, { 19, "iq1_s", 256, 50, false },
	{ 20, "iq4_nl", 32, 18, true },  { 21, "iq3_s", 256, 110, false },
	{ 22, "iq2_s", 256, 82, false }, { 23, "iq4_xs", 256, 136, false },
	{ 24, "i8", 1, 1, false },       { 25, "i16", 1, 2, false },
	{ 26, "i32", 1, 4, false },      { 27, "i64", 1, 8, false },
	{ 28, "f64", 1, 8, false },      { 29, "iq1_m", 256, 56, false },
	{ 30, "bf16", 1, 2, true },      { 34, "tq1_0", 256, 54, false },
	{ 35, "tq2_0", 256, 66, false }, { 39, "mxfp4", 32, 17, false },
};

int
main(void)
{
	static const int retired[] = { -1, 4, 5, 31, 32, 33, 36, 37, 38, 40, 1000 };
	size_t i;
	int id, n_named = 0, n_comp = 0;

	for (i = 0; i < sizeof known / sizeof known[0]; i++) {
		int t = known[i].id;
		const char *name = m40_type_name(t);
		CHECK(name != NULL && strcmp(name, known[i].name) == 0, "type %d named %s", t,
			name ? name : "(null)");
		CHECK(m40_type_block_size(t) == known[i].block, "%s block size %d", known[i].name,
			m40_type_block_size(t));
		CHECK(m40_type_block_bytes(t) == known[i].bytes, "%s block bytes %zu", known[i].name,
			m40_type_block_bytes(t));
		CHECK(m40_type_is_computable(t) == known[i].computable, "%s computable", known[i].name);
		CHECK(m40_type_row_bytes(t, 4LL * known[i].block) == 4 * known[i].bytes,
			"%s row of 4 blocks", known[i].name);
		if (known[i].block > 1)
			CHECK(m40_type_row_bytes(t, known[i].block + 1) == 0,
				"%s partial block gives %zu", known[i].name,
				m40_type_row_bytes(t, known[i].block + 1));
	}
	for (id = 0; id < M40_TYPE_COUNT; id++) {
		n_named += m40_type_name(id) != NULL;
		n_comp += m40_type_is_computable(id);
	}
	CHECK(n_named == (int)(sizeof known / sizeof known[0]), "%d named types", n_named);
	CHECK(n_comp == 14, "%d computable types", n_comp);
	for (i = 0; i < sizeof retired / sizeof retired[0]; i++) {
		int t = retired[i];
		CHECK(m40_type_name(t) == NULL && m40_type_block_size(t) == 0 &&
			m40_type_block_bytes(t) == 0 && m40_type_row_bytes(t, 32) == 0 &&
			!m40_type_is_computable(t), "retired or unknown id %d is known", t);
	}
	CHECK(m40_type_row_bytes(M40_TYPE_F32, -1) == 0, "negative row");
	CHECK(m40_type_row_bytes(M40_TYPE_F32, INT64_MAX) == 0 || sizeof(size_t) > 8,
		"row bytes overflow not caught");
	CHECK(strcmp(m40_gguf_type_name(M40_GGUF_FLOAT32), "float32") == 0 &&
		strcmp(m40_gguf_type_name(M40_GGUF_ARRAY), "array") == 0, "gguf type names");
	printf("%zu types with known layouts, %d computable; %d checks, %d failed\n",
		sizeof known / sizeof known[0], n_comp, checks, failures);
	return failures ? 1 : 0;
}
