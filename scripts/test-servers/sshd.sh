#!/usr/bin/env bash
# Starts or stops a throwaway OpenSSH server (SFTP only matters) on 127.0.0.1.
#
#   sshd.sh start STATE_DIR   fresh ed25519 host key and user key pair, sshd on a free port,
#                             checks a key login + listing with curl (libcurl + libssh2),
#                             writes STATE_DIR/env (KEY=VALUE lines) and prints it
#   sshd.sh stop STATE_DIR    stops sshd; safe to call twice
#
# Environment: SSHD_TIMEOUT (seconds to wait for the port, default 20), SSHD_SKIP_CHECK=1 (skip
# the curl check).
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

config="$state/sshd_config"
pidfile="$state/sshd.pid"
wait_seconds="${SSHD_TIMEOUT:-20}"

log() { echo "sshd.sh: $*" >&2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_open() { # $1 = port
  python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$1" 2>/dev/null
}

# The pid in the pid file, or nothing.
read_pid() { cat "$pidfile" 2>/dev/null || true; }

# Is process $1 alive and ours (its command line names our config)? A zombie has an empty one.
pid_alive() {
  [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$config"
}

# Is process $1 running (not gone, not a zombie)? Also used right after the spawn: while the forked
# shell exec's setsid and sshd, its command line is bash's or, for a moment, empty.
running() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }" # the state letter follows "pid (comm) "
  case "${stat%% *}" in Z | X | x) return 1 ;; esac
}

# Pids of all descendants of process $1.
descendants() {
  local child
  for child in $(pgrep -P "$1" || true); do
    echo "$child"
    descendants "$child"
  done
}

