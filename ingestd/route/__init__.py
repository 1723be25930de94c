"""Routing: which team owns an incident, who is on call, how urgent it is, whom to tell.

The pipeline calls::

    rules = load_rules("rules", cmdb)          # RulesError(problems) if anything is wrong
    ctx = rules.context(labels, at=now, root_ci="pg-main", root_inferred=True)
    decision = rules.route(ctx)                # team, assignee, priority, receivers, ...

Exceptions::

    ValueError
    ├── RulesError      the rules directory is not valid (every problem, file:line: reason)
    └── MatcherError    a matcher string does not parse
"""

from ingestd.route.config import RULE_FILES, RulesError, config_hash, load_rules
from ingestd.route.matchers import (
    Matcher,
    MatcherError,
    Matchers,
    MatchType,
    parse_labels,
    parse_matchers,
)
from ingestd.route.ruleset import MatchedRoute, RoutingContext, RoutingDecision, RuleSet
from ingestd.route.tree import Route, Settings, Threshold

__all__ = [
    "RULE_FILES",
    "MatchType",
    "MatchedRoute",
    "Matcher",
    "MatcherError",
    "Matchers",
    "Route",
    "RoutingContext",
    "RoutingDecision",
    "RuleSet",
    "RulesError",
    "Settings",
    "Threshold",
    "config_hash",
    "load_rules",
    "parse_labels",
    "parse_matchers",
]
