/*
 * m40-rope.cuh: the RoPE rotation of one pair, shared by the RoPE kernels
 * (ops.cu) and the Q/K/V products that rotate as they store (matvec.cu).
 * The angle alone is computed in double, as the CPU backend does, so long
 * contexts keep their precision; the rotation itself is FP32.
 */
#ifndef M40_ROPE_CUH
#define M40_ROPE_CUH

#include <stdint.h>

/* cos and sin of pair i's angle at position p: p * freq_scale *
 * freq_base^(-2i / n_dims), divided by ff[i] where frequency factors
 * (Llama 3.1) are given. */
__device__ __forceinline__ void m40c_rope_cs(int p, int i, int n_dims, float freq_base, float freq_scale,
	const float *ff, float *c, float *s)
{
	double theta = (double)p * freq_scale * pow((double)freq_base, -2.0 * i / n_dims);
	if (ff)
		theta /= ff[i];
	double sd, cd;
	sincos(theta, &sd, &cd);
	*c = (float)cd;
	*s = (float)sd;
}

/* Element d of a rotated pair (x0, x1) = (element a, element b): a gets
 * x0 c - x1 s, b gets x0 s + x1 c. */
__device__ __forceinline__ float m40c_rope_elem(bool is_a, float x0, float x1, float c, float s)
{
	return is_a ? x0 * c - x1 * s : x0 * s + x1 * c;
}

#endif
