"""The example configs in deploy/ pass the real tools' own checks."""

from __future__ import annotations

import subprocess

import pytest

from tests.e2e.conftest import (
    SHIPPED_ALERTMANAGER,
    SHIPPED_PROMETHEUS,
    SHIPPED_RULES,
    SHIPPED_RULES_TEST,
)

pytestmark = pytest.mark.e2e


def run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{out}"
    return out


def test_shipped_rules_pass_promtool_check(binaries: dict[str, str]) -> None:
    out = run(binaries["promtool"], "check", "rules", str(SHIPPED_RULES))
    assert "SUCCESS: 7 rules found" in out


def test_shipped_rules_pass_their_unit_tests(binaries: dict[str, str]) -> None:
    out = run(binaries["promtool"], "test", "rules", str(SHIPPED_RULES_TEST))
    assert "SUCCESS" in out


def test_shipped_prometheus_config_is_valid(binaries: dict[str, str]) -> None:
    out = run(binaries["promtool"], "check", "config", str(SHIPPED_PROMETHEUS))
    assert "1 rule files found" in out


def test_shipped_alertmanager_config_is_valid(binaries: dict[str, str]) -> None:
    run(binaries["amtool"], "check-config", str(SHIPPED_ALERTMANAGER))


@pytest.mark.parametrize(("labels", "receivers"), [
    (["alertname=PostgresDown", "severity=critical"], "ingestd"),
    (["alertname=IngestdDown", "severity=critical"], "oncall-mail,ingestd"),
])
def test_shipped_alertmanager_routes(binaries: dict[str, str], labels: list[str],
                                     receivers: str) -> None:
    out = run(binaries["amtool"], "config", "routes", "test",
              f"--config.file={SHIPPED_ALERTMANAGER}", *labels)
    assert out.splitlines()[0].strip() == receivers
