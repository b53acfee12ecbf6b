"""gradschool's scalar engine against micrograd 0.1.0 on micrograd's own demo: two moons, MLP(2, [16, 16, 1]).

Both train the same network (ReLU hidden layers, linear output) from the same weights on the same data with
micrograd's demo loop (max-margin loss + 1e-4 * L2, SGD with lr 1.0 - 0.9 * k / 100), one step of each in
turn, and the loss trajectories must agree to 1e-9. Three comparisons:
  (a) gradschool's MLP (one fused weighted-sum node per neuron) vs micrograd as shipped;
  (b) the bare engine: micrograd's nn.py code written over gradschool's Value, vs micrograd as shipped;
  (c) the same two (and the fused MLP) with Python's cyclic garbage collector switched off for both.
Then the backward time and peak memory of a 1,000,000-node chain.

    pip install micrograd==0.1.0        # or: pip install ".[bench]"
    python benchmarks/scalar_vs_micrograd.py --steps 20
"""

import argparse
import gc
import random
import resource
import sys
import time
import tracemalloc

from micrograd.engine import Value as MicroValue
from micrograd.nn import MLP as MicroMLP

from gradschool.data.toy import make_moons
from gradschool.scalar.engine import Value, sum_values
from gradschool.scalar.nn import MLP

# ---- micrograd's nn.py, line for line, over gradschool's Value: the "bare engine" network ----


class BareNeuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class BareLayer:
    def __init__(self, nin, nout, **kwargs):
        self.neurons = [BareNeuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class BareMLP:
    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [BareLayer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0


# ---- micrograd's demo loss, written once per style ----

def demo_loss(model, X, y, value_class):
    """micrograd's demo.ipynb loss, verbatim: inputs wrapped in Values, Python's sum()."""
    inputs = [list(map(value_class, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def fused_loss(model, X, y, value_class):
    """The same loss as gradschool's library code writes it: plain-number inputs and n-ary sums."""
    scores = [model(x) for x in X]
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum_values(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum_values([p * p for p in model.parameters()])
    return data_loss + reg_loss


def sgd_step(model, loss_fn, value_class, X, y, k, total_steps):
    """One step of micrograd's demo; returns the loss Value, so that the caller decides when it is freed."""
    loss = loss_fn(model, X, y, value_class)
    model.zero_grad()
    loss.backward()
    lr = 1.0 - 0.9 * k / total_steps
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss


def copy_weights(src, dst):
    for p, q in zip(src.parameters(), dst.parameters(), strict=True):
        q.data = float(p.data)


def race(runners, X, y, steps, collector):
    """Train each runner `steps` steps, one step of each in turn; return CPU seconds per step and the losses.

    Collector on: each step's time includes freeing its graph (a gc.collect() for micrograd's reference
    cycles, plain reference counting for gradschool). Collector off: freeing is left out for both.
    """
    times = {name: 0.0 for name in runners}
    losses = {name: [] for name in runners}
    (gc.enable if collector else gc.disable)()
    try:
        for k in range(steps):
            for name, (model, loss_fn, value_class) in runners.items():
                gc.collect()  # start clean (untimed): nobody pays for another engine's garbage
                t0 = time.process_time()
                loss = sgd_step(model, loss_fn, value_class, X, y, k, 100)
                losses[name].append(loss.data)
                if collector:  # free this step's graph inside the timer
                    del loss
                    gc.collect()
                times[name] += time.process_time() - t0
                loss = None  # collector off: the graph is freed here, outside the timer
    finally:
        gc.enable()
    return {name: t / steps for name, t in times.items()}, losses


def alone(model, X, y, steps):
    """micrograd as shipped: steps in a row with the collector on, then one collection of the leftovers."""
    gc.collect()
    t0 = time.process_time()
    for k in range(steps):
        sgd_step(model, demo_loss, MicroValue, X, y, k, 100)
    gc.collect()  # the garbage of the last steps is part of their cost
    return (time.process_time() - t0) / steps


def check_agree(reference, other, name):
    worst = max(abs(a - b) / max(1.0, abs(a)) for a, b in zip(reference, other, strict=True))
    status = "ok" if worst <= 1e-9 else "MISMATCH"
    print(f"    loss trajectory {name} vs micrograd: max difference {worst:.1e} ({status}, limit 1e-9)")
    return worst <= 1e-9


def chain(n):
    """CPU seconds to build and to backpropagate x -> tanh -> tanh -> ... (n nodes), and its memory."""
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    x = Value(0.5)
    v = x
    t0 = time.process_time()
    for _ in range(n - 1):
        v = v.tanh()
    built = time.process_time() - t0
    t0 = time.process_time()
    v.backward()
    back = time.process_time() - t0
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024  # Linux reports KiB
    del v
    tracemalloc.start()
    v = x
    for _ in range(n - 1):
        v = v.tanh()
    v.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return built, back, peak, rss, x.grad


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps per comparison (default 100)")
    parser.add_argument("--chain", type=int, default=1_000_000, help="nodes in the deep chain (0 to skip)")
    args = parser.parse_args()

    if args.chain:
        built, back, peak, rss, grad = chain(args.chain)
        print(f"chain of {args.chain:,} tanh nodes: build {built:.2f} s, backward {back:.2f} s (CPU), "
              f"peak memory {peak / 2**20:.0f} MiB (tracemalloc; max RSS grew {rss / 2**20:.0f} MiB), "
              f"dx = {grad:.4g}")

    X, y = make_moons(n=100, noise=0.1, rng=random.Random(1))
    random.seed(1337)
    micro = MicroMLP(2, [16, 16, 1])
    fused = MLP(2, [16, 16, 1], nonlin="relu", out_nonlin="linear")
    bare = BareMLP(2, [16, 16, 1])
    print(f"two moons, {len(X)} points, MLP(2, [16, 16, 1]) with {len(micro.parameters())} parameters, "
          f"{args.steps} steps; Python {sys.version.split()[0]}")

    ok = True
    results = {}
    for title, collector in [("garbage collector on (as shipped)", True), ("garbage collector off", False)]:
        models = {"micrograd": micro, "gradschool MLP (fused)": fused, "bare engine": bare}
        random.seed(1337)
        init = MicroMLP(2, [16, 16, 1])
        for m in models.values():
            copy_weights(init, m)
        runners = {
            "micrograd": (micro, demo_loss, MicroValue),
            "gradschool MLP (fused)": (fused, fused_loss, Value),
            "bare engine": (bare, demo_loss, Value),
        }
        per_step, losses = race(runners, X, y, args.steps, collector)
        first, last = losses["micrograd"][0], losses["micrograd"][-1]
        print(f"\n{title}: CPU seconds per step (loss {first:.6f} -> {last:.6f})")
        for name, t in per_step.items():
            print(f"    {name:<24} {t:8.4f} s   {t / per_step['micrograd']:6.3f}x micrograd")
        for name in ["gradschool MLP (fused)", "bare engine"]:
            ok &= check_agree(losses["micrograd"], losses[name], name)
        results[collector] = per_step
    n = min(args.steps, 10)
    t = alone(micro, X, y, n)
    print(f"\nmicrograd alone, as shipped ({n} steps in a row, then one gc.collect()): {t:.4f} s per step")
    for name in ["gradschool MLP (fused)", "bare engine"]:
        print(f"    {name:<24} {results[True][name] / t:6.3f}x that (its time from the collector-on race)")
    if not ok:
        sys.exit("loss trajectories disagree")


if __name__ == "__main__":
    main()
