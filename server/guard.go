package server

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/sessdb/sessdb/config"
)

// The protocol guard reads every connection's byte stream before redcon and
// parses it as Redis's networking.c does, so that limits hold while a command
// is still arriving and malformed input gets Redis's answer, not redcon's:
// a bulk longer than proto-max-bulk-len, an oversized or malformed multibulk
// count, the unauthenticated limits, an oversized inline line, unbalanced
// quotes. It answers as Redis does (an "-ERR Protocol error: ..." reply after
// the replies to every earlier command, then close; a command over
// client-query-buffer-limit closes without a reply) and hands redcon only
// canonical RESP: empty multibulks (*0, *-1) are dropped, inline commands are
// split with Redis's sdssplitargs rules and rewritten as multibulks, and the
// two bytes after a header's '\r' or a bulk's data, which Redis skips without
// looking at them, become "\r\n".
//
// Redis runs each command before it parses the next, so an AUTH pipelined
// before a command of more than 10 arguments lifts the unauthenticated limit
// for it; the guard holds such a header back until redcon has run the
// commands before it. Deliberate differences: a NUL byte is an ordinary byte
// (Redis's C-string search stops at it and waits for more input), and
// client-query-buffer-limit bounds a whole command, which redcon buffers
// whole, where Redis bounds its unparsed input.
//
// The guard also enforces timeout: before every read from the socket it sets
// a read deadline timeout seconds away (read afresh each time, so CONFIG SET
// timeout applies to open connections too). A connection that sends nothing
// for that long is closed without a reply, as Redis's clientsCron closes
// idle clients, including one that stalls halfway through a command
// (slowloris). As in Redis, a connection with a Pub/Sub subscription is
// never idle: it waits for messages, not for its own commands.

const (
	inlineMax      = 64 << 10 // PROTO_INLINE_MAX_SIZE
	unauthMaxArgs  = 10
	unauthMaxBulk  = 16384
	guardReadChunk = 16 << 10
	// guardFirstChunk is the read buffer a connection starts with; it grows
	// to guardReadChunk once a read fills it. Most clients send small
	// commands, and 5,000 connections then hold 20 MB of buffers, not 80.
	guardFirstChunk = 4 << 10
	// guardKeepBuffer is the largest output buffer kept between reads.
	guardKeepBuffer = 64 << 10 // PROTO_IOBUF_LEN
	// withholdArgs is the argument count above which a multibulk reaches
	// redcon only once complete: redcon walks every announced argument each
	// time it reparses an incomplete command, so "*2147483647" followed by a
	// trickle of bytes would cost seconds of CPU per read.
	withholdArgs = 1024
)

// The protocol errors Redis sends before closing a connection.
const (
	errProtoMultibulkLen  = "ERR Protocol error: invalid multibulk length"
	errProtoBulkLen       = "ERR Protocol error: invalid bulk length"
	errProtoUnauthMbulk   = "ERR Protocol error: unauthenticated multibulk length"
	errProtoUnauthBulk    = "ERR Protocol error: unauthenticated bulk length"
	errProtoBigMbulkCount = "ERR Protocol error: too big mbulk count string"
	errProtoBigBulkCount  = "ERR Protocol error: too big bulk count string"
	errProtoBigInline     = "ERR Protocol error: too big inline request"
	errProtoUnbalanced    = "ERR Protocol error: unbalanced quotes in request"
	errProtoExpectedBulk  = "ERR Protocol error: expected '$', got '%c'"
)

// errProtocolClosed ends a connection after a protocol error.
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
	gsStart         guardState = iota
	gsMultibulkLine            // "*N" up to '\r'
	gsBulkLine                 // "$N" up to '\r'
	gsLineEnd                  // the byte after a header's '\r'
	gsBulkData
	gsBulkEnd // the two bytes after a bulk's data
	gsInline
)

