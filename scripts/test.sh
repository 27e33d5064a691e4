#!/usr/bin/env bash
# The README's test command: install the test dependencies into .venv, then run linters and the whole suite.
# Needs: the .venv made by the README's first command, PostgreSQL at 127.0.0.1:5432 (trust auth), and
# Debian's chromium and softhsm2 (installed here with apt-get when missing and running as root).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if [ ! -x "$PY" ]; then
  echo "no .venv: run the README's first command (python3 -m venv .venv && .venv/bin/pip install -e .)" >&2
  exit 2
fi
"$PY" -m pip install -q -e '.[test]'
# Debian packages the tests use: chromium (browser tests), softhsm2 (the PKCS#11 key tests)
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v softhsm2-util >/dev/null 2>&1 || missing+=(softhsm2)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}") >/dev/null
  else
    echo "missing Debian packages: sudo apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
fi
# the test OpenID provider (npm oidc-provider, run with Node.js 20+): installed from its lockfile when
# node_modules is missing or the lockfile changed since the last install
OP=tests/oidc_provider
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Node.js 20+ and npm are needed for the OIDC sign-in tests (tests/oidc_provider)" >&2
  exit 2
fi
lock_sum="$(sha256sum "$OP/package-lock.json" | cut -d' ' -f1)"
if [ ! -d "$OP/node_modules/oidc-provider" ] || [ "$(cat "$OP/node_modules/.tfe-lock-sha256" 2>/dev/null)" != "$lock_sum" ]; then
  npm ci --prefix "$OP" --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_sum" > "$OP/node_modules/.tfe-lock-sha256"
fi
export HAYSTACK_TELEMETRY_ENABLED=False OMP_NUM_THREADS=1
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy
echo "== import-linter"; .venv/bin/lint-imports
# three workers on two cores: many tests wait on servers, subprocesses and browsers; whole files stay on one
# worker so module fixtures (installations, models) are built once. TFE_TEST_WORKERS=0 runs in-process.
echo "== pytest"; "$PY" -m pytest -n "${TFE_TEST_WORKERS:-3}" --dist loadfile "$@"
