"""The `gradschool` command: run the rungs, train and sample models, serve the course."""

import click
from click.core import ParameterSource

from gradschool import __version__, rungs
from gradschool.diverge import TrainingDiverged


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
@click.argument("n", type=click.IntRange(1, len(rungs.RUNGS)))
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


@cli.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but 127.0.0.1 lets other machines reach the course.")
@click.option("--open", "open_browser", is_flag=True, help="Also open the course in a web browser.")
@click.option("--runs", "runs_dir", default=None, type=click.Path(file_okay=False),
              help="Folder of trained language models for chapter 7 [default: $GRADSCHOOL_RUNS or ./runs].")
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


@cli.command("train")
@click.option("--model", type=click.Choice(["bigram", "mlp", "gpt"]), default=None,
              help="Which language model to train (default: the preset's, else gpt).")
@click.option("--data", default="shakespeare", show_default=True,
              help="A shipped corpus (names, shakespeare) or the path of a UTF-8 text file.")
@click.option("--format", "data_format", type=click.Choice(["auto", "lines", "text"]), default=None,
              help="lines: one example per line (like names); text: running text. Default: guess.")
@click.option("--preset", default=None, help="Start from named settings (see gradschool/presets.py).")
@click.option("--out", "out_dir", default="out", show_default=True, type=click.Path(file_okay=False),
              help="Folder for checkpoints and metrics.jsonl.")
@click.option("--resume", is_flag=True, help="Continue the run in --out exactly where it stopped.")
@click.option("--max-iters", type=click.IntRange(0), default=None, help="Training steps.")
@click.option("--batch-size", type=click.IntRange(1), default=None)
@click.option("--block-size", type=click.IntRange(1), default=None, help="Context length in characters.")
@click.option("--lr", "learning_rate", type=click.FloatRange(0, min_open=True), default=None,
              help="Peak learning rate.")
@click.option("--min-lr", type=click.FloatRange(0), default=None, help="Learning rate after the decay.")
@click.option("--warmup-iters", type=click.IntRange(0), default=None)
@click.option("--lr-decay-iters", type=click.IntRange(1), default=None, help="Default: --max-iters.")
@click.option("--weight-decay", type=click.FloatRange(0), default=None)
@click.option("--grad-clip", type=click.FloatRange(0), default=None, help="0 turns clipping off.")
@click.option("--eval-interval", type=click.IntRange(1), default=None)
@click.option("--eval-iters", type=click.IntRange(1), default=None, help="Batches per evaluation.")
@click.option("--eval-batches", type=click.Choice(["fixed", "fresh"]), default=None,
              help="fixed: the same batches every evaluation (default); fresh: new ones each time (nanoGPT).")
@click.option("--random-stream", type=click.Choice(["gradschool", "nanogpt"]), default=None,
              help="gradschool: NumPy's generators (default); nanogpt: torch's draws, in nanoGPT's order.")
@click.option("--patience", type=click.IntRange(1), default=None,
              help="Stop early after this many evaluations without a better val loss.")
@click.option("--seed", type=int, default=None)
@click.option("--n-layer", type=click.IntRange(1), default=None, help="Model size (gpt).")
@click.option("--n-head", type=click.IntRange(1), default=None, help="Model size (gpt).")
@click.option("--n-embd", type=click.IntRange(1), default=None, help="Embedding size (mlp, gpt).")
@click.option("--n-hidden", type=click.IntRange(1), default=None, help="Hidden layer size (mlp).")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=None, help="(gpt)")
@click.option("--bias/--no-bias", default=None, help="Biases in linear layers and layer norms (gpt).")
@click.option("--plot", is_flag=True, help="Draw the loss curves to OUT/loss.png (needs matplotlib).")
@click.pass_context
def train_command(ctx: click.Context, preset: str | None, resume: bool, plot: bool, **flags) -> None:
    """Train a language model; checkpoints, metrics and loss curves go to --out."""
    from gradschool.train import make_config, resume_config, train

    try:
        if resume:
            if preset:
                raise ValueError("--preset cannot be combined with --resume: the run keeps its settings")
            out_dir = flags.pop("out_dir")
            given = {k: v for k, v in flags.items() if ctx.get_parameter_source(k) != ParameterSource.DEFAULT}
            config = resume_config(out_dir, **given)
        else:
            preset_values = _preset(preset) if preset else None
            model = flags.pop("model") or (preset_values or {}).get("model", "gpt")
            config = make_config(model, flags.pop("data"), preset=preset_values, **flags)
        result = train(config, resume=resume)
    except KeyboardInterrupt:
        raise click.Abort() from None
    except (ValueError, OSError, ArithmeticError) as e:  # bad data or flags, checkpoint problems, divergence
        raise click.ClickException(str(e)) from None
    click.echo(f"{result.stopped.replace('_', ' ')} at step {result.iter_num}: best val loss "
               f"{result.best_val_loss:.4f}; checkpoints in {result.out_dir}")
    if plot:
        ctx.invoke(plot_command, run_dir=str(result.out_dir), png=None)
    if result.stopped == "interrupted":
        click.echo(f"continue with: gradschool train --resume --out {result.out_dir}")
        ctx.exit(130)
    click.echo(f"sample with: gradschool sample --from {result.out_dir}")


