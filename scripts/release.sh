#!/usr/bin/env bash
# Builds a release of terraform-provider-batch in the layout the Terraform Registry and
# `terraform init` expect, and proves that `terraform init` installs it from the produced mirror.
#
#   dist/terraform-provider-batch_<version>_<os>_<arch>.zip    one per platform; holds the binary
#                                                               terraform-provider-batch_v<version>[.exe]
#   dist/terraform-provider-batch_<version>_manifest.json      {"version":1,"metadata":{"protocol_versions":["6.0"]}}
#   dist/terraform-provider-batch_<version>_SHA256SUMS         sha256 of the zips and the manifest
#   dist/terraform-provider-batch_<version>_SHA256SUMS.sig     only when RELEASE_GPG_KEY is set (gpg key id)
#   dist/mirror/registry.terraform.io/local/batch/<version>/<os>_<arch>/terraform-provider-batch_v<version>
#                                                               an unpacked filesystem mirror, for
#   provider_installation { filesystem_mirror { path = "<repo>/dist/mirror" include = ["registry.terraform.io/local/*"] } }
#   terraform-registry-manifest.json (repository root)         the manifest, as the Registry reads it
#
# Platforms: the host's, plus every Rust target installed with rustup that maps to a Terraform
# platform (linux/darwin/windows on amd64/arm64/386/arm). Targets that are not installed (they
# cannot be downloaded on offline machines) or whose cross build fails (no C cross compiler for
# aws-lc-rs, no linker) are skipped, and the summary says which and why.
#
# Usage: scripts/release.sh [--version X.Y.Z] [--dist DIR] [--binary PATH] [--no-verify]
#   --version   release version (default: the workspace version in Cargo.toml)
#   --dist      output directory (default: <repo>/dist; emptied first)
#   --binary    package this prebuilt binary for the host platform instead of building
#               (used by the tests with target/debug/terraform-provider-batch)
#   --no-verify skip the `terraform init` check of the mirror
# Environment: TERRAFORM (CLI for the check; default: terraform on PATH, else
# .tools/bin/terraform-1.15.5 from scripts/install-terraform.sh), CARGO_TARGET_DIR.
set -euo pipefail

CALLER_DIR="$PWD"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

say() { echo "release: $*"; }
die() {
  echo "release: ERROR: $*" >&2
  exit 1
}

VERSION=""
DIST="$REPO/dist"
BINARY=""
VERIFY=1
while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION="${2:?--version needs a value}"; shift 2 ;;
    --dist) DIST="${2:?--dist needs a directory}"; shift 2 ;;
    --binary) BINARY="${2:?--binary needs a path}"; shift 2 ;;
    --no-verify) VERIFY=0; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

