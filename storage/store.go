package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/sessdb/sessdb/expiry"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Options configures a Store. Zero values take the defaults.
type Options struct {
	// Databases is the number of logical databases (SELECT 0..Databases-1). Default 16.
	Databases int
	// Internal is the number of internal databases (InternalDB(0)…), which
	// hold sessdb's own data: SELECT, FLUSHALL and SWAPDB never reach them.
	Internal int
	// Now returns the current time; tests inject a fake clock. Default time.Now.
	Now func() time.Time
	// FoldThreshold is how many records the log may hold before commits
	// start folding it into the buckets. Default 1,000,000.
	FoldThreshold int
	// FoldChunk is how many records one fold transaction takes. Default 20,000.
	FoldChunk int
	// IdleFold folds the whole log after this long without a commit. Default 1s.
	IdleFold time.Duration
	// Timeout is how long Open waits for the file lock. Default 1s.
	Timeout time.Duration
	// NoOpenCheck skips reading every page before bbolt opens the file for
	// writing (preflight, which loads the file as it reads it): the file is
	// loaded after that open instead, and a damaged page makes bbolt panic.
	NoOpenCheck bool
	// RetryInterval is how often the committer retries records that failed
	// to commit (disk full, I/O error) until the disk accepts them. Default 1s.
	RetryInterval time.Duration
}

