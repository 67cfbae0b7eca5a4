"""``python -m modelgenes`` runs the CLI."""

from modelgenes.cli.app import main

main()
