#!/bin/sh
# Makes sure the Python virtual environment that tests and benchmarks use
# (delta-rs and pyarrow) exists and matches
# scripts/requirements-test.txt. Prints the path of its python on stdout.
#
#   scripts/ensure-python.sh [venv-dir]     (default .cache/venv)
set -eu
cd "$(dirname "$0")/.."
venv="${1:-.cache/venv}"
req=scripts/requirements-test.txt
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  py=$(command -v python3 || command -v python || true)
  if [ -z "$py" ]; then
    echo "ensure-python: python3 is needed to install delta-rs and pyarrow" >&2
    exit 1
  fi
  echo "ensure-python: installing $(grep -v '^#' "$req" | tr '\n' ' ')into $venv" >&2
  rm -rf "$venv"
  "$py" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
