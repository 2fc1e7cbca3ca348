package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
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
	for _, key := range []string{"sess-create", "sess-get", "sess-get-notouch", "sess-rotate", "sess-revokeuser"} {
		for _, shape := range []string{"/c50/P1", "/c1/P1"} {
			require.True(t, seen[key+shape], key+shape)
		}
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
	addr, _ := fakeRESPCounting(t)
	return addr
}

// fakeRESPCounting is fakeRESP that also counts the commands it received
// and answers ECHO x with the bulk string x and NIL with a null bulk.
func fakeRESPCounting(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var count atomic.Int64
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
					count.Add(1)
					switch {
					case len(args) > 0 && strings.HasPrefix(args[0], "BAD"):
						bw.WriteString("-ERR bad\r\n")
					case len(args) == 2 && args[0] == "ECHO":
						bw.Write(appendBulk(nil, args[1]))
					case len(args) > 0 && args[0] == "NIL":
						bw.WriteString("$-1\r\n")
					default:
						bw.WriteString("+OK\r\n")
					}
					if br.Buffered() == 0 {
						bw.Flush()
					}
				}
			}()
		}
	}()
	return l.Addr().String(), &count
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

// decodeCommands parses RESP-encoded commands back into their arguments.
func decodeCommands(t *testing.T, b []byte) [][]string {
	t.Helper()
	br := bufio.NewReader(strings.NewReader(string(b)))
	var out [][]string
	for {
		v, err := readValue(br)
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			return out
		}
		require.Equal(t, byte('*'), v.Kind)
		var args []string
		for _, e := range v.Elems {
			require.Equal(t, byte('$'), e.Kind)
			args = append(args, e.Str)
		}
		out = append(out, args)
	}
}

// Ensure that the Redis create pattern is one operation of five commands —
// MULTI, HSET of the six session fields, EXPIRE 1800, SADD to the user's
// index, EXEC — all on the same session id.
func TestAppendRedisCreate_EncodesMultiOperation(t *testing.T) {
	b, n := appendRedisCreate(nil, "abcdefghijklmnopqrstuv", "u000000000042", 1732890000000)
	require.Equal(t, 5, n)
	cmds := decodeCommands(t, b)
	require.Len(t, cmds, n)
	now := "1732890000000"
	require.Equal(t, [][]string{
		{"MULTI"},
		{"HSET", "sess:abcdefghijklmnopqrstuv", "user", "u000000000042", "created", now, "last_seen", now, "auth_time", now, "ip", sessIP, "ua", sessUA},
		{"EXPIRE", "sess:abcdefghijklmnopqrstuv", "1800"},
		{"SADD", "user:u000000000042", "abcdefghijklmnopqrstuv"},
		{"EXEC"},
	}, cmds)
	// With data (the -memory fill) the hash gets a seventh field and the
	// pattern stays three commands.
	cmds = decodeCommands(t, appendRedisSession(nil, redisID(7), "u1", 1, memData))
	require.Len(t, cmds, 3)
	require.Equal(t, "sess:0000000000000000000007", cmds[0][1])
	require.Equal(t, []string{"data", memData}, cmds[0][len(cmds[0])-2:])
	require.Len(t, memData, 200)
}

