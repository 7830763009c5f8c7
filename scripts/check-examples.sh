#!/usr/bin/env bash
# Checks every example under examples/ with real Terraform:
#   1. `terraform fmt -check -recursive examples/`;
#   2. every directory holding .tf files: `terraform init` from a filesystem mirror of the freshly
#      built provider (source local/batch), then `terraform validate`;
#   3. against a local Batch service started here (batch-emulator, process runtime, free port,
#      throwaway data dir): `terraform test` of examples/modules/batch-workload, and
#      `terraform apply` + `destroy` of examples/quickstart (its output must be "hello world") and
#      examples/job-with-preparation.
# Examples are copied to a temporary directory first, so nothing is written into examples/.
#
# Usage: scripts/check-examples.sh [--no-build] [--static-only | --live-only] [--no-module-test]
#   --no-build        use target/debug/{terraform-provider-batch,batch-emulator} as they are
#                     (also when E2E_NO_BUILD=1)
#   --static-only     only fmt, init and validate (no local service)
#   --live-only       skip fmt and validate (step 3 only)
#   --no-module-test  skip the module's terraform test
# Environment: TERRAFORM (default: terraform on PATH, else .tools/bin/terraform-1.15.5),
#              PROVIDER_BIN, EMULATOR_BIN (prebuilt binaries; imply --no-build),
#              CARGO_TARGET_DIR, KEEP_WORKDIR=1 (keep the temporary directory).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

say() { echo "check-examples: $*"; }
fail() {
  echo "check-examples: FAILED: $*" >&2
  exit 1
}

BUILD=1
LIVE=1
STATIC=1
MODULE_TEST=1
[ "${E2E_NO_BUILD:-}" = 1 ] && BUILD=0
[ -n "${PROVIDER_BIN:-}" ] && [ -n "${EMULATOR_BIN:-}" ] && BUILD=0
for a in "$@"; do
  case "$a" in
    --no-build) BUILD=0 ;;
    --static-only) LIVE=0 ;;
    --live-only) STATIC=0 ;;
    --no-module-test) MODULE_TEST=0 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument $a (see --help)" ;;
  esac
done

export CHECKPOINT_DISABLE=1
unset TF_CLI_ARGS TF_CLI_ARGS_init TF_CLI_ARGS_apply TF_LOG TF_LOG_PATH RUST_BACKTRACE TF_DATA_DIR

TF="${TERRAFORM:-}"
if [ -z "$TF" ]; then
  if command -v terraform >/dev/null 2>&1; then
    TF="$(command -v terraform)"
  elif [ -x "$REPO/.tools/bin/terraform-1.15.5" ]; then
    TF="$REPO/.tools/bin/terraform-1.15.5"
  else
    fail "no terraform: put one on PATH or run scripts/install-terraform.sh"
  fi
fi
say "using $("$TF" version 2>/dev/null | head -n1) ($TF)"

TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
if [ "$BUILD" = 1 ]; then
  say "cargo build -p terraform-provider-batch -p batch-emulator"
  cargo build -q -p terraform-provider-batch -p batch-emulator --bin terraform-provider-batch --bin batch-emulator
fi
PROVIDER_BIN="${PROVIDER_BIN:-$TARGET_DIR/debug/terraform-provider-batch}"
EMULATOR_BIN="${EMULATOR_BIN:-$TARGET_DIR/debug/batch-emulator}"
[ -x "$PROVIDER_BIN" ] || fail "$PROVIDER_BIN missing (build it, or drop --no-build)"

