package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/cputime"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/server/api"
)

// Benchmark sizes: small by default so `make bench` stays quick;
// EOLWATCH_BENCH_FULL=1 runs the sizes of the goals (10,000 hosts x 1,000
// items; 100,000 hosts x 20 products), and EOLWATCH_BENCH_HOSTS overrides
// the host count.
func benchHosts(small, full int) int {
	if v, err := strconv.Atoi(os.Getenv("EOLWATCH_BENCH_HOSTS")); err == nil && v > 0 {
		return v
	}
	if os.Getenv("EOLWATCH_BENCH_FULL") == "1" {
		return full
	}
	return small
}

const itemsPerHost = 1000

// fleetItems builds realistic host inventories: a shared base of packages
// every host has (same versions), a pool of optional packages with a few
// versions each, and 20 matched products in a handful of versions.
type fleetGen struct {
	base     []MatchedItem
	optional [][]MatchedItem // per package, its versions
	products [][]MatchedItem
}

func newFleetGen() *fleetGen {
	g := &fleetGen{}
	for i := range 600 {
		g.base = append(g.base, item(fmt.Sprintf("lib-base-%d", i), fmt.Sprintf("%d.%d-1", i%9, i%4), ""))
	}
	for i := range 3000 {
		var vs []MatchedItem
		for v := range 3 {
			vs = append(vs, item(fmt.Sprintf("opt-%d", i), fmt.Sprintf("2.%d.%d-1", i%13, v), ""))
		}
		g.optional = append(g.optional, vs)
	}
	for p := range 20 {
		var vs []MatchedItem
		for v := range 10 {
			vs = append(vs, item(fmt.Sprintf("prod%d-bin", p), fmt.Sprintf("%d.%d", p, v), fmt.Sprintf("product%d", p)))
		}
		g.products = append(g.products, vs)
	}
	return g
}

// host returns host number n's inventory (deterministic).
func (g *fleetGen) host(n int, rng *rand.Rand) []MatchedItem {
	items := make([]MatchedItem, 0, itemsPerHost)
	items = append(items, g.base...)
	for _, vs := range g.products {
		items = append(items, vs[rng.IntN(len(vs))])
	}
	for _, i := range rng.Perm(len(g.optional))[:itemsPerHost-len(items)] {
		items = append(items, g.optional[i][rng.IntN(3)])
	}
	return items
}

func benchStore(b *testing.B) *Store {
	b.Helper()
	st := openTest(b)
	return st
}

