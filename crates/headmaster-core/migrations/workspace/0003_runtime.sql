-- Agents and their runs. A run is a durable state machine: its checkpoint (`state`) is written
-- after every step, so a run continues after the app restarts without repeating an executed
-- boundary-crossing action (those go through approvals, whose status is the idempotency key).

CREATE TABLE agents (
    id          TEXT PRIMARY KEY,
    name_idx    BLOB NOT NULL UNIQUE,
    name        BLOB NOT NULL,
    definition  BLOB NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE runs (
    id                   TEXT PRIMARY KEY,
    agent_id             TEXT NOT NULL,
    parent_run_id        TEXT,
    status               TEXT NOT NULL CHECK (status IN ('queued', 'running', 'waiting_confirmation', 'waiting_approval',
                                                        'waiting_child', 'completed', 'failed', 'cancelled', 'expired')),
    started_by           TEXT NOT NULL,
    task                 BLOB NOT NULL,
    state                BLOB NOT NULL,
    steps                INTEGER NOT NULL DEFAULT 0,
    waiting_on           TEXT,
    outcome              BLOB,
    stalled              INTEGER NOT NULL DEFAULT 0,
    lease_owner          TEXT,
    lease_until          INTEGER,
    heartbeat_at         INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    finished_at          INTEGER
);
CREATE INDEX runs_status ON runs(status, updated_at);
CREATE INDEX runs_parent ON runs(parent_run_id) WHERE parent_run_id IS NOT NULL;

CREATE TABLE run_steps (
    id          TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL REFERENCES runs(id),
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    body        BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (run_id, seq)
);
