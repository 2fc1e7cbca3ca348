package server

import (
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
	notes  noteQueue     // keyspace events waiting to be published (notify.go)
	events atomic.Uint32 // notify-keyspace-events, read by every write

	stats stats

	scripts scriptCache // EVAL's script cache (cmd_script.go)
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
}

// New returns a server for db configured by cfg. It does not listen yet.
func New(cfg *config.Config, db *sessdb.DB, logger *log.Logger) *Server {
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	s := &Server{
		cfg:     cfg,
		db:      db,
		logger:  logger,
		table:   newCommandTable(),
		clients: map[int64]*Client{},
		watched: map[watchKey]map[*Client]struct{}{},
		started: time.Now(),
	}
	s.notes.wake = make(chan struct{}, 1)
	s.notes.stop = make(chan struct{})
	s.events.Store(uint32(cfg.KeyspaceEvents()))
	s.installHooks()
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
	case "notify-keyspace-events":
		s.events.Store(uint32(s.cfg.KeyspaceEvents()))
	case "timeout":
		s.mu.Lock()
		for _, rs := range s.rservers {
			rs.SetIdleClose(s.cfg.Timeout())
		}
		s.mu.Unlock()
	}
}

// Listen opens the configured listeners (every bind address on port).
func (s *Server) Listen() error {
	port := strconv.Itoa(s.cfg.Port())
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
		s.listeners = append(s.listeners, ln)
		if port == "0" {
			// Every address shares the first one's ephemeral port.
			port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		}
	}
	if len(s.listeners) == 0 {
		return errors.New("no address to listen on")
	}
	return nil
}

// Addr returns the first listener's address.
func (s *Server) Addr() net.Addr { return s.listeners[0].Addr() }

// Serve serves every listener until Close; it returns when all have stopped.
func (s *Server) Serve() error {
	errs := make(chan error, len(s.listeners))
	for _, ln := range s.listeners {
		rs := redcon.NewServerNetwork("tcp", "", s.serveCommand, s.accept, s.closed)
		s.mu.Lock()
		s.rservers = append(s.rservers, rs)
		s.mu.Unlock()
		if t := s.cfg.Timeout(); t > 0 {
			rs.SetIdleClose(t)
		}
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
		_, _ = conn.NetConn().Write([]byte("-" + errMaxClients + "\r\n"))
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
		c.lastCmd.Store(time.Now().UnixMilli())
		c.out.hold()
		c.dispatch(rc.Args)
		c.passReplies()
	}
	if len(conn.PeekPipeline()) > 0 {
		return
	}
	if c.pending != nil {
		err := s.db.Wait(c.pending)
		c.pending = nil
		if err != nil {
			// The batch's writes are not durable: no OK may reach the client.
			s.logger.Printf("commit failed: %v", err)
			c.out.close()
			redcon.BaseWriter(conn).SetBuffer(nil)
			conn.WriteError(fmt.Sprintf(errPersistence, err))
			conn.Close()
			return
		}
	}
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
