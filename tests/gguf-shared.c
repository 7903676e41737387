/* gguf-shared.c: every real GGUF file in $M40_SHARED (models, synthetic models,
 * tokenizer vocabularies) opens, and a few known facts hold.  Skips (77) without it. */
#include <config.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <m40/m40.h>

#include "check.h"

static int n_files;

static void
check_file(const char *path, const char *base)
{
	m40_gguf *g;
	m40_error err;
	m40_status st;
	const m40_gguf_value *tokens;
	uint64_t end = 0, bytes = 0;
	size_t i;
	const char *arch;

	st = m40_gguf_open(path, &g, &err);
	CHECK(st == M40_OK, "%s: %s", path, err.msg);
	if (st != M40_OK)
		return;
	n_files++;
	arch = m40_gguf_get_str(g, "general.architecture");
	tokens = m40_gguf_get(g, "tokenizer.ggml.tokens");
	for (i = 0; i < m40_gguf_n_tensors(g); i++) {
		const m40_gguf_tensor *t = m40_gguf_tensor_at(g, i);
		if (t->offset + t->size > end)
			end = t->offset + t->size;
		bytes += t->size;
		CHECK(m40_type_name(t->type) != NULL, "%s: tensor %s type %d", base, t->name, t->type);
	}
	printf("%s: v%u, %zu keys, %zu tensors (%llu bytes), arch %s, %llu tokens\n", base,
		m40_gguf_version(g), m40_gguf_n_kv(g), m40_gguf_n_tensors(g), (unsigned long long)bytes,
		arch ? arch : "-", tokens ? (unsigned long long)tokens->v.arr.n : 0ULL);
	CHECK(m40_gguf_version(g) == 3, "%s: version %u", base, m40_gguf_version(g));
	CHECK(arch != NULL, "%s: no general.architecture", base);
	CHECK(tokens != NULL && tokens->type == M40_GGUF_ARRAY &&
		tokens->v.arr.type == M40_GGUF_STRING, "%s: no token list", base);
	/* the tensors fill the file up to its end (gguf-py pads only between them) */
	if (m40_gguf_n_tensors(g) > 0)
		CHECK(m40_gguf_data_offset(g) + end == m40_gguf_file_size(g),
			"%s: tensors end at %llu of %llu", base,
			(unsigned long long)(m40_gguf_data_offset(g) + end),
			(unsigned long long)m40_gguf_file_size(g));

	if (strcmp(base, "stories260K.gguf") == 0) {
		const m40_gguf_tensor *t = m40_gguf_find_tensor(g, "token_embd.weight");
		int64_t v;
		CHECK(m40_gguf_n_tensors(g) == 48, "stories260K: %zu tensors", m40_gguf_n_tensors(g));
		CHECK(tokens != NULL && tokens->v.arr.n == 512, "stories260K: vocab");
		CHECK(m40_gguf_get_int(g, "llama.block_count", &v) && v == 5, "stories260K: 5 layers");
		CHECK(m40_gguf_get_int(g, "llama.embedding_length", &v) && v == 64, "stories260K: dim");
		CHECK(m40_gguf_get_int(g, "llama.attention.head_count_kv", &v) && v == 4, "stories260K: kv heads");
		CHECK(m40_gguf_get(g, "llama.rope.freq_base") == NULL, "stories260K: freq_base present");
		CHECK(t != NULL && t->type == M40_TYPE_F32 && t->ne[0] == 64 && t->ne[1] == 512,
			"stories260K: token_embd.weight");
	}
	if (strcmp(base, "llama-2-tiny-random.gguf") == 0)
		CHECK(tokens != NULL && tokens->v.arr.n == 32000, "llama-2-tiny-random: vocab 32000");
	if (strncmp(base, "st-", 3) == 0) {
		CHECK(tokens != NULL && tokens->v.arr.n == 512, "%s: vocab 512", base);
		for (i = 0; i < m40_gguf_n_tensors(g); i++)
			CHECK(m40_type_is_computable(m40_gguf_tensor_at(g, i)->type), "%s: %s is %s", base,
				m40_gguf_tensor_at(g, i)->name, m40_type_name(m40_gguf_tensor_at(g, i)->type));
	}
	m40_gguf_close(g);
}

static void
check_dir(const char *shared, const char *sub)
{
	char dir[4096], path[8192];
	struct dirent **names;
	int n, i;

	snprintf(dir, sizeof dir, "%s/%s", shared, sub);
	n = scandir(dir, &names, NULL, alphasort);
	CHECK(n >= 0, "cannot read %s", dir);
	for (i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);
		if (len > 5 && strcmp(names[i]->d_name + len - 5, ".gguf") == 0) {
			snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
			check_file(path, names[i]->d_name);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

int
main(void)
{
	const char *shared = getenv("M40_SHARED");
	char readme[4096];
	struct stat st;

	if (shared == NULL)
		shared = "../shared";
	snprintf(readme, sizeof readme, "%s/README.md", shared);
	if (stat(readme, &st) != 0) {
		printf("SKIP: no shared test data at %s\n", shared);
		return 77;
	}
	check_dir(shared, "models");
	check_dir(shared, "models/synthetic");
	check_dir(shared, "reference/tokenizer");
	CHECK(n_files >= 20, "only %d files read", n_files);
	printf("%d files read, %d checks, %d failed\n", n_files, checks, failures);
	return failures ? 1 : 0;
}
