package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Side is what sessdb is compared against in a row: Redis with an fsync per
// write (appendfsync always) for durable writes, or Redis with persistence
// off for reads.
type Side string

const (
	SideDurable  Side = "always"
	SideVolatile Side = "persistence off"
)

// RunContext is what a Bench needs to load one running server.
type RunContext struct {
	Host     string
	Port     int
	Addr     string
	Clients  int
	Pipeline int
	Requests int
	Keyspace int
	// RedisBenchmark is the redis-benchmark binary.
	RedisBenchmark string
	// Loaded is what the side's Preload returned for this server (e.g. the
	// session tokens it created), nil without one.
	Loaded any
}

// Preload fills a fresh server before the timed run (untimed). What it
// returns reaches the bench as RunContext.Loaded: a sessdb preload hands
// over the tokens the server issued, which no client could choose.
type Preload func(ctx context.Context, rc RunContext) (any, error)

// plain makes a Preload of a function that fills keyspace keys and returns
// nothing for the bench.
func plain(f func(ctx context.Context, addr string, keyspace int) error) Preload {
	return func(ctx context.Context, rc RunContext) (any, error) {
		return nil, f(ctx, rc.Addr, rc.Keyspace)
	}
}

// Bench measures one workload against a running server. RedisBenchmark and
// GoDriver implement it.
type Bench interface {
	Run(ctx context.Context, rc RunContext) (Result, error)
	Describe() string
}

// Scenario is one row of the report: a workload at one client count and
// pipeline depth, the Redis configuration it is compared against, and how
// to set the data up.
type Scenario struct {
	// Key names the workload in IDs ("set", "get", ...), which -only matches.
	Key string
	// Workload is the row's label in the table.
	Workload string
	Clients  int
	Pipeline int
	Side     Side
	// SessdbFsync is sessdb's --appendfsync for this row.
	SessdbFsync string
	// Requests is the default -n: about 2–4 s against Redis on a 2-core box.
	Requests int
	// Keyspace is redis-benchmark's -r (and the preload size); what it
	// counts in the SESS.* rows is noted at each row in sessions.go.
	Keyspace int
	// Preload, if set, fills a fresh server before the timed run; it is
	// run identically on both sides unless RedisPreload is set.
	Preload Preload
	Bench   Bench
	// RedisPreload and RedisBench, if set, replace Preload and Bench on the
	// Redis side: for a SESS.* command, the hand-built Redis pattern that
	// does the same work with plain commands.
	RedisPreload Preload
	RedisBench   Bench
	// Baseline, if positive, makes the second side of every round sessdb
	// again instead of Redis, with this keyspace instead of Keyspace: the
	// row compares sessdb at Keyspace keys with sessdb at Baseline keys.
	Baseline int
	// LatencyRatio makes the row's per-round ratio sessdb p99 / Redis p99
	// (lower is better) instead of the throughput ratio.
	LatencyRatio bool
	// Timeout, if longer than -timeout, is the limit of one measured run.
	Timeout time.Duration
}

// For returns the preload and bench of sessdb's side (redis false) or of
// Redis's side (redis true).
func (s Scenario) For(redis bool) (Preload, Bench) {
	if !redis {
		return s.Preload, s.Bench
	}
	pre, b := s.Preload, s.Bench
	if s.RedisPreload != nil {
		pre = s.RedisPreload
	}
	if s.RedisBench != nil {
		b = s.RedisBench
	}
	return pre, b
}

// Describe is what -list and the JSON show for the row's benches.
func (s Scenario) Describe() string {
	if s.RedisBench == nil {
		return s.Bench.Describe()
	}
	return "sessdb: " + s.Bench.Describe() + " | redis: " + s.RedisBench.Describe()
}

// ID identifies the row for -only and -list, e.g. "set/c50/P16".
func (s Scenario) ID() string {
	return fmt.Sprintf("%s/c%d/P%d", s.Key, s.Clients, s.Pipeline)
}

