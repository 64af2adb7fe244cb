#!/usr/bin/env python3
"""`gradtutor train` (the default gradient-flow comparison) in JAX, with a jit-compiled step.

The same experiment as `gradtutor train` with no flags:

- data: the spiral, 3 arms of 1000 points in all (noise 0.2: angle jitter), shuffled, a
  quarter (250) held out for testing, 750 for training
- networks: 10 hidden layers of 32 units, 2 inputs, 3 outputs (logits), float32, biases 0,
  four configurations trained on the same data, minibatches and seed:
    sigmoid/xavier-normal, relu/he-normal, sigmoid/xavier-normal+bn,
    sigmoid/xavier-normal+residual
  (batch norm: batch statistics, eps 1e-5, gamma 1, beta 0, before each activation;
  residual: a_l = a_(l-1) + phi(h_l) on every hidden layer that keeps the width)
- training: 1000 steps of SGD with momentum 0.9 (v <- 0.9 v + g, p <- p - lr v), lr 0.01,
  minibatches of 32 drawn epoch by epoch from a reshuffled order
- loss: mean softmax cross-entropy; recorded every step with the global gradient norm
- checkpoints at step 1 and every 25 steps (ceil(steps / 40)): loss and accuracy on the whole
  training and test sets, per-layer ||dL/dW|| of that step and ||dW|| / ||W|| of its update

The random numbers are numpy's, not gradtutor's (ChaCha8): the final losses agree in
kind (ReLU/He learns, plain sigmoid stays near the constant-guess loss ln 3 = 1.099), not in
their digits.

    python3 scripts/train_jax.py
"""

import argparse
import math
import time

import jax
import jax.numpy as jnp
import numpy as np

CONFIGS = [
    # label, activation, init, batch norm, residual
    ("sigmoid/xavier-normal", "sigmoid", "xavier-normal", False, False),
    ("relu/he-normal", "relu", "he-normal", False, False),
    ("sigmoid/xavier-normal+bn", "sigmoid", "xavier-normal", True, False),
    ("sigmoid/xavier-normal+residual", "sigmoid", "xavier-normal", False, True),
]
CLASSES = 3
INPUTS = 2
BN_EPS = 1e-5
MOMENTUM = 0.9


# ---------------------------------------------------------------- data (src/data.rs)


def spiral(samples, noise, test_fraction, seed):
    """3 interleaved spiral arms; arm k's radius grows from 0 to 1 while its angle turns 1.25
    times round. Shuffled, then the first round(test_fraction * samples) are the test set."""
    rng = np.random.default_rng(seed)
    i = np.arange(samples)
    label = i % 3
    r = (i // 3) / max(samples // 3, 1)
    angle = label * 2 * math.pi / 3 + 1.25 * 2 * math.pi * r + noise * rng.standard_normal(samples)
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1).astype(np.float32)
    order = rng.permutation(samples)
    test = min(max(round(samples * test_fraction), 1), samples)
    te, tr = order[:test], order[test:]
    return x[tr], label[tr], x[te], label[te]


def minibatches(n, size, steps, seed):
    """Rows of each step's minibatch: epochs of a reshuffled order, the remainder dropped."""
    rng = np.random.default_rng([seed, 3])
    order, cursor, out = np.arange(n), n, []
    for _ in range(steps):
        if cursor + size > n:
            rng.shuffle(order)
            cursor = 0
        out.append(order[cursor : cursor + size].copy())
        cursor += size
    return out


# ---------------------------------------------------------------- the network


