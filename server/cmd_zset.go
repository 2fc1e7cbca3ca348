package server

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sessdb/sessdb/storage"
)

// The sorted-set replies Redis defines. They belong with the others in
// replies.go; they live here until that file is free to change.
const (
	errIncrPair      = "ERR INCR option supports a single increment-element pair"
	errScoreNaN      = "ERR resulting score is not a number (NaN)"
	errMinMaxFloat   = "ERR min or max is not a float"
	errMinMaxLex     = "ERR min or max not valid string range item"
	errLimitRank     = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errWithscoresLex = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
)

func init() {
	z := func(c *command) *command {
		c.firstKey, c.lastKey, c.step, c.group = 1, 1, 1, "sorted-set"
		return c
	}
	w := []string{"write", "denyoom", "fast"}
	wf := []string{"write", "fast"}
	r := []string{"readonly", "fast"}
	ro := []string{"readonly"}
	register(
		z(&command{name: "zadd", arity: -4, flags: w, access: accessWrite, summary: "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", since: "1.2.0", run: cmdZadd}),
		z(&command{name: "zincrby", arity: 4, flags: w, access: accessWrite, summary: "Increments the score of a member in a sorted set.", since: "1.2.0", run: cmdZadd}),
		z(&command{name: "zrem", arity: -3, flags: wf, access: accessWrite, summary: "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", since: "1.2.0", run: cmdZrem}),
		z(&command{name: "zscore", arity: 3, flags: r, access: accessRead, summary: "Returns the score of a member in a sorted set.", since: "1.2.0", run: cmdZscore}),
		z(&command{name: "zmscore", arity: -3, flags: r, access: accessRead, summary: "Returns the score of one or more members in a sorted set.", since: "6.2.0", run: cmdZmscore}),
		z(&command{name: "zcard", arity: 2, flags: r, access: accessRead, summary: "Returns the number of members in a sorted set.", since: "1.2.0", run: cmdZcard}),
		z(&command{name: "zcount", arity: 4, flags: r, access: accessRead, summary: "Returns the count of members in a sorted set that have scores within a range.", since: "2.0.0", run: cmdZcount}),
		z(&command{name: "zlexcount", arity: 4, flags: r, access: accessRead, summary: "Returns the number of members in a sorted set within a lexicographical range.", since: "2.8.9", run: cmdZlexcount}),
		z(&command{name: "zrange", arity: -4, flags: ro, access: accessRead, summary: "Returns members in a sorted set within a range of indexes.", since: "1.2.0", run: cmdZrange}),
		z(&command{name: "zrevrange", arity: -4, flags: ro, access: accessRead, summary: "Returns members in a sorted set within a range of indexes in reverse order.", since: "1.2.0", run: cmdZrange}),
		z(&command{name: "zrangebyscore", arity: -4, flags: ro, access: accessRead, summary: "Returns members in a sorted set within a range of scores.", since: "1.0.5", run: cmdZrange}),
		z(&command{name: "zrevrangebyscore", arity: -4, flags: ro, access: accessRead, summary: "Returns members in a sorted set within a range of scores in reverse order.", since: "2.2.0", run: cmdZrange}),
		z(&command{name: "zrangebylex", arity: -4, flags: ro, access: accessRead, summary: "Returns members in a sorted set within a lexicographical range.", since: "2.8.9", run: cmdZrange}),
		z(&command{name: "zrevrangebylex", arity: -4, flags: ro, access: accessRead, summary: "Returns members in a sorted set within a lexicographical range in reverse order.", since: "2.8.9", run: cmdZrange}),
		z(&command{name: "zrank", arity: -3, flags: r, access: accessRead, summary: "Returns the index of a member in a sorted set ordered by ascending scores.", since: "2.0.0", run: cmdZrank}),
		z(&command{name: "zrevrank", arity: -3, flags: r, access: accessRead, summary: "Returns the index of a member in a sorted set ordered by descending scores.", since: "2.0.0", run: cmdZrank}),
		z(&command{name: "zremrangebyscore", arity: 4, flags: []string{"write"}, access: accessWrite, summary: "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", since: "1.2.0", run: cmdZremrange}),
		z(&command{name: "zremrangebyrank", arity: 4, flags: []string{"write"}, access: accessWrite, summary: "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", since: "2.0.0", run: cmdZremrange}),
		z(&command{name: "zremrangebylex", arity: 4, flags: []string{"write"}, access: accessWrite, summary: "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", since: "2.8.9", run: cmdZremrange}),
		z(&command{name: "zpopmin", arity: -2, flags: wf, access: accessWrite, summary: "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", since: "5.0.0", run: cmdZpop}),
		z(&command{name: "zpopmax", arity: -2, flags: wf, access: accessWrite, summary: "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", since: "5.0.0", run: cmdZpop}),
		z(&command{name: "zscan", arity: -3, flags: ro, access: accessRead, summary: "Iterates over members and scores of a sorted set.", since: "2.8.0", run: cmdZscan}),
	)
}

