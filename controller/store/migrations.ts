/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many have run.
 * Append only: a released migration is never edited.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE servers (
    id            TEXT PRIMARY KEY,
    desired       TEXT NOT NULL CHECK (desired IN ('up', 'down')),
    desired_at    INTEGER NOT NULL,
    desired_by    TEXT NOT NULL,
    phase         TEXT NOT NULL,
    phase_since   INTEGER NOT NULL,
    address       TEXT,
    last_error    TEXT,
    ready_at      INTEGER,
    empty_since   INTEGER,
    keep_alive_until INTEGER,
    -- Scratch state of the current phase (attempts, backoff, warnings sent); cleared on every phase change.
    progress      TEXT NOT NULL DEFAULT '{}'
  );
  CREATE TABLE journal (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    server      TEXT NOT NULL,
    phase       TEXT NOT NULL,
    step        TEXT NOT NULL,
    intent_at   INTEGER NOT NULL,
    detail      TEXT,
    outcome     TEXT CHECK (outcome IN ('ok', 'error', 'interrupted')),
    outcome_at  INTEGER,
    error       TEXT
  );
  CREATE INDEX journal_server ON journal (server, id);
  CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    source  TEXT NOT NULL,
    action  TEXT NOT NULL,
    server  TEXT,
    detail  TEXT
  );
  CREATE TABLE sightings (
    server      TEXT NOT NULL,
    player      TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (server, player)
  );
  `,
  // A count of requests, so "asked again after the failure" is decided by order, not by a wall clock
  // that may have been set back.
  `
  ALTER TABLE servers ADD COLUMN requests INTEGER NOT NULL DEFAULT 0;
  `,
];
