package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// On-disk layout (one bbolt file):
//
//	meta      "format" -> formatTag; "dbmap" -> uvarint physical id per logical db
//	log       8-byte big-endian sequence -> the encoded records of one commit
//	k<id>     key -> header: kind byte, varint deadline, then the payload:
//	          a string's bytes, or a small hash's or set's whole contents
//	          (inline: the kind byte carries inlineFlag)
//	f<id>     uvarint(len key) key field -> hash field value, "" for a set member,
//	          or a sorted-set member's score (8-byte big-endian float64 bits);
//	          only for hashes and sets too large to be inline, and sorted sets
//
// An inline hash's payload is its entries, each uvarint(len field) field
// uvarint(len value) value (the in-memory compact encoding, see Value); an
// inline set's is its members, each uvarint(len member) member. Restart then
// reads one entry per session instead of one per field. A hash or set that
// outgrows inlineMaxEntries or inlineMaxBytes moves its contents to f<id>
// and stays there until the key is deleted or replaced.
//
// SWAPDB swaps two entries of dbmap, so it costs O(1) on disk as in memory.
var (
	bucketMeta = []byte("meta")
	bucketLog  = []byte("log")
	keyFormat  = []byte("format")
	keyDBMap   = []byte("dbmap")
	formatTag  = []byte("sessdb/2")
	// formatV1 is the layout before inline hashes and sets (every field
	// its own f<id> entry): Open migrates it (load_migrate.go).
	formatV1 = []byte("sessdb/1")
	// formatMigrating marks a file whose migration from formatV1 began
	// and has not finished: older builds refuse it, Open resumes it.
	formatMigrating = []byte("sessdb/1-to-2")
)

