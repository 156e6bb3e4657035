package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/migrate"
	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/notifier/events"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
)

// engine is the engine this pass of the suite runs on: TestMain runs every
// test on SQLite, then again on a throwaway PostgreSQL cluster.
var engine = sqldb.SQLite

func TestMain(m *testing.M) {
	os.Exit(pgtest.RunBoth(m, func(d sqldb.Dialect) { engine = d }))
}

// testLocation is where a test's store lives: a data directory (SQLite)
// or a fresh database's URL (PostgreSQL).
func testLocation(t testing.TB) (database, dir string) {
	t.Helper()
	return pgtest.Location(t, engine)
}

func openTest(t testing.TB) *Store {
	t.Helper()
	ctx := context.Background()
	database, dir := testLocation(t)
	st, err := OpenDatabase(ctx, database, dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := notifier.Migrate(ctx, st.DB()); err != nil {
		t.Fatalf("notifier.Migrate: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func countEvents(t testing.TB, st *Store) int {
	t.Helper()
	var n int
	if err := st.r.QueryRow(`SELECT COUNT(*) FROM notifier_events`).Scan(&n); err != nil {
		t.Fatalf("count events: %v", err)
	}
	return n
}

// lastEvents returns the payloads of the n newest events, oldest first.
func lastEvents(t testing.TB, st *Store, n int) []events.Event {
	t.Helper()
	rows, err := st.r.Query(`SELECT payload FROM notifier_events ORDER BY id DESC LIMIT ?`, n)
	if err != nil {
		t.Fatalf("read events: %v", err)
	}
	defer rows.Close()
	var out []events.Event
	for rows.Next() {
		var payload string
		var ev events.Event
		if err := rows.Scan(&payload); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(payload), &ev); err != nil {
			t.Fatalf("event payload %s: %v", payload, err)
		}
		out = append([]events.Event{ev}, out...)
	}
	return out
}

func enroll(t testing.TB, st *Store, install, hostname string) HostRef {
	t.Helper()
	uid, key, err := st.Enroll(context.Background(), api.HostInfo{InstallID: install, Hostname: hostname, OSID: "debian", OSVersion: "12"})
	if err != nil {
		t.Fatalf("Enroll: %v", err)
	}
	h, err := st.HostByNodeKey(context.Background(), key)
	if err != nil {
		t.Fatalf("HostByNodeKey: %v", err)
	}
	if h.UID != uid {
		t.Fatalf("HostByNodeKey uid = %q, want %q", h.UID, uid)
	}
	return h
}

// anyContext adapts a context-blind verdict function to ReEvalInput.Evaluate.
func anyContext(f func(p, v string) catalog.Verdict) func(p, v, c string) catalog.Verdict {
	return func(p, v, _ string) catalog.Verdict { return f(p, v) }
}

// rejudgeWith is a ReEvalInput.Rejudge judging each distinct matched
// (product, version) of a host with f.
func rejudgeWith(f func(p, v string) catalog.Verdict) func(HostInventory) []Verdict {
	return func(h HostInventory) []Verdict {
		seen := map[pv]bool{}
		var vs []Verdict
		for _, mi := range h.Items {
			k := pv{mi.Match.Product, mi.Match.Version}
			if k.product == "" || seen[k] {
				continue
			}
			seen[k] = true
			vs = append(vs, Verdict{Installed: mi.Item.Version, V: f(k.product, k.version)})
		}
		return vs
	}
}

// verdictFor is a tiny stand-in for the catalog: versions starting with "old" are eol.
func verdictFor(product, version string) catalog.Verdict {
	st := catalog.StatusCurrent
	if len(version) >= 3 && version[:3] == "old" {
		st = catalog.StatusEOL
	}
	return catalog.Verdict{Product: product, Version: version, Status: st, Cycle: "1", Support: catalog.SupportSupported, Reason: "test"}
}

func full(h HostRef, id string, items ...MatchedItem) ReportInput {
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

func item(name, version, product string) MatchedItem {
	m := Match{}
	if product != "" {
		m = Match{Product: product, Version: version, Rule: "test"}
	}
	return MatchedItem{Item: api.Item{Source: "dpkg", Name: name, Version: version}, Match: m}
}

func TestMigrationsIdempotentAndVersioned(t *testing.T) {
	ctx := context.Background()
	database, dir := testLocation(t)
	for i := range 2 {
		st, err := OpenDatabase(ctx, database, dir)
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		var v int
		if err := st.r.QueryRow(`SELECT version FROM schema_version`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != SchemaVersion {
			t.Errorf("schema version = %d, want %d", v, SchemaVersion)
		}
		if st.Dialect() != engine {
			t.Errorf("Dialect() = %v, want %v", st.Dialect(), engine)
		}
		st.Close()
	}
	// A database from a newer build is refused, untouched.
	st, err := OpenDatabase(ctx, database, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`UPDATE schema_version SET version = ?`, SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := OpenDatabase(ctx, database, dir); err == nil {
		t.Fatal("Open of a newer schema succeeded, want an error")
	}
}

// TestMigrationToContexts upgrades a database written before verdicts had
// contexts (schema 13): its verdicts and evaluations read back as upstream
// ones (context ""), and a host's detail still joins them.
func TestMigrationToContexts(t *testing.T) {
	ctx := context.Background()
	database, dir := testLocation(t)
	db := openAtSchema(t, database, dir, 13)
	for _, q := range []string{
		`INSERT INTO hosts (id, uid, install_id, hostname, info, node_key_hash, enrolled_at) VALUES (1, 'u1', 'i1', 'h1', '{}', 'k', 1)`,
		`INSERT INTO verdicts (host_id, product, version, installed, cycle, status, status_rank, catalog_version, changed_at)
			VALUES (1, 'perl', '5.36.0', '5.36.0-7', '5.36', 'eol', 0, 'c1', 1)`,
		`INSERT INTO evaluations (product, version, status, verdict, catalog_version, as_of)
			VALUES ('perl', '5.36.0', 'eol', '{"product":"perl","version":"5.36.0","status":"eol","reason":"old"}', 'c1', '2026-11-30')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	st, err := OpenDatabase(ctx, database, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.HostDetail(ctx, Scope{}, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Verdicts) != 1 || d.Verdicts[0].Reason != "old" || d.Verdicts[0].Maintainer != catalog.MaintainerUpstream {
		t.Errorf("verdicts after the migration = %+v, want the stored perl evaluation, upstream", d.Verdicts)
	}
	keys, err := st.verdictKeys(ctx)
	if err != nil || len(keys) != 1 || keys[0] != (pvc{"perl", "5.36.0", ""}) {
		t.Errorf("verdictKeys = %v, %v; want perl 5.36.0 in the upstream context", keys, err)
	}
}

// openAtSchema opens the test's database (the engine's own way, one
// connection) and migrates it only to schema version upTo, as a server of
// that release left it; the caller writes its old rows and closes it.
func openAtSchema(t *testing.T, database, dir string, upTo int) *sql.DB {
	t.Helper()
	ctx := context.Background()
	var db *sql.DB
	var err error
	if engine == sqldb.Postgres {
		db, err = sqldb.OpenPostgres(ctx, database, sqldb.Options{MaxConns: 1})
	} else {
		db, err = sql.Open("sqlite3", "file:"+filepath.Join(dir, FileName)+"?_foreign_keys=on&_txlock=immediate")
	}
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	old := migrate.Set{Owner: Schema.Owner, Table: Schema.Table, Steps: Schema.Steps[:upTo], Postgres: map[int]string{}}
	for n, q := range Schema.Postgres {
		if n <= upTo {
			old.Postgres[n] = q
		}
	}
	if err := migrate.Apply(ctx, db, old, nil); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestEnrollRekeyRevoke(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	uid1, key1, err := st.Enroll(ctx, api.HostInfo{InstallID: "i1", Hostname: "a"})
	if err != nil {
		t.Fatal(err)
	}
	// The host's key is the proof that re-keys it.
	res, err := st.EnrollHost(ctx, EnrollInput{Host: api.HostInfo{InstallID: "i1", Hostname: "a2"}, PreviousKey: key1})
	if err != nil || res.Pending {
		t.Fatalf("re-enroll with the key: %+v, %v", res, err)
	}
	uid2, key2 := res.HostID, res.NodeKey
	if uid1 != uid2 {
		t.Errorf("re-enroll uid = %q, want the same host %q", uid2, uid1)
	}
	if _, err := st.HostByNodeKey(ctx, key1); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("old key after re-enroll: err = %v, want ErrUnauthorized", err)
	}
	if _, err := st.HostByNodeKey(ctx, key2); err != nil {
		t.Errorf("new key: %v", err)
	}
	// Without it, a known install id only asks; the host keeps its key.
	if _, _, err := st.Enroll(ctx, api.HostInfo{InstallID: "i1", Hostname: "evil"}); !errors.Is(err, ErrPendingApproval) {
		t.Errorf("re-enroll without the key: %v, want ErrPendingApproval", err)
	}
	if h, err := st.HostByNodeKey(ctx, key2); err != nil || h.Hostname != "a2" {
		t.Errorf("host after a pending request: %+v, %v", h, err)
	}
	if err := st.RevokeHost(ctx, uid1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.HostByNodeKey(ctx, key2); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("revoked key: err = %v, want ErrUnauthorized", err)
	}
	if _, err := st.EnrollHost(ctx, EnrollInput{Host: api.HostInfo{InstallID: "i1", Hostname: "a2"}, PreviousKey: key2}); !errors.Is(err, ErrHostRevoked) {
		t.Errorf("re-enroll a revoked host: %v, want ErrHostRevoked", err)
	}
	if err := st.RestoreHost(ctx, uid1); err != nil {
		t.Fatal(err)
	}
	if err := st.RestoreHost(ctx, uid1); !errors.Is(err, ErrNothingPending) {
		t.Errorf("restore a host that is not revoked: %v, want ErrNothingPending", err)
	}
	if _, err := st.HostByNodeKey(ctx, key2); err != nil {
		t.Errorf("key of a restored host: %v", err)
	}
	if err := st.RevokeHost(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RevokeHost(unknown) = %v, want ErrNotFound", err)
	}
	for name, fn := range map[string]func(context.Context, string) error{
		"approve": func(ctx context.Context, uid string) error { return st.ApproveEnrollment(ctx, uid, "enr_x") },
		"deny":    func(ctx context.Context, uid string) error { return st.DenyEnrollment(ctx, uid, "enr_x") },
		"restore": st.RestoreHost} {
		if err := fn(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s(unknown) = %v, want ErrNotFound", name, err)
		}
	}
	var stored string
	st.r.QueryRow(`SELECT node_key_hash FROM hosts WHERE uid = ?`, uid1).Scan(&stored)
	if stored == key2 || stored != HashSecret(key2) {
		t.Errorf("node key stored as %q, want its sha256", stored)
	}
}

// TestPendingEnrollment: every request without proof is kept with its own
// id, time and source, listed, and approved or denied by that id only: a
// later request for the same host (an attacker's, with the same hostname)
// is never granted by an approval of the earlier one.
func TestPendingEnrollment(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	uid, key, err := st.Enroll(ctx, api.HostInfo{InstallID: "i1", Hostname: "web1"})
	if err != nil {
		t.Fatal(err)
	}
	ask := func(hostname, prev, from string) EnrollResult {
		t.Helper()
		res, err := st.EnrollHost(ctx, EnrollInput{Host: api.HostInfo{InstallID: "i1", Hostname: hostname, OSName: "Debian"}, PreviousKey: prev, From: from})
		if err != nil || !res.Pending {
			t.Fatalf("request: %+v, %v", res, err)
		}
		return res
	}
	real := ask("web1", "", "192.0.2.7")
	if again := ask("web1", real.NodeKey, "192.0.2.7"); again.NodeKey != "" || again.RequestID != real.RequestID {
		t.Errorf("asking again with the pending key = %+v, want no new key and request %s", again, real.RequestID)
	}
	attacker := ask("web1", "", "203.0.113.9") // same hostname, later, elsewhere
	if real.RequestID == "" || attacker.RequestID == "" || real.RequestID == attacker.RequestID {
		t.Fatalf("request ids %q and %q: want two distinct ids", real.RequestID, attacker.RequestID)
	}
	list, err := st.PendingEnrollments(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("pending = %+v, %v; want both requests", list, err)
	}
	for i, want := range []struct{ id, from string }{{real.RequestID, "192.0.2.7"}, {attacker.RequestID, "203.0.113.9"}} {
		if p := list[i]; p.ID != want.id || p.HostID != uid || p.HostHostname != "web1" || p.Hostname != "web1" || p.From != want.from || p.RequestedAt.IsZero() {
			t.Errorf("pending[%d] = %+v, want request %s from %s", i, p, want.id, want.from)
		}
	}
	d, err := st.HostDetail(ctx, Scope{}, uid)
	if err != nil || d.Host.PendingRequests != 2 || len(d.Host.PendingEnrollments) != 2 || d.Host.PendingEnrollments[1].ID != attacker.RequestID {
		t.Errorf("host detail pending = %d %+v, %v", d.Host.PendingRequests, d.Host.PendingEnrollments, err)
	}
	for _, tc := range []struct{ name, id string }{{"no request id", ""}, {"another host's or made-up id", "enr_000"}} {
		if err := st.ApproveEnrollment(ctx, uid, tc.id); !errors.Is(err, ErrNothingPending) {
			t.Errorf("approve with %s: %v, want ErrNothingPending", tc.name, err)
		}
	}
	// The admin approves the request they recognise: only its key works.
	if err := st.ApproveEnrollment(ctx, uid, real.RequestID); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{key, attacker.NodeKey} {
		if _, err := st.HostByNodeKey(ctx, k); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("the old key or the other request's key works: %v", err)
		}
	}
	if h, err := st.HostByNodeKey(ctx, real.NodeKey); err != nil || h.UID != uid {
		t.Errorf("approved key: %+v, %v", h, err)
	}
	// Approving drops the host's other requests: the attacker's id is gone.
	if err := st.ApproveEnrollment(ctx, uid, attacker.RequestID); !errors.Is(err, ErrNothingPending) {
		t.Errorf("approve the dropped request: %v, want ErrNothingPending", err)
	}
	// A click meant for an earlier request cannot approve a later one.
	a := ask("web1", "", "203.0.113.9")
	if err := st.DenyEnrollment(ctx, uid, a.RequestID); err != nil {
		t.Fatal(err)
	}
	b := ask("web1", "", "203.0.113.9")
	if err := st.ApproveEnrollment(ctx, uid, a.RequestID); !errors.Is(err, ErrNothingPending) {
		t.Errorf("approving the denied request %s: %v, want ErrNothingPending", a.RequestID, err)
	}
	if _, err := st.HostByNodeKey(ctx, b.NodeKey); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("the later request's key works after a click for the earlier one: %v", err)
	}
	if list, _ := st.PendingEnrollments(ctx); len(list) != 1 || list[0].ID != b.RequestID {
		t.Errorf("pending after deny = %+v, want only %s", list, b.RequestID)
	}
	// A flood cannot push out a waiting request: past the cap it is refused.
	for i := 1; i < MaxPendingRequests; i++ {
		ask("web1", "", "203.0.113.9")
	}
	if _, err := st.EnrollHost(ctx, EnrollInput{Host: api.HostInfo{InstallID: "i1", Hostname: "web1"}}); !errors.Is(err, ErrTooManyPending) {
		t.Errorf("request past the cap: %v, want ErrTooManyPending", err)
	}
	if list, _ := st.PendingEnrollments(ctx); len(list) != MaxPendingRequests || list[0].ID != b.RequestID {
		t.Errorf("after the flood %d requests, first %+v; want %d with %s first", len(list), list[0], MaxPendingRequests, b.RequestID)
	}
	// Revoking drops every request.
	if err := st.RevokeHost(ctx, uid); err != nil {
		t.Fatal(err)
	}
	if list, _ := st.PendingEnrollments(ctx); len(list) != 0 {
		t.Errorf("pending after revoke: %+v", list)
	}
}

func TestApplyReportDiffIdempotencyAndEvents(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	h := enroll(t, st, "i1", "web1")
	res, err := st.ApplyReport(ctx, full(h, "r1", item("python3.11", "3.11.2", "python"), item("libfoo", "1.0", ""), item("nginx", "old1", "nginx")))
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 3 || res.Removed != 0 || res.Duplicate {
		t.Errorf("first report = %+v, want 3 added", res)
	}
	if res.Changes != 1 || countEvents(t, st) != 1 {
		t.Errorf("first report changes = %d, events = %d; want 1 (the eol nginx)", res.Changes, countEvents(t, st))
	}
	// The same id again: acknowledged, nothing applied.
	res, err = st.ApplyReport(ctx, full(h, "r1"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Duplicate {
		t.Errorf("repeat report = %+v, want Duplicate", res)
	}
	d, err := st.HostDetail(ctx, Scope{}, h.UID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Inventory) != 3 || d.Items != 3 || d.Unmatched != 1 || d.Status != catalog.StatusEOL {
		t.Errorf("after repeat: inventory %d items=%d unmatched=%d status=%s; want 3, 3, 1, eol", len(d.Inventory), d.Items, d.Unmatched, d.Status)
	}
	// Upgrade nginx (old1 -> 1.25) and drop libfoo: a diff, and one event eol -> current.
	res, err = st.ApplyReport(ctx, full(h, "r2", item("python3.11", "3.11.2", "python"), item("nginx", "1.25", "nginx")))
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 1 || res.Removed != 2 || res.Changes != 1 {
		t.Errorf("second report = %+v, want added 1, removed 2, changes 1", res)
	}
	d, _ = st.HostDetail(ctx, Scope{}, h.UID)
	if d.Status != catalog.StatusCurrent || len(d.Verdicts) != 2 {
		t.Errorf("after upgrade: status %s, %d verdicts; want current, 2", d.Status, len(d.Verdicts))
	}
	// A check-in with the stored hash is fine; another hash asks for a full report.
	for _, tc := range []struct {
		hash     string
		needFull bool
	}{{"h-r2", false}, {"other", true}} {
		t.Run(tc.hash, func(t *testing.T) {
			in := ReportInput{Host: h, Report: api.Report{ReportID: "c-" + tc.hash, Kind: api.ReportCheckin, InventoryHash: tc.hash}}
			res, err := st.ApplyReport(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if res.NeedFull != tc.needFull {
				t.Errorf("check-in with hash %q: NeedFull = %v, want %v", tc.hash, res.NeedFull, tc.needFull)
			}
		})
	}
	if n := countEvents(t, st); n != 2 {
		t.Errorf("events = %d, want 2", n)
	}
}

func TestReEvaluate(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	for i := range 5 {
		h := enroll(t, st, fmt.Sprint("i", i), fmt.Sprint("h", i))
		if _, err := st.ApplyReport(ctx, full(h, "r", item("python3", "3.11.2", "python"), item("zlib", "1.2", "zlib"))); err != nil {
			t.Fatal(err)
		}
	}
	before := countEvents(t, st)
	// The new catalog makes python 3.11.2 eol.
	eval := func(p, v string) catalog.Verdict {
		if p == "python" {
			return catalog.Verdict{Product: p, Version: v, Status: catalog.StatusEOL, Cycle: "3.11", Reason: "eol now",
				Maintainer: "upstream", CatalogDate: "2024-12-01", Warnings: []string{"The catalog is old."}}
		}
		return verdictFor(p, v)
	}
	res, err := st.ReEvaluate(ctx, ReEvalInput{CatalogVersion: "c2", AsOf: "2025-01-02", Evaluate: anyContext(eval)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pairs != 2 || res.Rows != 5 || res.Events != 5 {
		t.Errorf("ReEvaluate = %+v, want 2 pairs, 5 rows, 5 events", res)
	}
	if got := countEvents(t, st) - before; got != 5 {
		t.Errorf("events enqueued = %d, want 5", got)
	}
	// Each event carries the verdict as a report's fleet events do (the
	// same on both engines: fleetEvent builds them all).
	for _, ev := range lastEvents(t, st, 5) {
		if ev.Kind != events.KindFleet || ev.To != catalog.StatusEOL || ev.Reason != "eol now" || ev.Maintainer != "upstream" ||
			ev.CatalogDate != "2024-12-01" || len(ev.Warnings) != 1 {
			t.Errorf("re-evaluation event %+v, want the new verdict with its maintainer, catalog date and warnings", ev)
		}
	}
	c, err := st.Compliance(ctx, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if c.HostsByStatus[catalog.StatusEOL] != 5 || c.CatalogVersion != "c2" {
		t.Errorf("compliance = %+v, want 5 eol hosts under c2", c)
	}
	// Back to current: the hosts' worst status is recomputed.
	if _, err := st.ReEvaluate(ctx, ReEvalInput{CatalogVersion: "c1b", AsOf: "2025-01-02", Evaluate: anyContext(verdictFor)}); err != nil {
		t.Fatal(err)
	}
	if c, _ := st.Compliance(ctx, Scope{}); c.HostsByStatus[catalog.StatusCurrent] != 5 {
		t.Errorf("after python is current again: hosts by status %v, want 5 current", c.HostsByStatus)
	}
	if _, err := st.ReEvaluate(ctx, ReEvalInput{CatalogVersion: "c2", AsOf: "2025-01-02", Evaluate: anyContext(eval)}); err != nil {
		t.Fatal(err)
	}
	// Idempotent.
	res, err = st.ReEvaluate(ctx, ReEvalInput{CatalogVersion: "c2", AsOf: "2025-01-02", Evaluate: anyContext(eval)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 0 || res.Events != 0 {
		t.Errorf("second ReEvaluate = %+v, want no changes", res)
	}
	// Re-matching: zlib no longer matches anything -> its verdict row goes away.
	res, err = st.ReEvaluate(ctx, ReEvalInput{CatalogVersion: "c3", AsOf: "2025-01-02", Evaluate: anyContext(eval), Rejudge: rejudgeWith(eval), Match: func(it api.Item) Match {
		if it.Name == "python3" {
			return Match{Product: "python", Version: it.Version, Rule: "test"}
		}
		return Match{}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.RematchHosts != 5 {
		t.Errorf("RematchHosts = %d, want 5", res.RematchHosts)
	}
	ps, _ := st.Products(ctx, Scope{})
	if len(ps) != 1 || ps[0].Product != "python" || ps[0].Hosts != 5 {
		t.Errorf("products after re-match = %+v, want python on 5 hosts", ps)
	}
	d, _ := st.HostDetail(ctx, Scope{}, "h0")
	if d.Unmatched != 1 {
		t.Errorf("unmatched after re-match = %d, want 1", d.Unmatched)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	if _, _, err := st.CreateToken(ctx, "root", ""); err == nil {
		t.Error("CreateToken(role root) succeeded, want an error")
	}
	tok, secret, err := st.CreateToken(ctx, auth.RoleSupport, "desk")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := st.Authenticate(ctx, secret); err != nil || p != (auth.Principal{Role: auth.RoleSupport, TokenID: tok.ID, TokenName: "desk"}) {
		t.Errorf("Authenticate = %+v, %v; want support", p, err)
	}
	if _, err := st.Authenticate(ctx, secret+"x"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("Authenticate(forged) err = %v, want ErrUnauthorized", err)
	}
	if err := st.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(ctx, secret); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("Authenticate(revoked) err = %v, want ErrUnauthorized", err)
	}
	if err := st.RevokeToken(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RevokeToken(unknown) = %v, want ErrNotFound", err)
	}
	ts, _ := st.ListTokens(ctx)
	if len(ts) != 1 || ts[0].RevokedAt.IsZero() {
		t.Errorf("ListTokens = %+v, want one revoked token", ts)
	}
}

func TestListHostsPagingAndFilters(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	for i := range 7 {
		h := enroll(t, st, fmt.Sprint("i", i), fmt.Sprintf("host%02d", i))
		v := "3.11.2"
		if i%2 == 0 {
			v = "old"
		}
		if _, err := st.ApplyReport(ctx, full(h, "r", item("python3", v, "python"))); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	f := HostFilter{Limit: 3}
	for range 5 {
		page, err := st.ListHosts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 7 {
			t.Errorf("Total = %d, want 7", page.Total)
		}
		for _, h := range page.Hosts {
			names = append(names, h.Hostname)
		}
		if page.Next == "" {
			break
		}
		f.After = page.Next
	}
	if len(names) != 7 || names[0] != "host00" || names[6] != "host06" {
		t.Errorf("paged hostnames = %v, want host00..host06 in order", names)
	}
	for _, tc := range []struct {
		f    HostFilter
		want int
	}{
		{HostFilter{Status: catalog.StatusEOL}, 4},
		{HostFilter{Status: catalog.StatusCurrent}, 3},
		{HostFilter{Product: "python", Status: catalog.StatusEOL}, 4},
		{HostFilter{Product: "python", Cycle: "1"}, 7},
		{HostFilter{Product: "python", Cycle: "2"}, 0},
		{HostFilter{Product: "nginx"}, 0},
	} {
		t.Run(fmt.Sprintf("%+v", tc.f), func(t *testing.T) {
			page, err := st.ListHosts(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != tc.want || len(page.Hosts) != tc.want {
				t.Errorf("ListHosts(%+v) = %d hosts (total %d), want %d", tc.f, len(page.Hosts), page.Total, tc.want)
			}
		})
	}
	if _, _, err := st.FindHost(ctx, "host03"); err != nil {
		t.Errorf("FindHost(hostname): %v", err)
	}
	enroll(t, st, "dup", "host03")
	if _, _, err := st.FindHost(ctx, "host03"); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("FindHost(shared hostname) err = %v, want ErrAmbiguous", err)
	}
}

func TestSoftwareRowsShared(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	for i := range 3 {
		h := enroll(t, st, fmt.Sprint("i", i), "h")
		if _, err := st.ApplyReport(ctx, full(h, "r", item("bash", "5.2", ""), item("zlib", "1.2", "zlib"))); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	st.r.QueryRow(`SELECT COUNT(*) FROM software`).Scan(&n)
	if n != 2 {
		t.Errorf("software rows = %d, want 2 (distinct items stored once)", n)
	}
	st.r.QueryRow(`SELECT COUNT(*) FROM host_software`).Scan(&n)
	if n != 6 {
		t.Errorf("links = %d, want 6", n)
	}
	un, err := st.Unmatched(ctx, Scope{}, 10)
	if err != nil || len(un) != 1 || un[0].Name != "bash" || un[0].Hosts != 3 {
		t.Errorf("Unmatched = %+v, %v; want bash on 3 hosts", un, err)
	}
	_ = time.Now
}

func TestCheckinsGroupCommit(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	var hosts []HostRef
	for i := range 4 {
		h := enroll(t, st, fmt.Sprint("i", i), fmt.Sprint("h", i))
		if _, err := st.ApplyReport(ctx, full(h, "f", item("bash", "5", ""))); err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, h)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	dups, applied := 0, 0
	for g := range 16 {
		wg.Go(func() {
			for r := range 20 {
				h := hosts[(g+r)%len(hosts)]
				// Every (host, id) is sent by 4 goroutines: applied once, then duplicates.
				in := ReportInput{Host: h, Report: api.Report{ReportID: fmt.Sprint("c", r), Kind: api.ReportCheckin, InventoryHash: "h-f"}}
				res, err := st.ApplyReport(ctx, in)
				if err != nil || res.NeedFull {
					t.Errorf("check-in: %+v %v", res, err)
					return
				}
				mu.Lock()
				if res.Duplicate {
					dups++
				} else {
					applied++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if applied != 4*20 || dups != 3*4*20 {
		t.Errorf("applied %d, duplicates %d; want 80 and 240", applied, dups)
	}
	st.Close()
	in := ReportInput{Host: hosts[0], Report: api.Report{ReportID: "late", Kind: api.ReportCheckin}}
	if _, err := st.ApplyReport(ctx, in); err == nil {
		t.Error("check-in on a closed store succeeded")
	}
}

func TestVerdictKeys(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	if ps, err := st.verdictKeys(ctx); err != nil || len(ps) != 0 {
		t.Fatalf("verdictKeys on an empty fleet = %v, %v, want none", ps, err)
	}
	invs := [][]MatchedItem{
		{item("python3", "3.11.2", "python"), item("zlib", "1.2", "zlib"), item("nginx", "1.22", "nginx")},
		{item("python3", "3.9.2", "python"), item("zlib", "1.2", "zlib")},
		{item("python3", "3.11.2", "python"), item("zlib", "1.3", "zlib"), item("nginx", "1.2", "nginx")},
		{item("python3", "3.11.2", "python"), item("zlib", "1.2", "zlib")},
		{item("python3", "3.11.2", "python")},
	}
	// Hosts 3 and 4 judge python 3.11.2 in contexts of their own (a
	// distribution's package); host 3's zlib too.
	contexts := map[int]map[string]string{3: {"python": "B", "zlib": "A"}, 4: {"python": "A"}}
	for i, inv := range invs {
		h := enroll(t, st, fmt.Sprint("i", i), fmt.Sprint("h", i))
		in := full(h, "r", inv...)
		for j := range in.Verdicts {
			in.Verdicts[j].Context = contexts[i][in.Verdicts[j].V.Product]
		}
		if _, err := st.ApplyReport(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.verdictKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []pvc{{"nginx", "1.2", ""}, {"nginx", "1.22", ""}, {"python", "3.11.2", ""}, {"python", "3.11.2", "A"}, {"python", "3.11.2", "B"},
		{"python", "3.9.2", ""}, {"zlib", "1.2", ""}, {"zlib", "1.2", "A"}, {"zlib", "1.3", ""}}
	if !slices.Equal(got, want) {
		t.Errorf("verdictKeys = %v, want %v", got, want)
	}
}

// TestReEvaluateContexts checks that a re-evaluation judges each stored
// context on its own and changes only the hosts in the context whose
// verdict changed.
func TestReEvaluateContexts(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	var hosts []HostRef
	for i := range 3 {
		h := enroll(t, st, fmt.Sprint("i", i), fmt.Sprint("h", i))
		hosts = append(hosts, h)
		in := full(h, "r", item("perl-base", "5.36.0", "perl"))
		in.Verdicts[0].Context = []string{"", "debian-12", "debian-12"}[i]
		if _, err := st.ApplyReport(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	// Upstream, perl 5.36 has ended; Debian 12 still maintains it.
	eval := func(p, v, c string) catalog.Verdict {
		if c == "debian-12" {
			return catalog.Verdict{Product: p, Version: v, Status: catalog.StatusCurrent, Cycle: "1", Maintainer: "debian", Reason: "debian"}
		}
		return catalog.Verdict{Product: p, Version: v, Status: catalog.StatusEOL, Cycle: "1", Maintainer: "upstream", Reason: "upstream"}
	}
	res, err := st.ReEvaluate(ctx, ReEvalInput{CatalogVersion: "c2", AsOf: "2025-01-02", Evaluate: eval})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pairs != 2 || res.Rows != 1 || res.Events != 1 {
		t.Errorf("ReEvaluate = %+v, want 2 keys, 1 row, 1 event", res)
	}
	for i, want := range []string{catalog.StatusEOL, catalog.StatusCurrent, catalog.StatusCurrent} {
		d, err := st.HostDetail(ctx, Scope{}, hosts[i].UID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != want || len(d.Verdicts) != 1 || d.Verdicts[0].Status != want {
			t.Errorf("host %d: status %s, verdicts %+v; want %s", i, d.Status, d.Verdicts, want)
			continue
		}
		wantM := map[bool]string{true: "upstream", false: "debian"}[i == 0]
		if v := d.Verdicts[0]; v.Maintainer != wantM || v.Reason != map[bool]string{true: "upstream", false: "debian"}[i == 0] {
			t.Errorf("host %d: maintainer %q reason %q, want %s's evaluation", i, v.Maintainer, v.Reason, wantM)
		}
		ins, err := st.HostInstalls(ctx, hosts[i].ID, "perl")
		if err != nil || len(ins) != 1 || ins[0].Context != []string{"", "debian-12", "debian-12"}[i] {
			t.Errorf("host %d: HostInstalls = %+v, %v; want its context", i, ins, err)
		}
	}
}

// TestCandidates checks the first-seen time of a package's candidate: kept
// across reports while the candidate is unchanged (even when a report
// claims a later time), reset when it changes, forgotten when the package
// is current again, and gone with its host.
func TestCandidates(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	h := enroll(t, st, "i", "h")
	day := func(d int) time.Time { return time.Date(2026, 11, d, 8, 0, 0, 0, time.UTC) }
	report := func(id string, cs ...Candidate) {
		t.Helper()
		in := full(h, id, item("python3.11", "3.11.2-6+deb12u6", "python"))
		in.Candidates = cs
		if _, err := st.ApplyReport(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	get := func() map[string]Candidate {
		t.Helper()
		cs, err := st.Candidates(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]Candidate{}
		for _, c := range cs {
			out[c.Name] = c
		}
		return out
	}
	py := func(cand string, seen time.Time) Candidate {
		return Candidate{Source: "dpkg", Name: "python3.11", Arch: "amd64", Candidate: cand, FirstSeen: seen}
	}
	ssl := Candidate{Source: "dpkg", Name: "openssl", Arch: "amd64", Candidate: "3.0.22-1~deb12u2", FirstSeen: day(2)}
	report("r1", py("3.11.2-6+deb12u8", day(1)), ssl)
	if c := get(); len(c) != 2 || !c["python3.11"].FirstSeen.Equal(day(1)) || c["openssl"].Candidate != ssl.Candidate {
		t.Fatalf("after the first report: %+v", c)
	}
	report("r2", py("3.11.2-6+deb12u8", day(5)), ssl)
	if c := get(); !c["python3.11"].FirstSeen.Equal(day(1)) {
		t.Errorf("unchanged candidate: first seen %v, want it kept at %v", c["python3.11"].FirstSeen, day(1))
	}
	report("r3", py("3.11.2-6+deb12u9", day(9)))
	c := get()
	if !c["python3.11"].FirstSeen.Equal(day(9)) || c["python3.11"].Candidate != "3.11.2-6+deb12u9" {
		t.Errorf("changed candidate: %+v, want 3.11.2-6+deb12u9 first seen %v", c["python3.11"], day(9))
	}
	if _, ok := c["openssl"]; ok {
		t.Errorf("openssl is current again but its candidate is still remembered: %+v", c["openssl"])
	}
	if _, err := st.w.Exec(`DELETE FROM hosts WHERE id = ?`, h.ID); err != nil {
		t.Fatal(err)
	}
	if c := get(); len(c) != 0 {
		t.Errorf("candidates of a deleted host: %+v", c)
	}
}

// TestReEvaluateHostRanks checks every host's worst status after
// re-evaluations that make rows worse and better, on more hosts than one
// rank update names.
func TestReEvaluateHostRanks(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	const hosts = 1300
	current := catalog.StatusRank(catalog.StatusCurrent)
	err := st.inTx(ctx, func(tx *sql.Tx) error {
		for h := 1; h <= hosts; h++ {
			if _, err := tx.Exec(`INSERT INTO hosts (id, uid, install_id, hostname, info, node_key_hash, enrolled_at, status_rank) VALUES (?, ?, ?, ?, '{}', ?, 1, ?)`,
				h, fmt.Sprint("u", h), fmt.Sprint("i", h), fmt.Sprint("h", h), fmt.Sprint("k", h), current); err != nil {
				return err
			}
			for p := range 3 {
				v := fmt.Sprintf("%d.%d", p, (h+p)%4)
				if _, err := tx.Exec(`INSERT INTO verdicts (host_id, product, version, installed, cycle, status, status_rank, catalog_version, changed_at) VALUES (?, ?, ?, ?, 'c', 'current', ?, 'c1', 1)`,
					h, fmt.Sprint("p", p), v, v, current); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	eval := func(p, v string) catalog.Verdict {
		s := catalog.StatusCurrent
		if x, ok := status[v]; ok {
			s = x
		}
		return catalog.Verdict{Product: p, Version: v, Status: s, Cycle: "c", Support: catalog.SupportSupported, Reason: "r"}
	}
	steps := []map[string]string{
		{"0.1": catalog.StatusPatchAvailable, "1.2": catalog.StatusEOL},
		{"0.1": catalog.StatusEOL, "1.2": catalog.StatusPatchAvailable, "2.3": catalog.StatusEOLSoon},
		{"2.3": catalog.StatusEOLSoon},
		{},
	}
	for i, step := range steps {
		status = step
		if _, err := st.ReEvaluate(ctx, ReEvalInput{CatalogVersion: fmt.Sprint("c", i+2), AsOf: "2025-01-02", Evaluate: anyContext(eval)}); err != nil {
			t.Fatal(err)
		}
		var bad int
		if err := st.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM hosts h WHERE h.status_rank <> (SELECT MIN(status_rank) FROM verdicts WHERE host_id = h.id)`).Scan(&bad); err != nil {
			t.Fatal(err)
		}
		if bad != 0 {
			t.Errorf("step %d: %d hosts' worst status differs from their verdicts' worst", i, bad)
		}
	}
}

// TestRejudgeHosts: hosts judged with an old catalog are matched and
// judged again with the new one, alone, with their events.
func TestRejudgeHosts(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	var ids []int64
	for i := range 3 {
		h := enroll(t, st, fmt.Sprint("i", i), fmt.Sprint("h", i))
		if _, err := st.ApplyReport(ctx, full(h, "r", item("python3", "3.11.2", "python"), item("zlib", "1.2", "zlib"))); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, h.ID)
	}
	before := countEvents(t, st)
	eol := func(p, v string) catalog.Verdict {
		return catalog.Verdict{Product: p, Version: v, Status: catalog.StatusEOL, Cycle: "3.11", Reason: "eol now"}
	}
	onlyPython := func(it api.Item) Match {
		if it.Name == "python3" {
			return Match{Product: "python", Version: it.Version, Rule: "test"}
		}
		return Match{}
	}
	if err := st.RejudgeHosts(ctx, ids[:2], ReEvalInput{CatalogVersion: "c2", AsOf: "2025-01-02", Evaluate: anyContext(eol), Rejudge: rejudgeWith(eol), Match: onlyPython}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{catalog.StatusEOL, catalog.StatusEOL, catalog.StatusCurrent} {
		d, err := st.HostDetail(ctx, Scope{}, fmt.Sprint("h", i))
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != want {
			t.Errorf("h%d status %s, want %s", i, d.Status, want)
		}
		if i < 2 && (len(d.Verdicts) != 1 || d.Verdicts[0].Product != "python") {
			t.Errorf("h%d verdicts %+v, want python alone (zlib no longer matches)", i, d.Verdicts)
		}
	}
	if got := countEvents(t, st) - before; got != 2 {
		t.Errorf("events = %d, want 2 (python turned eol on two hosts)", got)
	}
}

// TestSessionRevocations: a logged-out session stays refused (through a
// reopened store, as after a restart) until it would have expired anyway.
func TestSessionRevocations(t *testing.T) {
	ctx := context.Background()
	database, dir := testLocation(t)
	st, err := OpenDatabase(ctx, database, dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	st.now = func() time.Time { return now }
	if err := st.RevokeSession(ctx, "sess-1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeSession(ctx, "sess-1", now.Add(time.Hour)); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	st.Close()
	st, err = OpenDatabase(ctx, database, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for id, want := range map[string]bool{"sess-1": true, "sess-2": false} {
		if got, err := st.SessionRevoked(ctx, id); err != nil || got != want {
			t.Errorf("SessionRevoked(%s) = %t, %v; want %t", id, got, err, want)
		}
	}
	// Past its expiry the record is pruned by the next revocation.
	st.now = func() time.Time { return now.Add(2 * time.Hour) }
	if err := st.RevokeSession(ctx, "sess-3", now.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.SessionRevoked(ctx, "sess-1"); got {
		t.Error("an expired revocation was kept")
	}
	var stored string
	st.r.QueryRow(`SELECT id_hash FROM sessions_revoked`).Scan(&stored)
	if stored == "sess-3" {
		t.Error("the session id is stored in the clear")
	}
}

// TestDatabaseFilesPrivate: the database and its -wal and -shm files are
// 0600 even in a pre-existing world-readable directory, and a database
// left readable by an older version is made private when opened (issue 13,
// item 11).
func TestDatabaseFilesPrivate(t *testing.T) {
	if engine != sqldb.SQLite {
		t.Skip("files are SQLite's")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, name := range []string{FileName, FileName + "-wal", FileName + "-shm"} {
			st, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Errorf("%s: %v", when, err)
				continue
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s mode %v, want 0600", when, name, st.Mode().Perm())
			}
		}
	}
	ctx := context.Background()
	st, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Enroll(ctx, api.HostInfo{InstallID: "i", Hostname: "h"}); err != nil {
		t.Fatal(err)
	}
	check("new database")
	st.Close()
	for _, name := range []string{FileName, FileName + "-wal", FileName + "-shm"} {
		os.Chmod(filepath.Join(dir, name), 0o644)
	}
	st, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, _, err := st.Enroll(ctx, api.HostInfo{InstallID: "j", Hostname: "h"}); err != nil {
		t.Fatal(err)
	}
	check("database made readable by an older version")
}

// TestWriteHealth (both engines): a write that fails for want of disk makes Ping fail
// (readiness) and is a fault.InsufficientStorage; a write that works
// clears it, and without traffic Ping tries a write itself after
// writeRetryAfter.
func TestWriteHealth(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	now := time.Unix(1_800_000_000, 0)
	st.now = func() time.Time { return now }
	// full makes the database refuse to grow, as a full disk does: on
	// SQLite by capping its pages (SQLITE_FULL), on PostgreSQL by a
	// trigger raising its disk_full error (53100) on every meta write.
	full, free := func() {}, func() {}
	if engine == sqldb.Postgres {
		full = func() {
			for _, q := range []string{`CREATE OR REPLACE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$`,
				`CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE ON meta FOR EACH ROW EXECUTE FUNCTION disk_full()`} {
				if _, err := st.w.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
		}
		free = func() {
			if _, err := st.w.Exec(`DROP TRIGGER disk_full ON meta`); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		var pages int
		st.w.QueryRow(`PRAGMA page_count`).Scan(&pages)
		full = func() { st.w.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)) }
		free = func() { st.w.Exec(`PRAGMA max_page_count = 1073741823`) }
	}
	full()
	big := strings.Repeat("x", 1<<20)
	err := st.SetMeta(ctx, "big", big)
	if !fault.Is(err, fault.InsufficientStorage) {
		t.Fatalf("write on a full database: %v, want InsufficientStorage", err)
	}
	if err := st.Ping(ctx); err == nil {
		t.Error("Ping after a failed write: nil, want the failure")
	}
	// A constraint error says nothing about the disk.
	st.noteWrite(errors.New("UNIQUE constraint failed"))
	if err := st.Ping(ctx); err == nil {
		t.Error("Ping after an unrelated error: nil, want the disk failure still")
	}
	free()
	if err := st.Ping(ctx); err == nil {
		t.Error("Ping right after the failure: nil, want failing until a write works or the retry delay passes")
	}
	now = now.Add(writeRetryAfter)
	if err := st.Ping(ctx); err != nil {
		t.Errorf("Ping after the retry delay with room again: %v", err)
	}
	full()
	st.SetMeta(ctx, "big2", big)
	if st.Ping(ctx) == nil {
		t.Fatal("Ping after a second failure: nil")
	}
	free()
	if err := st.SetMeta(ctx, "small", "x"); err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Errorf("Ping after a write worked: %v", err)
	}
}
