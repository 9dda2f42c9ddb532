-- onthedot schema, version 4: live tracking. What each visitor is doing
-- now, the projected arrival and risk of each appointment, what was
-- learned from finished visits and journeys, and rebooking tasks.

-- A visitor's state on a day, changed by their taps (and a dispatcher).
CREATE TABLE visitor_days (
  visitor_id      INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
  local_date      TEXT NOT NULL CHECK (length(local_date) = 10),
  state           TEXT NOT NULL DEFAULT 'not_started' CHECK (state IN
                    ('not_started', 'travelling', 'on_site', 'idle', 'on_break', 'unavailable')),
  appointment_id  INTEGER REFERENCES appointments(id) ON DELETE SET NULL,
  since           INTEGER NOT NULL,
  from_lat        REAL CHECK (from_lat IS NULL OR from_lat BETWEEN -90 AND 90),
  from_lon        REAL CHECK (from_lon IS NULL OR from_lon BETWEEN -180 AND 180),
  late_s          INTEGER NOT NULL DEFAULT 0 CHECK (late_s >= 0),
  last_event_at   INTEGER,
  last_status_at  INTEGER, -- the latest tap other than a position
  projected_at    INTEGER, -- when an event last re-projected the day
  unavailable_reason TEXT CHECK (unavailable_reason IS NULL OR unavailable_reason IN
                    ('sick', 'breakdown', 'other')),
  silent          INTEGER NOT NULL DEFAULT 0 CHECK (silent IN (0, 1)),
  break_taken     INTEGER NOT NULL DEFAULT 0 CHECK (break_taken IN (0, 1)),
  pos_lat         REAL CHECK (pos_lat IS NULL OR pos_lat BETWEEN -90 AND 90),
  pos_lon         REAL CHECK (pos_lon IS NULL OR pos_lon BETWEEN -180 AND 180),
  pos_at          INTEGER,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (visitor_id, local_date),
  CHECK ((state IN ('travelling', 'on_site')) = (appointment_id IS NOT NULL)),
  CHECK ((state = 'unavailable') = (unavailable_reason IS NOT NULL)),
  CHECK ((pos_lat IS NULL) = (pos_at IS NULL) AND (pos_lat IS NULL) = (pos_lon IS NULL))
);

-- The latest projection of each appointment, and why its risk is what it is.
ALTER TABLE appointments ADD COLUMN p_late REAL CHECK (p_late IS NULL OR (p_late >= 0 AND p_late <= 1));
ALTER TABLE appointments ADD COLUMN expected_arrival INTEGER;
ALTER TABLE appointments ADD COLUMN band_early INTEGER;
ALTER TABLE appointments ADD COLUMN band_late INTEGER;
ALTER TABLE appointments ADD COLUMN risk_reason TEXT CHECK (risk_reason IS NULL OR length(risk_reason) <= 200);
ALTER TABLE appointments ADD COLUMN risk_forced INTEGER NOT NULL DEFAULT 0 CHECK (risk_forced IN (0, 1));
ALTER TABLE appointments ADD COLUMN risk_changed_at INTEGER;

-- Observations the learning uses: visit durations (arrived to done) and
-- journeys (start travel to arrived, over the model's prediction).
CREATE TABLE observations (
  id              INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL CHECK (kind IN ('duration', 'travel')),
  visitor_id      INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
  visit_type_id   INTEGER REFERENCES visit_types(id),
  hour            INTEGER CHECK (hour IS NULL OR hour BETWEEN 0 AND 23),
  value           REAL NOT NULL CHECK (value > 0),
  appointment_id  INTEGER REFERENCES appointments(id) ON DELETE SET NULL,
  at              INTEGER NOT NULL,
  CHECK ((kind = 'duration') = (visit_type_id IS NOT NULL))
);
CREATE INDEX observations_type ON observations(kind, visit_type_id, at);
CREATE INDEX observations_duration ON observations(kind, visit_type_id, visitor_id, at);
CREATE INDEX observations_visitor ON observations(kind, visitor_id, at);
CREATE INDEX observations_hour ON observations(kind, visitor_id, hour, at);

-- What the learning concluded (rebuilt from observations when they change).
CREATE TABLE learned_durations (
  visit_type_id   INTEGER NOT NULL REFERENCES visit_types(id) ON DELETE CASCADE,
  visitor_id      INTEGER NOT NULL DEFAULT 0, -- 0: the visit type over all visitors
  n               INTEGER NOT NULL CHECK (n >= 0),
  median_s        REAL NOT NULL CHECK (median_s > 0),
  sigma           REAL NOT NULL CHECK (sigma >= 0),
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (visit_type_id, visitor_id)
);

-- Journeys: a visitor's time over the model's, overall (hour -1) and by
-- local hour of departure.
CREATE TABLE learned_travel (
  visitor_id      INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
  hour            INTEGER NOT NULL CHECK (hour BETWEEN -1 AND 23),
  n               INTEGER NOT NULL CHECK (n >= 0),
  factor          REAL NOT NULL CHECK (factor > 0),
  spread          REAL NOT NULL CHECK (spread >= 0),
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (visitor_id, hour)
);

-- Work for a dispatcher: a visit that needs another one, a customer to call.
CREATE TABLE tasks (
  id              INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL CHECK (kind IN ('rebook', 'call')),
  appointment_id  INTEGER NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
  state           TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),
  note            TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
  created_at      INTEGER NOT NULL,
  done_at         INTEGER,
  CHECK ((state = 'done') = (done_at IS NOT NULL))
);
CREATE INDEX tasks_open ON tasks(state, created_at);

-- Every tap a visitor (or a dispatcher for them) sends, kept as evidence:
-- when it arrived, when the phone says it happened, where.
CREATE TABLE visitor_events (
  id              INTEGER PRIMARY KEY,
  visitor_id      INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
  local_date      TEXT NOT NULL CHECK (length(local_date) = 10),
  kind            TEXT NOT NULL CHECK (kind IN ('start_travel', 'arrived', 'done', 'no_access',
                    'needs_another_visit', 'late', 'cannot_attend', 'unavailable', 'break_start',
                    'break_end')),
  appointment_id  INTEGER REFERENCES appointments(id) ON DELETE SET NULL,
  received_at     INTEGER NOT NULL,
  claimed_at      INTEGER NOT NULL,
  actor_kind      TEXT NOT NULL CHECK (actor_kind IN ('user', 'token', 'cli', 'system')),
  actor_id        INTEGER,
  client_event_id TEXT CHECK (client_event_id IS NULL OR length(client_event_id) BETWEEN 1 AND 64),
  lat             REAL CHECK (lat IS NULL OR lat BETWEEN -90 AND 90),
  lon             REAL CHECK (lon IS NULL OR lon BETWEEN -180 AND 180),
  accuracy_m      REAL CHECK (accuracy_m IS NULL OR accuracy_m >= 0),
  detail          TEXT NOT NULL DEFAULT '{}',
  CHECK ((lat IS NULL) = (lon IS NULL))
);
CREATE INDEX visitor_events_day ON visitor_events(visitor_id, local_date, id);
CREATE UNIQUE INDEX visitor_events_client ON visitor_events(visitor_id, client_event_id)
  WHERE client_event_id IS NOT NULL;

ALTER TABLE visitor_positions ADD COLUMN received_at INTEGER;
ALTER TABLE visitor_positions ADD COLUMN client_event_id TEXT
  CHECK (client_event_id IS NULL OR length(client_event_id) BETWEEN 1 AND 64);
CREATE UNIQUE INDEX visitor_positions_client ON visitor_positions(visitor_id, client_event_id)
  WHERE client_event_id IS NOT NULL;