// GoDriver runs a Driver with the row's clients, pipeline and request count.
// Gen builds the command generator (one command per request) for the row's
// keyspace; Conn, if set instead, builds each connection's Workload
// (operations of several commands, or reading replies) for the run, whose
// rc.Loaded holds what the preload returned.
type GoDriver struct {
	Desc string
	Gen  func(keyspace int) CommandGen
	Conn func(rc RunContext, conn int) (Workload, error)
	// FailOnNil fails the run on a null or empty reply (see Driver).
	FailOnNil bool
}

func (g GoDriver) Describe() string { return "go driver: " + g.Desc }

func (g GoDriver) Run(ctx context.Context, rc RunContext) (Result, error) {
	d := Driver{
		Addr: rc.Addr, Conns: rc.Clients, Pipeline: rc.Pipeline, Requests: rc.Requests,
		FailOnNil: g.FailOnNil, Seed: 1,
	}
	if g.Conn != nil {
		d.Workload = func(conn int) (Workload, error) { return g.Conn(rc, conn) }
	} else {
		d.Gen = g.Gen(rc.Keyspace)
	}
	return d.Run(ctx)
}

// shape is one (clients, pipeline, default requests) point of a workload.
type shape struct{ clients, pipeline, requests int }

// expand makes one Scenario per shape from a template.
func expand(t Scenario, shapes ...shape) []Scenario {
	out := make([]Scenario, 0, len(shapes))
	for _, sh := range shapes {
		s := t
		s.Clients, s.Pipeline, s.Requests = sh.clients, sh.pipeline, sh.requests
		out = append(out, s)
	}
	return out
}

// durable is a write row: sessdb fsyncs every write, Redis too.
func durable(key, workload string, keyspace int, b Bench, shapes ...shape) []Scenario {
	return expand(Scenario{Key: key, Workload: workload, Side: SideDurable, SessdbFsync: "always", Keyspace: keyspace, Bench: b}, shapes...)
}

// volatile is a read row: Redis without persistence; sessdb runs with
// everysec, which reads do not touch and which keeps the preload quick.
func volatile(key, workload string, keyspace int, pre func(context.Context, string, int) error, b Bench, shapes ...shape) []Scenario {
	return expand(Scenario{Key: key, Workload: workload, Side: SideVolatile, SessdbFsync: "everysec", Keyspace: keyspace, Preload: plain(pre), Bench: b}, shapes...)
}

// withPreload sets the preload phase of every scenario in s.
func withPreload(pre func(context.Context, string, int) error, s []Scenario) []Scenario {
	for i := range s {
		s[i].Preload = plain(pre)
	}
	return s
}

// scenarios is the full benchmark table, in report order. Default request
// counts were tuned against Redis 7.0.15 on the 2-core reference machine
// (ext4, real fsync) for runs of roughly 3 s.
func scenarios() []Scenario {
	var all []Scenario
	add := func(s []Scenario) { all = append(all, s...) }

	// Durable writes: sessdb appendfsync always vs Redis appendfsync always.
	add(durable("set", "SET", 100_000, RedisBenchmark{Tests: "set"},
		shape{50, 1, 30_000}, shape{50, 16, 500_000}, shape{1, 1, 5_000}))
	add(durable("set-ex", "SET EX 1800", 1_000_000,
		RedisBenchmark{Command: []string{"SET", "key:__rand_int__", "val", "EX", "1800"}},
		shape{50, 1, 30_000}, shape{50, 16, 400_000}))
	add(durable("incr", "INCR", 100_000, RedisBenchmark{Tests: "incr"},
		shape{50, 1, 30_000}, shape{50, 16, 600_000}))
	add(durable("hset", "HSET", 100_000,
		RedisBenchmark{Command: []string{"HSET", "h:__rand_int__", "f", "v"}},
		shape{50, 1, 30_000}, shape{50, 16, 500_000}))

	// Reads of preloaded data: sessdb vs Redis with persistence off.
	add(volatile("get", "GET", 100_000, preloadStrings, RedisBenchmark{Tests: "get"},
		shape{50, 1, 90_000}, shape{50, 16, 900_000}, shape{1, 1, 55_000}))
	add(volatile("hgetall", "HGETALL 10 fields", 10_000, preloadHashes,
		RedisBenchmark{Command: []string{"HGETALL", "h:__rand_int__"}},
		shape{50, 1, 70_000}, shape{50, 16, 500_000}))

	// Go-driven rows (commands redis-benchmark cannot express).
	// Durable, since half the commands write.
	add(withPreload(preloadSessions, durable("session", "session hash HSET+HGETALL", 10_000,
		GoDriver{Desc: "50/50 HGETALL sess:K / HSET sess:K last_seen TS on 10-field hashes", Gen: sessionGen},
		shape{50, 1, 60_000}, shape{50, 16, 400_000})))

	// SESS.* commands vs the hand-built Redis patterns (sessions.go).
	add(sessScenarios())
	add(jwtScenarios())   // SESS.JWT / SESS.VERIFY vs in-process Go (jwt.go)
	add(stormScenarios()) // GET p99 while 1M keys expire (scale.go)
	return all
}

