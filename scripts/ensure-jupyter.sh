#!/usr/bin/env bash
# Makes sure the notebooks can be executed: Debian's nbconvert and ipykernel, and Deno's
# Jupyter kernel registered for the current user. Safe to run again; does nothing twice.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deno="$root/node_modules/.bin/deno"

# Debian's jupyter runs on Debian's python; a pyenv or venv python3 earlier on PATH would not see it.
nbconvert_works() {
  command -v jupyter-nbconvert >/dev/null 2>&1 && jupyter-nbconvert --version >/dev/null 2>&1 &&
    /usr/bin/python3 -c "import ipykernel, nbclient" >/dev/null 2>&1
}

if ! nbconvert_works; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-jupyter: jupyter-nbconvert and python3-ipykernel are missing and this is not root." >&2
    echo "  Install them with: sudo apt-get install -y jupyter-nbconvert python3-ipykernel" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-jupyter: jupyter-nbconvert is missing and there is no apt-get to install it;" >&2
    echo "  install jupyter nbconvert and ipykernel with your system's package manager." >&2
    exit 1
  fi
  echo "ensure-jupyter: installing jupyter-nbconvert and python3-ipykernel with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends jupyter-nbconvert python3-ipykernel >&2
  if ! nbconvert_works; then
    echo "ensure-jupyter: apt-get finished but jupyter-nbconvert still does not run" >&2
    exit 1
  fi
fi

if [ ! -x "$deno" ]; then
  echo "ensure-jupyter: $deno not found; run npm install first (deno is a devDependency)" >&2
  exit 1
fi

# The kernelspec records the deno binary's path, so register again if it points elsewhere.
kernel_json="$(jupyter --data-dir)/kernels/deno/kernel.json"
# Deno records the path it was started by: this project's node_modules/.bin/deno or its target.
registered() {
  [ -f "$kernel_json" ] &&
    { grep -qF "\"$deno\"" "$kernel_json" || grep -qF "\"$(readlink -f "$deno")\"" "$kernel_json"; }
}
if ! registered; then
  echo "ensure-jupyter: registering Deno's Jupyter kernel" >&2
  "$deno" jupyter --install --force >&2
fi
