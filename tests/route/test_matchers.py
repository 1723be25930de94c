import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingestd.route import Matcher, MatcherError, MatchType, parse_labels, parse_matchers
from ingestd.route.matchers import parse_matcher


@pytest.mark.parametrize(
    ("matcher", "value", "expected"),
    [
        ('severity="critical"', "critical", True),
        ('severity="critical"', "warning", False),
        ('severity!="critical"', "warning", True),
        ('severity!="critical"', "critical", False),
        ('ci.type=~"database|cache"', "cache", True),
        ('ci.type=~"database|cache"', "database2", False),  # fully anchored, like Alertmanager
        ('ci.type=~"data"', "database", False),
        ('ci.type!~"database|cache"', "host", True),
        ('ci.type!~"database|cache"', "database", False),
    ],
)
def test_each_operator(matcher: str, value: str, expected: bool) -> None:
    m = parse_matcher(matcher)
    assert m.matches(value) is expected


def test_operators_are_recognised() -> None:
    assert [m.type for m in parse_matchers('a="1", b!="2", c=~"3", d!~"4"')] == [
        MatchType.EQUAL,
        MatchType.NOT_EQUAL,
        MatchType.REGEXP,
        MatchType.NOT_REGEXP,
    ]


def test_absent_label_matches_as_empty_string() -> None:
    assert parse_matchers('team!="dba"').matches({})
    assert not parse_matchers('team="dba"').matches({})
    assert parse_matchers('team=~"|dba"').matches({})


def test_quotes_and_escapes() -> None:
    m = parse_matcher(r'msg="She said: \"Hi, all\" \\ done\n"')
    assert m.value == 'She said: "Hi, all" \\ done\n'
    # unquoted values and a spurious escape keep the backslash, as in Alertmanager
    assert parse_matcher(r"path=C:\temp").value == r"C:\temp"
    assert parse_matcher("instance = node-1:9100 ").value == "node-1:9100"


def test_braces_form_with_commas_inside_quotes() -> None:
    ms = parse_matchers('{alertname="Disk, full", severity=~"critical|warning", }')
    assert [(m.name, m.value) for m in ms] == [("alertname", "Disk, full"), ("severity", "critical|warning")]
    assert ms.matches({"alertname": "Disk, full", "severity": "warning"})
    assert not ms.matches({"alertname": "Disk, full", "severity": "info"})


@pytest.mark.parametrize(
    "bad",
    [
        'severity"critical"',  # no operator
        '1abc="x"',  # not a label name
        'a="unterminated',
        'a="x"y"',  # unescaped quote inside
        'a=~"(unclosed"',  # bad regular expression
    ],
)
def test_bad_matchers_are_refused(bad: str) -> None:
    with pytest.raises(MatcherError):
        parse_matchers(bad)


def test_labels_for_the_route_command() -> None:
    assert parse_labels('alertname=X, severity="critical"') == {"alertname": "X", "severity": "critical"}
    with pytest.raises(MatcherError):
        parse_labels('severity=~"crit.*"')


@given(
    name=st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True),
    value=st.text(max_size=20),
    op=st.sampled_from(["=", "!="]),
)
def test_printed_matcher_parses_back(name: str, value: str, op: str) -> None:
    printed = str(Matcher.make(name, op, value))
    again = parse_matchers(printed).items
    assert [(m.name, m.type, m.value) for m in again] == [(name, MatchType(op), value)]


@given(st.text(max_size=40))
def test_any_text_parses_or_is_refused_cleanly(text: str) -> None:
    try:
        ms = parse_matchers(text)
    except MatcherError:
        return
    for m in ms:
        m.matches("some value")
