package storage

import (
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
	"strings"
)

// A sorted set keeps member → score in a map (ZSCORE, membership) and the
// members ordered by (score, member) in a skiplist whose links carry spans,
// as Redis does, so that ranks, rank ranges and score or lex bounds are all
// O(log n) to find and O(1) per element to walk.
//
// Measured against github.com/tidwall/btree v1.1.0 (already a dependency of
// redcon) with BenchmarkZSet_* in zset_test.go and the same operations on the
// B-tree, medians of 7 interleaved runs on the shared 2-core machine:
//
//	members   move a member       rank of a member    first 10 from a score
//	1,000     0.57 µs vs 0.91     0.12 µs vs 0.27     0.24 µs vs 0.37
//	100,000   6.9 µs  vs 2.2      2.4 µs  vs 3.2      0.50 µs vs 0.43
//
// The B-tree has no rank-of-item query, so ZRANK, ZCOUNT and every LIMIT
// offset become a binary search over GetAt, O(log² n). Sorted sets here are
// session indexes and rate-limit windows, mostly small, where the skiplist
// wins everywhere; at 100k members its updates cost about 3× the B-tree's
// (pointer chasing), still small next to a commit.

const (
	zslMaxLevel = 32 // enough for 2^64 elements with p = 1/4
)

type zslLevel struct {
	forward *zslNode
	span    int // elements crossed by following forward
}

type zslNode struct {
	member   string
	score    float64
	backward *zslNode
	level    []zslLevel
	inline   [1]zslLevel // level's storage for the three quarters of nodes of height 1
}

// skiplist orders members by (score, member), member compared bytewise.
type skiplist struct {
	header *zslNode
	tail   *zslNode
	length int
	height int
}

func newSkiplist() *skiplist {
	return &skiplist{header: &zslNode{level: make([]zslLevel, zslMaxLevel)}, height: 1}
}

// randomLevel returns 1..zslMaxLevel with P(level > k) = 4^-k.
func randomLevel() int {
	lvl := 1 + bits.TrailingZeros64(rand.Uint64()|1<<62)/2
	if lvl > zslMaxLevel {
		lvl = zslMaxLevel
	}
	return lvl
}

func zslLess(score float64, member string, n *zslNode) bool {
	return n.score < score || (n.score == score && n.member < member)
}

func (sl *skiplist) insert(member string, score float64) {
	lvl := randomLevel()
	n := &zslNode{member: member, score: score}
	if lvl == 1 {
		n.level = n.inline[:]
	} else {
		n.level = make([]zslLevel, lvl)
	}
	sl.link(n)
}

// link inserts a detached node at its place for (n.score, n.member).
func (sl *skiplist) link(n *zslNode) {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	x := sl.header
	for i := sl.height - 1; i >= 0; i-- {
		if i < sl.height-1 {
			rank[i] = rank[i+1]
		}
		for f := x.level[i].forward; f != nil && zslLess(n.score, n.member, f); f = x.level[i].forward {
			rank[i] += x.level[i].span
			x = f
		}
		update[i] = x
	}
	lvl := len(n.level)
	if lvl > sl.height {
		for i := sl.height; i < lvl; i++ {
			rank[i] = 0
			update[i] = sl.header
			update[i].level[i].span = sl.length
		}
		sl.height = lvl
	}
	for i := 0; i < lvl; i++ {
		n.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = n
		n.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < sl.height; i++ {
		update[i].level[i].span++
	}
	n.backward = nil
	if update[0] != sl.header {
		n.backward = update[0]
	}
	if n.level[0].forward != nil {
		n.level[0].forward.backward = n
	} else {
		sl.tail = n
	}
	sl.length++
}

// find returns the node of (score, member), or nil, and fills update with
// the last node before it on every level.
func (sl *skiplist) find(member string, score float64, update *[zslMaxLevel]*zslNode) *zslNode {
	x := sl.header
	for i := sl.height - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && zslLess(score, member, f); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	x = x.level[0].forward
	if x == nil || x.score != score || x.member != member {
		return nil
	}
	return x
}

// unlink detaches x, found with update.
func (sl *skiplist) unlink(x *zslNode, update *[zslMaxLevel]*zslNode) {
	for i := 0; i < sl.height; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x.backward
	} else {
		sl.tail = x.backward
	}
	for sl.height > 1 && sl.header.level[sl.height-1].forward == nil {
		sl.height--
	}
	sl.length--
}

