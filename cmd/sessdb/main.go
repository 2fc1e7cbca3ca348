// Command sessdb runs the sessdb server: a durable, Redis-compatible session
// store. Usage, as redis-server: sessdb [path/to/sessdb.conf] [--directive value ...]
package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is main without os.Exit, so that tests can drive it.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "-v" || args[0] == "--version") {
		fmt.Fprintf(stdout, "sessdb v=%s (redis %s compatible)\n", server.Version, server.RedisVersion)
		return 0
	}
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
	srv := server.New(cfg, db, logger)
	if err := srv.Listen(); err != nil {
		logger.Printf("Failed listening: %v", err)
		db.Close()
		return 1
	}
	logger.Printf("sessdb %s (redis %s compatible) serving %s, data in %s, appendfsync %s", server.Version, server.RedisVersion, srv.Addr(), path, cfg.AppendFsync())
	logger.Print("Ready to accept connections tcp")

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	code := 0
	select {
	case s := <-sig:
		logger.Printf("Received %v, scheduling shutdown...", s)
		srv.Close()
		<-done
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
