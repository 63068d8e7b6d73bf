#!/usr/bin/env bash
# CPU time a server process spends per request (user and system µs), from /proc/PID/stat around a
# fixed number of requests. Steadier than requests/s on a shared VM, where throughput drifts ±20%.
# Usage: bench/cpu-per-request.sh PID URL [REQUESTS]   (the server must already be running)
set -euo pipefail
pid=$1
url=$2
n=${3:-200000}
ac="$(dirname "$0")/../node_modules/.bin/autocannon"
"$ac" -c 32 -a 30000 "$url" >/dev/null 2>&1 # warm-up
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
"$ac" -c 32 -a "$n" "$url" >/dev/null 2>&1
read -r u2 s2 < <(awk '{print $14, $15}' "/proc/$pid/stat")
tck=$(getconf CLK_TCK)
echo "user_us_per_request=$(( (u2 - u1) * 1000000 / tck / n )) system_us_per_request=$(( (s2 - s1) * 1000000 / tck / n ))"
