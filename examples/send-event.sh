#!/usr/bin/env bash
# Send a signed Standard Webhooks event to a stride trigger and print the study it created.
#   STRIDE_URL, STRIDE_TRIGGER_ID, STRIDE_TRIGGER_SECRET (whsec_...) in the environment;
#   the event's data (JSON) as $1, its type as $2 (default "push").
set -euo pipefail
data=${1:?usage: send-event.sh '{"sha": "...", "repository": "...", "ref": "..."}' [type]}
type=${2:-push}
body=$(printf '{"type":"%s","timestamp":"%s","data":%s}' "$type" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$data")
id="evt-$(date +%s)-$RANDOM"
ts=$(date +%s)
key=$(printf '%s' "${STRIDE_TRIGGER_SECRET#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
sig=$(printf '%s' "$id.$ts.$body" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64)
# Without -f, so that a refusal shows the server's problem+json (its detail says why) instead of
# curl's bare "error: 422"; the exit status is still non-zero on anything but 2xx.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=$(curl -sS -o "$out" -w '%{http_code}' "${STRIDE_URL%/}/hooks/$STRIDE_TRIGGER_ID" \
  -H 'content-type: application/json' -H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" \
  -d "$body")
if [[ $status != 2?? ]]; then
  echo "send-event.sh: the server answered $status:" >&2
  cat "$out" >&2
  echo >&2
  exit 1
fi
cat "$out"
echo
