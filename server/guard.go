package server

import (
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
)

// The protocol guard checks the byte stream of every connection before
// redcon parses it, so that limits hold while a command is still arriving:
// a bulk longer than proto-max-bulk-len, an oversized multibulk count or
// inline line, or a query buffer over client-query-buffer-limit. It answers
// as Redis does (an "-ERR Protocol error: ..." reply, then close) and also
// drops the empty multibulks (*0, *-1) that Redis ignores but redcon rejects.

const (
	inlineMax      = 64 << 10 // PROTO_INLINE_MAX_SIZE
	unauthMaxArgs  = 10
	unauthMaxBulk  = 16384
	guardReadChunk = 16 << 10
)

// errProtocolClosed ends a connection after a protocol error reply.
var errProtocolClosed = errors.New("protocol error")

type guardListener struct {
	net.Listener
	srv *Server
}

func (l guardListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &guardConn{Conn: nc, srv: l.srv}, nil
}

type guardState uint8

const (
	gsStart guardState = iota
	gsMultibulkLine
	gsBulkLine
	gsBulkData
	gsInline
)

type guardConn struct {
	net.Conn
	srv    *Server
	client *Client // set on accept; read only from the connection's goroutine

	buf  []byte
	out  []byte
	line []byte // the header line being held back
	err  error

	st        guardState
	remaining int64 // bulks left in the current multibulk
	need      int64 // bulk bytes (+CRLF) left to pass
	cmdBytes  int64 // bytes of the command in progress
}

func (g *guardConn) authed() bool { return g.client == nil || g.client.authed }

// Read returns validated bytes; after a protocol error it writes the error
// reply (after the replies to every earlier command) and fails.
func (g *guardConn) Read(p []byte) (int, error) {
	for len(g.out) == 0 {
		if g.err != nil {
			if ge, ok := g.err.(*guardError); ok {
				// Every earlier reply is flushed by now: answer, then close.
				_, _ = g.Conn.Write([]byte("-" + ge.msg + "\r\n"))
				g.err = errProtocolClosed
			}
			return 0, g.err
		}
		if g.buf == nil {
			g.buf = make([]byte, guardReadChunk)
		}
		n, err := g.Conn.Read(g.buf)
		if n > 0 {
			if msg := g.scan(g.buf[:n]); msg != "" {
				g.pendingError(msg)
			}
		}
		if err != nil && g.err == nil {
			g.err = err
		}
	}
	n := copy(p, g.out)
	g.out = g.out[n:]
	if len(g.out) == 0 {
		g.out = g.out[:0:0]
	}
	return n, nil
}

// pendingError arranges for msg to be sent once the bytes before it are handled.
func (g *guardConn) pendingError(msg string) {
	g.err = &guardError{msg: msg}
}

type guardError struct{ msg string }

func (e *guardError) Error() string { return e.msg }

func (g *guardConn) scan(b []byte) string {
	limit := g.srv.cfg.ClientQueryBufferLimit()
	for len(b) > 0 {
		switch g.st {
		case gsStart:
			g.cmdBytes = 0
			if b[0] == '*' {
				g.st = gsMultibulkLine
				g.line = g.line[:0]
			} else {
				g.st = gsInline
			}
		case gsMultibulkLine, gsBulkLine:
			i := indexByte(b, '\n')
			take := b
			if i >= 0 {
				take = b[:i+1]
			}
			g.line = append(g.line, take...)
			b = b[len(take):]
			if len(g.line) > inlineMax {
				if g.st == gsMultibulkLine {
					return "ERR Protocol error: too big mbulk count string"
				}
				return "ERR Protocol error: too big bulk count string"
			}
			if i < 0 {
				continue
			}
			if msg := g.header(); msg != "" {
				return msg
			}
		case gsBulkData:
			n := g.need
			if int64(len(b)) < n {
				n = int64(len(b))
			}
			g.out = append(g.out, b[:n]...)
			b = b[n:]
			g.need -= n
			g.cmdBytes += n
			if limit > 0 && g.cmdBytes > limit {
				return "ERR Protocol error: query buffer limit reached"
			}
			if g.need == 0 {
				g.remaining--
				if g.remaining == 0 {
					g.st = gsStart
				} else {
					g.st = gsBulkLine
					g.line = g.line[:0]
				}
			}
		case gsInline:
			i := indexByte(b, '\n')
			take := b
			if i >= 0 {
				take = b[:i+1]
			}
			g.out = append(g.out, take...)
			b = b[len(take):]
			g.cmdBytes += int64(len(take))
			if i < 0 {
				if g.cmdBytes > inlineMax {
					return "ERR Protocol error: too big inline request"
				}
				continue
			}
			g.st = gsStart
		}
	}
	return ""
}

// header handles a complete "*N\r\n" or "$N\r\n" line held in g.line.
func (g *guardConn) header() string {
	line := g.line
	g.cmdBytes += int64(len(line))
	body := line[1 : len(line)-1]
	if len(body) > 0 && body[len(body)-1] == '\r' {
		body = body[:len(body)-1]
	}
	if g.st == gsMultibulkLine {
		n, err := strconv.ParseInt(string(body), 10, 64)
		if err != nil || n > math.MaxInt32 || (n > unauthMaxArgs && !g.authed()) {
			return "ERR Protocol error: invalid multibulk length"
		}
		if n <= 0 {
			// Redis skips empty multibulks.
			g.st = gsStart
			return ""
		}
		g.out = append(g.out, line...)
		g.remaining = n
		g.st = gsBulkLine
		g.line = g.line[:0]
		return ""
	}
	if line[0] != '$' {
		return fmt.Sprintf("ERR Protocol error: expected '$', got '%c'", line[0])
	}
	n, err := strconv.ParseInt(string(body), 10, 64)
	if err != nil || n < 0 || n > g.srv.cfg.ProtoMaxBulkLen() || (n > unauthMaxBulk && !g.authed()) {
		return "ERR Protocol error: invalid bulk length"
	}
	g.out = append(g.out, line...)
	g.need = n + 2
	g.st = gsBulkData
	return ""
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
