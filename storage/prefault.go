package storage

import (
	"encoding/binary"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Faulting the heap in ahead of the load. A fresh process gets its heap
// from the kernel a page at a time, on first touch, and on a virtual
// machine each such fault is slow: here a gigabyte of new memory took 4 s
// to touch from one thread, 2 s from two, and 1.3 s from two with
// transparent huge pages (madvise mode). Loading a million sessions makes
// about 0.8 GB of heap, nearly all of it from the goroutine that decodes
// the file, which therefore spent more time in page faults than in the
// load itself. So Open first makes the heap as large as the previous
// process's keyspace (the load hint a clean Close leaves), touching it from
// every CPU with huge pages advised, and gives it back to the allocator
// (one collection of a nearly empty heap): the load then allocates from
// memory already resident. The advice is withdrawn after the load, so that
// the kernel does not later rebuild huge pages out of memory the runtime
// has returned.

// keyLoadHint is the meta key of the load hint: uvarint bytes.
var keyLoadHint = []byte("loadhint")

// minPrefault is the smallest hint worth faulting in ahead.
const minPrefault = 64 << 20

// loadHint returns the bytes of heap the keyspace took when the file was
// last closed cleanly, or 0. It is a hint: it may be stale, and it is
// capped at twice the file's size.
func loadHint(db *bolt.DB, fileSize int64) int64 {
	var n int64
	_ = db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bucketMeta); meta != nil {
			if v, k := binary.Uvarint(meta.Get(keyLoadHint)); k > 0 && v < 1<<50 {
				n = int64(v)
			}
		}
		return nil
	})
	return min(n, 2*fileSize)
}

// loadEstimate is the load hint a Close leaves: the keyspace's estimated
// size (EstimateSize, which undercounts a session by about a seventh), not
// the process's live heap, which after a fill holds much besides the
// keyspace: memory faulted in ahead and not used by the load stays
// resident until the next collection returns it.
func (s *Store) loadEstimate() uint64 {
	var n uint64
	for _, db := range s.allDBs() {
		s.keyspace(db).forEach(func(k string, v *Value) bool {
			n += uint64(EstimateSize(k, v))
			return true
		})
	}
	return n
}

// prefaulted is heap memory faulted in ahead of a load, with huge pages
// advised on it, and the collector's settings to restore, until done.
type prefaulted struct {
	addr, size uintptr
	percent    int
	limit      int64
}

// prefaultHeap grows the heap by n bytes, faulting them in from every CPU,
// and frees them for the allocator to reuse (see above).
func prefaultHeap(n int64) prefaulted {
	if n < minPrefault || int64(int(n)) != n {
		return prefaulted{}
	}
	// The runtime returns free memory to the kernel as the heap grows past
	// the collector's goal, which after the collection below is tiny: the
	// load would fault it in again. So no collection (and no returning)
	// until the load is done, but at a soft limit of twice the hint.
	p := prefaulted{percent: debug.SetGCPercent(-1)}
	p.limit = debug.SetMemoryLimit(min(math.MaxInt64, 2*n+GCMinHeadroom))
	if p.limit < 2*n+GCMinHeadroom {
		debug.SetMemoryLimit(p.limit) // the embedder's lower limit wins
	}
	b := make([]byte, n)
	p.addr, p.size = sliceAddr(b), uintptr(len(b))
	adviseHuge(p, true) // load_linux.go
	page := os.Getpagesize()
	workers := runtime.GOMAXPROCS(0)
	chunk := (len(b)/workers + page - 1) &^ (page - 1)
	var wg sync.WaitGroup
	for i := 0; i < len(b); i += chunk {
		part := b[i:min(len(b), i+chunk)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < len(part); j += page {
				part[j] = 0 // a write: a read would map the shared zero page
			}
		}()
	}
	wg.Wait()
	b = nil
	runtime.GC() // frees the block: its pages stay resident for the load
	return p
}

// done withdraws the huge-page advice and restores the collector's settings.
func (p prefaulted) done() {
	if p.size > 0 {
		adviseHuge(p, false)
		debug.SetGCPercent(p.percent)
		debug.SetMemoryLimit(p.limit)
	}
}