// Ensure that a sliding Redis read is HGETALL and PEXPIRE of the same key in
// one operation, and a plain read HGETALL alone; and that the SESS.* sides
// send the grammar the README documents.
func TestSessionOps_Encoding(t *testing.T) {
	rc := RunContext{Clients: 1, Pipeline: 1, Keyspace: 10, Loaded: []string{"tok.secret"}}
	rng := rand.New(rand.NewPCG(1, 1))
	w, err := redisGetConn(true)(rc, 0)
	require.NoError(t, err)
	b, n := w.Op(0, 0, rng, nil)
	cmds := decodeCommands(t, b)
	require.Equal(t, 2, n)
	require.Len(t, cmds, 2)
	require.Equal(t, "HGETALL", cmds[0][0])
	require.Equal(t, []string{"PEXPIRE", cmds[0][1], "1800000"}, cmds[1])
	require.Regexp(t, `^sess:\d{22}$`, cmds[0][1])
	w, err = redisGetConn(false)(rc, 0)
	require.NoError(t, err)
	b, n = w.Op(0, 0, rng, nil)
	require.Equal(t, 1, n)
	require.Len(t, decodeCommands(t, b), 1)

	w, err = sessGetConn(true)(rc, 0)
	require.NoError(t, err)
	b, n = w.Op(0, 0, rng, nil)
	require.Equal(t, 1, n)
	require.Equal(t, [][]string{{"SESS.GET", "tok.secret", "NOTOUCH"}}, decodeCommands(t, b))
	w, err = sessCreateConn(RunContext{Keyspace: 5}, 0)
	require.NoError(t, err)
	b, _ = w.Op(0, 0, rng, nil)
	c := decodeCommands(t, b)[0]
	require.Equal(t, []string{"SESS.CREATE"}, c[:1])
	require.Regexp(t, `^u\d{12}$`, c[1])
	require.Equal(t, []string{"IDLE", "1800", "META", "ip", sessIP, "ua", sessUA}, c[2:])
	_, err = sessGetConn(false)(RunContext{}, 0)
	require.ErrorContains(t, err, "no preloaded session tokens")
}

// Ensure that new Redis session ids are 22 base64url characters, like
// sessdb's public ids, and that preloaded ones are the padded index.
func TestIDs_Shape(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := randID(rng), randID(rng)
	require.Regexp(t, `^[A-Za-z0-9_-]{22}$`, a)
	require.NotEqual(t, a, b)
	require.Equal(t, "0000000000000000000042", redisID(42))
	require.Equal(t, "ru000000000007", userName("ru", 7))
	require.Equal(t, "$27\r\nsess:0000000000000000000042\r\n", string(appendBulkPadded(nil, "sess:", 42, sessIDLen)))
}

// Ensure that SESS.ROTATE rotates the pool's tokens in turn and replaces
// each with the token the server returned, so the next round rotates live
// tokens; a null reply (a dead token) is an error.
func TestSessRotate_ReplacesTokens(t *testing.T) {
	rc := RunContext{Clients: 2, Pipeline: 2, Loaded: []string{"t0", "t1", "t2", "t3", "t4"}}
	w, err := sessRotateConn(rc, 0) // pool t0, t2, t4
	require.NoError(t, err)
	ph := w.(Phased)
	var sent []string
	for round := range 2 {
		for slot := range 2 { // a pipeline of two: distinct tokens in flight
			b, n := ph.Op(slot, 0, nil, nil)
			require.Equal(t, 1, n)
			sent = append(sent, decodeCommands(t, b)[0][1])
		}
		for slot := range 2 {
			_, n, err := ph.Next(slot, []Value{{Kind: '$', Str: fmt.Sprintf("new%d-%d", round, slot)}}, nil)
			require.NoError(t, err)
			require.Zero(t, n)
		}
	}
	// Round 1 took t4 and the token that replaced t0.
	require.Equal(t, []string{"t0", "t2", "t4", "new0-0"}, sent)
	ph.Op(0, 0, nil, nil)
	_, _, err = ph.Next(0, []Value{{Kind: '$', Null: true}}, nil)
	require.ErrorContains(t, err, "SESS.ROTATE replied (nil)")
	// A pool smaller than the pipeline could rotate one token twice at once.
	_, err = sessRotateConn(RunContext{Clients: 4, Pipeline: 2, Loaded: []string{"a", "b", "c", "d"}}, 0)
	require.ErrorContains(t, err, "pipeline depth")
}

