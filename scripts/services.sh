#!/usr/bin/env bash
# Local services for faucet's integration tests: PostgreSQL (wal_level=logical) and Redis, on
# loopback only, on non-default ports, with all their files in one temporary directory.
#
#   scripts/services.sh start    install what is missing (as root), start both, wait until they answer
#   scripts/services.sh env      print `export FAUCET_TEST_...` lines:  eval "$(scripts/services.sh env)"
#   scripts/services.sh status   say what runs; exit 0 only when both answer
#   scripts/services.sh stop     stop both and remove the directory
#
# Settings (environment): FAUCET_SERVICES_DIR (default /tmp/faucet-services),
# FAUCET_PG_PORT (54329), FAUCET_REDIS_PORT (63790), FAUCET_SERVICES_TIMEOUT (seconds, 30).
set -euo pipefail

DIR=${FAUCET_SERVICES_DIR:-/tmp/faucet-services}
PG_PORT=${FAUCET_PG_PORT:-54329}
REDIS_PORT=${FAUCET_REDIS_PORT:-63790}
TIMEOUT=${FAUCET_SERVICES_TIMEOUT:-30}
PG_DB=faucet_test
PG_DIR=$DIR/postgres
PG_DATA=$PG_DIR/data
PG_LOG=$PG_DIR/server.log
REDIS_DIR=$DIR/redis
REDIS_PID=$REDIS_DIR/redis.pid
REDIS_LOG=$REDIS_DIR/redis.log

log() { printf '[services] %s\n' "$*" >&2; }
die() {
  printf '[services] error: %s\n' "$*" >&2
  exit 1
}

# The newest installed PostgreSQL's bin directory (Debian layout), or nothing.
pg_bin() {
  local initdb
  initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$initdb" ]; then dirname "$initdb"; fi
}

# PostgreSQL refuses to run as root, so as root every server command runs as the `postgres` user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

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

