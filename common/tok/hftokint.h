/* hftokint.h -- what hftok.c and hftokjson.c share (not a public API):
 * the folder's files and special names (hffiles.c), and tokenizer.json
 * (hftokjson.c, which hftok.c calls). */
#ifndef SEQLM_HFTOKINT_H
#define SEQLM_HFTOKINT_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "tok/vocab.h"

enum { HF_UNK, HF_PAD, HF_CLS, HF_SEP, HF_MASK, HF_BOS, HF_EOS, HF_NSPECIAL };

/* the whole of dir/name, NUL-terminated; NULL with err (*missing: ENOENT) */
char *hf_read_file(const char *dir, const char *name, size_t *n, int *missing, char *err, size_t errlen);
/* dir/name parsed; NULL with err (*missing: the file does not exist) */
cJSON *hf_read_json(const char *dir, const char *name, int *missing, char *err, size_t errlen);
/* the special-token strings (unk pad cls sep mask bos eos) from the two
 * configs (either may be NULL) over the class defaults dflt; NULL: none */
int hf_special_names(const cJSON *cfg, const cJSON *stm, const char *const dflt[HF_NSPECIAL],
                     char *name[HF_NSPECIAL], char *err, size_t errlen);
void hf_special_names_free(char *name[HF_NSPECIAL]);
/* dir/tokenizer.json into an hf-bpe vocabulary */
int hf_load_tokenizer_json(const char *dir, tok_vocab *v, char *err, size_t errlen);

#endif
