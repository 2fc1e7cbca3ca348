package storage

import (
	"bytes"
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

// The clean-shutdown mark. Close, once every change is committed and no
// transaction can run any more, stores in the meta bucket the bytes the
// SetCloseMark function returns, behind the id of the bbolt transaction
// that stores them. Open reads the mark before it writes anything (the
// meta bucket's update at every Open is such a write): the mark is valid
// only when that id is still the file's last transaction, so any commit
// after it (by any build or tool) voids it, durably, without deleting it.
// A crash after Open has committed anything therefore never finds a valid
// mark, and a crash before that leaves the file exactly as Close left it.

// keyClean is the meta key of the clean-shutdown mark: uvarint txid, then the payload.
var keyClean = []byte("clean")

// Dropped is a key of an internal database that Open found expired and
// deleted without calling the Expired hook (the hooks are installed after
// Open); V is the value it held.
type Dropped struct {
	DB  int
	Key string
	V   *Value
}

// SetCloseMark installs fn, which Close calls after the last commit, when
// no transaction can run any more. A non-nil result is stored durably as
// the clean-shutdown mark that CleanMark returns after the next Open, as
// long as nothing is committed to the file in between.
func (s *Store) SetCloseMark(fn func() []byte) {
	s.mu.Lock()
	s.closeMark = fn
	s.mu.Unlock()
}

// CleanMark returns the payload of the clean-shutdown mark found by Open,
// or nil when the previous Close stored none or the file changed after it.
func (s *Store) CleanMark() []byte { return s.cleanMark }

// DroppedAtOpen returns, once, the keys of internal databases that Open
// deleted because their deadline had passed while the store was closed.
func (s *Store) DroppedAtOpen() []Dropped {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dropped
	s.dropped = nil
	return d
}

// readCleanMark returns the clean-shutdown mark's payload if the mark was
// written by db's last committed transaction, else nil.
func readCleanMark(db *bolt.DB) []byte {
	var out []byte
	_ = db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return nil
		}
		v := meta.Get(keyClean)
		id, n := binary.Uvarint(v)
		if n <= 0 || id != uint64(tx.ID()) {
			return nil
		}
		out = bytes.Clone(v[n:])
		return nil
	})
	return out
}

// closeClean is the last transaction of a clean Close: it stores payload
// (if not nil) as the clean-shutdown mark, the load hint (prefault.go), and
// the free list. bbolt keeps
// the free list only in memory (NoFreelistSync: a commit writes one page
// fewer), so a writable Open rebuilds it by walking every page of the file,
// which at a million sessions took longer than the rest of the load. A
// free list written by the last commit is read instead; the next commit
// drops it again. After a crash the walk happens as before.
func (d *disk) closeClean(payload []byte, hint uint64) error {
	d.db.NoFreelistSync = false // no other transaction can run any more
	return d.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return nil
		}
		if err := meta.Put(keyLoadHint, binary.AppendUvarint(nil, hint)); err != nil {
			return err
		}
		if payload == nil {
			return nil
		}
		v := binary.AppendUvarint(nil, uint64(tx.ID()))
		return meta.Put(keyClean, append(v, payload...))
	})
}
