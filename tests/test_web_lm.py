"""Chapter 7's API: sampling, next-character probabilities and attention of a tiny GPT trained here."""

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fastapi.testclient import TestClient

from gradschool.runs import load_model
from gradschool.tensor import is_grad_enabled
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


def test_next_probabilities_match_the_model(client, runs):
    nxt = post(client, "/api/lm/next", {"model": "names-gpt", "prompt": "an", "temperature": 0.7})
    assert nxt["tokens"] == [".", "a", "n"]
    model, tok, _ = load_model(runs / "names-gpt")
    logits = model(np.array([tok.encode(".an")])).data[0, -1].astype(np.float64) / 0.7
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    order = np.argsort(-probs, kind="stable")[:15]
    assert [c["char"] for c in nxt["choices"]] == [tok.itos[i] for i in order]
    assert np.allclose([c["prob"] for c in nxt["choices"]], probs[order], atol=1e-6)


def test_top_k_leaves_k_characters_whose_probabilities_sum_to_one(client):
    for top_k in (1, 3, 10):
        body = {"model": "names-gpt", "prompt": "k", "top_k": top_k}
        choices = post(client, "/api/lm/next", body)["choices"]
        assert len(choices) == top_k
        assert sum(c["prob"] for c in choices) == pytest.approx(1.0, abs=1e-9)


def test_attention_rows_sum_to_one_and_never_look_ahead(client, runs):
    model, tok, _ = load_model(runs / "names-gpt")
    for layer in (0, 1):
        for head in (0, 1):
            r = post(client, "/api/lm/attention", {"model": "names-gpt", "prompt": "olivia", "layer": layer,
                                                   "head": head})
            assert r["tokens"] == list(".olivia")
            w = np.array(r["weights"])
            assert w.shape == (7, 7)
            assert np.allclose(w.sum(axis=1), 1.0)
            assert np.all(w[np.triu_indices(7, k=1)] == 0)
            assert np.all(w[np.tril_indices(7)] > 0)
    # the heads differ, and mixing layer 0's values with them gives the model's own attention output
    body = {"model": "names-gpt", "prompt": "olivia"}
    a = np.array(post(client, "/api/lm/attention", body)["weights"])
    b = np.array(post(client, "/api/lm/attention", body | {"head": 1})["weights"])
    assert not np.allclose(a, b)
    attn = model.transformer.h[0].attn
    ids = np.array([tok.encode(".olivia")])
    x = model.transformer.h[0].ln_1(model.transformer.wte(ids) + model.transformer.wpe(np.arange(7)))
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


def test_page_and_code_panel(client):
    assert "Language models" in client.get("/lm").text
    assert "def attention" in client.get("/api/source/lm").json()["code"]


def test_training_a_tiny_model_over_the_websocket(tmp_path):
    c = local_client(create_app(runs_dir=tmp_path))
    with c.websocket_connect(WS + "/api/lm/train") as ws:
        ws.send_json({"type": "start", "steps": 1})
        assert "steps" in ws.receive_json()["detail"]
        ws.send_json({"type": "start", "data": "names", "steps": 50, "n_embd": 16})
        assert ws.receive_json() == {"type": "started", "name": "tiny-names", "steps": 50}
        ws.send_json({"type": "start"})
        assert ws.receive_json()["detail"] == "a model is already training; cancel it first"
        messages = [ws.receive_json() for _ in range(3)]
    assert [m["type"] for m in messages] == ["progress", "progress", "done"]
    losses = [r["loss"] for m in messages[:2] for r in m["records"] if "loss" in r]
    assert len(losses) == 50 and losses[-1] < losses[0]
    assert [r["iter"] for m in messages[:2] for r in m["records"] if "val_loss" in r] == [0, 25, 50]
    assert [m["name"] for m in c.get("/api/lm/models").json()] == ["tiny-names"]
    assert post(c, "/api/lm/sample", {"model": "tiny-names", "num": 2})["samples"]


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
