package storage

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Ensure that ReapSome deletes a storm of keys due in the same millisecond in
// bounded slices, says when due keys are left, fires the Expired hook once
// per key, leaves live and re-armed keys alone, and makes the deletions durable.
func TestStore_ReapSomeIsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	s := openTest(t, path, clock, nil)
	const storm, max = 20_000, 100
	deadline := clock.Now().UnixMilli() + 60_000 // beyond level 0 of the wheel: slots cascade first
	update(t, s, func(tx *Tx) {
		for i := range storm {
			tx.SetString(0, fmt.Sprintf("exp:%06d", i), []byte("v"), deadline)
		}
		tx.SetString(0, "live", []byte("v"), 0)
		tx.SetString(0, "later", []byte("v"), deadline)
	})
	update(t, s, func(tx *Tx) { require.True(t, tx.SetDeadline(0, "later", deadline+10_000)) })
	expired := map[string]int{}
	s.SetHooks(Hooks{Expired: func(_ *Tx, db int, key string, _ *Value) {
		require.Equal(t, 0, db)
		expired[key]++
	}})

	n, more, _ := s.ReapSome(max)
	require.Zero(t, n, "nothing is due yet")
	require.False(t, more)
	clock.Add(60*time.Second + time.Millisecond)
	total, calls := 0, 0
	var last *Commit
	for {
		n, more, c := s.ReapSome(max)
		require.LessOrEqual(t, n, max)
		total += n
		calls++
		if c != nil {
			last = c
		}
		if !more {
			break
		}
		require.Less(t, calls, 3*storm/max, "every call makes progress")
	}
	require.NoError(t, last.Wait())
	require.Equal(t, storm, total)
	require.Len(t, expired, storm)
	for k, c := range expired {
		require.Equal(t, 1, c, k)
	}
	n, _ = s.Reap(0)
	require.Zero(t, n)
	require.Equal(t, 1, s.ExpiryBacklog(), "only the re-armed key keeps a timer")
	require.NoError(t, s.Close())

	// With the clock back before the deadline, only durable deletions keep
	// the storm's keys from coming back.
	clock.Add(-30 * time.Second)
	s = openTest(t, path, clock, nil)
	defer s.Close()
	_ = s.View(func(tx *Tx) error {
		keys, expires := tx.Size(0)
		require.Equal(t, 2, keys, "the deletions reached the disk")
		require.Equal(t, 1, expires)
		require.Nil(t, tx.Lookup(0, "exp:000000"))
		require.NotNil(t, tx.Lookup(0, "live"))
		require.NotNil(t, tx.Lookup(0, "later"))
		return nil
	})
}
