"""`python -m civichain`: the same as the `civichain` command."""

from civichain.cli import main

main()
