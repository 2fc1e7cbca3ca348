package storage

import (
	"hash/maphash"
	"sort"
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
