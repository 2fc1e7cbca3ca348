package storage

import (
	"syscall"
	"unsafe"
)

// loadMmapFlags are the flags of the read-only mapping Open loads through:
// MAP_POPULATE maps the whole file (from the page cache) in one call, where
// reading it page by page would take a fault per page or two.
const loadMmapFlags = syscall.MAP_POPULATE

func sliceAddr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// adviseHuge advises transparent huge pages on the whole pages of p, or
// withdraws the advice (prefault.go). Errors (no THP support) are ignored.
func adviseHuge(p prefaulted, on bool) {
	const huge = 2 << 20
	start := (p.addr + huge - 1) &^ (huge - 1)
	end := (p.addr + p.size) &^ (huge - 1)
	if end <= start {
		return
	}
	advice := syscall.MADV_HUGEPAGE
	if !on {
		advice = syscall.MADV_NOHUGEPAGE
	}
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, start, end-start, uintptr(advice))
}
