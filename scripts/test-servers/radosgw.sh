#!/usr/bin/env bash
# Starts or stops a throwaway single-node Ceph cluster with an S3 gateway (radosgw) on 127.0.0.1.
#
#   radosgw.sh start STATE_DIR   one mon, one memstore OSD, one radosgw, one S3 user;
#                                writes STATE_DIR/env (KEY=VALUE lines) and prints it
#   radosgw.sh stop STATE_DIR    stops radosgw, the OSD and the mon; safe to call twice
#
# Everything (config, keyrings, mon/osd data, logs, pid files, admin sockets) lives in STATE_DIR:
# nothing touches /etc/ceph, /var/lib/ceph, /var/log/ceph or /var/run/ceph.
# Environment: RADOSGW_MEMSTORE_BYTES (OSD capacity, default 2 GiB), RADOSGW_TIMEOUT (seconds to
# wait for the S3 endpoint, default 60), RADOSGW_REGION (SigV4 region written to env, default
# "default"), RADOSGW_SKIP_CHECK=1 (skip the end-to-end boto3 check).
set -euo pipefail

usage() {
  echo "usage: $0 start|stop STATE_DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action="$1"
case "$action" in start | stop) ;; *) usage ;; esac
case "$2" in *[[:space:]\"\'\$\\]*)
  echo "$0: STATE_DIR must not contain whitespace, quotes, \$ or \\ (the env file is not quoted)" >&2
  exit 2
  ;;
esac
[ "$action" != stop ] || [ -d "$2" ] || exit 0 # nothing was started there
mkdir -p "$2"
state="$(cd "$2" && pwd)"

conf="$state/ceph.conf"
rgw_name="snap"
cmd_timeout=30
memstore_bytes="${RADOSGW_MEMSTORE_BYTES:-2147483648}"
wait_seconds="${RADOSGW_TIMEOUT:-60}"
region="${RADOSGW_REGION:-default}"

log() { echo "radosgw.sh: $*" >&2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

random_string() { # $1 = length, characters from [A-Za-z0-9]
  python3 -c 'import secrets, string, sys; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(int(sys.argv[1]))))' "$1"
}

# ceph and radosgw-admin calls always run under a timeout: a cluster that is not ready makes them hang.
ceph_cmd() { timeout "$cmd_timeout" ceph -c "$conf" --connect-timeout 20 "$@"; }
rgw_admin() { timeout "$cmd_timeout" radosgw-admin -c "$conf" "$@"; }

# Is process $1 alive and ours (its command line names our config)? A zombie has an empty one.
pid_alive() {
  [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$conf"
}

# Is process $1 running (not gone, not a zombie)? Used right after a spawn: while the forked shell
# exec's setsid and the daemon, its command line is bash's or, for a moment, empty.
running() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }" # the state letter follows "pid (comm) "
  case "${stat%% *}" in Z | X | x) return 1 ;; esac
}

# Is the process named in pid file $1 alive and ours?
pidfile_alive() { pid_alive "$(cat "$1" 2>/dev/null || true)"; }

stop_pidfile() { # $1 = pid file; SIGTERM, wait up to 15 s, then SIGKILL
  local pid i
  pid="$(cat "$1" 2>/dev/null || true)"
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    if pid_alive "$pid"; then
      log "pid $pid did not exit after SIGTERM, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        pid_alive "$pid" || break
        sleep 0.1
      done
    fi
  fi
  rm -f "$1"
}

stop_all() {
  stop_pidfile "$state/radosgw.pid"
  stop_pidfile "$state/osd.pid"
  stop_pidfile "$state/mon.pid"
}

