package storage

import "sync"

// reapRecords recycles the record slices of reaping transactions: a reaper
// working off a million expired keys would otherwise allocate (and leave to
// the garbage collector) a fresh slice of records for every slice of keys.
// The records are encoded into the commit queue before the lock is
// released, so the slice is free again as soon as Reap returns.
var reapRecords = sync.Pool{New: func() any { return new([]Record) }}

// ReapSome deletes up to max keys whose deadline has passed (max <= 0: all
// of them) under one hold of the write lock, through the commit path. It
// returns how many it deleted, whether due keys are left (expired keys not
// yet deleted, or timer-wheel work that a bounded call left for the next),
// and the commit of the deletions.
//
// With max > 0 the work under the lock is bounded by max: the timer wheel
// fires at most max timers and moves at most max between its slots. A
// reaper calls it in a loop, releasing the lock in between, so that readers
// never wait for more than one slice however many keys expire together.
func (s *Store) ReapSome(max int) (n int, more bool, c *Commit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, false, nil
	}
	buf := reapRecords.Get().(*[]Record)
	tx := Tx{s: s, writable: true, now: s.nowMs(), recs: (*buf)[:0]}
	n = tx.reap(max)
	if len(tx.recs) > 0 {
		c = s.com.enqueue(tx.recs)
	}
	more = s.wheel.Pending()
	clear(tx.recs) // let the deleted keys go
	*buf = tx.recs[:0]
	reapRecords.Put(buf)
	return n, more, c
}
