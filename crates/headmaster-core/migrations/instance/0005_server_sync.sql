-- The shared server this installation syncs its audit chains to (at most one), and each
-- chain's sync state. Both values are sealed JSON under the instance data key: the server's
-- URL, pins and key; per chain the server's last signed receipt, the last success and error.
CREATE TABLE server_link (
    id         TEXT PRIMARY KEY CHECK (id = 'server'),
    value      BLOB NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE sync_chains (
    id         TEXT PRIMARY KEY,            -- the chain's scope: `instance` or a workspace id
    value      BLOB NOT NULL,
    updated_at INTEGER NOT NULL
);
