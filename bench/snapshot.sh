#!/usr/bin/env bash
# Run the benchmark on a snapshot of the committed code (HEAD) plus the working tree's bench/ and
# plugin/runs/scaleout.py, so edits made in the tree during a long run cannot change what is measured.
# Usage: bench/snapshot.sh --sizes S,M   (arguments go to `python -m bench`; results land in bench/results)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
commit=$(git -C "$root" rev-parse --short HEAD)
snap=$(mktemp -d "/tmp/kcc-bench-$commit-XXXX")
git -C "$root" archive HEAD | tar -x -C "$snap"
cp -r "$root/bench" "$snap/"
cp "$root/plugin/runs/scaleout.py" "$snap/plugin/runs/"
echo "snapshot of $commit at $snap" >&2
cd "$snap"
BENCH_SERVICES_ENV="$root/var/services.env" BENCH_COMMIT="$commit" \
  "$root/.venv/bin/python" -m bench --out "$root/bench/results" "$@"
