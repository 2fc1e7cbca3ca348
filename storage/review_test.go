package storage

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// reviewInChild runs the calling test in a child process (the test binary
// again, this test only) and reports whether the caller is that child:
// a fault (SIGSEGV on a view of an unmapped file) then fails this test
// instead of killing the whole package's run.
func reviewInChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv("SESSDB_REVIEW_CHILD") == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SESSDB_REVIEW_CHILD="+t.Name())
	out, err := cmd.CombinedOutput()
	if len(out) > 6000 {
		out = out[:6000]
	}
	require.NoError(t, err, "child run of %s:\n%s", t.Name(), out)
	return false
}

// Ensure that a hash rebuilt from the log keeps no view of the file's
// mapping: replaying HSET of a field that already exists in a hash held as
// a map must not leave the map's key pointing into the mapped file (a Go
// map assignment to an existing string key stores the new key string). With
// the read-only preload that mapping is gone when Open returns.
func TestReview_ReplayedHashKeepsNoViewOfTheFile(t *testing.T) {
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	path := filepath.Join(t.TempDir(), "db")
	s := openTest(t, path, clock, reviewOpts(1<<30, 1000, false))
	update(t, s, func(tx *Tx) {
		for i := 0; i < compactMaxEntries+1; i++ { // a map in memory
			_, _ = tx.HSet(0, "h", fmt.Sprintf("f%d", i), []byte("v"))
		}
	})
	update(t, s, func(tx *Tx) { _, _ = tx.HSet(0, "h", "f0", []byte("changed")) })
	require.NoError(t, s.Close())

	// After the writable open the mapping stays (NoOpenCheck): look at where
	// the keys point.
	s = openTest(t, path, clock, reviewOpts(1<<30, 1000, true))
	defer s.Close()
	start := s.disk.db.Info().Data
	end := start + 64<<20
	_ = s.View(func(tx *Tx) error {
		v, err := tx.LookupHash(0, "h")
		require.NoError(t, err)
		require.NotNil(t, v.hash)
		for f := range v.hash {
			p := uintptr(unsafe.Pointer(unsafe.StringData(f)))
			require.False(t, p >= start && p < end, "field %q of a loaded hash is a view of the mapped file", f)
		}
		return nil
	})
}

// reviewOpts are store options with no idle fold (a real timer), so that
// only commits fold and the tests stay deterministic.
func reviewOpts(threshold, chunk int, noCheck bool) *Options {
	return &Options{Databases: 4, Internal: 1, FoldThreshold: threshold, FoldChunk: chunk,
		IdleFold: time.Hour, NoOpenCheck: noCheck}
}

// reviewOp applies one random change: hashes and sets that grow past the
// inline limits (entries and bytes) and shrink again, kind changes,
// deadlines, deletes, sorted sets, flushes and swaps.
func reviewOp(rng *rand.Rand, tx *Tx) {
	dbs := []int{0, 1, 2, InternalDB(0)}
	db := dbs[rng.IntN(len(dbs))]
	key := fmt.Sprintf("k%d", rng.IntN(6))
	field := fmt.Sprintf("f%d", rng.IntN(200))
	val := []byte(strings.Repeat("v", 1+rng.IntN(8)))
	if rng.IntN(20) == 0 {
		val = []byte(strings.Repeat("B", 1500)) // three of these pass inlineMaxBytes
	}
	switch n := rng.IntN(100); {
	case n < 30:
		_, _ = tx.HSet(db, key, field, val)
	case n < 40:
		_, _ = tx.HDel(db, key, field)
	case n < 55:
		m := field
		if rng.IntN(20) == 0 {
			m = strings.Repeat("M", 1000) + field
		}
		_, _ = tx.SAdd(db, key, m)
	case n < 62:
		_, _ = tx.SRem(db, key, field)
	case n < 67:
		_, _ = tx.ZAdd(db, key, field, float64(rng.IntN(50)))
	case n < 70:
		_, _ = tx.ZRem(db, key, field)
	case n < 77:
		tx.SetString(db, key, val, 0)
	case n < 83:
		tx.Delete(db, key)
	case n < 90:
		d := int64(0)
		if rng.IntN(3) > 0 {
			d = tx.Now() + int64(1+rng.IntN(5000))
		}
		tx.SetDeadline(db, key, d)
	case n < 92:
		// A whole hash at once (as a session is written), growing it past
		// the entry limit in one commit.
		for i := 0; i < 40; i++ {
			_, _ = tx.HSet(db, key, fmt.Sprintf("g%d", i), val)
		}
	case n < 94:
		tx.SwapDB(0, 1)
	case n < 96:
		tx.FlushDB(rng.IntN(3))
	case n < 97:
		tx.FlushAll()
	case n < 98:
		tx.FlushDB(InternalDB(0))
	default:
		_, _ = tx.HSet(db, key, field, nil)
	}
}

