// Command sessdb runs the sessdb server: a durable, Redis-compatible session
// store. Usage, as redis-server: sessdb [path/to/sessdb.conf] [--directive value ...];
// maintenance: sessdb backup|check|compact (see tools.go).
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/httpapi"
	"github.com/sessdb/sessdb/server"
	"github.com/sessdb/sessdb/storage"
	"github.com/sessdb/sessdb/web/admin"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is main without os.Exit, so that tests can drive it.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "-v" || args[0] == "--version") {
		fmt.Fprintf(stdout, "sessdb v=%s (redis %s compatible)\n", server.Version, server.RedisVersion)
		return 0
	}
	if code, ok := runTool(args, stdout, stderr); ok { // backup, check, compact: tools.go
		return code
	}
	stopProfile, err := startProfile(os.Getenv("SESSDB_CPUPROFILE"))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer stopProfile()
	cfg, err := config.Load(args)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	out := stdout
	if f := cfg.LogFile(); f != "" {
		lf, err := os.OpenFile(f, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer lf.Close()
		out = lf
	}
	logger := log.New(out, fmt.Sprintf("%d:M ", os.Getpid()), log.LstdFlags|log.Lmicroseconds)
	fsync, err := sessdb.ParseFsync(cfg.AppendFsync())
	if err != nil {
		logger.Print(err)
		return 1
	}
	path := filepath.Join(cfg.Dir(), cfg.DBFilename())
	db, err := sessdb.Open(path, &sessdb.Options{Databases: cfg.Databases(), Fsync: fsync})
	if err != nil {
		logger.Printf("Fatal error loading the DB: %v. Exiting.", err)
		return 1
	}
	storage.TuneGC() // after the load: cap the GC's headroom over the live keyspace
	srv := server.New(cfg, db, logger)
	if err := srv.Listen(); err != nil {
		logger.Printf("Failed listening: %v", err)
		db.Close()
		return 1
	}
	jwtKeys, err := srv.JWT() // fails on a missing or wrong jwt-key-passphrase
	if err != nil {
		logger.Printf("Fatal error opening the JWT signing keys: %v. Exiting.", err)
		srv.Close()
		db.Close()
		return 1
	}
	var api *httpapi.Server
	if cfg.HTTPPort() != 0 {
		o := httpapi.OptionsFromConfig(cfg)
		o.DB, o.JWT, o.Metrics, o.Logger = db, jwtKeys, srv.MetricsHandler(), logger
		if cfg.AdminEnable() {
			o.Admin = adminPage(db, srv)
		}
		if api, err = httpapi.New(o); err == nil {
			err = api.Listen()
		}
		if err != nil {
			logger.Printf("Failed listening (HTTP): %v", err)
			srv.Close()
			db.Close()
			return 1
		}
		go func() { _ = api.Serve() }()
		logger.Printf("HTTP (JWKS, introspection, metrics) on %s", api.Addr())
	}
	if cfg.AdminEnable() && cfg.HTTPPort() == 0 {
		logger.Print("WARNING admin-enable is yes but http-port is 0: the admin page is not served")
	}
	logger.Printf("sessdb %s (redis %s compatible) serving %s, data in %s, appendfsync %s", server.Version, server.RedisVersion, srv.Addr(), path, cfg.AppendFsync())
	if a := srv.TLSAddr(); a != nil {
		logger.Printf("TLS on %s", a)
	}
	logger.Print("Ready to accept connections tcp")

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	code := 0
	stop := func() {
		if api != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = api.Shutdown(ctx)
			cancel()
		}
		srv.Close()
		<-done
	}
	select {
	case s := <-sig:
		logger.Printf("Received %v, scheduling shutdown...", s)
		stop()
	case <-srv.ShutdownRequested():
		stop()
	case err := <-done:
		if err != nil {
			logger.Printf("serve: %v", err)
			code = 1
		}
	}
	if err := db.Close(); err != nil {
		logger.Printf("closing the database: %v", err)
		return 1
	}
	logger.Print("sessdb is now ready to exit, bye bye...")
	return code
}

// adminPage is the sessions admin page, guarded by the server's own
// passwords (requirepass or ACL users).
func adminPage(db *sessdb.DB, srv *server.Server) http.Handler {
	return admin.New(admin.Options{
		Sessions:     db.Sessions(),
		Authenticate: srv.CheckCredentials,
		Counters: func() admin.Counters {
			st := db.Sessions().Stats()
			return admin.Counters{Sessions: st.Live, Users: st.Users, Commands: srv.CommandsProcessed()}
		},
	})
}
