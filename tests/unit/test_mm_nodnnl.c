/* test_mm_nodnnl.c -- a build without oneDNN (`make dnnl=0`, or no
 * libdnnl-dev): common/base/mm_dnnl.c compiled here without SEQLM_DNNL, in
 * place of the library's copy.  --precision bf16 is then refused with the
 * reason, and the model stays fp32. */
#undef SEQLM_DNNL
#include "../../common/base/mm_dnnl.c"
#include <string.h>
#include "tap.h"
#include "model/bert.h"

int main(void)
{
	const char *why = mm_bf16_unavailable();
	ok(why && strstr(why, "built without oneDNN"), "bf16 unavailable: %s", why ? why : "(null)");
	ok(strcmp(mm_backend(), "no oneDNN") == 0, "--version says: %s", mm_backend());
	bert_config c;
	bert_config_named(&c, "4M", 40);
	c.layers = 1, c.hidden = 16, c.heads = 2, c.ffn = 32, c.max_pos = 16;
	bert_model m;
	bert_init(&m, &c);
	const char *r = bert_set_precision(&m, 1);
	ok(r && strstr(r, "built without oneDNN") && !m.bf16 && !m.wbf, "bert_set_precision(bf16) refuses, the model stays fp32");
	ok(bert_set_precision(&m, 0) == NULL, "fp32 is always there");
	bert_free(&m);
	return done_testing();
}
