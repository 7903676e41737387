/* generate-run.c: m40-generate's scheduler: prompts share the engine's sequence
 * slots, joining and leaving the batch as they finish; results in input order. */
#include "cli.h"
#include "generate.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

enum slot_state { SLOT_FREE, SLOT_PREFILL, SLOT_GEN };

/* One prompt's outcome, kept until its turn to be printed. */
typedef struct result {
	char *text;
	size_t len, cap;
	int32_t *tokens;
	size_t n_tokens, cap_tokens;
	const char *finish;  /* "stop", "length" or "context" */
	double t_start, t_first, t_end; /* seconds */
	int n_decoded;       /* generated tokens fed back to the engine */
	bool done;
} result;

/* A sequence slot of the engine and the prompt it is working on. */
typedef struct slot {
	enum slot_state state;
	size_t prompt;       /* index in the prompts */
	size_t n_fed;        /* prompt tokens put in a batch */
	int n_past;          /* positions in the cache */
	int32_t next;        /* sampled token waiting to be fed */
	int n_gen;           /* tokens generated */
	size_t emitted;      /* bytes of text settled (printed when streaming) */
	bool strip_space;    /* drop the space that starts the text (SPM, BOS-only prompt) */
	m40_sampler *sampler;
	m40_decoder *decoder;
} slot;

typedef struct run {
	m40_engine *e;
	const m40_vocab *vocab;
	const gen_prompts *ps;
	const gen_opts *o;
	int n_ctx, n_batch, n_slot;
	int32_t n_vocab;
	slot *slots;
	result *res;
	size_t next_prompt, next_print;
	bool stream;         /* one prompt: print as tokens arrive */
	bool *eog;           /* per id: ends a generation */
	float *masked;       /* logits with EOG masked (--ignore-eos) */
	/* the batch */
	int32_t *tok, *pos, *seq;
	bool *want;
	int *owner;          /* slot of each requested logits row */
	/* totals for --verbose */
	double t_prompt, t_gen;
	long n_prompt_tok, n_gen_tok, n_gen_steps_tok;
} run;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		cli_die(M40_EXIT_FAILURE, _("out of memory"));
	return p;
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		cli_die(M40_EXIT_FAILURE, _("out of memory"));
	return p;
}

static void
text_append(result *res, const char *s, size_t n)
{
	if (res->len + n + 1 > res->cap) {
		size_t cap = res->cap ? res->cap : 256;
		char *t;

		while (res->len + n + 1 > cap)
			cap *= 2;
		t = realloc(res->text, cap);
		if (t == NULL)
			cli_die(M40_EXIT_FAILURE, _("out of memory"));
		res->text = t;
		res->cap = cap;
	}
	memcpy(res->text + res->len, s, n);
	res->len += n;
	res->text[res->len] = '\0';
}

static void
token_append(result *res, int32_t id)
{
	if (res->n_tokens == res->cap_tokens) {
		size_t cap = res->cap_tokens ? res->cap_tokens * 2 : 64;
		int32_t *t = realloc(res->tokens, cap * sizeof(*t));

		if (t == NULL)
			cli_die(M40_EXIT_FAILURE, _("out of memory"));
		res->tokens = t;
		res->cap_tokens = cap;
	}
	res->tokens[res->n_tokens++] = id;
}

static void
write_out(const void *p, size_t n)
{
	if (n > 0 && fwrite(p, 1, n, stdout) != n)
		cli_die(M40_EXIT_FAILURE, _("write error: %s"), strerror(errno));
}

/*
 * New text for a slot: look for a stop string in what is not yet settled,
 * cut the text there if one is found (returns true), else settle all but a
 * tail that could still become a stop string (all of it when final).  Text
 * is whole UTF-8 characters and stop strings start with one, so the tail
 * held back starts on a character boundary.
 */
