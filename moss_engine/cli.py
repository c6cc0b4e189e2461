"""``python -m moss_engine.cli``: the command line lives in :mod:`moss_engine.commands.main`."""

from moss_engine.commands.main import entry, main

__all__ = ["entry", "main"]

if __name__ == "__main__":
    entry()
