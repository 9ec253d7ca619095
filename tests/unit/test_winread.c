/* test_winread.c -- winread is library code: a bad stream or model comes
 * back as an error (the file to name, the message, usage or not) and the
 * program goes on; the tools decide to end (winread_die). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "io/tns.h"
#include "model/winread.h"
#include "tok/vocab.h"
#include "scratch.h"
#include "vocabfix.h"

#define V 20

/* a stream at dir/name: a vocabulary of V ids in the header (unless
 * novocab), n records of len[i] tokens, token ids i + t (bad: one V) */
static const char *stream(const char *name, int novocab, int n, const int *len, int bad)
{
	char err[256];
	tns_header h;
	tok_vocab v;
	const char *path = scratch_path(name);
	tns_header_init(&h);
	native_vocab(&v, V);
	if (!novocab) vocab_to_header(&v, &h);
	tns_writer *w = tns_create(path, &h, 0, err, sizeof err);
	for (int i = 0; w && i < n; i++) {
		int32_t tok[64];
		char rn[32];
		for (int t = 0; t < len[i]; t++) tok[t] = (i + t) % V;
		if (bad && i == n - 1) tok[len[i] - 1] = V;
		snprintf(rn, sizeof rn, "w%d", i);
		tns_tensor x = tns_tensor_1d("tokens", TNS_I32, len[i], tok);
		tns_write(w, rn, 1, &x);
	}
	if (!w || tns_close(w) != 0) { fprintf(stderr, "cannot write %s: %s\n", path, err); exit(1); }
	tns_header_free(&h);
	vocab_free(&v);
	return path;
}

static void test_missing_file_is_an_error_naming_it(void)
{
	winread w;
	winread_err e;
	const char *path = scratch_path("none.tns");
	ok(winread_open(&w, path, -1, 4, &e) == -1, "a missing file: winread_open returns -1");
	ok(e.file && strcmp(e.file, path) == 0 && !e.usage && e.msg[0], "naming the file (%s), not a usage error", e.msg);
}

static void test_stream_without_vocabulary(void)
{
	winread w;
	winread_err e;
	int len[] = {8};
	const char *p = stream("novocab.tns", 1, 1, len, 0);
	ok(winread_open(&w, p, -1, 4, &e) == -1 && strcmp(e.msg, "no tokenizer vocabulary in the header (not seqtok output?)") == 0,
	   "a stream without a vocabulary: -1, '%s'", e.msg);
}

static void test_empty_stream(void)
{
	winread w;
	winread_err e;
	const char *p = stream("empty.tns", 0, 0, NULL, 0);
	ok(winread_open(&w, p, -1, 4, &e) == -1 && strcmp(e.msg, "no token windows in the input") == 0 && strcmp(e.file, p) == 0,
	   "an empty stream: -1, '%s'", e.msg);
	ok(winread_open_header(&w, p, -1, 4, &e) == 0, "winread_open_header opens it (the windows are not read yet)");
	ok(winread_next(&w, &e) == 0, "and winread_next then finds none");
	winread_close(&w);
}

static void test_windows_in_batches(void)
{
	winread w;
	winread_err e;
	int len[] = {8, 8, 8, 8, 8};
	const char *p = stream("good.tns", 0, 5, len, 0);
	ok(winread_open(&w, p, -1, 3, &e) == 0 && w.T == 8 && w.vocab.n == V, "a good stream opens, T and the vocabulary known");
	int a = winread_next(&w, &e), b = winread_next(&w, &e), c = winread_next(&w, &e);
	ok(a == 3 && b == 2 && c == 0 && w.total == 5, "batches of 3, 2, then the end (%d %d %d)", a, b, c);
	ok(strcmp(w.name[1], "w4") == 0 && w.tok[8] == 4, "the last batch holds the last windows");
	winread_close(&w);
}

static void test_bad_windows_are_errors(void)
{
	winread w;
	winread_err e;
	int len[] = {8, 8, 5};
	const char *p = stream("short.tns", 0, 3, len, 0);
	ok(winread_open(&w, p, -1, 4, &e) == 0 && winread_next(&w, &e) == -1, "a window of another length: -1");
	ok(e.file == w.path && strcmp(e.msg, "record 2 (w2): window of 5 tokens, the stream's first has 8") == 0,
	   "naming the stream and the record: '%s'", e.msg);
	winread_close(&w);
	int len2[] = {8, 8};
	p = stream("badid.tns", 0, 2, len2, 1);
	ok(winread_open(&w, p, -1, 4, &e) == 0 && winread_next(&w, &e) == -1 &&
	   strcmp(e.msg, "record 1 (w1): token id 20 outside the vocabulary (20)") == 0,
	   "a token outside the vocabulary: -1, '%s'", e.msg);
	winread_close(&w);
	int len3[] = {1};
	p = stream("one.tns", 0, 1, len3, 0);
	ok(winread_open(&w, p, -1, 4, &e) == -1 && strcmp(e.msg, "record w0: bad window length 1") == 0,
	   "a window of one token: -1, '%s'", e.msg);
}

static void test_model_path_errors(void)
{
	winread_model mi[2];
	winread_err e;
	char *paths[] = {"0.3"};
	ok(winread_check_model_files(paths, 1, mi, &e) == -1 && e.usage &&
	   strstr(e.msg, "did you mean --mask-prob 0.3?") != NULL, "a number for a model: a usage error with the hint");
	char *tab[] = {"a\tb.tns"};
	ok(winread_check_model_files(tab, 1, mi, &e) == -1 && e.usage, "a model path with a tab: a usage error");
	int len[] = {8};
	char *win[] = {(char *)stream("notmodel.tns", 0, 1, len, 0)};
	ok(winread_check_model_files(win, 1, mi, &e) == -1 && !e.usage && strcmp(e.file, win[0]) == 0,
	   "windows for a model: -1 naming the file ('%s')", e.msg);
}

int main(void)
{
	if (scratch_init("winread") < 0) return 1;
	test_missing_file_is_an_error_naming_it();
	test_stream_without_vocabulary();
	test_empty_stream();
	test_windows_in_batches();
	test_bad_windows_are_errors();
	test_model_path_errors();
	scratch_done();
	return done_testing();
}
