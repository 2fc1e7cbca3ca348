package storage

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openTest(t *testing.T, path string, clock *fakeClock, o *Options) *Store {
	t.Helper()
	opts := Options{}
	if o != nil {
		opts = *o
	}
	opts.Now = clock.Now
	s, err := Open(path, &opts)
	require.NoError(t, err)
	return s
}

func update(t *testing.T, s *Store, fn func(tx *Tx)) {
	t.Helper()
	c, err := s.Update(func(tx *Tx) error { fn(tx); return nil })
	require.NoError(t, err)
	require.NoError(t, c.Wait())
}

// snapshot renders the visible databases for comparison (dumpAll in
// load_test.go renders every database, internal ones too).
func snapshot(s *Store) map[string]any {
	out := dumpAll(s)
	for key := range out {
		db, _, _ := strings.Cut(key, "/")
		if n, err := strconv.Atoi(db); err != nil || n >= s.Databases() {
			delete(out, key)
		}
	}
	return out
}

func populate(tx *Tx, now int64) {
	tx.SetString(0, "plain", []byte("v1"), 0)
	tx.SetString(0, "ttl", []byte("v2"), now+60_000)
	tx.SetString(0, "short", []byte("gone"), now+1_000)
	tx.SetString(0, "bin\x00\r\nkey", []byte("a\x00b\r\nc"), 0)
	for _, f := range []string{"a", "b", "c"} {
		_, _ = tx.HSet(0, "h", f, []byte("val-"+f))
	}
	_, _ = tx.HDel(0, "h", "b")
	tx.SetDeadline(0, "h", now+120_000)
	_, _ = tx.SAdd(1, "s", "x")
	_, _ = tx.SAdd(1, "s", "y")
	_, _ = tx.SRem(1, "s", "x")
	tx.SetString(2, "other", []byte("db2"), 0)
	tx.SwapDB(2, 3)
	_, _ = tx.HSet(0, "replaced", "f", []byte("v"))
	tx.SetString(0, "replaced", []byte("now a string"), 0)
	tx.SetString(4, "flushed", []byte("x"), 0)
	tx.FlushDB(4)
}

// Ensure that every key, value, type and deadline survives a restart, both
// from the log tail and after the log is folded into the buckets, and that a
// key that expired while the store was closed is gone.
func TestStore_RestartKeepsEverything(t *testing.T) {
	for _, fold := range []bool{false, true} {
		t.Run(map[bool]string{false: "log", true: "folded"}[fold], func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db")
			clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
			o := &Options{}
			if fold {
				o.FoldThreshold = 1
				o.FoldChunk = 3
			}
			s := openTest(t, path, clock, o)
			update(t, s, func(tx *Tx) { populate(tx, tx.Now()) })
			update(t, s, func(tx *Tx) { tx.SetString(0, "after", []byte("x"), 0) })
			before := snapshot(s)
			require.Len(t, before, 9)
			require.NoError(t, s.Close())

			s = openTest(t, path, clock, o)
			require.Equal(t, before, snapshot(s))
			if fold {
				require.Less(t, s.Stats().LogRecords, int64(20))
			}
			require.NoError(t, s.Close())

			clock.Add(2 * time.Second)
			s = openTest(t, path, clock, o)
			after := snapshot(s)
			delete(before, "0/short")
			require.Equal(t, before, after)
			require.NoError(t, s.Close())
		})
	}
}

// Ensure that an expired key is invisible at once and the wheel reaps it
// through the commit path, so it does not come back after a restart.
func TestStore_ReapDeletesDurably(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	s := openTest(t, path, clock, nil)
	update(t, s, func(tx *Tx) {
		for i := 0; i < 1000; i++ {
			tx.SetString(0, string(rune('a'+i%26))+string(rune(i)), []byte("v"), tx.Now()+int64(1000+i))
		}
	})
	clock.Add(1500 * time.Millisecond)
	_ = s.View(func(tx *Tx) error {
		n := 0
		tx.ForEach(0, func(string, *Value) bool { n++; return true })
		require.Equal(t, 499, n)
		return nil
	})
	n, c := s.Reap(0)
	require.Equal(t, 501, n)
	require.NoError(t, c.Wait())
	require.Equal(t, 499, s.ExpiryBacklog())
	require.NoError(t, s.Close())
	clock.Add(-1400 * time.Millisecond) // even with a clock that went back, reaped keys stay gone
	s = openTest(t, path, clock, nil)
	_ = s.View(func(tx *Tx) error {
		keys, expires := tx.Size(0)
		require.Equal(t, 499, keys)
		require.Equal(t, 499, expires)
		return nil
	})
	require.NoError(t, s.Close())
}

// Ensure that a file that is not a sessdb database is refused with an error
// naming it, and is left untouched.
func TestStore_RefusesForeignFile(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk")
	require.NoError(t, os.WriteFile(junk, []byte("this is not a database at all, not even close........"), 0o600))
	_, err := Open(junk, nil)
	require.ErrorIs(t, err, ErrForeignFile)
	require.Contains(t, err.Error(), junk)
	b, _ := os.ReadFile(junk)
	require.Equal(t, "this is not a database at all, not even close........", string(b))
}

