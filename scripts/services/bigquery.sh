# BigQuery emulator: PyPI bqemulator 1.4.0 (BigQuery REST + gRPC on DuckDB), in-memory, for the
# happy paths of @faucet/sink-bigquery (tables, insertAll, load jobs, MERGE, reading back). It does
# not model per-row insertErrors, insertId de-duplication or duplicate job ids: those are tested
# against the package's own fake REST server (packages/sink-bigquery/test/).
# Settings: FAUCET_BIGQUERY_PORT (19050, REST), FAUCET_BIGQUERY_GRPC_PORT (19060).
bigquery_DESCRIPTION='bqemulator 1.4.0 (BigQuery REST on DuckDB) on 127.0.0.1:${FAUCET_BIGQUERY_PORT:-19050}, project test-project'
BQ_PORT=${FAUCET_BIGQUERY_PORT:-19050}
BQ_GRPC_PORT=${FAUCET_BIGQUERY_GRPC_PORT:-19060}
BQ_PROJECT=test-project
BQ_DIR=$DIR/bigquery
BQ_HOME=$BQ_DIR/home
BQ_PID=$BQ_DIR/bqemulator.pid
BQ_LOG=$BQ_DIR/bqemulator.log
BQ_VENV=$CACHE/bqemulator-venv
BQ_REQUIREMENTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bigquery-requirements.txt
BQ_DUCKDB_VERSION=v1.5.5

bq_ready() {
  curl -fsS -o /dev/null --max-time 2 \
    "http://127.0.0.1:$BQ_PORT/bigquery/v2/projects/$BQ_PROJECT/datasets"
}

bq_requirements_sum() { sha256sum "$BQ_REQUIREMENTS" | cut -d' ' -f1; }

bigquery_install() {
  command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt_install python3 python3-venv python3-pip
  fi
  # The stamp names the exact requirements the venv was built from; a changed pin rebuilds it.
  local stamp=$BQ_VENV/.faucet-requirements.sha256
  if [ -x "$BQ_VENV/bin/bqemulator" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$(bq_requirements_sum)" ]; then
    return 0
  fi
  # The stamp is written last: a venv without it is debris of an interrupted install.
  rm -rf "$BQ_VENV"
  mkdir -p "$CACHE"
  log "installing bqemulator into $BQ_VENV (pip; takes a few minutes, cached afterwards)"
  local t0
  t0=$(date +%s%N)
  python3 -m venv "$BQ_VENV" >"$CACHE/bqemulator-install.log" 2>&1 || {
    show_log 'python3 -m venv' "$CACHE/bqemulator-install.log"
    die 'could not create the bqemulator venv'
  }
  if ! "$BQ_VENV/bin/pip" install --no-input -r "$BQ_REQUIREMENTS" >>"$CACHE/bqemulator-install.log" 2>&1; then
    show_log 'pip install' "$CACHE/bqemulator-install.log"
    die "pip install of bqemulator failed (log: $CACHE/bqemulator-install.log)"
  fi
  bq_requirements_sum >"$stamp"
  log "bqemulator installed in $(elapsed_since "$t0") s"
}

# DuckDB downloads the spatial extension on first use, which fails offline: put the copy from the
# duckdb-extension-spatial wheel where DuckDB looks, under the emulator's private HOME.
bq_stage_spatial() {
  local platform src dest
  platform=$("$BQ_VENV/bin/python3" -c \
    "import duckdb; print(duckdb.execute('PRAGMA platform').fetchone()[0])") ||
    die 'could not ask DuckDB for its platform'
  src=$(ls "$BQ_VENV"/lib/python3*/site-packages/duckdb_extension_spatial/extensions/"$BQ_DUCKDB_VERSION"/spatial.duckdb_extension 2>/dev/null | head -n 1)
  [ -n "$src" ] || die "the spatial extension is missing from $BQ_VENV (delete it and start again)"
  dest=$BQ_HOME/.duckdb/extensions/$BQ_DUCKDB_VERSION/$platform
  mkdir -p "$dest"
  cp "$src" "$dest/"
}

bigquery_start() {
  if bigquery_status 2>/dev/null; then
    log "bigquery (bqemulator) already running on 127.0.0.1:$BQ_PORT"
    return 0
  fi
  stop_pid bigquery "$BQ_PID"
  local port
  for port in "$BQ_PORT" "$BQ_GRPC_PORT"; do
    if port_open "$port"; then
      die "port $port is taken by another program; stop it or choose other ports with" \
        "FAUCET_BIGQUERY_PORT / FAUCET_BIGQUERY_GRPC_PORT"
    fi
  done
  mkdir -p "$BQ_DIR"
  bq_stage_spatial
  local t0
  t0=$(date +%s%N)
  spawn_detached "$BQ_PID" env HOME="$BQ_HOME" "$BQ_VENV/bin/bqemulator" start --ephemeral \
    --rest-host 127.0.0.1 --rest-port "$BQ_PORT" --grpc-host 127.0.0.1 --grpc-port "$BQ_GRPC_PORT" \
    --project "$BQ_PROJECT" --log-level warning --log-format json \
    >"$BQ_LOG" 2>&1 </dev/null || die 'bqemulator: the process did not start'
  # It loads DuckDB and its SQL translator first: allow a loaded machine more than the default.
  local wait=$((TIMEOUT > 90 ? TIMEOUT : 90))
  if ! wait_for "$wait" bq_ready; then
    show_log bigquery "$BQ_LOG"
    stop_pid bigquery "$BQ_PID"
    die "bqemulator does not answer on 127.0.0.1:$BQ_PORT within ${wait}s"
  fi
  log "bigquery: bqemulator 1.4.0 on 127.0.0.1:$BQ_PORT (gRPC $BQ_GRPC_PORT), project $BQ_PROJECT," \
    "ready in $(elapsed_since "$t0") s"
}

bigquery_stop() { stop_pid bigquery "$BQ_PID"; }

bigquery_status() {
  if pid_alive "$BQ_PID" && bq_ready; then
    log "bigquery: running on 127.0.0.1:$BQ_PORT (pid $(cat "$BQ_PID"))"
  else
    log "bigquery: not running"
    return 3
  fi
}

bigquery_env() {
  echo "export FAUCET_TEST_BIGQUERY_ENDPOINT=http://127.0.0.1:$BQ_PORT"
  echo "export FAUCET_TEST_BIGQUERY_PROJECT=$BQ_PROJECT"
}
