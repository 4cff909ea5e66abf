#!/bin/sh
# Builds and runs the Java client benchmark (JMH): FileBroker.open + close of one granted file
# against a daemon the benchmark starts through ./filebroker, from 1 and 2 threads.
# Usage: bench/client-jmh.sh [JMH OPTIONS]   (as root, like the daemon; about a minute)
# The summary (throughput in ops/us and sampled latency percentiles) is what
# docs/performance.md reports beside the C load generator's figures.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "client-jmh.sh: run as root: the daemon needs root to read peer credentials" >&2
  exit 2
fi
mvn -B -q -pl bench/jmh -am package -DskipTests
./filebroker --version >/dev/null   # builds the daemon jar when stale
. bench/lib/java.sh
bench_java client-jmh.sh
exec "$java" -Dfilebroker.launcher="$PWD/filebroker" \
  -cp bench/jmh/target/filebroker-bench-jmh.jar org.openjdk.jmh.Main ClientOpenBenchmark \
  -jvmArgsAppend "-Dfilebroker.launcher=$PWD/filebroker" "$@"