type guardConn struct {
	net.Conn
	srv    *Server
	client *Client // set on accept; read only from the connection's goroutine

	buf  []byte // read buffer
	in   []byte // read bytes not scanned yet
	out  []byte // checked bytes for redcon; the first ready are released
	line []byte // the header or inline line being collected
	err  error  // the read error to return once out is drained
	fail *guardError

	ready    int
	withhold bool      // the multibulk in progress stays out of ready until complete
	deadline bool      // a read deadline is set on the socket (timeout)
	waitFrom time.Time // when the current read from the socket began

	st        guardState
	lineOf    guardState // the header kind gsLineEnd completes
	held      bool       // g.line is a complete header waiting for earlier commands to run
	remaining int64      // bulks left in the current multibulk
	argc      int64
	need      int64  // bulk data bytes left to pass
	skip      int    // terminator bytes left to drop
	cmdBytes  int64  // bytes of the command in progress
	maxBulk   int64  // proto-max-bulk-len, read once per scan
	argLen    int64  // the length of the bulk in progress
	arg0      []byte // the first argument, when it may be RESET

	// Since redcon last asked for bytes: a command was completed, and one of
	// those may have been RESET. Either may change whether the next command
	// is authenticated, so its unauthenticated limits wait until they ran.
	batchDone  bool
	batchReset bool
}

// guardError is a protocol error: msg is sent ("" sends nothing), then the
// connection closes.
type guardError struct{ msg string }

func (e *guardError) Error() string { return e.msg }

// Read returns checked bytes; after a protocol error it writes the error
// reply (after the replies to every earlier command) and fails.
func (g *guardConn) Read(p []byte) (int, error) {
	if g.ready == 0 {
		// redcon asks for more only after running every complete command
		// it was given, so their effect on authentication is visible now.
		g.batchDone, g.batchReset = false, false
	}
	for g.ready == 0 {
		switch {
		case g.fail != nil:
			// Every earlier reply is flushed by now: answer, then close.
			if g.fail.msg != "" {
				_, _ = g.Conn.Write([]byte("-" + g.fail.msg + "\r\n"))
			}
			g.fail, g.err = nil, errProtocolClosed
			return 0, g.err
		case g.held || len(g.in) > 0:
			g.scan()
		case g.err != nil:
			return 0, g.err
		default:
			if g.buf == nil {
				g.buf = make([]byte, guardFirstChunk)
			}
			g.armIdle()
			n, err := g.Conn.Read(g.buf)
			g.in = g.buf[:n]
			if n == len(g.buf) && n < guardReadChunk {
				g.buf = make([]byte, guardReadChunk) // g.in keeps the old one until scanned
			}
			if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && !g.idle() {
				continue // timeout changed, or a subscriber: wait again
			}
			if err != nil {
				g.err = err
			}
		}
	}
	n := copy(p, g.out[:g.ready])
	g.ready -= n
	switch {
	case n < len(g.out):
		g.out = g.out[n:]
	case cap(g.out) <= guardKeepBuffer:
		g.out = g.out[:0] // drained: reuse the buffer for the next batch
	default:
		g.out = nil // do not keep a huge command's buffer
	}
	return n, nil
}

