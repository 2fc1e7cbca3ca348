package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the parsed command-line flags.
type options struct {
	sessdbPath     string
	sessdbCmd      string
	sessdbArgs     string
	redisServer    string
	redisBenchmark string
	rounds         int
	n              int
	quick          bool
	only           string
	out            string
	dir            string
	keep           bool
	list           bool
	timeout        time.Duration
	memory         bool
	sessions       int
	table          bool
	charts         string
	fromJSON       string
	big            bool
	bigKeys        int
	floor          bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.sessdbPath, "sessdb", "", "use this prebuilt sessdb binary instead of building ./cmd/sessdb")
	fs.StringVar(&o.sessdbCmd, "sessdb-cmd", "", "for testing the harness: any server binary (looked up in PATH) that takes redis-server style args, used in place of sessdb; a redis-server gets --save '' --appendonly yes added")
	fs.StringVar(&o.sessdbArgs, "sessdb-args", "", "extra space-separated arguments appended to the sessdb command line")
	fs.StringVar(&o.redisServer, "redis-server", "redis-server", "redis-server binary")
	fs.StringVar(&o.redisBenchmark, "redis-benchmark", "redis-benchmark", "redis-benchmark binary")
	fs.IntVar(&o.rounds, "rounds", 3, "interleaved rounds per scenario (sessdb, redis, sessdb, redis, ...)")
	fs.IntVar(&o.n, "n", 0, "requests per run for every scenario (0: per-scenario default, about 3 s each)")
	fs.BoolVar(&o.quick, "quick", false, "smoke run: a tenth of the default requests (about 0.3 s per run)")
	fs.StringVar(&o.only, "only", "", "run only scenarios whose ID (see -list) matches this regexp, e.g. '^get/' or 'P16'")
	fs.StringVar(&o.out, "out", "", "also write the results as JSON to this file")
	fs.StringVar(&o.dir, "dir", "", "parent of the temporary data directories (default: the system temp dir); use a real disk, fsync on tmpfs is free")
	fs.BoolVar(&o.keep, "keep", false, "keep the data directories and server logs")
	fs.BoolVar(&o.list, "list", false, "list the scenarios and exit")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "limit for one measured run (preload + benchmark); with -memory, for each fill and each restart, at least 5m")
	fs.BoolVar(&o.memory, "memory", false, "instead of the table: measure memory per live session and restart time (see -sessions)")
	fs.IntVar(&o.sessions, "sessions", 1_000_000, "with -memory or -table: sessions to fill each server with (200 bytes of data each)")
	fs.BoolVar(&o.table, "table", false, "the whole comparison in one run: every row (or those -only selects), then -memory; writes the charts to -charts (default bench/charts)")
	fs.StringVar(&o.charts, "charts", "", "write PNG charts of the rows (throughput.png, latency.png, ratio.png) into this directory, relative to the module root")
	fs.BoolVar(&o.big, "big", false, "also run the sessdb-only rows GET and SET at -big-keys keys vs 10k keys (scale-get, scale-set; the fill alone takes minutes)")
	fs.IntVar(&o.bigKeys, "big-keys", defaultBigKeys, "with -big: the keyspace of the big rows")
	fs.BoolVar(&o.floor, "floor", false, "instead of the table: measure what one durable commit costs on the -dir disk, Redis's AOF append+fdatasync against sessdb's bbolt commit, and the ratio that bounds the durable pipeline-1 rows")
	fs.StringVar(&o.fromJSON, "from-json", "", "do not run anything: print the table of an earlier -out JSON file and write its charts (with -charts)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./bench [flags]\n\nCompares sessdb with redis-server on this machine; see bench/doc.go.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.rounds < 1 {
		return o, errors.New("-rounds must be at least 1")
	}
	if o.n < 0 {
		return o, errors.New("-n must not be negative")
	}
	if o.bigKeys < scaleBaseline {
		return o, fmt.Errorf("-big-keys must be at least %d", scaleBaseline)
	}
	if o.sessions < 1 {
		return o, errors.New("-sessions must be at least 1")
	}
	if o.sessdbPath != "" && o.sessdbCmd != "" {
		return o, errors.New("-sessdb and -sessdb-cmd are mutually exclusive")
	}
	if o.table && o.memory {
		return o, errors.New("-table already includes -memory")
	}
	if o.table && o.charts == "" {
		o.charts = filepath.Join("bench", "charts")
	}
	return o, nil
}

