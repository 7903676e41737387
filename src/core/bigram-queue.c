/* bigram-queue.c: a binary heap of symbol pairs for the BPE merge loops. */
#include "m40-int.h"

#include <stdlib.h>

#include "bigram-queue.h"

/* a goes before b: lower key, then the leftmost pair. */
static inline bool
before(const struct m40i_bigram *a, const struct m40i_bigram *b)
{
	return a->key < b->key || (a->key == b->key && a->left < b->left);
}

bool
m40i_bigram_push(struct m40i_bigram_queue *q, const struct m40i_bigram *b)
{
	size_t i;

	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 256;
		struct m40i_bigram *h = realloc(q->heap, cap * sizeof *h);
		if (h == NULL)
			return false;
		q->heap = h;
		q->cap = cap;
	}
	for (i = q->n++; i > 0; ) {
		size_t parent = (i - 1) / 2;
		if (!before(b, &q->heap[parent]))
			break;
		q->heap[i] = q->heap[parent];
		i = parent;
	}
	q->heap[i] = *b;
	return true;
}

struct m40i_bigram
m40i_bigram_pop(struct m40i_bigram_queue *q)
{
	struct m40i_bigram top = q->heap[0], last = q->heap[--q->n];
	size_t i = 0, n = q->n;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && before(&q->heap[c + 1], &q->heap[c]))
			c++;
		if (!before(&q->heap[c], &last))
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	if (n > 0)
		q->heap[i] = last;
	return top;
}

void
m40i_bigram_queue_free(struct m40i_bigram_queue *q)
{
	free(q->heap);
	q->heap = NULL;
	q->n = q->cap = 0;
}
