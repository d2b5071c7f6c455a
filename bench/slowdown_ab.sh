#!/usr/bin/env bash
# Interleaved A/B of two running Keycloaks (issue 23, "Keycloak 26.7.3 against 26.5.6"): the bench's
# methods on one, then the other, ROUNDS times (order A,B then B,A then A,B ...), each run with
# a JFR recording of that Keycloak's JVM and the CPU seconds its JVM and the PostgreSQL cluster
# spent during the run (from /proc), next to the wall seconds the bench measures. The PostgreSQL
# figure misses backends that exit during a run (it came out negative twice): do not use it.
#
#   bench/slowdown_ab.sh OUT ROUNDS SIZE METHODS NAME_A ENV_A NAME_B ENV_B [FIRST_ROUND]
#
# ENV_x is a services.env (scripts/services writes one per var dir). Results: OUT/<name>-<round>/
# (the bench's JSON), OUT/<name>-<round>.jfr, OUT/runs.jsonl (one line a run: wall, CPU, load).
set -euo pipefail
out=$1 rounds=$2 size=$3 methods=$4
names=("$5" "$7") envs=("$6" "$8") first=${9:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"

jvm_of() {  # the java child of the kc.sh whose pid file the services.env names
    local pid_file
    pid_file=$(sed -n 's/^KEYCLOAK_PID_FILE=//p' "$1")
    pgrep -P "$(cat "$pid_file")" java
}
cpu_of() {  # utime+stime in clock ticks of a pid and of its children threads (a process's stat)
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}
pg_cpu() {  # every process of the PostgreSQL cluster on POSTGRES_PORT (postmaster and backends)
    local master total=0 p
    master=$(pgrep -f "postgres -D .* -p $(sed -n 's/^POSTGRES_PORT=//p' "$1") " | head -n 1)
    for p in $master $(pgrep -P "$master"); do
        total=$((total + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}

for round in $(seq "$first" $((first + rounds - 1))); do
    if (( round % 2 )); then order=(0 1); else order=(1 0); fi
    for i in "${order[@]}"; do
        name=${names[$i]} env=${envs[$i]}
        jvm=$(jvm_of "$env")
        tag=$name-$round
        jcmd "$jvm" JFR.start name="$tag" settings=profile filename="$out/$tag.jfr" >/dev/null
        load_before=$(cut -d' ' -f1-3 /proc/loadavg)
        jvm0=$(cpu_of "$jvm") pg0=$(pg_cpu "$env") t0=$(date +%s.%N)
        BENCH_SERVICES_ENV=$env nice -n 19 "$root/.venv/bin/python" -m bench --sizes "$size" \
            --methods "$methods" --out "$out/$tag" > "$out/$tag.log" 2>&1 || echo "run $tag failed" >&2
        t1=$(date +%s.%N) jvm1=$(cpu_of "$jvm") pg1=$(pg_cpu "$env")
        load_after=$(cut -d' ' -f1-3 /proc/loadavg)
        jcmd "$jvm" JFR.stop name="$tag" >/dev/null
        tck=$(getconf CLK_TCK)
        printf '{"run":"%s","keycloak":"%s","round":%d,"t0":%s,"t1":%s,"wall_s":%.1f,"jvm_cpu_s":%.1f,"postgres_cpu_s":%.1f,"load_before":"%s","load_after":"%s"}\n' \
            "$tag" "$name" "$round" "$t0" "$t1" "$(echo "$t1 - $t0" | bc)" \
            "$(echo "($jvm1 - $jvm0) / $tck" | bc -l)" "$(echo "($pg1 - $pg0) / $tck" | bc -l)" \
            "$load_before" "$load_after" | tee -a "$out/runs.jsonl"
    done
done
