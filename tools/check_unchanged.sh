#!/usr/bin/env bash
# Run a command and fail if it changed the git working tree (tracked diffs, untracked files or their contents).
# `make test` uses it for `nbdev-clean` (notebooks must be clean) and `nbdev-export` (library must be in sync).
set -euo pipefail
snapshot() {
  { git status --porcelain --untracked-files=all; git diff;
    git ls-files -o --exclude-standard -z | xargs -0 -r sha256sum; } | sha256sum
}
before=$(snapshot)
"$@"
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "error: '$*' changed the working tree; run it, review and commit the result:" >&2
  git status --short >&2
  exit 1
fi
