#!/usr/bin/env bash
# L_simple (fixed-small variance) against L_hybrid (learned-range variance, Improved DDPM) on the same
# budget, seed and data, scored by `tfjs-diffusion nll` on held-out digits. Run after `pnpm build`.
# Writes into runs/nll-compare/ (git-ignored); prints the two bits/dim lines at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
out=runs/nll-compare
steps=${STEPS:-400}
mkdir -p "$out"
node --input-type=module -e "
import { writeFileSync } from 'node:fs';
import { MNIST_TEST } from './apps/cli/dist/mnist/network-presets.js';
writeFileSync('$out/hybrid.json', JSON.stringify({ ...MNIST_TEST, variance: 'learned-range' }));
writeFileSync('$out/simple.json', JSON.stringify({ ...MNIST_TEST, variance: 'fixed-small' }));
"
for objective in simple hybrid; do
  rm -rf "$out/$objective"
  node apps/cli/dist/main.js train --dataset mnist --config "$out/$objective.json" --objective "$objective" \
    --schedule cosine --timesteps 1000 --steps "$steps" --batch-size 32 --learning-rate 1e-3 --warmup 50 --grad-clip 1 \
    --ema-decay 0 --checkpoint-dir "$out/$objective" --checkpoint-every "$steps" --keep 1 --seed 0 --backend wasm \
    > "$out/$objective-train.log" 2>&1
  node apps/cli/dist/main.js nll --checkpoint "$out/$objective/$(printf 'step-%06d.safetensors' "$steps")" --n 64 \
    --respace 100 --weights model --seed 0 --backend wasm > "$out/$objective-nll.json" 2> "$out/$objective-nll.log"
  echo "$objective: $(cat "$out/$objective-nll.json")"
done
