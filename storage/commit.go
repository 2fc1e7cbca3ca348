package storage

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Commit is the durability handle of one Update: Wait returns once the
// update's records are fsynced in bbolt, or with the error that stopped them.
type Commit struct {
	done chan struct{}
	err  error
}

// Wait blocks until the commit is durable. A nil Commit (an update that
// changed nothing) is already durable.
func (c *Commit) Wait() error {
	if c == nil {
		return nil
	}
	<-c.done
	return c.err
}

func newCommit() *Commit { return &Commit{done: make(chan struct{})} }

// CommitStats are counters about the commit path, for INFO and metrics.
type CommitStats struct {
	Commits     uint64 // bbolt transactions that appended to the log
	Records     uint64 // records committed
	Folded      uint64 // records folded from the log into the buckets
	LogRecords  int64  // records in the log not yet folded
	LastErr     error  // the last commit error, nil after a successful commit
	LastSuccess time.Time
	// Failing is the error that stopped the commit path, nil while it is
	// healthy. While it is set, Unwritten records wait in memory and the
	// committer retries them every RetryInterval.
	Failing      error
	FailingSince time.Time
	Unwritten    int    // records that failed to commit and wait for a retry
	Retries      uint64 // failed commit attempts, in total
}

// ErrUnwritten wraps the commit error when Close could not write records
// that failed earlier: those changes were never acknowledged, and are lost.
var ErrUnwritten = errors.New("storage: changes could not be written before close")

// committer is the single goroutine that writes to bbolt.
type committer struct {
	disk *disk

	mu        sync.Mutex
	pending   []byte
	nPending  int
	txPending int // enqueue calls (one per writing command) in pending
	gen       *Commit
	spare     []byte

	// The last commit's transactions and duration, for gather.
	lastTx  int
	lastDur time.Duration

	wake     chan struct{}
	retryNow chan struct{} // RetryNow: retry unwritten records without waiting for the ticker
	stop     chan struct{}
	done     chan struct{}

	seq        uint64 // last log sequence written
	logRecords atomic.Int64

	// After a failed commit its records stay here, ahead of anything queued
	// since, and are retried every retryEvery until a commit succeeds:
	// memory already shows them, so the disk must get them too.
	unwritten  []byte
	nUnwritten int
	unwrittenN atomic.Int64 // nUnwritten, for Stats from other goroutines
	retryEvery time.Duration
	failing    atomic.Pointer[failure]
	retries    atomic.Uint64

	foldAt    int           // fold while the log holds more records than this
	foldChunk int           // records folded per transaction
	idleFold  time.Duration // fold the whole log after this long without commits

	obs                      commitObserver // batch size and commit latency histograms (stats.go)
	commits, records, folded atomic.Uint64
	statsMu                  sync.Mutex
	lastErr                  error
	lastSuccess              time.Time
}

// failure is the error that put the commit path into its failed state.
type failure struct {
	err   error
	since time.Time
}

func newCommitter(d *disk, seq uint64, logRecords int64, o *Options) *committer {
	c := &committer{
		disk:      d,
		gen:       newCommit(),
		wake:      make(chan struct{}, 1),
		retryNow:  make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		seq:       seq,
		foldAt:    o.FoldThreshold,
		foldChunk: o.FoldChunk,
		idleFold:  o.IdleFold,

		retryEvery: o.RetryInterval,
	}
	c.logRecords.Store(logRecords)
	go c.run()
	return c
}

// enqueue appends records to the next group commit. The caller holds the
// store's write lock, so the log order is the order of the changes in memory.
func (c *committer) enqueue(recs []Record) *Commit {
	c.mu.Lock()
	for i := range recs {
		c.pending = AppendRecord(c.pending, &recs[i])
	}
	c.nPending += len(recs)
	c.txPending++
	g := c.gen
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return g
}