// scan checks g.in, appending what passes to g.out. It stops early on a
// protocol error (g.fail) or a held header (g.held, the rest left in g.in).
func (g *guardConn) scan() {
	b := g.in
	defer func() {
		g.in = b
		if !g.withhold {
			g.ready = len(g.out)
		}
	}()
	g.maxBulk = g.srv.cfg.ProtoMaxBulkLen()
	limit := g.srv.cfg.ClientQueryBufferLimit()
	if g.held {
		g.held = false
		if !g.header() {
			return
		}
	}
	for len(b) > 0 {
		switch g.st {
		case gsStart:
			g.cmdBytes = 0
			g.line = g.line[:0]
			if b[0] == '*' {
				g.st = gsMultibulkLine
			} else {
				g.st = gsInline
			}
		case gsMultibulkLine, gsBulkLine:
			i := bytes.IndexByte(b, '\r')
			take := b
			if i >= 0 {
				take = b[:i]
			}
			g.line = append(g.line, take...)
			g.cmdBytes += int64(len(take))
			b = b[len(take):]
			if i < 0 {
				if len(g.line) > inlineMax {
					if g.st == gsMultibulkLine {
						g.failWith(errProtoBigMbulkCount)
					} else {
						g.failWith(errProtoBigBulkCount)
					}
					return
				}
				continue
			}
			b = b[1:]
			g.lineOf, g.st = g.st, gsLineEnd
		case gsLineEnd:
			b = b[1:]
			g.cmdBytes += 2
			g.st = g.lineOf
			if !g.header() {
				return
			}
		case gsBulkData:
			n := min(g.need, int64(len(b)))
			if g.remaining == g.argc && g.argLen == int64(len("reset")) {
				g.arg0 = append(g.arg0, b[:n]...)
			}
			g.out = append(g.out, b[:n]...)
			b = b[n:]
			g.need -= n
			g.cmdBytes += n
			if g.need == 0 {
				g.st, g.skip = gsBulkEnd, 2
			}
		case gsBulkEnd:
			n := min(g.skip, len(b))
			b = b[n:]
			g.skip -= n
			g.cmdBytes += int64(n)
			if g.skip > 0 {
				continue
			}
			g.out = append(g.out, '\r', '\n')
			g.remaining--
			if g.remaining > 0 {
				g.st = gsBulkLine
				g.line = g.line[:0]
				continue
			}
			g.commandDone(g.arg0)
			g.withhold = false
			g.st = gsStart
		case gsInline:
			i := bytes.IndexByte(b, '\n')
			take := b
			if i >= 0 {
				take = b[:i]
			}
			g.line = append(g.line, take...)
			b = b[len(take):]
			if i < 0 {
				if len(g.line) > inlineMax {
					g.failWith(errProtoBigInline)
					return
				}
				continue
			}
			b = b[1:]
			g.st = gsStart
			args, ok := splitArgs(bytes.TrimSuffix(g.line, []byte{'\r'}))
			if !ok {
				g.failWith(errProtoUnbalanced)
				return
			}
			if len(args) == 0 {
				continue
			}
			g.out = appendMultibulk(g.out, args)
			g.commandDone(args[0])
		}
		if limit > 0 && g.cmdBytes > limit {
			// Redis closes such a client without a reply, and logs it; the
			// log never shows the command, which may hold a secret.
			g.srv.stats.queryBufferDisconnections.Add(1)
			g.srv.logger.Printf("Closing client that reached max query buffer length: addr=%s (client-query-buffer-limit %d bytes)", g.RemoteAddr(), limit)
			g.failWith("")
			return
		}
	}
}

// header acts on the complete "*N" or "$N" line in g.line (the bytes after
// its '\r' already dropped); it reports whether scanning goes on.
func (g *guardConn) header() bool {
	line := g.line
	if g.st == gsMultibulkLine {
		n, ok := string2ll(line[1:])
		if !ok || n > math.MaxInt32 {
			return g.failWith(errProtoMultibulkLen)
		}
		if n > unauthMaxArgs {
			if g.authMayChange() {
				return g.hold()
			}
			if g.authRequired() {
				return g.failWith(errProtoUnauthMbulk)
			}
		}
		if n <= 0 {
			// Redis skips empty multibulks.
			g.st = gsStart
			return true
		}
		if n > withholdArgs {
			g.ready, g.withhold = len(g.out), true
		}
		g.out = append(strconv.AppendInt(append(g.out, '*'), n, 10), '\r', '\n')
		g.argc, g.remaining = n, n
		g.arg0 = g.arg0[:0]
		g.st = gsBulkLine
		g.line = g.line[:0]
		return true
	}
	if len(line) == 0 || line[0] != '$' {
		// Redis's error replies show '\r' and '\n' as spaces.
		got := byte(' ')
		if len(line) > 0 && line[0] != '\n' {
			got = line[0]
		}
		return g.failWith(fmt.Sprintf(errProtoExpectedBulk, got))
	}
	n, ok := string2ll(line[1:])
	if !ok || n < 0 || n > g.maxBulk {
		return g.failWith(errProtoBulkLen)
	}
	if n > unauthMaxBulk {
		if g.authMayChange() {
			return g.hold()
		}
		if g.authRequired() {
			return g.failWith(errProtoUnauthBulk)
		}
	}
	g.out = append(strconv.AppendInt(append(g.out, '$'), n, 10), '\r', '\n')
	g.need, g.argLen = n, n
	g.st = gsBulkData
	if n == 0 {
		g.st, g.skip = gsBulkEnd, 2
	}
	return true
}

