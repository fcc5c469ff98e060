-- Who re-encrypts an open rotation now. Two processes (the desktop app and the CLI, or two
-- apps on one data directory) must never re-encrypt one scope at once: a rotation row is open
-- until finished_at is set, at most one row per scope may be open (the partial unique index),
-- and only the process holding its lease works on it. The lease is renewed while the work goes
-- on and lapses when the process dies (see vault/lease.rs).
-- Before the index: should a store hold two open rotations of one scope, the older ones are
-- closed (re-encryption always moves every row below the current version, so the newest open
-- rotation does their work too).
UPDATE key_rotations SET finished_at = started_at
 WHERE finished_at IS NULL
   AND id NOT IN (SELECT MAX(id) FROM key_rotations WHERE finished_at IS NULL GROUP BY scope);
ALTER TABLE key_rotations ADD COLUMN lease_owner TEXT;
ALTER TABLE key_rotations ADD COLUMN lease_until INTEGER;
CREATE UNIQUE INDEX key_rotations_one_open ON key_rotations(scope) WHERE finished_at IS NULL;
