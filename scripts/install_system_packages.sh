#!/usr/bin/env bash
# Installs the system packages the sandbox and the tests need, only those missing.
# Each line: a path that proves the package is present, then the Debian package.
# python3-venv: tests/sandbox/test_rootless.py installs the project for an unprivileged user in
# a virtual environment of the system Python. libcommons-lang3-java: the java runtime profile's
# jars come from Debian's packages (docs/sandbox.md).
set -euo pipefail
need=()
while read -r probe pkg; do
  [ -z "$probe" ] && continue
  [ -e "$probe" ] || need+=("$pkg")
done <<'LIST'
/usr/bin/bwrap bubblewrap
/usr/lib/python3/dist-packages/seccomp.cpython-311-x86_64-linux-gnu.so python3-seccomp
/usr/bin/python3 python3
/usr/bin/gcc gcc
/usr/bin/g++ g++
/usr/bin/node nodejs
/usr/bin/javac default-jdk-headless
/usr/bin/rustc rustc
/usr/bin/chromium chromium
/usr/lib/python3/dist-packages/coverage/__init__.py python3-coverage
/usr/lib/python3.11/ensurepip/__init__.py python3-venv
/usr/share/java/commons-lang3.jar libcommons-lang3-java
LIST
# python3-seccomp's file name carries the architecture; accept any build of it.
if ls /usr/lib/python3/dist-packages/seccomp*.so >/dev/null 2>&1; then
  need=("${need[@]/python3-seccomp}")
fi
pkgs=$(printf '%s\n' "${need[@]}" | grep -v '^$' | sort -u | tr '\n' ' ' || true)
if [ -z "${pkgs// /}" ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages to install: $pkgs"
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "error: need root (or sudo) to install: $pkgs" >&2; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $pkgs
