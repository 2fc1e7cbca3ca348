package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// toolsFixture writes a database with keys of every kind, a live and a
// revoked session, and returns its path and the two tokens.
func toolsFixture(t *testing.T, dir string) (path, live, revoked string) {
	t.Helper()
	path = filepath.Join(dir, "sessdb.db")
	db, err := sessdb.Open(path, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *sessdb.Tx) error {
		for i := range 300 {
			tx.SetString(0, fmt.Sprintf("k%d", i), []byte(fmt.Sprint(i)), 0)
			tx.SetString(3, fmt.Sprintf("ttl%d", i), []byte("x"), time.Now().Add(time.Hour).UnixMilli())
			if _, err := tx.HSet(0, fmt.Sprintf("h%d", i%7), fmt.Sprint(i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	}))
	ctx := context.Background()
	live, err = db.Sessions().Create(ctx, "alice", sessdb.CreateOptions{})
	require.NoError(t, err)
	revoked, err = db.Sessions().Create(ctx, "alice", sessdb.CreateOptions{})
	require.NoError(t, err)
	ok, err := db.Sessions().Revoke(revoked)
	require.NoError(t, err)
	require.True(t, ok)
	// Churn, so that compaction has free pages to drop.
	for round := range 4 {
		require.NoError(t, db.Update(func(tx *sessdb.Tx) error {
			for i := range 500 {
				tx.SetString(1, fmt.Sprintf("churn%d-%d", round, i), bytes.Repeat([]byte("c"), 512), 0)
			}
			return nil
		}))
	}
	require.NoError(t, db.Update(func(tx *sessdb.Tx) error {
		tx.FlushDB(1)
		return nil
	}))
	require.NoError(t, db.Close())
	return path, live, revoked
}

// requireRestored opens path and requires the fixture's state.
func requireRestored(t *testing.T, path, live, revoked string) {
	t.Helper()
	db, err := sessdb.Open(path, nil)
	require.NoError(t, err)
	defer db.Close()
	for i := range 300 {
		v, ok, err := db.Get(0, fmt.Sprintf("k%d", i))
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, fmt.Sprint(i), string(v))
		ttl, ok, err := db.TTL(3, fmt.Sprintf("ttl%d", i))
		require.NoError(t, err)
		require.True(t, ok)
		require.Greater(t, ttl, 59*time.Minute)
	}
	h, err := db.HGetAll(0, "h0")
	require.NoError(t, err)
	require.Len(t, h, 43)
	s, err := db.Sessions().Get(live, false)
	require.NoError(t, err)
	require.NotNil(t, s)
	require.Equal(t, "alice", s.User)
	s, err = db.Sessions().Get(revoked, false)
	require.NoError(t, err)
	require.Nil(t, s, "a revoked session came back")
}

// Ensure that sessdb backup --from copies a database no server has open,
// check passes it with its counts, compact makes the file smaller without
// losing anything, and a server started from the backup has every key and
// session.
func TestTools_BackupCheckCompact(t *testing.T) {
	path, live, revoked := toolsFixture(t, t.TempDir())
	bak := filepath.Join(t.TempDir(), "copy.db")
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"backup", "--from", path, "--to", bak}, &out, &errb), errb.String())
	require.Contains(t, out.String(), "backup written to "+bak)

	out.Reset()
	require.Equal(t, 0, run([]string{"check", bak}, &out, &errb), errb.String())
	require.Contains(t, out.String(), bak+": ok: 607 keys, 1 live sessions of 1 users")

	fi, err := os.Stat(path)
	require.NoError(t, err)
	out.Reset()
	require.Equal(t, 0, run([]string{"compact", path}, &out, &errb), errb.String())
	fi2, err := os.Stat(path)
	require.NoError(t, err)
	require.Less(t, fi2.Size(), fi.Size(), out.String())
	t.Logf("compact: %s", bytes.TrimSpace(out.Bytes()))
	out.Reset()
	require.Equal(t, 0, run([]string{"check", path}, &out, &errb), errb.String())

	requireRestored(t, path, live, revoked)
	requireRestored(t, bak, live, revoked)
}

