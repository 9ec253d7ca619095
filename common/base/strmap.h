/* strmap.h -- byte strings to ids, open addressing; the keys are not
 * copied (they point into a vocabulary that outlives the map). */
#ifndef SEQLM_STRMAP_H
#define SEQLM_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	const char **key;
	int32_t *klen, *val;
	uint32_t mask;
	int n;
} strmap;

void strmap_init(strmap *m);
void strmap_free(strmap *m);
/* adds key -> val unless key is there; returns the value it already had, or -1 */
int strmap_put(strmap *m, const char *s, size_t len, int val);
/* the value of key, -1 if absent */
int strmap_get(const strmap *m, const char *s, size_t len);

#endif
