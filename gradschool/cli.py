"""The `gradschool` command: run the rungs, train and sample models, serve the course."""

import click

from gradschool import __version__, rungs


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
    module.main(plot=plot)


def main() -> None:
    """Entry point of the console script."""
    cli()
