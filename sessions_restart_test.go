package sessdb_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/storage"
	"github.com/stretchr/testify/require"
)

// restartDump renders every key of the sessions database (hash fields,
// set members, string values and deadlines) in a stable order.
func restartDump(t *testing.T, db *sessdb.DB) []string {
	t.Helper()
	var out []string
	require.NoError(t, db.View(func(tx *sessdb.Tx) error {
		tx.ForEach(storage.InternalDB(0), func(k string, v *storage.Value) bool {
			var parts []string
			switch v.Kind() {
			case storage.KindHash:
				for f, val := range v.HashFields() {
					if f == "t" { // last_seen in memory only
						continue
					}
					parts = append(parts, f+"="+string(val))
				}
			case storage.KindSet:
				for m := range v.Members() {
					parts = append(parts, m)
				}
			default:
				s, _, _ := tx.LookupString(storage.InternalDB(0), k)
				parts = append(parts, string(s))
			}
			sort.Strings(parts)
			out = append(out, fmt.Sprintf("%s@%d{%s}", k, v.Deadline(), strings.Join(parts, ",")))
			return true
		})
		return nil
	}))
	sort.Strings(out)
	return out
}

// voidCleanMark opens path with the storage layer alone and closes it: its
// first commit voids the clean-shutdown mark, as any commit after a clean
// shutdown does, and the next sessdb.Open runs the full repair.
func voidCleanMark(t *testing.T, path string, clock *sessClock) {
	t.Helper()
	st, err := storage.Open(path, &storage.Options{Internal: 1, Now: clock.Now})
	require.NoError(t, err)
	require.NoError(t, st.Close())
}

// Ensure that a reopen after a clean shutdown skips the full repair and
// still reports exact counts and an exact index, from a real client too.
func TestSessions_CleanRestartSkipsRepair(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessdb.db")
	clock := newSessClock()
	db := openSessDB(t, path, clock, sessdb.SessionOptions{})
	require.True(t, sessdb.FullRepairAtOpen(db), "a new file has no mark")
	s := db.Sessions()
	a1 := sessCreate(t, s, "alice", sessdb.CreateOptions{})
	a2 := sessCreate(t, s, "alice", sessdb.CreateOptions{})
	b1 := sessCreate(t, s, "bob", sessdb.CreateOptions{})
	_, err := s.Revoke(a1)
	require.NoError(t, err)
	b2, err := s.Rotate(b1, time.Hour)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	db = openSessDB(t, path, clock, sessdb.SessionOptions{})
	defer db.Close()
	require.False(t, sessdb.FullRepairAtOpen(db))
	st := db.Sessions().Stats()
	require.Equal(t, int64(2), st.Live)
	require.Equal(t, int64(2), st.Users)
	require.Equal(t, []string{sessID(a2)}, sessIndex(t, db, "alice"))
	require.Equal(t, []string{sessID(b2)}, sessIndex(t, db, "bob"))
	require.Equal(t, sessID(b2), sessGet(t, db.Sessions(), b1).ID, "the grace alias survives")

	r := newSessRESP(t, db)
	require.Equal(t, []string{sessID(a2)}, r.sessListIDs("alice"))
	require.Equal(t, int64(1), r.count("bob"))
	info, err := r.r3.Info(context.Background(), "sessions").Result()
	require.NoError(t, err)
	require.Contains(t, info, "sessions_live:2\r\n")
	require.Contains(t, info, "sessions_users:2\r\n")
}

