package httpapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessdb/sessdb"
)

// The defaults of Options.
const (
	DefaultMaxBodyBytes  = 64 << 10
	DefaultMaxConcurrent = 1024
	DefaultReadTimeout   = 10 * time.Second
	DefaultWriteTimeout  = 10 * time.Second
	DefaultIdleTimeout   = 120 * time.Second
	DefaultJWKSMaxAge    = 5 * time.Minute
	maxHeaderBytes       = 16 << 10
)

// Options configure New. DB and JWT are required; zero limits take the defaults.
type Options struct {
	// Addrs are the host:port addresses to listen on. A leading "-" means
	// "skip if unavailable", as in the bind directive. Port 0 picks a free
	// port, shared by every address.
	Addrs []string
	// DB holds the sessions that introspection and revocation look up.
	DB *sessdb.DB
	// JWT verifies JWTs and provides the JWK Set.
	JWT *sessdb.JWT
	// Clients are the introspection and revocation clients: id -> secret.
	// Only hashes are kept. With none, both endpoints refuse every request.
	Clients map[string]string
	// Metrics, when set, is served at /metrics.
	Metrics http.Handler
	// Admin, when set, is mounted at /admin/.
	Admin http.Handler
	// Ready reports whether storage is open and committing; nil checks the
	// DB's last commit.
	Ready func() error
	// MaxBodyBytes caps a request body. Default 64 KiB.
	MaxBodyBytes int64
	// MaxConcurrent caps requests in flight; more get 503. Default 1024.
	MaxConcurrent int
	// ReadTimeout, WriteTimeout and IdleTimeout bound a connection.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// JWKSMaxAge is the JWK Set's Cache-Control max-age. Default 5 minutes,
	// and never longer than the JWT lifetime cap, so that verifiers learn a
	// rotated key within one token lifetime.
	JWKSMaxAge time.Duration
	// Logger receives server errors; never secrets. Default: discard.
	Logger *log.Logger
}

// Server is the HTTP face. It is safe for concurrent use.
type Server struct {
	opts    Options
	clients map[string][sha256.Size]byte
	slots   chan struct{}
	handler http.Handler
	hs      *http.Server
	lns     []net.Listener
	closing atomic.Bool
	wg      sync.WaitGroup
}

// New validates o and builds the server; it does not listen yet.
func New(o Options) (*Server, error) {
	if o.DB == nil || o.JWT == nil {
		return nil, errors.New("httpapi: Options.DB and Options.JWT are required")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.JWKSMaxAge <= 0 {
		o.JWKSMaxAge = DefaultJWKSMaxAge
	}
	o.JWKSMaxAge = min(o.JWKSMaxAge, o.JWT.Options().MaxTTL)
	if o.Logger == nil {
		o.Logger = log.New(io.Discard, "", 0)
	}
	if o.Ready == nil {
		db := o.DB
		o.Ready = func() error { return db.Store().Stats().LastErr }
	}
	s := &Server{opts: o, clients: map[string][sha256.Size]byte{}, slots: make(chan struct{}, o.MaxConcurrent)}
	for id, secret := range o.Clients {
		s.clients[id] = sha256.Sum256([]byte(secret))
	}
	s.opts.Clients = nil
	s.handler = s.routes()
	s.hs = &http.Server{
		Handler:           s.handler,
		ReadTimeout:       o.ReadTimeout,
		ReadHeaderTimeout: o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          o.Logger,
	}
	return s, nil
}

// Handler returns the routes with their limits, for tests and for mounting
// in another server.
func (s *Server) Handler() http.Handler { return s.handler }

// Listen opens every address of Options.Addrs.
func (s *Server) Listen() error {
	port := ""
	for _, addr := range s.opts.Addrs {
		optional := len(addr) > 0 && addr[0] == '-'
		if optional {
			addr = addr[1:]
		}
		host, p, err := net.SplitHostPort(addr)
		if err != nil {
			return err
		}
		if p == "0" && port != "" {
			p = port
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, p))
		if err != nil {
			if optional {
				continue
			}
			s.closeListeners()
			return err
		}
		if port == "" {
			port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		}
		s.lns = append(s.lns, ln)
	}
	if len(s.lns) == 0 {
		return errors.New("httpapi: no address to listen on")
	}
	return nil
}

func (s *Server) closeListeners() {
	for _, ln := range s.lns {
		_ = ln.Close()
	}
	s.lns = nil
}

// Addr returns the first listener's address.
func (s *Server) Addr() net.Addr { return s.lns[0].Addr() }

// Serve serves every listener until Shutdown.
func (s *Server) Serve() error {
	errs := make(chan error, len(s.lns))
	for _, ln := range s.lns {
		s.wg.Add(1)
		go func(ln net.Listener) {
			defer s.wg.Done()
			if err := s.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- err
			}
		}(ln)
	}
	s.wg.Wait()
	close(errs)
	return <-errs
}

// Shutdown stops accepting, makes /readyz fail, and waits for requests in
// flight to finish (or ctx to end).
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	return s.hs.Shutdown(ctx)
}
