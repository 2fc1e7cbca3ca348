package storage

import (
	"hash/maphash"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"sync"
)

// shardBits fixes how many contiguous hash ranges a keyspace is cut into. A
// SCAN cursor is a position in the 64-bit hash space and every call returns
// whole shards, so every key present for the whole scan is returned however
// the keyspace changes in between.
const shardBits = 12

const shardCount = 1 << shardBits

var hashSeed = maphash.MakeSeed()

func keyHash(key string) uint64 { return maphash.String(hashSeed, key) }

// Keyspace is one logical database: keys to values, sharded by key hash.
// Each shard is an open-addressing table (linear probing, full hashes kept
// beside the keys) rather than a Go map: a lookup is one probe into the
// shard's slot array, then the key, then the value, where a map of maps
// first walks the map header, its directory and table and the control
// group. Each of those is a cache (and, in a VM, TLB) miss on a large
// keyspace, and they were a fifth of a GET's CPU.
type Keyspace struct {
	shards  [shardCount]shard
	n       int
	expires int    // keys with a timer armed
	gen     uint64 // changes when a key is added, replaced or removed (visitShard)
}

// shard is one hash range's table. len(slots) is a power of two (or 0);
// an empty slot has a nil v. The index of a key is its hash's low bits (the
// high bits choose the shard).
type shard struct {
	slots []slot
	n     int
}

type slot struct {
	h   uint64
	key string
	v   *Value
}

const (
	shardMinSlots = 8
	// A shard grows past three quarters full and shrinks below an eighth,
	// so that probes stay short and a keyspace that empties gives its
	// memory back.
	shardMaxLoadNum, shardMaxLoadDen = 3, 4
	shardMinLoadDen                  = 8
)

func newKeyspace() *Keyspace { return &Keyspace{} }

func shardOf(h uint64) int { return int(h >> (64 - shardBits)) }

