package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const csvSample = `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"SET","581395.31","1.170","0.360","1.047","2.111","3.079","4.279"
`

// Ensure that a redis-benchmark --csv result row is parsed into its numbers.
func TestParseCSV_ReadsRow(t *testing.T) {
	rows, err := parseCSV(strings.NewReader(csvSample))
	require.NoError(t, err)
	require.Equal(t, []CSVRow{{Test: "SET", RPS: 581395.31, AvgMs: 1.170, MinMs: 0.360, P50Ms: 1.047, P95Ms: 2.111, P99Ms: 3.079, MaxMs: 4.279}}, rows)
}

// Ensure that a custom command's test name, which contains spaces, and
// several rows (one per -t test) are all read.
func TestParseCSV_ReadsCustomCommandAndSeveralRows(t *testing.T) {
	in := csvSample + `"SET key:__rand_int__ val EX 1800","46082.95","0.716","0.184","0.647","1.247","2.199","4.359"` + "\n"
	rows, err := parseCSV(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, "SET key:__rand_int__ val EX 1800", rows[1].Test)
	require.InDelta(t, 2.199, rows[1].P99Ms, 1e-9)
}

// Ensure that warnings and other non-CSV lines around the records are skipped.
func TestParseCSV_SkipsNoiseLines(t *testing.T) {
	in := "WARNING: Could not fetch server CONFIG\r\n" + strings.ReplaceAll(csvSample, "\n", "\r\n") + "\n"
	rows, err := parseCSV(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, "SET", rows[0].Test)
}

// Ensure that output without a result (a server error, a missing header, an
// unknown header, a non-numeric field) is an error rather than zeros.
func TestParseCSV_RejectsIncompleteOutput(t *testing.T) {
	header := strings.SplitN(csvSample, "\n", 2)[0] + "\n"
	for name, in := range map[string]string{
		"empty":          "",
		"error only":     header + "Error from server: ERR unknown command 'FOO'\n",
		"no header":      `"SET","1","1","1","1","1","1","1"` + "\n",
		"unknown header": `"test","rps"` + "\n" + `"SET","1"` + "\n",
		"bad number":     header + `"SET","fast","1","1","1","1","1","1"` + "\n",
		"short row":      header + `"SET","1","1"` + "\n",
	} {
		_, err := parseCSV(strings.NewReader(in))
		require.Error(t, err, name)
	}
}

// Ensure that the median is the middle value, the mean of the middle two for
// an even count, 0 for none, and that the input is left unsorted.
func TestMedian_OddEvenEmpty(t *testing.T) {
	in := []float64{3, 1, 2}
	require.Equal(t, 2.0, median(in))
	require.Equal(t, []float64{3, 1, 2}, in)
	require.Equal(t, 2.5, median([]float64{4, 1, 3, 2}))
	require.Equal(t, 7.0, median([]float64{7}))
	require.Equal(t, 0.0, median(nil))
}

// Ensure that a ratio against a zero or failed rate is 0, not Inf or NaN.
func TestRatio_ZeroDenominator(t *testing.T) {
	require.Equal(t, 0.5, ratio(1, 2))
	require.Equal(t, 0.0, ratio(1, 0))
}

func rounds3() []RoundResult {
	mk := func(r int, s, d float64) RoundResult {
		return RoundResult{Round: r, Sessdb: Result{RPS: s, P50Ms: s / 1000, P99Ms: s / 100}, Redis: Result{RPS: d, P50Ms: d / 1000, P99Ms: d / 100}, Ratio: ratio(s, d)}
	}
	// Round 2 is a noisy round where both servers were slow.
	return []RoundResult{mk(1, 1000, 1000), mk(2, 400, 200), mk(3, 900, 1000)}
}

// Ensure that the row's ratio is the median of per-round ratios (here 1.0),
// not the ratio of the median rates (900/1000), and that rates, latencies and
// the ratio range are per-server medians and extremes.
func TestSummarize_UsesMedianOfPerRoundRatios(t *testing.T) {
	sc := Scenario{Key: "set", Workload: "SET", Clients: 50, Pipeline: 1, Side: SideDurable, SessdbFsync: "always", Bench: RedisBenchmark{Tests: "set"}}
	row := summarize(sc, 123, rounds3(), nil)
	require.Equal(t, "set/c50/P1", row.ID)
	require.Equal(t, 123, row.Requests)
	require.InDelta(t, 1.0, row.Ratio, 1e-12)
	require.InDelta(t, 0.9, row.RatioMin, 1e-12)
	require.InDelta(t, 2.0, row.RatioMax, 1e-12)
	require.Equal(t, 900.0, row.Sessdb.RPS)
	require.Equal(t, 1000.0, row.Redis.RPS)
	require.InDelta(t, 0.9, row.Sessdb.P50Ms, 1e-12)
	require.InDelta(t, 10.0, row.Redis.P99Ms, 1e-12)
	require.Empty(t, row.Error)
}

