#!/usr/bin/env bash
# The baseline benchmark campaign behind docs/benchmarks.md: every scenario against Switchboard (memory and Redis
# engines, one JVM; the local cluster) and the baselines (raw Vert.x, Socket.IO), repeated, ratios in one run.
# Re-run it whenever the hot path changes:   deploy/loadtest/baseline.sh [results-dir]
# Takes 1.5–2 hours on 2 cores. Each run waits until other jobs on the machine are quiet (--quiet) and is repeated
# when they disturbed it. Set ONLY="fanout-1000 idle" to run some steps.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out=${1:-$here/results/baseline-$(date +%Y%m%d-%H%M)}
mkdir -p "$out"
# a private copy of the jar: a rebuild during the campaign must not change what is measured (kept when resuming)
[ -f "$out/switchboard.jar" ] || cp "$root/launcher/target/switchboard.jar" "$out/switchboard.jar"
lt() { echo "baseline: $(date -u +%FT%TZ) $*" >&2; "$here/loadtest" "$@" --switchboard-jar "$out/switchboard.jar" --quiet "${QUIET:-0.3}" --max-minutes 240; }
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }

# server CPU per 100k deliveries/s at a fixed rate, ~100-byte payloads
want fanout-1000 && lt compare fanout --engines memory,redis --subscribers 1000 --rate 100 --duration 20 --warmup 10 --repeat 3 --out "$out/fanout-1000"
want fanout-5000 && lt compare fanout --engines memory,redis --subscribers 5000 --rate 20 --duration 20 --warmup 10 --repeat 2 --out "$out/fanout-5000"
# maximum deliveries/s: a rate sweep; each server stops at its first saturated step
want sweep && lt compare fanout --subscribers 1000 --rate 50,100,150,200,300,400,600,800 --duration 10 --warmup 5 --repeat 2 --out "$out/sweep-1000"
# latency at half the raw baseline's maximum (HALF_RATE publishes/s: half the raw max of the sweep / 1000 subscribers)
want half && lt compare fanout --subscribers 1000 --rate "${HALF_RATE:-120}" --duration 20 --warmup 10 --repeat 2 --out "$out/half-raw-max"
# memory per idle connection with one subscription
want idle && lt compare idle --engines memory,redis --connections 10000 --repeat 2 --out "$out/idle"
want idle-presence && lt run idle --connections 10000 --presence --repeat 2 --out "$out/idle-presence"
# what Vert.x's per-connection queues cost: the raw server with HttpServerOptions.setStrictThreadMode(true)
want idle-strict && lt run idle --server raw --server-jvm-opts "-Draw.strictThreadMode=true" --connections 10000 --repeat 2 --out "$out/idle-raw-strict"
# connects/s with ES256 verification (one token per connection)
want connect-storm && lt compare connect-storm --connections 10000 --rounds 3 --out "$out/connect-storm"
# everyone drops and recovers
want reconnect-storm && lt compare reconnect-storm --engines memory,redis --connections 5000 --channels 50 --rate 200 --repeat 2 --out "$out/reconnect-storm"
# many channels, one subscriber each: stored publishes/s
want channels && lt compare channels --engines memory,redis --channels 10000 --rate 1000,2000,4000,8000,16000 --duration 10 --warmup 5 --repeat 2 --out "$out/channels"
# the local cluster (deploy/local/cluster, 2 gateways) against one JVM and the raw baseline
want cluster && lt compare fanout --servers cluster,switchboard,raw --subscribers 1000 --rate 100 --duration 20 --warmup 10 --repeat 2 --out "$out/cluster-fanout"
# Pusher protocol 7: Switchboard's /app/{key} (publishing through the signed HTTP API) against Soketi 1.6.1
want pusher && lt compare fanout --servers switchboard-pusher,soketi --subscribers 1000 --rate 20,100 --duration 15 --warmup 5 --repeat 3 --out "$out/pusher-fanout"
want pusher-idle && lt compare idle --servers switchboard-pusher,soketi --connections 5000 --repeat 2 --out "$out/pusher-idle"
echo "baseline: results in $out"
