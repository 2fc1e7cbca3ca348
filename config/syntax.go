package config

import (
	"errors"
	"strconv"
	"strings"
)

// errUnbalanced is returned by SplitArgs for unterminated quotes or a closing
// quote not followed by a space.
var errUnbalanced = errors.New(reasonUnbalanced)

// SplitArgs splits a line into arguments exactly like Redis's sdssplitargs:
// tokens are separated by spaces; "double quoted" tokens understand \n, \r,
// \t, \b, \a, \xHH and \<any>; 'single quoted' tokens understand \' only; a
// closing quote must be followed by a space or the end of the line. Like the
// C function, a NUL byte ends the line. An error is returned for unbalanced
// quotes.
func SplitArgs(line string) ([]string, error) {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	at := func(i int) byte {
		if i < len(line) {
			return line[i]
		}
		return 0
	}
	args := []string{}
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p >= len(line) {
			return args, nil
		}
		var cur []byte
		inq, insq, done := false, false, false
		for !done {
			c := at(p)
			switch {
			case inq:
				switch {
				case c == '\\' && at(p+1) == 'x' && isHex(at(p+2)) && isHex(at(p+3)):
					cur = append(cur, unhex(at(p+2))<<4|unhex(at(p+3)))
					p += 3
				case c == '\\' && at(p+1) != 0:
					p++
					switch e := at(p); e {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, e)
					}
				case c == '"':
					if n := at(p + 1); n != 0 && !isSpace(n) {
						return nil, errUnbalanced
					}
					done = true
				case c == 0:
					return nil, errUnbalanced
				default:
					cur = append(cur, c)
				}
			case insq:
				switch {
				case c == '\\' && at(p+1) == '\'':
					p++
					cur = append(cur, '\'')
				case c == '\'':
					if n := at(p + 1); n != 0 && !isSpace(n) {
						return nil, errUnbalanced
					}
					done = true
				case c == 0:
					return nil, errUnbalanced
				default:
					cur = append(cur, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, c)
				}
			}
			if at(p) != 0 {
				p++
			}
		}
		args = append(args, string(cur))
	}
}

