package storage

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// Op says what a Record changes.
type Op uint8

// The change records. Each names the resulting state, never the command that
// produced it (INCR is recorded as a set of the new value), so that replaying
// a record is deterministic.
const (
	OpSet      Op = iota + 1 // Key = string Value, with Deadline; replaces any old value
	OpDel                    // delete Key
	OpExpire                 // set Key's Deadline (0 = persist)
	OpHSet                   // hash Key: Field = Value (creates the hash)
	OpHDel                   // hash Key: delete Field
	OpSAdd                   // set Key: add member Field (creates the set)
	OpSRem                   // set Key: remove member Field
	OpFlushDB                // empty DB
	OpFlushAll               // empty every database
	OpSwapDB                 // swap DB and DB2
	OpZAdd                   // sorted set Key: member Field gets score Value (8-byte float64 bits; creates the set)
	OpZRem                   // sorted set Key: remove member Field
)

// Record is one serialisable change to the keyspace. The same record type
// serves the commit queue, the on-disk log and (later) replication.
type Record struct {
	Op       Op
	DB       int
	DB2      int
	Key      string
	Field    string
	Value    []byte
	Deadline int64
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendRecord appends r's binary encoding to b.
func AppendRecord(b []byte, r *Record) []byte {
	b = append(b, byte(r.Op))
	b = binary.AppendUvarint(b, uint64(r.DB))
	switch r.Op {
	case OpSet:
		b = appendString(b, r.Key)
		b = binary.AppendUvarint(b, uint64(len(r.Value)))
		b = append(b, r.Value...)
		b = binary.AppendVarint(b, r.Deadline)
	case OpDel:
		b = appendString(b, r.Key)
	case OpExpire:
		b = appendString(b, r.Key)
		b = binary.AppendVarint(b, r.Deadline)
	case OpHSet, OpZAdd:
		b = appendString(b, r.Key)
		b = appendString(b, r.Field)
		b = binary.AppendUvarint(b, uint64(len(r.Value)))
		b = append(b, r.Value...)
	case OpHDel, OpSAdd, OpSRem, OpZRem:
		b = appendString(b, r.Key)
		b = appendString(b, r.Field)
	case OpSwapDB:
		b = binary.AppendUvarint(b, uint64(r.DB2))
	}
	return b
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = ErrCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = ErrCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = ErrCorrupt
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.bytes()) }

// str is the next string: a copy, or a view of the decoded bytes.
func (d *decoder) str(copies bool) string {
	v := d.bytes()
	if copies {
		return string(v)
	}
	return unsafe.String(unsafe.SliceData(v), len(v))
}

// val is the next byte string: a copy, or a view of the decoded bytes.
func (d *decoder) val(copies bool) []byte {
	v := d.bytes()
	if copies {
		return append([]byte{}, v...)
	}
	return v
}

// DecodeRecords decodes a sequence of encoded records. Values are copied, so
// the result does not alias b.
func DecodeRecords(b []byte) ([]Record, error) {
	var out []Record
	_, err := forEachRecord(b, func(r *Record) error {
		out = append(out, *r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// forEachRecord decodes records one at a time into a reused Record and calls
// fn with each; values and strings are copies, so fn may keep them. It
// returns how many records it decoded.
func forEachRecord(b []byte, fn func(*Record) error) (int, error) {
	return decodeEach(b, true, fn)
}

// forEachRecordView is forEachRecord without the copies: the record's Key,
// Field and Value are views of b, valid only while b is, so fn must copy
// whatever it keeps. Replaying the log on restart decodes millions of
// records, most of whose bytes are copied into a compact hash anyway.
func forEachRecordView(b []byte, fn func(*Record) error) (int, error) {
	return decodeEach(b, false, fn)
}

func decodeEach(b []byte, copies bool, fn func(*Record) error) (int, error) {
	n := 0
	d := decoder{b: b}
	var r Record // reused: fn must not keep the pointer
	for len(d.b) > 0 && d.err == nil {
		r = Record{Op: Op(d.b[0])}
		d.b = d.b[1:]
		r.DB = int(d.uvarint())
		switch r.Op {
		case OpSet:
			r.Key = d.str(copies)
			r.Value = d.val(copies)
			r.Deadline = d.varint()
		case OpDel:
			r.Key = d.str(copies)
		case OpExpire:
			r.Key = d.str(copies)
			r.Deadline = d.varint()
		case OpHSet, OpZAdd:
			r.Key = d.str(copies)
			r.Field = d.str(copies)
			r.Value = d.val(copies)
		case OpHDel, OpSAdd, OpSRem, OpZRem:
			r.Key = d.str(copies)
			r.Field = d.str(copies)
		case OpFlushDB, OpFlushAll:
		case OpSwapDB:
			r.DB2 = int(d.uvarint())
		default:
			return n, fmt.Errorf("%w: unknown record op %d", ErrCorrupt, r.Op)
		}
		if d.err != nil {
			return n, d.err
		}
		if err := fn(&r); err != nil {
			return n, err
		}
		n++
	}
	return n, d.err
}
