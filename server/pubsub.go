package server

import (
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/tidwall/redcon"
)

// Pub/Sub delivery. A publisher never writes to a subscriber's connection:
// it appends the message frame to the subscriber's outbound queue and a small
// writer goroutine per subscriber writes the queue to its socket. Once a
// connection has subscribed, its replies take the same queue (redcon's
// buffer is emptied into it after every command), so that replies and
// messages reach the client in the order they were made. While the
// connection runs a pipeline batch its queue is held, and released once the
// batch's writes are committed, as any reply is.

// subKind is one of the three namespaces a client subscribes in.
type subKind uint8

const (
	subChannel subKind = iota // SUBSCRIBE / PUBLISH
	subPattern                // PSUBSCRIBE
	subShard                  // SSUBSCRIBE / SPUBLISH
)

// subWords are the kinds' confirmation and message names, as Redis sends them.
var subWords = [3]struct{ sub, unsub, message string }{
	{"subscribe", "unsubscribe", "message"},
	{"psubscribe", "punsubscribe", "pmessage"},
	{"ssubscribe", "sunsubscribe", "smessage"},
}

// outputLimits is client-output-buffer-limit's pubsub class, copied into
// atomics on every CONFIG SET so that a publisher reads it without the
// configuration lock. As in Redis, a subscriber whose queue reaches the hard
// limit, or stays at or above the soft limit for more than softSeconds, is
// disconnected.
type outputLimits struct {
	hard, soft, softSeconds atomic.Int64
	now                     func() time.Time // the soft limit's clock; tests inject one
	disconnections          atomic.Int64     // subscribers closed by a limit (INFO)
	logf                    func(format string, args ...any)
}

// load copies the pubsub class's limits from the configuration.
func (l *outputLimits) load(hard, soft, softSeconds int64) {
	l.hard.Store(hard)
	l.soft.Store(soft)
	l.softSeconds.Store(softSeconds)
}

// exceeded reports whether a queue of used bytes breaks a limit; since is
// the queue's record of when it reached the soft limit (zero: below it).
func (l *outputLimits) exceeded(used int64, since *time.Time) bool {
	if hard := l.hard.Load(); hard > 0 && used >= hard {
		return true
	}
	if soft := l.soft.Load(); soft > 0 && used >= soft {
		now := l.now()
		if since.IsZero() {
			*since = now
			return false
		}
		// Whole seconds, as Redis counts them.
		return now.Unix()-since.Unix() > l.softSeconds.Load()
	}
	*since = time.Time{}
	return false
}

// sessionsChannel is where the sessions layer's audit events are published.
const sessionsChannel = "__sessions__"

// pubsub is the server's subscription registry.
type pubsub struct {
	mu        sync.RWMutex
	limits    outputLimits
	subs      [3]map[string]map[*Client]struct{}
	clients   int         // clients with at least one subscription
	listening atomic.Bool // any channel or pattern subscription: keyspace events are worth making

	feedMu     sync.Mutex
	feedCancel func() // the subscription to the sessions layer's events, while wanted
}

// subscribed reports whether the client has any subscription (its goroutine only).
func (c *Client) subscribed() bool {
	return len(c.subs[subChannel])+len(c.subs[subPattern])+len(c.subs[subShard]) > 0
}

// subCount is the count Redis puts in a (un)subscribe confirmation: shard
// channels count apart from channels and patterns.
func (c *Client) subCount(kind subKind) int64 {
	if kind == subShard {
		return int64(len(c.subs[subShard]))
	}
	return int64(len(c.subs[subChannel]) + len(c.subs[subPattern]))
}

// subCounts returns the client's channel, pattern and shard subscription
// counts and its queued output, for CLIENT LIST from any goroutine.
func (c *Client) subCounts() (sub, psub, ssub, omem int) {
	c.srv.ps.mu.RLock()
	defer c.srv.ps.mu.RUnlock()
	return len(c.subs[subChannel]), len(c.subs[subPattern]), len(c.subs[subShard]), c.out.queued()
}

// writePushHeader starts a Pub/Sub frame: a push in RESP3, an array in RESP2.
func (c *Client) writePushHeader(n int) {
	if c.resp == 3 {
		c.conn.WriteRaw(strconv.AppendInt([]byte{'>'}, int64(n), 10))
		c.conn.WriteRaw([]byte("\r\n"))
	} else {
		c.conn.WriteArray(n)
	}
}

