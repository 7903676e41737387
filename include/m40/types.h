/* m40/types.h: ggml tensor types (ids as stored in GGUF) and their block layouts. */
#ifndef M40_TYPES_H
#define M40_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <m40/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ggml's numbering, which GGUF stores; the gaps are retired types. */
enum m40_type {
	M40_TYPE_F32 = 0,
	M40_TYPE_F16 = 1,
	M40_TYPE_Q4_0 = 2,
	M40_TYPE_Q4_1 = 3,
	M40_TYPE_Q5_0 = 6,
	M40_TYPE_Q5_1 = 7,
	M40_TYPE_Q8_0 = 8,
	M40_TYPE_Q8_1 = 9,
	M40_TYPE_Q2_K = 10,
	M40_TYPE_Q3_K = 11,
	M40_TYPE_Q4_K = 12,
	M40_TYPE_Q5_K = 13,
	M40_TYPE_Q6_K = 14,
	M40_TYPE_Q8_K = 15,
	M40_TYPE_IQ2_XXS = 16,
	M40_TYPE_IQ2_XS = 17,
	M40_TYPE_IQ3_XXS = 18,
	M40_TYPE_IQ1_S = 19,
	M40_TYPE_IQ4_NL = 20,
	M40_TYPE_IQ3_S = 21,
	M40_TYPE_IQ2_S = 22,
	M40_TYPE_IQ4_XS = 23,
	M40_TYPE_I8 = 24,
	M40_TYPE_I16 = 25,
	M40_TYPE_I32 = 26,
	M40_TYPE_I64 = 27,
	M40_TYPE_F64 = 28,
	M40_TYPE_IQ1_M = 29,
	M40_TYPE_BF16 = 30,
	M40_TYPE_TQ1_0 = 34,
	M40_TYPE_TQ2_0 = 35,
	M40_TYPE_MXFP4 = 39,
	M40_TYPE_COUNT = 40 /* one past the largest id */
};

/* Name as ggml spells it ("q4_K"), or NULL for an unknown id. */
const char *m40_type_name(int type);
/* Elements per block (1 for plain types), 0 for an unknown id. */
int m40_type_block_size(int type);
/* Bytes per block, 0 for an unknown id. */
size_t m40_type_block_bytes(int type);
/* Bytes of a row of n elements; 0 if n is not a whole number of blocks. */
size_t m40_type_row_bytes(int type, int64_t n);
/* True for the types m40-llm can compute with (dequantize and dot). */
bool m40_type_is_computable(int type);

/* Convert a row of n values of type to FP32; n a multiple of the block size. */
m40_status m40_dequantize_row(int type, const void *src, float *dst, int64_t n);
/* The reverse, for the GGUF writer and tests (F32, F16, BF16, Q8_0, Q4_0,
 * Q4_1, Q5_0, Q5_1 at least); M40_E_UNSUPPORTED for the others. */
m40_status m40_quantize_row(int type, const float *src, void *dst, int64_t n);

/* IEEE half and bfloat16 conversions. */
float m40_fp16_to_fp32(uint16_t h);
uint16_t m40_fp32_to_fp16(float f);
float m40_bf16_to_fp32(uint16_t h);
uint16_t m40_fp32_to_bf16(float f);

#ifdef __cplusplus
}
#endif
#endif
