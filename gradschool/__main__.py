"""`python -m gradschool` is the `gradschool` command."""

from gradschool.cli import main

main()