// The limits of an inline hash or set; beyond either its contents live in
// the fields bucket, one entry each.
const (
	inlineFlag       = 0x80
	inlineMaxEntries = 128
	inlineMaxBytes   = 4096
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

// encodeHeader encodes a key's header; kind may carry inlineFlag.
func encodeHeader(kind Kind, deadline int64, payload []byte) []byte {
	return appendHeader(make([]byte, 0, 1+binary.MaxVarintLen64+len(payload)), kind, deadline, payload)
}

func appendHeader(b []byte, kind Kind, deadline int64, payload []byte) []byte {
	b = append(b, byte(kind))
	b = binary.AppendVarint(b, deadline)
	return append(b, payload...)
}

// decodeHeader decodes a key's header: the kind as stored (with inlineFlag
// for an inline hash or set), the deadline and the payload.
func decodeHeader(b []byte) (Kind, int64, []byte, error) {
	if len(b) < 2 {
		return 0, 0, nil, ErrCorrupt
	}
	kind := Kind(b[0])
	if base := kind &^ inlineFlag; base < KindString || base > KindZSet ||
		(kind&inlineFlag != 0 && base != KindHash && base != KindSet) {
		return 0, 0, nil, ErrCorrupt
	}
	d, n := binary.Varint(b[1:])
	if n <= 0 {
		return 0, 0, nil, ErrCorrupt
	}
	return kind, d, b[1+n:], nil
}

// isInline reports whether a stored kind holds its contents in the header.
func isInline(k Kind) bool { return k&inlineFlag != 0 }

// disk applies records to the bucket layout. It is used only by the committer
// goroutine and by Open.
type disk struct {
	db       *bolt.DB
	dbmap    []int // visible logical db -> physical bucket id
	internal int   // internal databases: bucket id = their index (InternalDB(i))
}

// initialise checks the file's format (or writes it into a new file),
// migrates a file of the previous format (load_migrate.go) and loads dbmap.
func (d *disk) initialise(databases, internal int) error {
	d.internal = internal
	migrate := false
	err := d.db.Update(func(tx *bolt.Tx) error {
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
		} else if f := meta.Get(keyFormat); bytes.Equal(f, formatV1) || bytes.Equal(f, formatMigrating) {
			migrate = true
		} else if !bytes.Equal(f, formatTag) {
			return fmt.Errorf("%w: format %q, want %q", ErrForeignFile, f, formatTag)
		}
		var err error
		if d.dbmap, err = readDBMap(meta); err != nil {
			return err
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
		for _, id := range d.bucketIDs() {
			if _, err := tx.CreateBucketIfNotExists(keysBucket(id)); err != nil {
				return err
			}
			if _, err := tx.CreateBucketIfNotExists(fieldsBucket(id)); err != nil {
				return err
			}
		}
		return d.putDBMap(tx)
	})
	if err == nil && migrate {
		err = d.migrate() // load_migrate.go
	}
	return err
}

// readDBMap decodes the meta bucket's dbmap.
func readDBMap(meta *bolt.Bucket) ([]int, error) {
	var dbmap []int
	dec := decoder{b: meta.Get(keyDBMap)}
	for len(dec.b) > 0 && dec.err == nil {
		dbmap = append(dbmap, int(dec.uvarint()))
	}
	if dec.err != nil {
		return nil, fmt.Errorf("%w: bad dbmap", ErrCorrupt)
	}
	return dbmap, nil
}

// bucketIDs lists the physical bucket ids of every database.
func (d *disk) bucketIDs() []int {
	ids := append([]int(nil), d.dbmap...)
	for i := 0; i < d.internal; i++ {
		ids = append(ids, InternalDB(i))
	}
	return ids
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

// hasFields reports whether a stored header's contents are in the fields
// bucket (a hash or set too large to be inline, or a sorted set).
func hasFields(header []byte) bool {
	k := Kind(header[0])
	return k != KindString && !isInline(k)
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

// apply writes one record into the keyspace buckets. Hash and set records
// go through applyKey, which writes an inline value once per key and fold.
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
	case OpHSet, OpHDel, OpSAdd, OpSRem:
		return d.applyKey(tx, []Record{*r})
	}
	kb, fb := d.buckets(tx, r.DB)
	key := []byte(r.Key)
	switch r.Op {
	case OpSet:
		if old := kb.Get(key); old != nil && hasFields(old) {
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
		if hasFields(old) {
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
		kind, _, payload, err := decodeHeader(old)
		if err != nil {
			return err
		}
		return kb.Put(key, encodeHeader(kind, r.Deadline, payload))
	case OpZAdd:
		return d.putField(kb, fb, r, KindZSet)
	case OpZRem:
		return fb.Delete(fieldKey(r.Key, r.Field))
	}
	return fmt.Errorf("%w: unknown record op %d", ErrCorrupt, r.Op)
}

// putField writes one field entry of a key whose contents are in the
// fields bucket, creating its header if the key is new.
func (d *disk) putField(kb, fb *bolt.Bucket, r *Record, kind Kind) error {
	if old := kb.Get([]byte(r.Key)); old == nil {
		if err := kb.Put([]byte(r.Key), encodeHeader(kind, 0, nil)); err != nil {
			return err
		}
	}
	v := r.Value
	if v == nil {
		v = []byte{}
	}
	return fb.Put(fieldKey(r.Key, r.Field), v)
}

// applyKey writes one key's records, in order, all of the same database
// and key. Hash and set records change an inline value in memory (read
// once, written once); the others go through apply.
func (d *disk) applyKey(tx *bolt.Tx, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	kb, fb := d.buckets(tx, recs[0].DB)
	var ed *inlineEdit
	for i := range recs {
		r := &recs[i]
		switch r.Op {
		case OpHSet, OpHDel, OpSAdd, OpSRem:
			kind := KindHash
			if r.Op == OpSAdd || r.Op == OpSRem {
				kind = KindSet
			}
			if ed == nil || ed.kind != kind {
				if err := ed.flush(kb, fb); err != nil {
					return err
				}
				var (
					fields bool
					err    error
				)
				ed, fields, err = openInline(kb, fb, r.Key, kind, r.Op == OpHSet || r.Op == OpSAdd)
				if err != nil {
					return err
				}
				if fields { // too large to be inline: one entry per field
					if r.Op == OpHDel || r.Op == OpSRem {
						err = fb.Delete(fieldKey(r.Key, r.Field))
					} else {
						err = d.putField(kb, fb, r, kind)
					}
					if err != nil {
						return err
					}
					continue
				}
			}
			if ed != nil {
				ed.apply(r)
			}
		case OpExpire:
			if ed != nil {
				ed.deadline = r.Deadline
				continue
			}
			if err := d.apply(tx, r); err != nil {
				return err
			}
		default:
			if err := ed.flush(kb, fb); err != nil {
				return err
			}
			ed = nil
			if err := d.apply(tx, r); err != nil {
				return err
			}
		}
	}
	return ed.flush(kb, fb)
}

// inlineEdit is an inline hash or set being changed by a fold.
type inlineEdit struct {
	key      string
	kind     Kind
	deadline int64
	n        int
	body     []byte // a hash's entries or a set's members, as in the header's payload
}

// openInline reads key's inline value of the given kind for editing. It
// reports fields when the key holds that kind in the fields bucket (too
// large to be inline). It returns a nil edit, and no fields, for a removal
// (create false) from a missing key or one of another kind: there is
// nothing to remove. Otherwise a key of another kind is replaced by an
// empty value, as the log replay does in memory.
func openInline(kb, fb *bolt.Bucket, key string, kind Kind, create bool) (ed *inlineEdit, fields bool, err error) {
	old := kb.Get([]byte(key))
	if old == nil {
		if !create {
			return nil, false, nil
		}
		return &inlineEdit{key: key, kind: kind}, false, nil
	}
	k, deadline, payload, err := decodeHeader(old)
	if err != nil {
		return nil, false, fmt.Errorf("key %q: %w", key, err)
	}
	switch {
	case k == kind|inlineFlag:
		n, err := countInline(kind, payload)
		if err != nil {
			return nil, false, fmt.Errorf("key %q: %w", key, err)
		}
		return &inlineEdit{key: key, kind: kind, deadline: deadline, n: n, body: append([]byte(nil), payload...)}, false, nil
	case k == kind:
		return nil, true, nil
	case !create:
		return nil, false, nil
	}
	if hasFields(old) {
		if err := deleteFields(fb, key); err != nil {
			return nil, false, err
		}
	}
	return &inlineEdit{key: key, kind: kind}, false, nil
}

// find locates name: its entry is body[e:end], a hash's value body[vs:end].
func (ed *inlineEdit) find(name string) (e, vs, end int, ok bool) {
	b := ed.body
	for i := 0; i < len(b); {
		fs, fe, vs, ve := inlineEntry(ed.kind, b, i)
		if fe-fs == len(name) && string(b[fs:fe]) == name {
			return i, vs, ve, true
		}
		i = ve
	}
	return 0, 0, 0, false
}

func (ed *inlineEdit) apply(r *Record) {
	e, _, end, ok := ed.find(r.Field)
	switch r.Op {
	case OpHSet:
		if ok {
			ed.body = append(ed.body[:e], ed.body[end:]...)
			ed.n--
		}
		ed.body = appendCompactEntry(ed.body, r.Field, r.Value)
		ed.n++
	case OpSAdd:
		if !ok {
			ed.body = appendString(ed.body, r.Field)
			ed.n++
		}
	case OpHDel, OpSRem:
		if ok {
			ed.body = append(ed.body[:e], ed.body[end:]...)
			ed.n--
		}
	}
}

// flush writes the edited value: inline while it fits, else as field
// entries; an emptied value deletes the key. A nil edit writes nothing.
func (ed *inlineEdit) flush(kb, fb *bolt.Bucket) error {
	if ed == nil {
		return nil
	}
	key := []byte(ed.key)
	if ed.n == 0 {
		return kb.Delete(key)
	}
	if ed.n <= inlineMaxEntries && len(ed.body) <= inlineMaxBytes {
		return kb.Put(key, encodeHeader(ed.kind|inlineFlag, ed.deadline, ed.body))
	}
	b := ed.body
	for i := 0; i < len(b); {
		fs, fe, vs, ve := inlineEntry(ed.kind, b, i)
		v := b[vs:ve]
		if v == nil {
			v = []byte{}
		}
		if err := fb.Put(fieldKey(ed.key, string(b[fs:fe])), v); err != nil {
			return err
		}
		i = ve
	}
	return kb.Put(key, encodeHeader(ed.kind, ed.deadline, nil))
}

// inlineEntry decodes the well-formed entry at b[i:] of an inline value
// of kind: name b[fs:fe], a hash's value b[vs:ve] (a set's is empty, vs = ve = fe).
func inlineEntry(kind Kind, b []byte, i int) (fs, fe, vs, ve int) {
	if kind == KindHash {
		return compactEntry(b, i)
	}
	fs, fe = compactSetEntry(b, i)
	return fs, fe, fe, fe
}

// countInline checks that an inline payload of kind is well formed (it
// comes from the file) and returns its number of entries.
func countInline(kind Kind, b []byte) (int, error) {
	n := 0
	d := decoder{b: b}
	for len(d.b) > 0 {
		d.bytes()
		if kind == KindHash {
			d.bytes()
		}
		if d.err != nil {
			return 0, fmt.Errorf("%w: bad inline %s", ErrCorrupt, kind)
		}
		n++
	}
	return n, nil
}

// putLog appends one commit's encoded records to the log under sequence
// number seq. Sequential keys only ever change the right edge of the tree,
// so the pages are packed full.
func putLog(tx *bolt.Tx, seq uint64, recs []byte) error {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	lb := tx.Bucket(bucketLog)
	lb.FillPercent = 1.0
	return lb.Put(k[:], recs)
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
			if err := d.applyKey(tx, seg[from:h]); err != nil {
				return err
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
