package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sessdb/sessdb/config"
)

// TLS and protected mode. Every accepted connection, plain or TLS, is a
// secureConn under the protocol guard: guard → secureConn → (tls.Conn) →
// TCP. The TLS handshake runs in the connection's own goroutine, on its
// first read, with a deadline, so a client that never finishes it holds
// neither the accept loop nor anyone else. Refusals decided at accept
// (protected mode, maxclients) are written the same way for TLS clients.

// tlsHandshakeTimeout bounds a TLS handshake, tlsCloseWait the wait for a
// closing TLS connection's close_notify alert.
const (
	tlsHandshakeTimeout = 10 * time.Second
	tlsCloseWait        = 100 * time.Millisecond
)

// tlsState is the TLS port's configuration.
type tlsState struct {
	config *tls.Config
}

// tlsVersions are tls-protocols' names.
var tlsVersions = map[string]uint16{
	"tlsv1": tls.VersionTLS10, "tlsv1.1": tls.VersionTLS11, "tlsv1.2": tls.VersionTLS12, "tlsv1.3": tls.VersionTLS13,
}

// newTLSConfig builds the TLS server configuration from the tls-*
// directives, with errors that name the directive and file at fault.
func newTLSConfig(cfg *config.Config) (*tls.Config, error) {
	certFile, keyFile := cfg.TLSCertFile(), cfg.TLSKeyFile()
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls-port needs tls-cert-file and tls-key-file")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading tls-cert-file %q and tls-key-file %q: %w", certFile, keyFile, err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13}
	if p := cfg.TLSProtocols(); p != "" {
		tc.MinVersion, tc.MaxVersion = 0, 0
		for _, name := range strings.Fields(p) {
			v, ok := tlsVersions[strings.ToLower(name)]
			if !ok {
				return nil, fmt.Errorf("tls-protocols: unknown protocol %q", name)
			}
			if tc.MinVersion == 0 || v < tc.MinVersion {
				tc.MinVersion = v
			}
			if v > tc.MaxVersion {
				tc.MaxVersion = v
			}
		}
	}
	if ca := cfg.TLSCACertFile(); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("reading tls-ca-cert-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls-ca-cert-file %q holds no PEM certificate", ca)
		}
		tc.ClientCAs = pool
	}
	switch cfg.TLSAuthClients() {
	case "yes":
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	case "optional":
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		tc.ClientAuth = tls.NoClientCert
	}
	if tc.ClientAuth != tls.NoClientCert && tc.ClientCAs == nil {
		return nil, errors.New("tls-auth-clients yes or optional needs tls-ca-cert-file")
	}
	return tc, nil
}

// secureListener wraps every accepted connection in a secureConn, TLS when
// config is set.
type secureListener struct {
	net.Listener
	config *tls.Config
}

func (l secureListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	sc := &secureConn{Conn: nc, raw: nc}
	if l.config != nil {
		sc.tls = tls.Server(nc, l.config)
		sc.Conn = sc.tls
	}
	return sc, nil
}

// secureConn is an accepted connection: it runs the TLS handshake on first
// use and delivers a refusal decided at accept.
type secureConn struct {
	net.Conn
	raw net.Conn  // the TCP connection
	tls *tls.Conn // nil for plain TCP

	once         sync.Once
	handshakeErr error
	mu           sync.Mutex
	readDeadline time.Time // the last one set, restored after the handshake
	handedOff    bool      // a refusal goroutine owns the connection: Close leaves it alone
}

// handshake completes the TLS handshake (once, whichever goroutine asks
// first), within tlsHandshakeTimeout.
func (sc *secureConn) handshake() error {
	if sc.tls == nil {
		return nil
	}
	sc.once.Do(func() {
		_ = sc.tls.SetDeadline(time.Now().Add(tlsHandshakeTimeout))
		sc.handshakeErr = sc.tls.Handshake()
		sc.mu.Lock()
		rd := sc.readDeadline
		sc.mu.Unlock()
		_ = sc.tls.SetWriteDeadline(time.Time{})
		_ = sc.tls.SetReadDeadline(rd)
	})
	return sc.handshakeErr
}

func (sc *secureConn) Read(p []byte) (int, error) {
	if err := sc.handshake(); err != nil {
		return 0, err
	}
	return sc.Conn.Read(p)
}

func (sc *secureConn) Write(p []byte) (int, error) {
	if err := sc.handshake(); err != nil {
		return 0, err
	}
	return sc.Conn.Write(p)
}

func (sc *secureConn) SetReadDeadline(t time.Time) error {
	sc.mu.Lock()
	sc.readDeadline = t
	sc.mu.Unlock()
	return sc.Conn.SetReadDeadline(t)
}

func (sc *secureConn) SetDeadline(t time.Time) error {
	sc.mu.Lock()
	sc.readDeadline = t
	sc.mu.Unlock()
	return sc.Conn.SetDeadline(t)
}

// Close closes the connection unless a refusal is still being written to
// it; that goroutine closes it when done.
func (sc *secureConn) Close() error {
	sc.mu.Lock()
	off := sc.handedOff
	sc.mu.Unlock()
	if off {
		return nil
	}
	if sc.tls == nil {
		return sc.raw.Close()
	}
	// tls.Conn.Close sends a close_notify alert, which may wait up to 5 s
	// for a client that does not read; the caller (CLIENT KILL, shutdown)
	// waits at most tlsCloseWait for it, then the socket is closed.
	done := make(chan struct{})
	go func() {
		_ = sc.tls.Close()
		close(done)
	}()
	t := time.NewTimer(tlsCloseWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		_ = sc.raw.Close()
	}
	return nil
}

// secureOf finds the secureConn under a connection's wrappers.
func secureOf(nc net.Conn) *secureConn {
	for nc != nil {
		switch c := nc.(type) {
		case *secureConn:
			return c
		case *guardConn:
			nc = c.Conn
		default:
			return nil
		}
	}
	return nil
}

// refuse sends "-msg" to a connection being refused at accept. A plain
// connection is written at once, as Redis does; a TLS one is handed to a
// goroutine that completes the handshake (bounded) and writes there, so
// that the accept loop never waits for a client. The caller then returns
// false from accept, and redcon's Close leaves the connection to that
// goroutine.
func refuse(nc net.Conn, msg string) {
	line := []byte("-" + msg + "\r\n")
	sc := secureOf(nc)
	if sc == nil || sc.tls == nil {
		_, _ = nc.Write(line)
		return
	}
	sc.mu.Lock()
	sc.handedOff = true
	sc.mu.Unlock()
	go func() {
		if sc.handshake() == nil {
			_ = sc.tls.SetWriteDeadline(time.Now().Add(tlsHandshakeTimeout))
			_, _ = sc.tls.Write(line)
		}
		_ = sc.tls.Close()
	}()
}

// protectedRefuses is protected mode's decision (Redis's
// clientAcceptHandler): with protected-mode on and a default user that
// needs no password, only loopback clients are served.
func protectedRefuses(protected, defaultNoPass bool, remote string) bool {
	if !protected || !defaultNoPass {
		return false
	}
	return !isLoopback(remote)
}

// isLoopback reports whether "ip:port" (or a bare ip) is a loopback
// address: 127.0.0.0/8, ::1 or an IPv4-mapped 127.x.
func isLoopback(addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
