#!/usr/bin/env bash
# Runs Node >= 22.12 with the given arguments, fetching Node 24 first on machines whose Node is older,
# so that `npm start` and `npm test` work as written on any fresh machine.
set -euo pipefail
source "$(dirname "$0")/node-env.sh"
# V8 grows the young generation to 2 x 32 MiB under load; 2 x 16 MiB keeps a process about 100 MiB smaller
# (bench, complete flows: RSS 381 -> 281 MiB) for somewhat more frequent, shorter scavenges. Children
# (the bench's server, test servers) inherit it; the Dockerfile sets the same.
export NODE_OPTIONS="--max-semi-space-size=16${NODE_OPTIONS:+ $NODE_OPTIONS}"
exec node "$@"