# Relative paths are relative to where the script was started.
[[ "$DIST" == /* ]] || DIST="$CALLER_DIR/$DIST"
[ -z "$BINARY" ] || [[ "$BINARY" == /* ]] || BINARY="$CALLER_DIR/$BINARY"

if [ -z "$VERSION" ]; then
  # The `version = "..."` line of [workspace.package] in the root Cargo.toml.
  VERSION="$(awk '/^\[workspace\.package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{gsub(/[" ]/, "", $0); sub(/^version=/, "", $0); print; exit}' Cargo.toml)"
fi
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] || die "version '$VERSION' is not semantic (X.Y.Z)"
command -v python3 >/dev/null 2>&1 || die "python3 is needed to write the zip archives"

NAME=terraform-provider-batch
ADDRESS=registry.terraform.io/local/batch
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"

# Rust target triple -> Terraform platform.
platform_of() {
  case "$1" in
    x86_64-unknown-linux-gnu | x86_64-unknown-linux-musl) echo linux_amd64 ;;
    aarch64-unknown-linux-gnu | aarch64-unknown-linux-musl) echo linux_arm64 ;;
    i686-unknown-linux-gnu | i686-unknown-linux-musl) echo linux_386 ;;
    armv7-unknown-linux-gnueabihf | armv7-unknown-linux-musleabihf) echo linux_arm ;;
    x86_64-apple-darwin) echo darwin_amd64 ;;
    aarch64-apple-darwin) echo darwin_arm64 ;;
    x86_64-pc-windows-gnu | x86_64-pc-windows-msvc) echo windows_amd64 ;;
    aarch64-pc-windows-msvc) echo windows_arm64 ;;
    x86_64-unknown-freebsd) echo freebsd_amd64 ;;
    *) echo "" ;;
  esac
}

host_triple() { rustc -vV 2>/dev/null | sed -n 's/^host: //p'; }
host_platform() {
  local os arch
  os="$(uname -s | tr '[:upper:]' '[:lower:]')"
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    i?86) arch=386 ;;
    armv7*) arch=arm ;;
    *) arch="$(uname -m)" ;;
  esac
  echo "${os}_${arch}"
}

case "$(cd "$(dirname "$DIST")" 2>/dev/null && pwd)/$(basename "$DIST")" in
  / | /. | "$REPO" | "$REPO/." | "${HOME:-/}" | "${HOME:-/}/.") die "refusing to use $DIST as the output directory (it is emptied first)" ;;
esac
rm -rf "$DIST"
mkdir -p "$DIST"
DIST="$(cd "$DIST" && pwd)"

declare -a BUILT=() SKIPPED=()
declare -A BIN_OF=()

if [ -n "$BINARY" ]; then
  [ -x "$BINARY" ] || die "--binary $BINARY is not an executable file"
  plat="$(host_platform)"
  BIN_OF[$plat]="$BINARY"
  BUILT+=("$plat (prebuilt $BINARY)")
else
  command -v cargo >/dev/null 2>&1 || die "cargo not found (install Rust from https://rustup.rs)"
  host="$(host_triple)"
  [ -n "$host" ] || die "rustc -vV did not print the host triple"
  triples=("$host")
  if command -v rustup >/dev/null 2>&1; then
    while read -r t; do
      [ -n "$t" ] && [ "$t" != "$host" ] && triples+=("$t")
    done < <(rustup target list --installed 2>/dev/null)
  fi
  # Platforms HashiCorp publishes for most providers; the ones we cannot build are reported.
  for want in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-gnu; do
    found=0
    for t in "${triples[@]}"; do [ "$t" = "$want" ] && found=1; done
    [ $found = 1 ] || SKIPPED+=("$(platform_of "$want") ($want: Rust target not installed; \`rustup target add $want\` needs network access)")
  done
  declare -A seen=()
  for t in "${triples[@]}"; do
    plat="$(platform_of "$t")"
    if [ -z "$plat" ]; then
      SKIPPED+=("$t (no Terraform platform for this target)")
      continue
    fi
    [ -z "${seen[$plat]:-}" ] || continue
    seen[$plat]=1
    exe=""
    [[ "$plat" == windows_* ]] && exe=".exe"
    if [ "$t" = "$host" ]; then
      say "building $NAME $VERSION for $plat (cargo build --release)"
      args=(build --release -p terraform-provider-batch --bin "$NAME")
      out="$TARGET_DIR/release/$NAME$exe"
    else
      say "building $NAME $VERSION for $plat (cargo build --release --target $t)"
      args=(build --release -p terraform-provider-batch --bin "$NAME" --target "$t")
      out="$TARGET_DIR/$t/release/$NAME$exe"
    fi
    log="$DIST/.build-$plat.log"
    if cargo "${args[@]}" >"$log" 2>&1 && [ -f "$out" ]; then
      BIN_OF[$plat]="$out"
      BUILT+=("$plat")
      rm -f "$log"
    else
      [ "$t" = "$host" ] && { tail -n 30 "$log" >&2; die "the host build failed (log: $log)"; }
      SKIPPED+=("$plat ($t: cross build failed, see $log: $(grep -m1 -E '^error' "$log" || tail -n1 "$log"))")
    fi
  done
fi

# Zips with fixed timestamps and modes: the same binary always gives the same archive and hash.
pack() { # pack <zip> <file> <name in zip>
  python3 - "$1" "$2" "$3" <<'PY'
import sys, zipfile
zip_path, src, arcname = sys.argv[1:4]
info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = (0o100755 << 16)
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(zip_path, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
PY
}

manifest='{"version":1,"metadata":{"protocol_versions":["6.0"]}}'
printf '%s\n' "$manifest" >"$DIST/${NAME}_${VERSION}_manifest.json"
# The repository's copy, read by the Registry when publishing (only for releases into dist/).
[ "$DIST" = "$REPO/dist" ] && printf '%s\n' "$manifest" >"$REPO/terraform-registry-manifest.json"

for plat in $(printf '%s\n' "${!BIN_OF[@]}" | sort); do
  exe=""
  [[ "$plat" == windows_* ]] && exe=".exe"
  bin_name="${NAME}_v${VERSION}${exe}"
  zip="$DIST/${NAME}_${VERSION}_${plat}.zip"
  pack "$zip" "${BIN_OF[$plat]}" "$bin_name"
  mdir="$DIST/mirror/$ADDRESS/$VERSION/$plat"
  mkdir -p "$mdir"
  cp "${BIN_OF[$plat]}" "$mdir/$bin_name"
  chmod 0755 "$mdir/$bin_name"
  say "packed $(basename "$zip")"
done

(cd "$DIST" && sha256sum ./*.zip "${NAME}_${VERSION}_manifest.json" | sed 's#  \./#  #' >"${NAME}_${VERSION}_SHA256SUMS")
if [ -n "${RELEASE_GPG_KEY:-}" ]; then
  gpg --batch --yes --local-user "$RELEASE_GPG_KEY" --detach-sign \
    --output "$DIST/${NAME}_${VERSION}_SHA256SUMS.sig" "$DIST/${NAME}_${VERSION}_SHA256SUMS"
  say "signed SHA256SUMS with $RELEASE_GPG_KEY"
fi

if [ "$VERIFY" = 1 ]; then
  plat="$(host_platform)"
  if [ -z "${BIN_OF[$plat]:-}" ]; then
    say "skipping the terraform init check: nothing was built for this machine's platform ($plat)"
  else
    tf="${TERRAFORM:-}"
    if [ -z "$tf" ]; then
      if command -v terraform >/dev/null 2>&1; then
        tf=terraform
      elif [ -x "$REPO/.tools/bin/terraform-1.15.5" ]; then
        tf="$REPO/.tools/bin/terraform-1.15.5"
      fi
    fi
    [ -n "$tf" ] || die "no terraform to check the mirror with (put one on PATH, run scripts/install-terraform.sh, or pass --no-verify)"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    cat >"$work/cli.tfrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$DIST/mirror"
    include = ["registry.terraform.io/local/*"]
  }
  direct {
    exclude = ["registry.terraform.io/local/*"]
  }
}
EOF
    cat >"$work/main.tf" <<EOF
terraform {
  required_providers {
    batch = {
      source  = "local/batch"
      version = "$VERSION"
    }
  }
}
EOF
    say "checking: terraform init from $DIST/mirror ($("$tf" version 2>/dev/null | head -n1))"
    if ! (cd "$work" && env -u TF_CLI_ARGS -u TF_CLI_ARGS_init TF_CLI_CONFIG_FILE="$work/cli.tfrc" CHECKPOINT_DISABLE=1 \
      "$tf" init -input=false -no-color >"$work/init.log" 2>&1); then
      cat "$work/init.log" >&2
      die "terraform init from the mirror failed"
    fi
    grep -q "Installed local/batch v$VERSION" "$work/init.log" ||
      { cat "$work/init.log" >&2; die "terraform init did not report installing local/batch v$VERSION"; }
    grep -q "provider \"$ADDRESS\"" "$work/.terraform.lock.hcl" ||
      die "the dependency lock file does not list $ADDRESS"
    # `providers` runs the plugin: this proves the installed binary starts and speaks protocol 6.
    if ! (cd "$work" && TF_CLI_CONFIG_FILE="$work/cli.tfrc" CHECKPOINT_DISABLE=1 "$tf" providers schema -json >"$work/schema.json" 2>"$work/schema.err"); then
      cat "$work/schema.err" >&2
      die "terraform could not load the installed provider's schema"
    fi
    grep -q '"batch_container_pool"' "$work/schema.json" || die "the installed provider's schema has no batch_container_pool"
    say "checked: terraform init installed local/batch v$VERSION from the mirror and loaded its schema"
  fi
fi

echo
say "version $VERSION in $DIST:"
(cd "$DIST" && ls -1 ./*.zip ./*_SHA256SUMS* ./*_manifest.json 2>/dev/null | sed 's#^\./#  #')
say "mirror: $DIST/mirror ($ADDRESS)"
say "built: ${BUILT[*]:-nothing}"
if [ "${#SKIPPED[@]}" -gt 0 ]; then
  say "skipped:"
  printf '  %s\n' "${SKIPPED[@]}"
fi