func (c *Client) lookupZSet(tx *storage.Tx, key []byte) (*storage.Value, bool) {
	v, err := tx.LookupZSet(c.db, string(key))
	if err != nil {
		c.writeError(storageError(err))
		return nil, false
	}
	return v, true
}

// formatScore formats a score as Redis 7.0's addReplyDouble does ("%.17g",
// so 0.1 is "0.10000000000000001"). Redis 7.2 switched to the shortest
// round-trip form ("0.1"); the installed reference server decides.
func formatScore(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// formatStoredScore formats a score as Redis 7.0's d2string stores it in a
// compact (listpack) sorted set, which is what ZSCAN returns for one:
// integers up to 2^62 in full ("100000000000000000", and -0 as "0"),
// anything else as formatScore does.
func formatStoredScore(f float64) string {
	if f >= -(1<<62) && f <= 1<<62 {
		if n := int64(f); float64(n) == f {
			return strconv.FormatInt(n, 10)
		}
	}
	return formatScore(f)
}

// writeScore writes a score: a bulk string in RESP2, a double in RESP3.
func (c *Client) writeScore(f float64) {
	if c.resp == 3 {
		b := append([]byte{','}, formatScore(f)...)
		c.conn.WriteRaw(append(b, '\r', '\n'))
		return
	}
	c.conn.WriteBulkString(formatScore(f))
}

type zsetElement struct {
	member string
	score  float64
}

// writeElements writes members, with their scores when withScores: a flat
// array in RESP2 (or when flat is set), [member, score] pairs in RESP3.
func (c *Client) writeElements(es []zsetElement, withScores, flat bool) {
	switch {
	case !withScores:
		c.writeArray(len(es))
	case c.resp == 3 && !flat:
		c.writeArray(len(es))
	default:
		c.writeArray(2 * len(es))
	}
	for _, e := range es {
		if withScores && c.resp == 3 && !flat {
			c.writeArray(2)
		}
		c.writeBulkString(e.member)
		if withScores {
			c.writeScore(e.score)
		}
	}
}

// strtod parses s as C's strtod would if it had to consume all of s: decimal
// or hexadecimal (p exponent optional), inf, infinity or nan in any case.
// rangeErr is strtod's ERANGE for a result that overflowed to ±inf or
// underflowed to zero.
func strtod(s string) (f float64, rangeErr, ok bool) {
	if s == "" || strings.ContainsRune(s, '_') {
		return 0, false, false
	}
	body := strings.ToLower(s)
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	if body == "" {
		return 0, false, false
	}
	mantissa := body
	if strings.HasPrefix(body, "0x") {
		mantissa = body[2:]
		if i := strings.IndexByte(mantissa, 'p'); i >= 0 {
			mantissa = mantissa[:i]
		} else {
			s += "p0" // Go wants the exponent C makes optional
		}
	} else if i := strings.IndexByte(mantissa, 'e'); i >= 0 {
		mantissa = mantissa[:i]
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return f, true, true
	case err != nil:
		return 0, false, false
	case body[0] == 'i' || body[0] == 'n':
		return f, false, true
	}
	return f, f == 0 && strings.ContainsAny(mantissa, "123456789abcdef"), true
}

// parseScore parses a score or increment as Redis's string2d does: strtod
// over the whole argument, no leading space, no NaN, no overflow, and no
// underflow to zero.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || strings.IndexByte(" \t\n\v\f\r", b[0]) >= 0 {
		return 0, false
	}
	f, rangeErr, ok := strtod(string(b))
	if !ok || rangeErr || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// parseScoreBound parses one end of a score range as Redis's zslParseRange