func (o *Options) withDefaults() Options {
	r := Options{}
	if o != nil {
		r = *o
	}
	if r.Databases <= 0 {
		r.Databases = 16
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.FoldThreshold <= 0 {
		r.FoldThreshold = 1_000_000
	}
	if r.FoldChunk <= 0 {
		r.FoldChunk = 20_000
	}
	if r.IdleFold <= 0 {
		r.IdleFold = time.Second
	}
	if r.Timeout <= 0 {
		r.Timeout = time.Second
	}
	if r.RetryInterval <= 0 {
		r.RetryInterval = time.Second
	}
	return r
}

// Hooks are called by the store, under its write lock, as keys change. The
// server uses them for WATCH and keyspace notifications.
type Hooks struct {
	// Touched is called for every key a transaction modifies, including deletions by expiry.
	Touched func(db int, key string)
	// Expired is called for every key deleted because its deadline passed,
	// inside the deleting transaction: changes it makes through tx (such as
	// keeping an index in step) go to disk in the same commit.
	// v is the value that was deleted.
	Expired func(tx *Tx, db int, key string, v *Value)
	// Flushed is called when a whole database is emptied (db = -1 for all).
	Flushed func(db int)
	// Swapped is called when two databases are swapped.
	Swapped func(a, b int)
}

// Store is the durable in-memory keyspace.
type Store struct {
	opts     Options
	path     string
	mu       sync.RWMutex
	dbs      []*Keyspace // the visible databases, SELECT 0..n-1
	internal []*Keyspace // databases for sessdb's own data, from InternalDB(0)
	wheel    *expiry.Wheel[Key]
	disk     *disk
	com      *committer
	hooks    Hooks

	closeOnce sync.Once
	closed    bool

	closeMark func() []byte // clean.go: what Close stores as the clean-shutdown mark
	cleanMark []byte        // the valid mark Open found
	dropped   []Dropped     // internal keys Open found expired (settle)
}

// Open opens (or creates) the database file at path and loads it into memory.
//
// An existing file is checked and loaded through a read-only handle first
// (preflight): loading reads every page, which is the check that must come
// before bbolt opens the file for writing. While bbolt then opens it for
// writing (rebuilding its free list walks every page again), the loaded
// keyspace is settled in parallel: expired keys dropped, timers armed.
func Open(path string, o *Options) (*Store, error) {
	opts := o.withDefaults()
	// Loading allocates millions of small objects that all stay live: a
	// collection every time the heap doubles would only rescan them.
	defer debug.SetGCPercent(debug.SetGCPercent(800))
	s := &Store{opts: opts, path: path}
	s.resetKeyspaces()
	var (
		loaded bool
		pre    preloaded
	)
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		if loaded, pre, err = s.preflight(path); err != nil {
			return nil, err
		}
	}
	defer pre.heap.done() // after the load and settle (prefault.go)
	seq, logRecords := pre.seq, pre.logRecords
	if testHookPreloaded != nil {
		testHookPreloaded()
	}
	var settled chan []Record
	if loaded {
		settled = make(chan []Record, 1)
		go func() { settled <- s.settle() }()
	}
	bdb, err := openBolt(path, &bolt.Options{
		Timeout:         opts.Timeout,
		FreelistType:    bolt.FreelistMapType,
		NoFreelistSync:  true,
		InitialMmapSize: 64 << 20,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		err = fmt.Errorf("%s: %w", path, ErrLocked)
	} else if err != nil {
		err = fmt.Errorf("open %s: %w", path, err)
	}
	if err != nil {
		if settled != nil {
			<-settled
		}
		return nil, err
	}
	s.disk = &disk{db: bdb}
	// Before initialise's write, which voids the mark (clean.go).
	s.cleanMark = readCleanMark(bdb)
	if loaded && changedSince(bdb, pre.txid) {
		// Another process wrote the file between the read-only load and
		// this open (which holds the lock from now on): load it again.
		<-settled
		settled, loaded = nil, false
		s.resetKeyspaces()
	}
	if err := s.disk.initialise(opts.Databases, opts.Internal); err != nil {
		if settled != nil {
			<-settled
		}
		bdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var gone []Record
	if loaded {
		// Opening for writing read every page to rebuild the free list:
		// give them back (see releaseMapped). Nothing can remap the file
		// before the committer starts.
		s.disk.releaseMapped()
		gone = <-settled
	} else {
		err := bdb.View(func(tx *bolt.Tx) error {
			var err error
			seq, logRecords, err = s.loadAll(tx) // load.go
			return err
		})
		if err != nil {
			bdb.Close()
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		// Open runs before the committer starts: nothing can remap the file.
		s.disk.releaseMapped()
		gone = s.settle()
	}
	if len(gone) > 0 {
		// The keys that expired while the store was closed are deleted
		// through the log, after everything already in it: applied to the
		// buckets directly, a key's unfolded records would bring it back
		// at the next fold, and a SWAPDB still in the log would make the
		// deletion hit the other database (TestReview_ExpiredAtOpen*).
		var buf []byte
		for i := range gone {
			buf = AppendRecord(buf, &gone[i])
		}
		err := bdb.Update(func(tx *bolt.Tx) error { return putLog(tx, seq+1, buf) })
		if err != nil {
			bdb.Close()
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		seq++
		logRecords += int64(len(gone))
	}
	s.com = newCommitter(s.disk, seq, logRecords, &opts)
	return s, nil
}

// testHookPreloaded runs between the read-only load and the writable open.
var testHookPreloaded func()

// resetKeyspaces makes every database empty, with a new timer wheel.
func (s *Store) resetKeyspaces() {
	s.dbs = make([]*Keyspace, s.opts.Databases)
	for i := range s.dbs {
		s.dbs[i] = newKeyspace()
	}
	s.internal = make([]*Keyspace, s.opts.Internal)
	for i := range s.internal {
		s.internal[i] = newKeyspace()
	}
	s.wheel = expiry.New[Key](s.nowMs())
	s.dropped = nil
}

// changedSince reports whether db's last committed transaction is not txid.
func changedSince(db *bolt.DB, txid int) bool {
	changed := true
	_ = db.View(func(tx *bolt.Tx) error {
		changed = tx.ID() != txid
		return nil
	})
	return changed
}

// checkBoltHeader refuses a file that is not a bbolt database with a clear
// error instead of letting bbolt report something obscure.
func checkBoltHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var hdr [32]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return fmt.Errorf("%s: %w: file too short (%v)", path, ErrForeignFile, err)
	}
	// bbolt's meta page: 16-byte page header, then magic 0xED0CDAED.
	if binary.LittleEndian.Uint32(hdr[16:20]) != 0xED0CDAED {
		return fmt.Errorf("%s: %w: not a bbolt file", path, ErrForeignFile)
	}
	return nil
}

// preloaded is what preflight's load found: the log's last sequence and
// number of records, and the bbolt transaction it read.
type preloaded struct {
	seq        uint64
	logRecords int64
	txid       int
	heap       prefaulted // prefault.go
}

// preflight checks an existing file before bbolt opens it for writing,
// which would rebuild the free list by walking every page and panic, in a
// goroutine nobody can recover, on a damaged one: the file must be a bbolt
// file, not truncated, of a format version this build reads, and every page
// must read. A read-only open does not build the free list.
//
// A file of the current format is loaded into memory here, through the
// read-only handle: the load reads every page of the buckets it loads (a
// damaged one is recovered into ErrCorrupt), and checkPages walks the rest,
// so the file is read once instead of twice. It reports whether it loaded.
// A file of an older format is only checked: it is migrated before it is
// loaded.
func (s *Store) preflight(path string) (loaded bool, pre preloaded, err error) {
	if err := checkBoltHeader(path); err != nil {
		return false, pre, err
	}
	db, err := openBolt(path, &bolt.Options{ReadOnly: true, Timeout: s.opts.Timeout, MmapFlags: loadMmapFlags})
	if errors.Is(err, berrors.ErrTimeout) {
		return false, pre, fmt.Errorf("%s: %w", path, ErrLocked)
	}
	if err != nil {
		return false, pre, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	if err := checkNotTruncated(db, path); err != nil {
		return false, pre, err
	}
	if err := checkFormatVersion(db, path); err != nil {
		return false, pre, err
	}
	if s.opts.NoOpenCheck {
		return false, pre, nil
	}
	current := false
	d := &disk{db: db, internal: s.opts.Internal}
	err = db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil || !bytes.Equal(meta.Get(keyFormat), formatTag) {
			return nil
		}
		dbmap, err := readDBMap(meta)
		if err != nil || len(dbmap) > s.opts.Databases {
			return nil // initialise reports it
		}
		for i := len(dbmap); i < s.opts.Databases; i++ {
			dbmap = append(dbmap, i)
		}
		d.dbmap = dbmap
		current = true
		return nil
	})
	if err != nil || !current {
		if err == nil {
			err = checkPages(db, path)
		}
		return false, pre, err
	}
	s.disk = d
	defer func() { s.disk = nil }()
	if fi, err := os.Stat(path); err == nil {
		pre.heap = prefaultHeap(loadHint(db, fi.Size())) // prefault.go
	}
	err = db.View(func(tx *bolt.Tx) error {
		var err error
		pre.txid = tx.ID()
		if pre.seq, pre.logRecords, err = s.loadAll(tx); err != nil { // load.go
			return err
		}
		loaded := map[string]bool{string(bucketLog): true}
		for _, db := range s.allDBs() {
			id := db
			if db < InternalBase {
				id = d.dbmap[db]
			}
			loaded[string(keysBucket(id))] = true
			loaded[string(fieldsBucket(id))] = true
		}
		return walkPages(tx, func(name []byte) bool { return !loaded[string(name)] })
	})
	if err != nil {
		pre.heap.done()
		return false, pre, fmt.Errorf("load %s: %w", path, err)
	}
	return true, pre, nil
}

// openBolt is bolt.Open, with a panic on a damaged page (bbolt panics
// while it scans the pages for its free list) returned as an error.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: damaged page: %v", ErrCorrupt, r)
		}
	}()
	return bolt.Open(path, 0o600, o)
}

