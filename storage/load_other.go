//go:build !linux

package storage

import "unsafe"

// loadMmapFlags are the flags of the read-only mapping Open loads through.
const loadMmapFlags = 0

func sliceAddr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// adviseHuge does nothing outside Linux.
func adviseHuge(prefaulted, bool) {}
