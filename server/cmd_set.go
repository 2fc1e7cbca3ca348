package server

import (
	"sort"
	"strings"

	"github.com/sessdb/sessdb/storage"
)

func init() {
	s := func(c *command) *command {
		c.firstKey, c.lastKey, c.step, c.group = 1, 1, 1, "set"
		return c
	}
	multi := func(c *command, first int) *command {
		c.firstKey, c.lastKey, c.step, c.group = first, -1, 1, "set"
		return c
	}
	w := []string{"write", "denyoom", "fast"}
	r := []string{"readonly", "fast"}
	register(
		s(&command{name: "sadd", arity: -3, flags: w, access: accessWrite, summary: "Adds one or more members to a set. Creates the key if it doesn't exist.", since: "1.0.0", run: cmdSadd}),
		s(&command{name: "srem", arity: -3, flags: []string{"write", "fast"}, access: accessWrite, summary: "Removes one or more members from a set. Deletes the set if the last member was removed.", since: "1.0.0", run: cmdSrem}),
		s(&command{name: "smembers", arity: 2, flags: []string{"readonly"}, access: accessRead, summary: "Returns all members of a set.", since: "1.0.0", run: cmdSmembers}),
		s(&command{name: "sismember", arity: 3, flags: r, access: accessRead, summary: "Determines whether a member belongs to a set.", since: "1.0.0", run: cmdSismember}),
		s(&command{name: "smismember", arity: -3, flags: r, access: accessRead, summary: "Determines whether multiple members belong to a set.", since: "6.2.0", run: cmdSmismember}),
		s(&command{name: "scard", arity: 2, flags: r, access: accessRead, summary: "Returns the number of members in a set.", since: "1.0.0", run: cmdScard}),
		s(&command{name: "spop", arity: -2, flags: []string{"write", "fast"}, access: accessWrite, summary: "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", since: "1.0.0", run: cmdSpop}),
		s(&command{name: "srandmember", arity: -2, flags: []string{"readonly"}, access: accessRead, summary: "Get one or multiple random members from a set", since: "1.0.0", run: cmdSrandmember}),
		&command{name: "smove", arity: 4, flags: w, access: accessWrite, firstKey: 1, lastKey: 2, step: 1, group: "set", summary: "Moves a member from one set to another.", since: "1.0.0", run: cmdSmove},
		s(&command{name: "sscan", arity: -3, flags: []string{"readonly"}, access: accessRead, summary: "Iterates over members of a set.", since: "2.8.0", run: cmdSscan}),
		multi(&command{name: "sinter", arity: -2, flags: []string{"readonly"}, access: accessRead, summary: "Returns the intersect of multiple sets.", since: "1.0.0", run: cmdSetop}, 1),
		multi(&command{name: "sunion", arity: -2, flags: []string{"readonly"}, access: accessRead, summary: "Returns the union of multiple sets.", since: "1.0.0", run: cmdSetop}, 1),
		multi(&command{name: "sdiff", arity: -2, flags: []string{"readonly"}, access: accessRead, summary: "Returns the difference of multiple sets.", since: "1.0.0", run: cmdSetop}, 1),
		multi(&command{name: "sinterstore", arity: -3, flags: []string{"write", "denyoom"}, access: accessWrite, summary: "Stores the intersect of multiple sets in a key.", since: "1.0.0", run: cmdSetop}, 1),
		multi(&command{name: "sunionstore", arity: -3, flags: []string{"write", "denyoom"}, access: accessWrite, summary: "Stores the union of multiple sets in a key.", since: "1.0.0", run: cmdSetop}, 1),
		multi(&command{name: "sdiffstore", arity: -3, flags: []string{"write", "denyoom"}, access: accessWrite, summary: "Stores the difference of multiple sets in a key.", since: "1.0.0", run: cmdSetop}, 1),
		&command{name: "sintercard", arity: -3, flags: []string{"readonly"}, access: accessRead, firstKey: 2, lastKey: -1, step: 1, group: "set", summary: "Returns the number of members of the intersect of multiple sets.", since: "7.0.0", run: cmdSintercard},
	)
}

func (c *Client) lookupSet(tx *storage.Tx, key []byte) (*storage.Value, bool) {
	v, err := tx.LookupSet(c.db, string(key))
	if err != nil {
		c.writeError(storageError(err))
		return nil, false
	}
	return v, true
}