// Ensure that records round-trip through their encoding.
func TestRecord_RoundTrip(t *testing.T) {
	in := []Record{
		{Op: OpSet, DB: 3, Key: "k\x00", Value: []byte("v\r\n"), Deadline: 1234567890123},
		{Op: OpDel, DB: 0, Key: "gone"},
		{Op: OpExpire, DB: 1, Key: "k", Deadline: 0},
		{Op: OpHSet, DB: 15, Key: "h", Field: "f", Value: []byte{}},
		{Op: OpHDel, Key: "h", Field: "f"},
		{Op: OpSAdd, Key: "s", Field: "m"},
		{Op: OpSRem, Key: "s", Field: "m"},
		{Op: OpFlushDB, DB: 2},
		{Op: OpFlushAll},
		{Op: OpSwapDB, DB: 1, DB2: 9},
	}
	var b []byte
	for i := range in {
		b = AppendRecord(b, &in[i])
	}
	out, err := DecodeRecords(b)
	require.NoError(t, err)
	require.Len(t, out, len(in))
	for i := range in {
		if in[i].Value == nil && out[i].Value != nil && len(out[i].Value) == 0 {
			out[i].Value = nil
		}
		require.Equal(t, in[i], out[i])
	}
	_, err = DecodeRecords(b[:len(b)-1])
	require.ErrorIs(t, err, ErrCorrupt)
}

// Ensure that SCAN returns every key present for the whole scan, even when
// keys are added and removed between calls.
func TestStore_ScanCompleteUnderChurn(t *testing.T) {
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	s := openTest(t, filepath.Join(t.TempDir(), "db"), clock, nil)
	defer s.Close()
	update(t, s, func(tx *Tx) {
		for i := 0; i < 5000; i++ {
			tx.SetString(0, "stable:"+itoa(i), []byte("v"), 0)
		}
	})
	seen := map[string]bool{}
	var cursor uint64
	round := 0
	for {
		_ = s.View(func(tx *Tx) error {
			cursor = tx.Scan(0, cursor, 10, func(k string, _ *Value) { seen[k] = true })
			return nil
		})
		round++
		update(t, s, func(tx *Tx) {
			tx.SetString(0, "churn:"+itoa(round), []byte("v"), 0)
			tx.Delete(0, "churn:"+itoa(round-1))
		})
		if cursor == 0 {
			break
		}
	}
	for i := 0; i < 5000; i++ {
		require.True(t, seen["stable:"+itoa(i)], "missing stable:%d", i)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// Ensure that internal databases persist like the others and that FLUSHALL
// and SWAPDB never reach them.
func TestStore_InternalDatabases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	o := &Options{Databases: 2, Internal: 1}
	s := openTest(t, path, clock, o)
	in := InternalDB(0)
	update(t, s, func(tx *Tx) {
		_, _ = tx.HSet(in, "sess:1", "user", []byte("alice"))
		tx.SetDeadline(in, "sess:1", tx.Now()+5000)
		tx.SetString(0, "visible", []byte("v"), 0)
		tx.FlushAll()
		tx.SwapDB(0, 1)
	})
	require.NoError(t, s.Close())
	s = openTest(t, path, clock, o)
	defer s.Close()
	_ = s.View(func(tx *Tx) error {
		v, err := tx.LookupHash(in, "sess:1")
		require.NoError(t, err)
		require.NotNil(t, v)
		require.Equal(t, "alice", string(v.Hash()["user"]))
		require.Equal(t, clock.Now().UnixMilli()+5000, v.Deadline())
		require.Nil(t, tx.Lookup(0, "visible"))
		return nil
	})
}

// Ensure that folding skips what a later delete or string set replaces, and
// that the result on disk is still exactly the state in memory.
func TestStore_FoldCoalescesReplacedRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	s := openTest(t, path, clock, nil)
	update(t, s, func(tx *Tx) {
		_, _ = tx.HSet(0, "old-hash", "a", []byte("1"))
		_, _ = tx.HSet(0, "old-hash", "b", []byte("2"))
	})
	require.NoError(t, s.Close()) // the log is folded at the next open's first fold
	// Fold everything written so far, then write a log whose records replace each other.
	s = openTest(t, path, clock, &Options{FoldThreshold: 1, FoldChunk: 1000})
	update(t, s, func(tx *Tx) {
		_, _ = tx.HSet(0, "churn", "f1", []byte("x"))
		_, _ = tx.HSet(0, "churn", "f2", []byte("y"))
		tx.Delete(0, "churn")
		_, _ = tx.HSet(0, "churn", "f3", []byte("z"))
		tx.SetString(0, "old-hash", []byte("now a string"), 0)
		_, _ = tx.SAdd(0, "gone", "m")
		tx.Delete(0, "gone")
	})
	update(t, s, func(tx *Tx) { tx.SetString(0, "trigger", []byte("fold"), 0) })
	want := snapshot(s)
	require.NoError(t, s.Close())
	s = openTest(t, path, clock, nil)
	defer s.Close()
	require.Equal(t, want, snapshot(s))
	require.Equal(t, []any{map[string]string{"f3": "z"}, int64(0)}, want["0/churn"])
	require.Equal(t, []any{"now a string", int64(0)}, want["0/old-hash"])
	require.NotContains(t, want, "0/gone")
}
