package storage

import (
	"bytes"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// migrateChunk is how many field entries one migration transaction takes
// (a variable for the tests).
var migrateChunk = 200_000

// migrate rewrites a file of formatV1, where every hash field and set
// member is its own entry of the fields bucket, into formatTag: each hash
// or set small enough to be inline becomes one entry of the keys bucket.
// The keys buckets are rewritten in chunks, one transaction each, so that
// memory stays bounded; then each fields bucket is replaced, in one
// transaction, by a new one holding only the entries of the keys that are
// not inline (large values, sorted sets). Dropping a bucket frees its pages
// without writing them, where deleting millions of entries one by one
// would rewrite them all. The file is marked formatMigrating first: an
// older build refuses it meanwhile, and Open resumes a migration that a
// crash interrupted (a key already inline is left as it is).
func (d *disk) migrate() error {
	var pairs [][2][]byte
	err := d.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Put(keyFormat, formatMigrating); err != nil {
			return err
		}
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if len(name) < 2 || name[0] != 'k' {
				return nil
			}
			if _, err := strconv.Atoi(string(name[1:])); err != nil {
				return nil
			}
			f := append([]byte{'f'}, name[1:]...)
			if tx.Bucket(f) != nil {
				pairs = append(pairs, [2][]byte{append([]byte(nil), name...), f})
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, p := range pairs {
		var resume []byte
		for done := false; !done; {
			err := d.db.Update(func(tx *bolt.Tx) error {
				var err error
				resume, done, err = migrateChunkOf(tx.Bucket(p[0]), tx.Bucket(p[1]), resume)
				return err
			})
			if err != nil {
				return fmt.Errorf("migrate %s: %w", p[0], err)
			}
		}
		if err := d.db.Update(func(tx *bolt.Tx) error { return dropInlineFields(tx, p[0], p[1]) }); err != nil {
			return fmt.Errorf("migrate %s: %w", p[1], err)
		}
	}
	err = d.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyFormat, formatTag)
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// migrateChunkOf makes inline the keys whose field entries start at or
// after from, up to about migrateChunk entries, and returns where the next
// chunk starts and whether the bucket is done. It leaves the field entries
// for dropInlineFields.
func migrateChunkOf(kb, fb *bolt.Bucket, from []byte) (next []byte, done bool, err error) {
	type inline struct{ key, header []byte }
	var puts []inline
	c := fb.Cursor()
	k, v := c.First()
	if from != nil {
		k, v = c.Seek(from)
	}
	entries := 0
	for k != nil {
		d := decoder{b: k}
		key := d.bytes()
		if d.err != nil {
			return nil, false, fmt.Errorf("field entry %q: %w", k, ErrCorrupt)
		}
		if entries >= migrateChunk {
			next = append([]byte(nil), k...)
			break
		}
		header := kb.Get(key)
		if header == nil {
			return nil, false, fmt.Errorf("field of missing key %q: %w", key, ErrCorrupt)
		}
		kind, deadline, _, err := decodeHeader(header)
		if err != nil {
			return nil, false, fmt.Errorf("key %q: %w", key, err)
		}
		if kind == KindString {
			return nil, false, fmt.Errorf("field of string key %q: %w", key, ErrCorrupt)
		}
		prefix := fieldPrefix(string(key))
		var body []byte
		n, small := 0, kind == KindHash || kind == KindSet
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			entries++
			n++
			if !small {
				continue
			}
			field := k[len(prefix):]
			if kind == KindHash {
				body = appendCompactEntry(body, string(field), v)
			} else {
				body = appendString(body, string(field))
			}
			small = n <= inlineMaxEntries && len(body) <= inlineMaxBytes
		}
		if small {
			puts = append(puts, inline{append([]byte(nil), key...), encodeHeader(kind|inlineFlag, deadline, body)})
		}
	}
	for _, p := range puts {
		if err := kb.Put(p.key, p.header); err != nil {
			return nil, false, err
		}
	}
	return next, next == nil, nil
}

// dropInlineFields replaces the fields bucket fname by one holding only
// the entries of keys that are not inline.
func dropInlineFields(tx *bolt.Tx, kname, fname []byte) error {
	kb, fb := tx.Bucket(kname), tx.Bucket(fname)
	var keep [][2][]byte
	var lastKey []byte
	lastInline := false
	err := fb.ForEach(func(k, v []byte) error {
		d := decoder{b: k}
		key := d.bytes()
		if d.err != nil {
			return fmt.Errorf("field entry %q: %w", k, ErrCorrupt)
		}
		if lastKey == nil || !bytes.Equal(key, lastKey) {
			lastKey = append(lastKey[:0], key...)
			h := kb.Get(key)
			lastInline = h != nil && isInline(Kind(h[0]))
		}
		if !lastInline {
			keep = append(keep, [2][]byte{append([]byte(nil), k...), append([]byte{}, v...)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tx.DeleteBucket(fname); err != nil {
		return err
	}
	nb, err := tx.CreateBucket(fname)
	if err != nil {
		return err
	}
	nb.FillPercent = 0.9 // written in order, and rarely changed in the middle
	for _, e := range keep {
		if err := nb.Put(e[0], e[1]); err != nil {
			return err
		}
	}
	return nil
}
