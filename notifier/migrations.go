package notifier

import (
	"context"
	"database/sql"

	"github.com/eolwatch/eolwatch/internal/migrate"
)

// Schema is the notifier's schema history, oldest first, applied by the
// one migration runner (internal/migrate). The schema version is the number
// of steps applied, tracked in notifier_schema_version so it coexists with
// the server store's own steps in the same database. Append only: never
// edit a shipped entry.
//
// Times are INTEGER Unix milliseconds (UTC) and the SQL avoids
// SQLite-only features beyond AUTOINCREMENT; the PostgreSQL texts of the
// steps (pgSteps, below) differ in column types and in one trigger.
var Schema = migrate.Set{Owner: "notifier", Table: "notifier_schema_version", Postgres: pgSteps, Steps: []string{
	// 1: the whole first schema.
	`CREATE TABLE notifier_meta (
		key   TEXT PRIMARY KEY,
		value BLOB NOT NULL
	);
	CREATE TABLE notifier_events (
		id      INTEGER PRIMARY KEY AUTOINCREMENT,
		kind    TEXT NOT NULL,
		product TEXT NOT NULL,
		payload TEXT NOT NULL,
		created INTEGER NOT NULL
	);
	CREATE TABLE notifier_cursor (
		name    TEXT PRIMARY KEY,
		last_id INTEGER NOT NULL,
		updated INTEGER NOT NULL
	);
	CREATE TABLE notifier_groups (
		id       INTEGER PRIMARY KEY AUTOINCREMENT,
		name     TEXT NOT NULL UNIQUE,
		products TEXT NOT NULL,
		cycles   TEXT NOT NULL,
		events   TEXT NOT NULL,
		created  INTEGER NOT NULL
	);
	CREATE TABLE notifier_subscriptions (
		id              INTEGER PRIMARY KEY AUTOINCREMENT,
		group_id        INTEGER NOT NULL REFERENCES notifier_groups(id) ON DELETE CASCADE,
		email           TEXT NOT NULL,
		state           TEXT NOT NULL,
		nonce           TEXT NOT NULL,
		mode            TEXT NOT NULL DEFAULT 'immediate',
		levels          TEXT NOT NULL DEFAULT 'major,minor,patch',
		prereleases     INTEGER NOT NULL DEFAULT 0,
		fleet_only      INTEGER NOT NULL DEFAULT 0,
		created         INTEGER NOT NULL,
		updated         INTEGER NOT NULL,
		confirmed_at    INTEGER,
		unsubscribed_at INTEGER,
		UNIQUE (group_id, email)
	);
	CREATE INDEX notifier_subscriptions_group_state ON notifier_subscriptions (group_id, state);
	CREATE TABLE notifier_digest_items (
		id              INTEGER PRIMARY KEY AUTOINCREMENT,
		subscription_id INTEGER NOT NULL REFERENCES notifier_subscriptions(id) ON DELETE CASCADE,
		event_id        INTEGER NOT NULL,
		bucket          TEXT NOT NULL,
		due_at          INTEGER NOT NULL,
		created         INTEGER NOT NULL,
		UNIQUE (subscription_id, event_id)
	);
	CREATE INDEX notifier_digest_items_due ON notifier_digest_items (due_at);
	CREATE TABLE notifier_bodies (
		id        INTEGER PRIMARY KEY AUTOINCREMENT,
		kind      TEXT NOT NULL,
		subject   TEXT NOT NULL,
		text_body TEXT NOT NULL,
		html_body TEXT NOT NULL,
		created   INTEGER NOT NULL
	);
	CREATE TABLE notifier_outbox (
		id              INTEGER PRIMARY KEY AUTOINCREMENT,
		dedupe_key      TEXT NOT NULL UNIQUE,
		subscription_id INTEGER,
		kind            TEXT NOT NULL,
		recipient       TEXT NOT NULL,
		grp             TEXT NOT NULL DEFAULT '',
		token           TEXT NOT NULL DEFAULT '',
		body_id         INTEGER NOT NULL REFERENCES notifier_bodies(id),
		list_headers    INTEGER NOT NULL DEFAULT 0,
		message_id      TEXT NOT NULL,
		state           TEXT NOT NULL DEFAULT 'pending',
		attempts        INTEGER NOT NULL DEFAULT 0,
		next_attempt    INTEGER NOT NULL,
		lease_owner     TEXT,
		lease_token     TEXT,
		lease_until     INTEGER NOT NULL DEFAULT 0,
		last_error      TEXT NOT NULL DEFAULT '',
		created         INTEGER NOT NULL,
		sent_at         INTEGER
	);
	CREATE INDEX notifier_outbox_due ON notifier_outbox (next_attempt) WHERE state = 'pending';
	CREATE INDEX notifier_outbox_recipient ON notifier_outbox (recipient, created);
	CREATE INDEX notifier_outbox_subscription ON notifier_outbox (subscription_id);`,

	// 2: signed JSON webhooks per group.
	`ALTER TABLE notifier_groups ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
	ALTER TABLE notifier_groups ADD COLUMN webhook_secret TEXT NOT NULL DEFAULT '';
	CREATE TABLE notifier_webhooks (
		id           INTEGER PRIMARY KEY AUTOINCREMENT,
		group_id     INTEGER NOT NULL,
		event_id     INTEGER NOT NULL,
		url          TEXT NOT NULL,
		payload      TEXT NOT NULL,
		state        TEXT NOT NULL DEFAULT 'pending',
		attempts     INTEGER NOT NULL DEFAULT 0,
		next_attempt INTEGER NOT NULL,
		lease_token  TEXT,
		lease_until  INTEGER NOT NULL DEFAULT 0,
		last_error   TEXT NOT NULL DEFAULT '',
		created      INTEGER NOT NULL,
		sent_at      INTEGER,
		UNIQUE (group_id, event_id)
	);
	CREATE INDEX notifier_webhooks_due ON notifier_webhooks (next_attempt) WHERE state = 'pending';`,

	// 3: the per-address cap counts an address whatever the case of its
	// letters (issue 13): the lower-cased recipient, filled for the rows
	// already there.
	`ALTER TABLE notifier_outbox ADD COLUMN recipient_key TEXT NOT NULL DEFAULT '';
	UPDATE notifier_outbox SET recipient_key = LOWER(recipient);
	CREATE INDEX notifier_outbox_recipient_key ON notifier_outbox (recipient_key, created);`,
}}

