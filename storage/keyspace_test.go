package storage

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkKeyspace asserts that ks holds exactly model: every key found with its
// value, the count right, forEach visiting each key once, and every shard's
// probe runs intact (each key reachable from its home slot) with its load in
// bounds.
func checkKeyspace(t *testing.T, ks *Keyspace, model map[string]*Value) {
	t.Helper()
	require.Equal(t, len(model), ks.Len())
	for k, v := range model {
		require.Same(t, v, ks.get(k), "key %q", k)
	}
	seen := map[string]bool{}
	ks.forEach(func(k string, v *Value) bool {
		require.False(t, seen[k], "visited twice: %q", k)
		seen[k] = true
		require.Same(t, model[k], v)
		return true
	})
	require.Len(t, seen, len(model))
	total := 0
	for i := range ks.shards {
		sh := &ks.shards[i]
		n := 0
		for _, s := range sh.slots {
			if s.v != nil {
				n++
				require.Equal(t, i, shardOf(s.h))
			}
		}
		require.Equal(t, n, sh.n)
		total += n
		if len(sh.slots) > 0 {
			require.Zero(t, len(sh.slots)&(len(sh.slots)-1), "power of two")
			require.LessOrEqual(t, sh.n*shardMaxLoadDen, len(sh.slots)*shardMaxLoadNum)
		} else {
			require.Zero(t, sh.n)
		}
	}
	require.Equal(t, len(model), total)
}

// sameShardKeys returns n distinct keys that all fall in shard 0, so that
// one shard's table grows, collides, shrinks and empties.
func sameShardKeys(n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		k := fmt.Sprintf("k%d", i)
		if shardOf(keyHash(k)) == 0 {
			out = append(out, k)
		}
	}
	return out
}

// Ensure that random puts, replacements and removals, spread over the
// keyspace and crowded into one shard, always leave the keyspace equal to a
// plain map (backward-shift deletion keeps every key reachable).
func TestKeyspace_MatchesMapModel(t *testing.T) {
	for _, crowded := range []bool{false, true} {
		t.Run(fmt.Sprint("crowded=", crowded), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(fmt.Sprint(crowded)))))
			var keys []string
			if crowded {
				keys = sameShardKeys(600)
			} else {
				for i := 0; i < 20000; i++ {
					keys = append(keys, fmt.Sprintf("key:%d", i))
				}
			}
			ks := newKeyspace()
			model := map[string]*Value{}
			for step := 0; step < 60000; step++ {
				k := keys[r.IntN(len(keys))]
				switch op := r.IntN(10); {
				case op < 5:
					v := &Value{kind: KindString}
					ks.put(k, v)
					model[k] = v
				case op < 9:
					ks.remove(k)
					delete(model, k)
				default:
					require.Same(t, model[k], ks.get(k))
				}
				if step%5000 == 0 {
					checkKeyspace(t, ks, model)
				}
			}
			checkKeyspace(t, ks, model)
			for k := range model {
				ks.remove(k)
				delete(model, k)
			}
			checkKeyspace(t, ks, model)
			for i := range ks.shards {
				require.Nil(t, ks.shards[i].slots, "an empty shard gives its table back")
			}
		})
	}
}

// Ensure that forEach, like ranging over a map, visits every key that stays
// exactly once, skips keys removed before they are reached, and sees the
// value a key holds when it is reached, while fn removes, replaces and adds
// keys in the shard being visited and in later ones.
func TestKeyspace_ForEachWhileMutating(t *testing.T) {
	keys := sameShardKeys(200)
	ks := newKeyspace()
	for _, k := range keys {
		ks.put(k, &Value{kind: KindString})
	}
	other := "elsewhere"
	for shardOf(keyHash(other)) == 0 {
		other += "x"
	}
	ks.put(other, &Value{kind: KindString})

	removed := map[string]bool{}
	replaced := map[string]*Value{}
	visited := map[string]int{}
	first := true
	ks.forEach(func(k string, v *Value) bool {
		visited[k]++
		if want, ok := replaced[k]; ok {
			require.Same(t, want, v, "the value as it is when reached")
		}
		if first {
			first = false
			// Remove every other key not yet visited, replace the rest,
			// add new keys, and drop the key in the later shard.
			i := 0
			for _, o := range keys {
				if visited[o] > 0 {
					continue
				}
				if i%2 == 0 {
					ks.remove(o)
					removed[o] = true
				} else {
					nv := &Value{kind: KindString}
					ks.put(o, nv)
					replaced[o] = nv
				}
				i++
			}
			for i := 0; i < 50; i++ {
				ks.put(fmt.Sprintf("new%d", i), &Value{kind: KindString})
			}
			ks.remove(other)
			removed[other] = true
		}
		return true
	})
	for _, k := range append(keys, other) {
		if removed[k] {
			require.Zero(t, visited[k], "removed before reached: %q", k)
		} else {
			require.Equal(t, 1, visited[k], "kept: %q", k)
		}
	}
	for k, n := range visited {
		require.Equal(t, 1, n, "visited once: %q", k)
	}
}

// Ensure that scan returns every key present for the whole scan, shard by
// shard, however small count is, and random finds keys only while some exist.
func TestKeyspace_ScanAndRandom(t *testing.T) {
	ks := newKeyspace()
	_, _, ok := ks.random(7)
	require.False(t, ok)
	want := map[string]bool{}
	for i := 0; i < 5000; i++ {
		k := fmt.Sprintf("s:%d", i)
		ks.put(k, &Value{kind: KindString})
		want[k] = true
	}
	got := map[string]int{}
	cursor := uint64(0)
	for {
		cursor = ks.scan(cursor, 3, func(k string, _ *Value) { got[k]++ })
		if cursor == 0 {
			break
		}
	}
	require.Len(t, got, len(want))
	for k, n := range got {
		require.True(t, want[k])
		require.Equal(t, 1, n)
	}
	for r := uint64(0); r < 100; r++ {
		k, v, ok := ks.random(r * 0x9e3779b97f4a7c15)
		require.True(t, ok)
		require.Same(t, ks.get(k), v)
	}
}
