CREATE TABLE maintenance_windows (
    name    TEXT PRIMARY KEY,
    doc     TEXT NOT NULL,
    ends_at TEXT NOT NULL
);
