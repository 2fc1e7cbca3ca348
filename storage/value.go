package storage

import (
	"encoding/binary"
	"iter"
	"slices"
	"strings"
	"unsafe"

	"github.com/sessdb/sessdb/expiry"
)

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
//
// A small hash is compact: its fields live in one pointer-free byte slice
// (str), entry after entry, each uvarint(len field) field uvarint(len value)
// value, in insertion order, like Redis's listpack. One allocation the
// garbage collector never scans replaces a map, a string per field and a
// slice per value (a session hash of 11 fields takes about 450 bytes instead
// of about 1,300). A hash that grows past compactMaxEntries entries or
// compactMaxBytes bytes becomes a map for good. The representation is
// independent of what OBJECT ENCODING reports, which follows Redis's rules.
type Value struct {
	kind     Kind
	hlen     uint32              // a compact hash's number of fields, or a compact set's members
	lru      uint32              // unix second of the last access, for LRU eviction (evict.go)
	str      []byte              // a string's bytes, or a compact hash's or set's entries
	hash     map[string][]byte   // a hash too large to be compact; nil while compact
	set      map[string]struct{} // a set too large to be compact (set.go); nil while compact
	zset     *zset
	deadline int64 // unix ms; 0 means no expiry
	timer    *expiry.Timer[Key]
}

// The limits of a compact hash: beyond either it becomes a map. Lookups scan
// the entries, so both are small.
const (
	compactMaxEntries = 128
	compactMaxBytes   = 4096
)

// Kind returns the value's type.
func (v *Value) Kind() Kind { return v.kind }

// Bytes returns a string value's bytes. The caller must not modify them.
func (v *Value) Bytes() []byte {
	if v.kind != KindString {
		return nil
	}
	return v.str
}

// Hash returns a hash value's fields as a map. A compact hash is copied into
// a new map (whose values alias the hash: read-only, and valid only inside
// the transaction), so prefer HGet and HashFields. The caller must not
// modify the map.
func (v *Value) Hash() map[string][]byte {
	if v.kind != KindHash || v.hash != nil {
		return v.hash
	}
	m := make(map[string][]byte, v.hlen)
	for f, val := range v.HashFields() {
		m[f] = val
	}
	return m
}

// HGet returns a hash field's value and whether the field exists. The caller
// must not modify the value, nor keep it past the transaction.
func (v *Value) HGet(field string) ([]byte, bool) {
	if v.kind != KindHash {
		return nil, false
	}
	if v.hash != nil {
		val, ok := v.hash[field]
		return val, ok
	}
	_, vs, ve, ok := compactFind(v.str, field)
	if !ok {
		return nil, false
	}
	return v.str[vs:ve:ve], true
}

// HashFields iterates over a hash's fields and values: in insertion order
// while the hash is compact. Values are read-only and valid only inside the
// transaction; field strings stay valid.
func (v *Value) HashFields() iter.Seq2[string, []byte] {
	return func(yield func(string, []byte) bool) {
		if v.kind != KindHash {
			return
		}
		if v.hash != nil {
			for f, val := range v.hash {
				if !yield(f, val) {
					return
				}
			}
			return
		}
		b := v.str
		for i := 0; i < len(b); {
			fs, fe, vs, ve := compactEntry(b, i)
			if !yield(unsafe.String(unsafe.SliceData(b[fs:]), fe-fs), b[vs:ve:ve]) {
				return
			}
			i = ve
		}
	}
}

// Deadline returns the absolute expiry time in unix milliseconds, or 0.
func (v *Value) Deadline() int64 { return v.deadline }

// Len returns the number of fields or members, or the length of a string.
func (v *Value) Len() int {
	switch v.kind {
	case KindHash:
		if v.hash == nil {
			return int(v.hlen)
		}
		return len(v.hash)
	case KindSet:
		if v.set == nil {
			return int(v.hlen)
		}
		return len(v.set)
	case KindZSet:
		return len(v.zset.scores)
	}
	return len(v.str)
}

func (v *Value) expired(now int64) bool { return v.deadline != 0 && v.deadline <= now }

func newHash() *Value { return &Value{kind: KindHash} }

// compactEntry decodes the entry at b[i:]: field b[fs:fe], value b[vs:ve].
// The entries were written by this package, so they are well formed.
func compactEntry(b []byte, i int) (fs, fe, vs, ve int) {
	n, k := binary.Uvarint(b[i:])
	fs = i + k
	fe = fs + int(n)
	n, k = binary.Uvarint(b[fe:])
	vs = fe + k
	ve = vs + int(n)
	return
}

// compactFind locates field: its entry starts at e, its value is b[vs:ve].
func compactFind(b []byte, field string) (e, vs, ve int, ok bool) {
	for i := 0; i < len(b); {
		fs, fe, vs, ve := compactEntry(b, i)
		if fe-fs == len(field) && string(b[fs:fe]) == field {
			return i, vs, ve, true
		}
		i = ve
	}
	return 0, 0, 0, false
}

func uvarintLen(n int) int {
	l := 1
	for n >= 0x80 {
		n >>= 7
		l++
	}
	return l
}

func compactEntryLen(field string, val []byte) int {
	return uvarintLen(len(field)) + len(field) + uvarintLen(len(val)) + len(val)
}

func appendCompactEntry(b []byte, field string, val []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(field)))
	b = append(b, field...)
	b = binary.AppendUvarint(b, uint64(len(val)))
	return append(b, val...)
}

