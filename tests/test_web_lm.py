"""Chapter 9's API: sampling, next-character probabilities and attention of a tiny GPT trained here, its live
training, and the runs folder that `gradschool train` fills and the course reads."""

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from gradschool.cli import cli
from gradschool.runs import RUNS_ENV, load_model, read_metrics
from gradschool.sampling import next_token_probs
from gradschool.tensor import is_grad_enabled, no_grad
from gradschool.train import make_config, train
from gradschool.web.app import create_app
from gradschool.web.lm_training import claim_folder

WS = "ws://127.0.0.1:8000"  # websocket_connect needs the full URL, else it names the host "testserver"


def local_client(app) -> TestClient:
    """A test client that names the server by its own address (the app refuses any other Host)."""
    return TestClient(app, base_url="http://127.0.0.1:8000")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A runs folder holding one GPT (2 layers, 2 heads) trained for a few steps on the names corpus."""
    folder = tmp_path_factory.mktemp("runs")
    config = make_config("gpt", "names", n_layer=2, n_head=2, n_embd=32, block_size=16,
                         batch_size=16, max_iters=60, eval_interval=30, eval_iters=2, learning_rate=1e-2,
                         warmup_iters=0, out_dir=str(folder / "names-gpt"))
    train(config, progress=False)
    (folder / "empty").mkdir()  # a folder without a checkpoint is not a model
    return folder


@pytest.fixture(scope="module")
def client(runs):
    return local_client(create_app(runs_dir=runs))


def post(client, path: str, body: dict) -> dict:
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_models_lists_the_run_folders_with_a_checkpoint(client):
    models = client.get("/api/lm/models").json()
    assert [m["name"] for m in models] == ["names-gpt"]
    assert models[0] | {"val_loss": None} == {
        "name": "names-gpt", "kind": "gpt", "data": "names", "vocab_size": 27, "block_size": 16, "n_layer": 2,
        "n_head": 2, "boundary": ".", "iter_num": 60, "val_loss": None}
    assert 0 < models[0]["val_loss"] < math.log(27) + 0.5


def test_sample_is_reproducible_with_a_seed(client):
    body = {"model": "names-gpt", "prompt": "em", "num": 4, "max_new_tokens": 12, "seed": 7}
    first = post(client, "/api/lm/sample", body)["samples"]
    assert first == post(client, "/api/lm/sample", body)["samples"]
    assert len(first) == 4 and all(s.startswith("em") and "." not in s for s in first)
    others = [post(client, "/api/lm/sample", body | {"seed": seed})["samples"] for seed in (8, 9)]
    assert any(o != first for o in others)


@pytest.mark.parametrize("prompt", ["", "a", "jo", "mar"])
def test_greedy_sample_follows_the_most_likely_next_character(client, prompt):
    nxt = post(client, "/api/lm/next", {"model": "names-gpt", "prompt": prompt})
    best = nxt["choices"][0]
    assert best["prob"] == max(c["prob"] for c in nxt["choices"])
    greedy = post(client, "/api/lm/sample", {"model": "names-gpt", "prompt": prompt, "top_k": 1, "num": 1,
                                             "max_new_tokens": 1})["samples"][0]
    assert greedy == (prompt if best["end"] else prompt + best["char"])


def model_probs(runs, prompt: str, **options) -> tuple[np.ndarray, list[str]]:
    """names-gpt's distribution of the next character after the prompt, computed here from its logits."""
    model, tok, _ = load_model(runs / "names-gpt")
    with no_grad():
        logits = model(np.array([tok.encode_prompt(prompt)])).data[0, -1]
    return next_token_probs(logits, **options), tok.itos


@pytest.mark.parametrize("options", [{"temperature": 0.7}, {"top_k": 5}, {"top_p": 0.6},
                                     {"temperature": 1.6, "top_k": 12, "top_p": 0.8}])
