package sessdb_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The load test: SESSDB_LOAD_CONNS connections (default 5,000) on loopback
// run mixed session traffic for SESSDB_LOAD_SECONDS (default 3) against an
// in-process server with appendfsync always. Every reply is checked, and
// afterwards the goroutines and the heap must come back to where they were.

func loadEnvInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, name)
	return n
}

// loadConn is one client of the load test: a raw RESP connection.
type loadConn struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
}

// bulkBody returns a bulk reply's payload.
func bulkBody(reply string) (string, bool) {
	head, body, ok := strings.Cut(reply, "\r\n")
	if !ok || len(head) < 2 || head[0] != '$' || head == "$-1" {
		return "", false
	}
	return strings.TrimSuffix(body, "\r\n"), true
}

// loadWorkers is how many goroutines drive the load test's connections.
const loadWorkers = 250

// loadSession is one connection's state in the load test's mix: the
// session it holds and the command it has in flight.
type loadSession struct {
	id               int
	c                *loadConn
	user, key, value string
	token            string // "" when a new session is due
	n                int    // position in the mix
	args             []string
	want             string // the reply's expected start; "" for SESS.CREATE
	sent             time.Time
	done             bool // cleaned up
}

func newLoadSession(i int, c *loadConn) *loadSession {
	return &loadSession{id: i, c: c, user: "user" + strconv.Itoa(i%1000), key: "load:" + strconv.Itoa(i),
		value: "v" + strconv.Itoa(i)}
}

// send writes the next command of the mix; when final, the commands that
// clean up: SESS.REVOKE of the live session, then DEL of the key.
func (ls *loadSession) send(final bool) error {
	ls.args, ls.want = nil, ""
	switch {
	case final && ls.done:
		return nil
	case final && ls.token != "":
		ls.args, ls.want = []string{"SESS.REVOKE", ls.token}, ":1\r\n"
	case final:
		ls.args, ls.want, ls.done = []string{"DEL", ls.key}, ":", true
	case ls.token == "":
		ls.args = []string{"SESS.CREATE", ls.user, "META", "ip", "203.0.113.7"}
	default:
		switch ls.n % 8 {
		case 0:
			ls.args, ls.want = []string{"SET", ls.key, ls.value, "EX", "600"}, "+OK\r\n"
		case 1, 4, 6:
			ls.args, ls.want = []string{"GET", ls.key}, "$"+strconv.Itoa(len(ls.value))+"\r\n"+ls.value+"\r\n"
		case 2, 5:
			ls.args, ls.want = []string{"SESS.GET", ls.token}, "*"
		case 3:
			ls.args, ls.want = []string{"SESS.TOUCH", ls.token}, ":1\r\n"
		case 7:
			ls.args, ls.want = []string{"SESS.REVOKE", ls.token}, ":1\r\n"
		}
		ls.n++
	}
	if err := ls.c.conn.SetDeadline(time.Now().Add(60 * time.Second)); err != nil {
		return err
	}
	ls.sent = time.Now()
	ls.c.w.Write(encodeCommand(ls.args))
	return ls.c.w.Flush()
}

// receive reads the reply to the command in flight and checks it; it
// returns the latency and what was wrong, if anything.
func (ls *loadSession) receive() (time.Duration, string) {
	n, err := parseRESP(ls.c.r)
	d := time.Since(ls.sent)
	if err != nil {
		return d, fmt.Sprintf("%s: %v", ls.args[0], err)
	}
	reply := n.String()
	if ls.args[0] == "SESS.CREATE" {
		token, ok := bulkBody(reply)
		if !ok || len(token) != 66 {
			return d, fmt.Sprintf("SESS.CREATE replied %q", reply)
		}
		ls.token = token
		return d, ""
	}
	if !strings.HasPrefix(reply, ls.want) {
		return d, fmt.Sprintf("%s replied %q, want %q…", ls.args[0], reply, ls.want)
	}
	if ls.args[0] == "SESS.REVOKE" {
		ls.token = ""
	}
	return d, ""
}

