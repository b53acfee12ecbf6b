"""The `gradschool` command: run the rungs, train and sample models, serve the course."""

import dataclasses
import signal
from collections.abc import Callable
from pathlib import Path

import click
from click.core import ParameterSource

from gradschool import __version__, rungs
from gradschool.diverge import TrainingDiverged
from gradschool.exercises import RUNGS as EXERCISES
from gradschool.presets import PRESETS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gradschool")
def cli() -> None:
    """Neural networks from scratch, from a single neuron to a tiny GPT."""


@cli.command("rungs")
def list_rungs() -> None:
    """List the rungs of the ladder."""
    for n in sorted(rungs.RUNGS):
        module = rungs.load(n)
        text = rungs.describe(module) if module else "(not written yet)"
        click.echo(f"{n}  {text}")


@cli.command("rung")
@click.argument("n", type=click.IntRange(1, max(rungs.RUNGS)))
@click.option("--plot", "plot", type=click.Path(dir_okay=False), default=None,
              help="Also save a PNG plot to this path (needs matplotlib: pip install 'gradschool[plot]').")
def run_rung(n: int, plot: str | None) -> None:
    """Run rung N's program (see `gradschool rungs`)."""
    module = rungs.load(n)
    if module is None:
        raise click.ClickException(f"rung {n} is not written yet; `gradschool rungs` lists those that are.")
    try:
        module.main(plot=plot)
    except TrainingDiverged as e:  # an edited rung whose learning rate is too big: advice, not a traceback
        raise click.ClickException(str(e)) from None


@cli.command("exercise")
@click.argument("n", type=click.IntRange(EXERCISES.start, EXERCISES.stop - 1))
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True,
              help="Replace an exercise file you have edited with a fresh one (yours is kept as .bak).")
def exercise_command(n: int, directory: str, force: bool) -> None:
    """Write rung N's exercise file to fill in.

    It goes to DIRECTORY/exercise_N.py (DIRECTORY: the current folder unless given).
    """
    from gradschool.exercises import file_name, starter_text

    path = Path(directory) / file_name(n)
    text = starter_text(n)
    try:
        if path.exists() and path.read_bytes() == text.encode("utf-8"):
            click.echo(f"{path} is already there, untouched; fill in its TODOs, then: "
                       f"gradschool check {n} {path}")
            return
        if path.exists() and not force:
            raise click.ClickException(f"{path} already exists and differs from the starter (your work?); "
                                       "it was left as it is. Use --force to replace it (yours is kept as a "
                                       ".bak file), or give another DIRECTORY.")
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            backup = next(b for b in (path.with_name(f"{path.name}.bak{i or ''}") for i in range(10**6))
                          if not b.exists())
            path.replace(backup)
            click.echo(f"kept your old file as {backup}")
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise click.ClickException(f"cannot write {path}: {e.strerror or e}") from None
    click.echo(f"wrote {path}; fill in its TODOs, then: gradschool check {n} {path}")


@cli.command("check")
@click.argument("n", type=click.IntRange(EXERCISES.start, EXERCISES.stop - 1))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--time-limit", type=click.FloatRange(0, min_open=True), default=10.0, show_default=True,
              help="Seconds each part may run before it counts as stuck.")
def check_command(n: int, file: str, time_limit: float) -> None:
    """Grade your exercise FILE of rung N.

    One line a part, then the score; the exit status is 0 only when every part passes.
    """
    from gradschool.exercises.grader import grade, report

    outcomes = grade(n, file, time_limit)
    *lines, score = report(outcomes)
    for outcome, line in zip(outcomes, lines):
        click.echo(click.style(line, fg="green" if outcome.passed else "red"))  # colours on a terminal only
    click.echo(score)
    if not all(o.passed for o in outcomes):
        raise SystemExit(1)


@cli.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but 127.0.0.1 lets other machines reach the course.")
@click.option("--open", "open_browser", is_flag=True, help="Also open the course in a web browser.")
@click.option("--runs", "runs_dir", default=None, type=click.Path(file_okay=False),
              help="Folder of trained language models for chapter 9 [default: $GRADSCHOOL_RUNS or ./runs].")
