package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/jackc/pgx/v5"
)

// The PostgreSQL baselines of the benchmarks: the same rows written with a
// raw pgx COPY (the fastest way in), in a fresh schema of the same cluster,
// in the same run.

// rawPG opens a fresh schema and runs the DDL statements in it.
func rawPG(b *testing.B, ddl ...string) *sql.DB {
	b.Helper()
	db, err := sqldb.OpenPostgres(context.Background(), pgtest.URL(b), sqldb.Options{MaxConns: 2})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	for _, q := range ddl {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

// copyRows COPYs rows into table in one transaction and returns how long
// the COPY and the commit took.
func copyRows(b *testing.B, db *sql.DB, table string, cols []string, rows [][]any) time.Duration {
	b.Helper()
	return pgtest.CopyTx(b, db, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		return err
	})
}

// rawBulkCopy COPYs the rows a fleet's first reports store (distinct
// software, then links) into bare tables, timed from the first COPY to the
// commit.
func rawBulkCopy(b *testing.B, hosts [][]MatchedItem) time.Duration {
	b.Helper()
	db := rawPG(b, pgSteps[2], pgSteps[3])
	var hostRows [][]any
	for h := range hosts {
		hostRows = append(hostRows, []any{int64(h + 1), fmt.Sprint("u", h), fmt.Sprint("i", h), "h", "{}", fmt.Sprint("k", h), int64(1)})
	}
	copyRows(b, db, "hosts", []string{"id", "uid", "install_id", "hostname", "info", "node_key_hash", "enrolled_at"}, hostRows)
	ids := map[swKey]int64{}
	var sw, links [][]any
	for h, items := range hosts {
		for _, it := range items {
			k := keyOf(it.Item)
			id, ok := ids[k]
			if !ok {
				id = int64(len(ids) + 1)
				ids[k] = id
				sw = append(sw, []any{id, k.source, k.name, k.version, k.arch, k.extra, it.Match.Product, it.Match.Version, it.Match.Rule})
			}
			links = append(links, []any{int64(h + 1), id})
		}
	}
	return pgtest.CopyTx(b, db, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"software"}, []string{"id", "source", "name", "version", "arch", "extra", "product", "match_version", "rule"}, pgx.CopyFromRows(sw)); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"host_software"}, []string{"host_id", "software_id"}, pgx.CopyFromRows(links))
		return err
	})
}

// rawCheckinsCopy writes the rows of n check-ins raw: a COPY of the report
// id rows and one UPDATE of the hosts' check-in times from an array, in one
// transaction.
func rawCheckinsCopy(b *testing.B, hosts, n int) time.Duration {
	b.Helper()
	db := rawPG(b, pgSteps[2], pgSteps[3], pgSteps[4])
	var hostRows [][]any
	for h := 1; h <= hosts; h++ {
		hostRows = append(hostRows, []any{int64(h), fmt.Sprint("u", h), fmt.Sprint("i", h), "h", "{}", fmt.Sprint("k", h), int64(1)})
	}
	copyRows(b, db, "hosts", []string{"id", "uid", "install_id", "hostname", "info", "node_key_hash", "enrolled_at"}, hostRows)
	reps := make([][]any, n)
	ids := make([]int64, n)
	for i := range n {
		h := int64(1 + i%hosts)
		reps[i] = []any{h, fmt.Sprint("c", i), "checkin", int64(i)}
		ids[i] = h
	}
	return pgtest.CopyTx(b, db, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"reports"}, []string{"host_id", "report_id", "kind", "received_at"}, pgx.CopyFromRows(reps)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE hosts SET last_checkin_at = 7 FROM unnest($1::bigint[]) AS u(id) WHERE hosts.id = u.id`, ids)
		return err
	})
}

// loadVerdictsCopy is loadVerdicts on PostgreSQL, with COPY.
func loadVerdictsCopy(b *testing.B, st *Store, n int) {
	b.Helper()
	rank := int64(catalog.StatusRank(catalog.StatusCurrent))
	hosts := make([][]any, 0, n)
	verdicts := make([][]any, 0, 20*n)
	for h := 1; h <= n; h++ {
		hosts = append(hosts, []any{int64(h), fmt.Sprintf("uid%07d", h), fmt.Sprint("i", h), fmt.Sprintf("host-%07d", h), "{}", fmt.Sprint("k", h), int64(1), rank})
		for p := range 20 {
			v := fmt.Sprintf("%d.%d", p, (h*7+p)%10)
			verdicts = append(verdicts, []any{int64(h), fmt.Sprintf("product%d", p), v, v + "-1", "c", "current", rank, "c1", int64(1)})
		}
	}
	pgtest.CopyTx(b, st.DB(), func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"hosts"}, []string{"id", "uid", "install_id", "hostname", "info", "node_key_hash", "enrolled_at", "status_rank"}, pgx.CopyFromRows(hosts)); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"verdicts"}, []string{"host_id", "product", "version", "installed", "cycle", "status", "status_rank", "catalog_version", "changed_at"}, pgx.CopyFromRows(verdicts))
		return err
	})
	if _, err := st.DB().Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
}
