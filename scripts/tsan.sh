#!/usr/bin/env bash
# ThreadSanitizer check of the daemon: builds dogpiled with -sanitize=thread (in .build-tsan/),
# drives it with a short soak (mixed classic and lock traffic, hang-ups, RSTs, slow readers,
# SIGHUPs: bench/soak.py) and fails if TSan reported anything or the soak found a leak.
#
#   scripts/tsan.sh [seconds]        (default 20)
set -euo pipefail
seconds="${1:-20}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
swift build --sanitize=thread --product dogpiled --scratch-path .build-tsan 2>&1 | tail -n 2
binary="$(swift build --sanitize=thread --scratch-path .build-tsan --show-bin-path)/dogpiled"
log="$(mktemp)"
# halt_on_error=0: collect every report; the grep below decides.
export TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1"
status=0
python3 bench/soak.py --bin "$binary" --seconds "$seconds" --report-every 10 --workers 12 --log "$log" || status=1
if grep -q "WARNING: ThreadSanitizer" "$log"; then
    echo "ThreadSanitizer reported:"
    grep -A 30 "WARNING: ThreadSanitizer" "$log" | head -n 120
    status=1
else
    echo "ThreadSanitizer: no reports"
fi
exit $status