def serve(port: int, host: str, open_browser: bool, runs_dir: str | None) -> None:
    """Serve the interactive course (offline, on this machine only by default)."""
    import socket
    import threading
    import webbrowser

    try:
        import uvicorn
        import websockets  # noqa: F401  (uvicorn needs it for the live-training websocket)

        from gradschool.web.app import SERVER_OPTIONS, create_app
    except ImportError as e:
        raise click.ClickException(f"the course web app needs {e.name}: "
                                   "pip install 'gradschool[web]'") from None
    if host != "127.0.0.1":
        click.echo(f"warning: listening on {host}, so other machines on the network can reach this server.",
                   err=True)
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind((host, port))
        except OSError as e:
            raise click.ClickException(f"cannot listen on {host}:{port} ({e.strerror}); "
                                       "pick another port with --port") from None
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    click.echo(f"gradschool course at {url}  (Ctrl+C to stop)")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=[url]).start()  # once the server is listening
    uvicorn.run(create_app(runs_dir, hosts=[host]), host=host, port=port, log_level="warning",
                **SERVER_OPTIONS)


MODEL_KINDS = ["bigram", "mlp", "gpt"]  # gradschool.nn.registry.MODELS, without importing the models


class ModelDefault(click.Option):
    """A `train` flag whose default depends on --model: --help lists it per model (from its preset)."""

    NONE_MEANS = {"lr_decay_iters": "--max-iters", "patience": "off",
                  "vocab_size": "512 with --tokenizer bpe"}

    def get_help_extra(self, ctx: click.Context) -> dict:
        from gradschool.train import default_settings, flag

        extra = super().get_help_extra(ctx)
        by_value: dict[str, list[str]] = {}
        for model, value in default_settings(self.name).items():
            if isinstance(value, bool):
                text = flag(self.name, value)
            elif value is None:
                text = self.NONE_MEANS.get(self.name, "none")
            else:
                text = f"{value:g}" if isinstance(value, float) else str(value)
            by_value.setdefault(text, []).append(model)
        if len(by_value) == 1 and len(next(iter(by_value.values()))) == len(MODEL_KINDS):
            extra["default"] = next(iter(by_value))
        elif by_value:
            extra["default"] = ", ".join(f"{text} ({', '.join(models)})" for text, models in by_value.items())
        return extra


def train_option(*names: str, **kwargs) -> Callable:
    """A `train` flag that defaults to None (not given: the preset's value) and shows the real default."""
    return click.option(*names, cls=ModelDefault, default=None, **kwargs)


@cli.command("train")
@click.option("--model", type=click.Choice(MODEL_KINDS), default=None, show_default="gpt, or the --preset's",
              help="Which language model to train.")
@click.option("--data", default="shakespeare", show_default=True,
              help="A shipped corpus (names, shakespeare) or the path of a UTF-8 text file.")
@train_option("--format", "data_format", type=click.Choice(["auto", "lines", "text"]),
              help="lines: one example per line (like names); text: running text; auto: guess.")
@train_option("--tokenizer", type=click.Choice(["char", "bpe"]),
              help="char: a token per character; bpe: byte-pair encoding learned from the training split.")
@train_option("--vocab-size", type=int, help="Tokens of the bpe tokenizer (256 bytes + merges).")
@click.option("--preset", default=None, show_default="the one named like --model",
              help=f"Start from named settings: {', '.join(PRESETS)} (gradschool/presets.py).")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              show_default="MODEL-DATA in the runs folder ($GRADSCHOOL_RUNS or ./runs); -2, -3, ... if taken",
              help="Folder for checkpoints and metrics.jsonl (the course shows the runs in the runs folder).")
@click.option("--resume", is_flag=True,
              help="Continue the run in --out (a folder, or a run's name) exactly where it stopped.")
@click.option("--allow-data-change", is_flag=True,
              help="With --resume: go on even though the data file changed since the run started.")
