#!/bin/sh
# Builds and runs the policy decision benchmarks (JMH); see docs/performance.md.
# Usage: bench/policy-decisions.sh   (about 2 minutes)
set -eu
cd "$(dirname "$0")/.."
mvn -B -q -pl bench/jmh -am package -DskipTests
. bench/lib/java.sh
bench_java policy-decisions.sh
exec "$java" -jar bench/jmh/target/filebroker-bench-jmh.jar