func (c *committer) run() {
	defer close(c.done)
	idle := time.NewTimer(c.idleFold)
	defer idle.Stop()
	retry := time.NewTicker(c.retryEvery)
	defer retry.Stop()
	for {
		select {
		case <-c.wake:
			if c.failing.Load() != nil {
				// Do not hammer a failed disk: new records join the
				// unwritten ones and their waiters learn of the failure now.
				c.deferPending()
				continue
			}
			c.gather()
			c.commitPending()
		case <-retry.C:
			if c.failing.Load() == nil {
				continue
			}
			c.commitPending()
		case <-c.retryNow:
			if c.failing.Load() == nil {
				continue
			}
			c.commitPending()
		case <-idle.C:
			if c.failing.Load() == nil {
				c.foldAll()
			}
			idle.Reset(c.idleFold)
			continue
		case <-c.stop:
			c.commitPending()
			return
		}
		if !idle.Stop() {
			select {
			case <-idle.C:
			default:
			}
		}
		idle.Reset(c.idleFold)
	}
}

// maxGather bounds how long gather holds a commit back.
const maxGather = time.Millisecond

// gather holds the next commit back briefly while the writers the last
// commit released are still coming back, so that they share one commit.
//
// Without it, writers split into two groups that alternate: while one
// group's commit is being fsynced the other queues up, the committer takes
// that group the moment the commit ends, and the group just released finds
// a commit already under way and waits for the one after. Each commit then
// carries about half the writers and every write waits for almost two
// commits. (Redis avoids this by accident: it answers every client between
// two fsyncs, and they reply before its next pass.) gather waits until as
// many transactions are queued as the last commit carried, or for half the
// last commit's duration (at most maxGather), whichever comes first; a lone
// writer, or a queue already that large, never waits.
func (c *committer) gather() {
	want := c.lastTx - c.lastTx/8
	if want <= 1 || c.lastDur <= 0 {
		return
	}
	c.mu.Lock()
	have := c.txPending
	c.mu.Unlock()
	if have >= want {
		return
	}
	t := time.NewTimer(min(c.lastDur/2, maxGather))
	defer t.Stop()
	for {
		select {
		case <-c.wake:
			c.mu.Lock()
			have = c.txPending
			c.mu.Unlock()
			if have >= want {
				return
			}
		case <-t.C:
			return
		case <-c.stop:
			return
		}
	}
}

// commitPending writes everything queued in one bbolt transaction (one fsync
// pair), folding a chunk of the log into the same transaction when the log
// has grown past its threshold, and then releases every waiter.
//
// When the transaction fails (disk full, I/O error) nothing of it is on disk
// (bbolt rolled it back), but memory already shows its changes. Its records
// are kept, ahead of anything queued later, and retried until a commit
// succeeds; the waiters get the error at once, so no client is ever told OK
// for them. Once a retry succeeds memory and disk agree again.
func (c *committer) commitPending() {
	c.mu.Lock()
	buf, n, g, ntx := c.pending, c.nPending, c.gen, c.txPending
	c.pending, c.nPending, c.gen, c.txPending = c.spare[:0], 0, newCommit(), 0
	c.mu.Unlock()
	if c.nUnwritten > 0 {
		buf = append(c.unwritten, buf...)
		n += c.nUnwritten
		c.unwritten, c.nUnwritten = nil, 0
		c.unwrittenN.Store(0)
	}
	if n == 0 {
		c.spare = buf
		close(g.done)
		return
	}
	var folded int
	start := time.Now()
	err := c.disk.db.Update(func(tx *bolt.Tx) error {
		if err := putLog(tx, c.seq+1, buf); err != nil {
			return err
		}
		if c.logRecords.Load()+int64(n) > int64(c.foldAt) {
			var err error
			folded, err = c.disk.fold(tx, c.foldChunk)
			return err
		}
		return nil
	})
	c.lastTx, c.lastDur = ntx, time.Since(start)
	c.obs.observe(n, c.lastDur, err)
	c.statsMu.Lock()
	c.lastErr = err
	if err == nil {
		c.lastSuccess = time.Now()
	}
	c.statsMu.Unlock()
	if err == nil {
		c.seq++
		c.commits.Add(1)
		c.records.Add(uint64(n))
		c.folded.Add(uint64(folded))
		c.logRecords.Add(int64(n - folded))
		if c.failing.Swap(nil) != nil {
			c.unwritten = nil // let a large retry buffer go
		}
	} else {
		// bbolt rolled back; the dbmap may have been swapped in memory by a
		// fold, so reload it from the file.
		_ = c.disk.reloadDBMap()
		c.retries.Add(1)
		c.unwritten, c.nUnwritten = buf, n
		c.unwrittenN.Store(int64(n))
		if f := c.failing.Load(); f == nil {
			c.failing.Store(&failure{err: err, since: time.Now()})
		} else {
			c.failing.Store(&failure{err: err, since: f.since})
		}
		c.spare = nil
		g.err = err
		close(g.done)
		return
	}
	g.err = err
	close(g.done)
	// Keep the buffer for the next batch unless a burst made it large: it
	// would stay resident (and counted in RSS) for the life of the process.
	if cap(buf) <= maxSpareCommitBuffer {
		c.spare = buf[:0]
	} else {
		c.spare = nil
	}
}

