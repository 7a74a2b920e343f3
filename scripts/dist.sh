#!/usr/bin/env bash
# Packages one built policy-site binary as a release archive, the way the
# release workflow (.github/workflows/release.yml) and the tests do:
#
#   scripts/dist.sh BINARY VERSION TARGET [OUT_DIR]
#
# writes OUT_DIR/policy-site-VERSION-TARGET.tar.gz (.zip for a Windows
# target), holding one folder of that name with the binary, README.md,
# CHANGELOG.md and the licences, and appends the archive's SHA-256 to
# OUT_DIR/SHA256SUMS (replacing an earlier line for the same archive).
# OUT_DIR defaults to dist/. Prints the archive's path.
set -euo pipefail

usage() {
  echo "usage: scripts/dist.sh BINARY VERSION TARGET [OUT_DIR]" >&2
  exit 2
}
fail() {
  echo "dist.sh: error: $*" >&2
  exit 1
}

(( $# == 3 || $# == 4 )) || usage
binary="$1"
version="${2#v}"
target="$3"
out="${4:-dist}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

[[ -f "$binary" ]] || fail "no binary at $binary: build it first (cargo build --release --target $target)"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] \
  || fail "'$2' is not a semantic version such as 1.2.3"
[[ "$target" =~ ^[a-z0-9_]+-[a-z0-9_]+-[a-z0-9_]+(-[a-z0-9_]+)?$ ]] \
  || fail "'$target' is not a target triple such as x86_64-unknown-linux-musl"

sha256() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

name="policy-site-$version-$target"
exe=""
archive="$name.tar.gz"
if [[ "$target" == *-windows-* ]]; then
  exe=".exe"
  archive="$name.zip"
fi

mkdir -p "$out"
out="$(cd "$out" && pwd)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

mkdir "$stage/$name"
cp "$binary" "$stage/$name/policy-site$exe"
chmod 755 "$stage/$name/policy-site$exe"
for file in README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE; do
  [[ -f "$root/$file" ]] || fail "$file is missing from $root: every archive carries it"
  cp "$root/$file" "$stage/$name/"
done

rm -f "$out/$archive"
if [[ "$archive" == *.zip ]]; then
  if command -v zip >/dev/null; then
    (cd "$stage" && zip -qr "$out/$archive" "$name")
  else
    # Windows runners have 7-Zip but no zip.
    (cd "$stage" && 7z a -tzip "$out/$archive" "$name" >/dev/null)
  fi
else
  tar -C "$stage" -czf "$out/$archive" "$name"
fi

sums="$out/SHA256SUMS"
touch "$sums"
awk -v archive="$archive" '$2 != archive' "$sums" > "$sums.new"
printf '%s  %s\n' "$(sha256 "$out/$archive")" "$archive" >> "$sums.new"
mv "$sums.new" "$sums"
echo "$out/$archive"
