"""The command line: the ``moss`` parser and one module per command."""