// checkPages reads every page reachable from the root, in this goroutine,
// so that a damaged one becomes an error naming the file (tx.Check cannot
// help: it starts bbolt's unrecoverable walk itself).
func checkPages(db *bolt.DB, path string) error {
	err := db.View(func(tx *bolt.Tx) error {
		return walkPages(tx, func([]byte) bool { return true })
	})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// walkPages reads every page of the top-level buckets that want names,
// returning a damaged one (bbolt panics on it) as ErrCorrupt.
func walkPages(tx *bolt.Tx, want func(name []byte) bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: damaged page: %v", ErrCorrupt, r)
		}
	}()
	var walk func(b *bolt.Bucket) error
	walk = func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				if nb := b.Bucket(k); nb != nil {
					return walk(nb)
				}
			}
			return nil
		})
	}
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		if !want(name) {
			return nil
		}
		return walk(b)
	})
}

// ErrFormatVersion is returned for a sessdb file of another format version
// (written by a newer sessdb): this build cannot read it and will not touch it.
var ErrFormatVersion = errors.New("storage: written by another version of sessdb")

// checkFormatVersion refuses a sessdb file of another format version before
// anything is written to it.
func checkFormatVersion(db *bolt.DB, path string) error {
	return db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return nil
		}
		f := meta.Get(keyFormat)
		if bytes.HasPrefix(f, []byte("sessdb/")) && !bytes.Equal(f, formatTag) &&
			!bytes.Equal(f, formatV1) && !bytes.Equal(f, formatMigrating) {
			return fmt.Errorf("%s: %w: its format is %q and this build reads %q; upgrade sessdb or restore a backup", path, ErrFormatVersion, f, formatTag)
		}
		return nil
	})
}

