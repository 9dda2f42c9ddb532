-- onthedot schema, version 1: the whole domain.
--
-- Instants are INTEGER UTC seconds; local dates are TEXT 'YYYY-MM-DD' in the
-- organisation's zone. Personal data of customers lives only in `customers`;
-- everything else refers to a contact by id, so erasure is one UPDATE.
-- Constraints make invalid states unrepresentable; SQL stays portable
-- (no GLOB, no SQLite-only functions) so a PostgreSQL twin can follow.

CREATE TABLE skills (
  id          INTEGER PRIMARY KEY,
  code        TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 64)
);

CREATE TABLE visitors (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  role_title  TEXT NOT NULL CHECK (length(role_title) BETWEEN 1 AND 100),
  phone       TEXT NOT NULL DEFAULT '' CHECK (length(phone) <= 32),
  email       TEXT UNIQUE CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
  base_lat    REAL NOT NULL CHECK (base_lat BETWEEN -90 AND 90),
  base_lon    REAL NOT NULL CHECK (base_lon BETWEEN -180 AND 180),
  active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL CHECK (updated_at >= created_at)
);

CREATE TABLE visitor_skills (
  visitor_id  INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
  skill_id    INTEGER NOT NULL REFERENCES skills(id),
  PRIMARY KEY (visitor_id, skill_id)
);

-- A shift: floating local start, a duration and an iCalendar recurrence,
-- expanded in the organisation's zone (tzid is recorded as given).
CREATE TABLE shifts (
  id            INTEGER PRIMARY KEY,
  visitor_id    INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
  tzid          TEXT NOT NULL CHECK (length(tzid) BETWEEN 1 AND 64),
  dtstart_local TEXT NOT NULL CHECK (length(dtstart_local) = 19),
  duration_min  INTEGER NOT NULL CHECK (duration_min BETWEEN 1 AND 1440),
  rrule         TEXT NOT NULL CHECK (length(rrule) BETWEEN 1 AND 500)
);
CREATE INDEX shifts_visitor ON shifts(visitor_id);

CREATE TABLE shift_exdates (
  shift_id    INTEGER NOT NULL REFERENCES shifts(id) ON DELETE CASCADE,
  date        TEXT NOT NULL CHECK (length(date) = 10),
  PRIMARY KEY (shift_id, date)
);

CREATE TABLE visit_types (
  id                  INTEGER PRIMARY KEY,
  code                TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 64),
  name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  skill_id            INTEGER NOT NULL REFERENCES skills(id),
  duration_median_min REAL NOT NULL CHECK (duration_median_min > 0 AND duration_median_min <= 720),
  duration_spread     REAL NOT NULL CHECK (duration_spread >= 0 AND duration_spread <= 3),
  window_min          INTEGER NOT NULL CHECK (window_min BETWEEN 15 AND 720),
  active              INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL CHECK (updated_at >= created_at)
);

-- The gazetteer. An address is identified by its UPRN when it has one,
-- else by match_key (normalised first line and postcode).
CREATE TABLE addresses (
  id            INTEGER PRIMARY KEY,
  uprn          TEXT UNIQUE CHECK (uprn IS NULL OR length(uprn) BETWEEN 1 AND 12),
  line1         TEXT NOT NULL CHECK (length(line1) BETWEEN 1 AND 200),
  line2         TEXT NOT NULL DEFAULT '' CHECK (length(line2) <= 200),
  town          TEXT NOT NULL DEFAULT '' CHECK (length(town) <= 100),
  postcode      TEXT NOT NULL CHECK (length(postcode) BETWEEN 1 AND 10),
  postcode_norm TEXT NOT NULL CHECK (length(postcode_norm) BETWEEN 1 AND 10),
  match_key     TEXT NOT NULL CHECK (length(match_key) BETWEEN 1 AND 220),
  lat           REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
  lon           REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
  retired       INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL CHECK (updated_at >= created_at)
);
CREATE UNIQUE INDEX addresses_match_key ON addresses(match_key) WHERE uprn IS NULL;
CREATE INDEX addresses_postcode ON addresses(postcode_norm);

