#!/usr/bin/env bash
# The served OpenAPI documents, checked by tools that are not ours (run by .ci/extra):
#   lint      redocly lint, recommended rules (redocly.yaml): no errors, no warnings;
#   generate  openapi-typescript generates a client type file from each document, and tsc
#             type-checks what it generated.
# Usage: scripts/check-openapi.sh lint|generate   (builds dist/ first when it is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:?usage: check-openapi.sh lint|generate}
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
[ -f dist/index.js ] || node node_modules/typescript/bin/tsc -p tsconfig.build.json
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
node scripts/openapi-docs.mjs "$dir" >/dev/null
docs=("$dir"/rackcorp.json "$dir"/emailsrvr.json "$dir"/ispcrm.json "$dir"/mgmt.json)
case "$what" in
  lint)
    # --max-problems so every problem is printed; warnings fail too (exit 1 on any).
    out=$(node_modules/.bin/redocly lint --config redocly.yaml --format=stylish --max-problems 1000 "${docs[@]}" 2>&1) || { echo "$out"; exit 1; }
    echo "$out" | grep -vE '║|╔|╚' | grep -E 'validated|valid|warning|error' || true
    if echo "$out" | grep -qE '^\s+[0-9]+:[0-9]+\s+warning'; then echo "redocly lint: warnings found"; exit 1; fi
    ;;
  generate)
    for d in "${docs[@]}"; do
      node_modules/.bin/openapi-typescript "$d" -o "$dir/$(basename "$d" .json).ts" >/dev/null
    done
    node node_modules/typescript/bin/tsc --noEmit --strict --target es2022 --module nodenext --moduleResolution nodenext "$dir"/*.ts
    echo "openapi-typescript: generated and type-checked ${#docs[@]} clients ($(cat "$dir"/*.ts | wc -l) lines)"
    ;;
  *) echo "unknown check $what" >&2; exit 2 ;;
esac
