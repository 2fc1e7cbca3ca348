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
// belongs to the calling connection and is not shared. A CommandGen is a
// Workload whose operations are one command each.
type CommandGen func(i int, rng *rand.Rand, dst []byte) []byte

// Op makes a CommandGen a Workload: one command per operation.
func (g CommandGen) Op(_, i int, rng *rand.Rand, dst []byte) ([]byte, int) {
	return g(i, rng, dst), 1
}

// Workload is what one driver connection runs: operations, each one or more
// commands written together (pipelined). An operation is what the driver
// counts (rps is operations per second) and times: its latency runs from the
// write of its pipeline batch to its last reply.
type Workload interface {
	// Op appends the commands of operation i (0 ≤ i < Driver.Requests, each
	// index handed out once across all connections) to dst for pipeline slot
	// slot (0 ≤ slot < Driver.Pipeline) and returns the extended slice and
	// the number of commands appended, at least 1. rng belongs to the
	// connection.
	Op(slot, i int, rng *rand.Rand, dst []byte) ([]byte, int)
}

// Phased is a Workload whose operations read their replies and may take
// further round trips (read a hash, then write it under a new key). The
// driver parses every reply of an operation's phase into a Value and passes
// them, in order, to Next, which appends the commands of the slot's next
// phase and returns their number, or 0 to end the operation. Phase k+1 of
// all the slots of a pipeline batch is written together, after all their
// phase-k replies. An error reply ends its operation without calling Next
// (and fails the run). The replies slice is reused once Next returns; keep
// strings from it, not the slice.
type Phased interface {
	Workload
	Next(slot int, replies []Value, dst []byte) ([]byte, int, error)
}

// OpGen is a stateless Workload of several commands per operation: it
// appends the commands of operation i and returns their number.
type OpGen func(i int, rng *rand.Rand, dst []byte) ([]byte, int)

// Op calls g.
func (g OpGen) Op(_, i int, rng *rand.Rand, dst []byte) ([]byte, int) { return g(i, rng, dst) }

// Driver is a small closed-loop RESP load generator for commands that
// redis-benchmark cannot express. Conns connections each send up to Pipeline
// operations in one write, then read all their replies, until Requests
// operations have been sent in total. It measures throughput (operations per
// second) over the wall-clock time of the whole run and the latency of each
// operation until its last reply, counted from the write of its pipeline
// batch (as redis-benchmark does for single commands).
type Driver struct {
	Addr     string
	Conns    int
	Pipeline int
	Requests int
	// Gen makes one command per operation; Workload, if set instead, makes
	// each connection's Workload (one per connection, so it may keep
	// per-connection state such as a pool of live tokens).
	Gen      CommandGen
	Workload func(conn int) (Workload, error)
	// FailOnNil counts a null reply or an empty array, set or map (a miss:
	// HGETALL of a missing key, SESS.GET of a dead token) as an error reply,
	// for reads of preloaded data that must hit.
	FailOnNil bool
	// MaxSamples bounds the latency sample kept in memory (a per-connection
	// reservoir); 0 means defaultMaxSamples.
	MaxSamples int
	// Seed makes the generators' random streams reproducible.
	Seed uint64
}

const defaultMaxSamples = 1 << 20

// Result is one measured run of one workload against one server.
type Result struct {
	Requests int `json:"requests"`
	// Commands is the number of commands sent when an operation is several
	// commands (Go driver), else 0.
	Commands int     `json:"commands,omitempty"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	AvgMs    float64 `json:"avg_ms"`
	P50Ms    float64 `json:"p50_ms"`
	P95Ms    float64 `json:"p95_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	// PreloadSeconds is how long the untimed preload before the run took.
	PreloadSeconds float64 `json:"preload_seconds,omitempty"`
	// ExpirySeconds is, in the expiry row, how long after their common
	// deadline the server held keys that had expired (scale.go).
	ExpirySeconds float64 `json:"expiry_seconds,omitempty"`
}

// connStats is what one driver connection measured.
type connStats struct {
	samples []int64 // latency reservoir, nanoseconds
	seen    int64   // operations measured
	cmds    int64   // commands sent
	sumNs   int64
	maxNs   int64
	errs    int64
	firstEr string
}

