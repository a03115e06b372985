#!/bin/sh
# Runs a command with the project's pinned toolchain on PATH: Node 24 (the Lambda
# runtime) and pnpm, both installed from the npm registry into tools/toolchain,
# so a machine with only Node 20 and npm needs nothing else. Also makes sure the
# workspace is installed from the frozen lockfile.
#   sh scripts/toolchain.sh <command> [args...]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tc="$root/tools/toolchain"
stamp="$tc/node_modules/.cv-installed"

if [ ! -f "$stamp" ] || [ "$tc/package-lock.json" -nt "$stamp" ]; then
  echo "toolchain: installing pinned Node and pnpm from the npm registry" >&2
  (cd "$tc" && npm ci --no-fund --no-audit --loglevel=error)
  touch "$stamp"
fi
PATH="$tc/node_modules/.bin:$PATH"
export PATH
case "$(node --version)" in
  v24.*) ;;
  *) echo "toolchain: expected Node 24 from tools/toolchain, got $(node --version)" >&2; exit 1 ;;
esac

wstamp="$root/node_modules/.cv-installed"
if [ ! -f "$wstamp" ] || [ "$root/pnpm-lock.yaml" -nt "$wstamp" ]; then
  (cd "$root" && pnpm install --frozen-lockfile --reporter=append-only)
  touch "$wstamp"
fi
exec "$@"
