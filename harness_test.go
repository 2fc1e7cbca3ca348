package sessdb_test

// The shared harness of the table-driven protocol tests (sorted sets,
// scripting): it sends the same scripts to an in-process sessdb and, when it
// is installed, to a real redis-server, over RESP2 and RESP3, and compares
// every reply byte for byte with the table, so the table is proven to be
// Redis's own answers.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
)

const harnessNoRedis = "redis-server not on PATH: install Debian redis-server to prove the expectations against real Redis"

// harnessStep is one command and its raw reply in RESP2 and (when different) RESP3.
type harnessStep struct {
	cmd   string   // split on spaces
	args  []string // used instead of cmd when an argument holds a space or is empty
	want  string
	want3 string
	shape string // a regexp the reply must match, instead of want
}

func (s harnessStep) argv() []string {
	if s.args != nil {
		return s.args
	}
	return strings.Fields(s.cmd)
}

// harnessCase is a script run on an empty database. redisMin and redisBelow
// bound the Redis versions whose answers it records (sessdb always runs it).
type harnessCase struct {
	name       string
	redisMin   string
	redisBelow string
	steps      []harnessStep
	sessdbOnly string // why Redis answers differently: the case is not sent to Redis
}

// harnessStartSessdb serves a sessdb database in dir on 127.0.0.1 and returns
// its address and a stop function (also run at cleanup).
func harnessStartSessdb(t *testing.T, dir string) (string, func()) {
	t.Helper()
	cfg, err := config.Load([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir})
	require.NoError(t, err)
	db, err := sessdb.Open(filepath.Join(dir, "sessdb.db"), &sessdb.Options{Databases: cfg.Databases()})
	require.NoError(t, err)
	srv := server.New(cfg, db, nil)
	require.NoError(t, srv.Listen())
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		require.NoError(t, srv.Close())
		require.NoError(t, <-done)
		require.NoError(t, db.Close())
	}
	t.Cleanup(stop)
	return srv.Addr().String(), stop
}

// harnessStartRedis runs redis-server without persistence on a free port and
// returns its address and version, or skips the test when it is not installed.
func harnessStartRedis(t *testing.T, extra ...string) (string, string) {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip(harnessNoRedis)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	require.NoError(t, ln.Close())
	var out strings.Builder
	args := append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--daemonize", "no"}, extra...)
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", port)
	var c *harnessConn
	require.Eventually(t, func() bool {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		c = &harnessConn{conn: conn, r: bufio.NewReader(conn)}
		return true
	}, 5*time.Second, 10*time.Millisecond, "redis-server did not start: %s", &out)
	defer c.conn.Close()
	info := c.do(t, "INFO", "server")
	m := regexp.MustCompile(`redis_version:([0-9.]+)`).FindStringSubmatch(info)
	require.NotNil(t, m, "INFO server: %q", info)
	return addr, m[1]
}

// harnessConn speaks raw RESP: it writes multibulk commands and reads whole
// replies back as the exact bytes the server sent.
type harnessConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func harnessDial(t *testing.T, addr string, proto int) *harnessConn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	c := &harnessConn{conn: conn, r: bufio.NewReader(conn)}
	if proto == 3 {
		require.True(t, strings.HasPrefix(c.do(t, "HELLO", "3"), "%"))
	}
	return c
}

func (c *harnessConn) do(t *testing.T, args ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	require.NoError(t, c.conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err := io.WriteString(c.conn, b.String())
	require.NoError(t, err)
	var reply strings.Builder
	require.NoError(t, harnessReadReply(c.r, &reply), "reply to %q so far: %q", args, reply.String())
	return reply.String()
}

// harnessReadReply copies one RESP2 or RESP3 reply from r to out.
func harnessReadReply(r *bufio.Reader, out *strings.Builder) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	out.WriteString(line)
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return fmt.Errorf("malformed line %q", line)
	}
	n, _ := strconv.Atoi(line[1 : len(line)-2])
	switch line[0] {
	case '$', '=', '!':
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		out.Write(buf)
	case '*', '~', '>':
		for i := 0; i < n; i++ {
			if err := harnessReadReply(r, out); err != nil {
				return err
			}
		}
	case '%', '|':
		for i := 0; i < 2*n; i++ {
			if err := harnessReadReply(r, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// harnessVersionLess compares dotted versions numerically.
func harnessVersionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}

// harnessRun runs every case on addr over RESP2 and RESP3. redisVersion is ""
// for sessdb.
func harnessRun(t *testing.T, addr, redisVersion string, cases []harnessCase) {
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			c := harnessDial(t, addr, proto)
			for _, tc := range cases {
				if redisVersion != "" && (tc.redisMin != "" && harnessVersionLess(redisVersion, tc.redisMin) ||
					tc.redisBelow != "" && !harnessVersionLess(redisVersion, tc.redisBelow)) {
					t.Logf("%s: not checked against Redis %s", tc.name, redisVersion)
					continue
				}
				if redisVersion != "" && tc.sessdbOnly != "" {
					t.Logf("%s: not checked against Redis: %s", tc.name, tc.sessdbOnly)
					continue
				}
				require.Equal(t, "+OK\r\n", c.do(t, "FLUSHALL"))
				for _, s := range tc.steps {
					if s.shape != "" {
						got := c.do(t, s.argv()...)
						require.Regexp(t, regexp.MustCompile(s.shape), got, "%s: %q over RESP%d", tc.name, s.argv(), proto)
						continue
					}
					want := s.want
					if proto == 3 && s.want3 != "" {
						want = s.want3
					}
					require.Equal(t, want, c.do(t, s.argv()...), "%s: %q over RESP%d", tc.name, s.argv(), proto)
				}
			}
		})
	}
}

// harnessBoth runs check against a fresh sessdb and against redis-server.
func harnessBoth(t *testing.T, check func(t *testing.T, addr string)) {
	t.Run("sessdb", func(t *testing.T) {
		addr, _ := harnessStartSessdb(t, t.TempDir())
		check(t, addr)
	})
	t.Run("redis", func(t *testing.T) {
		addr, _ := harnessStartRedis(t)
		check(t, addr)
	})
}
