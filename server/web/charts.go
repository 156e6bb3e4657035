package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The charts are inline SVG drawn by the server: the geometry is computed
// here and the templates only print numbers and escaped text.

// bar is one value of a bar chart.
type bar struct {
	Label string
	Value int
	Class string // CSS class giving the fill colour
}

// barRow is a bar with its geometry in the chart's viewBox.
type barRow struct {
	bar
	Y, W, TextY, ValueX int
	Value               string
	Short               string // the label cut to fit the label column
}

// barChart is a horizontal bar chart.
type barChart struct {
	Title  string
	Desc   string // the numbers as one sentence, for screen readers
	Rows   []barRow
	Width  int
	Height int
	LabelW int // the label column; bars start here
	LabelX int // right edge of the labels
	Empty  bool
}

const (
	chartW     = 520
	chartLabel = 150
	barH       = 20
	barGap     = 8
)

func newBarChart(title string, bars []bar) barChart {
	c := barChart{Title: title, Width: chartW, LabelW: chartLabel, LabelX: chartLabel - 8}
	maxV := 0
	for _, b := range bars {
		maxV = max(maxV, b.Value)
	}
	c.Empty = maxV == 0
	area := chartW - chartLabel - 70
	var desc []string
	for i, b := range bars {
		w := 0
		if maxV > 0 {
			w = b.Value * area / maxV
			if b.Value > 0 && w < 2 {
				w = 2
			}
		}
		y := i*(barH+barGap) + 4
		short := b.Label
		if r := []rune(short); len(r) > 20 {
			short = string(r[:19]) + "…"
		}
		c.Rows = append(c.Rows, barRow{bar: b, Y: y, W: w, TextY: y + barH/2 + 5, ValueX: chartLabel + w + 6, Value: thousands(b.Value), Short: short})
		desc = append(desc, fmt.Sprintf("%s: %s", b.Label, thousands(b.Value)))
	}
	c.Height = len(bars)*(barH+barGap) + 4
	c.Desc = strings.Join(desc, "; ")
	return c
}

// timelineItem is an upcoming end of life placed on the timeline.
type timelineItem struct {
	UpcomingEOL
	Days         int
	X, Y, TextX  int
	TextY        int
	Anchor       string // text-anchor: start or end
	Text         string
	Link         string
	DateText     string
	DayText      string
	Class        string
	ShownInChart bool
}

type timelineTick struct {
	X     int
	Label string
}

// timeline places upcoming end-of-life dates on an axis from today to +days.
type timeline struct {
	Days   int
	Items  []timelineItem
	Chart  []timelineItem // the ones drawn (at most timelineMax)
	Ticks  []timelineTick
	Width  int
	Height int
	AxisY  int
	X0, X1 int
}

const timelineMax = 12

func newTimeline(now time.Time, days int, up []UpcomingEOL) timeline {
	t := timeline{Days: days, Width: 1000, X0: 24, X1: 976, AxisY: 24}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	xOf := func(d int) int { return t.X0 + d*(t.X1-t.X0)/days }
	for d := 0; d <= days; d += 30 {
		label := "today"
		if d > 0 {
			label = today.AddDate(0, 0, d).Format("Jan 2")
		}
		t.Ticks = append(t.Ticks, timelineTick{X: xOf(d), Label: label})
	}
	for _, u := range up {
		eol := time.Date(u.EOL.Year(), u.EOL.Month(), u.EOL.Day(), 0, 0, 0, 0, time.UTC)
		d := int(eol.Sub(today).Hours() / 24)
		if d < 0 || d > days {
			continue
		}
		it := timelineItem{UpcomingEOL: u, Days: d, DateText: eol.Format(time.DateOnly)}
		it.Link = "/products/" + u.Product
		label := u.Label
		if label == "" {
			label = u.Product
		}
		it.Text = label + " " + u.Cycle + " · " + thousands(u.Hosts) + " hosts"
		switch {
		case d == 0:
			it.DayText = "last day today"
		case d == 1:
			it.DayText = "in 1 day"
		default:
			it.DayText = "in " + strconv.Itoa(d) + " days"
		}
		it.Class = "tl-later"
		if d <= 30 {
			it.Class = "tl-soon"
		}
		if len(t.Chart) < timelineMax {
			it.ShownInChart = true
			it.X = xOf(d)
			it.Y = t.AxisY + 26 + len(t.Chart)*22
			it.TextY = it.Y + 5
			it.Anchor, it.TextX = "start", it.X+9
			if it.X > t.X0+(t.X1-t.X0)*55/100 {
				it.Anchor, it.TextX = "end", it.X-9
			}
			t.Chart = append(t.Chart, it)
		}
		t.Items = append(t.Items, it)
	}
	t.Height = t.AxisY + 26 + len(t.Chart)*22
	return t
}

// thousands formats n with thin separators: 100000 -> "100,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
