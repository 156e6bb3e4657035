package store

import "github.com/eolwatch/eolwatch/internal/migrate"

// Schema is the store's ordered schema history, applied by the one
// migration runner (internal/migrate) when the store opens. The schema
// version is the number of steps: append new steps, never edit or reorder
// old ones. Each step runs in its own transaction together with the version
// bump.
//
// The SQL is kept to what SQLite and PostgreSQL both understand; the steps
// whose PostgreSQL text differs (identity columns for SQLite's INTEGER
// PRIMARY KEY, no WITHOUT ROWID, 64-bit ids) have it in pgSteps below,
// under the same step number.
var Schema = migrate.Set{Owner: "store", Table: "schema_version", Postgres: pgSteps, Steps: []string{
	// 1: key/value settings (catalog version of the last fleet evaluation...).
	`CREATE TABLE meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	)`,
	// 2: hosts, identified by the agent's install id; the node key is stored hashed.
	`CREATE TABLE hosts (
		id              INTEGER PRIMARY KEY,
		uid             TEXT NOT NULL UNIQUE,
		install_id      TEXT NOT NULL UNIQUE,
		hostname        TEXT NOT NULL,
		info            TEXT NOT NULL,
		node_key_hash   TEXT NOT NULL UNIQUE,
		revoked         INTEGER NOT NULL DEFAULT 0,
		enrolled_at     BIGINT NOT NULL,
		last_report_id  TEXT NOT NULL DEFAULT '',
		last_report_at  BIGINT NOT NULL DEFAULT 0,
		last_checkin_at BIGINT NOT NULL DEFAULT 0,
		inventory_hash  TEXT NOT NULL DEFAULT '',
		item_count      INTEGER NOT NULL DEFAULT 0,
		unmatched_count INTEGER NOT NULL DEFAULT 0,
		collector_errors TEXT NOT NULL DEFAULT '',
		status_rank     INTEGER NOT NULL DEFAULT 7
	);
	CREATE INDEX hosts_hostname ON hosts(hostname);
	CREATE INDEX hosts_status ON hosts(status_rank)`,
	// 3: distinct software and the host<->software link (the inventory).
	`CREATE TABLE software (
		id            INTEGER PRIMARY KEY,
		source        TEXT NOT NULL,
		name          TEXT NOT NULL,
		version       TEXT NOT NULL,
		arch          TEXT NOT NULL,
		extra         TEXT NOT NULL,
		product       TEXT NOT NULL DEFAULT '',
		match_version TEXT NOT NULL DEFAULT '',
		rule          TEXT NOT NULL DEFAULT '',
		UNIQUE (source, name, version, arch, extra)
	);
	CREATE TABLE host_software (
		host_id     INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
		software_id INTEGER NOT NULL REFERENCES software(id),
		PRIMARY KEY (host_id, software_id)
	) WITHOUT ROWID`,
	// 4: reports received, for idempotency (a repeated report id is acknowledged, not applied).
	`CREATE TABLE reports (
		host_id     INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
		report_id   TEXT NOT NULL,
		kind        TEXT NOT NULL,
		received_at BIGINT NOT NULL,
		added       INTEGER NOT NULL DEFAULT 0,
		removed     INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (host_id, report_id)
	) WITHOUT ROWID;
	CREATE INDEX reports_received ON reports(received_at)`,
	// 5: one verdict per distinct (product, version), and per host install.
	`CREATE TABLE evaluations (
		product         TEXT NOT NULL,
		version         TEXT NOT NULL,
		status          TEXT NOT NULL,
		verdict         TEXT NOT NULL,
		catalog_version TEXT NOT NULL,
		as_of           TEXT NOT NULL,
		PRIMARY KEY (product, version)
	) WITHOUT ROWID;
	CREATE TABLE verdicts (
		host_id         INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
		product         TEXT NOT NULL,
		version         TEXT NOT NULL,
		installed       TEXT NOT NULL,
		cycle           TEXT NOT NULL,
		status          TEXT NOT NULL,
		status_rank     INTEGER NOT NULL,
		catalog_version TEXT NOT NULL,
		changed_at      BIGINT NOT NULL,
		PRIMARY KEY (host_id, product, version)
	) WITHOUT ROWID;
	CREATE INDEX verdicts_product ON verdicts(product, version);
	CREATE INDEX verdicts_status ON verdicts(status_rank)`,
	// 6: people's API tokens, stored hashed.
	`CREATE TABLE tokens (
		id         TEXT PRIMARY KEY,
		role       TEXT NOT NULL,
		hash       TEXT NOT NULL UNIQUE,
		name       TEXT NOT NULL DEFAULT '',
		created_at BIGINT NOT NULL,
		revoked_at BIGINT NOT NULL DEFAULT 0
	)`,
	// 7: re-evaluation reads (product, version) -> hosts with status and cycle from the index alone.
	`DROP INDEX verdicts_product;
	CREATE INDEX verdicts_product ON verdicts(product, version, status, cycle)`,
	// 8: nothing reads verdicts by status rank alone; the index only slowed fleet-wide updates.
	`DROP INDEX verdicts_status`,
	// 9: cluster verdicts by (product, version): a catalog change rewrites the
	// rows of a few pairs, which then sit on a few pages instead of one page
	// per host; per-host reads use the (host_id, product) index.
	`CREATE TABLE verdicts_new (
		host_id         INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
		product         TEXT NOT NULL,
		version         TEXT NOT NULL,
		installed       TEXT NOT NULL,
		cycle           TEXT NOT NULL,
		status          TEXT NOT NULL,
		status_rank     INTEGER NOT NULL,
		catalog_version TEXT NOT NULL,
		changed_at      BIGINT NOT NULL,
		PRIMARY KEY (product, version, host_id)
	) WITHOUT ROWID;
	INSERT INTO verdicts_new SELECT host_id, product, version, installed, cycle, status, status_rank, catalog_version, changed_at FROM verdicts;
	DROP TABLE verdicts;
	ALTER TABLE verdicts_new RENAME TO verdicts;
	CREATE INDEX verdicts_host ON verdicts(host_id, product)`,
	// 10: the per-host index covers "which versions of P does host H run" (the
	// eligibility question), so the planner never prefers a scan of every
	// install of P through the primary key.
	`DROP INDEX verdicts_host;
	CREATE INDEX verdicts_host ON verdicts(host_id, product, installed)`,
	// 11: assets (a container image, a build artefact) registered by
	// uploading their SBOM are rows of hosts with kind 'asset', so matching,
	// verdicts, re-evaluation, compliance and fleet events treat them like
	// hosts; labels is their JSON object of labels. sbom_uploads is each
	// asset's upload history (never pruned).
	`ALTER TABLE hosts ADD COLUMN kind TEXT NOT NULL DEFAULT 'host';
	ALTER TABLE hosts ADD COLUMN labels TEXT NOT NULL DEFAULT '';
	CREATE INDEX hosts_kind ON hosts(kind, hostname);
	CREATE TABLE sbom_uploads (
		id           INTEGER PRIMARY KEY,
		host_id      INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
		uploaded_at  BIGINT NOT NULL,
		uploaded_by  TEXT NOT NULL DEFAULT '',
		format       TEXT NOT NULL,
		spec_version TEXT NOT NULL,
		document     TEXT NOT NULL DEFAULT '',
		serial       TEXT NOT NULL DEFAULT '',
		tools        TEXT NOT NULL DEFAULT '',
		sha256       TEXT NOT NULL,
		bytes        BIGINT NOT NULL,
		components   INTEGER NOT NULL,
		matched      INTEGER NOT NULL,
		added        INTEGER NOT NULL,
		removed      INTEGER NOT NULL,
		status_rank  INTEGER NOT NULL
	);
	CREATE INDEX sbom_uploads_host ON sbom_uploads(host_id, uploaded_at)`,
	// 12: customers and their contracts (issue 12); a host belongs to the
	// customer whose enroll secret it enrolled with (NULL: the server-wide
	// secret); a viewer token may be limited to one customer; the contract
	// and risk mail already queued, so none is sent twice.
	`CREATE TABLE customers (
		id             TEXT PRIMARY KEY,
		name           TEXT NOT NULL,
		name_key       TEXT NOT NULL UNIQUE,
		tier           TEXT NOT NULL,
		contract_start TEXT NOT NULL,
		contract_end   TEXT NOT NULL,
		auto_renew     INTEGER NOT NULL DEFAULT 0,
		notice_given   TEXT NOT NULL DEFAULT '',
		sold_by        TEXT NOT NULL DEFAULT '',
		timezone       TEXT NOT NULL,
		business_hours TEXT NOT NULL,
		holidays       TEXT NOT NULL,
		contacts       TEXT NOT NULL,
		secret_hash    TEXT NOT NULL UNIQUE,
		created_at     BIGINT NOT NULL,
		updated_at     BIGINT NOT NULL
	);
	ALTER TABLE hosts ADD COLUMN customer_id TEXT REFERENCES customers(id);
	CREATE INDEX hosts_customer ON hosts(customer_id, hostname);
	ALTER TABLE tokens ADD COLUMN customer_id TEXT NOT NULL DEFAULT '';
	CREATE TABLE customer_mail (
		customer_id TEXT NOT NULL,
		kind        TEXT NOT NULL,
		period      TEXT NOT NULL,
		queued_at   BIGINT NOT NULL,
		recipients  INTEGER NOT NULL,
		PRIMARY KEY (customer_id, kind, period)
	)`,
	// 13: a re-enrolment of a known install id without the host's node key
	// waits for an admin (issue 13): the request's key hash, host facts,
	// customer, time and address.
	`ALTER TABLE hosts ADD COLUMN pending_key_hash TEXT;
	ALTER TABLE hosts ADD COLUMN pending_info TEXT NOT NULL DEFAULT '';
	ALTER TABLE hosts ADD COLUMN pending_customer_id TEXT;
	ALTER TABLE hosts ADD COLUMN pending_at BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE hosts ADD COLUMN pending_from TEXT NOT NULL DEFAULT '';
	CREATE UNIQUE INDEX hosts_pending_key ON hosts(pending_key_hash)`,
	// 14: when the server first saw each package's newer candidate on a
	// host: a distribution's package is patch-overdue once the grace period
	// has passed since then. Kept while the candidate is unchanged, reset
	// when it changes, gone when the package is current again.
	`CREATE TABLE candidates (
		host_id    BIGINT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
		source     TEXT NOT NULL,
		name       TEXT NOT NULL,
		arch       TEXT NOT NULL,
		candidate  TEXT NOT NULL,
		first_seen BIGINT NOT NULL,
		PRIMARY KEY (host_id, source, name, arch)
	)`,
	// 15: a verdict depends on the install's context as well as on
	// (product, version): the distribution that maintains it, the installed
	// and candidate package versions, the candidate's first sighting, the
	// host's repository-data day and paid enrolments (service.evalContext,
	// '' for an upstream install on a host enrolled in nothing). Each host
	// verdict names its context; evaluations are stored per context.
	// The fleet's re-evaluation walks the distinct keys on verdicts_context
	// and reads a key's rows with their status and cycle from it alone.
	`ALTER TABLE verdicts ADD COLUMN context TEXT NOT NULL DEFAULT '';
	CREATE INDEX verdicts_context ON verdicts(product, version, context, status, cycle);
	CREATE TABLE evaluations_ctx (
		product         TEXT NOT NULL,
		version         TEXT NOT NULL,
		context         TEXT NOT NULL,
		status          TEXT NOT NULL,
		verdict         TEXT NOT NULL,
		catalog_version TEXT NOT NULL,
		as_of           TEXT NOT NULL,
		PRIMARY KEY (product, version, context)
	);
	INSERT INTO evaluations_ctx (product, version, context, status, verdict, catalog_version, as_of)
		SELECT product, version, '', status, verdict, catalog_version, as_of FROM evaluations;
	DROP TABLE evaluations;
	ALTER TABLE evaluations_ctx RENAME TO evaluations`,
	// 16: dashboard sessions ended by a logout (the sha256 of the session
	// id), kept until the session would have expired: a logout holds
	// across restarts and server instances (issue 13).
	`CREATE TABLE sessions_revoked (
		id_hash    TEXT PRIMARY KEY,
		expires_at BIGINT NOT NULL
	);
	CREATE INDEX sessions_revoked_expires ON sessions_revoked(expires_at)`,
	// 17: the id of the API token that uploaded an SBOM (uploaded_by is
	// its name), so an upload leads to the token to revoke.
	`ALTER TABLE sbom_uploads ADD COLUMN token_id TEXT NOT NULL DEFAULT ''`,
	// 18: every pending re-enrolment is its own request with an id, so an
	// admin approves exactly the request they looked at: a later request
	// for the same host (an attacker's, with the same hostname) is listed
	// beside it and is never approved by a click meant for another. The
	// one request step 13 kept per host moves here.
	`CREATE TABLE enroll_requests (
		id           TEXT PRIMARY KEY,
		host_id      BIGINT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
		key_hash     TEXT NOT NULL UNIQUE,
		info         TEXT NOT NULL,
		customer_id  TEXT,
		requested_at BIGINT NOT NULL,
		from_addr    TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX enroll_requests_host ON enroll_requests(host_id, requested_at);
	INSERT INTO enroll_requests (id, host_id, key_hash, info, customer_id, requested_at, from_addr)
		SELECT 'enr_' || uid, id, pending_key_hash, pending_info, pending_customer_id, pending_at, pending_from
		FROM hosts WHERE pending_key_hash IS NOT NULL;
	UPDATE hosts SET pending_key_hash = NULL, pending_info = '', pending_customer_id = NULL, pending_at = 0, pending_from = ''
		WHERE pending_key_hash IS NOT NULL`,
	// 19: software rows no host or asset links any more are pruned
	// (PruneSoftware). On PostgreSQL (see pgSteps) an index reads the
	// links by software id; SQLite, whose single writer makes the prune
	// exact without one, is spared its cost on every report (ingestion
	// measured about three times slower with it, BenchmarkIngest).
	`SELECT 1`,
}}

