-- onthedot schema, version 5: delivering the outbox. Which provider a
-- message is on, sends cut off by a crash, the fallback chain between a
-- customer's channels, inbound text messages, and the key that
-- authenticates the callback URLs given to gateways.

-- event_key groups the messages of one event for one customer (the email
-- and the SMS of "booked, promise version 2"): a channel falls back only
-- when no other message of its event reached the customer.
ALTER TABLE outbox ADD COLUMN event_key TEXT CHECK (event_key IS NULL OR length(event_key) <= 128);
-- The position in the channel's provider list the next attempt uses, and
-- the attempts made on that provider (attempts counts them all).
ALTER TABLE outbox ADD COLUMN provider_index INTEGER NOT NULL DEFAULT 0 CHECK (provider_index >= 0);
ALTER TABLE outbox ADD COLUMN provider_attempts INTEGER NOT NULL DEFAULT 0
  CHECK (provider_attempts >= 0);
-- Set when a send was in flight as the process died (DESIGN.md,
-- Messaging): such a message may reach the customer twice, and is counted.
ALTER TABLE outbox ADD COLUMN uncertain_at INTEGER;
-- Who it goes to (the phone number or email address, as in the payload):
-- the caps on text messages to one number or prefix count by it.
ALTER TABLE outbox ADD COLUMN recipient TEXT CHECK (recipient IS NULL OR length(recipient) <= 254);
-- The message this one replaces on another channel.
ALTER TABLE outbox ADD COLUMN fallback_of INTEGER REFERENCES outbox(id);
CREATE INDEX outbox_event ON outbox(event_key);
CREATE INDEX outbox_recipient ON outbox(recipient, created_at);
CREATE INDEX outbox_provider_id ON outbox(provider, provider_id);

-- Text messages customers send us (Kannel MO, Twilio inbound), and what
-- became of each: "1" keeps the window, "2"/"3" take a held window,
-- anything else waits in the dispatcher's inbox.
CREATE TABLE inbound_messages (
  id              INTEGER PRIMARY KEY,
  provider        TEXT NOT NULL CHECK (length(provider) BETWEEN 1 AND 40),
  provider_id     TEXT,
  sender          TEXT NOT NULL CHECK (length(sender) BETWEEN 1 AND 32),
  body            TEXT NOT NULL CHECK (length(body) <= 2000),
  customer_id     INTEGER REFERENCES customers(id),
  appointment_id  INTEGER REFERENCES appointments(id) ON DELETE SET NULL,
  outcome         TEXT NOT NULL CHECK (outcome IN
                    ('kept', 'moved', 'inbox', 'unknown_sender', 'offer_gone')),
  state           TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),
  received_at     INTEGER NOT NULL,
  UNIQUE (provider, provider_id)
);
CREATE INDEX inbound_inbox ON inbound_messages(outcome, state, received_at);

-- Server secrets made once per database: "url" signs the callback URLs
-- (delivery reports) that carry an outbox row's id to a gateway.
CREATE TABLE server_keys (
  name  TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 40),
  key   BLOB NOT NULL CHECK (length(key) = 32)
);
INSERT INTO server_keys(name, key) VALUES ('url', randomblob(32));

-- Area-wide disruptions a dispatcher declares (flooding, snow, a road
-- closed): force majeure for the day and area, one message to every
-- affected customer, and the exemption reason their promises carry.
CREATE TABLE disruptions (
  id          INTEGER PRIMARY KEY,
  local_date  TEXT NOT NULL CHECK (length(local_date) = 10),
  postcodes   TEXT NOT NULL DEFAULT '[]', -- JSON array of prefixes; [] is the whole area
  note        TEXT NOT NULL CHECK (length(note) BETWEEN 1 AND 300),
  created_by  INTEGER REFERENCES users(id),
  created_at  INTEGER NOT NULL
);
CREATE TABLE disruption_appointments (
  disruption_id   INTEGER NOT NULL REFERENCES disruptions(id) ON DELETE CASCADE,
  appointment_id  INTEGER NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
  PRIMARY KEY (disruption_id, appointment_id)
);
CREATE INDEX disruption_appointments_appt ON disruption_appointments(appointment_id);

-- The guarantee ledger (the table is in 001): who settled a case, and the
-- penalty owed on top when it was paid after its deadline.
ALTER TABLE guarantee_cases ADD COLUMN penalty_minor INTEGER NOT NULL DEFAULT 0
  CHECK (penalty_minor >= 0);
ALTER TABLE guarantee_cases ADD COLUMN settled_by INTEGER REFERENCES users(id);
ALTER TABLE guarantee_cases ADD COLUMN notice_s INTEGER; -- short notice: how much was given
CREATE INDEX guarantee_cases_breached ON guarantee_cases(breached_at);
