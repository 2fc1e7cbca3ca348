package storage

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The restart benchmark: a file of session-like hashes (11 fields with a
// 200-byte data field, a deadline, a per-user set index of 4 sessions), most
// of it folded into the buckets and a tail left in the log, then Open timed.
//
//	SESSDB_LOAD_N=1000000 go test ./storage -run '^$' -bench BenchmarkStore_OpenSessions -benchtime 3x
//
// The file is built once per size and format under $SESSDB_LOAD_DIR (default
// the system temp dir) and reused: building a million sessions takes a while.

const loadBenchData = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-01234567"

// sessionRecords writes session i (as the sessions layer would) into tx.
func sessionRecords(tx *Tx, i int, now int64) {
	db := InternalDB(0)
	var idb [16]byte
	binary.BigEndian.PutUint64(idb[:], uint64(i)*0x9E3779B97F4A7C15)
	binary.BigEndian.PutUint64(idb[8:], uint64(i))
	id := base64.RawURLEncoding.EncodeToString(idb[:])
	key := "s:" + id
	user := "u" + strconv.Itoa(i/4)
	sum := sha256.Sum256(idb[:])
	ms := []byte(strconv.FormatInt(now, 10))
	_, _ = tx.HSet(db, key, "u", []byte(user))
	_, _ = tx.HSet(db, key, "h", sum[:])
	_, _ = tx.HSet(db, key, "c", ms)
	_, _ = tx.HSet(db, key, "l", ms)
	_, _ = tx.HSet(db, key, "a", ms)
	_, _ = tx.HSet(db, key, "i", []byte("1800000"))
	_, _ = tx.HSet(db, key, "j", []byte("0"))
	_, _ = tx.HSet(db, key, "x", []byte("0"))
	_, _ = tx.HSet(db, key, "m:ip", []byte("203.0.113.7"))
	_, _ = tx.HSet(db, key, "m:ua", []byte("Mozilla/5.0 (X11; Linux x86_64) bench"))
	tx.SetDeadline(db, key, now+24*3600*1000)
	_, _ = tx.SAdd(db, "u:"+user, id)
	_, _ = tx.HSet(db, key, "d:data", []byte(loadBenchData))
}

// buildSessionsFile writes n sessions into a new file at path: all but tail
// of them folded into the buckets, the last tail left in the log.
func buildSessionsFile(tb testing.TB, path string, n, tail int) {
	tb.Helper()
	now := time.Now().UnixMilli()
	write := func(o *Options, from, to int) {
		s, err := Open(path, o)
		require.NoError(tb, err)
		for i := from; i < to; {
			end := min(to, i+2000)
			c, err := s.Update(func(tx *Tx) error {
				for ; i < end; i++ {
					sessionRecords(tx, i, now)
				}
				return nil
			})
			require.NoError(tb, err)
			require.NoError(tb, c.Wait())
		}
		require.NoError(tb, s.Close())
	}
	// Every commit folds everything so far, then the tail stays in the log.
	write(&Options{Internal: 1, FoldThreshold: 1, FoldChunk: 1 << 30}, 0, n-tail)
	write(&Options{Internal: 1, FoldThreshold: 1 << 30, IdleFold: time.Hour}, n-tail, n)
}

// sessionsFile returns a copy of the cached file for n sessions.
func sessionsFile(tb testing.TB, n, tail int) string {
	tb.Helper()
	dir := os.Getenv("SESSDB_LOAD_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	cached := filepath.Join(dir, fmt.Sprintf("sessdb-load-%s-%d-%d.db", formatTag[len("sessdb/"):], n, tail))
	if _, err := os.Stat(cached); err != nil {
		start := time.Now()
		tmp := cached + ".tmp"
		_ = os.Remove(tmp)
		buildSessionsFile(tb, tmp, n, tail)
		require.NoError(tb, os.Rename(tmp, cached))
		tb.Logf("built %s in %v", cached, time.Since(start))
	}
	path := filepath.Join(tb.TempDir(), "sessdb.db")
	copyFile(tb, cached, path)
	return path
}

func copyFile(tb testing.TB, from, to string) {
	tb.Helper()
	src, err := os.Open(from)
	require.NoError(tb, err)
	defer src.Close()
	dst, err := os.Create(to)
	require.NoError(tb, err)
	_, err = io.Copy(dst, src)
	require.NoError(tb, err)
	require.NoError(tb, dst.Close())
}

// BenchmarkStore_OpenSessions times Open of a file of SESSDB_LOAD_N
// sessions (default 100,000), a tenth of whose records are in the log.
func BenchmarkStore_OpenSessions(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SESSDB_LOAD_N")); err == nil && v > 0 {
		n = v
	}
	tail := n / 10
	if v, err := strconv.Atoi(os.Getenv("SESSDB_LOAD_TAIL")); err == nil && v >= 0 {
		tail = v
	}
	path := sessionsFile(b, n, tail)
	fi, err := os.Stat(path)
	require.NoError(b, err)
	b.Logf("file: %d bytes per session", fi.Size()/int64(n))
	var cpu time.Duration
	for b.Loop() {
		before := cpuTime()
		s, err := Open(path, &Options{Internal: 1})
		require.NoError(b, err)
		b.StopTimer()
		cpu += cpuTime() - before
		require.Equal(b, n+(n+3)/4, s.keyspace(InternalDB(0)).Len())
		require.NoError(b, s.Close())
		b.StartTimer()
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the process's user and system CPU time so far: on a shared
// machine it varies less than the elapsed time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestStore_MigrateFileTiming opens a copy of the file $SESSDB_MIGRATE_FILE
// (a file of an older format, such as one a previous build filled) and logs
// how long the migrating Open and the next Open take. It is skipped
// without the variable.
func TestStore_MigrateFileTiming(t *testing.T) {
	src := os.Getenv("SESSDB_MIGRATE_FILE")
	if src == "" {
		t.Skip("set SESSDB_MIGRATE_FILE to time the migration of a file")
	}
	path := filepath.Join(t.TempDir(), "sessdb.db")
	copyFile(t, src, path)
	for _, what := range []string{"migrating open", "next open"} {
		start := time.Now()
		s, err := Open(path, &Options{Internal: 1})
		require.NoError(t, err)
		d := time.Since(start)
		n := s.keyspace(InternalDB(0)).Len()
		require.NoError(t, s.Close())
		fi, err := os.Stat(path)
		require.NoError(t, err)
		t.Logf("%s: %v, %d internal keys, file %d MB", what, d, n, fi.Size()>>20)
	}
}
