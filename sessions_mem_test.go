package sessdb_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/stretchr/testify/require"
)

// memBenchSessions is how many sessions BenchmarkSessions_Memory creates:
// SESSDB_MEMBENCH_SESSIONS, default 100,000.
func memBenchSessions() int {
	if n, err := strconv.Atoi(os.Getenv("SESSDB_MEMBENCH_SESSIONS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// liveHeap collects twice and returns the live heap in bytes.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkSessions_Memory fills a database the way `go run ./bench
// -memory` fills the server (4 sessions per user, ip/ua metadata, 200 bytes
// of data) through the embedded API, and reports the live heap per
// session, after the fill and after a reopen, each once the log is folded
// (SESSDB_MEMBENCH_NOSETTLE=1: right after the fill). Run it with
// -benchtime=1x; SESSDB_MEMBENCH_PROFILE=prefix writes exact heap profiles
// (prefix-filled, prefix-reopened).
func BenchmarkSessions_Memory(b *testing.B) {
	n := memBenchSessions()
	if os.Getenv("SESSDB_MEMBENCH_PROFILE") != "" {
		runtime.MemProfileRate = 1
	}
	data := string(make([]byte, 200))
	meta := map[string]string{
		"ip": "203.0.113.42",
		"ua": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
	}
	for range b.N {
		path := filepath.Join(b.TempDir(), "sessdb.db")
		open := func() *sessdb.DB {
			db, err := sessdb.Open(path, &sessdb.Options{Fsync: sessdb.FsyncEverySec, ReapInterval: -1})
			require.NoError(b, err)
			return db
		}
		db := open()
		before := liveHeap()
		const batch = 256
		for i := 0; i < n; i += batch {
			err := db.Update(func(tx *sessdb.Tx) error {
				st := db.Sessions().Tx(tx)
				for j := i; j < min(n, i+batch); j++ {
					tok, err := st.Create(fmt.Sprintf("u%08d", j/4), sessdb.CreateOptions{Idle: 30 * time.Minute, Meta: meta})
					if err != nil {
						return err
					}
					if _, err := st.Set(tok, map[string]string{"data": data}); err != nil {
						return err
					}
				}
				return nil
			})
			require.NoError(b, err)
		}
		require.NoError(b, db.Sync())
		if os.Getenv("SESSDB_MEMBENCH_NOSETTLE") == "" {
			settle(db)
		}
		filled := liveHeap()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(filled-before)/float64(n), "heap-B/session")
		b.ReportMetric(float64(ms.HeapObjects)/float64(n), "objects/session")
		writeProfile(b, "filled")
		require.NoError(b, db.Close())
		debug.FreeOSMemory()
		base := liveHeap()
		db = open()
		settle(db)
		reopened := liveHeap()
		b.ReportMetric(float64(reopened-base)/float64(n), "reopened-heap-B/session")
		writeProfile(b, "reopened")
		require.Equal(b, int64(n), db.Sessions().Stats().Live)
		require.NoError(b, db.Close())
	}
}

// writeProfile writes a heap profile to $SESSDB_MEMBENCH_PROFILE-name, if set.
func writeProfile(b *testing.B, name string) {
	prefix := os.Getenv("SESSDB_MEMBENCH_PROFILE")
	if prefix == "" {
		return
	}
	f, err := os.Create(prefix + "-" + name)
	require.NoError(b, err)
	runtime.GC()
	require.NoError(b, pprof.WriteHeapProfile(f))
	require.NoError(b, f.Close())
}

// settle waits until the log is folded, so that the heap holds only the keyspace.
func settle(db *sessdb.DB) {
	for i := 0; i < 600 && db.Store().Stats().LogRecords > 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
}
