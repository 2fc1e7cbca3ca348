package storage

import (
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/sessdb/sessdb/expiry"
)

// Tx is one Update or View over the keyspace. Its methods that change data
// panic in a View. Strings and maps passed to its write methods are kept:
// the caller must not modify them afterwards.
type Tx struct {
	s        *Store
	writable bool
	now      int64
	recs     []Record
}

// Now returns the transaction's clock reading in unix milliseconds; every
// expiry check inside the transaction uses it.
func (tx *Tx) Now() int64 { return tx.now }

// Databases returns the number of visible logical databases.
func (tx *Tx) Databases() int { return len(tx.s.dbs) }

func (tx *Tx) record(r Record) {
	if !tx.writable {
		panic("storage: write in a read-only transaction")
	}
	tx.recs = append(tx.recs, r)
	if h := tx.s.hooks.Touched; h != nil && r.Op != OpFlushDB && r.Op != OpFlushAll && r.Op != OpSwapDB {
		h(r.DB, r.Key)
	}
}

// Lookup returns the live value of key, or nil when it is missing or expired.
// In a writable transaction an expired key is deleted on the spot.
func (tx *Tx) Lookup(db int, key string) *Value {
	ks := tx.s.keyspace(db)
	v := ks.get(key)
	if v == nil {
		return nil
	}
	if v.expired(tx.now) {
		if tx.writable {
			// A copy, so that key does not escape: callers may pass a
			// string converted from request bytes without allocating.
			tx.expire(db, strings.Clone(key), v)
		}
		return nil
	}
	v.touch(tx.now)
	return v
}

// expire deletes a key whose deadline passed and reports it to the hooks.
func (tx *Tx) expire(db int, key string, v *Value) {
	tx.remove(db, key, v)
	if h := tx.s.hooks.Expired; h != nil {
		h(tx, db, key, v)
	}
}

func (tx *Tx) remove(db int, key string, v *Value) {
	tx.s.keyspace(db).remove(key)
	if v.timer != nil {
		tx.s.wheel.Stop(v.timer)
		v.timer = nil
	}
	tx.record(Record{Op: OpDel, DB: db, Key: key})
}

// lookupKind returns the live value of key if it has the given kind, nil if
// it is missing, and ErrWrongType if it holds another kind.
func (tx *Tx) lookupKind(db int, key string, kind Kind) (*Value, error) {
	v := tx.Lookup(db, key)
	if v != nil && v.kind != kind {
		return nil, ErrWrongType
	}
	return v, nil
}

// LookupString returns a string key's bytes (nil, false when missing).
func (tx *Tx) LookupString(db int, key string) ([]byte, bool, error) {
	v, err := tx.lookupKind(db, key, KindString)
	if v == nil || err != nil {
		return nil, false, err
	}
	return v.str, true, nil
}

// LookupHash returns a hash key's value, nil when missing.
func (tx *Tx) LookupHash(db int, key string) (*Value, error) {
	return tx.lookupKind(db, key, KindHash)
}

// LookupSet returns a set key's value, nil when missing.
func (tx *Tx) LookupSet(db int, key string) (*Value, error) {
	return tx.lookupKind(db, key, KindSet)
}

func (tx *Tx) arm(db int, key string, v *Value) {
	w := tx.s.wheel
	switch {
	case v.deadline == 0 && v.timer != nil:
		w.Stop(v.timer)
		v.timer = nil
		tx.s.keyspace(db).expires--
	case v.deadline != 0 && v.timer == nil:
		v.timer = w.Add(Key{db, key}, v.deadline)
		tx.s.keyspace(db).expires++
	case v.deadline != 0:
		w.Reset(v.timer, v.deadline)
	}
}

// SetString stores a string value with the given deadline (0: none),
// replacing whatever key held.
func (tx *Tx) SetString(db int, key string, val []byte, deadline int64) {
	ks := tx.s.keyspace(db)
	old := ks.get(key)
	if old != nil && old.kind == KindString {
		// Reuse the value (and its timer) in place.
		old.str = val
		old.deadline = deadline
		old.touch(tx.now)
		tx.arm(db, key, old)
	} else {
		if old != nil && old.timer != nil {
			tx.s.wheel.Stop(old.timer)
			ks.expires--
		}
		v := &Value{kind: KindString, str: val, deadline: deadline}
		v.touch(tx.now)
		ks.put(key, v)
		tx.arm(db, key, v)
	}
	tx.record(Record{Op: OpSet, DB: db, Key: key, Value: val, Deadline: deadline})
}

