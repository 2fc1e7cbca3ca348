package sessdb_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
)

// The TLS protocol test serves sessdb's TLS port with certificates made by
// the test, and connects with go-redis, redis-cli and crypto/tls. The
// handshake rules (client certificates, protocol versions) are also run
// against redis-server with the same certificates. The protected-mode test
// listens on a non-loopback address of this machine.

// testPKI is a CA with a server and a client certificate, as PEM files.
type testPKI struct {
	dir                       string
	ca, serverCert, serverKey string
	clientCert, clientKey     string
	pool                      *x509.CertPool
	client                    tls.Certificate
	strangerCert              tls.Certificate // signed by another CA
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	p := &testPKI{dir: dir, pool: x509.NewCertPool()}
	caKey, caCert, caDER := makeCA(t, "sessdb test CA")
	p.pool.AddCert(caCert)
	p.ca = writePEM(t, dir, "ca.crt", "CERTIFICATE", caDER)

	serverTmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	p.serverCert, p.serverKey, _ = makeLeaf(t, dir, "server", serverTmpl, caCert, caKey)
	clientTmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "app"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	p.clientCert, p.clientKey, p.client = makeLeaf(t, dir, "client", clientTmpl, caCert, caKey)

	otherKey, otherCert, _ := makeCA(t, "some other CA")
	_, _, p.strangerCert = makeLeaf(t, t.TempDir(), "stranger", &x509.Certificate{
		Subject:     pkix.Name{CommonName: "stranger"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, otherCert, otherKey)
	return p
}

var serialNumber int64

func nextSerial() *big.Int {
	serialNumber++
	return big.NewInt(serialNumber)
}

func makeCA(t *testing.T, name string) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return key, cert, der
}

func makeLeaf(t *testing.T, dir, name string, tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (certFile, keyFile string, pair tls.Certificate) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl.SerialNumber = nextSerial()
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certFile = writePEM(t, dir, name+".crt", "CERTIFICATE", der)
	keyFile = writePEM(t, dir, name+".key", "PRIVATE KEY", keyDER)
	pair, err = tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	return certFile, keyFile, pair
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func (p *testPKI) serverArgs(tlsPort, authClients string, extra ...string) []string {
	return append([]string{"--tls-port", tlsPort, "--tls-cert-file", p.serverCert, "--tls-key-file", p.serverKey,
		"--tls-ca-cert-file", p.ca, "--tls-auth-clients", authClients}, extra...)
}

// tlsPing dials addr with cfg, sends PING and returns the reply line or
// the error of the handshake or the read.
func tlsPing(addr string, cfg *tls.Config) (string, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return "", err
	}
	return bufio.NewReader(conn).ReadString('\n')
}

// Ensure that go-redis over TLS runs commands (strings and sessions) on
// the TLS port while the plain port serves too, and that "port 0" with a
// TLS port closes plain TCP, as in Redis.
func TestTLS_GoRedis(t *testing.T) {
	p := newTestPKI(t)
	tlsPort, plainPort := freePort(t), freePort(t)
	srv, addr := startSessdbWith(t, p.serverArgs(tlsPort, "yes", "--port", plainPort)...)
	require.Equal(t, "127.0.0.1:"+plainPort, addr)
	require.Equal(t, "127.0.0.1:"+tlsPort, srv.TLSAddr().String())

	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.TLSAddr().String(), TLSConfig: &tls.Config{
		RootCAs: p.pool, Certificates: []tls.Certificate{p.client}, ServerName: "localhost",
	}})
	defer c.Close()
	require.NoError(t, c.Set(ctx, "k", "over tls", 0).Err())
	v, err := c.Get(ctx, "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "over tls", v)
	tok, err := c.Do(ctx, "SESS.CREATE", "alice").Text()
	require.NoError(t, err)
	n, err := c.Do(ctx, "SESS.REVOKE", tok).Int()
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	plain := redis.NewClient(&redis.Options{Addr: addr})
	defer plain.Close()
	v, err = plain.Get(ctx, "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "over tls", v, "the plain port serves the same data")
	conf, err := plain.ConfigGet(ctx, "tls-*").Result()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"tls-port": tlsPort, "tls-cert-file": p.serverCert, "tls-key-file": p.serverKey,
		"tls-ca-cert-file": p.ca, "tls-auth-clients": "yes", "tls-protocols": ""}, conf)

	// Plain TCP on the TLS port fails: the server expects a handshake.
	raw, err := net.DialTimeout("tcp", srv.TLSAddr().String(), 5*time.Second)
	require.NoError(t, err)
	defer raw.Close()
	_, _ = raw.Write([]byte("PING\r\n"))
	_ = raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	reply, _ := bufio.NewReader(raw).ReadString('\n')
	assert.NotEqual(t, "+PONG\r\n", reply)

	t.Run("port 0 disables plain TCP", func(t *testing.T) {
		tlsOnly := freePort(t)
		srv, addr := startSessdbWith(t, p.serverArgs(tlsOnly, "no", "--port", "0")...)
		assert.Equal(t, "127.0.0.1:"+tlsOnly, addr)
		assert.Equal(t, addr, srv.TLSAddr().String())
		reply, err := tlsPing(addr, &tls.Config{RootCAs: p.pool, ServerName: "localhost"})
		require.NoError(t, err)
		assert.Equal(t, "+PONG\r\n", reply)
	})
}

