"""Load and validate ``cmdb.yaml`` (CONTRACT section 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ingestd.cmdb.model import CI, Cmdb, Matcher, Selector
from ingestd.domain import Criticality


class CmdbError(ValueError):
    """The CMDB file is not valid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_cmdb(path: str | Path) -> Cmdb:
    p = Path(path)
    return parse_cmdb(p.read_text(encoding="utf-8"), str(p))


def parse_cmdb(text: str, source: str = "<cmdb>") -> Cmdb:
    try:
        doc: Any = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise CmdbError([f"{source}: {e}"]) from e
    if not isinstance(doc, dict) or not isinstance(doc.get("cis", []), list):
        raise CmdbError([f"{source}: expected a map with a list under 'cis'"])
    cis = []
    for item in doc.get("cis", []):
        sels = tuple(
            Selector(tuple(Matcher(str(k), "=", str(v)) for k, v in sel.items()))
            for sel in item.get("match", []) or []
        )
        cis.append(
            CI(
                id=str(item["id"]),
                type=str(item.get("type", "")),
                service=item.get("service"),
                team=item.get("team"),
                criticality=Criticality(item.get("criticality", "medium")),
                match=sels,
                depends_on=tuple(str(d) for d in item.get("depends_on", []) or []),
            )
        )
    return Cmdb(cis, source)
