package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/tidwall/redcon"
)

// Version is sessdb's own version, reported by INFO as sessdb_version.
const Version = "0.1.0"

// RedisVersion is the Redis version whose behaviour sessdb matches; INFO
// reports it as redis_version so that clients' feature detection works.
const RedisVersion = "7.2.4"

// Server serves the Redis protocol over one DB.
type Server struct {
	cfg    *config.Config
	db     *sessdb.DB
	logger *log.Logger
	table  commandTable

	mu        sync.Mutex
	listeners []net.Listener
	rservers  []*redcon.Server
	clients   map[int64]*Client
	nextID    atomic.Int64
	closing   atomic.Bool
	gate      sync.RWMutex // held shared by every running command; Close takes it to drain them
	started   time.Time
	serveWG   sync.WaitGroup

	watchMu sync.Mutex
	watched map[watchKey]map[*Client]struct{}

	ps     pubsub        // subscriptions (pubsub.go)
	mem    memoryState   // maxmemory and eviction (memory.go)
	notes  noteQueue     // keyspace events waiting to be published (notify.go)
	events atomic.Uint32 // notify-keyspace-events, read by every write

	stats stats

	shutdown     chan struct{} // closed by SHUTDOWN (cmd_persist.go)
	shutdownOnce sync.Once

	scripts    scriptCache // EVAL's script cache (cmd_script.go)
	scriptRuns scriptState // the scripts running now (script_busy.go)

	jwt     jwtState // the JWT signing keys, opened on first use (cmd_jwt.go)
	metrics *metrics // Prometheus collectors (metrics.go)

	persist persistState // SAVE, BGSAVE and disk-error state (cmd_persist.go)

	acl    *aclStore     // ACL users (acl.go)
	aclLog aclLog        // ACL LOG (acl_log.go)
	auth   *authThrottle // failed-AUTH delays per client IP (auth.go)
	tls    *tlsState     // the TLS port's configuration (tls.go)
}

type stats struct {
	connections  atomic.Int64
	commands     atomic.Int64
	rejected     atomic.Int64
	expiredKeys  atomic.Int64
	keyspaceHits atomic.Int64
	keyspaceMiss atomic.Int64
	errorReplies atomic.Int64
	netInput     atomic.Int64

	queryBufferDisconnections atomic.Int64 // clients closed by client-query-buffer-limit (guard.go)

	aclDeniedAuth    atomic.Int64 // failed AUTH / HELLO AUTH
	aclDeniedCmd     atomic.Int64
	aclDeniedKey     atomic.Int64
	aclDeniedChannel atomic.Int64
	authDelayed      atomic.Int64 // AUTH attempts held back by the brute-force throttle
	protectedDenied  atomic.Int64 // connections refused by protected mode
}

// New returns a server for db configured by cfg. It does not listen yet.
func New(cfg *config.Config, db *sessdb.DB, logger *log.Logger) *Server {
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	s := &Server{
		cfg:      cfg,
		db:       db,
		logger:   logger,
		table:    newCommandTable(),
		clients:  map[int64]*Client{},
		watched:  map[watchKey]map[*Client]struct{}{},
		started:  time.Now(),
		shutdown: make(chan struct{}),
	}
	s.acl = newACLStore(s.table)
	s.acl.setDefaultPassword(cfg.RequirePass())
	s.auth = newAuthThrottle()
	s.notes.wake = make(chan struct{}, 1)
	s.notes.stop = make(chan struct{})
	s.events.Store(uint32(cfg.KeyspaceEvents()))
	s.initLimits()
	s.installHooks()
	s.metrics = newMetrics(s)
	_, _ = s.JWT() // now, not inside a command's transaction (its error is kept for the commands)
	cfg.OnChange(s.configChanged)
	go s.runNotifier()
	return s
}

// configChanged applies a CONFIG SET that needs more than a new value.
func (s *Server) configChanged(name string) {
	switch name {
	case "appendfsync":
		if f, err := sessdb.ParseFsync(s.cfg.AppendFsync()); err == nil {
			s.db.SetFsync(f)
		}
	case "requirepass":
		s.acl.setDefaultPassword(s.cfg.RequirePass())
	case "notify-keyspace-events":
		s.events.Store(uint32(s.cfg.KeyspaceEvents()))
	}
}

// Listen loads the aclfile (when configured) and opens the listeners: the
// plain port and the TLS port (tls-port), each on every bind address. As
// in Redis, "port 0" with a TLS port disables plain TCP; without one, port
// 0 picks a free port (tls-port 0 always means no TLS).
func (s *Server) Listen() error {
	if s.cfg.ACLFile() != "" {
		if err := s.loadACLFile(nil); err != nil {
			return fmt.Errorf("aclfile: %w", err)
		}
	}
	tlsPort := s.cfg.TLSPort()
	if tlsPort != 0 {
		tc, err := newTLSConfig(s.cfg)
		if err != nil {
			return err
		}
		s.tls = &tlsState{config: tc}
	}
	if s.cfg.Port() != 0 || tlsPort == 0 {
		if err := s.listenPort(s.cfg.Port(), false); err != nil {
			return err
		}
	}
	if tlsPort != 0 {
		if err := s.listenPort(tlsPort, true); err != nil {
			return err
		}
	}
	if len(s.listeners) == 0 {
		return errors.New("no address to listen on")
	}
	return nil
}

