package agent

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

// ErrUnauthorized is a 401 from the server: the node key is unknown or
// revoked, and the agent must enroll again.
var ErrUnauthorized = errors.New("server rejected the node key (401)")

// HTTPError is a non-2xx answer other than 401.
type HTTPError struct {
	Status int
	Msg    string
}

func (e *HTTPError) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("server answered %d", e.Status)
	}
	return fmt.Sprintf("server answered %d: %s", e.Status, e.Msg)
}

// Permanent reports whether retrying the same request cannot succeed
// (a 4xx other than 408 and 429).
func (e *HTTPError) Permanent() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

// Client talks to the eolwatch server's agent API.
type Client struct {
	base string
	hc   *http.Client
	ua   string
}

// NewClient builds a client for cfg.Server with cfg.TLS: the system roots
// unless a CA file is given, and an optional client certificate.
func NewClient(cfg *Config) (*Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLS.ServerName}
	if cfg.TLS.CAFile != "" {
		pem, err := os.ReadFile(cfg.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: %s holds no PEM certificate", cfg.TLS.CAFile)
		}
		tc.RootCAs = pool
	}
	if cfg.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.MaxIdleConns = 1
	tr.IdleConnTimeout = 30 * time.Second
	timeout := cfg.RequestTimeout
	if timeout == 0 {
		timeout = DefaultRequestTimeout
	}
	return &Client{
		base: strings.TrimRight(cfg.Server, "/"),
		hc:   &http.Client{Transport: tr, Timeout: timeout},
		ua:   "eolwatch-agent/" + Version,
	}, nil
}

// Enroll exchanges the enroll secret for a node key. previous is the node
// key the agent had for this server ("" for none): the proof that lets an
// enrolled host enroll again at once; without it the server keeps the
// request pending an admin's approval (Status api.EnrollPending).
func (c *Client) Enroll(ctx context.Context, secret string, host api.HostInfo, previous string) (api.EnrollResponse, error) {
	var out api.EnrollResponse
	body, err := json.Marshal(api.EnrollRequest{EnrollSecret: secret, Host: host, NodeKey: previous})
	if err != nil {
		return out, err
	}
	if err := c.post(ctx, api.PathEnroll, "", body, false, &out); err != nil {
		return out, fmt.Errorf("enroll: %w", err)
	}
	if out.NodeKey == "" && out.Status != api.EnrollPending {
		return out, errors.New("enroll: server answered without a node key")
	}
	return out, nil
}

// Report sends r, gzip-compressed, authenticated with nodeKey.
func (c *Client) Report(ctx context.Context, nodeKey string, r *api.Report) (api.ReportResponse, error) {
	var out api.ReportResponse
	body, err := json.Marshal(r)
	if err != nil {
		return out, err
	}
	if err := c.post(ctx, api.PathReport, nodeKey, body, true, &out); err != nil {
		return out, fmt.Errorf("report: %w", err)
	}
	return out, nil
}

func (c *Client) post(ctx context.Context, path, nodeKey string, body []byte, compress bool, out any) error {
	var rd io.Reader = bytes.NewReader(body)
	if compress {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		zw.Write(body)
		if err := zw.Close(); err != nil {
			return err
		}
		rd = &buf
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if compress {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if nodeKey != "" {
		req.Header.Set("Authorization", "Bearer "+nodeKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := readAllLimited(resp.Body, 1<<20)
	if err != nil {
		return fmt.Errorf("reading answer: %w", err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return ErrUnauthorized
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e api.Error
		_ = json.Unmarshal(b, &e)
		msg := e.Error
		if e.Field != "" {
			msg += " (field " + e.Field + ")"
		}
		if msg == "" {
			msg = truncate(strings.TrimSpace(string(b)), 200)
		}
		return &HTTPError{Status: resp.StatusCode, Msg: msg}
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decoding answer: %w", err)
		}
	}
	return nil
}