static bool
settle_text(run *r, slot *sl, result *res, bool final)
{
	const gen_opts *o = r->o;
	size_t i, hold = 0, cut = res->len;
	bool stopped = false;

	for (i = 0; i < o->n_stops; i++) {
		size_t sn = strlen(o->stops[i]), avail = res->len - sl->emitted, k;
		const char *hit;

		if (sn == 0)
			continue;
		if (avail >= sn) {
			hit = memmem(res->text + sl->emitted, avail, o->stops[i], sn);
			if (hit != NULL && (size_t)(hit - res->text) < cut) {
				cut = (size_t)(hit - res->text);
				stopped = true;
			}
		}
		/* the longest proper prefix of the stop string that ends the text */
		for (k = sn - 1 < avail ? sn - 1 : avail; k > hold; k--)
			if (memcmp(res->text + res->len - k, o->stops[i], k) == 0) {
				hold = k;
				break;
			}
	}
	if (stopped) {
		res->len = cut;
		res->text[cut] = '\0';
		hold = 0;
	}
	if (final)
		hold = 0;
	if (r->stream && !o->tokens && o->format != GEN_JSON) {
		write_out(res->text + sl->emitted, res->len - hold - sl->emitted);
		fflush(stdout);
	}
	sl->emitted = res->len - hold;
	return stopped;
}

static void
finish(run *r, int idx, const char *reason)
{
	slot *sl = &r->slots[idx];
	result *res = &r->res[sl->prompt];
	char buf[4096];
	size_t n = m40_decoder_flush(sl->decoder, buf, sizeof(buf));

	if (n > 0)
		text_append(res, buf, n);
	settle_text(r, sl, res, true);
	res->finish = reason;
	res->t_end = now();
	res->done = true;
	m40_decoder_free(sl->decoder);
	sl->decoder = NULL;
	m40_engine_seq_clear(r->e, idx);
	sl->state = SLOT_FREE;
}

/* Write the logits, one "%.9g" a line, through a temporary file. */
static void
dump_logits(const char *path, const float *logits, int32_t n)
{
	size_t len = strlen(path);
	char *tmp = xmalloc(len + 8);
	FILE *f;
	int fd;
	int32_t i;

	memcpy(tmp, path, len);
	memcpy(tmp + len, ".XXXXXX", 8);
	fd = mkstemp(tmp);
	if (fd < 0)
		cli_die(M40_EXIT_FAILURE, _("cannot create %s: %s"), tmp, strerror(errno));
	f = fdopen(fd, "w");
	if (f == NULL) {
		int e = errno;

		close(fd);
		unlink(tmp);
		cli_die(M40_EXIT_FAILURE, _("cannot write %s: %s"), tmp, strerror(e));
	}
	for (i = 0; i < n; i++)
		fprintf(f, "%.9g\n", (double)logits[i]);
	if (ferror(f) | (fclose(f) != 0)) {
		int e = errno;

		unlink(tmp);
		cli_die(M40_EXIT_FAILURE, _("cannot write %s: %s"), tmp, strerror(e));
	}
	if (rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		cli_die(M40_EXIT_FAILURE, _("cannot rename %s to %s: %s"), tmp, path, strerror(e));
	}
	free(tmp);
}

