package report

import (
	"fmt"
	"image/color"
	"io"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The targets drawn, in order, and their colours.
var (
	chartTargets = []string{LLMux, Nginx, ReverseProxy, ReverseProxyH1}
	colors       = map[string]color.Color{
		LLMux:          color.RGBA{R: 0x1f, G: 0x6f, B: 0xd0, A: 0xff},
		Nginx:          color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
		ReverseProxy:   color.RGBA{R: 0xff, G: 0x8c, B: 0x1a, A: 0xff},
		ReverseProxyH1: color.RGBA{R: 0x99, G: 0x66, B: 0xcc, A: 0xff},
	}
)

// PerStreamGoal is the memory target per held stream, drawn on the
// chart.
const PerStreamGoal = 40 << 10

// panel is one chart: a value per scenario and target.
type panel struct {
	title, unit string
	scenarios   []*Scenario
	value       func(s *Scenario, r *Row) (float64, bool)
	format      string  // of the value labels
	goal        float64 // a horizontal line, when not zero
	goalLabel   string
	space       float64 // the panel's width in points, for the bar width
}

// WriteChart draws the main figures as a PNG: gateway CPU per
// non-streaming call and per stream, memory per held stream, latency added
// over the direct call (p99) for non-streaming calls, and time to first
// event added over the direct call (p50) for streams. Streams are shown by
// their first event because their total time is the mock's pacing.
func WriteChart(w io.Writer, run *Run) error {
	var calls, streams, hold []*Scenario
	for _, s := range run.Scenarios {
		switch {
		case s.Kind == Hold:
			hold = append(hold, s)
		case s.Stream:
			streams = append(streams, s)
		default:
			calls = append(calls, s)
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	cpu := func(s *Scenario, r *Row) (float64, bool) { return float64(r.CPU) / 1e3, r.HasCPU }
	panels := []panel{
		{title: "Gateway CPU per non-streaming call", unit: "µs", scenarios: calls, value: cpu, format: "%.0f"},
		{title: "Gateway CPU per stream", unit: "µs", scenarios: streams, value: cpu, format: "%.0f"},
		{title: "Resident memory per held stream", unit: "KB", scenarios: hold, format: "%.1f",
			goal: PerStreamGoal / 1024, goalLabel: "llmux goal",
			value: func(s *Scenario, r *Row) (float64, bool) { return r.PerStream() / 1024, r.Open > 0 }},
		{title: "Latency added over the direct call, p99", unit: "ms", scenarios: calls, format: "%.2f",
			value: func(s *Scenario, r *Row) (float64, bool) {
				_, a99, ok := s.Added(r)
				return ms(a99), ok
			}},
		{title: "Time to first event added over the direct call, p50", unit: "ms", scenarios: streams, format: "%.2f",
			value: func(s *Scenario, r *Row) (float64, bool) {
				d := s.Row(Direct)
				if d == nil || r.Target == Direct {
					return 0, false
				}
				return ms(r.TTFT50 - d.TTFT50), true
			}},
	}
	// Layout: the two CPU panels and the memory panel on top, the two
	// latency panels below.
	const width, height = 13 * vg.Inch, 9 * vg.Inch
	rows := [][]struct {
		panel int
		frac  float64
	}{
		{{0, 0.37}, {1, 0.37}, {2, 0.26}},
		{{3, 0.5}, {4, 0.5}},
	}
	for _, row := range rows {
		for _, c := range row {
			panels[c.panel].space = (width * vg.Length(c.frac)).Points()
		}
	}
	plots := make([]*plot.Plot, len(panels))
	for i, pn := range panels {
		p, err := pn.plot()
		if err != nil {
			return err
		}
		plots[i] = p
	}
	title := "llmux vs nginx vs Go httputil.ReverseProxy — " + run.Started.Format("2006-01-02")
	if run.Smoke {
		title += " (smoke run: figures mean nothing)"
	}

	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(110))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	head := plot.New()
	head.Title.Text = title
	head.Title.TextStyle.Font.Size = vg.Points(15)
	head.HideAxes()
	sans(head)
	titleH, pad := vg.Points(34), vg.Points(12)
	head.Draw(region(dc, 0, height-titleH, width, height))
	rowH := (height - titleH) / 2
	for i, row := range rows {
		y0 := rowH * vg.Length(len(rows)-1-i)
		x := vg.Length(0)
		for _, c := range row {
			pw := width * vg.Length(c.frac)
			plots[c.panel].Draw(region(dc, x+pad, y0+pad, x+pw-pad, y0+rowH-pad/2))
			x += pw
		}
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// region returns the part of c between (x0, y0) and (x1, y1), measured
// from its bottom left corner.
func region(c draw.Canvas, x0, y0, x1, y1 vg.Length) draw.Canvas {
	c.Rectangle = vg.Rectangle{Min: vg.Point{X: c.Min.X + x0, Y: c.Min.Y + y0}, Max: vg.Point{X: c.Min.X + x1, Y: c.Min.Y + y1}}
	return c
}

func (pn panel) plot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.title + " (" + pn.unit + ")"
	p.Title.TextStyle.Font.Size = vg.Points(12)
	p.Y.Label.Text = pn.unit
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.Y.Tick.Label.Font.Size = vg.Points(9)
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	grid := plotter.NewGrid()
	grid.Vertical.Width = 0 // nominal ticks sit in the middle of bar groups
	p.Add(grid)
	if len(pn.scenarios) == 0 {
		p.Title.Text += " — not measured"
		p.HideAxes()
		sans(p)
		return p, nil
	}
	var names []string
	for _, s := range pn.scenarios {
		names = append(names, s.Short)
	}
	var targets []string
	for _, t := range chartTargets {
		for _, s := range pn.scenarios {
			if r := s.Row(t); r != nil {
				if _, ok := pn.value(s, r); ok && !slices.Contains(targets, t) {
					targets = append(targets, t)
				}
			}
		}
	}
	width := vg.Points(min(26, pn.space*0.6/float64(max(len(names)*len(targets), 1))))
	top, bottom := 0.0, 0.0
	for j, t := range targets {
		vals := make(plotter.Values, len(pn.scenarios))
		var labels plotter.XYLabels
		for i, s := range pn.scenarios {
			r := s.Row(t)
			if r == nil {
				continue
			}
			v, ok := pn.value(s, r)
			if !ok {
				continue
			}
			vals[i] = v
			top, bottom = max(top, v), min(bottom, v)
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(i), Y: max(v, 0)})
			labels.Labels = append(labels.Labels, fmt.Sprintf(pn.format, v))
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, err
		}
		offset := (vg.Length(j) - vg.Length(len(targets)-1)/2) * width
		bars.Offset = offset
		bars.Color = colors[t]
		bars.LineStyle.Width = 0
		p.Add(bars)
		p.Legend.Add(t, bars)
		if len(labels.XYs) > 0 {
			lb, err := plotter.NewLabels(labels)
			if err != nil {
				return nil, err
			}
			for k := range lb.TextStyle {
				lb.TextStyle[k].Font.Variant = "Sans"
				lb.TextStyle[k].Font.Size = vg.Points(7.5)
				lb.TextStyle[k].XAlign = draw.XCenter
				lb.TextStyle[k].YAlign = draw.YBottom
			}
			lb.Offset = vg.Point{X: offset, Y: vg.Points(2)}
			p.Add(lb)
		}
	}
	if pn.goal > 0 {
		line, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: pn.goal}, {X: float64(len(names)) - 0.5, Y: pn.goal}})
		if err != nil {
			return nil, err
		}
		line.Color = color.RGBA{R: 0xc0, A: 0xff}
		line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(line)
		p.Legend.Add(pn.goalLabel, line)
		top = max(top, pn.goal)
	}
	p.Y.Max = top * 1.4 // room for the labels and the legend
	p.Y.Min = bottom * 1.2
	p.NominalX(names...)
	p.Y.Tick.Marker = plainTicks{}
	sans(p)
	return p, nil
}

// sans sets every text of p in the sans-serif face, which reads better on
// screen than the default serif.
func sans(p *plot.Plot) {
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font, &p.Legend.TextStyle.Font} {
		f.Variant = "Sans"
	}
}

// plainTicks are the default ticks labelled without trailing zeros
// ("2500", not "2500.00") and without the float noise of their steps
// ("0.15", not "0.15000000000000002").
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = tickLabel(ticks[i].Value)
		}
	}
	return ticks
}

// tickLabel writes v with at most 6 significant digits and no exponent.
func tickLabel(v float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}
