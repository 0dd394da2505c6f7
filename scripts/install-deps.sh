#!/usr/bin/env bash
# Installs the Debian packages snap needs to build and test, if any are missing.
set -euo pipefail
packages=(libzstd-dev zlib1g-dev libssl-dev libcurl4-openssl-dev libfuse3-dev fuse3 pkg-config attr acl util-linux faketime gcc zsh fish libarchive-tools restic borgbackup python3 exfat-fuse exfatprogs ntfs-3g ncdu)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH (install Swift 6.1 or newer)" >&2; exit 1; }
