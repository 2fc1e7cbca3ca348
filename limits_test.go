package sessdb_test

import (
	"errors"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
)

// The limit tests hit each client limit from a real connection and check
// that the offending client alone is cut off: the process stays up and the
// other clients are served. Where Redis has the limit, the same script runs
// against redis-server too.

// startLimited serves a sessdb database like startSessdb, with the given
// DB options and extra configuration arguments; setup runs before Serve.
func startLimited(t testing.TB, opts *sessdb.Options, setup func(*server.Server), args ...string) *testServer {
	t.Helper()
	return startLimitedIn(t, t.TempDir(), opts, setup, args...)
}

// startLimitedIn is startLimited with the database in dir.
func startLimitedIn(t testing.TB, dir string, opts *sessdb.Options, setup func(*server.Server), args ...string) *testServer {
	t.Helper()
	cfg, err := config.Load(append([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir}, args...))
	require.NoError(t, err)
	o := sessdb.Options{}
	if opts != nil {
		o = *opts
	}
	o.Databases = cfg.Databases()
	db, err := sessdb.Open(filepath.Join(dir, cfg.DBFilename()), &o)
	require.NoError(t, err)
	srv := server.New(cfg, db, nil)
	if setup != nil {
		setup(srv)
	}
	require.NoError(t, srv.Listen())
	ts := &testServer{srv: srv, db: db, addr: srv.Addr().String(), done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve() }()
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

// requireClosed waits until the server has closed c's connection: reading
// ends in EOF (or a reset) rather than the deadline. It returns what was
// read before the end.
func requireClosed(t testing.TB, c *respClient, within time.Duration) string {
	t.Helper()
	require.NoError(t, c.conn.SetReadDeadline(time.Now().Add(within)))
	var got strings.Builder
	_, err := io.Copy(&got, c.r)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the connection is still open after %v (read %q)", within, got.String())
	return got.String()
}

// infoField returns one INFO field's value.
func infoField(t testing.TB, c *respClient, section, field string) string {
	t.Helper()
	info := c.do("INFO", section)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(field) + `:(.*)\r$`).FindStringSubmatch(info)
	require.NotNil(t, m, "INFO %s has no %s: %q", section, field, info)
	return m[1]
}

// Ensure that a connection past maxclients gets Redis's error and is closed,
// that the clients already connected are served, and that a slot freed by a
// leaving client can be taken again.
func TestLimits_MaxClients(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		admin := dialRESP(t, addr)
		// Room for admin, the clients already connected (the harness may
		// keep one) and two more.
		n, err := strconv.Atoi(infoField(t, admin, "clients", "connected_clients"))
		require.NoError(t, err)
		require.Equal(t, "+OK\r\n", admin.do("CONFIG", "SET", "maxclients", strconv.Itoa(n+2)))
		t.Cleanup(func() { admin.do("CONFIG", "SET", "maxclients", "10000") })
		b, c := dialRESP(t, addr), dialRESP(t, addr)
		require.Equal(t, "+PONG\r\n", b.do("PING"))
		require.Equal(t, "+PONG\r\n", c.do("PING"))

		over := dialRESP(t, addr)
		require.Equal(t, "-ERR max number of clients reached\r\n", requireClosed(t, over, 10*time.Second))

		require.Equal(t, "+OK\r\n", admin.do("SET", "k", "v"))
		require.Equal(t, "$1\r\nv\r\n", b.do("GET", "k"))

		require.NoError(t, c.conn.Close())
		require.Eventually(t, func() bool {
			d := dialRESP(t, addr)
			defer d.conn.Close()
			_ = d.conn.SetDeadline(time.Now().Add(5 * time.Second))
			d.write(encodeCommand([]string{"PING"}))
			n, err := parseRESP(d.r)
			return err == nil && n.String() == "+PONG\r\n"
		}, 10*time.Second, 20*time.Millisecond, "the freed slot was never available")
	})
}

// Ensure that timeout closes an idle client without a reply, never a
// subscriber (as in Redis), and that other clients are served.
func TestLimits_IdleTimeout(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		admin := dialRESP(t, addr)
		sub := dialRESP(t, addr)
		require.Equal(t, psConfirm(false, "subscribe", "news", 1), sub.do("SUBSCRIBE", "news"))
		require.Equal(t, "+OK\r\n", admin.do("CONFIG", "SET", "timeout", "1"))
		t.Cleanup(func() { dialRESP(t, addr).do("CONFIG", "SET", "timeout", "0") })

		// A client that connects after the subscriber and then says nothing.
		idle := dialRESP(t, addr)
		require.Equal(t, "+PONG\r\n", idle.do("PING"))
		require.Equal(t, "", requireClosed(t, idle, 15*time.Second))

		// The subscriber, idle for longer than that client, is still there.
		pub := dialRESP(t, addr)
		require.Equal(t, ":1\r\n", pub.do("PUBLISH", "news", "hello"))
		require.Equal(t, psMessage("news", "hello"), sub.read())
		require.Equal(t, "+PONG\r\n", pub.do("PING"))
	})
}

