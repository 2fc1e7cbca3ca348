package storage

import "errors"

// These are the sentinel errors storage returns; the server maps each to a RESP error.
var (
	// ErrWrongType is returned when an operation meets a key holding another kind of value.
	ErrWrongType = errors.New("storage: wrong type")
	// ErrNoSuchKey is returned when an operation needs a key that does not exist.
	ErrNoSuchKey = errors.New("storage: no such key")
	// ErrDBIndex is returned for a database number outside 0..databases-1.
	ErrDBIndex = errors.New("storage: db index out of range")
	// ErrClosed is returned when the store has been closed.
	ErrClosed = errors.New("storage: closed")
	// ErrCorrupt is returned when the database file holds data sessdb cannot decode.
	ErrCorrupt = errors.New("storage: corrupt data")
	// ErrNotANumber is returned when a sorted-set score would be NaN. The
	// server checks scores before it calls storage, so this only guards the ordering.
	ErrNotANumber = errors.New("storage: score is not a number")
	// ErrForeignFile is returned when the file is a bbolt database that sessdb did not write.
	ErrForeignFile = errors.New("storage: not a sessdb database")
)