func cmdSadd(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupSet(tx, args[1])
	if !ok {
		return
	}
	if v == nil {
		c.notify(evNew, "new", c.db, string(args[1]))
	}
	var n int64
	for _, m := range args[2:] {
		if added, _ := tx.SAdd(c.db, string(args[1]), string(m)); added {
			n++
		}
	}
	if n > 0 {
		c.notify(evSet, "sadd", c.db, string(args[1]))
	}
	c.writeInt(n)
}

func cmdSrem(c *Client, tx *storage.Tx, args [][]byte) {
	c.removeMembers(tx, args, (*Client).lookupSet, tx.SRem, evSet, "srem")
}

func members(v *storage.Value) []string {
	if v == nil {
		return nil
	}
	out := make([]string, 0, v.Len())
	for m := range v.SetMembers() {
		out = append(out, m)
	}
	return out
}

func (c *Client) writeMembers(ms []string) {
	c.writeSet(len(ms))
	for _, m := range ms {
		c.writeBulkString(m)
	}
}

func cmdSmembers(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupSet(tx, args[1])
	if !ok {
		return
	}
	c.writeMembers(members(v))
}

func cmdSismember(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupSet(tx, args[1])
	if !ok {
		return
	}
	in := false
	if v != nil {
		in = v.IsMember(string(args[2]))
	}
	c.writeBool01(in)
}

func cmdSmismember(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupSet(tx, args[1])
	if !ok {
		return
	}
	c.writeArray(len(args) - 2)
	for _, m := range args[2:] {
		in := false
		if v != nil {
			in = v.IsMember(string(m))
		}
		c.writeBool01(in)
	}
}

func cmdScard(c *Client, tx *storage.Tx, args [][]byte) {
	v, ok := c.lookupSet(tx, args[1])
	if !ok {
		return
	}
	if v == nil {
		c.writeInt(0)
		return
	}
	c.writeInt(int64(v.Len()))
}

func cmdSpop(c *Client, tx *storage.Tx, args [][]byte) {
	var count int64 = -1
	if len(args) > 3 {
		c.writeError(errSyntax)
		return
	}
	if len(args) == 3 {
		n, ok := parseInt(args[2])
		if !ok || n < 0 {
			c.writeError(errCountPositive)
			return
		}
		count = n
	}
	v, ok := c.lookupSet(tx, args[1])
	if !ok {
		return
	}
	if v == nil {
		if count >= 0 {
			c.writeSet(0)
		} else {
			c.writeNull()
		}
		return
	}
	ms := members(v)
	n := count
	if n < 0 {
		n = 1
	}
	picked := pickRandom(ms, n)
	for _, m := range picked {
		_, _ = tx.SRem(c.db, string(args[1]), m)
	}
	c.notifyRemoved(evSet, "spop", v, int64(len(picked)), string(args[1]))
	if count < 0 {
		c.writeBulkString(picked[0])
		return
	}
	c.writeMembers(picked)
}

func cmdSrandmember(c *Client, tx *storage.Tx, args [][]byte) {
	if len(args) > 3 {
		c.writeError(errSyntax)
		return
	}
	count, has, _, ok := parseRandCount(c, args[2:], "")
	if !ok {
		return
	}
	v, ok := c.lookupSet(tx, args[1])
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
	ms := members(v)
	if !has {
		c.writeBulkString(pickRandom(ms, -1)[0])
		return
	}
	c.writeStrings(pickRandom(ms, count))
}

// cmdSmove follows Redis: a missing source answers 0 before any type check,
// and a move within one set only reports membership.
func cmdSmove(c *Client, tx *storage.Tx, args [][]byte) {
	src := tx.Lookup(c.db, string(args[1]))
	if src == nil {
		c.writeInt(0)
		return
	}
	dst := tx.Lookup(c.db, string(args[2]))
	if src.Kind() != storage.KindSet || (dst != nil && dst.Kind() != storage.KindSet) {
		c.writeError(errWrongType)
		return
	}
	m := string(args[3])
	if !src.IsMember(m) {
		c.writeInt(0)
		return
	}
	if string(args[1]) != string(args[2]) {
		_, _ = tx.SRem(c.db, string(args[1]), m)
		c.notifyRemoved(evSet, "srem", src, 1, string(args[1]))
		if dst == nil {
			c.notify(evNew, "new", c.db, string(args[2]))
		}
		if added, _ := tx.SAdd(c.db, string(args[2]), m); added {
			c.notify(evSet, "sadd", c.db, string(args[2]))
		}
	}
	c.writeInt(1)
}