// Ensure that after a clean shutdown the sessions and grace aliases that
// expired while the server was down leave no index entry, alias reference
// or count behind, and that the clean path ends in exactly the state the
// full repair (the path after a crash) makes of the same file.
func TestSessions_CleanRestartDropsExpiredWhileDown(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sessdb.db")
	clock := newSessClock()
	db := openSessDB(t, path, clock, sessdb.SessionOptions{})
	s := db.Sessions()
	short := sessdb.CreateOptions{Idle: 10 * time.Minute}
	long := sessdb.CreateOptions{Idle: 2 * time.Hour}
	sessCreate(t, s, "alice", short)
	a2 := sessCreate(t, s, "alice", long)
	sessCreate(t, s, "bob", short) // bob's only session: his index goes
	c1 := sessCreate(t, s, "carol", long)
	c2, err := s.Rotate(c1, 5*time.Minute) // the alias c1 expires while down
	require.NoError(t, err)
	d1 := sessCreate(t, s, "dave", short)
	_, err = s.Rotate(d1, time.Hour) // session and alias both expire
	require.NoError(t, err)
	e1 := sessCreate(t, s, "erin", long)
	e2, err := s.Rotate(e1, time.Hour) // the alias outlives the downtime
	require.NoError(t, err)
	require.NoError(t, db.Close())

	clock.Add(15 * time.Minute)
	crashCopy := filepath.Join(dir, "copy.db")
	copyTestFile(t, path, crashCopy)

	db = openSessDB(t, path, clock, sessdb.SessionOptions{})
	defer db.Close()
	require.False(t, sessdb.FullRepairAtOpen(db))
	st := db.Sessions().Stats()
	require.Equal(t, int64(3), st.Live, "a2, c2, e2")
	require.Equal(t, int64(3), st.Users, "alice, carol, erin")
	require.Equal(t, []string{sessID(a2)}, sessIndex(t, db, "alice"))
	require.Empty(t, sessIndex(t, db, "bob"))
	require.Empty(t, sessIndex(t, db, "dave"))
	require.Equal(t, []string{sessID(c2)}, sessIndex(t, db, "carol"))
	require.Equal(t, sessID(e2), sessGet(t, db.Sessions(), e1).ID)
	require.Nil(t, sessGet(t, db.Sessions(), c1))
	require.NoError(t, db.View(func(tx *sessdb.Tx) error {
		v := tx.Lookup(storage.InternalDB(0), "s:"+sessID(c2))
		_, dangling := v.HGet("g:" + sessID(c1))
		require.False(t, dangling, "the expired alias is forgotten by its session")
		v = tx.Lookup(storage.InternalDB(0), "s:"+sessID(e2))
		_, alias := v.HGet("g:" + sessID(e1))
		require.True(t, alias)
		return nil
	}))
	clean := restartDump(t, db)

	r := newSessRESP(t, db)
	require.Equal(t, []string{sessID(a2)}, r.sessListIDs("alice"))
	require.Equal(t, int64(0), r.count("bob"))
	require.Equal(t, int64(0), r.count("dave"))
	info, err := r.r3.Info(context.Background(), "sessions").Result()
	require.NoError(t, err)
	require.Contains(t, info, "sessions_live:3\r\n")
	require.Contains(t, info, "sessions_users:3\r\n")

	// The same file through the full repair.
	voidCleanMark(t, crashCopy, clock)
	full := openSessDB(t, crashCopy, clock, sessdb.SessionOptions{})
	defer full.Close()
	require.True(t, sessdb.FullRepairAtOpen(full))
	require.Equal(t, clean, restartDump(t, full))
	require.Equal(t, full.Sessions().Stats().Live, st.Live)
	require.Equal(t, full.Sessions().Stats().Users, st.Users)
}

