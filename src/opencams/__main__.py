"""`python -m opencams`: the same as the `opencams` command."""

from .cli import main

main()
