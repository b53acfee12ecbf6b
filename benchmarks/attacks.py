"""Replay the list of attacks on the course server against a real one on 127.0.0.1, and count what came back.

    PYTHONPATH=$PWD python benchmarks/attacks.py                  # the server from this checkout
    PYTHONPATH=$PWD python benchmarks/attacks.py --server-path /work/main   # another checkout's server
    PYTHONPATH=$PWD python benchmarks/attacks.py --clients 20 --gets 100

It starts `python -m gradschool serve` on a free port over a prepared runs folder (a trained GPT, an imported
one, a symlink out of the folder, a FIFO named best.ckpt), sends every case of every section, then measures
the GET latency of a page while 20 clients train language models (and, apart, 20 clients play the Training
page's moons). It prints: bad inputs tried, clear errors (a 4xx or a websocket error with a message), bad
inputs accepted, unclear answers (a 4xx without a message), hangs, 5xx, and tracebacks in the server's output.

The cases are grouped in sections (SECTIONS) that share one Tally: a section is a list of Case; a case sends
one bad input and returns an Outcome. CLI attacks can be added as another section of cases.
"""

import argparse
import contextlib
import hashlib
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from gradschool import checkpoint
from gradschool.runs import BEST
from gradschool.train import make_config, train

TIMEOUT = 10.0  # seconds before an answer counts as a hang
KINDS = ("clear", "accepted", "unclear", "hang", "5xx", "traceback", "lost")


@dataclass
class Outcome:
    """What one bad input got: clear (a 4xx or error with a message, or for a command that must work, its
    work done), accepted, unclear, hang, 5xx, traceback (a command's) or lost (a saved file changed)."""

    kind: str
    note: str = ""


@dataclass
class Server:
    """The server under test: its base URL, its runs folder and the file its output goes to."""

    url: str
    runs: Path
    log: Path
    pythonpath: str  # the checkout under test, for the commands of the "cli" section too

    @property
    def ws(self) -> str:
        return self.url.replace("http://", "ws://")

    def tracebacks(self) -> int:
        return self.log.read_text(errors="replace").count("Traceback (most recent call last)")


@dataclass
class Case:
    section: str
    name: str
    send: Callable[[Server], Outcome]


@dataclass
class Tally:
    """The common counter of every section."""

    outcomes: list[tuple[Case, Outcome]] = field(default_factory=list)

    def add(self, case: Case, outcome: Outcome) -> None:
        self.outcomes.append((case, outcome))

    def counts(self, section: str | None = None) -> Counter:
        return Counter(o.kind for c, o in self.outcomes if section is None or c.section == section)


# --- judging answers ---

def judge(r: httpx.Response, paths: tuple[str, ...] = ()) -> Outcome:
    """An HTTP answer to a bad input; a message naming a server path in `paths` is unclear."""
    if r.status_code >= 500:
        return Outcome("5xx", f"{r.status_code} {r.text[:100]}")
    if r.status_code < 400:
        return Outcome("accepted", f"{r.status_code} {r.text[:80]}")
    try:
        detail = r.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if not isinstance(detail, str) or not detail or any(p in detail for p in paths):
        return Outcome("unclear", f"{r.status_code} {r.text[:100]}")
    return Outcome("clear", f"{r.status_code} {detail[:100]}")


def http(method: str, path: str, **kwargs) -> Callable[[Server], Outcome]:
    def send(server: Server) -> Outcome:
        try:
            r = httpx.request(method, server.url + path, timeout=TIMEOUT, **kwargs)
        except httpx.TimeoutException:
            return Outcome("hang")
        except httpx.TransportError as e:  # the server closed the connection on us
            return Outcome("unclear", f"connection dropped: {e}")
        return judge(r, (str(server.runs.resolve()),))

    return send


def raw_json(method: str, path: str, text: str | bytes, **headers: str) -> Callable[[Server], Outcome]:
    return http(method, path, content=text, headers={"content-type": "application/json", **headers})


