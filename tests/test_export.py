"""Export to PyTorch, nanoGPT and safetensors and import back: the run goes on (nanoGPT takes the next step as
gradschool would), nothing is overwritten without --force, and malformed or unsafe files are refused."""

import ast
import json
import os
import pickle
import re
import shutil
import sys
import zipfile

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from nanogpt_loop import resume_from, sample_like_nanogpt, train_step
from safetensors import safe_open
from safetensors.numpy import load_file, save_file
from safetensors.torch import load_file as load_torch_file
from torch_gpt import GPTConfig as TorchConfig
from torch_gpt import TorchGPT

from gradschool import checkpoint
from gradschool.cli import cli
from gradschool.data import CharTokenizer, load_text
from gradschool.data.corpus import non_empty_lines
from gradschool.data.splits import split_lines
from gradschool.nanogpt import read_meta_pickle
from gradschool.nn.gpt import GPTConfig
from gradschool.runs import BEST, LAST, load_model
from gradschool.sample import sample
from gradschool.train import get_lr, make_config, resume_config, train


def run_cli(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def refused_clearly(result, message):
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # a message, not a traceback
    assert re.search(message, result.output, re.DOTALL), result.output


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(a run folder of a tiny GPT, the folder it was exported to)."""
    root = tmp_path_factory.mktemp("export")
    config = make_config("gpt", "shakespeare", out_dir=str(root / "run"), max_iters=2, lr_decay_iters=4,
                         eval_interval=2, eval_iters=1, batch_size=2, block_size=16, n_layer=1, n_head=2,
                         n_embd=16)
    train(config, progress=False)
    result = run_cli("export", root / "run", "--to", "torch", root / "exp")
    assert result.exit_code == 0, result.output
    return root / "run", root / "exp"


def test_export_refuses_to_overwrite_without_force(exported, tmp_path):
    run, exp = exported
    out = tmp_path / "exp"
    shutil.copytree(exp, out)
    (out / "model.pt").write_bytes(b"someone else's model")
    refused_clearly(run_cli("export", run, "--to", "torch", out),
                    f"{out} already holds model.pt and config.json; pass --force to overwrite")
    assert (out / "model.pt").read_bytes() == b"someone else's model"
    (out / "model.pt").unlink()
    refused_clearly(run_cli("export", run, "--to", "torch", out), f"{out} already holds config.json;")
    result = run_cli("export", run, "--to", "torch", out, "--force")
    assert result.exit_code == 0, result.output
    assert (out / "model.pt").read_bytes() == (exp / "model.pt").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.pt"]  # no temporary file left
    result = run_cli("export", "--from", "torch", out / "model.pt", "--out", tmp_path / "x", "--force")
    assert result.exit_code == 2 and "--force applies only with --to torch DIR" in result.output


def test_import_refuses_a_folder_that_holds_files(exported, tmp_path):
    _, exp = exported
    for name in (BEST, LAST, "notes.txt"):
        out = tmp_path / name.replace(".", "-")
        out.mkdir()
        (out / name).write_bytes(b"precious")
        refused_clearly(run_cli("export", "--from", "torch", exp / "model.pt", "--out", out),
                        f"{out} (is not empty \\(it holds |already holds a training run \\(){name}\\)")
        assert [p.name for p in out.iterdir()] == [name] and (out / name).read_bytes() == b"precious"


def change_config(change):
    def write(folder):
        meta = json.loads((folder / "config.json").read_text())
        change(meta)
        (folder / "config.json").write_text(json.dumps(meta))
    return write


def write_config(text):
    def write(folder):
        (folder / "config.json").write_text(text)
    return write


def write_model(make):
    def write(folder):
        make(folder / "model.pt")
    return write


def change_weights(change):
    def write(folder):
        sd = torch.load(folder / "model.pt", weights_only=True)
        change(sd)
        torch.save(sd, folder / "model.pt")
    return write


def foreign_zip(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a model")


MALFORMED = {  # a change to the exported files, and what the refusal says
    "config not JSON": (write_config("{oops"), "config.json is not the JSON that `gradschool export"),
    "config not UTF-8": (write_config("\udcff".encode("utf-8", "surrogateescape").decode("latin-1")),
                         "config.json is not the JSON"),
    "config a list": (write_config("[1, 2]"), "it needs the keys model_config, vocab, data_format, seq_len"),
    "config without vocab": (change_config(lambda m: m.pop("vocab")), "it needs the keys"),
    "a size as text": (change_config(lambda m: m["model_config"].update(n_layer="1")),
                       "model_config.n_layer is '1', not of type int"),
    "a huge size": (change_config(lambda m: m["model_config"].update(n_embd=10**9)), "impossible for a"),
    "no heads": (change_config(lambda m: m["model_config"].update(n_head=0)), "n_head = 0, impossible"),
    "heads that do not divide": (change_config(lambda m: m["model_config"].update(n_head=3)),
                                 "config.json: n_embd \\(16\\) must be a multiple of n_head \\(3\\)"),
    "an unknown setting": (change_config(lambda m: m["model_config"].update(n_hidden=3)), "unknown settings"),
    "a vocabulary of numbers": (change_config(lambda m: m.update(vocab=[1, 2])), "not a saved character voc"),
    "another vocabulary size": (change_config(lambda m: m["vocab"]["itos"].pop()),
                                r"vocab_size (\d+), its vocabulary \d+ characters"),
    "an unknown data format": (change_config(lambda m: m.update(data_format="poems")), "format is 'poems'"),
    "seq_len as text": (change_config(lambda m: m.update(seq_len="16")), "its seq_len is '16'"),
    "model not a zip": (write_model(lambda p: p.write_bytes(b"\x00garbage")), "torch.load can read"),
    "model an empty file": (write_model(lambda p: p.write_bytes(b"")), "torch.load can read"),
    "model a foreign zip": (write_model(foreign_zip), "torch.load can read"),
    "model a tensor": (write_model(lambda p: torch.save(torch.zeros(3), p)), "is not a state_dict"),
    "model of numbers": (write_model(lambda p: torch.save({"w": 1}, p)), "is not a state_dict"),
    "an unknown weight": (change_weights(lambda sd: sd.update(extra=torch.zeros(2))),
                          "does not fit the model of .*unexpected keys .*extra"),
    "a missing weight": (change_weights(lambda sd: sd.pop("transformer.ln_f.weight")),
                         "missing keys .*transformer.ln_f.weight"),
    "a weight of another size": (change_weights(lambda sd: sd["transformer.ln_f.weight"].resize_(3)),
                                 "shape mismatches: transformer.ln_f.weight"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_import_refuses_malformed_files_clearly(exported, tmp_path, case):
    _, exp = exported
    damage, message = MALFORMED[case]
    folder = tmp_path / "exp"
    shutil.copytree(exp, folder)
    damage(folder)
    result = run_cli("export", "--from", "torch", folder / "model.pt", "--out", tmp_path / "run")
    refused_clearly(result, message)
    assert not (tmp_path / "run" / BEST).exists()


def test_import_of_untouched_files_works(exported, tmp_path):
    _, exp = exported
    result = run_cli("export", "--from", "torch", exp / "model.pt", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [BEST]


def test_sample_refuses_a_gpt_checkpoint_whose_sizes_do_not_go_together(exported, tmp_path):
    run, _ = exported
    state = checkpoint.load(run / BEST)
    state["model_config"]["n_head"] = 3  # 16 is not a multiple of 3
    checkpoint.save(tmp_path / BEST, state)
    refused_clearly(run_cli("sample", "--from", tmp_path / BEST),
                    f"{tmp_path / BEST} cannot be used: n_embd \\(16\\) must be a multiple of n_head \\(3\\)")


# ---- nanoGPT: ckpt.pt that its train.py resumes and its sample.py reads, and back ------------------------
def tiny_settings(out_dir, **overrides):
    return {**dict(out_dir=str(out_dir), max_iters=3, lr_decay_iters=6, warmup_iters=1, eval_interval=2,
                   eval_iters=1, batch_size=2, block_size=16, n_layer=1, n_head=2, n_embd=16, dropout=0.0),
            **overrides}


@pytest.fixture(scope="module")
def to_nanogpt(tmp_path_factory):
    """(a 3-step run of a tiny GPT on Shakespeare, the nanoGPT folder it was exported to with its data)."""
    root = tmp_path_factory.mktemp("nanogpt")
    train(make_config("gpt", "shakespeare", **tiny_settings(root / "run")), progress=False)
    result = run_cli("export", root / "run", "--to", "nanogpt", root / "nanoGPT" / "out-gs", "--with-data")
    assert result.exit_code == 0, result.output
    assert "python sample.py --init_from=resume --out_dir=out-gs" in result.output
    assert "python train.py --init_from=resume --out_dir=out-gs --dataset=gradschool_shakespeare" in (
        result.output)
    command = next(line.split() for line in result.output.splitlines() if "python train.py" in line)
    (root / "train_command.txt").write_text(" ".join(command))
    return root / "run", root / "nanoGPT"


def test_the_train_command_gives_nanogpt_the_runs_settings_with_their_types(to_nanogpt):
    run, nanogpt = to_nanogpt
    command = (run.parent / "train_command.txt").read_text().split()
    assert command[:4] == ["python", "train.py", "--init_from=resume", "--out_dir=out-gs"]
    settings = torch.load(nanogpt / "out-gs" / "ckpt.pt", weights_only=True)["config"]
    for arg in command[2:]:  # as nanoGPT's configurator reads --key=value: a Python literal, else a string
        key, text = arg.removeprefix("--").split("=", 1)
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        assert type(value) is type(settings[key]) and value == settings[key], arg
    given = {arg.split("=")[0] for arg in command[2:]}
    assert {"--batch_size", "--block_size", "--learning_rate", "--min_lr", "--warmup_iters",
            "--lr_decay_iters", "--beta2", "--weight_decay", "--grad_clip", "--dtype"} <= given


def test_nanogpt_ckpt_has_nanogpts_layout_and_loads_with_weights_only(to_nanogpt):
    run, nanogpt = to_nanogpt
    ckpt = torch.load(nanogpt / "out-gs" / "ckpt.pt", weights_only=True)
    assert set(ckpt) == {"model", "optimizer", "model_args", "iter_num", "best_val_loss", "config"}
    state = checkpoint.load(run / LAST)
    assert ckpt["iter_num"] == state["iter_num"] == 3
    assert ckpt["best_val_loss"] == pytest.approx(state["best_val_loss"])
    assert ckpt["model_args"] == dict(n_layer=1, n_head=2, n_embd=16, block_size=16, bias=False,
                                      vocab_size=63, dropout=0.0)
    settings = ckpt["config"]
    assert (settings["dataset"], settings["batch_size"], settings["learning_rate"], settings["beta2"]) == (
        "gradschool_shakespeare", 2, 1e-3, 0.99)
    assert ckpt["model"]["lm_head.weight"] is ckpt["model"]["transformer.wte.weight"] or torch.equal(
        ckpt["model"]["lm_head.weight"], ckpt["model"]["transformer.wte.weight"])


def test_nanogpt_resumes_the_run_one_torch_step_equals_gradschools_next_step(to_nanogpt, tmp_path):
    run, nanogpt = to_nanogpt
    state = checkpoint.load(run / LAST)
    config = make_config("gpt", "shakespeare", **tiny_settings(run))
    model, optimizer, ckpt = resume_from(nanogpt / "out-gs", learning_rate=config.learning_rate,
                                         weight_decay=config.weight_decay, beta1=config.beta1,
                                         beta2=config.beta2)
    # the moments and step counts go on: those of the run, not fresh ones
    saved = state["optimizer"]["state"]
    assert len(optimizer.state) == len(saved) == len(list(model.parameters()))
    for i, p in enumerate(p for group in optimizer.param_groups for p in group["params"]):
        torch_state = optimizer.state[p]
        assert float(torch_state["step"]) == saved[i]["step"] == 3
        np.testing.assert_array_equal(torch_state["exp_avg"].numpy(), saved[i]["exp_avg"])
        np.testing.assert_array_equal(torch_state["exp_avg_sq"].numpy(), saved[i]["exp_avg_sq"])
    assert [g["weight_decay"] for g in optimizer.param_groups] == [config.weight_decay, 0.0]

    x, y = state["next_batch"]  # the batch gradschool's next step takes
    torch_loss = train_step(model, optimizer, x, y, get_lr(ckpt["iter_num"], config), config.grad_clip)
    resumed = tmp_path / "run"
    shutil.copytree(run, resumed)
    train(resume_config(resumed, max_iters=4), resume=True, progress=False)
    records = [json.loads(line) for line in (resumed / "metrics.jsonl").read_text().splitlines()]
    ours = next(r["loss"] for r in records if r["iter"] == 3 and "loss" in r)
    assert abs(torch_loss - ours) <= 1e-5 * abs(ours)
    after = checkpoint.load(resumed / LAST)["model"]
    torch_after = model.state_dict()
    moved = 0.0
    for name, w in after.items():
        assert np.abs(torch_after[name].numpy() - w).max() <= 1e-5, name
        moved = max(moved, np.abs(w - state["model"][name]).max())
    assert moved > 1e-5  # the step changed the weights by more than the tolerance


def test_meta_pkl_and_the_bins_hold_the_runs_vocabulary_and_split(to_nanogpt):
    run, nanogpt = to_nanogpt
    data = nanogpt / "data" / "gradschool_shakespeare"
    tokenizer = CharTokenizer.from_dict(checkpoint.load(run / LAST)["vocab"])
    meta = pickle.loads((data / "meta.pkl").read_bytes())  # as nanoGPT's sample.py reads it
    assert meta["vocab_size"] == tokenizer.vocab_size == 63
    assert meta["itos"] == dict(enumerate(tokenizer.itos)) and meta["stoi"] == tokenizer.stoi
    assert read_meta_pickle((data / "meta.pkl").read_bytes()) == tokenizer.itos
    ids = np.array(tokenizer.encode(load_text("shakespeare")))
    train_ids, val_ids = (np.fromfile(data / name, dtype=np.uint16) for name in ("train.bin", "val.bin"))
    n = int(0.9 * len(ids))
    np.testing.assert_array_equal(train_ids, ids[:n])
    np.testing.assert_array_equal(val_ids, ids[n:])


def test_nanogpts_sample_finds_the_vocabulary_and_writes_what_gradschool_writes(to_nanogpt):
    run, nanogpt = to_nanogpt
    theirs = sample_like_nanogpt(nanogpt, "out-gs", start="ROMEO:", max_new_tokens=30, top_k=1)
    assert len(theirs) == 36 and theirs.startswith("ROMEO:")
    model, tokenizer, _ = load_model(run / LAST)
    ids = np.array([tokenizer.encode(theirs)])
    block = model.config.block_size
    for t in range(5, 35):  # each character nanoGPT picked is gradschool's likeliest (up to float32 ties)
        logits = model(ids[:, max(0, t + 1 - block) : t + 1]).data[0, -1]  # cropped as sample.py crops
        assert logits[ids[0, t + 1]] >= logits.max() - 1e-5, (t, theirs)
    assert ids[0, 6:].tolist() != [ids[0, 6]] * 30  # not a degenerate text


def test_import_from_nanogpt_samples_as_the_original_run(to_nanogpt, tmp_path):
    run, nanogpt = to_nanogpt
    result = run_cli("export", "--from", "nanogpt", nanogpt / "out-gs" / "ckpt.pt", "--meta",
                     nanogpt / "data" / "gradschool_shakespeare" / "meta.pkl", "--out", tmp_path / "back")
    assert result.exit_code == 0, result.output
    assert sample(tmp_path / "back", num=2, max_new_tokens=30, seed=4) == sample(
        run / BEST, num=2, max_new_tokens=30, seed=4)


def test_a_run_goes_to_nanogpt_and_back_with_its_training_state(to_nanogpt, tmp_path):
    run, nanogpt = to_nanogpt
    result = run_cli("export", "--from", "nanogpt", nanogpt / "out-gs" / "ckpt.pt", "--meta",
                     nanogpt / "data" / "gradschool_shakespeare" / "meta.pkl", "--data", "shakespeare",
                     "--out", tmp_path / "back")
    assert result.exit_code == 0, result.output
    before, back = checkpoint.load(run / LAST), checkpoint.load(tmp_path / "back" / LAST)
    assert back["iter_num"] == before["iter_num"] == 3
    assert back["best_val_loss"] == pytest.approx(before["best_val_loss"])
    for name, w in before["model"].items():
        np.testing.assert_array_equal(back["model"][name], w)
    assert back["optimizer"]["param_groups"] == before["optimizer"]["param_groups"]
    for i, s in before["optimizer"]["state"].items():
        assert back["optimizer"]["state"][i]["step"] == s["step"] == 3
        np.testing.assert_array_equal(back["optimizer"]["state"][i]["exp_avg"], s["exp_avg"])
        np.testing.assert_array_equal(back["optimizer"]["state"][i]["exp_avg_sq"], s["exp_avg_sq"])
    settings = ("batch_size", "block_size", "learning_rate", "min_lr", "warmup_iters", "lr_decay_iters",
                "weight_decay", "beta2", "grad_clip", "eval_interval", "eval_iters", "model_args")
    assert {k: back["train_config"][k] for k in settings} == {k: before["train_config"][k] for k in settings}
    result = train(resume_config(tmp_path / "back", max_iters=5), resume=True, progress=False)  # it goes on
    assert result.iter_num == 5 and np.isfinite(result.best_val_loss)
    refused_clearly(run_cli("export", "--from", "nanogpt", nanogpt / "out-gs" / "ckpt.pt", "--meta",
                            nanogpt / "data" / "gradschool_shakespeare" / "meta.pkl", "--data", "names",
                            "--out", tmp_path / "other"),
                    "cannot become a run on --data names: the vocabulary of the data .* does not match")
    assert not (tmp_path / "other" / BEST).exists()


def test_export_to_nanogpt_refuses_to_overwrite_without_force(to_nanogpt, tmp_path):
    run, nanogpt = to_nanogpt
    out = tmp_path / "nanoGPT" / "out-gs"
    out.mkdir(parents=True)
    (out / "ckpt.pt").write_bytes(b"nanoGPT's own run")
    refused_clearly(run_cli("export", run, "--to", "nanogpt", out),
                    f"{out} already holds ckpt.pt; pass --force")
    assert (out / "ckpt.pt").read_bytes() == b"nanoGPT's own run"
    assert not (tmp_path / "nanoGPT" / "data").exists()  # nothing written
    result = run_cli("export", run, "--to", "nanogpt", out, "--force", "--dataset", "shakespeare_char")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "nanoGPT" / "data" / "shakespeare_char" / "meta.pkl").exists()
    refused_clearly(run_cli("export", run, "--to", "nanogpt", tmp_path / "other", "--nanogpt-dir",
                            tmp_path / "nanoGPT", "--dataset", "shakespeare_char"),
                    "shakespeare_char already holds meta.pkl; pass --force")
    refused_clearly(run_cli("export", run, "--to", "nanogpt", tmp_path / "x", "--dataset", "../up"),
                    "--dataset '../up' must be a folder name")


def test_a_run_of_lines_goes_to_nanogpt_and_back_with_its_boundary_token(tmp_path):
    train(make_config("gpt", "names", **tiny_settings(tmp_path / "run", max_iters=2)), progress=False)
    result = run_cli("export", tmp_path / "run", "--to", "nanogpt", tmp_path / "ng" / "out", "--with-data")
    assert result.exit_code == 0, result.output
    tokenizer = CharTokenizer.from_dict(checkpoint.load(tmp_path / "run" / LAST)["vocab"])
    first = split_lines(non_empty_lines(load_text("names"), "names"))[0][0]
    train_ids = np.fromfile(tmp_path / "ng" / "data" / "gradschool_names" / "train.bin", dtype=np.uint16)
    assert list(train_ids[: len(first) + 2]) == [0, *tokenizer.encode(first), 0]
    result = run_cli("export", "--from", "nanogpt", tmp_path / "ng" / "out" / "ckpt.pt", "--meta",
                     tmp_path / "ng" / "data" / "gradschool_names" / "meta.pkl", "--out", tmp_path / "back")
    assert result.exit_code == 0, result.output
    assert sample(tmp_path / "back", num=3, seed=1) == sample(tmp_path / "run", num=3, seed=1)


def nanogpt_trained_elsewhere(folder, vocab: str = "\n !abcdefghij", **model_args):
    """A ckpt.pt and meta.pkl as nanoGPT's own scripts write them: prepare.py's pickle, train.py's dict with a
    torch.compile'd model's `_orig_mod.` names and a tensor best_val_loss."""
    args = dict(n_layer=2, n_head=2, n_embd=16, block_size=32, bias=False, vocab_size=len(vocab), dropout=0.0)
    args.update(model_args)
    torch.manual_seed(0)
    model = TorchGPT(TorchConfig(**{k: v for k, v in args.items() if k != "use_rmsnorm"}))
    optimizer = model.configure_optimizers(0.1, 1e-3, (0.9, 0.99))
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"model": {"_orig_mod." + k: v for k, v in model.state_dict().items()},
                "optimizer": optimizer.state_dict(), "model_args": args, "iter_num": 5000,
                "best_val_loss": torch.tensor(1.47), "config": {"dataset": "shakespeare_char"}},
               folder / "ckpt.pt")
    chars = sorted(set(vocab))
    with open(folder / "meta.pkl", "wb") as f:
        pickle.dump({"vocab_size": len(chars), "itos": dict(enumerate(chars)),
                     "stoi": {c: i for i, c in enumerate(chars)}}, f)
    return model


def test_import_of_a_checkpoint_nanogpt_trained_gives_its_logits(tmp_path):
    ref = nanogpt_trained_elsewhere(tmp_path / "ng")
    result = run_cli("export", "--from", "nanogpt", tmp_path / "ng" / "ckpt.pt", "--meta",
                     tmp_path / "ng" / "meta.pkl", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    model, tokenizer, state = load_model(tmp_path / "run")
    assert (state["data_format"], state["seq_len"], tokenizer.itos) == ("text", 32, sorted("\n !abcdefghij"))
    x = np.random.default_rng(0).integers(0, 13, (2, 32))
    assert np.abs(model(x).data - ref(torch.from_numpy(x)).detach().numpy()).max() <= 1e-5
    result = run_cli("sample", "--from", tmp_path / "run", "--num", "1", "--max-new-tokens", "20")
    assert result.exit_code == 0, result.output


def test_a_model_without_training_state_goes_to_nanogpt_with_a_fresh_optimizer(tmp_path):
    ref = nanogpt_trained_elsewhere(tmp_path / "ng")
    result = run_cli("export", "--from", "nanogpt", tmp_path / "ng" / "ckpt.pt", "--meta",
                     tmp_path / "ng" / "meta.pkl", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    refused_clearly(run_cli("export", tmp_path / "run", "--to", "nanogpt", tmp_path / "again" / "out",
                            "--with-data"), "holds a model but not a training run.*leave out --with-data")
    assert not (tmp_path / "again").exists()
    result = run_cli("export", tmp_path / "run", "--to", "nanogpt", tmp_path / "again" / "out")
    assert result.exit_code == 0, result.output
    assert "optimizer will start fresh at iter 0" in result.output
    model, optimizer, ckpt = resume_from(tmp_path / "again" / "out")
    assert ckpt["iter_num"] == 0 and optimizer.state_dict()["state"] == {}
    for name, w in ref.state_dict().items():
        assert torch.equal(model.state_dict()[name], w), name


class RunsCode:
    """An object whose unpickling would create the file `marker` (through os.system): code, not data."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_import_from_nanogpt_refuses_bad_input_clearly(tmp_path):
    ng = tmp_path / "ng"
    nanogpt_trained_elsewhere(ng)
    ckpt, meta, out = ng / "ckpt.pt", ng / "meta.pkl", tmp_path / "run"

    def refused(message, ckpt=ckpt, meta=meta):
        refused_clearly(run_cli("export", "--from", "nanogpt", ckpt, "--meta", meta, "--out", out), message)
        assert not out.exists() or not any(out.iterdir())

    refused("--meta .*missing.* meta.pkl of its dataset", meta=ng / "nothing.pkl")
    result = run_cli("export", "--from", "nanogpt", ckpt, "--out", out)
    assert result.exit_code == 2 and "--from nanogpt FILE needs --meta" in result.output

    nanogpt_trained_elsewhere(tmp_path / "rms", use_rmsnorm=True)  # a modified nanoGPT: another architecture
    refused("settings gradschool's GPT does not have: use_rmsnorm", ckpt=tmp_path / "rms" / "ckpt.pt")
    sd = torch.load(ckpt, weights_only=True)
    sd["model"] = {k.replace("mlp.c_fc", "mlp.w1"): v for k, v in sd["model"].items()}  # other weights
    torch.save(sd, tmp_path / "other.pt")
    refused("does not fit its own model_args: .*unexpected keys.*mlp.w1", ckpt=tmp_path / "other.pt")
    torch.save(torch.load(ckpt, weights_only=True)["model"], tmp_path / "bare.pt")
    refused("not a nanoGPT ckpt.pt .*use --from torch", ckpt=tmp_path / "bare.pt")

    nanogpt_trained_elsewhere(tmp_path / "more", vocab="\n !abcdefghijk")  # 14 characters, 13 in meta
    refused(r"vocabulary of .*meta.pkl \(13 characters\) does not match the embedding size .*vocab_size 14",
            ckpt=tmp_path / "more" / "ckpt.pt")
    nanogpt_trained_elsewhere(tmp_path / "gpt2", vocab_size=50304, n_embd=8, n_layer=1, block_size=8)
    refused("GPT-2 BPE model", ckpt=tmp_path / "gpt2" / "ckpt.pt")

    marker = tmp_path / "ran"
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"vocab_size": 1, "itos": RunsCode(marker), "stoi": {}}))
    refused("--meta .*evil.pkl cannot be used: it refers to the Python object .*system, which could run code",
            meta=tmp_path / "evil.pkl")
    torch.save({"model": {}, "model_args": RunsCode(marker)}, tmp_path / "evil.pt")
    refused("evil.pt is not a PyTorch file that torch.load can read safely \\(it holds the Python object "
            ".*system, which torch.load\\(weights_only=True\\) refuses since loading it could run code",
            ckpt=tmp_path / "evil.pt")
    assert not marker.exists()
    pickle.loads(pickle.dumps(RunsCode(marker)))  # the test's own check: unpickling it does run the code
    assert marker.exists()
    (tmp_path / "bpe.pkl").write_bytes(pickle.dumps(
        {"vocab_size": 2, "itos": {0: "the", 1: "ing"}, "stoi": {"the": 0, "ing": 1}}))
    refused("not single characters", meta=tmp_path / "bpe.pkl")
    (tmp_path / "list.pkl").write_bytes(pickle.dumps({"vocab_size": 1, "itos": ["a"], "stoi": {"a": 0}}))
    refused("only dicts, strings and integers", meta=tmp_path / "list.pkl")
    (tmp_path / "cut.pkl").write_bytes((ng / "meta.pkl").read_bytes()[:20])
    refused("not a pickle that can be read", meta=tmp_path / "cut.pkl")


