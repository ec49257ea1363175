#!/bin/sh
# ric.sh: make sure the pinned Node.js Lambda runtime interface client is built in the cache.
# Prints nothing when it is already there. Its build compiles native code and takes about 80 s.
set -eu
ver=3.3.0
dir=$(sh "$(dirname "$0")/ric-dir.sh")
[ -f "$dir/node_modules/aws-lambda-ric/dist/rapid-client.node" ] && exit 0
echo "deps: building aws-lambda-ric@$ver in $dir (about 80 s, once)"
rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
# node-gyp must find Node's headers locally (no downloads here): Debian and NodeSource put them
# under /usr/include/node.
[ -f /usr/include/node/node.h ] && export npm_config_nodedir=/usr
(cd "$dir.tmp" && printf '{"name":"sluice-ric-cache","private":true}\n' > package.json &&
  npm install --foreground-scripts --no-audit --no-fund "aws-lambda-ric@$ver" > build.log 2>&1) || {
  echo "deps: aws-lambda-ric build failed; see $dir.tmp/build.log" >&2; exit 1; }
[ -f "$dir.tmp/node_modules/aws-lambda-ric/dist/rapid-client.node" ] || {
  echo "deps: aws-lambda-ric installed without its native client; see $dir.tmp/build.log" >&2; exit 1; }
rm -rf "$dir"; mv "$dir.tmp" "$dir"
