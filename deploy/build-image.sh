#!/usr/bin/env bash
# Builds the CodeEval RL image without a daemon and checks it with `codeeval-rl doctor`.
#
#   deploy/build-image.sh [--tag NAME] [--suite bookworm] [--mirror URL] [--no-doctor]
#
# Steps (each timed; the times and the image size are printed at the end):
#   1. base: mmdebstrap makes a Debian root file system holding deploy/debian-packages.txt
#      (from Debian's package mirror, no image registry), imported with buildah as
#      localhost/codeeval-rl-base:SUITE;
#   2. wheels: this checkout and every Python dependency as wheels (pip wheel, with the
#      host's pip configuration), so the image build itself needs no index;
#   3. image: buildah bud -f deploy/Containerfile, tagged localhost/codeeval-rl:VERSION;
#   4. doctor: `codeeval-rl doctor` in a container of the image, as root with `buildah run`
#      (the sandbox's full mode) and as the image's own non-root user with `podman run`
#      (rootless mode: /proc unmasked and the worker pods' seccomp profile, as in Kubernetes);
#      either failing fails the script.
#
# Needs: Linux, root (buildah's storage and mmdebstrap's chroot), buildah, mmdebstrap, runc,
# podman (the non-root doctor: buildah cannot unmask /proc), a Python 3.11 with pip (the image's
# Debian Python is 3.11: wheels must match it; PYTHON=... picks one), network access to a Debian
# mirror and to a Python package index, about 6 GB of disk.
# On Debian or Ubuntu: apt-get install buildah mmdebstrap runc podman (this script does it when
# run as root with apt-get and they are missing; podman only unless --no-doctor).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
TAG=""
DOCTOR=1
PYTHON=${PYTHON:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG=$2; shift 2 ;;
    --suite) SUITE=$2; shift 2 ;;
    --mirror) MIRROR=$2; shift 2 ;;
    --no-doctor) DOCTOR=0; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" != 0 ]; then
  echo "error: run as root (buildah storage and mmdebstrap's chroot need it)" >&2; exit 2
fi
missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v runc >/dev/null || missing+=(runc)
[ "$DOCTOR" = 0 ] || command -v podman >/dev/null || missing+=(podman)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  else
    echo "error: install ${missing[*]} first" >&2; exit 2
  fi
fi
if [ -z "$PYTHON" ]; then
  for p in "$ROOT/.venv/bin/python" python3.11 python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON=$p; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "error: no Python 3.11 found for the wheels (set PYTHON=/path/to/python3.11)" >&2; exit 2
fi

VERSION=$("$PYTHON" -c 'import tomllib,sys; print(tomllib.load(open(sys.argv[1],"rb"))["project"]["version"])' \
  "$ROOT/pyproject.toml")
TAG=${TAG:-localhost/codeeval-rl:$VERSION}
BASE=localhost/codeeval-rl-base:$SUITE
WORK="$ROOT/build/image"
mkdir -p "$WORK"
declare -A took
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f}')" "$1" "$(now)"; }

# ---- 1. base ---------------------------------------------------------------------------
t=$(now)
pkgs=$(grep -v '^#' "$ROOT/deploy/debian-packages.txt" | paste -sd, -)
if buildah images --quiet "$BASE" >/dev/null 2>&1 && [ "$(buildah inspect --type image --format '{{index .ImageAnnotations "org.codeeval-rl.packages"}}' "$BASE" 2>/dev/null)" = "$pkgs" ]; then
  echo "== base $BASE is up to date"
else
  echo "== base: mmdebstrap $SUITE with $pkgs"
  rm -f "$WORK/base.tar"
  mmdebstrap --variant=minbase --include="$pkgs" \
    --essential-hook='mkdir -p "$1"/usr/share/man/man1' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    "$SUITE" "$WORK/base.tar" "$MIRROR"
  ctr=$(buildah from scratch)
  buildah add --quiet "$ctr" "$WORK/base.tar" /
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd /bin/bash --annotation "org.codeeval-rl.packages=$pkgs" "$ctr"
  buildah commit --quiet --rm "$ctr" "$BASE" >/dev/null
  rm -f "$WORK/base.tar"
fi
took[base]=$(elapsed "$t")

