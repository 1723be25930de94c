"""Maintenance windows hold the alerts of their CIs and the symptom alerts of dependents."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ingestd.maintenance import Every, Recurrence, Window, is_in_maintenance
from ingestd.route import load_rules
from tests.route import fixtures

START = datetime(2026, 1, 10, 22, 0, tzinfo=UTC)
END = START + timedelta(hours=2)
DB_WINDOW = Window("pg-upgrade", frozenset({"pg"}), START, END)


def test_the_ci_itself_is_held_only_during_the_window() -> None:
    assert is_in_maintenance([DB_WINDOW], "pg", set(), START - timedelta(seconds=1)) is None
    hold = is_in_maintenance([DB_WINDOW], "pg", set(), START)
    assert hold is not None and not hold.via_dependency and hold.until == END
    assert is_in_maintenance([DB_WINDOW], "pg", set(), END) is None


def test_dependents_symptom_alerts_are_held() -> None:
    # web needs pg (web -> pg): web's alerts during pg's maintenance are symptoms
    hold = is_in_maintenance([DB_WINDOW], "web", {"pg", "host-1"}, START + timedelta(minutes=5))
    assert hold is not None and hold.via_dependency and hold.ci == "pg"
    assert "depends on pg" in hold.reason
    # a CI that does not need pg is not held
    assert is_in_maintenance([DB_WINDOW], "tor-1", {"core"}, START + timedelta(minutes=5)) is None
    # a window may hold only its own CIs
    own_only = Window("pg-only", frozenset({"pg"}), START, END, include_dependents=False)
    assert is_in_maintenance([own_only], "web", {"pg"}, START) is None


def test_ruleset_uses_the_cmdb_graph(tmp_path: Path) -> None:
    maint = """
        windows:
          - name: host-reboot
            cis: [host-1]
            start: 2026-01-10T22:00:00Z
            end: 2026-01-11T00:00:00Z
        """
    rules = load_rules(fixtures.write(tmp_path / "r", {"maintenance.yaml": maint}), fixtures.cmdb())
    during = START + timedelta(minutes=30)
    for ci in ("host-1", "pg", "web", "pay"):  # host-1 and everything that needs it
        assert rules.in_maintenance(ci, during) is not None, ci
    assert rules.in_maintenance("tor-1", during) is None  # host-1 needs tor-1, not the reverse
    assert rules.in_maintenance("web", END) is None  # the window is over: route at once
    # a window from elsewhere (the API) adds to the YAML ones
    api = Window("api", frozenset({"tor-1"}), END, END + timedelta(hours=1))
    assert rules.in_maintenance("web", END, (api,)) is not None


def test_weekly_recurring_window_in_local_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    w = Window(
        "patching",
        frozenset({"core"}),
        datetime(2026, 1, 4, 2, 0, tzinfo=berlin),
        datetime(2026, 1, 4, 3, 0, tzinfo=berlin),
        Recurrence(Every.WEEKLY, berlin),
    )
    assert w.is_active(datetime(2026, 1, 11, 2, 30, tzinfo=berlin))
    assert not w.is_active(datetime(2026, 1, 12, 2, 30, tzinfo=berlin))
    assert not w.is_active(datetime(2026, 1, 11, 3, 0, tzinfo=berlin))
    # after the spring DST change it is still 02:00-03:00 local... (02:xx does not exist on
    # 2026-03-29, so take the week after)
    assert w.is_active(datetime(2026, 4, 5, 2, 30, tzinfo=berlin))
    assert w.is_active(datetime(2026, 4, 5, 0, 30, tzinfo=UTC))  # 02:30 CEST
    assert not w.is_active(datetime(2026, 1, 3, 2, 30, tzinfo=berlin))  # before the first one
