"""``ingestd notify``: check receivers and send a sample notification to one.

    ingestd notify check [--receivers FILE]
    ingestd notify test RECEIVER [--receivers FILE] [--event EVENT]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys

import aiohttp

from ingestd.notify.config import ReceiversConfig, load_receivers
from ingestd.notify.errors import DeliveryError, ReceiversConfigError
from ingestd.notify.model import Event
from ingestd.notify.receivers import build_receiver
from ingestd.notify.templates import sample_notification

DEFAULT_RECEIVERS = "rules/receivers.yaml"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("notify", help="check receivers, send a sample notification",
                       description="Check receivers.yaml, or send a sample notification to one "
                       "receiver so you can see it arrive before relying on it.")
    cmds = p.add_subparsers(dest="notify_command", metavar="SUBCOMMAND", required=True)
    default = os.environ.get("INGESTD_RECEIVERS", DEFAULT_RECEIVERS)
    c = cmds.add_parser("check", help="validate the receivers file (templates included)")
    c.add_argument("--receivers", default=default,
                   help=f"receivers file (INGESTD_RECEIVERS, default {DEFAULT_RECEIVERS})")
    c.set_defaults(func=check)
    t = cmds.add_parser("test", help="send a sample notification to RECEIVER")
    t.add_argument("receiver", metavar="RECEIVER")
    t.add_argument("--receivers", default=default,
                   help=f"receivers file (INGESTD_RECEIVERS, default {DEFAULT_RECEIVERS})")
    t.add_argument("--event", default="opened", choices=[e.value for e in Event],
                   help="which event the sample is (default opened)")
    t.set_defaults(func=test)


def _load(path: str) -> ReceiversConfig | None:
    try:
        return load_receivers(path)
    except ReceiversConfigError as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        return None


def check(args: argparse.Namespace) -> int:
    config = _load(args.receivers)
    if config is None:
        return 2
    print(f"{args.receivers}: {len(config.receivers)} receivers OK: {', '.join(config.names())}")
    return 0


def test(args: argparse.Namespace) -> int:
    config = _load(args.receivers)
    if config is None:
        return 2
    rc = config.receivers.get(args.receiver)
    if rc is None:
        print(f"{args.receivers}: no receiver {args.receiver!r} "
              f"(defined: {', '.join(config.names()) or 'none'})", file=sys.stderr)
        return 2
    return asyncio.run(_send(config, args.receiver, Event(args.event)))


async def _send(config: ReceiversConfig, name: str, event: Event) -> int:
    from ingestd.domain import utcnow

    rc = config.receivers[name]
    now = utcnow()
    n = sample_notification(name, event, now=now)
    # A fresh incident id each time, so a ticket system opens a new sample ticket.
    n = dataclasses.replace(n, incident=dataclasses.replace(
        n.incident, id=f"INC-SAMPLE-{now:%Y%m%d%H%M%S}"))
    async with aiohttp.ClientSession() as session:
        receiver = build_receiver(rc, session)
        try:
            async with asyncio.timeout(rc.timeout):
                await receiver.sender.send(n)
        except DeliveryError as e:
            kind = "would retry" if e.retryable else "permanent"
            print(f"{name} ({rc.type}): sending failed ({kind}): {e}", file=sys.stderr)
            return 1
        except TimeoutError:
            print(f"{name} ({rc.type}): no answer within {rc.timeout:g}s", file=sys.stderr)
            return 1
    print(f"{name} ({rc.type}): sample {event.value} notification for {n.incident.id} delivered")
    return 0
