package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// CopyTable is one table CopyToPostgres moved.
type CopyTable struct {
	Name string
	Rows int64
}

// CopyOptions tune CopyToPostgres.
type CopyOptions struct {
	// Seeded are tables a fresh PostgreSQL database may already hold rows
	// in (written by migrations or by a server's first start: keys,
	// generation counters); their rows are replaced by the source's. Any
	// other target table holding rows means the database is in use, and
	// nothing is copied.
	Seeded []string
	// Extra runs inside the target transaction after the tables are
	// copied (to store what lives outside the source database).
	Extra func(ctx context.Context, tx pgx.Tx) error
}

// ErrTargetInUse is returned (wrapped) when the target database already
// holds data.
var ErrTargetInUse = errors.New("the PostgreSQL database already holds data")

// CopyToPostgres copies every table of a SQLite database (src, read in one
// snapshot) into the same tables of a PostgreSQL database (dst), in one
// transaction: both must be migrated to the same schema versions (tables
// with a single column named version are compared, not copied). Rows go in
// with COPY, parents before children (by the target's foreign keys);
// identity sequences then continue after the highest id. The target's row
// count of every table is checked against the source's before commit.
func CopyToPostgres(ctx context.Context, src, dst *sql.DB, o CopyOptions) ([]CopyTable, error) {
	if DialectOf(dst) != Postgres {
		return nil, errors.New("copy: the target is not a PostgreSQL database")
	}
	rtx, err := src.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("copy: read the source: %w", err)
	}
	defer rtx.Rollback()
	names, err := sqliteTables(ctx, rtx)
	if err != nil {
		return nil, err
	}
	conn, err := dst.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	defer conn.Close()
	var out []CopyTable
	err = conn.Raw(func(dc any) error {
		pc, ok := PgxConn(dc)
		if !ok {
			return errors.New("copy: not a pgx connection")
		}
		out, err = copyTables(ctx, rtx, pc, names, o)
		return err
	})
	return out, err
}

