package server

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/sessdb/sessdb/storage"
)

func init() {
	h := func(c *command) *command {
		c.firstKey, c.lastKey, c.step, c.group = 1, 1, 1, "hash"
		return c
	}
	w := []string{"write", "denyoom", "fast"}
	r := []string{"readonly", "fast"}
	register(
		h(&command{name: "hset", arity: -4, flags: w, access: accessWrite, summary: "Creates or modifies the value of a field in a hash.", since: "2.0.0", run: cmdHset}),
		h(&command{name: "hmset", arity: -4, flags: w, access: accessWrite, summary: "Sets the values of multiple fields.", since: "2.0.0", run: cmdHset}),
		h(&command{name: "hsetnx", arity: 4, flags: w, access: accessWrite, summary: "Sets the value of a field in a hash only when the field doesn't exist.", since: "2.0.0", run: cmdHsetnx}),
		h(&command{name: "hget", arity: 3, flags: r, access: accessRead, summary: "Returns the value of a field in a hash.", since: "2.0.0", run: cmdHget}),
		h(&command{name: "hmget", arity: -3, flags: r, access: accessRead, summary: "Returns the values of all fields in a hash.", since: "2.0.0", run: cmdHmget}),
		h(&command{name: "hgetall", arity: 2, flags: []string{"readonly"}, access: accessRead, summary: "Returns all fields and values in a hash.", since: "2.0.0", run: cmdHgetall}),
		h(&command{name: "hdel", arity: -3, flags: []string{"write", "fast"}, access: accessWrite, summary: "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", since: "2.0.0", run: cmdHdel}),
		h(&command{name: "hexists", arity: 3, flags: r, access: accessRead, summary: "Determines whether a field exists in a hash.", since: "2.0.0", run: cmdHexists}),
		h(&command{name: "hlen", arity: 2, flags: r, access: accessRead, summary: "Returns the number of fields in a hash.", since: "2.0.0", run: cmdHlen}),
		h(&command{name: "hkeys", arity: 2, flags: []string{"readonly"}, access: accessRead, summary: "Returns all fields in a hash.", since: "2.0.0", run: cmdHkeys}),
		h(&command{name: "hvals", arity: 2, flags: []string{"readonly"}, access: accessRead, summary: "Returns all values in a hash.", since: "2.0.0", run: cmdHkeys}),
		h(&command{name: "hincrby", arity: 4, flags: w, access: accessWrite, summary: "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", since: "2.0.0", run: cmdHincrby}),
		h(&command{name: "hincrbyfloat", arity: 4, flags: w, access: accessWrite, summary: "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", since: "2.6.0", run: cmdHincrbyfloat}),
		h(&command{name: "hstrlen", arity: 3, flags: r, access: accessRead, summary: "Returns the length of the value of a field.", since: "3.2.0", run: cmdHstrlen}),
		h(&command{name: "hscan", arity: -3, flags: []string{"readonly"}, access: accessRead, summary: "Iterates over fields and values of a hash.", since: "2.8.0", run: cmdHscan}),
		h(&command{name: "hrandfield", arity: -2, flags: []string{"readonly"}, access: accessRead, summary: "Returns one or more random fields from a hash.", since: "6.2.0", run: cmdHrandfield}),
	)
}

func (c *Client) lookupHash(tx *storage.Tx, key []byte) (*storage.Value, bool) {
	v, err := tx.LookupHash(c.db, string(key))
	if err != nil {
		c.writeError(storageError(err))
		return nil, false
	}
	return v, true
}

func cmdHset(c *Client, tx *storage.Tx, args [][]byte) {
	if len(args)%2 != 0 {
		c.writeError(fmt.Sprintf(errWrongArgs, strings.ToLower(string(args[0]))))
		return
	}
	key := string(args[1])
	v, ok := c.lookupHash(tx, args[1])
	if !ok {
		return
	}
	if v == nil {
		c.notify(evNew, "new", c.db, key)
	}
	var added int64
	for i := 2; i < len(args); i += 2 {
		isNew, _ := tx.HSet(c.db, key, string(args[i]), clone(args[i+1]))
		if isNew {
			added++
		}
	}
	c.notify(evHash, "hset", c.db, key)
	if equalFold(args[0], "hmset") {
		c.writeOK()
	} else {
		c.writeInt(added)
	}
}