/* Logits for a slot: sample, record, and decide whether it goes on. */
static void
on_logits(run *r, int idx, const float *logits)
{
	const gen_opts *o = r->o;
	slot *sl = &r->slots[idx];
	result *res = &r->res[sl->prompt];
	char buf[4096];
	size_t n;
	int32_t t;

	if (o->n_predict == 0) {
		finish(r, idx, "length");
		return;
	}
	if (o->ignore_eos) {
		int32_t i;

		memcpy(r->masked, logits, (size_t)r->n_vocab * sizeof(*logits));
		for (i = 0; i < r->n_vocab; i++)
			if (r->eog[i])
				r->masked[i] = -INFINITY;
		logits = r->masked;
	}
	t = m40_sampler_sample(sl->sampler, logits);
	if (!o->ignore_eos && t >= 0 && t < r->n_vocab && r->eog[t]) {
		finish(r, idx, "stop");
		return;
	}
	m40_sampler_accept(sl->sampler, t);
	token_append(res, t);
	sl->n_gen++;
	if (r->stream && o->tokens && o->format != GEN_JSON) {
		printf(sl->n_gen > 1 ? " %ld" : "%ld", (long)t);
		fflush(stdout);
	}
	n = m40_decoder_push(sl->decoder, t, buf, sizeof(buf));
	if (n > 0 && sl->strip_space) {
		sl->strip_space = false;
		if (buf[0] == ' ')
			memmove(buf, buf + 1, --n);
	}
	text_append(res, buf, n);
	if (settle_text(r, sl, res, false)) {
		finish(r, idx, "stop");
		return;
	}
	if (o->n_predict > 0 && sl->n_gen >= o->n_predict) {
		finish(r, idx, "length");
		return;
	}
	if (sl->n_past >= r->n_ctx) {
		gen_prompt *p = &r->ps->v[sl->prompt];

		if (r->ps->n > 1)
			cli_warn(_("%s: stopped at the end of the context (%d tokens)"), p->label, r->n_ctx);
		else
			cli_warn(_("stopped at the end of the context (%d tokens)"), r->n_ctx);
		finish(r, idx, "context");
		return;
	}
	sl->next = t;
	sl->state = SLOT_GEN;
}

static void
start_prompt(run *r, int idx, size_t prompt)
{
	slot *sl = &r->slots[idx];
	const gen_prompt *p = &r->ps->v[prompt];
	size_t i;

	sl->state = SLOT_PREFILL;
	sl->prompt = prompt;
	sl->n_fed = 0;
	sl->n_past = 0;
	sl->n_gen = 0;
	sl->emitted = 0;
	/* Same seed for every prompt: a result does not depend on batching. */
	m40_sampler_reset(sl->sampler);
	for (i = 0; i < p->n; i++)
		m40_sampler_accept(sl->sampler, p->ids[i]);
	sl->decoder = m40_decoder_new(r->vocab, false);
	if (sl->decoder == NULL)
		cli_die(M40_EXIT_FAILURE, _("out of memory"));
	/* The prompt goes through the decoder too (its text dropped), so the
	 * continuation decodes in context.  A SentencePiece vocabulary writes
	 * a space before each word; the first word of a text drops it (as
	 * m40_detokenize does), a word continuing the prompt keeps it: so drop
	 * it only when the prompt holds no text, only BOS. */
	{
		int32_t bos = m40_vocab_bos(r->vocab);
		char buf[4096];

		sl->strip_space = m40_vocab_kind(r->vocab) == M40_VOCAB_SPM;
		for (i = 0; i < p->n; i++) {
			if (p->ids[i] == bos)
				continue;
			sl->strip_space = false;
			(void)m40_decoder_push(sl->decoder, p->ids[i], buf, sizeof(buf));
		}
	}
	r->res[prompt].t_start = now();
	text_append(&r->res[prompt], "", 0);
}

static void
print_json(const result *res, size_t prompt_tokens)
{
	json_t *o = json_object(), *toks = json_array(), *tm = json_object(), *text;
	double prompt_ms = (res->t_first - res->t_start) * 1e3;
	double gen_ms = (res->t_end - res->t_first) * 1e3;
	char *s;
	size_t i;

	text = json_stringn(res->text, res->len);
	if (text == NULL) /* not UTF-8: the decoder should never allow it */
		text = json_string("");
	for (i = 0; i < res->n_tokens; i++)
		json_array_append_new(toks, json_integer(res->tokens[i]));
	json_object_set_new(tm, "prompt_n", json_integer((json_int_t)prompt_tokens));
	json_object_set_new(tm, "prompt_ms", json_real(prompt_ms));
	json_object_set_new(tm, "prompt_per_second",
		json_real(prompt_ms > 0 ? prompt_tokens / (prompt_ms * 1e-3) : 0.0));
	json_object_set_new(tm, "predicted_n", json_integer((json_int_t)res->n_tokens));
	json_object_set_new(tm, "predicted_ms", json_real(gen_ms));
	json_object_set_new(tm, "predicted_per_second",
		json_real(gen_ms > 0 ? res->n_decoded / (gen_ms * 1e-3) : 0.0));
	json_object_set_new(o, "text", text);
	json_object_set_new(o, "tokens", toks);
	json_object_set_new(o, "finish_reason", json_string(res->finish));
	json_object_set_new(o, "prompt_tokens", json_integer((json_int_t)prompt_tokens));
	json_object_set_new(o, "timings", tm);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	if (s == NULL)
		cli_die(M40_EXIT_FAILURE, _("out of memory"));
	write_out(s, strlen(s));
	write_out("\n", 1);
	free(s);
	json_decref(o);
}