def websocket(path: str, frames: list[str | bytes], origin: str = "own") -> Callable[[Server], Outcome]:
    """Send frames on one connection; clear if each gets an error with a message (or the handshake or the
    connection is refused with a reason: 403 for a foreign origin, 1009 for a frame over the limit).
    With no frames, the case is the connection itself: accepted if it opens."""

    def send(server: Server) -> Outcome:
        try:
            with connect(server.ws + path, origin=server.url if origin == "own" else origin, proxy=None,
                         open_timeout=TIMEOUT, max_size=None) as ws:
                if not frames:
                    return Outcome("accepted", "the connection was accepted")
                for frame in frames:
                    ws.send(frame)
                    reply = json.loads(ws.recv(timeout=TIMEOUT))
                    if reply.get("type") not in ("error", "full") or not reply.get("detail"):
                        return Outcome("accepted", str(reply)[:100])
                    if str(server.runs.resolve()) in reply["detail"]:
                        return Outcome("unclear", "names a server path: " + reply["detail"][:100])
        except InvalidStatus as e:
            status = e.response.status_code
            return Outcome("clear" if 400 <= status < 500 else "5xx", f"handshake refused: {status}")
        except ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd else None
            return Outcome("clear" if code == 1009 else "unclear", f"closed: {code}")
        except TimeoutError:
            return Outcome("hang")
        return Outcome("clear", "every frame got an error message")

    return send


# --- the web section ---

POSTS = {"/api/neuron": ["w1", "w2", "b", "x1", "x2"], "/api/forward": ["seed"], "/api/descent": ["w", "lr"],
         "/api/derivative": ["x"], "/api/graph": [], "/api/lm/sample": ["temperature", "num", "seed"],
         "/api/lm/next": ["temperature", "top_k"], "/api/lm/attention": ["layer", "head"]}
MODEL = {"model": "names-gpt", "prompt": "a"}


def web_cases() -> list[Case]:
    cases = []

    def add(name: str, send: Callable[[Server], Outcome]) -> None:
        cases.append(Case("web", name, send))

    for path, fields in POSTS.items():
        base = MODEL if path.startswith("/api/lm/") else {}
        add(f"{path} bad JSON", raw_json("POST", path, "{bad"))
        add(f"{path} a list body", raw_json("POST", path, "[1, 2]"))
        add(f"{path} a string body", raw_json("POST", path, '"x"'))
        add(f"{path} unknown field", http("POST", path, json={**base, "surprise": 1}))
        add(f"{path} deep nesting", raw_json("POST", path, "[" * 50_000 + "]" * 50_000))
        add(f"{path} 48 MB body", raw_json("POST", path, b" " * 48_000_000))
        for f in fields:
            add(f"{path} {f} wrong type", http("POST", path, json={**base, f: "x"}))
            add(f"{path} {f} huge", http("POST", path, json={**base, f: 10**400}))
            for value in ("NaN", "Infinity", "-Infinity", "1e400"):
                body = json.dumps(base)[:-1] + (", " if base else "") + f'"{f}": {value}}}'
                add(f"{path} {f}={value}", raw_json("POST", path, body))
    add("/api/graph variables NaN", raw_json("POST", "/api/graph", '{"variables": {"a": NaN}}'))
    add("/api/graph variable named __class__", http("POST", "/api/graph",
                                                    json={"variables": {"__class__": 1}}))
    add("/api/graph expression calls Python", http("POST", "/api/graph",
                                                   json={"expression": "__import__('os')"}))

    def chunked(server: Server) -> Outcome:
        def body():
            for _ in range(30):
                yield b" " * 100_000

        headers = {"content-type": "application/json"}
        return http("POST", "/api/neuron", content=body(), headers=headers)(server)

    add("streamed 3 MB body without Content-Length", chunked)
    for path in ["/..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd", "/static/..%2f..%2fapp.py",
                 "/static/../app.py", "/static/%2e%2e/web/app.py", "/api/source/..%2f..%2fcli",
                 "/api/source/secrets", "/nope", "/api/nope", "/static/nope.js", "/index.html"]:
        add(f"GET {path}", http("GET", path))
    add("GET on a POST endpoint", http("GET", "/api/neuron"))

    # DNS rebinding and other sites
    def rebound(server: Server) -> Outcome:
        port = server.url.rsplit(":", 1)[1]
        return http("GET", "/neuron", headers={"host": f"rebound.example:{port}"})(server)

    add("Host: a rebinding domain", rebound)
    add("Host: another port", lambda s: http("GET", "/neuron", headers={"host": "127.0.0.1:1"})(s))
    add("POST from another site's page", http("POST", "/api/neuron", json={},
                                              headers={"origin": "http://evil.example"}))
    add("POST from a sandboxed page (Origin null)", http("POST", "/api/neuron", json={},
                                                         headers={"origin": "null"}))

    # language models: names that are paths, symlinks out of the runs folder, a FIFO
    for name in ["../names-gpt", "/etc/passwd", "names-gpt/best.ckpt", "..", "escape", "linked", "fifo",
                 "nothing"]:
        add(f"/api/lm/next model {name!r}", http("POST", "/api/lm/next", json={"model": name}))

    # websockets
    for path in ["/api/train", "/api/lm/train"]:
        add(f"{path} from another site", websocket(path, [], origin="http://evil.example"))
        add(f"{path} Origin null", websocket(path, [], origin="null"))
        add(f"{path} binary frame", websocket(path, [b"\x00\xff"]))
        add(f"{path} non-JSON text", websocket(path, ["hello"]))
        add(f"{path} 100 kB frame", websocket(path, ["x" * 100_000]))
        add(f"{path} 2 MB frame", websocket(path, ["x" * 2_000_000]))
        add(f"{path} unknown type", websocket(path, ['{"type": "fly"}']))
    add("/api/train lr NaN", websocket("/api/train", ['{"type": "reset", "config": {"task": "tiny", '
                                                      '"lr": NaN}}']))
    add("/api/train huge hidden", websocket("/api/train", ['{"type": "reset", "config": {"task": "moons", '
                                                           '"hidden": [1e400]}}']))
    add("/api/lm/train steps 1e9", websocket("/api/lm/train", ['{"type": "start", "steps": 1000000000}']))
    return cases


