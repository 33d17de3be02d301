#!/usr/bin/env bash
# Smoke test of the built jar exactly as a newcomer runs it: start it with no setup, check health, mint a token,
# stop it with SIGTERM. Ports are moved off the defaults so it can run beside a developer's own server.
set -euo pipefail
cd "$(dirname "$0")/.."
jar=launcher/target/switchboard.jar
[ -f "$jar" ] || { echo "smoke: $jar missing; build first (mvn -B verify)"; exit 1; }
dir=$(mktemp -d)
export SWITCHBOARD_GATEWAY_PORT=${SMOKE_GATEWAY_PORT:-18080}
export SWITCHBOARD_AUTH_PORT=${SMOKE_AUTH_PORT:-18081}
export SWITCHBOARD_OPERATIONS_PORT=${SMOKE_OPERATIONS_PORT:-19090}
export SWITCHBOARD_ADMIN_KEY=smoke-admin-key
java -jar "$jar" >"$dir/out.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$SWITCHBOARD_OPERATIONS_PORT/health/ready" >/dev/null 2>&1; then break; fi
  kill -0 $pid 2>/dev/null || { cat "$dir/out.log"; echo "smoke: server exited"; exit 1; }
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$SWITCHBOARD_OPERATIONS_PORT/health/ready" >/dev/null
token=$(curl -fsS -X POST "http://127.0.0.1:$SWITCHBOARD_AUTH_PORT/v1/tokens" -H "x-api-key: $SWITCHBOARD_ADMIN_KEY" \
  -H 'content-type: application/json' \
  -d '{"subject":"smoke","grants":[{"channel":"*","capabilities":["subscribe","publish","presence","history"]}]}')
echo "$token" | grep -q '"token"' || { echo "smoke: no token in $token"; exit 1; }
curl -fsS "http://127.0.0.1:$SWITCHBOARD_AUTH_PORT/.well-known/jwks.json" | grep -q '"kty"'
curl -fsS "http://127.0.0.1:$SWITCHBOARD_OPERATIONS_PORT/metrics" | grep -q '^jvm_'
kill -TERM $pid
for _ in $(seq 1 60); do kill -0 $pid 2>/dev/null || break; sleep 0.5; done
if kill -0 $pid 2>/dev/null; then echo "smoke: server did not stop on SIGTERM"; exit 1; fi
echo "smoke: ok (started, ready, minted a token, served JWKS and metrics, stopped on SIGTERM)"
