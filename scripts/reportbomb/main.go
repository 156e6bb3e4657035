// Command reportbomb sends hostile agent reports to a running eolwatch
// server, for measuring what they cost the server (scripts/report-bomb.sh
// starts a server, runs this and reads the server's peak RSS).
//
//	reportbomb --server URL --enroll-secret S --kind item-bomb
//	reportbomb --server URL --enroll-secret S --kind million-items --concurrency 6
//
// item-bomb is a gzip body of about 32 KB that inflates to 11 million empty
// items (refused at the first: an item needs a source); valid-bomb is the
// same with 11 million copies of one valid item (refused at the 100,001st);
// million-items is a gzip body of about 2.6 MB holding a million small
// items; max-valid is a report at the limits that is accepted and stored:
// 100,000 distinct items of about 300 bytes (30 MB inflated). Each sender
// enrolls its own host first, so the attack is what any enrolled endpoint
// could do. It prints one line per report: the answer's status, the time to
// the answer and the body sizes.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "reportbomb:", err)
		os.Exit(1)
	}
}

func run() error {
	server := flag.String("server", "", "server base URL (required)")
	secret := flag.String("enroll-secret", "", "the server's enroll secret (required)")
	kind := flag.String("kind", "item-bomb", "item-bomb | valid-bomb | million-items | max-valid")
	n := flag.Int("concurrency", 1, "reports sent at once, one host each")
	flag.Parse()
	if *server == "" || *secret == "" {
		return fmt.Errorf("--server and --enroll-secret are required")
	}
	var items int
	var item string
	switch *kind {
	case "item-bomb":
		items, item = 11_000_000, `{}`
	case "valid-bomb":
		items, item = 11_000_000, `{"source":"dpkg","name":"x"}`
	case "million-items":
		items, item = 1_000_000, ""
	case "max-valid":
		items, item = api.MaxItems, "max"
	default:
		return fmt.Errorf("--kind %q: want item-bomb, valid-bomb, million-items or max-valid", *kind)
	}
	type sender struct {
		key  string
		host api.HostInfo
		body []byte
		raw  int
	}
	senders := make([]sender, *n)
	for i := range senders {
		h := api.HostInfo{InstallID: fmt.Sprintf("bomb-%d-%d", time.Now().UnixNano(), i), Hostname: fmt.Sprintf("bomb%d", i), OS: "linux", Arch: "amd64"}
		key, err := enroll(*server, *secret, h)
		if err != nil {
			return err
		}
		body, raw, err := report(h, items, item)
		if err != nil {
			return err
		}
		senders[i] = sender{key: key, host: h, body: body, raw: raw}
	}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range senders {
		wg.Go(func() {
			s := senders[i]
			t0 := time.Now()
			status, msg, err := post(*server+api.PathReport, s.key, s.body)
			if err != nil {
				msg = err.Error()
			}
			fmt.Printf("report %d: status %d after %.1fs (gzip %d bytes, inflated %d bytes): %s\n", i, status, time.Since(t0).Seconds(), len(s.body), s.raw, msg)
		})
	}
	wg.Wait()
	fmt.Printf("all %d answered within %.1fs\n", len(senders), time.Since(start).Seconds())
	return nil
}

// report builds the gzip body of a full report with items copies of item
// (item "" makes distinct small package items, "max" distinct items of
// about 300 bytes).
func report(h api.HostInfo, items int, item string) ([]byte, int, error) {
	head, err := json.Marshal(map[string]any{"report_id": "bomb-" + h.InstallID, "kind": "full",
		"collected_at": time.Now().UTC().Format(time.RFC3339), "host": h, "inventory_hash": "x"})
	if err != nil {
		return nil, 0, err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	cw := &countWriter{w: zw}
	cw.Write(head[:len(head)-1])
	cw.Write([]byte(`,"items":[`))
	for i := range items {
		if i > 0 {
			cw.Write([]byte{','})
		}
		if item == "max" {
			fmt.Fprintf(cw, `{"source":"dpkg","name":"package-%07d","version":"1:2.%d.%d-1+deb12u%d","arch":"amd64","publisher":"%s","summary":"%s %d"}`,
				i, i%97, i%13, i%7, pad[:60], pad[:150], i)
			continue
		}
		if item != "" {
			cw.Write([]byte(item))
			continue
		}
		cw.Write([]byte(`{"source":"x","name":"p` + strconv.Itoa(i) + `"}`))
	}
	cw.Write([]byte("]}"))
	if err := zw.Close(); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), cw.n, nil
}

// pad is filler text for max-valid items' publisher and summary.
var pad = strings.Repeat("Debian maintainers of a package with a long description ", 4)

type countWriter struct {
	w io.Writer
	n int
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	return c.w.Write(p)
}

func enroll(server, secret string, h api.HostInfo) (string, error) {
	b, _ := json.Marshal(api.EnrollRequest{EnrollSecret: secret, Host: h})
	resp, err := http.Post(server+api.PathEnroll, "application/json", bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("enroll: %w", err)
	}
	defer resp.Body.Close()
	var out api.EnrollResponse
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return "", fmt.Errorf("enroll: %s: %s", resp.Status, msg)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("enroll: %w", err)
	}
	return out.NodeKey, nil
}

func post(url, key string, body []byte) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp.StatusCode, string(bytes.TrimSpace(msg)), nil
}
