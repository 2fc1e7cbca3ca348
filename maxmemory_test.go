package sessdb_test

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/server"
)

// The maxmemory tests: noeviction's OOM replies are compared with
// redis-server (maxmemory 1 puts both over the limit at once); the eviction
// policies run on sessdb with an injected memory gauge and clock, so that
// what is evicted is exact.

const oomReply = "-OOM command not allowed when used memory > 'maxmemory'.\r\n"

// fakeGauge is a MemoryGauge the test sets.
type fakeGauge struct{ used atomic.Int64 }

func (g *fakeGauge) UsedMemory() int64 { return g.used.Load() }

var _ server.MemoryGauge = (*fakeGauge)(nil)

// startEvicting serves sessdb with a fake gauge (0 bytes used) and clock,
// maxmemory 1mb, the given policy, and enough samples that every key of a
// small keyspace is a candidate.
func startEvicting(t *testing.T, dir, policy string) (*testServer, *fakeGauge, *manualClock) {
	t.Helper()
	gauge, clock := &fakeGauge{}, newManualClock()
	ts := startLimitedIn(t, dir, &sessdb.Options{Now: clock.Now, ReapInterval: -1}, func(s *server.Server) {
		s.SetMemoryGauge(gauge)
		s.SetLimitsClock(clock.Now)
	}, "--maxmemory", "1mb", "--maxmemory-policy", policy, "--maxmemory-samples", "64",
		"--notify-keyspace-events", "Ee")
	return ts, gauge, clock
}

// evictionEvents subscribes to the evicted keyevent channel and returns a
// function that reads the next n evicted keys.
func evictionEvents(t *testing.T, addr string) func(n int) []string {
	sub := dialRESP(t, addr)
	require.Equal(t, psConfirm(false, "subscribe", "__keyevent@0__:evicted", 1), sub.do("SUBSCRIBE", "__keyevent@0__:evicted"))
	msg := regexp.MustCompile(`^\*3\r\n\$7\r\nmessage\r\n\$22\r\n__keyevent@0__:evicted\r\n\$\d+\r\n(.*)\r\n$`)
	return func(n int) []string {
		var keys []string
		for i := 0; i < n; i++ {
			m := msg.FindStringSubmatch(sub.read())
			require.NotNil(t, m)
			keys = append(keys, m[1])
		}
		sort.Strings(keys)
		return keys
	}
}

// exists returns which of keys exist.
func existing(c *respClient, keys ...string) []string {
	var out []string
	for _, k := range keys {
		if c.do("EXISTS", k) == ":1\r\n" {
			out = append(out, k)
		}
	}
	return out
}

func keyNames(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, prefix+strconv.Itoa(i))
	}
	return out
}

// Ensure that with noeviction a write over maxmemory gets Redis's OOM error,
// reads and deletions still run, a transaction holding a write is refused
// at EXEC, and nothing more is queued inside MULTI, exactly as Redis does.
func TestMaxMemory_NoEvictionOOM(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		c, admin := dialRESP(t, addr), dialRESP(t, addr)
		require.Equal(t, "+OK\r\n", c.do("SET", "kept", "1"))
		require.Equal(t, "+OK\r\n", c.do("MULTI"))
		require.Equal(t, "+QUEUED\r\n", c.do("SET", "x", "1"))
		require.Equal(t, "+OK\r\n", admin.do("CONFIG", "SET", "maxmemory", "1"))
		t.Cleanup(func() { dialRESP(t, addr).do("CONFIG", "SET", "maxmemory", "0") })
		require.Equal(t, "-EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.\r\n", c.do("EXEC"))

		require.Equal(t, oomReply, c.do("SET", "x", "1"))
		require.Equal(t, oomReply, c.do("INCR", "n"))
		require.Equal(t, oomReply, c.do("HSET", "h", "f", "v"))
		require.Equal(t, "$1\r\n1\r\n", c.do("GET", "kept"))
		require.Equal(t, ":-1\r\n", c.do("TTL", "kept"))
		require.Equal(t, "+OK\r\n", c.do("MULTI"))
		require.Equal(t, oomReply, c.do("GET", "kept"))
		require.Equal(t, "-EXECABORT Transaction discarded because of previous errors.\r\n", c.do("EXEC"))
		require.Equal(t, ":1\r\n", c.do("DEL", "kept"))
		require.Equal(t, "+PONG\r\n", admin.do("PING"))

		require.Equal(t, "+OK\r\n", admin.do("CONFIG", "SET", "maxmemory", "0"))
		require.Equal(t, "+OK\r\n", c.do("SET", "x", "1"))
	})
}

