"""``ingestd serve`` with the pipeline shared through the store when it is PostgreSQL.

Run as ``python tests/store/serve_replicated.py serve …``. Where the daemon
already picks :class:`~ingestd.pipeline.replicated.ReplicatedCommitter` for a
PostgreSQL store this changes nothing; otherwise it makes that choice, so the
replica tests and benchmarks run the same composition either way.
"""

from __future__ import annotations

import sys
from typing import Any

import ingestd.app as app
from ingestd.cli import main
from ingestd.pipeline.replicated import ReplicatedCommitter

_init = app.Daemon.__init__


def _init_replicated(self: Any, settings: Any) -> None:
    _init(self, settings)
    if settings.db.startswith(("postgresql://", "postgres://")) and not isinstance(
            self.committer, ReplicatedCommitter):
        self.committer = ReplicatedCommitter(self._processor, self.store,
                                             max_queue=settings.queue_size,
                                             max_batch=settings.batch_size)
        self.runtime.committer = self.committer


app.Daemon.__init__ = _init_replicated  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