# ---- 2. wheels -------------------------------------------------------------------------
t=$(now)
echo "== wheels: codeeval-rl[serve,ray] and ray[default] for Python 3.11"
CONTEXT="$WORK/context"
rm -rf "$CONTEXT"
mkdir -p "$CONTEXT/wheels"
cp "$ROOT/deploy/debian-packages.txt" "$CONTEXT/"
RAY_VERSION=$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("ray"))' 2>/dev/null || true)
"$PYTHON" -m pip wheel --quiet --wheel-dir "$CONTEXT/wheels" "$ROOT[serve,ray]" "ray[default]${RAY_VERSION:+==$RAY_VERSION}"
# A second pass with the image's own Python: dependency markers such as
# `python_full_version < "3.11.3"` (redis's async-timeout) differ between the host's 3.11 and
# Debian's 3.11.2. The host's wheels are pinned, so it only adds what Debian's Python needs.
ls "$CONTEXT/wheels" | sed -E 's/^([^-]+)-([^-]+)-.*/\1==\2/' > "$CONTEXT/pins.txt"
# The host's pip certificate (a proxy's CA, say) carries over to that pass.
cert=${PIP_CERT:-$("$PYTHON" -m pip config get global.cert 2>/dev/null || true)}
certargs=()
if [ -n "$cert" ] && [ -f "$cert" ]; then
  certargs=(-v "$cert:/tmp/host-ca.crt:ro" --env PIP_CERT=/tmp/host-ca.crt)
fi
ctr=$(buildah from "$BASE")
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah run --isolation chroot --network host -v "$CONTEXT:/ctx" "${certargs[@]}" "$ctr" -- sh -c \
  'python3 -m venv /tmp/wheelhouse && /tmp/wheelhouse/bin/pip wheel --quiet --disable-pip-version-check \
     --wheel-dir /ctx/wheels --find-links /ctx/wheels --constraint /ctx/pins.txt "codeeval-rl[serve,ray]" "ray[default]"'
buildah rm "$ctr" >/dev/null
trap - EXIT
rm "$CONTEXT/pins.txt"
took[wheels]=$(elapsed "$t")

# ---- 3. image --------------------------------------------------------------------------
t=$(now)
echo "== image: buildah bud -> $TAG"
# chroot isolation: the RUN steps need no OCI runtime or cgroups (crun refuses a host whose
# cgroups are in hybrid v1/v2 mode, as here); they only install files from the context.
buildah bud --quiet --layers --isolation "${BUILDAH_ISOLATION:-chroot}" --network host --build-arg BASE="$BASE" \
  -f "$ROOT/deploy/Containerfile" \
  -t "$TAG" "$CONTEXT"
took[image]=$(elapsed "$t")
rm -rf "$CONTEXT"
stored=$(buildah images --format '{{.Size}}' "$TAG" | head -1)

# ---- 4. doctor -------------------------------------------------------------------------
# OCI isolation (chroot isolation remounts /sys read-only, so the sandbox finds no writable
# cgroup there). runc, since crun refuses hybrid v1/v2 cgroup hosts; crun where runc is absent.
status=0
if [ "$DOCTOR" = 1 ]; then
  t=$(now)
  runtime=$(command -v runc || command -v crun)
  ctr=$(buildah from "$TAG")
  trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
  # Root mode, the sandbox's full isolation: it makes its own namespaces (CAP_SYS_ADMIN), brings
  # up each worker's loopback (CAP_NET_ADMIN) and creates cgroups (the host's cgroup tree).
  echo "== doctor as root: buildah run --runtime $runtime, CAP_SYS_ADMIN, CAP_NET_ADMIN, the cgroup tree"
  if buildah run --isolation oci --runtime "$runtime" --user 0:0 --cap-add CAP_SYS_ADMIN --cap-add CAP_NET_ADMIN \
      --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw "$ctr" -- codeeval-rl doctor; then
    echo "doctor as root: passed"
  else
    echo "doctor as root: FAILED"; status=1
  fi
  buildah rm "$ctr" >/dev/null
  trap - EXIT
  # Rootless mode, the image's own user (uid 10001, no capabilities): bubblewrap in unprivileged
  # user namespaces. It needs what the sandbox worker pods get in Kubernetes (docs/deploy.md):
  # /proc unmasked (the kernel refuses a fresh /proc in a user namespace where parts of the
  # visible one are masked; buildah run cannot unmask it, podman can), and a seccomp profile
  # that lets an unprivileged process set the hostname of its own UTS namespace (the default
  # profile allows sethostname only with CAP_SYS_ADMIN): the worker pods' profile. Explicit
  # ulimits: podman's defaults are above the hard limits of hosts that do not give it
  # CAP_SYS_RESOURCE, and the OCI runtime then fails to set them.
  echo "== doctor as the image's user (rootless mode): podman run, /proc unmasked, the worker pods' seccomp profile"
  if podman --runtime "$runtime" --cgroup-manager cgroupfs run --rm --network none \
      --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
      --security-opt 'unmask=/proc/*' \
      --security-opt "seccomp=$ROOT/deploy/kubernetes/seccomp/sandbox-worker.json" \
      "$TAG" doctor; then
    echo "doctor as the image's user: passed"
  else
    echo "doctor as the image's user: FAILED"; status=1
  fi
  took[doctor]=$(elapsed "$t")
fi

echo
echo "image $TAG: $stored (uncompressed; base $(buildah images --format '{{.Size}}' "$BASE" | head -1))"
for step in base wheels image doctor; do
  [ -n "${took[$step]:-}" ] && echo "  $step: ${took[$step]} s"
done
exit $status
