CREATE TABLE changes (
    id          BIGSERIAL PRIMARY KEY,
    ci          TEXT NOT NULL,
    summary     TEXT NOT NULL,
    author      TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL DEFAULT 'deployment',
    started_at  TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ,
    link        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX changes_ci_started ON changes (ci, started_at);
CREATE INDEX changes_started ON changes (started_at);

CREATE TABLE problems (
    id          TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    root_ci     TEXT,
    signature   TEXT NOT NULL,
    team        TEXT,
    opened_at   TIMESTAMPTZ NOT NULL,
    closed_at   TIMESTAMPTZ,
    doc         TEXT NOT NULL
);
CREATE INDEX problems_status ON problems (status, opened_at DESC);
CREATE INDEX problems_signature ON problems (signature, status);

CREATE INDEX incidents_root_resolved ON incidents (root_ci, opened_at DESC)
    WHERE status IN ('resolved', 'closed') AND merged_into IS NULL;
