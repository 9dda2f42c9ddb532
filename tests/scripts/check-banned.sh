#!/usr/bin/env bash
# Fails when new code calls a function STYLE.md bans.
set -euo pipefail
cd "$(dirname "$0")/../.."
pattern='\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets|gmtime|localtime|rand)\s*\('
hits=$(grep -rnE --include='*.c' --include='*.h' "$pattern" src include tests/unit tests/fuzz tests/bench 2>/dev/null \
       | grep -vE '_r\s*\(' || true)
if [ -n "$hits" ]; then
  echo "banned functions (STYLE.md) in use:" >&2
  echo "$hits" >&2
  exit 1
fi
echo "no banned functions"
