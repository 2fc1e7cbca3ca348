package storage

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func fieldsInOrder(v *Value) []string {
	var out []string
	for f, val := range v.HashFields() {
		out = append(out, f+"="+string(val))
	}
	return out
}

// Ensure that a compact hash keeps insertion order, replaces a value in its
// place (same length or not), deletes from the middle and reports its length.
func TestValue_CompactHashOperations(t *testing.T) {
	v := newHash()
	require.True(t, v.hset("a", []byte("1")))
	require.True(t, v.hset("bb", []byte("22")))
	require.True(t, v.hset("c", []byte("333")))
	require.False(t, v.hset("bb", []byte("xy")))          // same length: in place
	require.False(t, v.hset("a", []byte("longer value"))) // rebuilt
	require.Equal(t, []string{"a=longer value", "bb=xy", "c=333"}, fieldsInOrder(v))
	require.Equal(t, 3, v.Len())
	require.Nil(t, v.hash, "still compact")

	val, ok := v.HGet("c")
	require.True(t, ok)
	require.Equal(t, "333", string(val))
	_, ok = v.HGet("d")
	require.False(t, ok)
	_, ok = v.HGet("")
	require.False(t, ok)

	require.True(t, v.hdel("bb"))
	require.False(t, v.hdel("bb"))
	require.Equal(t, []string{"a=longer value", "c=333"}, fieldsInOrder(v))
	require.Equal(t, map[string][]byte{"a": []byte("longer value"), "c": []byte("333")}, v.Hash())
	require.True(t, v.hdel("a"))
	require.True(t, v.hdel("c"))
	require.Equal(t, 0, v.Len())
}

// Ensure that a view handed out before a change that rebuilds or extends
// the compact slice keeps its bytes.
func TestValue_CompactHashViewsSurviveChanges(t *testing.T) {
	v := newHash()
	v.hset("f", []byte("before"))
	old, _ := v.HGet("f")
	v.hset("f", []byte("a different length"))
	v.hset("g", []byte("appended"))
	require.Equal(t, "before", string(old))
	got, _ := v.HGet("f")
	require.Equal(t, "a different length", string(got))
}

// Ensure that a hash past compactMaxEntries fields, or compactMaxBytes
// bytes, becomes a map with every field intact, and stays one.
func TestValue_CompactHashBecomesMap(t *testing.T) {
	v := newHash()
	for i := 0; i < compactMaxEntries; i++ {
		v.hset(fmt.Sprintf("f%d", i), []byte(fmt.Sprint(i)))
	}
	require.Nil(t, v.hash)
	v.hset("one more", []byte("x"))
	require.NotNil(t, v.hash)
	require.Equal(t, compactMaxEntries+1, v.Len())
	got, ok := v.HGet("f7")
	require.True(t, ok)
	require.Equal(t, "7", string(got))
	v.hdel("one more")
	require.NotNil(t, v.hash, "never back to compact")

	w := newHash()
	w.hset("small", []byte("x"))
	w.hset("big", []byte(strings.Repeat("y", compactMaxBytes)))
	require.NotNil(t, w.hash)
	require.Equal(t, map[string][]byte{"small": []byte("x"), "big": []byte(strings.Repeat("y", compactMaxBytes))}, w.Hash())
}

// Ensure that compact and map hashes, with fields added, replaced and
// deleted, load back identically from the log and from the folded buckets.
func TestValue_HashesSurviveRestart(t *testing.T) {
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
					_, _ = tx.HSet(0, "small", fmt.Sprintf("f%d", i), []byte(strings.Repeat("v", i)))
				}
				_, _ = tx.HSet(0, "small", "f3", []byte("replaced"))
				_, _ = tx.HDel(0, "small", "f5")
				for i := 0; i < compactMaxEntries+5; i++ {
					_, _ = tx.HSet(0, "large", fmt.Sprintf("f%d", i), []byte("v"))
				}
				_, _ = tx.HSet(InternalDB(0), "s:x", "data", []byte(strings.Repeat("d", 200)))
				tx.SetDeadline(InternalDB(0), "s:x", tx.Now()+60_000)
			})
			before := snapshot(s)
			require.NoError(t, s.Close())
			s = openTest(t, path, clock, o)
			defer s.Close()
			require.Equal(t, before, snapshot(s))
			require.NoError(t, s.View(func(tx *Tx) error {
				v, err := tx.LookupHash(0, "small")
				require.NoError(t, err)
				require.Equal(t, 9, v.Len())
				require.Nil(t, v.hash, "loaded compact")
				got, _ := v.HGet("f3")
				require.Equal(t, "replaced", string(got))
				v, _ = tx.LookupHash(0, "large")
				require.Equal(t, compactMaxEntries+5, v.Len())
				v, _ = tx.LookupHash(InternalDB(0), "s:x")
				require.Equal(t, clock.Now().UnixMilli()+60_000, v.Deadline())
				return nil
			}))
		})
	}
}

// Ensure that the GC headroom is max(64 MiB, live/4), within GOGC 25..400.
func TestGCPercentFor_CapsHeadroom(t *testing.T) {
	require.Equal(t, 100, gcPercentFor(0))
	require.Equal(t, 200, gcPercentFor(32<<20))
	require.Equal(t, 400, gcPercentFor(1<<20))
	require.Equal(t, 50, gcPercentFor(128<<20))
	require.Equal(t, 25, gcPercentFor(4<<30))
	// The soft limit: the goal, an eighth more, and the minimum headroom.
	require.Equal(t, int64(1<<30+1<<30/4+(1<<30+1<<30/4)/8+GCMinHeadroom), memoryLimitFor(1<<30, 25))
}