// Delete removes key and reports whether it existed (and was live).
func (tx *Tx) Delete(db int, key string) bool {
	v := tx.Lookup(db, key)
	if v == nil {
		return false
	}
	tx.remove(db, key, v)
	return true
}

// SetDeadline sets key's absolute deadline in unix ms (0: persist). A
// deadline at or before now deletes the key. It reports whether key existed.
func (tx *Tx) SetDeadline(db int, key string, deadline int64) bool {
	v := tx.Lookup(db, key)
	if v == nil {
		return false
	}
	if deadline != 0 && deadline <= tx.now {
		tx.remove(db, key, v)
		return true
	}
	v.deadline = deadline
	tx.arm(db, key, v)
	tx.record(Record{Op: OpExpire, DB: db, Key: key, Deadline: deadline})
	return true
}

// HSet sets a hash field, creating the hash; it reports whether the field is new.
func (tx *Tx) HSet(db int, key, field string, val []byte) (bool, error) {
	v, err := tx.lookupKind(db, key, KindHash)
	if err != nil {
		return false, err
	}
	if v == nil {
		v = newHash()
		v.touch(tx.now)
		tx.s.keyspace(db).put(key, v)
	}
	isNew := v.hset(field, val)
	tx.record(Record{Op: OpHSet, DB: db, Key: key, Field: field, Value: val})
	return isNew, nil
}

// HDel removes a hash field (and the key when it was the last); it reports
// whether the field existed.
func (tx *Tx) HDel(db int, key, field string) (bool, error) {
	v, err := tx.lookupKind(db, key, KindHash)
	if v == nil || err != nil {
		return false, err
	}
	if !v.hdel(field) {
		return false, nil
	}
	if v.Len() == 0 {
		tx.remove(db, key, v)
	} else {
		tx.record(Record{Op: OpHDel, DB: db, Key: key, Field: field})
	}
	return true, nil
}

// SAdd adds a member to a set, creating it; it reports whether it is new.
func (tx *Tx) SAdd(db int, key, member string) (bool, error) {
	v, err := tx.lookupKind(db, key, KindSet)
	if err != nil {
		return false, err
	}
	if v == nil {
		v = &Value{kind: KindSet}
		v.touch(tx.now)
		tx.s.keyspace(db).put(key, v)
	}
	if !v.sadd(member) {
		return false, nil
	}
	tx.record(Record{Op: OpSAdd, DB: db, Key: key, Field: member})
	return true, nil
}

// SRem removes a member (and the key when it was the last); it reports
// whether it was there.
func (tx *Tx) SRem(db int, key, member string) (bool, error) {
	v, err := tx.lookupKind(db, key, KindSet)
	if v == nil || err != nil {
		return false, err
	}
	if !v.srem(member) {
		return false, nil
	}
	if v.Len() == 0 {
		tx.remove(db, key, v)
	} else {
		tx.record(Record{Op: OpSRem, DB: db, Key: key, Field: member})
	}
	return true, nil
}

// Restore writes a whole value under key, replacing whatever was there:
// used by RENAME, COPY and MOVE. v is copied.
func (tx *Tx) Restore(db int, key string, v *Value) {
	if old := tx.Lookup(db, key); old != nil {
		tx.remove(db, key, old)
	}
	switch v.kind {
	case KindString:
		tx.SetString(db, key, v.str, v.deadline)
		return
	case KindHash:
		// Copies: the new hash must not alias the old one's memory.
		for f, val := range v.HashFields() {
			_, _ = tx.HSet(db, key, strings.Clone(f), slices.Clone(val))
		}
	case KindSet:
		for m := range v.SetMembers() {
			_, _ = tx.SAdd(db, key, m)
		}
	case KindZSet:
		for m, s := range v.zset.scores {
			_, _ = tx.ZAdd(db, key, m, s)
		}
	}
	if v.deadline != 0 {
		tx.SetDeadline(db, key, v.deadline)
	}
}

