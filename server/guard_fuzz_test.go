package server

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"testing"
)

// Ensure that the protocol guard, whatever bytes a client sends and however
// they are split, never panics, hands redcon only canonical multibulks
// (RESP arrays of bulk strings, the last possibly still incomplete), answers
// a protocol error with one clean error line, and does all that the same
// way for every split of the stream.
func FuzzGuardConn(f *testing.F) {
	for _, s := range []string{
		"*1\r\n$4\r\nPING\r\n",
		"*1\rX$4\r\nPINGxy*2\r\n$4\r\nECHO\r\n$0\r\nzz",
		"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n",
		"SET k \"a\\x00b\"\r\n\r\n  \nPING\n",
		"PING\r\nSET k \"v\r\nPING\r\n",
		"PING\r\n*+1\r\n",
		"*2\r\n$3\r\nfoo\r\n+bar\r\n",
		"*1\r\n$1048577\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$-1\r\n",
		"*2\r\n$4\r\nAUTH\r\n$3\r\npwd\r\n*1\r\n$5\r\nRESET\r\n",
		"  'a\\'b' \"\\xzz\" \"\\x4\"\n",
	} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		if len(in) > 1<<14 {
			return
		}
		out, reply, err := guardRun(t, in, 1<<20)
		checkCanonical(t, out)
		switch {
		case errors.Is(err, io.EOF):
			if reply != "" {
				t.Fatalf("reply %q without a protocol error", reply)
			}
		case errors.Is(err, errProtocolClosed):
			if reply != "" && (reply[0] != '-' || !bytes.HasSuffix([]byte(reply), []byte("\r\n")) || bytes.Count([]byte(reply), []byte("\r\n")) != 1) {
				t.Fatalf("protocol error reply is not one error line: %q", reply)
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
		// Every split gives the same result.
		n := int(chunk)%16 + 1
		out2, reply2, err2 := guardRun(t, in, n)
		if out2 != out || reply2 != reply || errors.Is(err, io.EOF) != errors.Is(err2, io.EOF) {
			t.Fatalf("chunks of %d: got %q %q %v, whole: %q %q %v", n, out2, reply2, err2, out, reply, err)
		}
	})
}

func guardRun(t *testing.T, in []byte, chunk int) (string, string, error) {
	g, cc := newTestGuard(t, string(in), chunk, "--proto-max-bulk-len", "1mb")
	out, err := readGuard(g)
	return out, cc.wrote.String(), err
}

// checkCanonical requires b to be canonical multibulks, the last of which
// may be cut short.
func checkCanonical(t *testing.T, b string) {
	t.Helper()
	fail := func(why string) { t.Fatalf("not canonical RESP (%s): %q", why, b) }
	// header reads "<c><n>\r\n"; ok is false when b ends before it does.
	header := func(c byte) (int, bool) {
		if len(b) == 0 {
			return 0, false
		}
		if b[0] != c {
			fail("expected " + string(c))
		}
		end := bytes.Index([]byte(b), []byte("\r\n"))
		if end < 0 {
			if _, err := strconv.ParseUint(b[1:], 10, 63); len(b) > 1 && err != nil {
				fail("bad header digits")
			}
			return 0, false
		}
		n, err := strconv.ParseUint(b[1:end], 10, 63)
		if err != nil || strconv.FormatUint(n, 10) != b[1:end] {
			fail("bad header number")
		}
		b = b[end+2:]
		return int(n), true
	}
	for len(b) > 0 {
		argc, ok := header('*')
		if !ok {
			return
		}
		if argc == 0 {
			fail("empty multibulk")
		}
		for range argc {
			n, ok := header('$')
			if !ok {
				return
			}
			if len(b) < n+2 {
				if len(b) > n && b[n] != '\r' {
					fail("bulk not terminated")
				}
				return
			}
			if b[n:n+2] != "\r\n" {
				fail("bulk not terminated")
			}
			b = b[n+2:]
		}
	}
}
