package catalogsvc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/notifier/events"
)

// SyncFeed fetches one endoflife.date-format feed (the extract's
// products.json or an API v1 product response) and applies it when it
// changed since the last snapshot: conditional GET with the stored ETag,
// then a content hash. The snapshot is stored with the events of the diff,
// so a restart neither loses nor repeats them. It returns the events
// emitted (none when the feed did not change). A feed that fails to load
// changes nothing.
func (s *Service) SyncFeed(ctx context.Context, url string) ([]events.Event, error) {
	var prev *Document
	s.mu.Lock()
	for i := range s.docs {
		if s.docs[i].Name == url && s.docs[i].Kind == DocFeed {
			d := s.docs[i]
			prev = &d
		}
	}
	s.mu.Unlock()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("feed %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	if prev != nil && prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified && prev != nil {
		s.log.Debug("catalog feed not modified", "url", url)
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil, fmt.Errorf("feed %s: HTTP %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("feed %s: read: %w", url, err)
	}
	if len(data) > MaxDocumentBytes {
		return nil, fmt.Errorf("feed %s: larger than %d bytes", url, MaxDocumentBytes)
	}
	sum := sha256.Sum256(data)
	if prev != nil && prev.Hash == hex.EncodeToString(sum[:]) {
		s.log.Debug("catalog feed unchanged", "url", url)
		return nil, nil
	}
	if _, err := catalog.Parse(url, data); err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	return s.applyDocument(ctx, Document{Name: url, Kind: DocFeed, Data: data, ETag: resp.Header.Get("ETag")})
}
