/* bigram-queue.h: the work queue of BPE merges (SPM and byte-level alike): adjacent pairs, best first. */
#ifndef M40_BIGRAM_QUEUE_H
#define M40_BIGRAM_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct m40i_bigram {
	double key;       /* lower merges first: -score for SPM, the merge rank for BPE */
	int32_t left, right;
	uint32_t size;    /* bytes of the pair when queued: a changed symbol makes it stale */
	int32_t id;       /* the token the pair makes, where the tokenizer needs it */
};

struct m40i_bigram_queue {
	struct m40i_bigram *heap;
	size_t n, cap;
};

/* false when out of memory. */
bool m40i_bigram_push(struct m40i_bigram_queue *q, const struct m40i_bigram *b);
/* The best pair (lowest key, then leftmost); q must not be empty. */
struct m40i_bigram m40i_bigram_pop(struct m40i_bigram_queue *q);
void m40i_bigram_queue_free(struct m40i_bigram_queue *q);

#endif
