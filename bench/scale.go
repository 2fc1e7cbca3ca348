package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The two rows of issue #7 that are not a plain throughput comparison:
//
//   - expiry-storm: the p99 of concurrent GETs while a million keys expire
//     in the same millisecond, sessdb against Redis with persistence off
//     (reads; sessdb runs with --appendfsync everysec and pays for writing
//     the deletions). Its ratio is sessdb p99 / Redis p99: lower is better,
//     the target is ≤ 1.
//   - scale-get and scale-set (only with -big): sessdb alone, GET and SET
//     throughput with 10M keys (-big-keys) against the same with 10k keys.
//     The "redis" side of these rows is sessdb again, on a keyspace of
//     scaleBaseline keys; the ratio is big/small rps (target: ≥ 0.8, within
//     20 %).

const (
	// stormHot is the expiry row's Keyspace: non-expiring keys the GETs read.
	stormHot = 10_000
	// stormKeys is the expiry row's default request count: the keys that
	// expire together (-n and -quick change it).
	stormKeys = 1_000_000
	// stormPoll is how often the bench reads INFO keyspace to see the
	// expiring keys go.
	stormPoll = 50 * time.Millisecond
	// stormLimit bounds the wait for the last expiring key to be reclaimed.
	stormLimit = 60 * time.Second
	// stormTail is how long the window goes on after the last key went, and
	// stormMinWindow its shortest length.
	stormTail      = 500 * time.Millisecond
	stormMinWindow = 2 * time.Second
	// scaleBaseline is the small keyspace the -big rows compare against.
	scaleBaseline = 10_000
	// scaleSettle bounds the wait for sessdb's fold after a scale fill.
	scaleSettle = 5 * time.Minute
	// defaultBigKeys is -big-keys.
	defaultBigKeys = 10_000_000
)

// stormScenarios is the expiry row: 50 clients, pipeline 1, GET of stormHot
// preloaded keys while the preload's Requests keys expire.
func stormScenarios() []Scenario {
	b := ExpiryStorm{}
	s := Scenario{
		Key: "expiry-storm", Workload: "GET p99 while 1M keys expire at once (ratio: p99 sessdb/redis, ≤ 1 is better)",
		Clients: 50, Pipeline: 1, Requests: stormKeys, Keyspace: stormHot,
		Side: SideVolatile, SessdbFsync: "everysec", Preload: preloadStorm, Bench: b,
		LatencyRatio: true, Timeout: 5 * time.Minute,
	}
	return []Scenario{s}
}

// bigScenarios are the -big rows: sessdb's GET and SET at keys keys against
// the same at scaleBaseline keys, both with --appendfsync everysec (the row
// measures the keyspace, not the disk).
func bigScenarios(keys int) []Scenario {
	label := func(cmd string) string {
		return fmt.Sprintf("%s at %s keys vs %s (sessdb only)", cmd, humanCount(keys), humanCount(scaleBaseline))
	}
	side := Side("sessdb at " + humanCount(scaleBaseline) + " keys")
	row := func(key, workload string, b Bench) Scenario {
		return Scenario{
			Key: key, Workload: workload, Clients: 50, Pipeline: 16, Requests: 1_000_000,
			Keyspace: keys, Baseline: scaleBaseline, Side: side, SessdbFsync: "everysec",
			Preload: preloadScale, Bench: b, Timeout: 30 * time.Minute,
		}
	}
	return []Scenario{
		row("scale-get", label("GET"), RedisBenchmark{Tests: "get"}),
		row("scale-set", label("SET"), RedisBenchmark{Tests: "set"}),
	}
}

// preloadScale fills the keyspace like the GET rows, then waits (at most
// scaleSettle) until sessdb has folded its whole log into the keyspace
// buckets (INFO persistence log_records 0), so that the timed run measures
// the keyspace's size, not the background fold a fill leaves behind. A
// server without log_records (a redis-server stand-in) is not waited for.
func preloadScale(ctx context.Context, rc RunContext) (any, error) {
	if err := preloadStrings(ctx, rc.Addr, rc.Keyspace); err != nil {
		return nil, err
	}
	_, err := waitFolded(ctx, rc.Addr, scaleSettle)
	return nil, err
}

