package storage

import "syscall"

// loadMmapFlags are the flags of the read-only mapping Open loads through:
// MAP_POPULATE maps the whole file (from the page cache) in one call, where
// reading it page by page would take a fault per page or two.
const loadMmapFlags = syscall.MAP_POPULATE