show_logs() {
  local f
  for f in "$state"/log/*.log "$state"/log/*.out; do
    [ -s "$f" ] || continue
    echo "----- last lines of $f" >&2
    tail -n 25 "$f" >&2
  done
}

fail() {
  log "error: $*"
  show_logs
  stop_all
  exit 1
}

# Starts "$@" detached in its own session, output to log/$1.out, pid to $state/$1.pid.
spawn() {
  local name="$1"
  shift
  setsid "$@" </dev/null >>"$state/log/$name.out" 2>&1 &
  echo $! >"$state/$name.pid"
}

write_conf() { # $1 = fsid, $2 = mon port, $3 = rgw port
  cat >"$conf" <<EOF
[global]
fsid = $1
mon host = v2:127.0.0.1:$2
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr1 = false
ms bind msgr2 = true
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $state/keyring.\$name
run dir = $state/run
admin socket = $state/run/\$cluster-\$name.\$pid.asok
pid file = $state/run/\$cluster-\$name.pid
log file = $state/log/\$name.log
mon cluster log file = $state/log/cluster.log
crash dir = $state/crash
log to stderr = false
err to stderr = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1

[mon]
mon data = $state/mon/\$cluster-\$id
mon initial members = a
# Each map change waits for the next paxos round (1 s by default): radosgw's start-up issues a dozen.
paxos propose interval = 0.05
paxos min wait = 0.01

[osd]
osd data = $state/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = $memstore_bytes
osd crush update on start = false

[client.rgw.$rgw_name]
rgw frontends = beast endpoint=127.0.0.1:$3
rgw data = $state/rgw
rgw thread pool size = 32
rgw enable usage log = false
EOF
}

check_s3() { # $1 endpoint, $2 access key, $3 secret key; prints findings as "# ..." lines
  env -u AWS_CA_BUNDLE -u AWS_PROFILE -u AWS_CONFIG_FILE -u AWS_SHARED_CREDENTIALS_FILE \
    python3 - "$1" "$2" "$3" "$region" <<'PY'
import datetime, sys, uuid
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, key, secret, region = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                  region_name=region,
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                retries={"max_attempts": 1}))

def code(e):
    return e.response.get("Error", {}).get("Code", "?")

# End to end: bucket, object, listing, deletion (SigV4 with the region above).
bucket = "check-" + uuid.uuid4().hex[:12]
s3.create_bucket(Bucket=bucket)
s3.put_object(Bucket=bucket, Key="hello", Body=b"hello")
names = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
assert names == ["hello"], names
assert s3.get_object(Bucket=bucket, Key="hello")["Body"].read() == b"hello"
s3.delete_object(Bucket=bucket, Key="hello")
assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
s3.delete_bucket(Bucket=bucket)
print("# check: create bucket, put, list, get, delete object, delete bucket: ok")

# Conditional create: PUT with If-None-Match: * on an existing key.
bucket = "check-" + uuid.uuid4().hex[:12]
s3.create_bucket(Bucket=bucket)
s3.put_object(Bucket=bucket, Key="k", Body=b"1")
try:
    s3.put_object(Bucket=bucket, Key="k", Body=b"2", IfNoneMatch="*")
    body = s3.get_object(Bucket=bucket, Key="k")["Body"].read()
    print("# if-none-match-star: ignored (second PUT succeeded, object now %r)" % body)
except ClientError as e:
    print("# if-none-match-star: honoured (%s, HTTP %s)" % (code(e), e.response["ResponseMetadata"]["HTTPStatusCode"]))
try:
    s3.put_object(Bucket=bucket, Key="new", Body=b"1", IfNoneMatch="*")
    print("# if-none-match-star on a new key: accepted")
except ClientError as e:
    print("# if-none-match-star on a new key: rejected (%s)" % code(e))
for k in ("k", "new"):
    s3.delete_object(Bucket=bucket, Key=k)
s3.delete_bucket(Bucket=bucket)

# Object lock: bucket created with ObjectLockEnabledForBucket, object with a GOVERNANCE retention.
bucket = "lock-" + uuid.uuid4().hex[:12]
try:
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    cfg = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    v = s3.put_object(Bucket=bucket, Key="locked", Body=b"x",
                      ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)["VersionId"]
    try:
        s3.delete_object(Bucket=bucket, Key="locked", VersionId=v)
        verdict = "NOT enforced (version deleted)"
    except ClientError as e:
        verdict = "enforced (%s)" % code(e)
    print("# object-lock: bucket config %s, versioning %s, delete of a retained version %s"
          % (cfg.get("ObjectLockEnabled"), versioning, verdict))
    # clean up what can be cleaned up (GOVERNANCE can be bypassed)
    for ver in s3.list_object_versions(Bucket=bucket).get("Versions", []):
        try:
            s3.delete_object(Bucket=bucket, Key=ver["Key"], VersionId=ver["VersionId"],
                             BypassGovernanceRetention=True)
        except ClientError:
            pass
    for m in s3.list_object_versions(Bucket=bucket).get("DeleteMarkers", []):
        s3.delete_object(Bucket=bucket, Key=m["Key"], VersionId=m["VersionId"])
    try:
        s3.delete_bucket(Bucket=bucket)
    except ClientError:
        pass
except ClientError as e:
    print("# object-lock: unsupported (%s)" % code(e))
PY
}

start() {
  local need
  for need in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool curl python3 setsid timeout; do
    command -v "$need" >/dev/null || { log "$need is missing: run scripts/test-servers/install.sh"; exit 1; }
  done
  if pidfile_alive "$state/mon.pid" || pidfile_alive "$state/osd.pid" || pidfile_alive "$state/radosgw.pid"; then
    log "already running in $state (run: $0 stop $state)"
    exit 1
  fi
  rm -rf "$state/mon" "$state/osd" "$state/rgw" "$state/run" "$state/log" "$state/crash" "$state"/keyring.* "$state/env"
  mkdir -p "$state/mon/ceph-a" "$state/osd/ceph-0" "$state/rgw" "$state/run" "$state/log" "$state/crash"

  local t0 fsid mon_port rgw_port
  t0="$(date +%s.%N)"
  fsid="$(python3 -c 'import uuid; print(uuid.uuid4())')"
  mon_port="$(free_port)"
  rgw_port="$(free_port)"
  while [ "$rgw_port" = "$mon_port" ]; do rgw_port="$(free_port)"; done
  write_conf "$fsid" "$mon_port" "$rgw_port"

  # Keys. The mon's keyring holds every key, so that mkfs registers them all with their caps.
  ceph-authtool -C "$state/keyring.mon.a" -n mon. --gen-key --cap mon 'allow *' >/dev/null
  ceph-authtool -C "$state/keyring.client.admin" -n client.admin --gen-key \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool -C "$state/keyring.osd.0" -n osd.0 --gen-key \
    --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null
  ceph-authtool -C "$state/keyring.client.rgw.$rgw_name" -n "client.rgw.$rgw_name" --gen-key \
    --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
  local k
  for k in client.admin osd.0 "client.rgw.$rgw_name"; do
    ceph-authtool "$state/keyring.mon.a" --import-keyring "$state/keyring.$k" >/dev/null
  done

  # Monitor.
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$state/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$state/monmap" --keyring "$state/keyring.mon.a" \
    >>"$state/log/mkfs.out" 2>&1 || fail "ceph-mon --mkfs failed"
  spawn mon ceph-mon -c "$conf" -f -i a
  ceph_cmd status >/dev/null 2>>"$state/log/cli.out" || fail "the monitor does not answer"

  # OSD.
  local osd_uuid osd_id
  osd_uuid="$(python3 -c 'import uuid; print(uuid.uuid4())')"
  osd_id="$(ceph_cmd osd create "$osd_uuid" 2>>"$state/log/cli.out")" || fail "ceph osd create failed"
  [ "$osd_id" = 0 ] || fail "expected osd id 0, got '$osd_id'"
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$state/log/mkfs.out" 2>&1 || fail "ceph-osd --mkfs failed"
  ceph_cmd osd crush add osd.0 1.0 host=localhost root=default >/dev/null 2>>"$state/log/cli.out" ||
    fail "ceph osd crush add failed"
  spawn osd ceph-osd -c "$conf" -f -i 0

  # Gateway. It creates its pools on first start; the OSD must be up for that.
  spawn radosgw radosgw -c "$conf" -f -n "client.rgw.$rgw_name"

  local deadline status=""
  deadline=$(($(date +%s) + wait_seconds))
  while :; do
    running "$(cat "$state/radosgw.pid")" || fail "radosgw exited"
    running "$(cat "$state/osd.pid")" || fail "ceph-osd exited"
    status="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$rgw_port/" || true)"
    [ -n "$status" ] && [ "$status" != 000 ] && break
    [ "$(date +%s)" -lt "$deadline" ] || fail "no HTTP answer from radosgw on 127.0.0.1:$rgw_port within ${wait_seconds}s"
    sleep 0.25
  done

  # S3 user with random keys.
  local access secret
  access="$(random_string 20 | tr '[:lower:]' '[:upper:]')"
  secret="$(random_string 40)"
  rgw_admin user create --uid snap-test --display-name snap --access-key "$access" --secret-key "$secret" \
    >"$state/log/user.json" 2>>"$state/log/cli.out" || fail "radosgw-admin user create failed"
  local t_ready
  t_ready="$(date +%s.%N)"

  local endpoint="http://127.0.0.1:$rgw_port" findings=""
  if [ "${RADOSGW_SKIP_CHECK:-0}" != 1 ]; then
    findings="$(check_s3 "$endpoint" "$access" "$secret" 2>"$state/log/check.err")" ||
      { cat "$state/log/check.err" >&2; fail "the end-to-end S3 check failed"; }
  fi

  local rss=0 p
  for p in mon osd radosgw; do
    rss=$((rss + $(awk '/^VmRSS:/ {print $2}' "/proc/$(cat "$state/$p.pid")/status" 2>/dev/null || echo 0)))
  done

  cat >"$state/env" <<EOF
S3_ENDPOINT=$endpoint
AWS_ACCESS_KEY_ID=$access
AWS_SECRET_ACCESS_KEY=$secret
AWS_DEFAULT_REGION=$region
S3_FORCE_PATH_STYLE=true
CEPH_CONF=$conf
# ready in $(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$t0" "$t_ready") s; mon+osd+radosgw RSS after the check: $((rss / 1024)) MiB
EOF
  [ -z "$findings" ] || echo "$findings" >>"$state/env"
  cat "$state/env"
}

case "$action" in
  start) start ;;
  stop) stop_all ;;
  *) usage ;;
esac
