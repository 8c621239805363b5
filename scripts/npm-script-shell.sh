#!/bin/sh
# npm's script shell for this project (.npmrc `script-shell`): every npm script, and every dependency's
# install script (argon2 loads its prebuilt binary there), runs with Node >= 22.12 first on PATH. Without
# it, `npm install` on a machine with Node 20 ran argon2's install under Node 20, which failed.
. "$(dirname "$0")/node-env.sh"
exec /bin/sh "$@"