def test_next_character_bars_are_the_sampling_distribution(client, runs, options):
    nxt = post(client, "/api/lm/next", {"model": "names-gpt", "prompt": "an", **options})
    assert nxt["tokens"] == [".", "a", "n"]
    probs, itos = model_probs(runs, "an", **options)
    order = [i for i in np.argsort(-probs, kind="stable")[:15] if probs[i] > 0]
    assert [c["char"] for c in nxt["choices"]] == [itos[i] for i in order]
    assert np.allclose([c["prob"] for c in nxt["choices"]], probs[order], atol=1e-6)
    if "top_p" in options:  # the fewest likeliest characters whose probabilities reach top_p
        body = {"model": "names-gpt", "prompt": "an", **options, "top_p": None}
        kept = np.array([c["prob"] for c in post(client, "/api/lm/next", body)["choices"]])
        reach = np.searchsorted(np.cumsum(kept), options["top_p"]) + 1
        assert len(nxt["choices"]) == min(reach, 15)


def test_top_p_changes_the_samples_as_it_changes_the_distribution(client):
    body = {"model": "names-gpt", "prompt": "a", "num": 20, "max_new_tokens": 1, "seed": 3,
            "temperature": 2.0}
    narrow = post(client, "/api/lm/sample", body | {"top_p": 0.3})["samples"]
    kept = [c["char"] for c in post(client, "/api/lm/next", {"model": "names-gpt", "prompt": "a",
                                                             "temperature": 2.0, "top_p": 0.3})["choices"]]
    assert {s[1:] or "." for s in narrow} <= set(kept) | {"."}
    wide = post(client, "/api/lm/sample", body)["samples"]
    assert len(set(wide)) > len(set(narrow))
    r = client.post("/api/lm/next", json={"model": "names-gpt", "top_p": 0})
    assert r.status_code == 422 and "top_p" in r.json()["detail"]


def test_top_k_leaves_k_characters_whose_probabilities_sum_to_one(client):
    for top_k in (1, 3, 10):
        body = {"model": "names-gpt", "prompt": "k", "top_k": top_k}
        choices = post(client, "/api/lm/next", body)["choices"]
        assert len(choices) == top_k
        assert sum(c["prob"] for c in choices) == pytest.approx(1.0, abs=1e-9)


def test_attention_rows_sum_to_one_and_are_the_models_own_weights(client, runs):
    model, tok, _ = load_model(runs / "names-gpt")
    ids = np.array(tok.encode(".olivia"))
    for layer in (0, 1):
        own = model.attention_weights(ids, layer)  # (n_head, T, T), computed here
        for head in (0, 1):
            r = post(client, "/api/lm/attention", {"model": "names-gpt", "prompt": "olivia", "layer": layer,
                                                   "head": head})
            assert r["tokens"] == list(".olivia")
            w = np.array(r["weights"])
            assert w.shape == (7, 7)
            assert np.allclose(w.sum(axis=1), 1.0)
            assert np.all(w[np.triu_indices(7, k=1)] == 0)
            assert np.all(w[np.tril_indices(7)] > 0)
            assert np.allclose(w, own[head], atol=1e-7)
    # the heads differ, and mixing layer 0's values with them gives the model's own attention output
    body = {"model": "names-gpt", "prompt": "olivia"}
    a = np.array(post(client, "/api/lm/attention", body)["weights"])
    b = np.array(post(client, "/api/lm/attention", body | {"head": 1})["weights"])
    assert not np.allclose(a, b)
    attn = model.transformer.h[0].attn
    x = model.transformer.h[0].ln_1(model.transformer.wte(ids[None]) + model.transformer.wpe(np.arange(7)))
    _, _, v = attn.c_attn(x).split(32, axis=2)
    heads = np.concatenate([w @ v.data[0, :, h * 16:(h + 1) * 16] for h, w in ((0, a), (1, b))], axis=1)
    y = attn(x).data[0]
    assert np.allclose(heads @ attn.c_proj.weight.data.T, y, atol=1e-4)


