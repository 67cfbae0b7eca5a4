"""The ``modelgenes`` command line (typer). The app and its entry point are ``modelgenes.cli.app``
(``app``, ``main``); each command group is a module that registers itself on that app."""

__all__: list[str] = []
