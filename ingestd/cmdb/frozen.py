"""Make frozen, slotted dataclasses quickly from values already checked.

A frozen dataclass's ``__init__`` sets each field through
``object.__setattr__``, since its own ``__setattr__`` refuses: a generic
attribute lookup and call per field. Loading a large CMDB makes a CI, a
selector and a matcher for every few lines of the file, and their
``__init__`` took a tenth of the load time. A maker writes the slots
directly, through the descriptors the class defines for them (where
``object.__setattr__`` ends up too). It applies no defaults and runs no
``__post_init__``: every field is given, in the order of
:func:`dataclasses.fields`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def maker(cls: type[T]) -> Callable[..., T]:
    """A function ``make(*values)`` equal to ``cls(*values)`` with every field given."""
    if (not dataclasses.is_dataclass(cls) or "__slots__" not in cls.__dict__
            or hasattr(cls, "__post_init__")):
        raise TypeError(f"{cls.__name__} is not a slotted dataclass without __post_init__")
    setters = tuple(cls.__dict__[f.name].__set__ for f in dataclasses.fields(cls))
    new = object.__new__

    def make(*values: Any) -> T:
        obj = new(cls)
        for set_field, value in zip(setters, values, strict=False):  # every field is given
            set_field(obj, value)
        return obj

    return make