// Ensure that redis-cli --tls connects with the CA and a client
// certificate and runs commands.
func TestTLS_RedisCLI(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed: install Debian redis-tools")
	}
	if out, _ := exec.Command(cli, "--help").CombinedOutput(); !strings.Contains(string(out), "--tls") {
		t.Skip("this redis-cli was built without TLS")
	}
	p := newTestPKI(t)
	srv, _ := startSessdbWith(t, p.serverArgs(freePort(t), "yes")...)
	_, port, _ := net.SplitHostPort(srv.TLSAddr().String())
	run := func(args ...string) string {
		base := []string{"--tls", "--cacert", p.ca, "--cert", p.clientCert, "--key", p.clientKey, "-h", "127.0.0.1", "-p", port}
		out, err := exec.Command(cli, append(base, args...)...).CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	assert.Equal(t, "PONG\n", run("PING"))
	assert.Equal(t, "OK\n", run("SET", "greeting", "hello"))
	assert.Equal(t, "hello\n", run("GET", "greeting"))

	// Without a client certificate the server refuses (tls-auth-clients yes).
	out, _ := exec.Command(cli, "--tls", "--cacert", p.ca, "-h", "127.0.0.1", "-p", port, "PING").CombinedOutput()
	assert.NotContains(t, string(out), "PONG")
}

// tlsRule is one handshake and its expected outcome.
type tlsRule struct {
	name string
	cfg  func(p *testPKI) *tls.Config
	ok   bool
}

func baseTLS(p *testPKI) *tls.Config { return &tls.Config{RootCAs: p.pool, ServerName: "localhost"} }

func withCert(p *testPKI) *tls.Config {
	c := baseTLS(p)
	c.Certificates = []tls.Certificate{p.client}
	return c
}

// withStranger sends a certificate of another CA whatever CAs the server
// names as acceptable.
func withStranger(p *testPKI) *tls.Config {
	c := baseTLS(p)
	c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &p.strangerCert, nil }
	return c
}

func maxVersion(v uint16, f func(*testPKI) *tls.Config) func(*testPKI) *tls.Config {
	return func(p *testPKI) *tls.Config {
		c := f(p)
		c.MaxVersion = v
		return c
	}
}

func minVersion(v uint16, f func(*testPKI) *tls.Config) func(*testPKI) *tls.Config {
	return func(p *testPKI) *tls.Config {
		c := f(p)
		c.MinVersion = v
		return c
	}
}