// Ensure that a change to a session or index key made outside the session
// operations (a raw write through a Tx) makes the next Open run the full
// repair even after a clean shutdown, and that deletions by expiry (the
// reaper's, or a lookup's in a caller's Update) do not.
func TestSessions_RawWriteForcesFullRepair(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessdb.db")
	clock := newSessClock()
	sdb := storage.InternalDB(0)
	db := openSessDB(t, path, clock, sessdb.SessionOptions{})
	s := db.Sessions()
	x1 := sessCreate(t, s, "xavier", sessdb.CreateOptions{Idle: time.Minute})
	x2 := sessCreate(t, s, "xavier", sessdb.CreateOptions{Idle: time.Minute})
	sessCreate(t, s, "yvonne", sessdb.CreateOptions{})
	clock.Add(2 * time.Minute)
	require.NoError(t, db.Update(func(tx *sessdb.Tx) error {
		require.Nil(t, tx.Lookup(sdb, "s:"+sessID(x1)), "expired: deleted by this lookup")
		return nil
	}))
	require.Equal(t, 1, db.Reap(0), "x2 by the reaper")
	require.Nil(t, sessGet(t, s, x2))
	require.NoError(t, db.Close())

	db = openSessDB(t, path, clock, sessdb.SessionOptions{})
	require.False(t, sessdb.FullRepairAtOpen(db), "expiry is not a raw write")
	require.Equal(t, int64(1), db.Sessions().Stats().Live)
	require.Equal(t, int64(1), db.Sessions().Stats().Users)
	y2 := sessCreate(t, db.Sessions(), "yvonne", sessdb.CreateOptions{})
	require.NoError(t, db.Update(func(tx *sessdb.Tx) error {
		_, _ = tx.SRem(sdb, "u:yvonne", sessID(y2)) // missing from the index
		return nil
	}))
	require.NoError(t, db.Close())

	db = openSessDB(t, path, clock, sessdb.SessionOptions{})
	require.True(t, sessdb.FullRepairAtOpen(db))
	require.Contains(t, sessIndex(t, db, "yvonne"), sessID(y2), "the repair put it back")
	require.Equal(t, int64(2), db.Sessions().Stats().Live)
	require.NoError(t, db.Close())

	// A raw write through the storage layer's own Update is seen too.
	db = openSessDB(t, path, clock, sessdb.SessionOptions{})
	require.False(t, sessdb.FullRepairAtOpen(db))
	_, err := db.Store().Update(func(tx *storage.Tx) error {
		_, _ = tx.SAdd(sdb, "u:zoe", "AAAAAAAAAAAAAAAAAAAAAA")
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	db = openSessDB(t, path, clock, sessdb.SessionOptions{})
	defer db.Close()
	require.True(t, sessdb.FullRepairAtOpen(db))
	require.Empty(t, sessIndex(t, db, "zoe"))
	require.Equal(t, int64(1), db.Sessions().Stats().Users, "yvonne")
}

// Ensure that the file of a database that did not shut down cleanly (here
// a copy taken while it runs, as a crash leaves it, after a clean restart
// and more changes) has no valid mark: Open runs the full repair and counts
// what the file holds, whatever the mark of the earlier shutdown said.
func TestSessions_UncleanRestartRunsFullRepair(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sessdb.db")
	clock := newSessClock()
	db := openSessDB(t, path, clock, sessdb.SessionOptions{})
	s := db.Sessions()
	for i := range 3 {
		sessCreate(t, s, fmt.Sprintf("u%d", i), sessdb.CreateOptions{})
	}
	require.NoError(t, db.Close())

	db = openSessDB(t, path, clock, sessdb.SessionOptions{})
	require.False(t, sessdb.FullRepairAtOpen(db))
	s = db.Sessions()
	k := sessCreate(t, s, "u0", sessdb.CreateOptions{})
	sessCreate(t, s, "u9", sessdb.CreateOptions{})
	_, err := s.Revoke(k)
	require.NoError(t, err)
	require.NoError(t, db.Sync())
	crashed := filepath.Join(dir, "crashed.db")
	copyTestFile(t, path, crashed)
	require.NoError(t, db.Close())

	db = openSessDB(t, crashed, clock, sessdb.SessionOptions{})
	defer db.Close()
	require.True(t, sessdb.FullRepairAtOpen(db))
	st := db.Sessions().Stats()
	require.Equal(t, int64(4), st.Live)
	require.Equal(t, int64(4), st.Users)
}
