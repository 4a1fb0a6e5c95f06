# Apache Kafka 4.4.0 in KRaft mode: one combined broker/controller, jars from Maven Central.
# Listeners: PLAINTEXT on FAUCET_KAFKA_PORT (19092), the controller on the next port (19093),
# SASL_PLAINTEXT (PLAIN and SCRAM-SHA-256, user faucet / password faucet-secret) on the one after
# (19094), and SSL (a self-signed certificate for 127.0.0.1, made with keytool) on the one after that
# (19095), for the authentication and TLS tests. ACLs are on (StandardAuthorizer): a resource without
# ACLs is open to everyone, the PLAINTEXT listener is a super user.
kafka_DESCRIPTION='Apache Kafka 4.4.0 (KRaft, one broker) on 127.0.0.1:${FAUCET_KAFKA_PORT:-19092}, SASL on the port +2, TLS on +3'
KAFKA_VERSION=4.4.0
KAFKA_PORT=${FAUCET_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1))
KAFKA_SASL_PORT=$((KAFKA_PORT + 2))
KAFKA_TLS_PORT=$((KAFKA_PORT + 3))
KAFKA_SASL_USER=faucet
KAFKA_SASL_PASSWORD=faucet-secret
KAFKA_TLS_PASSWORD=faucet-tls
# Bump when server.properties changes in a way an existing data directory cannot take (SCRAM users
# are written at format time): the directory is formatted again.
KAFKA_LAYOUT=3
KAFKA_HOME=$CACHE/kafka-$KAFKA_VERSION
KAFKA_LIB=$KAFKA_HOME/lib
KAFKA_DIR=$DIR/kafka
KAFKA_DATA=$KAFKA_DIR/data
KAFKA_PID=$KAFKA_DIR/kafka.pid
KAFKA_LOG=$KAFKA_DIR/server.log

kafka_java() { java -cp "$KAFKA_LIB/*" "$@"; }

# A metadata request answered (not just an open port): the broker lists its topics.
kafka_ready() {
  port_open "$KAFKA_PORT" &&
    kafka_java -Dlog4j2.level=ERROR org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "127.0.0.1:$KAFKA_PORT" --list >/dev/null 2>&1
}

kafka_install() {
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || apt_install maven
  # The marker is written last: a download cut short is redone, never half used.
  [ -f "$KAFKA_HOME/.complete" ] && return 0
  log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central (once; cached in $KAFKA_HOME)"
  rm -rf "$KAFKA_HOME"
  mkdir -p "$KAFKA_HOME"
  # slf4j-simple gives the broker a logger (without a binding it logs nothing at all); 1.7.x, to
  # match the slf4j-api 1.7 Kafka resolves to.
  cat >"$KAFKA_HOME/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>faucet</groupId>
  <artifactId>kafka-test-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-simple</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
POM
  local started
  started=$(date +%s%N)
  if ! (cd "$KAFKA_HOME" && mvn -q -B -Dmaven.repo.local="$CACHE/m2" dependency:copy-dependencies \
    -DoutputDirectory=lib -DincludeScope=runtime >"$KAFKA_HOME/mvn.log" 2>&1); then
    show_log maven "$KAFKA_HOME/mvn.log"
    die "could not fetch the Kafka jars with Maven"
  fi
  touch "$KAFKA_HOME/.complete"
  log "Kafka jars fetched in $(elapsed_since "$started") s ($(du -sh "$KAFKA_LIB" | cut -f1))"
}

kafka_configure() {
  mkdir -p "$KAFKA_DIR"
  # One partition for the offsets and transaction-state topics: with the default 50 the first
  # transactional offset commit after a fresh start meets NOT_COORDINATOR (kafkajs does not retry it).
  cat >"$KAFKA_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT,SSL://127.0.0.1:$KAFKA_TLS_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT,SSL://127.0.0.1:$KAFKA_TLS_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL
listener.name.ssl.ssl.keystore.type=PKCS12
listener.name.ssl.ssl.keystore.location=$KAFKA_DIR/broker.p12
listener.name.ssl.ssl.keystore.password=$KAFKA_TLS_PASSWORD
listener.name.ssl.ssl.key.password=$KAFKA_TLS_PASSWORD
listener.name.ssl.ssl.client.auth=none
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_SASL_USER="$KAFKA_SASL_PASSWORD";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=true
super.users=User:ANONYMOUS
log.dirs=$KAFKA_DATA
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# Tests restart consumers killed with SIGKILL: a short session lets the group drop the dead member soon.
group.min.session.timeout.ms=1000
auto.create.topics.enable=false
PROPS
  # slf4j-simple reads this from the classpath: INFO to the log file, the noisy request logs off.
  cat >"$KAFKA_DIR/simplelogger.properties" <<PROPS
org.slf4j.simpleLogger.logFile=$KAFKA_LOG
org.slf4j.simpleLogger.defaultLogLevel=info
org.slf4j.simpleLogger.showDateTime=true
org.slf4j.simpleLogger.log.kafka.request.logger=warn
org.slf4j.simpleLogger.log.state.change.logger=warn
PROPS
}

