/* hfconfig.h -- HuggingFace config.json <-> seqlm's bert_config.
 *
 * Reading recognises the family of a masked LM by its keys, as the
 * references do (tests/golden/families/families.py, README.md there) and
 * sets bert_config's variant fields (bert.h) from them:
 *   BERT       model_type bert (BertConfig, transformers'
 *              models/bert/configuration_bert.py: an absent key takes its
 *              default, as from_pretrained() does);
 *   GENA-LM    model_type bert with pre_layer_norm / last_layer_norm
 *              (AIRI-Institute/GENA_LM src/gena_lm/modeling_bert.py);
 *   ESM        model_type esm (EsmConfig: Nucleotide Transformer v1, ESM-2);
 *   NT v2      no model_type, auto_map to esm_config.EsmConfig and an
 *              add_bias_fnn key (the remote modeling_esm.py: SwiGLU);
 *   DNABERT-2  MosaicBERT: alibi_starting_size or auto_map to bert_layers.
 * A config is refused with the reason when seqlm cannot compute the model
 * exactly: keys of two families, sparse attention (GENA-LM's BigBird and
 * DeepSpeed variants), another model_type, a hidden_act other than "gelu",
 * relative positions, rotary with an odd head size, a decoder.  Writing
 * gives the family's own config.json (sorted keys, two-space indent, as
 * PretrainedConfig.to_json_string() writes). */
#ifndef SEQLM_HFCONFIG_H
#define SEQLM_HFCONFIG_H

#include <stddef.h>
#include "model/bert.h"

typedef enum {
	HF_BERT = 0,                  /* BertForMaskedLM */
	HF_GENA,                      /* BERT with pre_layer_norm (GENA-LM) */
	HF_ESM,                       /* EsmForMaskedLM (NT v1, ESM-1b/2) */
	HF_NT2,                       /* NT v2 remote code (EsmForMaskedLM, SwiGLU) */
	HF_DNABERT2,                  /* MosaicBERT (DNABERT-2) */
} hf_family;

typedef struct {
	bert_config c;                /* c.pad_id = pad_token_id, c.mask_id = mask_token_id or -1 */
	int family;                   /* hf_family */
	int pad_token_id;             /* BertConfig default 0; -1 writes null */
	int has_pad;                  /* the key was in the file */
	int mask_token_id;            /* ESM's (token dropout uses it); -1 none */
} hf_config;

/* parses config.json text (len bytes); 0 ok, -1 with the problem in err
 * (h then holds what was read up to the problem) */
int hfcfg_parse(hf_config *h, const char *text, size_t len, char *err, size_t errlen);
/* reads and parses path; err names the file */
int hfcfg_read(hf_config *h, const char *path, char *err, size_t errlen);
/* the config.json text of h->family (malloc'd, ends with a newline) */
char *hfcfg_format(const hf_config *h);
/* the family whose checkpoints hold a model of config c (for --to-hf), or
 * -1 with *why saying what no family has */
int hfcfg_family_of(const bert_config *c, const char **why);
/* "BERT", "GENA-LM", "ESM", "Nucleotide Transformer v2", "DNABERT-2 (MosaicBERT)" */
const char *hfcfg_family_name(int family);
/* the model class of the family's checkpoints ("BertForMaskedLM", "EsmForMaskedLM") */
const char *hfcfg_family_class(int family);

#endif
