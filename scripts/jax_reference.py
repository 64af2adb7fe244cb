#!/usr/bin/env python3
"""The live lab's training step in JAX, jit-compiled: the reference for issue 24's speed goal
(live training at depth 20 x width 128, batch 64, per-layer norms every step, at >= 1.5x
the steady-state steps per second of this script on the same machine).

The same step as `gradtutor serve`'s live run (src/train/live.rs) and
`gradtutor train --activation relu --depth 20 --width 128 --batch 64`:

- an MLP 2 -> 20 hidden layers of 128 ReLU units -> 3 logits, float32, He-normal kernels
  (std sqrt(2 / fan_in)), biases 0
- mean softmax cross-entropy on a minibatch of 64 spiral points (rows cut on the host, as
  gradtutor cuts them, and sent with each call)
- SGD with momentum 0.9 (v <- 0.9 v + g, p <- p - lr v), lr 0.01
- every step also returns the loss, the global gradient norm, and per dense layer
  ||dL/dW|| and ||dW|| / ||W|| (what the live lab shows every step)

It reports the steady-state steps per second: `--warmup` steps first (compilation and the
first calls), then the time of `--steps` steps, ended by block_until_ready on the last
step's results; also steps per CPU-second of the process (all threads), which other work on
the machine moves less. Its Rust counterpart: `cargo run --release -p gradtutor-benches
--example live_steps`. The losses are not fetched per step (JAX dispatches asynchronously; the
Rust step returns its loss synchronously), which favours JAX.

    python3 -m venv /tmp/jaxvenv && /tmp/jaxvenv/bin/pip install "jax[cpu]"
    /tmp/jaxvenv/bin/python scripts/jax_reference.py [--repeats 3]
"""

import argparse
import math
import os
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

CLASSES = 3
INPUTS = 2
MOMENTUM = 0.9


def spiral(samples, noise, seed):
    """3 interleaved spiral arms (as src/data.rs draws them, with numpy's random numbers)."""
    rng = np.random.default_rng(seed)
    i = np.arange(samples)
    label = i % 3
    r = (i // 3) / max(samples // 3, 1)
    angle = label * 2 * math.pi / 3 + 1.25 * 2 * math.pi * r + noise * rng.standard_normal(samples)
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1).astype(np.float32)
    return x, label.astype(np.int32)


def init_params(rng, sizes):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = math.sqrt(2.0 / fan_in) * rng.standard_normal((fan_in, fan_out))
        params.append({"W": jnp.asarray(w, jnp.float32), "b": jnp.zeros(fan_out, jnp.float32)})
    return params


def forward(params, x):
    a = x
    for layer in params[:-1]:
        a = jax.nn.relu(a @ layer["W"] + layer["b"])
    return a @ params[-1]["W"] + params[-1]["b"]


def loss_fn(params, x, y):
    logits = forward(params, x)
    return -jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1).mean()


def make_step(lr):
    @jax.jit
    def step(params, velocity, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        velocity = jax.tree_util.tree_map(lambda v, g: MOMENTUM * v + g, velocity, grads)
        new = jax.tree_util.tree_map(lambda p, v: p - lr * v, params, velocity)
        leaves = jax.tree_util.tree_leaves(grads)
        global_norm = jnp.sqrt(sum(jnp.sum(g * g) for g in leaves))
        grad_norms = jnp.stack([jnp.linalg.norm(g["W"]) for g in grads])
        ratios = jnp.stack(
            [jnp.linalg.norm(n["W"] - p["W"]) / jnp.linalg.norm(p["W"]) for n, p in zip(new, params)]
        )
        return new, velocity, loss, global_norm, grad_norms, ratios

    return step


def run(args):
    x, y = spiral(args.samples, 0.2, args.seed)
    sizes = [INPUTS] + [args.width] * args.depth + [CLASSES]
    params = init_params(np.random.default_rng([args.seed, 1]), sizes)
    velocity = jax.tree_util.tree_map(jnp.zeros_like, params)
    step = make_step(args.lr)
    rng = np.random.default_rng([args.seed, 3])
    total = args.warmup + args.steps
    order, cursor, batches = np.arange(len(y)), len(y), []
    for _ in range(total):
        if cursor + args.batch > len(y):
            rng.shuffle(order)
            cursor = 0
        batches.append(order[cursor : cursor + args.batch].copy())
        cursor += args.batch
    out = None
    for k in range(args.warmup):
        rows = batches[k]
        params, velocity, *out = step(params, velocity, x[rows], y[rows])
    jax.block_until_ready(out)
    start, cpu = time.perf_counter(), time.process_time()
    for k in range(args.warmup, total):
        rows = batches[k]
        params, velocity, *out = step(params, velocity, x[rows], y[rows])
    jax.block_until_ready((params, out))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return args.steps / seconds, args.steps / cpu, float(out[0])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--depth", type=int, default=20)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    print(
        f"JAX {jax.__version__} on {platform.machine()} ({os.cpu_count()} cores, "
        f"{jax.devices()[0].platform}); depth {args.depth} x width {args.width}, batch {args.batch}"
    )
    rates = []
    for r in range(args.repeats):
        rate, per_cpu, loss = run(args)
        rates.append(rate)
        print(
            f"run {r + 1}: {rate:.0f} steps/s, {per_cpu:.0f} steps per CPU-second "
            f"(last loss {loss:.4f})"
        )
    rates.sort()
    print(f"median {rates[len(rates) // 2]:.0f} steps/s, best {rates[-1]:.0f}")


if __name__ == "__main__":
    main()
