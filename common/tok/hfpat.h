/* hfpat.h -- the patterns of tokenizer.json's Replace normalizer and Split
 * pre-tokenizer ({"String": s} or {"Regex": r}), and the escaping that
 * carries them in the @TK line.
 *
 * tokenizers compiles both kinds with Oniguruma (normalizers/replace.rs
 * Replace::new, pre_tokenizers/split.rs Split::new: a String is
 * regex::escape'd first) and walks its find_iter (tokenizer/pattern.rs,
 * Pattern for &SysRegex): leftmost, non-overlapping.  A String is matched
 * here as the bytes it is (the escaped expression means exactly that).  A
 * Regex is compiled with libc's POSIX regcomp (REG_EXTENDED), and only if it
 * lies in a subset where POSIX (leftmost-longest, bytes) and Oniguruma
 * (leftmost-first, characters) find the same matches: ASCII literals,
 * escaped punctuation, bracket sets of ASCII letters, digits and
 * punctuation with a-z style ranges, each optionally repeated by * + ? {m}
 * {m,} {m,n}, at most one repetition of variable length, never matching
 * the empty string.  Anything else (., groups, |, anchors, \d \s \w,
 * negated sets, lazy or possessive repetitions, non-ASCII) is refused with
 * a message naming it.  No regular-expression engine is written here. */
#ifndef SEQLM_HFPAT_H
#define SEQLM_HFPAT_H

#include <regex.h>
#include <stddef.h>

typedef struct {
	int regex;                    /* 1: a Regex (compiled), 0: a String */
	char *s;                      /* the pattern's bytes */
	long n;
	long minlen;                  /* bytes of the shortest match */
	regex_t re;
} hfpat;

/* Checks and compiles pattern s (a Regex if regex, else a String).  0 ok;
 * -1 with a message in err (p is then empty). */
int hfpat_init(hfpat *p, const char *s, int regex, char *err, size_t errlen);
void hfpat_free(hfpat *p);
/* The first match in buf[a..b): 1 with it in [*ms, *me), 0 if none. */
int hfpat_find(const hfpat *p, const char *buf, long a, long b, long *ms, long *me);

/* The @TK form of bytes s[0..n): '%', ',', '=' and every byte outside
 * 0x21..0x7e as %XX.  Returns the length written (NUL added), or -1 when
 * it does not fit in cap. */
long hfpat_escape(const char *s, long n, char *out, size_t cap);
/* Its inverse on s[0..n) into out (at least n + 1 bytes); the length, or -1
 * for a malformed escape. */
long hfpat_unescape(const char *s, long n, char *out);

#endif
