# Sourced by the bench scripts: bench_java NAME sets $java to the first JDK >= 21 found in
# $JAVA_HOME, then /usr/lib/jvm, or exits with a message naming the script NAME.
bench_java() {
  java=""
  for candidate in "${JAVA_HOME:-}/bin/java" /usr/lib/jvm/*/bin/java; do
    if [ -x "$candidate" ] && "$candidate" -version 2>&1 |
        awk -F'"' '/version/ { split($2, v, "."); exit !(v[1] >= 21) }'; then
      java=$candidate
      return 0
    fi
  done
  echo "$1: needs a JDK >= 21 under /usr/lib/jvm or JAVA_HOME" >&2
  exit 1
}
