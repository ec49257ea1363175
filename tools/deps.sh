#!/bin/sh
# deps.sh run|test: install the Debian packages (and for tests the npm Lambda runtime client) that
# are missing. Installs nothing that is already there, so repeated runs cost a second.
set -eu
want=$1
run_pkgs="gcc make pkg-config libevent-dev libjansson-dev libcurl4-openssl-dev zlib1g-dev libssl-dev curl libhiredis-dev librdkafka-dev libmosquitto-dev"
test_pkgs="$run_pkgs libcmocka-dev clang nodejs npm autoconf automake libtool cmake g++ unzip python3 runc podman gdb redis-server redis-tools mosquitto mosquitto-clients kcat valgrind"
case "$want" in
  run) pkgs=$run_pkgs ;;
  test) pkgs=$test_pkgs ;;
  *) echo "usage: deps.sh run|test" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
  # nodesource's nodejs ships npm itself; do not ask apt for Debian's npm then
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
# Building aws-lambda-ric needs Node's headers: NodeSource's nodejs ships them, Debian's has them
# in libnode-dev.
if [ "$want" = test ] && [ ! -f /usr/include/node/node.h ]; then
  missing="$missing libnode-dev"
fi
if [ -n "$missing" ]; then
  echo "deps: installing$missing"
  if [ "$(id -u)" != 0 ]; then echo "deps: need root to install$missing" >&2; exit 1; fi
  [ -x /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

if [ "$want" = test ]; then
  sh "$(dirname "$0")/ric.sh"
fi
