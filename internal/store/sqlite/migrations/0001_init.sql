-- llmux schema, version 1 (SQLite).
-- Times are INTEGER microseconds since the Unix epoch, UTC; NULL means unset.
-- Lists and maps are JSON text.

CREATE TABLE teams (
    id             TEXT    PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    rpm            INTEGER NOT NULL DEFAULT 0,
    tpm            INTEGER NOT NULL DEFAULT 0,
    max_concurrent INTEGER NOT NULL DEFAULT 0,
    budget_usd     REAL    NOT NULL DEFAULT 0,
    budget_period  TEXT    NOT NULL DEFAULT '',
    enabled        INTEGER NOT NULL DEFAULT 1,
    metadata       TEXT    NOT NULL DEFAULT '{}',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    revision       INTEGER NOT NULL
);

CREATE TABLE virtual_keys (
    id             TEXT    PRIMARY KEY,
    name           TEXT    NOT NULL,
    team_id        TEXT    REFERENCES teams (id),
    key_hash       BLOB    NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    key_prefix     TEXT    NOT NULL DEFAULT '',
    models         TEXT    NOT NULL DEFAULT '[]',
    rpm            INTEGER NOT NULL DEFAULT 0,
    tpm            INTEGER NOT NULL DEFAULT 0,
    max_concurrent INTEGER NOT NULL DEFAULT 0,
    budget_usd     REAL    NOT NULL DEFAULT 0,
    budget_period  TEXT    NOT NULL DEFAULT '',
    expires_at     INTEGER,
    enabled        INTEGER NOT NULL DEFAULT 1,
    metadata       TEXT    NOT NULL DEFAULT '{}',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    revision       INTEGER NOT NULL
);
CREATE INDEX virtual_keys_team ON virtual_keys (team_id);

-- One row per request. Content columns come last: rows are read column by
-- column up to the last one a query needs, so aggregates never touch them.
CREATE TABLE usage_records (
    id               INTEGER PRIMARY KEY,
    ts               INTEGER NOT NULL,
    request_id       TEXT    NOT NULL DEFAULT '',
    key_id           TEXT    NOT NULL DEFAULT '',
    team_id          TEXT    NOT NULL DEFAULT '',
    requested_model  TEXT    NOT NULL DEFAULT '',
    provider         TEXT    NOT NULL DEFAULT '',
    upstream_model   TEXT    NOT NULL DEFAULT '',
    protocol_in      TEXT    NOT NULL DEFAULT '',
    protocol_out     TEXT    NOT NULL DEFAULT '',
    input_tokens     INTEGER NOT NULL DEFAULT 0,
    output_tokens    INTEGER NOT NULL DEFAULT 0,
    cached_tokens    INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd         REAL    NOT NULL DEFAULT 0,
    latency_us       INTEGER NOT NULL DEFAULT 0,
    ttft_us          INTEGER NOT NULL DEFAULT 0,
    status           INTEGER NOT NULL DEFAULT 0,
    error_type       TEXT    NOT NULL DEFAULT '',
    attempts         INTEGER NOT NULL DEFAULT 0,
    estimated        INTEGER NOT NULL DEFAULT 0,
    prompt           TEXT,
    completion       TEXT
);
CREATE INDEX usage_records_ts ON usage_records (ts);
CREATE INDEX usage_records_key_ts ON usage_records (key_id, ts);
CREATE INDEX usage_records_team_ts ON usage_records (team_id, ts);
-- No index on request_id: request IDs are random, and keeping such an index
-- costs about 40% of insert throughput. A lookup by request ID should come
-- with a time window (From/To), which uses usage_records_ts.

CREATE TABLE settings (
    name       TEXT    PRIMARY KEY,
    value      BLOB    NOT NULL,
    revision   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- The store revision: one row, bumped in the transaction of every change,
-- so revisions are contiguous and in commit order.
CREATE TABLE store_revision (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO store_revision (id, value) VALUES (1, 0);

CREATE TABLE changes (
    revision INTEGER PRIMARY KEY,
    kind     TEXT    NOT NULL,
    ref      TEXT    NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX changes_at ON changes (at);