// cmdSscan iterates a set; a compact set is returned whole, as Redis does.
func cmdSscan(c *Client, tx *storage.Tx, args [][]byte) {
	c.scanCollection(tx, args, collectionScan{
		lookup: (*Client).lookupSet,
		page: func(v *storage.Value, cursor uint64, count int) ([]string, uint64) {
			if encodingOf(v) != "hashtable" {
				return members(v), 0
			}
			return storage.ScanFields(v.Members(), cursor, count)
		},
	})
}

// setOperation computes SINTER/SUNION/SDIFF over keys; ok is false after an error reply.
func (c *Client) setOperation(tx *storage.Tx, op string, keys [][]byte) (map[string]struct{}, bool) {
	sets := make([]*storage.Value, len(keys))
	for i, k := range keys {
		v, ok := c.lookupSet(tx, k)
		if !ok {
			return nil, false
		}
		sets[i] = v
	}
	out := map[string]struct{}{}
	switch op {
	case "union":
		for _, s := range sets {
			if s != nil {
				for m := range s.SetMembers() {
					out[m] = struct{}{}
				}
			}
		}
	case "diff":
		if sets[0] == nil {
			return out, true
		}
		for m := range sets[0].SetMembers() {
			out[m] = struct{}{}
		}
		for _, s := range sets[1:] {
			if s != nil {
				for m := range s.SetMembers() {
					delete(out, m)
				}
			}
		}
	case "inter":
		order := append([]*storage.Value(nil), sets...)
		for _, s := range order {
			if s == nil {
				return out, true
			}
		}
		sort.Slice(order, func(i, j int) bool { return order[i].Len() < order[j].Len() })
	next:
		for m := range order[0].SetMembers() {
			for _, s := range order[1:] {
				if !s.IsMember(m) {
					continue next
				}
			}
			out[m] = struct{}{}
		}
	}
	return out, true
}

func cmdSetop(c *Client, tx *storage.Tx, args [][]byte) {
	name := string(args[0])
	var op string
	store := false
	switch {
	case equalFold(args[0], "sinter"), equalFold(args[0], "sinterstore"):
		op = "inter"
	case equalFold(args[0], "sunion"), equalFold(args[0], "sunionstore"):
		op = "union"
	default:
		op = "diff"
	}
	store = len(name) > 6 && equalFold([]byte(name[len(name)-5:]), "store")
	keys := args[1:]
	if store {
		keys = args[2:]
	}
	res, ok := c.setOperation(tx, op, keys)
	if !ok {
		return
	}
	ms := make([]string, 0, len(res))
	for m := range res {
		ms = append(ms, m)
	}
	if !store {
		c.writeMembers(ms)
		return
	}
	dst := string(args[1])
	existed := tx.Delete(c.db, dst)
	for _, m := range ms {
		_, _ = tx.SAdd(c.db, dst, m)
	}
	switch {
	case len(ms) > 0:
		if !existed {
			c.notify(evNew, "new", c.db, dst)
		}
		c.notify(evSet, strings.ToLower(name), c.db, dst)
	case existed:
		c.notify(evGeneric, "del", c.db, dst)
	}
	c.writeInt(int64(len(ms)))
}

func cmdSintercard(c *Client, tx *storage.Tx, args [][]byte) {
	n, ok := parseInt(args[1])
	if !ok || n <= 0 {
		c.writeError(errNumKeys)
		return
	}
	if n > int64(len(args)-2) {
		c.writeError("ERR Number of keys can't be greater than number of args")
		return
	}
	keys := args[2 : 2+n]
	var limit int64
	for rest := args[2+n:]; len(rest) > 0; rest = rest[2:] {
		if len(rest) < 2 || !equalFold(rest[0], "limit") {
			c.writeError(errSyntax)
			return
		}
		l, ok := parseInt(rest[1])
		if !ok || l < 0 {
			c.writeError(errLimitNeg)
			return
		}
		limit = l
	}
	res, ok := c.setOperation(tx, "inter", keys)
	if !ok {
		return
	}
	card := int64(len(res))
	if limit > 0 && card > limit {
		card = limit
	}
	c.writeInt(card)
}