// rawBulkInsert inserts the same rows (distinct software, then links) into a
// bare database with a prepared statement in one transaction: the baseline.
// On PostgreSQL the baseline is a raw pgx COPY of the same rows.
func rawBulkInsert(b *testing.B, hosts [][]MatchedItem) time.Duration {
	b.Helper()
	if engine == sqldb.Postgres {
		return rawBulkCopy(b, hosts)
	}
	dir := b.TempDir()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "raw.db")+"?_journal_mode=WAL&_synchronous=NORMAL")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(Schema.Steps[2]); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	tx, _ := db.Begin()
	sw, _ := tx.Prepare(`INSERT INTO software (id, source, name, version, arch, extra, product, match_version, rule) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	link, _ := tx.Prepare(`INSERT INTO host_software (host_id, software_id) VALUES (?, ?)`)
	ids := map[swKey]int64{}
	for h, items := range hosts {
		for _, it := range items {
			k := keyOf(it.Item)
			id, ok := ids[k]
			if !ok {
				id = int64(len(ids) + 1)
				ids[k] = id
				if _, err := sw.Exec(id, k.source, k.name, k.version, k.arch, k.extra, it.Match.Product, it.Match.Version, it.Match.Rule); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := link.Exec(h+1, id); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// rawCheckins writes the rows of n check-ins (a report id row and the host's
// check-in time) into a bare database in one transaction: the baseline of
// steady-state check-ins.
func rawCheckins(b *testing.B, hosts, n int) time.Duration {
	b.Helper()
	if engine == sqldb.Postgres {
		return rawCheckinsCopy(b, hosts, n)
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(b.TempDir(), "raw.db")+"?_journal_mode=WAL&_synchronous=NORMAL")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, m := range Schema.Steps[1:4] {
		if _, err := db.Exec(m); err != nil {
			b.Fatal(err)
		}
	}
	for h := 1; h <= hosts; h++ {
		if _, err := db.Exec(`INSERT INTO hosts (id, uid, install_id, hostname, info, node_key_hash, enrolled_at) VALUES (?, ?, ?, 'h', '{}', ?, 1)`,
			h, fmt.Sprint("u", h), fmt.Sprint("i", h), fmt.Sprint("k", h)); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	tx, _ := db.Begin()
	rep, _ := tx.Prepare(`INSERT INTO reports (host_id, report_id, kind, received_at) VALUES (?, ?, 'checkin', ?)`)
	up, _ := tx.Prepare(`UPDATE hosts SET last_checkin_at = ? WHERE id = ?`)
	for i := range n {
		h := 1 + i%hosts
		if _, err := rep.Exec(h, fmt.Sprint("c", i), i); err != nil {
			b.Fatal(err)
		}
		if _, err := up.Exec(i, h); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

func reportFor(h HostRef, id string, items []MatchedItem) ReportInput {
	seen := map[pv]bool{}
	var vs []Verdict
	for _, it := range items {
		if it.Match.Product == "" || seen[pv{it.Match.Product, it.Match.Version}] {
			continue
		}
		seen[pv{it.Match.Product, it.Match.Version}] = true
		vs = append(vs, Verdict{Installed: it.Item.Version, V: verdictFor(it.Match.Product, it.Match.Version)})
	}
	return ReportInput{Host: h, Report: api.Report{ReportID: id, Kind: api.ReportFull, InventoryHash: "h-" + id,
		Host: api.HostInfo{InstallID: h.InstallID, Hostname: h.Hostname}}, Items: items, Verdicts: vs, CatalogVersion: "c1", AsOf: "2025-01-01"}
}

// BenchmarkIngest measures first reports of N hosts x 1,000 items through
// ApplyReport (one transaction per report: inventory diff, verdicts, events)
// against a raw bulk insert of the same rows in the same run, then
// steady-state check-ins and small-diff full reports.
func BenchmarkIngest(b *testing.B) { b.Run(engine.String(), benchIngest) }

func benchIngest(b *testing.B) {
	n := benchHosts(300, 10000)
	ctx := context.Background()
	for range b.N {
		g := newFleetGen()
		rng := rand.New(rand.NewPCG(1, 2))
		inv := make([][]MatchedItem, n)
		for i := range inv {
			inv[i] = g.host(i, rng)
		}
		cpu0 := cputime.Process()
		raw := rawBulkInsert(b, inv)
		rawCPU := cputime.Process() - cpu0
		st := benchStore(b)
		hosts := make([]HostRef, n)
		for i := range hosts {
			hosts[i] = enroll(b, st, fmt.Sprint("install-", i), fmt.Sprint("host-", i))
		}
		rows := n * itemsPerHost
		start := time.Now()
		cpu0 = cputime.Process()
		for i, h := range hosts {
			if _, err := st.ApplyReport(ctx, reportFor(h, "first", inv[i])); err != nil {
				b.Fatal(err)
			}
		}
		first, firstCPU := time.Since(start), cputime.Process()-cpu0
		// Steady state 1: check-ins (inventory unchanged), from 32 concurrent
		// senders as an HTTP server would see them.
		start = time.Now()
		checkins := 3 * n
		var wg sync.WaitGroup
		next := make(chan int, checkins)
		for i := range checkins {
			next <- i
		}
		close(next)
		for range 32 {
			wg.Go(func() {
				for i := range next {
					h := hosts[i%n]
					in := ReportInput{Host: h, Report: api.Report{ReportID: fmt.Sprint("c", i/n), Kind: api.ReportCheckin, InventoryHash: "h-first"}}
					if res, err := st.ApplyReport(ctx, in); err != nil || res.NeedFull || res.Duplicate {
						b.Errorf("check-in: %+v %v", res, err)
						return
					}
				}
			})
		}
		wg.Wait()
		ci := time.Since(start)
		// Steady state 2: full reports where 2 packages changed version.
		start = time.Now()
		for i, h := range hosts {
			items := append([]MatchedItem(nil), inv[i]...)
			for j := 0; j < 2; j++ {
				k := 600 + 20 + rng.IntN(len(items)-620)
				items[k].Item.Version += "+upd"
			}
			if _, err := st.ApplyReport(ctx, reportFor(h, "second", items)); err != nil {
				b.Fatal(err)
			}
		}
		diff := time.Since(start)
		rawRate := float64(rows) / raw.Seconds()
		ingRate := float64(rows) / first.Seconds()
		b.ReportMetric(float64(n), "hosts")
		b.ReportMetric(rawRate, "raw-rows/s")
		b.ReportMetric(ingRate, "ingest-rows/s")
		b.ReportMetric(ingRate/rawRate, "ratio(goal>=0.5)")
		b.ReportMetric(float64(rows)/firstCPU.Seconds(), "ingest-rows/cpu-s")
		b.ReportMetric(float64(rows)/rawCPU.Seconds(), "raw-rows/cpu-s")
		b.ReportMetric(float64(n)/first.Seconds(), "first-reports/s")
		b.ReportMetric(float64(checkins)/ci.Seconds(), "checkins/s")
		rawCI := rawCheckins(b, n, checkins)
		b.ReportMetric(float64(checkins)/rawCI.Seconds(), "raw-checkins/s")
		b.ReportMetric(rawCI.Seconds()/ci.Seconds(), "checkin-ratio")
		b.ReportMetric(float64(n)/diff.Seconds(), "diff-reports/s")
	}
}

// BenchmarkReEvaluate measures fleet re-evaluations of N hosts x 20 matched
// products (100,000 x 20 = 2M verdict rows at full size), each pair
// evaluated once: (1) a new day where nothing changes status; (2) one release
// published: a newer patch in one cycle of one product (its 10% of hosts
// become patch-available); (3) a heavy catalog change where 10% of all
// (product, version) pairs change status, with one fleet event per changed row.
func BenchmarkReEvaluate(b *testing.B) { b.Run(engine.String(), benchReEvaluate) }

func benchReEvaluate(b *testing.B) {
	n := benchHosts(20000, 100000)
	ctx := context.Background()
	verdict := func(p, v string, st string) catalog.Verdict {
		return catalog.Verdict{Product: p, Version: v, Status: st, Cycle: "c", Support: catalog.SupportSupported, Reason: "r"}
	}
	for range b.N {
		st := benchStore(b)
		loadVerdicts(b, st, n)
		run := func(version, asOf string, eval func(p, v string) catalog.Verdict) (ReEvalResult, time.Duration, time.Duration) {
			start, cpu0 := time.Now(), cputime.Process()
			res, err := st.ReEvaluate(ctx, ReEvalInput{CatalogVersion: version, AsOf: asOf, Evaluate: anyContext(eval)})
			if err != nil {
				b.Fatal(err)
			}
			return res, time.Since(start), cputime.Process() - cpu0
		}
		current := func(p, v string) catalog.Verdict { return verdict(p, v, catalog.StatusCurrent) }
		run("c1", "2025-01-01", current) // records the evaluations of the loaded state
		same, sameWall, sameCPU := run("c1", "2025-01-02", current)
		one, oneWall, oneCPU := run("c2", "2025-01-02", func(p, v string) catalog.Verdict {
			if p == "product0" && v == "0.3" {
				return verdict(p, v, catalog.StatusPatchAvailable)
			}
			return current(p, v)
		})
		heavy, heavyWall, heavyCPU := run("c3", "2025-01-02", func(p, v string) catalog.Verdict {
			if v[len(v)-1] == '3' || v[len(v)-1] == '4' {
				return verdict(p, v, catalog.StatusPatchAvailable)
			}
			return current(p, v)
		})
		if same.Rows != 0 || one.Rows == 0 || heavy.Rows == 0 {
			b.Fatalf("re-evaluations: %+v, %+v, %+v", same, one, heavy)
		}
		b.ReportMetric(float64(n), "hosts")
		b.ReportMetric(float64(n*20), "verdict-rows")
		b.ReportMetric(sameWall.Seconds(), "s-new-day")
		b.ReportMetric(sameCPU.Seconds(), "cpu-s-new-day")
		b.ReportMetric(float64(one.Rows), "rows-one-release")
		b.ReportMetric(oneWall.Seconds(), "s-one-release(goal<5)")
		b.ReportMetric(oneCPU.Seconds(), "cpu-s-one-release")
		b.ReportMetric(float64(heavy.Rows), "rows-heavy")
		b.ReportMetric(heavyWall.Seconds(), "s-heavy")
		b.ReportMetric(heavyCPU.Seconds(), "cpu-s-heavy")
		// The baseline: writing as many verdict rows raw (SQLite: a prepared
		// INSERT in one transaction; PostgreSQL: a pgx COPY).
		raw := rawVerdictRows(b, heavy.Rows)
		rawRate, reRate := float64(heavy.Rows)/raw.Seconds(), float64(heavy.Rows)/heavyWall.Seconds()
		b.ReportMetric(rawRate, "raw-rows/s")
		b.ReportMetric(reRate, "heavy-rows/s")
		b.ReportMetric(reRate/rawRate, "heavy-ratio")
	}
}

// loadVerdicts bulk-loads n hosts with 20 product verdicts each (10
// versions per product, status current) straight into the tables.
func loadVerdicts(b *testing.B, st *Store, n int) {
	b.Helper()
	ctx := context.Background()
	if engine == sqldb.Postgres {
		loadVerdictsCopy(b, st, n)
		return
	}
	err := st.inTx(ctx, func(tx *sql.Tx) error {
		hs, err := tx.Prepare(`INSERT INTO hosts (id, uid, install_id, hostname, info, node_key_hash, enrolled_at, status_rank) VALUES (?, ?, ?, ?, '{}', ?, 1, ?)`)
		if err != nil {
			return err
		}
		vs, err := tx.Prepare(`INSERT INTO verdicts (host_id, product, version, installed, cycle, status, status_rank, catalog_version, changed_at) VALUES (?, ?, ?, ?, 'c', 'current', ?, 'c1', 1)`)
		if err != nil {
			return err
		}
		rank := catalog.StatusRank(catalog.StatusCurrent)
		for h := 1; h <= n; h++ {
			if _, err := hs.Exec(h, fmt.Sprintf("uid%07d", h), fmt.Sprint("i", h), fmt.Sprintf("host-%07d", h), fmt.Sprint("k", h), rank); err != nil {
				return err
			}
			for p := range 20 {
				v := fmt.Sprintf("%d.%d", p, (h*7+p)%10)
				if _, err := vs.Exec(h, fmt.Sprintf("product%d", p), v, v+"-1", rank); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// rawVerdictRows writes n verdict rows into a bare verdicts table: the
// re-evaluation's baseline (SQLite: prepared INSERTs in one transaction;
// PostgreSQL: a pgx COPY).
func rawVerdictRows(b *testing.B, n int) time.Duration {
	b.Helper()
	if engine == sqldb.Postgres {
		db := rawPG(b, `CREATE TABLE verdicts (host_id BIGINT NOT NULL, product TEXT NOT NULL, version TEXT NOT NULL, installed TEXT NOT NULL,
			cycle TEXT NOT NULL, status TEXT NOT NULL, status_rank INTEGER NOT NULL, catalog_version TEXT NOT NULL, changed_at BIGINT NOT NULL,
			PRIMARY KEY (product, version, host_id))`)
		rows := make([][]any, n)
		for i := range rows {
			rows[i] = []any{int64(i), "product0", "0.3", "0.3-1", "c", "patch-available", int64(5), "c2", int64(1)}
		}
		return copyRows(b, db, "verdicts", []string{"host_id", "product", "version", "installed", "cycle", "status", "status_rank", "catalog_version", "changed_at"}, rows)
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(b.TempDir(), "raw.db")+"?_journal_mode=WAL&_synchronous=NORMAL")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE verdicts (host_id INTEGER NOT NULL, product TEXT NOT NULL, version TEXT NOT NULL, installed TEXT NOT NULL,
		cycle TEXT NOT NULL, status TEXT NOT NULL, status_rank INTEGER NOT NULL, catalog_version TEXT NOT NULL, changed_at BIGINT NOT NULL,
		PRIMARY KEY (product, version, host_id)) WITHOUT ROWID`); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	tx, _ := db.Begin()
	ins, _ := tx.Prepare(`INSERT INTO verdicts VALUES (?, 'product0', '0.3', '0.3-1', 'c', 'patch-available', 5, 'c2', 1)`)
	for i := range n {
		if _, err := ins.Exec(i); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkPruneSoftware measures PruneSoftware over a fleet (300 hosts of
// 1,000 items, EOLWATCH_BENCH_HOSTS to change) after every host upgraded
// its products, leaving their old versions unlinked: prune-s is how long
// the prune takes (on SQLite, how long it holds the writer), s/1k-links
// the same per 1,000 links read.
func BenchmarkPruneSoftware(b *testing.B) { b.Run(engine.String(), benchPrune) }

func benchPrune(b *testing.B) {
	n := benchHosts(300, 10000)
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		g := newFleetGen()
		rng := rand.New(rand.NewPCG(1, 2))
		st := benchStore(b)
		hosts := make([]HostRef, n)
		inv := make([][]MatchedItem, n)
		for i := range hosts {
			hosts[i] = enroll(b, st, fmt.Sprint("install-", i), fmt.Sprint("host-", i))
			inv[i] = g.host(i, rng)
			if _, err := st.ApplyReport(ctx, ReportInput{Host: hosts[i], Report: api.Report{ReportID: "r1", Kind: api.ReportFull}, Items: inv[i]}); err != nil {
				b.Fatal(err)
			}
		}
		// Every product moves to a version past the generator's.
		for i := range hosts {
			items := slices.Clone(inv[i])
			for j, it := range items {
				if it.Match.Product != "" {
					items[j] = item(it.Item.Name, it.Item.Version+".1", it.Match.Product)
				}
			}
			if _, err := st.ApplyReport(ctx, ReportInput{Host: hosts[i], Report: api.Report{ReportID: "r2", Kind: api.ReportFull}, Items: items}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		pruned, err := st.PruneSoftware(ctx)
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		if pruned == 0 {
			b.Fatal("nothing pruned")
		}
		b.ReportMetric(d.Seconds(), "prune-s")
		b.ReportMetric(float64(pruned), "rows-pruned")
		b.ReportMetric(d.Seconds()/float64(n*itemsPerHost)*1000, "s/1k-links")
	}
}
