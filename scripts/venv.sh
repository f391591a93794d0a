#!/usr/bin/env bash
# Create ./.venv from a Python >= 3.12 interpreter and install nma_bayes into it.
#   bash scripts/venv.sh          # the package
#   bash scripts/venv.sh test     # the package with the test extras
# PyMC 6, ArviZ 1.x and nutpie need Python >= 3.12; on older Pythons pip would silently install
# PyMC 5 / ArviZ 0.x. Set PYTHON=/path/to/python3.12 to choose the interpreter yourself.
set -euo pipefail
cd "$(dirname "$0")/.."

ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

find_python() {
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
  for cand in python3.13 python3.12 python3; do
    if command -v "$cand" >/dev/null 2>&1 && ok "$cand"; then echo "$cand"; return; fi
  done
  # pyenv installs versions that its shims only expose when selected; look for them directly.
  if command -v pyenv >/dev/null 2>&1; then
    for cand in "$(pyenv root)"/versions/3.1[3-9]*/bin/python "$(pyenv root)"/versions/3.12*/bin/python; do
      if [ -x "$cand" ] && ok "$cand"; then echo "$cand"; return; fi
    done
  fi
  echo "No Python >= 3.12 found. Install one (e.g. pyenv install 3.12) or set PYTHON=..." >&2
  exit 1
}

py=$(find_python)
ok "$py" || { echo "$py is older than 3.12" >&2; exit 1; }
echo "Creating .venv with $("$py" --version 2>&1) ($py)"
"$py" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "test" ]; then
  .venv/bin/python -m pip install --quiet ".[test]"
else
  .venv/bin/python -m pip install --quiet .
fi
