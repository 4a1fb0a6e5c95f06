# Shared helpers for scripts/services.sh and the per-service files beside this one.
# Sourced, never run. Every service file defines, for its NAME (the file's stem):
#   NAME_install   install what is missing (apt, Maven, pip …; downloads cached in $CACHE)
#   NAME_start     start it (idempotent) and wait until it answers; die with its log otherwise
#   NAME_stop      stop it (quietly when it does not run)
#   NAME_status    exit 0 when it runs and answers; print one line either way
#   NAME_env       print `export FAUCET_TEST_…=…` lines (only called when NAME_status succeeds)
# and may set NAME_DESCRIPTION (one line for `services.sh list`).

DIR=${FAUCET_SERVICES_DIR:-/tmp/faucet-services}
# Downloads (Maven jars, Python venvs, zips) outlive `stop`: a second start takes seconds.
CACHE=${FAUCET_SERVICES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/faucet-services}
TIMEOUT=${FAUCET_SERVICES_TIMEOUT:-30}

log() { printf '[services] %s\n' "$*" >&2; }
die() {
  printf '[services] error: %s\n' "$*" >&2
  exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for SECONDS COMMAND...: retry every 0.2 s until the command succeeds.
wait_for() {
  local tries=$(($1 * 5))
  shift
  until "$@" >/dev/null 2>&1; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.2
  done
}

show_log() {
  if [ -s "$2" ]; then
    log "last lines of the $1 log ($2):"
    tail -n 25 "$2" | sed 's/^/    /' >&2
  else
    log "the $1 log ($2) is empty or missing"
  fi
}

# apt_install PACKAGE...: install Debian packages that are missing (as root; one update per script run).
APT_UPDATED=
apt_install() {
  [ "$#" -eq 0 ] && return 0
  if ! is_root; then
    die "$* not installed; install it (apt-get install -y $*) or run this script as root"
  fi
  log "installing $* (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$APT_UPDATED" ]; then
    apt-get update -qq >/dev/null || die 'apt-get update failed'
    APT_UPDATED=1
  fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null || die "apt-get install $* failed"
}

# ensure_system_user NAME: a no-login system user for servers that refuse root.
ensure_system_user() {
  id "$1" >/dev/null 2>&1 && return 0
  is_root || return 0
  useradd --system --no-create-home --shell /usr/sbin/nologin "$1" || die "could not create user $1"
}

# as_user NAME COMMAND...: as root, run the command as NAME; otherwise run it as ourselves.
as_user() {
  local user=$1
  shift
  if is_root; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

# pid_alive PIDFILE: the process named in PIDFILE runs, and is the one that wrote the file: a pid
# file left in $DIR from before a reboot (or a crash) can name an unrelated process by now, which
# must neither pass for the server nor be killed by stop_pid. Our servers write their pid file after
# they start, so a process started more than 2 s after the file was last written is another one.
pid_alive() {
  [ -f "$1" ] || return 1
  local pid started written
  pid=$(cat "$1")
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  started=$(proc_started_at "$pid") || return 0
  written=$(stat -c %Y "$1") || return 0
  [ "$started" -le $((written + 2)) ]
}

# proc_started_at PID: when the process started, in seconds since the epoch (Linux /proc).
proc_started_at() {
  local stat fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  # Field 22 (start time in clock ticks after boot), the 20th after the command name's ')'.
  read -r -a fields <<<"${stat##*) }"
  # Boot time and clock rate are read once per script (pid_alive runs in wait_for loops).
  : "${BOOT_TIME:=$(awk '/^btime / { print $2 }' /proc/stat)}" "${CLK_TCK:=$(getconf CLK_TCK)}"
  [[ "${fields[19]:-}" =~ ^[0-9]+$ && "$BOOT_TIME" =~ ^[0-9]+$ && "$CLK_TCK" =~ ^[0-9]+$ ]] || return 1
  echo $((BOOT_TIME + fields[19] / CLK_TCK))
}

# spawn_detached PIDFILE COMMAND...: start COMMAND in a session of its own (setsid: a signal to the
# caller's process group does not reach it; it outlives this script) and write ITS pid to PIDFILE.
# Not `setsid CMD & echo $!`: when the caller's background jobs lead their own process group (a
# shell with job control, as some CI runners have) setsid forks, $! names a process that exits at
# once, and the server, though it answers, is reported as not running. The inner shell records the
# pid it then hands to COMMAND with exec. 9>&-: the server must not inherit the script's lock.
# Redirect the call's output (>LOG 2>&1 </dev/null) to give the server its log.
spawn_detached() {
  local pidfile=$1
  shift
  rm -f "$pidfile"
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' detached "$pidfile" "$@" 9>&- &
  wait_for 5 test -s "$pidfile"
}

# stop_pid NAME PIDFILE: SIGTERM, wait up to $TIMEOUT s, then SIGKILL.
stop_pid() {
  pid_alive "$2" || return 0
  local pid
  pid=$(cat "$2")
  kill "$pid" 2>/dev/null || true
  wait_for "$TIMEOUT" bash -c "! kill -0 $pid" || {
    log "$1 (pid $pid) ignored SIGTERM; killing it"
    kill -9 "$pid" 2>/dev/null || true
  }
}

# elapsed_since START_EPOCH_NS: seconds with one decimal, for start-up times.
elapsed_since() {
  local now
  now=$(date +%s%N)
  awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'
}
