-- The shared store: the same tables as SQLite, with native times, plus the
-- inbox (bodies accepted by any replica, waiting for the pipeline) and the
-- leader row (which replica runs the pipeline, for people to read).
-- JSON lives in TEXT columns: jsonb refuses \u0000, and a body that was
-- acknowledged must never become unwritable.

CREATE TABLE alerts (
    fingerprint   TEXT PRIMARY KEY,
    source        TEXT NOT NULL,
    labels        TEXT NOT NULL,
    annotations   TEXT NOT NULL,
    status        TEXT NOT NULL,
    starts_at     TIMESTAMPTZ NOT NULL,
    ends_at       TIMESTAMPTZ,
    episode       TEXT NOT NULL,
    last_seen     TIMESTAMPTZ NOT NULL,
    seen          INTEGER NOT NULL DEFAULT 1,
    generator_url TEXT NOT NULL DEFAULT ''
);

CREATE TABLE incidents (
    id          TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    opened_at   TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    doc         TEXT NOT NULL,
    priority    TEXT NOT NULL,
    team        TEXT,
    root_ci     TEXT,
    resolved_at TIMESTAMPTZ,
    merged_into TEXT
);
CREATE INDEX incidents_status_opened ON incidents (status, opened_at DESC, id DESC);
CREATE INDEX incidents_opened ON incidents (opened_at DESC, id DESC);
CREATE INDEX incidents_team ON incidents (team, opened_at DESC);
CREATE INDEX incidents_priority ON incidents (priority, opened_at DESC);

CREATE TABLE incident_cis (
    incident_id TEXT NOT NULL,
    ci          TEXT NOT NULL,
    PRIMARY KEY (ci, incident_id)
);

CREATE TABLE episodes (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ,
    ci          TEXT,
    alertname   TEXT NOT NULL,
    severity    TEXT NOT NULL,
    labels      TEXT NOT NULL
);
CREATE INDEX episodes_incident ON episodes (incident_id, starts_at);
CREATE INDEX episodes_fingerprint ON episodes (fingerprint);

CREATE TABLE timeline (
    id          BIGSERIAL PRIMARY KEY,
    incident_id TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX timeline_incident ON timeline (incident_id, id);

CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    receiver        TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    incident_id     TEXT NOT NULL,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_owner     TEXT,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    done_at         TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'pending';

CREATE TABLE timers (
    id          BIGSERIAL PRIMARY KEY,
    incident_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    level       INTEGER NOT NULL,
    due_at      TIMESTAMPTZ NOT NULL,
    target      TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT 'pending',
    fired_at    TIMESTAMPTZ,
    UNIQUE (incident_id, kind, level)
);
CREATE INDEX timers_due ON timers (due_at) WHERE state = 'pending';

-- Work accepted by a replica and not yet run through the pipeline. Intake rows
-- are deleted in the transaction that applies them; action rows keep their
-- result until the replica that took the request has read it.
CREATE TABLE inbox (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    body         TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    processed_at TIMESTAMPTZ,
    result       TEXT
);
CREATE INDEX inbox_pending ON inbox (id) WHERE processed_at IS NULL;

CREATE TABLE leader (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    epoch  BIGINT NOT NULL,
    holder TEXT NOT NULL,
    since  TIMESTAMPTZ NOT NULL
);
INSERT INTO leader VALUES (1, 0, '', now());