// listenPort listens on port at every bind address.
func (s *Server) listenPort(p int, secure bool) error {
	port := strconv.Itoa(p)
	opened := 0
	for _, addr := range s.cfg.Bind() {
		optional := false
		if len(addr) > 0 && addr[0] == '-' {
			optional, addr = true, addr[1:]
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(addr, port))
		if err != nil {
			if optional {
				continue
			}
			s.Close()
			return err
		}
		var tc *tls.Config
		if secure {
			tc = s.tls.config
		}
		s.listeners = append(s.listeners, secureListener{ln, tc})
		opened++
		if port == "0" {
			// Every address shares the first one's ephemeral port.
			port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		}
	}
	if opened == 0 && secure {
		return errors.New("no address to listen on for tls-port")
	}
	return nil
}

// Addr returns the first listener's address (the plain port's, when open).
func (s *Server) Addr() net.Addr { return s.listeners[0].Addr() }

// TLSAddr returns the TLS port's first address, or nil without tls-port.
func (s *Server) TLSAddr() net.Addr {
	for _, ln := range s.listeners {
		if sl, ok := ln.(secureListener); ok && sl.config != nil {
			return ln.Addr()
		}
	}
	return nil
}

// Serve serves every listener until Close; it returns when all have stopped.
func (s *Server) Serve() error {
	errs := make(chan error, len(s.listeners))
	for _, ln := range s.listeners {
		rs := redcon.NewServerNetwork("tcp", "", s.serveCommand, s.accept, s.closed)
		s.mu.Lock()
		s.rservers = append(s.rservers, rs)
		s.mu.Unlock()
		// timeout (idle clients) is enforced by the protocol guard (guard.go).
		s.serveWG.Add(1)
		go func(ln net.Listener) {
			defer s.serveWG.Done()
			errs <- rs.Serve(guardListener{ln, s})
		}(ln)
	}
	s.serveWG.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !s.closing.Load() {
			return err
		}
	}
	return nil
}

// Close stops accepting, lets in-flight commands finish (their commits
// included) and closes every connection. It does not close the DB.
func (s *Server) Close() error {
	if s.closing.Swap(true) {
		return nil
	}
	s.mu.Lock()
	rs := s.rservers
	s.mu.Unlock()
	for _, r := range rs {
		_ = r.Close()
	}
	if len(rs) == 0 {
		for _, ln := range s.listeners {
			_ = ln.Close()
		}
	}
	s.auth.close()  // a throttled AUTH holds the gate: end its wait
	s.stopScripts() // a running script holds the gate too
	s.gate.Lock()
	defer s.gate.Unlock()
	close(s.notes.stop)
	s.stopSessionFeed()
	return nil
}

func (s *Server) accept(conn redcon.Conn) bool {
	if s.closing.Load() {
		return false
	}
	s.mu.Lock()
	n := len(s.clients)
	s.mu.Unlock()
	if n >= s.cfg.MaxClients() {
		s.stats.rejected.Add(1)
		refuse(conn.NetConn(), errMaxClients)
		return false
	}
	if protectedRefuses(s.cfg.ProtectedMode(), s.acl.defaultNoPass(), conn.RemoteAddr()) {
		s.stats.protectedDenied.Add(1)
		refuse(conn.NetConn(), errDenied)
		return false
	}
	c := &Client{
		srv:     s,
		conn:    conn,
		id:      s.nextID.Add(1),
		addr:    conn.RemoteAddr(),
		laddr:   conn.NetConn().LocalAddr().String(),
		created: time.Now(),
	}
	c.resetState()
	if g, ok := conn.NetConn().(*guardConn); ok {
		g.client = c
	}
	c.lastCmd.Store(time.Now().UnixMilli())
	conn.SetContext(c)
	s.mu.Lock()
	s.clients[c.id] = c
	s.mu.Unlock()
	s.stats.connections.Add(1)
	return true
}

func (s *Server) closed(conn redcon.Conn, err error) {
	c, _ := conn.Context().(*Client)
	if c == nil {
		return
	}
	s.unwatchAll(c)
	s.unsubscribeAll(c)
	c.out.close()
	s.mu.Lock()
	delete(s.clients, c.id)
	s.mu.Unlock()
}

// serveCommand is redcon's handler: it dispatches one command and, at the
// end of a pipelined batch, waits once for the batch's writes to be durable
// before redcon flushes the replies (or, once the connection has subscribed,
// before its outbound queue is released).
func (s *Server) serveCommand(conn redcon.Conn, rc redcon.Command) {
	c, _ := conn.Context().(*Client)
	if c == nil || c.killed.Load() {
		conn.Close()
		return
	}
	s.gate.RLock()
	defer s.gate.RUnlock()
	if !c.quitting {
		s.stats.commands.Add(1)
		start, errs := time.Now(), c.errorReplies
		c.lastCmd.Store(start.UnixMilli())
		c.out.hold()
		c.dispatch(rc.Args)
		s.metrics.observe(c, c.ran, start, errs)
		c.trackWrite()
		c.passReplies()
	}
	if len(conn.PeekPipeline()) > 0 {
		return
	}
	// A write whose commit failed gets MISCONF instead of its reply (persist.go).
	c.settleWrites()
	switch {
	case c.quitting && c.out != nil:
		c.out.closeAfterWrite()
		c.out.release()
	case c.quitting:
		conn.Close() // flushes the replies first
	default:
		c.out.release()
	}
}

// Clients returns the number of connected clients.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// sortedClients returns the connected clients ordered by id.
func (s *Server) sortedClients() []*Client {
	s.mu.Lock()
	out := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}
