package server

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sessdb/sessdb/storage"
)

func init() {
	w := []string{"write", "denyoom"}
	wf := []string{"write", "denyoom", "fast"}
	r := []string{"readonly", "fast"}
	one := func(c *command) *command {
		c.firstKey, c.lastKey, c.step, c.group = 1, 1, 1, "string"
		return c
	}
	register(
		one(&command{name: "get", arity: 2, flags: r, access: accessRead, summary: "Returns the string value of a key.", since: "1.0.0", run: cmdGet}),
		one(&command{name: "set", arity: -3, flags: w, access: accessWrite, summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", since: "1.0.0", run: cmdSet}),
		one(&command{name: "setex", arity: 4, flags: w, access: accessWrite, summary: "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", since: "2.0.0", run: cmdSetex}),
		one(&command{name: "psetex", arity: 4, flags: w, access: accessWrite, summary: "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", since: "2.6.0", run: cmdSetex}),
		one(&command{name: "setnx", arity: 3, flags: wf, access: accessWrite, summary: "Set the string value of a key only when the key doesn't exist.", since: "1.0.0", run: cmdSetnx}),
		one(&command{name: "getset", arity: 3, flags: wf, access: accessWrite, summary: "Returns the previous string value of a key after setting it to a new value.", since: "1.0.0", run: cmdGetset}),
		one(&command{name: "getdel", arity: 2, flags: []string{"write", "fast"}, access: accessWrite, summary: "Returns the string value of a key after deleting the key.", since: "6.2.0", run: cmdGetdel}),
		one(&command{name: "getex", arity: -2, flags: []string{"write", "fast"}, access: accessWrite, summary: "Returns the string value of a key after setting its expiration time.", since: "6.2.0", run: cmdGetex}),
		&command{name: "mget", arity: -2, flags: r, access: accessRead, firstKey: 1, lastKey: -1, step: 1, group: "string", summary: "Atomically returns the string values of one or more keys.", since: "1.0.0", run: cmdMget},
		&command{name: "mset", arity: -3, flags: w, access: accessWrite, firstKey: 1, lastKey: -1, step: 2, group: "string", summary: "Atomically creates or modifies the string values of one or more keys.", since: "1.0.1", run: cmdMset},
		&command{name: "msetnx", arity: -3, flags: w, access: accessWrite, firstKey: 1, lastKey: -1, step: 2, group: "string", summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.", since: "1.0.1", run: cmdMset},
		one(&command{name: "incr", arity: 2, flags: wf, access: accessWrite, summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", since: "1.0.0", run: cmdIncr}),
		one(&command{name: "decr", arity: 2, flags: wf, access: accessWrite, summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", since: "1.0.0", run: cmdIncr}),
		one(&command{name: "incrby", arity: 3, flags: wf, access: accessWrite, summary: "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", since: "1.0.0", run: cmdIncr}),
		one(&command{name: "decrby", arity: 3, flags: wf, access: accessWrite, summary: "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", since: "1.0.0", run: cmdIncr}),
		one(&command{name: "incrbyfloat", arity: 3, flags: wf, access: accessWrite, summary: "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", since: "2.6.0", run: cmdIncrbyfloat}),
		one(&command{name: "append", arity: 3, flags: wf, access: accessWrite, summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.", since: "2.0.0", run: cmdAppend}),
		one(&command{name: "strlen", arity: 2, flags: r, access: accessRead, summary: "Returns the length of a string value.", since: "2.2.0", run: cmdStrlen}),
		one(&command{name: "getrange", arity: 4, flags: []string{"readonly"}, access: accessRead, summary: "Returns a substring of the string stored at a key.", since: "2.4.0", run: cmdGetrange}),
		one(&command{name: "substr", arity: 4, flags: []string{"readonly"}, access: accessRead, summary: "Returns a substring from a string value.", since: "1.0.0", run: cmdGetrange}),
		one(&command{name: "setrange", arity: 4, flags: w, access: accessWrite, summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", since: "2.2.0", run: cmdSetrange}),
	)
}

func clone(b []byte) []byte { return append(make([]byte, 0, len(b)), b...) }

func cmdGet(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok, err := tx.LookupString(c.db, string(args[1]))
	switch {
	case err != nil:
		c.writeError(storageError(err))
	case !ok:
		c.srv.stats.keyspaceMiss.Add(1)
		c.writeNull()
	default:
		c.srv.stats.keyspaceHits.Add(1)
		c.writeBulk(v)
	}
}

// expireArg converts a relative or absolute EX/PX/EXAT/PXAT argument to an
// absolute deadline in unix ms, refusing what Redis refuses.
func expireArg(c *Client, tx *storage.Tx, unit string, arg []byte, cmdName string) (int64, bool) {
	n, ok := parseInt(arg)
	if !ok {
		c.writeError(errNotInteger)
		return 0, false
	}
	bad := func() (int64, bool) {
		c.writeError(fmt.Sprintf(errExpireTime, cmdName))
		return 0, false
	}
	if n <= 0 {
		return bad()
	}
	switch unit {
	case "ex", "exat":
		if n > math.MaxInt64/1000 {
			return bad()
		}
		n *= 1000
	}
	switch unit {
	case "ex", "px":
		if n > math.MaxInt64-tx.Now() {
			return bad()
		}
		n += tx.Now()
	}
	return n, true
}

type setArgs struct {
	nx, xx, get, keepTTL bool
	deadline             int64
	hasExpire            bool
}

func parseSetArgs(c *Client, tx *storage.Tx, args [][]byte) (setArgs, bool) {
	var a setArgs
	for i := 3; i < len(args); i++ {
		opt := strings.ToLower(string(args[i]))
		switch opt {
		case "nx":
			if a.xx {
				c.writeError(errSyntax)
				return a, false
			}
			a.nx = true
		case "xx":
			if a.nx {
				c.writeError(errSyntax)
				return a, false
			}
			a.xx = true
		case "get":
			a.get = true
		case "keepttl":
			if a.hasExpire {
				c.writeError(errSyntax)
				return a, false
			}
			a.keepTTL = true
		case "ex", "px", "exat", "pxat":
			if a.hasExpire || a.keepTTL || i+1 >= len(args) {
				c.writeError(errSyntax)
				return a, false
			}
			d, ok := expireArg(c, tx, opt, args[i+1], "set")
			if !ok {
				return a, false
			}
			a.deadline, a.hasExpire = d, true
			i++
		default:
			c.writeError(errSyntax)
			return a, false
		}
	}
	return a, true
}

func cmdSet(c *Client, tx *storage.Tx, args [][]byte) {
	a, ok := parseSetArgs(c, tx, args)
	if !ok {
		return
	}
	key := string(args[1])
	cur := tx.Lookup(c.db, key)
	if a.get && cur != nil && cur.Kind() != storage.KindString {
		c.writeError(errWrongType)
		return
	}
	if (a.nx && cur != nil) || (a.xx && cur == nil) {
		if a.get {
			if cur != nil {
				c.writeBulk(cur.Bytes())
			} else {
				c.writeNull()
			}
		} else {
			c.writeNull()
		}
		return
	}
	var old []byte
	if cur != nil && cur.Kind() == storage.KindString {
		old = cur.Bytes()
	}
	deadline := a.deadline
	if a.keepTTL && cur != nil {
		deadline = cur.Deadline()
	}
	tx.SetString(c.db, key, clone(args[2]), deadline)
	switch {
	case !a.get:
		c.writeOK()
	case cur == nil:
		c.writeNull()
	default:
		c.writeBulk(old)
	}
}

func cmdSetex(c *Client, tx *storage.Tx, args [][]byte) {
	unit := "ex"
	if equalFold(args[0], "psetex") {
		unit = "px"
	}
	d, ok := expireArg(c, tx, unit, args[2], strings.ToLower(string(args[0])))
	if !ok {
		return
	}
	tx.SetString(c.db, string(args[1]), clone(args[3]), d)
	c.writeOK()
}

func cmdSetnx(c *Client, tx *storage.Tx, args [][]byte) {
	key := string(args[1])
	if tx.Lookup(c.db, key) != nil {
		c.writeInt(0)
		return
	}
	tx.SetString(c.db, key, clone(args[2]), 0)
	c.writeInt(1)
}

func cmdGetset(c *Client, tx *storage.Tx, args [][]byte) {
	key := string(args[1])
	old, ok, err := tx.LookupString(c.db, key)
	if err != nil {
		c.writeError(storageError(err))
		return
	}
	tx.SetString(c.db, key, clone(args[2]), 0)
	if ok {
		c.writeBulk(old)
	} else {
		c.writeNull()
	}
}

func cmdGetdel(c *Client, tx *storage.Tx, args [][]byte) {
	key := string(args[1])
	v, ok, err := tx.LookupString(c.db, key)
	if err != nil {
		c.writeError(storageError(err))
		return
	}
	if !ok {
		c.writeNull()
		return
	}
	tx.Delete(c.db, key)
	c.writeBulk(v)
}

func cmdGetex(c *Client, tx *storage.Tx, args [][]byte) {
	key := string(args[1])
	var deadline int64
	persist, set := false, false
	for i := 2; i < len(args); i++ {
		opt := strings.ToLower(string(args[i]))
		switch opt {
		case "persist":
			if set || persist {
				c.writeError(errSyntax)
				return
			}
			persist = true
		case "ex", "px", "exat", "pxat":
			if set || persist || i+1 >= len(args) {
				c.writeError(errSyntax)
				return
			}
			d, ok := expireArg(c, tx, opt, args[i+1], "getex")
			if !ok {
				return
			}
			deadline, set = d, true
			i++
		default:
			c.writeError(errSyntax)
			return
		}
	}
	v, ok, err := tx.LookupString(c.db, key)
	if err != nil {
		c.writeError(storageError(err))
		return
	}
	if !ok {
		c.writeNull()
		return
	}
	switch {
	case set:
		tx.SetDeadline(c.db, key, deadline)
	case persist:
		if val := tx.Lookup(c.db, key); val != nil && val.Deadline() != 0 {
			tx.SetDeadline(c.db, key, 0)
		}
	}
	c.writeBulk(v)
}

func cmdMget(c *Client, tx *storage.Tx, args [][]byte) {
	c.writeArray(len(args) - 1)
	for _, k := range args[1:] {
		v, ok, err := tx.LookupString(c.db, string(k))
		if ok && err == nil {
			c.writeBulk(v)
		} else {
			c.writeNull()
		}
	}
}

func cmdMset(c *Client, tx *storage.Tx, args [][]byte) {
	nx := equalFold(args[0], "msetnx")
	if len(args)%2 != 1 {
		c.writeError(fmt.Sprintf(errWrongArgs, strings.ToLower(string(args[0]))))
		return
	}
	if nx {
		for i := 1; i < len(args); i += 2 {
			if tx.Lookup(c.db, string(args[i])) != nil {
				c.writeInt(0)
				return
			}
		}
	}
	for i := 1; i < len(args); i += 2 {
		tx.SetString(c.db, string(args[i]), clone(args[i+1]), 0)
	}
	if nx {
		c.writeInt(1)
	} else {
		c.writeOK()
	}
}

func cmdIncr(c *Client, tx *storage.Tx, args [][]byte) {
	var by int64 = 1
	name := strings.ToLower(string(args[0]))
	if len(args) == 3 {
		n, ok := parseInt(args[2])
		if !ok {
			c.writeError(errNotInteger)
			return
		}
		by = n
	}
	if name == "decr" || name == "decrby" {
		if by == math.MinInt64 {
			c.writeError("ERR decrement would overflow")
			return
		}
		by = -by
	}
	key := string(args[1])
	v, ok, err := tx.LookupString(c.db, key)
	if err != nil {
		c.writeError(storageError(err))
		return
	}
	var cur int64
	if ok {
		n, good := parseInt(v)
		if !good {
			c.writeError(errNotInteger)
			return
		}
		cur = n
	}
	if (by > 0 && cur > math.MaxInt64-by) || (by < 0 && cur < math.MinInt64-by) {
		c.writeError(errOverflow)
		return
	}
	cur += by
	var deadline int64
	if val := tx.Lookup(c.db, key); val != nil {
		deadline = val.Deadline()
	}
	tx.SetString(c.db, key, strconv.AppendInt(nil, cur, 10), deadline)
	c.writeInt(cur)
}

func cmdIncrbyfloat(c *Client, tx *storage.Tx, args [][]byte) {
	by, ok := parseFloat(args[2])
	if !ok {
		c.writeError(errNotFloat)
		return
	}
	key := string(args[1])
	v, exists, err := tx.LookupString(c.db, key)
	if err != nil {
		c.writeError(storageError(err))
		return
	}
	var cur float64
	if exists {
		f, good := parseFloat(v)
		if !good {
			c.writeError(errNotFloat)
			return
		}
		cur = f
	}
	cur += by
	if math.IsInf(cur, 0) || math.IsNaN(cur) {
		c.writeError(errIncrNaN)
		return
	}
	var deadline int64
	if val := tx.Lookup(c.db, key); val != nil {
		deadline = val.Deadline()
	}
	s := formatFloat(cur)
	tx.SetString(c.db, key, []byte(s), deadline)
	c.writeBulkString(s)
}

func (c *Client) maxBulk() int64 { return c.srv.cfg.ProtoMaxBulkLen() }

func cmdAppend(c *Client, tx *storage.Tx, args [][]byte) {
	key := string(args[1])
	v, ok, err := tx.LookupString(c.db, key)
	if err != nil {
		c.writeError(storageError(err))
		return
	}
	if int64(len(v)+len(args[2])) > c.maxBulk() {
		c.writeError(errStringTooLong)
		return
	}
	var deadline int64
	if ok {
		deadline = tx.Lookup(c.db, key).Deadline()
	}
	// Values are immutable once stored: build a new slice.
	nv := make([]byte, 0, len(v)+len(args[2]))
	nv = append(append(nv, v...), args[2]...)
	tx.SetString(c.db, key, nv, deadline)
	c.writeInt(int64(len(nv)))
}

func cmdStrlen(c *Client, tx *storage.Tx, args [][]byte) {
	v, _, err := tx.LookupString(c.db, string(args[1]))
	if err != nil {
		c.writeError(storageError(err))
		return
	}
	c.writeInt(int64(len(v)))
}

func cmdGetrange(c *Client, tx *storage.Tx, args [][]byte) {
	start, ok1 := parseInt(args[2])
	end, ok2 := parseInt(args[3])
	if !ok1 || !ok2 {
		c.writeError(errNotInteger)
		return
	}
	v, _, err := tx.LookupString(c.db, string(args[1]))
	if err != nil {
		c.writeError(storageError(err))
		return
	}
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		c.writeBulkString("")
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= n {
		end = n - 1
	}
	if n == 0 || start > end {
		c.writeBulkString("")
		return
	}
	c.writeBulk(v[start : end+1])
}

func cmdSetrange(c *Client, tx *storage.Tx, args [][]byte) {
	off, ok := parseInt(args[2])
	if !ok {
		c.writeError(errNotInteger)
		return
	}
	if off < 0 {
		c.writeError(errOffsetRange)
		return
	}
	key := string(args[1])
	v, exists, err := tx.LookupString(c.db, key)
	if err != nil {
		c.writeError(storageError(err))
		return
	}
	val := args[3]
	if len(val) == 0 {
		c.writeInt(int64(len(v)))
		return
	}
	if off+int64(len(val)) > c.maxBulk() {
		c.writeError(errStringTooLong)
		return
	}
	size := int64(len(v))
	if off+int64(len(val)) > size {
		size = off + int64(len(val))
	}
	nv := make([]byte, size)
	copy(nv, v)
	copy(nv[off:], val)
	var deadline int64
	if exists {
		deadline = tx.Lookup(c.db, key).Deadline()
	}
	tx.SetString(c.db, key, nv, deadline)
	c.writeInt(size)
}
