package sessdb_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/storage"
	"github.com/stretchr/testify/require"
)

// Ensure that the background reaper works off many keys expiring in the same
// millisecond in bounded slices, over several bursts, until every one is
// deleted and reported expired once, while other keys stay.
func TestDB_ReaperWorksOffAStorm(t *testing.T) {
	clock := &testClock{t: time.UnixMilli(1_700_000_000_000)}
	db, err := sessdb.Open(filepath.Join(t.TempDir(), "s.db"), &sessdb.Options{
		Now: clock.Now, Fsync: sessdb.FsyncEverySec, ReapInterval: time.Millisecond, ReapBatch: 10,
	})
	require.NoError(t, err)
	defer db.Close()
	var expired atomic.Int64
	db.SetHooks(storage.Hooks{Expired: func(*storage.Tx, int, string, *storage.Value) { expired.Add(1) }})
	const storm = 5000 // more than one burst of 16 slices of 10 keys
	deadline := clock.Now().UnixMilli() + 60_000
	require.NoError(t, db.Update(func(tx *sessdb.Tx) error {
		for i := range storm {
			tx.SetString(0, fmt.Sprintf("exp:%d", i), []byte("v"), deadline)
		}
		tx.SetString(0, "live", []byte("v"), 0)
		return nil
	}))
	require.Equal(t, storm, db.Store().ExpiryBacklog())

	clock.Add(61 * time.Second)
	_, ok, err := db.Get(0, "exp:0")
	require.NoError(t, err)
	require.False(t, ok, "an expired key is invisible before the reaper gets to it")
	require.Eventually(t, func() bool { return db.Store().ExpiryBacklog() == 0 }, 20*time.Second, time.Millisecond)
	require.Equal(t, int64(storm), expired.Load())
	require.Zero(t, db.Reap(0), "nothing left to reap")
	_, ok, err = db.Get(0, "live")
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, db.View(func(tx *sessdb.Tx) error {
		keys, expires := tx.Size(0)
		require.Equal(t, 1, keys)
		require.Zero(t, expires)
		return nil
	}))
}