CREATE TABLE holidays (
  date        TEXT PRIMARY KEY CHECK (length(date) = 10),
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200)
);

-- The only table holding customers' personal data.
CREATE TABLE customers (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL CHECK (length(name) <= 200),
  phone         TEXT CHECK (phone IS NULL OR length(phone) BETWEEN 4 AND 20),
  email         TEXT CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
  access_notes  TEXT NOT NULL DEFAULT '' CHECK (length(access_notes) <= 2000),
  erased_at     INTEGER,
  created_at    INTEGER NOT NULL,
  CHECK (erased_at IS NOT NULL OR length(name) >= 1),
  CHECK (erased_at IS NOT NULL OR phone IS NOT NULL OR email IS NOT NULL),
  CHECK (erased_at IS NULL OR (phone IS NULL AND email IS NULL))
);
CREATE INDEX customers_phone ON customers(phone);
CREATE INDEX customers_email ON customers(email);

CREATE TABLE appointments (
  id              INTEGER PRIMARY KEY,
  reference       TEXT NOT NULL UNIQUE CHECK (length(reference) = 10 AND substr(reference, 1, 4) = 'OTD-'),
  customer_id     INTEGER NOT NULL REFERENCES customers(id),
  address_id      INTEGER NOT NULL REFERENCES addresses(id) ON DELETE RESTRICT,
  visit_type_id   INTEGER NOT NULL REFERENCES visit_types(id),
  visitor_id      INTEGER REFERENCES visitors(id),
  local_date      TEXT NOT NULL CHECK (length(local_date) = 10),
  window_start    INTEGER NOT NULL,
  window_end      INTEGER NOT NULL,
  promise_version INTEGER NOT NULL DEFAULT 1 CHECK (promise_version >= 1),
  status          TEXT NOT NULL DEFAULT 'booked' CHECK (status IN
                    ('booked', 'travelling', 'arrived', 'done', 'no_access', 'cancelled')),
  risk            TEXT NOT NULL DEFAULT 'ok' CHECK (risk IN ('ok', 'watch', 'at_risk', 'broken')),
  route_position  INTEGER CHECK (route_position IS NULL OR route_position >= 0),
  planned_arrival INTEGER,
  consent_sms     INTEGER NOT NULL DEFAULT 0 CHECK (consent_sms IN (0, 1)),
  consent_email   INTEGER NOT NULL DEFAULT 0 CHECK (consent_email IN (0, 1)),
  arrived_at      INTEGER,
  done_at         INTEGER,
  cancelled_at    INTEGER,
  cancelled_by    TEXT CHECK (cancelled_by IS NULL OR cancelled_by IN ('customer', 'organisation')),
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL CHECK (updated_at >= created_at),
  CHECK (window_end > window_start AND window_end - window_start <= 86400),
  CHECK (status = 'cancelled' OR visitor_id IS NOT NULL),
  CHECK (status NOT IN ('arrived', 'done') OR arrived_at IS NOT NULL),
  CHECK ((status = 'done') = (done_at IS NOT NULL)),
  CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL AND cancelled_by IS NOT NULL))
);
CREATE INDEX appointments_route ON appointments(visitor_id, local_date, route_position);
CREATE INDEX appointments_day ON appointments(local_date, status);
CREATE INDEX appointments_customer ON appointments(customer_id);

-- Capability links for customers: 128-bit tokens stored only as hashes.
CREATE TABLE appointment_links (
  id              INTEGER PRIMARY KEY,
  appointment_id  INTEGER NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
  token_hash      BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL CHECK (expires_at > created_at),
  revoked_at      INTEGER
);
CREATE INDEX appointment_links_appt ON appointment_links(appointment_id);