// does: a leading '(' excludes it, then strtod up to the first NUL byte,
// which allows leading spaces and overflow (±inf) and reads "" as 0.
func parseScoreBound(b []byte) (float64, bool, bool) {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	ex := len(b) > 0 && b[0] == '('
	if ex {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, ex, true
	}
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	f, _, ok := strtod(s)
	if !ok || math.IsNaN(f) {
		return 0, false, false
	}
	return f, ex, true
}

func parseScoreRange(min, max []byte) (storage.ScoreRange, bool) {
	var r storage.ScoreRange
	var ok1, ok2 bool
	r.Min, r.MinExclusive, ok1 = parseScoreBound(min)
	r.Max, r.MaxExclusive, ok2 = parseScoreBound(max)
	return r, ok1 && ok2
}

// parseLexBound parses one end of a lex range as zslParseLexRangeItem does:
// "[x" inclusive, "(x" exclusive, "-" and "+" the two ends.
func parseLexBound(b []byte) (storage.LexBound, bool) {
	if len(b) == 0 {
		return storage.LexBound{}, false
	}
	switch b[0] {
	case '-', '+':
		if len(b) > 1 && b[1] != 0 { // C stops at the NUL
			return storage.LexBound{}, false
		}
		inf := 1
		if b[0] == '-' {
			inf = -1
		}
		return storage.LexBound{Inf: inf, Exclusive: true}, true
	case '(':
		return storage.LexBound{Value: string(b[1:]), Exclusive: true}, true
	case '[':
		return storage.LexBound{Value: string(b[1:])}, true
	}
	return storage.LexBound{}, false
}

func parseLexRange(min, max []byte) (storage.LexRange, bool) {
	lo, ok1 := parseLexBound(min)
	hi, ok2 := parseLexBound(max)
	return storage.LexRange{Min: lo, Max: hi}, ok1 && ok2
}

// zaddArgs is a parsed ZADD or ZINCRBY.
type zaddArgs struct {
	nx, xx, gt, lt, ch, incr bool
	scores                   []float64
	members                  []string
}

// parseZadd parses options, then pairs, with Redis's checks in Redis's
// order. ZINCRBY goes through it too, as in Redis, so "ZINCRBY k xx m" is a
// syntax error.
func parseZadd(c *Client, args [][]byte, incr bool) (zaddArgs, bool) {
	a := zaddArgs{incr: incr}
	i := 2
options:
	for ; i < len(args); i++ {
		switch {
		case equalFold(args[i], "nx"):
			a.nx = true
		case equalFold(args[i], "xx"):
			a.xx = true
		case equalFold(args[i], "ch"):
			a.ch = true
		case equalFold(args[i], "incr"):
			a.incr = true
		case equalFold(args[i], "gt"):
			a.gt = true
		case equalFold(args[i], "lt"):
			a.lt = true
		default:
			break options
		}
	}
	n := len(args) - i
	switch {
	case n == 0 || n%2 != 0:
		c.writeError(errSyntax)
		return a, false
	case a.nx && a.xx:
		c.writeError(errNXXX)
		return a, false
	case a.gt && a.nx, a.lt && a.nx, a.gt && a.lt:
		c.writeError(errGTLTNX)
		return a, false
	case a.incr && n > 2:
		c.writeError(errIncrPair)
		return a, false
	}
	for ; i < len(args); i += 2 {
		f, ok := parseScore(args[i])
		if !ok {
			c.writeError(errNotFloat)
			return a, false
		}
		a.scores = append(a.scores, f)
		a.members = append(a.members, string(args[i+1]))
	}
	return a, true
}

// storedScore turns -0 into 0, as Redis's compact encoding does when it
// stores a score as text; the reply to the command still shows the sign.
func storedScore(f float64) float64 {
	if f == 0 {
		return 0
	}
	return f
}

