package server

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/storage"
	"github.com/tidwall/redcon"
)

// Keyspace notifications. A handler reports a change with c.notify while
// the store's lock is held; the event joins one server-wide queue, so the
// queue's order is the order in which transactions ran. The queue is
// published after the lock is released: by the client that ran the command,
// before its reply leaves, or, for keys the reaper expired, by the notifier
// goroutine. The replies a subscribed connection makes inside a transaction
// join the same queue, so that such a client never sees an event for a
// change that its own later reply does not reflect yet.

// note is one queued delivery: a publication, or replies for a client.
type note struct {
	channel, message string
	to               *Client
	raw              []byte
}

// noteQueue holds the notes not yet delivered.
type noteQueue struct {
	mu          sync.Mutex
	queue       []note
	undelivered atomic.Int64 // notes queued or being delivered
	pub         sync.Mutex   // held while delivering: deliveries keep the queue's order
	wake        chan struct{}
	stop        chan struct{}
}

// notify reports a keyspace event, as Redis's notifyKeyspaceEvent: class is
// the event's flag ('g', '$', 'x', 'n', …), event its name. A subscribed
// client's replies made so far go first, so that an event it receives
// itself sits among its replies where Redis puts it.
func (c *Client) notify(class config.KeyspaceEvents, event string, db int, key string) {
	if !c.srv.notifying(class) {
		return
	}
	c.queueReplies()
	c.srv.notify(class, event, db, key)
}

// notifying reports whether an event of class would be published at all.
func (s *Server) notifying(class config.KeyspaceEvents) bool {
	f := config.KeyspaceEvents(s.events.Load())
	return f&class != 0 && f&(config.EventKeyspace|config.EventKeyevent) != 0 && s.ps.listening.Load()
}

func (s *Server) notify(class config.KeyspaceEvents, event string, db int, key string) {
	if !s.notifying(class) {
		return
	}
	f := config.KeyspaceEvents(s.events.Load())
	d := strconv.Itoa(db)
	s.notes.mu.Lock()
	if f&config.EventKeyspace != 0 {
		s.notes.queue = append(s.notes.queue, note{channel: "__keyspace@" + d + "__:" + key, message: event})
		s.notes.undelivered.Add(1)
	}
	if f&config.EventKeyevent != 0 {
		s.notes.queue = append(s.notes.queue, note{channel: "__keyevent@" + d + "__:" + event, message: key})
		s.notes.undelivered.Add(1)
	}
	s.notes.mu.Unlock()
}

// queueReplies, inside a transaction, moves a subscribed connection's
// replies to the notification queue, in their place among the events and
// the messages it publishes.
func (c *Client) queueReplies() {
	if c.out == nil {
		return
	}
	w := redcon.BaseWriter(c.conn)
	if w == nil {
		return
	}
	b := w.Buffer()
	if len(b) == 0 {
		return
	}
	w.SetBuffer(nil)
	s := c.srv
	s.notes.mu.Lock()
	s.notes.queue = append(s.notes.queue, note{to: c, raw: b})
	s.notes.undelivered.Add(1)
	s.notes.mu.Unlock()
}

// flushNotes delivers every note queued so far. When it returns, each has
// reached its subscribers' queues, even those another goroutine took.
func (s *Server) flushNotes() {
	if s.notes.undelivered.Load() == 0 {
		return
	}
	s.notes.pub.Lock()
	s.deliverNotes()
	s.notes.pub.Unlock()
}

// deliverNotes runs with s.notes.pub held.
func (s *Server) deliverNotes() {
	s.notes.mu.Lock()
	q := s.notes.queue
	s.notes.queue = nil
	s.notes.mu.Unlock()
	for _, n := range q {
		if n.to != nil {
			n.to.out.reply(n.raw)
		} else {
			s.deliver(subChannel, n.channel, n.message)
		}
	}
	s.notes.undelivered.Add(-int64(len(q)))
}

// expired is the store's hook for a key deleted because its deadline
// passed; it runs inside the deleting transaction.
func (s *Server) expired(db int, key string) {
	s.stats.expiredKeys.Add(1)
	s.notify(config.EventExpired, "expired", db, key)
	if s.notes.undelivered.Load() > 0 {
		select {
		case s.notes.wake <- struct{}{}:
		default:
		}
	}
}

// runNotifier publishes what the reaper's transactions queued.
func (s *Server) runNotifier() {
	for {
		select {
		case <-s.notes.wake:
			s.flushNotes()
		case <-s.notes.stop:
			return
		}
	}
}

// The keyspace event classes handlers report, by Redis's flag letters.
const (
	evGeneric = config.EventGeneric // g
	evString  = config.EventString  // $
	evSet     = config.EventSet     // s
	evHash    = config.EventHash    // h
	evZSet    = config.EventZSet    // z
	evNew     = config.EventNew     // n
)

// notifyNewIfMissing reports the 'n' event ("new") for a key that a write
// is about to create, as Redis's dbAdd does; call it just before the write.
func (c *Client) notifyNewIfMissing(tx *storage.Tx, db int, key string) {
	if config.KeyspaceEvents(c.srv.events.Load())&evNew != 0 && tx.Lookup(db, key) == nil {
		c.notify(evNew, "new", db, key)
	}
}

// notifyRemoved reports the keyspace events of removing n fields or members
// from the collection v at key: the family's event, then "del" when that
// emptied (and so deleted) the key.
func (c *Client) notifyRemoved(class config.KeyspaceEvents, event string, v *storage.Value, n int64, key string) {
	if n == 0 {
		return
	}
	c.notify(class, event, c.db, key)
	if v.Len() == 0 {
		c.notify(evGeneric, "del", c.db, key)
	}
}

// removeMembers runs HDEL, SREM or ZREM: key args[1], members args[2:]. It
// answers how many were removed and reports the keyspace events.
func (c *Client) removeMembers(tx *storage.Tx, args [][]byte,
	lookup func(*Client, *storage.Tx, []byte) (*storage.Value, bool),
	remove func(db int, key, member string) (bool, error),
	class config.KeyspaceEvents, event string) {
	v, ok := lookup(c, tx, args[1])
	if !ok {
		return
	}
	key := string(args[1])
	var n int64
	for _, m := range args[2:] {
		if gone, _ := remove(c.db, key, string(m)); gone {
			n++
		}
	}
	c.notifyRemoved(class, event, v, n, key)
	c.writeInt(n)
}