// Ensure that a failed scenario keeps its error and whatever rounds finished.
func TestSummarize_KeepsErrorAndPartialRounds(t *testing.T) {
	sc := Scenario{Key: "get", Workload: "GET", Clients: 1, Pipeline: 1, Side: SideVolatile, Bench: RedisBenchmark{Tests: "get"}}
	row := summarize(sc, 10, rounds3()[:1], context.DeadlineExceeded)
	require.Len(t, row.Rounds, 1)
	require.Equal(t, 1.0, row.Ratio)
	require.Contains(t, row.Error, "deadline")
	empty := summarize(sc, 10, nil, context.Canceled)
	require.Zero(t, empty.Ratio)
	require.Equal(t, "context canceled", empty.Error)
}

// Ensure that percentiles use the nearest-rank method on the sorted sample.
func TestPercentile_NearestRank(t *testing.T) {
	s := make([]int64, 100)
	for i := range s {
		s[i] = int64(i + 1)
	}
	require.Equal(t, int64(50), percentile(s, 50))
	require.Equal(t, int64(99), percentile(s, 99))
	require.Equal(t, int64(100), percentile(s, 100))
	require.Equal(t, int64(7), percentile([]int64{7}, 99))
	require.Equal(t, int64(2), percentile([]int64{1, 2, 3}, 50))
	require.Equal(t, int64(0), percentile(nil, 50))
}

// Ensure that the Markdown output has the header line with the run's facts,
// the agreed columns, one formatted line per row and the errors below.
func TestFormatMarkdown_RendersHeaderRowsAndErrors(t *testing.T) {
	sc := Scenario{Key: "set", Workload: "SET", Clients: 50, Pipeline: 16, Side: SideDurable, Bench: RedisBenchmark{Tests: "set"}}
	bad := Scenario{Key: "get", Workload: "GET", Clients: 1, Pipeline: 1, Side: SideVolatile, Bench: RedisBenchmark{Tests: "get"}}
	rep := Report{
		Meta: Meta{Date: "2025-01-02T03:04:05Z", Nproc: 2, GoVersion: "go1.26.8", RedisServer: "7.0.15", RedisBenchmark: "7.0.15", Command: "go run ./bench -quick", Rounds: 3, Sessdb: "built from ./cmd/sessdb"},
		Rows: []Row{summarize(sc, 1, rounds3(), nil), summarize(bad, 1, nil, context.Canceled)},
	}
	out := formatMarkdown(rep)
	lines := strings.Split(out, "\n")
	require.Contains(t, lines[0], "2025-01-02T03:04:05Z")
	require.Contains(t, lines[0], "nproc 2")
	require.Contains(t, lines[0], "go1.26.8")
	require.Contains(t, lines[0], "redis-server 7.0.15")
	require.Contains(t, lines[0], "`go run ./bench -quick`")
	require.Contains(t, out, "| workload | clients | pipeline | sessdb rps | redis rps | ratio | sessdb p50/p99 ms | redis p50/p99 ms | Redis side |\n")
	require.Contains(t, out, "| SET | 50 | 16 | 900 | 1,000 | 1.00 [0.90–2.00] | 0.90 / 9.00 | 1.00 / 10.00 | always |\n")
	require.Contains(t, out, "| GET | 1 | 1 | – | – | error | – | – | persistence off |\n")
	require.Contains(t, out, "- `get/c1/P1`: context canceled\n")
}

// Ensure that rates are rounded and grouped by thousands.
func TestFormatRPS_GroupsThousands(t *testing.T) {
	require.Equal(t, "0", formatRPS(0))
	require.Equal(t, "999", formatRPS(999.4))
	require.Equal(t, "1,000", formatRPS(999.5))
	require.Equal(t, "581,395", formatRPS(581395.31))
	require.Equal(t, "1,500,000", formatRPS(1.5e6))
}