// sqliteTables lists the source's tables (not SQLite's own).
func sqliteTables(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("copy: list source tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("copy: list source tables: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func sqliteColumns(ctx context.Context, tx *sql.Tx, table string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, fmt.Errorf("copy: columns of %s: %w", table, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// pgColumn is a target column and its type.
type pgColumn struct{ name, typ string }

func pgColumns(ctx context.Context, c *pgx.Conn, table string) ([]pgColumn, error) {
	rows, err := c.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, fmt.Errorf("copy: columns of %s: %w", table, err)
	}
	defer rows.Close()
	var out []pgColumn
	for rows.Next() {
		var col pgColumn
		if err := rows.Scan(&col.name, &col.typ); err != nil {
			return nil, err
		}
		out = append(out, col)
	}
	return out, rows.Err()
}

func isVersionTable(cols []string) bool { return len(cols) == 1 && cols[0] == "version" }

// copyTables does the copy in one target transaction: plan the tables
// (schema versions and columns must agree), check the target is unused
// and clear what its migrations seeded, copy each table parents first,
// continue the identity columns, check every count, run the Extra hook,
// commit.
func copyTables(ctx context.Context, src *sql.Tx, c *pgx.Conn, names []string, o CopyOptions) ([]CopyTable, error) {
	plans, err := planCopy(ctx, src, c, names)
	if err != nil {
		return nil, err
	}
	order, err := parentsFirst(ctx, c, names)
	if err != nil {
		return nil, err
	}
	var ordered []*copyPlan // the tables to copy, parents first
	for _, n := range order {
		if p := plans[n]; p != nil {
			ordered = append(ordered, p)
		}
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := clearTarget(ctx, tx, ordered, o.Seeded); err != nil {
		return nil, err
	}
	var out []CopyTable
	for _, p := range ordered {
		n, err := copyTable(ctx, src, tx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, CopyTable{Name: p.name, Rows: n})
	}
	if err := continueIdentities(ctx, tx); err != nil {
		return nil, err
	}
	if err := checkCounts(ctx, src, tx, out); err != nil {
		return nil, err
	}
	if o.Extra != nil {
		if err := o.Extra(ctx, tx); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("copy: commit: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// copyPlan is one table to copy, with the target's columns.
type copyPlan struct {
	name string
	cols []pgColumn
}

// planCopy compares the two sides' tables: every source table has a
// target table with the same columns, and the owners' version tables
// (compared, not copied) hold the same schema versions. It returns the
// tables to copy by name.
func planCopy(ctx context.Context, src *sql.Tx, c *pgx.Conn, names []string) (map[string]*copyPlan, error) {
	plans := map[string]*copyPlan{}
	for _, n := range names {
		scols, err := sqliteColumns(ctx, src, n)
		if err != nil {
			return nil, err
		}
		tcols, err := pgColumns(ctx, c, n)
		if err != nil {
			return nil, err
		}
		if len(tcols) == 0 {
			return nil, fmt.Errorf("copy: table %s has no PostgreSQL counterpart (is the target migrated by the same build?)", n)
		}
		if isVersionTable(scols) {
			if err := sameVersion(ctx, src, c, n); err != nil {
				return nil, err
			}
			continue
		}
		tnames := make([]string, len(tcols))
		for i, tc := range tcols {
			tnames[i] = tc.name
		}
		a, b := slices.Sorted(slices.Values(scols)), slices.Sorted(slices.Values(tnames))
		if !slices.Equal(a, b) {
			return nil, fmt.Errorf("copy: table %s has columns %s in SQLite but %s in PostgreSQL", n, strings.Join(a, ", "), strings.Join(b, ", "))
		}
		plans[n] = &copyPlan{name: n, cols: tcols}
	}
	return plans, nil
}

// sameVersion checks that version table n holds the same schema version
// on both sides.
func sameVersion(ctx context.Context, src *sql.Tx, c *pgx.Conn, n string) error {
	var sv, tv int64
	if err := src.QueryRowContext(ctx, `SELECT version FROM `+n).Scan(&sv); err != nil {
		return fmt.Errorf("copy: %s: %w", n, err)
	}
	if err := c.QueryRow(ctx, `SELECT version FROM `+n).Scan(&tv); err != nil {
		return fmt.Errorf("copy: %s: %w", n, err)
	}
	if sv != tv {
		return fmt.Errorf("copy: %s: schema version %d in SQLite, %d in PostgreSQL: both must be migrated by the same build", n, sv, tv)
	}
	return nil
}

// clearTarget refuses a target whose tables hold rows (ErrTargetInUse),
// except the seeded ones, which it empties, children first.
func clearTarget(ctx context.Context, tx pgx.Tx, ordered []*copyPlan, seededTables []string) error {
	seeded := map[string]bool{}
	for _, s := range seededTables {
		seeded[s] = true
	}
	for _, p := range ordered {
		var used bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{p.name}.Sanitize()+`)`).Scan(&used); err != nil {
			return fmt.Errorf("copy: %s: %w", p.name, err)
		}
		if used && !seeded[p.name] {
			return fmt.Errorf("copy: table %s already has rows: %w; copy into a new, empty database", p.name, ErrTargetInUse)
		}
	}
	for i := len(ordered) - 1; i >= 0; i-- {
		if p := ordered[i]; seeded[p.name] {
			if _, err := tx.Exec(ctx, `DELETE FROM `+pgx.Identifier{p.name}.Sanitize()); err != nil {
				return fmt.Errorf("copy: clear %s: %w", p.name, err)
			}
		}
	}
	return nil
}

// copyTable streams one table's rows from the source into the target with
// COPY, converting each value to its target column's type, and returns
// how many it copied.
func copyTable(ctx context.Context, src *sql.Tx, tx pgx.Tx, p *copyPlan) (int64, error) {
	cols := make([]string, len(p.cols))
	for i, col := range p.cols {
		cols[i] = col.name
	}
	rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(quoteAll(cols), ", ")+` FROM `+quoteSQLite(p.name))
	if err != nil {
		return 0, fmt.Errorf("copy: read %s: %w", p.name, err)
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	feed := pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			var err error
			if row[i], err = convert(v, p.cols[i].typ); err != nil {
				return nil, fmt.Errorf("column %s: %w", cols[i], err)
			}
		}
		return row, nil
	})
	n, err := tx.CopyFrom(ctx, pgx.Identifier{p.name}, cols, feed)
	if err != nil {
		return 0, fmt.Errorf("copy: %s: %w", p.name, err)
	}
	return n, nil
}

// continueIdentities sets every identity column's sequence after the
// highest id copied, so new rows get new ids.
func continueIdentities(ctx context.Context, tx pgx.Tx) error {
	idRows, err := tx.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES'`)
	if err != nil {
		return fmt.Errorf("copy: identity columns: %w", err)
	}
	var ids [][2]string
	for idRows.Next() {
		var t, col string
		if err := idRows.Scan(&t, &col); err != nil {
			idRows.Close()
			return err
		}
		ids = append(ids, [2]string{t, col})
	}
	idRows.Close()
	for _, id := range ids {
		t, col := pgx.Identifier{id[0]}.Sanitize(), pgx.Identifier{id[1]}.Sanitize()
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(`+col+`) FROM `+t+`), 0) + 1, false)`,
			t, id[1]); err != nil {
			return fmt.Errorf("copy: continue the ids of %s: %w", id[0], err)
		}
	}
	return nil
}

// checkCounts compares the row count of every copied table on both sides.
func checkCounts(ctx context.Context, src *sql.Tx, tx pgx.Tx, copied []CopyTable) error {
	for _, ct := range copied {
		var want, got int64
		if err := src.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteSQLite(ct.Name)).Scan(&want); err != nil {
			return fmt.Errorf("copy: count %s: %w", ct.Name, err)
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+pgx.Identifier{ct.Name}.Sanitize()).Scan(&got); err != nil {
			return fmt.Errorf("copy: count %s: %w", ct.Name, err)
		}
		if want != got {
			return fmt.Errorf("copy: %s has %d rows in SQLite but %d in PostgreSQL after the copy", ct.Name, want, got)
		}
	}
	return nil
}

func quoteSQLite(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = quoteSQLite(n)
	}
	return out
}

// parentsFirst orders tables so that a table comes after those its
// foreign keys reference (in the target database).
func parentsFirst(ctx context.Context, c *pgx.Conn, names []string) ([]string, error) {
	rows, err := c.Query(ctx, `SELECT cl.relname, pcl.relname FROM pg_constraint co
		JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_class pcl ON pcl.oid = co.confrelid
		WHERE co.contype = 'f' AND co.connamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, fmt.Errorf("copy: foreign keys: %w", err)
	}
	parents := map[string][]string{}
	for rows.Next() {
		var child, parent string
		if err := rows.Scan(&child, &parent); err != nil {
			rows.Close()
			return nil, err
		}
		if child != parent {
			parents[child] = append(parents[child], parent)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("copy: foreign keys form a cycle through %s", n)
		case 2:
			return nil
		}
		state[n] = 1
		for _, p := range parents[n] {
			if err := visit(p); err != nil {
				return err
			}
		}
		state[n] = 2
		out = append(out, n)
		return nil
	}
	for _, n := range slices.Sorted(slices.Values(names)) {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// convert turns a value read from SQLite into one for a PostgreSQL column
// of type typ (information_schema's data_type).
func convert(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "bigint", "integer", "smallint":
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			return int64(x), nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case string:
			return strconv.ParseInt(x, 10, 64)
		case []byte:
			return strconv.ParseInt(string(x), 10, 64)
		}
	case "text", "character varying":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case "double precision", "real", "numeric":
		return v, nil
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		}
	}
	return nil, fmt.Errorf("cannot store a %T in a %s column", v, typ)
}
