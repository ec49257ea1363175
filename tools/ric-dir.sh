#!/bin/sh
# ric-dir.sh: print where the pinned aws-lambda-ric build is cached (shared by clones on this machine).
echo "${SLUICE_CACHE:-/var/cache/sluice}/aws-lambda-ric-3.3.0"
