"""The `gradschool` command itself."""

import subprocess
import sys

from click.testing import CliRunner

from gradschool.cli import cli


def test_rungs_lists_every_rung_number():
    result = CliRunner().invoke(cli, ["rungs"])
    assert result.exit_code == 0
    numbers = [line.split()[0] for line in result.output.strip().splitlines()]
    assert numbers == [str(n) for n in range(1, 10)]


def test_rung_out_of_range_is_refused_clearly():
    result = CliRunner().invoke(cli, ["rung", "12"])
    assert result.exit_code != 0
    assert "12 is not in the range 1<=x<=9" in result.output


def test_python_dash_m_runs_the_same_command():
    out = subprocess.run([sys.executable, "-m", "gradschool", "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "gradschool, version" in out.stdout