// find returns the index of key's slot in sh, or -1.
func (sh *shard) find(h uint64, key string) int {
	if sh.n == 0 {
		return -1
	}
	mask := uint64(len(sh.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &sh.slots[i]
		if s.v == nil {
			return -1
		}
		if s.h == h && s.key == key {
			return int(i)
		}
	}
}

// insert puts a slot for a key known to be absent; there is room.
func (sh *shard) insert(s slot) {
	mask := uint64(len(sh.slots) - 1)
	for i := s.h & mask; ; i = (i + 1) & mask {
		if sh.slots[i].v == nil {
			sh.slots[i] = s
			sh.n++
			return
		}
	}
}

// resize rehashes sh into size slots (0: none).
func (sh *shard) resize(size int) {
	old := sh.slots
	sh.slots, sh.n = nil, 0
	if size == 0 {
		return
	}
	sh.slots = make([]slot, size)
	for _, s := range old {
		if s.v != nil {
			sh.insert(s)
		}
	}
}

// delete empties slot i, moving later slots of the same probe run back so
// that every key stays reachable from its home index (no tombstones).
func (sh *shard) delete(i int) {
	mask := len(sh.slots) - 1
	for j := (i + 1) & mask; sh.slots[j].v != nil; j = (j + 1) & mask {
		home := int(sh.slots[j].h) & mask
		// The slot at j may move to the hole at i unless its home lies
		// cyclically in (i, j].
		if (i <= j && (home <= i || home > j)) || (i > j && home <= i && home > j) {
			sh.slots[i] = sh.slots[j]
			i = j
		}
	}
	sh.slots[i] = slot{}
	sh.n--
	switch {
	case sh.n == 0:
		sh.slots = nil
	case len(sh.slots) > shardMinSlots && sh.n*shardMinLoadDen < len(sh.slots):
		sh.resize(len(sh.slots) / 2)
	}
}

func (ks *Keyspace) get(key string) *Value {
	h := keyHash(key)
	sh := &ks.shards[shardOf(h)]
	if i := sh.find(h, key); i >= 0 {
		return sh.slots[i].v
	}
	return nil
}

func (ks *Keyspace) put(key string, v *Value) {
	h := keyHash(key)
	sh := &ks.shards[shardOf(h)]
	if i := sh.find(h, key); i >= 0 {
		sh.slots[i].key, sh.slots[i].v = key, v
		ks.gen++
		return
	}
	if (sh.n+1)*shardMaxLoadDen > len(sh.slots)*shardMaxLoadNum {
		sh.resize(max(shardMinSlots, 2*len(sh.slots)))
	}
	sh.insert(slot{h, key, v})
	ks.n++
	ks.gen++
}

func (ks *Keyspace) remove(key string) {
	h := keyHash(key)
	sh := &ks.shards[shardOf(h)]
	i := sh.find(h, key)
	if i < 0 {
		return
	}
	if sh.slots[i].v.timer != nil {
		ks.expires--
	}
	sh.delete(i)
	ks.n--
	ks.gen++
}

// Len returns the number of keys, including expired keys not yet reclaimed.
func (ks *Keyspace) Len() int { return ks.n }

// visitShard calls fn for every key of shard i until fn returns false, and
// reports whether fn always returned true. As with a Go map, fn may add,
// replace and remove keys: a key removed before it is reached is not
// visited, a key added meanwhile may or may not be, and every other key is
// visited once, with its value as it is when it is reached.
// buf is scratch space, returned for reuse.
func (ks *Keyspace) visitShard(i int, buf []slot, fn func(key string, v *Value) bool) ([]slot, bool) {
	sh := &ks.shards[i]
	if sh.n == 0 {
		return buf, true
	}
	buf = buf[:0]
	for _, s := range sh.slots {
		if s.v != nil {
			buf = append(buf, s)
		}
	}
	gen := ks.gen
	for j := range buf {
		key, v := buf[j].key, buf[j].v
		if ks.gen != gen {
			k := sh.find(buf[j].h, key)
			if k < 0 {
				continue // removed since the shard was copied
			}
			key, v = sh.slots[k].key, sh.slots[k].v
		}
		if !fn(key, v) {
			clear(buf)
			return buf, false
		}
	}
	clear(buf) // do not keep the values alive
	return buf, true
}

func (ks *Keyspace) forEach(fn func(key string, v *Value) bool) {
	var buf []slot
	ok := true
	for i := 0; i < shardCount && ok; i++ {
		buf, ok = ks.visitShard(i, buf, fn)
	}
}

// scan visits whole shards starting at the one holding cursor until at least
// count keys were visited, and returns the next cursor (0 when done).
func (ks *Keyspace) scan(cursor uint64, count int, fn func(key string, v *Value)) uint64 {
	seen := 0
	var buf []slot
	for i := shardOf(cursor); i < shardCount; i++ {
		buf, _ = ks.visitShard(i, buf, func(k string, v *Value) bool {
			fn(k, v)
			seen++
			return true
		})
		if seen >= count && i+1 < shardCount {
			return uint64(i+1) << (64 - shardBits)
		}
	}
	return 0
}

// random returns a pseudo-random key using r as the source, or false when empty.
func (ks *Keyspace) random(r uint64) (string, *Value, bool) {
	if ks.n == 0 {
		return "", nil, false
	}
	start := int(r % shardCount)
	for j := 0; j < shardCount; j++ {
		sh := &ks.shards[(start+j)%shardCount]
		if sh.n == 0 {
			continue
		}
		skip := int((r >> 12) % uint64(sh.n))
		for _, s := range sh.slots {
			if s.v == nil {
				continue
			}
			if skip == 0 {
				return s.key, s.v, true
			}
			skip--
		}
	}
	return "", nil, false
}

// ScanFields returns up to about count entries of m whose hash is at or after
// cursor, in hash order, and the next cursor (0 when done). Small maps are
// returned whole, as Redis does for its compact encodings.
func ScanFields[V any](m map[string]V, cursor uint64, count int) ([]string, uint64) {
	if cursor == 0 && len(m) <= 128 {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		return out, 0
	}
	type hk struct {
		h uint64
		k string
	}
	var all []hk
	for k := range m {
		if h := keyHash(k); h >= cursor {
			all = append(all, hk{h, k})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].h < all[j].h })
	if count < 1 {
		count = 10
	}
	if len(all) <= count {
		out := make([]string, len(all))
		for i := range all {
			out[i] = all[i].k
		}
		return out, 0
	}
	// Never split fields sharing one hash across two calls.
	end := count
	for end < len(all) && all[end].h == all[end-1].h {
		end++
	}
	out := make([]string, end)
	for i := 0; i < end; i++ {
		out[i] = all[i].k
	}
	if end == len(all) {
		return out, 0
	}
	next := all[end].h
	if next == 0 {
		next = 1
	}
	return out, next
}