// Ensure that the Redis rotation reads the old hash, then writes it under a
// new id inside MULTI … EXEC with the index moved (seven commands), and
// moves the pool to the new id once EXEC succeeded.
func TestRedisRotate_Phases(t *testing.T) {
	rc := RunContext{Clients: 1, Pipeline: 1, Keyspace: 3}
	w, err := redisRotateConn(rc, 0)
	require.NoError(t, err)
	ph := w.(Phased)
	rng := rand.New(rand.NewPCG(3, 3))
	b, n := ph.Op(0, 0, rng, nil)
	require.Equal(t, 1, n)
	old := redisID(0)
	require.Equal(t, [][]string{{"HGETALL", "sess:" + old}}, decodeCommands(t, b))
	hash := Value{Kind: '*', Elems: []Value{{Kind: '$', Str: "user"}, {Kind: '$', Str: "u7"}, {Kind: '$', Str: "ip"}, {Kind: '$', Str: "1.2.3.4"}}}
	b, n, err = ph.Next(0, []Value{hash}, nil)
	require.NoError(t, err)
	require.Equal(t, 7, n)
	cmds := decodeCommands(t, b)
	require.Len(t, cmds, 7)
	newKey := cmds[1][1]
	newID := strings.TrimPrefix(newKey, "sess:")
	require.Regexp(t, `^[A-Za-z0-9_-]{22}$`, newID)
	require.Equal(t, [][]string{
		{"MULTI"},
		{"HSET", newKey, "user", "u7", "ip", "1.2.3.4"},
		{"EXPIRE", newKey, "1800"},
		{"SADD", "user:u7", newID},
		{"SREM", "user:u7", old},
		{"DEL", "sess:" + old},
		{"EXEC"},
	}, cmds)
	queued := Value{Kind: '+', Str: "QUEUED"}
	exec := Value{Kind: '*', Elems: []Value{{Kind: ':', Str: "2"}, {Kind: ':', Str: "1"}, {Kind: ':', Str: "1"}, {Kind: ':', Str: "1"}, {Kind: ':', Str: "1"}}}
	_, n, err = ph.Next(0, []Value{{Kind: '+', Str: "OK"}, queued, queued, queued, queued, queued, exec}, nil)
	require.NoError(t, err)
	require.Zero(t, n)
	ph.Op(0, 1, rng, nil) // pool of 3: ids 1, 2, then the new id
	ph.Op(0, 2, rng, nil)
	b, _ = ph.Op(0, 3, rng, nil)
	require.Equal(t, [][]string{{"HGETALL", newKey}}, decodeCommands(t, b))
	// A hash without a user (the session is gone) is an error.
	_, _, err = ph.Next(0, []Value{{Kind: '*'}}, nil)
	require.ErrorContains(t, err, "no user field")
}

// Ensure that the Redis revoke-all deletes every member SMEMBERS returned
// and the index in one pipelined phase (members + 1 commands), and checks
// both the member count and every DEL.
func TestRedisRevoke_Phases(t *testing.T) {
	w, err := redisRevokeConn(RunContext{Pipeline: 1, Keyspace: 3}, 0)
	require.NoError(t, err)
	ph := w.(Phased)
	b, n := ph.Op(0, 5, nil, nil)
	require.Equal(t, 1, n)
	require.Equal(t, [][]string{{"SMEMBERS", "user:ru000000000005"}}, decodeCommands(t, b))
	members := Value{Kind: '*', Elems: []Value{{Kind: '$', Str: "a"}, {Kind: '$', Str: "b"}, {Kind: '$', Str: "c"}}}
	b, n, err = ph.Next(0, []Value{members}, nil)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	require.Equal(t, [][]string{{"DEL", "sess:a"}, {"DEL", "sess:b"}, {"DEL", "sess:c"}, {"DEL", "user:ru000000000005"}}, decodeCommands(t, b))
	one := Value{Kind: ':', Str: "1"}
	_, n, err = ph.Next(0, []Value{one, one, one, one}, nil)
	require.NoError(t, err)
	require.Zero(t, n)
	ph.Op(0, 6, nil, nil)
	_, _, err = ph.Next(0, []Value{{Kind: '*', Elems: members.Elems[:2]}}, nil)
	require.ErrorContains(t, err, "SMEMBERS gave 2 ids, want 3")
	ph.Op(0, 7, nil, nil)
	ph.Next(0, []Value{members}, nil)
	_, _, err = ph.Next(0, []Value{one, {Kind: ':', Str: "0"}, one, one}, nil)
	require.ErrorContains(t, err, "DEL replied")
	// sessdb's side checks the count REVOKEUSER returns.
	sw, _ := sessRevokeConn(RunContext{Keyspace: 1000}, 0)
	b, _ = sw.Op(0, 9, nil, nil)
	require.Equal(t, [][]string{{"SESS.REVOKEUSER", "ru000000000009"}}, decodeCommands(t, b))
	_, _, err = sw.(Phased).Next(0, []Value{{Kind: ':', Str: "1000"}}, nil)
	require.NoError(t, err)
	_, _, err = sw.(Phased).Next(0, []Value{{Kind: ':', Str: "999"}}, nil)
	require.ErrorContains(t, err, "want 1000")
}

