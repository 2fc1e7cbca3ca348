package server

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sessdb/sessdb/storage"
)

func init() {
	one := func(c *command) *command {
		c.firstKey, c.lastKey, c.step, c.group = 1, 1, 1, "generic"
		return c
	}
	all := func(c *command) *command {
		c.firstKey, c.lastKey, c.step, c.group = 1, -1, 1, "generic"
		return c
	}
	wf := []string{"write", "fast"}
	r := []string{"readonly", "fast"}
	register(
		all(&command{name: "del", arity: -2, flags: []string{"write"}, access: accessWrite, summary: "Deletes one or more keys.", since: "1.0.0", run: cmdDel}),
		all(&command{name: "unlink", arity: -2, flags: wf, access: accessWrite, summary: "Asynchronously deletes one or more keys.", since: "4.0.0", run: cmdDel}),
		all(&command{name: "exists", arity: -2, flags: r, access: accessRead, summary: "Determines whether one or more keys exist.", since: "1.0.0", run: cmdExists}),
		all(&command{name: "touch", arity: -2, flags: r, access: accessRead, summary: "Returns the number of existing keys out of those specified after updating the time they were last accessed.", since: "3.2.1", run: cmdExists}),
		one(&command{name: "expire", arity: -3, flags: wf, access: accessWrite, summary: "Sets the expiration time of a key in seconds.", since: "1.0.0", run: cmdExpire}),
		one(&command{name: "pexpire", arity: -3, flags: wf, access: accessWrite, summary: "Sets the expiration time of a key in milliseconds.", since: "2.6.0", run: cmdExpire}),
		one(&command{name: "expireat", arity: -3, flags: wf, access: accessWrite, summary: "Sets the expiration time of a key to a Unix timestamp.", since: "1.2.0", run: cmdExpire}),
		one(&command{name: "pexpireat", arity: -3, flags: wf, access: accessWrite, summary: "Sets the expiration time of a key to a Unix milliseconds timestamp.", since: "2.6.0", run: cmdExpire}),
		one(&command{name: "ttl", arity: 2, flags: r, access: accessRead, summary: "Returns the expiration time in seconds of a key.", since: "1.0.0", run: cmdTTL}),
		one(&command{name: "pttl", arity: 2, flags: r, access: accessRead, summary: "Returns the expiration time in milliseconds of a key.", since: "2.6.0", run: cmdTTL}),
		one(&command{name: "expiretime", arity: 2, flags: r, access: accessRead, summary: "Returns the expiration time of a key as a Unix timestamp.", since: "7.0.0", run: cmdTTL}),
		one(&command{name: "pexpiretime", arity: 2, flags: r, access: accessRead, summary: "Returns the expiration time of a key as a Unix milliseconds timestamp.", since: "7.0.0", run: cmdTTL}),
		one(&command{name: "persist", arity: 2, flags: wf, access: accessWrite, summary: "Removes the expiration time of a key.", since: "2.2.0", run: cmdPersist}),
		one(&command{name: "type", arity: 2, flags: r, access: accessRead, summary: "Determines the type of value stored at a key.", since: "1.0.0", run: cmdType}),
		&command{name: "rename", arity: 3, flags: []string{"write"}, access: accessWrite, firstKey: 1, lastKey: 2, step: 1, group: "generic", summary: "Renames a key and overwrites the destination.", since: "1.0.0", run: cmdRename},
		&command{name: "renamenx", arity: 3, flags: wf, access: accessWrite, firstKey: 1, lastKey: 2, step: 1, group: "generic", summary: "Renames a key only when the target key name doesn't exist.", since: "1.0.0", run: cmdRename},
		&command{name: "copy", arity: -3, flags: []string{"write", "denyoom"}, access: accessWrite, firstKey: 1, lastKey: 2, step: 1, group: "generic", summary: "Copies the value of a key to a new key.", since: "6.2.0", run: cmdCopy},
		&command{name: "move", arity: 3, flags: wf, access: accessWrite, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Moves a key to another database.", since: "1.0.0", run: cmdMove},
		&command{name: "keys", arity: 2, flags: []string{"readonly"}, access: accessWrite, group: "generic", summary: "Returns all key names that match a pattern.", since: "1.0.0", run: cmdKeys},
		&command{name: "scan", arity: -2, flags: []string{"readonly"}, access: accessRead, group: "generic", summary: "Iterates over the key names in the database.", since: "2.8.0", run: cmdScan},
		&command{name: "randomkey", arity: 1, flags: []string{"readonly"}, access: accessRead, group: "generic", summary: "Returns a random key name from the database.", since: "1.0.0", run: cmdRandomkey},
		&command{name: "object", arity: -2, group: "generic", summary: "A container for object introspection commands.", since: "2.2.3", subs: map[string]*command{
			"encoding": {name: "object|encoding", arity: 3, flags: []string{"readonly"}, access: accessRead, firstKey: 2, lastKey: 2, step: 1, group: "generic", summary: "Returns the internal encoding of a Redis object.", since: "2.2.3", run: cmdObject},
			"freq":     {name: "object|freq", arity: 3, flags: []string{"readonly"}, access: accessRead, firstKey: 2, lastKey: 2, step: 1, group: "generic", summary: "Returns the logarithmic access frequency counter of a Redis object.", since: "4.0.0", run: cmdObject},
			"idletime": {name: "object|idletime", arity: 3, flags: []string{"readonly"}, access: accessRead, firstKey: 2, lastKey: 2, step: 1, group: "generic", summary: "Returns the time since the last access to a Redis object.", since: "2.2.3", run: cmdObject},
			"refcount": {name: "object|refcount", arity: 3, flags: []string{"readonly"}, access: accessRead, firstKey: 2, lastKey: 2, step: 1, group: "generic", summary: "Returns the reference count of a value of a key.", since: "2.2.3", run: cmdObject},
			"help":     {name: "object|help", arity: 2, flags: []string{"loading", "stale"}, group: "generic", summary: "Returns helpful text about the different subcommands.", since: "6.2.0", run: cmdObjectHelp},
		}},
	)
}

func cmdDel(c *Client, tx *storage.Tx, args [][]byte) {
	var n int64
	for _, k := range args[1:] {
		if tx.Delete(c.db, string(k)) {
			c.notify(evGeneric, "del", c.db, string(k))
			n++
		}
	}
	c.writeInt(n)
}

func cmdExists(c *Client, tx *storage.Tx, args [][]byte) {
	var n int64
	for _, k := range args[1:] {
		if tx.Lookup(c.db, string(k)) != nil {
			n++
		}
	}
	c.writeInt(n)
}

func cmdExpire(c *Client, tx *storage.Tx, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	var nx, xx, gt, lt bool
	for _, a := range args[3:] {
		switch strings.ToLower(string(a)) {
		case "nx":
			nx = true
		case "xx":
			xx = true
		case "gt":
			gt = true
		case "lt":
			lt = true
		default:
			c.writeError(fmt.Sprintf("ERR Unsupported option %s", a))
			return
		}
	}
	if nx && (xx || gt || lt) {
		c.writeError("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if gt && lt {
		c.writeError("ERR GT and LT options at the same time are not compatible")
		return
	}
	n, ok := parseInt(args[2])
	if !ok {
		c.writeError(errNotInteger)
		return
	}
	bad := func() { c.writeError(fmt.Sprintf(errExpireTime, name)) }
	if name == "expire" || name == "expireat" {
		if n > math.MaxInt64/1000 || n < math.MinInt64/1000 {
			bad()
			return
		}
		n *= 1000
	}
	if name == "expire" || name == "pexpire" {
		// Like Redis, only an overflow past the future is refused: a negative
		// time, however large, means "already expired".
		now := tx.Now()
		if n > math.MaxInt64-now {
			bad()
			return
		}
		n += now
	}
	key := string(args[1])
	v := tx.Lookup(c.db, key)
	if v == nil {
		c.writeInt(0)
		return
	}
	cur := v.Deadline()
	switch {
	case nx && cur != 0, xx && cur == 0:
		c.writeInt(0)
		return
	case gt && (cur == 0 || n <= cur):
		c.writeInt(0)
		return
	case lt && cur != 0 && n >= cur:
		c.writeInt(0)
		return
	}
	if n <= tx.Now() {
		tx.Delete(c.db, key)
		c.notify(evGeneric, "del", c.db, key)
	} else {
		tx.SetDeadline(c.db, key, n)
		c.notify(evGeneric, "expire", c.db, key)
	}
	c.writeInt(1)
}

func cmdTTL(c *Client, tx *storage.Tx, args [][]byte) {
	v := tx.Lookup(c.db, string(args[1]))
	if v == nil {
		c.writeInt(-2)
		return
	}
	d := v.Deadline()
	if d == 0 {
		c.writeInt(-1)
		return
	}
	switch strings.ToLower(string(args[0])) {
	case "ttl":
		c.writeInt((d - tx.Now() + 500) / 1000)
	case "pttl":
		c.writeInt(d - tx.Now())
	case "expiretime":
		c.writeInt(d / 1000)
	default:
		c.writeInt(d)
	}
}

func cmdPersist(c *Client, tx *storage.Tx, args [][]byte) {
	key := string(args[1])
	v := tx.Lookup(c.db, key)
	if v == nil || v.Deadline() == 0 {
		c.writeInt(0)
		return
	}
	tx.SetDeadline(c.db, key, 0)
	c.notify(evGeneric, "persist", c.db, key)
	c.writeInt(1)
}

func cmdType(c *Client, tx *storage.Tx, args [][]byte) {
	v := tx.Lookup(c.db, string(args[1]))
	if v == nil {
		c.writeSimple("none")
		return
	}
	c.writeSimple(v.Kind().String())
}

func cmdRename(c *Client, tx *storage.Tx, args [][]byte) {
	nx := equalFold(args[0], "renamenx")
	src, dst := string(args[1]), string(args[2])
	v := tx.Lookup(c.db, src)
	if v == nil {
		c.writeError(errNoSuchKey)
		return
	}
	if src == dst {
		if nx {
			c.writeInt(0)
		} else {
			c.writeOK()
		}
		return
	}
	if nx && tx.Lookup(c.db, dst) != nil {
		c.writeInt(0)
		return
	}
	tx.Restore(c.db, dst, v)
	tx.Delete(c.db, src)
	c.notify(evNew, "new", c.db, dst)
	c.notify(evGeneric, "rename_from", c.db, src)
	c.notify(evGeneric, "rename_to", c.db, dst)
	if nx {
		c.writeInt(1)
	} else {
		c.writeOK()
	}
}

func cmdCopy(c *Client, tx *storage.Tx, args [][]byte) {
	src, dst := string(args[1]), string(args[2])
	dstDB, replace := c.db, false
	for i := 3; i < len(args); i++ {
		switch {
		case equalFold(args[i], "replace"):
			replace = true
		case equalFold(args[i], "db") && i+1 < len(args):
			n, ok := c.intArg(args[i+1])
			if !ok {
				return
			}
			if n < 0 || n >= int64(tx.Databases()) {
				c.writeError(errDBIndex)
				return
			}
			dstDB = int(n)
			i++
		default:
			c.writeError(errSyntax)
			return
		}
	}
	if src == dst && dstDB == c.db {
		c.writeError(errSameObject)
		return
	}
	v := tx.Lookup(c.db, src)
	if v == nil {
		c.writeInt(0)
		return
	}
	if !replace && tx.Lookup(dstDB, dst) != nil {
		c.writeInt(0)
		return
	}
	tx.Restore(dstDB, dst, v)
	c.notify(evNew, "new", dstDB, dst)
	c.notify(evGeneric, "copy_to", dstDB, dst)
	c.writeInt(1)
}

func cmdMove(c *Client, tx *storage.Tx, args [][]byte) {
	n, ok := c.intArg(args[2])
	if !ok {
		return
	}
	if n < 0 || n >= int64(tx.Databases()) {
		c.writeError(errDBIndex)
		return
	}
	if int(n) == c.db {
		c.writeError(errSameObject)
		return
	}
	key := string(args[1])
	v := tx.Lookup(c.db, key)
	if v == nil || tx.Lookup(int(n), key) != nil {
		c.writeInt(0)
		return
	}
	tx.Restore(int(n), key, v)
	tx.Delete(c.db, key)
	c.notify(evNew, "new", int(n), key)
	c.notify(evGeneric, "move_from", c.db, key)
	c.notify(evGeneric, "move_to", int(n), key)
	c.writeInt(1)
}

func cmdKeys(c *Client, tx *storage.Tx, args [][]byte) {
	pat := string(args[1])
	var out []string
	tx.ForEach(c.db, func(k string, _ *storage.Value) bool {
		if globMatch(pat, k, false) {
			out = append(out, k)
		}
		return true
	})
	c.writeStrings(out)
}

// scanArgs are the options shared by SCAN, HSCAN and SSCAN.
type scanArgs struct {
	match string
	count int
	typ   string
}

// parseCursor parses a SCAN cursor as Redis does, with strtoul: an empty
// string is 0, a sign is allowed and "-1" wraps to the largest cursor.
func parseCursor(c *Client, arg []byte) (uint64, bool) {
	if len(arg) == 0 {
		return 0, true
	}
	s, neg := arg, false
	if s[0] == '+' || s[0] == '-' {
		s, neg = s[1:], s[0] == '-'
	}
	n, err := strconv.ParseUint(string(s), 10, 64)
	if err != nil {
		c.writeError(errInvalidCursor)
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseScanArgs parses the options after the cursor. HSCAN and SSCAN call
// it only once the key is found, as Redis does.
func parseScanArgs(c *Client, args [][]byte, withType bool) (scanArgs, bool) {
	a := scanArgs{count: 10}
	for i := 0; i < len(args); i++ {
		switch {
		case equalFold(args[i], "count") && i+1 < len(args):
			n, ok := parseInt(args[i+1])
			if !ok {
				c.writeError(errNotInteger)
				return a, false
			}
			if n < 1 {
				c.writeError(errSyntax)
				return a, false
			}
			a.count = int(n)
			i++
		case equalFold(args[i], "match") && i+1 < len(args):
			a.match = string(args[i+1])
			i++
		case withType && equalFold(args[i], "type") && i+1 < len(args):
			a.typ = strings.ToLower(string(args[i+1]))
			i++
		default:
			c.writeError(errSyntax)
			return a, false
		}
	}
	return a, true
}

// writeScan writes a SCAN-family reply: the next cursor, then the elements.
// collectionScan is what HSCAN, SSCAN and ZSCAN differ in.
type collectionScan struct {
	// lookup finds the key, answering WRONGTYPE itself.
	lookup func(c *Client, tx *storage.Tx, key []byte) (*storage.Value, bool)
	// page returns the names from cursor on and the next cursor.
	page func(v *storage.Value, cursor uint64, count int) ([]string, uint64)
	// values, when set, gives the reply element that follows each name.
	values func(v *storage.Value) func(name string) string
}

// scanCollection runs HSCAN, SSCAN or ZSCAN. It checks the cursor, then the
// key, then the options, as Redis does: a missing key answers an empty scan
// whatever the options say.
func (c *Client) scanCollection(tx *storage.Tx, args [][]byte, s collectionScan) {
	cursor, ok := parseCursor(c, args[2])
	if !ok {
		return
	}
	v, ok := s.lookup(c, tx, args[1])
	if !ok {
		return
	}
	if v == nil {
		c.writeScan(0, nil)
		return
	}
	a, ok := parseScanArgs(c, args[3:], false)
	if !ok {
		return
	}
	names, next := s.page(v, cursor, a.count)
	var value func(string) string
	if s.values != nil {
		value = s.values(v)
	}
	out := make([]string, 0, 2*len(names))
	for _, n := range names {
		if a.match != "" && !globMatch(a.match, n, false) {
			continue
		}
		out = append(out, n)
		if value != nil {
			out = append(out, value(n))
		}
	}
	c.writeScan(next, out)
}

func (c *Client) writeScan(next uint64, elems []string) {
	c.writeArray(2)
	c.writeBulkString(strconv.FormatUint(next, 10))
	c.writeStrings(elems)
}

func cmdScan(c *Client, tx *storage.Tx, args [][]byte) {
	cursor, ok := parseCursor(c, args[1])
	if !ok {
		return
	}
	a, ok := parseScanArgs(c, args[2:], true)
	if !ok {
		return
	}
	var out []string
	next := tx.Scan(c.db, cursor, a.count, func(k string, v *storage.Value) {
		if a.match != "" && !globMatch(a.match, k, false) {
			return
		}
		if a.typ != "" && v.Kind().String() != a.typ {
			return
		}
		out = append(out, k)
	})
	c.writeScan(next, out)
}

func cmdRandomkey(c *Client, tx *storage.Tx, _ [][]byte) {
	if k, ok := tx.RandomKey(c.db); ok {
		c.writeBulkString(k)
	} else {
		c.writeNull()
	}
}

func cmdObject(c *Client, tx *storage.Tx, args [][]byte) {
	v := tx.Lookup(c.db, string(args[2]))
	if v == nil {
		c.writeNull()
		return
	}
	switch strings.ToLower(string(args[1])) {
	case "encoding":
		c.writeBulkString(encodingOf(v))
	case "freq":
		// sessdb tracks no access frequency: under an LFU policy it reports
		// every key as never accessed.
		if !strings.HasSuffix(c.srv.cfg.MaxMemoryPolicy(), "-lfu") {
			c.writeError(errNoLFU)
			return
		}
		c.writeInt(0)
	case "idletime":
		// No access times are kept either: every key looks just used.
		if strings.HasSuffix(c.srv.cfg.MaxMemoryPolicy(), "-lfu") {
			c.writeError(errLFUIdle)
			return
		}
		c.writeInt(0)
	case "refcount":
		c.writeInt(c.refcountOf(v))
	}
}

// refcountOf is what Redis's OBJECT REFCOUNT reports: INT_MAX for the
// shared integers 0..9999 (unless an LRU or LFU policy with maxmemory
// forbids sharing), 1 for every other value.
func (c *Client) refcountOf(v *storage.Value) int64 {
	if v.Kind() != storage.KindString || encodingOf(v) != "int" {
		return 1
	}
	n, _ := parseInt(v.Bytes())
	policy := c.srv.cfg.MaxMemoryPolicy()
	shared := c.srv.cfg.MaxMemory() == 0 || !(strings.HasSuffix(policy, "-lru") || strings.HasSuffix(policy, "-lfu"))
	if n >= 0 && n < 10000 && shared {
		return math.MaxInt32
	}
	return 1
}

// encodingOf gives the encoding Redis would report for a value of this shape.
func encodingOf(v *storage.Value) string {
	switch v.Kind() {
	case storage.KindString:
		b := v.Bytes()
		if _, ok := parseInt(b); ok && len(b) <= 20 {
			return "int"
		}
		if len(b) <= 44 {
			return "embstr"
		}
		return "raw"
	case storage.KindHash:
		if v.Len() <= 128 {
			small := true
			for f, val := range v.HashFields() {
				if len(f) > 64 || len(val) > 64 {
					small = false
					break
				}
			}
			if small {
				return "listpack"
			}
		}
		return "hashtable"
	case storage.KindSet:
		allInt := true
		for m := range v.SetMembers() {
			if _, ok := parseInt([]byte(m)); !ok {
				allInt = false
				break
			}
		}
		if allInt && v.Len() <= 512 {
			return "intset"
		}
		if v.Len() <= 128 {
			return "listpack"
		}
		return "hashtable"
	case storage.KindZSet:
		if v.Len() <= 128 {
			small := true
			for m := range v.ZScores() {
				if len(m) > 64 {
					small = false
					break
				}
			}
			if small {
				return "listpack"
			}
		}
		return "skiplist"
	}
	return "raw"
}

func cmdObjectHelp(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeHelp([]string{
		"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"ENCODING <key>", "    Return the kind of internal representation used in order to store the value", "    associated with a <key>.",
		"FREQ <key>", "    Return the access frequency index of the <key>. The returned integer is", "    proportional to the logarithm of the recent access frequency of the key.",
		"IDLETIME <key>", "    Return the idle time of the <key>, that is the approximated number of", "    seconds elapsed since the last access to the key.",
		"REFCOUNT <key>", "    Return the number of references of the value associated with the specified", "    <key>.",
		"HELP", "    Prints this help.",
	})
}