// selectScenarios filters the table with the -only regexp.
func selectScenarios(all []Scenario, only string) ([]Scenario, error) {
	if only == "" {
		return all, nil
	}
	re, err := regexp.Compile(only)
	if err != nil {
		return nil, fmt.Errorf("-only: %w", err)
	}
	var out []Scenario
	for _, s := range all {
		if re.MatchString(s.ID()) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-only %q matches no scenario (see -list; the scale-* rows need -big)", only)
	}
	return out, nil
}

// requestsFor is the -n of one run of s.
func requestsFor(s Scenario, o options) int {
	if o.n > 0 {
		return o.n
	}
	if o.quick {
		return max(100, s.Requests/10)
	}
	return s.Requests
}

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

func run(argv []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(argv[1:], stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	all := scenarios()
	if o.big {
		all = append(all, bigScenarios(o.bigKeys)...)
	}
	sel, err := selectScenarios(all, o.only)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if o.list {
		for _, s := range sel {
			fmt.Fprintf(stdout, "%-26s  redis %-15s  sessdb fsync %-8s  -n %-8d -r %-8d %s\n",
				s.ID(), s.Side, s.SessdbFsync, requestsFor(s, o), s.Keyspace, s.Describe())
		}
		return 0
	}

	if o.floor {
		return runFloor(o, stdout, stderr)
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if o.fromJSON != "" {
		return replayJSON(ctx, o, stdout, stderr)
	}

	redisServer, err := exec.LookPath(o.redisServer)
	if err != nil {
		fmt.Fprintln(stderr, "bench: redis-server:", err)
		return 1
	}
	if o.memory {
		return runMemory(ctx, o, argv, redisServer, stdout, stderr)
	}
	redisBench, err := exec.LookPath(o.redisBenchmark)
	if err != nil {
		fmt.Fprintln(stderr, "bench: redis-benchmark:", err)
		return 1
	}
	work, cleanup, sessdbBin, standIn, meta, err := prepareRun(ctx, o, "sessdb-bench-", argv, redisServer, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	defer cleanup()
	meta.RedisBenchmark = toolVersion(redisBench, "--version", `redis-benchmark (\S+)`)
	meta.Rounds = o.rounds
	rep := Report{Meta: meta}

	extra := strings.Fields(o.sessdbArgs)
	for i, sc := range sel {
		if ctx.Err() != nil {
			break
		}
		n := requestsFor(sc, o)
		sessSpec := ServerSpec{Name: "sessdb", Bin: sessdbBin, Args: sessdbArgs(sc.SessdbFsync, standIn, extra)}
		redisSpec := ServerSpec{Name: "redis", Bin: redisServer, Args: redisArgs(sc.Side)}
		if sc.Baseline > 0 {
			redisSpec = ServerSpec{Name: "sessdb-" + humanCount(sc.Baseline), Bin: sessdbBin, Args: sessSpec.Args}
		}
		var rounds []RoundResult
		var rowErr error
		for r := 1; r <= o.rounds && rowErr == nil; r++ {
			var res [2]Result
			for k, spec := range []ServerSpec{sessSpec, redisSpec} {
				dir := filepath.Join(work, fmt.Sprintf("%02d-%s-r%d-%s", i+1, sc.Key, r, spec.Name))
				res[k], err = runOne(ctx, o, spec, sc, k == 1, n, dir, redisBench)
				if err != nil {
					rowErr = fmt.Errorf("round %d %s: %w", r, spec.Name, err)
					break
				}
				pre := ""
				if res[k].PreloadSeconds > 0 {
					pre = fmt.Sprintf(", preload %.1fs", res[k].PreloadSeconds)
				}
				if res[k].ExpirySeconds > 0 {
					pre += fmt.Sprintf(", expired keys gone after %.2fs, max %.2f ms", res[k].ExpirySeconds, res[k].MaxMs)
				}
				fmt.Fprintf(stderr, "[%d/%d] %-20s round %d/%d %-6s %9.0f rps  p50 %6.2f  p99 %6.2f ms  (%.1fs%s)\n",
					i+1, len(sel), sc.ID(), r, o.rounds, spec.Name, res[k].RPS, res[k].P50Ms, res[k].P99Ms, res[k].Seconds, pre)
			}
			if rowErr == nil {
				rr := RoundResult{Round: r, Sessdb: res[0], Redis: res[1], Ratio: ratio(res[0].RPS, res[1].RPS)}
				if sc.LatencyRatio {
					rr.Ratio = ratio(res[0].P99Ms, res[1].P99Ms)
				}
				rounds = append(rounds, rr)
			}
		}
		if rowErr != nil {
			fmt.Fprintf(stderr, "[%d/%d] %s: %v\n", i+1, len(sel), sc.ID(), rowErr)
		}
		rep.Rows = append(rep.Rows, summarize(sc, n, rounds, rowErr))
	}

	fmt.Fprint(stdout, formatMarkdown(rep))
	status := 0
	if o.out != "" {
		if err := writeJSON(o.out, rep); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			status = 1
		}
	}
	if o.charts != "" && ctx.Err() == nil {
		if err := charts(ctx, o, rep, stderr); err != nil {
			status = 1
		}
	}
	if o.table && ctx.Err() == nil {
		fmt.Fprintln(stdout)
		if o.out != "" {
			o.out = strings.TrimSuffix(o.out, ".json") + "-memory.json"
		}
		if runMemory(ctx, o, argv, redisServer, stdout, stderr) != 0 {
			status = 1
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "bench: interrupted")
		return 130
	}
	for _, r := range rep.Rows {
		if r.Error != "" {
			status = 1
		}
	}
	return status
}

// resolveSessdb returns the sessdb binary to run, a description for the
// report, and whether it is a redis-server stand-in. Without -sessdb or
// -sessdb-cmd it builds ./cmd/sessdb of this module into work.
// prepareRun makes the run's data directory (removed by cleanup unless
// -keep), resolves the sessdb binary into it, and fills the metadata every
// report shares.
func prepareRun(ctx context.Context, o options, prefix string, argv []string, redisServer string, stderr io.Writer) (work string, cleanup func(), sessdbBin string, standIn bool, meta Meta, err error) {
	cleanup = func() {}
	work, err = os.MkdirTemp(o.dir, prefix)
	if err != nil {
		return "", cleanup, "", false, meta, err
	}
	if o.keep {
		fmt.Fprintln(stderr, "bench: keeping data directories under", work)
	} else {
		cleanup = func() { os.RemoveAll(work) }
	}
	sessdbBin, desc, standIn, err := resolveSessdb(ctx, o, work, stderr)
	if err != nil {
		cleanup()
		return "", func() {}, "", false, meta, err
	}
	meta = Meta{
		Date:        time.Now().UTC().Format(time.RFC3339),
		Nproc:       runtime.NumCPU(),
		GoVersion:   runtime.Version(),
		RedisServer: toolVersion(redisServer, "--version", `v=(\S+)`),
		Command:     commandLine(argv),
		Sessdb:      desc,
		DataDir:     work,
	}
	return work, cleanup, sessdbBin, standIn, meta, nil
}

func resolveSessdb(ctx context.Context, o options, work string, stderr io.Writer) (bin, desc string, standIn bool, err error) {
	switch {
	case o.sessdbCmd != "":
		bin, err = exec.LookPath(o.sessdbCmd)
		if err != nil {
			return "", "", false, fmt.Errorf("-sessdb-cmd: %w", err)
		}
		bin, _ = filepath.Abs(bin)
		standIn = isRedisServer(bin)
		desc = "stand-in " + bin
		if standIn {
			desc += " (with --save '' --appendonly yes)"
		}
		return bin, desc, standIn, nil
	case o.sessdbPath != "":
		bin, err = filepath.Abs(o.sessdbPath)
		if err != nil {
			return "", "", false, err
		}
		if _, err := os.Stat(bin); err != nil {
			return "", "", false, fmt.Errorf("-sessdb: %w", err)
		}
		return bin, "prebuilt " + bin, false, nil
	}
	root := moduleRoot(ctx)
	bin = filepath.Join(work, "sessdb")
	fmt.Fprintf(stderr, "bench: go build -o %s ./cmd/sessdb (in %s)\n", bin, root)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sessdb")
	cmd.Dir = root
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return "", "", false, fmt.Errorf("building sessdb failed (%w); use -sessdb PATH or -sessdb-cmd redis-server", err)
	}
	return bin, "built from ./cmd/sessdb", false, nil
}

// moduleRoot is the directory of the main module's go.mod, or ".".
func moduleRoot(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if gomod := strings.TrimSpace(string(out)); err == nil && gomod != "" && gomod != os.DevNull {
		return filepath.Dir(gomod)
	}
	return "."
}

// runOne starts a fresh server from spec in dir, preloads it, runs the
// benchmark of the scenario's sessdb side (redis false) or Redis side, and
// stops the server.
func runOne(ctx context.Context, o options, spec ServerSpec, sc Scenario, redis bool, n int, dir, redisBench string) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, max(o.timeout, sc.Timeout))
	defer cancel()
	srv, err := startServer(ctx, spec, dir)
	if err != nil {
		return Result{}, err
	}
	defer func() {
		if !o.keep {
			_ = os.RemoveAll(dir)
		}
	}()
	res, err := func() (Result, error) {
		defer srv.Stop()
		pre, bench := sc.For(redis)
		keyspace := sc.Keyspace
		if redis && sc.Baseline > 0 {
			keyspace = sc.Baseline
		}
		rc := RunContext{
			Host: "127.0.0.1", Port: srv.Port, Addr: srv.Addr,
			Clients: sc.Clients, Pipeline: sc.Pipeline, Requests: n, Keyspace: keyspace,
			RedisBenchmark: redisBench,
		}
		var preSeconds float64
		if pre != nil {
			t := time.Now()
			loaded, err := pre(ctx, rc)
			if err != nil {
				return Result{}, err
			}
			rc.Loaded = loaded
			preSeconds = time.Since(t).Seconds()
		}
		res, err := bench.Run(ctx, rc)
		res.PreloadSeconds = preSeconds
		return res, err
	}()
	if err != nil && ctx.Err() == nil {
		return Result{}, fmt.Errorf("%w; server log: %s", err, srv.logTail())
	}
	return res, err
}

