#!/usr/bin/env bash
# End-to-end checks of a running stack: server healthy, connections and subscriptions visible in
# the monitoring endpoint, messages flowing (events publisher -> subscriber, payments -> logger),
# JSON logs with latency fields, and the services' /metrics and /readyz.
#
#   tests/integration_test.sh            the embedded stack: starts nats-server and the services
#                                        on free loopback ports (no Docker), stops them at the end
#   tests/integration_test.sh compose    the compose stack in deploy/ (needs Docker), torn down
#                                        at the end
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-embedded}"
if [[ "$MODE" == compose ]]; then
  # The stack refuses to start without credentials (deploy/docker-compose.yml): throwaway ones.
  export NATS_USER="${NATS_USER:-integration}"
  export NATS_PASSWORD="${NATS_PASSWORD:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}"
  export GRAFANA_ADMIN_PASSWORD="${GRAFANA_ADMIN_PASSWORD:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}"
fi
PY="${PYTHON:-.venv/bin/python}"
WORK="$(mktemp -d)"
PIDS=()
FAILED=0

pass() { echo "PASS  $*"; }
fail() { echo "FAIL  $*"; FAILED=1; }

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ "$MODE" == compose ]]; then
    docker compose -f deploy/docker-compose.yml --profile payments down -v >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# http_get URL -> body on stdout; exit 1 unless the status is 200
http_get() {
  "$PY" - "$1" <<'EOF'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        sys.stdout.write(r.read().decode())
except Exception as exc:
    print(exc, file=sys.stderr)
    sys.exit(1)
EOF
}

# json_field FIELD_EXPR < json -> the value of a Python expression over `d`
json_eval() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# count_records FILE MESSAGE [FIELD] -> records with that message (and the field present)
count_records() {
  "$PY" - "$1" "$2" "${3:-}" <<'EOF'
import json, sys
path, message, field = sys.argv[1:4]
n = 0
for line in open(path, encoding="utf-8", errors="replace"):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if isinstance(r, dict) and r.get("message") == message and (not field or field in r):
        n += 1
print(n)
EOF
}

# wait_until SECONDS COMMAND... -> polls COMMAND every half second
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < deadline )) || return 1
    sleep 0.5
  done
}

