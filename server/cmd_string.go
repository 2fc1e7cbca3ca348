package server

import (
	"fmt"
	"math"
	"math/big"
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

// The options of SET and GETEX, as Redis's parseExtendedStringArgumentsOrReply
// knows them.
type strFlags uint16

const (
	strNX strFlags = 1 << iota
	strXX
	strGet
	strKeepTTL
	strPersist
	strEX
	strPX
	strEXAT
	strPXAT
)

// strArgs are the parsed options of SET or GETEX. The expiry argument is kept
// unparsed: Redis validates it only after every option parsed, and GETEX only
// after the key was found.
type strArgs struct {
	flags  strFlags
	expire []byte
}

// parseStrArgs parses SET's (forSet) or GETEX's options. As in Redis, an
// option may repeat (the last expiry wins) but may not meet a conflicting one.
func parseStrArgs(c *Client, opts [][]byte, forSet bool) (strArgs, bool) {
	var a strArgs
	for j := 0; j < len(opts); j++ {
		opt, f := opts[j], a.flags
		hasNext := j+1 < len(opts)
		expiry := func(flag, conflicts strFlags) bool {
			if !hasNext || f&conflicts != 0 {
				return false
			}
			a.flags |= flag
			a.expire = opts[j+1]
			j++
			return true
		}
		var ok bool
		switch {
		case equalFold(opt, "nx"):
			ok = forSet && f&strXX == 0
			a.flags |= strNX
		case equalFold(opt, "xx"):
			ok = forSet && f&strNX == 0
			a.flags |= strXX
		case equalFold(opt, "get"):
			ok = forSet
			a.flags |= strGet
		case equalFold(opt, "keepttl"):
			ok = forSet && f&(strPersist|strEX|strPX|strEXAT|strPXAT) == 0
			a.flags |= strKeepTTL
		case equalFold(opt, "persist"):
			ok = !forSet && f&(strKeepTTL|strEX|strPX|strEXAT|strPXAT) == 0
			a.flags |= strPersist
		case equalFold(opt, "ex"):
			ok = expiry(strEX, strKeepTTL|strPersist|strPX|strEXAT|strPXAT)
		case equalFold(opt, "px"):
			ok = expiry(strPX, strKeepTTL|strPersist|strEX|strEXAT|strPXAT)
		case equalFold(opt, "exat"):
			ok = expiry(strEXAT, strKeepTTL|strPersist|strEX|strPX|strPXAT)
		case equalFold(opt, "pxat"):
			ok = expiry(strPXAT, strKeepTTL|strPersist|strEX|strPX|strEXAT)
		}
		if !ok {
			c.writeError(errSyntax)
			return a, false
		}
	}
	return a, true
}

// expireMillis converts an EX/PX/EXAT/PXAT argument to an absolute deadline
// in unix ms, refusing what Redis's getExpireMillisecondsOrReply refuses.
func expireMillis(c *Client, tx *storage.Tx, flags strFlags, arg []byte, cmdName string) (int64, bool) {
	n, ok := parseInt(arg)
	if !ok {
		c.writeError(errNotInteger)
		return 0, false
	}
	seconds := flags&(strEX|strEXAT) != 0
	if n <= 0 || (seconds && n > math.MaxInt64/1000) {
		c.writeError(fmt.Sprintf(errExpireTime, cmdName))
		return 0, false
	}
	if seconds {
		n *= 1000
	}
	if flags&(strEX|strPX) != 0 {
		if n > math.MaxInt64-tx.Now() {
			c.writeError(fmt.Sprintf(errExpireTime, cmdName))
			return 0, false
		}
		n += tx.Now()
	}
	return n, true
}

func cmdSet(c *Client, tx *storage.Tx, args [][]byte) {
	a, ok := parseStrArgs(c, args[3:], true)
	if !ok {
		return
	}
	setString(c, tx, args[1], args[2], a, "set")
}

// setString is Redis's setGenericCommand: validate the expiry, answer GET,
// honour NX/XX, then store.
func setString(c *Client, tx *storage.Tx, keyArg, val []byte, a strArgs, cmdName string) {
	var deadline int64
	if a.expire != nil {
		d, ok := expireMillis(c, tx, a.flags, a.expire, cmdName)
		if !ok {
			return
		}
		deadline = d
	}
	key := string(keyArg)
	cur := tx.Lookup(c.db, key)
	if a.flags&strGet != 0 {
		switch {
		case cur == nil:
			c.writeNull()
		case cur.Kind() != storage.KindString:
			c.writeError(errWrongType)
			return
		default:
			c.writeBulk(cur.Bytes())
		}
	}
	if (a.flags&strNX != 0 && cur != nil) || (a.flags&strXX != 0 && cur == nil) {
		if a.flags&strGet == 0 {
			c.writeNull()
		}
		return
	}
	if a.flags&strKeepTTL != 0 && cur != nil {
		deadline = cur.Deadline()
	}
	if cur == nil {
		c.notify(evNew, "new", c.db, key)
	}
	tx.SetString(c.db, key, clone(val), deadline)
	c.notify(evString, "set", c.db, key)
	if a.expire != nil {
		c.notify(evGeneric, "expire", c.db, key)
	}
	if a.flags&strGet == 0 {
		c.writeOK()
	}
}

func cmdSetex(c *Client, tx *storage.Tx, args [][]byte) {
	a := strArgs{flags: strEX, expire: args[2]}
	name := "setex"
	if equalFold(args[0], "psetex") {
		a.flags, name = strPX, "psetex"
	}
	setString(c, tx, args[1], args[3], a, name)
}

func cmdSetnx(c *Client, tx *storage.Tx, args [][]byte) {
	key := string(args[1])
	if tx.Lookup(c.db, key) != nil {
		c.writeInt(0)
		return
	}
	c.notify(evNew, "new", c.db, key)
	tx.SetString(c.db, key, clone(args[2]), 0)
	c.notify(evString, "set", c.db, key)
	c.writeInt(1)
}

func cmdGetset(c *Client, tx *storage.Tx, args [][]byte) {
	key := string(args[1])
	old, ok, err := tx.LookupString(c.db, key)
	if err != nil {
		c.writeError(storageError(err))
		return
	}
	if !ok {
		c.notify(evNew, "new", c.db, key)
	}
	tx.SetString(c.db, key, clone(args[2]), 0)
	c.notify(evString, "set", c.db, key)
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
	c.notify(evGeneric, "del", c.db, key)
	c.writeBulk(v)
}

func cmdGetex(c *Client, tx *storage.Tx, args [][]byte) {
	a, ok := parseStrArgs(c, args[2:], false)
	if !ok {
		return
	}
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
	var deadline int64
	if a.expire != nil {
		if deadline, ok = expireMillis(c, tx, a.flags, a.expire, "getex"); !ok {
			return
		}
	}
	c.writeBulk(v)
	switch {
	case a.expire != nil:
		tx.SetDeadline(c.db, key, deadline) // a past EXAT/PXAT deletes the key
		if deadline <= tx.Now() {
			c.notify(evGeneric, "del", c.db, key)
		} else {
			c.notify(evGeneric, "expire", c.db, key)
		}
	case a.flags&strPersist != 0:
		if val := tx.Lookup(c.db, key); val != nil && val.Deadline() != 0 {
			tx.SetDeadline(c.db, key, 0)
			c.notify(evGeneric, "persist", c.db, key)
		}
	}
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
		c.notifyNewIfMissing(tx, c.db, string(args[i]))
		tx.SetString(c.db, string(args[i]), clone(args[i+1]), 0)
		c.notify(evString, "set", c.db, string(args[i]))
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
	if !ok {
		c.notify(evNew, "new", c.db, key)
	}
	tx.SetString(c.db, key, strconv.AppendInt(nil, cur, 10), deadline)
	c.notify(evString, "incrby", c.db, key)
	c.writeInt(cur)
}

// cmdIncrbyfloat follows Redis's order: the key's type, then its value, then
// the increment, all in long double arithmetic (see longdouble.go).
func cmdIncrbyfloat(c *Client, tx *storage.Tx, args [][]byte) {
	key := string(args[1])
	v, exists, err := tx.LookupString(c.db, key)
	if err != nil {
		c.writeError(storageError(err))
		return
	}
	cur := new(big.Float)
	if exists {
		f, ok := parseLongDouble(v)
		if !ok {
			c.writeError(errNotFloat)
			return
		}
		cur = f
	}
	by, ok := parseLongDouble(args[2])
	if !ok {
		c.writeError(errNotFloat)
		return
	}
	sum, ok := addLongDouble(cur, by)
	if !ok {
		c.writeError(errIncrNaN)
		return
	}
	var deadline int64
	if val := tx.Lookup(c.db, key); val != nil {
		deadline = val.Deadline()
	}
	s := formatLongDouble(sum)
	if !exists {
		c.notify(evNew, "new", c.db, key)
	}
	tx.SetString(c.db, key, []byte(s), deadline)
	c.notify(evString, "incrbyfloat", c.db, key)
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
	if !ok {
		c.notify(evNew, "new", c.db, key)
	}
	tx.SetString(c.db, key, nv, deadline)
	c.notify(evString, "append", c.db, key)
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
	if !exists {
		c.notify(evNew, "new", c.db, key)
	}
	tx.SetString(c.db, key, nv, deadline)
	c.notify(evString, "setrange", c.db, key)
	c.writeInt(size)
}
