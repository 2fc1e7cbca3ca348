package storage

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// dumpAll renders every database, visible and internal, including sorted
// sets, for comparison across restarts.
func dumpAll(s *Store) map[string]any {
	out := map[string]any{}
	_ = s.View(func(tx *Tx) error {
		for _, db := range s.allDBs() {
			tx.ForEach(db, func(k string, v *Value) bool {
				key := fmt.Sprintf("%d/%s", db, k)
				switch v.Kind() {
				case KindString:
					out[key] = []any{string(v.Bytes()), v.Deadline()}
				case KindHash:
					m := map[string]string{}
					for f, val := range v.HashFields() {
						m[f] = string(val)
					}
					out[key] = []any{m, v.Deadline()}
				case KindSet:
					m := map[string]bool{}
					for f := range v.Members() {
						m[f] = true
					}
					out[key] = []any{m, v.Deadline()}
				case KindZSet:
					m := map[string]float64{}
					for f, sc := range v.zset.scores {
						m[f] = sc
					}
					out[key] = []any{m, v.Deadline()}
				}
				return true
			})
		}
		return nil
	})
	return out
}

// rawLayout is what a database's buckets hold: each key's stored kind byte,
// and the number of field entries per key.
type rawLayout struct {
	kinds  map[string]Kind
	fields map[string]int
	format string
}

func readLayout(t *testing.T, path string, id int) rawLayout {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	l := rawLayout{kinds: map[string]Kind{}, fields: map[string]int{}}
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		l.format = string(tx.Bucket(bucketMeta).Get(keyFormat))
		require.NoError(t, tx.Bucket(keysBucket(id)).ForEach(func(k, v []byte) error {
			l.kinds[string(k)] = Kind(v[0])
			return nil
		}))
		return tx.Bucket(fieldsBucket(id)).ForEach(func(k, _ []byte) error {
			d := decoder{b: k}
			l.fields[string(d.bytes())]++
			return d.err
		})
	}))
	return l
}

// Ensure that a folded hash or set is one inline entry of the keys bucket
// while it is small, moves to one entry per field when it outgrows the
// inline limits, and that every change (fields set, replaced and deleted,
// members added and removed, deadlines, kind replacements) loads back
// exactly, from the buckets and from the log, with and without the check
// before the writable open.
func TestFold_InlineHashesAndSets(t *testing.T) {
	sdb := InternalDB(0)
	changes := []func(tx *Tx){
		func(tx *Tx) {
			for _, f := range []string{"u", "h", "c", "l", "m:ip", "d:data"} {
				_, _ = tx.HSet(sdb, "s:one", f, []byte("value of "+f))
			}
			tx.SetDeadline(sdb, "s:one", tx.Now()+60_000)
			_, _ = tx.SAdd(sdb, "u:alice", "one")
			_, _ = tx.SAdd(sdb, "u:alice", "two")
			_, _ = tx.HSet(0, "grows", "f0", []byte("x"))
			_, _ = tx.SAdd(0, "grows-set", "m0")
			_, _ = tx.HSet(0, "to-string", "f", []byte("v"))
			tx.SetString(0, "to-hash", []byte("a string"), 0)
			_, _ = tx.ZAdd(0, "z", "a", 1.5)
		},
		func(tx *Tx) {
			_, _ = tx.HSet(sdb, "s:one", "l", []byte("value of l, replaced"))
			_, _ = tx.HDel(sdb, "s:one", "m:ip")
			_, _ = tx.SRem(sdb, "u:alice", "one")
			for i := 1; i <= inlineMaxEntries+5; i++ {
				_, _ = tx.HSet(0, "grows", fmt.Sprintf("f%d", i), []byte("x"))
				_, _ = tx.SAdd(0, "grows-set", fmt.Sprintf("m%d", i))
			}
			tx.SetString(0, "to-string", []byte("now a string"), 0)
			tx.Delete(0, "to-hash")
			_, _ = tx.HSet(0, "to-hash", "f", []byte("now a hash"))
			_, _ = tx.HSet(0, "big-value", "f", []byte(strings.Repeat("v", inlineMaxBytes)))
		},
		func(tx *Tx) {
			_, _ = tx.HDel(0, "grows", "f0")
			_, _ = tx.SRem(0, "grows-set", "m0")
			tx.SetDeadline(0, "grows", tx.Now()+120_000)
		},
	}
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	write := func(o *Options) (string, map[string]any) {
		path := filepath.Join(t.TempDir(), "db")
		s := openTest(t, path, clock, o)
		for _, c := range changes {
			update(t, s, c)
		}
		want := dumpAll(s)
		require.Len(t, want, 8)
		require.NoError(t, s.Close())
		// Loaded through the read-only handle (preflight), and after the
		// writable open (NoOpenCheck).
		for _, noCheck := range []bool{false, true} {
			s = openTest(t, path, clock, &Options{Internal: 1, FoldThreshold: 1 << 30, NoOpenCheck: noCheck})
			require.Equal(t, want, dumpAll(s))
			require.NoError(t, s.Close())
		}
		return path, want
	}
	folded, want := write(&Options{Internal: 1, FoldThreshold: 1, FoldChunk: 5})
	_, fromLog := write(&Options{Internal: 1, FoldThreshold: 1 << 30})
	require.Equal(t, want, fromLog)
	require.Equal(t, []any{map[string]string{"u": "value of u", "h": "value of h", "c": "value of c",
		"l": "value of l, replaced", "d:data": "value of d:data"}, clock.Now().UnixMilli() + 60_000}, want[fmt.Sprintf("%d/s:one", sdb)])

	l := readLayout(t, folded, sdb)
	require.Equal(t, KindHash|inlineFlag, l.kinds["s:one"])
	require.Equal(t, KindSet|inlineFlag, l.kinds["u:alice"])
	require.Empty(t, l.fields, "small hashes and sets have no field entries")
	l = readLayout(t, folded, 0)
	require.Equal(t, "sessdb/2", l.format)
	require.Equal(t, KindHash, l.kinds["grows"])
	require.Equal(t, inlineMaxEntries+5, l.fields["grows"])
	require.Equal(t, KindSet, l.kinds["grows-set"])
	require.Equal(t, inlineMaxEntries+5, l.fields["grows-set"])
	require.Equal(t, KindHash, l.kinds["big-value"])
	require.Equal(t, 1, l.fields["big-value"])
	require.Equal(t, KindString, l.kinds["to-string"])
	require.Equal(t, KindHash|inlineFlag, l.kinds["to-hash"])
	require.Equal(t, KindZSet, l.kinds["z"])
	require.Len(t, l.fields, 4, "only the large values and the sorted set have field entries")
}