// Ensure that tls-auth-clients (yes, optional, no) and tls-protocols are
// enforced at the handshake exactly where redis-server enforces them.
func TestTLS_HandshakeRules(t *testing.T) {
	cases := []struct {
		name        string
		authClients string
		protocols   string
		rules       []tlsRule
	}{
		{"auth-clients yes", "yes", "", []tlsRule{
			{"client certificate", withCert, true},
			{"no client certificate", baseTLS, false},
			{"certificate of another CA", withStranger, false},
			{"TLS 1.2 with certificate", maxVersion(tls.VersionTLS12, withCert), true},
		}},
		{"auth-clients optional", "optional", "", []tlsRule{
			{"client certificate", withCert, true},
			{"no client certificate", baseTLS, true},
			{"certificate of another CA", withStranger, false},
		}},
		{"auth-clients no", "no", "", []tlsRule{
			{"no client certificate", baseTLS, true},
			{"client certificate", withCert, true},
		}},
		{"protocols TLSv1.3 only", "no", "TLSv1.3", []tlsRule{
			{"TLS 1.3", minVersion(tls.VersionTLS13, baseTLS), true},
			{"TLS 1.2", maxVersion(tls.VersionTLS12, baseTLS), false},
		}},
		{"protocols TLSv1.2 only", "no", "TLSv1.2", []tlsRule{
			{"TLS 1.2", maxVersion(tls.VersionTLS12, baseTLS), true},
			{"TLS 1.3", minVersion(tls.VersionTLS13, baseTLS), false},
		}},
		{"default protocols refuse TLS 1.1", "no", "", []tlsRule{
			{"TLS 1.1", maxVersion(tls.VersionTLS11, baseTLS), false},
			{"TLS 1.2", maxVersion(tls.VersionTLS12, baseTLS), true},
		}},
	}
	p := newTestPKI(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var extra []string
			if tc.protocols != "" {
				extra = []string{"--tls-protocols", tc.protocols}
			}
			check := func(t *testing.T, addr string) {
				for _, r := range tc.rules {
					reply, err := tlsPing(addr, r.cfg(p))
					if r.ok {
						require.NoError(t, err, r.name)
						assert.Equal(t, "+PONG\r\n", reply, r.name)
					} else {
						assert.True(t, err != nil || reply != "+PONG\r\n", "%s: expected a refusal, got %q", r.name, reply)
					}
				}
			}
			t.Run("sessdb", func(t *testing.T) {
				srv, _ := startSessdbWith(t, p.serverArgs(freePort(t), tc.authClients, extra...)...)
				check(t, srv.TLSAddr().String())
			})
			t.Run("redis", func(t *testing.T) {
				port := freePort(t)
				startRedisWith(t, p.serverArgs(port, tc.authClients, extra...)...)
				check(t, "127.0.0.1:"+port)
			})
		})
	}
}

// Ensure that a TLS client that never completes its handshake holds up
// neither the accept loop nor other clients.
func TestTLS_StalledHandshake(t *testing.T) {
	p := newTestPKI(t)
	srv, _ := startSessdbWith(t, p.serverArgs(freePort(t), "no")...)
	for i := 0; i < 5; i++ {
		stall, err := net.Dial("tcp", srv.TLSAddr().String())
		require.NoError(t, err)
		defer stall.Close()
		_, _ = stall.Write([]byte{0x16, 0x03}) // the start of a ClientHello, then nothing
	}
	reply, err := tlsPing(srv.TLSAddr().String(), baseTLS(p))
	require.NoError(t, err)
	assert.Equal(t, "+PONG\r\n", reply)
}

// Ensure that a wrong TLS configuration stops the server with an error
// naming what is wrong.
func TestTLS_ConfigErrors(t *testing.T) {
	p := newTestPKI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-port", "0"}, ""},
		{[]string{"--tls-port", freePort(t)}, "tls-port needs tls-cert-file and tls-key-file"},
		{[]string{"--tls-port", freePort(t), "--tls-cert-file", p.serverCert, "--tls-key-file", p.clientKey}, "tls-key-file"},
		{[]string{"--tls-port", freePort(t), "--tls-cert-file", p.serverCert, "--tls-key-file", p.serverKey}, "tls-auth-clients yes or optional needs tls-ca-cert-file"},
		{[]string{"--tls-port", freePort(t), "--tls-cert-file", p.serverCert, "--tls-key-file", p.serverKey, "--tls-ca-cert-file", p.serverKey}, "holds no PEM certificate"},
	} {
		srvErr := listenErr(t, tc.args...)
		if tc.want == "" {
			assert.NoError(t, srvErr)
			continue
		}
		require.Error(t, srvErr, "%q", tc.args)
		assert.Contains(t, srvErr.Error(), tc.want)
	}
}

