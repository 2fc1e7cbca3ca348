//go:build !linux

package storage

// releaseMapped does nothing outside Linux (it reads /proc/self/maps).
func (d *disk) releaseMapped() {}
