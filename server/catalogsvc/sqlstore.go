package catalogsvc

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/eolwatch/eolwatch/internal/migrate"
	"github.com/eolwatch/eolwatch/notifier/events"
)

// Schema is the ordered schema history of the catalog service's tables,
// applied by the one migration runner (internal/migrate); the schema
// version is the number of steps, kept in catalogsvc_schema. Append, never
// edit.
var Schema = migrate.Set{Owner: "catalog", Table: "catalogsvc_schema", Steps: []string{
	// 1: published releases, stored catalog documents, recorded milestones.
	`CREATE TABLE catalog_releases (
		id      INTEGER PRIMARY KEY,
		product TEXT NOT NULL,
		cycle   TEXT NOT NULL,
		version TEXT NOT NULL,
		date    TEXT NOT NULL,
		link    TEXT NOT NULL DEFAULT '',
		by_whom TEXT NOT NULL DEFAULT '',
		created BIGINT NOT NULL,
		UNIQUE (product, cycle, version)
	);
	CREATE TABLE catalog_documents (
		name    TEXT PRIMARY KEY,
		kind    TEXT NOT NULL,
		data    BLOB NOT NULL,
		etag    TEXT NOT NULL DEFAULT '',
		hash    TEXT NOT NULL,
		created BIGINT NOT NULL
	);
	CREATE TABLE catalog_milestones (
		key     TEXT PRIMARY KEY,
		created BIGINT NOT NULL
	)`,
}}

// Migrate creates or upgrades the catalog service's tables in db. The
// server calls it once at start-up, next to the store's and the notifier's
// migrations; it is idempotent. notifier.Migrate must also have run, since
// the Save methods enqueue events.
func Migrate(ctx context.Context, db *sql.DB) error {
	return migrate.Apply(ctx, db, Schema, nil)
}

// SQLStore is the ReleaseStore on the server's SQLite database. Give it
// the writer handle (one connection, immediate transactions): every Save
// is one transaction that also enqueues the notifier events.
type SQLStore struct {
	db *sql.DB
}

// NewSQLStore returns a store on db; call Migrate (and notifier.Migrate) first.
func NewSQLStore(db *sql.DB) *SQLStore { return &SQLStore{db: db} }

func (s *SQLStore) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// SaveRelease implements ReleaseStore.
func (s *SQLStore) SaveRelease(ctx context.Context, r Published, evs []events.Event) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO catalog_releases (product, cycle, version, date, link, by_whom, created)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, r.Product, r.Cycle, r.Version, r.Date, r.Link, r.By, r.Created.UnixNano()); err != nil {
			return err
		}
		return events.Enqueue(ctx, tx, evs...)
	})
	if err != nil {
		return fmt.Errorf("save release %s %s: %w", r.Product, r.Version, err)
	}
	return nil
}

// Releases implements ReleaseStore.
func (s *SQLStore) Releases(ctx context.Context) ([]Published, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT product, cycle, version, date, link, by_whom, created FROM catalog_releases ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("releases: %w", err)
	}
	defer rows.Close()
	var out []Published
	for rows.Next() {
		var p Published
		var created int64
		if err := rows.Scan(&p.Product, &p.Cycle, &p.Version, &p.Date, &p.Link, &p.By, &created); err != nil {
			return nil, fmt.Errorf("releases: %w", err)
		}
		p.Created = time.Unix(0, created).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// SaveDocument implements ReleaseStore.
func (s *SQLStore) SaveDocument(ctx context.Context, d Document, evs []events.Event) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO catalog_documents (name, kind, data, etag, hash, created) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, data = excluded.data, etag = excluded.etag,
				hash = excluded.hash, created = excluded.created`,
			d.Name, d.Kind, d.Data, d.ETag, d.Hash, d.Created.UnixNano()); err != nil {
			return err
		}
		return events.Enqueue(ctx, tx, evs...)
	})
	if err != nil {
		return fmt.Errorf("save catalog document %s: %w", d.Name, err)
	}
	return nil
}

// Documents implements ReleaseStore.
func (s *SQLStore) Documents(ctx context.Context) ([]Document, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, kind, data, etag, hash, created FROM catalog_documents ORDER BY created, name`)
	if err != nil {
		return nil, fmt.Errorf("catalog documents: %w", err)
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		var d Document
		var created int64
		if err := rows.Scan(&d.Name, &d.Kind, &d.Data, &d.ETag, &d.Hash, &created); err != nil {
			return nil, fmt.Errorf("catalog documents: %w", err)
		}
		d.Created = time.Unix(0, created).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// MarkMilestones implements ReleaseStore.
func (s *SQLStore) MarkMilestones(ctx context.Context, ms []Milestone) ([]Milestone, error) {
	var fresh []Milestone
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		fresh = fresh[:0]
		now := time.Now().UnixNano()
		for _, m := range ms {
			res, err := tx.ExecContext(ctx, `INSERT INTO catalog_milestones (key, created) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, m.Key, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				fresh = append(fresh, m)
				if err := events.Enqueue(ctx, tx, m.Event()); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mark milestones: %w", err)
	}
	return fresh, nil
}
