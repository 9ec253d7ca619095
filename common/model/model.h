/* model.h -- BERT model files: a tensor stream whose header carries the
 * provenance (@PG), the tokenizer vocabulary (@TK/@VO) and the config under
 * HuggingFace config.json names (@KV), plus seqlm's seed, data_seed, step and
 * model_hash; record 0 "params" holds every parameter as f32 under its HF
 * name and PyTorch shape.  Checkpoints add records "adam_m" and "adam_v"
 * (same tensor names) after it. */
#ifndef SEQLM_MODEL_H
#define SEQLM_MODEL_H

#include "model/adamw.h"
#include "model/bert.h"
#include "io/tns.h"

/* writes the config, seeds, step and model_hash @KV lines into h */
void model_set_header(tns_header *h, const bert_model *m, uint64_t seed, uint64_t data_seed,
                      int64_t step);
/* the same for parameters that are not in a bert_model: hash is
 * bert_hash()'s FNV-1a over them in table order */
void model_set_header_hash(tns_header *h, const bert_config *c, uint64_t hash, uint64_t seed,
                           uint64_t data_seed, int64_t step);
/* the value of a variant @KV key by its name in model files, e.g.
 * ("position_encoding", "rotary") -> BERT_POS_ROTARY; -1 for a key or name
 * it does not have.  The one table of those names, for the command lines
 * that set them (lmtrain --pos, --ffn-act, --norm) */
int model_variant_value(const char *key, const char *name);
/* the config from @KV lines; 0 ok, -1 with a message naming the key */
int model_config_from_header(const tns_header *h, bert_config *c, char *err, size_t errlen);

/* one record of all parameters (name "params") or of a buffer of the same
 * layout (e.g. "adam_m"); 0 ok, -1 error (tns_werror) */
int model_write_buffer(tns_writer *w, const bert_model *m, const char *record, const float *buf);
/* reads such a record into buf (every tensor, its shape and dtype checked);
 * 0 ok, -1 with a message */
int model_read_buffer(const tns_record *rec, const bert_model *m, float *buf, char *err, size_t errlen);

/* Loads path: config, every parameter (sizes and dtype checked, nothing
 * missing, nothing unknown), the model hash when the header has one, and the
 * whole stream to its end frame (so truncation and corruption are caught).
 * If opt is not NULL and the file has adam_m/adam_v, the moments are loaded
 * into it (adamw_init'ed here) and *has_adam is set.  h (optional) receives
 * the header.  0 ok; -1 with a message in err (m is then freed). */
int model_load(const char *path, bert_model *m, tns_header *h, adamw *opt, int *has_adam,
               char *err, size_t errlen);

#endif
