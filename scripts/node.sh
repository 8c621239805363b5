#!/usr/bin/env bash
# Runs Node >= 22.12 with the given arguments, fetching Node 24 first on machines whose Node is older,
# so that `npm start` and `npm test` work as written on any fresh machine.
set -euo pipefail
source "$(dirname "$0")/node-env.sh"
# Resident memory under load (a target of at most 300 MiB per process). A heap snapshot after the bench's request
# scenarios shows about 55 MiB live; the rest of the ~450 MiB was memory held rather than used:
# - V8 grows the young generation to 2 x 32 MiB under load; 2 x 8 MiB keeps a process about 150 MiB smaller
#   (bench, complete flows: RSS 381 -> 281 MiB at 2 x 16, 293-296 -> 239-254 MiB at 2 x 8) for more frequent,
#   shorter scavenges: at 2 x 8, 2 x 16 and back, alternately, neither flows nor consent-bound introspection
#   measured differently in throughput or server CPU beyond the machine's spread (bench/results.md, stop 13).
# - V8 lets the old space grow to a multiple of what is live before the next full GC, a factor it caps by the
#   old-space limit: 4x with the default limit of several GiB, about 1.6x at 1 GiB. 1 GiB is still ~18x what
#   is live; full GCs come more often, each marking only the live ~55 MiB (bench, request scenarios back to
#   back: RSS 445-468 -> 273-283 MiB, server CPU per request unchanged within the bench's noise).
# - glibc gives each thread that allocates (libuv's pool, V8's GC and compiler threads) an arena of its own and
#   keeps freed memory in each; two arenas hold the same work in less (with the above: 273-283 -> 237-242 MiB).
# Children (the bench's server, test servers) inherit all three; the Dockerfile sets the same.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
export NODE_OPTIONS="--max-semi-space-size=8 --max-old-space-size=1024${NODE_OPTIONS:+ $NODE_OPTIONS}"
exec node "$@"
