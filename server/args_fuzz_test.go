package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
)

// argsFuzzCommands are the commands whose option parsers the fuzzer drives,
// with their fixed leading arguments.
var argsFuzzCommands = [][]string{
	{"SET", "k"},
	{"SESS.CREATE", "u"},
	{"ZADD", "z"},
	{"SESS.ROTATE"},
	{"SESS.GET"},
	{"SESS.REVOKEUSER", "u"},
	{"GETEX", "k"},
	{"EXPIRE", "k"},
	{"ZRANGE", "z"},
	{"ZRANGESTORE", "dst", "z"},
	{"ZUNIONSTORE", "dst"},
	{"SCAN"},
	{"HSET", "h"},
	{"HSCAN", "h"},
	{"INCRBYFLOAT", "n"},
	{"SORT", "l"},
}

// Ensure that the argument parsers of the commands with options (SET,
// SESS.CREATE, ZADD, …), fed arbitrary arguments through a real server,
// never panic, always answer exactly one well-formed reply whose errors are
// one clean line with an upper-case code, and leave the connection usable.
func FuzzCommandArgs(f *testing.F) {
	f.Add(uint8(0), "v NX PX 100 GET")
	f.Add(uint8(0), "v EX 0")
	f.Add(uint8(0), "v KEEPTTL XX EXAT 99999999999999999999")
	f.Add(uint8(1), "IDLE 60 ABSOLUTE 3600 LIMIT 2 META ip 1.2.3.4")
	f.Add(uint8(1), "IDLE -1 META a")
	f.Add(uint8(2), "NX GT CH INCR 1 m")
	f.Add(uint8(2), "XX LT 1 a 2 b nan c")
	f.Add(uint8(2), "-inf m +inf n 1e400 o")
	f.Add(uint8(3), "kq3T0r6yXv9kq2dHc1Q1oA.cN2y6a1YV2Jm6m5x8Pq7b0ZsJb3d4Vv1oWm0n9e8T7s GRACE 5")
	f.Add(uint8(4), "x NOTOUCH extra")
	f.Add(uint8(6), "PERSIST EX 1")
	f.Add(uint8(7), "10 NX XX GT")
	f.Add(uint8(8), "(1 [a BYLEX REV LIMIT 0 -1 WITHSCORES")
	f.Add(uint8(10), "2 z y WEIGHTS 1 nan AGGREGATE MAX")
	f.Add(uint8(11), "0 MATCH * COUNT 0 TYPE string")
	f.Add(uint8(14), "1e308")

	dir := f.TempDir()
	cfg, err := config.Load([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir, "--appendfsync", "everysec"})
	if err != nil {
		f.Fatal(err)
	}
	db, err := sessdb.Open(filepath.Join(dir, "fuzz.db"), &sessdb.Options{Fsync: sessdb.FsyncEverySec})
	if err != nil {
		f.Fatal(err)
	}
	srv := New(cfg, db, nil)
	if err := srv.Listen(); err != nil {
		f.Fatal(err)
	}
	go func() { _ = srv.Serve() }()
	f.Cleanup(func() { _ = srv.Close(); _ = db.Close() })
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { conn.Close() })
	r := bufio.NewReader(conn)
	execs := 0

	f.Fuzz(func(t *testing.T, which uint8, rest string) {
		if len(rest) > 512 {
			return
		}
		args := append([]string(nil), argsFuzzCommands[int(which)%len(argsFuzzCommands)]...)
		args = append(args, splitFuzzArgs(rest)...)
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		reply := fuzzRoundTrip(t, conn, r, args)
		if reply[0] == '-' {
			code := reply[1:]
			if i := bytes.IndexByte([]byte(code), ' '); i > 0 {
				code = code[:i]
			}
			for _, ch := range code {
				if ch < 'A' || ch > 'Z' {
					t.Fatalf("%q: error without an upper-case code: %q", args, reply)
				}
			}
		}
		if got := fuzzRoundTrip(t, conn, r, []string{"PING"}); got != "+PONG\r\n" {
			t.Fatalf("%q: then PING answered %q", args, got)
		}
		if execs++; execs%500 == 0 {
			fuzzRoundTrip(t, conn, r, []string{"FLUSHALL"})
			fuzzRoundTrip(t, conn, r, []string{"SESS.REVOKEUSER", "u"})
		}
	})
}

// splitFuzzArgs splits on spaces; a fuzzer-made argument may hold any byte else.
func splitFuzzArgs(s string) []string {
	var out []string
	for _, a := range bytes.Split([]byte(s), []byte(" ")) {
		if len(a) > 0 {
			out = append(out, string(a))
		}
	}
	return out
}

// fuzzRoundTrip sends args as a multibulk and returns the one reply's bytes.
func fuzzRoundTrip(t *testing.T, conn net.Conn, r *bufio.Reader, args []string) string {
	t.Helper()
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write(b); err != nil {
		t.Fatalf("%q: write: %v", args, err)
	}
	var out []byte
	if err := readFuzzReply(r, &out); err != nil {
		t.Fatalf("%q: reply: %v (read so far %q)", args, err, out)
	}
	return string(out)
}

// readFuzzReply reads one RESP2 reply, checking its framing.
func readFuzzReply(r *bufio.Reader, out *[]byte) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	*out = append(*out, line...)
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return fmt.Errorf("line not CRLF-terminated: %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-':
		if bytes.ContainsAny([]byte(body), "\r\n") {
			return fmt.Errorf("status or error holds CR: %q", line)
		}
		return nil
	case ':':
		_, err := strconv.ParseInt(body, 10, 64)
		return err
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return fmt.Errorf("bad bulk length %q", line)
		}
		if n == -1 {
			return nil
		}
		data := make([]byte, n+2)
		if _, err := io.ReadFull(r, data); err != nil {
			return err
		}
		*out = append(*out, data...)
		if data[n] != '\r' || data[n+1] != '\n' {
			return fmt.Errorf("bulk not terminated")
		}
		return nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return fmt.Errorf("bad array length %q", line)
		}
		for range max(n, 0) {
			if err := readFuzzReply(r, out); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown reply type %q", line)
}