install_missing() {
  local need=()
  [ -n "$(pg_bin)" ] || need+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  [ "${#need[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "${need[*]} not installed; install it (apt-get install -y ${need[*]}) or run this script as root"
  fi
  log "installing ${need[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die 'apt-get update failed'
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
    die "apt-get install ${need[*]} failed"
  [ -n "$(pg_bin)" ] || die 'postgresql was installed but no /usr/lib/postgresql/*/bin/initdb exists'
  command -v redis-server >/dev/null 2>&1 || die 'redis-server was installed but is not on PATH'
}

pg_running() {
  local bin
  bin=$(pg_bin)
  [ -n "$bin" ] && [ -f "$PG_DATA/postmaster.pid" ] &&
    as_pg "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_ready() { "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U postgres; }

redis_running() {
  [ -f "$REDIS_PID" ] && kill -0 "$(cat "$REDIS_PID")" 2>/dev/null
}

redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

start_postgres() {
  local bin
  bin=$(pg_bin)
  if pg_running; then
    log "postgres already running on 127.0.0.1:$PG_PORT"
  else
    if port_open "$PG_PORT"; then
      die "port $PG_PORT is taken by another program; stop it or choose another port with FAUCET_PG_PORT"
    fi
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" -eq 0 ]; then
      # The postgres user must reach its directory whatever root's umask made of the parent.
      chmod 755 "$DIR"
      chown postgres:postgres "$PG_DIR"
    fi
    # A directory without PG_VERSION is debris of an initdb that failed: start over.
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
      rm -rf "$PG_DATA"
      as_pg "$bin/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$PG_DIR/initdb.log" 2>&1 || {
        show_log initdb "$PG_DIR/initdb.log"
        die 'initdb failed'
      }
    fi
    # fsync and friends off: a test cluster that loses data on a power cut is fine, and much faster.
    # max_connections is raised because every test project opens its own pool in parallel.
    local opts="-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DIR"
    opts+=" -c wal_level=logical -c max_replication_slots=64 -c max_wal_senders=64"
    opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    # 9>&-: the server must not inherit the script's lock, or it would hold it for its lifetime.
    if ! as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$TIMEOUT" -o "$opts" start \
      >/dev/null 2>&1 9>&-; then
      show_log postgres "$PG_LOG"
      die "postgres did not start on 127.0.0.1:$PG_PORT within ${TIMEOUT}s"
    fi
  fi
  if ! wait_for "$TIMEOUT" pg_ready; then
    show_log postgres "$PG_LOG"
    die "postgres does not accept connections on 127.0.0.1:$PG_PORT"
  fi
  local exists
  exists=$("$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -XtAc \
    "select 1 from pg_database where datname = '$PG_DB'") || die 'could not query postgres for databases'
  if [ "$exists" != 1 ]; then
    "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Xqc "create database $PG_DB" ||
      die "could not create database $PG_DB"
  fi
  log "postgres $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT" \
    "(wal_level=logical, database $PG_DB)"
}

start_redis() {
  if redis_running; then
    log "redis already running on 127.0.0.1:$REDIS_PORT"
  else
    if port_open "$REDIS_PORT"; then
      die "port $REDIS_PORT is taken by another program;" \
        "stop it or choose another port with FAUCET_REDIS_PORT"
    fi
    mkdir -p "$REDIS_DIR"
    rm -f "$REDIS_PID"
    # No RDB snapshots and no AOF: test data need not survive a restart.
    if ! redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize yes --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" --dir "$REDIS_DIR" \
      >/dev/null 2>&1 9>&-; then
      show_log redis "$REDIS_LOG"
      die "redis-server did not start on 127.0.0.1:$REDIS_PORT"
    fi
  fi
  if ! wait_for "$TIMEOUT" redis_ready; then
    show_log redis "$REDIS_LOG"
    die "redis does not answer PING on 127.0.0.1:$REDIS_PORT within ${TIMEOUT}s"
  fi
  local version
  version=$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')
  log "redis $version on 127.0.0.1:$REDIS_PORT (no persistence)"
}

stop_all() {
  local bin
  bin=$(pg_bin)
  if [ -n "$bin" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$PG_DATA" -m fast -w -t "$TIMEOUT" stop >/dev/null 2>&1 ||
      log "postgres did not stop cleanly (see $PG_LOG)"
  fi
  if redis_running; then
    local pid
    pid=$(cat "$REDIS_PID")
    kill "$pid" 2>/dev/null || true
    wait_for "$TIMEOUT" bash -c "! kill -0 $pid" || {
      log "redis (pid $pid) ignored SIGTERM; killing it"
      kill -9 "$pid" 2>/dev/null || true
    }
  fi
  rm -rf "$DIR"
  log "stopped; removed $DIR"
}

status() {
  local up=0
  if pg_running && pg_ready; then
    log "postgres: running on 127.0.0.1:$PG_PORT (data in $PG_DATA)"
  else
    log "postgres: not running"
    up=3
  fi
  if redis_running && redis_ready; then
    log "redis: running on 127.0.0.1:$REDIS_PORT (pid $(cat "$REDIS_PID"))"
  else
    log "redis: not running"
    up=3
  fi
  return "$up"
}

print_env() {
  echo "export FAUCET_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB"
  echo "export FAUCET_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
}

# Two engineers (or two CI steps) running start/stop at once would race on the same directory.
# The lock is held until this script exits.
take_lock() {
  exec 9>"${DIR%/}.lock"
  flock -w 120 9 || die "another services.sh is still running (lock ${DIR%/}.lock)"
}

case "${1:-}" in
  start)
    take_lock
    install_missing
    start_postgres
    start_redis
    ;;
  stop)
    take_lock
    stop_all
    ;;
  status) status ;;
  env) print_env ;;
  *)
    echo "usage: $0 start | stop | status | env" >&2
    exit 2
    ;;
esac
