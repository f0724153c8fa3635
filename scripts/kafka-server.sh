#!/bin/sh
# Starts and stops the local Apache Kafka broker that tests and benchmarks use:
# Kafka 4.1 in KRaft mode (one combined broker and controller, no ZooKeeper),
# from the Maven Central jars of scripts/kafka/pom.xml cached under .cache/.
#
#   eval "$(scripts/kafka-server.sh start)"   start a fresh broker; prints export lines
#   scripts/kafka-server.sh stop [dir]         stop the broker that this shell's `start` started
#   scripts/kafka-server.sh restart [dir]      stop it and start it again: same port, same data
#   scripts/kafka-server.sh halt [dir]         stop it but keep its port and data, for `restart`
#                                              (tests of clients whose broker is down a while)
#   scripts/kafka-server.sh status [dir]       say whether it runs
#   scripts/kafka-server.sh fetch              only make sure the jars are cached
#
# Each `start` starts its own broker on 127.0.0.1, on two random free ports
# (clients and controller), with a fresh data directory. It prints nothing
# but `export` lines on stdout (NEURALAKE_KAFKA_BROKERS, host:port for
# clients, and NEURALAKE_KAFKA_SERVER, the broker's state directory);
# progress and errors go to stderr. `start` returns once the broker answers
# on its client port. State lives in .cache/kafka-server/<run>/ of this
# checkout (server.properties, data/, server.log), so brokers of other
# checkouts and runs never collide, and `stop` (which reads
# NEURALAKE_KAFKA_SERVER, or takes the directory as an argument) stops only
# the process that this run started: it checks that the pid still runs
# kafka.Kafka on that very configuration before signalling it. `restart`
# keeps the ports and the data, as a broker restarted by its operator does,
# so clients that knew it find it again with every message it had.
#
# Needs Java 17 or newer and, the first time, Maven (`mvn`) to fetch the jars
# (46 jars, 43 MB, into .cache/kafka/jars). Measured on a loaded 2-core
# machine: ready in 6-15 s, about 400 MB resident.
set -eu
cd "$(dirname "$0")/.."

. scripts/_server_common.sh
server_name=kafka-server
pom=scripts/kafka/pom.xml
cache=$(physical_cache)
jars="$cache/kafka/jars"
stamp="$cache/kafka/jars.sha256"
states="$cache/kafka-server"
# The heap: a single test broker never needs more.
heap=${NEURALAKE_KAFKA_HEAP:-1G}

java_bin=java
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then java_bin="$JAVA_HOME/bin/java"; fi

check_java() {
  if ! command -v "$java_bin" >/dev/null 2>&1; then
    say "Java 17 is needed to run the Kafka broker, and no \`java\` is on PATH (nor JAVA_HOME):"
    say "install a JDK 17 (e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME to one"
    exit 1
  fi
  v=$("$java_bin" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  if [ -z "$v" ] || [ "$v" -lt 17 ]; then
    say "Kafka 4 needs Java 17 or newer, found Java ${v:-of unknown version} ($java_bin):"
    say "install a JDK 17 (e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME to one"
    exit 1
  fi
}

fetch() {
  want=$(sha256sum "$pom" | cut -d' ' -f1)
  if [ -d "$jars" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  if ! command -v mvn >/dev/null 2>&1; then
    say "Maven (mvn) is needed once, to fetch the Kafka jars from Maven Central:"
    say "install it (e.g. apt-get install maven)"
    exit 1
  fi
  say "fetching Apache Kafka's jars into .cache/kafka/jars (about 43 MB, once)"
  mkdir -p "$cache/kafka"
  tmp="$cache/kafka/jars.$$"
  rm -rf "$tmp"
  if ! mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >&2; then
    rm -rf "$tmp"
    say "fetching the jars failed (see Maven's output above)"
    exit 1
  fi
  # Another checkout sharing this cache may have fetched them meanwhile;
  # the newest complete set wins, and no reader ever sees a partial one.
  rm -rf "$jars.old"
  if [ -d "$jars" ]; then mv "$jars" "$jars.old"; fi
  mv "$tmp" "$jars"
  rm -rf "$jars.old"
  echo "$want" >"$stamp"
}

# Whether a command line is the broker of a state directory.
runs_this_server() {
  case "$1" in
  *kafka.Kafka*"$2/server.properties"*) return 0 ;;
  *) return 1 ;;
  esac
}

# Stops the broker of a state directory: a controlled shutdown first (it
# flushes the logs), SIGKILL after 30 s.
kill_server() {
  dir=$1
  if pid=$(server_pid "$dir"); then
    stop_pid "$pid" 300
    rm -f "$dir/pid"
    say "stopped the broker on 127.0.0.1:$(cat "$dir/port" 2>/dev/null || echo '?') (pid $pid)"
    return 0
  fi
  return 1
}

# A KRaft cluster id: 16 random bytes, URL-safe base64 without padding, as
# Kafka's own Uuid (which never starts with '-').
cluster_id() {
  python3 -c 'import base64, os
while True:
    s = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break'
}

