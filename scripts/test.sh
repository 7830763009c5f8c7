#!/usr/bin/env bash
# The whole test suite: formatting, lints, build, then every test (unit tests and the end-to-end
# tests that drive real Terraform against the provider and the local Batch service).
#
# Usage: scripts/test.sh [extra args for the test runner, e.g. a test-name filter]
#
# Installs Terraform v1.11.4 and v1.15.5 (.tools/bin/terraform-<version>) and the null-provider
# mirror into the repository if they are missing (no root needed); the end-to-end tests run on both
# Terraform versions. Container (docker-runtime) tests need a Docker Engine API: as root this script
# sets up Podman (scripts/setup-podman.sh; E2E_NO_PODMAN=1 skips that); otherwise run
# `sudo scripts/setup-podman.sh` once or set DOCKER_HOST. Without one those tests are skipped and
# say so, except under CI (CI=true), where a missing container engine, Terraform version or
# mirror fails the run naming what is missing.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

export CHECKPOINT_DISABLE=1
# Terraform and the provider must not inherit a developer's shell settings.
unset RUST_BACKTRACE TF_CLI_ARGS TF_LOG TF_LOG_PATH

# CI as the prereq crate reads it: set to anything but "", "false" or "0".
is_ci() { case "${CI:-}" in "" | false | FALSE | False | 0) return 1 ;; *) return 0 ;; esac; }

scripts/install-terraform.sh
if ! scripts/get-null-provider.sh; then
  if is_ci; then
    echo "test.sh: FAILED: the hashicorp/null mirror (.tools/mirror, scripts/get-null-provider.sh) is missing" >&2
    exit 1
  fi
  echo "test.sh: hashicorp/null mirror not available; tests that need it will fail" >&2
fi

# Podman (the container engine of the docker-runtime tests) can only be set up as root.
if [ -z "${DOCKER_HOST:-}" ] && [ -z "${E2E_NO_PODMAN:-}" ] && [ "$(id -u)" -eq 0 ] \
  && ! curl -fsS --max-time 5 --unix-socket /run/podman/podman.sock http://d/_ping >/dev/null 2>&1; then
  scripts/setup-podman.sh || echo "test.sh: podman is not available (see above)" >&2
fi
if [ -z "${DOCKER_HOST:-}" ] && [ -S /run/podman/podman.sock ]; then
  export DOCKER_HOST=unix:///run/podman/podman.sock
fi
if [ -n "${DOCKER_HOST:-}" ]; then
  echo "test.sh: container tests use DOCKER_HOST=$DOCKER_HOST"
elif is_ci; then
  echo "test.sh: FAILED: CI=$CI and no container engine: no DOCKER_HOST and no podman socket (run scripts/setup-podman.sh as root)" >&2
  exit 1
else
  echo "test.sh: no DOCKER_HOST and no podman socket: container (docker runtime) tests will be skipped"
fi
echo "test.sh: the end-to-end tests run on .tools/bin/terraform-1.11.4 and .tools/bin/terraform-1.15.5"

echo "test.sh: cargo fmt --check"
cargo fmt --all -- --check
echo "test.sh: cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "test.sh: cargo build"
cargo build --workspace
# The build above produced target/debug/{terraform-provider-batch,batch-emulator}: the e2e
# harness uses them as they are instead of invoking cargo from every test process.
export E2E_NO_BUILD=1

if cargo nextest --version >/dev/null 2>&1; then
  # nextest does not run doctests; run them first so the runner's summary is the last line.
  cargo test --workspace --doc
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