-- Everything that happened to an appointment: status taps, risk changes,
-- promise changes. Kept as evidence (time received and time claimed).
CREATE TABLE appointment_events (
  id              INTEGER PRIMARY KEY,
  appointment_id  INTEGER NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
  kind            TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 40),
  received_at     INTEGER NOT NULL,
  claimed_at      INTEGER,
  actor_kind      TEXT NOT NULL CHECK (actor_kind IN ('user', 'token', 'cli', 'system', 'customer')),
  actor_id        INTEGER,
  client_event_id TEXT CHECK (client_event_id IS NULL OR length(client_event_id) BETWEEN 1 AND 64),
  lat             REAL CHECK (lat IS NULL OR lat BETWEEN -90 AND 90),
  lon             REAL CHECK (lon IS NULL OR lon BETWEEN -180 AND 180),
  accuracy_m      REAL CHECK (accuracy_m IS NULL OR accuracy_m >= 0),
  detail          TEXT NOT NULL DEFAULT '{}',
  CHECK ((lat IS NULL) = (lon IS NULL))
);
CREATE INDEX appointment_events_appt ON appointment_events(appointment_id, id);
CREATE UNIQUE INDEX appointment_events_client ON appointment_events(actor_id, client_event_id)
  WHERE client_event_id IS NOT NULL;

-- A visitor's positions while travelling within a shift (kept 30 days
-- unless evidence in a guarantee case).
CREATE TABLE visitor_positions (
  id          INTEGER PRIMARY KEY,
  visitor_id  INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
  at          INTEGER NOT NULL,
  lat         REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
  lon         REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
  accuracy_m  REAL CHECK (accuracy_m IS NULL OR accuracy_m >= 0)
);
CREATE INDEX visitor_positions_at ON visitor_positions(visitor_id, at);

-- Short reservations of a window while a customer completes a booking or
-- a rebooking offer.
CREATE TABLE holds (
  id              INTEGER PRIMARY KEY,
  visitor_id      INTEGER NOT NULL REFERENCES visitors(id),
  visit_type_id   INTEGER NOT NULL REFERENCES visit_types(id),
  address_id      INTEGER NOT NULL REFERENCES addresses(id),
  local_date      TEXT NOT NULL CHECK (length(local_date) = 10),
  window_start    INTEGER NOT NULL,
  window_end      INTEGER NOT NULL,
  client_key      TEXT NOT NULL CHECK (length(client_key) BETWEEN 1 AND 128),
  token_hash      BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  for_appointment INTEGER REFERENCES appointments(id) ON DELETE CASCADE,
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL CHECK (expires_at > created_at),
  CHECK (window_end > window_start)
);
CREATE INDEX holds_route ON holds(visitor_id, local_date);
CREATE INDEX holds_expiry ON holds(expires_at);

-- Messages, written in the same transaction as the event that causes them.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  idem_key        TEXT NOT NULL UNIQUE CHECK (length(idem_key) BETWEEN 1 AND 128),
  appointment_id  INTEGER REFERENCES appointments(id),
  customer_id     INTEGER REFERENCES customers(id),
  channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'webhook', 'record')),
  template        TEXT NOT NULL CHECK (length(template) BETWEEN 1 AND 64),
  payload         TEXT NOT NULL,
  state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
                    ('pending', 'sending', 'sent', 'failed', 'uncertain', 'cancelled')),
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  due_at          INTEGER NOT NULL,
  claimed_at      INTEGER,
  sent_at         INTEGER,
  provider        TEXT,
  provider_id     TEXT,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  CHECK ((state = 'sent') = (sent_at IS NOT NULL)),
  CHECK (state <> 'sending' OR claimed_at IS NOT NULL)
);
CREATE INDEX outbox_due ON outbox(state, due_at);
CREATE INDEX outbox_appt ON outbox(appointment_id);

