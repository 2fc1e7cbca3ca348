package sessdb

import (
	"strings"
	"time"

	"github.com/sessdb/sessdb/storage"
)

// The typed key-value operations of the embedded API. Each runs in its own
// transaction; use Update or View to combine several atomically. The db
// argument is the logical database (SELECT's number).

// Get returns a string value; ok is false when the key is missing or expired.
func (db *DB) Get(dbi int, key string) (val []byte, ok bool, err error) {
	err = db.View(func(tx *Tx) error {
		v, found, err := tx.LookupString(dbi, key)
		if found {
			val = append([]byte(nil), v...)
		}
		ok = found
		return err
	})
	return val, ok, err
}

// Set stores a string value; ttl > 0 gives it a deadline, 0 means none.
func (db *DB) Set(dbi int, key string, val []byte, ttl time.Duration) error {
	return db.Update(func(tx *Tx) error {
		var deadline int64
		if ttl > 0 {
			deadline = tx.Now() + ttl.Milliseconds()
		}
		tx.SetString(dbi, key, append([]byte(nil), val...), deadline)
		return nil
	})
}

// Del deletes keys and returns how many existed.
func (db *DB) Del(dbi int, keys ...string) (int, error) {
	n := 0
	err := db.Update(func(tx *Tx) error {
		for _, k := range keys {
			if tx.Delete(dbi, k) {
				n++
			}
		}
		return nil
	})
	return n, err
}

// Expire sets a key's time to live (ttl <= 0 deletes it) and reports
// whether the key existed.
func (db *DB) Expire(dbi int, key string, ttl time.Duration) (bool, error) {
	var ok bool
	err := db.Update(func(tx *Tx) error {
		deadline := tx.Now() + ttl.Milliseconds()
		if ttl <= 0 {
			ok = tx.Delete(dbi, key)
			return nil
		}
		ok = tx.SetDeadline(dbi, key, deadline)
		return nil
	})
	return ok, err
}

// TTL returns a key's remaining time to live: exists is false for a missing
// key, and ttl is -1 for a key without a deadline.
func (db *DB) TTL(dbi int, key string) (ttl time.Duration, exists bool, err error) {
	err = db.View(func(tx *Tx) error {
		v := tx.Lookup(dbi, key)
		if v == nil {
			return nil
		}
		exists = true
		if v.Deadline() == 0 {
			ttl = -1
		} else {
			ttl = time.Duration(v.Deadline()-tx.Now()) * time.Millisecond
		}
		return nil
	})
	return ttl, exists, err
}

// HSet sets hash fields and returns how many were new.
func (db *DB) HSet(dbi int, key string, fields map[string][]byte) (int, error) {
	n := 0
	err := db.Update(func(tx *Tx) error {
		if _, err := tx.LookupHash(dbi, key); err != nil {
			return err
		}
		for f, v := range fields {
			added, err := tx.HSet(dbi, key, f, append([]byte(nil), v...))
			if err != nil {
				return err
			}
			if added {
				n++
			}
		}
		return nil
	})
	return n, err
}

// HGetAll returns a copy of a hash's fields (empty when missing).
func (db *DB) HGetAll(dbi int, key string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := db.View(func(tx *Tx) error {
		v, err := tx.LookupHash(dbi, key)
		if v == nil || err != nil {
			return err
		}
		for f, val := range v.HashFields() {
			out[strings.Clone(f)] = append([]byte(nil), val...)
		}
		return nil
	})
	return out, err
}

// ErrWrongType is returned when a key holds another kind of value.
var ErrWrongType = storage.ErrWrongType