// Ensure that CONFIG SET timeout applies to connections already waiting, and
// that a client that stalls in the middle of a command is closed too.
func TestLimits_IdleTimeoutAppliesToOpenConnections(t *testing.T) {
	ts := startSessdb(t, t.TempDir())
	waiting := dialRESP(t, ts.addr)
	require.Equal(t, "+PONG\r\n", waiting.do("PING"))
	half := dialRESP(t, ts.addr)
	half.write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nab"))

	admin := dialRESP(t, ts.addr)
	require.Equal(t, "+OK\r\n", admin.do("CONFIG", "SET", "timeout", "1"))
	require.Equal(t, "", requireClosed(t, waiting, 15*time.Second))
	require.Equal(t, "", requireClosed(t, half, 15*time.Second))
	require.Equal(t, "$-1\r\n", dialRESP(t, ts.addr).do("GET", "k"))
}

// Ensure that a command larger than client-query-buffer-limit closes its
// connection without a reply, as Redis does, and nothing else.
func TestLimits_QueryBufferLimit(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		admin := dialRESP(t, addr)
		require.Equal(t, "+OK\r\n", admin.do("CONFIG", "SET", "client-query-buffer-limit", "1mb"))
		t.Cleanup(func() { dialRESP(t, addr).do("CONFIG", "SET", "client-query-buffer-limit", "1gb") })

		big := dialRESP(t, addr)
		value := strings.Repeat("x", 1536<<10)
		go func() { _, _ = big.conn.Write(encodeCommand([]string{"SET", "big", value})) }()
		require.Equal(t, "", requireClosed(t, big, 10*time.Second))

		require.Equal(t, "$-1\r\n", admin.do("GET", "big"))
		require.Equal(t, "+OK\r\n", admin.do("SET", "small", strings.Repeat("y", 512<<10)))
		require.Equal(t, ":524288\r\n", dialRESP(t, addr).do("STRLEN", "small"))
	})
}

// Ensure that the guard counts client-query-buffer-limit closes in INFO.
func TestLimits_QueryBufferLimitCounted(t *testing.T) {
	ts := startSessdb(t, t.TempDir())
	admin := dialRESP(t, ts.addr)
	require.Equal(t, "+OK\r\n", admin.do("CONFIG", "SET", "client-query-buffer-limit", "1mb"))
	big := dialRESP(t, ts.addr)
	// Many arguments, none of them large: the whole command is bounded.
	args := []string{"MSET"}
	for i := 0; i < 40; i++ {
		args = append(args, "k"+strconv.Itoa(i), strings.Repeat("z", 30<<10))
	}
	go func() { _, _ = big.conn.Write(encodeCommand(args)) }()
	require.Equal(t, "", requireClosed(t, big, 10*time.Second))
	require.Equal(t, "1", infoField(t, admin, "stats", "client_query_buffer_limit_disconnections"))
	require.Equal(t, ":0\r\n", admin.do("EXISTS", "k0"))
}

// Ensure that a bulk longer than proto-max-bulk-len gets Redis's protocol
// error and closes only that connection.
func TestLimits_ProtoMaxBulkLen(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		admin := dialRESP(t, addr)
		require.Equal(t, "+OK\r\n", admin.do("CONFIG", "SET", "proto-max-bulk-len", "1mb"))
		t.Cleanup(func() { dialRESP(t, addr).do("CONFIG", "SET", "proto-max-bulk-len", "512mb") })

		c := dialRESP(t, addr)
		c.write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n"))
		require.Equal(t, "-ERR Protocol error: invalid bulk length\r\n", requireClosed(t, c, 10*time.Second))

		ok := dialRESP(t, addr)
		require.Equal(t, "+OK\r\n", ok.do("SET", "k", strings.Repeat("v", 1<<20)))
		require.Equal(t, ":1048576\r\n", admin.do("STRLEN", "k"))
	})
}

