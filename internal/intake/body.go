package intake

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/eolwatch/eolwatch/internal/fault"
)

// Limits bound one body.
type Limits struct {
	// Bytes bounds the body on the wire and, when it is gzip-encoded,
	// again after decompression.
	Bytes int64
	// Gzip accepts Content-Encoding: gzip.
	Gzip bool
	// Types are the accepted media types besides application/json (a
	// missing Content-Type is accepted too).
	Types []string
}

// A Body takes bytes from its Budget ahead of need, in steps that double
// from minStep up to maxStep, so that small reads do not each lock the
// budget and a small body holds little.
const (
	minStep = 16 << 10
	maxStep = 1 << 20
)

// Body is a request body being read within its limits. Every byte read is
// charged to the budget, as is what the reader declares with Charge; Close
// gives it all back. A Body is used by one goroutine.
type Body struct {
	ctx    context.Context
	rd     io.Reader
	budget *Budget
	closer func()
	held   int64 // taken from the budget (changed under the budget's lock)
	used   int64 // charged so far (<= held)

	// Deadlock breaking (Budget.breakDeadlock), under the budget's lock:
	// seq orders bodies by age, abort is closed when this body is chosen.
	seq     uint64
	abort   chan struct{}
	aborted bool
}

// Open checks the request's content type and encoding and returns its body
// bounded by lim and charged to budget (nil: not charged). The caller must
// Close it once the decoded body is no longer held (after it is stored).
func Open(w http.ResponseWriter, r *http.Request, lim Limits, budget *Budget) (*Body, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		ok := err == nil && mt == "application/json"
		for _, t := range lim.Types {
			ok = ok || (err == nil && mt == t)
		}
		if !ok {
			want := strings.Join(append([]string{"application/json"}, lim.Types...), " or ")
			return nil, fault.New(fault.Unsupported, "", "content type %q: want %s", ct, want)
		}
	}
	var rd io.Reader = http.MaxBytesReader(w, r.Body, lim.Bytes)
	closer := func() {}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		if !lim.Gzip {
			return nil, fault.New(fault.Unsupported, "", "content encoding gzip is not accepted here")
		}
		zr, err := gzip.NewReader(rd)
		if err != nil {
			if errors.As(err, new(*http.MaxBytesError)) {
				return nil, DecodeError(err)
			}
			return nil, fault.Invalidf("", "body is not valid gzip: %w", err)
		}
		rd, closer = &limitedReader{r: zr, n: lim.Bytes, limit: lim.Bytes}, func() { zr.Close() }
	default:
		return nil, fault.New(fault.Unsupported, "", "content encoding %q: want gzip or none", enc)
	}
	b := budget.Reader(r.Context(), rd)
	b.closer = closer
	return b, nil
}

// Reader returns rd as a Body charged to b (a nil b charges nothing), for
// a body opened by other means.
func (b *Budget) Reader(ctx context.Context, rd io.Reader) *Body {
	body := &Body{ctx: ctx, rd: rd, budget: b, closer: func() {}, abort: make(chan struct{})}
	if b != nil {
		body.seq = b.seq.Add(1)
	}
	return body
}

// Read reads from the body and charges what it read.
func (b *Body) Read(p []byte) (int, error) {
	n, err := b.rd.Read(p)
	if n > 0 {
		if cerr := b.Charge(int64(n)); cerr != nil {
			return 0, cerr
		}
	}
	return n, err
}

// Charge declares n more bytes held because of this body (the decoded
// form of an element beyond its bytes on the wire), waiting for the budget
// as Read does. It fails with ErrBusy when the budget stays spent, and at
// once with ErrOverBudget when this body alone would hold more than the
// whole budget (waiting could never make it fit).
func (b *Body) Charge(n int64) error {
	b.used += n
	if b.budget == nil || b.used <= b.held {
		return nil
	}
	if b.used > b.budget.total {
		b.used -= n
		return ErrOverBudget
	}
	need := max(b.used-b.held, min(max(b.held, minStep), maxStep))
	if need > b.budget.total-b.held {
		need = b.used - b.held // near the whole budget: take no more than needed
	}
	if err := b.budget.acquire(b.ctx, b, need); err != nil {
		b.used -= n
		return err
	}
	return nil
}

// Charged is how many bytes the body has charged so far.
func (b *Body) Charged() int64 { return b.used }

// Close gives the body's bytes back to the budget. It is safe to call more
// than once.
func (b *Body) Close() error {
	if b.budget != nil {
		b.budget.release(b)
	}
	b.used = 0
	b.closer()
	b.closer = func() {}
	return nil
}

// limitedReader fails (rather than truncating) past limit bytes; n is
// what is left.
type limitedReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// One more byte would exceed the limit: check whether there is one.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, fault.New(fault.TooLarge, "", "decompressed body larger than %d bytes", l.limit)
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// DecodeError turns a failure met while reading or decoding a JSON body
// into a *fault.Error saying what is wrong, naming the field when the JSON
// names one and "body" when the body is not JSON at all. A *fault.Error
// (a limit, the budget) is returned as it is.
func DecodeError(err error) error {
	if _, ok := fault.As(err); ok {
		return err
	}
	var mbe *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return fault.New(fault.TooLarge, "", "body larger than %d bytes", mbe.Limit)
	case errors.Is(err, io.EOF):
		return fault.Invalidf("", "empty body: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fault.Invalidf("", "truncated body: the JSON ends early")
	case errors.As(err, &syn):
		return fault.Invalidf("body", "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		return fault.Invalidf(typ.Field, "field %q: want %s, got JSON %s", typ.Field, typ.Type, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fault.Invalidf(f, "unknown field %q", f)
	case strings.Contains(err.Error(), "gzip") || strings.Contains(err.Error(), "flate") || strings.Contains(err.Error(), "checksum"):
		return fault.Invalidf("", "body is not valid gzip: %w", err)
	}
	return fault.Invalidf("", "bad request body: %w", err)
}