free_port() { "$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }

at_least() { [[ "$(count_records "$1" "$2" "${4:-}")" -ge "$3" ]]; }

if [[ "$MODE" == compose ]]; then
  command -v docker >/dev/null || { echo "docker not found: run without 'compose'"; exit 2; }
  docker compose -f deploy/docker-compose.yml --profile payments up -d --build --wait
  MONITOR="http://127.0.0.1:8222"
  compose_logs() {
    for svc in publisher subscriber payment-publisher message-logger; do
      docker compose -f deploy/docker-compose.yml logs --no-log-prefix "$svc" >"$WORK/$svc.log"
    done
    at_least "$WORK/subscriber.log" "Message received" 3 &&
      at_least "$WORK/message-logger.log" "Message captured" 1
  }
  wait_until 120 compose_logs || true  # the checks below say what is missing
  METRICS_SUB=""
else
  NATS_PORT=$(free_port); HTTP_PORT=$(free_port); SUB_METRICS=$(free_port); PUB_METRICS=$(free_port)
  URL="nats://127.0.0.1:$NATS_PORT"
  CLI=("$PY" -m nats_pubsub)
  export LOG_FORMAT=json METRICS_HOST=127.0.0.1
  "${CLI[@]}" server --port "$NATS_PORT" --http-port "$HTTP_PORT" --store-dir "$WORK/store" \
    >"$WORK/server.log" 2>&1 & PIDS+=($!)
  MONITOR="http://127.0.0.1:$HTTP_PORT"
  wait_until 30 http_get "$MONITOR/healthz" || { cat "$WORK/server.log"; exit 1; }
  METRICS_PORT=$SUB_METRICS "${CLI[@]}" subscribe --url "$URL" --queue-group workers \
    >"$WORK/subscriber.log" 2>&1 & PIDS+=($!)
  "${CLI[@]}" monitor --url "$URL" --subject 'payments.>' >"$WORK/message-logger.log" 2>&1 &
  PIDS+=($!)
  wait_until 30 at_least "$WORK/subscriber.log" Subscribed 1
  wait_until 30 at_least "$WORK/message-logger.log" Subscribed 1
  METRICS_PORT=$PUB_METRICS "${CLI[@]}" publish --url "$URL" --interval 0.1 \
    >"$WORK/publisher.log" 2>&1 & PIDS+=($!)
  "${CLI[@]}" payments --url "$URL" --interval 0.1 --decline-rate 0.3 \
    >"$WORK/payment-publisher.log" 2>&1 & PIDS+=($!)
  wait_until 60 at_least "$WORK/subscriber.log" "Message received" 10
  wait_until 60 at_least "$WORK/message-logger.log" "Message captured" 10
  METRICS_SUB="http://127.0.0.1:$SUB_METRICS"
fi

# 1. the server is healthy, with JetStream
if http_get "$MONITOR/healthz?js-enabled-only=true" | grep -q '"ok"'; then
  pass "nats-server healthy"
else fail "nats-server /healthz"; fi

# 2. our connections and subscriptions are visible in the monitoring endpoint
names=$(http_get "$MONITOR/connz" | json_eval "' '.join(sorted(c.get('name','') for c in d['connections']))")
for prefix in publisher- subscriber- payments- monitor-; do
  if [[ " $names" == *" $prefix"* ]]; then pass "connz lists a $prefix connection"
  else fail "connz has no $prefix connection (saw: $names)"; fi
done
subs=$(http_get "$MONITOR/subsz" | json_eval "d['num_subscriptions']")
if [[ "$subs" -ge 2 ]]; then pass "subsz: $subs subscriptions"; else fail "subsz: $subs"; fi

# 3. messages flow both ways: events to the subscriber, payments to the logger
for check in "publisher Message_published" "subscriber Message_received" \
             "payment-publisher Credit_card_accepted" "message-logger Message_captured"; do
  set -- $check
  n=$(count_records "$WORK/$1.log" "${2//_/ }")
  if [[ "$n" -gt 0 ]]; then pass "$1: $n '${2//_/ }' records"; else fail "$1: no '${2//_/ }'"; fi
done

# 4. every line is a JSON record with the documented head fields
bad=$("$PY" - "$WORK"/publisher.log "$WORK"/subscriber.log <<'EOF'
import json, sys
bad = 0
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8", errors="replace"):
        try:
            r = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if not {"timestamp", "level", "logger", "message"} <= set(r):
            bad += 1
print(bad)
EOF
)
if [[ "$bad" -eq 0 ]]; then pass "all log lines are JSON records"; else fail "$bad non-JSON lines"; fi

# 5. latency fields on received messages
n=$(count_records "$WORK/subscriber.log" "Message received" latency_ms)
if [[ "$n" -gt 0 ]]; then pass "latency_ms on $n received records"; else fail "no latency_ms"; fi

# 6. metrics and readiness (embedded stack; in compose they are checked by the health checks)
if [[ -n "$METRICS_SUB" ]]; then
  if http_get "$METRICS_SUB/metrics" | grep -q '^nats_pubsub_received_messages_total{service="subscriber",status="valid"} [1-9]'; then
    pass "subscriber /metrics counts received messages"
  else fail "subscriber /metrics"; fi
  if http_get "$METRICS_SUB/metrics" | grep -q '^nats_pubsub_message_latency_seconds_count'; then
    pass "latency histogram exposed"
  else fail "latency histogram missing"; fi
  if "$PY" -m nats_pubsub health --url "$METRICS_SUB"; then pass "nats-pubsub health: ready"
  else fail "nats-pubsub health"; fi
fi

if [[ "$FAILED" -ne 0 ]]; then
  echo "Integration checks failed; logs in $WORK were:"; tail -n 5 "$WORK"/*.log
  exit 1
fi
echo "All integration checks passed."