// checkNotTruncated refuses a file shorter than the pages its meta page
// says it holds (a truncated copy, a full disk during a copy): reading those
// pages through the mapping would crash the process with SIGBUS.
func checkNotTruncated(db *bolt.DB, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return db.View(func(tx *bolt.Tx) error {
		if need := tx.Size(); fi.Size() < need {
			return fmt.Errorf("%s: %w: the file is truncated: %d bytes, but its pages reach %d bytes", path, ErrCorrupt, fi.Size(), need)
		}
		return nil
	})
}

// settle drops the keys that expired while the server was down, and empty
// hashes and sets, from the loaded keyspace and arms the timer wheel for the
// rest. It returns the deletions to record on disk. It touches only memory.
func (s *Store) settle() []Record {
	now := s.nowMs()
	var gone []Record
	for _, db := range s.allDBs() {
		ks := s.keyspace(db)
		var dead []string
		ks.forEach(func(k string, v *Value) bool {
			v.compactSet() // the load builds sets as maps (set.go)
			if v.kind != KindString && v.Len() == 0 {
				dead = append(dead, k)
			} else if v.deadline != 0 {
				if v.deadline <= now {
					dead = append(dead, k)
					if db >= InternalBase {
						s.dropped = append(s.dropped, Dropped{db, k, v})
					}
				} else {
					v.timer = s.wheel.Add(Key{db, k}, v.deadline)
					ks.expires++
				}
			}
			return true
		})
		for _, k := range dead {
			ks.remove(k)
			gone = append(gone, Record{Op: OpDel, DB: db, Key: k})
		}
	}
	return gone
}

// applyToMemory applies a record to the in-memory keyspace without recording
// it again: used to replay the log (and, later, by replication).
func (s *Store) applyToMemory(r *Record) error {
	if !s.validDB(r.DB) || (r.Op == OpSwapDB && (r.DB >= len(s.dbs) || r.DB2 < 0 || r.DB2 >= len(s.dbs))) {
		return ErrDBIndex
	}
	ks := s.keyspace(r.DB)
	switch r.Op {
	case OpSet:
		ks.put(r.Key, &Value{kind: KindString, str: r.Value, deadline: r.Deadline})
	case OpDel:
		ks.remove(r.Key)
	case OpExpire:
		if v := ks.get(r.Key); v != nil {
			v.deadline = r.Deadline
		}
	case OpHSet:
		v := ks.get(r.Key)
		if v == nil || v.kind != KindHash {
			v = newHash()
			ks.put(r.Key, v)
		}
		v.hset(r.Field, r.Value)
	case OpSAdd:
		v := ks.get(r.Key)
		if v == nil || v.kind != KindSet {
			v = &Value{kind: KindSet, set: make(map[string]struct{})}
			ks.put(r.Key, v)
		}
		v.sadd(r.Field)
	case OpHDel:
		if v := ks.get(r.Key); v != nil && v.kind == KindHash {
			v.hdel(r.Field)
		}
	case OpSRem:
		if v := ks.get(r.Key); v != nil && v.kind == KindSet {
			v.srem(r.Field)
		}
	case OpZAdd:
		score, err := decodeScore(r.Value)
		if err != nil {
			return err
		}
		v := ks.get(r.Key)
		if v == nil || v.kind != KindZSet {
			v = &Value{kind: KindZSet, zset: newZSet()}
			ks.put(r.Key, v)
		}
		v.zset.set(r.Field, score)
	case OpZRem:
		if v := ks.get(r.Key); v != nil && v.kind == KindZSet {
			v.zset.remove(r.Field)
		}
	case OpFlushDB:
		s.setKeyspace(r.DB, newKeyspace())
	case OpFlushAll:
		for i := range s.dbs {
			s.dbs[i] = newKeyspace()
		}
	case OpSwapDB:
		s.dbs[r.DB], s.dbs[r.DB2] = s.dbs[r.DB2], s.dbs[r.DB]
	default:
		return fmt.Errorf("%w: op %d", ErrCorrupt, r.Op)
	}
	return nil
}

func (s *Store) nowMs() int64 { return s.opts.Now().UnixMilli() }

