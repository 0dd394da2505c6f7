#!/usr/bin/env bash
# Installs the Debian packages behind the test servers (Ceph radosgw, OpenSSH, rclone)
# if any are missing. Idempotent and quiet when everything is already there.
set -euo pipefail

packages=(radosgw ceph-mon ceph-osd openssh-server rclone)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
updated=0

# Runs a command with its output kept aside, and shows that output only if it fails.
quiet() {
  local log rc=0
  log="$(mktemp)"
  "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    cat "$log" >&2
    echo "install.sh: failed ($rc): $*" >&2
  fi
  rm -f "$log"
  return "$rc"
}

apt_install() {
  if [ "$updated" -eq 0 ]; then
    quiet $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
    updated=1
  fi
  echo "installing: $*" >&2
  quiet $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@"
}

if ((${#missing[@]})); then
  apt_install "${missing[@]}"
fi

# ceph, ceph-authtool and monmaptool come with ceph-common, which ceph-mon normally pulls in;
# install it explicitly only if one of them is still missing.
for cmd in ceph ceph-authtool monmaptool radosgw-admin; do
  if ! command -v "$cmd" >/dev/null; then
    apt_install ceph-common
    break
  fi
done

for cmd in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool rclone ssh-keygen curl python3; do
  command -v "$cmd" >/dev/null || [ -x "/usr/sbin/$cmd" ] || [ -x "/usr/bin/$cmd" ] || { echo "install.sh: $cmd is still missing" >&2; exit 1; }
done
[ -x /usr/sbin/sshd ] || { echo "install.sh: /usr/sbin/sshd is still missing" >&2; exit 1; }
