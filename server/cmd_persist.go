package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessdb/sessdb/storage"
)

// SAVE, BGSAVE and LASTSAVE write a backup: a consistent copy of the
// database file, next to it, named <dbfilename>.bak (BackupSuffix). The
// database file itself is always current (every write is committed to it),
// so unlike Redis's dump.rdb the copy is not what a restart loads: it is a
// point-in-time copy to keep or ship elsewhere. Start a server from it by
// copying it to <dbfilename> (see the README's "Backups").

// BackupSuffix is appended to the database file's path to name the backup
// that SAVE and BGSAVE write.
const BackupSuffix = ".bak"

func init() {
	adm := []string{"admin", "noscript", "no_async_loading"}
	register(
		&command{name: "save", arity: 1, flags: append(adm, "no_multi"), noMulti: true, group: "server", summary: "Synchronously saves the database(s) to disk.", since: "1.0.0", run: cmdSave},
		&command{name: "bgsave", arity: -1, flags: adm, group: "server", summary: "Asynchronously saves the database(s) to disk.", since: "1.0.0", run: cmdBgsave},
		&command{name: "shutdown", arity: -1, flags: []string{"admin", "noscript", "loading", "stale", "no_multi", "allow_busy"}, noMulti: true, group: "server", summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.", since: "1.0.0", run: cmdShutdown},
		&command{name: "lastsave", arity: 1, flags: []string{"loading", "stale", "fast"}, group: "server", summary: "Returns the Unix timestamp of the last successful save to disk.", since: "1.0.0", run: cmdLastsave},
	)
}

// persistState is the server's side of backups and disk errors.
type persistState struct {
	mu       sync.Mutex
	saving   bool          // a SAVE or BGSAVE is writing
	finished chan struct{} // closed when the running save ends

	lastSave      atomic.Int64  // unix seconds of the last successful save; 0: the start time
	lastOK        atomic.Bool   // the last save succeeded (or there was none)
	lastFailed    atomic.Bool   // the last save failed
	saves         atomic.Int64  // saves attempted
	recordsAtSave atomic.Uint64 // committed records when the last successful save began
	lastDuration  atomic.Int64  // seconds the last save took; -1: none yet
	started       atomic.Int64  // unix seconds the running save began

	lastFailLog atomic.Int64 // unix ms of the last logged commit failure
}

// BackupPath returns where SAVE and BGSAVE write: the database file's path plus BackupSuffix.
func (s *Server) BackupPath() string { return s.db.Store().Path() + BackupSuffix }

// beginSave claims the single save slot, or reports that one is running.
func (s *Server) beginSave() bool {
	p := &s.persist
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.saving {
		return false
	}
	p.saving = true
	p.finished = make(chan struct{})
	p.started.Store(time.Now().Unix())
	return true
}

// save writes the backup: first everything acknowledged so far is made
// durable (with appendfsync everysec it may not be yet), then one bbolt read
// transaction copies the file. It releases the save slot.
func (s *Server) save() error {
	p := &s.persist
	start := time.Now()
	records := s.db.Store().Stats().Records
	err := s.db.Sync()
	if err == nil {
		// Sync committed more records: count from after them.
		records = s.db.Store().Stats().Records
		_, err = s.db.Store().Backup(s.BackupPath())
	}
	p.saves.Add(1)
	p.lastDuration.Store(int64(time.Since(start).Seconds()))
	if err != nil {
		p.lastFailed.Store(true)
		s.logger.Printf("Backup to %s failed: %v", s.BackupPath(), err)
	} else {
		p.lastFailed.Store(false)
		p.lastSave.Store(time.Now().Unix())
		p.recordsAtSave.Store(records)
		s.logger.Printf("DB saved on disk: %s", s.BackupPath())
	}
	p.mu.Lock()
	p.saving = false
	close(p.finished)
	p.mu.Unlock()
	return err
}

// WaitSave waits until no SAVE or BGSAVE is running (tests, shutdown).
func (s *Server) WaitSave() {
	p := &s.persist
	p.mu.Lock()
	ch := p.finished
	p.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

func cmdSave(c *Client, _ *storage.Tx, args [][]byte) {
	if c.multi {
		c.reject(args, errNotInMulti)
		return
	}
	if !c.srv.beginSave() {
		c.writeError(errBgsaveInProgress)
		return
	}
	if err := c.srv.save(); err != nil {
		c.writeError(errSaveFailed)
		return
	}
	c.writeOK()
}

// cmdBgsave starts the backup in the background. Inside EXEC (tx is the
// transaction's) Redis only schedules it; so does sessdb, and the save
// starts once the transaction has released the keyspace.
func cmdBgsave(c *Client, tx *storage.Tx, args [][]byte) {
	if len(args) > 2 || (len(args) == 2 && !equalFold(args[1], "schedule")) {
		c.writeError(errSyntax)
		return
	}
	s := c.srv
	// The save holds the gate shared, so Close waits for it to finish. This
	// goroutine holds it already: a blocking RLock would deadlock behind a
	// waiting Close, so a failed TryRLock means the server is closing.
	if !s.gate.TryRLock() {
		c.writeError(storageError(storage.ErrClosed))
		return
	}
	if !s.beginSave() {
		s.gate.RUnlock()
		c.writeError(errBgsaveInProgress)
		return
	}
	go func() {
		defer s.gate.RUnlock()
		_ = s.save()
	}()
	if tx != nil {
		c.writeSimple(msgBgsaveScheduled)
		return
	}
	c.writeSimple(msgBgsaveStarted)
}

func cmdLastsave(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeInt(c.srv.lastSave())
}

// lastSave is LASTSAVE's answer: as in Redis, the start counts as a save.
func (s *Server) lastSave() int64 {
	if t := s.persist.lastSave.Load(); t != 0 {
		return t
	}
	return s.started.Unix()
}

// persistenceInfo writes INFO persistence's fields about saves and disk errors.
func (s *Server) persistenceInfo(line func(string, any)) {
	p := &s.persist
	st := s.db.Store().Stats()
	p.mu.Lock()
	saving := p.saving
	p.mu.Unlock()
	line("rdb_changes_since_last_save", st.Records-p.recordsAtSave.Load()+uint64(st.Unwritten))
	line("rdb_bgsave_in_progress", b01(saving))
	line("rdb_last_save_time", s.lastSave())
	line("rdb_last_bgsave_status", okErr(boolErr(p.lastFailed.Load())))
	if p.saves.Load() == 0 {
		line("rdb_last_bgsave_time_sec", -1)
	} else {
		line("rdb_last_bgsave_time_sec", p.lastDuration.Load())
	}
	if saving {
		line("rdb_current_bgsave_time_sec", time.Now().Unix()-p.started.Load())
	} else {
		line("rdb_current_bgsave_time_sec", -1)
	}
	line("rdb_saves", p.saves.Load())
	line("aof_last_write_status", okErr(st.Failing))
	if st.Failing != nil {
		line("aof_last_write_error", persistenceReason(st.Failing))
		line("aof_failing_since", st.FailingSince.Unix())
	}
	line("aof_unwritten_records", st.Unwritten)
	line("aof_write_retries", st.Retries)
}

func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}

// boolErr turns a failure flag into an error for okErr.
func boolErr(failed bool) error {
	if failed {
		return errSaveFailedErr
	}
	return nil
}

// shutdownArgs are SHUTDOWN's options.
type shutdownArgs struct {
	save, nosave, abort bool
}

func parseShutdown(args [][]byte) (shutdownArgs, bool) {
	var a shutdownArgs
	for _, arg := range args[1:] {
		switch {
		case equalFold(arg, "save"):
			a.save = true
		case equalFold(arg, "nosave"):
			a.nosave = true
		case equalFold(arg, "abort"):
			a.abort = true
		case equalFold(arg, "now"), equalFold(arg, "force"):
			// Nothing to wait for or to force: every write is already durable.
		default:
			return a, false
		}
	}
	if (a.save && a.nosave) || (a.abort && len(args) > 2) {
		return a, false
	}
	return a, true
}

// cmdShutdown asks the process to shut down gracefully, as SIGTERM does: every
// acknowledged write is already on disk, so NOSAVE changes nothing and SAVE
// also writes the backup first. As in Redis, the caller gets no reply: its
// connection closes.
func cmdShutdown(c *Client, _ *storage.Tx, args [][]byte) {
	if c.multi {
		c.reject(args, errNotInMulti)
		return
	}
	a, ok := parseShutdown(args)
	if !ok {
		c.writeError(errSyntax)
		return
	}
	if a.abort {
		c.writeError(errNoShutdown)
		return
	}
	if a.save {
		if !c.srv.beginSave() {
			c.writeError(errBgsaveInProgress)
			return
		}
		if err := c.srv.save(); err != nil {
			c.srv.logger.Printf("SHUTDOWN SAVE failed: %v", err)
			c.writeError(errShutdownFailed)
			return
		}
	}
	c.srv.logger.Printf("User requested shutdown...")
	c.srv.shutdownOnce.Do(func() { close(c.srv.shutdown) })
	c.quitting = true
}

// ShutdownRequested is closed once a client ran SHUTDOWN; the process then
// shuts down as on SIGTERM.
func (s *Server) ShutdownRequested() <-chan struct{} { return s.shutdown }
