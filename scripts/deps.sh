#!/usr/bin/env bash
# Installs every Debian package ctng needs to build, test and run.
# Idempotent and non-interactive; run as root (or with sudo available) on Debian 12.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config git ca-certificates
  clang llvm libclang-rt-14-dev            # libFuzzer + sanitizers runtime
  libssl-dev openssl                       # OpenSSL 3 (EVP, X.509) and the CLI for tests
  libevent-dev libjansson-dev libsqlite3-dev sqlite3
  libroaring-dev libcmocka-dev
  procps                                   # pgrep/ps for the multi-process tests
  prometheus                               # promtool: checks the /metrics text in tests
  systemd man-db groff-base                # systemd-analyze verify/security, man pages (install test)
  chromium chromium-driver                 # headless browser for the monitor dashboard test
  gnuplot-nox                              # ctng sim sweep's plots (SVG)
  faketime                                 # clock-skew tests: libfaketime under real daemons
  iproute2                                 # ip netns / ip link: the network-namespace fault tests
  golang-go golang-golang-x-mod-dev        # Go sumdb/note verifies the logger checkpoint (offline, GOPATH mode)
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "deps: installed ${missing[*]}"
