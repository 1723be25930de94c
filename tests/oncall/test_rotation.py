"""On-call: daily and weekly hand-offs at a local hour, across DST, and overrides."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from ingestd.oncall import Override, Rotation, RotationKind, Team
from ingestd.route import load_rules
from tests.route import fixtures

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def weekly(tz: ZoneInfo, handoff: time = time(9, 0), start: date = date(2026, 1, 5)) -> Rotation:
    return Rotation(RotationKind.WEEKLY, ("ann", "bob", "cat"), handoff, tz, start)


def test_daily_handoff_at_the_local_hour() -> None:
    r = Rotation(RotationKind.DAILY, ("ann", "bob"), time(9, 0), BERLIN, date(2026, 1, 5))
    # 09:00 Berlin in January is 08:00 UTC
    assert r.on_call(datetime(2026, 1, 5, 7, 59, 59, tzinfo=UTC)) == "bob"  # the day before start
    assert r.on_call(datetime(2026, 1, 5, 8, 0, tzinfo=UTC)) == "ann"
    assert r.on_call(datetime(2026, 1, 6, 7, 59, tzinfo=UTC)) == "ann"
    assert r.on_call(datetime(2026, 1, 6, 8, 0, tzinfo=UTC)) == "bob"
    assert r.on_call(datetime(2026, 1, 7, 8, 0, tzinfo=UTC)) == "ann"


def test_weekly_handoff_boundary() -> None:
    r = weekly(BERLIN)
    monday = datetime(2026, 1, 12, 9, 0, tzinfo=BERLIN)
    assert r.on_call(monday - timedelta(seconds=1)) == "ann"
    assert r.on_call(monday) == "bob"
    assert r.on_call(monday + timedelta(days=7)) == "cat"
    assert r.on_call(monday + timedelta(days=14)) == "ann"
    shift = r.shift(monday + timedelta(hours=30))
    assert (shift.person, shift.start, shift.end) == ("bob", monday, monday + timedelta(days=7))


def test_same_instant_different_time_zones() -> None:
    # 2026-01-12 14:30 UTC: past the 09:00 hand-off in Berlin (15:30) and in New York (09:30)
    at = datetime(2026, 1, 12, 14, 30, tzinfo=UTC)
    assert weekly(BERLIN).on_call(at) == "bob"
    assert weekly(NEW_YORK).on_call(at) == "bob"
    # 13:30 UTC is 08:30 in New York: the hand-off has not happened there yet
    earlier = datetime(2026, 1, 12, 13, 30, tzinfo=UTC)
    assert weekly(BERLIN).on_call(earlier) == "bob"
    assert weekly(NEW_YORK).on_call(earlier) == "ann"


def test_handoff_stays_at_local_hour_across_dst() -> None:
    # Berlin switches to summer time on 2026-03-29 (02:00 -> 03:00): the 09:00 hand-off
    # is 08:00 UTC before and 07:00 UTC after.
    r = Rotation(RotationKind.DAILY, ("ann", "bob"), time(9, 0), BERLIN, date(2026, 3, 27))
    assert r.on_call(datetime(2026, 3, 28, 7, 59, tzinfo=UTC)) == "ann"
    assert r.on_call(datetime(2026, 3, 28, 8, 0, tzinfo=UTC)) == "bob"
    assert r.on_call(datetime(2026, 3, 29, 6, 59, tzinfo=UTC)) == "bob"
    assert r.on_call(datetime(2026, 3, 29, 7, 0, tzinfo=UTC)) == "ann"  # 09:00 CEST
    shift = r.shift(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert shift.end - shift.start == timedelta(hours=23)  # the short day
    # and back in October (25th, 03:00 -> 02:00): a 25-hour shift
    autumn = r.shift(datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert autumn.end - autumn.start == timedelta(hours=25)
    assert autumn.end == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)


def test_weekly_across_us_dst() -> None:
    # New York springs forward on 2026-03-08; a Monday 10:00 hand-off is 15:00 UTC before, 14:00 UTC after
    r = weekly(NEW_YORK, time(10, 0), date(2026, 3, 2))
    assert r.on_call(datetime(2026, 3, 9, 13, 59, tzinfo=UTC)) == "ann"
    assert r.on_call(datetime(2026, 3, 9, 14, 0, tzinfo=UTC)) == "bob"


def test_override_wins_over_the_rotation() -> None:
    est = timezone(timedelta(hours=-5))
    team = Team(
        "dba",
        ("ann", "bob", "cat"),
        rotation=weekly(NEW_YORK),
        overrides=(Override("cat", datetime(2026, 1, 7, 0, 0, tzinfo=est), datetime(2026, 1, 8, 0, 0, tzinfo=est), "swap"),),
    )
    assert team.on_call(datetime(2026, 1, 6, 23, 59, tzinfo=est)) == "ann"
    assert team.on_call(datetime(2026, 1, 7, 0, 0, tzinfo=est)) == "cat"
    assert "override" in team.on_call_reason(datetime(2026, 1, 7, 12, 0, tzinfo=est))
    assert team.on_call(datetime(2026, 1, 8, 0, 0, tzinfo=est)) == "ann"  # end is exclusive


def test_team_without_rotation_has_nobody_on_call() -> None:
    assert Team("infra", ("ivan",)).on_call(datetime(2026, 1, 5, tzinfo=UTC)) is None


def test_teams_yaml_rotation_day_and_override(tmp_path: Path) -> None:
    teams = """
        teams:
          - name: ops
            members: [ann, bob]
            rotation: {kind: weekly, day: wednesday, handoff: 18:30, timezone: Asia/Tokyo, members: [bob, ann]}
            overrides:
              - {on_call: ann, start: 2026-01-01T00:00:00+09:00, end: 2026-01-02T00:00:00+09:00, reason: new year}
        """
    rules = load_rules(fixtures.write(tmp_path / "r", {"teams.yaml": teams, "routes.yaml": None}))
    ops = rules.teams["ops"]
    assert ops.rotation is not None and ops.rotation.start.weekday() == 2  # a Wednesday
    assert ops.rotation.handoff == time(18, 30)  # unquoted 18:30 is YAML 1.1 base 60: still read as a time
    wed = datetime(2026, 1, 7, 18, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    before, after = ops.on_call(wed - timedelta(minutes=1)), ops.on_call(wed)
    assert {before, after} == {"ann", "bob"} and before != after
    assert ops.on_call(datetime(2026, 1, 1, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo"))) == "ann"
    assert ops.on_call(datetime(2026, 1, 2, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo"))) == ops.rotation.on_call(
        datetime(2026, 1, 2, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    )
