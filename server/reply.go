package server

import (
	"math"
	"strconv"
	"strings"
)

// The reply writers. RESP3 types are used only on a connection that said
// HELLO 3; otherwise each falls back to its RESP2 form, as Redis does.

func (c *Client) writeOK() { c.conn.WriteString(msgOK) }

// intArg parses a C int argument as Redis's getIntFromObjectOrReply does,
// answering its errors itself.
func (c *Client) intArg(b []byte) (int64, bool) {
	n, ok := parseInt(b)
	if !ok {
		c.writeError(errNotInteger)
		return 0, false
	}
	if n != int64(int32(n)) {
		c.writeError(errIntRange)
		return 0, false
	}
	return n, true
}

func (c *Client) writeSimple(s string) { c.conn.WriteString(s) }

// writeError writes an error reply; msg carries its own prefix (ERR, WRONGTYPE, …).
func (c *Client) writeError(msg string) {
	c.conn.WriteError(sanitizeLine(msg))
	c.errorReplies++
}

func (c *Client) writeInt(n int64) { c.conn.WriteInt64(n) }

func (c *Client) writeBool01(b bool) {
	if b {
		c.conn.WriteInt(1)
	} else {
		c.conn.WriteInt(0)
	}
}

func (c *Client) writeBulk(b []byte) { c.conn.WriteBulk(b) }

func (c *Client) writeBulkString(s string) { c.conn.WriteBulkString(s) }

// writeNull writes a missing single value: $-1 in RESP2, _ in RESP3.
func (c *Client) writeNull() {
	if c.resp == 3 {
		c.conn.WriteRaw([]byte("_\r\n"))
	} else {
		c.conn.WriteNull()
	}
}

// writeNullArray writes a missing aggregate: *-1 in RESP2, _ in RESP3.
func (c *Client) writeNullArray() {
	if c.resp == 3 {
		c.conn.WriteRaw([]byte("_\r\n"))
	} else {
		c.conn.WriteRaw([]byte("*-1\r\n"))
	}
}

func (c *Client) writeArray(n int) { c.conn.WriteArray(n) }

// writeMap writes the header of a map of n pairs (a flat array of 2n in RESP2).
func (c *Client) writeMap(n int) {
	if c.resp == 3 {
		c.conn.WriteRaw(strconv.AppendInt([]byte{'%'}, int64(n), 10))
		c.conn.WriteRaw([]byte("\r\n"))
	} else {
		c.conn.WriteArray(2 * n)
	}
}

// writeSet writes the header of a set of n elements (an array in RESP2).
func (c *Client) writeSet(n int) {
	if c.resp == 3 {
		b := strconv.AppendInt([]byte{'~'}, int64(n), 10)
		c.conn.WriteRaw(append(b, '\r', '\n'))
	} else {
		c.conn.WriteArray(n)
	}
}

// writeDouble writes a double: a bulk string in RESP2, a RESP3 double in RESP3.
func (c *Client) writeDouble(f float64) {
	if c.resp == 3 {
		b := append([]byte{','}, formatDoubleResp3(f)...)
		c.conn.WriteRaw(append(b, '\r', '\n'))
	} else {
		c.conn.WriteBulkString(formatFloat(f))
	}
}

// writeVerbatim writes text as a RESP3 verbatim string (txt), or a bulk string in RESP2.
func (c *Client) writeVerbatim(s string) {
	if c.resp == 3 {
		b := strconv.AppendInt([]byte{'='}, int64(len(s)+4), 10)
		b = append(b, "\r\ntxt:"...)
		b = append(b, s...)
		c.conn.WriteRaw(append(b, '\r', '\n'))
	} else {
		c.conn.WriteBulkString(s)
	}
}

// writeHelp writes a HELP reply: an array of status lines, as Redis's addReplyHelp.
func (c *Client) writeHelp(lines []string) {
	c.conn.WriteArray(len(lines))
	for _, l := range lines {
		c.conn.WriteString(l)
	}
}

// writeStrings writes an array of bulk strings.
func (c *Client) writeStrings(ss []string) {
	c.conn.WriteArray(len(ss))
	for _, s := range ss {
		c.conn.WriteBulkString(s)
	}
}

// formatFloat formats like Redis's "%.17Lg" for INCRBYFLOAT results: the
// shortest representation that round-trips, no exponent for ordinary numbers.
func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "inf"
	}
	if math.IsInf(f, -1) {
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if strings.ContainsAny(s, "e") {
		s = strconv.FormatFloat(f, 'g', 17, 64)
	}
	return s
}

func formatDoubleResp3(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// sanitizeLine replaces CR and LF so that an error or status never breaks the protocol.
func sanitizeLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}