// InternalBase is the index of the first internal database.
const InternalBase = 1 << 20

// InternalDB returns the index of internal database i.
func InternalDB(i int) int { return InternalBase + i }

func (s *Store) keyspace(db int) *Keyspace {
	if db >= InternalBase {
		return s.internal[db-InternalBase]
	}
	return s.dbs[db]
}

func (s *Store) setKeyspace(db int, ks *Keyspace) {
	if db >= InternalBase {
		s.internal[db-InternalBase] = ks
	} else {
		s.dbs[db] = ks
	}
}

func (s *Store) validDB(db int) bool {
	return (db >= 0 && db < len(s.dbs)) || (db >= InternalBase && db-InternalBase < len(s.internal))
}

// allDBs lists every database index, visible and internal.
func (s *Store) allDBs() []int {
	out := make([]int, 0, len(s.dbs)+len(s.internal))
	for i := range s.dbs {
		out = append(out, i)
	}
	for i := range s.internal {
		out = append(out, InternalDB(i))
	}
	return out
}

// Databases returns the number of logical databases.
func (s *Store) Databases() int { return len(s.dbs) }

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// SetHooks installs the change hooks. Call it before serving.
func (s *Store) SetHooks(h Hooks) {
	s.mu.Lock()
	s.hooks = h
	s.mu.Unlock()
}

// Update runs fn with exclusive access to the keyspace. Every change fn makes
// is visible at once and queued for the disk in one group; the returned
// Commit says when it is durable. fn's error is returned as is, but changes
// made before it are kept (as in a Redis transaction).
func (s *Store) Update(fn func(tx *Tx) error) (*Commit, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	tx := Tx{s: s, writable: true, now: s.nowMs()}
	err := fn(&tx)
	var c *Commit
	if len(tx.recs) > 0 {
		c = s.com.enqueue(tx.recs)
	}
	s.mu.Unlock()
	return c, err
}

// View runs fn with shared, read-only access to the keyspace.
func (s *Store) View(fn func(tx *Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	tx := Tx{s: s, now: s.nowMs()}
	return fn(&tx)
}

// Reap deletes up to max keys whose deadline has passed (max <= 0: all of
// them), through the commit path, and returns how many it deleted. It is
// ReapSome without the report of what is left.
func (s *Store) Reap(max int) (int, *Commit) {
	n, _, c := s.ReapSome(max)
	return n, c
}

// ExpiryBacklog is Store.ExpiryBacklog for a caller inside View or Update,
// which already holds the lock: taking it again could deadlock behind a
// waiting writer.
func (tx *Tx) ExpiryBacklog() int { return tx.s.wheel.Len() }

// ExpiryBacklog returns how many keys have a deadline and are still in
// memory. It takes the store's lock: inside View or Update use Tx.ExpiryBacklog.
func (s *Store) ExpiryBacklog() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.wheel.Len()
}

// Stats returns the commit path's counters.
func (s *Store) Stats() CommitStats { return s.com.stats() }

// Failing returns the error that keeps changes from reaching the disk (disk
// full, I/O error), or nil while commits succeed. While it is set, changes
// already made wait in memory and are retried every RetryInterval; the
// server refuses new writes until a retry succeeds.
func (s *Store) Failing() error { return s.com.failed() }

// Sync waits until everything queued so far is durable.
func (s *Store) Sync() error {
	s.mu.Lock()
	c := s.com.enqueue(nil)
	s.mu.Unlock()
	return c.Wait()
}

// RetryNow asks the committer to retry the records a failed commit left
// unwritten at once instead of at the next RetryInterval tick (an operator
// who has just freed space, or a test). It does nothing when no commit failed.
func (s *Store) RetryNow() {
	select {
	case s.com.retryNow <- struct{}{}:
	default:
	}
}

// Close commits what is queued, stops the committer and closes the file.
// If records that failed to commit still cannot be written, it returns
// ErrUnwritten (those changes were never acknowledged).
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		cerr := s.com.close()
		if cerr == nil {
			var m []byte
			if s.closeMark != nil {
				m = s.closeMark()
			}
			// Failing, it leaves the file as the last commit did: the
			// next Open only runs the slow path (clean.go).
			_ = s.disk.closeClean(m, s.loadEstimate()) // prefault.go
		}
		err = s.disk.db.Close()
		if cerr != nil {
			err = cerr
		}
	})
	return err
}