// Ensure that an operation of several commands is counted once, its
// commands all reach the server, and its replies are all consumed (the next
// operation's replies are not misread), with and without pipelining.
func TestDriver_MultiCommandOperations(t *testing.T) {
	for _, pipe := range []int{1, 5} {
		addr, count := fakeRESPCounting(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res, err := Driver{Addr: addr, Conns: 3, Pipeline: pipe, Requests: 200, Workload: func(int) (Workload, error) {
			return OpGen(func(i int, _ *rand.Rand, dst []byte) ([]byte, int) {
				k := 1 + i%3 // 1, 2 or 3 commands
				for range k {
					dst = appendCommand(dst, "SET", "k", "v")
				}
				return dst, k
			}), nil
		}}.Run(ctx)
		cancel()
		require.NoError(t, err)
		// Indices 0..199: 67 ops of 1 command, 67 of 2, 66 of 3.
		require.Equal(t, 200, res.Requests, "pipeline %d", pipe)
		require.Equal(t, 67+2*67+3*66, res.Commands)
		require.Equal(t, int64(res.Commands), count.Load())
		require.Positive(t, res.P50Ms)
	}
}

// echoTwice is a phased workload: ECHO op<i>, then ECHO of the reply it got
// plus "!", checking that each pipeline slot sees its own replies.
type echoTwice struct {
	op    []int
	phase []int
	done  *atomic.Int64
}

func (w *echoTwice) Op(slot, i int, _ *rand.Rand, dst []byte) ([]byte, int) {
	w.op[slot], w.phase[slot] = i, 0
	dst = appendCommand(dst, "ECHO", "op"+strconv.Itoa(i))
	return appendCommand(dst, "PING"), 2
}

func (w *echoTwice) Next(slot int, r []Value, dst []byte) ([]byte, int, error) {
	want := "op" + strconv.Itoa(w.op[slot])
	if w.phase[slot] == 1 {
		want += "!"
	}
	if len(r) != 2 || r[0].Str != want || r[1].Str != "OK" {
		return dst, 0, fmt.Errorf("slot %d phase %d: replies %v, want %s", slot, w.phase[slot], r, want)
	}
	if w.phase[slot] == 1 {
		w.done.Add(1)
		return dst, 0, nil
	}
	w.phase[slot] = 1
	dst = appendCommand(dst, "ECHO", r[0].Str+"!")
	return appendCommand(dst, "PING"), 2, nil
}

// Ensure that phased operations get their own replies in order, run every
// phase (two round trips each here), count once, and fail the run on an
// error Next returns.
func TestDriver_PhasedOperations(t *testing.T) {
	addr, count := fakeRESPCounting(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var done atomic.Int64
	res, err := Driver{Addr: addr, Conns: 2, Pipeline: 4, Requests: 101, Workload: func(int) (Workload, error) {
		return &echoTwice{op: make([]int, 4), phase: make([]int, 4), done: &done}, nil
	}}.Run(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(101), done.Load())
	require.Equal(t, 101, res.Requests)
	require.Equal(t, 404, res.Commands)
	require.Equal(t, int64(404), count.Load())

	_, err = Driver{Addr: addr, Conns: 1, Pipeline: 2, Requests: 4, Workload: func(int) (Workload, error) {
		return &sessRotate{pool: []string{"a", "b"}, slot: make([]int, 2)}, nil // +OK is no token
	}}.Run(ctx)
	require.ErrorContains(t, err, "SESS.ROTATE replied")
	_, err = Driver{Addr: addr, Conns: 1, Pipeline: 1, Requests: 1, Workload: func(int) (Workload, error) {
		return nil, errors.New("no pool")
	}}.Run(ctx)
	require.ErrorContains(t, err, "connection 0: no pool")
	_, err = Driver{Addr: addr, Conns: 1, Pipeline: 1, Requests: 1}.Run(ctx)
	require.ErrorContains(t, err, "one of Gen or Workload")
}

// Ensure that with FailOnNil a null reply fails the run, whether replies
// are parsed (phased) or skipped, and that without it nulls are fine.
func TestDriver_FailOnNil(t *testing.T) {
	addr := fakeRESP(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gen := func(i int, _ *rand.Rand, dst []byte) []byte {
		if i == 3 {
			return appendCommand(dst, "NIL")
		}
		return appendCommand(dst, "PING")
	}
	_, err := Driver{Addr: addr, Conns: 1, Pipeline: 2, Requests: 10, Gen: gen}.Run(ctx)
	require.NoError(t, err)
	_, err = Driver{Addr: addr, Conns: 1, Pipeline: 2, Requests: 10, Gen: gen, FailOnNil: true}.Run(ctx)
	require.ErrorContains(t, err, "1 error replies, first: null or empty reply")
	_, err = Driver{Addr: addr, Conns: 1, Pipeline: 2, Requests: 10, FailOnNil: true, Workload: func(int) (Workload, error) {
		return &tokenCapture{tokens: make([]string, 10), perUser: 1, user: "u", index: make([]int, 2)}, nil // +OK: no token
	}}.Run(ctx)
	require.ErrorContains(t, err, "SESS.CREATE replied")
}

// Ensure that the peek check recognises nulls and empty aggregates only.
func TestIsEmptyReply(t *testing.T) {
	for _, in := range []string{"$-1\r\n", "*-1\r\n", "_\r\n", "*0\r\n", "%0\r\n", "~0\r\n"} {
		require.True(t, isEmptyReply([]byte(in[:3])), in)
	}
	for _, in := range []string{"$0\r\n\r\n", "*1\r\n", ":0\r\n", "+OK\r\n", "*10\r\n", "-ERR\r\n"} {
		require.False(t, isEmptyReply([]byte(in[:3])), in)
	}
}

// Ensure that readValue parses every reply type into a Value (maps
// flattened, verbatim prefix dropped, attributes skipped) and finds nested
// errors, and that IsEmpty marks misses.
func TestReadValue_ParsesReplies(t *testing.T) {
	in := "+OK\r\n:12\r\n$3\r\nabc\r\n$-1\r\n*2\r\n$1\r\na\r\n*1\r\n:1\r\n-ERR boom\r\n*2\r\n+x\r\n-WRONGTYPE no\r\n%1\r\n+k\r\n$1\r\nv\r\n_\r\n=7\r\ntxt:abc\r\n|1\r\n+a\r\n+b\r\n:5\r\n*0\r\n"
	br := bufio.NewReader(strings.NewReader(in))
	var vs []Value
	for range 12 {
		v, err := readValue(br)
		require.NoError(t, err)
		vs = append(vs, v)
	}
	_, err := readValue(br)
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, Value{Kind: '+', Str: "OK"}, vs[0])
	n, err := vs[1].Int()
	require.NoError(t, err)
	require.Equal(t, int64(12), n)
	require.Equal(t, "abc", vs[2].Str)
	require.True(t, vs[3].Null && vs[3].IsEmpty())
	require.Len(t, vs[4].Elems, 2)
	require.Equal(t, "1", vs[4].Elems[1].Elems[0].Str)
	require.Equal(t, "ERR boom", vs[5].Err())
	require.Equal(t, "WRONGTYPE no", vs[6].Err())
	require.Equal(t, []Value{{Kind: '+', Str: "k"}, {Kind: '$', Str: "v"}}, vs[7].Elems)
	require.True(t, vs[8].IsEmpty())
	require.Equal(t, "abc", vs[9].Str)
	require.Equal(t, Value{Kind: ':', Str: "5"}, vs[10])
	require.True(t, vs[11].IsEmpty())
	require.False(t, vs[4].IsEmpty())
	require.Empty(t, vs[4].Err())
	_, err = vs[0].Int()
	require.Error(t, err)
}

// Ensure that a scenario runs its Redis-side preload and bench on Redis
// only when they are set, and that -list shows both sides.
func TestScenario_RedisSide(t *testing.T) {
	pre := plain(func(context.Context, string, int) error { return nil })
	rpre := Preload(func(context.Context, RunContext) (any, error) { return "r", nil })
	sc := Scenario{Preload: pre, Bench: RedisBenchmark{Tests: "set"}}
	p, b := sc.For(true)
	require.NotNil(t, p)
	require.Equal(t, sc.Bench, b)
	require.Equal(t, "redis-benchmark -t set", sc.Describe())
	sc.RedisPreload, sc.RedisBench = rpre, RedisBenchmark{Tests: "get"}
	p, b = sc.For(true)
	got, _ := p(context.Background(), RunContext{})
	require.Equal(t, "r", got)
	require.Equal(t, RedisBenchmark{Tests: "get"}, b)
	_, b = sc.For(false)
	require.Equal(t, RedisBenchmark{Tests: "set"}, b)
	require.Equal(t, "sessdb: redis-benchmark -t set | redis: redis-benchmark -t get", sc.Describe())
	for _, s := range sessScenarios() {
		require.NotNil(t, s.RedisBench, s.ID())
		require.Equal(t, SideDurable, s.Side, s.ID())
		require.Equal(t, "always", s.SessdbFsync, s.ID())
		require.Equal(t, 1, s.Pipeline, s.ID())
	}
}

// Ensure that /proc/<pid>/status and INFO are parsed into bytes and fields,
// and that this process's own status has a VmRSS.
func TestProcStatusAndInfo(t *testing.T) {
	st, err := parseProcStatus(strings.NewReader("Name:\tredis-server\nVmRSS:\t  12345 kB\nRssAnon:\t 100 kB\nThreads:\t4\n"))
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"VmRSS": 12345 << 10, "RssAnon": 100 << 10}, st)
	_, err = parseProcStatus(strings.NewReader("Name:\tx\n"))
	require.Error(t, err)
	own, err := procStatus(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, own["VmRSS"])
	f := infoFields("# Memory\r\nused_memory:1024\r\nused_memory_human:1.00K\r\n\r\n# Sessions\r\nsessions_live:7\r\n")
	require.Equal(t, "1024", f["used_memory"])
	require.Equal(t, "7", f["sessions_live"])
	require.NotContains(t, f, "# Memory")
}