// Ensure that the command line is shown runnable: go run's temporary binary
// becomes "go run ./bench" and arguments are shell-quoted where needed.
func TestCommandLine_QuotesAndNamesGoRun(t *testing.T) {
	require.Equal(t, "go run ./bench -only '^(set|get)/' -quick", commandLine([]string{"/tmp/go-build123/b001/exe/bench", "-only", "^(set|get)/", "-quick"}))
	require.Equal(t, "./bench -sessdb-args '' -x 'it'\\''s'", commandLine([]string{"./bench", "-sessdb-args", "", "-x", "it's"}))
}

// Ensure that redis-benchmark gets options first and then either -t or the
// custom command, as its custom-command mode requires.
func TestRedisBenchmarkArgs_BuiltinAndCustom(t *testing.T) {
	rc := RunContext{Host: "127.0.0.1", Port: 7000, Clients: 50, Pipeline: 16, Requests: 1000, Keyspace: 100000}
	require.Equal(t, []string{"-h", "127.0.0.1", "-p", "7000", "-c", "50", "-P", "16", "-n", "1000", "-r", "100000", "--csv", "-t", "set"},
		RedisBenchmark{Tests: "set"}.Args(rc))
	require.Equal(t, []string{"-h", "127.0.0.1", "-p", "7000", "-c", "50", "-P", "16", "-n", "1000", "-r", "100000", "--csv", "HSET", "h:__rand_int__", "f", "v"},
		RedisBenchmark{Command: []string{"HSET", "h:__rand_int__", "f", "v"}}.Args(rc))
}

// Ensure that the RESP encoders produce what a server expects, with keys in
// redis-benchmark's zero-padded __rand_int__ format.
func TestAppendCommand_EncodesRESP(t *testing.T) {
	require.Equal(t, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", string(appendCommand(nil, "GET", "k")))
	require.Equal(t, "$16\r\nkey:000000000042\r\n", string(appendBulkKey(nil, "key:", 42)))
	require.Equal(t, "$15\r\nk:1234567890123\r\n", string(appendBulkKey(nil, "k:", 1234567890123)))
	rng := rand.New(rand.NewPCG(1, 1))
	touch := string(sessionGen(10)(1, rng, nil))
	require.True(t, strings.HasPrefix(touch, "*4\r\n$4\r\nHSET\r\n$17\r\nsess:0000000000"), touch)
	require.True(t, strings.HasSuffix(touch, "\r\n$9\r\nlast_seen\r\n$10\r\n1732890001\r\n"), touch)
	read := string(sessionGen(10)(2, rng, nil))
	require.True(t, strings.HasPrefix(read, "*2\r\n$7\r\nHGETALL\r\n$17\r\nsess:0000000000"), read)
}

// Ensure that the reply reader consumes whole replies of every type and
// reports error replies, including one nested in an array.
func TestReadReply_ConsumesRepliesAndReportsErrors(t *testing.T) {
	in := "+OK\r\n:12\r\n$3\r\nabc\r\n$-1\r\n*2\r\n$1\r\na\r\n*1\r\n:1\r\n-ERR boom\r\n*2\r\n+x\r\n-WRONGTYPE no\r\n%1\r\n+k\r\n+v\r\n_\r\n"
	br := bufio.NewReader(strings.NewReader(in))
	var msgs []string
	for range 9 {
		msg, err := readReply(br)
		require.NoError(t, err)
		msgs = append(msgs, msg)
	}
	require.Equal(t, []string{"", "", "", "", "", "ERR boom", "WRONGTYPE no", "", ""}, msgs)
	_, err := readReply(br)
	require.Error(t, err) // EOF: nothing left over
	_, err = readReply(bufio.NewReader(strings.NewReader("?\r\n")))
	require.Error(t, err)
}

// Ensure that the scenario table is well formed: unique IDs, a bench, a
// positive request count, a known fsync policy, and the rows the comparison
// promises (SET and GET also at 1 client, a Go-driven session row).
func TestScenarios_TableIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range scenarios() {
		require.False(t, seen[s.ID()], s.ID())
		seen[s.ID()] = true
		require.NotNil(t, s.Bench, s.ID())
		require.Positive(t, s.Requests, s.ID())
		require.Positive(t, s.Keyspace, s.ID())
		require.Contains(t, []string{"always", "everysec"}, s.SessdbFsync, s.ID())
		if s.Side == SideVolatile {
			require.NotNil(t, s.Preload, "reads need data: %s", s.ID())
		}
	}
	for _, id := range []string{"set/c1/P1", "get/c1/P1", "set-ex/c50/P16", "incr/c50/P1", "hset/c50/P16", "hgetall/c50/P1", "session/c50/P1"} {
		require.True(t, seen[id], id)
	}
}

