"""The command line: ``asn-eval report | validate | synth | notebooks`` (also ``python -m
asn_eval``)."""

from asn_eval.cli.commands import main

__all__ = ["main"]
