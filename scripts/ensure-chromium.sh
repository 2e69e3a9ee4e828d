#!/usr/bin/env bash
# Makes sure Debian's chromium is at /usr/bin/chromium for the playground's browser tests.
# Safe to run again: quiet and quick when chromium is already there.
set -euo pipefail

chromium=/usr/bin/chromium

if [ -x "$chromium" ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $chromium is missing and there is no apt-get to install it;" >&2
  echo "  install Chromium with your system's package manager (the tests expect it at $chromium)." >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "ensure-chromium: $chromium is missing, this is not root and there is no sudo." >&2
    echo "  Install it as root with: apt-get install -y chromium" >&2
    exit 1
  fi
  sudo=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
# Other jobs on the machine may be using apt; wait for its lock instead of failing at once.
apt=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 -qq)

echo "ensure-chromium: installing chromium with apt-get" >&2
# A fresh container has no package lists; try without updating first, since updating is slow.
if ! "${apt[@]}" install -y --no-install-recommends chromium >/dev/null 2>&1; then
  "${apt[@]}" update >&2
  "${apt[@]}" install -y --no-install-recommends chromium >&2
fi

if [ ! -x "$chromium" ]; then
  echo "ensure-chromium: apt-get finished but $chromium is still missing" >&2
  exit 1
fi
