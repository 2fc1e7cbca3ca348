package sessdb_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/storage"
	"github.com/stretchr/testify/require"
)

// BenchmarkSessions_Reopen times sessdb.Open of a file of
// SESSDB_RESTART_N sessions (default 100,000) filled as `go run ./bench
// -memory` fills the server (4 per user, ip/ua metadata, 200 bytes of data)
// and closed cleanly. The file is built once per size under
// $SESSDB_RESTART_DIR (default the system temp dir) and copied for each
// run; SESSDB_RESTART_UNCLEAN=1 voids the clean-shutdown mark first, as a
// crash does. Profile it with -cpuprofile:
//
//	SESSDB_RESTART_N=1000000 go test . -run '^$' -bench BenchmarkSessions_Reopen -benchtime 3x -cpuprofile /tmp/open.prof
func BenchmarkSessions_Reopen(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SESSDB_RESTART_N")); err == nil && v > 0 {
		n = v
	}
	dir := os.Getenv("SESSDB_RESTART_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	cached := filepath.Join(dir, fmt.Sprintf("sessdb-restart-%d.db", n))
	if _, err := os.Stat(cached); err != nil {
		start := time.Now()
		tmp := cached + ".tmp"
		_ = os.Remove(tmp)
		fillSessions(b, tmp, n)
		require.NoError(b, os.Rename(tmp, cached))
		b.Logf("built %s in %v", cached, time.Since(start))
	}
	// Reopen the file once: a file built by an older build has no
	// clean-shutdown mark, and the clean Close leaves one.
	src := filepath.Join(b.TempDir(), "src.db")
	copyTestFile(b, cached, src)
	db, err := sessdb.Open(src, &sessdb.Options{ReapInterval: -1})
	require.NoError(b, err)
	require.NoError(b, db.Close())
	if os.Getenv("SESSDB_RESTART_UNCLEAN") != "" {
		// Any commit after the mark voids it, as after a crash: Open runs the full repair.
		st, err := storage.Open(src, &storage.Options{Internal: 1})
		require.NoError(b, err)
		require.NoError(b, st.Close())
	}
	path := filepath.Join(b.TempDir(), "sessdb.db")
	for b.Loop() {
		b.StopTimer()
		copyTestFile(b, src, path)
		b.StartTimer()
		t0 := time.Now()
		db, err := sessdb.Open(path, &sessdb.Options{ReapInterval: -1})
		require.NoError(b, err)
		b.StopTimer()
		if os.Getenv("SESSDB_OPEN_TRACE") != "" {
			fmt.Fprintf(os.Stderr, "sessdb.Open: %v\n", time.Since(t0))
		}
		require.Equal(b, int64(n), db.Sessions().Stats().Live)
		require.Equal(b, int64((n+3)/4), db.Sessions().Stats().Users)
		require.NoError(b, db.Close())
		b.StartTimer()
	}
}

// fillSessions creates n sessions at path through the embedded API and
// closes the database once the log is folded.
func fillSessions(tb testing.TB, path string, n int) {
	tb.Helper()
	db, err := sessdb.Open(path, &sessdb.Options{Fsync: sessdb.FsyncEverySec, ReapInterval: -1})
	require.NoError(tb, err)
	data := string(make([]byte, 200))
	meta := map[string]string{
		"ip": "203.0.113.42",
		"ua": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
	}
	const batch = 256
	for i := 0; i < n; i += batch {
		err := db.Update(func(tx *sessdb.Tx) error {
			st := db.Sessions().Tx(tx)
			for j := i; j < min(n, i+batch); j++ {
				tok, err := st.Create(fmt.Sprintf("u%08d", j/4), sessdb.CreateOptions{Idle: 24 * time.Hour, Absolute: 48 * time.Hour, Meta: meta})
				if err != nil {
					return err
				}
				if _, err := st.Set(tok, map[string]string{"data": data}); err != nil {
					return err
				}
			}
			return nil
		})
		require.NoError(tb, err)
	}
	require.NoError(tb, db.Sync())
	settle(db)
	require.NoError(tb, db.Close())
}

func copyTestFile(tb testing.TB, from, to string) {
	tb.Helper()
	src, err := os.Open(from)
	require.NoError(tb, err)
	defer src.Close()
	dst, err := os.Create(to)
	require.NoError(tb, err)
	_, err = io.Copy(dst, src)
	require.NoError(tb, err)
	// As a server's file after its shutdown: on disk, not dirty in the page cache.
	require.NoError(tb, dst.Sync())
	require.NoError(tb, dst.Close())
}
