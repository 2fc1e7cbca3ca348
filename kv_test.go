package sessdb_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/stretchr/testify/require"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Ensure that the embedded API stores, expires and reloads values without a
// network, with an injected clock.
func TestDB_EmbeddedKeyValue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessdb.db")
	clock := &testClock{t: time.UnixMilli(1_700_000_000_000)}
	opts := &sessdb.Options{Now: clock.Now, ReapInterval: -1}
	db, err := sessdb.Open(path, opts)
	require.NoError(t, err)

	require.NoError(t, db.Set(0, "k", []byte("v"), 0))
	require.NoError(t, db.Set(0, "ttl", []byte("x"), 10*time.Second))
	n, err := db.HSet(1, "h", map[string][]byte{"a": []byte("1"), "b": []byte("2")})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	_, err = db.HSet(0, "k", map[string][]byte{"a": nil})
	require.ErrorIs(t, err, sessdb.ErrWrongType)

	v, ok, err := db.Get(0, "k")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "v", string(v))
	ttl, exists, err := db.TTL(0, "ttl")
	require.NoError(t, err)
	require.True(t, exists)
	require.Equal(t, 10*time.Second, ttl)

	clock.Add(10 * time.Second)
	_, ok, _ = db.Get(0, "ttl")
	require.False(t, ok, "a key is invisible from its deadline on")
	require.Equal(t, 1, db.Reap(0))
	require.NoError(t, db.Close())

	db, err = sessdb.Open(path, opts)
	require.NoError(t, err)
	defer db.Close()
	h, err := db.HGetAll(1, "h")
	require.NoError(t, err)
	require.Equal(t, map[string][]byte{"a": []byte("1"), "b": []byte("2")}, h)
	ok, err = db.Expire(0, "k", 0)
	require.NoError(t, err)
	require.True(t, ok)
	_, exists, _ = db.TTL(0, "k")
	require.False(t, exists)
	deleted, err := db.Del(1, "h", "missing")
	require.NoError(t, err)
	require.Equal(t, 1, deleted)
}
