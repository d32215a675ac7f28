#!/bin/sh
# 001-cli: the command line basics.
set -e
"$WEIGHTD" --version | grep -q "^weightd "
"$WEIGHTD" --help | grep -q -- "--dry-run"