// Ensure that whatever mix of changes is folded, in any chunk size, from
// the log or the buckets, with or without the read-only preload, a restart
// shows exactly what memory showed before Close.
func TestReview_RandomRestartsMatchMemory(t *testing.T) {
	if !reviewInChild(t) {
		return
	}
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
			path := filepath.Join(t.TempDir(), "db")
			thresholds := []int{1, 1, 3, 1 << 30}
			chunks := []int{1, 2, 5, 17, 1000}
			o := reviewOpts(1, 3, false)
			s := openTest(t, path, clock, o)
			for round := 0; round < 12; round++ {
				for c := 0; c < 15; c++ {
					update(t, s, func(tx *Tx) {
						for i := rng.IntN(25); i >= 0; i-- {
							reviewOp(rng, tx)
						}
					})
					clock.Add(time.Duration(rng.IntN(400)) * time.Millisecond)
					if rng.IntN(4) == 0 {
						_, cm := s.Reap(0)
						require.NoError(t, cm.Wait())
					}
				}
				want := dumpAll(s)
				require.NoError(t, s.Close())
				if rng.IntN(3) == 0 {
					clock.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
					want = nil // recomputed below from a reopen at the old state
				}
				o = reviewOpts(thresholds[rng.IntN(len(thresholds))], chunks[rng.IntN(len(chunks))], rng.IntN(2) == 0)
				s = openTest(t, path, clock, o)
				got := dumpAll(s)
				if want != nil {
					require.Equal(t, want, got, "round %d, options %+v", round, *o)
				}
				// A second restart without any change must show the same again.
				require.NoError(t, s.Close())
				s = openTest(t, path, clock, o)
				require.Equal(t, got, dumpAll(s), "round %d: second restart", round)
			}
			require.NoError(t, s.Close())
		})
	}
}

// Ensure that a key that expired while the store was closed, whose fields
// are partly in the buckets (with the deadline) and partly in the log's
// unfolded tail, stays gone after the restart that dropped it, once the log
// is folded and the store restarted again.
func TestReview_ExpiredAtOpenStaysGone(t *testing.T) {
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	path := filepath.Join(t.TempDir(), "db")
	// The hash and its deadline are folded into the buckets.
	s := openTest(t, path, clock, reviewOpts(1, 1000, false))
	update(t, s, func(tx *Tx) {
		_, _ = tx.HSet(0, "sess", "user", []byte("alice"))
		tx.SetDeadline(0, "sess", tx.Now()+1000)
	})
	update(t, s, func(tx *Tx) { tx.SetString(0, "fold", []byte("x"), 0) })
	require.NoError(t, s.Close())
	// One more field stays in the log.
	s = openTest(t, path, clock, reviewOpts(1<<30, 1000, false))
	update(t, s, func(tx *Tx) { _, _ = tx.HSet(0, "sess", "seen", []byte("now")) })
	require.NoError(t, s.Close())

	clock.Add(2 * time.Second) // the session expires while the store is down
	s = openTest(t, path, clock, reviewOpts(1, 1000, false))
	require.NotContains(t, dumpAll(s), "0/sess")
	update(t, s, func(tx *Tx) { tx.SetString(0, "other", []byte("y"), 0) }) // folds the log
	want := dumpAll(s)
	require.NoError(t, s.Close())
	s = openTest(t, path, clock, reviewOpts(1<<30, 1000, false))
	defer s.Close()
	require.Equal(t, want, dumpAll(s), "the expired session came back")
}

