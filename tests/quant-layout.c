/*
 * quant-layout: hand-built blocks with known scales and quants decode to
 * known floats, one per format, following the block layouts of ggml's
 * ggml-common.h byte by byte.  Special F16/BF16 values.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <m40/m40.h>

static int failures;

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)(v >> 8);
}

/* Dequantize blk (n elements of type) and compare with want[]. */
static void expect(const char *name, int type, const void *blk, int n, const float *want)
{
	float y[256];
	int bad = 0;

	if (m40_dequantize_row(type, blk, y, n) != M40_OK) {
		printf("FAIL %s: refused\n", name);
		failures++;
		return;
	}
	for (int i = 0; i < n; i++)
		if (y[i] != want[i] && !(isnan(y[i]) && isnan(want[i]))) {
			if (bad++ < 5)
				printf("FAIL %s element %d: %g, expected %g\n", name, i, y[i], want[i]);
		}
	failures += bad != 0;
	printf("%-8s %d elements %s\n", name, n, bad ? "WRONG" : "as expected");
}

static const int kvalues[16] = { -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113 };

static void legacy(void)
{
	unsigned char b[40];
	float w[32];

	/* Q4_0 {d; qs[16]}: element j low nibble of qs[j], j+16 the high. */
	put16(b, 0x3800); /* 0.5 */
	for (int j = 0; j < 16; j++)
		b[2 + j] = (unsigned char)(j | (15 - j) << 4);
	for (int j = 0; j < 16; j++)
		w[j] = (j - 8) * 0.5f, w[j + 16] = (7 - j) * 0.5f;
	expect("q4_0", M40_TYPE_Q4_0, b, 32, w);

	/* Q4_1 {d; m; qs[16]}: y = d*q + m. */
	put16(b, 0x4000); /* 2 */
	put16(b + 2, 0xbc00); /* -1 */
	for (int j = 0; j < 16; j++)
		b[4 + j] = (unsigned char)(j | (15 - j) << 4);
	for (int j = 0; j < 16; j++)
		w[j] = 2.0f * j - 1, w[j + 16] = 2.0f * (15 - j) - 1;
	expect("q4_1", M40_TYPE_Q4_1, b, 32, w);

	/* Q5_0 {d; qh[4]; qs[16]}: bit j of the little-endian qh is element j's fifth bit. */
	put16(b, 0x3c00);
	b[2] = 0x00, b[3] = 0x00, b[4] = 0xff, b[5] = 0xff; /* elements 16-31 */
	for (int j = 0; j < 16; j++)
		b[6 + j] = (unsigned char)(j | j << 4);
	for (int j = 0; j < 16; j++)
		w[j] = j - 16.0f, w[j + 16] = (float)j;
	expect("q5_0", M40_TYPE_Q5_0, b, 32, w);

	/* Q5_1 {d; m; qh[4]; qs[16]} */
	put16(b, 0x3c00);
	put16(b + 2, 0x3800); /* 0.5 */
	b[4] = 0x01, b[5] = 0x80, b[6] = 0x00, b[7] = 0x00; /* elements 0 and 15 */
	for (int j = 0; j < 16; j++)
		b[8 + j] = (unsigned char)(j | j << 4);
	for (int j = 0; j < 16; j++)
		w[j] = j + 0.5f, w[j + 16] = j + 0.5f;
	w[0] += 16, w[15] += 16;
	expect("q5_1", M40_TYPE_Q5_1, b, 32, w);

	/* Q8_0 {d; int8 qs[32]} */
	put16(b, 0x3400); /* 0.25 */
	for (int j = 0; j < 32; j++)
		b[2 + j] = (unsigned char)(int8_t)(8 * j - 128);
	for (int j = 0; j < 32; j++)
		w[j] = (8 * j - 128) * 0.25f;
	expect("q8_0", M40_TYPE_Q8_0, b, 32, w);

	/* IQ4_NL {d; qs[16]}: indices into the fixed table. */
	put16(b, 0xc000); /* -2 */
	for (int j = 0; j < 16; j++)
		b[2 + j] = (unsigned char)(j | (15 - j) << 4);
	for (int j = 0; j < 16; j++)
		w[j] = -2.0f * kvalues[j], w[j + 16] = -2.0f * kvalues[15 - j];
	expect("iq4_nl", M40_TYPE_IQ4_NL, b, 32, w);
}

/* The 12 bytes of Q4_K/Q5_K scales: 6-bit scale sc[j] and min m[j], j < 8.
 * Bytes 0-3: sc[0-3] | top bits of sc[4-7]; 4-7: m[0-3] | top bits of
 * m[4-7]; 8-11: low nibbles of sc[4-7] | low nibbles of m[4-7]. */
