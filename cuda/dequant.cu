/*
 * dequant.cu: weight rows to FP32 on the device: embedding lookups
 * (get_rows) and the tiles the GEMM path multiplies.  One thread per value;
 * these run once per prompt or step and are bound by their FP32 writes.
 */
#include "m40-int.h"

#include "m40-cuda.h"
#include "m40-quant.cuh"

/* out[i][c] = w[ids[i]][c]; rows outside the matrix give zeros. */
__global__ void get_rows_kernel(int type, const uint8_t *__restrict__ w, size_t row_bytes, int64_t rows,
	int64_t cols, const int32_t *__restrict__ ids, float *__restrict__ out)
{
	int64_t c = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
	int i = blockIdx.y;
	if (c >= cols)
		return;
	int64_t r = ids[i];
	float v = 0.0f;
	if (r >= 0 && r < rows)
		v = m40q_row_elem(type, w + (size_t)r * row_bytes, c);
	out[(size_t)i * cols + c] = v;
}

__global__ void dequant_rows_kernel(int type, const uint8_t *__restrict__ w, size_t row_bytes, int64_t cols,
	float *__restrict__ out)
{
	int64_t c = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
	int64_t r = blockIdx.y + (int64_t)blockIdx.z * 65535;
	if (c >= cols)
		return;
	out[(size_t)r * cols + c] = m40q_row_elem(type, w + (size_t)r * row_bytes, c);
}

int m40c_type_ok(int type)
{
	return m40q_block_size(type) != 0;
}

m40_status m40c_get_rows(m40_backend *be, const m40_weight *w, const int32_t *ids, int n, float *out)
{
	if (n <= 0)
		return M40_OK;
	dim3 grid((unsigned)((w->cols + 255) / 256), (unsigned)n);
	get_rows_kernel<<<grid, 256, 0, be->stream>>>(w->type, (const uint8_t *)w->data, w->row_bytes, w->rows,
		w->cols, ids, out);
	return m40c_check(be, "get_rows");
}

m40_status m40c_dequant_rows(m40_backend *be, const m40_weight *w, int64_t r0, int64_t nr, float *out)
{
	if (nr <= 0)
		return M40_OK;
	unsigned gy = (unsigned)(nr < 65535 ? nr : 65535), gz = (unsigned)((nr + 65534) / 65535);
	if (gz > 1 && nr % 65535)
		return m40_error_set(NULL, M40_E_INVALID, "dequant tile");
	dim3 grid((unsigned)((w->cols + 255) / 256), gy, gz);
	dequant_rows_kernel<<<grid, 256, 0, be->stream>>>(w->type, (const uint8_t *)w->data + (size_t)r0 * w->row_bytes,
		w->row_bytes, w->cols, out);
	return m40c_check(be, "dequantize");
}