# ---- safetensors -----------------------------------------------------------------------------------------
def test_safetensors_round_trip_samples_as_the_run_and_loads_into_torch(exported, tmp_path):
    run, _ = exported
    file = tmp_path / "model.safetensors"
    result = run_cli("export", run, "--to", "safetensors", file)
    assert result.exit_code == 0, result.output
    model, _, _ = load_model(run)
    ref = TorchGPT(model.config)
    ref.load_state_dict(load_torch_file(file))  # strict, nanoGPT's names
    x = np.random.default_rng(0).integers(0, model.config.vocab_size, (2, 16))
    assert np.abs(model(x).data - ref(torch.from_numpy(x)).detach().numpy()).max() <= 1e-5
    assert set(load_file(file)) == set(ref.state_dict())
    with safe_open(str(file), framework="np") as f:
        assert GPTConfig(**json.loads(f.metadata()["model_config"])) == model.config
    result = run_cli("export", "--from", "safetensors", file, "--out", tmp_path / "back")
    assert result.exit_code == 0, result.output
    assert sample(tmp_path / "back", num=2, max_new_tokens=20, seed=3) == sample(
        run, num=2, max_new_tokens=20, seed=3)
    refused_clearly(run_cli("export", run, "--to", "safetensors", file),
                    "already holds model.safetensors; pass")


