-- onthedot schema, version 7: several nodes sharing one database
-- (PostgreSQL). Each process makes a random instance id at start; a
-- message it claims for sending carries that id until its outcome is
-- recorded, so another node can tell its own claims from a dead node's
-- (taken over once older than delivery.claim_lease_s), and a node whose
-- claim was taken over cannot overwrite the newer outcome. NULL: not
-- claimed (or claimed before this version). Under SQLite one process
-- serves the file, and the column is only written.

ALTER TABLE outbox ADD COLUMN claimed_by TEXT
  CHECK (claimed_by IS NULL OR length(claimed_by) <= 64);

-- The ticker's shards (store/shards.h): routes fall into 16 shards by
-- visitor; a node records the pass of each shard it evaluates, so each is
-- evaluated by one node per period and a dead node's shards are taken
-- over. Times in wall-clock milliseconds. Nodes alive, for sharing the
-- shards out: each ticker pass records its node.
CREATE TABLE ticker_shards (
  shard    INTEGER PRIMARY KEY CHECK (shard >= 0 AND shard < 64),
  pass_at  INTEGER NOT NULL,
  node     TEXT NOT NULL CHECK (length(node) BETWEEN 1 AND 64)
);

CREATE TABLE ticker_nodes (
  node     TEXT PRIMARY KEY CHECK (length(node) BETWEEN 1 AND 64),
  seen_at  INTEGER NOT NULL
);
