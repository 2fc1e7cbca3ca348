package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/server"
	"github.com/sessdb/sessdb/storage"
)

// The maintenance subcommands: sessdb backup, check and compact. They work
// on a database file that no server has open (bbolt's file lock makes a
// second opener wait, and they give up after --timeout), except backup
// --addr, which asks a running server to SAVE and copies its backup.

// tools are the subcommands, by name.
var tools = map[string]func(args []string, stdout, stderr io.Writer) int{
	"backup":  runBackup,
	"check":   runCheck,
	"compact": runCompact,
}

// runTool runs args as a subcommand if args[0] names one.
func runTool(args []string, stdout, stderr io.Writer) (int, bool) {
	if len(args) == 0 {
		return 0, false
	}
	tool, ok := tools[args[0]]
	if !ok {
		return 0, false
	}
	return tool(args[1:], stdout, stderr), true
}

func toolFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sessdb "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: sessdb %s %s\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

const backupUsage = "--to FILE (--from DBFILE | --addr HOST:PORT [--user U] [--password P])"

// runBackup writes a consistent copy of a database to --to: from a file no
// server has open (--from), or from a running server on this machine
// (--addr), which SAVEs its backup next to its database; the copy is then
// copied to --to.
func runBackup(args []string, stdout, stderr io.Writer) int {
	fs := toolFlags("backup", backupUsage, stderr)
	to := fs.String("to", "", "the backup file to write (atomically replaced)")
	from := fs.String("from", "", "the database file to copy; no server may have it open")
	addr := fs.String("addr", "", "a running sessdb server on this machine to SAVE and copy from")
	user := fs.String("user", "", "ACL user for --addr")
	password := fs.String("password", "", "password for --addr (or REDISCLI_AUTH)")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for the file lock")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *to == "" || (*from == "") == (*addr == "") {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	var n int64
	var err error
	if *from != "" {
		n, err = storage.BackupFile(*from, *to, *timeout)
		if errors.Is(err, storage.ErrLocked) {
			err = fmt.Errorf("%w; back up a running server with --addr", err)
		}
	} else {
		pass := *password
		if pass == "" {
			pass = os.Getenv("REDISCLI_AUTH")
		}
		n, err = backupFromServer(*addr, *user, pass, *to)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sessdb backup: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "backup written to %s (%d bytes)\n", *to, n)
	return 0
}

// backupFromServer asks the server at addr to SAVE, finds its backup from
// CONFIG GET dir and dbfilename, and copies it to to.
func backupFromServer(addr, user, password, to string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: addr, Username: user, Password: password, MaxRetries: -1, DisableIdentity: true})
	defer rdb.Close()
	if err := rdb.Save(ctx).Err(); err != nil {
		return 0, fmt.Errorf("SAVE on %s: %w", addr, err)
	}
	dir, err := rdb.ConfigGet(ctx, "dir").Result()
	if err != nil {
		return 0, fmt.Errorf("CONFIG GET dir on %s: %w", addr, err)
	}
	name, err := rdb.ConfigGet(ctx, "dbfilename").Result()
	if err != nil {
		return 0, fmt.Errorf("CONFIG GET dbfilename on %s: %w", addr, err)
	}
	src := filepath.Join(dir["dir"], name["dbfilename"]) + server.BackupSuffix
	if abs, _ := filepath.Abs(to); abs == src {
		fi, err := os.Stat(src)
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	// The server's backup is a closed, consistent bbolt file: copying it
	// through BackupFile also proves it opens.
	n, err := storage.BackupFile(src, to, 2*time.Second)
	if err != nil {
		return 0, fmt.Errorf("copying the server's backup %s (is the server on another machine?): %w", src, err)
	}
	return n, nil
}

// runCheck verifies a database file: bbolt's consistency check, then every
// record decoded by loading a snapshot of it as the server would, session
// index included.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := toolFlags("check", "[--tmpdir DIR] FILE", stderr)
	tmp := fs.String("tmpdir", "", "where to put the temporary snapshot (default: the system's)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	path := fs.Arg(0)
	rep, err := storage.CheckFile(path, *tmp, true)
	if rep.Snapshot != "" {
		defer os.Remove(rep.Snapshot)
	}
	if err != nil {
		for _, p := range rep.Problems {
			fmt.Fprintf(stderr, "  %s\n", p)
		}
		fmt.Fprintf(stderr, "sessdb check: %v\n", err)
		return 1
	}
	db, err := sessdb.Open(rep.Snapshot, &sessdb.Options{Databases: rep.Databases, ReapInterval: -1})
	if err != nil {
		fmt.Fprintf(stderr, "sessdb check: %s: sessions: %v\n", path, err)
		return 1
	}
	st := db.Sessions().Stats()
	if err := db.Close(); err != nil {
		fmt.Fprintf(stderr, "sessdb check: %s: %v\n", path, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok: %d keys, %d live sessions of %d users, %d log records, %d bytes in use\n",
		path, rep.Keys, st.Live, st.Users, rep.LogRecords, rep.Size)
	return 0
}

// runCompact rewrites a database file smaller.
func runCompact(args []string, stdout, stderr io.Writer) int {
	fs := toolFlags("compact", "[--timeout D] FILE", stderr)
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for the file lock")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	before, after, err := storage.CompactFile(fs.Arg(0), *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "sessdb compact: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d bytes -> %d bytes\n", fs.Arg(0), before, after)
	return 0
}
