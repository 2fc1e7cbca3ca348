package server

import (
	"bufio"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
)

// Ensure that the brute-force throttle lets a few typos through, then
// delays each further attempt from the same address twice as long as the
// one before, up to the cap; that a success resets it; and that other
// addresses are not affected.
func TestAuthThrottle_DelayGrows(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	th := newAuthThrottle()
	th.now = func() time.Time { return now }
	const ip = "203.0.113.9"
	var waits []time.Duration
	for i := 0; i < 11; i++ {
		d := th.reserve(ip)
		waits = append(waits, d)
		now = now.Add(d) // the attempt is answered after its wait
		th.result(ip, false)
	}
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{0, 0, 0, 100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 5000 * ms, 5000 * ms}, waits)
	assert.Equal(t, time.Duration(0), th.reserve("198.51.100.1"), "another address is not delayed")

	// Attempts made at once (many connections) queue one delay apart.
	first, second := th.reserve(ip), th.reserve(ip)
	assert.Equal(t, 5*time.Second, second-first)

	th.result(ip, true)
	assert.Equal(t, time.Duration(0), th.reserve(ip), "a success resets the address")
	assert.Equal(t, 0, th.failures(ip))

	// An address quiet for an hour starts afresh.
	for i := 0; i < 5; i++ {
		th.result(ip, false)
	}
	now = now.Add(authForgetAfter + time.Second)
	assert.Equal(t, time.Duration(0), th.reserve(ip))
}

// Ensure that the throttle's table of addresses stays bounded.
func TestAuthThrottle_Bounded(t *testing.T) {
	th := newAuthThrottle()
	for i := 0; i < authMaxPeers+1000; i++ {
		ip := net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)).String()
		for j := 0; j < authFreeFailures; j++ {
			th.result(ip, false)
		}
	}
	assert.LessOrEqual(t, len(th.peers), authMaxPeers)
}

// startTestServer serves a fresh database with the given directives.
func startTestServer(t *testing.T, setup func(s *Server), args ...string) (*Server, string) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(append([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir}, args...))
	require.NoError(t, err)
	db, err := sessdb.Open(filepath.Join(dir, "sessdb.db"), nil)
	require.NoError(t, err)
	s := New(cfg, db, nil)
	if setup != nil {
		setup(s)
	}
	require.NoError(t, s.Listen())
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		require.NoError(t, s.Close())
		require.NoError(t, <-done)
		require.NoError(t, db.Close())
	})
	return s, s.Addr().String()
}

type lineConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialLine(t *testing.T, addr string) *lineConn {
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &lineConn{t, c, bufio.NewReader(c)}
}

func (l *lineConn) send(cmd string) {
	_, err := l.c.Write([]byte(cmd + "\r\n"))
	require.NoError(l.t, err)
}

func (l *lineConn) line() string {
	require.NoError(l.t, l.c.SetReadDeadline(time.Now().Add(5*time.Second)))
	s, err := l.r.ReadString('\n')
	require.NoError(l.t, err)
	return s
}

// Ensure that a throttled AUTH waits (through the injected sleep) without
// holding up any other connection, that even the right password waits, and
// that the wait is counted in INFO.
func TestAuthThrottle_DoesNotBlockOthers(t *testing.T) {
	slept := make(chan time.Duration, 4)
	release := make(chan struct{})
	frozen := time.Unix(1_700_000_000, 0)
	_, addr := startTestServer(t, func(s *Server) {
		s.auth.now = func() time.Time { return frozen }
		s.auth.sleep = func(d time.Duration, stop <-chan struct{}) {
			slept <- d
			select {
			case <-release:
			case <-stop:
			}
		}
	}, "--requirepass", "right")

	a := dialLine(t, addr)
	for i := 0; i < authFreeFailures; i++ {
		a.send("AUTH wrong")
		require.Equal(t, "-WRONGPASS invalid username-password pair or user is disabled.\r\n", a.line())
	}
	a.send("AUTH right") // throttled: waits before being checked
	var d time.Duration
	select {
	case d = <-slept:
	case <-time.After(5 * time.Second):
		t.Fatal("the fourth attempt was not delayed")
	}
	assert.Equal(t, authBaseDelay, d)

	// Meanwhile another connection is served at once.
	b := dialLine(t, addr)
	b.send("PING")
	require.Equal(t, "-NOAUTH Authentication required.\r\n", b.line())
	b.send("HELLO 2 AUTH default wrong") // from the same address: queued too
	select {
	case d = <-slept:
		assert.Equal(t, 2*authBaseDelay, d, "a parallel attempt waits one more delay")
	case <-time.After(5 * time.Second):
		t.Fatal("the parallel attempt was not delayed")
	}
	c := dialLine(t, addr)
	c.send("AUTH right")
	select {
	case d = <-slept:
		assert.Equal(t, 3*authBaseDelay, d, "so does a third one")
	case <-time.After(5 * time.Second):
		t.Fatal("the third parallel attempt was not delayed")
	}
	close(release)
	require.Equal(t, "+OK\r\n", a.line())
	require.Equal(t, "-WRONGPASS invalid username-password pair or user is disabled.\r\n", b.line())
	require.Equal(t, "+OK\r\n", c.line())

	a.send("INFO stats")
	info := readBulk(t, a)
	assert.Contains(t, info, "auth_delayed_attempts:3\r\n")
	assert.Contains(t, info, "acl_access_denied_auth:4\r\n")
}