// maxSpareCommitBuffer is the largest encoded batch the committer keeps for reuse.
const maxSpareCommitBuffer = 4 << 20

// deferPending moves what is queued behind the unwritten records without
// trying the disk, and fails its waiters with the current error.
func (c *committer) deferPending() {
	f := c.failing.Load()
	c.mu.Lock()
	buf, n, g := c.pending, c.nPending, c.gen
	c.pending, c.nPending, c.gen = nil, 0, newCommit()
	c.mu.Unlock()
	c.unwritten = append(c.unwritten, buf...)
	c.nUnwritten += n
	c.unwrittenN.Store(int64(c.nUnwritten))
	g.err = f.err
	close(g.done)
}

// failed returns the error that stopped the commit path, or nil.
func (c *committer) failed() error {
	if f := c.failing.Load(); f != nil {
		return f.err
	}
	return nil
}

// foldAll folds the whole log into the buckets, one chunk per transaction,
// giving way to any commit that arrives meanwhile.
func (c *committer) foldAll() {
	for c.logRecords.Load() > 0 {
		select {
		case <-c.wake:
			c.commitPending()
			return
		case <-c.stop:
			return
		default:
		}
		var folded int
		err := c.disk.db.Update(func(tx *bolt.Tx) error {
			var err error
			folded, err = c.disk.fold(tx, c.foldChunk)
			return err
		})
		if err != nil {
			_ = c.disk.reloadDBMap()
			return
		}
		c.folded.Add(uint64(folded))
		c.logRecords.Add(-int64(folded))
		if folded == 0 {
			c.logRecords.Store(0)
		}
	}
}

// close commits what is queued (retrying unwritten records once more) and
// stops the committer. It returns ErrUnwritten if records are still unwritten.
func (c *committer) close() error {
	close(c.stop)
	<-c.done
	if c.nUnwritten > 0 {
		return fmt.Errorf("%w: %d records: %v", ErrUnwritten, c.nUnwritten, c.failed())
	}
	return nil
}

func (c *committer) stats() CommitStats {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	st := CommitStats{
		Commits:     c.commits.Load(),
		Records:     c.records.Load(),
		Folded:      c.folded.Load(),
		LogRecords:  c.logRecords.Load(),
		LastErr:     c.lastErr,
		LastSuccess: c.lastSuccess,
		Retries:     c.retries.Load(),
	}
	if f := c.failing.Load(); f != nil {
		st.Failing, st.FailingSince = f.err, f.since
		st.Unwritten = int(c.unwrittenN.Load())
	}
	return st
}
