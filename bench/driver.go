package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// CommandGen appends the RESP encoding of exactly one command to dst and
// returns the extended slice. i is the global request index (0 ≤ i <
// Driver.Requests, each index handed out exactly once across all
// connections), so a generator can walk a keyspace deterministically (as the
// preload phase does) or ignore i and draw from rng (as load rows do). rng
// belongs to the calling connection and is not shared.
type CommandGen func(i int, rng *rand.Rand, dst []byte) []byte

// Driver is a small closed-loop RESP load generator for commands that
// redis-benchmark cannot express. Conns connections each send up to Pipeline
// commands in one write, then read that many replies, until Requests commands
// have been sent in total. It measures throughput over the wall-clock time of
// the whole run and the latency of each reply, counted from the write of its
// pipeline batch (as redis-benchmark does).
type Driver struct {
	Addr     string
	Conns    int
	Pipeline int
	Requests int
	Gen      CommandGen
	// MaxSamples bounds the latency sample kept in memory (a per-connection
	// reservoir); 0 means defaultMaxSamples.
	MaxSamples int
	// Seed makes the generators' random streams reproducible.
	Seed uint64
}

const defaultMaxSamples = 1 << 20

// Result is one measured run of one workload against one server.
type Result struct {
	Requests int     `json:"requests"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	AvgMs    float64 `json:"avg_ms"`
	P50Ms    float64 `json:"p50_ms"`
	P95Ms    float64 `json:"p95_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
}

// connStats is what one driver connection measured.
type connStats struct {
	samples []int64 // latency reservoir, nanoseconds
	seen    int64   // replies measured
	sumNs   int64
	maxNs   int64
	errs    int64
	firstEr string
}

// Run executes the load and returns its measurements. Error replies from the
// server make the run fail (a benchmark of errors is meaningless), reporting
// how many there were and the first message.
func (d Driver) Run(ctx context.Context) (Result, error) {
	if d.Conns < 1 || d.Pipeline < 1 || d.Requests < 1 || d.Gen == nil {
		return Result{}, fmt.Errorf("driver: need Conns, Pipeline, Requests ≥ 1 and a Gen (got %d, %d, %d)", d.Conns, d.Pipeline, d.Requests)
	}
	maxSamples := d.MaxSamples
	if maxSamples <= 0 {
		maxSamples = defaultMaxSamples
	}
	perConn := max(1, maxSamples/d.Conns)

	conns := make([]net.Conn, 0, d.Conns)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	dialer := net.Dialer{Timeout: 5 * time.Second}
	for range d.Conns {
		c, err := dialer.DialContext(ctx, "tcp", d.Addr)
		if err != nil {
			return Result{}, fmt.Errorf("driver: dial %s: %w", d.Addr, err)
		}
		conns = append(conns, c)
	}
	// Unblock every read and write as soon as the context ends.
	stop := context.AfterFunc(ctx, func() {
		for _, c := range conns {
			_ = c.SetDeadline(time.Now())
		}
	})
	defer stop()

	var next atomic.Int64
	stats := make([]connStats, d.Conns)
	errs := make([]error, d.Conns)
	var wg sync.WaitGroup
	start := time.Now()
	for ci, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[ci] = d.runConn(c, ci, &next, &stats[ci], perConn)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("driver: %w", err)
	}
	if err := errors.Join(errs...); err != nil {
		return Result{}, err
	}

	var all []int64
	var seen, sum, mx, nerr int64
	first := ""
	for i := range stats {
		s := &stats[i]
		all = append(all, s.samples...)
		seen += s.seen
		sum += s.sumNs
		mx = max(mx, s.maxNs)
		nerr += s.errs
		if first == "" {
			first = s.firstEr
		}
	}
	if nerr > 0 {
		return Result{}, fmt.Errorf("driver: %d error replies, first: %s", nerr, first)
	}
	slices.Sort(all)
	res := Result{
		Requests: d.Requests,
		Seconds:  elapsed.Seconds(),
		RPS:      float64(d.Requests) / elapsed.Seconds(),
		P50Ms:    nsToMs(percentile(all, 50)),
		P95Ms:    nsToMs(percentile(all, 95)),
		P99Ms:    nsToMs(percentile(all, 99)),
		MaxMs:    nsToMs(mx),
	}
	if seen > 0 {
		res.AvgMs = nsToMs(sum / seen)
	}
	return res, nil
}