// preloadStrings sets key:%012d = "xxx" for the whole keyspace: the keys and
// 3-byte value redis-benchmark -t set -r would write, but every key exactly
// once, so GET hits on both servers alike.
func preloadStrings(ctx context.Context, addr string, keyspace int) error {
	return preload(ctx, addr, keyspace, func(i int, _ *rand.Rand, dst []byte) []byte {
		dst = appendArrayHeader(dst, 3)
		dst = appendBulk(dst, "SET")
		dst = appendBulkKey(dst, "key:", i)
		return appendBulk(dst, "xxx")
	})
}

// hashFields is the 10-field hash HGETALL reads.
var hashFields = func() []string {
	var kv []string
	for f := range 10 {
		kv = append(kv, "field"+strconv.Itoa(f), fmt.Sprintf("value-%02d-0123456789", f))
	}
	return kv
}()

// preloadHashes creates h:%012d with hashFields for the whole keyspace.
func preloadHashes(ctx context.Context, addr string, keyspace int) error {
	return preload(ctx, addr, keyspace, func(i int, _ *rand.Rand, dst []byte) []byte {
		dst = appendArrayHeader(dst, 2+len(hashFields))
		dst = appendBulk(dst, "HSET")
		dst = appendBulkKey(dst, "h:", i)
		for _, a := range hashFields {
			dst = appendBulk(dst, a)
		}
		return dst
	})
}

// sessionFields is a typical web session: 10 fields, ~300 bytes.
var sessionFields = []string{
	"user_id", "4711",
	"created_at", "1732888800",
	"last_seen", "1732890000",
	"ip", "203.0.113.42",
	"user_agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
	"csrf", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	"locale", "en-GB",
	"role", "member",
	"cart_id", "c-000123456",
	"flags", "mfa,beta",
}

// preloadSessions creates sess:%012d with sessionFields for the keyspace.
func preloadSessions(ctx context.Context, addr string, keyspace int) error {
	return preload(ctx, addr, keyspace, func(i int, _ *rand.Rand, dst []byte) []byte {
		dst = appendArrayHeader(dst, 2+len(sessionFields))
		dst = appendBulk(dst, "HSET")
		dst = appendBulkKey(dst, "sess:", i)
		for _, a := range sessionFields {
			dst = appendBulk(dst, a)
		}
		return dst
	})
}

// sessionGen alternates a session read (HGETALL of the whole hash) with a
// touch (HSET of last_seen), each on a random session of the keyspace.
func sessionGen(keyspace int) CommandGen {
	return func(i int, rng *rand.Rand, dst []byte) []byte {
		k := rng.IntN(keyspace)
		if i%2 == 0 {
			dst = appendArrayHeader(dst, 2)
			dst = appendBulk(dst, "HGETALL")
			return appendBulkKey(dst, "sess:", k)
		}
		dst = appendArrayHeader(dst, 4)
		dst = appendBulk(dst, "HSET")
		dst = appendBulkKey(dst, "sess:", k)
		dst = appendBulk(dst, "last_seen")
		var ts [20]byte
		return appendBulk(dst, string(strconv.AppendInt(ts[:0], 1732890000+int64(i), 10)))
	}
}
