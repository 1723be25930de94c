from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.console.server import ConsoleServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ConsoleServer]:
    s = ConsoleServer(tmp_path).start()
    yield s
    s.stop()
