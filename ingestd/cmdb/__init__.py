"""The CMDB: configuration items, their dependency graph, and mapping alerts onto them."""

from ingestd.cmdb.loader import CmdbError, load_cmdb, parse_cmdb, reload_cmdb
from ingestd.cmdb.model import CI, Cmdb, Mapping_, Matcher, Selector

__all__ = [
    "CI",
    "Cmdb",
    "CmdbError",
    "Mapping_",
    "Matcher",
    "Selector",
    "load_cmdb",
    "parse_cmdb",
    "reload_cmdb",
]
