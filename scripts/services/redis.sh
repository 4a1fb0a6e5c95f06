# Redis without persistence. Settings: FAUCET_REDIS_PORT (63790).
redis_DESCRIPTION='Redis (no persistence) on 127.0.0.1:${FAUCET_REDIS_PORT:-63790}'
REDIS_PORT=${FAUCET_REDIS_PORT:-63790}
REDIS_DIR=$DIR/redis
REDIS_PID=$REDIS_DIR/redis.pid
REDIS_LOG=$REDIS_DIR/redis.log

redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

redis_install() {
  command -v redis-server >/dev/null 2>&1 && return 0
  apt_install redis-server
  command -v redis-server >/dev/null 2>&1 || die 'redis-server was installed but is not on PATH'
}

redis_start() {
  if pid_alive "$REDIS_PID"; then
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

redis_stop() { stop_pid redis "$REDIS_PID"; }

redis_status() {
  if pid_alive "$REDIS_PID" && redis_ready; then
    log "redis: running on 127.0.0.1:$REDIS_PORT (pid $(cat "$REDIS_PID"))"
  else
    log "redis: not running"
    return 3
  fi
}

redis_env() { echo "export FAUCET_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"; }
