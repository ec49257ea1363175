#!/usr/bin/env bash
# test_isolation.sh's hostile functions, in docker sandboxes run by Podman's Docker-compatible API.
SLUICE_IT_SANDBOX=docker exec bash "$(dirname "$0")/test_isolation.sh"
