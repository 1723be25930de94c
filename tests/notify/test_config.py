"""receivers.yaml is validated completely at load, each problem with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestd.notify.config import load_receivers, parse_receivers
from ingestd.notify.errors import ReceiversConfigError

REPO = Path(__file__).resolve().parents[2]


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ReceiversConfigError) as e:
        parse_receivers(text, "rules/receivers.yaml", env or {})
    return e.value.problems


def test_the_example_receivers_file_loads() -> None:
    cfg = load_receivers(REPO / "rules" / "receivers.yaml")
    assert {"slack-ops", "mail-management"} <= set(cfg.receivers)
    assert cfg.receivers["slack-shop"].rate_limit is not None


def test_every_problem_is_reported_with_its_line() -> None:
    text = """receivers:
  - name: hook
    type: webhook
    url: http://127.0.0.1/x
    colour: red
  - name: mail
    type: email
    to: [a@example.com]
    smarthost: mail.example.com
  - name: hook
    type: webhook
    url: ftp://nope
  - name: chat
    type: pager
"""
    assert problems(text) == [
        "rules/receivers.yaml:5: receiver 'hook': unknown key 'colour' for type webhook (known: "
        "basic_password, basic_username, bearer_token, concurrency, headers, max_attempts, name, "
        "rate_limit, templates, timeout, tls, type, url)",
        "rules/receivers.yaml:9: receiver 'mail': 'smarthost' must be host:port (got 'mail.example.com')",
        "rules/receivers.yaml:6: receiver 'mail': missing required key 'from' for type email",
        "rules/receivers.yaml:12: receiver 'hook': 'url' must be an http:// or https:// URL (got 'ftp://nope')",
        "rules/receivers.yaml:14: receiver 'chat': 'type' must be one of webhook, slack, wecom, "
        "dingtalk, feishu, email, redmine, jira (got 'pager')",
    ]


def test_template_errors_are_caught_at_load_not_at_send() -> None:
    syntax = """receivers:
  - name: s
    type: slack
    url: http://127.0.0.1/x
    templates:
      text: "{{ incident.title "
"""
    (p,) = problems(syntax)
    assert p.startswith("rules/receivers.yaml:5: receiver 's': template 'text': line 1:")
    typo = syntax.replace('"{{ incident.title "', '"{{ incident.tittle }}"')
    (p,) = problems(typo)
    assert "template 'text' fails for a sample opened event" in p and "tittle" in p
    unknown = syntax.replace('text: "{{ incident.title "', 'body: "{}"')
    (p,) = problems(unknown)
    assert "unknown template 'body' for type slack (known: text)" in p


def test_secrets_come_from_env_or_files(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("from-a-file\n")
    text = f"""receivers:
  - name: r
    type: redmine
    url: http://127.0.0.1:3300
    api_key_file: {tmp_path / 'key'}
    project: ops
  - name: d
    type: dingtalk
    url: http://127.0.0.1/robot
    secret: {{env: DING_SECRET}}
"""
    cfg = parse_receivers(text, "x.yaml", {"DING_SECRET": "from-env"})
    assert cfg.receivers["r"].options.api_key == "from-a-file"
    assert cfg.receivers["d"].options.secret == "from-env"
    assert problems(text.replace("rules/receivers.yaml", "x")) == [
        "rules/receivers.yaml:10: receiver 'd': 'secret': environment variable DING_SECRET is not set"]


def test_limits_and_jira_auth_are_checked() -> None:
    text = """receivers:
  - name: j
    type: jira
    url: https://example.atlassian.net
    project: OPS
    concurrency: 0
    rate_limit: lots
    timeout: soon
"""
    assert problems(text) == [
        "rules/receivers.yaml:2: receiver 'j': jira needs 'username' + 'api_token' (Cloud) or "
        "'bearer_token' (Server/Data Center)",
        "rules/receivers.yaml:6: receiver 'j': 'concurrency' must be a whole number >= 1",
        "rules/receivers.yaml:8: receiver 'j': timeout: 'soon' is not a duration (like 30s, 5m, 24h, 7d)",
        "rules/receivers.yaml:7: receiver 'j': rate_limit must look like 30/m (count per s, m or h)",
    ]