// v1File writes a file in the format before inline values (formatV1): every
// hash field and set member its own entry of the fields bucket. It is built
// by hand, bucket by bucket, as that format's writer did.
func v1File(t *testing.T, path string, deadline int64, keys map[string]any, log []Record) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		require.NoError(t, err)
		require.NoError(t, meta.Put(keyFormat, formatV1))
		var dbmap []byte
		for i := 0; i < 16; i++ {
			dbmap = binary.AppendUvarint(dbmap, uint64(i))
		}
		require.NoError(t, meta.Put(keyDBMap, dbmap))
		lb, err := tx.CreateBucket(bucketLog)
		require.NoError(t, err)
		var entry []byte
		for i := range log {
			entry = AppendRecord(entry, &log[i])
		}
		require.NoError(t, lb.Put(binary.BigEndian.AppendUint64(nil, 1), entry))
		for _, id := range append([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, InternalDB(0)) {
			_, err := tx.CreateBucket(keysBucket(id))
			require.NoError(t, err)
			_, err = tx.CreateBucket(fieldsBucket(id))
			require.NoError(t, err)
		}
		for name, val := range keys {
			id, key, _ := strings.Cut(name, "/")
			bid := 0
			if id == "i" {
				bid = InternalDB(0)
			}
			kb, fb := tx.Bucket(keysBucket(bid)), tx.Bucket(fieldsBucket(bid))
			switch val := val.(type) {
			case string:
				require.NoError(t, kb.Put([]byte(key), encodeHeader(KindString, 0, []byte(val))))
			case map[string]string:
				require.NoError(t, kb.Put([]byte(key), encodeHeader(KindHash, deadline, nil)))
				for f, v := range val {
					require.NoError(t, fb.Put(fieldKey(key, f), []byte(v)))
				}
			case []string:
				require.NoError(t, kb.Put([]byte(key), encodeHeader(KindSet, 0, nil)))
				for _, m := range val {
					require.NoError(t, fb.Put(fieldKey(key, m), []byte{}))
				}
			case map[string]float64:
				require.NoError(t, kb.Put([]byte(key), encodeHeader(KindZSet, 0, nil)))
				for m, sc := range val {
					require.NoError(t, fb.Put(fieldKey(key, m), encodeScore(sc)))
				}
			}
		}
		return nil
	}))
}

