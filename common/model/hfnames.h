/* hfnames.h -- each family's checkpoint tensor names <-> the names of
 * seqlm's parameter table (bert_table.c).
 *
 * The table's names are BERT's (GENA-LM's for pre-LN layers and the final
 * LayerNorm, HF's cls.predictions.decoder.weight for an untied decoder),
 * so BERT and GENA-LM checkpoints use them as they are.  ESM / Nucleotide
 * Transformer checkpoints (esm.*, lm_head.*) and DNABERT-2's (MosaicBERT:
 * a fused attention.self.Wqkv, mlp.*) have rows in one mapping table
 * (hfnames.c), each row a table name, the family's name and, for a fused
 * tensor, which block of its rows the table's tensor is. */
#ifndef SEQLM_HFNAMES_H
#define SEQLM_HFNAMES_H

#include <stddef.h>
#include "model/bert.h"

/* The checkpoint name of the table's name pattern (bert_specs[].name, or
 * its tied name; %d the layer) in layer l of a family (hf_family) into
 * buf.  Returns the number of row blocks of the checkpoint's tensor (1,
 * or 3 for a fused q|k|v) with *part the table tensor's block, or 0 when
 * the family's checkpoints have no such tensor (DNABERT-2's decoder bias
 * is cls.predictions.bias itself, not a tied copy of it). */
int hfname_of(int family, const char *pattern, int layer, char *buf, size_t len, int *part);
/* 1 if a checkpoint of the family may hold the tensor and no masked LM
 * reads it: BertForPreTraining's pooler and next-sentence head, the
 * position_ids buffer, ESM's contact_head, the position embeddings the NT
 * v2 code keeps beside rotary ones (R 220-224); 0 if not.  Rotary
 * inv_freq buffers are not here: lmconvert checks their values. */
int hfname_ignored(int family, const bert_config *c, const char *name);
/* 1 if name is a rotary inv_freq buffer (ESM's
 * attention.self.rotary_embeddings.inv_freq) */
int hfname_is_inv_freq(const char *name);

#endif