// Ensure that -only filters by ID regexp and that a filter matching nothing
// or an invalid regexp is an error.
func TestSelectScenarios_FiltersByID(t *testing.T) {
	sel, err := selectScenarios(scenarios(), `^get/`)
	require.NoError(t, err)
	require.Len(t, sel, 3)
	_, err = selectScenarios(scenarios(), `^nothing$`)
	require.Error(t, err)
	_, err = selectScenarios(scenarios(), `(`)
	require.Error(t, err)
}

// Ensure that -n overrides every default and -quick takes a tenth.
func TestRequestsFor_QuickAndOverride(t *testing.T) {
	s := Scenario{Requests: 50_000}
	require.Equal(t, 50_000, requestsFor(s, options{}))
	require.Equal(t, 5_000, requestsFor(s, options{quick: true}))
	require.Equal(t, 77, requestsFor(s, options{quick: true, n: 77}))
}

// Ensure that a redis-server stand-in gets sessdb's persistence and that the
// two Redis sides differ only in persistence.
func TestServerArgs_Sides(t *testing.T) {
	require.Equal(t, []string{"--appendfsync", "always"}, sessdbArgs("always", false, nil))
	require.Equal(t, []string{"--appendfsync", "everysec", "--save", "", "--appendonly", "yes", "--x"}, sessdbArgs("everysec", true, []string{"--x"}))
	require.True(t, isRedisServer("/usr/bin/redis-server"))
	require.False(t, isRedisServer("/tmp/sessdb"))
	require.Equal(t, []string{"--save", "", "--appendonly", "yes", "--appendfsync", "always"}, redisArgs(SideDurable))
	require.Equal(t, []string{"--save", "", "--appendonly", "no"}, redisArgs(SideVolatile))
}

// fakeRESP is an in-process RESP responder on loopback: +OK to every
// command, or an error reply to commands starting with BAD.
func fakeRESP(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br, bw := bufio.NewReader(c), bufio.NewWriter(c)
				for {
					line, err := br.ReadString('\n') // *N
					if err != nil {
						return
					}
					var n int
					_, _ = fmt.Sscanf(line, "*%d", &n)
					var args []string
					for range n {
						if _, err := br.ReadString('\n'); err != nil { // $len
							return
						}
						a, err := br.ReadString('\n')
						if err != nil {
							return
						}
						args = append(args, strings.TrimSpace(a))
					}
					if len(args) > 0 && strings.HasPrefix(args[0], "BAD") {
						bw.WriteString("-ERR bad\r\n")
					} else {
						bw.WriteString("+OK\r\n")
					}
					if br.Buffered() == 0 {
						bw.Flush()
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// Ensure that the Go driver sends exactly the requested commands, each index
// once, over all connections and pipelines, and measures rate and latency.
func TestDriver_SendsAllRequestsAndMeasures(t *testing.T) {
	addr := fakeRESP(t)
	seen := make([]int32, 1000)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := Driver{Addr: addr, Conns: 3, Pipeline: 7, Requests: 1000, Gen: func(i int, _ *rand.Rand, dst []byte) []byte {
		seen[i]++ // each index is handed to exactly one connection
		return appendCommand(dst, "SET", "k", "v")
	}}.Run(ctx)
	require.NoError(t, err)
	for i, c := range seen {
		require.Equal(t, int32(1), c, "index %d", i)
	}
	require.Equal(t, 1000, res.Requests)
	require.Positive(t, res.RPS)
	require.Positive(t, res.P50Ms)
	require.GreaterOrEqual(t, res.P99Ms, res.P50Ms)
	require.GreaterOrEqual(t, res.MaxMs, res.P99Ms)
}

// Ensure that error replies make a driver run fail with the server's message.
func TestDriver_FailsOnErrorReplies(t *testing.T) {
	addr := fakeRESP(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Driver{Addr: addr, Conns: 2, Pipeline: 4, Requests: 40, Gen: func(i int, _ *rand.Rand, dst []byte) []byte {
		if i == 17 {
			return appendCommand(dst, "BADCMD")
		}
		return appendCommand(dst, "PING")
	}}.Run(ctx)
	require.ErrorContains(t, err, "1 error replies, first: ERR bad")
}
