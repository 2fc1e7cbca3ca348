package server

import (
	"bytes"
	"io"
	"net"
	"strconv"

	"github.com/tidwall/redcon"
	lua "github.com/yuin/gopher-lua"
)

// captureConn is the connection of the client a script's redis.call runs
// as: it keeps the reply the command writes, for the script to read back.
type captureConn struct {
	*redcon.Writer
	ctx  interface{}
	addr string
}

var _ redcon.Conn = (*captureConn)(nil)

func newCaptureConn(addr string) *captureConn {
	return &captureConn{Writer: redcon.NewWriter(io.Discard), addr: addr}
}

// take returns the bytes written so far and empties the buffer.
func (cc *captureConn) take() []byte {
	b := cc.Buffer()
	cc.SetBuffer(nil)
	return b
}

func (cc *captureConn) RemoteAddr() string          { return cc.addr }
func (cc *captureConn) Close() error                { return nil }
func (cc *captureConn) Context() interface{}        { return cc.ctx }
func (cc *captureConn) SetContext(v interface{})    { cc.ctx = v }
func (cc *captureConn) SetReadBuffer(int)           {}
func (cc *captureConn) Detach() redcon.DetachedConn { return nil }
func (cc *captureConn) ReadPipeline() []redcon.Command {
	return nil
}
func (cc *captureConn) PeekPipeline() []redcon.Command { return nil }
func (cc *captureConn) NetConn() net.Conn              { return nil }

// respToLua converts one RESP reply to a Lua value with Redis's rules:
// integer → number, bulk → string, null → false, array → table,
// status → {ok=…}, error → {err=…}. It returns the rest of b.
func respToLua(L *lua.LState, b []byte) (lua.LValue, []byte) {
	if len(b) < 3 {
		return lua.LFalse, nil
	}
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 {
		return lua.LFalse, nil
	}
	line, rest := b[1:i], b[i+2:]
	switch b[0] {
	case '+':
		t := L.NewTable()
		t.RawSetString("ok", lua.LString(line))
		return t, rest
	case '-':
		t := L.NewTable()
		t.RawSetString("err", lua.LString(line))
		return t, rest
	case ':':
		n, _ := strconv.ParseInt(string(line), 10, 64)
		return lua.LNumber(n), rest
	case ',':
		f, _ := strconv.ParseFloat(string(line), 64)
		t := L.NewTable()
		t.RawSetString("double", lua.LNumber(f))
		return t, rest
	case '#':
		return lua.LBool(len(line) > 0 && line[0] == 't'), rest
	case '_':
		return lua.LFalse, rest
	case '(':
		return lua.LString(line), rest
	case '$', '=', '!':
		n, _ := strconv.Atoi(string(line))
		if n < 0 || len(rest) < n+2 {
			return lua.LFalse, rest
		}
		s := rest[:n]
		if b[0] == '=' && len(s) >= 4 {
			s = s[4:]
		}
		return lua.LString(s), rest[n+2:]
	case '*', '~', '>', '%', '|':
		n, _ := strconv.Atoi(string(line))
		if n < 0 {
			return lua.LFalse, rest
		}
		if b[0] == '%' || b[0] == '|' {
			n *= 2
		}
		t := L.CreateTable(n, 0)
		for j := 1; j <= n; j++ {
			var v lua.LValue
			v, rest = respToLua(L, rest)
			t.RawSetInt(j, v)
		}
		return t, rest
	}
	return lua.LFalse, nil
}