# --- the command line ---

def gradschool(server: Server, args: list, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -m gradschool ARGS` in cwd with the checkout under test (the server's)."""
    env = dict(os.environ, PYTHONPATH=server.pythonpath)
    return subprocess.run([sys.executable, "-m", "gradschool", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def command(args: list, expect: str = "refuse", setup: Callable[[Path, Server], None] | None = None,
            keep: tuple[str, ...] = (), timeout: float = 120) -> Callable[[Server], Outcome]:
    """A command run in a fresh folder (prepared by setup): it must refuse with a message (expect="refuse")
    or do its work (expect="ok"); never a traceback; the files named in keep stay byte for byte."""

    def send(server: Server) -> Outcome:
        folder = Path(tempfile.mkdtemp(prefix="cli-", dir=server.runs.parent))
        if setup:
            setup(folder, server)
        kept = {name: (folder / name).read_bytes() for name in keep}
        try:
            args_here = [str(a).replace("{runs}", str(server.runs)) for a in args]
            r = gradschool(server, args_here, folder, timeout)
        except subprocess.TimeoutExpired:
            return Outcome("hang")
        if any((folder / name).read_bytes() != data for name, data in kept.items()):
            return Outcome("lost", f"changed: {', '.join(keep)}")
        if "Traceback (most recent call last)" in r.stderr + r.stdout:
            return Outcome("traceback", r.stderr.strip().splitlines()[-1][:120])
        message = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
        if expect == "ok":
            worked = "clear" if r.returncode == 0 else "unclear"
            return Outcome(worked, f"exit {r.returncode} {message[:100]}")
        if r.returncode == 0:
            return Outcome("accepted", r.stdout.strip()[-100:])
        if r.returncode == 130 or "Error" not in message:
            return Outcome("unclear", f"exit {r.returncode} {message[:100]}")
        return Outcome("clear", message[:120])

    return send


def copy_model(name: str) -> Callable[[Path, Server], None]:
    """Setup: the prepared trained model's best.ckpt copied into the folder as `name`."""
    def setup(folder: Path, server: Server) -> None:
        (folder / name).write_bytes((server.runs / "names-gpt" / BEST).read_bytes())
    return setup


def crafted(change: Callable[[dict], None], name: str = "model.ckpt") -> Callable[[Path, Server], None]:
    """Setup: the trained model's checkpoint, changed by `change` and saved again (a valid checksum)."""
    def setup(folder: Path, server: Server) -> None:
        state = checkpoint.load(server.runs / "names-gpt" / BEST)
        change(state)
        checkpoint.save(folder / name, state)
    return setup


def sealed(payload: bytes, name: str = "model.ckpt") -> Callable[[Path, Server], None]:
    """Setup: a checkpoint file with a correct header and checksum around a crafted payload."""
    def setup(folder: Path, server: Server) -> None:
        header = checkpoint.HEADER.pack(checkpoint.MAGIC, checkpoint.VERSION, len(payload),
                                        hashlib.sha256(payload).digest())
        (folder / name).write_bytes(header + payload)
    return setup


def npz(meta: str, **arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.frombuffer(meta.encode(), dtype=np.uint8), **arrays)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    """An .npz whose array entry claims 4 GiB uncompressed."""
    payload = bytearray(npz('{"w": {"__array__": "w", "scalar": false}}', w=np.ones(4)))
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = payload.index(signature)
        payload[at + offset: at + offset + 4] = (0xFFFFFFF0).to_bytes(4, "little")
    return bytes(payload)


TEXT = "".join(f"{w} the quick brown fox jumps over the lazy dog\n" for w in range(200))
TINY = ["--model", "bigram", "--max-iters", 4, "--eval-interval", 2, "--eval-iters", 1, "--batch-size", 4]


def text_file(folder: Path, server: Server) -> None:
    (folder / "data.txt").write_text(TEXT)


def trained_run(folder: Path, server: Server) -> None:
    """Setup: data.txt and a short bigram run of it in run/."""
    text_file(folder, server)
    r = gradschool(server, ["train", "--data", "data.txt", "--out", "run", *TINY], folder)
    assert r.returncode == 0, r.stderr


def changed_data(folder: Path, server: Server) -> None:
    trained_run(folder, server)
    (folder / "data.txt").write_text(TEXT[::-1])  # the same characters, another text


def garbled_metrics(folder: Path, server: Server) -> None:
    trained_run(folder, server)
    with open(folder / "run" / "metrics.jsonl", "a") as f:
        f.write('[1]\n"x"\n{"iter": "a"}\n{"iter": -3, "loss": 1}\n{"iter": 2, "loss": "NaN"}\n{"it\n')


def export_files(model_pt: str, config_json: str) -> Callable[[Path, Server], None]:
    """Setup: a model.pt and config.json as `export --from torch` reads them, with the given contents."""
    def setup(folder: Path, server: Server) -> None:
        (folder / "model.pt").write_text(model_pt)
        (folder / "config.json").write_text(config_json)
    return setup


def fifo(folder: Path, server: Server) -> None:
    os.mkfifo(folder / "data.txt")


def cli_cases() -> list[Case]:
    """The command line's bad inputs: folders that hold work, crafted files, absurd numbers."""
    train, model = ["train", "--data", "data.txt", *TINY], "{runs}/names-gpt"
    cases = [
        ("train over an imported best.ckpt", ["train", "--data", "names", "--out", ".", *TINY[2:]],
         "refuse", copy_model(BEST), (BEST,)),
        ("train over a metrics.jsonl", [*train, "--out", "."], "refuse",
         lambda f, s: (text_file(f, s), (f / "metrics.jsonl").write_text('{"iter": 0, "loss": 3}\n')),
         ("metrics.jsonl",)),
        ("export over a model.pt", ["export", model, "--to", "torch", "."], "refuse",
         lambda f, s: (f / "model.pt").write_text("precious"), ("model.pt",)),
        ("import a model.pt that is not one", ["export", "--from", "torch", "model.pt", "--out", "out"],
         "refuse", export_files("x", "{}"), ()),
        ("import with a config.json that is not JSON", ["export", "--from", "torch", "model.pt", "--out",
         "out"], "refuse", export_files("x", "{"), ()),
        ("resume on changed data", ["train", "--resume", "--out", "run", "--max-iters", 6], "refuse",
         changed_data, ("run/last.ckpt",)),
        ("resume over malformed metrics lines", ["train", "--resume", "--out", "run", "--max-iters", 6], "ok",
         garbled_metrics, ()),
        ("resume naming the data file another way", ["train", "--resume", "--out", "run", "--data",
         "./data.txt", "--max-iters", 6], "ok", trained_run, ()),
        ("--data /dev/zero", [*train[:1], "--data", "/dev/zero", *TINY, "--out", "run"], "refuse", None, ()),
        ("--data a FIFO", [*train, "--out", "run"], "refuse", fifo, ()),
        ("--data a folder", [*train[:1], "--data", ".", *TINY, "--out", "run"], "refuse", None, ()),
        ("--data a binary file", [*train, "--out", "run"], "refuse",
         lambda f, s: (f / "data.txt").write_bytes(bytes(range(256)) * 100), ()),
        ("--min-lr above --lr", [*train, "--lr", 0.01, "--min-lr", 0.1, "--out", "run"], "refuse",
         text_file, ()),
        ("--lr inf", [*train, "--lr", "inf", "--out", "run"], "refuse", text_file, ()),
        ("--lr nan", [*train, "--lr", "nan", "--out", "run"], "refuse", text_file, ()),
        ("--n-embd 1000000", ["train", "--data", "data.txt", "--model", "gpt", "--n-embd", 1_000_000,
         "--out", "run"], "refuse", text_file, ()),
        ("--n-layer 100000", ["train", "--data", "data.txt", "--model", "gpt", "--n-layer", 100_000,
         "--out", "run"], "refuse", text_file, ()),
        ("--batch-size 10**9", [*train, "--batch-size", 10**9, "--out", "run"], "refuse", text_file, ()),
        ("sample --max-new-tokens 1e8", ["sample", "--from", model, "--max-new-tokens", 100_000_000],
         "refuse", None, ()),
        ("sample --temperature 5e-324", ["sample", "--from", model, "--temperature", "5e-324", "--num", 2],
         "ok", None, ()),
        ("sample a names model with '.' in the prompt", ["sample", "--from", model, "--prompt", "a.b"],
         "refuse", None, ()),
    ]
    checkpoints = [
        ("a checkpoint without its model_config", crafted(lambda s: s.pop("model_config"))),
        ("a checkpoint whose vocabulary is a number", crafted(lambda s: s.update(vocab=7))),
        ("a checkpoint claiming n_embd 10**6", crafted(lambda s: s["model_config"].update(n_embd=10**6))),
        ("a checkpoint whose weights are strings", crafted(lambda s: s.update(model={"x": "y"}))),
        ("a checkpoint nesting its JSON 100,000 deep",
         sealed(npz('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"))),
        ("a checkpoint whose array claims 4 GiB", sealed(zip_bomb())),
    ]
    cases += [(f"sample from {name}", ["sample", "--from", "model.ckpt"], "refuse", setup, ("model.ckpt",))
              for name, setup in checkpoints]
    cases.append(("resume a checkpoint without its train_config",
                  ["train", "--resume", "--out", "run", "--data", "names"], "refuse",
                  lambda f, s: (f / "run").mkdir() or crafted(lambda st: st.pop("train_config"),
                                                             "run/last.ckpt")(f, s), ("run/last.ckpt",)))
    return [Case("cli", name, command(args, expect, setup, keep))
            for name, args, expect, setup, keep in cases]


SECTIONS: dict[str, Callable[[], list[Case]]] = {"web": web_cases, "cli": cli_cases}


# --- the server under test ---

def prepare_runs(folder: Path) -> None:
    """A trained GPT, an imported copy (no train_config), a symlink out of the folder, a FIFO best.ckpt."""
    config = make_config("gpt", "names", n_layer=1, n_head=2, n_embd=16, block_size=16,
                         batch_size=8, max_iters=20, eval_interval=20, eval_iters=1, learning_rate=1e-2,
                         warmup_iters=0, out_dir=str(folder / "names-gpt"))
    train(config, progress=False)
    state = checkpoint.load(folder / "names-gpt" / BEST)
    (folder / "imported").mkdir()
    checkpoint.save(folder / "imported" / BEST, {k: v for k, v in state.items()
                                                 if k not in ("train_config", "iter_num", "best_val_loss")})
    outside = folder.parent / "outside"
    outside.mkdir()
    (outside / BEST).write_bytes((folder / "names-gpt" / BEST).read_bytes())
    (folder / "escape").symlink_to(outside)
    (folder / "linked").mkdir()
    (folder / "linked" / BEST).symlink_to(outside / BEST)
    (folder / "fifo").mkdir()
    os.mkfifo(folder / "fifo" / BEST)


@contextlib.contextmanager
def running_server(workdir: Path, server_path: str | None):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    runs, log = workdir / "runs", workdir / "server.log"
    env = dict(os.environ, PYTHONPATH=server_path or os.environ.get("PYTHONPATH", ""), PYTHONUNBUFFERED="1")
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gradschool", "serve", "--port", str(port),
                                 "--runs", str(runs)], stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=workdir)  # not this checkout's folder: `-m` would import from it first
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                httpx.get(url + "/", timeout=1)
                break
            time.sleep(0.05)
        yield Server(url, runs, log, env["PYTHONPATH"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- latency while clients train ---

def trainer(server: Server, path: str, start: dict | list, answers: list, errors: list,
            stop: threading.Event) -> None:
    """One client: start a training, keep reading its messages until stop, then leave. Its first answer
    goes to answers, any later error to errors."""
    answered = False
    try:
        with connect(server.ws + path, origin=server.url, proxy=None, open_timeout=60) as ws:
            for message in start if isinstance(start, list) else [start]:
                ws.send(json.dumps(message))
            first = json.loads(ws.recv(timeout=60))
            if first["type"] == "reset":  # the Training page: reset, then play
                first = json.loads(ws.recv(timeout=60))
            if first["type"] == "error" and "already" in first["detail"]:  # the Training page's limit
                first["type"] = "full"
            answers.append(first)
            answered = True
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    message = json.loads(ws.recv(timeout=0.2))
                    if message["type"] == "error":
                        errors.append(message)
    except (ConnectionClosed, InvalidStatus, TimeoutError, OSError) as e:
        if not answered:  # a refused session closes after its error message (1013: try again later)
            full = isinstance(e, ConnectionClosed) and e.rcvd is not None and e.rcvd.code == 1013
            answers.append({"type": "full" if full else "lost", "detail": str(e)})


def latency_under_load(server: Server, path: str, start: dict | list, clients: int, gets: int) -> dict:
    """GET / and POST /api/lm/next `gets` times each (50 ms apart) while `clients` clients train; the
    latencies, the clients' first answers, and their later errors."""
    stop, answers, errors = threading.Event(), [], []
    args = (server, path, start, answers, errors, stop)
    threads = [threading.Thread(target=trainer, args=args, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(answers) < clients and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2.0)  # the trainings are under way
    times, lm_times = [], []
    with httpx.Client(timeout=60) as c:
        for _ in range(gets):
            t0 = time.perf_counter()
            c.get(server.url + "/")
            times.append(1000 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            c.post(server.url + "/api/lm/next", json={"model": "names-gpt", "prompt": "an"})
            lm_times.append(1000 * (time.perf_counter() - t0))
            time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    kinds = Counter(a["type"] for a in answers)
    return {"get": spread(times), "lm": spread(lm_times), "answers": kinds, "errors": len(errors),
            "leaks": sum(str(server.runs.resolve()) in a.get("detail", "") for a in answers + errors)}


def spread(times: list[float]) -> str:
    """The median and 95th percentile of latencies in ms, as text."""
    times = sorted(times)
    return f"median {statistics.median(times):.1f} ms, p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-path", default=None, help="PYTHONPATH for the server (another checkout)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--gets", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gradschool-attacks-") as tmp:
        workdir = Path(tmp)
        (workdir / "runs").mkdir()
        prepare_runs(workdir / "runs")
        with running_server(workdir, args.server_path) as server:
            print(f"server: {server.url} (load average {os.getloadavg()[0]:.1f}; the machine is shared)")
            idle = latency_under_load(server, "/api/lm/train", [], 0, args.gets)
            print(f"idle: GET / {idle['get']}; POST /api/lm/next {idle['lm']}")
            lm = latency_under_load(server, "/api/lm/train", {"type": "start", "steps": 2000}, args.clients,
                                    args.gets)
            print(f"while {args.clients} clients train language models: GET / {lm['get']}; "
                  f"POST /api/lm/next {lm['lm']}; answers {dict(lm['answers'])}, errors after starting "
                  f"{lm['errors']}, messages showing a server path {lm['leaks']}")
            moons = [{"type": "reset", "config": {"task": "moons", "hidden": [16, 16]}}, {"type": "play"}]
            play = latency_under_load(server, "/api/train", moons, args.clients, args.gets)
            print(f"while {args.clients} clients play moons on the Training page: GET / {play['get']}; "
                  f"POST /api/lm/next {play['lm']}; answers {dict(play['answers'])}")
            tally = Tally()
            for section, make in SECTIONS.items():
                for case in make():
                    tally.add(case, case.send(server))
                counts = tally.counts(section)
                print(f"[{section}] bad inputs tried: {sum(counts.values())}; "
                      + ", ".join(f"{kind} {counts[kind]}" for kind in KINDS))
            total = tally.counts()
            print(f"all sections: bad inputs tried: {sum(total.values())}")
            for kind in KINDS:
                print(f"  {kind:9s} {total[kind]}")
            for case, outcome in tally.outcomes:
                if outcome.kind != "clear":
                    print(f"    {outcome.kind}: [{case.section}] {case.name}: {outcome.note}")
            time.sleep(1.0)
            print(f"tracebacks in the server's output: {server.tracebacks()}")


if __name__ == "__main__":
    main()
