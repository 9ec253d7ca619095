#!/bin/sh
# The tensor stream through a pipe: 1 GiB of f32 tensors written by the tns
# writer and read back (every CRC checked) by the tns reader, next to cat
# moving the same bytes through a pipe.
. "$(dirname "$0")/lib.sh"
MK=${SEQLM_TESTBIN:-build/tests}/mktns
[ -x "$MK" ] || { echo "bench/tns.sh: $MK missing (make check builds it)" >&2; exit 1; }
"$MK" -b 1024 -o "$BENCH_TMP/big.tns"
bytes=$(wc -c < "$BENCH_TMP/big.tns")
cat "$BENCH_TMP/big.tns" > /dev/null
ours=$(median_time "$MK -b 1024 | tnsview --count")
peer=$(median_time "cat $BENCH_TMP/big.tns | cat > /dev/null")
report "tns write|read 1 GiB via pipe" "$ours" "cat|cat" "$peer" "$bytes"
ours=$(median_time "tnsview -c $BENCH_TMP/big.tns")
peer=$(median_time "cat $BENCH_TMP/big.tns > /dev/null")
report "tnsview -c 1 GiB file" "$ours" "cat" "$peer" "$bytes"