// listenErr returns the error of starting a server configured by args
// (nil when it starts; it is closed again).
func listenErr(t *testing.T, args ...string) error {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(append([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir}, args...))
	require.NoError(t, err)
	db, err := sessdb.Open(filepath.Join(dir, cfg.DBFilename()), nil)
	require.NoError(t, err)
	defer db.Close()
	srv := server.New(cfg, db, nil)
	err = srv.Listen()
	if err == nil {
		require.NoError(t, srv.Close())
	}
	return err
}

// nonLoopbackIPv4 returns an IPv4 address of this machine that is not
// loopback, or "".
func nonLoopbackIPv4() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

// readAll reads what the server sends until it closes the connection.
func readAll(t *testing.T, addr string, send string, cfg *tls.Config) string {
	t.Helper()
	var conn net.Conn
	var err error
	if cfg != nil {
		conn, err = tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	} else {
		conn, err = net.DialTimeout("tcp", addr, 5*time.Second)
	}
	require.NoError(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = conn.Write([]byte(send))
	out, _ := io.ReadAll(conn)
	return string(out)
}

const deniedReply = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

// Ensure that with protected mode on and no password, a client from a
// non-loopback address gets Redis's -DENIED reply and is disconnected,
// over plain TCP and TLS, while loopback clients are served; and that a
// password or protected-mode no lets it in. The plain-TCP bytes are
// compared with redis-server's.
func TestProtectedMode_RefusesNonLoopback(t *testing.T) {
	ip := nonLoopbackIPv4()
	if ip == "" {
		t.Skip("this machine has no non-loopback IPv4 address; TestProtectedMode_Decision covers the rule")
	}
	p := newTestPKI(t)
	bind := []string{"--bind", "127.0.0.1 " + ip, "--port", freePort(t)}
	srv, loop := startSessdbWith(t, append(p.serverArgs(freePort(t), "no"), bind...)...)
	_, port, _ := net.SplitHostPort(loop)
	outside := net.JoinHostPort(ip, port)

	assert.Equal(t, deniedReply, readAll(t, outside, "PING\r\n", nil))
	_, tlsPort, _ := net.SplitHostPort(srv.TLSAddr().String())
	tlsCfg := &tls.Config{RootCAs: p.pool, ServerName: "localhost", InsecureSkipVerify: true}
	assert.Equal(t, deniedReply, readAll(t, net.JoinHostPort(ip, tlsPort), "PING\r\n", tlsCfg), "over TLS too")
	assert.Equal(t, "+PONG\r\n+OK\r\n", readAll(t, loop, "PING\r\nQUIT\r\n", nil), "loopback is served")

	c := dialRESP(t, loop)
	info := c.do("INFO", "stats")
	assert.Contains(t, info, "protected_mode_denied_connections:2\r\n")

	// A password on the default user lifts protected mode.
	require.Equal(t, "+OK\r\n", c.do("CONFIG", "SET", "requirepass", "pw"))
	assert.Equal(t, noauth+"+OK\r\n", readAll(t, outside, "PING\r\nQUIT\r\n", nil))
	// So does protected-mode no.
	require.Equal(t, "+OK\r\n", c.do("AUTH", "pw"))
	require.Equal(t, "+OK\r\n", c.do("CONFIG", "SET", "requirepass", ""))
	assert.Equal(t, deniedReply, readAll(t, outside, "PING\r\n", nil))
	require.Equal(t, "+OK\r\n", c.do("CONFIG", "SET", "protected-mode", "no"))
	assert.Equal(t, "+PONG\r\n+OK\r\n", readAll(t, outside, "PING\r\nQUIT\r\n", nil))

	t.Run("redis", func(t *testing.T) {
		_, rport, _ := net.SplitHostPort(startRedisWith(t, "--bind", "127.0.0.1 "+ip))
		assert.Equal(t, deniedReply, readAll(t, net.JoinHostPort(ip, rport), "PING\r\n", nil))
		assert.Equal(t, "+PONG\r\n+OK\r\n", readAll(t, net.JoinHostPort("127.0.0.1", rport), "PING\r\nQUIT\r\n", nil))
	})
}