// cmdZadd runs ZADD and ZINCRBY, following Redis's zsetAdd for each pair.
func cmdZadd(c *Client, tx *storage.Tx, args [][]byte) {
	a, ok := parseZadd(c, args, equalFold(args[0], "zincrby"))
	if !ok {
		return
	}
	key := string(args[1])
	v, ok := c.lookupZSet(tx, args[1])
	if !ok {
		return
	}
	if v == nil && !a.xx {
		c.notify(evNew, "new", c.db, key)
	}
	var added, updated, processed int64
	var last float64
	if v != nil || !a.xx {
		for j, m := range a.members {
			score := a.scores[j]
			cur, exists, _ := tx.ZScore(c.db, key, m)
			switch {
			case exists:
				if a.nx {
					continue
				}
				if a.incr {
					score += cur
					if math.IsNaN(score) {
						c.writeError(errScoreNaN)
						return
					}
				}
				if (a.lt && score >= cur) || (a.gt && score <= cur) {
					continue
				}
				if score != cur {
					_, _ = tx.ZAdd(c.db, key, m, storedScore(score))
					updated++
				}
			case a.xx:
				continue
			default:
				_, _ = tx.ZAdd(c.db, key, m, storedScore(score))
				added++
			}
			processed++
			last = score
		}
	}
	if added+updated > 0 {
		event := "zadd"
		if a.incr {
			event = "zincr"
		}
		c.notify(evZSet, event, c.db, key)
	}
	switch {
	case a.incr && processed > 0:
		c.writeScore(last)
	case a.incr:
		c.writeNull()
	case a.ch:
		c.writeInt(added + updated)
	default:
		c.writeInt(added)
	}
}

func cmdZrem(c *Client, tx *storage.Tx, args [][]byte) {
	c.removeMembers(tx, args, (*Client).lookupZSet, tx.ZRem, evZSet, "zrem")
}

func cmdZscore(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupZSet(tx, args[1])
	if !ok {
		return
	}
	if v != nil {
		if s, in := v.ZScore(string(args[2])); in {
			c.writeScore(s)
			return
		}
	}
	c.writeNull()
}

func cmdZmscore(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupZSet(tx, args[1])
	if !ok {
		return
	}
	c.writeArray(len(args) - 2)
	for _, m := range args[2:] {
		if v != nil {
			if s, in := v.ZScore(string(m)); in {
				c.writeScore(s)
				continue
			}
		}
		c.writeNull()
	}
}

func cmdZcard(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupZSet(tx, args[1])
	if !ok {
		return
	}
	if v == nil {
		c.writeInt(0)
		return
	}
	c.writeInt(int64(v.Len()))
}

func cmdZcount(c *Client, tx *storage.Tx, args [][]byte) {
	r, ok := parseScoreRange(args[2], args[3])
	if !ok {
		c.writeError(errMinMaxFloat)
		return
	}
	v, ok := c.lookupZSet(tx, args[1])
	if !ok {
		return
	}
	if v == nil {
		c.writeInt(0)
		return
	}
	c.writeInt(int64(v.ZCount(r)))
}

func cmdZlexcount(c *Client, tx *storage.Tx, args [][]byte) {
	r, ok := parseLexRange(args[2], args[3])
	if !ok {
		c.writeError(errMinMaxLex)
		return
	}
	v, ok := c.lookupZSet(tx, args[1])
	if !ok {
		return
	}
	if v == nil {
		c.writeInt(0)
		return
	}
	c.writeInt(int64(v.ZLexCount(r)))
}

// zrangeBy says what a ZRANGE's min and max are.
type zrangeBy uint8

