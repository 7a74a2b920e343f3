#!/usr/bin/env bash
# Installs what tests/browser.rs needs, only when missing: Debian's Chromium and
# chromedriver, poppler-utils (pdftotext), and (with npm) axe-core and the Nu
# HTML checker (vnu, run with java).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update
  $sudo apt-get install -y chromium chromium-driver
fi

# pdftotext reads back the pages the print tests save as PDF.
if ! command -v pdftotext >/dev/null; then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update
  $sudo apt-get install -y poppler-utils
fi

if [[ ! -f "$here/browser/node_modules/axe-core/axe.min.js" || ! -f "$here/browser/node_modules/vnu-jar/build/dist/vnu.jar" ]]; then
  command -v npm >/dev/null || { echo "setup: npm is missing; install Node.js and npm first" >&2; exit 1; }
  npm install --no-audit --no-fund --prefix "$here/browser"
fi

missing=()
[[ -x /usr/bin/chromium ]] || missing+=("/usr/bin/chromium (apt package chromium)")
[[ -x /usr/bin/chromedriver ]] || missing+=("/usr/bin/chromedriver (apt package chromium-driver)")
[[ -f "$here/browser/node_modules/axe-core/axe.min.js" ]] || missing+=("axe-core (npm, tests/browser)")
[[ -f "$here/browser/node_modules/vnu-jar/build/dist/vnu.jar" ]] || missing+=("vnu-jar (npm, tests/browser)")
command -v pdftotext >/dev/null || missing+=("pdftotext (apt package poppler-utils)")
command -v java >/dev/null || missing+=("java (needed by vnu; apt package default-jre-headless)")
if (( ${#missing[@]} )); then
  printf 'setup: still missing after setup:\n' >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi
echo "setup: chromium, chromedriver, pdftotext, axe-core, vnu and java are ready"
