package storage

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type zsetEntry struct {
	Member string
	Score  float64
}

// zsetSnapshot renders every sorted set of the store in rank order, with
// its deadline, and checks that ranks and lookups agree with that order.
func zsetSnapshot(t *testing.T, s *Store) map[string]any {
	t.Helper()
	out := map[string]any{}
	_ = s.View(func(tx *Tx) error {
		for db := 0; db < tx.Databases(); db++ {
			tx.ForEach(db, func(k string, v *Value) bool {
				if v.Kind() != KindZSet {
					return true
				}
				var es []zsetEntry
				v.ZRange(0, v.Len()-1, false, func(m string, sc float64) bool {
					es = append(es, zsetEntry{m, sc})
					return true
				})
				require.Len(t, es, v.Len())
				for i, e := range es {
					r, sc, ok := v.ZRank(e.Member, false)
					require.True(t, ok)
					require.Equal(t, i, r)
					require.Equal(t, math.Float64bits(e.Score), math.Float64bits(sc))
				}
				out[strconv.Itoa(db)+"/"+k] = []any{es, v.Deadline()}
				return true
			})
		}
		return nil
	})
	return out
}

func populateZSets(t *testing.T, tx *Tx) {
	zadd := func(db int, key, m string, sc float64) {
		_, err := tx.ZAdd(db, key, m, sc)
		require.NoError(t, err)
	}
	for i, sc := range []float64{1.5, math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0.1, 1e300, -7, 1.5} {
		zadd(0, "z", "m"+strconv.Itoa(i), sc)
	}
	zadd(0, "z", "m0", 2.5) // update moves it
	_, _ = tx.ZRem(0, "z", "m5")
	zadd(0, "bin\x00key", "a\x00b\r\n", 3)
	tx.SetDeadline(0, "bin\x00key", tx.Now()+60_000)
	zadd(1, "gone", "only", 1)
	_, _ = tx.ZRem(1, "gone", "only") // the last member deletes the key
	zadd(1, "big", "x", 0)
	for i := 0; i < 300; i++ {
		zadd(1, "big", "m"+strconv.Itoa(i), float64(i%17))
	}
	v, err := tx.LookupZSet(0, "z")
	require.NoError(t, err)
	tx.Restore(2, "copy", v)
	zadd(0, "replaced", "m", 1)
	tx.SetString(0, "replaced", []byte("now a string"), 0)
	zadd(0, "short", "m", 1)
	tx.SetDeadline(0, "short", tx.Now()+1_000)
}

// Ensure that sorted sets keep their members, scores (to the bit: -0, ±inf)
// and order across a restart, from the log tail and after the log is folded
// into the buckets, and that an expired sorted set is gone.
func TestZSet_RestartKeepsScores(t *testing.T) {
	for _, fold := range []bool{false, true} {
		t.Run(map[bool]string{false: "log", true: "folded"}[fold], func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db")
			clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
			o := &Options{}
			if fold {
				o.FoldThreshold = 1
				o.FoldChunk = 7
			}
			s := openTest(t, path, clock, o)
			update(t, s, func(tx *Tx) { populateZSets(t, tx) })
			update(t, s, func(tx *Tx) { _, _ = tx.ZAdd(0, "after", "x", -1) })
			before := zsetSnapshot(t, s)
			require.Len(t, before, 6)
			require.Nil(t, before["1/gone"])
			require.NoError(t, s.Close())

			s = openTest(t, path, clock, o)
			require.Equal(t, before, zsetSnapshot(t, s))
			if fold {
				require.Less(t, s.Stats().LogRecords, int64(20))
			}
			_ = s.View(func(tx *Tx) error {
				require.Equal(t, "zset", tx.Lookup(0, "z").Kind().String())
				v := tx.Lookup(0, "replaced")
				require.Equal(t, KindString, v.Kind())
				sc, ok, err := tx.ZScore(0, "z", "m3")
				require.NoError(t, err)
				require.True(t, ok)
				require.True(t, math.Signbit(sc), "-0 keeps its sign")
				_, _, err = tx.ZScore(0, "replaced", "m")
				require.ErrorIs(t, err, ErrWrongType)
				return nil
			})
			require.NoError(t, s.Close())

			clock.Add(2 * time.Second)
			s = openTest(t, path, clock, o)
			delete(before, "0/short")
			require.Equal(t, before, zsetSnapshot(t, s))
			require.NoError(t, s.Close())
		})
	}
}

