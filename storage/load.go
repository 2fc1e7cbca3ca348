package storage

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Loading the file into memory at Open: each database's buckets, then the
// log's unfolded tail (see disk.go for the layout).

// loadAll reads every database's buckets and replays the log through tx,
// reporting a damaged page (bbolt panics on one) as ErrCorrupt. It returns
// the last log sequence and the number of log records.
func (s *Store) loadAll(tx *bolt.Tx) (seq uint64, logRecords int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: damaged page: %v", ErrCorrupt, r)
		}
	}()
	for _, db := range s.allDBs() {
		if err := s.loadBuckets(tx, db); err != nil {
			return 0, 0, err
		}
	}
	return s.replayLog(tx)
}

// loadBuckets reads one database's keys and fields buckets into its
// keyspace. A small hash or set is one entry of the keys bucket (inline);
// a large one's fields are adjacent in the fields bucket (they share the
// key's prefix), so each is assembled in one pass.
func (s *Store) loadBuckets(tx *bolt.Tx, db int) error {
	kb, fb := s.disk.buckets(tx, db)
	if kb == nil || fb == nil { // an internal database the file does not have yet
		return nil
	}
	ks := s.keyspace(db)
	if err := loadKeys(kb, ks, db); err != nil {
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
		if val == nil || string(key) != string(lastKey) {
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

// loadBatch is how many keys the reader hands the inserter at once.
const loadBatch = 512

type loadedKey struct {
	key []byte // a view of the mapped file: the inserter copies it
	v   *Value
}

// loadKeys reads a keys bucket into ks on two goroutines: this one walks
// the bucket and makes each value (page reads, decoding, allocation), the
// other copies each key and inserts it into the keyspace's maps (hashing,
// probing, growing), in batches. The keys are views of the mapped file,
// valid until the read transaction ends, after loadKeys returns. Only the inserter touches ks until loadKeys returns, even
// when the walk fails or panics on a damaged page.
func loadKeys(kb *bolt.Bucket, ks *Keyspace, db int) error {
	full := make(chan []loadedKey, 8)
	free := make(chan []loadedKey, 8)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for b := range full {
			for i := range b {
				ks.put(string(b[i].key), b[i].v)
				b[i] = loadedKey{}
			}
			select {
			case free <- b[:0]:
			default:
			}
		}
	}()
	defer func() {
		close(full)
		<-done
	}()
	batch := make([]loadedKey, 0, loadBatch)
	err := kb.ForEach(func(k, v []byte) error {
		val, err := loadHeader(v)
		if err != nil {
			return fmt.Errorf("db %d key %q: %w", db, k, err)
		}
		batch = append(batch, loadedKey{k, val})
		if len(batch) == loadBatch {
			full <- batch
			select {
			case batch = <-free:
			default:
				batch = make([]loadedKey, 0, loadBatch)
			}
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		full <- batch
	}
	return err
}

// loadHeader makes a key's value from its header: a string, an inline hash
// or set with its contents, or an empty hash, set or sorted set whose
// contents follow from the fields bucket. It copies what it keeps.
func loadHeader(b []byte) (*Value, error) {
	kind, deadline, payload, err := decodeHeader(b)
	if err != nil {
		return nil, err
	}
	switch kind {
	case KindString:
		return &Value{kind: kind, deadline: deadline, str: append([]byte(nil), payload...)}, nil
	case KindHash:
		return &Value{kind: kind, deadline: deadline}, nil
	case KindSet:
		return &Value{kind: kind, deadline: deadline, set: make(map[string]struct{})}, nil
	case KindZSet:
		return &Value{kind: kind, deadline: deadline, zset: newZSet()}, nil
	case KindHash | inlineFlag:
		n, err := countInline(KindHash, payload)
		if err != nil {
			return nil, err
		}
		v := loadedHash(payload, n)
		v.deadline = deadline
		return v, nil
	case KindSet | inlineFlag:
		n, err := countInline(KindSet, payload)
		if err != nil {
			return nil, err
		}
		v := loadedSet(payload, n)
		v.deadline = deadline
		return v, nil
	}
	return nil, ErrCorrupt
}

// loadedSet makes a set from n well-formed inline members: one exactly
// sized copy when it is small enough to be compact in memory, which has the
// same encoding (set.go), else a map.
func loadedSet(members []byte, n int) *Value {
	if n <= compactMaxEntries && len(members) <= compactMaxBytes {
		return &Value{kind: KindSet, hlen: uint32(n), str: append(make([]byte, 0, len(members)), members...)}
	}
	set := make(map[string]struct{}, n)
	for i := 0; i < len(members); {
		s, e := compactSetEntry(members, i)
		set[string(members[s:e])] = struct{}{}
		i = e
	}
	return &Value{kind: KindSet, set: set}
}

// loadedHash makes a hash from n well-formed inline entries: one exactly
// sized copy when it is small enough to be compact in memory, which has
// the same encoding, else field by field.
func loadedHash(entries []byte, n int) *Value {
	if n <= compactMaxEntries && len(entries) <= compactMaxBytes {
		return &Value{kind: KindHash, hlen: uint32(n), str: append(make([]byte, 0, len(entries)), entries...)}
	}
	v := &Value{kind: KindHash}
	var cb compactBuilder
	for i := 0; i < len(entries); {
		fs, fe, vs, ve := compactEntry(entries, i)
		cb.add(entries[fs:fe], entries[vs:ve])
		i = ve
	}
	cb.finish(v)
	return v
}

// replayLog applies the log's records to memory after the buckets are
// loaded, and returns the last sequence and how many records it replayed.
// Records are decoded as views of the mapped file (forEachRecordView) and
// only what memory keeps is copied: a new key's name, a string's bytes, a
// set member; a compact hash copies its fields into its own slice. A
// commit's records for one key are usually adjacent (a session's fields),
// so the last key's value is kept instead of looked up again.
func (s *Store) replayLog(tx *bolt.Tx) (uint64, int64, error) {
	var seq uint64
	var n int64
	var grown []*Value
	var (
		lastDB  = -1
		lastKey string // a view of the mapped file, like r.Key
		lastV   *Value
	)
	replay := func(r *Record) error {
		if r.Op == OpFlushDB || r.Op == OpFlushAll || r.Op == OpSwapDB {
			lastDB = -1
			return s.applyToMemory(r)
		}
		if !s.validDB(r.DB) {
			return ErrDBIndex
		}
		ks := s.keyspace(r.DB)
		var v *Value
		if r.DB == lastDB && r.Key == lastKey {
			v = lastV
		} else {
			v = ks.get(r.Key)
		}
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
			v = nil
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
			// sadd keeps what it is given in a map set: a copy, not the view.
			if !of(KindSet).IsMember(r.Field) {
				v.sadd(strings.Clone(r.Field))
			}
		case OpSRem:
			if v != nil && v.kind == KindSet {
				v.srem(r.Field)
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
		lastDB, lastKey, lastV = r.DB, r.Key, v
		return nil
	}
	lb := tx.Bucket(bucketLog)
	if lb == nil {
		return 0, 0, nil
	}
	c := lb.Cursor()
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
	return seq, n, nil
}
