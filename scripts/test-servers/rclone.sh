#!/usr/bin/env bash
# Starts or stops a throwaway restic REST server (rclone serve restic, protocol v2) on 127.0.0.1.
#
#   rclone.sh start STATE_DIR   serves STATE_DIR/data on a free port, checks that a repository can
#                               be created and listed, writes STATE_DIR/env (KEY=VALUE) and prints it
#   rclone.sh stop STATE_DIR    stops rclone; safe to call twice
#
# Environment: USER and PASS both set -> HTTP basic auth (--user/--pass), written to the env file as
# REST_USER/REST_PASS; RCLONE_APPEND_ONLY=1 -> --append-only; RCLONE_TIMEOUT (seconds to wait for
# the port, default 20). The data directory is served with --cache-objects=false, so that files a
# test changes on disk behind the server's back are seen at once.
# Note: $USER is usually set by login shells; auth is enabled only when PASS is set too.
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

data="$state/data"
pidfile="$state/rclone.pid"
wait_seconds="${RCLONE_TIMEOUT:-20}"

log() { echo "rclone.sh: $*" >&2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

read_pid() { cat "$pidfile" 2>/dev/null || true; }

# Is process $1 alive and ours (its command line names our data directory)? A zombie has an empty one.
pid_alive() {
  [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$data"
}

# Is process $1 running (not gone, not a zombie)? Used right after the spawn: while the forked shell
# exec's setsid, env and rclone, its command line is bash's or, for a moment, empty.
running() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }" # the state letter follows "pid (comm) "
  case "${stat%% *}" in Z | X | x) return 1 ;; esac
}

stop() {
  local pid i
  pid="$(read_pid)"
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
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
  rm -f "$pidfile"
}

fail() {
  log "error: $*"
  if [ -s "$state/rclone.log" ]; then
    echo "----- last lines of $state/rclone.log" >&2
    tail -n 25 "$state/rclone.log" >&2
  fi
  stop
  exit 1
}

start() {
  local need
  for need in rclone curl python3 setsid; do
    command -v "$need" >/dev/null || { log "$need is missing: run scripts/test-servers/install.sh"; exit 1; }
  done
  if pid_alive "$(read_pid)"; then
    log "already running in $state (run: $0 stop $state)"
    exit 1
  fi

  local t0 port
  t0="$(date +%s.%N)"
  port="$(free_port)"
  mkdir -p "$data" "$state/cache"
  rm -f "$state/rclone.log" "$state/env"
  : >"$state/rclone.conf"

  local args=(serve restic --addr "127.0.0.1:$port" --cache-objects=false
    --config "$state/rclone.conf" --cache-dir "$state/cache" --log-level INFO)
  local curl_auth=()
  if [ -n "${USER:-}" ] && [ -n "${PASS:-}" ]; then
    args+=(--user "$USER" --pass "$PASS")
    curl_auth=(-u "$USER:$PASS")
  fi
  [ "${RCLONE_APPEND_ONLY:-0}" != 1 ] || args+=(--append-only)
  args+=("$data")

  # AWS_CA_BUNDLE (set on these machines) breaks rclone's S3 backend; keep rclone away from it.
  setsid env -u AWS_CA_BUNDLE rclone "${args[@]}" </dev/null >>"$state/rclone.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"

  local deadline status=""
  deadline=$(($(date +%s) + wait_seconds))
  while :; do
    running "$pid" || fail "rclone exited"
    status="$(curl -s -o /dev/null -m 2 -w '%{http_code}' -H 'Accept: application/vnd.x.restic.rest.v2' "http://127.0.0.1:$port/" || true)"
    [ -n "$status" ] && [ "$status" != 000 ] && break
    [ "$(date +%s)" -lt "$deadline" ] || fail "no HTTP answer from rclone on 127.0.0.1:$port within ${wait_seconds}s"
    sleep 0.1
  done
  local t_ready
  t_ready="$(date +%s.%N)"

  # Check: create a repository, list its keys (protocol v2 answers a JSON array), then remove it.
  local check="check-$$" listing
  curl -sS -f -m 10 "${curl_auth[@]}" -X POST "http://127.0.0.1:$port/$check/?create=true" >/dev/null 2>"$state/curl.err" ||
    { cat "$state/curl.err" >&2; fail "POST /$check/?create=true failed"; }
  listing="$(curl -sS -f -m 10 "${curl_auth[@]}" -H 'Accept: application/vnd.x.restic.rest.v2' \
    "http://127.0.0.1:$port/$check/keys/" 2>"$state/curl.err")" ||
    { cat "$state/curl.err" >&2; fail "GET /$check/keys/ failed"; }
  python3 -c 'import json, sys; assert isinstance(json.loads(sys.argv[1]), list)' "$listing" 2>/dev/null ||
    fail "the v2 listing is not a JSON array: $listing"
  [ -d "$data/$check/keys" ] || fail "the repository was not created under $data"
  rm -rf "${data:?}/$check"

  local rss
  rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
  {
    echo "REST_URL=http://127.0.0.1:$port/"
    echo "REST_DATA=$data"
    if ((${#curl_auth[@]})); then
      echo "REST_USER=$USER"
      echo "REST_PASS=$PASS"
    fi
    echo "# repositories are REST_URL + NAME + /; create one with POST \${REST_URL}NAME/?create=true"
    echo "# listings need 'Accept: application/vnd.x.restic.rest.v2'; uploads are POST (PUT gives 405)"
    echo "# ready in $(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$t0" "$t_ready") s; rclone RSS: $((rss / 1024)) MiB"
  } >"$state/env"
  cat "$state/env"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
