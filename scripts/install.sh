#!/usr/bin/env bash
# Installs a released policy-site binary after checking it against the
# release's SHA256SUMS. The GitHub Action (action.yml) runs it; so do the
# tests, against a release-shaped folder made by scripts/dist.sh.
#
#   scripts/install.sh [--version V] [--target T] [--dir DIR] [--base-url URL]
#                      [--repository OWNER/NAME] [--from-source]
#   scripts/install.sh --print-target      this machine's target triple
#   scripts/install.sh --print-version     the version V names ("latest" resolved)
#   scripts/install.sh --plan              version=, target=, dir= and cache-key= lines
#                                          for the action's $GITHUB_OUTPUT
#
# Each option may come from the environment instead:
#   POLICY_SITE_VERSION     1.2.3, v1.2.3 or latest (default: POLICY_SITE_ACTION_REF
#                           when that is a full version tag such as v1.2.3, else latest)
#   POLICY_SITE_TARGET      a target triple (default: this machine's)
#   POLICY_SITE_DIR         the folder the binary goes into (default: ~/.local/bin)
#   POLICY_SITE_BASE_URL    the folder holding the release's files: an https://,
#                           http:// or file:// URL, or a path (default: the GitHub
#                           release of POLICY_SITE_REPOSITORY)
#   POLICY_SITE_REPOSITORY  owner/name of the repository whose releases to use
#                           (default: the action's own, else GITHUB_REPOSITORY)
# --from-source builds the source this script sits in with `cargo install --locked`.
# Otherwise it needs nothing beside it (bash, curl or wget, tar or unzip, and
# sha256sum or shasum), so it also works fetched on its own.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

fail() {
  if [[ "${GITHUB_ACTIONS:-}" == "true" ]]; then
    echo "::error title=policy-site install::$*"
  fi
  echo "install.sh: error: $*" >&2
  exit 1
}
say() { echo "install.sh: $*" >&2; }

version="${POLICY_SITE_VERSION:-}"
target="${POLICY_SITE_TARGET:-}"
dir="${POLICY_SITE_DIR:-}"
base_url="${POLICY_SITE_BASE_URL:-}"
repository="${POLICY_SITE_REPOSITORY:-}"
from_source=false
mode=install

while (( $# )); do
  case "$1" in
    --version) version="${2:?--version needs a value}"; shift ;;
    --target) target="${2:?--target needs a value}"; shift ;;
    --dir) dir="${2:?--dir needs a value}"; shift ;;
    --base-url) base_url="${2:?--base-url needs a value}"; shift ;;
    --repository) repository="${2:?--repository needs a value}"; shift ;;
    --from-source) from_source=true ;;
    --print-target) mode=print-target ;;
    --print-version) mode=print-version ;;
    --plan) mode=plan ;;
    -h | --help) sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

# Run as the action (owner/policy-site@ref), its folder names its repository
# and ref: github.action_repository and action_ref are not promised to
# composite actions' steps.
action_path="${GITHUB_ACTION_PATH:-}"
action_path="${action_path//\\//}"
if [[ "$action_path" =~ /_actions/([^/]+)/([^/]+)/([^/]+)/?$ ]]; then
  [[ -n "$repository" ]] || repository="${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"
  [[ -n "${POLICY_SITE_ACTION_REF:-}" ]] || POLICY_SITE_ACTION_REF="${BASH_REMATCH[3]}"
fi
[[ -n "$repository" ]] || repository="${GITHUB_REPOSITORY:-}"

# The action used at a full version tag installs that version by default.
if [[ -z "$version" ]]; then
  version=latest
  if [[ "${POLICY_SITE_ACTION_REF:-}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
    version="$POLICY_SITE_ACTION_REF"
  fi
fi
version="${version#v}"
[[ "$version" == latest || "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] \
  || fail "'$version' is neither a version such as 1.2.3 nor latest"

# The release's target for this machine: Linux builds are static (musl).
host_target() {
  local arch os
  case "$(uname -m)" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) fail "no prebuilt policy-site for the $(uname -m) processor: install from source (from-source: true)" ;;
  esac
  case "$(uname -s)" in
    Linux) os=unknown-linux-musl ;;
    Darwin) os=apple-darwin ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT) os=pc-windows-msvc ;;
    *) fail "no prebuilt policy-site for $(uname -s): install from source (from-source: true)" ;;
  esac
  echo "$arch-$os"
}
[[ -n "$target" ]] || target="$(host_target)"

if [[ "$mode" == print-target ]]; then
  echo "$target"
  exit 0
fi

sha256() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

exe=""
suffix=".tar.gz"
if [[ "$target" == *-windows-* ]]; then
  exe=".exe"
  suffix=".zip"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# What the action caches under: the version and target, or (from source) a
# digest of everything the binary is built from.
plan() {
  local key="$1"
  echo "version=$version"
  echo "target=$target"
  echo "dir=${dir:-${RUNNER_TOOL_CACHE:-${TMPDIR:-/tmp}}/policy-site/$key}"
  echo "cache-key=$key"
}