@train_option("--max-iters", type=int, help="Training steps.")
@train_option("--batch-size", type=int)
@train_option("--block-size", type=int, help="Context length in tokens (characters unless --tokenizer bpe).")
@train_option("--lr", "learning_rate", type=float, help="Peak learning rate.")
@train_option("--min-lr", type=float, help="Learning rate after the decay (at most --lr).")
@train_option("--warmup-iters", type=int)
@train_option("--lr-decay-iters", type=int, help="Steps until the learning rate reaches --min-lr.")
@train_option("--weight-decay", type=float)
@train_option("--grad-clip", type=float, help="0 turns clipping off.")
@train_option("--eval-interval", type=int)
@train_option("--eval-iters", type=int, help="Batches per evaluation.")
@train_option("--eval-batches", type=click.Choice(["fixed", "fresh"]),
              help="fixed: the same batches every evaluation; fresh: new ones each time (nanoGPT).")
@train_option("--random-stream", type=click.Choice(["gradschool", "nanogpt"]),
              help="gradschool: NumPy's generators; nanogpt: torch's draws, in nanoGPT's order.")
@train_option("--patience", type=int, help="Stop after this many evaluations without a better val loss.")
@train_option("--seed", type=int)
@train_option("--n-layer", type=int, help="Transformer blocks (gpt).")
@train_option("--n-head", type=int, help="Attention heads (gpt).")
@train_option("--n-embd", type=int, help="Embedding size (mlp, gpt).")
@train_option("--n-hidden", type=int, help="Hidden layer size (mlp).")
@train_option("--dropout", type=float, help="(gpt)")
@train_option("--bias/--no-bias", help="Biases in linear layers and layer norms (gpt).")
@train_option("--max-data-mb", type=float, help="Refuse a --data file larger than this.")
@click.option("--plot", is_flag=True, help="Draw the loss curves to OUT/loss.png (needs matplotlib).")
@click.pass_context
def train_command(ctx: click.Context, preset: str | None, resume: bool, allow_data_change: bool, plot: bool,
                  **flags) -> None:
    """Train a language model; checkpoints, metrics and loss curves go to --out.

    Ctrl-C, SIGTERM and SIGHUP stop it after the current step, with a checkpoint saved (exit status 130,
    143, 129); `--resume` continues it.
    """
    from gradschool.runs import find_run, fresh_run_folder, run_name, runs_folder
    from gradschool.train import make_config, resume_config, train

    out_dir = flags.pop("out_dir")
    try:
        if allow_data_change and not resume:
            raise ValueError("--allow-data-change applies only with --resume")
        if resume:
            if preset:
                raise ValueError("--preset cannot be combined with --resume: the run keeps its settings")
            if out_dir is None:
                raise ValueError("--resume needs --out: the run to continue (a folder, or the name of a run "
                                 f"in {runs_folder()})")
            given = {k: v for k, v in flags.items() if ctx.get_parameter_source(k) != ParameterSource.DEFAULT}
            config = resume_config(find_run(out_dir), **given)
        else:
            model, data = flags.pop("model"), flags.pop("data")
            config = make_config(model, data, preset=preset, out_dir=out_dir, **flags)
            if out_dir is None:  # the runs folder, where the course and `sample --from NAME` find it
                name = run_name(config.model, config.data)
                config = dataclasses.replace(config, out_dir=str(fresh_run_folder(name)))
        result = train(config, resume=resume, allow_data_change=allow_data_change)
    except KeyboardInterrupt:
        raise click.Abort() from None
    except (ValueError, OSError, ArithmeticError) as e:  # bad data or flags, checkpoint problems, divergence
        raise click.ClickException(str(e)) from None
    click.echo(f"{result.stopped.replace('_', ' ')} at step {result.iter_num}: best val loss "
               f"{result.best_val_loss:.4f} ({result.best_val_bpc:.3f} bits per character); checkpoints in "
               f"{result.out_dir}")
    if plot:
        ctx.invoke(plot_command, run_dir=str(result.out_dir), png=None)
    in_runs = result.out_dir.parent.resolve() == runs_folder().resolve()
    run = result.out_dir.name if in_runs else result.out_dir  # a run in the runs folder goes by its name
    if result.stopped == "interrupted":
        click.echo(f"continue with: gradschool train --resume --out {run}")
        ctx.exit(128 + (result.stop_signal or signal.SIGINT))  # the shell's status for death by that signal
    click.echo(f"sample with: gradschool sample --from {run}")