# A self-signed certificate for 127.0.0.1 (the broker's TLS listener) and its PEM for clients to trust.
kafka_certificate() {
  [ -s "$KAFKA_DIR/broker.p12" ] && [ -s "$KAFKA_DIR/ca.pem" ] && return 0
  rm -f "$KAFKA_DIR/broker.p12" "$KAFKA_DIR/ca.pem"
  keytool -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 3650 -dname CN=localhost \
    -ext SAN=ip:127.0.0.1,dns:localhost -keystore "$KAFKA_DIR/broker.p12" -storetype PKCS12 \
    -storepass "$KAFKA_TLS_PASSWORD" -keypass "$KAFKA_TLS_PASSWORD" >"$KAFKA_DIR/keytool.log" 2>&1 &&
    keytool -exportcert -rfc -alias broker -keystore "$KAFKA_DIR/broker.p12" \
      -storepass "$KAFKA_TLS_PASSWORD" -file "$KAFKA_DIR/ca.pem" >>"$KAFKA_DIR/keytool.log" 2>&1 || {
    show_log keytool "$KAFKA_DIR/keytool.log"
    die 'kafka: could not make the TLS certificate with keytool'
  }
}

kafka_start() {
  if pid_alive "$KAFKA_PID"; then
    log "kafka already running on 127.0.0.1:$KAFKA_PORT"
  else
    local port
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT" "$KAFKA_TLS_PORT"; do
      if port_open "$port"; then
        die "port $port is taken by another program; stop it or choose another port with FAUCET_KAFKA_PORT"
      fi
    done
    local started
    started=$(date +%s%N)
    kafka_configure
    kafka_certificate
    # A data directory without meta.properties was never formatted (or the format failed), and one
    # of an older layout lacks what this one needs: (re)format it. Test data only.
    if [ ! -f "$KAFKA_DATA/meta.properties" ] || [ "$(cat "$KAFKA_DIR/layout" 2>/dev/null)" != "$KAFKA_LAYOUT" ]; then
      rm -rf "$KAFKA_DATA" "$KAFKA_DIR/layout"
      local cluster_id
      cluster_id=$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null) || die 'kafka: random-uuid failed'
      if ! kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DIR/server.properties" \
        --add-scram "SCRAM-SHA-256=[name=$KAFKA_SASL_USER,password=$KAFKA_SASL_PASSWORD]" \
        >"$KAFKA_DIR/format.log" 2>&1; then
        show_log 'kafka format' "$KAFKA_DIR/format.log"
        die 'kafka storage format failed'
      fi
      echo "$KAFKA_LAYOUT" >"$KAFKA_DIR/layout"
    fi
    spawn_detached "$KAFKA_PID" java -Xms256m -Xmx512m -XX:TieredStopAtLevel=1 \
      -cp "$KAFKA_LIB/*:$KAFKA_DIR" kafka.Kafka "$KAFKA_DIR/server.properties" \
      >"$KAFKA_DIR/stdout.log" 2>&1 </dev/null || die 'kafka: the broker process did not start'
    # The JVM and the first metadata answer take longer than the small servers: at least 90 s.
    local wait=$((TIMEOUT > 90 ? TIMEOUT : 90))
    if ! wait_for "$wait" kafka_ready_or_dead; then
      show_log kafka "$KAFKA_LOG"
      stop_pid kafka "$KAFKA_PID"
      die "kafka did not answer a metadata request on 127.0.0.1:$KAFKA_PORT within ${wait}s"
    fi
    if ! pid_alive "$KAFKA_PID"; then
      show_log kafka "$KAFKA_LOG"
      show_log 'kafka stdout' "$KAFKA_DIR/stdout.log"
      die 'kafka exited during start-up'
    fi
    log "kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (KRaft; started in $(elapsed_since "$started") s)"
    return 0
  fi
  if ! wait_for "$TIMEOUT" kafka_ready; then
    show_log kafka "$KAFKA_LOG"
    die "kafka runs (pid $(cat "$KAFKA_PID")) but does not answer on 127.0.0.1:$KAFKA_PORT"
  fi
}

# Stops waiting as soon as the broker died (wait_for would otherwise sit out the whole timeout).
kafka_ready_or_dead() { ! pid_alive "$KAFKA_PID" || kafka_ready; }

kafka_stop() { stop_pid kafka "$KAFKA_PID"; }

kafka_status() {
  if pid_alive "$KAFKA_PID" && kafka_ready; then
    log "kafka: running on 127.0.0.1:$KAFKA_PORT (pid $(cat "$KAFKA_PID"), data in $KAFKA_DATA)"
  else
    log "kafka: not running"
    return 3
  fi
}

kafka_env() {
  echo "export FAUCET_TEST_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
  # user:password@host:port of the SASL listener (PLAIN and SCRAM-SHA-256).
  echo "export FAUCET_TEST_KAFKA_SASL=$KAFKA_SASL_USER:$KAFKA_SASL_PASSWORD@127.0.0.1:$KAFKA_SASL_PORT"
  # host:port of the TLS listener, and the PEM of its (self-signed) certificate.
  echo "export FAUCET_TEST_KAFKA_TLS=127.0.0.1:$KAFKA_TLS_PORT"
  echo "export FAUCET_TEST_KAFKA_TLS_CA=$KAFKA_DIR/ca.pem"
}
