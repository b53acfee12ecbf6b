"""Export to PyTorch and import back: nothing overwritten without --force, and malformed files refused."""

import json
import re
import shutil
import zipfile

import pytest
import torch
from click.testing import CliRunner

from gradschool import checkpoint
from gradschool.cli import cli
from gradschool.runs import BEST, LAST
from gradschool.train import make_config, train


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
