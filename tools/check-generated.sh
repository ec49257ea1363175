#!/bin/sh
# check-generated.sh BUILD_DIR: fail when the committed schemas/config.schema.json or
# docs/configuration.md differ from what the property tables (config/props_*.c) generate.
# The generator is BUILD_DIR/tests/gen_config_docs (tests/lib/gen_config_docs.c); it is built
# first when missing. Run from the repository root. Exit 0: up to date; 1: drift; 2: usage/build.
set -eu
if [ $# -ne 1 ]; then echo "usage: $0 BUILD_DIR" >&2; exit 2; fi
build=${1%/}
gen=$build/tests/gen_config_docs
if [ ! -x "$gen" ]; then
  mode=$(basename "$build")
  make --no-print-directory MODE="$mode" "$gen" >&2 || { echo "$0: cannot build $gen" >&2; exit 2; }
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
check() { # check ARG FILE
  "$gen" "$1" > "$tmp/out" || { echo "$0: $gen $1 failed" >&2; exit 2; }
  if ! diff -u "$2" "$tmp/out" > "$tmp/diff" 2>&1; then
    echo "$2 does not match the property tables in config/ (it is generated: do not edit it by hand). Differences:" >&2
    cat "$tmp/diff" >&2
    echo "Regenerate it with: $gen $1 > $2" >&2
    status=1
  fi
}
check schema schemas/config.schema.json
check markdown docs/configuration.md
[ $status -eq 0 ] && echo "generated files up to date: schemas/config.schema.json docs/configuration.md"
exit $status