// Ensure that a key moving between inline and per-field layout, in both
// directions, within one fold chunk and across chunks, reloads exactly, and
// that each fold leaves no field entries behind for an inline key.
func TestReview_InlineTransitions(t *testing.T) {
	for _, chunk := range []int{1, 3, 1000} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
			path := filepath.Join(t.TempDir(), "db")
			o := reviewOpts(1, chunk, false)
			s := openTest(t, path, clock, o)
			steps := []func(tx *Tx){
				func(tx *Tx) { // small
					_, _ = tx.HSet(0, "h", "a", []byte("1"))
					_, _ = tx.SAdd(0, "s", "a")
					tx.SetDeadline(0, "h", tx.Now()+50_000)
				},
				func(tx *Tx) { // large by entries
					for i := 0; i < inlineMaxEntries+3; i++ {
						_, _ = tx.HSet(0, "h", fmt.Sprintf("f%d", i), []byte("x"))
						_, _ = tx.SAdd(0, "s", fmt.Sprintf("m%d", i))
					}
				},
				func(tx *Tx) { // shrink while large
					for i := 0; i < inlineMaxEntries; i++ {
						_, _ = tx.HDel(0, "h", fmt.Sprintf("f%d", i))
						_, _ = tx.SRem(0, "s", fmt.Sprintf("m%d", i))
					}
				},
				func(tx *Tx) { // replaced: deleted and small again, with a deadline
					tx.Delete(0, "h")
					_, _ = tx.HSet(0, "h", "b", []byte("2"))
					tx.SetDeadline(0, "h", tx.Now()+70_000)
					tx.Delete(0, "s")
					_, _ = tx.SAdd(0, "s", "b")
				},
				func(tx *Tx) { // large by bytes in one field
					_, _ = tx.HSet(0, "h", "big", []byte(strings.Repeat("z", inlineMaxBytes)))
					_, _ = tx.SAdd(0, "s", strings.Repeat("y", inlineMaxBytes))
				},
				func(tx *Tx) { // the big value goes: still per field, smaller
					_, _ = tx.HDel(0, "h", "big")
					_, _ = tx.SRem(0, "s", strings.Repeat("y", inlineMaxBytes))
					tx.SetDeadline(0, "h", 0)
				},
				func(tx *Tx) { // hash -> string -> set, set -> hash
					tx.SetString(0, "h", []byte("str"), tx.Now()+90_000)
					tx.Delete(0, "h")
					_, _ = tx.SAdd(0, "h", "now-a-set")
					tx.Delete(0, "s")
					_, _ = tx.HSet(0, "s", "now", []byte("a hash"))
				},
				func(tx *Tx) { // grows and shrinks within one commit
					for i := 0; i < inlineMaxEntries+10; i++ {
						_, _ = tx.HSet(0, "s", fmt.Sprintf("t%d", i), []byte("x"))
					}
					for i := 0; i < inlineMaxEntries+5; i++ {
						_, _ = tx.HDel(0, "s", fmt.Sprintf("t%d", i))
					}
				},
			}
			for i, step := range steps {
				update(t, s, step)
				want := dumpAll(s)
				require.NoError(t, s.Close())
				s = openTest(t, path, clock, o)
				require.Equal(t, want, dumpAll(s), "after step %d", i)
				// Once the whole log is folded the buckets alone hold it.
				s.Close()
				s = openTest(t, path, clock, reviewOpts(1, 1<<20, false))
				update(t, s, func(tx *Tx) { tx.SetString(3, "fold", []byte(fmt.Sprint(i)), 0) })
				update(t, s, func(tx *Tx) { tx.SetString(3, "fold", []byte(fmt.Sprint(i)), 0) }) // the log now holds more than FoldThreshold
				require.NoError(t, s.Close())
				require.Equal(t, int64(0), logLen(t, path))
				l := readLayout(t, path, 0)
				for k, kind := range l.kinds {
					if isInline(kind) || kind == KindString {
						require.Zero(t, l.fields[k], "step %d: inline key %q has field entries", i, k)
					}
				}
				for k := range l.fields {
					require.Contains(t, l.kinds, k, "step %d: field entries of missing key %q", i, k)
				}
				s = openTest(t, path, clock, o)
				want["3/fold"] = []any{fmt.Sprint(i), int64(0)}
				require.Equal(t, want, dumpAll(s), "after step %d, folded", i)
			}
			require.NoError(t, s.Close())
		})
	}
}