@cli.command("sample")
@click.option("--from", "run", required=True, type=click.Path(),
              help="A training --out folder (its best checkpoint), a checkpoint file, or the name of a run "
                   "in the runs folder ($GRADSCHOOL_RUNS or ./runs).")
@click.option("--num", type=click.IntRange(1), default=10, show_default=True,
              help="How many samples, at most 1,000.")
@click.option("--temperature", type=click.FloatRange(0, min_open=True), default=1.0, show_default=True)
@click.option("--top-k", type=click.IntRange(1), default=None, help="Only the k likeliest tokens.")
@click.option("--top-p", type=click.FloatRange(0, 1, min_open=True), default=None,
              help="Sample only from the likeliest tokens that together have probability p.")
@click.option("--prompt", default="", help="Text the samples start with.")
@click.option("--max-new-tokens", type=click.IntRange(1), default=None,
              help="Characters to write, at most 100,000 (default: a whole line for names, 500 for text).")
@click.option("--seed", type=int, default=None, help="Make the samples reproducible.")
def sample_command(run: str, **options) -> None:
    """Sample names or text from a trained model."""
    from gradschool.sample import sample

    try:
        samples = sample(run, **options)
    except (ValueError, OSError) as e:
        raise click.ClickException(str(e)) from None
    separator = "\n" + "-" * 40 + "\n" if any("\n" in s for s in samples) else "\n"
    click.echo(separator.join(samples))


@cli.command("notebooks")
@click.argument("folder", required=False, default="notebooks", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite notebooks you edited there.")
def notebooks_command(folder: str, force: bool) -> None:
    """Write a Jupyter notebook for every rung's lesson into FOLDER (default: ./notebooks)."""
    try:
        from gradschool.notebooks import write_notebooks

        paths = write_notebooks(folder, force=force)
    except ImportError as e:
        raise click.ClickException(f"the notebooks need {e.name}: "
                                   "pip install 'gradschool[notebooks]'") from None
    except OSError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"wrote {len(paths)} notebooks to {folder}; open them with: jupyter lab {folder}")


@cli.command("plot")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--out", "png", type=click.Path(dir_okay=False), default=None,
              help="Where to save the PNG (default: RUN_DIR/loss.png).")
def plot_command(run_dir: str, png: str | None) -> None:
    """Draw a training run's loss curves from its metrics.jsonl."""
    from gradschool.plot import plot_losses
    from gradschool.runs import find_run

    try:
        click.echo(f"loss curves saved to {plot_losses(find_run(run_dir), png)}")
    except (ValueError, OSError, RuntimeError) as e:
        raise click.ClickException(str(e)) from None


@cli.command("export")
@click.argument("run", required=False, type=click.Path())
@click.option("--to", "to", type=(click.Choice(["torch", "nanogpt", "safetensors"]), click.Path()),
              default=None, metavar="FORMAT PATH", help="torch DIR: DIR/model.pt (a state_dict, nanoGPT "
              "names) and config.json; nanogpt DIR: DIR/ckpt.pt that nanoGPT's train.py resumes and "
              "sample.py samples; safetensors FILE: the weights, config and vocabulary in one file.")
