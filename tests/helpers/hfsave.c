/* hfsave -- test helper: the vocabulary of SRC (a tensor stream's header or
 * a Hugging Face tokenizer folder) written as Hugging Face tokenizer files
 * into the folder DIR (tokenizer_save_hf).  Usage: hfsave SRC DIR */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "base/cli.h"
#include "tok/hftok.h"
#include "tok/tokenizers.h"
#include "io/tns.h"

int main(int argc, char **argv)
{
	char err[512];
	tok_vocab v;
	struct stat st;
	cli_prog = "hfsave";
	if (argc != 3) { fprintf(stderr, "usage: hfsave SRC DIR\n"); return 2; }
	if (stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode)) {
		if (hftok_load_dir(argv[1], &v, err, sizeof err) < 0) die_file(argv[1], "%s", err);
	} else {
		tns_reader *r = tns_open(argv[1], err, sizeof err);
		if (!r) die_file(argv[1], "%s", err);
		if (vocab_from_header(&v, tns_reader_header(r), err, sizeof err) < 0) die_file(argv[1], "%s", err);
		tns_close_reader(r);
	}
	mkdir(argv[2], 0777);
	if (tokenizer_save_hf(argv[2], &v, err, sizeof err) < 0) die_file(argv[2], "%s", err);
	vocab_free(&v);
	return 0;
}
