"""The ``ingestd`` command line: one sub-module per command group.

Each module in :data:`COMMANDS` has ``register(subparsers)``, which adds its
sub-commands and sets ``func`` (taking the parsed arguments, returning the
exit status) on each.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = [
    "ingestd.cli.serve",
    "ingestd.cli.cmdb",
    "ingestd.cli.demo",
    "ingestd.cli.replay",
    "ingestd.cli.export",
    "ingestd.cli.notify",
    "ingestd.cli.rules",
    "ingestd.cli.backup",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ingestd",
        description="Turns monitoring alerts into incidents people can act on.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