// toolVersion runs bin with arg and extracts the first submatch of pattern.
func toolVersion(bin, arg, pattern string) string {
	out, err := exec.Command(bin, arg).Output()
	if err != nil {
		return "unknown"
	}
	if m := regexp.MustCompile(pattern).FindSubmatch(out); m != nil {
		return string(m[1])
	}
	return strings.TrimSpace(string(out))
}

// commandLine renders argv as a shell command, showing a `go run` build as
// "go run ./bench".
func commandLine(argv []string) string {
	if len(argv) == 0 {
		return ""
	}
	prog := argv[0]
	if strings.Contains(prog, "go-build") && filepath.Base(prog) == "bench" {
		prog = "go run ./bench"
	}
	parts := []string{prog}
	for _, a := range argv[1:] {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+,-]+$`)

func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Report is everything one harness run measured; it is also the -out JSON.
type Report struct {
	Meta Meta  `json:"meta"`
	Rows []Row `json:"rows"`
}

// Meta describes the run for the header line.
type Meta struct {
	Date           string `json:"date"`
	Nproc          int    `json:"nproc"`
	GoVersion      string `json:"go_version"`
	RedisServer    string `json:"redis_server_version"`
	RedisBenchmark string `json:"redis_benchmark_version"`
	Command        string `json:"command"`
	Rounds         int    `json:"rounds"`
	Sessdb         string `json:"sessdb"`
	DataDir        string `json:"data_dir"`
}

// RoundResult is one interleaved round: sessdb's run, then Redis's.
type RoundResult struct {
	Round  int     `json:"round"`
	Sessdb Result  `json:"sessdb"`
	Redis  Result  `json:"redis"`
	Ratio  float64 `json:"ratio"` // sessdb rps / redis rps
}

// Summary is the per-server median over rounds.
type Summary struct {
	RPS   float64 `json:"rps"`
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
}

// Row is one line of the table.
type Row struct {
	ID          string        `json:"id"`
	Workload    string        `json:"workload"`
	Clients     int           `json:"clients"`
	Pipeline    int           `json:"pipeline"`
	RedisSide   Side          `json:"redis_side"`
	SessdbFsync string        `json:"sessdb_fsync"`
	Requests    int           `json:"requests"`
	Keyspace    int           `json:"keyspace"`
	Bench       string        `json:"bench"`
	Sessdb      Summary       `json:"sessdb"`
	Redis       Summary       `json:"redis"`
	Ratio       float64       `json:"ratio"` // median of per-round ratios
	RatioMin    float64       `json:"ratio_min"`
	RatioMax    float64       `json:"ratio_max"`
	Rounds      []RoundResult `json:"rounds"`
	Error       string        `json:"error,omitempty"`
	// RatioOf is "p99" when Ratio compares p99 latencies (sessdb/redis,
	// lower is better), "" for requests per second.
	RatioOf string `json:"ratio_of,omitempty"`
}

// ratio is a/b, or 0 when b is not positive.
func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// median of xs (mean of the middle two for an even count); 0 if empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// summarize reduces the completed rounds of a scenario to its table row:
// per-server medians of rps and latencies, and the median (and range) of
// the per-round ratios — not the ratio of the medians, so that each ratio
// compares two runs made back to back under the same machine noise.
func summarize(sc Scenario, n int, rounds []RoundResult, err error) Row {
	row := Row{
		ID: sc.ID(), Workload: sc.Workload, Clients: sc.Clients, Pipeline: sc.Pipeline,
		RedisSide: sc.Side, SessdbFsync: sc.SessdbFsync, Requests: n, Keyspace: sc.Keyspace,
		Bench: sc.Describe(), Rounds: rounds,
	}
	if sc.LatencyRatio {
		row.RatioOf = "p99"
	}
	if err != nil {
		row.Error = err.Error()
	}
	if len(rounds) == 0 {
		return row
	}
	pick := func(f func(RoundResult) float64) float64 {
		xs := make([]float64, len(rounds))
		for i, r := range rounds {
			xs[i] = f(r)
		}
		return median(xs)
	}
	row.Sessdb = Summary{
		RPS:   pick(func(r RoundResult) float64 { return r.Sessdb.RPS }),
		P50Ms: pick(func(r RoundResult) float64 { return r.Sessdb.P50Ms }),
		P99Ms: pick(func(r RoundResult) float64 { return r.Sessdb.P99Ms }),
	}
	row.Redis = Summary{
		RPS:   pick(func(r RoundResult) float64 { return r.Redis.RPS }),
		P50Ms: pick(func(r RoundResult) float64 { return r.Redis.P50Ms }),
		P99Ms: pick(func(r RoundResult) float64 { return r.Redis.P99Ms }),
	}
	row.Ratio = pick(func(r RoundResult) float64 { return r.Ratio })
	row.RatioMin, row.RatioMax = rounds[0].Ratio, rounds[0].Ratio
	for _, r := range rounds {
		row.RatioMin = min(row.RatioMin, r.Ratio)
		row.RatioMax = max(row.RatioMax, r.Ratio)
	}
	return row
}

// formatMarkdown renders the header line and the results table.
func formatMarkdown(rep Report) string {
	var b strings.Builder
	m := rep.Meta
	fmt.Fprintf(&b, "sessdb vs Redis · %s · nproc %d · %s · redis-server %s · redis-benchmark %s · rounds %d · `%s`\n\n",
		m.Date, m.Nproc, m.GoVersion, m.RedisServer, m.RedisBenchmark, m.Rounds, m.Command)
	fmt.Fprintf(&b, "sessdb: %s. Medians over interleaved rounds; ratio = median of per-round sessdb/redis rps (min–max in brackets), >1 means sessdb is faster.\n\n", m.Sessdb)
	for _, r := range rep.Rows {
		if r.RatioOf != "" {
			b.WriteString("Rows marked \"ratio: p99\" give the median of per-round sessdb/redis p99 instead: < 1 means sessdb is faster. Rows whose Redis side is \"sessdb at …\" compare sessdb with itself on a smaller keyspace.\n\n")
			break
		}
	}
	b.WriteString("| workload | clients | pipeline | sessdb rps | redis rps | ratio | sessdb p50/p99 ms | redis p50/p99 ms | Redis side |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|---|\n")
	var errs []string
	for _, r := range rep.Rows {
		if r.Error != "" {
			errs = append(errs, fmt.Sprintf("- `%s`: %s", r.ID, r.Error))
		}
		if len(r.Rounds) == 0 {
			fmt.Fprintf(&b, "| %s | %d | %d | – | – | error | – | – | %s |\n", r.Workload, r.Clients, r.Pipeline, r.RedisSide)
			continue
		}
		ratioCell := fmt.Sprintf("%.2f", r.Ratio)
		if len(r.Rounds) > 1 {
			ratioCell += fmt.Sprintf(" [%.2f–%.2f]", r.RatioMin, r.RatioMax)
		}
		if r.Error != "" {
			ratioCell += fmt.Sprintf(" (%d rounds, error)", len(r.Rounds))
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s | %s | %s | %s |\n",
			r.Workload, r.Clients, r.Pipeline, formatRPS(r.Sessdb.RPS), formatRPS(r.Redis.RPS), ratioCell,
			formatLatency(r.Sessdb), formatLatency(r.Redis), r.RedisSide)
	}
	if len(errs) > 0 {
		b.WriteString("\nErrors:\n")
		for _, e := range errs {
			b.WriteString(e + "\n")
		}
	}
	return b.String()
}

// formatRPS prints a rate with thousands separators.
func formatRPS(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func formatLatency(s Summary) string {
	return fmt.Sprintf("%.2f / %.2f", s.P50Ms, s.P99Ms)
}

func writeJSON(path string, rep Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// charts writes rep's charts into o.charts (relative to the module root).
func charts(ctx context.Context, o options, rep Report, stderr io.Writer) error {
	dir := o.charts
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(moduleRoot(ctx), dir)
	}
	files, err := writeCharts(dir, rep)
	if err != nil {
		fmt.Fprintln(stderr, "bench: charts:", err)
		return err
	}
	for _, f := range files {
		fmt.Fprintln(stderr, "bench: wrote", f)
	}
	return nil
}

// replayJSON prints the table of an earlier -out file and writes its charts.
func replayJSON(ctx context.Context, o options, stdout, stderr io.Writer) int {
	b, err := os.ReadFile(o.fromJSON)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		fmt.Fprintln(stderr, "bench:", o.fromJSON, err)
		return 1
	}
	fmt.Fprint(stdout, formatMarkdown(rep))
	if o.charts != "" && charts(ctx, o, rep, stderr) != nil {
		return 1
	}
	return 0
}
