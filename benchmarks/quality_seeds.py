"""The 1.89 bar across seeds: nanoGPT's CPU recipe in gradschool and in nanoGPT's own loop, side by side.

Each run is a child process of its own, one after the other:
  gradschool: `gradschool train --preset nanogpt-cpu --data DATA --seed N` (fresh eval batches, as nanoGPT;
              --random-stream picks its draws: nanogpt, the preset's, replays torch's, so each seed gives
              nanoGPT's run of that seed; gradschool draws from NumPy's generators, another run per seed)
  nanoGPT:    `python benchmarks/nanogpt_recipe.py --data DATA --seed N` (nanoGPT's train.py loop in PyTorch)
Each is scored twice: the best val loss of the run (20 batches per evaluation, nanoGPT's estimator, the
number the bar is about) and its final model's loss over the whole val split (no sampling noise). About
4 minutes a seed at 2 threads (both trainings and both whole-split scores).

    python benchmarks/quality_seeds.py --seeds 1337 1 2 3 4 5 [--random-stream gradschool]
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "tinyshakespeare.txt"
BAR = 1.89


def run(*cmd: str) -> str:
    """A child's standard output; its progress bars are dropped, and its errors shown if it fails."""
    done = subprocess.run([sys.executable, *cmd], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def number_after(label: str, text: str) -> float:
    """The number that ends the line where label appears."""
    return float(re.search(re.escape(label) + r".*?([0-9]+\.[0-9]+)\s*$", text, re.MULTILINE).group(1))


def gradschool_scores(seed: int, data: str, out: Path, stream: str) -> tuple[float, float]:
    run("-m", "gradschool", "train", "--preset", "nanogpt-cpu", "--data", data, "--seed", str(seed),
        "--random-stream", stream, "--out", str(out))
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    best = min(r["val_loss"] for r in records if "val_loss" in r)
    # last.ckpt holds the model of the last evaluation: the final model, as nanoGPT's whole-split score uses
    text = run(str(HERE / "gpt_vs_torch.py"), "--full-val", str(out / "last.ckpt"), "--data", data)
    return best, number_after("loss over the whole val split", text)


def nanogpt_scores(seed: int, data: str) -> tuple[float, float]:
    text = run(str(HERE / "nanogpt_recipe.py"), "--seed", str(seed), "--data", data)
    return number_after("best val loss", text), number_after("loss over the whole val split", text)


def summary(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return (f"mean {statistics.mean(values):.4f}  median {statistics.median(values):.4f}  sd {sd:.4f}  "
            f"<= {BAR}: {sum(v <= BAR for v in values)} of {len(values)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1337, 1, 2, 3, 4, 5])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--random-stream", choices=["nanogpt", "gradschool"], default="nanogpt",
                        help="gradschool's draws (default: nanogpt, the preset's)")
    parser.add_argument("--out", default=None, help="folder for gradschool's runs (default: a temporary one)")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="quality_seeds_"))
    scores: dict[str, list[tuple[float, float]]] = {"gradschool": [], "nanoGPT": []}
    print(f"{'seed':>6}  {'engine':<10}  {'best val (20 batches)':>21}  {'whole val split':>15}", flush=True)
    engines = {"gradschool": lambda s: gradschool_scores(s, args.data, out / f"seed_{s}", args.random_stream),
               "nanoGPT": lambda s: nanogpt_scores(s, args.data)}
    for seed in args.seeds:
        for engine, score in engines.items():
            best, whole = score(seed)
            scores[engine].append((best, whole))
            print(f"{seed:>6}  {engine:<10}  {best:>21.4f}  {whole:>15.4f}", flush=True)
    for engine, pairs in scores.items():
        print(f"{engine + ', best val:':<29}{summary([b for b, _ in pairs])}")
        print(f"{engine + ', whole val split:':<29}{summary([w for _, w in pairs])}")


if __name__ == "__main__":
    main()