// Ensure that under noeviction a full server refuses new sessions and data
// but keeps serving, sliding and revoking the sessions it has.
func TestMaxMemory_NoEvictionSessions(t *testing.T) {
	ts := startSessdb(t, t.TempDir())
	c := dialRESP(t, ts.addr)
	token := strings.TrimSuffix(strings.SplitN(c.do("SESS.CREATE", "alice"), "\r\n", 2)[1], "\r\n")
	other := strings.TrimSuffix(strings.SplitN(c.do("SESS.CREATE", "alice"), "\r\n", 2)[1], "\r\n")
	require.Equal(t, "+OK\r\n", c.do("CONFIG", "SET", "maxmemory", "1"))

	require.Equal(t, oomReply, c.do("SESS.CREATE", "bob"))
	require.Equal(t, oomReply, c.do("SESS.SET", token, "cart", "3"))
	require.Contains(t, c.do("SESS.GET", token), "alice")
	require.Equal(t, ":1\r\n", c.do("SESS.TOUCH", token))
	require.Equal(t, ":2\r\n", c.do("SESS.COUNT", "alice"))
	require.Equal(t, ":1\r\n", c.do("SESS.REVOKE", other))
	require.Equal(t, "$-1\r\n", c.do("SESS.GET", other))

	require.Equal(t, "+OK\r\n", c.do("CONFIG", "SET", "maxmemory", "0"))
	require.True(t, strings.HasPrefix(c.do("SESS.CREATE", "bob"), "$66\r\n"))
}

// Ensure that allkeys-lru evicts the least recently used keys, as many as
// the excess needs, through the normal deletion path (an evicted event each,
// evicted_keys in INFO), and never a session; and that when nothing is left
// to evict writes get OOM while reads go on.
func TestMaxMemory_AllKeysLRU(t *testing.T) {
	ts, gauge, clock := startEvicting(t, t.TempDir(), "allkeys-lru")
	c := dialRESP(t, ts.addr)
	events := evictionEvents(t, ts.addr)
	token := strings.TrimSuffix(strings.SplitN(c.do("SESS.CREATE", "alice"), "\r\n", 2)[1], "\r\n")
	keys := keyNames("k", 0, 9)
	value := strings.Repeat("v", 100)
	for _, k := range keys {
		require.Equal(t, "+OK\r\n", c.do("SET", k, value))
	}
	clock.Advance(10 * time.Second)
	for _, k := range keys[:5] {
		require.Equal(t, psBulk(value), c.do("GET", k)) // k0..k4 are used again
	}
	clock.Advance(10 * time.Second)

	// 500 bytes over: each key is estimated at 96 + 2 + 100 bytes, so three go.
	gauge.used.Store(1<<20 + 500)
	require.Equal(t, "+OK\r\n", c.do("SET", "fresh", "1"))
	evicted := events(3)
	require.Subset(t, keys[5:], evicted)
	require.Equal(t, keys[:5], existing(c, keys[:5]...))
	require.Equal(t, "3", infoField(t, c, "stats", "evicted_keys"))

	// The gauge has not moved (no collection yet): what was evicted counts
	// as freed, and nothing more goes.
	require.Equal(t, "+OK\r\n", c.do("SET", "fresh2", "1"))
	require.Equal(t, "3", infoField(t, c, "stats", "evicted_keys"))

	// A new reading still over: one more of the idle keys goes.
	gauge.used.Store(1<<20 + 1)
	require.Equal(t, "+OK\r\n", c.do("SET", "fresh3", "1"))
	last := events(1)
	require.Subset(t, keys[5:], last)
	require.NotContains(t, evicted, last[0])
	require.Equal(t, "4", infoField(t, c, "stats", "evicted_keys"))

	// Far over: every key goes, the session stays, writes are refused.
	gauge.used.Store(1 << 40)
	require.Equal(t, oomReply, c.do("SET", "more", "1"))
	require.Equal(t, ":0\r\n", c.do("DBSIZE"))
	require.Equal(t, "$-1\r\n", c.do("GET", "k0"))
	require.Contains(t, c.do("SESS.GET", token), "alice")
	require.Equal(t, oomReply, c.do("SESS.CREATE", "bob"))
	require.Equal(t, ":1\r\n", c.do("SESS.COUNT", "alice"))
}

