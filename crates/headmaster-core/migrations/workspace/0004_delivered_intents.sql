-- Intents of the instance database whose event is in this workspace's chain, written in the
-- same transaction as the event, so that delivering an intent twice (a crash between this
-- commit and the intent's removal) appends it once.
CREATE TABLE delivered_intents (
    id    TEXT PRIMARY KEY,
    seq   INTEGER NOT NULL
);
