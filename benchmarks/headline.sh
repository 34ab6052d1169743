#!/usr/bin/env bash
# Today's headline figures: measures them on this machine (about 3 minutes) and rewrites the
# table at the top of docs/performance.md, between its "headline" markers. Every ratio in the
# table comes from one run of this script: the machine is shared and noisy, so compare within a
# run. The full measurement set (scale models, profiles, CPU per call) is run_performance.sh.
# Usage: benchmarks/headline.sh [--print]   (--print: show the table, leave the doc alone)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BUILD_DIR:-build}
DOC=docs/performance.md
WORK=$(mktemp -d /tmp/ranker-headline-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
for tool in benchmarks/ranker_benchmarks benchmarks/ranker_rpc_benchmarks client/ranker-client \
  server/ranker-server model_store/ranker-store; do
  [ -x "$BIN/$tool" ] || { echo "headline: $BIN/$tool is missing (scripts/build.sh)" >&2; exit 1; }
done

echo "headline: micro-benchmarks (in process)" >&2
"$BIN/benchmarks/ranker_benchmarks" --benchmark_min_time=0.5 \
  --benchmark_out="$WORK/micro.json" --benchmark_out_format=json \
  --benchmark_filter='^BM_CatalogueRank/4/500/[01]$|^BM_CatalogueRank/4/0/0$|^BM_ModelRank/100/0$|^BM_Score/100$|^BM_BudgetCatalogueRank/(100|500)/1000000$' \
  >/dev/null 2>&1
echo "headline: allocations per call over loopback gRPC" >&2
"$BIN/benchmarks/ranker_rpc_benchmarks" --benchmark_min_time=1 \
  --benchmark_out="$WORK/rpc.json" --benchmark_out_format=json >/dev/null 2>&1

echo "headline: Rank(100) against the empty RPC through a real server" >&2
"$BIN/model_store/ranker-store" demo --store "$WORK/store" --users 100000 --items 10000 --d 32 \
  --kind memcom --ratio 16 --hidden 64,32 >/dev/null
"$BIN/server/ranker-server" --store "$WORK/store" --listen 127.0.0.1:0 --admin_listen= \
  --metrics_listen= >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER=$!
until grep -q "^listening on" "$WORK/server.out"; do sleep 0.2; done
PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)/\1/p' "$WORK/server.out")
for rpc in empty rank empty rank; do  # interleaved, so drift hits both alike
  "$BIN/client/ranker-client" bench --target "127.0.0.1:$PORT" --rpc $rpc --concurrency 8 \
    --duration 8s --warmup 1s --candidates_per_request 100 --json --progress=false \
    >>"$WORK/bench-$rpc.json"
done
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true

echo "headline: model memory and load rate (1,000,000 items, d = 64)" >&2
for kind in full memcom budget; do
  flags="--kind $kind --ratio 16"
  [ $kind = budget ] && flags="--target_ratio 16"
  "$BIN/model_store/ranker-store" demo --store "$WORK/load-$kind" --user_mode history \
    --users 1000 --items 1000000 --d 64 $flags --hidden 128,64 \
    --history_users 10 >/dev/null
  "$BIN/model_store/ranker-store" verify 1 --store "$WORK/load-$kind" >"$WORK/verify-$kind.txt"
done
# What the budget rule chose, for the labels.
"$BIN/model_store/ranker-store" inspect 1 --store "$WORK/load-budget" >"$WORK/inspect-budget.txt"

/usr/bin/python3 - "$WORK" "$DOC" "${1:-}" <<'EOF'
import datetime, json, re, subprocess, sys
work, doc, mode = sys.argv[1], sys.argv[2], sys.argv[3]

def bench(path):
    return {b["name"]: b for b in json.load(open(path))["benchmarks"]}

micro, rpc = bench(f"{work}/micro.json"), bench(f"{work}/rpc.json")
def runs(rpc_name):
    return [json.loads(line) for line in open(f"{work}/bench-{rpc_name}.json") if line.strip()]
empty, rank = runs("empty"), runs("rank")
def best(rows, key):
    return max(r[key] for r in rows)
def p50(rows):
    return min(r["latency_us"]["p50"] for r in rows)
def verify(kind):
    text = open(f"{work}/verify-{kind}.txt").read()
    m = re.search(r"OK: ([0-9.]+ [KMG]i?B) loaded and verified in ([0-9.]+) s \(([0-9.]+) GB/s\)", text)
    return m.group(1), float(m.group(2)), float(m.group(3))

