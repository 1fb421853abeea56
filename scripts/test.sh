#!/usr/bin/env bash
# Install what the tests need (system packages, a venv with the test extras) and run lint, types and tests.
# CI runs exactly this (see .ci/run). Extra arguments go to pytest, e.g. `bash scripts/test.sh -k feeds`.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages used by tests (real engines, validators, readers, servers). Installed when missing and we
# can (root on Debian); tests that need one skip with a reason when it is absent.
mapfile -t APT_PACKAGES < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' scripts/apt-packages.txt)
missing=()
for pkg in ${APT_PACKAGES[@]+"${APT_PACKAGES[@]}"}; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})) && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# Package layers and where network and SQL code may live: the contracts in pyproject.toml [tool.importlinter].
.venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
