package storage

// Volatile changes alter the serving copy in memory WITHOUT appending a
// Record, so they never reach the disk by themselves. They exist for
// bookkeeping that is cheap to lose, such as a session's sliding last-seen
// time: the caller records the value now and then (for example at most once
// a second) and changes only memory in between.
//
// The caller owns the consequence. After a crash the disk holds the last
// recorded value, so a volatile change must only ever move state in the
// direction that is safe to lose: a deadline that slides forward in memory is
// found earlier on disk, and the key can then expire EARLY after a restart by
// the caller's window, never late. A later recorded change to the same field
// or deadline supersedes the volatile one on disk as usual.
//
// Volatile changes never create or remove a key (that would make memory and
// disk disagree on what exists); they call the Touched hook like any change.

func (tx *Tx) touchedVolatile(db int, key string) {
	if !tx.writable {
		panic("storage: write in a read-only transaction")
	}
	if h := tx.s.hooks.Touched; h != nil {
		h(db, key)
	}
}

// HSetVolatile sets a field of an existing hash in memory only. It reports
// false, changing nothing, when key is missing, expired or not a hash.
func (tx *Tx) HSetVolatile(db int, key, field string, val []byte) bool {
	v := tx.Lookup(db, key)
	if v == nil || v.kind != KindHash {
		return false
	}
	v.hset(field, val)
	tx.touchedVolatile(db, key)
	return true
}

// HDelVolatile removes a field of an existing hash in memory only, and
// reports whether it was there. It never removes the key, even when the hash
// is left empty, so it is meant for fields that only ever exist in memory.
func (tx *Tx) HDelVolatile(db int, key, field string) bool {
	v := tx.Lookup(db, key)
	if v == nil || v.kind != KindHash {
		return false
	}
	if !v.hdel(field) {
		return false
	}
	tx.touchedVolatile(db, key)
	return true
}

// SetDeadlineVolatile moves key's deadline (unix ms, 0: none) in memory only
// and re-arms its timer; the disk keeps the last recorded deadline. A
// deadline at or before now deletes the key, and that deletion IS recorded.
// It reports whether key existed.
func (tx *Tx) SetDeadlineVolatile(db int, key string, deadline int64) bool {
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
	tx.touchedVolatile(db, key)
	return true
}