// pgSteps are the PostgreSQL texts of the notifier's steps: identity ids,
// BIGINT times (PostgreSQL's INTEGER is 32 bits), BYTEA for BLOB, and a
// trigger that makes event ids follow commit order. The fan-out reads
// events past a cursor id, which is only safe when no transaction can
// commit an event with an id below one already visible: SQLite's single
// writer guarantees it; on PostgreSQL every statement inserting events
// first takes the transaction advisory lock 72420001, held to commit, so
// event-writing transactions take their ids one after the other.
var pgSteps = map[int]string{
	1: `CREATE TABLE notifier_meta (
		key   TEXT PRIMARY KEY,
		value BYTEA NOT NULL
	);
	CREATE TABLE notifier_events (
		id      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		kind    TEXT NOT NULL,
		product TEXT NOT NULL,
		payload TEXT NOT NULL,
		created BIGINT NOT NULL
	);
	CREATE FUNCTION notifier_events_in_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM pg_advisory_xact_lock(72420001);
		RETURN NULL;
	END
	$$;
	CREATE TRIGGER notifier_events_in_commit_order BEFORE INSERT ON notifier_events
		FOR EACH STATEMENT EXECUTE FUNCTION notifier_events_in_commit_order();
	CREATE TABLE notifier_cursor (
		name    TEXT PRIMARY KEY,
		last_id BIGINT NOT NULL,
		updated BIGINT NOT NULL
	);
	CREATE TABLE notifier_groups (
		id       BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		name     TEXT NOT NULL UNIQUE,
		products TEXT NOT NULL,
		cycles   TEXT NOT NULL,
		events   TEXT NOT NULL,
		created  BIGINT NOT NULL
	);
	CREATE TABLE notifier_subscriptions (
		id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		group_id        BIGINT NOT NULL REFERENCES notifier_groups(id) ON DELETE CASCADE,
		email           TEXT NOT NULL,
		state           TEXT NOT NULL,
		nonce           TEXT NOT NULL,
		mode            TEXT NOT NULL DEFAULT 'immediate',
		levels          TEXT NOT NULL DEFAULT 'major,minor,patch',
		prereleases     INTEGER NOT NULL DEFAULT 0,
		fleet_only      INTEGER NOT NULL DEFAULT 0,
		created         BIGINT NOT NULL,
		updated         BIGINT NOT NULL,
		confirmed_at    BIGINT,
		unsubscribed_at BIGINT,
		UNIQUE (group_id, email)
	);
	CREATE INDEX notifier_subscriptions_group_state ON notifier_subscriptions (group_id, state);
	CREATE TABLE notifier_digest_items (
		id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		subscription_id BIGINT NOT NULL REFERENCES notifier_subscriptions(id) ON DELETE CASCADE,
		event_id        BIGINT NOT NULL,
		bucket          TEXT NOT NULL,
		due_at          BIGINT NOT NULL,
		created         BIGINT NOT NULL,
		UNIQUE (subscription_id, event_id)
	);
	CREATE INDEX notifier_digest_items_due ON notifier_digest_items (due_at);
	CREATE TABLE notifier_bodies (
		id        BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		kind      TEXT NOT NULL,
		subject   TEXT NOT NULL,
		text_body TEXT NOT NULL,
		html_body TEXT NOT NULL,
		created   BIGINT NOT NULL
	);
	CREATE TABLE notifier_outbox (
		id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		dedupe_key      TEXT NOT NULL UNIQUE,
		subscription_id BIGINT,
		kind            TEXT NOT NULL,
		recipient       TEXT NOT NULL,
		grp             TEXT NOT NULL DEFAULT '',
		token           TEXT NOT NULL DEFAULT '',
		body_id         BIGINT NOT NULL REFERENCES notifier_bodies(id),
		list_headers    INTEGER NOT NULL DEFAULT 0,
		message_id      TEXT NOT NULL,
		state           TEXT NOT NULL DEFAULT 'pending',
		attempts        INTEGER NOT NULL DEFAULT 0,
		next_attempt    BIGINT NOT NULL,
		lease_owner     TEXT,
		lease_token     TEXT,
		lease_until     BIGINT NOT NULL DEFAULT 0,
		last_error      TEXT NOT NULL DEFAULT '',
		created         BIGINT NOT NULL,
		sent_at         BIGINT
	);
	CREATE INDEX notifier_outbox_due ON notifier_outbox (next_attempt) WHERE state = 'pending';
	CREATE INDEX notifier_outbox_recipient ON notifier_outbox (recipient, created);
	CREATE INDEX notifier_outbox_subscription ON notifier_outbox (subscription_id);`,
	2: `ALTER TABLE notifier_groups ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
	ALTER TABLE notifier_groups ADD COLUMN webhook_secret TEXT NOT NULL DEFAULT '';
	CREATE TABLE notifier_webhooks (
		id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		group_id     BIGINT NOT NULL,
		event_id     BIGINT NOT NULL,
		url          TEXT NOT NULL,
		payload      TEXT NOT NULL,
		state        TEXT NOT NULL DEFAULT 'pending',
		attempts     INTEGER NOT NULL DEFAULT 0,
		next_attempt BIGINT NOT NULL,
		lease_token  TEXT,
		lease_until  BIGINT NOT NULL DEFAULT 0,
		last_error   TEXT NOT NULL DEFAULT '',
		created      BIGINT NOT NULL,
		sent_at      BIGINT,
		UNIQUE (group_id, event_id)
	);
	CREATE INDEX notifier_webhooks_due ON notifier_webhooks (next_attempt) WHERE state = 'pending';`,
}

// SchemaVersion is the notifier schema version this build expects.
var SchemaVersion = Schema.Version()

// Migrate creates or upgrades the notifier's tables in db (SQLite or
// PostgreSQL). It is safe to call at every start-up and from several
// processes.
func Migrate(ctx context.Context, db *sql.DB) error {
	return migrate.Apply(ctx, db, Schema, nil)
}