def init_params(rng, sizes, init, batch_norm):
    """Kernels drawn on the host with numpy (one generator for the data and the weights;
    jax.random would add a compilation per kernel shape), biases 0."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        if init == "he-normal":
            std = math.sqrt(2.0 / fan_in)
        else:  # xavier-normal
            std = math.sqrt(2.0 / (fan_in + fan_out))
        w = std * rng.standard_normal((fan_in, fan_out))
        params.append({"W": jnp.asarray(w, jnp.float32), "b": jnp.zeros(fan_out, jnp.float32)})
    if batch_norm:  # hidden layers only
        for layer in params[:-1]:
            width = layer["b"].shape[0]
            layer["gamma"] = jnp.ones(width, jnp.float32)
            layer["beta"] = jnp.zeros(width, jnp.float32)
    return params


def forward(params, x, activation, residual):
    phi = jax.nn.sigmoid if activation == "sigmoid" else jax.nn.relu
    a = x
    for layer in params[:-1]:
        h = a @ layer["W"] + layer["b"]
        if "gamma" in layer:
            # Batch norm with the statistics of the batch at hand (training mode, also when
            # evaluating a whole set, as gradtutor does: there are no running averages).
            mean = h.mean(axis=0)
            var = ((h - mean) ** 2).mean(axis=0)
            h = layer["gamma"] * (h - mean) / jnp.sqrt(var + BN_EPS) + layer["beta"]
        out = phi(h)
        a = a + out if residual and out.shape == a.shape else out
    return a @ params[-1]["W"] + params[-1]["b"]


def cross_entropy(logits, y):
    return -jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1).mean()


def global_norm(tree):
    return jnp.sqrt(sum(jnp.sum(g * g) for g in jax.tree_util.tree_leaves(tree)))


def make_functions(activation, residual, lr):
    def loss_fn(params, x, y):
        return cross_entropy(forward(params, x, activation, residual), y)

    @jax.jit
    def train_step(params, velocity, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        velocity = jax.tree_util.tree_map(lambda v, g: MOMENTUM * v + g, velocity, grads)
        new_params = jax.tree_util.tree_map(lambda p, v: p - lr * v, params, velocity)
        grad_norms = jnp.stack([jnp.linalg.norm(g["W"]) for g in grads])
        update_ratios = jnp.stack(
            [jnp.linalg.norm(n["W"] - p["W"]) / jnp.linalg.norm(p["W"]) for n, p in zip(new_params, params)]
        )
        return new_params, velocity, loss, global_norm(grads), grad_norms, update_ratios

    @jax.jit
    def evaluate(params, x, y):
        logits = forward(params, x, activation, residual)
        return cross_entropy(logits, y), (logits.argmax(axis=1) == y).mean()

    return train_step, evaluate


# ---------------------------------------------------------------- training


def train_one(config, data, batches, args):
    label, activation, init, batch_norm, residual = config
    # Minibatches are cut on the host (numpy indexing; indexing a device array with a fresh
    # index array is an eager gather per step) and go to the device with each call; the whole
    # sets for evaluation are put on the device once.
    x_train, y_train, x_test, y_test = data
    train_set = (jnp.asarray(x_train), jnp.asarray(y_train))
    test_set = (jnp.asarray(x_test), jnp.asarray(y_test))
    sizes = [INPUTS] + [args.width] * args.depth + [CLASSES]
    # Every configuration starts from the same seed, as in gradtutor.
    params = init_params(np.random.default_rng([args.seed, 1]), sizes, init, batch_norm)
    velocity = jax.tree_util.tree_map(jnp.zeros_like, params)
    train_step, evaluate = make_functions(activation, residual, args.lr)
    every = max(math.ceil(args.steps / 40), 1)

    start = time.perf_counter()
    initial = [float(v) for v in evaluate(params, *train_set)]
    losses, global_norms, checkpoints, diverged = [], [], [], None
    for step in range(1, args.steps + 1):
        rows = batches[step - 1]
        params, velocity, loss, gnorm, grad_norms, ratios = train_step(
            params, velocity, x_train[rows], y_train[rows]
        )
        if step == 1:
            jax.block_until_ready(loss)
            first_step = time.perf_counter() - start
        losses.append(loss)
        global_norms.append(gnorm)
        if step == 1 or step % every == 0 or step == args.steps:
            train_loss, train_acc = evaluate(params, *train_set)
            test_loss, test_acc = evaluate(params, *test_set)
            checkpoints.append(
                {
                    "step": step,
                    "train": (float(train_loss), float(train_acc)),
                    "test": (float(test_loss), float(test_acc)),
                    "grad_norms": np.asarray(grad_norms),
                    "update_ratios": np.asarray(ratios),
                }
            )
            if not (math.isfinite(float(loss)) and math.isfinite(float(gnorm))):
                diverged = step
                break
    # One transfer of every step's scalars (jnp.stack of 1000 arrays would compile a concat).
    losses = np.array(jax.device_get(losses))
    reached = next((c["step"] for c in checkpoints if c["train"][0] <= args.target_loss), None)
    return {
        "label": label,
        "initial": initial,
        "losses": losses,
        "global_norms": np.array(jax.device_get(global_norms)),
        "checkpoints": checkpoints,
        "steps_to_target": reached,
        "diverged": diverged,
        "seconds": (first_step, time.perf_counter() - start),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--noise", type=float, default=0.2)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--target-loss", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--layers", action="store_true", help="print every checkpoint's per-layer ||dL/dW||")
    args = parser.parse_args()

    start = time.perf_counter()
    data = spiral(args.samples, args.noise, 0.25, args.seed)
    x_train, y_train, x_test, y_test = data
    batches = minibatches(len(y_train), args.batch, args.steps, args.seed)
    counts = np.bincount(y_train, minlength=CLASSES) / len(y_train)
    chance = -sum(p * math.log(p) for p in counts if p > 0)

    print(f"jax {jax.__version__} on {jax.default_backend()} · float32")
    print(
        f"Data: spiral, {CLASSES} classes, noise {args.noise} · {len(y_train)} train / {len(y_test)} test"
    )
    print(
        f"Network: depth {args.depth} × width {args.width} · Training: {args.steps} steps of momentum "
        f"(lr {args.lr}) · batch {args.batch} · constant-guess loss {chance:.3f}"
    )
    runs = [train_one(c, data, batches, args) for c in CONFIGS]

    print()
    print(f"  {'configuration':<31}{'loss':>14}  {'train':>6} {'test':>6}  loss ≤ {args.target_loss}")
    for run in runs:
        last = run["checkpoints"][-1]
        reached = f"step {run['steps_to_target']}" if run["steps_to_target"] else "not reached"
        if run["diverged"]:
            reached = f"diverged at {run['diverged']}"
        loss_text = f"{run['initial'][0]:.3f} → {last['train'][0]:.3f}"
        print(
            f"  {run['label']:<31}{loss_text:>14}  {100 * last['train'][1]:5.1f}% "
            f"{100 * last['test'][1]:5.1f}%  {reached:>11}"
        )
    print()
    print("per-layer ||dL/dW|| at the first and last checkpoint (layer 1 … output):")
    for run in runs:
        first, last = run["checkpoints"][0], run["checkpoints"][-1]
        print(f"  {run['label']}")
        print(f"    step {first['step']:>4}: " + " ".join(f"{g:.1e}" for g in first["grad_norms"]))
        print(f"    step {last['step']:>4}: " + " ".join(f"{g:.1e}" for g in last["grad_norms"]))
        if args.layers:
            for c in run["checkpoints"]:
                print(f"    step {c['step']:>4}: " + " ".join(f"{g:.1e}" for g in c["grad_norms"]))
    print()
    for run in runs:
        first, total = run["seconds"]
        print(f"  {run['label']:<31} {total:5.2f} s, of which {first:.2f} s to the end of step 1 (compiling)")
    print(f"{time.perf_counter() - start:.2f} s from data to the last checkpoint (after imports)")


if __name__ == "__main__":
    main()