VERSION="$(awk '/^\[workspace\.package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{gsub(/[" ]/, "", $0); sub(/^version=/, "", $0); print; exit}' Cargo.toml)"
case "$(uname -m)" in x86_64 | amd64) ARCH=amd64 ;; aarch64 | arm64) ARCH=arm64 ;; *) ARCH="$(uname -m)" ;; esac
PLATFORM="$(uname -s | tr '[:upper:]' '[:lower:]')_$ARCH"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/check-examples.XXXXXX")"
EMU_PID=""
cleanup() {
  if [ -n "$EMU_PID" ]; then
    kill "$EMU_PID" 2>/dev/null || true
    wait "$EMU_PID" 2>/dev/null || true
  fi
  if [ "${KEEP_WORKDIR:-}" = 1 ]; then
    echo "check-examples: kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# The provider as `terraform init` finds it: an unpacked filesystem mirror, as scripts/release.sh
# lays out dist/mirror. Any other provider would come from the registry (not needed here).
MIRROR_DIR="$WORK/mirror/registry.terraform.io/local/batch/$VERSION/$PLATFORM"
mkdir -p "$MIRROR_DIR" "$WORK/plugin-cache"
cp "$PROVIDER_BIN" "$MIRROR_DIR/terraform-provider-batch_v$VERSION"
cat >"$WORK/cli.tfrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$WORK/mirror"
    include = ["registry.terraform.io/local/*"]
  }
  direct {
    exclude = ["registry.terraform.io/local/*"]
  }
}
plugin_cache_dir = "$WORK/plugin-cache"
EOF
export TF_CLI_CONFIG_FILE="$WORK/cli.tfrc"

cp -R examples "$WORK/examples"
find "$WORK/examples" \( -name .terraform -o -name '.terraform.lock.hcl' -o -name 'terraform.tfstate*' \) -prune -exec rm -rf {} +