// Ensure that client-output-buffer-limit reads and writes as in Redis:
// CONFIG SET changes only the classes it names, and bad values get Redis's
// errors.
func TestLimits_OutputBufferLimitConfig(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		c := dialRESP(t, addr)
		get := func() string { return c.do("CONFIG", "GET", "client-output-buffer-limit") }
		const name = "$26\r\nclient-output-buffer-limit\r\n"
		require.Equal(t, "*2\r\n"+name+psBulk("normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"), get())
		require.Equal(t, "+OK\r\n", c.do("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 512kb 10"))
		require.Equal(t, "*2\r\n"+name+psBulk("normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 10"), get())
		require.Equal(t, "+OK\r\n", c.do("CONFIG", "SET", "client-output-buffer-limit", "replica 1k 1kb 5 PUBSUB 2mb 0 0"))
		require.Equal(t, "*2\r\n"+name+psBulk("normal 0 0 0 slave 1000 1024 5 pubsub 2097152 0 0"), get())
		for _, bad := range []struct{ value, reason string }{
			{"pubsub 1mb", "Wrong number of arguments in buffer limit configuration."},
			{"master 1 1 1", "Invalid client class specified in buffer limit configuration."},
			{"pubsub 1x 0 0", "Error in hard, soft or soft_seconds setting in buffer limit configuration."},
			{"pubsub 1 2 -1", "Error in hard, soft or soft_seconds setting in buffer limit configuration."},
		} {
			require.Equal(t, "-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - "+bad.reason+"\r\n",
				c.do("CONFIG", "SET", "client-output-buffer-limit", bad.value), bad.value)
		}
		require.Equal(t, "*2\r\n"+name+psBulk("normal 0 0 0 slave 1000 1024 5 pubsub 2097152 0 0"), get())
	})
}

// fillSlowSubscriber publishes 64 KiB messages to channel until the
// subscriber named name holds at least min bytes in its output queue (as
// CLIENT LIST omem shows), and returns how many it published. It stops early
// if a publication reaches fewer than want subscribers.
func fillSlowSubscriber(t *testing.T, pub *respClient, channel, name string, min int, want int) int {
	t.Helper()
	payload := strings.Repeat("m", 64<<10)
	omem := regexp.MustCompile(`name=` + name + ` .* omem=(\d+)`)
	for i := 1; i <= 2000; i++ {
		require.Equal(t, ":"+strconv.Itoa(want)+"\r\n", pub.do("PUBLISH", channel, payload), "publication %d", i)
		list := pub.do("CLIENT", "LIST")
		m := omem.FindStringSubmatch(list)
		require.NotNil(t, m, "CLIENT LIST: %q", list)
		if n, _ := strconv.Atoi(m[1]); n >= min {
			return i
		}
	}
	t.Fatalf("the subscriber's queue never reached %d bytes", min)
	return 0
}

// Ensure that a subscriber that does not read is disconnected when its queue
// reaches the pubsub hard limit set by CONFIG SET, while a subscriber that
// reads gets every message.
func TestLimits_PubsubHardLimit(t *testing.T) {
	ts := startSessdb(t, t.TempDir())
	admin := dialRESP(t, ts.addr)
	require.Equal(t, "+OK\r\n", admin.do("CONFIG", "SET", "client-output-buffer-limit", "pubsub 2mb 0 0"))
	slow, fast := dialRESP(t, ts.addr), dialRESP(t, ts.addr)
	require.Equal(t, "+OK\r\n", slow.do("CLIENT", "SETNAME", "slow"))
	require.Equal(t, psConfirm(false, "subscribe", "feed", 1), slow.do("SUBSCRIBE", "feed"))
	require.Equal(t, psConfirm(false, "subscribe", "feed", 1), fast.do("SUBSCRIBE", "feed"))
	var mu sync.Mutex
	received := 0
	go func() {
		for {
			_ = fast.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			if _, err := parseRESP(fast.r); err != nil {
				return
			}
			mu.Lock()
			received++
			mu.Unlock()
		}
	}()

	payload := strings.Repeat("h", 64<<10)
	published := 0
	for ; published < 5000; published++ {
		n := admin.do("PUBLISH", "feed", payload)
		if n == ":1\r\n" {
			break
		}
		require.Equal(t, ":2\r\n", n)
	}
	require.Less(t, published, 5000, "the slow subscriber was never disconnected")
	requireClosed(t, slow, 10*time.Second)
	require.Equal(t, "1", infoField(t, admin, "stats", "client_output_buffer_limit_disconnections"))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return received == published+1
	}, 10*time.Second, 5*time.Millisecond, "the reading subscriber missed messages")
}

