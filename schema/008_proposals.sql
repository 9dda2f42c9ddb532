-- onthedot schema, version 8: rebalance proposals shared by the nodes of
-- one database (PostgreSQL), so that a dispatcher may apply through any
-- node a proposal another node computed, and only once. body is the
-- proposal as the application keeps it (JSON: the routes' new orders and
-- the moves, checked against the day's version when applied). Rows live
-- for minutes; an expired one is deleted when the next is stored. Under
-- SQLite (one process) proposals stay in the process and the table is
-- empty.
CREATE TABLE rebalance_proposals (
  id          TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
  expires_at  INTEGER NOT NULL,
  body        TEXT NOT NULL
);
