#!/usr/bin/env bash
# Sets up Podman as the container engine of the local Batch service's docker runtime and of the
# container tests (Debian/Ubuntu, as root; idempotent):
#   - installs podman, runc, busybox-static (apt-get update only when podman has no candidate);
#   - /etc/containers/containers.conf: runc, cgroupfs, no default ulimits (what works in
#     containers/VMs without systemd);
#   - serves the Docker Engine API at unix:///run/podman/podman.sock (`podman system service`,
#     started in the background when it is not answering; log: /var/log/podman-service.log;
#     pid: /run/podman/podman-service.pid);
#   - builds two images offline from Debian's static busybox (no registry needed):
#       localhost/busybox:latest  (also tagged busybox:latest and docker.io/library/busybox:latest)
#       localhost/hello-entrypoint:latest  (also docker.io/library/hello-entrypoint:latest):
#         ENTRYPOINT ["/bin/echo", "hello from the image entrypoint"], for tests of tasks whose
#         empty command line runs the image's ENTRYPOINT.
# Prints `export DOCKER_HOST=unix:///run/podman/podman.sock` at the end.
# Exits non-zero with a message saying why when Podman cannot be made to work.
#
# Usage: sudo scripts/setup-podman.sh
set -euo pipefail

SOCK=/run/podman/podman.sock
LOG=/var/log/podman-service.log
HELLO_LINE="hello from the image entrypoint"

fail() {
  echo "setup-podman: FAILED: $*" >&2
  echo "setup-podman: container (docker runtime) tests will be skipped" >&2
  exit 1
}
say() { echo "setup-podman: $*"; }

[ "$(id -u)" -eq 0 ] || fail "must run as root (try: sudo $0)"
command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: install podman, runc and busybox-static by hand"

# 1. Packages.
pkgs=(podman runc busybox-static uidmap)
missing=()
for p in "${pkgs[@]}"; do
  # (No `| grep -q` here: with pipefail an early-exiting grep would fail the pipeline.)
  st="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [ "$st" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  policy="$(apt-cache policy podman 2>/dev/null || true)"
  if [[ "$policy" != *"Candidate: "[0-9]* ]]; then
    say "apt-get update"
    apt-get update -q >/dev/null || fail "apt-get update failed"
  fi
  say "installing ${missing[*]}"
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
    fail "apt-get install ${missing[*]} failed"
fi

# 2. Engine configuration.
conf=/etc/containers/containers.conf
want='# Written by terraform-provider-batch scripts/setup-podman.sh
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"'
mkdir -p /etc/containers
if [ "$(cat "$conf" 2>/dev/null || true)" != "$want" ]; then
  [ -f "$conf" ] && cp "$conf" "$conf.bak.$(date +%s)"
  printf '%s\n' "$want" >"$conf"
  say "wrote $conf"
fi
podman info >/dev/null 2>&1 || fail "podman info does not work: $(podman info 2>&1 | tail -n 3)"

# 3. Docker Engine API.
ping() { curl -fsS --max-time 5 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; }
if ! ping; then
  mkdir -p "$(dirname "$SOCK")"
  rm -f "$SOCK"
  say "starting podman system service on unix://$SOCK (log: $LOG)"
  setsid nohup podman system service --time=0 "unix://$SOCK" >>"$LOG" 2>&1 </dev/null &
  # For whoever wants to stop it again (scripts/quickstart.sh --down does, if it started it).
  echo $! >"$(dirname "$SOCK")/podman-service.pid"
  for _ in $(seq 1 100); do ping && break; sleep 0.1; done
  ping || fail "podman system service did not answer on $SOCK; last log lines: $(tail -n 5 "$LOG" 2>/dev/null)"
fi

# 4. Offline images from busybox-static.
build_images() {
  local root tar
  root="$(mktemp -d)"
  tar="$(mktemp --suffix=.tar)"
  mkdir -p "$root"/{bin,etc,tmp,root,proc,sys,dev,usr}
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf /bin/busybox "$root/bin/$applet"
  done
  ln -s ../bin "$root/usr/bin"
  ln -s bin "$root/sbin"
  ln -s ../bin "$root/usr/sbin"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar -C "$root" -cf "$tar" .
  podman import -q --change 'CMD ["/bin/sh"]' "$tar" localhost/busybox:latest >/dev/null
  podman tag localhost/busybox:latest busybox:latest docker.io/library/busybox:latest
  podman import -q --change "ENTRYPOINT [\"/bin/echo\", \"$HELLO_LINE\"]" "$tar" \
    localhost/hello-entrypoint:latest >/dev/null
  podman tag localhost/hello-entrypoint:latest docker.io/library/hello-entrypoint:latest
  rm -rf "$root" "$tar"
}
if ! podman image exists docker.io/library/busybox:latest ||
  ! podman image exists docker.io/library/hello-entrypoint:latest; then
  say "building localhost/busybox:latest and localhost/hello-entrypoint:latest from /bin/busybox"
  build_images || fail "could not build the busybox images"
fi

# 5. Check that containers run, directly and through the Docker API.
out="$(podman run --rm busybox echo hi 2>&1)" || fail "podman run busybox failed: $out"
[ "$out" = "hi" ] || fail "podman run busybox echo hi printed '$out'"
out="$(podman run --rm localhost/hello-entrypoint:latest 2>&1)" || fail "hello-entrypoint failed: $out"
[ "$out" = "$HELLO_LINE" ] || fail "hello-entrypoint printed '$out'"

api() { curl -fsS --max-time 60 --unix-socket "$SOCK" "$@"; }
api http://d/v1.41/version >/dev/null || fail "GET /v1.41/version failed"
id="$(api -H 'Content-Type: application/json' -d '{"Image":"busybox","Cmd":["echo","from-api"]}' \
  http://d/v1.41/containers/create | sed -n 's/.*"Id":"\([0-9a-f]*\)".*/\1/p')"
[ -n "$id" ] || fail "creating a container through the Docker API failed"
api -X POST "http://d/v1.41/containers/$id/start" >/dev/null || fail "starting container $id failed"
status="$(api -X POST "http://d/v1.41/containers/$id/wait")" || fail "waiting for container $id failed"
api -X DELETE "http://d/v1.41/containers/$id?force=1" >/dev/null || true
echo "$status" | grep -q '"StatusCode":0' || fail "container created through the API exited with $status"

say "podman $(podman version --format '{{.Client.Version}}') works; Docker Engine API at unix://$SOCK"
echo "export DOCKER_HOST=unix://$SOCK"