if [ "$STATIC" = 1 ]; then
  say "terraform fmt -check -recursive examples/"
  if ! "$TF" fmt -check -recursive -diff examples/; then
    fail "examples are not formatted: run terraform fmt -recursive examples/"
  fi

  # Registry-layout snippets (examples/resources/..., data-sources/..., provider/) leave out the
  # terraform block, as documentation pages do; add it so that they init on their own.
  dirs=()
  while IFS= read -r d; do dirs+=("$d"); done < <(find "$WORK/examples" -name '*.tf' -printf '%h\n' | sort -u)
  [ "${#dirs[@]}" -gt 0 ] || fail "no examples found"
  failures=0
  tf_minor="$("$TF" version -json | sed -n 's/.*"terraform_version": *"1\.\([0-9]*\)\..*/\1/p')"
  for d in "${dirs[@]}"; do
    rel="${d#"$WORK"/}"
    # Action blocks exist from Terraform 1.14 on.
    if [[ "$rel" == examples/actions/* ]] && [ "${tf_minor:-0}" -lt 14 ]; then
      say "$rel: skipped (actions need Terraform 1.14 or later)"
      continue
    fi
    uses_batch=0
    grep -qE '(resource|data|action) "batch_|provider "batch"' "$d"/*.tf && uses_batch=1
    if [ "$uses_batch" = 1 ] && ! grep -q 'required_providers' "$d"/*.tf; then
      printf 'terraform {\n  required_providers {\n    batch = {\n      source = "local/batch"\n    }\n  }\n}\n' >"$d/zz_check_required_providers.tf"
    fi
    if ! (cd "$d" && "$TF" init -backend=false -input=false -no-color >"$d/.init.log" 2>&1); then
      echo "check-examples: $rel: terraform init failed:" >&2
      sed 's/^/    /' "$d/.init.log" >&2
      failures=$((failures + 1))
      continue
    fi
    if out="$(cd "$d" && "$TF" validate -no-color 2>&1)"; then
      say "$rel: valid"
    else
      echo "check-examples: $rel: terraform validate failed:" >&2
      printf '%s\n' "$out" | sed 's/^/    /' >&2
      failures=$((failures + 1))
    fi
  done
  [ "$failures" = 0 ] || fail "$failures example director$([ "$failures" = 1 ] && echo y || echo ies) did not validate"
fi

if [ "$LIVE" = 0 ]; then
  say "static checks passed (--static-only: skipped the local Batch service runs)"
  exit 0
fi

[ -x "$EMULATOR_BIN" ] || fail "$EMULATOR_BIN missing (build it, or drop --no-build)"
# The local Batch service on a free loopback port, with fast node allocation.
for _ in 1 2 3 4 5; do
  PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "$EMULATOR_BIN" --listen "127.0.0.1:$PORT" --data-dir "$WORK/emulator-data" --runtime process \
    --allocation-delay 200ms --node-start-delay 100ms --delete-delay 100ms \
    >"$WORK/emulator.log" 2>&1 </dev/null &
  EMU_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/_emulator/health" >/dev/null 2>&1 && break
    kill -0 "$EMU_PID" 2>/dev/null || break
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:$PORT/_emulator/health" >/dev/null 2>&1 && break
  kill "$EMU_PID" 2>/dev/null || true
  wait "$EMU_PID" 2>/dev/null || true
  EMU_PID=""
done
[ -n "$EMU_PID" ] || { cat "$WORK/emulator.log" >&2; fail "batch-emulator did not start"; }
ENDPOINT="http://127.0.0.1:$PORT"
say "local Batch service at $ENDPOINT (process runtime)"
export TF_VAR_batch_endpoint="$ENDPOINT"

emulator_log_tail() {
  echo "--- batch-emulator log (tail) ---" >&2
  tail -n 40 "$WORK/emulator.log" >&2
}

# terraform test of the reusable module (its tests read TF_VAR_batch_endpoint).
module="$WORK/examples/modules/batch-workload"
if [ "$MODULE_TEST" = 1 ]; then
  say "examples/modules/batch-workload: terraform test"
  if ! (cd "$module" && "$TF" init -backend=false -input=false -no-color >"$module/.init.log" 2>&1 &&
    "$TF" test -no-color >"$module/.test.log" 2>&1); then
    sed 's/^/    /' "$module/.init.log" "$module/.test.log" >&2 2>/dev/null
    emulator_log_tail
    fail "terraform test of examples/modules/batch-workload failed"
  fi
  grep -E '^(Success|Failure)!' "$module/.test.log" | sed 's/^/check-examples:   /'
fi

apply_destroy() { # apply_destroy <dir under examples/> [check command...]
  local rel="$1" dir="$WORK/examples/$1"
  shift
  say "examples/$rel: terraform apply"
  if ! (cd "$dir" && { [ -d .terraform ] || "$TF" init -input=false -no-color >.init.log 2>&1; } && "$TF" apply -auto-approve -input=false -no-color >"$dir/.apply.log" 2>&1); then
    sed 's/^/    /' "$dir/.apply.log" >&2
    emulator_log_tail
    fail "terraform apply of examples/$rel failed"
  fi
  if [ $# -gt 0 ] && ! (cd "$dir" && "$@"); then
    sed 's/^/    /' "$dir/.apply.log" >&2
    fail "examples/$rel: the applied result is not as expected"
  fi
  # Refreshed task states may change outputs; resources must not change.
  local rc=0
  (cd "$dir" && "$TF" plan -detailed-exitcode -input=false -no-color >"$dir/.plan.log" 2>&1) || rc=$?
  if [ "$rc" = 1 ] || grep -qE '^Plan: |will be (created|destroyed|updated|replaced)|must be replaced' "$dir/.plan.log"; then
    sed 's/^/    /' "$dir/.plan.log" >&2
    fail "examples/$rel: the plan after apply failed or wants to change resources"
  fi
  if ! (cd "$dir" && "$TF" destroy -auto-approve -input=false -no-color >"$dir/.destroy.log" 2>&1); then
    sed 's/^/    /' "$dir/.destroy.log" >&2
    emulator_log_tail
    fail "terraform destroy of examples/$rel failed"
  fi
  say "examples/$rel: applied, no changes on re-plan, destroyed"
}

quickstart_says_hello() {
  local got
  got="$("$TF" output -raw task_output)"
  if [ "$got" != "hello world" ] && [ "$got" != $'hello world\n' ]; then
    echo "check-examples: quickstart task_output is '$got', expected 'hello world'" >&2
    return 1
  fi
  say "examples/quickstart: task_output = hello world"
}

pipeline_completed() {
  local report
  report="$("$TF" output -json report)"
  python3 - "$report" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
# The last task waited for the whole chain (download -> 2 x process -> report).
assert r == {"state": "completed", "exit_code": 0, "result": "success"}, r
PY
}

apply_destroy quickstart quickstart_says_hello
apply_destroy job-with-preparation pipeline_completed

say "all examples passed"
