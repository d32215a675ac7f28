#!/bin/sh
# check.sh: the full test run, as CI does it, on a fresh Debian machine:
#   1. installs the dependencies (contrib/install-deps.sh),
#   2. builds with -Werror, AddressSanitizer and UBSan in _build/asan and runs
#      the whole `make check` (unit and integration tests) there,
#   3. builds without sanitizers in _build/plain and runs every unit test under
#      valgrind (`make check-valgrind`).
# Prints "N passed, N failed" at the end; exit status 0 only if all passed.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
contrib/install-deps.sh || exit 1
./autogen.sh >/dev/null || exit 1
# The builds below are out of tree, which configure refuses while the source
# tree itself is configured.
if [ -f config.status ]; then
	echo "check.sh: cleaning the in-tree build (make distclean) for the out-of-tree builds"
	make distclean >/dev/null 2>&1 || rm -f config.status
fi
rc=0
mkdir -p _build/asan _build/plain
(cd _build/asan && "$top/configure" --enable-werror --enable-sanitizers -q && make -j2 && make -j2 check) || rc=1
(cd _build/plain && "$top/configure" --enable-werror -q && make -j2 && make check-valgrind) >_build/valgrind.log 2>&1 || rc=1
grep -E '^(PASS|FAIL)|valgrind:' _build/valgrind.log

# Print the logs of failed tests, then one closing line with the counts.
trs=$(find _build/asan/tests -name '*.trs' 2>/dev/null)
for f in $trs; do
	if grep -q ':test-result: \(FAIL\|ERROR\)' "$f"; then
		echo "=== ${f%.trs}.log"
		cat "${f%.trs}.log"
	fi
done
if grep -q 'FAIL: valgrind' _build/valgrind.log || ! grep -q '^valgrind:' _build/valgrind.log; then
	tail -n 200 _build/valgrind.log
fi
count() { cat $trs /dev/null | grep -c ":test-result: $1" || true; }
vg() { grep -c "^$1: valgrind" _build/valgrind.log || true; }
pass=$(( $(count PASS) + $(vg PASS) ))
fail=$(( $(count FAIL) + $(count ERROR) + $(vg FAIL) ))
skip=$(count SKIP)
echo "$pass passed, $fail failed, $skip skipped"
exit $rc
