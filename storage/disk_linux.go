package storage

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// releaseMapped takes the pages of bbolt's read-only file mapping out of
// the process's resident set. Loading and folding read the whole file
// through the mapping, and every page read stays resident (and counted in
// RSS) until the kernel needs the memory, although the page cache holds the
// same bytes. The mapping is shared and never written through, so dropping
// its pages loses nothing: the next read faults them back from the page
// cache. It is safe while read transactions run.
func (d *disk) releaseMapped() {
	data := d.db.Info().Data
	if data == 0 {
		return
	}
	size := mappingSize(data)
	if size <= 0 {
		return
	}
	// The raw call: bbolt gives the mapping as an address, not a slice.
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, data, uintptr(size), syscall.MADV_DONTNEED)
}

// mappingSize finds the length of the mapping that starts at addr in
// /proc/self/maps (0 when there is no such file or mapping).
func mappingSize(addr uintptr) int {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0
	}
	defer f.Close()
	want := fmt.Sprintf("%x-", addr)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, want) {
			continue
		}
		var start, end uintptr
		if _, err := fmt.Sscanf(line, "%x-%x", &start, &end); err != nil || end <= start {
			return 0
		}
		return int(end - start)
	}
	return 0
}