def test_safetensors_works_for_every_model_kind(tmp_path):
    train(make_config("bigram", "names", out_dir=str(tmp_path / "run"), max_iters=2, eval_interval=2,
                      eval_iters=1), progress=False)
    result = run_cli("export", tmp_path / "run", "--to", "safetensors", tmp_path / "b.safetensors")
    assert result.exit_code == 0, result.output
    result = run_cli("export", "--from", "safetensors", tmp_path / "b.safetensors", "--out",
                     tmp_path / "back")
    assert result.exit_code == 0, result.output
    assert sample(tmp_path / "back", num=3, seed=2) == sample(tmp_path / "run", num=3, seed=2)
    refused_clearly(run_cli("export", tmp_path / "run", "--to", "nanogpt", tmp_path / "ng"),
                    "only GPT models export to nanoGPT .*holds a bigram model")


def test_safetensors_import_refuses_bad_files_clearly(exported, tmp_path):
    (tmp_path / "junk.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json")
    save_file({"w": np.zeros(3, dtype=np.float32)}, str(tmp_path / "bare.safetensors"))
    for name, message in (("junk", "is not a safetensors file that can be read"),
                          ("bare", "lacks the metadata gradschool needs")):
        refused_clearly(run_cli("export", "--from", "safetensors", tmp_path / f"{name}.safetensors", "--out",
                                tmp_path / "run"), message)
    run, _ = exported
    run_cli("export", run, "--to", "safetensors", tmp_path / "m.safetensors")
    weights = load_file(tmp_path / "m.safetensors")
    with safe_open(str(tmp_path / "m.safetensors"), framework="np") as f:
        metadata = f.metadata()
    weights.pop("transformer.ln_f.weight")
    save_file(weights, str(tmp_path / "cut.safetensors"), metadata=metadata)
    refused_clearly(run_cli("export", "--from", "safetensors", tmp_path / "cut.safetensors", "--out",
                            tmp_path / "run"), "missing keys .*transformer.ln_f.weight")
    assert not (tmp_path / "run" / BEST).exists()