func readBulk(t *testing.T, l *lineConn) string {
	head := l.line()
	require.True(t, strings.HasPrefix(head, "$"), head)
	n, err := strconv.Atoi(strings.TrimSpace(head[1:]))
	require.NoError(t, err)
	buf := make([]byte, n+2)
	_, err = io.ReadFull(l.r, buf)
	require.NoError(t, err)
	return string(buf)
}

// Ensure that a throttled AUTH does not delay shutdown.
func TestAuthThrottle_CloseEndsWait(t *testing.T) {
	now := time.Unix(0, 0)
	th := newAuthThrottle()
	th.now = func() time.Time { return now }
	done := make(chan struct{})
	go func() {
		th.sleep(time.Hour, th.stop)
		close(done)
	}()
	th.close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("close did not end the wait")
	}
}

// Ensure that passwords are kept as SHA-256 hashes only and that the
// comparison checks every stored hash.
func TestACL_PasswordsHashed(t *testing.T) {
	st := newACLStore(newCommandTable())
	_, err := st.update("u", []string{"on", ">first", ">second"})
	require.NoError(t, err)
	u := st.user("u")
	for _, p := range u.passwords {
		assert.Len(t, p, 64)
		assert.NotContains(t, p, "first")
	}
	assert.True(t, st.authenticate("u", []byte("first")))
	assert.True(t, st.authenticate("u", []byte("second")))
	assert.False(t, st.authenticate("u", []byte("third")))
	assert.False(t, st.authenticate("nobody", []byte("first")))
	assert.NotContains(t, st.cat.describe(u), "first")
}

// Ensure that protected mode refuses exactly the non-loopback clients, and
// only when it is on and the default user has no password.
func TestProtectedMode_Decision(t *testing.T) {
	for _, tc := range []struct {
		protected, nopass bool
		addr              string
		refused           bool
	}{
		{true, true, "127.0.0.1:5000", false},
		{true, true, "127.8.9.10:5000", false},
		{true, true, "[::1]:5000", false},
		{true, true, "[::ffff:127.0.0.1]:5000", false},
		{true, true, "192.0.2.7:5000", true},
		{true, true, "[2001:db8::1]:5000", true},
		{true, true, "[fe80::1%eth0]:5000", true},
		{true, true, "10.0.0.1:5000", true},
		{true, true, "not-an-address", true},
		{true, false, "192.0.2.7:5000", false},
		{false, true, "192.0.2.7:5000", false},
	} {
		assert.Equal(t, tc.refused, protectedRefuses(tc.protected, tc.nopass, tc.addr), "%+v", tc)
	}
}

// Ensure that categories come from Redis 7.0 for Redis's commands and
// that every SESS.* command is in @session and in @read or @write.
func TestACL_Categories(t *testing.T) {
	cat := newACLCatalog(newCommandTable())
	has := func(name, category string) bool {
		return cat.cats[cat.ids[cat.lookup(name)]]&aclCategoryBit(category) != 0
	}
	assert.True(t, has("flushall", "dangerous"))
	assert.True(t, has("flushall", "keyspace"))
	assert.True(t, has("config|get", "admin"))
	assert.True(t, has("get", "read"))
	assert.True(t, has("keys", "dangerous"))
	n := 0
	for _, cmd := range cat.cmds {
		if strings.HasPrefix(cmd.name, "sess.") && cmd.subs == nil {
			n++
			assert.True(t, has(cmd.name, "session"), cmd.name)
			assert.True(t, has(cmd.name, "read") != has(cmd.name, "write"), "%s must be @read or @write", cmd.name)
		}
	}
	assert.GreaterOrEqual(t, n, 12)
}

// Ensure that the rules ACL LIST and the aclfile show for a user rebuild
// exactly that user (Redis checks the same on every description): for any
// rules, applying the description to a new user gives the same flags,
// passwords, commands, keys and channels.
func FuzzACL_DescribeRoundTrip(f *testing.F) {
	for _, seed := range []string{
		"on >secret ~sess:* +@read -keys",
		"allcommands -flushall -@dangerous +config|get",
		"nocommands +@hash +@set -smembers %R~r:* %W~w:* &news.*",
		"reset +@all -@write +set +select|0 +select|1 allkeys",
		"-@all +@session +acl|whoami resetchannels allchannels nopass",
		"+@keyspace -del +@string -@slow +@admin",
	} {
		f.Add(seed)
	}
	cat := newACLCatalog(newCommandTable())
	f.Fuzz(func(t *testing.T, rules string) {
		u := newACLUser("u", len(cat.cmds))
		for _, r := range strings.Fields(rules) {
			_ = cat.apply(u, r) // refused rules change nothing
		}
		desc := cat.describe(u)
		v := newACLUser("u", len(cat.cmds))
		for _, r := range strings.Split(desc, " ") {
			require.NoError(t, cat.apply(v, r), "rule %q of %q", r, desc)
		}
		assert.Equal(t, u.flags(), v.flags(), desc)
		assert.Equal(t, u.passwords, v.passwords, desc)
		assert.Equal(t, u.allowed, v.allowed, "commands of %q from %q", desc, rules)
		assert.Equal(t, u.future, v.future, desc)
		assert.Equal(t, u.keysString(), v.keysString(), desc)
		assert.Equal(t, u.channelsString(), v.channelsString(), desc)
		assert.Equal(t, cat.describe(v), desc)
	})
}
