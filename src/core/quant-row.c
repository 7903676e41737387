/* quant-row.c: whole rows in any computable format: the public
 * (de)quantizers and the dot products the CPU backend calls. */
#include "m40-int.h"

#include "quant.h"

const struct m40i_format *m40i_format_of(int type)
{
	switch (type) {
	case M40_TYPE_F32: return &m40i_format_f32;
	case M40_TYPE_F16: return &m40i_format_f16;
	case M40_TYPE_BF16: return &m40i_format_bf16;
	case M40_TYPE_Q4_0: return &m40i_format_q4_0;
	case M40_TYPE_Q4_1: return &m40i_format_q4_1;
	case M40_TYPE_Q5_0: return &m40i_format_q5_0;
	case M40_TYPE_Q5_1: return &m40i_format_q5_1;
	case M40_TYPE_Q8_0: return &m40i_format_q8_0;
	case M40_TYPE_Q2_K: return &m40i_format_q2_k;
	case M40_TYPE_Q3_K: return &m40i_format_q3_k;
	case M40_TYPE_Q4_K: return &m40i_format_q4_k;
	case M40_TYPE_Q5_K: return &m40i_format_q5_k;
	case M40_TYPE_Q6_K: return &m40i_format_q6_k;
	case M40_TYPE_IQ4_NL: return &m40i_format_iq4_nl;
	default: return NULL;
	}
}

int m40i_kernels_best(void)
{
#ifdef M40I_HAVE_AVX2
	__builtin_cpu_init(); /* cheap once done; needed if called from a constructor */
	/* (Clang 14 cannot test f16c; every AVX2 CPU has it.) */
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
#ifndef __clang__
	    && __builtin_cpu_supports("f16c")
#endif
	   ) {
		if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("avx512vl"))
			return M40I_KERNELS_AVX512;
		return M40I_KERNELS_AVX2;
	}
#endif
	return M40I_KERNELS_BASE;
}

/* The format of type if n elements make whole blocks of it, else NULL. */
static const struct m40i_format *row_format(int type, int64_t n)
{
	const struct m40i_format *f = m40i_format_of(type);

	if (f == NULL || n < 0 || n % f->block_size != 0)
		return NULL;
	return f;
}

m40_status m40_dequantize_row(int type, const void *src, float *dst, int64_t n)
{
	const struct m40i_format *f = m40i_format_of(type);

	if (f == NULL)
		return M40_E_UNSUPPORTED;
	if (n < 0 || n % f->block_size != 0)
		return M40_E_INVALID;
	f->dequantize(src, dst, n / f->block_size);
	return M40_OK;
}

m40_status m40_quantize_row(int type, const float *src, void *dst, int64_t n)
{
	const struct m40i_format *f = m40i_format_of(type);

	if (f == NULL || f->quantize == NULL)
		return M40_E_UNSUPPORTED;
	if (n < 0 || n % f->block_size != 0)
		return M40_E_INVALID;
	f->quantize(src, dst, n / f->block_size);
	return M40_OK;
}

float m40i_vec_dot(int type, const void *row, const float *x, int64_t n)
{
	const struct m40i_format *f = row_format(type, n);

	if (f == NULL)
		return 0;
	return f->kernels[m40i_kernels_best()].dot(row, x, n);
}

void m40i_vec_dot_multi(int type, const void *row, const float *x, int64_t n,
			int nx, float *y, size_t y_stride)
{
	const struct m40i_format *f = row_format(type, n);

	if (f == NULL) {
		for (int j = 0; j < nx; j++)
			y[j * y_stride] = 0;
		return;
	}
	f->kernels[m40i_kernels_best()].dot_multi(row, x, n, nx, y, y_stride);
}

void m40i_vec_dot_tile(int type, const void *rows, size_t row_bytes, int nrows,
		       const float *x, int64_t n, int nx, float *y, size_t y_stride)
{
	const struct m40i_format *f = row_format(type, n);

	if (f == NULL) {
		for (int j = 0; j < nx; j++)
			for (int r = 0; r < nrows; r++)
				y[j * y_stride + r] = 0;
		return;
	}
	f->kernels[m40i_kernels_best()].dot_tile(rows, row_bytes, nrows, x, n, nx, y, y_stride);
}
