#!/bin/sh
# --precision fp32|bf16 in lmtrain, lmprobe and fisherflow: fp32 is the
# default and unchanged; bf16 (products through oneDNN with bfloat16
# inputs) is close to fp32, identical for any -t, and refused -- exit 1,
# nothing written -- where it cannot run natively.  The engine's bf16
# numbers against PyTorch: tests/unit/test_bert_bf16.c.
. "$(dirname "$0")/lib.sh"
W=$DATA/engine/dna_3mer.tns
CMP=$SEQLM_TESTBIN/tnscmp
small="--arch 4M --layers 2 --hidden 32 --heads 2 --ffn 64 -b 16 --max-pos 64"
lmtrain $small --steps 6 --seed 1 -o "$T/m1.tns" "$W" 2>/dev/null
lmtrain $small --steps 6 --seed 2 -o "$T/m2.tns" "$W" 2>/dev/null

fails_with "--precision takes fp32 or bf16" 2 "--precision: fp32 or bf16, not 'fp16'" lmprobe --precision fp16 -i "$W" "$T/m1.tns"
lmprobe -i "$W" "$T/m1.tns" "$T/m2.tns" -o "$T/def.tns" && lmprobe --precision fp32 -i "$W" "$T/m1.tns" "$T/m2.tns" -o "$T/fp32.tns"
"$CMP" "$T/fp32.tns" "$T/def.tns" >/dev/null; ok $? "lmprobe: --precision fp32 is the default (same values)"
lmtrain $small --steps 6 --seed 1 --precision fp32 -o "$T/m1b.tns" "$W" 2>/dev/null
"$CMP" "$T/m1b.tns" "$T/m1.tns" >/dev/null; ok $? "lmtrain: --precision fp32 is the default (same parameters)"

why=$(lmprobe --version | grep '^oneDNN .*bf16: yes')
if [ -z "$why" ]; then
	fails_with "without oneDNN or the instructions, bf16 is refused with the reason" 1 \
		"lmprobe: error: --precision bf16: (built without oneDNN|this CPU lacks AVX512-BF16)" \
		lmprobe --precision bf16 -i "$W" "$T/m1.tns" -o "$T/no.tns"
	test ! -e "$T/no.tns"; ok $? "and writes nothing"
	done_testing; exit
fi

# oneDNN's own switch caps the instruction set it may use: as on a CPU
# without AVX512-BF16 and AMX, where bf16 would be emulated
for p in lmprobe fisherflow lmtrain; do
	case $p in lmtrain) args="$small --steps 2 -o $T/no.tns $W" ;; *) args="-i $W $T/m1.tns -o $T/no.tns" ;; esac
	fails_with "$p: bf16 refused on a CPU without AVX512-BF16/AMX (DNNL_MAX_CPU_ISA=AVX512_CORE), naming what is missing" 1 \
		"$p: error: --precision bf16: this CPU lacks AVX512-BF16 \(and AMX-BF16\).*avx512_core, capped by DNNL_MAX_CPU_ISA" \
		env DNNL_MAX_CPU_ISA=AVX512_CORE $p --precision bf16 $args
done
test ! -e "$T/no.tns" && test ! -e "$T/no.tns.tmp"; ok $? "and nothing is written"
lmprobe -i "$W" "$T/m1.tns" -o "$T/one.tns"
DNNL_MAX_CPU_ISA=AVX512_CORE lmprobe -i "$W" "$T/m1.tns" -o "$T/capfp32.tns"
"$CMP" "$T/capfp32.tns" "$T/one.tns" >/dev/null; ok $? "fp32 does not use oneDNN: the cap changes nothing"

# lmprobe: bf16 close to fp32, identical for any -t
lmprobe --precision bf16 -i "$W" "$T/m1.tns" "$T/m2.tns" -o "$T/bf.tns"; ok $? "lmprobe --precision bf16 runs"
"$CMP" "$T/bf.tns" "$T/def.tns" >/dev/null; test $? = 1; ok $? "its probabilities are not fp32's bits"
"$CMP" -a 2e-3 "$T/bf.tns" "$T/def.tns" >/dev/null; ok $? "but within 2e-3 of them"
lmprobe --precision bf16 -t 2 -b 7 -i "$W" "$T/m1.tns" "$T/m2.tns" -o "$T/bf2.tns"
"$CMP" "$T/bf2.tns" "$T/bf.tns" >/dev/null; ok $? "lmprobe bf16: -t 2 -b 7 gives the same values as -t 1"

# lmtrain: bitwise the same for any -t, not fp32's, and close to it
lmtrain $small --steps 6 --seed 1 --precision bf16 -o "$T/b1.tns" "$W" 2>/dev/null; ok $? "lmtrain --precision bf16 trains"
lmtrain $small --steps 6 --seed 1 --precision bf16 -t 2 -o "$T/b2.tns" "$W" 2>/dev/null
"$CMP" "$T/b2.tns" "$T/b1.tns" >/dev/null; ok $? "lmtrain bf16: -t 2 gives the parameters of -t 1"
"$CMP" "$T/b1.tns" "$T/m1.tns" >/dev/null; test $? = 1; ok $? "bf16 training is not fp32's"
"$CMP" -a 1e-3 "$T/b1.tns" "$T/m1.tns" >/dev/null; ok $? "but after 6 steps its parameters are within 1e-3 of fp32's"
lmtrain $small --steps 6 --seed 1 --precision bf16 --checkpoint-every 3 --checkpoint "$T/c.ckpt" -o "$T/h.tns" "$W" 2>/dev/null
lmtrain $small --steps 6 --seed 1 --precision bf16 --resume "$T/c.ckpt" -o "$T/r.tns" "$W" 2>/dev/null ||
	lmtrain $small --steps 6 --seed 1 --precision bf16 --resume "$T/c.ckpt" -o "$T/r.tns" "$W"
"$CMP" "$T/r.tns" "$T/b1.tns" >/dev/null; ok $? "lmtrain bf16 resumed from a checkpoint: the parameters of a straight run"

# fisherflow: close to fp32, identical for any -t
fisherflow -i "$W" "$T/m1.tns" > "$T/f32.tsv"
fisherflow --precision bf16 -i "$W" "$T/m1.tns" > "$T/fb1.tsv"; ok $? "fisherflow --precision bf16 runs"
fisherflow --precision bf16 -t 2 -i "$W" "$T/m1.tns" > "$T/fb2.tsv"
cmp -s "$T/fb1.tsv" "$T/fb2.tsv"; ok $? "fisherflow bf16: -t 2 gives the same bytes"
awk -F'\t' 'NR == FNR {a[$2] = $4; next} FNR > 1 {d = $4 - a[$2]; if (d < 0) d = -d; if (d > 0.01) bad = 1} END {exit bad}' "$T/f32.tsv" "$T/fb1.tsv"
ok $? "its Fisher shares are within 0.01 of fp32's"
done_testing