// Ensure that Open migrates a file of the previous format: small hashes and
// sets become inline entries and lose their field entries, large ones and
// sorted sets keep theirs, the log's tail still replays, nothing changes in
// content, and the file is marked with the current format (an older build
// refuses it).
func TestOpen_MigratesFormatV1(t *testing.T) {
	now := int64(1_700_000_000_000)
	clock := &fakeClock{t: time.UnixMilli(now)}
	big := map[string]string{}
	var bigSet []string
	for i := 0; i < inlineMaxEntries+1; i++ {
		big[fmt.Sprintf("f%03d", i)] = "v"
		bigSet = append(bigSet, fmt.Sprintf("m%03d", i))
	}
	keys := map[string]any{
		"0/str":     "a string",
		"0/small":   map[string]string{"a": "1", "b": "2", "c": ""},
		"0/big":     big,
		"0/set":     []string{"x", "y"},
		"0/big-set": bigSet,
		"0/z":       map[string]float64{"a": 1, "b": -2.5},
		"i/s:abc":   map[string]string{"u": "alice", "d:data": strings.Repeat("d", 200)},
		"i/u:alice": []string{"abc"},
	}
	defer func(n int) { migrateChunk = n }(migrateChunk)
	migrateChunk = 1000
	for i := 0; i < 2500; i++ { // several chunks
		keys[fmt.Sprintf("0/h%06d", i)] = map[string]string{"f": fmt.Sprint(i)}
	}
	log := []Record{
		{Op: OpHSet, DB: 0, Key: "small", Field: "d", Value: []byte("from the log")},
		{Op: OpSAdd, DB: InternalDB(0), Key: "u:alice", Field: "def"},
	}
	path := filepath.Join(t.TempDir(), "db")
	v1File(t, path, now+3_600_000, keys, log)

	s := openTest(t, path, clock, &Options{Internal: 1})
	got := dumpAll(s)
	require.Len(t, got, len(keys))
	require.Equal(t, []any{map[string]string{"a": "1", "b": "2", "c": "", "d": "from the log"}, now + 3_600_000}, got["0/small"])
	require.Equal(t, []any{"a string", int64(0)}, got["0/str"])
	require.Len(t, got["0/big"].([]any)[0], inlineMaxEntries+1)
	require.Len(t, got["0/big-set"].([]any)[0], inlineMaxEntries+1)
	require.Equal(t, []any{map[string]bool{"x": true, "y": true}, int64(0)}, got["0/set"])
	require.Equal(t, []any{map[string]float64{"a": 1, "b": -2.5}, int64(0)}, got["0/z"])
	require.Equal(t, []any{map[string]bool{"abc": true, "def": true}, int64(0)}, got[fmt.Sprintf("%d/u:alice", InternalDB(0))])
	require.Equal(t, []any{map[string]string{"f": "1234"}, now + 3_600_000}, got["0/h001234"])
	require.NoError(t, s.Close())

	l := readLayout(t, path, 0)
	require.Equal(t, string(formatTag), l.format)
	require.Equal(t, KindHash|inlineFlag, l.kinds["small"])
	require.Equal(t, KindHash|inlineFlag, l.kinds["h000001"])
	require.Equal(t, KindSet|inlineFlag, l.kinds["set"])
	require.Equal(t, KindHash, l.kinds["big"])
	require.Equal(t, KindSet, l.kinds["big-set"])
	require.Equal(t, KindZSet, l.kinds["z"])
	require.Equal(t, map[string]int{"big": inlineMaxEntries + 1, "big-set": inlineMaxEntries + 1, "z": 2}, l.fields)
	l = readLayout(t, path, InternalDB(0))
	require.Equal(t, KindHash|inlineFlag, l.kinds["s:abc"])
	require.Empty(t, l.fields)

	s = openTest(t, path, clock, &Options{Internal: 1})
	require.Equal(t, got, dumpAll(s))
	require.NoError(t, s.Close())
}