// The garbage collector's headroom. With GOGC=100 a Go heap grows to twice
// its live size between collections, and the process's RSS follows it: for
// a keyspace of a gigabyte that is a gigabyte of garbage kept around. The
// tuner sets the headroom to max(GCMinHeadroom, live/4) by adjusting the
// GOGC percentage as the live heap changes (never below 25, never above
// 400), after every collection. A small keyspace therefore gets the same
// 64 MB of headroom as a mid-sized one instead of GOGC=100's few megabytes:
// at 100k keys that is a third of the collections under a read load,
// whose garbage is per-command buffers. Less headroom means more collections, and each
// one marks the whole live heap: at a million sessions a full mark costs
// about 1.7 s of CPU here, whatever the percentage, because the cost is in
// the objects (about 4.8 per session: key, Value, timer, the compact hash
// and a share of the user's index and keyspace slots). A session fill
// allocates about 24 KB of garbage per session (mostly folding the log),
// so at 15 % instead of 25 % a million-session fill took longer than the
// bench allows. Compact values (one pointer-free slice per small hash or
// set) keep both the objects and the scanned bytes down.
const (
	// GCMinHeadroom is the headroom the tuner always allows.
	GCMinHeadroom = 64 << 20
	gcMinPercent  = 25
	// gcMaxPercent bounds the percentage for a tiny live heap, whose
	// heap goal would otherwise be far above GCMinHeadroom (the runtime's
	// minimum heap scales with the percentage).
	gcMaxPercent = 400
)

var gcTunerOnce sync.Once

// TuneGC starts the headroom tuner for the life of the process, unless the
// GOGC environment variable is set (the operator's choice wins). It is
// idempotent; servers call it at start-up, embedders may.
func TuneGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	gcTunerOnce.Do(func() {
		t := &gcTuner{sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}, percent: 100}
		t.arm()
		// Loading leaves garbage behind (it runs with a large GOGC), which
		// would stay resident until the next collection: collect now, in
		// the background, so that the tuner sets its pace from the live
		// keyspace, and give the freed pages back.
		go debug.FreeOSMemory()
	})
}

type gcTuner struct {
	mu      sync.Mutex
	sample  []metrics.Sample
	percent int
}

// gcSentinel is garbage as soon as it is made: its finalizer runs after the
// next collection, adjusts the percentage and makes the next sentinel.
type gcSentinel struct{ t *gcTuner }

func (t *gcTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{t}, func(s *gcSentinel) {
		s.t.adjust()
		s.t.arm()
	})
}

func (t *gcTuner) adjust() {
	t.mu.Lock()
	defer t.mu.Unlock()
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	live := t.sample[0].Value.Uint64()
	p := gcPercentFor(live)
	if p != t.percent {
		t.percent = p
		debug.SetGCPercent(p)
	}
	// A soft limit a little above the goal makes the runtime return
	// freed pages to the OS promptly after a burst, instead of keeping
	// the burst's peak resident.
	debug.SetMemoryLimit(memoryLimitFor(live, p))
}

// memoryLimitFor is the soft memory limit for a live heap and a GOGC
// percentage: the heap goal plus an eighth of it and GCMinHeadroom for
// everything that is not heap (stacks, buffers, the runtime's own).
func memoryLimitFor(live uint64, percent int) int64 {
	goal := live + live*uint64(percent)/100
	return int64(goal + goal/8 + GCMinHeadroom)
}

// gcPercentFor is the GOGC percentage that allows max(GCMinHeadroom,
// live/4) bytes of garbage over a live heap of live bytes.
func gcPercentFor(live uint64) int {
	if live == 0 {
		return 100
	}
	p := int(uint64(GCMinHeadroom) * 100 / live)
	return min(gcMaxPercent, max(gcMinPercent, p))
}
