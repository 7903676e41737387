/* tokenize-pre.c: the BPE pre-tokenizers' splits on texts with letters, digits, punctuation,
 * contractions, whitespace runs, CJK and emoji.  The expected pieces (lengths in codepoints) come
 * from the original regexes run by Python's regex module, one after the other as llama.cpp applies
 * them; the splitters are compiled into this test. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "vocab-int.h"

static const struct {
	enum m40i_pre pre;
	const char *text;
	unsigned len[32];
	size_t n;
} cases[] = {
	{ M40I_PRE_DEFAULT, "Hello World!", { 5, 6, 1 }, 3 },
	{ M40I_PRE_DEFAULT, "I'm don't WON'T", { 1, 1, 1, 4, 1, 1, 4, 1, 1 }, 9 },
	{ M40I_PRE_DEFAULT, "In 2024 there are 366 days, 1234567 ids", { 2, 1, 3, 1, 6, 4, 1, 3, 5, 1, 1, 3, 3, 1, 4 }, 15 },
	{ M40I_PRE_DEFAULT, "a+b=c; x<=y | z^2 ~w $5 `code`", { 1, 1, 1, 1, 1, 1, 2, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 1 }, 23 },
	{ M40I_PRE_DEFAULT, "  leading and trailing  ", { 1, 8, 4, 9, 2 }, 5 },
	{ M40I_PRE_DEFAULT, "tabs\011and\012newlines\015\012\012 end", { 4, 1, 3, 1, 8, 3, 4 }, 7 },
	{ M40I_PRE_DEFAULT, "h\303\251llo w\303\266rld \302\275 \331\243\331\244 \344\270\255\346\226\207\345\255\227\347\254\246 ok", { 5, 6, 1, 1, 1, 2, 5, 3 }, 8 },
	{ M40I_PRE_DEFAULT, "emoji \360\237\230\200\360\237\230\200 and ... dots!!!", { 5, 3, 4, 1, 3, 5, 3 }, 7 },
	{ M40I_PRE_DEFAULT, "x's y'LL z'Ve", { 1, 1, 1, 2, 1, 2, 2, 1, 2 }, 9 },
	{ M40I_PRE_DEFAULT, "100,000.50%", { 3, 1, 3, 1, 2, 1 }, 6 },
	{ M40I_PRE_LLAMA3, "Hello World!", { 5, 6, 1 }, 3 },
	{ M40I_PRE_LLAMA3, "I'm don't WON'T", { 1, 2, 4, 2, 4, 2 }, 6 },
	{ M40I_PRE_LLAMA3, "In 2024 there are 366 days, 1234567 ids", { 2, 1, 3, 1, 6, 4, 1, 3, 5, 1, 1, 3, 3, 1, 4 }, 15 },
	{ M40I_PRE_LLAMA3, "a+b=c; x<=y | z^2 ~w $5 `code`", { 1, 2, 2, 1, 2, 2, 1, 2, 2, 1, 1, 2, 1, 2, 1, 2, 4, 1 }, 18 },
	{ M40I_PRE_LLAMA3, "  leading and trailing  ", { 1, 8, 4, 9, 2 }, 5 },
	{ M40I_PRE_LLAMA3, "tabs\011and\012newlines\015\012\012 end", { 4, 4, 1, 8, 3, 4 }, 6 },
	{ M40I_PRE_LLAMA3, "h\303\251llo w\303\266rld \302\275 \331\243\331\244 \344\270\255\346\226\207\345\255\227\347\254\246 ok", { 5, 6, 1, 1, 1, 2, 5, 3 }, 8 },
	{ M40I_PRE_LLAMA3, "emoji \360\237\230\200\360\237\230\200 and ... dots!!!", { 5, 3, 4, 4, 5, 3 }, 6 },
	{ M40I_PRE_LLAMA3, "x's y'LL z'Ve", { 1, 2, 2, 3, 2, 3 }, 6 },
	{ M40I_PRE_LLAMA3, "100,000.50%", { 3, 1, 3, 1, 2, 1 }, 6 },
	{ M40I_PRE_QWEN2, "Hello World!", { 5, 6, 1 }, 3 },
	{ M40I_PRE_QWEN2, "I'm don't WON'T", { 1, 2, 4, 2, 4, 2 }, 6 },
	{ M40I_PRE_QWEN2, "In 2024 there are 366 days, 1234567 ids", { 2, 1, 1, 1, 1, 1, 6, 4, 1, 1, 1, 1, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4 }, 23 },
	{ M40I_PRE_QWEN2, "a+b=c; x<=y | z^2 ~w $5 `code`", { 1, 2, 2, 1, 2, 2, 1, 2, 2, 1, 1, 2, 1, 2, 1, 2, 4, 1 }, 18 },
	{ M40I_PRE_QWEN2, "  leading and trailing  ", { 1, 8, 4, 9, 2 }, 5 },
	{ M40I_PRE_QWEN2, "tabs\011and\012newlines\015\012\012 end", { 4, 4, 1, 8, 3, 4 }, 6 },
	{ M40I_PRE_QWEN2, "h\303\251llo w\303\266rld \302\275 \331\243\331\244 \344\270\255\346\226\207\345\255\227\347\254\246 ok", { 5, 6, 1, 1, 1, 1, 1, 5, 3 }, 9 },
	{ M40I_PRE_QWEN2, "emoji \360\237\230\200\360\237\230\200 and ... dots!!!", { 5, 3, 4, 4, 5, 3 }, 6 },
	{ M40I_PRE_QWEN2, "x's y'LL z'Ve", { 1, 2, 2, 3, 2, 3 }, 6 },
	{ M40I_PRE_QWEN2, "100,000.50%", { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, 11 },
	{ M40I_PRE_GPT2, "Hello World!", { 5, 6, 1 }, 3 },
	{ M40I_PRE_GPT2, "I'm don't WON'T", { 1, 2, 4, 2, 4, 1, 1 }, 7 },
	{ M40I_PRE_GPT2, "In 2024 there are 366 days, 1234567 ids", { 2, 5, 6, 4, 4, 5, 1, 8, 4 }, 9 },
	{ M40I_PRE_GPT2, "a+b=c; x<=y | z^2 ~w $5 `code`", { 1, 1, 1, 1, 1, 1, 2, 2, 1, 2, 2, 1, 1, 2, 1, 2, 1, 2, 4, 1 }, 20 },
	{ M40I_PRE_GPT2, "  leading and trailing  ", { 1, 8, 4, 9, 2 }, 5 },
	{ M40I_PRE_GPT2, "tabs\011and\012newlines\015\012\012 end", { 4, 1, 3, 1, 8, 3, 4 }, 7 },
	{ M40I_PRE_GPT2, "h\303\251llo w\303\266rld \302\275 \331\243\331\244 \344\270\255\346\226\207\345\255\227\347\254\246 ok", { 5, 6, 2, 3, 5, 3 }, 6 },
	{ M40I_PRE_GPT2, "emoji \360\237\230\200\360\237\230\200 and ... dots!!!", { 5, 3, 4, 4, 5, 3 }, 6 },
	{ M40I_PRE_GPT2, "x's y'LL z'Ve", { 1, 2, 2, 1, 2, 2, 1, 2 }, 8 },
	{ M40I_PRE_GPT2, "100,000.50%", { 3, 1, 3, 1, 2, 1 }, 6 },
	{ M40I_PRE_SMOLLM, "Hello World!", { 5, 6, 1 }, 3 },
	{ M40I_PRE_SMOLLM, "I'm don't WON'T", { 1, 2, 4, 2, 4, 1, 1 }, 7 },
	{ M40I_PRE_SMOLLM, "In 2024 there are 366 days, 1234567 ids", { 2, 1, 1, 1, 1, 1, 6, 4, 1, 1, 1, 1, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4 }, 23 },
	{ M40I_PRE_SMOLLM, "a+b=c; x<=y | z^2 ~w $5 `code`", { 1, 1, 1, 1, 1, 1, 2, 2, 1, 2, 2, 1, 1, 2, 1, 2, 1, 2, 4, 1 }, 20 },
	{ M40I_PRE_SMOLLM, "  leading and trailing  ", { 1, 8, 4, 9, 2 }, 5 },
	{ M40I_PRE_SMOLLM, "tabs\011and\012newlines\015\012\012 end", { 4, 1, 3, 1, 8, 3, 4 }, 7 },
	{ M40I_PRE_SMOLLM, "h\303\251llo w\303\266rld \302\275 \331\243\331\244 \344\270\255\346\226\207\345\255\227\347\254\246 ok", { 5, 6, 1, 1, 1, 1, 1, 5, 3 }, 9 },
	{ M40I_PRE_SMOLLM, "emoji \360\237\230\200\360\237\230\200 and ... dots!!!", { 5, 3, 4, 4, 5, 3 }, 6 },
	{ M40I_PRE_SMOLLM, "x's y'LL z'Ve", { 1, 2, 2, 1, 2, 2, 1, 2 }, 8 },
	{ M40I_PRE_SMOLLM, "100,000.50%", { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, 11 },
	{ M40I_PRE_FALCON, "Hello World!", { 5, 6, 1 }, 3 },
	{ M40I_PRE_FALCON, "I'm don't WON'T", { 1, 1, 1, 4, 1, 1, 4, 1, 1 }, 9 },
	{ M40I_PRE_FALCON, "In 2024 there are 366 days, 1234567 ids", { 2, 1, 3, 1, 6, 4, 1, 3, 5, 1, 1, 3, 3, 1, 4 }, 15 },
	{ M40I_PRE_FALCON, "a+b=c; x<=y | z^2 ~w $5 `code`", { 1, 1, 1, 1, 1, 1, 2, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 1 }, 24 },
	{ M40I_PRE_FALCON, "  leading and trailing  ", { 1, 8, 4, 9, 2 }, 5 },
	{ M40I_PRE_FALCON, "tabs\011and\012newlines\015\012\012 end", { 4, 1, 3, 1, 8, 3, 4 }, 7 },
	{ M40I_PRE_FALCON, "h\303\251llo w\303\266rld \302\275 \331\243\331\244 \344\270\255\346\226\207\345\255\227\347\254\246 ok", { 5, 6, 2, 3, 5, 3 }, 6 },
	{ M40I_PRE_FALCON, "emoji \360\237\230\200\360\237\230\200 and ... dots!!!", { 5, 3, 4, 1, 3, 5, 3 }, 7 },
	{ M40I_PRE_FALCON, "x's y'LL z'Ve", { 1, 1, 1, 2, 1, 2, 2, 1, 2 }, 9 },
	{ M40I_PRE_FALCON, "100,000.50%", { 3, 1, 3, 1, 2, 1 }, 6 },
};

static const char *const pre_name[] = { "default", "llama3", "qwen2", "gpt2", "smollm", "falcon" };

int
main(void)
{
	struct m40i_words w = { 0 };
	size_t ok = 0, n = sizeof cases / sizeof cases[0];

	for (size_t i = 0; i < n; i++) {
		bool same;

		if (!m40i_pretokenize(cases[i].pre, cases[i].text, strlen(cases[i].text), &w)) {
			printf("FAIL: out of memory\n");
			return 1;
		}
		same = w.n_words == cases[i].n;
		for (size_t k = 0; same && k < w.n_words; k++)
			same = w.len[k] == cases[i].len[k];
		if (!same) {
			printf("FAIL %s '%s': got", pre_name[cases[i].pre], cases[i].text);
			for (size_t k = 0; k < w.n_words; k++)
				printf(" %u", w.len[k]);
			printf(", want");
			for (size_t k = 0; k < cases[i].n; k++)
				printf(" %u", cases[i].len[k]);
			printf("\n");
		}
		ok += same;
	}
	m40i_words_free(&w);
	printf("pre-tokenizer splits: %zu/%zu as the regexes give them\n", ok, n);
	return ok == n ? 0 : 1;
}
