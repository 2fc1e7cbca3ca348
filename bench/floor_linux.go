package main

import (
	"os"
	"syscall"
)

// fdatasync is what Redis calls for appendfsync always on Linux.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