def _preset(name: str) -> dict:
    """The settings of a named preset from gradschool/presets.py."""
    from gradschool.presets import PRESETS

    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}")
    return PRESETS[name]


@cli.command("sample")
@click.option("--from", "run", required=True, type=click.Path(),
              help="A training --out folder (its best checkpoint) or a checkpoint file.")
@click.option("--num", type=click.IntRange(1), default=10, show_default=True, help="How many samples.")
@click.option("--temperature", type=click.FloatRange(0, min_open=True), default=1.0, show_default=True)
@click.option("--top-k", type=click.IntRange(1), default=None, help="Only the k likeliest tokens.")
@click.option("--top-p", type=click.FloatRange(0, 1, min_open=True), default=None,
              help="Sample only from the likeliest tokens that together have probability p.")
@click.option("--prompt", default="", help="Text the samples start with.")
@click.option("--max-new-tokens", type=click.IntRange(1), default=None,
              help="Characters to write (default: a whole line for names, 500 for text).")
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


@cli.command("plot")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--out", "png", type=click.Path(dir_okay=False), default=None,
              help="Where to save the PNG (default: RUN_DIR/loss.png).")
def plot_command(run_dir: str, png: str | None) -> None:
    """Draw a training run's loss curves from its metrics.jsonl."""
    from gradschool.plot import plot_losses

    try:
        click.echo(f"loss curves saved to {plot_losses(run_dir, png)}")
    except (ValueError, OSError, RuntimeError) as e:
        raise click.ClickException(str(e)) from None


@cli.command("export")
@click.argument("run", required=False, type=click.Path())
@click.option("--to", "to", type=(click.Choice(["torch"]), click.Path(file_okay=False)), default=None,
              metavar="torch DIR", help="Write RUN's GPT to DIR/model.pt (a state_dict, nanoGPT names).")
@click.option("--from", "source", type=(click.Choice(["torch"]), click.Path(dir_okay=False)), default=None,
              metavar="torch FILE", help="Read a state_dict written by --to torch back into a checkpoint.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="With --from: the folder for the checkpoint (then `gradschool sample --from OUT`).")
def export_command(run: str | None, to: tuple[str, str] | None, source: tuple[str, str] | None,
                   out_dir: str | None) -> None:
    """Export a trained GPT to PyTorch (RUN --to torch DIR), or import one (--from torch FILE --out DIR)."""
    from gradschool.export import from_torch, to_torch

    if (to is None) == (source is None):
        raise click.UsageError("give either RUN --to torch DIR or --from torch FILE --out DIR")
    if to is not None and run is None:
        raise click.UsageError("--to torch DIR needs the run to export: gradschool export RUN --to torch DIR")
    if source is not None and (out_dir is None or run is not None):
        raise click.UsageError("--from torch FILE needs --out DIR (and no RUN)")
    try:
        path = to_torch(run, to[1]) if to is not None else from_torch(source[1], out_dir)
    except (ValueError, OSError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"wrote {path}")


def main() -> None:
    """Entry point of the console script."""
    cli()
