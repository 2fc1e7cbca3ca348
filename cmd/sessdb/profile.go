package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the whole run to path when it is set
// (the SESSDB_CPUPROFILE environment variable: a developer's tool for the
// bench harness, e.g. SESSDB_CPUPROFILE=/tmp/cpu.out; `go tool pprof` reads
// it). The returned stop flushes it on a graceful shutdown.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("SESSDB_CPUPROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("SESSDB_CPUPROFILE: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
