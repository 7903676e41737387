/* mkseeds.c: write a small seed corpus for fuzz-gguf with the project's own writer.
 * Usage: mkseeds DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <m40/m40.h>

static void
check(m40_status st, const char *what)
{
	if (st != M40_OK) {
		fprintf(stderr, "mkseeds: %s: %s\n", what, m40_strerror(st));
		exit(1);
	}
}

static void
save(m40_gguf_writer *w, const char *dir, const char *name, uint32_t version)
{
	char path[4096];
	m40_error err;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (m40_gguf_writer_save(w, path, version, &err) != M40_OK) {
		fprintf(stderr, "mkseeds: %s\n", err.msg);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	static const char *const vocab[] = { "<unk>", "<s>", "</s>", "", "\xe2\x96\x81the", "a" };
	static const int32_t ids[] = { 1, -2, 3, 2147483647 };
	static const float scores[] = { 0.0f, -1.5f, 2.25f, 1e30f, -0.0f, 3.0f };
	static const uint8_t types[] = { 0, 1, 2, 3, 3, 6 };
	unsigned char data[4096];
	m40_gguf_value inner[2], outer;
	m40_gguf_writer *w;
	int64_t ne[4] = { 32, 2, 1, 1 };
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds DIR\n");
		return 1;
	}
	for (i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 131 + 7);

	/* a tiny llama-like model, every scalar type, two tensor formats */
	w = m40_gguf_writer_new();
	check(m40_gguf_set_str(w, "general.architecture", "llama"), "str");
	check(m40_gguf_set_u32(w, "llama.context_length", 128), "u32");
	check(m40_gguf_set_u8(w, "t.u8", 200), "u8");
	check(m40_gguf_set_i8(w, "t.i8", -3), "i8");
	check(m40_gguf_set_u16(w, "t.u16", 60000), "u16");
	check(m40_gguf_set_i16(w, "t.i16", -30000), "i16");
	check(m40_gguf_set_i32(w, "t.i32", -7), "i32");
	check(m40_gguf_set_u64(w, "t.u64", 1ULL << 40), "u64");
	check(m40_gguf_set_i64(w, "t.i64", -(1LL << 40)), "i64");
	check(m40_gguf_set_f32(w, "llama.rope.freq_base", 10000.0f), "f32");
	check(m40_gguf_set_f64(w, "t.f64", 0.125), "f64");
	check(m40_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", true), "bool");
	check(m40_gguf_set_arr_str(w, "tokenizer.ggml.tokens", vocab, 6), "tokens");
	check(m40_gguf_set_arr(w, "tokenizer.ggml.scores", M40_GGUF_FLOAT32, scores, 6), "scores");
	check(m40_gguf_set_arr(w, "tokenizer.ggml.token_type", M40_GGUF_UINT8, types, 6), "types");
	check(m40_gguf_add_tensor(w, "token_embd.weight", M40_TYPE_F32, 2, ne, data, 256), "f32 tensor");
	check(m40_gguf_add_tensor(w, "blk.0.attn_q.weight", M40_TYPE_Q8_0, 2, ne, data, 68), "q8_0");
	ne[0] = 256;
	ne[1] = 1;
	check(m40_gguf_add_tensor(w, "output.weight", M40_TYPE_Q4_K, 1, ne, data, 144), "q4_K");
	save(w, argv[1], "model-v3.gguf", 3);
	save(w, argv[1], "model-v2.gguf", 2);
	check(m40_gguf_set_u32(w, "general.alignment", 64), "alignment");
	save(w, argv[1], "model-align64.gguf", 3);
	m40_gguf_writer_free(w);

	/* nested arrays */
	w = m40_gguf_writer_new();
	memset(inner, 0, sizeof inner);
	inner[0].type = M40_GGUF_ARRAY;
	inner[0].v.arr.type = M40_GGUF_INT32;
	inner[0].v.arr.n = 4;
	inner[0].v.arr.data = ids;
	inner[1].type = M40_GGUF_ARRAY;
	inner[1].v.arr.type = M40_GGUF_INT32;
	inner[1].v.arr.n = 0;
	inner[1].v.arr.data = ids;
	memset(&outer, 0, sizeof outer);
	outer.type = M40_GGUF_ARRAY;
	outer.v.arr.type = M40_GGUF_ARRAY;
	outer.v.arr.n = 2;
	outer.v.arr.items = inner;
	check(m40_gguf_set_value(w, "nested", &outer), "nested");
	check(m40_gguf_set_str(w, "empty", ""), "empty");
	save(w, argv[1], "nested.gguf", 3);
	m40_gguf_writer_free(w);

	/* nothing at all */
	w = m40_gguf_writer_new();
	save(w, argv[1], "empty.gguf", 3);
	m40_gguf_writer_free(w);
	return 0;
}
