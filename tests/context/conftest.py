"""Reuses the in-process daemon of the API tests."""

from tests.api.conftest import running  # noqa: F401
