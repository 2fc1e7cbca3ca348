package storage

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func copyForTest(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	require.NoError(t, err)
	defer src.Close()
	dst, err := os.Create(to)
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
}

// Ensure that the clean-shutdown mark a Close stores is found by the next
// Open only while nothing was committed after it: an Open's own first
// write voids it, so a copy of a running store's file (a crash) and a
// reopen after a Close without a mark function both find none.
func TestStore_CleanMarkVoidedByAnyCommit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.db")
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	s := openTest(t, path, clock, &Options{Internal: 1})
	require.Nil(t, s.CleanMark())
	update(t, s, func(tx *Tx) { tx.SetString(0, "k", []byte("v"), 0) })
	s.SetCloseMark(func() []byte { return []byte("counts") })
	require.NoError(t, s.Close())

	s = openTest(t, path, clock, &Options{Internal: 1})
	require.Equal(t, []byte("counts"), s.CleanMark())
	update(t, s, func(tx *Tx) { tx.SetString(0, "k2", []byte("v"), 0) })
	require.NoError(t, s.Sync())
	copyForTest(t, path, filepath.Join(dir, "crashed.db"))
	require.NoError(t, s.Close()) // no mark function: no mark

	s = openTest(t, path, clock, &Options{Internal: 1})
	require.Nil(t, s.CleanMark(), "the first mark is stale")
	require.NoError(t, s.Close())
	s = openTest(t, filepath.Join(dir, "crashed.db"), clock, &Options{Internal: 1})
	require.Nil(t, s.CleanMark())
	require.Equal(t, 2, s.keyspace(0).Len())
	require.NoError(t, s.Close())
}

// freelistSynced reads the file's current bbolt meta page (of the two, the
// one with the higher txid) and reports whether it points at a free list.
func freelistSynced(t *testing.T, path string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	le := binary.LittleEndian
	pageSize := int(le.Uint32(b[24:]))
	var txid, freelist uint64
	for _, off := range []int{0, pageSize} {
		m := b[off+16:] // after the page header: magic, version, page size, flags, root (16), freelist, pgid, txid
		if id := le.Uint64(m[48:]); id >= txid {
			txid, freelist = id, le.Uint64(m[32:])
		}
	}
	return freelist != ^uint64(0)
}

// Ensure that a clean Close writes bbolt's free list (so that the next
// writable open reads it instead of walking the file) and the load hint,
// and that the next commit drops the free list again.
func TestStore_CleanCloseWritesFreelist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	s := openTest(t, path, clock, &Options{Internal: 1})
	update(t, s, func(tx *Tx) { tx.SetString(0, "k", []byte("v"), 0) })
	require.NoError(t, s.Close())
	synced := func() (freelist bool, hint bool) {
		freelist = freelistSynced(t, path)
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
		require.NoError(t, err)
		defer db.Close()
		require.NoError(t, db.View(func(tx *bolt.Tx) error {
			hint = tx.Bucket(bucketMeta).Get(keyLoadHint) != nil
			return nil
		}))
		return
	}
	fl, hint := synced()
	require.True(t, fl)
	require.True(t, hint)

	s = openTest(t, path, clock, &Options{Internal: 1})
	require.Equal(t, "v", string(s.keyspace(0).get("k").str))
	update(t, s, func(tx *Tx) { tx.SetString(0, "k", []byte("w"), 0) })
	require.NoError(t, s.Sync())
	require.NoError(t, s.com.close())
	require.NoError(t, s.disk.db.Close()) // no clean close: as after a crash
	fl, _ = synced()
	require.False(t, fl)
	s = openTest(t, path, clock, &Options{Internal: 1})
	require.Equal(t, "w", string(s.keyspace(0).get("k").str))
	require.NoError(t, s.Close())
}

// Ensure that Open reports the internal keys it dropped as expired, with
// their values, once, and never a visible database's.
func TestStore_DroppedAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	s := openTest(t, path, clock, &Options{Internal: 1})
	now := clock.Now().UnixMilli()
	update(t, s, func(tx *Tx) {
		tx.SetString(0, "visible", []byte("v"), now+1000)
		tx.SetString(InternalDB(0), "gone", []byte("x"), now+1000)
		tx.SetString(InternalDB(0), "stays", []byte("y"), now+5000)
	})
	require.NoError(t, s.Close())
	clock.Add(2 * time.Second)
	s = openTest(t, path, clock, &Options{Internal: 1})
	defer s.Close()
	d := s.DroppedAtOpen()
	require.Len(t, d, 1)
	require.Equal(t, InternalDB(0), d[0].DB)
	require.Equal(t, "gone", d[0].Key)
	require.Equal(t, "x", string(d[0].V.str))
	require.Empty(t, s.DroppedAtOpen())
	require.NotNil(t, s.keyspace(InternalDB(0)).get("stays"))
}

// Ensure that faulting the heap in ahead of a load turns the collector off
// (no returning of the memory to the kernel) and that done restores the
// collector's settings.
func TestStore_PrefaultRestoresGC(t *testing.T) {
	old := debug.SetGCPercent(150)
	oldLimit := debug.SetMemoryLimit(1 << 40)
	defer debug.SetGCPercent(old)
	defer debug.SetMemoryLimit(oldLimit)
	require.Zero(t, prefaultHeap(minPrefault-1).size, "too small to bother")
	p := prefaultHeap(minPrefault)
	require.Equal(t, uintptr(minPrefault), p.size)
	require.Equal(t, -1, debug.SetGCPercent(-1))
	require.Equal(t, int64(2*minPrefault+GCMinHeadroom), debug.SetMemoryLimit(-1))
	p.done()
	require.Equal(t, 150, debug.SetGCPercent(150))
	require.Equal(t, int64(1<<40), debug.SetMemoryLimit(-1))
}
