/* inspect-json.c: m40-inspect --json, everything as one JSON document. */
#include "inspect.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

/* ---- JSON ---------------------------------------------------------------- */

json_t *
jstr(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	char *fixed, *p;

	if (j != NULL)
		return j;
	/* Not UTF-8: replace each bad byte with U+FFFD so the document stays
	 * valid JSON. */
	fixed = malloc(len * 3 + 1);
	if (fixed == NULL)
		cli_die(M40_EXIT_FAILURE, "%s", m40_strerror(M40_E_NOMEM));
	p = fixed;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
			: (c & 0xF8) == 0xF0 ? 4 : 0;
		json_t *probe = n && c != 0 && i + n <= len ? json_stringn(s + i, n) : NULL;
		if (probe != NULL) {
			memcpy(p, s + i, n);
			p += n;
			i += n;
			json_decref(probe);
		} else {
			memcpy(p, "\xEF\xBF\xBD", 3);
			p += 3;
			i++;
		}
	}
	j = json_stringn(fixed, (size_t)(p - fixed));
	free(fixed);
	return j;
}

static json_t *
jreal(double x)
{
	json_t *j = json_real(x);

	return j ? j : json_null(); /* NaN and infinities have no JSON form */
}

/* A float32 as the shortest decimal that reads back as it (1e-05, not
 * 9.99999975e-06). */
static json_t *
jreal32(double x)
{
	char buf[40];

	return jreal(strtod(fmt_real(x, true, buf, sizeof buf), NULL));
}

json_t *
jvalue(const m40_gguf_value *v, bool full)
{
	json_t *a;

	switch (v->type) {
	case M40_GGUF_UINT8: case M40_GGUF_UINT16: case M40_GGUF_UINT32: case M40_GGUF_UINT64:
		return v->v.u64 <= INT64_MAX ? json_integer((json_int_t)v->v.u64) : jreal((double)v->v.u64);
	case M40_GGUF_INT8: case M40_GGUF_INT16: case M40_GGUF_INT32: case M40_GGUF_INT64:
		return json_integer((json_int_t)v->v.i64);
	case M40_GGUF_FLOAT32:
		return jreal32(v->v.f64);
	case M40_GGUF_FLOAT64:
		return jreal(v->v.f64);
	case M40_GGUF_BOOL:
		return json_boolean(v->v.u64 != 0);
	case M40_GGUF_STRING:
		return jstr(v->v.str.ptr, (size_t)v->v.str.len);
	case M40_GGUF_ARRAY:
		break;
	default:
		return json_null();
	}
	if (!full && v->v.arr.n > JSON_ARRAY_MAX)
		return json_pack("{s:s, s:s, s:I}", "type", "array", "element_type",
			m40_gguf_type_name(v->v.arr.type), "length", (json_int_t)v->v.arr.n);
	a = json_array();
	for (uint64_t i = 0; i < v->v.arr.n; i++) {
		json_t *e;
		const char *s;
		uint64_t len;

		switch (v->v.arr.type) {
		case M40_GGUF_STRING:
			s = m40_gguf_arr_str(v, i, &len);
			e = jstr(s, (size_t)len);
			break;
		case M40_GGUF_ARRAY:
			e = jvalue(&v->v.arr.items[i], full);
			break;
		case M40_GGUF_FLOAT32:
			e = jreal32(m40_gguf_arr_float(v, i));
			break;
		case M40_GGUF_FLOAT64:
			e = jreal(m40_gguf_arr_float(v, i));
			break;
		case M40_GGUF_BOOL:
			e = json_boolean(m40_gguf_arr_int(v, i) != 0);
			break;
		default:
			e = json_integer((json_int_t)m40_gguf_arr_int(v, i));
			break;
		}
		json_array_append_new(a, e);
	}
	return a;
}

