"""`python -m versicolor` runs the CLI."""

from versicolor.cli import main

main()
