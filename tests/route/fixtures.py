"""A small rules directory and CMDB, built in code for the routing tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ingestd.cmdb import Cmdb, parse_cmdb

CMDB = """
cis:
  - {id: core, type: network, team: netops, criticality: critical, match: [{instance: core}]}
  - {id: tor-1, type: network, team: netops, criticality: high, depends_on: [core], match: [{instance: tor-1}]}
  - {id: host-1, type: host, team: infra, criticality: medium, depends_on: [tor-1], match: [{instance: "host-1:9100"}]}
  - {id: pg, type: database, team: dba, criticality: high, depends_on: [host-1], match: [{instance: "pg:9187"}]}
  - {id: web, type: service, service: shop, team: shop, criticality: high, depends_on: [pg], match: [{service: web}]}
  - {id: pay, type: service, service: payments, team: shop, criticality: critical, depends_on: [pg], match: [{service: pay}]}
  - {id: orphan, type: host, criticality: low, match: [{instance: orphan}]}
"""

FILES = {
    "receivers.yaml": """
        receivers:
          - {name: slack-ops, type: slack, url: "https://example.com/ops"}
          - {name: slack-dba, type: slack, url: "https://example.com/dba"}
          - {name: pager-dba, type: webhook, url: "https://example.com/pager"}
          - {name: mail-mgmt, type: webhook, url: "https://example.com/mgmt"}
        """,
    "teams.yaml": """
        management: [boss]
        teams:
          - name: netops
            members: [nina, omar]
            rotation: {kind: daily, handoff: "09:00", timezone: UTC, start: 2026-01-05}
          - name: infra
            members: [ivan]
          - name: dba
            lead: carol
            members: [carol, dave]
            next_tier: infra
            rotation: {kind: weekly, handoff: "10:00", timezone: UTC, start: 2026-01-05}
          - name: shop
            members: [sam]
            rotation: {kind: daily, handoff: "09:00", timezone: UTC}
          - name: platform
            members: [pat]
            rotation: {kind: daily, handoff: "09:00", timezone: UTC}
        """,
    "sla.yaml": """
        escalation_policies:
          - name: dba-policy
            levels:
              - {after: 10m, target: team_lead}
              - {after: 1h, target: management, when: unresolved}
        """,
    "routes.yaml": """
        default_team: platform
        route:
          receivers: [slack-ops]
          routes:
            - name: dbs
              matchers: ['ci.type=~"database|cache"']
              team: dba
              receivers: [slack-dba]
              escalation: dba-policy
              tags: [data]
              routes:
                - name: db-down
                  matchers: ['alertname="PostgresDown"']
                  receivers: [pager-dba]
                  priority: P0
                  runbook: "https://rb.example.com/{{ labels.alertname | lower }}/{{ ci.id }}"
                - name: db-noise
                  matchers: ['alertname="PostgresSlowQuery"']
                  suppress: true
                  threshold: {alerts: 3, after: 10m}
        """,
}


def write(directory: Path, files: dict[str, str | None] | None = None) -> Path:
    """Write the rules files (FILES, with some replaced or, given None, left out) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    merged: dict[str, str | None] = {**FILES, **(files or {})}
    for name, text in merged.items():
        if text is not None:
            (directory / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return directory


def cmdb() -> Cmdb:
    return parse_cmdb(CMDB, "cmdb.yaml")
