# PostgreSQL with wal_level=logical (for CDC), run as the `postgres` user (it refuses root).
# Settings: FAUCET_PG_PORT (54329).
postgres_DESCRIPTION='PostgreSQL (wal_level=logical) on 127.0.0.1:${FAUCET_PG_PORT:-54329}'
PG_PORT=${FAUCET_PG_PORT:-54329}
PG_DB=faucet_test
PG_DIR=$DIR/postgres
PG_DATA=$PG_DIR/data
PG_LOG=$PG_DIR/server.log

# The newest installed PostgreSQL's bin directory (Debian layout), or nothing.
pg_bin() {
  local initdb
  initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$initdb" ]; then dirname "$initdb"; fi
}

as_pg() { as_user postgres "$@"; }

pg_running() {
  local bin
  bin=$(pg_bin)
  [ -n "$bin" ] && [ -f "$PG_DATA/postmaster.pid" ] &&
    as_pg "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_ready() { "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U postgres; }

postgres_install() {
  [ -n "$(pg_bin)" ] && return 0
  apt_install postgresql
  [ -n "$(pg_bin)" ] || die 'postgresql was installed but no /usr/lib/postgresql/*/bin/initdb exists'
}

postgres_init() {
  local bin=$1
  mkdir -p "$PG_DIR"
  if is_root; then
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
}

postgres_start() {
  local bin
  bin=$(pg_bin)
  if pg_running; then
    log "postgres already running on 127.0.0.1:$PG_PORT"
  else
    if port_open "$PG_PORT"; then
      die "port $PG_PORT is taken by another program; stop it or choose another port with FAUCET_PG_PORT"
    fi
    postgres_init "$bin"
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

postgres_stop() {
  local bin
  bin=$(pg_bin)
  if [ -n "$bin" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$PG_DATA" -m fast -w -t "$TIMEOUT" stop >/dev/null 2>&1 ||
      log "postgres did not stop cleanly (see $PG_LOG)"
  fi
}

postgres_status() {
  if pg_running && pg_ready; then
    log "postgres: running on 127.0.0.1:$PG_PORT (data in $PG_DATA)"
  else
    log "postgres: not running"
    return 3
  fi
}

postgres_env() { echo "export FAUCET_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB"; }
