#!/usr/bin/env bash
# Runs a command with real storage servers on 127.0.0.1: Ceph radosgw (S3), OpenSSH
# sshd (SFTP) and `rclone serve restic` (REST). Installs what is missing, starts each
# server in a temporary folder, exports its settings (see scripts/test-servers/README.md),
# runs the command, and stops the servers whatever happens.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
servers="$here/test-servers"
state="$(mktemp -d /tmp/snap-servers.XXXXXX)"
chmod 755 "$state"

stop_all() {
  "$servers/rclone.sh" stop "$state/rclone" >/dev/null 2>&1 || true
  "$servers/sshd.sh" stop "$state/sshd" >/dev/null 2>&1 || true
  "$servers/radosgw.sh" stop "$state/radosgw" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap stop_all EXIT

"$servers/install.sh"
echo "starting test servers in $state"
"$servers/sshd.sh" start "$state/sshd" >/dev/null
"$servers/rclone.sh" start "$state/rclone" >/dev/null
"$servers/radosgw.sh" start "$state/radosgw" >/dev/null
set -a
for env in "$state/sshd/env" "$state/rclone/env" "$state/radosgw/env"; do
  # shellcheck disable=SC1090
  . "$env"
done
set +a
# This machine's AWS_CA_BUNDLE points at a bundle meant for other tools; the servers are plain HTTP.
unset AWS_CA_BUNDLE
"$@"
