#!/usr/bin/env bash
# Runs Node >= 22.12 with the given arguments, fetching Node 24 first on machines whose Node is older,
# so that `npm start` and `npm test` work as written on any fresh machine.
set -euo pipefail
source "$(dirname "$0")/node-env.sh"
exec node "$@"