// Ensure that the memory table shows per-session bytes, the RSS ratio and
// the restart times.
func TestFormatMemory(t *testing.T) {
	rep := MemReport{
		Meta:   Meta{Date: "2025-01-02T03:04:05Z", Nproc: 2, GoVersion: "go1.26.8", RedisServer: "7.0.15", Command: "go run ./bench -memory", Sessdb: "built"},
		Sessdb: MemSide{Sessions: 1000, RSSEmpty: 10_000_000, RSSFilled: 11_000_000, RSSRestarted: 10_500_000, RestartSeconds: 0.5, DiskBytes: 1 << 20},
		Redis:  MemSide{Sessions: 1000, RSSEmpty: 5_000_000, RSSFilled: 5_800_000, RSSRestarted: 5_800_000, UsedEmpty: 1_000_000, UsedFilled: 1_700_000, RestartSeconds: 1.0, RestartRewrittenSeconds: 0.25},
	}
	out := formatMemory(rep)
	require.Contains(t, out, "| sessdb RSS | 1000 | 500 |\n")
	require.Contains(t, out, "| Redis RSS | 800 | 800 |\n")
	require.Contains(t, out, "| Redis used_memory | 700 |")
	require.Contains(t, out, "| **sessdb RSS / Redis RSS** | **1.25** | **0.62** |\n")
	require.Contains(t, out, "| sessdb | 1.0 MB | 0.500 s |\n")
	require.Contains(t, out, "| **sessdb / Redis AOF as written** | | **0.50** |\n")
	require.Contains(t, out, "| sessdb / Redis rewritten AOF | | 2.00 |\n")
	require.Equal(t, 0.0, perSession(1, 2, 0))
}

