-- The server's own access log: one hash-chained row per API call (scope `server-access`), in
-- the same chain format as a desktop's audit log, with signed checkpoints. Source (IP, user
-- agent) and payload are sealed under the data key; the chain hashes them in clear, so an
-- exported bundle verifies without the key.
CREATE TABLE access_log (
    seq            INTEGER PRIMARY KEY,
    time           TEXT NOT NULL,
    actor_kind     TEXT NOT NULL,
    actor_id       TEXT NOT NULL,
    action         TEXT NOT NULL,
    target         TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    source_sealed  BLOB NOT NULL,
    payload_sealed BLOB NOT NULL,
    hash           BLOB NOT NULL
);

-- The head of the access chain: one row, locked by every append.
CREATE TABLE access_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq  INTEGER NOT NULL,
    last_hash BLOB NOT NULL
);

CREATE TABLE access_checkpoints (
    seq        INTEGER PRIMARY KEY,
    checkpoint TEXT NOT NULL                -- CheckpointJson, signed by the server key
);
