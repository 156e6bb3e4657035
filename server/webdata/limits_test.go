package webdata

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/web"
)

// TestTicketFormLimitsAreTheService's: the dashboard's ticket-check form
// offers, as each text input's maxlength, exactly the limit the real
// domain service enforces for that field (api.Max*Len): a value of that
// many bytes is not refused for its length, one byte more is refused with
// an error naming the field and the limit — by the service when asked
// directly, and by the page, at that input, when submitted through the form.
func TestTicketFormLimitsAreTheService(t *testing.T) {
	e := newRealEnv(t, 3)
	ctx := t.Context()
	if _, err := e.b.CreateCustomer(ctx, api.CustomerSpec{Name: "Acme", Tier: "premium", ContractStart: "2020-01-01", ContractEnd: "2099-12-31"}); err != nil {
		t.Fatal(err)
	}
	br := e.as(t, auth.RoleSupport)
	code, page := br.Get(t, "/eligibility")
	if code != http.StatusOK {
		t.Fatalf("GET /eligibility = %d", code)
	}
	maxlength := map[string]int{}
	for _, m := range regexp.MustCompile(`<input id="e-[a-z]+" name="([a-z_]+)"[^>]*? maxlength="(\d+)"`).FindAllStringSubmatch(page, -1) {
		n, _ := strconv.Atoi(m[2])
		maxlength[m[1]] = n
	}
	want := map[string]int{"customer": api.MaxCustomerLen, "host": api.MaxHostLen, "product": api.MaxProductLen, "version": api.MaxVersionLen, "at": api.MaxAtLen}
	if len(maxlength) != len(want) {
		t.Errorf("the form's text inputs with a maxlength: %v, want %v", maxlength, want)
	}
	py := e.cats.Current().Product("python").Cycles[0].Latest
	// q is a valid question with field set to n bytes.
	q := func(field string, n int) web.TicketQuery {
		tq := web.TicketQuery{Customer: "Acme", Product: "python", Version: py, Severity: "1"}
		switch field {
		case "customer":
			tq.Customer = strings.Repeat("c", n)
		case "host":
			tq.Customer, tq.Version, tq.Host = "", "", strings.Repeat("h", n)
		case "product":
			tq.Product = strings.Repeat("p", n)
		case "version":
			tq.Version = strings.Repeat("1", n)
		case "at":
			tq.At = "2026-01-15T10:00:00." + strings.Repeat("0", n-len("2026-01-15T10:00:00.Z")) + "Z"
		}
		return tq
	}
	for field, limit := range want {
		t.Run(field, func(t *testing.T) {
			if maxlength[field] != limit {
				t.Errorf("maxlength of %s = %d, the service's limit is %d", field, maxlength[field], limit)
			}
			n := maxlength[field]
			if _, err := e.b.TicketCheck(ctx, q(field, n)); err != nil && strings.Contains(err.Error(), "at most") {
				t.Errorf("the service refuses a %s of the form's maxlength (%d bytes): %v", field, n, err)
			}
			_, err := e.b.TicketCheck(ctx, q(field, n+1))
			if fe, ok := fault.As(err); !ok || fe.Code != fault.Invalid || fe.Field != field || !strings.Contains(fe.Msg, "at most "+strconv.Itoa(n)) {
				t.Errorf("the service's answer to a %s of %d bytes: %v, want invalid naming %s and at most %d", field, n+1, err, field, n)
			}
			long := q(field, n+1)
			v := url.Values{"customer": {long.Customer}, "host": {long.Host}, "product": {long.Product}, "version": {long.Version}, "severity": {long.Severity}, "at": {long.At}}
			code, body := br.Get(t, "/eligibility?"+v.Encode())
			msg := field + " is " + strconv.Itoa(n+1) + " bytes long, at most " + strconv.Itoa(n)
			if code != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), msg) ||
				!regexp.MustCompile(`name="`+field+`"[^>]*aria-invalid="true"`).MatchString(body) {
				t.Errorf("the form with a %s of %d bytes = %d, want 400 with %q at that input", field, n+1, code, msg)
			}
		})
	}
}