// subscribe registers the client in each of names and confirms each.
func (s *Server) subscribe(c *Client, kind subKind, names [][]byte) {
	s.flushNotes() // the connection's replies queued so far, before messages are deferred
	s.ps.mu.Lock()
	if c.out == nil {
		c.out = newOutbound(c.conn.NetConn(), &s.ps.limits, c.addr)
		c.out.hold() // inside a command batch
	}
	was := c.subscribed()
	for _, n := range names {
		name := string(n)
		if c.subs[kind] == nil {
			c.subs[kind] = map[string]struct{}{}
		}
		if _, ok := c.subs[kind][name]; !ok {
			c.subs[kind][name] = struct{}{}
			m := s.ps.subs[kind][name]
			if m == nil {
				m = map[*Client]struct{}{}
				if s.ps.subs[kind] == nil {
					s.ps.subs[kind] = map[string]map[*Client]struct{}{}
				}
				s.ps.subs[kind][name] = m
			}
			m[c] = struct{}{}
		}
		c.writePushHeader(3)
		c.writeBulkString(subWords[kind].sub)
		c.writeBulk(n)
		c.writeInt(c.subCount(kind))
	}
	if !was && c.subscribed() {
		s.ps.clients++
	}
	// Messages published from now on wait until the confirmations, still in
	// redcon's buffer, reach the queue.
	c.out.deferMessages()
	s.ps.changed()
	s.ps.mu.Unlock()
	s.syncSessionFeed()
}

// unsubscribe removes the client from each of names (all of its kind when
// names is nil), confirming each when reply is set; RESET does not reply.
func (s *Server) unsubscribe(c *Client, kind subKind, names [][]byte, reply bool) {
	s.ps.mu.Lock()
	was := c.subscribed()
	if names == nil {
		all := make([]string, 0, len(c.subs[kind]))
		for name := range c.subs[kind] {
			all = append(all, name)
		}
		sort.Strings(all)
		for _, name := range all {
			s.unsubscribeOne(c, kind, name, reply)
		}
		if len(all) == 0 && reply {
			c.writePushHeader(3)
			c.writeBulkString(subWords[kind].unsub)
			c.writeNull()
			c.writeInt(c.subCount(kind))
		}
	} else {
		for _, n := range names {
			s.unsubscribeOne(c, kind, string(n), reply)
		}
	}
	if was && !c.subscribed() {
		s.ps.clients--
	}
	s.ps.changed()
	s.ps.mu.Unlock()
	s.syncSessionFeed()
}

// unsubscribeOne runs under s.ps.mu.
func (s *Server) unsubscribeOne(c *Client, kind subKind, name string, reply bool) {
	if _, ok := c.subs[kind][name]; ok {
		delete(c.subs[kind], name)
		if m := s.ps.subs[kind][name]; m != nil {
			delete(m, c)
			if len(m) == 0 {
				delete(s.ps.subs[kind], name)
			}
		}
	}
	if reply {
		c.writePushHeader(3)
		c.writeBulkString(subWords[kind].unsub)
		c.writeBulkString(name)
		c.writeInt(c.subCount(kind))
	}
}

// unsubscribeAll drops every subscription without a reply (RESET, close).
func (s *Server) unsubscribeAll(c *Client) {
	if !c.subscribed() {
		return
	}
	for k := subChannel; k <= subShard; k++ {
		s.unsubscribe(c, k, nil, false)
	}
}

// changed updates listening; it runs under mu.
func (p *pubsub) changed() {
	p.listening.Store(len(p.subs[subChannel])+len(p.subs[subPattern]) > 0)
}

// Publish sends message to the subscribers of channel and of the patterns
// that match it, after every keyspace event already made, and returns how
// many received it, as PUBLISH does. It never blocks on a subscriber.
func (s *Server) Publish(channel, message string) int {
	return s.publish(subChannel, channel, message)
}

func (s *Server) publish(kind subKind, channel, message string) int {
	s.notes.pub.Lock()
	defer s.notes.pub.Unlock()
	s.deliverNotes()
	return s.deliver(kind, channel, message)
}