@pytest.mark.parametrize("name", ["../names-gpt", "names-gpt/best.ckpt", "/etc/passwd", "a\\b", ".."])
def test_model_names_that_look_like_paths_are_refused(client, name):
    r = client.post("/api/lm/next", json={"model": name})
    assert r.status_code == 400
    assert "never a path" in r.json()["detail"]


@pytest.mark.parametrize("name", ["nothing", "empty"])
def test_unknown_models_are_404_with_the_list(client, name):
    r = client.post("/api/lm/sample", json={"model": name})
    assert r.status_code == 404
    assert r.json()["detail"] == f"no model called {name!r} in the runs folder; the models are: names-gpt"


def test_bad_inputs_get_clear_4xx(client):
    r = client.post("/api/lm/next", json={"model": "names-gpt", "prompt": "Zoë!"})
    assert r.status_code == 422
    assert "characters not in the vocabulary: '!', 'Z', 'ë'" in r.json()["detail"]  # the CLI's message
    r = client.post("/api/lm/attention", json={"model": "names-gpt", "prompt": "ab", "layer": 2})
    assert r.status_code == 422 and "layers 0..1 and heads 0..1" in r.json()["detail"]
    r = client.post("/api/lm/attention", json={"model": "names-gpt", "prompt": "a" * 20})
    assert r.status_code == 422 and "this model reads at most 16" in r.json()["detail"]
    r = client.post("/api/lm/sample", json={"model": "names-gpt", "prompt": "a.b"})
    assert r.status_code == 422 and "may not contain the end-of-line token '.'" in r.json()["detail"]
    for body in [{"temperature": 0}, {"temperature": 6}, {"top_k": 0}, {"num": 21},
                 {"max_new_tokens": 501}, {"prompt": "a" * 201}, {"seed": -1}, {"path": "x"}]:
        r = client.post("/api/lm/sample", json={"model": "names-gpt", **body})
        assert r.status_code == 422, body
        [error] = r.json()["errors"]
        assert error["field"] in body and error["field"] in r.json()["detail"]


def test_no_runs_folder_means_no_models(tmp_path):
    c = local_client(create_app(runs_dir=tmp_path / "missing"))
    assert c.get("/api/lm/models").json() == []
    r = c.post("/api/lm/next", json={"model": "x"})
    assert r.status_code == 404 and "none yet: train a tiny model first" in r.json()["detail"]