// Ensure that volatile-ttl evicts the keys whose deadline is nearest, one
// by one, never a key without a deadline and never a session.
func TestMaxMemory_VolatileTTL(t *testing.T) {
	ts, gauge, _ := startEvicting(t, t.TempDir(), "volatile-ttl")
	c := dialRESP(t, ts.addr)
	events := evictionEvents(t, ts.addr)
	token := strings.TrimSuffix(strings.SplitN(c.do("SESS.CREATE", "alice", "IDLE", "5"), "\r\n", 2)[1], "\r\n")
	require.Equal(t, "+OK\r\n", c.do("SET", "p1", "x"))
	require.Equal(t, "+OK\r\n", c.do("SET", "p2", "x"))
	require.Equal(t, "+OK\r\n", c.do("SET", "v2", "x", "EX", "200"))
	require.Equal(t, "+OK\r\n", c.do("SET", "v1", "x", "EX", "100"))
	require.Equal(t, "+OK\r\n", c.do("SET", "v3", "x", "EX", "300"))

	for i, want := range []string{"v1", "v2", "v3"} {
		gauge.used.Store(1<<20 + int64(i) + 1) // a new reading, one byte over
		require.Equal(t, "+OK\r\n", c.do("SET", "p1", "y"))
		require.Equal(t, []string{want}, events(1))
	}
	gauge.used.Store(1<<20 + 100)
	require.Equal(t, oomReply, c.do("SET", "p3", "x"))
	require.Equal(t, []string{"p1", "p2"}, existing(c, "p1", "p2", "v1", "v2", "v3"))
	require.Contains(t, c.do("SESS.GET", token), "alice")
	require.Equal(t, "3", infoField(t, c, "stats", "evicted_keys"))
}

// Ensure that volatile-lru never evicts keys without a deadline, and that
// the random policies evict exactly what the excess needs from the keys
// they may take.
func TestMaxMemory_OtherPolicies(t *testing.T) {
	for _, tc := range []struct {
		policy   string
		evicted  int      // keys evicted one byte over
		survives []string // keys never evicted, even far over
	}{
		{"volatile-lru", 1, []string{"p1", "p2"}},
		{"volatile-random", 1, []string{"p1", "p2"}},
		{"allkeys-random", 1, nil},
		{"allkeys-lfu", 1, nil},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			ts, gauge, _ := startEvicting(t, t.TempDir(), tc.policy)
			c := dialRESP(t, ts.addr)
			all := []string{"p1", "p2", "v1", "v2", "v3"}
			for _, k := range all {
				args := []string{"SET", k, "x"}
				if k[0] == 'v' {
					args = append(args, "EX", "100")
				}
				require.Equal(t, "+OK\r\n", c.do(args...))
			}
			gauge.used.Store(1<<20 + 1)
			require.Equal(t, "+PONG\r\n", c.do("PING")) // any command evicts, as in Redis
			require.Len(t, existing(c, all...), len(all)-tc.evicted)
			gauge.used.Store(1 << 40)
			require.Equal(t, oomReply, c.do("SET", "z", "1"))
			require.Equal(t, tc.survives, existing(c, all...))
		})
	}
}

// Ensure that evictions are durable deletions: after a restart the evicted
// keys are gone and the others are there.
func TestMaxMemory_EvictionIsDurable(t *testing.T) {
	dir := t.TempDir()
	ts, gauge, _ := startEvicting(t, dir, "volatile-ttl")
	c := dialRESP(t, ts.addr)
	require.Equal(t, "+OK\r\n", c.do("SET", "soon", "x", "EX", "100"))
	require.Equal(t, "+OK\r\n", c.do("SET", "later", "x", "EX", "1000"))
	gauge.used.Store(1<<20 + 1)
	require.Equal(t, "+OK\r\n", c.do("SET", "p", "x"))
	ts.stop(t)

	ts2 := startLimitedIn(t, dir, nil, nil)
	c2 := dialRESP(t, ts2.addr)
	require.Equal(t, []string{"later", "p"}, existing(c2, "soon", "later", "p"))
}