// manualClock is a clock that moves only when told.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock { return &manualClock{now: time.Unix(1_800_000_000, 0)} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Ensure that a subscriber whose queue stays at or above the pubsub soft
// limit for more than soft_seconds is disconnected, and not before.
func TestLimits_PubsubSoftLimit(t *testing.T) {
	clock := newManualClock()
	ts := startLimited(t, nil, func(s *server.Server) { s.SetLimitsClock(clock.Now) },
		"--client-output-buffer-limit", "pubsub 0 512kb 10")
	admin := dialRESP(t, ts.addr)
	slow := dialRESP(t, ts.addr)
	require.Equal(t, "+OK\r\n", slow.do("CLIENT", "SETNAME", "slow"))
	require.Equal(t, psConfirm(false, "subscribe", "feed", 1), slow.do("SUBSCRIBE", "feed"))

	fillSlowSubscriber(t, admin, "feed", "slow", 512<<10, 1)
	// Over the soft limit, but not for long: more messages still reach it.
	clock.Advance(10 * time.Second)
	require.Equal(t, ":1\r\n", admin.do("PUBLISH", "feed", "still here"))
	require.Equal(t, "*2\r\n$4\r\nfeed\r\n:1\r\n", admin.do("PUBSUB", "NUMSUB", "feed"))

	clock.Advance(time.Second)
	admin.do("PUBLISH", "feed", "one too many")
	requireClosed(t, slow, 10*time.Second)
	require.Eventually(t, func() bool {
		return admin.do("PUBSUB", "NUMSUB", "feed") == "*2\r\n$4\r\nfeed\r\n:0\r\n"
	}, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, "1", infoField(t, admin, "stats", "client_output_buffer_limit_disconnections"))
	require.Equal(t, "+PONG\r\n", dialRESP(t, ts.addr).do("PING"))
}

// Ensure that a queue that falls back below the soft limit restarts the
// soft limit's clock.
func TestLimits_PubsubSoftLimitResets(t *testing.T) {
	clock := newManualClock()
	ts := startLimited(t, nil, func(s *server.Server) { s.SetLimitsClock(clock.Now) },
		"--client-output-buffer-limit", "pubsub 0 512kb 10")
	admin := dialRESP(t, ts.addr)
	sub := dialRESP(t, ts.addr)
	require.Equal(t, "+OK\r\n", sub.do("CLIENT", "SETNAME", "sub"))
	require.Equal(t, psConfirm(false, "subscribe", "feed", 1), sub.do("SUBSCRIBE", "feed"))
	n := fillSlowSubscriber(t, admin, "feed", "sub", 512<<10, 1)
	clock.Advance(5 * time.Second)

	// The subscriber catches up: everything queued reaches it.
	for i := 0; i < n; i++ {
		require.Equal(t, psMessage("feed", strings.Repeat("m", 64<<10)), sub.read())
	}
	require.Equal(t, ":1\r\n", admin.do("PUBLISH", "feed", "small"))
	require.Equal(t, psMessage("feed", "small"), sub.read())

	// Ten more seconds in all, but never above the limit that long.
	clock.Advance(6 * time.Second)
	require.Equal(t, ":1\r\n", admin.do("PUBLISH", "feed", "after"))
	require.Equal(t, psMessage("feed", "after"), sub.read())
	require.Equal(t, "0", infoField(t, admin, "stats", "client_output_buffer_limit_disconnections"))
}

// Ensure that a MULTI whose queue would pass multi-max-queued-bytes is
// refused with a clear error, that EXEC then aborts without applying
// anything, and that the connection and the others go on.
func TestLimits_MultiQueueCap(t *testing.T) {
	ts := startSessdb(t, t.TempDir())
	c := dialRESP(t, ts.addr)
	other := dialRESP(t, ts.addr)
	require.Equal(t, "*2\r\n$22\r\nmulti-max-queued-bytes\r\n$9\r\n134217728\r\n", c.do("CONFIG", "GET", "multi-max-queued-bytes"))
	require.Equal(t, "+OK\r\n", c.do("CONFIG", "SET", "multi-max-queued-bytes", "4kb"))

	require.Equal(t, "+OK\r\n", c.do("MULTI"))
	require.Equal(t, "+QUEUED\r\n", c.do("SET", "a", strings.Repeat("1", 2000)))
	require.Equal(t, "-ERR MULTI queue exceeds maximum allowed size (multi-max-queued-bytes)\r\n",
		c.do("SET", "b", strings.Repeat("2", 2500)))
	require.Equal(t, "+OK\r\n", other.do("SET", "unrelated", "1"))
	require.Equal(t, "-EXECABORT Transaction discarded because of previous errors.\r\n", c.do("EXEC"))
	require.Equal(t, ":0\r\n", c.do("EXISTS", "a", "b"))

	// The cap is per transaction: the next one starts empty.
	require.Equal(t, "+OK\r\n", c.do("MULTI"))
	require.Equal(t, "+QUEUED\r\n", c.do("SET", "a", strings.Repeat("1", 2000)))
	require.Equal(t, "*1\r\n+OK\r\n", c.do("EXEC"))
	require.Equal(t, "$1\r\n1\r\n", other.do("GET", "unrelated"))

	// Many small arguments count too.
	require.Equal(t, "+OK\r\n", c.do("MULTI"))
	args := []string{"DEL"}
	for i := 0; i < 200; i++ {
		args = append(args, "k")
	}
	require.Equal(t, "-ERR MULTI queue exceeds maximum allowed size (multi-max-queued-bytes)\r\n", c.do(args...))
	require.Equal(t, "+OK\r\n", c.do("DISCARD"))
	require.Equal(t, "+PONG\r\n", c.do("PING"))
}
