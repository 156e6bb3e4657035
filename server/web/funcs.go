package web

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/contract"
)

// fieldLimits are the byte limits of the forms' text fields whose values
// the domain service checks, by "form.field": the service's own constants,
// so a form's maxlength (the maxlen helper) and its check before asking
// can never disagree with the service's answer.
var fieldLimits = map[string]int{
	"ticket.customer":  api.MaxCustomerLen,
	"ticket.host":      api.MaxHostLen,
	"ticket.product":   api.MaxProductLen,
	"ticket.version":   api.MaxVersionLen,
	"ticket.at":        api.MaxAtLen,
	"customer.name":    contract.MaxNameLen,
	"customer.sold_by": contract.MaxNameLen,
}

// maxlen is the limit of a form's field ("ticket.product"); a field
// without one is a template error, not a form without a limit.
func maxlen(field string) (int, error) {
	n, ok := fieldLimits[field]
	if !ok {
		return 0, fmt.Errorf("maxlen: no limit for field %q", field)
	}
	return n, nil
}

// funcs are the template helpers.
var funcs = template.FuncMap{
	"maxlen":      maxlen,
	"statusLabel": statusLabel,
	"thousands":   thousands,
	"date":        fmtDate,
	"datetime":    fmtDateTime,
	"ago":         ago,
	"milestone":   milestone,
	"cdate":       func(d catalog.Date) string { return fmtDate(d.Time) },
	"eolValue":    eolValue,
	"pct": func(n, total int) string {
		if total == 0 {
			return "0%"
		}
		return fmt.Sprintf("%.0f%%", float64(n)*100/float64(total))
	},
	"perPages": func() []int { return []int{25, 50, 100, 200} },
	"join":     strings.Join,
	"contains": strings.Contains,
	"has":      slices.Contains[[]string],
	"duration": humanDuration,
	"daysText": daysText,
	"upper":    strings.ToUpper,
	"add":      func(a, b int) int { return a + b },
	"unsupported": func(status string) bool {
		return status == catalog.StatusEOL || status == catalog.StatusUnknownVersion
	},
}

// statusLabel is the human spelling of a verdict status.
func statusLabel(s string) string {
	switch s {
	case catalog.StatusEOL:
		return "end of life"
	case catalog.StatusUnknownVersion:
		return "unknown version"
	case catalog.StatusUnknownProduct:
		return "unknown product"
	case catalog.StatusPatchOverdue:
		return "patch overdue"
	case catalog.StatusEOLSoon:
		return "eol soon"
	case catalog.StatusPatchAvailable:
		return "patch available"
	case catalog.StatusCurrent:
		return "current"
	case "", "none":
		return "no product matched"
	}
	return s
}

func fmtDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(time.DateOnly)
}

func fmtDateTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// ago says how long before now t was, coarsely ("3 h ago").
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// milestone prints an end-of-phase value: its date, "ended", "no date yet",
// or "—" when the catalog has no such phase.
func milestone(m catalog.Milestone) string {
	switch {
	case !m.Set:
		return "—"
	case !m.Date.IsZero():
		return fmtDate(m.Date.Time)
	case m.Ended:
		return "ended"
	}
	return "no end date yet"
}

// eolValue prints a verdict's EOL field: a date string or true/false.
func eolValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		return x
	case bool:
		if x {
			return "ended (date unknown)"
		}
		return "no end date yet"
	case catalog.Date:
		return fmtDate(x.Time)
	case time.Time:
		return fmtDate(x)
	}
	return fmt.Sprint(v)
}

// humanDuration prints a threshold such as 72h as "3 days".
func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return d.String()
}

// daysText says how far an end-of-life date is: "in 46 days", "today",
// "ended 343 days ago".
func daysText(p *int) string {
	if p == nil {
		return ""
	}
	switch d := *p; {
	case d == 0:
		return "last supported day today"
	case d == 1:
		return "in 1 day"
	case d > 1:
		return fmt.Sprintf("in %d days", d)
	case d == -1:
		return "ended yesterday"
	default:
		return fmt.Sprintf("ended %d days ago", -d)
	}
}
