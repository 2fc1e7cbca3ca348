package storage

import (
	"math"
	"math/rand/v2"
	"sort"
	"sync/atomic"
)

// Eviction under maxmemory. The server decides when memory is short and how
// much to free; Evict chooses the keys and deletes them through the commit
// path, like any deletion. Only the visible databases are ever sampled:
// internal databases (sessions) are never evicted.
//
// As in Redis, the choice is approximate: each call samples keys from every
// database, starting where the previous call stopped, and keeps the best
// candidates seen so far in an EvictPool. LRU reads each value's access
// clock (Value.lru, the unix second of its last access), which Lookup and
// the writes that create or overwrite a key set.

// EvictPolicy is a maxmemory-policy that removes keys.
type EvictPolicy uint8

// The eviction policies, named after Redis's maxmemory-policy values.
const (
	// EvictAllKeysLRU removes the least recently used keys.
	EvictAllKeysLRU EvictPolicy = iota + 1
	// EvictVolatileLRU removes the least recently used keys among those with a deadline.
	EvictVolatileLRU
	// EvictAllKeysRandom removes random keys.
	EvictAllKeysRandom
	// EvictVolatileRandom removes random keys among those with a deadline.
	EvictVolatileRandom
	// EvictVolatileTTL removes the keys whose deadline is nearest.
	EvictVolatileTTL
)

func (p EvictPolicy) volatile() bool {
	return p == EvictVolatileLRU || p == EvictVolatileRandom || p == EvictVolatileTTL
}

func (p EvictPolicy) random() bool { return p == EvictAllKeysRandom || p == EvictVolatileRandom }

// touch records an access for LRU eviction. Readers sharing a View touch
// values concurrently, hence the atomics; an unchanged second is not
// written again.
func (v *Value) touch(nowMs int64) {
	c := uint32(nowMs / 1000)
	if atomic.LoadUint32(&v.lru) != c {
		atomic.StoreUint32(&v.lru, c)
	}
}

// IdleSeconds returns the seconds since the value was last accessed, by the
// clock reading nowMs. A value not accessed since it was loaded from disk
// reports the time since the Unix epoch, so it is the first LRU candidate.
func (v *Value) IdleSeconds(nowMs int64) int64 {
	idle := nowMs/1000 - int64(atomic.LoadUint32(&v.lru))
	if idle < 0 {
		return 0
	}
	return idle
}

// The estimate of a key's memory (EstimateSize): the map entry, the Value
// and its timer, then each field or member with its container's overhead.
const (
	keyOverhead    = 96
	timerOverhead  = 48
	fieldOverhead  = 48
	memberOverhead = 32
	zsetOverhead   = 80
)

// EstimateSize estimates the bytes that removing key and its value frees.
func EstimateSize(key string, v *Value) int64 {
	n := int64(keyOverhead + len(key) + len(v.str))
	if v.timer != nil {
		n += timerOverhead
	}
	for f, val := range v.hash {
		n += int64(fieldOverhead + len(f) + len(val))
	}
	for m := range v.set {
		n += int64(memberOverhead + len(m))
	}
	if v.zset != nil {
		for m := range v.zset.scores {
			n += int64(zsetOverhead + len(m))
		}
	}
	return n
}

// evictPoolSize is how many candidates an EvictPool keeps (Redis's
// EVPOOL_SIZE).
const evictPoolSize = 16

// evictScanBudget bounds the keys one sampling pass visits in a database
// while looking for keys with a deadline.
const evictScanBudget = 4096

// EvictPool carries eviction candidates and sampling positions from one
// Evict call to the next, as Redis's eviction pool does. The zero value is
// ready. Use it only inside Update, from one caller at a time.
type EvictPool struct {
	cursors map[int]uint64
	cands   []evictCand // sorted by score, best last
}

type evictCand struct {
	db    int
	key   string
	score uint64 // higher is evicted first
}

// add keeps c if it is among the best evictPoolSize candidates.
func (p *EvictPool) add(c evictCand) {
	for i := range p.cands {
		if p.cands[i].db == c.db && p.cands[i].key == c.key {
			p.cands[i].score = c.score
			sort.Slice(p.cands, func(a, b int) bool { return p.cands[a].score < p.cands[b].score })
			return
		}
	}
	if len(p.cands) >= evictPoolSize && c.score <= p.cands[0].score {
		return
	}
	i := sort.Search(len(p.cands), func(i int) bool { return p.cands[i].score >= c.score })
	p.cands = append(p.cands, evictCand{})
	copy(p.cands[i+1:], p.cands[i:])
	p.cands[i] = c
	if len(p.cands) > evictPoolSize {
		p.cands = p.cands[1:]
	}
}