if $from_source; then
  [[ -f "$root/Cargo.toml" ]] || fail "no Cargo.toml in $root to build from"
  source_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)"
  if [[ "$version" != latest && "$version" != "$source_version" ]]; then
    say "warning: asked for $version, building the source at hand ($source_version)"
  fi
  version="$source_version"
  case "$mode" in
    print-version) echo "$version"; exit 0 ;;
    plan)
      (
        cd "$root"
        for path in Cargo.toml Cargo.lock src static templates; do
          if [[ -e "$path" ]]; then find "$path" -type f; fi
        done | LC_ALL=C sort | while IFS= read -r file; do
          printf '%s  %s\n' "$(sha256 "$file")" "$file"
        done
      ) > "$work/sources"
      plan "policy-site-source-$target-$(sha256 "$work/sources" | cut -c1-16)"
      exit 0
      ;;
  esac
  command -v cargo >/dev/null || fail "from source needs cargo (https://rustup.rs)"
  cargo install --locked --path "$root" --root "$work/build" >&2
  dir="${dir:-$HOME/.local/bin}"
  mkdir -p "$dir"
  mv "$work/build/bin/policy-site$exe" "$dir/policy-site$exe"
  say "built policy-site $version from $root into $dir/policy-site$exe"
  exit 0
fi

# A release from elsewhere than GitHub is cached apart from GitHub's.
source_tag=""
if [[ -n "$base_url" ]]; then
  printf '%s' "${base_url%/}" > "$work/base-url"
  source_tag="-$(sha256 "$work/base-url" | cut -c1-12)"
fi
if [[ -z "$base_url" ]]; then
  [[ "$repository" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] \
    || fail "say where the releases are: --repository OWNER/NAME or --base-url URL"
  if [[ "$version" == latest ]]; then
    base_url="https://github.com/$repository/releases/latest/download"
  else
    base_url="https://github.com/$repository/releases/download/v$version"
  fi
fi
base_url="${base_url%/}"

# Copies one file of the release into $2.
fetch() {
  local url="$1" dest="$2"
  case "$url" in
    http://* | https://*)
      if command -v curl >/dev/null; then
        curl --proto '=https,http' --fail --silent --show-error --location --retry 3 --output "$dest" "$url"
      else
        wget --quiet --output-document "$dest" "$url"
      fi
      ;;
    file://*) cp -- "${url#file://}" "$dest" ;;
    *) cp -- "$url" "$dest" ;;
  esac
}

fetch "$base_url/SHA256SUMS" "$work/SHA256SUMS" 2>"$work/fetch.log" \
  || fail "cannot download $base_url/SHA256SUMS: $(head -c 300 "$work/fetch.log") (is there a release $version?)"

if [[ "$version" == latest ]]; then
  archive="$(awk -v suffix="-$target$suffix" \
    'substr($2, 1, 12) == "policy-site-" && substr($2, length($2) - length(suffix) + 1) == suffix { print $2 }' \
    "$work/SHA256SUMS" | head -n 1)"
  [[ -n "$archive" ]] || fail "$base_url/SHA256SUMS lists no archive for $target: install from source (from-source: true)"
  version="${archive#policy-site-}"
  version="${version%"-$target$suffix"}"
else
  archive="policy-site-$version-$target$suffix"
fi
case "$mode" in
  print-version) echo "$version"; exit 0 ;;
  plan) plan "policy-site-$version-$target$source_tag"; exit 0 ;;
esac

expected="$(awk -v archive="$archive" '$2 == archive { print $1 }' "$work/SHA256SUMS" | head -n 1)"
[[ -n "$expected" ]] \
  || fail "$base_url/SHA256SUMS lists no $archive: no prebuilt binary for $target in release $version (install from source: from-source: true)"

fetch "$base_url/$archive" "$work/$archive" 2>"$work/fetch.log" \
  || fail "cannot download $base_url/$archive: $(head -c 300 "$work/fetch.log")"
actual="$(sha256 "$work/$archive")"
if [[ "$actual" != "$expected" ]]; then
  fail "checksum mismatch for $archive: SHA256SUMS says $expected, the download has $actual; refusing to install it (a damaged download, or an archive changed after its release)"
fi

mkdir "$work/unpacked"
if [[ "$suffix" == .zip ]]; then
  if command -v unzip >/dev/null; then
    unzip -q "$work/$archive" -d "$work/unpacked"
  else
    # 7-Zip is a Windows program: its -o folder is not converted by Git Bash.
    unpacked="$work/unpacked"
    if command -v cygpath >/dev/null; then unpacked="$(cygpath -w "$unpacked")"; fi
    7z x -y -o"$unpacked" "$work/$archive" >/dev/null
  fi
else
  tar -xzf "$work/$archive" -C "$work/unpacked"
fi
binary="$work/unpacked/${archive%"$suffix"}/policy-site$exe"
[[ -f "$binary" ]] || fail "$archive holds no ${archive%"$suffix"}/policy-site$exe"

dir="${dir:-$HOME/.local/bin}"
mkdir -p "$dir"
# Copied beside its place and renamed, so a running policy-site is never half-written.
cp "$binary" "$dir/.policy-site$exe.new"
chmod 755 "$dir/.policy-site$exe.new"
mv "$dir/.policy-site$exe.new" "$dir/policy-site$exe"
say "installed policy-site $version ($target, checksum verified) into $dir/policy-site$exe"