// logLen counts the records of a closed file's log.
func logLen(t *testing.T, path string) int64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	var n int64
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLog).ForEach(func(_, v []byte) error {
			rs, err := DecodeRecords(v)
			n += int64(len(rs))
			return err
		})
	}))
	return n
}

// Ensure that a fold that fails and is rolled back (here: the transaction
// returns an error after the fold, as a full disk would at commit) leaves
// the disk's dbmap as the file has it, so that later folds of SWAPDB and
// the keys after it land in the right buckets.
func TestReview_FoldRollbackKeepsDBMap(t *testing.T) {
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	path := filepath.Join(t.TempDir(), "db")
	s := openTest(t, path, clock, reviewOpts(1<<30, 1000, false))
	update(t, s, func(tx *Tx) {
		_, _ = tx.HSet(0, "a", "f", []byte("in 0"))
		tx.SwapDB(0, 1)
		_, _ = tx.HSet(0, "b", "f", []byte("in 0 after swap"))
		tx.SwapDB(1, 2)
		for i := 0; i < inlineMaxEntries+1; i++ {
			_, _ = tx.SAdd(2, "big", fmt.Sprint(i))
		}
	})
	before := append([]int(nil), s.disk.dbmap...)
	boom := errors.New("boom")
	err := s.disk.db.Update(func(tx *bolt.Tx) error {
		n, err := s.disk.fold(tx, 1000)
		require.NoError(t, err)
		require.Positive(t, n)
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.NoError(t, s.disk.reloadDBMap())
	require.Equal(t, before, s.disk.dbmap)
	want := dumpAll(s)
	require.NoError(t, s.Close())
	// Now fold for real, then restart from the buckets alone.
	s = openTest(t, path, clock, reviewOpts(1, 1000, false))
	require.Equal(t, want, dumpAll(s))
	update(t, s, func(tx *Tx) { tx.SetString(3, "x", []byte("y"), 0) })
	want = dumpAll(s)
	require.NoError(t, s.Close())
	require.Equal(t, int64(0), logLen(t, path))
	s = openTest(t, path, clock, reviewOpts(1<<30, 1000, false))
	defer s.Close()
	require.Equal(t, want, dumpAll(s))
}

// reviewV1 writes a formatV1 file with several kinds in two visible
// databases (swapped in dbmap) and an internal one, some with deadlines.
func reviewV1(t *testing.T, path string, now int64) {
	t.Helper()
	keys := map[string]any{
		"0/str":   "a string",
		"0/z":     map[string]float64{"a": 1, "b": -2.5},
		"i/s:abc": map[string]string{"u": "alice", "d:data": strings.Repeat("d", 200)},
		"i/u:al":  []string{"abc", "def"},
	}
	big := map[string]string{}
	var bigSet []string
	for i := 0; i < inlineMaxEntries+1; i++ {
		big[fmt.Sprintf("f%03d", i)] = "v"
		bigSet = append(bigSet, fmt.Sprintf("m%03d", i))
	}
	keys["0/big"] = big
	keys["0/bigset"] = bigSet
	keys["0/bytes"] = map[string]string{"x": strings.Repeat("q", inlineMaxBytes)}
	for i := 0; i < 60; i++ {
		keys[fmt.Sprintf("0/h%03d", i)] = map[string]string{"f": fmt.Sprint(i), "g": "x"}
		keys[fmt.Sprintf("0/s%03d", i)] = []string{"a", fmt.Sprint(i)}
		keys[fmt.Sprintf("i/s%03d", i)] = map[string]string{"f": fmt.Sprint(i)}
	}
	v1File(t, path, now+3_600_000, keys, []Record{
		{Op: OpHSet, DB: 0, Key: "h001", Field: "from-log", Value: []byte("l")},
		{Op: OpSwapDB, DB: 0, DB2: 1},
		{Op: OpSAdd, DB: 1, Key: "s002", Field: "after-swap"},
	})
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		kb := tx.Bucket(keysBucket(0))
		// Deadlines on a string, a set and a sorted set too.
		for _, k := range []string{"str", "s005", "z", "bigset"} {
			kind, _, payload, err := decodeHeader(kb.Get([]byte(k)))
			require.NoError(t, err)
			require.NoError(t, kb.Put([]byte(k), encodeHeader(kind, now+7_200_000, append([]byte(nil), payload...))))
		}
		return nil
	}))
	require.NoError(t, db.Close())
}

