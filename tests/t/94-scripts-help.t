#!/bin/sh
# Every script in examples/ and scripts/ answers --help: exit 0, a usage text
# on stdout, and nothing made or changed (it once ran mkdir --help).
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
for s in "$TOP"/examples/*.sh "$TOP"/scripts/*.sh "$TOP"/examples/*.py "$TOP"/scripts/*.py; do
	name=${s#"$TOP"/}
	case $s in
	*.py) grep -q '__main__' "$s" || continue   # a module, not a command
	      run="$PYTHON $s" ;;
	*.sh) run="sh $s"; head -n 1 "$s" | grep -q bash && run="bash $s" ;;
	esac
	mkdir "$T/cwd" && cd "$T/cwd" || exit 1
	$run --help > "$T/out" 2> "$T/err"; rc=$?
	is "$rc" 0 "$name --help exits 0"
	grep -qi 'usage\|^[a-z_-]*\.\(sh\|py\) ' "$T/out"; ok $? "$name --help prints its usage on stdout"
	is "$(ls -A "$T/cwd" | tr '\n' ' ')" "" "$name --help makes no file"
	cd "$T" && rm -rf "$T/cwd"
done
done_testing
