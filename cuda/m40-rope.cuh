/*
 * m40-rope.cuh: the RoPE rotation of one pair, shared by the RoPE kernels
 * (ops.cu) and the Q/K/V products that rotate as they store (matvec.cu).
 * The angle alone is computed in double, as the CPU backend does, so long
 * contexts keep their precision; its sine and cosine and the rotation are
 * FP32.
 */
#ifndef M40_ROPE_CUH
#define M40_ROPE_CUH

#include <stdint.h>

/* cos and sin of pair i's angle at position p: p * freq_scale *
 * freq_base^(-2i / n_dims), divided by ff[i] where frequency factors
 * (Llama 3.1) are given; lb = log2(freq_base).  The angle is exact to
 * double rounding (exp2 instead of pow: the same value, a fraction of the
 * work, which matters where FP64 is slow, as on Maxwell); it is reduced to
 * [-pi, pi] in double, and the sine and cosine of that are FP32. */
__device__ __forceinline__ void m40c_rope_cs(int p, int i, int n_dims, double lb, float freq_scale,
	const float *ff, float *c, float *s)
{
	double theta = (double)p * freq_scale * exp2(-2.0 * i / n_dims * lb);
	if (ff)
		theta /= ff[i];
	const double two_pi = 6.283185307179586476925;
	float r = (float)fma(-rint(theta * (1.0 / two_pi)), two_pi, theta);
	sincosf(r, s, c);
}

/* Element d of a rotated pair (x0, x1) = (element a, element b): a gets
 * x0 c - x1 s, b gets x0 s + x1 c. */
__device__ __forceinline__ float m40c_rope_elem(bool is_a, float x0, float x1, float c, float s)
{
	return is_a ? x0 * c - x1 * s : x0 * s + x1 * c;
}

#endif
