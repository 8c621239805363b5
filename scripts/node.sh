#!/usr/bin/env bash
# Runs Node >= 22.12 with the given arguments, fetching Node 24 first on machines whose Node is older,
# so that `npm start` and `npm test` work as written on any fresh machine.
set -euo pipefail
source "$(dirname "$0")/node-env.sh"
# V8 grows the young generation to 2 x 32 MiB under load; 2 x 16 MiB keeps a process about 100 MiB smaller
# (bench, complete flows: RSS 381 -> 281 MiB) for somewhat more frequent, shorter scavenges.
# A 1 GiB old-space limit is far above what the process holds live (about 55 MiB after a full GC under the
# bench's load), so it never makes GC work harder; what it changes is how far V8 lets the old space grow
# between full GCs: V8 derives that growing factor from the limit (4x live with the default limit of
# several GiB, about 1.6x at 1 GiB), and the old space's committed pages were most of the resident set
# (bench, request scenarios: RSS 335-376 -> about 225 MiB at the same CPU per request).
# Children (the bench's server, test servers) inherit both; the Dockerfile sets the same.
export NODE_OPTIONS="--max-semi-space-size=16 --max-old-space-size=1024${NODE_OPTIONS:+ $NODE_OPTIONS}"
exec node "$@"