// Ensure that an unchanged score records nothing and a NaN is refused.
func TestZSet_AddRecordsOnlyChanges(t *testing.T) {
	clock := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	s := openTest(t, filepath.Join(t.TempDir(), "db"), clock, nil)
	defer s.Close()
	update(t, s, func(tx *Tx) { _, _ = tx.ZAdd(0, "z", "a", 1) })
	c, err := s.Update(func(tx *Tx) error {
		added, err := tx.ZAdd(0, "z", "a", 1)
		require.False(t, added)
		require.NoError(t, err)
		_, err = tx.ZAdd(0, "z", "a", math.NaN())
		require.ErrorIs(t, err, ErrNotANumber)
		_, err = tx.ZAdd(0, "z", "b", math.NaN())
		require.ErrorIs(t, err, ErrNotANumber)
		return nil
	})
	require.NoError(t, err)
	require.Nil(t, c, "nothing changed, nothing to commit")
}

// Ensure that records of sorted-set changes round-trip through their encoding.
func TestRecord_ZSetRoundTrip(t *testing.T) {
	in := []Record{
		{Op: OpZAdd, DB: 2, Key: "z", Field: "m\x00", Value: encodeScore(math.Inf(-1))},
		{Op: OpZRem, DB: 2, Key: "z", Field: "m\x00"},
	}
	var b []byte
	for i := range in {
		b = AppendRecord(b, &in[i])
	}
	out, err := DecodeRecords(b)
	require.NoError(t, err)
	require.Equal(t, in, out)
	sc, err := decodeScore(out[0].Value)
	require.NoError(t, err)
	require.True(t, math.IsInf(sc, -1))
	_, err = decodeScore(encodeScore(math.NaN()))
	require.ErrorIs(t, err, ErrCorrupt)
}

// Ensure that the skiplist's ranks, positions and ranges agree with a
// sorted slice under random inserts, updates and removals.
func TestSkiplist_MatchesSortedSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	z := newZSet()
	v := &Value{kind: KindZSet, zset: z}
	model := map[string]float64{}
	sorted := func() []zsetEntry {
		var es []zsetEntry
		for m, s := range model {
			es = append(es, zsetEntry{m, s})
		}
		sort.Slice(es, func(i, j int) bool {
			if es[i].Score != es[j].Score {
				return es[i].Score < es[j].Score
			}
			return es[i].Member < es[j].Member
		})
		return es
	}
	for step := 0; step < 4000; step++ {
		m := "m" + strconv.Itoa(rng.IntN(300))
		if rng.IntN(3) == 0 {
			_, had := model[m]
			require.Equal(t, had, z.remove(m))
			delete(model, m)
		} else {
			sc := float64(rng.IntN(40)) / 4
			_, had := model[m]
			require.Equal(t, !had, z.set(m, sc))
			model[m] = sc
		}
		if step%200 != 0 {
			continue
		}
		es := sorted()
		require.Equal(t, len(es), z.sl.length)
		for i, e := range es {
			r, _, ok := v.ZRank(e.Member, false)
			require.True(t, ok)
			require.Equal(t, i, r)
			rr, _, _ := v.ZRank(e.Member, true)
			require.Equal(t, len(es)-1-i, rr)
			require.Equal(t, e.Member, z.sl.at(i).member)
		}
		lo, hi := float64(rng.IntN(12)), float64(rng.IntN(12))
		r := ScoreRange{Min: lo, Max: hi, MinExclusive: rng.IntN(2) == 0, MaxExclusive: rng.IntN(2) == 0}
		var want []string
		for _, e := range es {
			if r.aboveMin(e.Score) && r.belowMax(e.Score) {
				want = append(want, e.Member)
			}
		}
		require.Equal(t, len(want), v.ZCount(r))
		var got []string
		v.ZRangeByScore(r, 1, 5, false, func(m string, _ float64) bool { got = append(got, m); return true })
		if len(want) > 1 {
			require.Equal(t, want[1:min(6, len(want))], got)
		} else {
			require.Empty(t, got)
		}
		got = nil
		v.ZRangeByScore(r, 0, -1, true, func(m string, _ float64) bool { got = append(got, m); return true })
		for i, j := 0, len(got)-1; i < j; i, j = i+1, j-1 {
			got[i], got[j] = got[j], got[i]
		}
		require.Equal(t, want, got)
		got = nil
		v.ZRangeByScore(r, 2, 3, true, func(m string, _ float64) bool { got = append(got, m); return true })
		var wantRev []string
		for i := len(want) - 3; i >= 0 && i >= len(want)-5; i-- {
			wantRev = append(wantRev, want[i])
		}
		require.Equal(t, wantRev, got)
	}
}