const (
	zrangeAuto zrangeBy = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

// zrangeArgs is a parsed ZRANGE or one of its older forms.
type zrangeArgs struct {
	by            zrangeBy
	reverse       bool
	withScores    bool
	offset, limit int64 // limit -1: none
	start, stop   int64
	score         storage.ScoreRange
	lex           storage.LexRange
}

// parseZrange parses as Redis's zrangeGenericCommand does: the options,
// then the conflicts between them, then the range. by and dir are fixed by
// the older commands (ZRANGEBYSCORE, ZREVRANGE, …) and auto for ZRANGE.
func parseZrange(c *Client, args [][]byte, by zrangeBy, dirFixed, reverse bool) (zrangeArgs, bool) {
	a := zrangeArgs{by: by, reverse: reverse, limit: -1}
	for j := 4; j < len(args); j++ {
		left := len(args) - j - 1
		switch {
		case equalFold(args[j], "withscores"):
			a.withScores = true
		case equalFold(args[j], "limit") && left >= 2:
			var ok1, ok2 bool
			a.offset, ok1 = parseInt(args[j+1])
			if ok1 {
				a.limit, ok2 = parseInt(args[j+2])
			}
			if !ok1 || !ok2 {
				c.writeError(errNotInteger)
				return a, false
			}
			j += 2
		case !dirFixed && !a.reverse && equalFold(args[j], "rev"):
			a.reverse = true
		case a.by == zrangeAuto && equalFold(args[j], "bylex"):
			a.by = zrangeLex
		case a.by == zrangeAuto && equalFold(args[j], "byscore"):
			a.by = zrangeScore
		default:
			c.writeError(errSyntax)
			return a, false
		}
	}
	if a.by == zrangeAuto {
		a.by = zrangeRank
	}
	if a.limit != -1 && a.by == zrangeRank {
		c.writeError(errLimitRank)
		return a, false
	}
	if a.withScores && a.by == zrangeLex {
		c.writeError(errWithscoresLex)
		return a, false
	}
	lo, hi := args[2], args[3]
	if a.reverse && a.by != zrangeRank {
		lo, hi = hi, lo
	}
	ok := true
	switch a.by {
	case zrangeRank:
		var ok2 bool
		a.start, ok = parseInt(lo)
		a.stop, ok2 = parseInt(hi)
		if !ok || !ok2 {
			c.writeError(errNotInteger)
			return a, false
		}
	case zrangeScore:
		if a.score, ok = parseScoreRange(lo, hi); !ok {
			c.writeError(errMinMaxFloat)
		}
	case zrangeLex:
		if a.lex, ok = parseLexRange(lo, hi); !ok {
			c.writeError(errMinMaxLex)
		}
	}
	return a, ok
}

// clampRanks turns Redis's start/stop indexes (negative from the end) into
// positions within a set of n, ok false when the range is empty.
func clampRanks(start, stop int64, n int) (int, int, bool) {
	l := int64(n)
	if start < 0 {
		start += l
	}
	if stop < 0 {
		stop += l
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= l {
		return 0, 0, false
	}
	if stop >= l {
		stop = l - 1
	}
	return int(start), int(stop), true
}

// zrangeElements returns the elements a parsed ZRANGE selects from v.
func zrangeElements(v *storage.Value, a *zrangeArgs) []zsetElement {
	var out []zsetElement
	collect := func(m string, s float64) bool {
		out = append(out, zsetElement{m, s})
		return true
	}
	switch a.by {
	case zrangeRank:
		if start, stop, ok := clampRanks(a.start, a.stop, v.Len()); ok {
			out = make([]zsetElement, 0, stop-start+1)
			v.ZRange(start, stop, a.reverse, collect)
		}
	case zrangeScore:
		v.ZRangeByScore(a.score, int(a.offset), int(a.limit), a.reverse, collect)
	case zrangeLex:
		v.ZRangeByLex(a.lex, int(a.offset), int(a.limit), a.reverse, collect)
	}
	return out
}

// cmdZrange runs ZRANGE and its older forms, which fix the range type and
// the direction.
func cmdZrange(c *Client, tx *storage.Tx, args [][]byte) {
	by, dirFixed, reverse := zrangeAuto, false, false
	switch strings.ToLower(string(args[0])) {
	case "zrevrange":
		by, dirFixed, reverse = zrangeRank, true, true
	case "zrangebyscore":
		by, dirFixed = zrangeScore, true
	case "zrevrangebyscore":
		by, dirFixed, reverse = zrangeScore, true, true
	case "zrangebylex":
		by, dirFixed = zrangeLex, true
	case "zrevrangebylex":
		by, dirFixed, reverse = zrangeLex, true, true
	}
	a, ok := parseZrange(c, args, by, dirFixed, reverse)
	if !ok {
		return
	}
	v, ok := c.lookupZSet(tx, args[1])
	if !ok {
		return
	}
	if v == nil {
		c.writeArray(0)
		return
	}
	c.writeElements(zrangeElements(v, &a), a.withScores, false)
}

func cmdZrank(c *Client, tx *storage.Tx, args [][]byte) {
	if len(args) > 4 {
		c.writeError(fmt.Sprintf(errWrongArgs, strings.ToLower(string(args[0]))))
		return
	}
	withScore := len(args) == 4
	if withScore && !equalFold(args[3], "withscore") {
		c.writeError(errSyntax)
		return
	}
	v, ok := c.lookupZSet(tx, args[1])
	if !ok {
		return
	}
	var rank int
	var score float64
	found := false
	if v != nil {
		rank, score, found = v.ZRank(string(args[2]), equalFold(args[0], "zrevrank"))
	}
	switch {
	case !found && withScore:
		c.writeNullArray()
	case !found:
		c.writeNull()
	case withScore:
		c.writeArray(2)
		c.writeInt(int64(rank))
		c.writeScore(score)
	default:
		c.writeInt(int64(rank))
	}
}

// cmdZremrange runs ZREMRANGEBYSCORE, ZREMRANGEBYRANK and ZREMRANGEBYLEX:
// the range is parsed before the key is looked up, as in Redis.
func cmdZremrange(c *Client, tx *storage.Tx, args [][]byte) {
	a := zrangeArgs{limit: -1}
	event := strings.ToLower(string(args[0]))
	switch event {
	case "zremrangebyrank":
		a.by = zrangeRank
		var ok1, ok2 bool
		a.start, ok1 = parseInt(args[2])
		a.stop, ok2 = parseInt(args[3])
		if !ok1 || !ok2 {
			c.writeError(errNotInteger)
			return
		}
	case "zremrangebyscore":
		a.by = zrangeScore
		var ok bool
		if a.score, ok = parseScoreRange(args[2], args[3]); !ok {
			c.writeError(errMinMaxFloat)
			return
		}
	default:
		a.by = zrangeLex
		var ok bool
		if a.lex, ok = parseLexRange(args[2], args[3]); !ok {
			c.writeError(errMinMaxLex)
			return
		}
	}
	v, ok := c.lookupZSet(tx, args[1])
	if !ok {
		return
	}
	if v == nil {
		c.writeInt(0)
		return
	}
	es := zrangeElements(v, &a)
	for _, e := range es {
		_, _ = tx.ZRem(c.db, string(args[1]), e.member)
	}
	c.notifyRemoved(evZSet, event, v, int64(len(es)), string(args[1]))
	c.writeInt(int64(len(es)))
}

// cmdZpop runs ZPOPMIN and ZPOPMAX. Without a count the reply is a flat
// [member, score]; with one it is a list of pairs in RESP3.
func cmdZpop(c *Client, tx *storage.Tx, args [][]byte) {
	if len(args) > 3 {
		c.writeError(errSyntax)
		return
	}
	count := int64(-1)
	if len(args) == 3 {
		n, ok := parseInt(args[2])
		if !ok || n < 0 { // getPositiveLongFromObjectOrReply: one message for both
			c.writeError(errCountPositive)
			return
		}
		count = n
	}
	v, ok := c.lookupZSet(tx, args[1])
	if !ok {
		return
	}
	if v == nil || count == 0 {
		c.writeArray(0)
		return
	}
	n := count
	if n < 0 {
		n = 1
	}
	if l := int64(v.Len()); n > l {
		n = l
	}
	es := make([]zsetElement, 0, n)
	fromMax := equalFold(args[0], "zpopmax")
	v.ZRange(0, int(n)-1, fromMax, func(m string, s float64) bool {
		es = append(es, zsetElement{m, s})
		return true
	})
	for _, e := range es {
		_, _ = tx.ZRem(c.db, string(args[1]), e.member)
	}
	event := "zpopmin"
	if fromMax {
		event = "zpopmax"
	}
	c.notifyRemoved(evZSet, event, v, int64(len(es)), string(args[1]))
	c.writeElements(es, true, count < 0)
}

// zsetCompact reports whether Redis would keep v as a listpack
// (zset-max-listpack-entries 128, zset-max-listpack-value 64): ZSCAN then
// returns every element, in order, whatever the cursor.
func zsetCompact(v *storage.Value) bool {
	if v.Len() > 128 {
		return false
	}
	for m := range v.ZScores() {
		if len(m) > 64 {
			return false
		}
	}
	return true
}

// cmdZscan iterates a sorted set; a compact one is returned whole, in order,
// with its scores as Redis stores them.
func cmdZscan(c *Client, tx *storage.Tx, args [][]byte) {
	c.scanCollection(tx, args, collectionScan{
		lookup: (*Client).lookupZSet,
		page: func(v *storage.Value, cursor uint64, count int) ([]string, uint64) {
			if !zsetCompact(v) {
				return storage.ScanFields(v.ZScores(), cursor, count)
			}
			members := make([]string, 0, v.Len())
			v.ZRange(0, v.Len()-1, false, func(m string, _ float64) bool {
				members = append(members, m)
				return true
			})
			return members, 0
		},
		values: func(v *storage.Value) func(string) string {
			format := formatScore
			if zsetCompact(v) {
				format = formatStoredScore
			}
			return func(m string) string {
				s, _ := v.ZScore(m)
				return format(s)
			}
		},
	})
}
