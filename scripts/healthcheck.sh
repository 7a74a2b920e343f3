#!/usr/bin/env bash
# The container's health check: asks the receiver on 127.0.0.1:${PORT:-8787}
# for GET /requests, which it answers 405 (only POST is allowed) when it is up.
# receive has no health route of its own; this uses a route it has, and needs
# nothing but bash (no curl in the image).
set -euo pipefail

port="${1:-${PORT:-8787}}"
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /requests HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
IFS= read -r -t 5 status <&3
exec 3>&-
if [[ "$status" != "HTTP/1.1 405"* ]]; then
  echo "healthcheck: the receiver on port $port answered '${status%$'\r'}', not 405" >&2
  exit 1
fi