// Ensure that a migration interrupted by a crash (the file marked as
// migrating, some keys inline and some not) is finished by the next Open,
// and that a build of the previous format refuses such a file.
func TestOpen_ResumesInterruptedMigration(t *testing.T) {
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	path := filepath.Join(t.TempDir(), "db")
	v1File(t, path, 0, map[string]any{
		"0/done": map[string]string{"a": "1"},
		"0/todo": map[string]string{"b": "2"},
		"0/z":    map[string]float64{"m": 3},
	}, nil)
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		// "done" was made inline, its field entry not yet dropped.
		require.NoError(t, tx.Bucket(bucketMeta).Put(keyFormat, formatMigrating))
		return tx.Bucket(keysBucket(0)).Put([]byte("done"), encodeHeader(KindHash|inlineFlag, 0, appendCompactEntry(nil, "a", []byte("1"))))
	}))
	require.NoError(t, db.Close())

	// What the previous format's check said about any other sessdb format.
	rdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	require.NoError(t, rdb.View(func(tx *bolt.Tx) error {
		f := tx.Bucket(bucketMeta).Get(keyFormat)
		require.True(t, strings.HasPrefix(string(f), "sessdb/") && string(f) != string(formatV1))
		return nil
	}))
	require.NoError(t, rdb.Close())

	s := openTest(t, path, clock, nil)
	require.Equal(t, map[string]any{
		"0/done": []any{map[string]string{"a": "1"}, int64(0)},
		"0/todo": []any{map[string]string{"b": "2"}, int64(0)},
		"0/z":    []any{map[string]float64{"m": 3}, int64(0)},
	}, dumpAll(s))
	require.NoError(t, s.Close())
	l := readLayout(t, path, 0)
	require.Equal(t, string(formatTag), l.format)
	require.Equal(t, map[string]Kind{"done": KindHash | inlineFlag, "todo": KindHash | inlineFlag, "z": KindZSet}, l.kinds)
	require.Equal(t, map[string]int{"z": 1}, l.fields)
}

// Ensure that a damaged inline value (a length running past its payload)
// fails Open with ErrCorrupt instead of loading a hash that would panic
// when read.
func TestOpen_RejectsDamagedInlineValue(t *testing.T) {
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	path := filepath.Join(t.TempDir(), "db")
	s := openTest(t, path, clock, &Options{FoldThreshold: 1})
	update(t, s, func(tx *Tx) { _, _ = tx.HSet(0, "h", "field", []byte("value")) })
	update(t, s, func(tx *Tx) { tx.SetString(0, "fold", []byte("x"), 0) })
	require.NoError(t, s.Close())
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		payload := appendCompactEntry(nil, "field", []byte("value"))
		payload[len(payload)-6] = 100 // the value's length
		return tx.Bucket(keysBucket(0)).Put([]byte("h"), encodeHeader(KindHash|inlineFlag, 0, payload))
	}))
	require.NoError(t, db.Close())
	_, err = Open(path, &Options{Now: clock.Now})
	require.ErrorIs(t, err, ErrCorrupt)
	require.Contains(t, err.Error(), path)
}

// Ensure that a file written by another process between the read-only load
// and the writable open is loaded again, so that memory shows what the file
// holds once the lock is taken.
func TestOpen_ReloadsFileChangedAfterPreload(t *testing.T) {
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	path := filepath.Join(t.TempDir(), "db")
	s := openTest(t, path, clock, nil)
	update(t, s, func(tx *Tx) { tx.SetString(0, "a", []byte("1"), 0) })
	require.NoError(t, s.Close())
	testHookPreloaded = func() {
		testHookPreloaded = nil
		other := openTest(t, path, clock, nil)
		update(t, other, func(tx *Tx) {
			tx.SetString(0, "b", []byte("2"), 0)
			tx.Delete(0, "a")
		})
		require.NoError(t, other.Close())
	}
	defer func() { testHookPreloaded = nil }()
	s = openTest(t, path, clock, nil)
	require.Equal(t, map[string]any{"0/b": []any{"2", int64(0)}}, dumpAll(s))
	update(t, s, func(tx *Tx) { tx.SetString(0, "c", []byte("3"), 0) })
	require.NoError(t, s.Close())
	s = openTest(t, path, clock, nil)
	defer s.Close()
	require.Equal(t, map[string]any{"0/b": []any{"2", int64(0)}, "0/c": []any{"3", int64(0)}}, dumpAll(s))
}