// Run executes the load and returns its measurements. Error replies from the
// server make the run fail (a benchmark of errors is meaningless), reporting
// how many there were and the first message.
func (d Driver) Run(ctx context.Context) (Result, error) {
	if d.Conns < 1 || d.Pipeline < 1 || d.Requests < 1 || (d.Gen == nil) == (d.Workload == nil) {
		return Result{}, fmt.Errorf("driver: need Conns, Pipeline, Requests ≥ 1 and one of Gen or Workload (got %d, %d, %d)", d.Conns, d.Pipeline, d.Requests)
	}
	workloads := make([]Workload, d.Conns)
	for ci := range workloads {
		if d.Gen != nil {
			workloads[ci] = d.Gen
			continue
		}
		w, err := d.Workload(ci)
		if err != nil {
			return Result{}, fmt.Errorf("driver: connection %d: %w", ci, err)
		}
		workloads[ci] = w
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
			errs[ci] = d.runConn(c, ci, workloads[ci], &next, &stats[ci], perConn)
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
	var seen, cmds, sum, mx, nerr int64
	first := ""
	for i := range stats {
		s := &stats[i]
		all = append(all, s.samples...)
		seen += s.seen
		cmds += s.cmds
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
	if cmds != seen {
		res.Commands = int(cmds)
	}
	if seen > 0 {
		res.AvgMs = nsToMs(sum / seen)
	}
	return res, nil
}

func (d Driver) runConn(c net.Conn, ci int, w Workload, next *atomic.Int64, st *connStats, capacity int) error {
	rng := rand.New(rand.NewPCG(d.Seed, uint64(ci)+1))
	br := bufio.NewReaderSize(c, 64<<10)
	buf := make([]byte, 0, 64*d.Pipeline)
	st.samples = make([]int64, 0, min(capacity, d.Requests/d.Conns+d.Pipeline))
	phased, isPhased := w.(Phased)
	ncmd := make([]int, d.Pipeline)    // commands of each slot's phase in flight, 0 once done
	lat := make([]int64, d.Pipeline)   // each slot's latency so far
	failed := make([]bool, d.Pipeline) // an error reply ended the slot's operation
	var replies [][]Value
	if isPhased {
		replies = make([][]Value, d.Pipeline)
	}
	p := int64(d.Pipeline)
	total := int64(d.Requests)
	for {
		base := next.Add(p) - p
		if base >= total {
			return nil
		}
		cnt := int(min(p, total-base))
		buf = buf[:0]
		for s := range cnt {
			var n int
			buf, n = w.Op(s, int(base)+s, rng, buf)
			if n < 1 {
				return fmt.Errorf("driver: operation %d has no commands", int(base)+s)
			}
			ncmd[s], failed[s] = n, false
		}
		t0 := time.Now()
		for inFlight := cnt; inFlight > 0; {
			if _, err := c.Write(buf); err != nil {
				return fmt.Errorf("driver: write: %w", err)
			}
			for s := range cnt {
				if ncmd[s] == 0 {
					continue
				}
				st.cmds += int64(ncmd[s])
				if isPhased {
					replies[s] = replies[s][:0]
				}
				for range ncmd[s] {
					var msg string
					if isPhased {
						v, err := readValue(br)
						if err != nil {
							return fmt.Errorf("driver: read reply: %w", err)
						}
						msg = v.Err()
						if msg == "" && d.FailOnNil && v.IsEmpty() {
							msg = "null or empty reply"
						}
						replies[s] = append(replies[s], v)
					} else {
						if d.FailOnNil {
							if b, err := br.Peek(3); err == nil && isEmptyReply(b) {
								msg = "null or empty reply"
							}
						}
						m, err := readReply(br)
						if err != nil {
							return fmt.Errorf("driver: read reply: %w", err)
						}
						if msg == "" {
							msg = m
						}
					}
					if msg != "" {
						st.errs++
						failed[s] = true
						if st.firstEr == "" {
							st.firstEr = msg
						}
					}
				}
				lat[s] = int64(time.Since(t0))
			}
			// The next phase of every slot whose operation goes on.
			buf = buf[:0]
			inFlight = 0
			for s := range cnt {
				if ncmd[s] == 0 {
					continue
				}
				n := 0
				if isPhased && !failed[s] {
					var err error
					if buf, n, err = phased.Next(s, replies[s], buf); err != nil {
						return fmt.Errorf("driver: %w", err)
					}
				}
				if ncmd[s] = n; n > 0 {
					inFlight++
					continue
				}
				st.record(lat[s], capacity, rng)
			}
		}
	}
}

// record adds one operation's latency to the stats and the reservoir.
func (st *connStats) record(lat int64, capacity int, rng *rand.Rand) {
	st.seen++
	st.sumNs += lat
	st.maxNs = max(st.maxNs, lat)
	if len(st.samples) < capacity {
		st.samples = append(st.samples, lat)
	} else if k := rng.Int64N(st.seen); k < int64(capacity) {
		st.samples[k] = lat
	}
}

// isEmptyReply reports whether the first three bytes of a reply are those
// of a null ($-1, *-1, _) or of an empty array, set or map (*0, ~0, %0).
// Every reply is at least three bytes long ("_\r\n"), so peeking three
// never blocks on a complete reply.
func isEmptyReply(b []byte) bool {
	switch string(b) {
	case "$-1", "*-1", "_\r\n", "*0\r", "~0\r", "%0\r":
		return true
	}
	return false
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

// Value is one parsed RESP2/RESP3 reply, for workloads that read replies.
type Value struct {
	// Kind is the RESP type byte: '+', '-', ':', '$', '*', '_', '%', ...
	Kind byte
	// Str is the text of a simple or bulk string, an error message, or a
	// number (integer, double, big number, boolean) as sent.
	Str string
	// Null marks a null ($-1, *-1, _).
	Null bool
	// Elems holds an aggregate's elements; a map's are flattened to key,
	// value, key, value.
	Elems []Value
}

// IsEmpty reports whether v is a null or an empty aggregate: a miss.
func (v Value) IsEmpty() bool {
	switch v.Kind {
	case '*', '~', '%', '>':
		return v.Null || len(v.Elems) == 0
	}
	return v.Null
}

// Err returns the message of v if it is an error reply, or of the first
// error nested in it, else "".
func (v Value) Err() string {
	if v.Kind == '-' || v.Kind == '!' {
		return v.Str
	}
	for _, e := range v.Elems {
		if m := e.Err(); m != "" {
			return m
		}
	}
	return ""
}

// Int parses an integer reply.
func (v Value) Int() (int64, error) {
	if v.Kind != ':' {
		return 0, fmt.Errorf("want an integer reply, got %s", v)
	}
	return strconv.ParseInt(v.Str, 10, 64)
}

// String renders v briefly for error messages.
func (v Value) String() string {
	switch {
	case v.Null:
		return "(nil)"
	case v.Kind == '*' || v.Kind == '~' || v.Kind == '%' || v.Kind == '>':
		return fmt.Sprintf("(%d elements)", len(v.Elems))
	}
	return fmt.Sprintf("%c%q", v.Kind, clip(v.Str))
}

// readValue reads one complete RESP2/RESP3 reply into a Value. Verbatim
// strings lose their "txt:" prefix; an attribute is skipped and the reply
// that follows it returned.
func readValue(br *bufio.Reader) (Value, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return Value{}, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return Value{}, fmt.Errorf("malformed reply line %q", line)
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+', '-', ':', ',', '#', '(':
		return Value{Kind: kind, Str: string(body)}, nil
	case '_':
		return Value{Kind: kind, Null: true}, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return Value{}, fmt.Errorf("bad bulk length %q", body)
		}
		if n < 0 {
			return Value{Kind: kind, Null: true}, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(br, b); err != nil {
			return Value{}, err
		}
		s := string(b[:n])
		if kind == '=' && len(s) >= 4 {
			s = s[4:]
		}
		return Value{Kind: kind, Str: s}, nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return Value{}, fmt.Errorf("bad aggregate length %q", body)
		}
		if n < 0 {
			return Value{Kind: kind, Null: true}, nil
		}
		if kind == '%' || kind == '|' {
			n *= 2
		}
		v := Value{Kind: kind, Elems: make([]Value, 0, n)}
		for range n {
			e, err := readValue(br)
			if err != nil {
				return Value{}, err
			}
			v.Elems = append(v.Elems, e)
		}
		if kind == '|' { // attribute: the real reply follows
			return readValue(br)
		}
		return v, nil
	default:
		return Value{}, fmt.Errorf("unknown reply type %q", kind)
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
	return appendBulkPadded(dst, prefix, n, 12)
}

// appendBulkPadded appends prefix followed by n zero-padded to width digits
// as one bulk string.
func appendBulkPadded(dst []byte, prefix string, n, width int) []byte {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], int64(n), 10)
	width = max(width, len(d))
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
	return preloadOps(ctx, addr, n, func(int) (Workload, error) { return gen, nil })
}

// preloadOps is preload for operations of a Workload (several commands per
// operation, or phases that read replies, such as capturing the tokens
// SESS.CREATE returns).
func preloadOps(ctx context.Context, addr string, n int, w func(conn int) (Workload, error)) error {
	if n <= 0 {
		return nil
	}
	_, err := Driver{Addr: addr, Conns: 4, Pipeline: 256, Requests: n, Workload: w, MaxSamples: 1024}.Run(ctx)
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	return nil
}

// roundTrip sends one command on a new connection and returns its reply.
func roundTrip(ctx context.Context, addr string, args ...string) (Value, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return Value{}, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := c.Write(appendCommand(nil, args...)); err != nil {
		return Value{}, err
	}
	v, err := readValue(bufio.NewReader(c))
	if err != nil {
		return Value{}, fmt.Errorf("%s: %w", args[0], err)
	}
	if m := v.Err(); m != "" {
		return v, fmt.Errorf("%s: %s", args[0], m)
	}
	return v, nil
}
