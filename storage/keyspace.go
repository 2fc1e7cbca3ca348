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
type Keyspace struct {
	shards  [shardCount]map[string]*Value
	n       int
	expires int // keys with a timer armed
}

func newKeyspace() *Keyspace { return &Keyspace{} }

func shardOf(h uint64) int { return int(h >> (64 - shardBits)) }

func (ks *Keyspace) get(key string) *Value {
	return ks.shards[shardOf(keyHash(key))][key]
}

func (ks *Keyspace) put(key string, v *Value) {
	i := shardOf(keyHash(key))
	m := ks.shards[i]
	if m == nil {
		m = make(map[string]*Value)
		ks.shards[i] = m
	}
	if _, ok := m[key]; !ok {
		ks.n++
	}
	m[key] = v
}

func (ks *Keyspace) remove(key string) {
	i := shardOf(keyHash(key))
	m := ks.shards[i]
	if v, ok := m[key]; ok {
		if v.timer != nil {
			ks.expires--
		}
		delete(m, key)
		ks.n--
		if len(m) == 0 {
			ks.shards[i] = nil
		}
	}
}

// Len returns the number of keys, including expired keys not yet reclaimed.
func (ks *Keyspace) Len() int { return ks.n }

func (ks *Keyspace) forEach(fn func(key string, v *Value) bool) {
	for _, m := range ks.shards {
		for k, v := range m {
			if !fn(k, v) {
				return
			}
		}
	}
}

// scan visits whole shards starting at the one holding cursor until at least
// count keys were visited, and returns the next cursor (0 when done).
func (ks *Keyspace) scan(cursor uint64, count int, fn func(key string, v *Value)) uint64 {
	seen := 0
	for i := shardOf(cursor); i < shardCount; i++ {
		for k, v := range ks.shards[i] {
			fn(k, v)
			seen++
		}
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
		m := ks.shards[(start+j)%shardCount]
		if len(m) == 0 {
			continue
		}
		skip := int((r >> 12) % uint64(len(m)))
		for k, v := range m {
			if skip == 0 {
				return k, v, true
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
