/*
 * quant-round: FP16 and BF16 conversions, exhaustively against references
 * computed here from the definitions (and the compiler's _Float16 where it
 * has one), and the error bounds of the block quantizers.
 */
#include <config.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <m40/m40.h>

static int failures;

#define FAIL(...) \
	do { \
		if (failures++ < 20) \
			printf("FAIL " __VA_ARGS__); \
	} while (0)

static uint32_t bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

static float from_bits(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

/* The value of a finite half, from the definition. */
static double half_value(uint16_t h)
{
	int e = (h >> 10) & 31, m = h & 1023;
	double v = e ? ldexp(1024 + m, e - 25) : ldexp(m, -24);
	return h & 0x8000 ? -v : v;
}

/* Nearest half (ties to even) by search over the positive halves. */
static uint16_t half_ref(float f)
{
	double a = fabs((double)f);
	uint16_t sign = signbit(f) ? 0x8000 : 0;
	uint16_t lo = 0, hi = 0x7bff;

	if (isnan(f))
		return 0x7e00;
	if (a >= 65520.0)
		return sign | 0x7c00;
	while (lo < hi) { /* largest h with value(h) <= a */
		uint16_t mid = (uint16_t)((lo + hi + 1) / 2);
		if (half_value(mid) <= a)
			lo = mid;
		else
			hi = mid - 1;
	}
	if (lo < 0x7bff) {
		double dl = a - half_value(lo), dh = half_value(lo + 1) - a;
		if (dh < dl || (dh == dl && (lo & 1)))
			lo++;
	}
	return sign | lo;
}

/* Nearest bfloat16 (ties to even) from the two candidates. */
static uint16_t bf16_ref(float f)
{
	uint32_t u = bits(f), lo = u & 0xffff0000u, hi = lo + 0x10000;
	double dl = fabs((double)f - from_bits(lo)), dh;

	if (isnan(f))
		return (uint16_t)((u >> 16) | 0x40);
	if ((lo & 0x7fffffff) == 0x7f800000) /* infinity */
		return (uint16_t)(lo >> 16);
	if ((hi & 0x7f800000) == 0x7f800000) /* next would overflow: compare with 2^128 */
		dh = fabs(ldexp(signbit(f) ? -1 : 1, 128) - (double)f);
	else
		dh = fabs((double)from_bits(hi) - (double)f);
	return (uint16_t)((dh < dl || (dh == dl && ((lo >> 16) & 1)) ? hi : lo) >> 16);
}

static uint64_t rng = 88172645463325252u;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

static void test_fp16(void)
{
	int nan_seen = 0;

	for (uint32_t h = 0; h < 65536; h++) {
		float f = m40_fp16_to_fp32((uint16_t)h);
		bool is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);

		if (is_nan) {
			nan_seen++;
			uint16_t back = m40_fp32_to_fp16(f);
			if (!isnan(f) || (bits(f) >> 31) != (h >> 15) || (bits(f) & 0x7fffff) != (h & 0x3ffu) << 13)
				FAIL("fp16 %#06x: NaN becomes %#010x\n", h, bits(f));
			if ((back & 0x7c00) != 0x7c00 || !(back & 0x3ff) || (back & 0x8000) != (h & 0x8000))
				FAIL("fp16 NaN %#06x comes back as %#06x\n", h, back);
			continue;
		}
		if ((h & 0x7fff) == 0x7c00) {
			if (!isinf(f) || !!signbit(f) != !!(h & 0x8000))
				FAIL("fp16 %#06x: infinity becomes %g\n", h, f);
		} else if ((double)f != half_value((uint16_t)h) || !!signbit(f) != !!(h & 0x8000)) {
			FAIL("fp16 %#06x: %.10g, expected %.10g\n", h, f, half_value((uint16_t)h));
		}
		if (m40_fp32_to_fp16(f) != h)
			FAIL("fp16 %#06x does not round-trip (%#06x)\n", h, m40_fp32_to_fp16(f));
#ifdef __FLT16_MAX__
		{
			_Float16 hw;
			uint16_t hb = (uint16_t)h;
			memcpy(&hw, &hb, 2);
			if (bits((float)hw) != bits(f))
				FAIL("fp16 %#06x: %g, _Float16 says %g\n", h, f, (float)hw);
		}
#endif
		/* Rounding at the midpoint above h and one float ulp either side. */
		if ((h & 0x7fff) < 0x7c00) {
			double lo = fabs(half_value((uint16_t)h));
			double hi = (h & 0x7fff) == 0x7bff ? 65536.0 : fabs(half_value((uint16_t)(h + 1)));
			float mid = (float)((lo + hi) / 2), below = nextafterf(mid, 0), above = nextafterf(mid, INFINITY);
			uint16_t sign = h & 0x8000, even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
			if (sign) {
				mid = -mid, below = -below, above = -above;
			}
			if (m40_fp32_to_fp16(mid) != even || m40_fp32_to_fp16(below) != h ||
			    m40_fp32_to_fp16(above) != (uint16_t)(h + 1))
				FAIL("fp16 rounding near %#06x: mid %#06x below %#06x above %#06x\n", h,
				     m40_fp32_to_fp16(mid), m40_fp32_to_fp16(below), m40_fp32_to_fp16(above));
		}
	}
	/* Random floats of every exponent. */
	for (int i = 0; i < 2000000; i++) {
		float f = from_bits(next());
		uint16_t got = m40_fp32_to_fp16(f), want = half_ref(f);
		if (isnan(f) ? !((got & 0x7c00) == 0x7c00 && (got & 0x3ff)) : got != want)
			FAIL("fp16 of %.9g (%#010x): %#06x, expected %#06x\n", f, bits(f), got, want);
#ifdef __FLT16_MAX__
		if (!isnan(f)) {
			_Float16 hw = (_Float16)f;
			uint16_t hb;
			memcpy(&hb, &hw, 2);
			if (hb != got)
				FAIL("fp16 of %.9g: %#06x, _Float16 says %#06x\n", f, got, hb);
		}
#endif
	}
	printf("fp16: 65536 halves (%d NaN) exact, round-trip and midpoint rounding; "
	       "2000000 random floats rounded to nearest even%s\n", nan_seen,
#ifdef __FLT16_MAX__
	       ", also against _Float16"
#else
	       ""
#endif
	       );
}

