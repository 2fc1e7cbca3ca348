package server

import (
	"github.com/sessdb/sessdb/storage"
)

// queuedArgOverhead is what each queued argument costs beyond its bytes
// (its slice header and allocation), so that a queue of many empty
// arguments is bounded too.
const queuedArgOverhead = 32

type watchKey struct {
	db  int
	key string
}

func init() {
	register(
		&command{name: "multi", arity: 1, flags: []string{"noscript", "loading", "stale", "fast", "allow_busy"}, group: "transactions", summary: "Starts a transaction.", since: "1.2.0", noMulti: true, run: cmdMulti},
		&command{name: "exec", arity: 1, flags: []string{"noscript", "loading", "stale", "skip_slowlog"}, group: "transactions", summary: "Executes all commands in a transaction.", since: "1.2.0", noMulti: true, run: cmdExec},
		&command{name: "discard", arity: 1, flags: []string{"noscript", "loading", "stale", "fast", "allow_busy"}, group: "transactions", summary: "Discards a transaction.", since: "2.0.0", noMulti: true, run: cmdDiscard},
		&command{name: "watch", arity: -2, flags: []string{"noscript", "loading", "stale", "fast", "allow_busy"}, firstKey: 1, lastKey: -1, step: 1, group: "transactions", summary: "Monitors changes to keys to determine the execution of a transaction.", since: "2.2.0", noMulti: true, run: cmdWatch},
		&command{name: "unwatch", arity: 1, flags: []string{"noscript", "loading", "stale", "fast", "allow_busy"}, group: "transactions", summary: "Forgets about watched keys of a transaction.", since: "2.2.0", noMulti: true, run: cmdUnwatch},
	)
}

// queueCommand queues a command inside MULTI. The queue's total size
// (arguments plus queuedArgOverhead each) is capped by
// multi-max-queued-bytes: a command that would pass it is refused and EXEC
// aborts, so a client cannot grow the server's memory without bound through
// a transaction that never ends.
func (c *Client) queueCommand(cmd *command, args [][]byte) {
	if c.srv.overMemory() {
		// As Redis: under maxmemory nothing more is queued, reads
		// included, since queuing itself takes memory.
		c.multiDirty = true
		c.writeError(errOOM)
		return
	}
	size := 0
	for _, a := range args {
		size += len(a) + queuedArgOverhead
	}
	if int64(c.queueBytes)+int64(size) > c.srv.cfg.MultiMaxQueuedBytes() {
		c.multiDirty = true
		c.writeError(errMultiQueueFull)
		return
	}
	cp := make([][]byte, len(args))
	for i, a := range args {
		cp[i] = append([]byte(nil), a...)
	}
	c.queueBytes += size
	c.queue = append(c.queue, queued{cmd, cp})
	c.writeSimple(msgQueued)
}

func cmdMulti(c *Client, _ *storage.Tx, _ [][]byte) {
	if c.multi {
		c.writeError(errMultiNested)
		return
	}
	c.multi = true
	c.writeOK()
}

func cmdDiscard(c *Client, _ *storage.Tx, _ [][]byte) {
	if !c.multi {
		c.writeError(errDiscardNoMulti)
		return
	}
	c.discardMulti()
	c.srv.unwatchAll(c)
	c.writeOK()
}

// cmdExec runs the queue in one storage transaction: no other command
// interleaves, and its records reach the disk in one commit, all or nothing.
func cmdExec(c *Client, _ *storage.Tx, _ [][]byte) {
	if !c.multi {
		c.writeError(errExecNoMulti)
		return
	}
	oom := !c.multiDirty && c.execDeniedOOM()
	q, dirty := c.queue, c.multiDirty
	c.discardMulti()
	if dirty {
		c.srv.unwatchAll(c)
		c.writeError(errExecAbort)
		return
	}
	if oom {
		// As Redis: a transaction holding a denyoom command is refused
		// whole when memory is over maxmemory at EXEC.
		c.srv.unwatchAll(c)
		c.writeError(errExecAbortBecause + errOOM)
		return
	}
	c.mark = c.replyMark()
	commit, err := c.srv.db.UpdateAsync(func(tx *storage.Tx) error {
		// A watched key that expired since WATCH counts as changed: looking
		// it up in a writable transaction deletes it and marks us dirty.
		for _, w := range c.watches {
			tx.Lookup(w.db, w.key)
		}
		if c.casDirty.Load() {
			c.writeNullArray()
			return nil
		}
		c.writeArray(len(q))
		for _, e := range q {
			if msg := c.execACL(e.cmd, e.args); msg != "" {
				c.writeError(msg) // the user's rules changed since MULTI
				continue
			}
			e.cmd.run(c, tx, e.args)
		}
		c.queueReplies()
		return nil
	})
	c.srv.unwatchAll(c)
	if err != nil {
		c.writeError(storageError(err))
		return
	}
	if commit != nil {
		c.pending = commit
	}
}

func cmdWatch(c *Client, _ *storage.Tx, args [][]byte) {
	if c.multi {
		c.writeError(errWatchInMulti)
		return
	}
	// Register under the store's write lock so that no change slips between
	// the check and the registration; an already expired key is reaped first.
	_, _ = c.srv.db.UpdateAsync(func(tx *storage.Tx) error {
		for _, a := range args[1:] {
			tx.Lookup(c.db, string(a))
		}
		c.srv.watchMu.Lock()
		for _, a := range args[1:] {
			wk := watchKey{c.db, string(a)}
			m := c.srv.watched[wk]
			if m == nil {
				m = map[*Client]struct{}{}
				c.srv.watched[wk] = m
			}
			if _, ok := m[c]; !ok {
				m[c] = struct{}{}
				c.watches = append(c.watches, wk)
			}
		}
		c.srv.watchMu.Unlock()
		return nil
	})
	c.writeOK()
}

func cmdUnwatch(c *Client, _ *storage.Tx, _ [][]byte) {
	c.srv.unwatchAll(c)
	c.writeOK()
}

func (s *Server) unwatchAll(c *Client) {
	s.watchMu.Lock()
	for _, wk := range c.watches {
		if m := s.watched[wk]; m != nil {
			delete(m, c)
			if len(m) == 0 {
				delete(s.watched, wk)
			}
		}
	}
	s.watchMu.Unlock()
	c.watches = nil
	c.casDirty.Store(false)
}

// installHooks connects the store's change hooks to WATCH, the statistics
// and the keyspace notifications.
func (s *Server) installHooks() {
	touch := func(db int, key string) {
		s.watchMu.Lock()
		if len(s.watched) > 0 {
			for c := range s.watched[watchKey{db, key}] {
				c.casDirty.Store(true)
			}
		}
		s.watchMu.Unlock()
	}
	touchDB := func(db int) {
		s.watchMu.Lock()
		for wk, m := range s.watched {
			if db < 0 || wk.db == db {
				for c := range m {
					c.casDirty.Store(true)
				}
			}
		}
		s.watchMu.Unlock()
	}
	s.db.SetHooks(storage.Hooks{
		Touched: touch,
		Expired: func(_ *storage.Tx, db int, key string, _ *storage.Value) { s.expired(db, key) },
		Flushed: touchDB,
		Swapped: func(a, b int) { touchDB(a); touchDB(b) },
	})
}
