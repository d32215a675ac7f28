#!/bin/sh
# build-deb.sh: builds weightd's Debian package from this tree, outside the
# tree: copies the files git tracks or would track (git ls-files) to a scratch directory, puts
# contrib/debian there as debian/, runs dpkg-buildpackage (binary only,
# unsigned, DEB_BUILD_OPTIONS=nocheck: the tests run in contrib/check.sh), then
# lintian. The .deb files land in --out (default: _build/deb).
#
#   contrib/build-deb.sh [--out DIR]
# Needs: dpkg-dev debhelper lintian fakeroot and the build dependencies
# (apt-get install dpkg-dev debhelper lintian fakeroot; contrib/install-deps.sh).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/_build/deb
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	-h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "build-deb.sh: unknown argument \"$1\"" >&2; exit 2 ;;
	esac
done
for tool in dpkg-buildpackage dh lintian fakeroot; do
	command -v "$tool" >/dev/null ||
		{ echo "build-deb.sh: $tool is missing (apt-get install dpkg-dev debhelper lintian fakeroot)" >&2; exit 1; }
done
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
scratch=$(mktemp -d "${TMPDIR:-/tmp}/weightd-deb.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
src=$scratch/weightd-0
mkdir -p "$src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$src" 2>/dev/null) || true
cp -r "$src/contrib/debian" "$src/debian"
(cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) >"$scratch/build.log" 2>&1 ||
	{ tail -n 40 "$scratch/build.log" >&2; echo "build-deb.sh: dpkg-buildpackage failed" >&2; exit 1; }
mkdir -p "$out"
cp "$scratch"/*.deb "$scratch"/*.changes "$out/"
echo "build-deb.sh: built $(cd "$out" && ls ./*.deb | tr '\n' ' ')"
# Errors fail the build; warnings are shown.
lintian --fail-on error "$scratch"/*.changes