stop() {
  local pid i p procs left
  pid="$(read_pid)"
  if pid_alive "$pid"; then
    # sshd's per-connection processes start sessions of their own: end them with the listener.
    mapfile -t procs < <(echo "$pid"; descendants "$pid")
    kill -TERM "${procs[@]}" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      left=()
      for p in "${procs[@]}"; do running "$p" && left+=("$p"); done
      ((${#left[@]})) || break
      sleep 0.1
    done
    if ((${#left[@]})); then
      log "pids ${left[*]} did not exit after SIGTERM, sending SIGKILL"
      kill -KILL "${left[@]}" 2>/dev/null || true
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
  if [ -s "$state/sshd.log" ]; then
    echo "----- last lines of $state/sshd.log" >&2
    tail -n 25 "$state/sshd.log" >&2
  fi
  stop
  exit 1
}

start() {
  local need
  for need in ssh-keygen curl python3 setsid pgrep; do
    command -v "$need" >/dev/null || { log "$need is missing: run scripts/test-servers/install.sh"; exit 1; }
  done
  [ -x /usr/sbin/sshd ] || { log "/usr/sbin/sshd is missing: run scripts/test-servers/install.sh"; exit 1; }
  if pid_alive "$(read_pid)"; then
    log "already running in $state (run: $0 stop $state)"
    exit 1
  fi

  local t0 user port root
  t0="$(date +%s.%N)"
  user="$(id -un)"
  port="$(free_port)"
  root="$state/root"
  rm -f "$state"/host_ed25519_key* "$state"/user_ed25519_key* "$state/authorized_keys" \
    "$state/known_hosts" "$state/sshd.log" "$state/env"
  mkdir -p "$root" "$state/home"

  ssh-keygen -q -t ed25519 -N '' -C "snap-test-host" -f "$state/host_ed25519_key"
  ssh-keygen -q -t ed25519 -N '' -C "snap-test-user" -f "$state/user_ed25519_key"
  cp "$state/user_ed25519_key.pub" "$state/authorized_keys"
  chmod 600 "$state/authorized_keys"

  local hostkey_fields fingerprint
  hostkey_fields="$(cut -d' ' -f1,2 "$state/host_ed25519_key.pub")"
  echo "[127.0.0.1]:$port $hostkey_fields" >"$state/known_hosts"
  # "256 SHA256:<base64 without padding> comment (ED25519)" -> the base64 part
  fingerprint="$(ssh-keygen -l -E sha256 -f "$state/host_ed25519_key.pub" | awk '{print $2}')"
  fingerprint="${fingerprint#SHA256:}"

  cat >"$config" <<EOF
Port $port
ListenAddress 127.0.0.1
AddressFamily inet
HostKey $state/host_ed25519_key
PidFile $pidfile
AuthorizedKeysFile $state/authorized_keys
AllowUsers $user
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
UseDNS no
PrintMotd no
X11Forwarding no
AllowTcpForwarding no
LoginGraceTime 30
MaxStartups 100
MaxSessions 100
LogLevel INFO
Subsystem sftp internal-sftp
EOF

  mkdir -p /run/sshd
  /usr/sbin/sshd -t -f "$config" >"$state/sshd.log" 2>&1 || fail "sshd -t rejected $config"
  setsid /usr/sbin/sshd -D -e -f "$config" </dev/null >>"$state/sshd.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"

  local deadline
  deadline=$(($(date +%s) + wait_seconds))
  until port_open "$port"; do
    running "$pid" || fail "sshd exited"
    [ "$(date +%s)" -lt "$deadline" ] || fail "sshd does not accept connections on 127.0.0.1:$port within ${wait_seconds}s"
    sleep 0.1
  done
  local t_ready
  t_ready="$(date +%s.%N)"

  # libcurl (libssh2) login with the ed25519 key, host key pinned by its SHA-256, listing the root.
  # HOME points at an empty directory so that curl does not also consult ~/.ssh/known_hosts.
  if [ "${SSHD_SKIP_CHECK:-0}" != 1 ]; then
    echo "snap" >"$root/.check"
    local listing
    listing="$(HOME="$state/home" curl -sS --max-time 20 --hostpubsha256 "$fingerprint" -u "$user:" \
      --key "$state/user_ed25519_key" --pubkey "$state/user_ed25519_key.pub" \
      "sftp://127.0.0.1:$port$root/" 2>"$state/curl.err")" ||
      { cat "$state/curl.err" >&2; fail "curl could not log in and list sftp://127.0.0.1:$port$root/"; }
    rm -f "$root/.check"
    grep -q '\.check' <<<"$listing" || fail "the SFTP listing does not show the test file: $listing"
  fi

  local rss
  rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
  cat >"$state/env" <<EOF
SFTP_HOST=127.0.0.1
SFTP_PORT=$port
SFTP_USER=$user
SFTP_KEY=$state/user_ed25519_key
SFTP_PUBKEY=$state/user_ed25519_key.pub
SFTP_KNOWN_HOSTS=$state/known_hosts
SFTP_HOSTKEY_SHA256=$fingerprint
SFTP_ROOT=$root
SFTP_URL=sftp://127.0.0.1:$port$root/
# libcurl: CURLOPT_USERNAME=\$SFTP_USER, CURLOPT_SSH_AUTH_TYPES=CURLSSH_AUTH_PUBLICKEY,
#   CURLOPT_SSH_PRIVATE_KEYFILE=\$SFTP_KEY, CURLOPT_SSH_PUBLIC_KEYFILE=\$SFTP_PUBKEY,
#   CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256=\$SFTP_HOSTKEY_SHA256 (and/or CURLOPT_SSH_KNOWNHOSTS=\$SFTP_KNOWN_HOSTS)
# curl CLI: HOME=<dir without .ssh/known_hosts> curl --hostpubsha256 \$SFTP_HOSTKEY_SHA256 -u \$SFTP_USER: --key \$SFTP_KEY --pubkey \$SFTP_PUBKEY \$SFTP_URL
# openssh: sftp -P \$SFTP_PORT -i \$SFTP_KEY -o UserKnownHostsFile=\$SFTP_KNOWN_HOSTS -o StrictHostKeyChecking=yes \$SFTP_USER@127.0.0.1
# ready in $(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$t0" "$t_ready") s; sshd RSS: $((rss / 1024)) MiB
EOF
  cat "$state/env"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
