#!/usr/bin/env bash
# Installs what the tests need, only when missing: Debian's Chromium and
# chromedriver, poppler-utils (pdftotext), java, postgresql, python3-aiosmtpd
# (a real SMTP server for the mail tests), (with npm)
# axe-core and the Nu HTML checker (vnu, run with java), and (with cargo)
# mdbook, which builds the book in docs/.
# Starts the PostgreSQL server tests/receive.rs and tests/browser.rs store into
# (Debian's postgresql; a throwaway cluster on 127.0.0.1:54329) when it is not running.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

# Debian's packages, in one apt-get run: Chromium and its driver for the
# browser tests, pdftotext to read back the pages they print to PDF, java for
# the Nu HTML checker, PostgreSQL for receive's tests, and minisign to check
# the publication log's signature with the reference tool.
packages=()
[[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] || packages+=(chromium chromium-driver)
command -v pdftotext >/dev/null || packages+=(poppler-utils)
command -v java >/dev/null || packages+=(default-jre-headless)
[[ -n "$(pg_bin)" ]] || packages+=(postgresql)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || packages+=(python3-aiosmtpd)
command -v minisign >/dev/null || packages+=(minisign)
if (( ${#packages[@]} )); then
  $sudo apt-get update
  $sudo apt-get install -y "${packages[@]}"
fi

if [[ ! -f "$here/browser/node_modules/axe-core/axe.min.js" || ! -f "$here/browser/node_modules/vnu-jar/build/dist/vnu.jar" ]]; then
  command -v npm >/dev/null || { echo "setup: npm is missing; install Node.js and npm first" >&2; exit 1; }
  npm install --no-audit --no-fund --prefix "$here/browser"
fi

# mdbook builds the book in docs/ (tests/build/book.rs); cargo installs it
# into $CARGO_HOME/bin (~/.cargo/bin), which need not be on PATH.
PATH="$PATH:${CARGO_HOME:-$HOME/.cargo}/bin"
if ! command -v mdbook >/dev/null; then
  cargo install --locked mdbook
fi

pg_port=54329
bin="$(pg_bin)"
if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; then
  data=/var/tmp/policy-site-pg
  as=()
  if [[ $(id -u) -eq 0 ]]; then as=(runuser -u postgres --); fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    mkdir -p "$data"
    if [[ $(id -u) -eq 0 ]]; then chown postgres "$data"; fi
    "${as[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust >/dev/null
  fi
  "${as[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
fi

missing=()
[[ -x /usr/bin/chromium ]] || missing+=("/usr/bin/chromium (apt package chromium)")
[[ -x /usr/bin/chromedriver ]] || missing+=("/usr/bin/chromedriver (apt package chromium-driver)")
[[ -f "$here/browser/node_modules/axe-core/axe.min.js" ]] || missing+=("axe-core (npm, tests/browser)")
[[ -f "$here/browser/node_modules/vnu-jar/build/dist/vnu.jar" ]] || missing+=("vnu-jar (npm, tests/browser)")
command -v pdftotext >/dev/null || missing+=("pdftotext (apt package poppler-utils)")
command -v java >/dev/null || missing+=("java (needed by vnu; apt package default-jre-headless)")
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=("aiosmtpd, the SMTP server receive's mail tests send to (apt package python3-aiosmtpd)")
command -v mdbook >/dev/null || missing+=("mdbook (cargo install --locked mdbook)")
command -v minisign >/dev/null || missing+=("minisign (apt package minisign)")
"$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" || missing+=("PostgreSQL on 127.0.0.1:$pg_port (apt package postgresql)")
if (( ${#missing[@]} )); then
  printf 'setup: still missing after setup:\n' >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi
echo "setup: chromium, chromedriver, pdftotext, axe-core, vnu, java, mdbook, aiosmtpd, minisign and PostgreSQL (127.0.0.1:$pg_port) are ready"
