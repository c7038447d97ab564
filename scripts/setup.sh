#!/usr/bin/env bash
# Installs everything VM-X needs into the checkout: .venv (Python packages), .tools (bun from the
# npm registry, because Reflex's own bun download needs the internet). Idempotent and quiet when done.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.vmx-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
  extras=${VMX_SETUP_EXTRAS-test}  # the Dockerfile sets it empty: no test tools in the image
  .venv/bin/pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
  touch "$stamp"
fi
if [ ! -x .tools/node_modules/.bin/bun ]; then
  mkdir -p .tools
  npm install --silent --no-audit --no-fund --prefix .tools bun@1.4.5 >/dev/null
fi
if [ "${VMX_SETUP_BROWSER:-0}" = "1" ] && [ ! -d tests/fakes/oidc_provider/node_modules/oidc-provider ]; then
  # The SSO tests run a real OpenID provider: npm's oidc-provider, pinned by its package-lock.
  npm ci --silent --no-audit --no-fund --prefix tests/fakes/oidc_provider >/dev/null
fi
if [ "${VMX_SETUP_BROWSER:-0}" = "1" ] && [ ! -f tests/e2e/axe/node_modules/axe-core/axe.min.js ]; then
  # The browser tests inject axe-core into every console page: npm's axe-core, pinned by its package-lock.
  npm ci --silent --no-audit --no-fund --prefix tests/e2e/axe >/dev/null
fi
if [ "${VMX_SETUP_BROWSER:-0}" = "1" ] && [ ! -d tests/clients/node/node_modules/ai ]; then
  # The client-compatibility suite's Node clients (openai, @anthropic-ai/sdk, the AI SDK), pinned.
  npm ci --silent --no-audit --no-fund --prefix tests/clients/node >/dev/null
fi
if [ "${VMX_SETUP_BROWSER:-0}" = "1" ] && [ ! -x /usr/bin/chromium ]; then
  # Browser tests drive Debian's Chromium (no browser downloads here).
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null
  else
    echo "setup: /usr/bin/chromium is missing; install Debian's chromium package" >&2
    exit 1
  fi
fi
