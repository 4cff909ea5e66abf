#!/bin/sh
# Builds and runs the policy decision benchmarks (JMH); see docs/performance.md.
# Usage: bench/policy-decisions.sh   (about 2 minutes)
set -eu
cd "$(dirname "$0")/.."
mvn -B -q -pl bench/jmh -am package -DskipTests
java=""
for candidate in "${JAVA_HOME:-}/bin/java" /usr/lib/jvm/*/bin/java; do
  if [ -x "$candidate" ] && "$candidate" -version 2>&1 |
      awk -F'"' '/version/ { split($2, v, "."); exit !(v[1] >= 21) }'; then
    java=$candidate
    break
  fi
done
[ -n "$java" ] || { echo "policy-decisions.sh: needs a JDK >= 21 under /usr/lib/jvm or JAVA_HOME" >&2; exit 1; }
exec "$java" -jar bench/jmh/target/filebroker-bench-jmh.jar