// loadHeap returns the live heap after two collections.
func loadHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// Ensure that 5,000 concurrent connections doing mixed session traffic
// (SESS.CREATE, SESS.GET, SESS.TOUCH, SESS.REVOKE, GET, SET) get no error
// and no wrong reply, and leak neither goroutines nor memory; the latency
// percentiles are logged.
func TestLoad_ConcurrentSessionTraffic(t *testing.T) {
	conns := loadEnvInt(t, "SESSDB_LOAD_CONNS", 5000)
	seconds := loadEnvInt(t, "SESSDB_LOAD_SECONDS", 3)
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	if lim.Cur < uint64(2*conns+200) {
		t.Skipf("the load test needs %d file descriptors (ulimit -n is %d)", 2*conns+200, lim.Cur)
	}

	goroutinesBefore := runtime.NumGoroutine()
	ts := startSessdb(t, t.TempDir())
	admin := dialRESP(t, ts.addr)
	require.Equal(t, "+OK\r\n", admin.do("SET", "warm", "up"))
	goroutinesServing := runtime.NumGoroutine()
	heapBefore := loadHeap()

	// Connect everyone first, a few at a time (the listen backlog is finite).
	clients := make([]*loadConn, conns)
	var dialWG sync.WaitGroup
	var dialErr atomic.Value
	dialers := make(chan struct{}, 64)
	for i := range clients {
		dialWG.Add(1)
		dialers <- struct{}{}
		go func(i int) {
			defer dialWG.Done()
			defer func() { <-dialers }()
			conn, err := net.DialTimeout("tcp", ts.addr, 30*time.Second)
			if err != nil {
				dialErr.Store(err)
				return
			}
			clients[i] = &loadConn{conn: conn, r: bufio.NewReader(conn), w: bufio.NewWriter(conn)}
		}(i)
	}
	dialWG.Wait()
	if err, _ := dialErr.Load().(error); err != nil {
		t.Fatalf("dial: %v", err)
	}
	require.Eventually(t, func() bool { return ts.srv.Clients() == conns+1 }, 30*time.Second, 10*time.Millisecond)

	// Then everyone runs the mix until the deadline. loadWorkers goroutines
	// drive the connections, each a share of them with one command in
	// flight on every one (the race detector allows 8,128 goroutines, and
	// the server already runs one per connection).
	var (
		wg      sync.WaitGroup
		errMu   sync.Mutex
		errs    []string
		ops     atomic.Int64
		latMu   sync.Mutex
		lat     []time.Duration
		began   = time.Now()
		stopAt  = began.Add(time.Duration(seconds) * time.Second)
		workers = min(loadWorkers, conns)
	)
	fail := func(format string, args ...any) {
		errMu.Lock()
		if len(errs) < 20 {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
		errMu.Unlock()
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var mine []*loadSession
			for i := w; i < conns; i += workers {
				mine = append(mine, newLoadSession(i, clients[i]))
			}
			var times []time.Duration
			defer func() {
				latMu.Lock()
				lat = append(lat, times...)
				latMu.Unlock()
			}()
			// round sends every session's next command, then reads every
			// reply; it reports false after an error.
			round := func(final bool) bool {
				for _, ls := range mine {
					if err := ls.send(final); err != nil {
						fail("client %d: %s: %v", ls.id, ls.args[0], err)
						return false
					}
				}
				for _, ls := range mine {
					if ls.args == nil {
						continue
					}
					d, msg := ls.receive()
					times = append(times, d)
					ops.Add(1)
					if msg != "" {
						fail("client %d: %s", ls.id, msg)
						return false
					}
				}
				return true
			}
			for time.Now().Before(stopAt) {
				if !round(false) {
					return
				}
			}
			// Leave nothing behind: revoke the live session, delete the key.
			for pass := 0; pass < 2; pass++ {
				if !round(true) {
					return
				}
			}
			for _, ls := range mine {
				ls.c.conn.Close()
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(began)

	require.Empty(t, errs, "errors under load")
	require.Eventually(t, func() bool { return ts.srv.Clients() == 1 }, 30*time.Second, 10*time.Millisecond,
		"the server still counts closed clients")

	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(float64(len(lat)-1)*p)] }
	t.Logf("%d connections, %d commands in %v (%.0f/s); latency p50 %v, p99 %v, max %v; %s commits of %s records",
		conns, ops.Load(), elapsed.Round(time.Millisecond), float64(ops.Load())/elapsed.Seconds(),
		pct(0.50), pct(0.99), lat[len(lat)-1],
		infoField(t, admin, "persistence", "commits"), infoField(t, admin, "persistence", "committed_records"))

	// Nothing is left behind: the data is gone, the server's goroutines
	// return to their count before the clients came, and the heap to its size.
	require.Equal(t, ":1\r\n", admin.do("DBSIZE"))
	require.Equal(t, ":0\r\n", admin.do("SESS.COUNT", "user0"))
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= goroutinesServing+2 }, 30*time.Second,
		50*time.Millisecond, "goroutines: %d serving before the load", goroutinesServing)
	heapAfter := loadHeap()
	t.Logf("heap %d KiB before the load, %d KiB after; goroutines %d serving, %d now",
		heapBefore>>10, heapAfter>>10, goroutinesServing, runtime.NumGoroutine())
	require.Less(t, int64(heapAfter)-int64(heapBefore), int64(32<<20), "the heap grew by more than 32 MiB")

	ts.stop(t)
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= goroutinesBefore+2 }, 30*time.Second,
		50*time.Millisecond, "goroutines: %d before the server started, %d now", goroutinesBefore, runtime.NumGoroutine())
}