// deliver queues a message for every receiver; s.notes.pub is held.
func (s *Server) deliver(kind subKind, channel, message string) int {
	s.ps.mu.RLock()
	defer s.ps.mu.RUnlock()
	var frames [2][]byte // RESP2, RESP3
	frame := func(c *Client, parts ...string) []byte {
		i := 0
		if c.proto.Load() == 3 {
			i = 1
		}
		if frames[i] == nil {
			frames[i] = appendFrame(nil, i == 1, parts...)
		}
		return frames[i]
	}
	n := 0
	for c := range s.ps.subs[kind][channel] {
		c.out.push(frame(c, subWords[kind].message, channel, message))
		n++
	}
	if kind != subChannel {
		return n
	}
	for pat, subs := range s.ps.subs[subPattern] {
		if !globMatch(pat, channel, false) {
			continue
		}
		frames = [2][]byte{}
		for c := range subs {
			c.out.push(frame(c, subWords[subPattern].message, pat, channel, message))
			n++
		}
	}
	return n
}

// appendFrame renders a Pub/Sub message: an array of bulk strings in RESP2,
// a push in RESP3.
func appendFrame(b []byte, resp3 bool, parts ...string) []byte {
	if resp3 {
		b = append(b, '>')
	} else {
		b = append(b, '*')
	}
	b = strconv.AppendInt(b, int64(len(parts)), 10)
	b = append(b, '\r', '\n')
	for _, p := range parts {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, '\r', '\n')
		b = append(b, p...)
		b = append(b, '\r', '\n')
	}
	return b
}

// numSub returns the number of subscribers of a channel of kind.
func (s *Server) numSub(kind subKind, name string) int {
	s.ps.mu.RLock()
	defer s.ps.mu.RUnlock()
	return len(s.ps.subs[kind][name])
}

// activeNames returns the channels (or patterns) of kind with at least one
// subscriber that match pattern ("" matches all), sorted.
func (s *Server) activeNames(kind subKind, pattern string) []string {
	s.ps.mu.RLock()
	out := make([]string, 0, len(s.ps.subs[kind]))
	for name := range s.ps.subs[kind] {
		if pattern == "" || globMatch(pattern, name, false) {
			out = append(out, name)
		}
	}
	s.ps.mu.RUnlock()
	sort.Strings(out)
	return out
}

// pubsubCounts returns the INFO counters: distinct channels, distinct
// patterns, shard channels and clients with a subscription.
func (s *Server) pubsubCounts() (channels, patterns, shards, clients int) {
	s.ps.mu.RLock()
	defer s.ps.mu.RUnlock()
	return len(s.ps.subs[subChannel]), len(s.ps.subs[subPattern]), len(s.ps.subs[subShard]), s.ps.clients
}

// syncSessionFeed subscribes to the sessions layer's audit events while a
// subscription could receive them (a subscriber of __sessions__ or of a
// pattern matching it), and cancels that when none could: without a
// listener the sessions layer makes no events at all.
func (s *Server) syncSessionFeed() {
	s.ps.feedMu.Lock()
	defer s.ps.feedMu.Unlock()
	s.ps.mu.RLock()
	want := len(s.ps.subs[subChannel][sessionsChannel]) > 0
	for pat := range s.ps.subs[subPattern] {
		if want {
			break
		}
		want = globMatch(pat, sessionsChannel, false)
	}
	s.ps.mu.RUnlock()
	switch {
	case want && s.ps.feedCancel == nil && !s.closing.Load():
		s.ps.feedCancel = s.db.Sessions().Subscribe(func(ev sessdb.Event) {
			s.Publish(sessionsChannel, string(ev.JSON()))
		})
	case !want && s.ps.feedCancel != nil:
		s.ps.feedCancel()
		s.ps.feedCancel = nil
	}
}

// stopSessionFeed cancels the sessions subscription (Close).
func (s *Server) stopSessionFeed() {
	s.ps.feedMu.Lock()
	defer s.ps.feedMu.Unlock()
	if s.ps.feedCancel != nil {
		s.ps.feedCancel()
		s.ps.feedCancel = nil
	}
}

// passReplies moves the replies waiting in redcon's buffer to the outbound
// queue of a connection that has subscribed; otherwise redcon flushes them.
func (c *Client) passReplies() {
	if c.out == nil {
		return
	}
	w := redcon.BaseWriter(c.conn)
	if w == nil {
		return
	}
	if b := w.Buffer(); len(b) > 0 {
		w.SetBuffer(nil)
		c.out.reply(b)
	}
}

// outbound is a subscriber's queue of bytes to write, and its writer.
type outbound struct {
	nc   net.Conn
	lim  *outputLimits
	addr string
	mu   sync.Mutex
	wake *sync.Cond

	buf       []byte // to write, in order
	later     []byte // messages held back until the pending confirmation is queued
	deferring bool
	inflight  int       // bytes the writer is writing now
	held      bool      // a command batch runs: its replies wait for its commit
	quit      bool      // close once everything is written (QUIT)
	dead      bool      // closed: nothing more is written
	softSince time.Time // when the queue reached the soft limit; zero while below
	done      chan struct{}
}

