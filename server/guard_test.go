package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/sessdb/sessdb/config"
	"github.com/stretchr/testify/require"
)

// Ensure that inline commands split as Redis's sdssplitargs splits them.
func TestSplitArgs_Behaviour(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string // nil: unbalanced quotes
	}{
		{"", []string{}},
		{" \t ", []string{}},
		{"PING", []string{"PING"}},
		{"  SET  k\tv  ", []string{"SET", "k", "v"}},
		{"a\rb", []string{"a", "b"}},
		{"\va\fb", []string{"a\fb"}},
		{`SET k "a b"`, []string{"SET", "k", "a b"}},
		{`x "\x41\x4a\x4" "\n\r\t\b\a\q\\\""`, []string{"x", "AJx4", "\n\r\t\b\a" + `q\"`}},
		{`x 'it\'s' 'a\nb'`, []string{"x", "it's", `a\nb`}},
		{`x a"b c"d`, nil},
		{`x a"b c"`, []string{"x", "ab c"}},
		{`x "" ''`, []string{"x", "", ""}},
		{`x "a"` + "\t", []string{"x", "a"}},
		{`x "a"b`, nil},
		{`x 'a'b`, nil},
		{`x "a`, nil},
		{`x 'a`, nil},
		{`x "a\`, nil},
		{"x a\x00b", []string{"x", "a"}},
	} {
		args, ok := splitArgs([]byte(tc.line))
		if tc.want == nil {
			require.False(t, ok, "%q", tc.line)
			continue
		}
		require.True(t, ok, "%q", tc.line)
		got := []string{}
		for _, a := range args {
			got = append(got, string(a))
		}
		require.Equal(t, tc.want, got, "%q", tc.line)
	}
}

// Ensure that lengths parse as Redis's string2ll parses them.
func TestString2ll_Behaviour(t *testing.T) {
	for _, tc := range []struct {
		s  string
		n  int64
		ok bool
	}{
		{"0", 0, true},
		{"7", 7, true},
		{"-1", -1, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"-0", 0, false},
		{"01", 0, false},
		{"+1", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"1x", 0, false},
	} {
		n, ok := string2ll([]byte(tc.s))
		require.Equal(t, tc.ok, ok, "%q", tc.s)
		require.Equal(t, tc.n, n, "%q", tc.s)
	}
}

// chunkConn delivers its input a few bytes per Read and records writes.
type chunkConn struct {
	net.Conn
	in    []byte
	chunk int
	wrote bytes.Buffer
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.in[:min(c.chunk, len(c.in))])
	c.in = c.in[n:]
	return n, nil
}

func (c *chunkConn) Write(p []byte) (int, error) { return c.wrote.Write(p) }

func newTestGuard(t *testing.T, in string, chunk int, args ...string) (*guardConn, *chunkConn) {
	cfg, err := config.Load(args)
	require.NoError(t, err)
	srv := &Server{cfg: cfg}
	cc := &chunkConn{in: []byte(in), chunk: chunk}
	c := &Client{srv: srv, authed: cfg.RequirePass() == ""}
	return &guardConn{Conn: cc, srv: srv, client: c}, cc
}

// readGuard reads g to its end in small pieces.
func readGuard(g *guardConn) (string, error) {
	var out []byte
	p := make([]byte, 5)
	for {
		n, err := g.Read(p)
		out = append(out, p[:n]...)
		if err != nil {
			return string(out), err
		}
	}
}

// Ensure that the guard hands redcon canonical RESP and answers protocol
// errors after the commands before them, however the stream is split.
func TestGuardConn_Behaviour(t *testing.T) {
	for _, tc := range []struct {
		name, in, out, reply string
	}{
		{"canonical multibulk", "*1\r\n$4\r\nPING\r\n", "*1\r\n$4\r\nPING\r\n", ""},
		{"terminators skipped unread", "*1\rX$4\r\nPINGxy*2\r\n$4\r\nECHO\r\n$0\r\nzz", "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", ""},
		{"empty multibulks dropped", "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", "*1\r\n$4\r\nPING\r\n", ""},
		{"inline rewritten", "SET k \"a\\x00b\"\r\n\r\n  \nPING\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\x00b\r\n*1\r\n$4\r\nPING\r\n", ""},
		{"unbalanced quotes", "PING\r\nSET k \"v\r\nPING\r\n", "*1\r\n$4\r\nPING\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
		{"bad count", "PING\r\n*+1\r\n", "*1\r\n$4\r\nPING\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"expected $", "*2\r\n$3\r\nfoo\r\n+bar\r\n", "*2\r\n$3\r\nfoo\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"},
		{"expected $ got CR", "*1\r\n\r\n", "*1\r\n", "-ERR Protocol error: expected '$', got ' '\r\n"},
		{"bulk over proto-max-bulk-len", "*1\r\n$1048577\r\n", "*1\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
	} {
		for _, chunk := range []int{1, 2, 3, 7, 1 << 20} {
			g, cc := newTestGuard(t, tc.in, chunk, "--proto-max-bulk-len", "1mb")
			out, err := readGuard(g)
			require.Equal(t, tc.out, out, "%s, chunk %d", tc.name, chunk)
			require.Equal(t, tc.reply, cc.wrote.String(), "%s, chunk %d", tc.name, chunk)
			if tc.reply == "" {
				require.ErrorIs(t, err, io.EOF)
			} else {
				require.True(t, errors.Is(err, errProtocolClosed), "%s, chunk %d: %v", tc.name, chunk, err)
			}
		}
	}
}

// Ensure that an unauthenticated limit waits for the AUTH pipelined before
// it to run.
func TestGuardConn_UnauthLimitAfterAuth(t *testing.T) {
	auth := "*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n"
	big := "*11\r\n" + string(bytes.Repeat([]byte("$1\r\nx\r\n"), 11))
	for _, authed := range []bool{true, false} {
		g, cc := newTestGuard(t, auth+big, 1<<20, "--requirepass", "secret")
		got := make([]byte, len(auth))
		_, err := io.ReadFull(g, got)
		require.NoError(t, err)
		require.Equal(t, auth, string(got))
		g.client.authed = authed // as if AUTH ran
		out, _ := readGuard(g)
		if authed {
			require.Equal(t, big, out)
			require.Empty(t, cc.wrote.String())
		} else {
			require.Empty(t, out)
			require.Equal(t, "-ERR Protocol error: unauthenticated multibulk length\r\n", cc.wrote.String())
		}
	}
}

// Ensure that a multibulk of many arguments reaches redcon only once
// complete, and a small one as it arrives.
func TestGuardConn_WithholdsLongMultibulks(t *testing.T) {
	for _, argc := range []int{withholdArgs, withholdArgs + 1} {
		cmd := fmt.Sprintf("*%d\r\n", argc) + strings.Repeat("$1\r\nx\r\n", argc)
		g, cc := newTestGuard(t, "PING\r\n"+cmd, 100)
		ping := make([]byte, len("*1\r\n$4\r\nPING\r\n"))
		_, err := io.ReadFull(g, ping)
		require.NoError(t, err)
		require.Equal(t, "*1\r\n$4\r\nPING\r\n", string(ping), "the command before is not held back")
		first := make([]byte, 64)
		n, err := g.Read(first)
		require.NoError(t, err)
		require.Equal(t, cmd[:n], string(first[:n]))
		require.Equal(t, argc > withholdArgs, len(cc.in) == 0, "%d arguments: %d bytes unread", argc, len(cc.in))
		rest, err := readGuard(g)
		require.ErrorIs(t, err, io.EOF)
		require.Equal(t, cmd, string(first[:n])+rest)
	}
}
