"""``python -m mastertrade`` runs the ``mt`` command."""

from mastertrade.cli.app import main

main()
