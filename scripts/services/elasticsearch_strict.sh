# A second, deliberately strict Elasticsearch node for the sink's bad-input and back-pressure tests,
# from the same cached install as elasticsearch.sh (whose es_* helpers it uses): security on with one
# file-realm user, no index auto-creation, and a write thread pool of one thread with a queue of one,
# so a `_bulk` that touches more shards than that gets per-item 429 es_rejected_execution_exception.
# Those are static node settings, which is why this is a node of its own rather than settings on the
# shared one (every other test and the benchmark would be throttled).
#
# ON DEMAND: `services.sh start` with no name does not start it; the test that needs it runs
# `services.sh start elasticsearch_strict` and stops it afterwards (`stop` with no name stops it too).
# Settings: FAUCET_ES_STRICT_PORT (19201), FAUCET_ES_STRICT_TRANSPORT_PORT (19301).
elasticsearch_strict_DESCRIPTION='Elasticsearch 8.19, security on, tiny write queue, no auto-create (on demand) on 127.0.0.1:${FAUCET_ES_STRICT_PORT:-19201}'
elasticsearch_strict_ON_DEMAND=1
ES_STRICT_PORT=${FAUCET_ES_STRICT_PORT:-19201}
ES_STRICT_TRANSPORT_PORT=${FAUCET_ES_STRICT_TRANSPORT_PORT:-19301}
ES_STRICT_NODE=$DIR/elasticsearch_strict
ES_STRICT_USER=faucet
# A test password, not a secret: the node listens on loopback only and holds throw-away test data.
ES_STRICT_PASSWORD=faucet-strict-pw

elasticsearch_strict_install() { elasticsearch_install; }

elasticsearch_strict_start() {
  local node=$ES_STRICT_NODE run=()
  if es_ready "$node"; then
    log "elasticsearch_strict already running on 127.0.0.1:$ES_STRICT_PORT"
    return 0
  fi
  if es_running "$node"; then
    log "elasticsearch_strict is already starting on 127.0.0.1:$ES_STRICT_PORT"
  else
    if port_open "$ES_STRICT_PORT"; then
      die "port $ES_STRICT_PORT is taken by another program; choose another with FAUCET_ES_STRICT_PORT"
    fi
    # A throw-away node: every start begins with no indices.
    rm -rf "$node/data"
    es_prepare "$node" "$ES_STRICT_PORT" "$ES_STRICT_TRANSPORT_PORT" 256m
    cat >>"$node/config/elasticsearch.yml" <<'YML'
xpack.security.enabled: true
xpack.security.http.ssl.enabled: false
xpack.security.transport.ssl.enabled: false
xpack.security.authc.realms.file.file1.order: 0
action.auto_create_index: false
thread_pool.write.size: 1
thread_pool.write.queue_size: 1
YML
    es_own "$node"
    if is_root; then run=(runuser -u "$ES_USER" --); fi
    "${run[@]}" env ES_JAVA_HOME="$(es_java_home)" ES_PATH_CONF="$node/config" \
      "$node/home/bin/elasticsearch-users" useradd "$ES_STRICT_USER" -p "$ES_STRICT_PASSWORD" \
      -r superuser >"$node/users.log" 2>&1 || {
      show_log elasticsearch-users "$node/users.log"
      die 'could not add the test user to the strict node'
    }
    es_launch "$node"
  fi
  echo "$ES_STRICT_USER:$ES_STRICT_PASSWORD" >"$node/credentials"
  es_wait elasticsearch_strict "$node"
}

elasticsearch_strict_stop() { es_stop elasticsearch_strict "$ES_STRICT_NODE"; }

elasticsearch_strict_status() {
  if es_ready "$ES_STRICT_NODE"; then
    log "elasticsearch_strict: running on 127.0.0.1:$ES_STRICT_PORT"
  else
    log "elasticsearch_strict: not running"
    return 3
  fi
}

elasticsearch_strict_env() {
  echo "export FAUCET_TEST_ELASTICSEARCH_STRICT_URL=http://127.0.0.1:$ES_STRICT_PORT"
  echo "export FAUCET_TEST_ELASTICSEARCH_STRICT_USER=$ES_STRICT_USER"
  echo "export FAUCET_TEST_ELASTICSEARCH_STRICT_PASSWORD=$ES_STRICT_PASSWORD"
}
