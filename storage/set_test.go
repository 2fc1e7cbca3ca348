package storage

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func membersInOrder(v *Value) []string {
	var out []string
	for m := range v.SetMembers() {
		out = append(out, m)
	}
	return out
}

// Ensure that a compact set adds in insertion order, refuses duplicates,
// removes from the middle and the ends, answers membership and its length,
// and still serves the map view.
func TestValue_CompactSetOperations(t *testing.T) {
	v := &Value{kind: KindSet}
	require.True(t, v.sadd("a"))
	require.True(t, v.sadd("bb"))
	require.True(t, v.sadd(""))
	require.True(t, v.sadd("ccc"))
	require.False(t, v.sadd("bb"))
	require.Nil(t, v.set, "still compact")
	require.Equal(t, []string{"a", "bb", "", "ccc"}, membersInOrder(v))
	require.Equal(t, 4, v.Len())
	require.True(t, v.IsMember(""))
	require.True(t, v.IsMember("ccc"))
	require.False(t, v.IsMember("b"))
	require.False(t, v.IsMember("cc"))
	require.Equal(t, map[string]struct{}{"a": {}, "bb": {}, "": {}, "ccc": {}}, v.Members())

	require.True(t, v.srem("bb"))
	require.False(t, v.srem("bb"))
	require.Equal(t, []string{"a", "", "ccc"}, membersInOrder(v))
	require.True(t, v.srem("ccc"))
	require.True(t, v.srem("a"))
	require.Equal(t, []string{""}, membersInOrder(v))
	require.True(t, v.srem(""))
	require.Equal(t, 0, v.Len())
	require.Empty(t, membersInOrder(v))

	s := &Value{kind: KindString, str: []byte("x")}
	require.False(t, s.IsMember("x"))
	require.Empty(t, slices.Collect(s.SetMembers()))
}

// Ensure that member strings handed out before a change keep their bytes,
// and that the set may change while it is iterated.
func TestValue_CompactSetViewsSurviveChanges(t *testing.T) {
	v := &Value{kind: KindSet}
	for _, m := range []string{"one", "two", "three"} {
		v.sadd(m)
	}
	before := membersInOrder(v)
	var seen []string
	for m := range v.SetMembers() {
		seen = append(seen, m)
		v.srem(m)
		v.sadd(m + "!")
	}
	require.Equal(t, []string{"one", "two", "three"}, seen)
	require.Equal(t, []string{"one", "two", "three"}, before)
	require.Equal(t, []string{"one!", "two!", "three!"}, membersInOrder(v))
}

// Ensure that a set past compactMaxEntries members, or compactMaxBytes
// bytes, becomes a map with every member intact, and stays one.
func TestValue_CompactSetBecomesMap(t *testing.T) {
	v := &Value{kind: KindSet}
	for i := 0; i < compactMaxEntries; i++ {
		v.sadd(fmt.Sprintf("m%d", i))
	}
	require.Nil(t, v.set)
	require.True(t, v.sadd("one more"))
	require.NotNil(t, v.set)
	require.Equal(t, compactMaxEntries+1, v.Len())
	require.True(t, v.IsMember("m7"))
	require.True(t, v.srem("one more"))
	require.NotNil(t, v.set, "never back to compact")

	w := &Value{kind: KindSet}
	w.sadd("small")
	w.sadd(strings.Repeat("y", compactMaxBytes))
	require.NotNil(t, w.set)
	require.Equal(t, map[string]struct{}{"small": {}, strings.Repeat("y", compactMaxBytes): {}}, w.Members())
}

// Ensure that compact and map sets, with members added and removed, load
// back identically from the log and from the folded buckets, the small ones
// compact again, and that a set emptied by SREM is gone.
func TestValue_SetsSurviveRestart(t *testing.T) {
	for _, fold := range []bool{false, true} {
		t.Run(map[bool]string{false: "log", true: "folded"}[fold], func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db")
			clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
			o := &Options{Internal: 1}
			if fold {
				o.FoldThreshold = 1
				o.FoldChunk = 7
			}
			s := openTest(t, path, clock, o)
			update(t, s, func(tx *Tx) {
				for i := 0; i < 10; i++ {
					_, _ = tx.SAdd(0, "small", fmt.Sprintf("m%d", i))
				}
				_, _ = tx.SRem(0, "small", "m5")
				for i := 0; i < compactMaxEntries+5; i++ {
					_, _ = tx.SAdd(0, "large", fmt.Sprintf("m%d", i))
				}
				_, _ = tx.SAdd(0, "emptied", "x")
				_, _ = tx.SRem(0, "emptied", "x")
				_, _ = tx.SAdd(InternalDB(0), "u:alice", "id1")
				_, _ = tx.SAdd(InternalDB(0), "u:alice", "id2")
			})
			before := snapshot(s)
			require.NoError(t, s.Close())
			s = openTest(t, path, clock, o)
			defer s.Close()
			require.Equal(t, before, snapshot(s))
			require.NoError(t, s.View(func(tx *Tx) error {
				v, err := tx.LookupSet(0, "small")
				require.NoError(t, err)
				require.Equal(t, 9, v.Len())
				require.Nil(t, v.set, "loaded compact")
				require.True(t, v.IsMember("m9"))
				require.False(t, v.IsMember("m5"))
				v, _ = tx.LookupSet(0, "large")
				require.Equal(t, compactMaxEntries+5, v.Len())
				require.NotNil(t, v.set)
				v, _ = tx.LookupSet(0, "emptied")
				require.Nil(t, v)
				v, _ = tx.LookupSet(InternalDB(0), "u:alice")
				require.Nil(t, v.set, "loaded compact")
				require.ElementsMatch(t, []string{"id1", "id2"}, membersInOrder(v))
				return nil
			}))
			// A loaded compact set keeps working.
			update(t, s, func(tx *Tx) {
				added, err := tx.SAdd(0, "small", "m5")
				require.NoError(t, err)
				require.True(t, added)
				gone, err := tx.SRem(0, "small", "m0")
				require.NoError(t, err)
				require.True(t, gone)
			})
			require.NoError(t, s.View(func(tx *Tx) error {
				v, _ := tx.LookupSet(0, "small")
				require.True(t, v.IsMember("m5"))
				require.False(t, v.IsMember("m0"))
				require.Equal(t, 9, v.Len())
				return nil
			}))
		})
	}
}

// Ensure that RESTORE-style copies (RENAME, COPY, MOVE) of a compact set
// hold the same members and share no memory with the source.
func TestTx_RestoreCopiesCompactSet(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "db"), &fakeClock{t: time.UnixMilli(1_700_000_000_000)}, nil)
	defer s.Close()
	update(t, s, func(tx *Tx) {
		_, _ = tx.SAdd(0, "src", "a")
		_, _ = tx.SAdd(0, "src", "b")
		src, _ := tx.LookupSet(0, "src")
		tx.Restore(0, "dst", src)
		_, _ = tx.SRem(0, "src", "a")
		dst, _ := tx.LookupSet(0, "dst")
		require.Equal(t, []string{"a", "b"}, membersInOrder(dst))
		require.Nil(t, dst.set)
	})
}
