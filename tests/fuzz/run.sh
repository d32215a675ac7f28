#!/bin/sh
# run.sh: builds each libFuzzer target with clang (ASan+UBSan+fuzzer) and runs
# it for FUZZ_SECONDS (default 60) on a copy of its seed corpus. A crash leaves
# its input in tests/fuzz/crashes/<target>/ and fails the run; copy it into
# tests/fuzz/regress/<target>/ once fixed, so make check replays it forever.
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="prom answer config duration state"]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD:-$top/tests/fuzz/build}
secs=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-prom answer config duration state}
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null || { echo "fuzz: clang not found (apt-get install clang libclang-rt-14-dev)"; exit 2; }
mkdir -p "$build"
pkgs="libcurl libcjson hiredis libconfig yaml-0.1 libmicrohttpd"
cflags="$(pkg-config --cflags $pkgs) -I$top/src -I$top/tests/fuzz -D_GNU_SOURCE -g -O1"
libs="$(pkg-config --libs $pkgs) -lm"
srcs=$(ls "$top"/src/*.c | grep -v '/main\.c$')
san="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
status=0
for t in $targets; do
	bin="$build/fuzz_$t"
	# shellcheck disable=SC2086
	"$CLANG" $cflags $san -o "$bin" "$top/tests/fuzz/fuzz_$t.c" "$top/tests/fuzz/fuzz_targets.c" $srcs $libs
	work="$build/corpus-$t"
	mkdir -p "$work" "$top/tests/fuzz/crashes/$t"
	cp "$top/tests/fuzz/corpus/$t/"* "$work/" 2>/dev/null || true
	echo "fuzz: $t for ${secs}s"
	if ! LSAN_OPTIONS="suppressions=$top/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" "$bin" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=1024 -timeout=10 \
		-artifact_prefix="$top/tests/fuzz/crashes/$t/" -print_final_stats=1 "$work" \
		>"$build/$t.log" 2>&1; then
		echo "fuzz: $t FAILED; see $build/$t.log and tests/fuzz/crashes/$t/"
		tail -30 "$build/$t.log"
		status=1
	fi
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/$t.log" | grep -o '[0-9]*$' || echo '?')
	cov=$(grep -o 'cov: [0-9]*' "$build/$t.log" | tail -1 || true)
	echo "fuzz: $t: ${secs}s, $runs executions, $cov, corpus $(ls "$work" | wc -l) inputs"
done
exit $status
