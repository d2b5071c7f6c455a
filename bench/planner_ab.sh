#!/usr/bin/env bash
# Interleaved A/B of two code trees against one running Keycloak (issue 25, "One planner, before
# and after"): `python -m bench` from tree A, then tree B, PAIRS times (order A,B then B,A then
# A,B ...). Each run imports only its own tree (cwd and PYTHONPATH; the bench worker processes run
# from the same tree) and runs that tree's own bench/ package; the log starts with the files the
# run imported. Next to the bench's own seconds per method: the run's wall time, the CPU seconds of
# the Keycloak JVM and of the bench process with its workers, and the load average before and after.
#
#   bench/planner_ab.sh OUT PAIRS SIZE METHODS NAME_A TREE_A NAME_B TREE_B SERVICES_ENV [FIRST_PAIR]
#
# SERVICES_ENV is a services.env (scripts/services writes one per var dir). Results: OUT/<name>-<pair>/
# (the bench's JSON), OUT/<name>-<pair>.log, OUT/runs.jsonl (one line a run);
# `python -m bench.planner_ab_summary OUT` then gives the per-pair ratios and geometric means.
set -euo pipefail
out=$1 pairs=$2 size=$3 methods=$4
names=("$5" "$7") trees=("$6" "$8") env=$9 first=${10:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
python=${BENCH_PYTHON:-$root/.venv/bin/python}
mkdir -p "$out"

jvm=$(pgrep -P "$(cat "$(sed -n 's/^KEYCLOAK_PID_FILE=//p' "$env")")" java)
tck=$(getconf CLK_TCK)
cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

for pair in $(seq "$first" $((first + pairs - 1))); do
    if (( pair % 2 )); then order=(0 1); else order=(1 0); fi
    for i in "${order[@]}"; do
        name=${names[$i]} tree=$(cd "${trees[$i]}" && pwd)
        tag=$name-$pair
        commit=$(git -C "$tree" rev-parse --short HEAD)
        (cd "$tree" && PYTHONPATH=$tree "$python" -c \
            'import bench.run, bench.worker, plugin.sync.pipeline as p; print("imports:", p.__file__, bench.run.__file__, bench.worker.__file__)') \
            > "$out/$tag.log"
        load_before=$(cut -d' ' -f1-3 /proc/loadavg)
        jvm0=$(cpu_of "$jvm") t0=$(date +%s.%N)
        (cd "$tree" && BENCH_SERVICES_ENV=$env BENCH_COMMIT=$commit PYTHONPATH=$tree \
            /usr/bin/time -f 'bench_cpu_s %U %S' -a -o "$out/$tag.cpu" \
            "$python" -m bench --sizes "$size" --methods "$methods" --out "$out/$tag") \
            >> "$out/$tag.log" 2>&1 || echo "run $tag failed" >&2
        t1=$(date +%s.%N) jvm1=$(cpu_of "$jvm")
        load_after=$(cut -d' ' -f1-3 /proc/loadavg)
        bench_cpu=$(awk '/^bench_cpu_s/ { print $2 + $3 }' "$out/$tag.cpu")
        printf '{"run":"%s","tree":"%s","commit":"%s","pair":%d,"t0":%s,"t1":%s,"wall_s":%.1f,"jvm_cpu_s":%.1f,"bench_cpu_s":%.1f,"load_before":"%s","load_after":"%s"}\n' \
            "$tag" "$name" "$commit" "$pair" "$t0" "$t1" "$(echo "$t1 - $t0" | bc)" \
            "$(echo "($jvm1 - $jvm0) / $tck" | bc -l)" "${bench_cpu:-0}" \
            "$load_before" "$load_after" | tee -a "$out/runs.jsonl"
    done
done
