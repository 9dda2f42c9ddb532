-- onthedot schema, version 3: an index no query uses, dropped (every index
-- is another page each booking writes to the log).
DROP INDEX IF EXISTS appointments_reference_window;
