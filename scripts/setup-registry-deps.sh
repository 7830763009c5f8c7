#!/usr/bin/env bash
# Installs what the private-registry tests need (Debian/Ubuntu, as root; idempotent):
#   - docker-registry: the CNCF distribution registry 2.8 (`docker-registry serve config.yml`),
#     started by the e2e harness on loopback with TLS and htpasswd auth (tests/src/registry.rs);
#   - apache2-utils: `htpasswd -B` for the registry's bcrypt password file.
# The packaged systemd service is not used (and not started: policy-rc.d forbids it here).
#
# Usage: sudo scripts/setup-registry-deps.sh
set -euo pipefail

fail() {
  echo "setup-registry-deps: FAILED: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || fail "must run as root (try: sudo $0)"
command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: install docker-registry and apache2-utils by hand"

pkgs=(docker-registry apache2-utils)
missing=()
for p in "${pkgs[@]}"; do
  st="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [ "$st" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  policy="$(apt-cache policy docker-registry 2>/dev/null || true)"
  if [[ "$policy" != *"Candidate: "[0-9]* ]]; then
    apt-get update -q >/dev/null || fail "apt-get update failed"
  fi
  echo "setup-registry-deps: installing ${missing[*]}"
  # The package's service must not start on a CI machine: the tests run their own registries.
  had_policy=0
  [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  [ "$had_policy" -eq 1 ] || printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  rc=0
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  [ "$had_policy" -eq 1 ] || rm -f /usr/sbin/policy-rc.d
  [ "$rc" -eq 0 ] || fail "apt-get install ${missing[*]} failed"
fi
command -v docker-registry >/dev/null || fail "docker-registry is not on PATH after installing it"
command -v htpasswd >/dev/null || fail "htpasswd is not on PATH after installing apache2-utils"
echo "setup-registry-deps: $(docker-registry --version 2>&1 | head -n 1); htpasswd ready"
