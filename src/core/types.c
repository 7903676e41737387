/* types.c: the ggml tensor types GGUF files name, with their block layouts. */
#include "m40-int.h"

/*
 * Block sizes and bytes per block as ggml defines them (ggml.c type_traits,
 * ggml-common.h block_* structs).  Ids 4, 5 (Q4_2, Q4_3), 31-33 (Q4_0_4_4,
 * Q4_0_4_8, Q4_0_8_8) and 36-38 (IQ4_NL_4_4 ...) are retired and stay empty:
 * files holding them are refused as holding an unknown type.
 */
struct type_info {
	const char *name;
	int block_size;
	unsigned block_bytes;
	bool computable;
};

static const struct type_info type_table[M40_TYPE_COUNT] = {
	[M40_TYPE_F32] = { "f32", 1, 4, true },
	[M40_TYPE_F16] = { "f16", 1, 2, true },
	[M40_TYPE_Q4_0] = { "q4_0", 32, 2 + 16, true },
	[M40_TYPE_Q4_1] = { "q4_1", 32, 2 + 2 + 16, true },
	[M40_TYPE_Q5_0] = { "q5_0", 32, 2 + 4 + 16, true },
	[M40_TYPE_Q5_1] = { "q5_1", 32, 2 + 2 + 4 + 16, true },
	[M40_TYPE_Q8_0] = { "q8_0", 32, 2 + 32, true },
	[M40_TYPE_Q8_1] = { "q8_1", 32, 2 + 2 + 32, false },
	/* k-quants: super-blocks of QK_K = 256 */
	[M40_TYPE_Q2_K] = { "q2_K", 256, 16 + 64 + 2 + 2, true },
	[M40_TYPE_Q3_K] = { "q3_K", 256, 32 + 64 + 12 + 2, true },
	[M40_TYPE_Q4_K] = { "q4_K", 256, 2 + 2 + 12 + 128, true },
	[M40_TYPE_Q5_K] = { "q5_K", 256, 2 + 2 + 12 + 32 + 128, true },
	[M40_TYPE_Q6_K] = { "q6_K", 256, 128 + 64 + 16 + 2, true },
	[M40_TYPE_Q8_K] = { "q8_K", 256, 4 + 256 + 32, false },
	/* i-quants */
	[M40_TYPE_IQ2_XXS] = { "iq2_xxs", 256, 2 + 64, false },
	[M40_TYPE_IQ2_XS] = { "iq2_xs", 256, 2 + 64 + 8, false },
	[M40_TYPE_IQ3_XXS] = { "iq3_xxs", 256, 2 + 96, false },
	[M40_TYPE_IQ1_S] = { "iq1_s", 256, 2 + 32 + 16, false },
	[M40_TYPE_IQ4_NL] = { "iq4_nl", 32, 2 + 16, true },
	[M40_TYPE_IQ3_S] = { "iq3_s", 256, 2 + 64 + 8 + 32 + 4, false },
	[M40_TYPE_IQ2_S] = { "iq2_s", 256, 2 + 64 + 8 + 8, false },
	[M40_TYPE_IQ4_XS] = { "iq4_xs", 256, 2 + 2 + 4 + 128, false },
	/* plain integers and doubles */
	[M40_TYPE_I8] = { "i8", 1, 1, false },
	[M40_TYPE_I16] = { "i16", 1, 2, false },
	[M40_TYPE_I32] = { "i32", 1, 4, false },
	[M40_TYPE_I64] = { "i64", 1, 8, false },
	[M40_TYPE_F64] = { "f64", 1, 8, false },
	[M40_TYPE_IQ1_M] = { "iq1_m", 256, 32 + 16 + 8, false },
	[M40_TYPE_BF16] = { "bf16", 1, 2, true },
	/* ternary */
	[M40_TYPE_TQ1_0] = { "tq1_0", 256, 48 + 4 + 2, false },
	[M40_TYPE_TQ2_0] = { "tq2_0", 256, 64 + 2, false },
	[M40_TYPE_MXFP4] = { "mxfp4", 32, 1 + 16, false },
};

static const struct type_info *
info(int type)
{
	if (type < 0 || type >= M40_TYPE_COUNT || type_table[type].name == NULL)
		return NULL;
	return &type_table[type];
}

const char *
m40_type_name(int type)
{
	const struct type_info *t = info(type);

	return t != NULL ? t->name : NULL;
}

int
m40_type_block_size(int type)
{
	const struct type_info *t = info(type);

	return t != NULL ? t->block_size : 0;
}

size_t
m40_type_block_bytes(int type)
{
	const struct type_info *t = info(type);

	return t != NULL ? t->block_bytes : 0;
}

size_t
m40_type_row_bytes(int type, int64_t n)
{
	const struct type_info *t = info(type);
	uint64_t blocks;

	if (t == NULL || n < 0 || n % t->block_size != 0)
		return 0;
	blocks = (uint64_t)n / (uint64_t)t->block_size;
	if (blocks > SIZE_MAX / t->block_bytes)
		return 0;
	return (size_t)blocks * t->block_bytes;
}

bool
m40_type_is_computable(int type)
{
	const struct type_info *t = info(type);

	return t != NULL && t->computable;
}