write_config() {
  dir=$1
  port=$2
  cport=$3
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=true
# One broker: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join groups often: no waiting for more members to come.
group.initial.rebalance.delay.ms=0
# Neural rows batched many per message make large messages.
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
EOF
  cat >"$dir/log4j2.properties" <<EOF
appender.file.type=File
appender.file.name=file
appender.file.fileName=$dir/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
logger.kafka.name=kafka
logger.kafka.level=INFO
logger.state.name=state.change.logger
logger.state.level=WARN
EOF
}

# Runs the broker of a state directory in the background and records its pid.
launch() {
  dir=$1
  nohup "$java_bin" -Xms128m "-Xmx$heap" -XX:+UseG1GC -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$dir/log4j2.properties" \
    -cp "$jars/*" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
}

# Waits until the broker of a state directory has started and accepts
# connections on its client port; fails if it exits or takes over 120 s.
wait_ready() {
  wait_until_ready "$(cat "$1/pid")" 120 0.2 '
import os, socket
def ready(state, port):
    try:
        with open(os.path.join(state, "server.log"), errors="replace") as f:
            if "Kafka Server started" not in f.read():
                return False
    except OSError:
        return False
    try:
        socket.create_connection(("127.0.0.1", int(port)), timeout=2).close()
        return True
    except OSError:
        return False
' broker "the broker did not start within 120 s" "$1" "$(cat "$1/port")"
}

# Says why a broker did not start, with the end of its logs.
explain() {
  dir=$1
  say "Kafka did not start: $2; the end of its logs follows"
  tail -n 40 "$dir/stdout.log" >&2 2>/dev/null || true
  grep -E "ERROR|FATAL|Exception" "$dir/server.log" 2>/dev/null | tail -n 20 >&2 || true
}

format_storage() {
  dir=$1
  "$java_bin" -Xmx256m "-Dlog4j2.configurationFile=$dir/log4j2.properties" -cp "$jars/*" \
    kafka.tools.StorageTool format -t "$(cluster_id)" -c "$dir/server.properties" \
    >"$dir/format.log" 2>&1
}

print_env() {
  dir=$1
  cat >"$dir/env" <<EOF
export NEURALAKE_KAFKA_BROKERS='127.0.0.1:$(cat "$dir/port")'
export NEURALAKE_KAFKA_SERVER='$dir'
EOF
  cat "$dir/env"
}

start() {
  check_java
  fetch
  if ! command -v python3 >/dev/null 2>&1; then
    say "python3 is needed to pick free ports and wait for the broker"
    exit 1
  fi
  sweep
  mkdir -p "$states"
  dir=$(mktemp -d "$states/run-XXXXXXXX")
  began=$(date +%s)
  attempt=0
  while :; do
    attempt=$((attempt + 1))
    rm -rf "$dir/data" "$dir/server.log"
    mkdir -p "$dir/data"
    set -- $(free_ports 2)
    echo "$1" >"$dir/port"
    write_config "$dir" "$1" "$2"
    if ! format_storage "$dir"; then
      say "formatting the broker's storage failed:"
      cat "$dir/format.log" >&2
      rm -rf "$dir"
      exit 1
    fi
    launch "$dir"
    if err=$(wait_ready "$dir" 2>&1); then break; fi
    pid=$(cat "$dir/pid")
    kill -9 "$pid" 2>/dev/null || true
    # Another process may have taken a port between our check and the bind.
    if [ $attempt -lt 5 ] && grep -qi "address already in use" "$dir/server.log" "$dir/stdout.log" 2>/dev/null; then
      continue
    fi
    explain "$dir" "$err"
    rm -rf "$dir"
    exit 1
  done
  say "Kafka started on 127.0.0.1:$(cat "$dir/port") in $(($(date +%s) - began)) s (pid $(cat "$dir/pid"), state in $dir)"
  print_env "$dir"
}

restart() {
  dir=$1
  check_java
  kill_server "$dir" || say "the broker of $dir was not running; starting it"
  began=$(date +%s)
  launch "$dir"
  if ! err=$(wait_ready "$dir" 2>&1); then
    kill -9 "$(cat "$dir/pid")" 2>/dev/null || true
    explain "$dir" "$err"
    exit 1
  fi
  say "Kafka restarted on 127.0.0.1:$(cat "$dir/port") in $(($(date +%s) - began)) s (pid $(cat "$dir/pid"))"
  print_env "$dir"
}

# The state directory named on the command line or by NEURALAKE_KAFKA_SERVER.
chosen_broker() {
  dir=$(chosen_dir "$1" NEURALAKE_KAFKA_SERVER kafka-server.sh broker)
  if [ ! -f "$dir/server.properties" ]; then
    say "$dir holds no broker (stopped already?)"
    exit 2
  fi
  echo "$dir"
}

case "${1:-}" in
fetch) fetch ;;
start) start ;;
stop)
  dir=$(chosen_broker "${2:-}")
  kill_server "$dir" || say "the broker of $dir was not running"
  rm -rf "$dir"
  ;;
restart)
  dir=$(chosen_broker "${2:-}")
  restart "$dir"
  ;;
halt)
  dir=$(chosen_dir "${2:-}")
  kill_server "$dir" || say "the broker of $dir was not running"
  ;;
status)
  dir=$(chosen_broker "${2:-}")
  print_status "$dir" Kafka || exit 1
  ;;
*)
  echo "usage: scripts/kafka-server.sh start|stop [dir]|restart [dir]|halt [dir]|status [dir]|fetch" >&2
  exit 2
  ;;
esac
