/* threadpool.c: worker threads woken by a generation counter, for the CPU backend's loops. */
#include "m40-int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "threadpool.h"

struct m40i_pool {
	int n;                  /* threads, the caller's included */
	pthread_t *threads;     /* n - 1 workers */
	pthread_mutex_t mu;
	pthread_cond_t work;    /* generation advanced or quit */
	pthread_cond_t done;    /* pending reached 0 */
	unsigned long generation;
	int pending;            /* workers still running this generation */
	int quit;
	m40i_pool_fn fn;
	void *ctx;
};

struct worker_arg {
	m40i_pool *p;
	int i;
};

static void *
worker(void *arg)
{
	struct worker_arg a = *(struct worker_arg *)arg;
	m40i_pool *p = a.p;
	unsigned long seen = 0;

	free(arg);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && p->generation == seen)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->quit)
			break;
		seen = p->generation;
		m40i_pool_fn fn = p->fn;
		void *ctx = p->ctx;
		pthread_mutex_unlock(&p->mu);
		fn(ctx, a.i, p->n);
		pthread_mutex_lock(&p->mu);
		if (--p->pending == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

m40_status
m40i_pool_new(int n_threads, m40i_pool **out, m40_error *err)
{
	m40i_pool *p;
	int i, rc;

	*out = NULL;
	if (n_threads < 1)
		n_threads = 1;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return m40_error_set(err, M40_E_NOMEM, _("out of memory for a thread pool"));
	p->n = 1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	if (n_threads > 1) {
		p->threads = calloc((size_t)n_threads - 1, sizeof *p->threads);
		if (p->threads == NULL) {
			m40i_pool_free(p);
			return m40_error_set(err, M40_E_NOMEM, _("out of memory for a thread pool"));
		}
	}
	for (i = 1; i < n_threads; i++) {
		struct worker_arg *a = malloc(sizeof *a);
		if (a == NULL) {
			m40i_pool_free(p);
			return m40_error_set(err, M40_E_NOMEM, _("out of memory for a thread pool"));
		}
		a->p = p;
		a->i = i;
		rc = pthread_create(&p->threads[i - 1], NULL, worker, a);
		if (rc != 0) {
			free(a);
			m40i_pool_free(p);
			return m40_error_set(err, M40_E_NOMEM, _("cannot start thread %d of %d: %s"), i + 1,
				n_threads, strerror(rc));
		}
		p->n = i + 1;
	}
	*out = p;
	return M40_OK;
}

void
m40i_pool_free(m40i_pool *p)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (i = 1; i < p->n; i++)
		pthread_join(p->threads[i - 1], NULL);
	free(p->threads);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int
m40i_pool_size(const m40i_pool *p)
{
	return p->n;
}

void
m40i_pool_run(m40i_pool *p, m40i_pool_fn fn, void *ctx)
{
	if (p->n == 1) {
		fn(ctx, 0, 1);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->ctx = ctx;
	p->pending = p->n - 1;
	p->generation++;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	fn(ctx, 0, p->n);
	pthread_mutex_lock(&p->mu);
	while (p->pending > 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}