/* Print every finished result whose turn it is. */
static void
print_ready(run *r)
{
	const gen_opts *o = r->o;

	while (r->next_print < r->ps->n && r->res[r->next_print].done) {
		result *res = &r->res[r->next_print];
		char end = o->format == GEN_NUL ? '\0' : '\n';

		if (o->format == GEN_JSON) {
			print_json(res, r->ps->v[r->next_print].n);
		} else if (o->tokens) {
			if (!r->stream) {
				size_t i;

				for (i = 0; i < res->n_tokens; i++)
					printf(i ? " %ld" : "%ld", (long)res->tokens[i]);
			}
			write_out(&end, 1);
		} else {
			if (!r->stream)
				write_out(res->text, res->len);
			write_out(&end, 1);
		}
		fflush(stdout);
		free(res->text);
		free(res->tokens);
		res->text = NULL;
		res->tokens = NULL;
		r->next_print++;
	}
}

/* Fill the batch: one token for each generating slot first, then prompt
 * tokens in slot order while there is room.  Returns the token count. */
static int
build_batch(run *r, int *n_logits, bool *has_prompt)
{
	int nb = 0, nl = 0, i;

	*has_prompt = false;
	for (i = 0; i < r->n_slot && nb < r->n_batch; i++) {
		slot *sl = &r->slots[i];

		if (sl->state != SLOT_GEN)
			continue;
		r->tok[nb] = sl->next;
		r->pos[nb] = sl->n_past++;
		r->seq[nb] = i;
		r->want[nb] = true;
		r->owner[nl++] = i;
		r->res[sl->prompt].n_decoded++;
		nb++;
	}
	for (i = 0; i < r->n_slot && nb < r->n_batch; i++) {
		slot *sl = &r->slots[i];
		const gen_prompt *p = &r->ps->v[sl->prompt];

		if (sl->state != SLOT_PREFILL)
			continue;
		while (sl->n_fed < p->n && nb < r->n_batch) {
			bool last = sl->n_fed + 1 == p->n;

			r->tok[nb] = p->ids[sl->n_fed];
			r->pos[nb] = sl->n_past++;
			r->seq[nb] = i;
			r->want[nb] = last;
			if (last)
				r->owner[nl++] = i;
			sl->n_fed++;
			nb++;
		}
		*has_prompt = true;
	}
	*n_logits = nl;
	return nb;
}