// Ensure that the tools refuse a file a server holds open, naming the
// lock, and that backup --addr gets a copy from the running server instead.
func TestTools_RunningServer(t *testing.T) {
	dir := t.TempDir()
	path, live, revoked := toolsFixture(t, dir)
	db, err := sessdb.Open(path, nil)
	require.NoError(t, err)
	cfg, err := config.Load([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir})
	require.NoError(t, err)
	srv := server.New(cfg, db, nil)
	require.NoError(t, srv.Listen())
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()

	var out, errb bytes.Buffer
	for _, args := range [][]string{
		{"backup", "--timeout", "100ms", "--from", path, "--to", filepath.Join(t.TempDir(), "x")},
		{"compact", "--timeout", "100ms", path},
		{"check", path},
	} {
		errb.Reset()
		require.Equal(t, 1, run(args, &out, &errb), args)
		require.Contains(t, errb.String(), path, args)
		require.Contains(t, errb.String(), "locked by another process", args)
	}
	bak := filepath.Join(t.TempDir(), "remote.db")
	require.Equal(t, 0, run([]string{"backup", "--addr", srv.Addr().String(), "--to", bak}, &out, &errb), errb.String())
	require.NoError(t, srv.Close())
	require.NoError(t, <-done)
	require.NoError(t, db.Close())
	requireRestored(t, bak, live, revoked)
}

// Ensure that a damaged or foreign database file stops the server at startup
// with an error naming the file and what is wrong, that check reports it
// too, and that the file is left untouched: sessdb never starts empty over
// someone's data.
func TestTools_CorruptFileAtStartup(t *testing.T) {
	good, _, _ := toolsFixture(t, t.TempDir())
	goodBytes, err := os.ReadFile(good)
	require.NoError(t, err)
	// bbolt grows the file ahead of its data: cut inside the pages in use.
	var inUse int64
	gdb, err := bolt.Open(good, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	require.NoError(t, gdb.View(func(tx *bolt.Tx) error { inUse = tx.Size(); return nil }))
	require.NoError(t, gdb.Close())
	random := make([]byte, 64<<10)
	_, _ = rand.Read(random)
	// Scribble over every other page after the two meta pages.
	scribbled := append([]byte(nil), goodBytes[:inUse]...)
	for off := 2 * 4096; off+64 <= len(scribbled); off += 2 * 4096 {
		_, _ = rand.Read(scribbled[off : off+64])
	}

	foreign := filepath.Join(t.TempDir(), "other.db")
	fdb, err := bolt.Open(foreign, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, fdb.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("widgets"))
		if err != nil {
			return err
		}
		return b.Put([]byte("w1"), []byte("blue"))
	}))
	require.NoError(t, fdb.Close())
	foreignBytes, err := os.ReadFile(foreign)
	require.NoError(t, err)

	newer := filepath.Join(t.TempDir(), "newer.db")
	require.NoError(t, os.WriteFile(newer, goodBytes, 0o600))
	ndb, err := bolt.Open(newer, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, ndb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("format"), []byte("sessdb/99"))
	}))
	require.NoError(t, ndb.Close())
	newerBytes, err := os.ReadFile(newer)
	require.NoError(t, err)

	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"truncated inside its pages", goodBytes[:inUse/2], "the file is truncated"},
		{"truncated inside the header", goodBytes[:20], "file too short"},
		{"random bytes", random, "not a bbolt file"},
		{"damaged pages", scribbled, "corrupt data"},
		{"text", bytes.Repeat([]byte("not a database\n"), 500), "not a bbolt file"},
		{"another program's bbolt file", foreignBytes, `bucket "widgets" but no sessdb meta bucket`},
		{"a newer format version", newerBytes, `written by another version of sessdb: its format is "sessdb/99"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "sessdb.db")
			require.NoError(t, os.WriteFile(path, tc.content, 0o600))
			var out, errb bytes.Buffer
			codec := make(chan int, 1)
			go func() { codec <- run([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir}, &out, &errb) }()
			var code int
			select {
			case code = <-codec:
			case <-time.After(20 * time.Second):
				t.Fatalf("the server started over a damaged file")
			}
			require.Equal(t, 1, code, "started over a damaged file: %s", out.String())
			require.Contains(t, out.String(), "Fatal error loading the DB")
			require.Contains(t, out.String(), path)
			require.Contains(t, out.String(), tc.want)
			t.Logf("startup: %s", bytes.TrimSpace(out.Bytes()))

			out.Reset()
			require.Equal(t, 1, run([]string{"check", path}, &out, &errb))
			require.Contains(t, errb.String(), path)
			require.Contains(t, errb.String(), tc.want)

			got, err := os.ReadFile(path)
			require.NoError(t, err)
			require.True(t, bytes.Equal(tc.content, got), "the file was changed")
		})
	}
}