def test_the_old_page_is_now_chapter_9(client):
    r = client.get("/lm", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/chapter/9"
    page = client.get("/lm").text
    assert 'data-figure="gpt-sampling"' in page and 'data-figure="gpt-attention"' in page
    assert 'href="/lm"' not in page  # no longer in the navigation


def test_training_streams_every_record_and_a_sample_every_n_steps(tmp_path):
    c = local_client(create_app(runs_dir=tmp_path))
    with c.websocket_connect(WS + "/api/lm/train") as ws:
        ws.send_json({"type": "start", "steps": 1})
        assert "steps" in ws.receive_json()["detail"]
        ws.send_json({"type": "start", "sample_every": 30})
        assert "sample_every" in ws.receive_json()["detail"]
        ws.send_json({"type": "start", "data": "names", "steps": 100, "n_embd": 16, "sample_every": 50})
        assert ws.receive_json() == {"type": "started", "name": "tiny-names", "steps": 100}
        ws.send_json({"type": "start"})
        assert ws.receive_json()["detail"] == "a model is already training; cancel it first"
        messages = []
        while (m := ws.receive_json())["type"] in ("progress", "sample"):
            messages.append(m)
    assert m == {"type": "done", "name": "tiny-names", "step": 100}
    records = [r for m in messages if m["type"] == "progress" for r in m["records"]]
    assert records == read_metrics(tmp_path / "tiny-names")  # every record, as metrics.jsonl holds it
    assert [r["iter"] for r in records if "loss" in r] == list(range(100))
    assert [r["iter"] for r in records if "val_loss" in r] == [0, 25, 50, 75, 100]
    samples = [m for m in messages if m["type"] == "sample"]
    assert [m["step"] for m in samples] == [0, 50, 100]
    assert all(len(m["samples"]) == 3 and all(isinstance(s, str) for s in m["samples"]) for m in samples)
    assert samples[0]["samples"] != samples[-1]["samples"]
    assert [m["name"] for m in c.get("/api/lm/models").json()] == ["tiny-names"]
    assert post(c, "/api/lm/sample", {"model": "tiny-names", "num": 2})["samples"]


def test_a_model_trained_with_the_default_out_is_in_the_course_and_in_sample(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    monkeypatch.setenv(RUNS_ENV, str(runs))
    monkeypatch.chdir(tmp_path)
    tiny = ["train", "--model", "gpt", "--data", "names", "--n-layer", "1", "--n-head", "2", "--n-embd", "16",
            "--block-size", "16", "--batch-size", "8", "--max-iters", "4", "--eval-interval", "2",
            "--eval-iters", "1"]
    first = CliRunner().invoke(cli, tiny)
    assert first.exit_code == 0, first.output
    assert "sample with: gradschool sample --from gpt-names" in first.output
    second = CliRunner().invoke(cli, tiny)  # a second run never overwrites the first
    assert second.exit_code == 0 and "sample with: gradschool sample --from gpt-names-2" in second.output
    assert not (tmp_path / "out").exists()
    models = local_client(create_app()).get("/api/lm/models").json()
    assert [(m["name"], m["iter_num"]) for m in models] == [("gpt-names", 4), ("gpt-names-2", 4)]
    sampled = CliRunner().invoke(cli, ["sample", "--from", "gpt-names", "--num", "3", "--seed", "1"])
    assert sampled.exit_code == 0 and len(sampled.output.splitlines()) == 3
    resumed = CliRunner().invoke(cli, ["train", "--resume", "--out", "gpt-names", "--max-iters", "6"])
    assert resumed.exit_code == 0 and "at step 6" in resumed.output
    missing = CliRunner().invoke(cli, ["sample", "--from", "nothing"])
    assert missing.exit_code == 1
    assert f"no run 'nothing': it is neither a folder or file here nor a run in {runs}" in missing.output
    assert "gpt-names, gpt-names-2" in missing.output
    assert "--resume needs --out" in CliRunner().invoke(cli, ["train", "--resume"]).output


def test_training_can_be_cancelled_and_names_never_clash(tmp_path):
    (tmp_path / "tiny-names").mkdir()
    assert claim_folder(tmp_path, "tiny-names").name == "tiny-names-2"  # created, so taken too
    c = local_client(create_app(runs_dir=tmp_path))
    with c.websocket_connect(WS + "/api/lm/train") as ws:
        ws.send_json({"type": "start", "data": "names", "steps": 500, "n_embd": 16})
        assert ws.receive_json()["name"] == "tiny-names-3"
        ws.send_json({"type": "cancel"})
        while (m := ws.receive_json())["type"] == "progress":
            pass
    assert m["type"] == "cancelled" and m["step"] < 500


def test_concurrent_requests_leave_gradients_on(client):
    """Overlapping requests must not leave no_grad switched on (training in this thread needs the graph)."""
    bodies = [{"model": "names-gpt", "prompt": p} for p in ("a", "bo", "cy", "dan") * 10]
    with ThreadPoolExecutor(8) as pool:
        paths = ["/api/lm/next", "/api/lm/attention", "/api/lm/sample"] * 14
        results = list(pool.map(lambda pb: client.post(pb[0], json=pb[1]).status_code, zip(paths, bodies)))
    assert results == [200] * len(bodies)
    assert is_grad_enabled()
