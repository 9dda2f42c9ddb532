#!/usr/bin/env bash
# Installs what onthedot needs from Debian 12's packages, and nothing it
# already has. Profiles: build (compile and run), test (unit, integration,
# fuzz, browser: Debian's chromium and a font for screenshots; wrk for the
# load, soak and crash tests), bench (wrk).
# Runs apt-get as root, or through sudo when not root.
#   contrib/install-deps.sh build test
set -euo pipefail

profiles=("$@")
[ ${#profiles[@]} -gt 0 ] || profiles=(build)

pkgs=()
for p in "${profiles[@]}"; do
  case "$p" in
    build) pkgs+=(build-essential cmake pkg-config ca-certificates tzdata
                  libmicrohttpd-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev libical-dev
                  libjansson-dev libsodium-dev libconfig-dev libgnutls28-dev) ;;
    test)  pkgs+=(check libsubunit-dev python3 python3-jsonschema curl procps
                  python3-icalendar python3-vobject python3-yaml python3-psycopg2 systemd
                  clang-14 libclang-rt-14-dev libfuzzer-14-dev
                  kannel kannel-extras postfix openssl util-linux ca-certificates
                  chromium fonts-dejavu-core wrk postgresql
                  $(command -v npm >/dev/null 2>&1 || echo nodejs npm)) ;;
    bench) pkgs+=(wrk procps curl) ;;
    *) echo "install-deps: unknown profile '$p' (build, test, bench)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}" >&2
log=$(mktemp)
export DEBIAN_FRONTEND=noninteractive
# Package scripts must not start system-wide daemons (kannel on 13000, postfix
# on 25): a deny-all policy-rc.d for the install, only if there is none.
policy_created=
cleanup_policy() { [ -z "$policy_created" ] || "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d; }
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
  policy_created=1
fi
trap cleanup_policy EXIT
# postfix asks its debconf questions otherwise: a local-only, no-relay setup.
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
  printf '%s\n' "postfix postfix/main_mailer_type select Local only" \
    "postfix postfix/mailname string localhost.localdomain" \
    | "${SUDO[@]}" debconf-set-selections
fi
apt_install() {
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >"$log" 2>&1
}
if ! apt_install; then
  # A fresh machine has no package lists yet; fetch them once and retry.
  "${SUDO[@]}" apt-get update -qq -o DPkg::Lock::Timeout=300 >>"$log" 2>&1 || true
  if ! apt_install; then
    cat "$log" >&2
    echo "install-deps: apt-get failed (log above)" >&2
    rm -f "$log"
    exit 1
  fi
fi
rm -f "$log"
