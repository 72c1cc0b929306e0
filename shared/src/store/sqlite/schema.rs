//! The embedded store's schema: its migrations, applied in order at open.

use rusqlite::{Connection, TransactionBehavior};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE users (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        username         TEXT    NOT NULL,
        username_key     TEXT    NOT NULL UNIQUE,
        email            TEXT    NOT NULL,
        email_key        TEXT    NOT NULL UNIQUE,
        password_hash    TEXT    NOT NULL,
        password_version INTEGER NOT NULL DEFAULT 0,
        created_at       TEXT    NOT NULL,
        avatar           TEXT,
        is_verified      INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE TABLE sessions (
        id               TEXT    PRIMARY KEY,
        user_id          INTEGER NOT NULL REFERENCES users(id),
        current_token_id TEXT    NOT NULL,
        created_at       TEXT    NOT NULL,
        expires_at       INTEGER NOT NULL,
        revoked          INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX sessions_by_user ON sessions(user_id);
"#,
    r#"
    ALTER TABLE users ADD COLUMN contact_seq INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE contacts (
        user_id     INTEGER NOT NULL REFERENCES users(id),
        id          INTEGER NOT NULL,
        first_name  TEXT    NOT NULL,
        last_name   TEXT    NOT NULL,
        email       TEXT    NOT NULL,
        email_key   TEXT    NOT NULL,
        phone       TEXT,
        birthday    TEXT,
        description TEXT,
        created_at  TEXT    NOT NULL,
        updated_at  TEXT    NOT NULL,
        PRIMARY KEY (user_id, id),
        UNIQUE (user_id, email_key)
    ) STRICT;
"#,
    r#"
    CREATE TABLE login_attempts (
        key      TEXT    PRIMARY KEY,
        failures   INTEGER NOT NULL,
        last_at_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX login_attempts_by_age ON login_attempts(last_at_ms);
    CREATE TABLE email_sends (
        key     TEXT    PRIMARY KEY,
        day     INTEGER NOT NULL,
        sent    INTEGER NOT NULL,
        last_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX email_sends_by_age ON email_sends(last_at);
"#,
    // When the user's sessions were last all revoked (ms): a login creates its session only if
    // this has not moved since it read the user.
    r#"
    ALTER TABLE users ADD COLUMN sessions_revoked_at INTEGER NOT NULL DEFAULT 0;
"#,
    // What the user's session list shows: where each login came from, and its last refresh.
    r#"
    ALTER TABLE sessions ADD COLUMN user_agent TEXT;
    ALTER TABLE sessions ADD COLUMN source_ip TEXT;
    ALTER TABLE sessions ADD COLUMN last_used_at TEXT;
"#,
    // Background work written with the change that makes it (crate::jobs), and the user's one
    // pending email change (a newer request replaces it).
    r#"
    CREATE TABLE jobs (
        id         TEXT    PRIMARY KEY,
        body       TEXT    NOT NULL,
        created_at INTEGER NOT NULL
    ) STRICT;
    ALTER TABLE users ADD COLUMN pending_email_change TEXT;
"#,
    // Second factors (docs/API.md, "Second factors and passkeys"): TOTP on the user row (the
    // secrets sealed, crate::mfa::codes), recovery codes as keyed hashes, and how each session
    // signed in.
    r#"
    ALTER TABLE users ADD COLUMN totp_on INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN totp_pending TEXT;
    ALTER TABLE users ADD COLUMN totp_secret TEXT;
    ALTER TABLE users ADD COLUMN totp_step INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE recovery_codes (
        user_id INTEGER NOT NULL REFERENCES users(id),
        hash    TEXT    NOT NULL,
        PRIMARY KEY (user_id, hash)
    ) STRICT;
    ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
"#,
    // Passkeys: one row each (the credential id unique across users), the user's random handle,
    // and the single-use state of a ceremony between its two requests.
    r#"
    ALTER TABLE users ADD COLUMN passkey_handle TEXT;
    CREATE UNIQUE INDEX users_by_passkey_handle ON users(passkey_handle);
    CREATE TABLE passkeys (
        id            TEXT    PRIMARY KEY,
        user_id       INTEGER NOT NULL REFERENCES users(id),
        credential_id TEXT    NOT NULL UNIQUE,
        name          TEXT    NOT NULL,
        created_at    TEXT    NOT NULL,
        last_used_at  TEXT,
        credential    TEXT    NOT NULL
    ) STRICT;
    CREATE INDEX passkeys_by_user ON passkeys(user_id);
    CREATE TABLE challenges (
        id          TEXT    PRIMARY KEY,
        user_id     INTEGER,
        user_handle TEXT,
        state       TEXT    NOT NULL,
        expires_at  INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX challenges_by_age ON challenges(expires_at);
"#,
    // OpenID Connect: the client a session was authorized for (docs/API.md, "Sign-in for other
    // apps").
    r#"
    ALTER TABLE sessions ADD COLUMN client TEXT;
"#,
];

pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let done: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (version, sql) in (1..).zip(MIGRATIONS).skip(done as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
    }
    tx.commit()
}