void
gen_run(m40_engine *e, const m40_vocab *vocab, int32_t n_vocab, const gen_prompts *ps, const gen_opts *o)
{
	run r;
	m40_error err;
	bool dumped = false;
	int i;

	memset(&r, 0, sizeof(r));
	r.e = e;
	r.vocab = vocab;
	r.ps = ps;
	r.o = o;
	r.n_vocab = n_vocab;
	r.n_ctx = m40_engine_n_ctx(e);
	r.n_batch = m40_engine_n_batch(e);
	r.n_slot = m40_engine_n_seq(e);
	if (o->parallel > 0 && o->parallel < r.n_slot)
		r.n_slot = o->parallel;
	if (r.n_slot > r.n_batch)
		r.n_slot = r.n_batch;
	if ((size_t)r.n_slot > ps->n)
		r.n_slot = (int)ps->n;
	r.stream = ps->n == 1 && o->format != GEN_JSON;

	r.slots = xcalloc((size_t)r.n_slot, sizeof(*r.slots));
	r.res = xcalloc(ps->n, sizeof(*r.res));
	r.tok = xmalloc((size_t)r.n_batch * sizeof(*r.tok));
	r.pos = xmalloc((size_t)r.n_batch * sizeof(*r.pos));
	r.seq = xmalloc((size_t)r.n_batch * sizeof(*r.seq));
	r.want = xmalloc((size_t)r.n_batch * sizeof(*r.want));
	r.owner = xmalloc((size_t)r.n_batch * sizeof(*r.owner));
	r.eog = xcalloc((size_t)n_vocab, sizeof(*r.eog));
	for (i = 0; i < n_vocab; i++)
		r.eog[i] = m40_vocab_is_eog(vocab, i);
	if (o->ignore_eos)
		r.masked = xmalloc((size_t)n_vocab * sizeof(*r.masked));
	for (i = 0; i < r.n_slot; i++) {
		m40_error_clear(&err);
		if (m40_sampler_new(&o->sampling, n_vocab, &r.slots[i].sampler, &err) != M40_OK)
			cli_die(cli_exit_code(err.code), "%s", err.msg);
	}

	while (r.next_print < ps->n) {
		m40_batch b;
		int nb, nl, j;
		bool has_prompt;
		double t0, t1;

		for (i = 0; i < r.n_slot && r.next_prompt < ps->n; i++)
			if (r.slots[i].state == SLOT_FREE)
				start_prompt(&r, i, r.next_prompt++);
		nb = build_batch(&r, &nl, &has_prompt);
		if (nb == 0)
			break; /* cannot happen: a free slot always takes a prompt */
		b.n = nb;
		b.tokens = r.tok;
		b.pos = r.pos;
		b.seq = r.seq;
		b.logits = r.want;
		m40_error_clear(&err);
		t0 = now();
		if (m40_engine_decode(e, &b, &err) != M40_OK)
			cli_die(cli_exit_code(err.code), "%s", err.msg);
		t1 = now();
		for (j = 0; j < nb; j++) {
			if (r.slots[r.seq[j]].state == SLOT_PREFILL)
				r.n_prompt_tok++;
			else
				r.n_gen_tok++;
		}
		if (has_prompt) {
			r.t_prompt += t1 - t0;
		} else {
			r.t_gen += t1 - t0;
			r.n_gen_steps_tok += nb;
		}
		for (j = 0; j < nl; j++) {
			int s = r.owner[j];
			const float *logits = m40_engine_logits(e, j);

			if (logits == NULL)
				cli_die(M40_EXIT_FAILURE, _("the engine returned no logits"));
			if (r.slots[s].state == SLOT_PREFILL) {
				r.res[r.slots[s].prompt].t_first = now();
				if (o->dump_logits != NULL && !dumped && r.slots[s].prompt == 0) {
					dump_logits(o->dump_logits, logits, n_vocab);
					dumped = true;
				}
			}
			on_logits(&r, s, logits);
		}
		print_ready(&r);
	}

	if (o->verbose) {
		cli_warn(_("backend %s, %d sequence(s) at a time, context %d, batch %d"),
			m40_engine_backend_name(e), r.n_slot, r.n_ctx, r.n_batch);
		cli_warn(_("prompt: %ld tokens in %.1f ms, %.2f tokens/s"), r.n_prompt_tok,
			r.t_prompt * 1e3, r.t_prompt > 0 ? r.n_prompt_tok / r.t_prompt : 0.0);
		cli_warn(_("generation: %ld tokens in %.1f ms, %.2f tokens/s"), r.n_gen_steps_tok,
			r.t_gen * 1e3, r.t_gen > 0 ? r.n_gen_steps_tok / r.t_gen : 0.0);
	}
	for (i = 0; i < r.n_slot; i++) {
		m40_sampler_free(r.slots[i].sampler);
		m40_decoder_free(r.slots[i].decoder);
	}
	free(r.slots);
	free(r.res);
	free(r.tok);
	free(r.pos);
	free(r.seq);
	free(r.want);
	free(r.owner);
	free(r.eog);
	free(r.masked);
}
