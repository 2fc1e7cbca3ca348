package server

import (
	"os"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/storage"
)

// maxmemory. Before every command the dispatcher calls checkMemory, as
// Redis's processCommand does: when the used memory (a MemoryGauge) is above
// maxmemory, an evicting policy removes keys of the visible databases until
// the estimate of what it removed covers the excess; with noeviction, or
// when nothing is left to evict, commands flagged denyoom get the OOM error
// and every other command (reads, deletions, SESS.GET, SESS.REVOKE) runs.
//
// Sessions are never evicted, under any policy: they live in an internal
// database that eviction does not sample. Evicting one would log a user out
// silently, and every session already has deadlines. When only sessions
// are left, SESS.CREATE and SESS.SET get the OOM error instead.
//
// The default gauge is the heap the last garbage collection found live
// (runtime/metrics /gc/heap/live:bytes; before the first collection, all
// heap objects), read at most every memorySampleEvery. Memory freed by an eviction becomes visible only after
// the next collection, so the server remembers what it evicted since the
// gauge last changed and counts it as already freed, and evicts at most an
// eighth of maxmemory per reading: the live heap also holds memory eviction
// cannot free (the commit queue, a log fold in progress), and one high
// reading must not empty the keyspace.

// MemoryGauge reports the memory that maxmemory is compared with.
type MemoryGauge interface {
	// UsedMemory returns the bytes in use.
	UsedMemory() int64
}

// evictStepDivisor bounds what one gauge reading can evict: max/8.
const evictStepDivisor = 8

// memorySampleEvery is how often the heap gauge reads runtime/metrics.
const memorySampleEvery = 10 * time.Millisecond

// heapGauge is the default MemoryGauge.
type heapGauge struct {
	mu     sync.Mutex
	sample [2]rtmetrics.Sample
	at     atomic.Int64 // unix ns of the last reading
	used   atomic.Int64
}

func newHeapGauge() *heapGauge {
	g := &heapGauge{}
	g.sample[0].Name = "/gc/heap/live:bytes"
	g.sample[1].Name = "/memory/classes/heap/objects:bytes"
	g.read(time.Now().UnixNano())
	return g
}

// UsedMemory returns the live heap, read at most every memorySampleEvery.
func (g *heapGauge) UsedMemory() int64 {
	if now := time.Now().UnixNano(); now-g.at.Load() >= int64(memorySampleEvery) && g.mu.TryLock() {
		g.read(now)
		g.mu.Unlock()
	}
	return g.used.Load()
}

func (g *heapGauge) read(now int64) {
	rtmetrics.Read(g.sample[:])
	for _, s := range g.sample {
		// Before the first collection the live heap reads 0: the heap's
		// objects, garbage included, stand in for it.
		if s.Value.Kind() == rtmetrics.KindUint64 && s.Value.Uint64() > 0 {
			g.used.Store(int64(s.Value.Uint64()))
			break
		}
	}
	g.at.Store(now)
}

var _ MemoryGauge = (*heapGauge)(nil)

// memoryState is maxmemory's state: the configuration copied into atomics
// (read by every command), the gauge and the eviction pool.
type memoryState struct {
	max     atomic.Int64
	policy  atomic.Uint32 // a storage.EvictPolicy; 0 is noeviction
	samples atomic.Int64
	gauge   atomic.Pointer[MemoryGauge]

	evicted atomic.Int64 // evicted_keys

	mu       sync.Mutex // one eviction at a time; guards the fields below
	pool     storage.EvictPool
	lastUsed int64 // the gauge's reading that pending refers to
	pending  int64 // estimated bytes evicted since the gauge last changed
}

// evictPolicies maps maxmemory-policy to what storage evicts. The LFU
// policies have no frequency counter here and evict by recency, like their
// LRU counterparts.
var evictPolicies = map[string]storage.EvictPolicy{
	"allkeys-lru":     storage.EvictAllKeysLRU,
	"allkeys-lfu":     storage.EvictAllKeysLRU,
	"volatile-lru":    storage.EvictVolatileLRU,
	"volatile-lfu":    storage.EvictVolatileLRU,
	"allkeys-random":  storage.EvictAllKeysRandom,
	"volatile-random": storage.EvictVolatileRandom,
	"volatile-ttl":    storage.EvictVolatileTTL,
}

