CREATE TABLE alerts (
    fingerprint   TEXT PRIMARY KEY,
    source        TEXT NOT NULL,
    labels        TEXT NOT NULL,
    annotations   TEXT NOT NULL,
    status        TEXT NOT NULL,
    starts_at     TEXT NOT NULL,
    ends_at       TEXT,
    episode       TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    seen          INTEGER NOT NULL DEFAULT 1,
    generator_url TEXT NOT NULL DEFAULT ''
);

CREATE TABLE incidents (
    id              TEXT PRIMARY KEY,
    status          TEXT NOT NULL,
    opened_at       TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    doc             TEXT NOT NULL,
    priority        TEXT NOT NULL,
    team            TEXT,
    root_ci         TEXT,
    resolved_at     TEXT,
    merged_into     TEXT
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
    key          TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    incident_id  TEXT NOT NULL,
    starts_at    TEXT NOT NULL,
    ends_at      TEXT,
    ci           TEXT,
    alertname    TEXT NOT NULL,
    severity     TEXT NOT NULL,
    labels       TEXT NOT NULL
);
CREATE INDEX episodes_incident ON episodes (incident_id, starts_at);
CREATE INDEX episodes_fingerprint ON episodes (fingerprint);

CREATE TABLE timeline (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX timeline_incident ON timeline (incident_id, id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    receiver        TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    incident_id     TEXT NOT NULL,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_owner     TEXT,
    lease_until     TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    done_at         TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE timers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    level       INTEGER NOT NULL,
    due_at      TEXT NOT NULL,
    target      TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT 'pending',
    fired_at    TEXT,
    UNIQUE (incident_id, kind, level)
);
CREATE INDEX timers_due ON timers (state, due_at);