// Evict removes keys of the visible databases chosen by policy until the
// estimated size of what it removed (EstimateSize) reaches want, or no
// candidate is left. samples is how many keys each database offers per round
// (maxmemory-samples). Each removal is an ordinary deletion through the
// commit path (WATCH and the Touched hook see it); evicted is then called
// with its key. A candidate found expired is deleted as expired instead (the
// Expired hook sees it) and counts towards want. Evict returns the keys it
// evicted and the estimated bytes freed.
func (tx *Tx) Evict(p *EvictPool, policy EvictPolicy, samples int, want int64, evicted func(db int, key string)) (n int, freed int64) {
	if !tx.writable {
		panic("storage: Evict in a read-only transaction")
	}
	if samples < 1 {
		samples = 1
	}
	if p.cursors == nil {
		p.cursors = map[int]uint64{}
	}
	for freed < want {
		db, key, v, ok := tx.evictionCandidate(p, policy, samples)
		if !ok {
			break
		}
		freed += EstimateSize(key, v)
		if v.expired(tx.now) {
			tx.expire(db, key, v)
			continue
		}
		tx.remove(db, key, v)
		n++
		if evicted != nil {
			evicted(db, key)
		}
	}
	return n, freed
}

// evictionCandidate samples the databases and returns the best live
// candidate, or false when there is none.
func (tx *Tx) evictionCandidate(p *EvictPool, policy EvictPolicy, samples int) (int, string, *Value, bool) {
	if policy.random() {
		return tx.randomCandidate(p, policy, samples)
	}
	for attempt := 0; attempt < 2; attempt++ {
		for db := range tx.s.dbs {
			tx.sample(p, db, policy, samples, func(key string, v *Value) {
				p.add(evictCand{db: db, key: key, score: tx.evictScore(policy, v)})
			})
		}
		// Best first; candidates deleted or changed since they were
		// sampled are dropped.
		for len(p.cands) > 0 {
			c := p.cands[len(p.cands)-1]
			p.cands = p.cands[:len(p.cands)-1]
			if c.db >= len(tx.s.dbs) {
				continue
			}
			v := tx.s.dbs[c.db].get(c.key)
			if v == nil || (policy.volatile() && v.deadline == 0) {
				continue
			}
			return c.db, c.key, v, true
		}
	}
	return 0, "", nil, false
}

// randomCandidate returns a random eligible key of one of the databases.
func (tx *Tx) randomCandidate(p *EvictPool, policy EvictPolicy, samples int) (int, string, *Value, bool) {
	start := rand.IntN(len(tx.s.dbs))
	for i := range tx.s.dbs {
		db := (start + i) % len(tx.s.dbs)
		var keys []string
		var vals []*Value
		tx.sample(p, db, policy, samples, func(key string, v *Value) {
			keys = append(keys, key)
			vals = append(vals, v)
		})
		if len(keys) > 0 {
			j := rand.IntN(len(keys))
			return db, keys[j], vals[j], true
		}
	}
	return 0, "", nil, false
}

// sample offers fn at least samples eligible keys of db when it has them,
// continuing from where the previous pass over db stopped. Under a volatile
// policy only keys with a deadline are eligible, and at most
// evictScanBudget keys are visited.
func (tx *Tx) sample(p *EvictPool, db int, policy EvictPolicy, samples int, fn func(key string, v *Value)) {
	ks := tx.s.dbs[db]
	if ks.n == 0 || (policy.volatile() && ks.expires == 0) {
		return
	}
	cursor := p.cursors[db]
	found, visited, wrapped := 0, 0, false
	for found < samples && visited < evictScanBudget {
		cursor = ks.scan(cursor, samples-found, func(key string, v *Value) {
			visited++
			if policy.volatile() && v.deadline == 0 {
				return
			}
			found++
			fn(key, v)
		})
		if cursor == 0 {
			if wrapped {
				break
			}
			wrapped = true
		}
	}
	p.cursors[db] = cursor
}

// evictScore orders candidates: the longest idle (LRU) or the nearest
// deadline (TTL) comes first.
func (tx *Tx) evictScore(policy EvictPolicy, v *Value) uint64 {
	if policy == EvictVolatileTTL {
		return math.MaxUint64 - uint64(v.deadline)
	}
	return uint64(v.IdleSeconds(tx.now))
}