func reviewCopy(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.Create(to)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}

// Ensure that a migration from formatV1 interrupted after any number of
// chunks (some buckets done and their field entries dropped, one part way,
// the rest untouched) is finished by the next Open with exactly the content
// an uninterrupted migration gives, including deadlines, sorted sets, large
// hashes and sets, the log's tail and the internal database.
func TestReview_MigrationInterruptedAnywhere(t *testing.T) {
	now := int64(1_700_000_000_000)
	clock := &fakeClock{t: time.UnixMilli(now)}
	defer func(n int) { migrateChunk = n }(migrateChunk)
	migrateChunk = 7
	dir := t.TempDir()
	orig := filepath.Join(dir, "v1")
	reviewV1(t, orig, now)

	clean := filepath.Join(dir, "clean")
	reviewCopy(t, orig, clean)
	s := openTest(t, clean, clock, &Options{Internal: 1})
	want := dumpAll(s)
	require.NoError(t, s.Close())
	require.Equal(t, []any{"a string", now + 7_200_000}, want["1/str"])
	require.Equal(t, []any{map[string]bool{"a": true, "5": true}, now + 7_200_000}, want["1/s005"])
	require.Equal(t, []any{map[string]bool{"a": true, "2": true, "after-swap": true}, int64(0)}, want["1/s002"])
	require.Equal(t, []any{map[string]string{"f": "1", "g": "x", "from-log": "l"}, now + 3_600_000}, want["1/h001"])
	require.Len(t, want, 4+3+3*60)

	// The buckets in the order migrate takes them (tx.ForEach: by name).
	var pairs [][2][]byte
	func() {
		db, err := bolt.Open(orig, 0o600, &bolt.Options{ReadOnly: true})
		require.NoError(t, err)
		defer db.Close()
		require.NoError(t, db.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				if name[0] == 'k' && tx.Bucket(append([]byte{'f'}, name[1:]...)) != nil {
					pairs = append(pairs, [2][]byte{append([]byte(nil), name...), append([]byte{'f'}, name[1:]...)})
				}
				return nil
			})
		}))
	}()
	require.Len(t, pairs, 17)
	// Interrupt after each step: k chunks in, with bucket pairs before it
	// finished (chunks and the field drop).
	for _, stop := range []struct{ pairs, chunks int }{{0, 0}, {0, 1}, {0, 5}, {0, 100}, {1, 0}, {16, 3}, {17, 0}} {
		t.Run(fmt.Sprintf("%d-%d", stop.pairs, stop.chunks), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db")
			reviewCopy(t, orig, path)
			db, err := bolt.Open(path, 0o600, nil)
			require.NoError(t, err)
			require.NoError(t, db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(bucketMeta).Put(keyFormat, formatMigrating)
			}))
			for i, p := range pairs {
				if i > stop.pairs {
					break
				}
				var resume []byte
				for c, done := 0, false; !done && (i < stop.pairs || c < stop.chunks); c++ {
					require.NoError(t, db.Update(func(tx *bolt.Tx) error {
						var err error
						resume, done, err = migrateChunkOf(tx.Bucket(p[0]), tx.Bucket(p[1]), resume)
						return err
					}))
				}
				if i < stop.pairs {
					require.NoError(t, db.Update(func(tx *bolt.Tx) error { return dropInlineFields(tx, p[0], p[1]) }))
				}
			}
			require.NoError(t, db.Close())
			for _, noCheck := range []bool{false, true} {
				s := openTest(t, path, clock, &Options{Internal: 1, NoOpenCheck: noCheck})
				require.Equal(t, want, dumpAll(s))
				require.NoError(t, s.Close())
			}
			l := readLayout(t, path, 0)
			require.Equal(t, string(formatTag), l.format)
			require.Equal(t, map[string]int{"big": inlineMaxEntries + 1, "bigset": inlineMaxEntries + 1, "bytes": 1, "z": 2}, l.fields)
			require.Equal(t, KindHash|inlineFlag, l.kinds["h001"])
			require.Equal(t, KindSet|inlineFlag, l.kinds["s005"])
		})
	}
}

