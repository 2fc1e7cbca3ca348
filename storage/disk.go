package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// On-disk layout (one bbolt file):
//
//	meta      "format" -> formatTag; "dbmap" -> uvarint physical id per logical db
//	log       8-byte big-endian sequence -> the encoded records of one commit
//	k<id>     key -> header: kind byte, varint deadline, then a string's bytes
//	f<id>     uvarint(len key) key field -> hash field value, "" for a set member,
//	          or a sorted-set member's score (8-byte big-endian float64 bits)
//
// SWAPDB swaps two entries of dbmap, so it costs O(1) on disk as in memory.
var (
	bucketMeta = []byte("meta")
	bucketLog  = []byte("log")
	keyFormat  = []byte("format")
	keyDBMap   = []byte("dbmap")
	formatTag  = []byte("sessdb/1")
)

func keysBucket(id int) []byte   { return []byte(fmt.Sprintf("k%d", id)) }
func fieldsBucket(id int) []byte { return []byte(fmt.Sprintf("f%d", id)) }

func fieldPrefix(key string) []byte {
	b := binary.AppendUvarint(make([]byte, 0, len(key)+2), uint64(len(key)))
	return append(b, key...)
}

func fieldKey(key, field string) []byte {
	return append(fieldPrefix(key), field...)
}

func encodeHeader(kind Kind, deadline int64, str []byte) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(str))
	b = append(b, byte(kind))
	b = binary.AppendVarint(b, deadline)
	return append(b, str...)
}

func decodeHeader(b []byte) (Kind, int64, []byte, error) {
	if len(b) < 2 {
		return 0, 0, nil, ErrCorrupt
	}
	kind := Kind(b[0])
	if kind < KindString || kind > KindZSet {
		return 0, 0, nil, ErrCorrupt
	}
	d, n := binary.Varint(b[1:])
	if n <= 0 {
		return 0, 0, nil, ErrCorrupt
	}
	return kind, d, b[1+n:], nil
}

// disk applies records to the bucket layout. It is used only by the committer
// goroutine and by Open.
type disk struct {
	db       *bolt.DB
	dbmap    []int // visible logical db -> physical bucket id
	internal int   // internal databases: bucket id = their index (InternalDB(i))
}

// initialise checks the file's format (or writes it into a new file) and loads dbmap.
func (d *disk) initialise(databases, internal int) error {
	d.internal = internal
	return d.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			c := tx.Cursor()
			if k, _ := c.First(); k != nil {
				return fmt.Errorf("%w: it has bucket %q but no sessdb meta bucket", ErrForeignFile, k)
			}
			var err error
			if meta, err = tx.CreateBucket(bucketMeta); err != nil {
				return err
			}
			if err := meta.Put(keyFormat, formatTag); err != nil {
				return err
			}
		} else if f := meta.Get(keyFormat); !bytes.Equal(f, formatTag) {
			return fmt.Errorf("%w: format %q, want %q", ErrForeignFile, f, formatTag)
		}
		d.dbmap = nil
		dec := decoder{b: meta.Get(keyDBMap)}
		for len(dec.b) > 0 && dec.err == nil {
			d.dbmap = append(d.dbmap, int(dec.uvarint()))
		}
		if dec.err != nil {
			return fmt.Errorf("%w: bad dbmap", ErrCorrupt)
		}
		if len(d.dbmap) > databases {
			return fmt.Errorf("storage: the file holds %d databases but databases is %d", len(d.dbmap), databases)
		}
		for i := len(d.dbmap); i < databases; i++ {
			d.dbmap = append(d.dbmap, i)
		}
		if _, err := tx.CreateBucketIfNotExists(bucketLog); err != nil {
			return err
		}
		ids := append([]int(nil), d.dbmap...)
		for i := 0; i < internal; i++ {
			ids = append(ids, InternalDB(i))
		}
		for _, id := range ids {
			if _, err := tx.CreateBucketIfNotExists(keysBucket(id)); err != nil {
				return err
			}
			if _, err := tx.CreateBucketIfNotExists(fieldsBucket(id)); err != nil {
				return err
			}
		}
		return d.putDBMap(tx)
	})
}

func (d *disk) putDBMap(tx *bolt.Tx) error {
	var b []byte
	for _, id := range d.dbmap {
		b = binary.AppendUvarint(b, uint64(id))
	}
	return tx.Bucket(bucketMeta).Put(keyDBMap, b)
}

func (d *disk) buckets(tx *bolt.Tx, db int) (*bolt.Bucket, *bolt.Bucket) {
	id := db
	if db < InternalBase {
		id = d.dbmap[db]
	}
	return tx.Bucket(keysBucket(id)), tx.Bucket(fieldsBucket(id))
}