static void test_bf16(void)
{
	for (uint32_t h = 0; h < 65536; h++) {
		float f = m40_bf16_to_fp32((uint16_t)h);
		bool is_nan = (h & 0x7f80) == 0x7f80 && (h & 0x7f);

		if (bits(f) != h << 16)
			FAIL("bf16 %#06x: %#010x\n", h, bits(f));
		if (is_nan) {
			uint16_t back = m40_fp32_to_bf16(f);
			if (back != (h | 0x40))
				FAIL("bf16 NaN %#06x comes back as %#06x\n", h, back);
			continue;
		}
		if (m40_fp32_to_bf16(f) != h)
			FAIL("bf16 %#06x does not round-trip\n", h);
		if ((h & 0x7fff) < 0x7f80) {
			uint32_t mid = (h << 16) + 0x8000;
			uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
			if (m40_fp32_to_bf16(from_bits(mid)) != even ||
			    m40_fp32_to_bf16(from_bits(mid - 1)) != h ||
			    m40_fp32_to_bf16(from_bits(mid + 1)) != (uint16_t)(h + 1))
				FAIL("bf16 rounding near %#06x\n", h);
		}
	}
	for (int i = 0; i < 2000000; i++) {
		float f = from_bits(next());
		if (m40_fp32_to_bf16(f) != bf16_ref(f))
			FAIL("bf16 of %#010x: %#06x, expected %#06x\n", bits(f), m40_fp32_to_bf16(f), bf16_ref(f));
	}
	printf("bf16: 65536 values exact, round-trip, NaN quieted, midpoint rounding; "
	       "2000000 random floats rounded to nearest even\n");
}

/*
 * Quantize -> dequantize of random blocks.  Per element the error is at
 * most half a step (a whole step where the format clamps its top level),
 * plus what rounding the FP16 scale and minimum costs; over uniform data
 * the mean error must be about a quarter step, which a quantizer that
 * truncated instead of rounding would miss.
 */
