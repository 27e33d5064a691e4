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
export HAYSTACK_TELEMETRY_ENABLED=False OMP_NUM_THREADS=1
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy
echo "== import-linter"; .venv/bin/lint-imports
# three workers on two cores: many tests wait on servers, subprocesses and browsers; whole files stay on one
# worker so module fixtures (installations, models) are built once. TFE_TEST_WORKERS=0 runs in-process.
echo "== pytest"; "$PY" -m pytest -n "${TFE_TEST_WORKERS:-3}" --dist loadfile "$@"