// remove deletes the element (score, member) and reports whether it was there.
func (sl *skiplist) remove(member string, score float64) bool {
	var update [zslMaxLevel]*zslNode
	x := sl.find(member, score, &update)
	if x == nil {
		return false
	}
	sl.unlink(x, &update)
	return true
}

// move changes the score of (old, member), which must be present, in place
// when its neighbours allow it (as Redis's zslUpdateScore does), otherwise by
// relinking the same node.
func (sl *skiplist) move(member string, old, score float64) {
	var update [zslMaxLevel]*zslNode
	x := sl.find(member, old, &update)
	if (x.backward == nil || zslLess(score, member, x.backward)) &&
		(x.level[0].forward == nil || !zslLess(score, member, x.level[0].forward)) {
		x.score = score
		return
	}
	sl.unlink(x, &update)
	x.score = score
	sl.link(x)
}

// rank returns the 0-based position of (score, member), which must be present.
func (sl *skiplist) rank(member string, score float64) int {
	r := 0
	x := sl.header
	for i := sl.height - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && (f.score < score || (f.score == score && f.member <= member)); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
		if x != sl.header && x.member == member {
			return r - 1
		}
	}
	return -1
}

// at returns the element at 0-based position i, or nil.
func (sl *skiplist) at(i int) *zslNode {
	if i < 0 || i >= sl.length {
		return nil
	}
	want := i + 1
	traversed := 0
	x := sl.header
	for l := sl.height - 1; l >= 0; l-- {
		for x.level[l].forward != nil && traversed+x.level[l].span <= want {
			traversed += x.level[l].span
			x = x.level[l].forward
		}
		if traversed == want {
			return x
		}
	}
	return nil
}

// countWhile returns how many leading elements satisfy pred, which must hold
// for a prefix of the order (true, …, true, false, …), and the last of them
// (the header when none does).
func (sl *skiplist) countWhile(pred func(n *zslNode) bool) (int, *zslNode) {
	r := 0
	x := sl.header
	for i := sl.height - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && pred(f); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
	}
	return r, x
}

// zset is a sorted set value.
type zset struct {
	scores map[string]float64
	sl     *skiplist
}

func newZSet() *zset { return &zset{scores: make(map[string]float64), sl: newSkiplist()} }

// set gives member the score, adding it when missing; it reports whether it was added.
func (z *zset) set(member string, score float64) bool {
	old, ok := z.scores[member]
	if !ok {
		z.scores[member] = score
		z.sl.insert(member, score)
		return true
	}
	if old != score { // -0 == 0: Redis keeps the old score
		z.scores[member] = score
		z.sl.move(member, old, score)
	}
	return false
}

func (z *zset) remove(member string) bool {
	old, ok := z.scores[member]
	if !ok {
		return false
	}
	delete(z.scores, member)
	z.sl.remove(member, old)
	return true
}

// ScoreRange is an interval of scores; an Exclusive end excludes its value.
type ScoreRange struct {
	Min, Max     float64
	MinExclusive bool
	MaxExclusive bool
}

func (r *ScoreRange) aboveMin(s float64) bool {
	if r.MinExclusive {
		return s > r.Min
	}
	return s >= r.Min
}

func (r *ScoreRange) belowMax(s float64) bool {
	if r.MaxExclusive {
		return s < r.Max
	}
	return s <= r.Max
}

// LexBound is one end of a range of members: Inf -1 is "-" (below every
// member), +1 is "+" (above every member), 0 means Value, excluded when
// Exclusive.
type LexBound struct {
	Value     string
	Exclusive bool
	Inf       int
}

// LexRange is an interval of members, meaningful when all scores are equal.
type LexRange struct{ Min, Max LexBound }

// cmpLex compares a member with a bound as Redis's sdscmplex does.
func cmpLex(m string, b *LexBound) int {
	switch b.Inf {
	case -1:
		return 1
	case 1:
		return -1
	}
	return strings.Compare(m, b.Value)
}

