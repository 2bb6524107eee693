#!/bin/bash
# GC work per proxied request, deterministic (bytes, not times): the target (bare proxy or the minimal
# gateway, from dist/) under --trace-gc-nvp, 3,000 warm-up then N JSON requests over 64 connections
# (bench/alloc-client.js); summarise the window with bench/gc-work-summary.sh LOG N.
# Scratch files go to ${GC_WORK_DIR:-/tmp/aigw-gc-work} (override: GC_WORK_DIR).
# usage: bench/gc-work.sh REPO_DIR TARGET(bare|minimal) REQUESTS [extra node flags]   (needs npm run build:bench)
WT=$1; TARGET=$2; N=${3:-20000}; shift 3
mkdir -p ${GC_WORK_DIR:-/tmp/aigw-gc-work}
cd $WT
NODE=$WT/node_modules/.bin/node
P1=$((20000 + RANDOM % 20000)); P2=$((P1+1)); P3=$((P1+2)); GP=$((P1+3))
$NODE dist/bench/mock-upstream.js --port $P1 --port $P2 --port $P3 > ${GC_WORK_DIR:-/tmp/aigw-gc-work}/mock.$$.log 2>&1 &
MOCK=$!
sleep 1.5
if [ $TARGET = bare ]; then
  $NODE --max-semi-space-size=8 --trace-gc "$@" dist/bench/bare-undici-proxy.js --port $GP --upstream http://127.0.0.1:$P1 --upstream http://127.0.0.1:$P2 --upstream http://127.0.0.1:$P3 > ${GC_WORK_DIR:-/tmp/aigw-gc-work}/t.$$.log 2>&1 &
else
  cat > ${GC_WORK_DIR:-/tmp/aigw-gc-work}/cfg.$$.yaml <<EOC
server: { host: 127.0.0.1, port: $GP, shutdownGraceMs: 1000 }
healthCheck: { enabled: true, path: /models, intervalMs: 2000 }
logging: { level: warn, accessLog: false }
models:
  - name: gpt-4o-mini
    strategy: round-robin
    targets:
      - { name: upstream-1, baseUrl: "http://127.0.0.1:$P1/v1", apiKey: sk-upstream-bench }
      - { name: upstream-2, baseUrl: "http://127.0.0.1:$P2/v1", apiKey: sk-upstream-bench }
      - { name: upstream-3, baseUrl: "http://127.0.0.1:$P3/v1", apiKey: sk-upstream-bench }
EOC
  $NODE --max-semi-space-size=8 --trace-gc "$@" dist/bench/gateway-main.js --config ${GC_WORK_DIR:-/tmp/aigw-gc-work}/cfg.$$.yaml > ${GC_WORK_DIR:-/tmp/aigw-gc-work}/t.$$.log 2>&1 &
fi
T=$!
sleep 2
$NODE dist/bench/alloc-client.js --port $GP --requests 3000 --connections 64 $SSE > /dev/null
L0=$(grep -c "" ${GC_WORK_DIR:-/tmp/aigw-gc-work}/t.$$.log)
CPU0=$(awk '{print $14+$15}' /proc/$T/stat)
$NODE dist/bench/alloc-client.js --port $GP --requests $N --connections 64 $SSE | head -c 300; echo
CPU1=$(awk '{print $14+$15}' /proc/$T/stat)
tail -n +$((L0+1)) ${GC_WORK_DIR:-/tmp/aigw-gc-work}/t.$$.log > ${GC_WORK_DIR:-/tmp/aigw-gc-work}/window.$$.log
kill $T $MOCK
echo "target=$TARGET cpu_us_per_req=$(( (CPU1-CPU0)*10000/N ))"
grep -c Scavenge ${GC_WORK_DIR:-/tmp/aigw-gc-work}/window.$$.log | sed 's/^/scavenges /'
grep -c "Mark-Compact\|Mark-sweep" ${GC_WORK_DIR:-/tmp/aigw-gc-work}/window.$$.log | sed 's/^/marks /'
grep Scavenge ${GC_WORK_DIR:-/tmp/aigw-gc-work}/window.$$.log | awk '{for(i=1;i<=NF;i++) if($i=="ms:") {}} {match($0,/, ([0-9.]+) \/ ([0-9.]+) ms/,m); s+=m[1]} END {print "scavenge ms", s}'
grep "Mark-Compact\|Mark-sweep" ${GC_WORK_DIR:-/tmp/aigw-gc-work}/window.$$.log | awk '{match($0,/, ([0-9.]+) \/ ([0-9.]+) ms/,m); s+=m[1]} END {print "mark ms", s}'
grep Scavenge ${GC_WORK_DIR:-/tmp/aigw-gc-work}/window.$$.log | tail -2
grep "Mark" ${GC_WORK_DIR:-/tmp/aigw-gc-work}/window.$$.log | tail -2
