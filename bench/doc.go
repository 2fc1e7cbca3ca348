// Command bench compares sessdb with redis-server on the same machine, in
// the same run, and reports sessdb's throughput as a ratio of Redis's.
//
// # What it measures
//
// Each scenario (one table row) is a workload at a client count and
// pipeline depth, compared against the Redis configuration that does the
// same durable work:
//
//   - Durable writes — SET, SET EX 1800, INCR, HSET — against sessdb with
//     --appendfsync always and Redis with --appendonly yes --appendfsync
//     always ("Redis side: always").
//   - Reads — GET, HGETALL of a 10-field hash — of data preloaded into both
//     servers alike, against Redis with persistence off ("persistence off";
//     sessdb runs with --appendfsync everysec, which reads do not touch).
//   - Go-driven rows for what redis-benchmark cannot express, run by the
//     small raw-RESP load generator in driver.go: a session-hash mix of
//     HGETALL and HSET last_seen on 10-field hashes (durable).
//
// Rows run at 50 clients with pipeline 1 and 16, plus 1 client without
// pipelining for SET and GET. redis-benchmark (built-in tests or its custom
// command mode with __rand_int__ keys) produces the numbers for all but the
// Go-driven rows; its --csv output gives rps and p50/p99 latency.
//
// The machine is small and noisy, so every scenario runs in interleaved
// rounds — sessdb, redis, sessdb, redis, … (-rounds, default 3) — each
// against a server started fresh on a free loopback port in its own
// temporary data directory (SIGTERM after the run, SIGKILL if it does not
// exit in 10 s). Readiness is a PING over TCP. Preloading is untimed. The
// table shows per-server medians and the median of the per-round ratios
// sessdb/redis (so each ratio compares two runs made back to back), with the
// range of those ratios in brackets; > 1 means sessdb is faster.
//
// Durable numbers depend on the disk: the data directories live under -dir
// (default: the system temp dir), which must be a real disk, not tmpfs. The
// default request counts give runs of about 2–4 s with fsync at ~0.5 ms;
// when other work contends for the disk, durable runs take longer (and their
// per-round ratios spread: read the bracketed range before the median).
//
// # How to run
//
// From the module root:
//
//	go run ./bench                        # builds ./cmd/sessdb, full run: ~7 min on a quiet disk
//	go run ./bench -quick                 # smoke run, ~0.3 s per measured run
//	go run ./bench -only '^(set|get)/' -rounds 5 -out bench.json
//	go run ./bench -sessdb ./sessdb       # use a prebuilt binary
//	go run ./bench -sessdb-cmd redis-server -quick   # test the harness: ratios ≈ 1
//	go run ./bench -list                  # scenario IDs, as -only matches them
//
// -sessdb-cmd runs any binary that takes redis-server style arguments
// (--port N --bind 127.0.0.1 --dir DIR --appendfsync always|everysec) in
// place of sessdb; a redis-server stand-in also gets --save "" --appendonly
// yes so that it is durable the way sessdb is. -n sets the requests of every
// run (default: per scenario, about 3 s each against Redis). -out FILE writes
// the results, with every round's raw numbers, as JSON for later charts.
// The Markdown table goes to stdout, progress to stderr; the exit status is
// non-zero if any scenario failed (its row says error, with the message
// below the table).
//
// # Extending
//
// scenarios() in scenarios.go is the table: a Scenario names its workload,
// clients, pipeline, the Redis side, sessdb's fsync policy, a preload
// function and a Bench — RedisBenchmark (built-in test or custom command) or
// GoDriver (a CommandGen that appends one RESP command per request), which
// is where SESS.* commands and other rows redis-benchmark cannot drive go.
package main
