#!/bin/sh
# docker-image.sh [TAG]: build the base image of `docker` sandboxes (docker/Containerfile) with
# podman, tagged TAG (default localhost/sluice/base:latest, the default of a function's "image").
# Needs no registry: the image is FROM scratch. With CONTAINERS_CONF set (the tests' podman
# service), the image lands in that store.
set -eu
tag=${1:-localhost/sluice/base:latest}
root=$(cd "$(dirname "$0")/.." && pwd)
ctx=$(mktemp -d "${TMPDIR:-/tmp}/sluice-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
cp "$root/docker/Containerfile" "$ctx/"
mkdir -p "$ctx/root"
for d in usr etc var/task opt/sluice run/sluice proc dev sys tmp; do
	mkdir -p "$ctx/root/$d"
done
chmod 1777 "$ctx/root/tmp"
for l in bin lib lib64 sbin; do
	ln -s "usr/$l" "$ctx/root/$l"
done
podman build --quiet --network none --tag "$tag" "$ctx" >/dev/null
echo "built $tag"
