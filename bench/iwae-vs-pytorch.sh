#!/bin/bash
# IWAE(1000) on the 2,000 test digits, elbo (wasm, 2 threads) against PyTorch + OpenBLAS (2 threads):
# a 1-epoch model each, both scoring the test set sampled once, timed alternately ROUNDS times.
#
#   bash bench/iwae-vs-pytorch.sh [ROUNDS]       (from the repository root; needs python3-torch)
#
# Prints elbo's `seconds` (`elbo eval --json`: the ELBO pass and the bound) and PyTorch's
# `iwae_seconds` (vae_reference.py), with the load average before each.
set -euo pipefail
rounds=${1:-2}
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
npx tsx src/cli/main.ts train --epochs 1 --seed 1 --out "$run/elbo" > "$run/train.log" 2>&1
torch() {
  OMP_WAIT_POLICY=PASSIVE LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \
    /usr/bin/python3 bench/peers/vae_reference.py --epochs 1 --k 1000 --binarize dynamic --threads 2 | tail -1
}
for i in $(seq "$rounds"); do
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
  npx tsx src/cli/main.ts eval --checkpoint "$run/elbo" --iwae 1000 --json | tail -1 |
    python3 -c "import json,sys; d=json.load(sys.stdin); print(f'elbo    IWAE(1000) {d[\"iwae\"]:.4f}  {d[\"seconds\"]:.2f} s')"
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
  torch | python3 -c "import json,sys; d=json.load(sys.stdin); print(f'PyTorch IWAE(1000) {d[\"test_iwae_k1000\"]:.4f}  {d[\"iwae_seconds\"]:.2f} s  (test ones {d[\"test_ones\"]})')"
done
