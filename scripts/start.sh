#!/usr/bin/env bash
# Command 1: install, migrate, create the first admin, start VM-X on http://localhost:3000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.tools/node_modules/.bin:$PATH"
exec .venv/bin/vmx run "$@"