CREATE TABLE delivery_receipts (
  id          INTEGER PRIMARY KEY,
  outbox_id   INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
  received_at INTEGER NOT NULL,
  provider    TEXT NOT NULL CHECK (length(provider) BETWEEN 1 AND 40),
  status      TEXT NOT NULL CHECK (length(status) BETWEEN 1 AND 40),
  detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX delivery_receipts_outbox ON delivery_receipts(outbox_id);

-- The guarantee ledger: one case per broken promise (or short notice).
CREATE TABLE guarantee_cases (
  id              INTEGER PRIMARY KEY,
  appointment_id  INTEGER NOT NULL REFERENCES appointments(id),
  promise_version INTEGER NOT NULL CHECK (promise_version >= 1),
  reason          TEXT NOT NULL CHECK (reason IN ('window_missed', 'short_notice', 'not_made_properly')),
  rule_set        TEXT NOT NULL CHECK (length(rule_set) BETWEEN 1 AND 64),
  rule_version    TEXT NOT NULL CHECK (length(rule_version) BETWEEN 1 AND 64),
  amount_minor    INTEGER NOT NULL CHECK (amount_minor >= 0),
  currency        TEXT NOT NULL CHECK (length(currency) = 3),
  breached_at     INTEGER NOT NULL,
  deadline_at     INTEGER NOT NULL CHECK (deadline_at >= breached_at),
  state           TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'paid', 'exempt')),
  exempt_reason   TEXT CHECK (exempt_reason IS NULL OR exempt_reason IN
                    ('customer_cancelled', 'no_access', 'force_majeure', 'consent')),
  exempt_note     TEXT,
  paid_at         INTEGER,
  paid_minor      INTEGER CHECK (paid_minor IS NULL OR paid_minor >= 0),
  created_at      INTEGER NOT NULL,
  UNIQUE (appointment_id, promise_version, reason),
  CHECK ((state = 'paid') = (paid_at IS NOT NULL AND paid_minor IS NOT NULL)),
  CHECK ((state = 'exempt') = (exempt_reason IS NOT NULL))
);
CREATE INDEX guarantee_cases_state ON guarantee_cases(state, deadline_at);

CREATE TABLE feedback (
  id              INTEGER PRIMARY KEY,
  appointment_id  INTEGER NOT NULL UNIQUE REFERENCES appointments(id),
  rating          INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
  comment         TEXT NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
  publish_consent INTEGER NOT NULL DEFAULT 0 CHECK (publish_consent IN (0, 1)),
  moderation      TEXT NOT NULL DEFAULT 'pending' CHECK (moderation IN
                    ('pending', 'published', 'redacted', 'withheld')),
  created_at      INTEGER NOT NULL,
  CHECK (moderation IN ('pending', 'withheld') OR publish_consent = 1)
);

-- Staff accounts. Visitors who sign in are tied to their visitor record.
CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  login         TEXT NOT NULL UNIQUE CHECK (length(login) BETWEEN 1 AND 64 AND login = lower(login)),
  display_name  TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
  role          TEXT NOT NULL CHECK (role IN ('admin', 'dispatcher', 'finance', 'visitor')),
  visitor_id    INTEGER UNIQUE REFERENCES visitors(id),
  password_hash TEXT NOT NULL CHECK (substr(password_hash, 1, 10) = '$argon2id$'),
  active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL CHECK (updated_at >= created_at),
  CHECK ((role = 'visitor') = (visitor_id IS NOT NULL))
);

CREATE TABLE sessions (
  id          INTEGER PRIMARY KEY,
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash  BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  csrf_token  TEXT NOT NULL CHECK (length(csrf_token) = 43),
  ip          TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL CHECK (expires_at > created_at),
  revoked_at  INTEGER
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  role        TEXT NOT NULL DEFAULT 'admin' CHECK (role = 'admin'),
  token_hash  BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER
);

-- Who did what, to which record, when and from where.
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  actor_kind  TEXT NOT NULL CHECK (actor_kind IN ('user', 'token', 'cli', 'system', 'customer')),
  actor_id    INTEGER,
  action      TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
  entity      TEXT NOT NULL CHECK (length(entity) BETWEEN 1 AND 64),
  entity_id   INTEGER,
  ip          TEXT NOT NULL DEFAULT '',
  detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
CREATE INDEX audit_log_at ON audit_log(at);

-- Idempotency-Key: a retried creating POST returns what the first created.
CREATE TABLE idempotency_keys (
  scope         TEXT NOT NULL CHECK (length(scope) BETWEEN 1 AND 64),
  idem_key      TEXT NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 255),
  request_hash  BLOB NOT NULL CHECK (length(request_hash) = 32),
  entity        TEXT NOT NULL,
  entity_id     INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (scope, idem_key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys(created_at);
