package storage

import (
	"encoding/binary"
	"iter"
	"slices"
	"strings"
	"unsafe"
)

// A small set is compact, like a small hash (see Value): its members live in
// one pointer-free byte slice (str), each uvarint(len member) member, in
// insertion order, and hlen counts them. A user's session index of four ids
// takes one 96-byte allocation instead of a map header, a map group and a
// string per member (about 290 bytes, five objects the collector scans). A
// set that grows past compactMaxEntries members or compactMaxBytes bytes
// becomes a map for good. The representation is independent of what OBJECT
// ENCODING reports, which follows Redis's rules.
//
// A compact set's slice is never modified where a reader could see it:
// removing builds a new slice, and adding appends into spare capacity that
// no earlier view covers. So the member strings SetMembers yields stay
// valid after the set changes.

// compactSetEntry decodes the member at b[i:]: it is b[s:e].
func compactSetEntry(b []byte, i int) (s, e int) {
	n, k := binary.Uvarint(b[i:])
	s = i + k
	return s, s + int(n)
}

// compactSetFind locates member: its entry spans b[i:e].
func compactSetFind(b []byte, member string) (i, e int, ok bool) {
	for i := 0; i < len(b); {
		s, e := compactSetEntry(b, i)
		if e-s == len(member) && string(b[s:e]) == member {
			return i, e, true
		}
		i = e
	}
	return 0, 0, false
}

// IsMember reports whether member is in the set (false for other kinds).
func (v *Value) IsMember(member string) bool {
	if v.kind != KindSet {
		return false
	}
	if v.set != nil {
		_, ok := v.set[member]
		return ok
	}
	_, _, ok := compactSetFind(v.str, member)
	return ok
}

// SetMembers iterates over a set's members: in insertion order while the
// set is compact. The strings stay valid after the set changes. As with a
// map, the set may change during the iteration: a compact set's iteration
// goes on over the members it started with.
func (v *Value) SetMembers() iter.Seq[string] {
	return func(yield func(string) bool) {
		if v.kind != KindSet {
			return
		}
		if v.set != nil {
			for m := range v.set {
				if !yield(m) {
					return
				}
			}
			return
		}
		b := v.str
		for i := 0; i < len(b); {
			s, e := compactSetEntry(b, i)
			if !yield(unsafe.String(unsafe.SliceData(b[s:]), e-s)) {
				return
			}
			i = e
		}
	}
}

// Members returns a set value's members as a map. A compact set is copied
// into a new map, so prefer IsMember and SetMembers. The caller must not
// modify the map.
func (v *Value) Members() map[string]struct{} {
	if v.kind != KindSet || v.set != nil {
		return v.set
	}
	m := make(map[string]struct{}, v.hlen)
	for s := range v.SetMembers() {
		m[s] = struct{}{}
	}
	return m
}

// sadd adds member to the set and reports whether it is new. A compact set
// copies member; a map keeps it (the caller hands it over).
func (v *Value) sadd(member string) bool {
	if v.set != nil {
		if _, ok := v.set[member]; ok {
			return false
		}
		v.set[member] = struct{}{}
		return true
	}
	b := v.str
	if _, _, ok := compactSetFind(b, member); ok {
		return false
	}
	need := len(b) + uvarintLen(len(member)) + len(member)
	if v.hlen+1 > compactMaxEntries || need > compactMaxBytes {
		v.setToMap()
		v.set[member] = struct{}{}
		return true
	}
	if need > cap(b) {
		b = append(slices.Grow([]byte(nil), need), b...)
	}
	b = binary.AppendUvarint(b, uint64(len(member)))
	v.str = append(b, member...)
	v.hlen++
	return true
}

// srem removes member from the set and reports whether it was there.
func (v *Value) srem(member string) bool {
	if v.set != nil {
		if _, ok := v.set[member]; !ok {
			return false
		}
		delete(v.set, member)
		return true
	}
	b := v.str
	i, e, ok := compactSetFind(b, member)
	if !ok {
		return false
	}
	if v.hlen == 1 {
		v.str = nil
	} else {
		nb := slices.Grow([]byte(nil), len(b)-(e-i))
		nb = append(nb, b[:i]...)
		v.str = append(nb, b[e:]...)
	}
	v.hlen--
	return true
}

// setToMap turns a compact set into a map, copying every member so that
// the map aliases nothing.
func (v *Value) setToMap() {
	m := make(map[string]struct{}, v.hlen+1)
	for s := range v.SetMembers() {
		m[strings.Clone(s)] = struct{}{}
	}
	v.set = m
	v.str = nil
	v.hlen = 0
}

// compactSet turns a set held as a map that fits the compact limits into
// its compact form: the load builds a set that lives in the fields bucket,
// or one the log replay made, as a map.
func (v *Value) compactSet() {
	if v.kind != KindSet || v.set == nil || len(v.set) > compactMaxEntries {
		return
	}
	n := 0
	for m := range v.set {
		n += uvarintLen(len(m)) + len(m)
	}
	if n > compactMaxBytes {
		return
	}
	b := make([]byte, 0, n)
	for m := range v.set {
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
	}
	v.str, v.hlen, v.set = b, uint32(len(v.set)), nil
	if len(b) == 0 {
		v.str = nil
	}
}