func cmdHsetnx(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupHash(tx, args[1])
	if !ok {
		return
	}
	if v != nil {
		if _, exists := v.HGet(string(args[2])); exists {
			c.writeInt(0)
			return
		}
	}
	if v == nil {
		c.notify(evNew, "new", c.db, string(args[1]))
	}
	_, _ = tx.HSet(c.db, string(args[1]), string(args[2]), clone(args[3]))
	c.notify(evHash, "hset", c.db, string(args[1]))
	c.writeInt(1)
}

func cmdHget(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupHash(tx, args[1])
	if !ok {
		return
	}
	if v != nil {
		if val, exists := v.HGet(string(args[2])); exists {
			c.writeBulk(val)
			return
		}
	}
	c.writeNull()
}

func cmdHmget(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupHash(tx, args[1])
	if !ok {
		return
	}
	c.writeArray(len(args) - 2)
	for _, f := range args[2:] {
		if v != nil {
			if val, exists := v.HGet(string(f)); exists {
				c.writeBulk(val)
				continue
			}
		}
		c.writeNull()
	}
}

func cmdHgetall(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupHash(tx, args[1])
	if !ok {
		return
	}
	if v == nil {
		c.writeMap(0)
		return
	}
	c.writeMap(v.Len())
	for f, val := range v.HashFields() {
		c.writeBulkString(f)
		c.writeBulk(val)
	}
}

func cmdHdel(c *Client, tx *storage.Tx, args [][]byte) {
	c.removeMembers(tx, args, (*Client).lookupHash, tx.HDel, evHash, "hdel")
}

func cmdHexists(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupHash(tx, args[1])
	if !ok {
		return
	}
	exists := false
	if v != nil {
		_, exists = v.HGet(string(args[2]))
	}
	c.writeBool01(exists)
}

func cmdHlen(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupHash(tx, args[1])
	if !ok {
		return
	}
	if v == nil {
		c.writeInt(0)
		return
	}
	c.writeInt(int64(v.Len()))
}

func cmdHkeys(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupHash(tx, args[1])
	if !ok {
		return
	}
	vals := equalFold(args[0], "hvals")
	if v == nil {
		c.writeArray(0)
		return
	}
	c.writeArray(v.Len())
	for f, val := range v.HashFields() {
		if vals {
			c.writeBulk(val)
		} else {
			c.writeBulkString(f)
		}
	}
}

func cmdHincrby(c *Client, tx *storage.Tx, args [][]byte) {
	by, ok := parseInt(args[3])
	if !ok {
		c.writeError(errNotInteger)
		return
	}
	v, ok := c.lookupHash(tx, args[1])
	if !ok {
		return
	}
	var cur int64
	if v != nil {
		if val, exists := v.HGet(string(args[2])); exists {
			n, good := parseInt(val)
			if !good {
				c.writeError(errHashNotInteger)
				return
			}
			cur = n
		}
	}
	if (by > 0 && cur > math.MaxInt64-by) || (by < 0 && cur < math.MinInt64-by) {
		c.writeError(errOverflow)
		return
	}
	cur += by
	if v == nil {
		c.notify(evNew, "new", c.db, string(args[1]))
	}
	_, _ = tx.HSet(c.db, string(args[1]), string(args[2]), strconv.AppendInt(nil, cur, 10))
	c.notify(evHash, "hincrby", c.db, string(args[1]))
	c.writeInt(cur)
}

func cmdHincrbyfloat(c *Client, tx *storage.Tx, args [][]byte) {
	by, ok := parseLongDouble(args[3])
	if !ok {
		c.writeError(errNotFloat)
		return
	}
	if by.IsInf() {
		c.writeError(errNaNOrInf)
		return
	}
	v, ok := c.lookupHash(tx, args[1])
	if !ok {
		return
	}
	cur := new(big.Float)
	if v != nil {
		if val, exists := v.HGet(string(args[2])); exists {
			f, good := parseLongDouble(val)
			if !good {
				c.writeError(errHashNotFloat)
				return
			}
			cur = f
		}
	}
	sum, ok := addLongDouble(cur, by)
	if !ok {
		c.writeError(errIncrNaN)
		return
	}
	s := formatLongDouble(sum)
	if v == nil {
		c.notify(evNew, "new", c.db, string(args[1]))
	}
	_, _ = tx.HSet(c.db, string(args[1]), string(args[2]), []byte(s))
	c.notify(evHash, "hincrbyfloat", c.db, string(args[1]))
	c.writeBulkString(s)
}