static void pack_k4(unsigned char *p, const int sc[8], const int m[8])
{
	for (int j = 0; j < 4; j++) {
		p[j] = (unsigned char)(sc[j] | (sc[j + 4] >> 4) << 6);
		p[j + 4] = (unsigned char)(m[j] | (m[j + 4] >> 4) << 6);
		p[j + 8] = (unsigned char)((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
	}
}

static void kquants(void)
{
	static const int sc[8] = { 1, 2, 3, 63, 17, 33, 48, 62 }, m[8] = { 0, 5, 63, 1, 20, 40, 60, 31 };
	unsigned char b[256];
	float w[256];

	/* Q2_K {scales[16]; qs[64]; d; dmin}: 16 sub-blocks of 16, scale in
	 * the low nibble, min in the high; sub-block s reads bit pair
	 * (s % 8) / 2 of qs[32 * (s / 8) + 16 * (s % 2) + l]. */
	for (int s = 0; s < 16; s++)
		b[s] = (unsigned char)((s & 15) | (15 - s) << 4);
	memset(b + 16, 0xe4, 64); /* bit pairs 0, 1, 2, 3 */
	put16(b + 80, 0x3c00);
	put16(b + 82, 0x3800); /* 0.5 */
	for (int e = 0; e < 256; e++) {
		int s = e / 16;
		w[e] = (float)((s & 15) * ((s % 8) / 2)) - 0.5f * (15 - s);
	}
	expect("q2_K", M40_TYPE_Q2_K, b, 256, w);

	/* Q3_K {hmask[32]; qs[64]; scales[12]; d}: 6-bit scales minus 32, low
	 * nibbles in bytes 0-7 (s and s+8), top bit pairs in bytes 8-11;
	 * hmask bit 4 * (s / 8) + (s % 8) / 2 clear subtracts 4. */
	{
		int s3[16];
		for (int s = 0; s < 16; s++)
			s3[s] = (s * 13 + 5) % 64;
		memset(b, 0x0f, 32); /* bits 0-3: first half of the block only */
		memset(b + 32, 0xe4, 64);
		memset(b + 96, 0, 12);
		for (int s = 0; s < 16; s++) {
			b[96 + s % 8] |= (unsigned char)((s3[s] & 15) << (s < 8 ? 0 : 4));
			b[96 + 8 + s % 4] |= (unsigned char)((s3[s] >> 4) << (2 * (s / 4)));
		}
		put16(b + 108, 0x4000); /* 2 */
		for (int e = 0; e < 256; e++) {
			int s = e / 16, q = (s % 8) / 2 - (s < 8 ? 0 : 4);
			w[e] = 2.0f * (s3[s] - 32) * q;
		}
		expect("q3_K", M40_TYPE_Q3_K, b, 256, w);
	}

	/* Q4_K {d; dmin; scales[12]; qs[128]}: 64 elements per 32 bytes, low
	 * nibbles (sub-block 2i) then high (2i+1); y = d*sc*q - dmin*m. */
	put16(b, 0x3c00);
	put16(b + 2, 0x3800);
	pack_k4(b + 4, sc, m);
	memset(b + 16, 0x53, 128);
	for (int e = 0; e < 256; e++) {
		int s = e / 32;
		w[e] = (float)(sc[s] * (s % 2 ? 5 : 3)) - 0.5f * m[s];
	}
	expect("q4_K", M40_TYPE_Q4_K, b, 256, w);

	/* Q5_K {d; dmin; scales[12]; qh[32]; qs[128]}: fifth bit of sub-block
	 * s in bit s of qh[l]. */
	put16(b, 0x3c00);
	put16(b + 2, 0x3c00);
	pack_k4(b + 4, sc, m);
	memset(b + 16, 0x55, 32); /* even sub-blocks get 16 */
	memset(b + 48, 0x53, 128);
	for (int e = 0; e < 256; e++) {
		int s = e / 32;
		w[e] = (float)(sc[s] * (s % 2 ? 5 : 3 + 16)) - m[s];
	}
	expect("q5_K", M40_TYPE_Q5_K, b, 256, w);

	/* Q6_K {ql[128]; qh[64]; int8 scales[16]; d}: per 128 elements, runs
	 * of 32 from low nibbles of ql[0-31], of ql[32-63], high nibbles of
	 * both, with bit pairs 0, 1, 2, 3 of qh; q - 32. */
	memset(b, 0x21, 128);
	memset(b + 128, 0xe4, 64);
	for (int s = 0; s < 16; s++)
		b[192 + s] = (unsigned char)(int8_t)(s - 8);
	put16(b + 208, 0x3800);
	for (int e = 0; e < 256; e++) {
		static const int q[4] = { 1 - 32, 17 - 32, 34 - 32, 50 - 32 };
		w[e] = 0.5f * (e / 16 - 8) * q[e % 128 / 32];
	}
	expect("q6_K", M40_TYPE_Q6_K, b, 256, w);
}

static void floats(void)
{
	static const uint16_t h[8] = { 0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00, 0x3555 };
	static const uint16_t bf[4] = { 0x3f80, 0xc2f7, 0x7f80, 0x0001 };
	unsigned char b[16];
	float w[8] = { 1, -2, 65504, 5.9604644775390625e-08f, 6.103515625e-05f, INFINITY, -INFINITY,
		       0.333251953125f };
	float wb[4] = { 1, -123.5f, INFINITY, ldexpf(1, -133) };

	for (int i = 0; i < 8; i++)
		put16(b + 2 * i, h[i]);
	expect("f16", M40_TYPE_F16, b, 8, w);
	for (int i = 0; i < 4; i++)
		put16(b + 2 * i, bf[i]);
	expect("bf16", M40_TYPE_BF16, b, 4, wb);
}

int main(void)
{
	legacy();
	kquants();
	floats();
	printf("%d failures\n", failures);
	return failures ? 1 : 0;
}
