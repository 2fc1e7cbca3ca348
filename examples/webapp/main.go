package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/web"
	"github.com/sessdb/sessdb/web/admin"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "webapp:", err)
		os.Exit(1)
	}
}

// run parses the flags, opens the store, and serves until SIGINT or SIGTERM.
func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("webapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "localhost:8080", "HTTP listen address")
	dataDir := fs.String("data", "webapp-data", "directory of the embedded sessdb database (ignored with -resp)")
	respAddr := fs.String("resp", "", "address of a sessdb server to use over RESP instead of the embedded database")
	respPass := fs.String("resp-password", "", "AUTH password for -resp (or set SESSDB_PASSWORD)")
	password := fs.String("password", "demo", "the demo password of every user")
	adminPass := fs.String("admin-password", "", "serve the sessions admin page at /admin/ for user \"admin\" with this password (embedded database only)")
	insecure := fs.Bool("insecure-cookies", false, "drop Secure and the __Host- prefix, for plain HTTP on hosts other than localhost (development only)")
	idle := fs.Duration("idle", 30*time.Minute, "session idle timeout")
	absolute := fs.Duration("absolute", 12*time.Hour, "session absolute lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := log.New(stderr, "webapp ", log.LstdFlags)

	var store web.Store
	var adminHandler http.Handler
	if *respAddr != "" {
		pass := *respPass
		if pass == "" {
			pass = os.Getenv("SESSDB_PASSWORD")
		}
		rc := redis.NewClient(&redis.Options{Addr: *respAddr, Password: pass})
		defer rc.Close()
		if err := rc.Ping(context.Background()).Err(); err != nil {
			return fmt.Errorf("sessdb at %s: %w", *respAddr, err)
		}
		store = web.RESP(rc)
		if *adminPass != "" {
			return errors.New("-admin-password needs the embedded database: sessdb's own HTTP port serves the admin page (admin-enable yes)")
		}
		logger.Printf("sessions in the sessdb server at %s (RESP)", *respAddr)
	} else {
		if err := os.MkdirAll(*dataDir, 0o700); err != nil {
			return err
		}
		path := filepath.Join(*dataDir, "sessions.db")
		db, err := sessdb.Open(path, &sessdb.Options{})
		if err != nil {
			return err
		}
		defer db.Close()
		store = web.Embedded(db.Sessions())
		if *adminPass != "" {
			want := []byte(*adminPass)
			adminHandler = admin.New(admin.Options{
				Sessions: db.Sessions(),
				Authenticate: func(user, pass string) bool {
					ok := subtle.ConstantTimeCompare([]byte(pass), want) == 1
					return user == "admin" && ok
				},
			})
		}
		logger.Printf("sessions in the embedded database %s", path)
	}

	m := web.New(store, &web.Options{Insecure: *insecure})
	handler := newApp(appConfig{
		Manager:  m,
		Password: *password,
		Session:  sessdb.CreateOptions{Idle: *idle, Absolute: *absolute},
		Admin:    adminHandler,
		Logger:   logger,
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	logger.Printf("open http://%s (any user name, password %q)", displayAddr(ln.Addr(), *listen), *password)
	if adminHandler != nil {
		logger.Printf("admin page: http://%s/admin/ (user admin)", displayAddr(ln.Addr(), *listen))
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case <-sig:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	case err := <-done:
		return err
	}
}

// displayAddr keeps "localhost" in the printed URL: browsers treat
// http://localhost as a secure context and accept Secure cookies from it.
func displayAddr(a net.Addr, asked string) string {
	host, _, _ := net.SplitHostPort(asked)
	_, port, _ := net.SplitHostPort(a.String())
	if host == "" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
