/* vocabfix.h -- a seqlm vocabulary for the unit tests that need ids only */
#ifndef SEQLM_VOCABFIX_H
#define SEQLM_VOCABFIX_H

#include <stdio.h>
#include "tok/vocab.h"

/* a seqlm vocabulary of V ids: the five specials, then V-5 tokens */
static void native_vocab(tok_vocab *v, int V)
{
	vocab_init(v, "char");
	vocab_add_specials(v);
	for (int i = TOK_NSPECIAL; i < V; i++) {
		char s[16];
		vocab_add(v, s, snprintf(s, sizeof s, "t%d", i), NULL);
	}
	vocab_finish(v);
}

#endif