// isSpace is C's isspace in the "C" locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// quoteRepr is Redis's sdscatrepr: a double-quoted, escaped representation
// that SplitArgs reads back as the same bytes.
func quoteRepr(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if c >= 0x20 && c <= 0x7e {
				b.WriteByte(c)
			} else {
				const hexdigits = "0123456789abcdef"
				b.WriteString(`\x`)
				b.WriteByte(hexdigits[c>>4])
				b.WriteByte(hexdigits[c&0xf])
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// parseInt is Redis's string2ll: an optional '-', no '+', no spaces, no
// leading zeros (except "0" itself), no "-0", within int64.
func parseInt(s string) (int64, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	if s == "0" {
		return 0, true
	}
	neg := false
	d := s
	if d[0] == '-' {
		neg = true
		d = d[1:]
	}
	if d == "" || d[0] < '1' || d[0] > '9' {
		return 0, false
	}
	for i := 1; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
	}
	u, err := strconv.ParseUint(d, 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true // -(1<<63) wraps to MinInt64
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

// parseStrtoll is C's strtoll(s, &end, 10) followed by Redis's "*end must be
// NUL" check: leading white space and a sign are allowed, "" is 0, values
// saturate.
func parseStrtoll(s string) (int64, bool) {
	if s == "" {
		return 0, true
	}
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var n uint64
	sat := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if !sat {
			n = n*10 + uint64(s[i]-'0')
			if n > 1<<63 {
				sat = true
			}
		}
		i++
	}
	if i == start || i != len(s) {
		return 0, false
	}
	switch {
	case neg && (sat || n >= 1<<63):
		return -1 << 63, true
	case neg:
		return -int64(n), true
	case sat || n > 1<<63-1:
		return 1<<63 - 1, true
	default:
		return int64(n), true
	}
}

// ParseSize parses a memory size the way Redis's memtoull does: decimal
// digits followed by an optional case-insensitive unit, b (1), k (1000),
// kb (1024), m (1000²), mb (1024²), g (1000³) or gb (1024³). Leading zeros
// are allowed; signs, spaces and fractions are not. As in Redis, a missing
// number counts as 0 ("" and "k" are 0). Sizes above math.MaxInt64 are
// rejected (Redis would wrap around).
func ParseSize(s string) (int64, error) {
	n, st := parseSize(s)
	switch st {
	case sizeInvalid:
		return 0, errors.New(reasonNotMemory)
	case sizeOverflow:
		return 0, errors.New("memory value out of range")
	}
	return n, nil
}

type sizeStatus uint8

const (
	sizeOK       sizeStatus = iota
	sizeInvalid             // not a memory value
	sizeOverflow            // a memory value above math.MaxInt64
)

func parseSize(s string) (int64, sizeStatus) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	digits, unit := s[:i], strings.ToLower(s[i:])
	var mul uint64
	switch unit {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, sizeInvalid
	}
	if len(digits) >= 128 { // memtoull's digit buffer
		return 0, sizeInvalid
	}
	var n uint64
	if digits != "" {
		var err error
		if n, err = strconv.ParseUint(digits, 10, 64); err != nil {
			return 0, sizeOverflow
		}
	}
	if n > (1<<63-1)/mul {
		return 0, sizeOverflow
	}
	return int64(n * mul), sizeOK
}

// globMatch is Redis's stringmatchlen (util.c): '*', '?', '[abc]', '[^a]',
// '[a-z]' and '\x' escapes, optionally case-insensitive. Like Redis it stops
// exploring longer matches for a '*' once the rest of the pattern failed.
func globMatch(pattern, str string, nocase bool) bool {
	skip := false
	return globMatchImpl(pattern, str, nocase, &skip, 0)
}

func globMatchImpl(pat, str string, nocase bool, skipLonger *bool, nesting int) bool {
	// Redis 7 refuses patterns nested too deeply (CVE-2022-36021 hardening).
	if nesting > 1000 {
		return false
	}
	lower := func(c byte) byte {
		if nocase && c >= 'A' && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	pb := func(i int) byte {
		if i < len(pat) {
			return pat[i]
		}
		return 0
	}
	sb := func(i int) byte {
		if i < len(str) {
			return str[i]
		}
		return 0
	}
	p, s := 0, 0
	for p < len(pat) && s < len(str) {
		switch pat[p] {
		case '*':
			for p < len(pat) && pb(p+1) == '*' {
				p++
			}
			if len(pat)-p == 1 {
				return true
			}
			for s < len(str) {
				if globMatchImpl(pat[p+1:], str[s:], nocase, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s++
			}
			*skipLonger = true
			return false
		case '?':
			s++
		case '[':
			p++
			not := pb(p) == '^'
			if not {
				p++
			}
			match := false
			for {
				if pb(p) == '\\' && len(pat)-p >= 2 {
					p++
					if pat[p] == sb(s) {
						match = true
					}
				} else if pb(p) == ']' {
					break
				} else if p >= len(pat) {
					p--
					break
				} else if len(pat)-p >= 3 && pat[p+1] == '-' {
					start, end, c := pat[p], pat[p+2], sb(s)
					if start > end {
						start, end = end, start
					}
					start, end, c = lower(start), lower(end), lower(c)
					p += 2
					if c >= start && c <= end {
						match = true
					}
				} else if lower(pat[p]) == lower(sb(s)) {
					match = true
				}
				p++
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s++
		case '\\':
			if len(pat)-p >= 2 {
				p++
			}
			if lower(pat[p]) != lower(sb(s)) {
				return false
			}
			s++
		default:
			if lower(pat[p]) != lower(sb(s)) {
				return false
			}
			s++
		}
		p++
		if s >= len(str) {
			for pb(p) == '*' {
				p++
			}
			break
		}
	}
	return p >= len(pat) && s >= len(str)
}

// hasGlob reports whether a CONFIG GET argument is a pattern; Redis looks
// names without any of "[*?" up directly.
func hasGlob(s string) bool { return strings.ContainsAny(s, "[*?") }

// KeyspaceEvents is the set of notify-keyspace-events classes.
type KeyspaceEvents uint16

// Keyspace event classes, with Redis's flag letters.
const (
	EventKeyspace KeyspaceEvents = 1 << iota // K
	EventKeyevent                            // E
	EventGeneric                             // g
	EventString                              // $
	EventList                                // l
	EventSet                                 // s
	EventHash                                // h
	EventZSet                                // z
	EventExpired                             // x
	EventEvicted                             // e
	EventStream                              // t
	EventKeyMiss                             // m (not part of A)
	EventModule                              // d
	EventNew                                 // n (not part of A)

	// EventAll is the "A" alias: g$lshzxetd.
	EventAll = EventGeneric | EventString | EventList | EventSet | EventHash |
		EventZSet | EventExpired | EventEvicted | EventStream | EventModule
)

// ParseKeyspaceEvents parses notify-keyspace-events flag letters like
// Redis's keyspaceEventsStringToFlags (case-sensitive, "A" is g$lshzxetd).
func ParseKeyspaceEvents(s string) (KeyspaceEvents, bool) {
	var f KeyspaceEvents
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'A':
			f |= EventAll
		case 'g':
			f |= EventGeneric
		case '$':
			f |= EventString
		case 'l':
			f |= EventList
		case 's':
			f |= EventSet
		case 'h':
			f |= EventHash
		case 'z':
			f |= EventZSet
		case 'x':
			f |= EventExpired
		case 'e':
			f |= EventEvicted
		case 'K':
			f |= EventKeyspace
		case 'E':
			f |= EventKeyevent
		case 't':
			f |= EventStream
		case 'm':
			f |= EventKeyMiss
		case 'd':
			f |= EventModule
		case 'n':
			f |= EventNew
		default:
			return 0, false
		}
	}
	return f, true
}

// Has reports whether every class in x is enabled.
func (f KeyspaceEvents) Has(x KeyspaceEvents) bool { return f&x == x }

// String formats the flags like Redis's keyspaceEventsFlagsToString, which is
// what CONFIG GET notify-keyspace-events returns ("KEA" becomes "AKE").
func (f KeyspaceEvents) String() string {
	var b strings.Builder
	if f&EventAll == EventAll {
		b.WriteByte('A')
	} else {
		for _, e := range []struct {
			f KeyspaceEvents
			c byte
		}{
			{EventGeneric, 'g'}, {EventString, '$'}, {EventList, 'l'}, {EventSet, 's'},
			{EventHash, 'h'}, {EventZSet, 'z'}, {EventExpired, 'x'}, {EventEvicted, 'e'},
			{EventStream, 't'}, {EventModule, 'd'}, {EventNew, 'n'},
		} {
			if f&e.f != 0 {
				b.WriteByte(e.c)
			}
		}
	}
	if f&EventKeyspace != 0 {
		b.WriteByte('K')
	}
	if f&EventKeyevent != 0 {
		b.WriteByte('E')
	}
	if f&EventKeyMiss != 0 {
		b.WriteByte('m')
	}
	return b.String()
}

// GlobMatch reports whether str matches the Redis glob pattern (KEYS, SCAN
// MATCH, CONFIG GET, PSUBSCRIBE), with Redis's own semantics and limits.
func GlobMatch(pattern, str string, nocase bool) bool { return globMatch(pattern, str, nocase) }