// Ensure that a WATCHed key that is evicted makes EXEC fail, as any change
// to it does.
func TestMaxMemory_EvictionTouchesWatch(t *testing.T) {
	ts, gauge, _ := startEvicting(t, t.TempDir(), "allkeys-lru")
	c := dialRESP(t, ts.addr)
	require.Equal(t, "+OK\r\n", c.do("SET", "w", "1"))
	require.Equal(t, "+OK\r\n", c.do("WATCH", "w"))
	gauge.used.Store(1<<20 + 1)
	require.Equal(t, "+PONG\r\n", dialRESP(t, ts.addr).do("PING"))
	require.Equal(t, "+OK\r\n", c.do("MULTI"))
	require.Equal(t, "+QUEUED\r\n", c.do("GET", "w"))
	require.Equal(t, "*-1\r\n", c.do("EXEC"))
}

// Ensure that INFO reports the memory fields and evicted_keys under Redis's
// names, and that every Redis maxmemory-policy name is accepted.
func TestMaxMemory_InfoAndPolicies(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		c := dialRESP(t, addr)
		require.Equal(t, "+OK\r\n", c.do("CONFIG", "SET", "maxmemory", "10mb"))
		t.Cleanup(func() { dialRESP(t, addr).do("CONFIG", "SET", "maxmemory", "0", "maxmemory-policy", "noeviction") })
		for _, f := range []string{"used_memory", "used_memory_rss"} {
			n, err := strconv.ParseInt(infoField(t, c, "memory", f), 10, 64)
			require.NoError(t, err, f)
			require.Positive(t, n, f)
		}
		require.Regexp(t, `^[0-9.]+[BKMG]$`, infoField(t, c, "memory", "used_memory_human"))
		require.Regexp(t, `^[0-9.]+[BKMG]$`, infoField(t, c, "memory", "used_memory_rss_human"))
		require.Equal(t, "10485760", infoField(t, c, "memory", "maxmemory"))
		require.Equal(t, "10.00M", infoField(t, c, "memory", "maxmemory_human"))
		require.Equal(t, "0", infoField(t, c, "stats", "evicted_keys"))
		for _, p := range []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
			"allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"} {
			require.Equal(t, "+OK\r\n", c.do("CONFIG", "SET", "maxmemory-policy", strings.ToUpper(p)))
			require.Equal(t, p, infoField(t, c, "memory", "maxmemory_policy"))
		}
		require.Equal(t, "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction\r\n",
			c.do("CONFIG", "SET", "maxmemory-policy", "lru"))
	})
}

// Ensure that a script over maxmemory may read but may not start writing,
// with the reply Redis gives (its scriptVerifyOOM), and that pcall sees the
// same error as a value.
func TestMaxMemory_ScriptsObeyOOM(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		c, admin := dialRESP(t, addr), dialRESP(t, addr)
		require.Equal(t, "+OK\r\n", c.do("SET", "kept", "1"))
		require.Equal(t, "+OK\r\n", admin.do("CONFIG", "SET", "maxmemory", "1"))
		t.Cleanup(func() { dialRESP(t, addr).do("CONFIG", "SET", "maxmemory", "0") })
		require.Equal(t, "$1\r\n1\r\n", c.do("EVAL", "return redis.call('get', KEYS[1])", "1", "kept"))
		require.Equal(t, "-OOM command not allowed when used memory > 'maxmemory'. script: b0e7bbc2efc136be74cdebcb73a106ad46ea881b, on @user_script:1.\r\n",
			c.do("EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "x"))
		require.Equal(t, oomReply, c.do("EVAL", "return redis.pcall('set', KEYS[1], 'v')", "1", "x"))
		require.Equal(t, ":0\r\n", c.do("EXISTS", "x"))
		require.Equal(t, "+OK\r\n", admin.do("CONFIG", "SET", "maxmemory", "0"))
		require.Equal(t, "+OK\r\n", c.do("EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "x"))
	})
}