def test_safetensors_without_the_package_says_how_to_install_it(exported, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)  # as if not installed: importing it fails
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    run, _ = exported
    refused_clearly(run_cli("export", run, "--to", "safetensors", tmp_path / "m.safetensors"),
                    r"pip install 'gradschool\[export\]'")


@pytest.mark.parametrize("args, message", [
    (["RUN", "--to", "torch", "D", "--with-data"], "--with-data applies only with --to nanogpt DIR"),
    (["RUN", "--to", "safetensors", "F", "--dataset", "x"], "--dataset applies only with --to nanogpt DIR"),
    (["RUN", "--to", "torch", "D", "--nanogpt-dir", "N"], "--nanogpt-dir applies only with --to nanogpt DIR"),
    (["--from", "torch", "F", "--out", "O", "--meta", "M"], "--meta applies only there"),
    (["--from", "safetensors", "F"], "--from safetensors FILE needs --out DIR"),
    (["--to", "nanogpt", "D"], "--to nanogpt needs the run to export: gradschool export RUN --to nanogpt"),
    (["RUN", "--to", "onnx", "D"], "'onnx' is not one of 'torch', 'nanogpt', 'safetensors'"),
])
def test_export_flags_that_do_not_go_together_are_refused(tmp_path, args, message):
    result = run_cli("export", *[str(tmp_path / a) if a.isupper() and len(a) <= 3 else a for a in args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert list(tmp_path.iterdir()) == []


def test_a_bpe_run_goes_to_safetensors_and_back_but_not_to_nanogpt(tmp_path):
    from gradschool.data.bpe import BPETokenizer
    from gradschool.export import from_safetensors, to_nanogpt, to_safetensors
    from gradschool.runs import load_model

    config = make_config("gpt", "shakespeare", tokenizer="bpe", vocab_size=300, n_layer=1, n_head=2,
                         n_embd=16, block_size=16, batch_size=4, max_iters=2, eval_interval=2, eval_iters=1,
                         out_dir=str(tmp_path / "run"))
    train(config, progress=False)
    with pytest.raises(ValueError, match="reads byte-pair tokens"):
        to_nanogpt(tmp_path / "run", tmp_path / "ng" / "out")
    file = to_safetensors(tmp_path / "run", tmp_path / "run.safetensors")
    back = from_safetensors(file, tmp_path / "back")
    model, tokenizer, _ = load_model(back)
    assert isinstance(tokenizer, BPETokenizer) and tokenizer.vocab_size == 300
    assert tokenizer.decode(tokenizer.encode("To be, or not")) == "To be, or not"