func deleteFields(fb *bolt.Bucket, key string) error {
	prefix := fieldPrefix(key)
	c := fb.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

func (d *disk) emptyDB(tx *bolt.Tx, db int) error {
	id := db
	if db < InternalBase {
		id = d.dbmap[db]
	}
	for _, name := range [][]byte{keysBucket(id), fieldsBucket(id)} {
		if err := tx.DeleteBucket(name); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	return nil
}

// apply writes one record into the keyspace buckets.
func (d *disk) apply(tx *bolt.Tx, r *Record) error {
	switch r.Op {
	case OpFlushDB:
		return d.emptyDB(tx, r.DB)
	case OpFlushAll:
		for db := range d.dbmap {
			if err := d.emptyDB(tx, db); err != nil {
				return err
			}
		}
		return nil
	case OpSwapDB:
		d.dbmap[r.DB], d.dbmap[r.DB2] = d.dbmap[r.DB2], d.dbmap[r.DB]
		return d.putDBMap(tx)
	}
	kb, fb := d.buckets(tx, r.DB)
	key := []byte(r.Key)
	switch r.Op {
	case OpSet:
		if old := kb.Get(key); old != nil && Kind(old[0]) != KindString {
			if err := deleteFields(fb, r.Key); err != nil {
				return err
			}
		}
		return kb.Put(key, encodeHeader(KindString, r.Deadline, r.Value))
	case OpDel:
		old := kb.Get(key)
		if old == nil {
			return nil
		}
		if Kind(old[0]) != KindString {
			if err := deleteFields(fb, r.Key); err != nil {
				return err
			}
		}
		return kb.Delete(key)
	case OpExpire:
		old := kb.Get(key)
		if old == nil {
			return nil
		}
		kind, _, str, err := decodeHeader(old)
		if err != nil {
			return err
		}
		return kb.Put(key, encodeHeader(kind, r.Deadline, str))
	case OpHSet, OpSAdd, OpZAdd:
		kind := KindHash
		if r.Op == OpSAdd {
			kind = KindSet
		} else if r.Op == OpZAdd {
			kind = KindZSet
		}
		if old := kb.Get(key); old == nil {
			if err := kb.Put(key, encodeHeader(kind, 0, nil)); err != nil {
				return err
			}
		}
		v := r.Value
		if v == nil {
			v = []byte{}
		}
		return fb.Put(fieldKey(r.Key, r.Field), v)
	case OpHDel, OpSRem, OpZRem:
		return fb.Delete(fieldKey(r.Key, r.Field))
	}
	return fmt.Errorf("%w: unknown record op %d", ErrCorrupt, r.Op)
}

// fold applies up to max records from the head of the log to the buckets and
// removes the log entries it consumed, all within tx. It returns how many
// records it folded. Records are applied in key order between barriers
// (flush, swap), which keeps each key's own order and writes pages sequentially.
func (d *disk) fold(tx *bolt.Tx, max int) (int, error) {
	lb := tx.Bucket(bucketLog)
	var keys [][]byte
	var recs []Record
	c := lb.Cursor()
	for k, v := c.First(); k != nil && len(recs) < max; k, v = c.Next() {
		rs, err := DecodeRecords(v)
		if err != nil {
			return 0, fmt.Errorf("log entry %x: %w", k, err)
		}
		recs = append(recs, rs...)
		keys = append(keys, append([]byte(nil), k...))
	}
	start := 0
	flush := func(end int) error {
		seg := recs[start:end]
		sort.SliceStable(seg, func(i, j int) bool {
			if seg[i].DB != seg[j].DB {
				return seg[i].DB < seg[j].DB
			}
			return seg[i].Key < seg[j].Key
		})
		for g := 0; g < len(seg); {
			// One key's records: a delete or a string set replaces the whole
			// value, so whatever came before the last one need not be written.
			from, h := g, g
			for ; h < len(seg) && seg[h].DB == seg[g].DB && seg[h].Key == seg[g].Key; h++ {
				if seg[h].Op == OpDel || seg[h].Op == OpSet {
					from = h
				}
			}
			for i := from; i < h; i++ {
				if err := d.apply(tx, &seg[i]); err != nil {
					return err
				}
			}
			g = h
		}
		start = end
		return nil
	}
	for i := range recs {
		switch recs[i].Op {
		case OpFlushDB, OpFlushAll, OpSwapDB:
			if err := flush(i); err != nil {
				return 0, err
			}
			if err := d.apply(tx, &recs[i]); err != nil {
				return 0, err
			}
			start = i + 1
		}
	}
	if err := flush(len(recs)); err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := lb.Delete(k); err != nil {
			return 0, err
		}
	}
	// Folding reads pages all over the file; give them back (a page-table
	// walk, about a millisecond per GB mapped, against a fold's tens).
	// fold runs on the committer goroutine, the only one that can remap
	// the file, so the mapping cannot move under releaseMapped.
	d.releaseMapped()
	return len(recs), nil
}

func (d *disk) reloadDBMap() error {
	return d.db.View(func(tx *bolt.Tx) error {
		dec := decoder{b: tx.Bucket(bucketMeta).Get(keyDBMap)}
		for i := range d.dbmap {
			d.dbmap[i] = int(dec.uvarint())
		}
		return dec.err
	})
}

// loadBuckets reads one database's keys and fields buckets into its
// keyspace. A key's fields are adjacent in the fields bucket (they share the
// key's prefix), so each hash is assembled in one pass and stored as one
// exactly sized compact slice (see Value).
func (s *Store) loadBuckets(tx *bolt.Tx, db int) error {
	kb, fb := s.disk.buckets(tx, db)
	ks := s.keyspace(db)
	if err := kb.ForEach(func(k, v []byte) error {
		kind, deadline, str, err := decodeHeader(v)
		if err != nil {
			return fmt.Errorf("db %d key %q: %w", db, k, err)
		}
		val := &Value{kind: kind, deadline: deadline}
		switch kind {
		case KindString:
			val.str = append([]byte(nil), str...)
		case KindSet:
			val.set = make(map[string]struct{})
		case KindZSet:
			val.zset = newZSet()
		}
		ks.put(string(k), val)
		return nil
	}); err != nil {
		return err
	}
	var (
		cb      compactBuilder
		cur     *Value // the hash being assembled
		lastKey []byte
		last    *Value
	)
	err := fb.ForEach(func(k, v []byte) error {
		d := decoder{b: k}
		key := d.bytes()
		if d.err != nil {
			return fmt.Errorf("db %d field entry %q: %w", db, k, ErrCorrupt)
		}
		field := d.b
		val := last
		if val == nil || !bytes.Equal(key, lastKey) {
			if cur != nil {
				cb.finish(cur)
				cur = nil
			}
			val = ks.get(string(key))
			if val == nil {
				return fmt.Errorf("db %d: field of missing key %q: %w", db, key, ErrCorrupt)
			}
			lastKey = append(lastKey[:0], key...)
			last = val
		}
		switch val.kind {
		case KindHash:
			cur = val
			cb.add(field, v)
		case KindSet:
			val.set[string(field)] = struct{}{}
		case KindZSet:
			score, err := decodeScore(v)
			if err != nil {
				return fmt.Errorf("db %d: score of %q in %q: %w", db, field, key, err)
			}
			val.zset.set(string(field), score)
		default:
			return fmt.Errorf("db %d: field of string key %q: %w", db, key, ErrCorrupt)
		}
		return nil
	})
	if cur != nil {
		cb.finish(cur)
	}
	return err
}

// replayLog applies the log's records to memory after the buckets are
// loaded, and returns the last sequence and how many records it replayed.
// Records are decoded as views of the mapped file (forEachRecordView) and
// only what memory keeps is copied: a new key's name, a string's bytes, a
// set member; a compact hash copies its fields into its own slice.
func (s *Store) replayLog(tx *bolt.Tx) (uint64, int64, error) {
	var seq uint64
	var n int64
	var grown []*Value
	replay := func(r *Record) error {
		if r.Op == OpFlushDB || r.Op == OpFlushAll || r.Op == OpSwapDB {
			return s.applyToMemory(r)
		}
		if !s.validDB(r.DB) {
			return ErrDBIndex
		}
		ks := s.keyspace(r.DB)
		v := ks.get(r.Key)
		// of returns key's value with the given kind, replacing another
		// kind in place (the map keeps its own copy of the key).
		of := func(kind Kind) *Value {
			if v == nil {
				v = &Value{kind: kind}
				ks.put(strings.Clone(r.Key), v)
			} else if v.kind != kind {
				*v = Value{kind: kind}
			}
			return v
		}
		switch r.Op {
		case OpSet:
			of(KindString)
			v.str = slices.Clone(r.Value)
			v.deadline = r.Deadline
		case OpDel:
			ks.remove(r.Key)
		case OpExpire:
			if v != nil {
				v.deadline = r.Deadline
			}
		case OpHSet:
			if of(KindHash).hsetLoad(r.Field, r.Value) {
				grown = append(grown, v)
			}
		case OpHDel:
			if v != nil && v.kind == KindHash {
				v.hdel(r.Field)
			}
		case OpSAdd:
			if of(KindSet).set == nil {
				v.set = make(map[string]struct{})
			}
			if _, ok := v.set[r.Field]; !ok {
				v.set[strings.Clone(r.Field)] = struct{}{}
			}
		case OpSRem:
			if v != nil && v.kind == KindSet {
				delete(v.set, r.Field)
			}
		case OpZAdd:
			score, err := decodeScore(r.Value)
			if err != nil {
				return err
			}
			if of(KindZSet).zset == nil {
				v.zset = newZSet()
			}
			v.zset.set(strings.Clone(r.Field), score)
		case OpZRem:
			if v != nil && v.kind == KindZSet {
				v.zset.remove(r.Field)
			}
		default:
			return fmt.Errorf("%w: op %d", ErrCorrupt, r.Op)
		}
		return nil
	}
	c := tx.Bucket(bucketLog).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 {
			return 0, 0, fmt.Errorf("log key %x: %w", k, ErrCorrupt)
		}
		m, err := forEachRecordView(v, replay)
		if err != nil {
			return 0, 0, fmt.Errorf("log entry %d: %w", binary.BigEndian.Uint64(k), err)
		}
		n += int64(m)
		seq = binary.BigEndian.Uint64(k)
	}
	for _, v := range grown {
		v.trimCompact()
	}
	// Open runs before the committer starts: nothing can remap the file.
	s.disk.releaseMapped()
	return seq, n, nil
}
