package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The charts -charts writes (PNG, gonum/plot) from a table run:
//
//	throughput.png  requests/s against clients, one panel per workload,
//	                sessdb and Redis at each pipeline depth
//	latency.png     p50 and p99 latency of every row, sessdb next to Redis
//	ratio.png       the median sessdb/Redis ratio of every row, with 1.0 marked

var (
	colorSessdb = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colorRedis  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	lightSessdb = color.RGBA{R: 0x9e, G: 0xc8, B: 0xe8, A: 0xff}
	lightRedis  = color.RGBA{R: 0xf0, G: 0x9a, B: 0x9b, A: 0xff}
)

// writeCharts writes the charts of rep into dir (created if needed) and
// returns the files it wrote.
func writeCharts(dir string, rep Report) ([]string, error) {
	var rows []Row
	for _, r := range rep.Rows {
		if len(r.Rounds) > 0 {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	subtitle := fmt.Sprintf("%s · nproc %d · redis %s · %d rounds", rep.Meta.Date[:10], rep.Meta.Nproc, rep.Meta.RedisServer, rep.Meta.Rounds)
	var files []string
	for _, c := range []struct {
		name string
		draw func(path string, rows []Row, subtitle string) error
	}{
		{"throughput.png", drawThroughput},
		{"latency.png", drawLatency},
		{"ratio.png", drawRatio},
	} {
		path := filepath.Join(dir, c.name)
		if err := c.draw(path, rows, subtitle); err != nil {
			return files, fmt.Errorf("%s: %w", c.name, err)
		}
		files = append(files, path)
	}
	return files, nil
}

// drawThroughput tiles one panel per workload: rps against clients.
func drawThroughput(path string, rows []Row, subtitle string) error {
	var keys []string
	byKey := map[string][]Row{}
	for _, r := range rows {
		k := workloadKey(r.ID)
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	const cols = 4
	nrows := (len(keys) + cols - 1) / cols
	grid := make([][]*plot.Plot, nrows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
	}
	for i, k := range keys {
		p := plot.New()
		p.Title.Text = byKey[k][0].Workload
		p.Title.TextStyle.Font.Size = vg.Points(9)
		p.X.Label.Text = "clients"
		p.Y.Label.Text = "requests/s"
		p.Y.Min = 0
		p.Legend.Top = true
		p.Legend.Left = true
		p.Legend.TextStyle.Font.Size = vg.Points(7)
		var pipes []int
		for _, r := range byKey[k] {
			if !slices.Contains(pipes, r.Pipeline) {
				pipes = append(pipes, r.Pipeline)
			}
		}
		slices.Sort(pipes)
		for pi, pipe := range pipes {
			var ss, rs plotter.XYs
			for _, r := range byKey[k] {
				if r.Pipeline == pipe {
					ss = append(ss, plotter.XY{X: float64(r.Clients), Y: r.Sessdb.RPS})
					rs = append(rs, plotter.XY{X: float64(r.Clients), Y: r.Redis.RPS})
				}
			}
			slices.SortFunc(ss, func(a, b plotter.XY) int { return int(a.X - b.X) })
			slices.SortFunc(rs, func(a, b plotter.XY) int { return int(a.X - b.X) })
			for _, s := range []struct {
				name string
				xys  plotter.XYs
				c    color.Color
			}{{"sessdb", ss, colorSessdb}, {"redis", rs, colorRedis}} {
				l, pts, err := plotter.NewLinePoints(s.xys)
				if err != nil {
					return err
				}
				l.Color, pts.Color = s.c, s.c
				if pi > 0 {
					l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
					pts.Shape = draw.BoxGlyph{}
				}
				p.Add(l, pts)
				p.Legend.Add(fmt.Sprintf("%s P%d", s.name, pipe), l, pts)
			}
		}
		p.X.Min, p.X.Max = 0, 55
		grid[i/cols][i%cols] = p
	}
	for i := range grid {
		for j := range grid[i] {
			if grid[i][j] == nil {
				grid[i][j] = plot.New()
				grid[i][j].HideAxes()
			}
		}
	}
	w, h := 16*vg.Inch, vg.Length(nrows)*3*vg.Inch+0.5*vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	title := "sessdb vs redis-server: throughput against clients (solid: pipeline 1, dashed: 16) · " + subtitle
	titleFont := plot.DefaultFont
	titleFont.Size = vg.Points(12)
	dc.FillText(draw.TextStyle{Color: color.Black, Font: titleFont, Handler: plot.DefaultTextHandler,
		XAlign: draw.XCenter, YAlign: draw.YTop}, vg.Point{X: w / 2, Y: h - 4}, title)
	body := draw.Crop(dc, 0, 0, 0, -0.5*vg.Inch)
	canvases := plot.Align(grid, draw.Tiles{Rows: nrows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}, body)
	for i := range grid {
		for j := range grid[i] {
			grid[i][j].Draw(canvases[i][j])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// workloadKey is the workload part of a row ID ("set" of "set/c50/P1").
func workloadKey(id string) string {
	for i := range len(id) {
		if id[i] == '/' {
			return id[:i]
		}
	}
	return id
}

// drawLatency draws grouped bars: sessdb and Redis p50 and p99 per row.
func drawLatency(path string, rows []Row, subtitle string) error {
	p := plot.New()
	p.Title.Text = "latency percentiles, sessdb vs redis-server (ms, log scale; circles p50, triangles p99) · " + subtitle
	p.Y.Label.Text = "ms"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.ID
	}
	series := []struct {
		name string
		f    func(Row) float64
		c    color.Color
	}{
		{"sessdb p50", func(r Row) float64 { return r.Sessdb.P50Ms }, lightSessdb},
		{"redis p50", func(r Row) float64 { return r.Redis.P50Ms }, lightRedis},
		{"sessdb p99", func(r Row) float64 { return r.Sessdb.P99Ms }, colorSessdb},
		{"redis p99", func(r Row) float64 { return r.Redis.P99Ms }, colorRedis},
	}
	glyphs := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.TriangleGlyph{}}
	for i, s := range series {
		xys := make(plotter.XYs, len(rows))
		for j, r := range rows {
			// A log axis has no zero; the four points of a row sit side by side.
			xys[j] = plotter.XY{X: float64(j) + (float64(i)-1.5)*0.12, Y: max(s.f(r), 0.001)}
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return err
		}
		sc.Color = s.c
		sc.Shape = glyphs[i]
		sc.Radius = vg.Points(3.5)
		p.Add(sc)
		p.Legend.Add(s.name, sc)
	}
	p.Add(plotter.NewGrid())
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = 0.8
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	return p.Save(vg.Length(len(rows))*0.45*vg.Inch+2*vg.Inch, 6*vg.Inch, path)
}

// drawRatio draws each row's median sessdb/Redis throughput ratio.
func drawRatio(path string, rows []Row, subtitle string) error {
	p := plot.New()
	p.Title.Text = "sessdb / redis-server requests/s (median of interleaved rounds; > 1: sessdb faster) · " + subtitle
	p.Y.Label.Text = "ratio"
	p.Y.Min = 0
	names := make([]string, len(rows))
	vals := make(plotter.Values, len(rows))
	top := 1.0
	for i, r := range rows {
		names[i], vals[i] = r.ID, r.Ratio
		if r.RatioOf != "" && r.Ratio > 0 {
			// A latency ratio (lower is better) is drawn inverted, so that
			// every bar reads "> 1: sessdb better".
			names[i], vals[i] = r.ID+" (redis/sessdb "+r.RatioOf+")", 1/r.Ratio
		}
		top = max(top, vals[i])
	}
	b, err := plotter.NewBarChart(vals, vg.Points(12))
	if err != nil {
		return err
	}
	b.Color = colorSessdb
	b.LineStyle.Width = 0
	p.Add(b)
	one := plotter.NewFunction(func(float64) float64 { return 1 })
	one.Color = colorRedis
	one.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	p.Add(one)
	p.Legend.Add("redis = 1.0", one)
	p.Legend.Top = true
	p.Y.Max = top * 1.1
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = 0.8
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	return p.Save(vg.Length(len(rows))*0.4*vg.Inch+2*vg.Inch, 5*vg.Inch, path)
}