@click.option("--from", "source", type=(click.Choice(["torch", "nanogpt", "safetensors"]),
                                        click.Path(dir_okay=False)), default=None, metavar="FORMAT FILE",
              help="Read a model back into a checkpoint: torch model.pt, nanogpt ckpt.pt (with --meta), or a "
              "safetensors file.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="With --from: the folder for the checkpoint (then `gradschool sample --from OUT`).")
@click.option("--meta", type=click.Path(dir_okay=False), default=None,
              help="With --from nanogpt: the dataset's meta.pkl (its characters), read without running code.")
@click.option("--data", default=None, metavar="FILE",
              help="With --from nanogpt: the text the model trained on (e.g. nanoGPT's data/shakespeare_char/"
              "input.txt); OUT is then a whole run that `gradschool train --resume --out OUT` continues.")
@click.option("--nanogpt-dir", type=click.Path(file_okay=False), default=None,
              help="With --to nanogpt: the nanoGPT folder whose data/DATASET/ gets meta.pkl (and with "
              "--with-data train.bin, val.bin) [default: DIR's parent].")
@click.option("--dataset", default=None, metavar="NAME", help="With --to nanogpt: nanoGPT's dataset name "
              "[default: gradschool_ and the name of the run's data].")
@click.option("--with-data", is_flag=True, help="With --to nanogpt: also write the run's train/val split as "
              "nanoGPT's train.bin and val.bin.")
@click.option("--force", is_flag=True, help="With --to: overwrite the files it writes.")
def export_command(run: str | None, to: tuple[str, str] | None, source: tuple[str, str] | None,
                   out_dir: str | None, meta: str | None, data: str | None, nanogpt_dir: str | None,
                   dataset: str | None, with_data: bool, force: bool) -> None:
    """Export a trained model to PyTorch, nanoGPT or safetensors (RUN --to FORMAT PATH), or import one
    (--from FORMAT FILE --out DIR)."""
    from gradschool import export

    if (to is None) == (source is None):
        raise click.UsageError("give either RUN --to FORMAT PATH (torch DIR, nanogpt DIR, safetensors FILE) "
                               "or --from FORMAT FILE --out DIR")
    if to is not None and run is None:
        raise click.UsageError(f"--to {to[0]} needs the run to export: gradschool export RUN --to {to[0]} "
                               f"{'FILE' if to[0] == 'safetensors' else 'DIR'}")
    if source is not None and (out_dir is None or run is not None):
        raise click.UsageError(f"--from {source[0]} FILE needs --out DIR (and no RUN)")
    if force and to is None:
        raise click.UsageError("--force applies only with --to torch DIR, --to nanogpt DIR or --to "
                               "safetensors FILE")
    if (meta is not None) != (source is not None and source[0] == "nanogpt"):
        raise click.UsageError("--from nanogpt FILE needs --meta META.PKL (the vocabulary of its dataset), "
                               "and --meta applies only there")
    if data is not None and meta is None:
        raise click.UsageError("--data applies only with --from nanogpt FILE --meta META.PKL")
    nanogpt_only = {"--nanogpt-dir": nanogpt_dir, "--dataset": dataset, "--with-data": with_data or None}
    for name, value in nanogpt_only.items():
        if value is not None and (to is None or to[0] != "nanogpt"):
            raise click.UsageError(f"{name} applies only with --to nanogpt DIR")
    try:
        if to is not None and to[0] == "nanogpt":
            done = export.to_nanogpt(run, to[1], nanogpt_dir, dataset, with_data, force)
            for path in (done.ckpt, done.meta, *done.data):
                click.echo(f"wrote {path}")
            if not done.resumable:
                click.echo("(the checkpoint held a model but no training state: nanoGPT's optimizer will "
                           "start fresh at iter 0)")
            click.echo(f"in {done.nanogpt_dir}, sample with:\n  {done.sample_command}\ncontinue the run "
                       f"with (add --device=cpu --compile=False on a CPU):\n  {done.train_command}")
            return
        if to is not None:
            write = {"torch": export.to_torch, "safetensors": export.to_safetensors}[to[0]]
            path = write(run, to[1], force=force)
        elif source[0] == "nanogpt":
            path = export.from_nanogpt(source[1], meta, out_dir, data)
        else:
            read = {"torch": export.from_torch, "safetensors": export.from_safetensors}[source[0]]
            path = read(source[1], out_dir)
    except (ValueError, OSError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"wrote {path}")


def main() -> None:
    """Entry point of the console script."""
    cli()
