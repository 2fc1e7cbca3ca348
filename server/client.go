package server

import (
	"sync/atomic"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/storage"
	"github.com/tidwall/redcon"
)

// Client is the state of one connection: its database, protocol version,
// authentication, MULTI queue and WATCHed keys.
type Client struct {
	srv   *Server
	conn  redcon.Conn
	id    int64
	addr  string
	laddr string

	// Scratch space reused by one command at a time: a session read for
	// its reply, and bytes a reply is assembled in.
	session sessdb.SessionView
	scratch []byte

	db      int
	resp    int
	authed  bool
	user    string
	name    atomic.Pointer[string]
	libName string
	libVer  string

	created time.Time
	lastCmd atomic.Int64 // unix ms of the last command
	ran     *command     // the top-level command dispatch resolved last (for metrics)
	mark    int          // where the running write's reply starts in redcon's buffer (persist.go)
	cmdName atomic.Pointer[string]

	multi      bool
	multiDirty bool // a queue-time error: EXEC aborts
	queue      []queued
	queueBytes int

	watches  []watchKey
	casDirty atomic.Bool // a WATCHed key changed: EXEC aborts

	pending      *storage.Commit // the commit of the write command that just ran
	writes       []trackedWrite  // the current batch's writes, settled at its end (persist.go)
	errorReplies int
	killed       atomic.Bool
	quitting     bool // QUIT ran: the rest of the batch is ignored, then the connection closes

	// Pub/Sub (see pubsub.go): subs is guarded by srv.ps.mu and changed only
	// by the connection's own goroutine; out is set once, at the first
	// subscription; proto mirrors resp for publishers.
	subs  [3]map[string]struct{}
	out   *outbound
	proto atomic.Int32
}

type queued struct {
	cmd  *command
	args [][]byte
}

// Name returns the name set by CLIENT SETNAME or HELLO SETNAME.
func (c *Client) Name() string {
	if p := c.name.Load(); p != nil {
		return *p
	}
	return ""
}

func (c *Client) setName(s string) { c.name.Store(&s) }

func (c *Client) resetState() {
	c.discardMulti()
	c.srv.unwatchAll(c)
	c.srv.unsubscribeAll(c)
	c.db = 0
	c.setResp(2)
	c.setName("")
	c.authed = !c.srv.authRequired()
	c.user = "default"
}

// setResp sets the protocol version of replies and of Pub/Sub messages.
func (c *Client) setResp(v int) {
	c.resp = v
	c.proto.Store(int32(v))
}

func (c *Client) discardMulti() {
	c.multi = false
	c.multiDirty = false
	c.queue = nil
	c.queueBytes = 0
}
