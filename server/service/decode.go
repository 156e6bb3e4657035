package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/intake"
	"github.com/eolwatch/eolwatch/server/api"
)

// ItemCharge is the memory an inventory item holds beyond its bytes on the
// wire, charged to the report budget for each item decoded: its struct
// (twice, for the items slice's growth), its matched copy, its software key
// and its share of the store's diff. The live heap of a report at the
// limits measured 1.4–2.0 KB an item whatever the item's length, on SQLite
// and PostgreSQL (server's TestReportChargeCoversLiveMemory keeps this
// true).
const ItemCharge = 2048

// DecodeOptions are the checks DecodeReport runs while it reads.
type DecodeOptions struct {
	// CheckHost is called with the report's host block as soon as it is
	// read and validated, before any item is read; its error ends decoding
	// (a report for another host is refused before its items cost anything).
	CheckHost func(api.HostInfo) error
	// Charge is called with ItemCharge for each item decoded (the report
	// budget: intake.Body.Charge); its error ends decoding. Optional.
	Charge func(n int64) error
}

// DecodeReport reads one report from rd as a stream and validates it as it
// goes, so that every limit holds while decoding rather than after: the
// host block must come before the items and is checked (CheckHost) when
// read; each item is validated (every field's bytes, control characters)
// when decoded, and the MaxItems+1st item ends decoding with a
// fault.TooLarge. Unknown and repeated fields, malformed JSON and trailing
// data are refused. The result has passed CheckReport.
func DecodeReport(rd io.Reader, opt DecodeOptions) (api.Report, error) {
	var rep api.Report
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := expectDelim(dec, '{', ""); err != nil {
		return rep, err
	}
	seen := map[string]bool{}
	hostChecked := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return rep, intake.DecodeError(err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return rep, fault.Invalidf(key, "field %q appears twice", key)
		}
		seen[key] = true
		switch key {
		case "report_id":
			err = decodeField(dec, key, &rep.ReportID)
		case "kind":
			err = decodeField(dec, key, &rep.Kind)
		case "collected_at":
			err = decodeField(dec, key, &rep.CollectedAt)
		case "inventory_hash":
			err = decodeField(dec, key, &rep.InventoryHash)
		case "host":
			if err = decodeField(dec, key, &rep.Host); err != nil {
				break
			}
			if err = CheckHostInfo("host", rep.Host); err != nil {
				break
			}
			if opt.CheckHost != nil {
				err = opt.CheckHost(rep.Host)
			}
			hostChecked = err == nil
		case "items":
			if !hostChecked {
				return rep, fault.Invalidf("items", "items come before the host block: send host first")
			}
			if rep.Kind == api.ReportCheckin {
				return rep, fault.Invalidf("items", "a check-in carries no items: send kind \"full\"")
			}
			rep.Items, err = decodeItems(dec, opt.Charge)
		case "errors":
			rep.Errors, err = decodeErrors(dec)
		default:
			return rep, fault.Invalidf(key, "unknown field %q", key)
		}
		if err != nil {
			return rep, err
		}
	}
	if err := expectDelim(dec, '}', ""); err != nil {
		return rep, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return rep, intake.DecodeError(err)
		}
		return rep, fault.Invalidf("", "unexpected data after the JSON value")
	}
	if !seen["host"] {
		return rep, fault.Invalidf("host.install_id", "host.install_id is required")
	}
	return rep, CheckReport(&rep)
}

// decodeField decodes the value of the field key into v.
func decodeField(dec *json.Decoder, key string, v any) error {
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			f := key
			if typ.Field != "" {
				f = key + "." + typ.Field
			}
			return fault.Invalidf(f, "field %q: want %s, got JSON %s", f, typ.Type, typ.Value)
		}
		var perr *time.ParseError
		if errors.As(err, &perr) {
			return fault.Invalidf(key, "field %q: %v", key, err)
		}
		err = intake.DecodeError(err)
		if fe, ok := fault.As(err); ok && fe.Field != "" && fe.Field != "body" && fe.Code == fault.Invalid {
			fe.Field = key + "." + fe.Field
		}
		return err
	}
	return nil
}

// expectDelim reads the next token and checks that it is d ('{', '}', '[' or ']').
func expectDelim(dec *json.Decoder, d json.Delim, field string) error {
	tok, err := dec.Token()
	if err != nil {
		return intake.DecodeError(err)
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		what := "a JSON object"
		if d == '[' {
			what = "a JSON array"
		}
		if field == "" {
			return fault.Invalidf("body", "want %s, got %v", what, tok)
		}
		return fault.Invalidf(field, "field %q: want %s, got %v", field, what, tok)
	}
	return nil
}

// openArray reads the '[' that opens the array of field: ok is false, with
// no error, for a null (no elements), and with an error naming the field
// for anything else.
func openArray(dec *json.Decoder, field string) (ok bool, err error) {
	tok, err := dec.Token()
	if err != nil {
		return false, intake.DecodeError(err)
	}
	if tok == nil {
		return false, nil
	}
	if d, isDelim := tok.(json.Delim); !isDelim || d != '[' {
		return false, fault.Invalidf(field, "field %q: want a JSON array, got %v", field, tok)
	}
	return true, nil
}

// decodeItems reads the items array one item at a time, validating each
// and charging ItemCharge for it; null is no items.
func decodeItems(dec *json.Decoder, charge func(int64) error) ([]api.Item, error) {
	if ok, err := openArray(dec, "items"); !ok {
		return nil, err
	}
	var items []api.Item
	for dec.More() {
		n := len(items)
		if n == api.MaxItems {
			return nil, fault.New(fault.TooLarge, "items", "more than %d items: at most %d per report", api.MaxItems, api.MaxItems)
		}
		if charge != nil {
			if err := charge(ItemCharge); err != nil {
				return nil, err
			}
		}
		if n == cap(items) { // double (append grows large slices by 1.25, copying far more in all)
			items = append(make([]api.Item, 0, min(max(2*n, 64), api.MaxItems)), items...)
		}
		items = items[:n+1]
		prefix := fmt.Sprintf("items[%d]", n)
		if err := decodeField(dec, prefix, &items[n]); err != nil {
			return nil, err
		}
		if err := checkItem(prefix+".", &items[n]); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, intake.DecodeError(err)
	}
	return items, nil
}

// maxCollectorErrors bounds the collector errors kept from one report;
// more are read and dropped.
const maxCollectorErrors = 1000

// decodeErrors reads the collector errors, keeping the first
// maxCollectorErrors; null is none.
func decodeErrors(dec *json.Decoder) ([]api.CollectorError, error) {
	if ok, err := openArray(dec, "errors"); !ok {
		return nil, err
	}
	var out []api.CollectorError
	for i := 0; dec.More(); i++ {
		var ce api.CollectorError
		if err := decodeField(dec, fmt.Sprintf("errors[%d]", i), &ce); err != nil {
			return nil, err
		}
		if len(out) < maxCollectorErrors {
			out = append(out, ce)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, intake.DecodeError(err)
	}
	return out, nil
}
