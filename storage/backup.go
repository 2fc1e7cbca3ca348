package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrLocked is returned when a database file is held open by another
// process (a running server holds bbolt's exclusive file lock).
var ErrLocked = errors.New("storage: the file is locked by another process (a running sessdb server?)")

// Backup writes a consistent copy of the database to path: the state of the
// last commit when it starts, read in one bbolt read transaction while the
// server keeps serving. The copy is written to a temporary file in path's
// directory, fsynced and renamed over path, so path is never half written.
// It returns the number of bytes written. Call Sync first to include changes
// that are acknowledged but not yet committed (appendfsync everysec).
//
// A long backup holds its read transaction open; bbolt cannot remap the file
// meanwhile, so commits that need to grow it beyond the mapping wait.
func (s *Store) Backup(path string) (int64, error) {
	var n int64
	err := s.disk.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = writeCopy(tx, path)
		return err
	})
	return n, err
}

// writeCopy writes tx's snapshot to path atomically.
func writeCopy(tx *bolt.Tx, path string) (int64, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	n, err := tx.WriteTo(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return 0, fmt.Errorf("backup to %s: %w", path, err)
	}
	return n, syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// openReadOnly opens a database file that no server is using, after
// checking that it is a bbolt file at all.
func openReadOnly(path string, timeout time.Duration) (*bolt.DB, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		return nil, fmt.Errorf("%s: %w: empty file", path, ErrForeignFile)
	}
	if err := checkBoltHeader(path); err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = time.Second
	}
	db, err := openBolt(path, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := checkNotTruncated(db, path); err != nil {
		db.Close()
		return nil, err
	}
	if err := checkPages(db, path); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// BackupFile writes a consistent copy of the database file src, which no
// server may have open, to dst (atomically, as Backup). It returns the
// bytes written.
func BackupFile(src, dst string, timeout time.Duration) (int64, error) {
	db, err := openReadOnly(src, timeout)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int64
	err = db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = writeCopy(tx, dst)
		return err
	})
	return n, err
}

// CheckFile verifies the database file path, which no server may have open:
// bbolt's own consistency check (every page reachable once, no page both
// free and in use, keys in order), then every record decoded by loading a
// snapshot of it exactly as Open does. The snapshot goes to a temporary file
// in tmpDir ("" = the system default), which is removed afterwards unless
// keep is set; its path is returned so that a caller can inspect it further.
func CheckFile(path, tmpDir string, keep bool) (CheckReport, error) {
	var rep CheckReport
	db, err := openReadOnly(path, time.Second)
	if err != nil {
		return rep, err
	}
	f, err := os.CreateTemp(tmpDir, "sessdb-check-*.db")
	if err != nil {
		db.Close()
		return rep, err
	}
	rep.Snapshot = f.Name()
	databases := 16
	err = db.View(func(tx *bolt.Tx) error {
		rep.Size = tx.Size()
		if meta := tx.Bucket(bucketMeta); meta != nil {
			dec := decoder{b: meta.Get(keyDBMap)}
			n := 0
			for len(dec.b) > 0 && dec.err == nil {
				dec.uvarint()
				n++
			}
			databases = max(databases, n)
		}
		for cerr := range tx.Check() {
			rep.Problems = append(rep.Problems, cerr.Error())
		}
		_, err := tx.WriteTo(f)
		return err
	})
	db.Close()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if !keep {
		defer os.Remove(rep.Snapshot)
	}
	if err != nil {
		return rep, fmt.Errorf("%s: %w", path, err)
	}
	if len(rep.Problems) > 0 {
		return rep, fmt.Errorf("%s: %w: bbolt consistency check found %d problems, the first: %s", path, ErrCorrupt, len(rep.Problems), rep.Problems[0])
	}
	rep.Databases = databases
	s, err := Open(rep.Snapshot, &Options{Internal: 1, Databases: databases})
	if err != nil {
		return rep, fmt.Errorf("%s: %w", path, err)
	}
	defer s.Close()
	for _, db := range s.allDBs() {
		n := s.keyspace(db).Len()
		if db >= InternalBase {
			rep.InternalKeys += n
		} else {
			rep.Keys += n
		}
	}
	rep.LogRecords = s.Stats().LogRecords
	return rep, nil
}

// CheckReport is what CheckFile found.
type CheckReport struct {
	Size         int64    // bytes in use by the snapshot
	Databases    int      // logical databases the file holds (at least 16)
	Keys         int      // keys in the visible databases (expired ones dropped)
	InternalKeys int      // keys in sessdb's internal databases (sessions and their indexes)
	LogRecords   int64    // records in the log not yet folded
	Problems     []string // bbolt consistency problems
	Snapshot     string   // the temporary snapshot that was loaded
}

// CompactFile rewrites the database file path, which no server may have
// open, into a fresh file holding only live pages, and renames it over path.
// It returns the file's size before and after.
func CompactFile(path string, timeout time.Duration) (before, after int64, err error) {
	src, err := openReadOnly(path, timeout)
	if err != nil {
		return 0, 0, err
	}
	defer src.Close()
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	before = fi.Size()
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".compact-*")
	if err != nil {
		return 0, 0, err
	}
	tmpPath := tmp.Name()
	tmp.Close()
	fail := func(err error) (int64, int64, error) {
		_ = os.Remove(tmpPath)
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	dst, err := bolt.Open(tmpPath, fi.Mode().Perm(), &bolt.Options{FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if err != nil {
		return fail(err)
	}
	if err := bolt.Compact(dst, src, 64<<20); err != nil {
		dst.Close()
		return fail(err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return fail(err)
	}
	if err := dst.Close(); err != nil {
		return fail(err)
	}
	// The source's lock is released before the rename replaces it.
	src.Close()
	if err := os.Rename(tmpPath, path); err != nil {
		return fail(err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return 0, 0, err
	}
	fi, err = os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	return before, fi.Size(), nil
}
