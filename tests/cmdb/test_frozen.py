"""The loader's quick makers of frozen dataclasses: the same objects as the constructors."""

from __future__ import annotations

import dataclasses
import re

import pytest

from ingestd.cmdb import CI
from ingestd.cmdb.frozen import maker
from ingestd.cmdb.selectors import Matcher, Selector
from ingestd.domain import Criticality


def test_makes_what_the_constructor_makes() -> None:
    m = Matcher("instance", "=~", "web-.*", re.compile("web-.*"))
    s = Selector((m,))
    ci = CI("web", "host", "shop", "web", Criticality.HIGH, (s,), ("db",), {"rack": "r1"}, 7)
    for obj in (m, s, ci):
        values = [getattr(obj, f.name) for f in dataclasses.fields(obj)]
        made = maker(type(obj))(*values)
        assert made == obj and repr(made) == repr(obj) and type(made) is type(obj)
    made_ci = maker(CI)(*[getattr(ci, f.name) for f in dataclasses.fields(ci)])
    with pytest.raises(dataclasses.FrozenInstanceError):
        made_ci.id = "other"  # type: ignore[misc]


def test_refuses_classes_it_cannot_make_right() -> None:
    @dataclasses.dataclass(frozen=True)
    class WithDict:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            assert self.a > 0

    for cls in (WithDict, Checked):
        with pytest.raises(TypeError):
            maker(cls)