// Ensure that writeCharts draws the three PNG charts of a report, skipping
// rows without rounds, and that -table turns the charts on by default.
func TestWriteCharts_WritesPNGs(t *testing.T) {
	mk := func(key, workload string, clients, pipe int) Row {
		return summarize(Scenario{Key: key, Workload: workload, Clients: clients, Pipeline: pipe, Side: SideDurable, Bench: RedisBenchmark{Tests: key}}, 1, rounds3(), nil)
	}
	failed := summarize(Scenario{Key: "get", Workload: "GET", Clients: 1, Pipeline: 1, Side: SideVolatile, Bench: RedisBenchmark{Tests: "get"}}, 1, nil, context.Canceled)
	rep := Report{
		Meta: Meta{Date: "2025-01-02T03:04:05Z", Nproc: 2, RedisServer: "7.0.15", Rounds: 3},
		Rows: []Row{mk("set", "SET", 50, 1), mk("set", "SET", 50, 16), mk("set", "SET", 1, 1), mk("hset", "HSET", 50, 1), failed},
	}
	dir := t.TempDir()
	files, err := writeCharts(dir, rep)
	require.NoError(t, err)
	require.Len(t, files, 3)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.Greater(t, len(b), 1000)
		require.Equal(t, "\x89PNG", string(b[:4]), f)
	}

	o, err := parseFlags([]string{"-table"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "bench/charts", o.charts)
	_, err = parseFlags([]string{"-table", "-memory"}, io.Discard)
	require.Error(t, err)
}

// Ensure that -floor times both commit patterns on the -dir disk, prints
// their table and the ratio of the floors, and leaves nothing behind.
func TestRun_FloorMeasuresBothPatterns(t *testing.T) {
	dir := t.TempDir()
	var out, errs strings.Builder
	code := run([]string{"bench", "-floor", "-n", "20", "-dir", dir}, &out, &errs)
	require.Equal(t, 0, code, errs.String())
	require.Contains(t, out.String(), "| Redis AOF, appendfsync always |")
	require.Contains(t, out.String(), "| sessdb, bbolt commit |")
	i := strings.Index(out.String(), "ratio of the floors (Redis AOF / bbolt commit): ")
	require.True(t, i >= 0, out.String())
	ratio, err := strconv.ParseFloat(strings.Fields(out.String()[i+len("ratio of the floors (Redis AOF / bbolt commit): "):])[0], 64)
	require.NoError(t, err)
	require.Greater(t, ratio, 0.0)
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, left)
}