func cmdHstrlen(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupHash(tx, args[1])
	if !ok {
		return
	}
	var n int
	if v != nil {
		val, _ := v.HGet(string(args[2]))
		n = len(val)
	}
	c.writeInt(int64(n))
}

// cmdHscan iterates a hash; a compact hash is returned whole, as Redis does.
func cmdHscan(c *Client, tx *storage.Tx, args [][]byte) {
	c.scanCollection(tx, args, collectionScan{
		lookup: (*Client).lookupHash,
		page: func(v *storage.Value, cursor uint64, count int) ([]string, uint64) {
			if encodingOf(v) != "hashtable" {
				return hashFields(v), 0
			}
			return storage.ScanFields(v.Hash(), cursor, count)
		},
		values: func(v *storage.Value) func(string) string {
			return func(f string) string {
				val, _ := v.HGet(f)
				return string(val)
			}
		},
	})
}

// parseRandCount parses the [count [WITHVALUES]] tail of HRANDFIELD and
// SRANDMEMBER, with Redis's checks in Redis's order.
func parseRandCount(c *Client, args [][]byte, withWord string) (count int64, has, with, ok bool) {
	if len(args) == 0 {
		return 0, false, false, true
	}
	n, good := parseInt(args[0])
	if !good {
		c.writeError(errNotInteger)
		return 0, false, false, false
	}
	if n == math.MinInt64 {
		c.writeError(errCountRange)
		return 0, false, false, false
	}
	if len(args) > 2 || (len(args) == 2 && (withWord == "" || !equalFold(args[1], withWord))) {
		c.writeError(errSyntax)
		return 0, false, false, false
	}
	if len(args) == 2 {
		with = true
		if n < -math.MaxInt64/2 || n > math.MaxInt64/2 {
			c.writeError(errValueRange)
			return 0, false, false, false
		}
	}
	return n, true, with, true
}

// pickRandom returns count random names from names: distinct when count >= 0,
// with repetitions when negative (Redis's SRANDMEMBER/HRANDFIELD semantics).
func pickRandom(names []string, count int64) []string {
	if count < 0 {
		out := make([]string, -count)
		for i := range out {
			out[i] = names[rand.IntN(len(names))]
		}
		return out
	}
	if count >= int64(len(names)) {
		return names
	}
	rand.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	return names[:count]
}

// hget returns a hash field's value, nil when missing.
func hget(v *storage.Value, f string) []byte {
	val, _ := v.HGet(f)
	return val
}

// hashFields returns the field names of a hash.
func hashFields(v *storage.Value) []string {
	out := make([]string, 0, v.Len())
	for f := range v.HashFields() {
		out = append(out, f)
	}
	return out
}

func cmdHrandfield(c *Client, tx *storage.Tx, args [][]byte) {
	count, has, with, ok := parseRandCount(c, args[2:], "withvalues")
	if !ok {
		return
	}
	v, ok := c.lookupHash(tx, args[1])
	if !ok {
		return
	}
	if v == nil {
		if has {
			c.writeArray(0)
		} else {
			c.writeNull()
		}
		return
	}
	names := hashFields(v)
	if !has {
		c.writeBulkString(pickRandom(names, -1)[0])
		return
	}
	picked := pickRandom(names, count)
	if with {
		if c.resp == 3 {
			c.writeArray(len(picked))
			for _, f := range picked {
				c.writeArray(2)
				c.writeBulkString(f)
				c.writeBulk(hget(v, f))
			}
			return
		}
		c.writeArray(2 * len(picked))
		for _, f := range picked {
			c.writeBulkString(f)
			c.writeBulk(hget(v, f))
		}
		return
	}
	c.writeStrings(picked)
}
