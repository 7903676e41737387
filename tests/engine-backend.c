/* engine-backend.c: the public backend queries (cpu always, cuda as built), the engine's choice
 * of backend, and the upload progress callback; no shared data needed. */
#include <config.h>

#include "engine-common.h"

static int bad;

static void
expect(bool ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		bad = 1;
}

struct progress {
	int calls;
	uint64_t done, total;
	bool monotonic;
};

static void
on_progress(void *user, uint64_t done, uint64_t total)
{
	struct progress *p = user;

	if (done < p->done || done > total)
		p->monotonic = false;
	p->calls++;
	p->done = done;
	p->total = total;
}

int
main(void)
{
	m40_device_info info;
	m40_error err;
	int n = -1;
	void *buf = NULL;
	size_t size;
	m40_gguf *g = NULL;
	m40_model *m = NULL;
	m40_engine *e = NULL;
	struct progress pr = { 0, 0, 0, true };

	m40_error_clear(&err);
	expect(m40_backend_available("cpu"), "the cpu backend is built in");
	expect(!m40_backend_available("tpu"), "an unknown backend is not available");
	expect(m40_backend_device_count("cpu", &n, &err) == M40_OK && n == 1, "the cpu backend has one device");
	expect(m40_backend_device_info("cpu", 0, &info, &err) == M40_OK && info.name[0] != '\0'
		&& info.total_mem > 0 && info.multiprocessors > 0, "cpu device info: name, memory, cores");
	printf("   cpu: %s, %d cores, %.1f GiB, %.1f GiB free\n", info.name, info.multiprocessors,
		info.total_mem / 1073741824.0, info.free_mem / 1073741824.0);
	expect(m40_backend_device_info("cpu", 1, &info, &err) == M40_E_NOTFOUND, "cpu device 1 does not exist");
	if (!m40_backend_available("cuda")) {
		m40_status s = m40_backend_device_count("cuda", &n, &err);
		printf("   cuda: %s\n", err.msg);
		expect(s == M40_E_NODEVICE && err.msg[0] != '\0', "without CUDA built in, cuda says why");
	} else if (m40_backend_device_count("cuda", &n, &err) == M40_OK) {
		printf("   cuda: %d device(s)\n", n);
	} else {
		printf("   cuda: %s\n", err.msg);
	}

	if (m40_model_demo(&buf, &size, &err) != M40_OK || m40_gguf_open_memory(buf, size, &g, &err) != M40_OK
		|| m40_model_from_gguf(g, &m, &err) != M40_OK) {
		printf("FAIL: demo model: %s\n", err.msg);
		return 1;
	}
	m40_engine_params ep = { .backend = "cpu", .n_threads = 1, .progress = on_progress,
		.progress_user = &pr };
	expect(m40_engine_new(m, &ep, &e, &err) == M40_OK, "an engine on the cpu backend");
	if (e != NULL) {
		expect(strcmp(m40_engine_backend_name(e), "cpu") == 0 && m40_engine_n_ctx(e) == 512
			&& m40_engine_n_seq(e) == 1 && m40_engine_n_batch(e) == 512,
			"defaults: n_ctx = the model's 512, 1 sequence, batches of 512");
		printf("   progress: %d calls, %llu of %llu bytes\n", pr.calls, (unsigned long long)pr.done,
			(unsigned long long)pr.total);
		expect(pr.calls > 1 && pr.monotonic && pr.done == pr.total
			&& pr.total == m40_model_weight_bytes(m),
			"the progress callback counts up to the model's weight bytes");
	}
	m40_engine_free(e);
	e = NULL;
	m40_engine_params au = { .backend = "auto", .n_threads = 1 };
	if (m40_engine_new(m, &au, &e, &err) == M40_OK) {
		printf("   auto chose %s\n", m40_engine_backend_name(e));
		expect(strcmp(m40_engine_backend_name(e), m40_backend_available("cuda") ? m40_engine_backend_name(e) : "cpu") == 0,
			"auto picks cpu when CUDA is not built in");
	} else {
		printf("FAIL: auto: %s\n", err.msg);
		bad = 1;
	}
	m40_engine_free(e);
	m40_model_close(m);
	m40_gguf_close(g);
	free(buf);
	return bad;
}