// armIdle sets the socket's read deadline timeout from now, or clears it
// when timeout is 0. It runs before every read, so the clock restarts
// whenever bytes arrive or a reply was just written.
func (g *guardConn) armIdle() {
	g.waitFrom = time.Now()
	if t := g.srv.cfg.Timeout(); t > 0 {
		_ = g.Conn.SetReadDeadline(g.waitFrom.Add(t))
		g.deadline = true
	} else if g.deadline {
		_ = g.Conn.SetReadDeadline(time.Time{})
		g.deadline = false
	}
}

// idle reports whether the connection has been idle past timeout: a read
// deadline passed, and neither did CONFIG SET move it nor is the connection
// a subscriber.
func (g *guardConn) idle() bool {
	t := g.srv.cfg.Timeout()
	if t <= 0 || (g.client != nil && g.client.subscribed()) {
		return false
	}
	return !time.Now().Before(g.waitFrom.Add(t))
}

// wakeIdle makes every connection waiting for input re-read timeout at once
// (CONFIG SET timeout): each wakes from its read and sets its deadline anew.
func (s *Server) wakeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for _, c := range s.clients {
		if g, ok := c.conn.NetConn().(*guardConn); ok {
			_ = g.Conn.SetReadDeadline(now)
		}
	}
}

func (g *guardConn) failWith(msg string) bool {
	g.fail = &guardError{msg: msg}
	return false
}

// hold stops scanning at the header in g.line until redcon has run the
// commands before it.
func (g *guardConn) hold() bool {
	g.held = true
	return false
}

// authRequired is Redis's authRequired: the unauthenticated limits apply.
func (g *guardConn) authRequired() bool {
	return g.client != nil && !g.client.authed && g.srv.authRequired()
}

// authMayChange reports whether a command of this batch that has not run
// yet may change authRequired: AUTH or HELLO before it runs, RESET after.
func (g *guardConn) authMayChange() bool {
	if !g.batchDone || g.client == nil || !g.srv.authRequired() {
		return false
	}
	return !g.client.authed || g.batchReset
}

func (g *guardConn) commandDone(name []byte) {
	g.batchDone = true
	if bytes.EqualFold(name, []byte("reset")) {
		g.batchReset = true
	}
}

func appendMultibulk(b []byte, args [][]byte) []byte {
	b = append(strconv.AppendInt(append(b, '*'), int64(len(args)), 10), '\r', '\n')
	for _, a := range args {
		b = append(strconv.AppendInt(append(b, '$'), int64(len(a)), 10), '\r', '\n')
		b = append(append(b, a...), '\r', '\n')
	}
	return b
}

// string2ll accepts exactly what Redis's string2ll does: no sign but '-',
// no leading zeros, no "-0", at most 20 bytes.
func string2ll(b []byte) (int64, bool) {
	s := b
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	if len(s) == 1 && s[0] == '0' {
		return 0, true
	}
	if s[0] == '-' {
		s = s[1:]
	}
	if len(s) == 0 || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// splitArgs splits an inline command with Redis's sdssplitargs (shared with
// the config file parser); ok is false for unbalanced quotes. Like Redis's C
// code, a NUL byte ends the line.
func splitArgs(line []byte) (args [][]byte, ok bool) {
	parts, err := config.SplitArgs(string(line))
	if err != nil {
		return nil, false
	}
	args = make([][]byte, len(parts))
	for i, p := range parts {
		args[i] = []byte(p)
	}
	return args, true
}
