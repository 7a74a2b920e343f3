#!/usr/bin/env bash
# The container's health check: asks the receiver on 127.0.0.1:${PORT:-8787}
# for GET /health, which answers 200 once a record could be kept now (its
# writer has queried the database) and 503 with the reason when not. Needs
# nothing but bash (no curl in the image).
set -euo pipefail

port="${1:-${PORT:-8787}}"
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
IFS= read -r -t 5 status <&3
exec 3>&-
if [[ "$status" != "HTTP/1.1 200"* ]]; then
  echo "healthcheck: the receiver on port $port answered '${status%$'\r'}', not 200" >&2
  exit 1
fi
