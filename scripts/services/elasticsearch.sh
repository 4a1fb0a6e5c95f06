# Elasticsearch 8.19 (Elastic's own minimal "integ-test" distribution, from Maven Central), one
# single-node cluster, security off, run as the system user `faucet-es` (Elasticsearch refuses root).
# The zip is fetched and unpacked once into $CACHE; every node gets its own config, data and logs
# under $DIR, so the cached install stays clean. The helpers here (es_*) also serve
# elasticsearch_strict.sh, the second node the bad-input and back-pressure tests start on demand.
#
# Settings: FAUCET_ES_PORT (19200), FAUCET_ES_TRANSPORT_PORT (19300), FAUCET_ES_TIMEOUT (seconds to
# wait for a node, 240), ES_JAVA_HOME (a Java 17 or newer; found in /usr/lib/jvm otherwise), and
# FAUCET_SERVICES_BACKGROUND=elasticsearch: `start` returns once the node is launched instead of
# waiting for it (tests that need it wait for `_cluster/health` themselves; the others need not).
elasticsearch_DESCRIPTION='Elasticsearch 8.19 (single node, security off) on 127.0.0.1:${FAUCET_ES_PORT:-19200}'
ES_VERSION=8.19.21
ES_ARTIFACT=org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip
ES_USER=faucet-es
ES_CACHE=$CACHE/elasticsearch
ES_INSTALL=$ES_CACHE/elasticsearch-$ES_VERSION
ES_TIMEOUT=${FAUCET_ES_TIMEOUT:-240}
ES_PORT=${FAUCET_ES_PORT:-19200}
ES_TRANSPORT_PORT=${FAUCET_ES_TRANSPORT_PORT:-19300}

