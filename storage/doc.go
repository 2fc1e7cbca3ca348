// Package storage holds sessdb's keyspace and makes it durable.
//
// The keyspace lives in memory (the serving copy): a Store has one Keyspace
// per logical database, each a set of 4,096 hash-range shards (open-addressing
// tables, keyspace.go) of *Value (string, hash, set or sorted set). Internal databases (InternalDB) hold sessdb's own
// data, such as sessions, out of reach of SELECT, FLUSHALL and SWAPDB. Reads
// never touch the disk.
//
// Every mutation made inside Store.Update changes memory at once and appends a
// Record (a small, serialisable change such as "set key", "delete key", "set
// field") to the transaction. When the transaction ends its records go, in
// order, to one committer goroutine, which group-commits everything queued
// into a single bbolt transaction with a single fsync and then releases every
// waiter (see Commit). Records are appended to a log bucket under sequential
// keys, which dirties only the right edge of the B+tree, and are folded into
// the keyspace buckets in large batches in the background. Open loads the
// buckets and replays the log tail.
//
// Expiry: every Value carries an absolute deadline in unix milliseconds and
// every read checks it, so an expired key is never visible. A timer wheel
// (package expiry) finds due keys and Reap turns them into deletions that go
// through the same commit path.
//
// Eviction (evict.go): Tx.Evict removes keys of the visible databases under
// a maxmemory policy (LRU by each Value's access second, random, or nearest
// deadline), sampling as Redis does, as ordinary deletions through the
// commit path. Internal databases are never evicted.
//
// Volatile writes (volatile.go) change memory without recording anything:
// sessions use them to slide an idle deadline cheaply, and record the new
// last-seen time only every so often, so a crash can only make a session
// expire early, never late.
//
// Statistics (stats.go): the committer keeps histograms of records per
// group commit and of commit latency (the bbolt transaction and its fsyncs)
// in plain atomics; CommitHistograms reads them for the metrics.
//
// Disk errors: when a commit fails (disk full, I/O error) its waiters get
// the error, its records stay queued ahead of later ones, and the committer
// retries them every Options.RetryInterval until the disk takes them, so
// memory and disk converge; Failing reports the state meanwhile. Backup
// (backup.go) copies a consistent snapshot while serving; BackupFile,
// CheckFile and CompactFile work on a file no server has open.
//
// Caveats: Tx is not goroutine-safe and must not escape its Update or View
// callback. Values returned by Lookup are read-only views. storage never sees
// RESP; it returns the plain sentinel errors listed in errors.go.
package storage
