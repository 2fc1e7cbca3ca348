package storage

import "github.com/sessdb/sessdb/expiry"

// Kind is the type of a stored value.
type Kind uint8

// The kinds of value a key can hold.
const (
	KindString Kind = iota + 1
	KindHash
	KindSet
	KindZSet
)

// String returns the name Redis's TYPE command gives the kind.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindHash:
		return "hash"
	case KindSet:
		return "set"
	case KindZSet:
		return "zset"
	}
	return "none"
}

// Key names one key in one logical database; the timer wheel schedules Keys.
type Key struct {
	DB   int
	Name string
}

// Value is one key's value. Views handed out by Tx.Lookup are read-only: every
// change goes through a Tx method so that it is also recorded for the disk.
type Value struct {
	kind     Kind
	str      []byte
	hash     map[string][]byte
	set      map[string]struct{}
	zset     *zset
	deadline int64 // unix ms; 0 means no expiry
	timer    *expiry.Timer[Key]
}

// Kind returns the value's type.
func (v *Value) Kind() Kind { return v.kind }

// Bytes returns a string value's bytes. The caller must not modify them.
func (v *Value) Bytes() []byte { return v.str }

// Hash returns a hash value's fields. The caller must not modify the map.
func (v *Value) Hash() map[string][]byte { return v.hash }

// Members returns a set value's members. The caller must not modify the map.
func (v *Value) Members() map[string]struct{} { return v.set }

// Deadline returns the absolute expiry time in unix milliseconds, or 0.
func (v *Value) Deadline() int64 { return v.deadline }

// Len returns the number of fields or members, or the length of a string.
func (v *Value) Len() int {
	switch v.kind {
	case KindHash:
		return len(v.hash)
	case KindSet:
		return len(v.set)
	case KindZSet:
		return len(v.zset.scores)
	}
	return len(v.str)
}

func (v *Value) expired(now int64) bool { return v.deadline != 0 && v.deadline <= now }