// Ensure that lex ranges follow Redis's bounds: "[" inclusive, "(" exclusive,
// "-" and "+" the ends, and an inverted range is empty.
func TestZSet_LexRange(t *testing.T) {
	z := newZSet()
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		z.set(m, 0)
	}
	v := &Value{kind: KindZSet, zset: z}
	in := func(s string) LexBound { return LexBound{Value: s} }
	ex := func(s string) LexBound { return LexBound{Value: s, Exclusive: true} }
	minus, plus := LexBound{Inf: -1, Exclusive: true}, LexBound{Inf: 1, Exclusive: true}
	for _, c := range []struct {
		r         LexRange
		offset, n int
		reverse   bool
		want      string
	}{
		{LexRange{minus, plus}, 0, -1, false, "abcde"},
		{LexRange{minus, plus}, 0, -1, true, "edcba"},
		{LexRange{in("b"), ex("d")}, 0, -1, false, "bc"},
		{LexRange{ex("b"), in("d")}, 0, -1, true, "dc"},
		{LexRange{in("bb"), plus}, 1, 2, false, "de"},
		{LexRange{minus, in("c")}, 1, 5, true, "ba"},
		{LexRange{in("d"), in("b")}, 0, -1, false, ""},
		{LexRange{plus, minus}, 0, -1, false, ""},
		{LexRange{minus, minus}, 0, -1, false, ""},
		{LexRange{in("c"), ex("c")}, 0, -1, false, ""},
		{LexRange{in("c"), in("c")}, 0, -1, false, "c"},
	} {
		got := ""
		v.ZRangeByLex(c.r, c.offset, c.n, c.reverse, func(m string, _ float64) bool { got += m; return true })
		require.Equal(t, c.want, got, "%+v", c)
		if c.offset == 0 && c.n < 0 {
			require.Equal(t, len(c.want), v.ZLexCount(c.r), "%+v", c)
		}
	}
}

// The benchmarks behind the choice of a skiplist (see zset.go): in sets of
// 1,000 and 100,000 members, a member is moved to a new score, a member's
// rank is asked, and the first ten members from a score on are read.
func benchZSet(n int) (*Value, []string) {
	z := newZSet()
	names := make([]string, n)
	for i := range names {
		names[i] = "session:" + strconv.Itoa(i)
		z.set(names[i], float64(rand.IntN(n)))
	}
	return &Value{kind: KindZSet, zset: z}, names
}

func benchSizes(b *testing.B, fn func(b *testing.B, v *Value, names []string)) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			v, names := benchZSet(n)
			b.ResetTimer()
			fn(b, v, names)
		})
	}
}

func BenchmarkZSet_Add(b *testing.B) {
	benchSizes(b, func(b *testing.B, v *Value, names []string) {
		for i := 0; i < b.N; i++ {
			v.zset.set(names[i%len(names)], float64(rand.IntN(len(names))))
		}
	})
}

func BenchmarkZSet_Rank(b *testing.B) {
	benchSizes(b, func(b *testing.B, v *Value, names []string) {
		for i := 0; i < b.N; i++ {
			v.ZRank(names[i%len(names)], false)
		}
	})
}

func BenchmarkZSet_RangeByScoreLimit10(b *testing.B) {
	benchSizes(b, func(b *testing.B, v *Value, names []string) {
		for i := 0; i < b.N; i++ {
			lo := float64(i % len(names))
			v.ZRangeByScore(ScoreRange{Min: lo, Max: math.Inf(1)}, 0, 10, false, func(string, float64) bool { return true })
		}
	})
}
