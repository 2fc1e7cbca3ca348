package storage

import (
	"encoding/binary"
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
}

// committer is the single goroutine that writes to bbolt.
type committer struct {
	disk *disk

	mu       sync.Mutex
	pending  []byte
	nPending int
	gen      *Commit
	spare    []byte

	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	seq        uint64 // last log sequence written
	logRecords atomic.Int64

	foldAt    int           // fold while the log holds more records than this
	foldChunk int           // records folded per transaction
	idleFold  time.Duration // fold the whole log after this long without commits

	commits, records, folded atomic.Uint64
	statsMu                  sync.Mutex
	lastErr                  error
	lastSuccess              time.Time
}

func newCommitter(d *disk, seq uint64, logRecords int64, o *Options) *committer {
	c := &committer{
		disk:      d,
		gen:       newCommit(),
		wake:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		seq:       seq,
		foldAt:    o.FoldThreshold,
		foldChunk: o.FoldChunk,
		idleFold:  o.IdleFold,
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
	for {
		select {
		case <-c.wake:
			c.commitPending()
		case <-idle.C:
			c.foldAll()
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

// commitPending writes everything queued in one bbolt transaction (one fsync
// pair), folding a chunk of the log into the same transaction when the log
// has grown past its threshold, and then releases every waiter.
func (c *committer) commitPending() {
	c.mu.Lock()
	buf, n, g := c.pending, c.nPending, c.gen
	c.pending, c.nPending, c.gen = c.spare[:0], 0, newCommit()
	c.mu.Unlock()
	if n == 0 {
		c.spare = buf
		close(g.done)
		return
	}
	var folded int
	err := c.disk.db.Update(func(tx *bolt.Tx) error {
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], c.seq+1)
		lb := tx.Bucket(bucketLog)
		lb.FillPercent = 1.0
		if err := lb.Put(k[:], buf); err != nil {
			return err
		}
		if c.logRecords.Load()+int64(n) > int64(c.foldAt) {
			var err error
			folded, err = c.disk.fold(tx, c.foldChunk)
			return err
		}
		return nil
	})
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
	} else {
		// bbolt rolled back; the dbmap may have been swapped in memory by a
		// fold, so reload it from the file.
		_ = c.disk.reloadDBMap()
	}
	g.err = err
	close(g.done)
	c.spare = buf[:0]
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

func (c *committer) close() {
	close(c.stop)
	<-c.done
}

func (c *committer) stats() CommitStats {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	return CommitStats{
		Commits:     c.commits.Load(),
		Records:     c.records.Load(),
		Folded:      c.folded.Load(),
		LogRecords:  c.logRecords.Load(),
		LastErr:     c.lastErr,
		LastSuccess: c.lastSuccess,
	}
}
