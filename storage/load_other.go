//go:build !linux

package storage

// loadMmapFlags are the flags of the read-only mapping Open loads through.
const loadMmapFlags = 0