// initLimits sets up maxmemory and the client limits, and follows CONFIG SET.
func (s *Server) initLimits() {
	var g MemoryGauge = newHeapGauge()
	s.mem.gauge.Store(&g)
	s.ps.limits.now = time.Now
	s.ps.limits.logf = s.logger.Printf
	s.loadLimits()
	s.cfg.OnChange(func(name string) {
		switch name {
		case "maxmemory", "maxmemory-policy", "maxmemory-samples", "client-output-buffer-limit":
			s.loadLimits()
		case "timeout":
			s.wakeIdle()
		}
	})
}

func (s *Server) loadLimits() {
	s.mem.max.Store(s.cfg.MaxMemory())
	s.mem.policy.Store(uint32(evictPolicies[s.cfg.MaxMemoryPolicy()]))
	s.mem.samples.Store(int64(s.cfg.MaxMemorySamples()))
	s.ps.limits.load(s.cfg.OutputBufferLimit("pubsub"))
}

// SetMemoryGauge replaces the gauge maxmemory reads (tests inject one).
func (s *Server) SetMemoryGauge(g MemoryGauge) { s.mem.gauge.Store(&g) }

// usedMemory returns the gauge's reading.
func (s *Server) usedMemory() int64 { return (*s.mem.gauge.Load()).UsedMemory() }

// EvictedKeys returns how many keys maxmemory evicted (INFO evicted_keys).
func (s *Server) EvictedKeys() int64 { return s.mem.evicted.Load() }

// memoryOverLimit reports whether memory is above maxmemory, without
// evicting: scripts ask it while they hold the keyspace.
func (s *Server) memoryOverLimit() bool {
	max := s.mem.max.Load()
	return max > 0 && s.usedMemory() > max
}

// checkMemory evicts when memory is over maxmemory, and returns Redis's OOM
// error when cmd is flagged denyoom and memory is still over, or "".
func (s *Server) checkMemory(cmd *command) string {
	if !s.overMemory() || !hasFlag(cmd, "denyoom") {
		return ""
	}
	return errOOM
}

// overMemory reports whether memory is above maxmemory after evicting what
// the policy allows.
func (s *Server) overMemory() bool {
	max := s.mem.max.Load()
	if max <= 0 {
		return false
	}
	used := s.usedMemory()
	if used <= max {
		return false
	}
	policy := storage.EvictPolicy(s.mem.policy.Load())
	if policy == 0 {
		return true
	}
	return !s.evict(policy, max)
}

// evict removes keys until the estimate of what was evicted since the gauge
// last changed covers the excess over max; it reports whether it does.
func (s *Server) evict(policy storage.EvictPolicy, max int64) bool {
	m := &s.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	// Read the gauge under the lock: a reading taken before it may be older
	// than the one the previous eviction used, and would undo its pending.
	used := s.usedMemory()
	if used != m.lastUsed {
		m.lastUsed, m.pending = used, 0
	}
	// At most max/evictStepDivisor per reading: the live heap also holds
	// memory that eviction cannot free (the commit queue, a log fold in
	// progress), so one high reading must not empty the keyspace; the next
	// collection's reading decides whether more must go.
	want := min(used-max, max/evictStepDivisor) - m.pending
	if want <= 0 {
		return true
	}
	var freed int64
	commit, err := s.db.UpdateAsync(func(tx *storage.Tx) error {
		_, freed = tx.Evict(&m.pool, policy, int(m.samples.Load()), want, func(db int, key string) {
			m.evicted.Add(1)
			s.notify(config.EventEvicted, "evicted", db, key)
		})
		return nil
	})
	s.flushNotes()
	if err != nil {
		return false
	}
	// The command after the eviction finds its deletions durable.
	if err := s.db.Wait(commit); err != nil {
		return false
	}
	m.pending += freed
	return freed >= want
}

// execDeniedOOM reports whether EXEC must be refused for memory: a queued
// command is flagged denyoom and memory is over maxmemory (Redis checks the
// transaction's flags when EXEC arrives).
func (c *Client) execDeniedOOM() bool {
	for _, q := range c.queue {
		if hasFlag(q.cmd, "denyoom") {
			return c.srv.overMemory()
		}
	}
	return false
}

// rssBytes returns the resident set size from /proc/self/statm, or fallback.
func rssBytes(fallback uint64) uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return fallback
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return fallback
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return fallback
	}
	return pages * uint64(os.Getpagesize())
}
