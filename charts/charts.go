// Package charts draws the synthesis figures: accessible SVG written by
// hand (a title and description, presentation attributes only, no inline
// style, so it passes the strict CSP inline and downloads cleanly) and PNG
// through gonum.org/v1/plot for word processors that want a bitmap.
package charts

import (
	"bytes"
	"fmt"
	"html"
	"image/color"
	"io"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Bar is one bar: a labelled count with its percent of N. A suppressed
// bar (small cell) is drawn empty and marked.
type Bar struct {
	Label      string
	Count      int64
	Percent    float64
	Suppressed bool
}

// Chart is a horizontal bar chart of counts.
type Chart struct {
	ID      string // unique within the page, for aria ids
	Title   string
	Caption string // e.g. "N=38, no reply 2"
	// SuppressedMark is shown in place of a suppressed value.
	SuppressedMark string
	Bars           []Bar
}

const (
	width     = 640
	labelW    = 220
	barH      = 22
	gap       = 8
	top       = 36
	valueRoom = 110
)

func esc(s string) string { return html.EscapeString(s) }

// value is the text shown at a bar's end.
func (c Chart) value(b Bar) string {
	if b.Suppressed {
		return c.SuppressedMark
	}
	return fmt.Sprintf("%d (%s %%)", b.Count, strconv.FormatFloat(b.Percent, 'f', 1, 64))
}

// Description is the chart's data as one sentence, for its <desc>.
func (c Chart) Description() string {
	parts := make([]string, 0, len(c.Bars))
	for _, b := range c.Bars {
		parts = append(parts, b.Label+": "+c.value(b))
	}
	d := strings.Join(parts, "; ")
	if c.Caption != "" {
		d = c.Caption + ". " + d
	}
	return d
}

// SVG writes the chart as a standalone, accessible SVG document fragment
// (valid both inline in HTML and as an .svg file).
func SVG(w io.Writer, c Chart) error {
	var max int64 = 1
	for _, b := range c.Bars {
		if b.Count > max {
			max = b.Count
		}
	}
	h := top + len(c.Bars)*(barH+gap) + 28
	id := c.ID
	if id == "" {
		id = "chart"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 %d %d" width="%d" height="%d" aria-labelledby="%s-title %s-desc" font-family="Helvetica, Arial, sans-serif">`,
		width, h, width, h, esc(id), esc(id))
	fmt.Fprintf(&sb, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(id), esc(c.Title), esc(id), esc(c.Description()))
	fmt.Fprintf(&sb, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`, width, h)
	fmt.Fprintf(&sb, `<text x="0" y="18" font-size="15" font-weight="bold" fill="#1b1b1b">%s</text>`, esc(truncate(c.Title, 80)))
	span := float64(width - labelW - valueRoom)
	for i, b := range c.Bars {
		y := top + i*(barH+gap)
		fmt.Fprintf(&sb, `<text x="%d" y="%d" font-size="13" text-anchor="end" fill="#1b1b1b">%s</text>`, labelW-8, y+barH-6, esc(truncate(b.Label, 32)))
		bw := 0.0
		if !b.Suppressed {
			bw = span * float64(b.Count) / float64(max)
		}
		if b.Suppressed {
			fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="none" stroke="#595959" stroke-dasharray="4 3"/>`, labelW, y, span/8, barH)
		} else {
			fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#1f5f99"/>`, labelW, y, bw, barH)
		}
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" font-size="13" fill="#1b1b1b">%s</text>`, float64(labelW)+max64(bw, span/8*boolf(b.Suppressed))+6, y+barH-6, esc(c.value(b)))
	}
	if c.Caption != "" {
		fmt.Fprintf(&sb, `<text x="0" y="%d" font-size="12" fill="#3d3d3d">%s</text>`, h-8, esc(c.Caption))
	}
	sb.WriteString(`</svg>`)
	_, err := io.WriteString(w, sb.String())
	return err
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func max64(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// SVGString is SVG into a string.
func SVGString(c Chart) string {
	var b bytes.Buffer
	_ = SVG(&b, c)
	return b.String()
}

// PNG writes the chart as a PNG image drawn by gonum/plot.
func PNG(w io.Writer, c Chart) error {
	p := plot.New()
	p.Title.Text = truncate(c.Title, 70)
	p.X.Label.Text = c.Caption
	vals := make(plotter.Values, len(c.Bars))
	labels := make([]string, len(c.Bars))
	for i, b := range c.Bars {
		// Listed top to bottom like the SVG: gonum draws from the bottom.
		j := len(c.Bars) - 1 - i
		if !b.Suppressed {
			vals[j] = float64(b.Count)
		}
		labels[j] = truncate(b.Label, 28) + "  " + c.value(b)
	}
	if len(vals) == 0 {
		vals = plotter.Values{0}
		labels = []string{""}
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(16))
	if err != nil {
		return err
	}
	bars.Horizontal = true
	bars.Color = color.RGBA{R: 0x1f, G: 0x5f, B: 0x99, A: 0xff}
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.NominalY(labels...)
	p.X.Min = 0
	height := vg.Points(float64(90 + 26*len(labels)))
	wt, err := p.WriterTo(vg.Points(640), height, "png")
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}