cat = micro["BM_CatalogueRank/4/500/0"]
cat8 = micro["BM_CatalogueRank/4/500/1"]
one = micro["BM_CatalogueRank/4/0/0"]
mr = micro["BM_ModelRank/100/0"]
sc = micro["BM_Score/100"]
ms = lambda b: b["real_time"] * {"ns": 1e-6, "us": 1e-3, "ms": 1.0}[b["time_unit"]]
us = lambda b: ms(b) * 1e3
rpc_rank = rpc["BM_RpcRank/100/real_time"]["allocs/call"]
rpc_empty = rpc["BM_RpcEmpty/real_time"]["allocs/call"]
service = rpc["BM_ServiceRank/100"]["allocs/call"]
full_bytes, full_s, full_rate = verify("full")
mem_bytes, mem_s, mem_rate = verify("memcom")
pq_bytes, pq_s, pq_rate = verify("budget")
budget_line = [l for l in open(f"{work}/inspect-budget.txt") if l.strip().startswith("table item ")][0]
budget_rows = re.search(r"rows=(\S+)", budget_line).group(1)
budget_ratio = re.search(r"ratio=([0-9.]+)x", budget_line).group(1)
pq100 = micro["BM_BudgetCatalogueRank/100/1000000"]
pq500 = micro["BM_BudgetCatalogueRank/500/1000000"]
qps_rank, qps_empty = best(rank, "qps"), best(empty, "qps")

rows = [
    ("Whole-catalogue Rank, 1,000,000 items, two stages (N = 500), memcom 16x output table, "
     "d = 64, MLP 192-128-64-1, in process",
     f"**{ms(cat):.2f} ms**, {cat['allocs/call']:.0f} allocations",
     f"{cat['bound_ms']:.2f} ms memory/GEMM bound ({cat['x_bound']:.2f}x); one stage {ms(one):.0f} ms",
     "`ranker_benchmarks --benchmark_filter=BM_CatalogueRank/4/500/0`"),
    ("The same with int8 rows",
     f"**{ms(cat8):.2f} ms**, {cat8['allocs/call']:.0f} allocations",
     f"{cat8['bound_ms']:.2f} ms bound ({cat8['x_bound']:.2f}x)",
     "`ranker_benchmarks --benchmark_filter=BM_CatalogueRank/4/500/1`"),
    ("Whole-catalogue Rank, 1,000,000 items, the 16x budget's model (`--target_ratio 16`: "
     f"full tables, {budget_rows} in and out, {budget_ratio}x), two stages (N = 100; stage 1 a "
     "bounded scan over the 8-bit codes, same items as scoring all), in process",
     f"**{ms(pq100):.2f} ms**, {pq100['allocs/call']:.0f} allocations",
     f"{pq100['bound_ms']:.2f} ms memory/GEMM bound ({pq100['x_bound']:.2f}x); N = 500: "
     f"{ms(pq500):.2f} ms",
     "`ranker_benchmarks --benchmark_filter=BM_BudgetCatalogueRank/100/1000000`"),
    ("Model::Rank over 100 candidates (d = 32, MLP 96-64-32-1, memcom 16x)",
     f"**{us(mr):.1f} µs**, {mr['allocs/call']:.0f} allocations",
     f"0 allocations is the floor; scoring 100 items with the d = 64 MLP alone (BM_Score/100) "
     f"takes {us(sc):.1f} µs",
     "`ranker_benchmarks --benchmark_filter=BM_ModelRank/100/0`"),
    ("Rank(100 candidates, k = 10) through a real server over loopback, concurrency 8",
     f"**{qps_rank:,.0f} calls/s**, p50 {p50(rank):.0f} µs",
     f"empty RPC (health check) {qps_empty:,.0f} calls/s, p50 {p50(empty):.0f} µs: "
     f"**{qps_rank / qps_empty:.0%}** of its rate",
     "`ranker-client bench --rpc rank\\|empty --concurrency 8 --candidates_per_request 100`"),
    ("Heap allocations per Rank(100) RPC, client and server in one process",
     f"**{rpc_rank:.2f}**; RankerService alone {service:.0f}",
     f"empty RPC {rpc_empty:.2f} (gRPC's own)",
     "`ranker_rpc_benchmarks`"),
    ("History model over 1,000,000 items, d = 64: both item tables memcom 16x vs full float32",
     f"**{mem_bytes}** resident",
     f"full: {full_bytes}; the 16x budget's ({budget_rows}): {pq_bytes}",
     "`ranker-store demo --user_mode history --kind memcom\\|full` (or `--target_ratio 16`) "
     "then `verify`"),
    ("Loading and verifying that model from the RocksDB store (CRC-32C, finiteness)",
     f"**{full_rate:.2f} GB/s** (full, {full_s:.2f} s)",
     f"memcom {mem_rate:.2f} GB/s ({mem_s:.2f} s)",
     "`ranker-store verify 1`"),
]
machine = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
cpu = next((l.split(":", 1)[1].strip() for l in machine.splitlines() if l.startswith("Model name")), "?")
table = [f"Measured {datetime.date.today()} by `benchmarks/headline.sh` (about 3 minutes) on "
         f"{cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} "
         "cores, shared with other work: compare the ratios within this table, not absolute "
         "figures across runs.", "",
         "| what | figure | bound or floor | command |", "|---|---|---|---|"]
table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
text = "\n".join(table) + "\n"
if mode == "--print":
    print(text)
    sys.exit(0)
src = open(doc).read()
begin, end = "<!-- headline:begin -->\n", "<!-- headline:end -->\n"
if begin not in src or end not in src:
    sys.exit(f"headline: {doc} has no headline markers")
src = src[: src.index(begin) + len(begin)] + text + src[src.index(end):]
open(doc, "w").write(src)
print(text)
EOF
