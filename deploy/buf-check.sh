#!/usr/bin/env bash
# Lints the protos and checks them for breaking changes against the previous commit, with buf
# from the npm registry (@bufbuild/buf ships its binary inside the package; no protoc needed).
# Installs buf under .tmp/buf the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

buf=.tmp/buf/node_modules/.bin/buf
if [ ! -x "$buf" ]; then
  command -v npm >/dev/null || { echo "buf-check: npm is needed to install buf (apt-get install npm)" >&2; exit 1; }
  mkdir -p .tmp/buf
  npm install --prefix .tmp/buf --no-audit --no-fund --silent @bufbuild/buf@1 >&2
fi

"$buf" lint
echo "buf lint: clean"

against=${BUF_AGAINST:-HEAD~1}
if git rev-parse --verify -q "$against" >/dev/null && git cat-file -e "$against:buf.yaml" 2>/dev/null; then
  "$buf" breaking --against ".git#ref=$(git rev-parse "$against")"
  echo "buf breaking: no breaking change against $against"
else
  echo "buf breaking: $against has no buf module; nothing to compare"
fi
