/* hfpat.c -- Replace / Split patterns of tokenizer.json (see hfpat.h). */
#include "tok/hfpat.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/util.h"

enum { REP_MAX = 255 };           /* POSIX guarantees RE_DUP_MAX >= 255 */

/* \X means X to both for these; GNU reads \< \> \` \' as anchors */
static int escapable(int c) { return c && strchr(".[](){}*+?|^$\\-/", c) != NULL; }

/* a {m}, {m,} or {m,n} at p[*i] ('{' there): its bounds (hi -1: none) */
static int interval(const char *p, long *i, long *lo, long *hi)
{
	long k = *i + 1, m = 0, n;
	if (!isdigit((unsigned char)p[k])) return -1;            /* {,n}: Oniguruma only */
	for (; isdigit((unsigned char)p[k]); k++) if ((m = m * 10 + p[k] - '0') > REP_MAX) return -1;
	n = m;
	if (p[k] == ',') {
		k++;
		if (p[k] == '}') n = -1;
		else {
			if (!isdigit((unsigned char)p[k])) return -1;
			for (n = 0; isdigit((unsigned char)p[k]); k++) if ((n = n * 10 + p[k] - '0') > REP_MAX) return -1;
			if (n < m) return -1;
		}
	}
	if (p[k] != '}') return -1;
	*i = k + 1, *lo = m, *hi = n;
	return 0;
}

/* a bracket set at p[*i] ('[' there) of literals and ranges */
static const char *bracket(const char *p, long *i)
{
	long k = *i + 1;
	if (p[k] == '^') return "a negated set (POSIX matches a byte, Oniguruma a character)";
	if (p[k] == ']') return "a set starting with ]";
	for (; p[k] != ']'; ) {
		int c = (unsigned char)p[k];
		if (!c) return "a [ without its ]";
		if (c == '\\') return "an escape inside a set (POSIX reads \\ there as itself)";
		if (c == '[') return "[ inside a set (a POSIX class or an Oniguruma nested set)";
		if (c == '&') return "& inside a set (Oniguruma's && intersects sets)";
		if (c < 0x20 || c >= 0x7f) return "a non-ASCII or control byte in a set";
		if (p[k + 1] == '-' && p[k + 2] != ']') {
			int d = (unsigned char)p[k + 2];
			if (!((isdigit(c) && isdigit(d)) || (isupper(c) && isupper(d)) || (islower(c) && islower(d))) || d < c)
				return "a range that is not within digits, upper or lower case letters";
			k += 3;
			continue;
		}
		if (c == '-') return "- in a set that is not a range between letters or digits";
		k++;
	}
	*i = k + 1;
	return NULL;
}

/* NULL if pattern p means the same to POSIX ERE and Oniguruma (hfpat.h);
 * else what is not; *minlen the bytes of the shortest match */
static const char *same_meaning(const char *p, long *minlen)
{
	long i = 0, nvar = 0, min = 0;
	while (p[i]) {
		int c = (unsigned char)p[i];
		const char *why;
		if (c == '[') {
			if ((why = bracket(p, &i))) return why;
		} else if (c == '\\') {
			if (!escapable((unsigned char)p[i + 1]))
				return "an escape other than \\ before one of .[](){}*+?|^$\\-/ (\\d \\s \\w are Unicode classes in Oniguruma, \\< \\> anchors in GNU)";
			i += 2;
		} else if (c == '.') return ". (POSIX matches a byte and a newline, Oniguruma neither)";
		else if (c == '(' || c == ')') return "a group";
		else if (c == '|') return "| (POSIX takes the longest alternative, Oniguruma the first)";
		else if (c == '^' || c == '$') return "an anchor (^ and $ are line anchors in Oniguruma)";
		else if (c == '*' || c == '+' || c == '?' || c == '{') return "a repetition of nothing";
		else if (c == ']' || c == '}') return "an unescaped ] or }";
		else if (c < 0x20 || c >= 0x7f) return "a non-ASCII or control byte";
		else i++;
		long lo = 1, hi = 1;
		c = (unsigned char)p[i];
		if (c == '*') lo = 0, hi = -1, i++;
		else if (c == '+') lo = 1, hi = -1, i++;
		else if (c == '?') lo = 0, hi = 1, i++;
		else if (c == '{' && interval(p, &i, &lo, &hi) < 0) return "a repetition other than {m}, {m,} or {m,n} (m <= n <= 255)";
		if (p[i] == '*' || p[i] == '+' || p[i] == '?' || p[i] == '{')
			return "a repetition of a repetition (lazy or possessive in Oniguruma)";
		nvar += hi != lo;
		min += lo;
	}
	if (nvar > 1) return "more than one repetition of variable length (Oniguruma's first match and POSIX's longest may differ)";
	if (min == 0) return "a pattern that matches the empty string";
	*minlen = min;
	return NULL;
}

int hfpat_init(hfpat *p, const char *s, int regex, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	if (!*s) { snprintf(err, errlen, "an empty pattern (it matches between every two characters)"); return -1; }
	if (regex) {
		const char *why = same_meaning(s, &p->minlen);
		if (why) {
			snprintf(err, errlen, "regex /%s/ is not supported: %s; seqlm runs only regular expressions "
			         "that mean the same to POSIX and Oniguruma", s, why);
			return -1;
		}
		int rc = regcomp(&p->re, s, REG_EXTENDED);
		if (rc) {
			char m[128];
			regerror(rc, &p->re, m, sizeof m);
			snprintf(err, errlen, "regex /%s/: %s", s, m);
			return -1;
		}
	}
	p->regex = regex;
	p->n = (long)strlen(s);
	p->s = xstrdup(s);
	if (!regex) p->minlen = p->n;
	return 0;
}

void hfpat_free(hfpat *p)
{
	if (p->s && p->regex) regfree(&p->re);
	free(p->s);
	memset(p, 0, sizeof *p);
}

int hfpat_find(const hfpat *p, const char *buf, long a, long b, long *ms, long *me)
{
	if (!p->regex) {
		if (b - a < p->n) return 0;
		const char *x = memmem(buf + a, b - a, p->s, p->n);
		if (!x) return 0;
		*ms = x - buf, *me = *ms + p->n;
		return 1;
	}
	/* REG_STARTEND: the piece is not NUL-terminated and may hold NULs */
	regmatch_t m[1];
	m[0].rm_so = a, m[0].rm_eo = b;
	if (regexec(&p->re, buf, 1, m, REG_STARTEND) != 0) return 0;
	*ms = m[0].rm_so, *me = m[0].rm_eo;
	return 1;
}

long hfpat_escape(const char *s, long n, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t k = 0;
	for (long i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int esc = c <= 0x20 || c >= 0x7f || c == '%' || c == ',' || c == '=';
		if (k + (esc ? 3 : 1) + 1 > cap) return -1;
		if (esc) out[k++] = '%', out[k++] = hex[c >> 4], out[k++] = hex[c & 15];
		else out[k++] = (char)c;
	}
	if (k + 1 > cap) return -1;
	out[k] = 0;
	return (long)k;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

long hfpat_unescape(const char *s, long n, char *out)
{
	long k = 0;
	for (long i = 0; i < n; i++) {
		if (s[i] != '%') { out[k++] = s[i]; continue; }
		int h = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1, l = h >= 0 ? hexval((unsigned char)s[i + 2]) : -1;
		if (l < 0 || (h == 0 && l == 0)) return -1;
		out[k++] = (char)(h * 16 + l);
		i += 2;
	}
	out[k] = 0;
	return k;
}