// waitFolded waits (at most limit) until the server at addr reports INFO
// persistence log_records 0, and returns how long that took; a server
// without the field (Redis) returns at once.
func waitFolded(ctx context.Context, addr string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	for {
		v, err := roundTrip(ctx, addr, "INFO", "persistence")
		if err != nil {
			return 0, err
		}
		left, ok := infoFields(v.Str)["log_records"]
		if !ok || left == "0" {
			return time.Since(start), nil
		}
		if time.Since(start) > limit {
			return 0, fmt.Errorf("%s log records still unfolded %v after the fill", left, limit)
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// humanCount renders 10000 as "10k" and 10000000 as "10M".
func humanCount(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1_000 && n%1_000 == 0:
		return strconv.Itoa(n/1_000) + "k"
	}
	return strconv.Itoa(n)
}

// stormPlan is what the expiry row's preload hands to its bench.
type stormPlan struct {
	At   time.Time // when every expiring key expires (a whole second)
	Keys int       // how many expire
}

// preloadStorm fills rc.Keyspace non-expiring keys key:%012d, then
// rc.Requests keys exp:%012d with SET … PXAT of one whole second, chosen
// from the rate of the first fill so that the second one ends well before
// it (twice the estimated time plus 2 s). It fails if the fill ended less
// than 300 ms before the deadline or the server does not hold every key.
func preloadStorm(ctx context.Context, rc RunContext) (any, error) {
	t0 := time.Now()
	if err := preloadStrings(ctx, rc.Addr, rc.Keyspace); err != nil {
		return nil, err
	}
	perKey := time.Since(t0) / time.Duration(max(rc.Keyspace, 1))
	at := time.Now().Add(2*time.Second + 2*perKey*time.Duration(rc.Requests)).Truncate(time.Second).Add(time.Second)
	atMs := strconv.FormatInt(at.UnixMilli(), 10)
	err := preload(ctx, rc.Addr, rc.Requests, func(i int, _ *rand.Rand, dst []byte) []byte {
		dst = appendArrayHeader(dst, 5)
		dst = appendBulk(dst, "SET")
		dst = appendBulkKey(dst, "exp:", i)
		dst = appendBulk(dst, "xxx")
		dst = appendBulk(dst, "PXAT")
		return appendBulk(dst, atMs)
	})
	if err != nil {
		return nil, err
	}
	if left := time.Until(at); left < 300*time.Millisecond {
		return nil, fmt.Errorf("expiry preload: the fill of %d keys ended %v before their deadline; the estimate from the first %d keys was too low", rc.Requests, left, rc.Keyspace)
	}
	keys, expires, err := keyspaceInfo(ctx, rc.Addr)
	if err != nil {
		return nil, err
	}
	if keys != int64(rc.Keyspace+rc.Requests) || expires != int64(rc.Requests) {
		return nil, fmt.Errorf("expiry preload: INFO keyspace says keys=%d expires=%d, want %d and %d", keys, expires, rc.Keyspace+rc.Requests, rc.Requests)
	}
	return stormPlan{At: at, Keys: rc.Requests}, nil
}

// keyspaceInfo reads db0's keys and expires from INFO keyspace (0, 0 when
// db0 is empty). Both servers count expired keys not yet reclaimed.
func keyspaceInfo(ctx context.Context, addr string) (keys, expires int64, err error) {
	v, err := roundTrip(ctx, addr, "INFO", "keyspace")
	if err != nil {
		return 0, 0, err
	}
	return parseKeyspace(v.Str)
}

// parseKeyspace extracts keys= and expires= of the db0 line of INFO
// keyspace.
func parseKeyspace(info string) (keys, expires int64, err error) {
	line, ok := infoFields(info)["db0"]
	if !ok {
		return 0, 0, nil
	}
	found := 0
	for _, kv := range strings.Split(line, ",") {
		k, v, _ := strings.Cut(kv, "=")
		var dst *int64
		switch k {
		case "keys":
			dst = &keys
		case "expires":
			dst = &expires
		default:
			continue
		}
		if *dst, err = strconv.ParseInt(v, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("INFO keyspace: %q: %w", line, err)
		}
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("INFO keyspace: no keys/expires in %q", line)
	}
	return keys, expires, nil
}

// ExpiryStorm is the expiry row's bench. rc.Clients connections send GETs
// of random preloaded non-expiring keys (rc.Keyspace of them, pipeline
// rc.Pipeline) from before the deadline the preload set (rc.Loaded, a
// stormPlan) until the server has reclaimed every expiring key (INFO
// keyspace expires=0, polled every 50 ms) plus 500 ms, and at least 2 s.
// Only GETs that complete inside that window, which starts at the
// deadline, count: the result's rate, p50, p99 and max are theirs, and
// ExpirySeconds is the time from the deadline until the last expiring key
// was gone. A miss or an error reply fails the run.
type ExpiryStorm struct{}

func (ExpiryStorm) Describe() string {
	return "go: GET key:<rand> at 50 clients from the deadline of SET exp:<i> … PXAT <one second> until INFO keyspace expires=0"
}

func (ExpiryStorm) Run(ctx context.Context, rc RunContext) (Result, error) {
	plan, ok := rc.Loaded.(stormPlan)
	if !ok {
		return Result{}, errors.New("expiry storm: no stormPlan from the preload")
	}
	if rc.Clients < 1 || rc.Pipeline < 1 || rc.Keyspace < 1 {
		return Result{}, errors.New("expiry storm: need clients, pipeline and keyspace ≥ 1")
	}
	conns := make([]net.Conn, 0, rc.Clients)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	var dialer net.Dialer
	for range rc.Clients {
		c, err := dialer.DialContext(ctx, "tcp", rc.Addr)
		if err != nil {
			return Result{}, fmt.Errorf("expiry storm: dial: %w", err)
		}
		conns = append(conns, c)
	}
	stop := context.AfterFunc(ctx, func() {
		for _, c := range conns {
			_ = c.SetDeadline(time.Now())
		}
	})
	defer stop()

	// end is set once the window's end is known; clients stop at it.
	var mu sync.Mutex
	var end time.Time
	ended := func(now time.Time) bool {
		mu.Lock()
		defer mu.Unlock()
		return !end.IsZero() && !now.Before(end)
	}
	lats := make([][]int64, len(conns))
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for ci, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lats[ci], errs[ci] = stormConn(c, ci, rc, plan.At, ended)
		}()
	}

	// Watch the expiring keys go, from the deadline on.
	expiry, werr := watchExpiry(ctx, rc.Addr, plan.At, int64(rc.Keyspace))
	windowEnd := plan.At.Add(stormMinWindow)
	if werr == nil {
		windowEnd = latest(windowEnd, plan.At.Add(expiry+stormTail))
	}
	mu.Lock()
	end = windowEnd
	if werr != nil {
		end = time.Now()
	}
	mu.Unlock()
	wg.Wait()
	if werr != nil {
		return Result{}, werr
	}
	if err := errors.Join(errs...); err != nil {
		return Result{}, err
	}
	var all []int64
	for _, l := range lats {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return Result{}, errors.New("expiry storm: no GET completed in the window")
	}
	var sum, mx int64
	for _, l := range all {
		sum += l
		mx = max(mx, l)
	}
	slices.Sort(all)
	window := windowEnd.Sub(plan.At).Seconds()
	return Result{
		Requests:      len(all),
		Seconds:       window,
		RPS:           float64(len(all)) / window,
		AvgMs:         nsToMs(sum / int64(len(all))),
		P50Ms:         nsToMs(percentile(all, 50)),
		P95Ms:         nsToMs(percentile(all, 95)),
		P99Ms:         nsToMs(percentile(all, 99)),
		MaxMs:         nsToMs(mx),
		ExpirySeconds: expiry.Seconds(),
	}, nil
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// stormConn runs one connection's GETs until ended says so and returns the
// latencies of the batches that completed at or after from.
func stormConn(c net.Conn, ci int, rc RunContext, from time.Time, ended func(time.Time) bool) ([]int64, error) {
	rng := rand.New(rand.NewPCG(1, uint64(ci)+1))
	br := bufio.NewReaderSize(c, 64<<10)
	var buf []byte
	var lats []int64
	for {
		buf = buf[:0]
		for range rc.Pipeline {
			buf = appendArrayHeader(buf, 2)
			buf = appendBulk(buf, "GET")
			buf = appendBulkKey(buf, "key:", rng.IntN(rc.Keyspace))
		}
		t0 := time.Now()
		if ended(t0) {
			return lats, nil
		}
		if _, err := c.Write(buf); err != nil {
			return nil, fmt.Errorf("expiry storm: write: %w", err)
		}
		for range rc.Pipeline {
			if b, err := br.Peek(3); err == nil && isEmptyReply(b) {
				return nil, errors.New("expiry storm: GET of a non-expiring key missed")
			}
			msg, err := readReply(br)
			if err != nil {
				return nil, fmt.Errorf("expiry storm: read: %w", err)
			}
			if msg != "" {
				return nil, fmt.Errorf("expiry storm: error reply: %s", msg)
			}
		}
		if t1 := time.Now(); !t1.Before(from) {
			for range rc.Pipeline {
				lats = append(lats, int64(t1.Sub(t0)))
			}
		}
	}
}

// watchExpiry waits for the deadline at, then polls INFO keyspace until no
// key has a deadline and only hot keys are left, and returns how long after
// at that was. It fails after stormLimit.
func watchExpiry(ctx context.Context, addr string, at time.Time, hot int64) (time.Duration, error) {
	select {
	case <-time.After(time.Until(at)):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	for {
		keys, expires, err := keyspaceInfo(ctx, addr)
		if err != nil {
			return 0, fmt.Errorf("expiry storm: %w", err)
		}
		since := time.Since(at)
		if expires == 0 && keys == hot {
			return since, nil
		}
		if since > stormLimit {
			return 0, fmt.Errorf("expiry storm: %d keys with a deadline left %v after it (keys=%d)", expires, stormLimit, keys)
		}
		select {
		case <-time.After(stormPoll):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
