#!/usr/bin/env python3
"""The canonical gradient probe in plain numpy, as a student would write it.

One forward and backward pass of a freshly initialized MLP, then the norm of every
layer's weight gradient:

- input X: batch x width, entries N(0, 1); labels uniform over the classes
- `depth` hidden layers of `width` units, h = a W + b, a = sigmoid(h)
- a linear output layer width -> classes giving the logits
- every kernel Xavier-normal, N(0, 2 / (fan_in + fan_out)); every bias 0
- loss: mean softmax cross-entropy over the batch
- printed: ||dL/dW_l||_F for every layer, and log10(||dL/dW_1|| / ||dL/dW_last||)

float32 throughout, like `gradtutor demo vanishing`. The random numbers are numpy's,
not gradtutor's (ChaCha8), so the figures agree statistically, not digit for digit.

    python3 scripts/probe_numpy.py --depth 20
    python3 scripts/probe_numpy.py --depth 50 --width 1024 --batch 256
"""

import argparse

import numpy as np

DTYPE = np.float32


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def xavier_normal(rng, fan_in, fan_out):
    std = np.sqrt(2.0 / (fan_in + fan_out))
    return (rng.standard_normal((fan_in, fan_out), dtype=DTYPE) * DTYPE(std)).astype(DTYPE)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depth", type=int, default=20, help="hidden layers (default 20)")
    parser.add_argument("--width", type=int, default=128, help="units per hidden layer and input width (default 128)")
    parser.add_argument("--batch", type=int, default=64, help="examples (default 64)")
    parser.add_argument("--classes", type=int, default=10, help="output units (default 10)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)

    # The network: depth hidden layers, then the output layer.
    sizes = [args.width] * (args.depth + 1) + [args.classes]
    weights = [xavier_normal(rng, sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)]
    biases = [np.zeros(sizes[i + 1], dtype=DTYPE) for i in range(len(sizes) - 1)]

    # The batch.
    x = rng.standard_normal((args.batch, args.width), dtype=DTYPE)
    y = rng.integers(0, args.classes, size=args.batch)

    # Forward pass: keep each layer's input (a_0 = x, ..., a_depth); sigmoid' = a (1 - a)
    # comes back from the activations, so nothing else needs to be kept.
    activations = [x]
    a = x
    for W, b in zip(weights[:-1], biases[:-1]):
        a = sigmoid(a @ W + b)
        activations.append(a)
    logits = a @ weights[-1] + biases[-1]

    # Mean softmax cross-entropy, through log-sum-exp.
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(args.batch)
    loss = -log_probs[rows, y].mean()

    # Backward pass: dL/dlogits = (softmax - onehot) / B.
    delta = np.exp(log_probs)
    delta[rows, y] -= 1.0
    delta /= args.batch

    n_layers = len(weights)
    grad_w = [None] * n_layers
    grad_b = [None] * n_layers
    for l in reversed(range(n_layers)):
        a_in = activations[l]
        grad_w[l] = a_in.T @ delta
        grad_b[l] = delta.sum(axis=0)
        if l > 0:
            # Through W_l, then through the sigmoid of the layer below.
            delta = (delta @ weights[l].T) * a_in * (1.0 - a_in)

    # The norms are taken in float64: squaring float32 entries below ~1e-19 would underflow
    # to 0 and report a zero gradient that is not zero (gradtutor sums squares in f64 too).
    norms = [float(np.linalg.norm(g.astype(np.float64))) for g in grad_w]

    print(
        f"sigmoid · xavier-normal · depth {args.depth} × width {args.width} → {args.classes}"
        f" · batch {args.batch} · float32 · numpy seed {args.seed}"
    )
    print("layer   ||dL/dW||")
    for l, g in enumerate(norms, start=1):
        print(f"{l:5d}   {g:9.2e}")
    first, last = norms[0], norms[-1]
    orders = np.log10(first / last) if first > 0 and last > 0 else float("-inf")
    print(f"loss {loss:.3f}   ||dL/dW|| layer 1 vs last: {orders:.1f} orders")


if __name__ == "__main__":
    main()