func (r *LexRange) aboveMin(m string) bool {
	c := cmpLex(m, &r.Min)
	return c > 0 || (c == 0 && !r.Min.Exclusive)
}

func (r *LexRange) belowMax(m string) bool {
	c := cmpLex(m, &r.Max)
	return c < 0 || (c == 0 && !r.Max.Exclusive)
}

func (r *LexRange) empty() bool {
	a, b := &r.Min, &r.Max
	var c int
	switch {
	case a.Inf != 0 && a.Inf == b.Inf:
		c = 0
	case a.Inf == -1 || b.Inf == 1:
		c = -1
	case a.Inf == 1 || b.Inf == -1:
		c = 1
	default:
		c = strings.Compare(a.Value, b.Value)
	}
	return c > 0 || (c == 0 && (a.Exclusive || b.Exclusive))
}

func (r *ScoreRange) empty() bool {
	return r.Min > r.Max || (r.Min == r.Max && (r.MinExclusive || r.MaxExclusive))
}

// bounds are the two ends of a range as predicates on elements, each true
// for a prefix (before) or a suffix (after) of the order.
type bounds struct {
	before func(n *zslNode) bool // n sorts before the range
	after  func(n *zslNode) bool // n sorts after the range
}

func scoreBounds(r *ScoreRange) bounds {
	return bounds{
		before: func(n *zslNode) bool { return !r.aboveMin(n.score) },
		after:  func(n *zslNode) bool { return !r.belowMax(n.score) },
	}
}

func lexBounds(r *LexRange) bounds {
	return bounds{
		before: func(n *zslNode) bool { return !r.aboveMin(n.member) },
		after:  func(n *zslNode) bool { return !r.belowMax(n.member) },
	}
}

// count returns how many elements lie inside b.
func (z *zset) count(b bounds) int {
	lo, _ := z.sl.countWhile(b.before)
	hi, _ := z.sl.countWhile(func(n *zslNode) bool { return !b.after(n) })
	return max(hi-lo, 0)
}

// rangeWalk calls fn for the elements inside b, ascending from the low end
// or, with reverse, descending from the high end, after skipping offset of
// them, until count were emitted (count < 0: no limit) or fn returns false.
// It finds its start with one descent of the skiplist (two with an offset),
// as Redis's zslNthInRange does.
func (z *zset) rangeWalk(b bounds, offset, count int, reverse bool, fn func(member string, score float64) bool) {
	if offset < 0 || count == 0 {
		return
	}
	var n *zslNode
	if reverse {
		k, last := z.sl.countWhile(func(n *zslNode) bool { return !b.after(n) })
		if offset == 0 {
			if last != z.sl.header {
				n = last
			}
		} else {
			n = z.sl.at(k - 1 - offset)
		}
	} else {
		k, prev := z.sl.countWhile(b.before)
		if offset == 0 {
			n = prev.level[0].forward
		} else {
			n = z.sl.at(k + offset)
		}
	}
	for ; n != nil && count != 0; count-- {
		if reverse && b.before(n) || !reverse && b.after(n) {
			return
		}
		if !fn(n.member, n.score) {
			return
		}
		if reverse {
			n = n.backward
		} else {
			n = n.level[0].forward
		}
	}
}

// encodeScore is the 8-byte form of a score in records and on disk.
func encodeScore(score float64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), math.Float64bits(score))
}

func decodeScore(b []byte) (float64, error) {
	if len(b) != 8 {
		return 0, ErrCorrupt
	}
	s := math.Float64frombits(binary.BigEndian.Uint64(b))
	if math.IsNaN(s) {
		return 0, ErrCorrupt
	}
	return s, nil
}

// ZScores returns a sorted set's member → score map. The caller must not modify it.
func (v *Value) ZScores() map[string]float64 {
	if v.zset == nil {
		return nil
	}
	return v.zset.scores
}

// ZScore returns a member's score.
func (v *Value) ZScore(member string) (float64, bool) {
	if v.zset == nil {
		return 0, false
	}
	s, ok := v.zset.scores[member]
	return s, ok
}