// SchemaVersion is the schema version this build writes: the number of steps.
var SchemaVersion = Schema.Version()

// pgSteps are the PostgreSQL texts of the steps that differ there. Ids are
// BIGINT identities (SQLite's INTEGER PRIMARY KEY is a 64-bit rowid);
// SQLite's WITHOUT ROWID clustering has no PostgreSQL equivalent, so step 9
// only moves the verdicts' primary key.
var pgSteps = map[int]string{
	2: `CREATE TABLE hosts (
		id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		uid             TEXT NOT NULL UNIQUE,
		install_id      TEXT NOT NULL UNIQUE,
		hostname        TEXT NOT NULL,
		info            TEXT NOT NULL,
		node_key_hash   TEXT NOT NULL UNIQUE,
		revoked         INTEGER NOT NULL DEFAULT 0,
		enrolled_at     BIGINT NOT NULL,
		last_report_id  TEXT NOT NULL DEFAULT '',
		last_report_at  BIGINT NOT NULL DEFAULT 0,
		last_checkin_at BIGINT NOT NULL DEFAULT 0,
		inventory_hash  TEXT NOT NULL DEFAULT '',
		item_count      INTEGER NOT NULL DEFAULT 0,
		unmatched_count INTEGER NOT NULL DEFAULT 0,
		collector_errors TEXT NOT NULL DEFAULT '',
		status_rank     INTEGER NOT NULL DEFAULT 7
	);
	CREATE INDEX hosts_hostname ON hosts(hostname);
	CREATE INDEX hosts_status ON hosts(status_rank)`,
	3: `CREATE TABLE software (
		id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		source        TEXT NOT NULL,
		name          TEXT NOT NULL,
		version       TEXT NOT NULL,
		arch          TEXT NOT NULL,
		extra         TEXT NOT NULL,
		product       TEXT NOT NULL DEFAULT '',
		match_version TEXT NOT NULL DEFAULT '',
		rule          TEXT NOT NULL DEFAULT '',
		UNIQUE (source, name, version, arch, extra)
	);
	CREATE TABLE host_software (
		host_id     BIGINT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
		software_id BIGINT NOT NULL REFERENCES software(id),
		PRIMARY KEY (host_id, software_id)
	)`,
	4: `CREATE TABLE reports (
		host_id     BIGINT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
		report_id   TEXT NOT NULL,
		kind        TEXT NOT NULL,
		received_at BIGINT NOT NULL,
		added       INTEGER NOT NULL DEFAULT 0,
		removed     INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (host_id, report_id)
	);
	CREATE INDEX reports_received ON reports(received_at)`,
	5: `CREATE TABLE evaluations (
		product         TEXT NOT NULL,
		version         TEXT NOT NULL,
		status          TEXT NOT NULL,
		verdict         TEXT NOT NULL,
		catalog_version TEXT NOT NULL,
		as_of           TEXT NOT NULL,
		PRIMARY KEY (product, version)
	);
	CREATE TABLE verdicts (
		host_id         BIGINT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
		product         TEXT NOT NULL,
		version         TEXT NOT NULL,
		installed       TEXT NOT NULL,
		cycle           TEXT NOT NULL,
		status          TEXT NOT NULL,
		status_rank     INTEGER NOT NULL,
		catalog_version TEXT NOT NULL,
		changed_at      BIGINT NOT NULL,
		PRIMARY KEY (host_id, product, version)
	);
	CREATE INDEX verdicts_product ON verdicts(product, version);
	CREATE INDEX verdicts_status ON verdicts(status_rank)`,
	// 7: the primary key (product, version, host_id) serves reads by
	// (product, version) from step 9 on; an index holding status and cycle
	// would make every status change of a re-evaluation a non-HOT update.
	7: `DROP INDEX verdicts_product`,
	9: `ALTER TABLE verdicts DROP CONSTRAINT verdicts_pkey;
	ALTER TABLE verdicts ADD PRIMARY KEY (product, version, host_id);
	CREATE INDEX verdicts_host ON verdicts(host_id, product)`,
	11: `ALTER TABLE hosts ADD COLUMN kind TEXT NOT NULL DEFAULT 'host';
	ALTER TABLE hosts ADD COLUMN labels TEXT NOT NULL DEFAULT '';
	CREATE INDEX hosts_kind ON hosts(kind, hostname);
	CREATE TABLE sbom_uploads (
		id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		host_id      BIGINT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
		uploaded_at  BIGINT NOT NULL,
		uploaded_by  TEXT NOT NULL DEFAULT '',
		format       TEXT NOT NULL,
		spec_version TEXT NOT NULL,
		document     TEXT NOT NULL DEFAULT '',
		serial       TEXT NOT NULL DEFAULT '',
		tools        TEXT NOT NULL DEFAULT '',
		sha256       TEXT NOT NULL,
		bytes        BIGINT NOT NULL,
		components   INTEGER NOT NULL,
		matched      INTEGER NOT NULL,
		added        INTEGER NOT NULL,
		removed      INTEGER NOT NULL,
		status_rank  INTEGER NOT NULL
	);
	CREATE INDEX sbom_uploads_host ON sbom_uploads(host_id, uploaded_at)`,
	// 15: the key index without status and cycle (see 7), and room on each
	// page so a re-evaluation's status changes are HOT updates (no index
	// writes).
	// 19: "is this software row linked?" and the foreign key's check when
	// a pruned row is deleted read the links by software id.
	19: `CREATE INDEX host_software_software ON host_software(software_id)`,
	15: `ALTER TABLE verdicts ADD COLUMN context TEXT NOT NULL DEFAULT '';
	CREATE INDEX verdicts_context ON verdicts(product, version, context);
	ALTER TABLE verdicts SET (fillfactor = 85);
	CREATE TABLE evaluations_ctx (
		product         TEXT NOT NULL,
		version         TEXT NOT NULL,
		context         TEXT NOT NULL,
		status          TEXT NOT NULL,
		verdict         TEXT NOT NULL,
		catalog_version TEXT NOT NULL,
		as_of           TEXT NOT NULL,
		PRIMARY KEY (product, version, context)
	);
	INSERT INTO evaluations_ctx (product, version, context, status, verdict, catalog_version, as_of)
		SELECT product, version, '', status, verdict, catalog_version, as_of FROM evaluations;
	DROP TABLE evaluations;
	ALTER TABLE evaluations_ctx RENAME TO evaluations`,
}