static void test_quantizer(int type, const char *name)
{
	enum { N = 32 * 512 };
	float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
	unsigned char *q = malloc(m40_type_row_bytes(type, N));
	double worst = 0, mean = 0;

	for (int i = 0; i < N; i++) {
		float scale = (float)ldexp(1.0, (int)(i / 32 % 16) - 8); /* 2^-8 .. 2^7 by block */
		x[i] = ((float)next() / 4294967296.0f * 2 - 1) * scale;
	}
	for (int i = 0; i < 64; i++) /* one block of zeros, one constant */
		x[i] = i < 32 ? 0 : 0.75f;
	if (m40_quantize_row(type, x, q, N) != M40_OK || m40_dequantize_row(type, q, y, N) != M40_OK) {
		FAIL("%s: quantize or dequantize refused\n", name);
		goto out;
	}
	for (int b = 0; b < N / 32; b++) {
		const float *xb = x + 32 * b, *yb = y + 32 * b;
		float amax = 0, min = FLT_MAX, max = -FLT_MAX;
		double step, bound;

		for (int j = 0; j < 32; j++) {
			amax = fmaxf(amax, fabsf(xb[j]));
			min = fminf(min, xb[j]);
			max = fmaxf(max, xb[j]);
		}
		/* What storing the scale (and the minimum) as halves may cost,
		 * relative to the normal range, absolute where subnormal. */
		double dr, mr = fmax(fabs(min) / 2048, ldexp(1, -25));
		switch (type) {
		case M40_TYPE_Q8_0: step = amax / 127.0; break;
		case M40_TYPE_Q4_0: step = amax / 8.0; break;
		case M40_TYPE_Q5_0: step = amax / 16.0; break;
		case M40_TYPE_Q4_1: step = (max - min) / 15.0; break;
		default: step = (max - min) / 31.0; break;
		}
		dr = fmax(step / 2048, ldexp(1, -25));
		switch (type) {
		case M40_TYPE_Q8_0: bound = 0.5 * step + 127 * dr; break;
		case M40_TYPE_Q4_0: bound = step + 8 * dr; break; /* +8 clamps to +7 */
		case M40_TYPE_Q5_0: bound = step + 16 * dr; break;
		case M40_TYPE_Q4_1: bound = 0.5 * step + 15 * dr + mr; break;
		default: bound = 0.5 * step + 31 * dr + mr; break;
		}
		bound *= 1.001; /* float arithmetic in the quantizer */
		for (int j = 0; j < 32; j++) {
			double e = fabs((double)yb[j] - xb[j]);
			if (!(e <= bound))
				FAIL("%s block %d element %d: %.9g became %.9g (error %.3g, bound %.3g)\n",
				     name, b, j, xb[j], yb[j], e, bound);
			if (step > 0) {
				worst = fmax(worst, e / step);
				mean += e / step;
			}
		}
	}
	mean /= N - 64;
	if (!(mean > 0.2 && mean < 0.3))
		FAIL("%s: mean error %.3f steps, expected about 0.25\n", name, mean);
	for (int j = 0; j < 32; j++)
		/* (Q8_0's scale 0.75/127 is not a half: no exact constant) */
		if (y[j] != 0 || (type != M40_TYPE_Q8_0 && y[32 + j] != 0.75f))
			FAIL("%s: zero or constant block not kept (%g, %g)\n", name, y[j], y[32 + j]);
	printf("%s: %d elements within bounds, worst %.3f steps, mean %.3f steps\n", name, N, worst, mean);
out:
	free(x);
	free(y);
	free(q);
}

/* Q4_K, Q5_K and Q6_K (ggml's fits, checked byte for byte against llama.cpp in
 * quant-oracle.sh): relative RMS error on Gaussian-like data. */
static void test_kquantizer(int type, const char *name, double max_rel)
{
	enum { N = 256 * 64 };
	float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
	unsigned char *q = malloc(m40_type_row_bytes(type, N));
	double se = 0, sx = 0;

	for (int i = 0; i < N; i++) {
		float s = 0;
		for (int k = 0; k < 4; k++) /* roughly Gaussian */
			s += (float)next() / 4294967296.0f - 0.5f;
		x[i] = s * (float)ldexp(1.0, i / 256 % 8 - 4);
	}
	if (m40_quantize_row(type, x, q, N) != M40_OK || m40_dequantize_row(type, q, y, N) != M40_OK) {
		FAIL("%s: quantize or dequantize refused\n", name);
	} else {
		for (int i = 0; i < N; i++) {
			se += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
			sx += (double)x[i] * x[i];
		}
		if (!(sqrt(se / sx) < max_rel))
			FAIL("%s: relative RMS error %.4f, expected below %.4f\n", name, sqrt(se / sx), max_rel);
		printf("%s: relative RMS error %.4f (bound %.3f)\n", name, sqrt(se / sx), max_rel);
	}
	free(x);
	free(y);
	free(q);
}

int main(void)
{
	test_fp16();
	test_bf16();
	test_quantizer(M40_TYPE_Q8_0, "q8_0");
	test_quantizer(M40_TYPE_Q4_0, "q4_0");
	test_quantizer(M40_TYPE_Q4_1, "q4_1");
	test_quantizer(M40_TYPE_Q5_0, "q5_0");
	test_quantizer(M40_TYPE_Q5_1, "q5_1");
	test_kquantizer(M40_TYPE_Q4_K, "q4_K", 0.12);
	test_kquantizer(M40_TYPE_Q5_K, "q5_K", 0.06);
	test_kquantizer(M40_TYPE_Q6_K, "q6_K", 0.03);
	printf("%d failures\n", failures);
	return failures ? 1 : 0;
}
