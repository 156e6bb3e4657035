package loadtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/match"
)

// standIn is a strict fake of the agent API: it decodes every body with
// unknown fields refused, checks gzip, auth and the report rules, and
// records what it saw. The real server is exercised in server_test.go.
type standIn struct {
	mu      sync.Mutex
	keys    map[string]string // node key → install id
	hashes  map[string]string // install id → hash of the last full report
	full    int
	checkin int
	elig    int
	bad     []string
}

func (s *standIn) fail(w http.ResponseWriter, format string, args ...any) {
	s.bad = append(s.bad, fmt.Sprintf(format, args...))
	http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body := io.Reader(r.Body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			s.fail(w, "gzip: %v", err)
			return
		}
		body = zr
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == api.PathEnroll:
		var req api.EnrollRequest
		if err := dec.Decode(&req); err != nil || req.EnrollSecret != "Fk3q9ZtVx2LmW7pR" || req.Host.InstallID == "" || req.Host.OSID == "" {
			s.fail(w, "enroll: %v %+v", err, req)
			return
		}
		key := "key-" + req.Host.InstallID
		s.keys[key] = req.Host.InstallID
		json.NewEncoder(w).Encode(api.EnrollResponse{HostID: "h-" + req.Host.InstallID, NodeKey: key})
	case r.Method == http.MethodPost && r.URL.Path == api.PathReport:
		id, ok := s.keys[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if !ok {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		var rep api.Report
		if err := dec.Decode(&rep); err != nil || rep.ReportID == "" || rep.Host.InstallID != id || rep.InventoryHash == "" {
			s.fail(w, "report: %v", err)
			return
		}
		switch rep.Kind {
		case api.ReportFull:
			if len(rep.Items) == 0 {
				s.fail(w, "full report without items")
				return
			}
			for _, it := range rep.Items {
				if it.Source == "" || it.Name == "" || it.Version == "" {
					s.fail(w, "item %+v", it)
					return
				}
			}
			s.hashes[id] = rep.InventoryHash
			s.full++
		case api.ReportCheckin:
			if len(rep.Items) != 0 {
				s.fail(w, "check-in with items")
				return
			}
			s.checkin++
			if s.hashes[id] != rep.InventoryHash {
				json.NewEncoder(w).Encode(api.ReportResponse{Accepted: true, NeedFull: true, HostID: "h-" + id})
				return
			}
		default:
			s.fail(w, "kind %q", rep.Kind)
			return
		}
		json.NewEncoder(w).Encode(api.ReportResponse{Accepted: true, HostID: "h-" + id})
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/eligibility":
		q := r.URL.Query()
		if r.Header.Get("Authorization") != "Bearer tok" || q.Get("product") == "" || (q.Get("version") == "") == (q.Get("host") == "") {
			s.fail(w, "eligibility %s", r.URL.RawQuery)
			return
		}
		s.elig++
		json.NewEncoder(w).Encode(api.Eligibility{Product: q.Get("product"), Status: "current", Support: "supported"})
	default:
		s.fail(w, "unexpected %s %s", r.Method, r.URL.Path)
	}
}

func TestRunAgainstStandIn(t *testing.T) {
	si := &standIn{keys: map[string]string{}, hashes: map[string]string{}}
	srv := httptest.NewServer(si)
	defer srv.Close()
	var progress bytes.Buffer
	res, err := Run(context.Background(), Config{Server: srv.URL, EnrollSecret: "Fk3q9ZtVx2LmW7pR", Hosts: 30, Items: 200, Concurrency: 4,
		Checkins: 2, Eligibility: 40, Token: "tok", Seed: 7, Progress: &progress})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(si.bad) > 0 {
		t.Fatalf("the stand-in refused requests: %v", si.bad)
	}
	if si.full != 30 || si.checkin != 60 || si.elig != 40 {
		t.Errorf("stand-in saw %d full, %d check-ins, %d eligibility; want 30, 60, 40", si.full, si.checkin, si.elig)
	}
	for _, name := range []string{"enroll", "full", "checkin", "eligibility"} {
		p := res.Phase(name)
		if p.Requests == 0 || p.Errors != 0 || p.P50 <= 0 || p.P99 < p.P50 || p.Max < p.P99 || p.PerSecond <= 0 {
			t.Errorf("phase %s = %+v, want requests, no errors and ordered percentiles", name, p)
		}
	}
	if got := res.Phase("full").Items; got != 30*200 {
		t.Errorf("full phase sent %d items, want %d", got, 30*200)
	}
	var out bytes.Buffer
	res.Print(&out)
	if !strings.Contains(out.String(), "eligibility") || !strings.Contains(progress.String(), "checkin:") {
		t.Errorf("Print/progress output missing phases:\n%s\n%s", out.String(), progress.String())
	}
}

func TestRunCountsFailures(t *testing.T) {
	si := &standIn{keys: map[string]string{}, hashes: map[string]string{}}
	srv := httptest.NewServer(si)
	defer srv.Close()
	res, err := Run(context.Background(), Config{Server: srv.URL, EnrollSecret: "wrong", Hosts: 5, Items: 10, Concurrency: 2, Seed: 1})
	if err == nil || !strings.Contains(err.Error(), "enrollment") {
		t.Errorf("Run with a wrong secret = %v, want an error about enrollment", err)
	}
	if p := res.Phase("enroll"); p.Errors != 5 || !strings.Contains(p.FirstError, "400") {
		t.Errorf("enroll phase = %+v, want 5 errors naming the status", p)
	}
}

func TestGenerator(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	g := NewGenerator(nil, 300, cat, 42)
	a, ha := g.Inventory(3, 0)
	b, hb := g.Inventory(3, 0)
	if len(a) != 300 || ha != hb || hashItems(b) != ha {
		t.Fatalf("Inventory is not deterministic or not 300 items: %d, %s vs %s", len(a), ha, hb)
	}
	if _, hc := g.Inventory(3, 1); hc == ha {
		t.Error("a changed inventory has the same hash")
	}
	names := map[string]bool{}
	for _, it := range a {
		if names[it.Name] {
			t.Errorf("duplicate item name %q", it.Name)
		}
		names[it.Name] = true
	}
	// Verdicts must vary across the fleet: count distinct statuses.
	m := match.New(cat)
	statuses := map[string]bool{}
	products := 0
	for i := 0; i < 40; i++ {
		items, _ := g.Inventory(i, 0)
		for _, it := range items {
			if r, ok := m.Match(it); ok {
				products++
				statuses[cat.Evaluate(r.Product, r.Version, timeZero, catalog.DefaultPolicy()).Status] = true
			}
		}
	}
	if len(statuses) < 3 || products < 40*5 {
		t.Errorf("40 hosts: %d matched items, statuses %v; want at least 5 matched per host and 3 different statuses", products, statuses)
	}
	if h := g.Host(3); h.InstallID == g.Host(4).InstallID || h.OSID == "" {
		t.Errorf("Host(3) = %+v", h)
	}
}

func TestParseDpkgList(t *testing.T) {
	items, err := ParseDpkgList(strings.NewReader("bash\t5.2.15-2+b8\tbash\nlibssl3\t3.0.19-1~deb12u2\topenssl\nold-conf\t\t\n"))
	if err != nil || len(items) != 2 || items[1].SourcePkg != "openssl" || items[0].SourcePkg != "" {
		t.Errorf("ParseDpkgList = %+v, %v", items, err)
	}
	if _, err := ParseDpkgList(strings.NewReader("just-a-name\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("ParseDpkgList(bad) error = %v, want one naming line 1", err)
	}
}