// Ensure that a migrated file then written and folded (inline keys growing
// past the limits, large ones replaced by small ones, kinds changed) and
// restarted shows what memory showed.
func TestReview_MigratedThenFolded(t *testing.T) {
	now := int64(1_700_000_000_000)
	clock := &fakeClock{t: time.UnixMilli(now)}
	path := filepath.Join(t.TempDir(), "db")
	reviewV1(t, path, now)
	o := &Options{Internal: 1, FoldThreshold: 1, FoldChunk: 4, IdleFold: time.Hour}
	s := openTest(t, path, clock, o)
	update(t, s, func(tx *Tx) {
		for i := 0; i < inlineMaxEntries+1; i++ {
			_, _ = tx.HSet(1, "h002", fmt.Sprintf("n%d", i), []byte("x"))
			_, _ = tx.SAdd(InternalDB(0), "u:al", fmt.Sprintf("n%d", i))
		}
		tx.Delete(1, "big")
		_, _ = tx.HSet(1, "big", "small", []byte("now"))
		tx.SetString(1, "bigset", []byte("a string"), 0)
		tx.Delete(1, "z")
		_, _ = tx.SAdd(1, "z", "member")
		tx.SetDeadline(1, "bytes", now+10_000)
		tx.FlushDB(0)
	})
	for i := 0; i < 50; i++ {
		update(t, s, func(tx *Tx) { tx.SetString(2, fmt.Sprint(i), []byte("fold"), 0) })
	}
	want := dumpAll(s)
	require.NoError(t, s.Close())
	s = openTest(t, path, clock, &Options{Internal: 1})
	defer s.Close()
	require.Equal(t, want, dumpAll(s))
}

// Ensure that a key that expired while the store was closed is dropped
// from the database memory has it in, not from the database of that index
// before a SWAPDB still in the log's unfolded tail: a live key of the same
// name in the other database survives the next restart.
func TestReview_ExpiredAtOpenAfterUnfoldedSwapDB(t *testing.T) {
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	path := filepath.Join(t.TempDir(), "db")
	s := openTest(t, path, clock, reviewOpts(1, 1000, false))
	update(t, s, func(tx *Tx) {
		tx.SetString(0, "k", []byte("expiring"), tx.Now()+1000)
		tx.SetString(1, "k", []byte("keep"), 0)
	})
	update(t, s, func(tx *Tx) { tx.SetString(2, "fold", []byte("x"), 0) }) // folds both into the buckets
	require.NoError(t, s.Close())
	s = openTest(t, path, clock, reviewOpts(1<<30, 1000, false))
	update(t, s, func(tx *Tx) { tx.SwapDB(0, 1) }) // stays in the log
	require.NoError(t, s.Close())

	clock.Add(2 * time.Second)
	s = openTest(t, path, clock, reviewOpts(1<<30, 1000, false))
	want := dumpAll(s)
	require.Equal(t, []any{"keep", int64(0)}, want["0/k"])
	require.NotContains(t, want, "1/k")
	require.NoError(t, s.Close())
	s = openTest(t, path, clock, reviewOpts(1<<30, 1000, false))
	defer s.Close()
	require.Equal(t, want, dumpAll(s), "the live key in the other database was deleted")
}
