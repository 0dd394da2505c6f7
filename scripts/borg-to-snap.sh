#!/usr/bin/env bash
# Moves every archive of a borg repository into a snap repository, oldest first, each with
# its time and host (docs/from-borg-and-kopia.md). Run it again to move only the archives
# added since: each moved archive is tagged borg:NAME.
#   BORG_REPO=/srv/borg SNAP_REPOSITORY=/srv/snap SNAP_PASSWORD_FILE=~/.snap-pw scripts/borg-to-snap.sh
set -euo pipefail
: "${BORG_REPO:?set BORG_REPO (and BORG_PASSPHRASE if the repository is encrypted)}"
: "${SNAP_REPOSITORY:?set SNAP_REPOSITORY (and SNAP_PASSWORD_FILE)}"
while IFS=$'\t' read -r archive time host <&3; do
    tag="borg:${archive//,/_}"    # snap splits --tag at commas
    if snap snapshots --tag "$tag" --json </dev/null | grep -q '"id"'; then
        echo "$archive: moved before"; continue
    fi
    echo "$archive ($time, $host)"
    # --stdin-from-command: if borg fails, snap saves no snapshot and the loop stops.
    # Exit 3 means members were left out (named on standard error): the snapshot was saved.
    snap backup -q --stdin-tar --time "$time" --host "$host" --tag borg --tag "$tag" \
        --stdin-from-command -- borg export-tar "::$archive" - </dev/null || [ $? -eq 3 ]
done 3< <(borg list --sort-by timestamp --format '{archive}{TAB}{time:%Y-%m-%dT%H:%M:%S}{TAB}{hostname}{NL}')