// FlushDB empties one database.
func (tx *Tx) FlushDB(db int) {
	tx.clearTimers(tx.s.keyspace(db))
	tx.s.setKeyspace(db, newKeyspace())
	tx.record(Record{Op: OpFlushDB, DB: db})
	if h := tx.s.hooks.Flushed; h != nil {
		h(db)
	}
}

// FlushAll empties every database.
func (tx *Tx) FlushAll() {
	for i, ks := range tx.s.dbs {
		tx.clearTimers(ks)
		tx.s.dbs[i] = newKeyspace()
	}
	tx.record(Record{Op: OpFlushAll})
	if h := tx.s.hooks.Flushed; h != nil {
		h(-1)
	}
}

func (tx *Tx) clearTimers(ks *Keyspace) {
	ks.forEach(func(_ string, v *Value) bool {
		if v.timer != nil {
			tx.s.wheel.Stop(v.timer)
		}
		return true
	})
}

// SwapDB swaps two databases.
func (tx *Tx) SwapDB(a, b int) {
	dbs := tx.s.dbs
	dbs[a], dbs[b] = dbs[b], dbs[a]
	// Timers name their database: re-point them.
	for _, i := range []int{a, b} {
		dbs[i].forEach(func(_ string, v *Value) bool {
			if v.timer != nil {
				v.timer.Key.DB = i
			}
			return true
		})
	}
	tx.record(Record{Op: OpSwapDB, DB: a, DB2: b})
	if h := tx.s.hooks.Swapped; h != nil {
		h(a, b)
	}
}

// Count returns the number of live keys in db.
func (tx *Tx) Count(db int) int {
	if tx.writable {
		tx.reap(0)
		return tx.s.keyspace(db).Len()
	}
	n := 0
	tx.s.keyspace(db).forEach(func(_ string, v *Value) bool {
		if !v.expired(tx.now) {
			n++
		}
		return true
	})
	return n
}

// ForEach calls fn for every live key of db until fn returns false.
func (tx *Tx) ForEach(db int, fn func(key string, v *Value) bool) {
	tx.s.keyspace(db).forEach(func(k string, v *Value) bool {
		if v.expired(tx.now) {
			return true
		}
		return fn(k, v)
	})
}

// Scan visits the live keys of db from cursor on, at least count of them
// when there are that many, and returns the next cursor (0 when done).
func (tx *Tx) Scan(db int, cursor uint64, count int, fn func(key string, v *Value)) uint64 {
	return tx.s.keyspace(db).scan(cursor, count, func(k string, v *Value) {
		if !v.expired(tx.now) {
			fn(k, v)
		}
	})
}

// RandomKey returns a random live key of db.
func (tx *Tx) RandomKey(db int) (string, bool) {
	ks := tx.s.keyspace(db)
	for i := 0; i < 100; i++ {
		k, v, ok := ks.random(rand.Uint64())
		if !ok {
			return "", false
		}
		if !v.expired(tx.now) {
			return k, true
		}
	}
	found := ""
	ok := false
	tx.ForEach(db, func(k string, _ *Value) bool { found, ok = k, true; return false })
	return found, ok
}

// reap deletes up to max due keys (max <= 0: all) and returns how many.
func (tx *Tx) reap(max int) int {
	return tx.s.wheel.Advance(tx.now, max, func(t *expiry.Timer[Key]) {
		ks := tx.s.keyspace(t.Key.DB)
		v := ks.get(t.Key.Name)
		if v == nil || v.timer != t {
			return
		}
		v.timer = nil
		ks.expires--
		if !v.expired(tx.now) {
			// The deadline moved without the timer; re-arm.
			tx.arm(t.Key.DB, t.Key.Name, v)
			return
		}
		tx.expire(t.Key.DB, t.Key.Name, v)
	})
}

// Size returns the number of keys in db and how many of them have a
// deadline, counting expired keys the reaper has not reclaimed yet (O(1)).
func (tx *Tx) Size(db int) (keys, expires int) {
	ks := tx.s.keyspace(db)
	return ks.n, ks.expires
}