func (d Driver) runConn(c net.Conn, ci int, next *atomic.Int64, st *connStats, capacity int) error {
	rng := rand.New(rand.NewPCG(d.Seed, uint64(ci)+1))
	br := bufio.NewReaderSize(c, 64<<10)
	buf := make([]byte, 0, 64*d.Pipeline)
	st.samples = make([]int64, 0, min(capacity, d.Requests/d.Conns+d.Pipeline))
	p := int64(d.Pipeline)
	total := int64(d.Requests)
	for {
		base := next.Add(p) - p
		if base >= total {
			return nil
		}
		cnt := int(min(p, total-base))
		buf = buf[:0]
		for j := range cnt {
			buf = d.Gen(int(base)+j, rng, buf)
		}
		t0 := time.Now()
		if _, err := c.Write(buf); err != nil {
			return fmt.Errorf("driver: write: %w", err)
		}
		for range cnt {
			msg, err := readReply(br)
			if err != nil {
				return fmt.Errorf("driver: read reply: %w", err)
			}
			lat := int64(time.Since(t0))
			if msg != "" {
				st.errs++
				if st.firstEr == "" {
					st.firstEr = msg
				}
			}
			st.seen++
			st.sumNs += lat
			st.maxNs = max(st.maxNs, lat)
			if len(st.samples) < capacity {
				st.samples = append(st.samples, lat)
			} else if k := rng.Int64N(st.seen); k < int64(capacity) {
				st.samples[k] = lat
			}
		}
	}
}

func nsToMs(ns int64) float64 { return float64(ns) / 1e6 }

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of an
// ascending slice, or 0 for an empty one.
func percentile(sorted []int64, p float64) int64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(p / 100 * float64(n))
	if float64(rank) < p/100*float64(n) {
		rank++ // ceil
	}
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// readReply reads one complete RESP2/RESP3 reply and discards its payload.
// It returns the message of an error reply (or of the first error nested in
// an aggregate), "" otherwise.
func readReply(br *bufio.Reader) (string, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return "", fmt.Errorf("malformed reply line %q", line)
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+', ':', ',', '#', '_', '(':
		return "", nil
	case '-':
		return string(body), nil
	case '$', '=', '!':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return "", fmt.Errorf("bad bulk length %q", body)
		}
		if n < 0 {
			return "", nil
		}
		if kind != '!' {
			_, err = br.Discard(n + 2)
			return "", err
		}
		msg := make([]byte, n+2)
		if _, err := io.ReadFull(br, msg); err != nil {
			return "", err
		}
		return string(msg[:n]), nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return "", fmt.Errorf("bad aggregate length %q", body)
		}
		if kind == '%' || kind == '|' {
			n *= 2
		}
		first := ""
		for range max(n, 0) {
			msg, err := readReply(br)
			if err != nil {
				return "", err
			}
			if first == "" {
				first = msg
			}
		}
		if kind == '|' { // attribute: the real reply follows
			msg, err := readReply(br)
			if first == "" {
				first = msg
			}
			return first, err
		}
		return first, nil
	default:
		return "", fmt.Errorf("unknown reply type %q", kind)
	}
}

// appendArrayHeader appends a RESP array header "*n\r\n".
func appendArrayHeader(dst []byte, n int) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, '\r', '\n')
}

// appendBulk appends s as a RESP bulk string.
func appendBulk(dst []byte, s string) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// appendBulkKey appends prefix followed by n zero-padded to 12 digits as one
// bulk string: the key format redis-benchmark produces for __rand_int__, so
// data preloaded here is what its -r runs read back.
func appendBulkKey(dst []byte, prefix string, n int) []byte {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], int64(n), 10)
	width := max(12, len(d))
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(prefix)+width), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, prefix...)
	for range width - len(d) {
		dst = append(dst, '0')
	}
	dst = append(dst, d...)
	return append(dst, '\r', '\n')
}

// appendCommand appends a whole command given as separate arguments.
func appendCommand(dst []byte, args ...string) []byte {
	dst = appendArrayHeader(dst, len(args))
	for _, a := range args {
		dst = appendBulk(dst, a)
	}
	return dst
}

// preload writes n commands made by gen (with i = 0..n-1, each once) over a
// few deeply pipelined connections and fails on any error reply. It is the
// untimed setup phase of read scenarios.
func preload(ctx context.Context, addr string, n int, gen CommandGen) error {
	if n <= 0 {
		return nil
	}
	_, err := Driver{Addr: addr, Conns: 4, Pipeline: 256, Requests: n, Gen: gen, MaxSamples: 1024}.Run(ctx)
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	return nil
}