# The JAVA_HOME of a Java whose major version is 17 or newer (17 first), or nothing.
es_java_home() {
  local candidates=() dir major
  [ -n "${ES_JAVA_HOME:-}" ] && candidates+=("$ES_JAVA_HOME")
  candidates+=(/usr/lib/jvm/java-17-openjdk-* /usr/lib/jvm/java-1.17.0-openjdk-* /usr/lib/jvm/*17*)
  candidates+=(/usr/lib/jvm/*)
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for dir in "${candidates[@]}"; do
    [ -x "$dir/bin/java" ] || continue
    major=$("$dir/bin/java" -XshowSettings:properties -version 2>&1 |
      sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')
    if [ -n "$major" ] && [ "$major" -ge 17 ]; then
      echo "$dir"
      return 0
    fi
  done
}

es_install_distribution() {
  [ -f "$ES_INSTALL/.faucet-unpacked" ] && return 0
  local zip=$ES_CACHE/elasticsearch-$ES_VERSION.zip started
  mkdir -p "$ES_CACHE"
  if [ ! -s "$zip" ]; then
    log "downloading $ES_ARTIFACT from Maven Central (about 107 MB, once)"
    started=$(date +%s%N)
    mvn -q -B -Dmaven.repo.local="$CACHE/m2" dependency:copy -Dartifact="$ES_ARTIFACT" \
      -DoutputDirectory="$ES_CACHE" >"$ES_CACHE/mvn.log" 2>&1 || {
      show_log mvn "$ES_CACHE/mvn.log"
      die "could not fetch $ES_ARTIFACT"
    }
    log "downloaded in $(elapsed_since "$started") s"
  fi
  rm -rf "$ES_INSTALL" "$ES_CACHE/unpacking"
  unzip -q "$zip" -d "$ES_CACHE/unpacking" || die "could not unpack $zip"
  mv "$ES_CACHE/unpacking/elasticsearch-$ES_VERSION" "$ES_INSTALL"
  rmdir "$ES_CACHE/unpacking"
  # Nodes run as another user: everything must be readable (and the scripts runnable) by it.
  chmod -R a+rX "$ES_INSTALL"
  touch "$ES_INSTALL/.faucet-unpacked"
  # Maven's own repository ($CACHE/m2) keeps a copy: no need for a second one.
  rm -f "$zip"
}

elasticsearch_install() {
  local missing=()
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  command -v unzip >/dev/null 2>&1 || missing+=(unzip)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  [ -n "$(es_java_home)" ] || missing+=(openjdk-17-jre-headless)
  apt_install "${missing[@]}"
  [ -n "$(es_java_home)" ] || die 'no Java 17 or newer found (set ES_JAVA_HOME)'
  es_install_distribution
  if is_root; then ensure_system_user "$ES_USER"; fi
}

# es_http NODE_DIR PATH: GET http://127.0.0.1:PORT/PATH of the node, with its credentials if any.
es_http() {
  local port auth=()
  port=$(cat "$1/port" 2>/dev/null) || return 1
  [ -f "$1/credentials" ] && auth=(-u "$(cat "$1/credentials")")
  curl -sf --max-time 5 "${auth[@]}" "http://127.0.0.1:$port/$2"
}

# A node answers once its cluster health is yellow or green (GET / is 405 in this distribution).
es_ready() {
  es_http "$1" '_cluster/health?wait_for_status=yellow&timeout=1s' 2>/dev/null |
    grep -q '"status":"\(green\|yellow\)"'
}

es_running() { pid_alive "$1/run/es.pid" || pid_alive "$1/launcher.pid"; }

# es_prepare NODE_DIR PORT TRANSPORT_PORT HEAP: a node's own home (hard links into the cached
# install when the filesystem allows), config, data and logs, owned by the user it runs as.
es_prepare() {
  local node=$1 port=$2 transport=$3 heap=$4
  mkdir -p "$node"
  if is_root; then chmod 755 "$DIR" "$node"; fi
  # The cache may sit where the node's user cannot go (root's home): give the node a home of its own.
  if [ ! -f "$node/home/.faucet-unpacked" ]; then
    rm -rf "$node/home"
    cp -al "$ES_INSTALL" "$node/home" 2>/dev/null || cp -a "$ES_INSTALL" "$node/home" ||
      die "could not copy $ES_INSTALL to $node/home"
  fi
  # ES_PATH_CONF: the node's config is written fresh on each start; the install's stays untouched.
  rm -rf "$node/config"
  cp -r "$ES_INSTALL/config" "$node/config"
  mkdir -p "$node/data" "$node/logs" "$node/run"
  cat >"$node/config/elasticsearch.yml" <<YML
cluster.name: faucet-$(basename "$node")
node.name: $(basename "$node")
path.data: $node/data
path.logs: $node/logs
network.host: 127.0.0.1
http.port: $port
transport.port: $transport
discovery.type: single-node
action.destructive_requires_name: false
cluster.routing.allocation.disk.threshold_enabled: false
YML
  # Tiered compilation stopped at C1 starts the node in about half the time.
  printf -- '-Xms%s\n-Xmx%s\n-XX:TieredStopAtLevel=1\n' "$heap" "$heap" \
    >"$node/config/jvm.options.d/faucet.options"
  echo "$port" >"$node/port"
  rm -f "$node/credentials"
}

# es_own NODE_DIR: hand config, data and logs to the node's user (as root).
es_own() {
  if is_root; then chown -R "$ES_USER:" "$1/config" "$1/data" "$1/logs" "$1/run"; fi
}

# es_launch NODE_DIR: start the node; `bin/elasticsearch -d` returns once it runs, and the node
# writes its pid file early. The launcher's pid is kept too, for a node still starting.
es_launch() {
  local node=$1 run=()
  if is_root; then run=(runuser -u "$ES_USER" --); fi
  rm -f "$node/run/es.pid"
  date +%s%N >"$node/launched_at"
  # 9>&-: neither the launcher nor the node may inherit the script's lock.
  nohup "${run[@]}" env ES_JAVA_HOME="$(es_java_home)" ES_PATH_CONF="$node/config" ES_JAVA_OPTS= \
    "$node/home/bin/elasticsearch" -d -p "$node/run/es.pid" >"$node/launch.log" 2>&1 9>&- &
  echo $! >"$node/launcher.pid"
}

es_up_or_gone() { es_ready "$1" || ! es_running "$1"; }

# es_wait NAME NODE_DIR: wait for the node to answer (or die) and print how long its start took.
es_wait() {
  local name=$1 node=$2
  if ! wait_for "$ES_TIMEOUT" es_up_or_gone "$node" || ! es_ready "$node"; then
    show_log "$name launcher" "$node/launch.log"
    show_log "$name" "$node/logs/faucet-$(basename "$node").log"
    if es_running "$node"; then
      die "$name does not answer on 127.0.0.1:$(cat "$node/port") within ${ES_TIMEOUT}s"
    fi
    die "$name exited while starting (or was stopped)"
  fi
  log "$name $ES_VERSION on 127.0.0.1:$(cat "$node/port") answered $(elapsed_since \
    "$(cat "$node/launched_at")") s after its start"
}

# es_background_wait NAME NODE_DIR: es_wait in the background, its report going to the node's
# startup.log (and to this script's stderr while that is open).
es_background_wait() {
  (es_wait "$1" "$2" 2>&1 | tee "$2/startup.log" >&2) 9>&- &
  log "$1 is starting in the background (FAUCET_SERVICES_BACKGROUND); its start-up time goes to $2/startup.log"
}

es_background() {
  case ",${FAUCET_SERVICES_BACKGROUND:-}," in
    *",$1,"* | *,1,* | *,all,*) return 0 ;;
    *) return 1 ;;
  esac
}

# es_stop NAME NODE_DIR: SIGTERM the node (and a launcher still waiting for it).
es_stop() {
  stop_pid "$1" "$2/run/es.pid"
  stop_pid "$1 launcher" "$2/launcher.pid"
  rm -f "$2/run/es.pid" "$2/launcher.pid"
}

ES_NODE=$DIR/elasticsearch

elasticsearch_start() {
  if es_ready "$ES_NODE"; then
    log "elasticsearch already running on 127.0.0.1:$ES_PORT"
    return 0
  fi
  if es_running "$ES_NODE"; then
    log "elasticsearch is already starting on 127.0.0.1:$ES_PORT"
  else
    if port_open "$ES_PORT"; then
      die "port $ES_PORT is taken by another program; stop it or choose another port with FAUCET_ES_PORT"
    fi
    es_prepare "$ES_NODE" "$ES_PORT" "$ES_TRANSPORT_PORT" 512m
    cat >>"$ES_NODE/config/elasticsearch.yml" <<'YML'
xpack.security.enabled: false
YML
    es_own "$ES_NODE"
    es_launch "$ES_NODE"
  fi
  if es_background elasticsearch && ! es_ready "$ES_NODE"; then
    es_background_wait elasticsearch "$ES_NODE"
  else
    es_wait elasticsearch "$ES_NODE"
  fi
}

elasticsearch_stop() { es_stop elasticsearch "$ES_NODE"; }

elasticsearch_status() {
  if es_ready "$ES_NODE"; then
    log "elasticsearch: running on 127.0.0.1:$ES_PORT (pid $(cat "$ES_NODE/run/es.pid" 2>/dev/null))"
  elif es_running "$ES_NODE"; then
    log "elasticsearch: starting on 127.0.0.1:$ES_PORT (not answering yet)"
    return 3
  else
    log "elasticsearch: not running"
    return 3
  fi
}

# Still starting counts for `env`: tests that need the node wait for it themselves.
elasticsearch_starting() { es_running "$ES_NODE"; }

elasticsearch_env() { echo "export FAUCET_TEST_ELASTICSEARCH_URL=http://127.0.0.1:$ES_PORT"; }
