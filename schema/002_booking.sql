-- onthedot schema, version 2: what booking needs beyond version 1.
--
-- A cancellation records who cancelled, why and the notice given; a
-- customer may ask for an earlier window (the waitlist); a hold remembers
-- which booking it is an offer for and how it was made.

ALTER TABLE appointments ADD COLUMN cancel_reason TEXT
  CHECK (cancel_reason IS NULL OR length(cancel_reason) <= 500);
ALTER TABLE appointments ADD COLUMN cancel_notice_s INTEGER;
ALTER TABLE appointments ADD COLUMN booked_by TEXT NOT NULL DEFAULT 'customer'
  CHECK (booked_by IN ('customer', 'dispatcher', 'system'));

ALTER TABLE holds ADD COLUMN purpose TEXT NOT NULL DEFAULT 'booking'
  CHECK (purpose IN ('booking', 'reschedule', 'waitlist_offer', 'apology_offer'));

-- A customer asking for an earlier window: the earliest-asked customer whose
-- visit fits freed capacity gets a held offer.
CREATE TABLE waitlist (
  id              INTEGER PRIMARY KEY,
  appointment_id  INTEGER NOT NULL UNIQUE REFERENCES appointments(id) ON DELETE CASCADE,
  created_at      INTEGER NOT NULL,
  state           TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'offered', 'done', 'withdrawn')),
  offered_hold    INTEGER REFERENCES holds(id) ON DELETE SET NULL,
  updated_at      INTEGER NOT NULL CHECK (updated_at >= created_at)
);
CREATE INDEX waitlist_state ON waitlist(state, created_at);

CREATE INDEX holds_client ON holds(client_key, expires_at);
CREATE INDEX appointments_reference_window ON appointments(window_start);

-- Holds keep their place in the route like appointments do.
ALTER TABLE holds ADD COLUMN route_position INTEGER
  CHECK (route_position IS NULL OR route_position >= 0);
