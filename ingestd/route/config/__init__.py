"""Reading the rules directory (``rules/*.yaml``) into a :class:`~ingestd.route.ruleset.RuleSet`."""

from ingestd.route.config.load import RULE_FILES, RulesError, config_hash, load_rules

__all__ = ["RULE_FILES", "RulesError", "config_hash", "load_rules"]
