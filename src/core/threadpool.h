/* threadpool.h: a fixed set of worker threads that run one parallel loop at a time. */
#ifndef M40_THREADPOOL_H
#define M40_THREADPOOL_H

#include <m40/error.h>

typedef struct m40i_pool m40i_pool;

/* fn(ctx, i, n) is called once by each of n threads with i = 0..n-1; the
 * caller's thread is number 0.  A pool of one thread starts no threads. */
typedef void (*m40i_pool_fn)(void *ctx, int i, int n);

m40_status m40i_pool_new(int n_threads, m40i_pool **out, m40_error *err);
void m40i_pool_free(m40i_pool *p);
int m40i_pool_size(const m40i_pool *p);
/* Run fn on every thread and return when all have finished. */
void m40i_pool_run(m40i_pool *p, m40i_pool_fn fn, void *ctx);

/* The part [*begin, *end) of n items that thread i of nt takes. */
static inline void
m40i_pool_split(long n, int i, int nt, long *begin, long *end)
{
	*begin = n * i / nt;
	*end = n * (i + 1) / nt;
}

#endif
