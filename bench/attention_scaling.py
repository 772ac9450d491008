"""Benchmark: naive vs blocked (online-softmax) attention as the length n grows.

    nice -n 5 python bench/attention_scaling.py [--max-n 8192] [--block 512] [--repeats 3]

For each n (128, 256, ..., max-n; d = 64, float32, one head, self-attention
on random Gaussian q, k, v), in NumPy:

- time: the best of --repeats calls (wall clock);
- peak memory: the largest amount `tracemalloc` saw allocated during one
  call, beyond what was allocated before it (NumPy reports its arrays to
  tracemalloc; the inputs exist beforehand and are not counted);
- the max abs difference between the two outputs, and blocked's peak
  memory and time as a fraction of naive's.

Then, at n = 4,096, the effect of the block size on time and memory, and
the causal form (tiles entirely in the future skipped: tiles computed of
all). Targets: at n = 8,192 equal to 1e-5 with peak memory <= 1/8 of
naive's (aim <= 1/32) and time <= 2x naive's.
"""
import argparse
import os
import time
import tracemalloc

import numpy as np

import helpers

helpers.start_keras_quietly()  # helpers.masks imports Keras: no TensorFlow start-up lines

from helpers.blocked_attention import blocked_attention, naive_attention  # noqa: E402


def measure(fn, repeats):
    """(best seconds, peak bytes allocated during one call, the output)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    out = fn()
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best, peak, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-n", type=int, default=8192)
    parser.add_argument("--block", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"CPU cores: {os.cpu_count()}, load average at start: {os.getloadavg()}; d = 64, float32, "
          f"block {args.block}, best of {args.repeats}")
    rng = np.random.default_rng(0)
    print(f"\n{'n':>6} {'naive s':>9} {'naive MB':>9} {'blocked s':>10} {'blocked MB':>11} "
          f"{'time ratio':>10} {'memory ratio':>13} {'max |diff|':>11}")
    n = 128
    while n <= args.max_n:
        q, k, v = (rng.standard_normal((n, 64), dtype=np.float32) for _ in range(3))
        t_naive, m_naive, naive = measure(lambda: naive_attention(q, k, v), args.repeats)
        t_block, m_block, blocked = measure(lambda: blocked_attention(q, k, v, args.block), args.repeats)
        print(f"{n:6d} {t_naive:9.3f} {m_naive / 1e6:9.1f} {t_block:10.3f} {m_block / 1e6:11.2f} "
              f"{t_block / t_naive:10.2f} {'1/' + format(m_naive / m_block, '.0f'):>13} "
              f"{np.abs(naive - blocked).max():11.1e}")
        n *= 2

    n = min(4096, args.max_n)
    q, k, v = (rng.standard_normal((n, 64), dtype=np.float32) for _ in range(3))
    t_naive, m_naive, _ = measure(lambda: naive_attention(q, k, v), args.repeats)
    print(f"\nblock size at n = {n:,} (naive: {t_naive:.3f} s, {m_naive / 1e6:.1f} MB)")
    print(f"{'block':>6} {'seconds':>8} {'MB':>7}")
    for block in (64, 128, 256, 512, 1024, 2048):
        t, m, _ = measure(lambda: blocked_attention(q, k, v, block), args.repeats)
        print(f"{block:6d} {t:8.3f} {m / 1e6:7.2f}")

    t_causal_naive, _, want = measure(lambda: naive_attention(q, k, v, causal=True), args.repeats)
    t_causal, _, (got, counts) = measure(
        lambda: blocked_attention(q, k, v, args.block, causal=True, return_counts=True), args.repeats)
    print(f"\ncausal at n = {n:,}, block {args.block}: {counts['computed']} of {counts['total']} tiles computed "
          f"({counts['computed'] / counts['total']:.0%}); {t_causal:.3f} s vs {t_causal_naive:.3f} s naive; "
          f"max |diff| {np.abs(got - want).max():.1e}")


if __name__ == "__main__":
    main()
