#!/usr/bin/env bash
# Tries `policy-site import` on a real policy history as a new user would:
# imports it into a fresh site, runs `check`, `lock`, `check` again and
# `build`, then crawls every page for broken links and anchors and compares
# each redline's word counts with an independent word diff of the two
# versions' text (scripts/measure-site.py; needs python3).
#
#   scripts/trial-history.sh NAME REPO [IMPORT ARGS…]
#   e.g. scripts/trial-history.sh terms /tmp/site-policy \
#          --file Policies/github-terms/github-terms-of-service.md --policy terms
#
# POLICY_SITE_BIN names the binary (default: this checkout's release build).
set -u
cd "$(dirname "$0")/.."
bin=${POLICY_SITE_BIN:-$PWD/${CARGO_TARGET_DIR:-target}/release/policy-site}
name=$1
repo=$2
shift 2
site=$(mktemp -d)/$name
echo "== $name: policy-site import $repo $*"
/usr/bin/time -f 'import: %e s wall, %M KB' "$bin" import "$repo" "$@" --root "$site" 2>&1 | grep -v '^Review'
echo -n "check before lock: "
"$bin" check --root "$site" --format json | python3 -c "import json,sys; print(len(json.load(sys.stdin)), 'findings')"
"$bin" lock --root "$site" | tail -1
echo -n "check after lock: "
"$bin" check --root "$site" | tail -2 | tr '\n' ' '
echo "(exit ${PIPESTATUS[0]})"
/usr/bin/time -f 'build: %e s wall, %M KB' "$bin" build --root "$site" --quiet
base=$(sed -n 's#^base_url: *https\?://[^/]*##p' "$site/policy-site.yaml")
python3 scripts/measure-site.py "$site/public" "${base:-/}"
echo "site left in $site"