// hset sets a hash field and reports whether it is new. A compact hash
// copies val; a map keeps it (the caller hands it over).
//
// Readers only ever run under the store's lock and copy what they reply, so
// a value of the same length is overwritten in place (the sliding last-seen
// time of a session); any other change builds a new slice, and appending
// uses spare capacity, which no earlier view covers.
func (v *Value) hset(field string, val []byte) bool {
	isNew, _ := v.hsetGrow(field, val, false)
	return isNew
}

// hsetLoad is hset for replaying the log: field and val are views that it
// copies, and a compact slice that must grow doubles, so that a hash
// rebuilt field by field is not copied once per field; it reports whether
// the slice grew, and the caller trims it (trimCompact) once loaded.
func (v *Value) hsetLoad(field string, val []byte) (grew bool) {
	if v.hash != nil {
		// field is a view of the file: assigning to an existing key
		// replaces the map's key string too, so never store the view.
		delete(v.hash, field)
		v.hash[strings.Clone(field)] = slices.Clone(val)
		return false
	}
	_, grew = v.hsetGrow(field, val, true)
	if v.hash != nil {
		// It just became a map: toMap copied the old fields, not this one.
		delete(v.hash, field)
		v.hash[strings.Clone(field)] = slices.Clone(val)
	}
	return grew
}

func (v *Value) hsetGrow(field string, val []byte, double bool) (isNew, grew bool) {
	if v.hash != nil {
		_, existed := v.hash[field]
		v.hash[field] = val
		return !existed, false
	}
	b := v.str
	if e, vs, ve, ok := compactFind(b, field); ok {
		if ve-vs == len(val) {
			copy(b[vs:ve], val)
			return false, false
		}
		need := len(b) - (ve - e) + compactEntryLen(field, val)
		if need > compactMaxBytes {
			v.toMap()
			v.hash[field] = val
			return false, false
		}
		nb := slices.Grow([]byte(nil), need)
		nb = append(nb, b[:e]...)
		nb = appendCompactEntry(nb, field, val)
		v.str = append(nb, b[ve:]...)
		return false, true
	}
	need := len(b) + compactEntryLen(field, val)
	if v.hlen+1 > compactMaxEntries || need > compactMaxBytes {
		v.toMap()
		v.hash[field] = val
		return true, false
	}
	if need > cap(b) {
		if double {
			// Room for a typical session hash at once, then doubling.
			need = max(need, 2*cap(b), 512)
		}
		b = append(slices.Grow([]byte(nil), need), b...)
		grew = true
	}
	v.str = appendCompactEntry(b, field, val)
	v.hlen++
	return true, grew
}

// trimCompact gives a compact hash's slice back its spare capacity beyond
// an eighth of its length.
func (v *Value) trimCompact() {
	if v.kind == KindHash && v.hash == nil && cap(v.str) > len(v.str)+len(v.str)/8 {
		v.str = append(slices.Grow([]byte(nil), len(v.str)), v.str...)
	}
}

// hdel removes a hash field and reports whether it was there.
func (v *Value) hdel(field string) bool {
	if v.hash != nil {
		if _, ok := v.hash[field]; !ok {
			return false
		}
		delete(v.hash, field)
		return true
	}
	b := v.str
	e, _, ve, ok := compactFind(b, field)
	if !ok {
		return false
	}
	if v.hlen == 1 {
		v.str = nil
	} else {
		nb := slices.Grow([]byte(nil), len(b)-(ve-e))
		nb = append(nb, b[:e]...)
		v.str = append(nb, b[ve:]...)
	}
	v.hlen--
	return true
}

// toMap turns a compact hash into a map, copying every field and value so
// that the map aliases nothing.
func (v *Value) toMap() {
	m := make(map[string][]byte, v.hlen+1)
	b := v.str
	for i := 0; i < len(b); {
		fs, fe, vs, ve := compactEntry(b, i)
		m[string(b[fs:fe])] = slices.Clone(b[vs:ve])
		i = ve
	}
	v.hash = m
	v.str = nil
	v.hlen = 0
}

// compactBuilder assembles a hash's entries while loading, where each field
// is known to be new: it builds one exactly sized slice per hash.
type compactBuilder struct {
	buf []byte
	n   int
	big map[string][]byte
}

func (cb *compactBuilder) add(field, val []byte) {
	if cb.big != nil {
		cb.big[string(field)] = slices.Clone(val)
		return
	}
	if cb.n+1 > compactMaxEntries || len(cb.buf)+compactEntryLen(unsafe.String(unsafe.SliceData(field), len(field)), val) > compactMaxBytes {
		v := Value{kind: KindHash, str: cb.buf, hlen: uint32(cb.n)}
		v.toMap()
		cb.big = v.hash
		cb.big[string(field)] = slices.Clone(val)
		return
	}
	cb.buf = binary.AppendUvarint(cb.buf, uint64(len(field)))
	cb.buf = append(cb.buf, field...)
	cb.buf = binary.AppendUvarint(cb.buf, uint64(len(val)))
	cb.buf = append(cb.buf, val...)
	cb.n++
}

// finish stores what was added into v, replacing its fields, and resets cb.
func (cb *compactBuilder) finish(v *Value) {
	if cb.big != nil {
		v.hash, v.str, v.hlen = cb.big, nil, 0
	} else {
		v.hash, v.hlen = nil, uint32(cb.n)
		v.str = append(slices.Grow([]byte(nil), len(cb.buf)), cb.buf...)
	}
	cb.buf, cb.n, cb.big = cb.buf[:0], 0, nil
}
