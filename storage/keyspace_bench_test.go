package storage

import (
	"fmt"
	"testing"
)

func BenchmarkKeyspace_Get(b *testing.B) {
	ks := newKeyspace()
	keys := make([]string, 100000)
	for i := range keys {
		keys[i] = fmt.Sprintf("key:%012d", i)
		ks.put(keys[i], &Value{kind: KindString})
	}
	plain := map[string]*Value{}
	for _, k := range keys {
		plain[k] = &Value{}
	}
	b.Run("sharded", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = ks.get(keys[(i*7919)%len(keys)])
		}
	})
	b.Run("plainmap", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = plain[keys[(i*7919)%len(keys)]]
		}
	})
	b.Run("hashonly", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = keyHash(keys[(i*7919)%len(keys)])
		}
	})
}
