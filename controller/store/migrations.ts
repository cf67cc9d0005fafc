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
  // The web: who may do what, invitations and one-time login links (only their hashes), and sessions,
  // kept here rather than in the cookie, so logging out or removing a person ends them at once.
  `
  CREATE TABLE people (
    identity        TEXT PRIMARY KEY,
    name            TEXT,
    avatar          TEXT,
    can_start       INTEGER NOT NULL DEFAULT 0,
    can_stop        INTEGER NOT NULL DEFAULT 0,
    is_admin        INTEGER NOT NULL DEFAULT 0,
    minecraft_name  TEXT UNIQUE COLLATE NOCASE,
    added_at        INTEGER NOT NULL,
    added_by        TEXT NOT NULL,
    last_login      INTEGER
  );
  CREATE TABLE one_time_tokens (
    token_hash  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('invite', 'login')),
    -- An invite's permissions, or the identity a login link logs in as.
    payload     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    used_by     TEXT
  );
  CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    identity    TEXT,
    data        TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
  );
  CREATE INDEX sessions_expiry ON sessions (expires_at);
  `,
  // What it costs and who hears about it. A billing session is a host's life (droplet created →
  // destroyed); snapshots are billed from their size and life. The outbox holds each notification
  // once (its key is unique), and what became of it.
  `
  CREATE TABLE billing_sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    server        TEXT NOT NULL,
    driver        TEXT NOT NULL,
    size          TEXT,
    started_at    INTEGER NOT NULL,
    ended_at      INTEGER,
    player_seconds INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX billing_sessions_server ON billing_sessions (server, started_at);
  CREATE TABLE billing_snapshots (
    name          TEXT PRIMARY KEY,
    server        TEXT NOT NULL,
    size_gb       REAL NOT NULL,
    created_at    INTEGER NOT NULL,
    deleted_at    INTEGER
  );
  CREATE TABLE prices (
    size          TEXT PRIMARY KEY,
    price_hourly  REAL NOT NULL,
    price_monthly REAL NOT NULL,
    fetched_at    INTEGER NOT NULL
  );
  CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    event_key     TEXT NOT NULL,
    target        TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL,
    sending_since INTEGER,
    delivered_at  INTEGER,
    given_up_at   INTEGER,
    last_error    TEXT,
    UNIQUE (event_key, target)
  );
  CREATE INDEX outbox_due ON outbox (delivered_at, given_up_at, next_at);
  `,
  // The lobby asks the audit log on each wake attempt: who logged in from where, how recent wakes ended.
  `
  CREATE INDEX audit_action ON audit (action, at);
  `,
  // A new login start counts the logins in progress (rows with nobody logged in yet) against a cap.
  `
  CREATE INDEX sessions_anonymous ON sessions (expires_at) WHERE identity IS NULL;
  `,
  // Which cloud snapshots are a server's own: those its stops made, and those an admin adopted. A server
  // boots and prunes only these, so a snapshot of another installation on the same account is never touched.
  `
  CREATE TABLE own_snapshots (
    server        TEXT NOT NULL,
    snapshot_id   TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('stop', 'adopted', 'upgrade')),
    journal_id    INTEGER,
    recorded_at   INTEGER NOT NULL,
    PRIMARY KEY (server, snapshot_id)
  );
  `,
  // Issue 21: the console permission, and the Discord messages OoD edits as a start or stop moves.
  // A row's token is the interaction's (valid 15 min); it is blanked once the row is done or expired.
  `
  ALTER TABLE people ADD COLUMN can_console INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE discord_messages (
    interaction_id TEXT PRIMARY KEY,
    server         TEXT NOT NULL,
    application_id TEXT NOT NULL,
    token          TEXT NOT NULL,
    identity       TEXT NOT NULL,
    message_id     TEXT,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    last_card      TEXT,
    done_at        INTEGER
  );
  CREATE INDEX discord_messages_open ON discord_messages (server) WHERE done_at IS NULL;
  `,
];
