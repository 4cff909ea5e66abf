#!/bin/sh
# Installs the built .deb, runs the installed daemon the way filebroker.service does, has user
# nobody (65534) fetch a root-only file through it, then purges the package and checks that
# nothing is left. Needs root.
# Usage: packaging/test-install.sh [--install-only] [path/to/filebroker_*.deb]
# --install-only skips starting the daemon: install, launcher, purge.
#
# There is no systemd PID 1 here, so the daemon is started by hand with the unit's ExecStart=
# and the environment systemd would give it (RUNTIME_DIRECTORY); the sandbox settings of the
# unit are not applied.
#
# Dependencies: the package depends on openjdk-21-jre-headless | java21-runtime-headless. Debian
# 12 has no such package, and a JDK unpacked outside dpkg (for example in /usr/lib/jvm) does not
# satisfy it, so this script installs with --force-depends and checks the launcher finds Java by
# itself. On a system with a Java 21+ package installed, pass FORCE_DEPENDS=no.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
mode=full
if [ "${1:-}" = --install-only ]; then
    mode=install-only
    shift
fi
deb=${1:-$(ls "$here"/target/filebroker_*_all.deb)}
work=$(mktemp -d)
secret=$work/secret.txt
policy=/etc/filebroker/policy.d/90-install-test.toml
socket=/run/filebroker/filebroker.sock
daemon_pid=

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

cleanup() {
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill "$daemon_pid" 2>/dev/null || true
    fi
    if dpkg -s filebroker >/dev/null 2>&1; then
        dpkg --purge filebroker >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || fail "must run as root"
[ -f "$deb" ] || fail "no package at $deb; run mvn package first"

step "install $deb"
if dpkg -s filebroker >/dev/null 2>&1; then
    dpkg --purge filebroker
fi
if [ "${FORCE_DEPENDS:-yes}" = yes ]; then
    dpkg --force-depends -i "$deb"
else
    dpkg -i "$deb"
fi
dpkg -L filebroker | grep -qx /usr/bin/filebroker || fail "/usr/bin/filebroker not installed"
[ -L /etc/systemd/system/sockets.target.wants/filebroker.socket ] \
    || fail "filebroker.socket was not enabled"

step "launcher finds a Java runtime 21 or newer"
status=0
/usr/bin/filebroker --version || status=$?
[ "$status" != 127 ] || fail "the launcher found no Java runtime 21 or newer"
if [ "$mode" = full ]; then
    [ "$status" = 0 ] || fail "filebroker --version failed with status $status"
fi

if [ "$mode" = full ]; then

step "start the daemon as ExecStart= in the installed unit does"
exec_start=$(sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/filebroker.service)
[ -n "$exec_start" ] || fail "no ExecStart= in the installed unit"
echo "ExecStart=$exec_start"

printf 'only root may read this\n' > "$secret"
chown root:root "$secret"
chmod 0600 "$secret"
# The work directory must be searchable by nobody for the path to resolve for the caller's
# request; the daemon opens the file itself.
chmod 0755 "$work"
cat > "$policy" <<POLICY
[[allow]]
name = "install-test-nobody-reads-secret"
users = [65534]
paths = ["$secret"]
access = ["read"]
types = ["regular"]
POLICY

mkdir -p /run/filebroker
chmod 0755 /run/filebroker
rm -f "$socket"
# shellcheck disable=SC2086 # ExecStart= is split on blanks, as systemd does for plain words.
RUNTIME_DIRECTORY=/run/filebroker $exec_start > "$work/daemon.log" 2>&1 &
daemon_pid=$!

i=0
while [ ! -S "$socket" ]; do
    i=$((i + 1))
    if [ "$i" -gt 300 ] || ! kill -0 "$daemon_pid" 2>/dev/null; then
        cat "$work/daemon.log" >&2
        fail "daemon did not create $socket"
    fi
    sleep 0.1
done
[ "$(stat -c %a "$socket")" = 666 ] || fail "socket mode is $(stat -c %a "$socket"), not 666"

step "nobody opens the root-only file through the daemon"
got=$(setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/filebroker open "$secret") \
    || { cat "$work/daemon.log" >&2; fail "filebroker open failed for nobody"; }
[ "$got" = "only root may read this" ] || fail "nobody got '$got'"
if setpriv --reuid=65534 --regid=65534 --clear-groups cat "$secret" >/dev/null 2>&1; then
    fail "nobody can read $secret directly; the test proves nothing"
fi

step "stop the daemon with SIGTERM"
kill -TERM "$daemon_pid"
i=0
while kill -0 "$daemon_pid" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -le 300 ] || fail "daemon did not stop within 30 s"
    sleep 0.1
done
daemon_pid=
grep -q '"decision"' "$work/daemon.log" || fail "no audit line in the daemon's output"
fi

step "purge"
dpkg --purge filebroker
if dpkg -L filebroker >/dev/null 2>&1; then
    fail "dpkg still lists files of filebroker"
fi
for gone in /etc/filebroker /usr/share/filebroker /usr/bin/filebroker \
    /usr/lib/systemd/system/filebroker.service /usr/lib/systemd/system/filebroker.socket \
    /etc/systemd/system/sockets.target.wants/filebroker.socket /run/filebroker \
    /var/lib/systemd/deb-systemd-helper-enabled/filebroker.socket.dsh-also; do
    [ ! -e "$gone" ] && [ ! -L "$gone" ] || fail "$gone is left after purge"
done
if find /etc/systemd /var/lib/systemd/deb-systemd-helper-enabled \
    /var/lib/systemd/deb-systemd-helper-masked -name 'filebroker*' 2>/dev/null | grep -q .; then
    fail "enablement state left: $(find /etc/systemd /var/lib/systemd -name 'filebroker*')"
fi
if [ "$mode" = full ]; then
    echo "PASS: install, serve, open as nobody, purge"
else
    echo "PASS: install and purge (daemon not started: --install-only)"
fi
