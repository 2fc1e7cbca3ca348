package sessdb

import (
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/sessdb/sessdb/storage"
)

// Tx is a transaction over the keyspace; see storage.Tx for its operations.
type Tx = storage.Tx

// Fsync is the durability policy, named after Redis's appendfsync.
type Fsync int

// The durability policies.
const (
	// FsyncAlways acknowledges a write only after it is fsynced.
	FsyncAlways Fsync = iota
	// FsyncEverySec acknowledges at once and fsyncs in the background, at least once a second.
	FsyncEverySec
)

// ParseFsync parses "always" or "everysec".
func ParseFsync(s string) (Fsync, error) {
	switch s {
	case "always":
		return FsyncAlways, nil
	case "everysec":
		return FsyncEverySec, nil
	}
	return 0, errors.New("appendfsync must be always or everysec")
}

// Options configures Open. Zero values take the defaults.
type Options struct {
	// Databases is the number of logical databases. Default 16.
	Databases int
	// Fsync is the durability policy. Default FsyncAlways.
	Fsync Fsync
	// Now is the clock; tests inject a fake one. Default time.Now.
	Now func() time.Time
	// ReapInterval is how often the reaper looks for expired keys. Default
	// 100ms; negative disables the background reaper (tests call Reap
	// themselves). While more keys are due than one burst deletes (16
	// slices of ReapBatch), the next burst follows after 5 ms instead.
	ReapInterval time.Duration
	// ReapBatch bounds the keys the reaper deletes under one hold of the
	// write lock (a slice); it releases the lock and yields between slices.
	// Default 256.
	ReapBatch int
	// Storage passes tuning options through to the storage layer.
	Storage storage.Options
	// Sessions are the session defaults (see Sessions).
	Sessions SessionOptions
}

// The reaper's pacing while it is behind (say, a million keys expiring in
// the same second): a burst of at most reapSlices slices of ReapBatch keys
// (about 5 ms of work), then reapRest of rest before the next burst, so
// that it takes about half of one core at most and no request waits for
// more than one slice. Redis bounds its active expiry in the same spirit.
const (
	reapSlices = 16
	reapRest   = 5 * time.Millisecond
)

// DB is an open sessdb database.
type DB struct {
	store *storage.Store
	opts  Options
	mu    sync.RWMutex
	fsync Fsync
	stop  chan struct{}
	wg    sync.WaitGroup

	// sessions live in storage.InternalDB(0).
	sessions *Sessions
}

// Open opens the database file at path, creating it if needed, and loads it.
func Open(path string, o *Options) (*DB, error) {
	opts := Options{}
	if o != nil {
		opts = *o
	}
	if opts.ReapInterval == 0 {
		opts.ReapInterval = 100 * time.Millisecond
	}
	if opts.ReapBatch <= 0 {
		opts.ReapBatch = 256
	}
	so := opts.Storage
	if opts.Databases > 0 {
		so.Databases = opts.Databases
	}
	if opts.Now != nil {
		so.Now = opts.Now
	}
	if so.Internal < 1 {
		so.Internal = 1
	}
	st, err := storage.Open(path, &so)
	if err != nil {
		return nil, err
	}
	db := &DB{store: st, opts: opts, fsync: opts.Fsync, stop: make(chan struct{})}
	db.sessions = newSessions(db, opts.Sessions)
	db.SetHooks(storage.Hooks{})
	if err := db.sessions.open(); err != nil {
		_ = db.sessions.close()
		st.Close()
		return nil, err
	}
	st.SetCloseMark(db.sessions.cleanMark)
	if opts.ReapInterval > 0 {
		db.wg.Add(1)
		go db.reaper()
	}
	return db, nil
}

func (db *DB) reaper() {
	defer db.wg.Done()
	t := time.NewTimer(db.opts.ReapInterval)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
		}
		next := db.opts.ReapInterval
		if db.reapDue() {
			next = min(next, reapRest)
		}
		t.Reset(next)
	}
}

// reapDue deletes the keys due now in slices of at most ReapBatch keys, each
// under one short hold of the store's write lock, yielding between slices
// so that requests waiting for the lock or for a CPU go first. It stops
// after reapSlices slices and reports whether due keys are left.
func (db *DB) reapDue() (behind bool) {
	for i := 0; ; i++ {
		_, more, _ := db.store.ReapSome(db.opts.ReapBatch)
		if !more {
			return false
		}
		if i+1 >= reapSlices {
			return true
		}
		select {
		case <-db.stop:
			return false
		default:
		}
		runtime.Gosched()
	}
}

// Reap deletes up to max expired keys now (max <= 0: all) and returns how
// many; tests with a fake clock call it instead of waiting for the reaper.
func (db *DB) Reap(max int) int {
	n, c := db.store.Reap(max)
	_ = c.Wait()
	return n
}

// Store returns the storage layer (for the server's statistics).
func (db *DB) Store() *storage.Store { return db.store }

// SetHooks installs a client's change hooks (the server's WATCH and
// statistics) on top of the DB's own: when a key of an internal database
// expires, the DB first keeps the session index in step, inside the deleting
// transaction. h sees only the visible databases.
func (db *DB) SetHooks(h storage.Hooks) {
	own := h
	own.Expired = func(tx *storage.Tx, d int, key string, v *storage.Value) {
		if d >= storage.InternalBase {
			db.sessions.expiredHook(tx, d, key, v)
			return
		}
		if h.Expired != nil {
			h.Expired(tx, d, key, v)
		}
	}
	own.Touched = func(d int, key string) {
		if d >= storage.InternalBase {
			db.sessions.touched(d, key)
		} else if h.Touched != nil {
			h.Touched(d, key)
		}
	}
	db.store.SetHooks(own)
}

// SetFsync changes the durability policy at run time (CONFIG SET appendfsync).
func (db *DB) SetFsync(f Fsync) {
	db.mu.Lock()
	db.fsync = f
	db.mu.Unlock()
}

// FsyncPolicy returns the current durability policy.
func (db *DB) FsyncPolicy() Fsync {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.fsync
}

// Update runs fn with exclusive access and returns once its changes are
// durable under the current policy.
func (db *DB) Update(fn func(tx *Tx) error) error {
	c, err := db.store.Update(fn)
	if werr := db.Wait(c); werr != nil {
		return werr
	}
	return err
}

// UpdateAsync runs fn like Update but returns the Commit instead of waiting,
// so that a caller with several updates in flight (a pipeline) waits once.
func (db *DB) UpdateAsync(fn func(tx *Tx) error) (*storage.Commit, error) {
	return db.store.Update(fn)
}

// Wait waits for c according to the durability policy: with FsyncEverySec
// it returns at once.
func (db *DB) Wait(c *storage.Commit) error {
	if c == nil || db.FsyncPolicy() == FsyncEverySec {
		return nil
	}
	return c.Wait()
}

// View runs fn with shared read-only access.
func (db *DB) View(fn func(tx *Tx) error) error { return db.store.View(fn) }

// Sync waits until every change made so far is durable.
func (db *DB) Sync() error { return db.store.Sync() }

// Close stops the reaper, commits what is queued and closes the file.
func (db *DB) Close() error {
	select {
	case <-db.stop:
		return nil
	default:
	}
	close(db.stop)
	db.wg.Wait()
	serr := db.sessions.close()
	if err := db.store.Close(); err != nil {
		return err
	}
	return serr
}
