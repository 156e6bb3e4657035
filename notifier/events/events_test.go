package events

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzEventJSON checks that the payload encoder writes what json.Marshal
// writes for any text.
func FuzzEventJSON(f *testing.F) {
	f.Add("openssl", "3.0", "host <a&b>", "naïve \u2028 \"q\" \\ \x00", int64(1741064767891), 30, "The catalog data is 101 days old.", "debian")
	f.Add("p", "", "", string([]byte{0xe2, 0x80}), int64(0), 0, "", "")
	f.Fuzz(func(t *testing.T, product, cycle, host, reason string, ms int64, days int, warning, maintainer string) {
		ev := Event{Kind: KindFleet, Product: product, Cycle: cycle, Host: host, HostID: host, Reason: reason, Days: days,
			HostKind: maintainer, Maintainer: maintainer, CatalogDate: cycle, Created: time.UnixMilli(ms).UTC()}
		if warning != "" {
			ev.Warnings = []string{warning, reason}
		}
		want, wantErr := json.Marshal(ev)
		got, err := appendEventJSON(nil, &ev, ev.Created)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("appendEventJSON error = %v, json.Marshal error = %v", err, wantErr)
		}
		if err == nil && string(got) != string(want) {
			t.Fatalf("appendEventJSON(%+v)\n got %s\nwant %s", ev, got, want)
		}
	})
}
