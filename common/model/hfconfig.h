/* hfconfig.h -- HuggingFace config.json <-> seqlm's bert_config.
 *
 * Reading follows BertConfig (transformers, models/bert/
 * configuration_bert.py): a key that is absent takes BertConfig's default,
 * as from_pretrained() does.  What the engine cannot compute exactly is
 * refused with a message saying why: another model_type, a hidden_act
 * other than "gelu" (the erf GELU), a position_embedding_type other than
 * "absolute", a decoder or cross-attention.  The families of issue 23 are
 * read into bert_config's variant fields (ESM / NT: model_type esm;
 * GENA-LM: pre_layer_norm; MosaicBERT / DNABERT-2: alibi_starting_size)
 * and refused by the first variant not implemented yet:
 * "model_type esm (pre-LN layers) is not supported yet".  Writing gives the keys
 * BertConfig.to_json_string() writes (sorted, two-space indent), with
 * "architectures": ["BertForMaskedLM"]. */
#ifndef SEQLM_HFCONFIG_H
#define SEQLM_HFCONFIG_H

#include <stddef.h>
#include "model/bert.h"

typedef struct {
	bert_config c;                /* c.pad_id = pad_token_id, c.mask_id -1 */
	int pad_token_id;             /* BertConfig default 0; -1 writes null */
	int has_pad;                  /* the key was in the file */
} hf_config;

/* parses config.json text (len bytes); 0 ok, -1 with the problem in err */
int hfcfg_parse(hf_config *h, const char *text, size_t len, char *err, size_t errlen);
/* reads and parses path; err names the file */
int hfcfg_read(hf_config *h, const char *path, char *err, size_t errlen);
/* the config.json text (malloc'd, ends with a newline) */
char *hfcfg_format(const hf_config *h);

#endif