json_t *
json_hparams(const m40_model *m)
{
	const m40_hparams *hp = m40_model_hparams(m);
	static const char *const scaling[] = { "none", "linear", "yarn", "llama3" };

	return json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:o, s:b, s:i, s:s, s:o,"
		" s:o, s:o, s:i, s:b, s:b, s:b, s:I, s:I}",
		"architecture", hp->arch_name,
		"n_vocab", (int)hp->n_vocab,
		"n_ctx_train", (int)hp->n_ctx_train,
		"n_embd", (int)hp->n_embd,
		"n_layer", (int)hp->n_layer,
		"n_head", (int)hp->n_head,
		"n_head_kv", (int)hp->n_head_kv,
		"head_dim", (int)hp->head_dim,
		"n_ff", (int)hp->n_ff,
		"norm_eps", jreal32(hp->norm_eps),
		"rope_base", jreal32(hp->rope_base),
		"rope_neox", hp->rope_neox,
		"rope_dim", (int)hp->rope_dim,
		"rope_scaling", scaling[hp->rope_scaling],
		"rope_scale", jreal32(hp->rope_scale),
		"rope_llama3_low", jreal32(hp->rope_llama3_low),
		"rope_llama3_high", jreal32(hp->rope_llama3_high),
		"rope_orig_ctx", (int)hp->rope_orig_ctx,
		"tied_embeddings", hp->tied_embeddings,
		"qkv_bias", hp->qkv_bias,
		"qk_norm", hp->qk_norm,
		"n_params", (json_int_t)hp->n_params,
		"weight_bytes", (json_int_t)m40_model_weight_bytes(m));
}

json_t *
json_tokenizer(const m40_gguf *g)
{
	const char *model = m40_gguf_get_str(g, "tokenizer.ggml.model");
	const char *pre = m40_gguf_get_str(g, "tokenizer.ggml.pre");
	const char *tmpl = m40_gguf_get_str(g, "tokenizer.chat_template");
	const m40_gguf_value *tok = token_list(g);
	json_t *j = json_object(), *special = json_object();
	int64_t id;
	bool flag;

	json_object_set_new(j, "model", model ? json_string(model) : json_null());
	json_object_set_new(j, "pre", pre ? jstr(pre, strlen(pre)) : json_null());
	json_object_set_new(j, "n_tokens", json_integer(tok ? (json_int_t)tok->v.arr.n : 0));
	for (size_t i = 0; i < n_special_keys; i++)
		if (m40_gguf_get_int(g, special_keys[i].key, &id) && id >= 0 && id != UINT32_MAX)
			json_object_set_new(special, special_keys[i].what, json_integer((json_int_t)id));
	json_object_set_new(j, "special", special);
	if (m40_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &flag))
		json_object_set_new(j, "add_bos", json_boolean(flag));
	json_object_set_new(j, "chat_template", json_boolean(tmpl != NULL));
	return j;
}

json_t *
json_tensors(const m40_gguf *g)
{
	json_t *a = json_array();

	for (size_t i = 0; i < m40_gguf_n_tensors(g); i++) {
		const m40_gguf_tensor *t = m40_gguf_tensor_at(g, i);
		json_t *shape = json_array();
		const char *tn = m40_type_name(t->type);
		for (uint32_t d = 0; d < t->n_dims && d < M40_GGUF_MAX_DIMS; d++)
			json_array_append_new(shape, json_integer((json_int_t)t->ne[d]));
		json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:I, s:I}",
			"name", jstr(t->name, strlen(t->name)),
			"type", tn ? json_string(tn) : json_integer(t->type), "shape", shape,
			"offset", (json_int_t)(m40_gguf_data_offset(g) + t->offset),
			"size", (json_int_t)t->size));
	}
	return a;
}

void
json_print(json_t *root)
{
	/* 16 digits: floats read as their shortest decimal (see jreal32) print
	 * short, and doubles keep all but the last digit. */
	if (root == NULL || json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(16)) != 0)
		cli_die(M40_EXIT_FAILURE, _("cannot write the JSON document"));
	putchar('\n');
	json_decref(root);
}
