"""How fast the course answers: every page and every figure API, timed against a real server on 127.0.0.1.

    PYTHONPATH=$PWD python benchmarks/course_latency.py            # 20 requests each
    PYTHONPATH=$PWD python benchmarks/course_latency.py --repeat 50

The goal (the chapters issue): every request that does not train answers in <= 200 ms on this machine, and a
live training streams at least 5 updates a second. The requests are read from the server's own OpenAPI
description: each POST under /api/ gets a body made of its schema's defaults (EXAMPLES gives the ones that
need more); the pages are the home page and every chapter. Prints median and 95th percentile per request,
the slowest first, and the updates a second of each live-training websocket in STREAMS.
"""

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from attacks import running_server
from websockets.sync.client import connect

GOAL_MS = 200.0
MODEL = "gpt-shakespeare"  # rung 9's GPT (4 layers, 128 wide), trained a few steps before the server starts
# bodies for endpoints whose required fields have no default in the schema (filled in as chapters land)
EXAMPLES: dict[str, dict] = {
    "/api/figure/softmax": {"logits": [2.0, 1.0, 0.1], "target": 0},
    "/api/graph": {"expression": "tanh(a*b + a)", "variables": {"a": 2.0, "b": -3.0}},
    "/api/figure/bigram/name": {"name": "emma"},
    "/api/lm/sample": {"model": MODEL, "prompt": "ROMEO:", "num": 3, "max_new_tokens": 80},  # chapter 9's
    "/api/lm/next": {"model": MODEL, "prompt": "ROMEO:"},
    "/api/lm/attention": {"model": MODEL, "prompt": "ROMEO: what say you", "layer": 3, "head": 1},
}
# live trainings: (websocket path, the messages that start one, seconds to listen)
STREAMS = [
    ("/api/train", [{"type": "reset", "config": {"task": "moons", "hidden": [16, 16]}}, {"type": "play"}],
     5.0),
    ("/api/figure/spirals", [{"type": "start", "steps": 2000}], 5.0),
    ("/api/figure/bigram/train", [{"type": "start", "steps": 2000}], 5.0),
    ("/api/figure/embeddings/live", [{"type": "reset"}, {"type": "play"}], 5.0),
    ("/api/lm/train", [{"type": "start", "steps": 2000}], 10.0),
]


def body_from_schema(schema: dict, components: dict) -> dict:
    """A request body from a JSON schema: each property's default (required ones without: their minimum)."""
    if "$ref" in schema:
        schema = components[schema["$ref"].split("/")[-1]]
    body = {}
    for name, prop in schema.get("properties", {}).items():
        if "default" in prop:
            body[name] = prop["default"]
        elif name in schema.get("required", []):
            body[name] = prop.get("minimum", prop.get("exclusiveMinimum", 0) + 1e-3)
    return body


def requests_of(url: str) -> list[tuple[str, str, dict | None]]:
    """(method, path, body) of every page and figure API the server describes."""
    spec = httpx.get(url + "/openapi.json").json()
    components = spec.get("components", {}).get("schemas", {})
    found = [("GET", "/", None)] + [("GET", link, None) for link in chapters(url)]
    for path, ops in spec["paths"].items():
        if "post" not in ops or not path.startswith("/api/"):
            continue
        content = ops["post"].get("requestBody", {}).get("content", {}).get("application/json", {})
        body = EXAMPLES.get(path) or body_from_schema(content.get("schema", {}), components)
        found.append(("POST", path, body))
    return found


def chapters(url: str) -> list[str]:
    """The chapter links on the home page."""
    page = httpx.get(url + "/").text
    return sorted({part.split('"')[0] for part in page.split('href="')[1:] if part.startswith("/chapter/")})


def stream_rate(url: str, path: str, start: list[dict], seconds: float) -> float:
    """Messages a second a live-training websocket sends once started."""
    ws_url = url.replace("http://", "ws://") + path
    with connect(ws_url, origin=url, proxy=None, open_timeout=30) as ws:
        for message in start:
            ws.send(json.dumps(message))
        count, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < seconds:
            with contextlib.suppress(TimeoutError):
                ws.recv(timeout=0.5)
                count += 1
    return count / seconds


def train_model(runs: Path) -> None:
    """A GPT of rung 9's size in runs/MODEL, trained a few steps (the latency does not depend on its loss)."""
    from gradschool.train import make_config, train

    train(make_config("gpt", "shakespeare", max_iters=20, eval_interval=20, eval_iters=1,
                      out_dir=str(runs / MODEL)), progress=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gradschool-latency-") as tmp:
        train_model(Path(tmp) / "runs")
        with running_server(Path(tmp), None) as server:  # the attack list's: this checkout's server
            report(server.url, args.repeat)


def report(url: str, repeat: int) -> None:
    """Time every request `repeat` times (after one warm-up) and every stream; print the table."""
    print(f"server {url} (load average {os.getloadavg()[0]:.1f})")
    rows = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for method, path, body in requests_of(url):
            times, status = [], None
            for i in range(repeat + 1):
                t0 = time.perf_counter()
                r = client.request(method, path, json=body)
                if i:  # the first request of each warms its caches
                    times.append(1000 * (time.perf_counter() - t0))
                status = r.status_code
            times.sort()
            p95 = times[int(0.95 * (len(times) - 1))]
            rows.append((statistics.median(times), p95, method, path, status))
    rows.sort(reverse=True)
    for median, p95, method, path, status in rows:
        flag = "" if p95 <= GOAL_MS and status == 200 else "  <-- over the goal" if status == 200 else \
            f"  <-- answered {status}"
        print(f"{median:8.1f} ms median {p95:8.1f} ms p95  {method:4s} {path}{flag}")
    worst = max(p95 for _, p95, *_ in rows)
    print(f"{len(rows)} requests; the slowest p95 is {worst:.1f} ms (goal <= {GOAL_MS:.0f} ms)")
    for path, start, seconds in STREAMS:
        print(f"live training {path}: {stream_rate(url, path, start, seconds):.1f} updates/s (goal >= 5)")


if __name__ == "__main__":
    main()
