/* strmap.c -- byte strings to ids (see strmap.h). */
#include "base/strmap.h"

#include <stdlib.h>
#include <string.h>
#include "base/util.h"

static uint32_t hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 0x100000001b3ULL; }
	return (uint32_t)(h ^ h >> 32);
}

static void alloc(strmap *m, uint32_t cap)
{
	m->key = xmalloc(cap * sizeof *m->key);
	m->klen = xmalloc(cap * sizeof *m->klen);
	m->val = xmalloc(cap * sizeof *m->val);
	for (uint32_t i = 0; i < cap; i++) m->val[i] = -1;
	m->mask = cap - 1;
}

void strmap_init(strmap *m)
{
	memset(m, 0, sizeof *m);
	alloc(m, 64);
}

void strmap_free(strmap *m)
{
	free(m->key);
	free(m->klen);
	free(m->val);
	memset(m, 0, sizeof *m);
}

static uint32_t slot(const strmap *m, const char *s, size_t len)
{
	uint32_t i = hash(s, len) & m->mask;
	while (m->val[i] >= 0 && !((size_t)m->klen[i] == len && memcmp(m->key[i], s, len) == 0)) i = (i + 1) & m->mask;
	return i;
}

int strmap_get(const strmap *m, const char *s, size_t len)
{
	return m->val[slot(m, s, len)];
}

int strmap_put(strmap *m, const char *s, size_t len, int val)
{
	uint32_t i = slot(m, s, len);
	if (m->val[i] >= 0) return m->val[i];
	m->key[i] = s, m->klen[i] = (int32_t)len, m->val[i] = val;
	if ((uint32_t)++m->n * 2 > m->mask) {          /* keep it at most half full */
		strmap old = *m;
		alloc(m, (old.mask + 1) * 2);
		for (uint32_t j = 0; j <= old.mask; j++)
			if (old.val[j] >= 0) {
				uint32_t k = slot(m, old.key[j], old.klen[j]);
				m->key[k] = old.key[j], m->klen[k] = old.klen[j], m->val[k] = old.val[j];
			}
		free(old.key); free(old.klen); free(old.val);
	}
	return -1;
}