// ZRank returns a member's 0-based rank in ascending (or, with reverse,
// descending) order and its score.
func (v *Value) ZRank(member string, reverse bool) (int, float64, bool) {
	s, ok := v.ZScore(member)
	if !ok {
		return 0, 0, false
	}
	r := v.zset.sl.rank(member, s)
	if reverse {
		r = v.zset.sl.length - 1 - r
	}
	return r, s, true
}

// ZRange calls fn for the elements at ranks start..stop inclusive (already
// clamped to 0..Len()-1), in ascending order or, with reverse, descending
// order where rank 0 is the highest, until fn returns false.
func (v *Value) ZRange(start, stop int, reverse bool, fn func(member string, score float64) bool) {
	if v.zset == nil || start > stop {
		return
	}
	n := v.zset.sl.at(start)
	if reverse {
		n = v.zset.sl.at(v.zset.sl.length - 1 - start)
	}
	for i := start; i <= stop && n != nil; i++ {
		if !fn(n.member, n.score) {
			return
		}
		if reverse {
			n = n.backward
		} else {
			n = n.level[0].forward
		}
	}
}

// ZCount returns how many elements have a score inside r.
func (v *Value) ZCount(r ScoreRange) int {
	if v.zset == nil || r.empty() {
		return 0
	}
	return v.zset.count(scoreBounds(&r))
}

// ZRangeByScore calls fn for the elements with a score inside r, ascending
// (descending with reverse), skipping the first offset and stopping after
// count of them (count < 0: no limit) or when fn returns false.
func (v *Value) ZRangeByScore(r ScoreRange, offset, count int, reverse bool, fn func(member string, score float64) bool) {
	if v.zset == nil || r.empty() {
		return
	}
	v.zset.rangeWalk(scoreBounds(&r), offset, count, reverse, fn)
}

// ZLexCount returns how many members are inside r. Like Redis, it assumes
// that every score is equal; otherwise the answer is unspecified.
func (v *Value) ZLexCount(r LexRange) int {
	if v.zset == nil || r.empty() {
		return 0
	}
	return v.zset.count(lexBounds(&r))
}

// ZRangeByLex is ZRangeByScore for a range of members, with ZLexCount's caveat.
func (v *Value) ZRangeByLex(r LexRange, offset, count int, reverse bool, fn func(member string, score float64) bool) {
	if v.zset == nil || r.empty() {
		return
	}
	v.zset.rangeWalk(lexBounds(&r), offset, count, reverse, fn)
}

// LookupZSet returns a sorted set key's value, nil when missing.
func (tx *Tx) LookupZSet(db int, key string) (*Value, error) {
	return tx.lookupKind(db, key, KindZSet)
}

// ZScore returns a member's score in the sorted set at key.
func (tx *Tx) ZScore(db int, key, member string) (float64, bool, error) {
	v, err := tx.lookupKind(db, key, KindZSet)
	if v == nil || err != nil {
		return 0, false, err
	}
	s, ok := v.ZScore(member)
	return s, ok, nil
}

// ZAdd gives member the score in the sorted set at key, creating the set;
// it reports whether the member is new. An unchanged score records nothing.
func (tx *Tx) ZAdd(db int, key, member string, score float64) (bool, error) {
	if math.IsNaN(score) {
		return false, ErrNotANumber
	}
	v, err := tx.lookupKind(db, key, KindZSet)
	if err != nil {
		return false, err
	}
	if v == nil {
		v = &Value{kind: KindZSet, zset: newZSet()}
		v.touch(tx.now)
		tx.s.keyspace(db).put(key, v)
	} else if old, ok := v.zset.scores[member]; ok && old == score {
		return false, nil
	}
	added := v.zset.set(member, score)
	tx.record(Record{Op: OpZAdd, DB: db, Key: key, Field: member, Value: encodeScore(score)})
	return added, nil
}

// ZRem removes a member (and the key when it was the last); it reports
// whether it was there.
func (tx *Tx) ZRem(db int, key, member string) (bool, error) {
	v, err := tx.lookupKind(db, key, KindZSet)
	if v == nil || err != nil {
		return false, err
	}
	if !v.zset.remove(member) {
		return false, nil
	}
	if len(v.zset.scores) == 0 {
		tx.remove(db, key, v)
	} else {
		tx.record(Record{Op: OpZRem, DB: db, Key: key, Field: member})
	}
	return true, nil
}