func newOutbound(nc net.Conn, lim *outputLimits, addr string) *outbound {
	o := &outbound{nc: nc, lim: lim, addr: addr, done: make(chan struct{})}
	o.wake = sync.NewCond(&o.mu)
	go o.run()
	return o
}

// run writes the queue until the connection ends.
func (o *outbound) run() {
	defer close(o.done)
	var spare []byte
	for {
		o.mu.Lock()
		for !o.dead && (o.held || (len(o.buf) == 0 && !o.quit)) {
			o.wake.Wait()
		}
		if o.dead {
			o.mu.Unlock()
			return
		}
		if len(o.buf) == 0 { // QUIT, and everything is written
			o.dead = true
			o.mu.Unlock()
			_ = o.nc.Close()
			return
		}
		b := o.buf
		o.buf = spare[:0]
		o.inflight = len(b)
		o.mu.Unlock()

		_, err := o.nc.Write(b)

		o.mu.Lock()
		o.inflight = 0
		if err != nil {
			o.dead, o.buf, o.later = true, nil, nil
			o.mu.Unlock()
			_ = o.nc.Close()
			return
		}
		o.mu.Unlock()
		spare = nil
		if cap(b) <= 64<<10 {
			spare = b
		}
	}
}

// push queues a message frame. Past the output buffer limits the subscriber
// is disconnected, as Redis does, rather than let it exhaust memory.
func (o *outbound) push(frame []byte) {
	o.mu.Lock()
	if o.dead {
		o.mu.Unlock()
		return
	}
	if o.deferring {
		o.later = append(o.later, frame...)
	} else {
		o.buf = append(o.buf, frame...)
	}
	o.checkLimitAndWake()
}

// reply queues the connection's own replies; a deferred message follows them.
func (o *outbound) reply(b []byte) {
	o.mu.Lock()
	if o.dead {
		o.mu.Unlock()
		return
	}
	o.buf = append(o.buf, b...)
	if o.deferring {
		o.buf = append(o.buf, o.later...)
		o.later, o.deferring = nil, false
	}
	o.checkLimitAndWake()
}

// checkLimitAndWake runs with o.mu held and releases it.
func (o *outbound) checkLimitAndWake() {
	if o.lim.exceeded(int64(len(o.buf)+len(o.later)+o.inflight), &o.softSince) {
		o.dead, o.buf, o.later = true, nil, nil
		o.mu.Unlock()
		o.wake.Signal()
		o.lim.disconnections.Add(1)
		if o.lim.logf != nil {
			o.lim.logf("Client addr=%s scheduled to be closed ASAP for overcoming of output buffer limits.", o.addr)
		}
		_ = o.nc.Close()
		return
	}
	if !o.held {
		o.wake.Signal()
	}
	o.mu.Unlock()
}

// deferMessages holds back messages until the next reply is queued.
func (o *outbound) deferMessages() {
	o.mu.Lock()
	o.deferring = true
	o.mu.Unlock()
}

// hold keeps the queue unwritten while a command batch runs.
func (o *outbound) hold() {
	if o == nil {
		return
	}
	o.mu.Lock()
	o.held = true
	o.mu.Unlock()
}

// release lets the writer write what the batch queued.
func (o *outbound) release() {
	if o == nil {
		return
	}
	o.mu.Lock()
	o.held = false
	o.mu.Unlock()
	o.wake.Signal()
}

// closeAfterWrite closes the connection once everything queued is written.
func (o *outbound) closeAfterWrite() {
	o.mu.Lock()
	o.quit = true
	o.mu.Unlock()
	o.wake.Signal()
}

// close drops whatever is queued and stops the writer.
func (o *outbound) close() {
	if o == nil {
		return
	}
	o.mu.Lock()
	o.dead, o.buf, o.later = true, nil, nil
	o.mu.Unlock()
	o.wake.Signal()
}

// queued returns the bytes waiting (CLIENT LIST omem).
func (o *outbound) queued() int {
	if o == nil {
		return 0
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.buf) + len(o.later) + o.inflight
}

// SetLimitsClock sets the clock that client-output-buffer-limit's soft
// limit reads (time.Now by default). Tests inject a fake one; call it before
// clients connect.
func (s *Server) SetLimitsClock(now func() time.Time) { s.ps.limits.now = now }
