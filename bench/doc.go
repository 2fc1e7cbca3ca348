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
//   - SESS.* rows (sessions.go), durable on both sides, at 50 clients and
//     1 client, pipeline 1: each session command against the Redis pattern
//     an application builds by hand for the same job. A Redis operation is
//     then several commands, and may take several round trips; it counts as
//     one request, timed until its last reply:
//     SESS.CREATE vs MULTI, HSET sess:<id> (user, created, last_seen,
//     auth_time, ip, ua), EXPIRE 1800, SADD user:<u> <id>, EXEC;
//     SESS.GET (sliding) vs HGETALL + PEXPIRE 1800000 pipelined;
//     SESS.GET NOTOUCH vs HGETALL (both of 10,000 preloaded sessions);
//     SESS.ROTATE vs HGETALL old, then MULTI, HSET new, EXPIRE new, SADD
//     new, SREM old, DEL old, EXEC (each connection rotates a pool of live
//     tokens, replacing each with the one it got back);
//     SESS.REVOKEUSER vs SMEMBERS, then DEL of every session and of the
//     index pipelined — each request ends a different user's 1,000
//     sessions, so the preload is requests × 1,000 sessions per server and
//     the row's default -n is small (300 at 50 clients, 100 at 1; a
//     sessdb preload of 300,000 sessions takes ~25 s).
//   - The expiry row (scale.go), expiry-storm: the p99 of GETs while a
//     million keys expire in the same millisecond. Each server (sessdb with
//     everysec, Redis with persistence off) is filled with 10,000
//     non-expiring keys, then with -n (default 1,000,000) keys by SET …
//     PXAT of one whole second, chosen from the rate of the first fill so
//     that the second ends well before it. 50 connections GET random
//     non-expiring keys from before that deadline until INFO keyspace
//     (polled every 50 ms) shows every expiring key reclaimed, plus 0.5 s
//     (at least 2 s); only GETs completing after the deadline count. Its
//     ratio is the median of per-round sessdb/Redis p99 (lower is better;
//     ratio.png draws it inverted), and the progress line shows how long
//     each server took to reclaim the keys.
//   - With -big, the scale rows scale-get and scale-set: sessdb alone,
//     redis-benchmark GET and SET (-r over the whole keyspace, 50 clients,
//     pipeline 16, everysec) with -big-keys keys (default 10,000,000,
//     preloaded, then waiting until sessdb has folded its log: INFO
//     persistence log_records 0) against the same on 10,000 keys; the
//     "redis" columns are sessdb on 10,000 keys and the ratio is big/small
//     (target ≥ 0.8). A 10M fill takes about 5 minutes on the reference
//     machine, so these rows are not in the default table.
//
// -floor (floor.go) runs no server: on the -dir disk it times 2,000 (or -n)
// commits of each durable pattern, Redis's append + fdatasync and a bbolt
// transaction of one log record (two fdatasyncs), and prints their ratio,
// which bounds every durable row at pipeline 1.
//
// Rows run at 50 clients with pipeline 1 and 16, plus 1 client without
// pipelining for SET, GET and the SESS.* rows. redis-benchmark (built-in tests or its custom
// command mode with __rand_int__ keys) produces the numbers for all but the
// Go-driven rows; its --csv output gives rps and p50/p99 latency.
//
// The machine is small and noisy, so every scenario runs in interleaved
// rounds — sessdb, redis, sessdb, redis, … (-rounds, default 3) — each
// against a server started fresh on a free loopback port in its own
// temporary data directory (SIGTERM after the run, SIGKILL if it does not
// exit in 60 s). Readiness is a PING over TCP. Preloading is untimed (its
// duration is shown in the progress lines). The
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
//	go run ./bench -table                 # everything: every row, then -memory; charts in bench/charts
//	go run ./bench                        # builds ./cmd/sessdb, full run: ~7 min on a quiet disk
//	go run ./bench -quick                 # smoke run, ~0.3 s per measured run
//	go run ./bench -only '^(set|get)/' -rounds 5 -out bench.json
//	go run ./bench -sessdb ./sessdb       # use a prebuilt binary
//	go run ./bench -sessdb-cmd redis-server -quick   # test the harness: ratios ≈ 1
//	go run ./bench -list                  # scenario IDs, as -only matches them
//	go run ./bench -only '^sess-' -quick  # the SESS.* rows
//	go run ./bench -only '^expiry-'       # GET p99 while 1M keys expire at once
//	go run ./bench -big -only '^scale-'   # GET/SET at 10M vs 10k keys (sessdb only)
//	go run ./bench -table -big            # everything, the scale rows included
//	go run ./bench -memory                # memory per session and restart time, 1M sessions
//	go run ./bench -memory -sessions 100000
//	go run ./bench -floor -dir /data      # one durable commit on that disk: Redis AOF vs bbolt
//	go run ./bench -from-json bench.json -charts /tmp/charts   # table and charts of an earlier -out
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
// -table runs every row (or those -only selects) and then -memory (with
// -sessions), in one command, printing both tables; with -out FILE the
// memory result goes to FILE-memory.json. -charts DIR (default bench/charts
// with -table, relative to the module root) writes PNG charts of the rows
// with gonum/plot (charts.go): throughput.png (requests/s against clients,
// one panel per workload, sessdb and Redis at each pipeline depth),
// latency.png (p50 and p99 of every row, sessdb beside Redis, log scale)
// and ratio.png (each row's median ratio, 1.0 marked).
//
// # Memory and restart (-memory)
//
// -memory replaces the table: it fills a fresh sessdb with -sessions
// sessions (default 1,000,000; SESS.CREATE with ip/ua metadata, then
// SESS.SET of a 200-byte data field, pipelined), then a fresh Redis with the
// same data the hand-built way (HSET of the six fields plus the 200-byte
// data field, EXPIRE, SADD to the user's set), 4 sessions per user, both
// with AOF fsync everysec. It prints bytes per live session — VmRSS (from
// /proc/<pid>/status) and INFO used_memory, after minus before the fill,
// divided by the sessions — for sessdb and Redis and their ratio, after the
// fill and after a restart. Then the restart time: SIGTERM, start again on
// the same data, time from the process start to the first PONG (5 ms
// polling); for Redis both from the AOF as written (a replay of the fill's
// commands, automatic rewrites off) and after BGREWRITEAOF (RDB preamble).
// Each server's count of live sessions (INFO sessions_live, DBSIZE) is
// checked after the fill and after each restart.
//
// # Extending
//
// scenarios() in scenarios.go is the table: a Scenario names its workload,
// clients, pipeline, the Redis side, sessdb's fsync policy, a Preload and a
// Bench — RedisBenchmark (built-in test or custom command) or GoDriver —
// and optionally a different RedisPreload and RedisBench for the Redis side
// (the hand-built pattern a SESS.* command is compared with). A Preload's
// return value reaches the bench as RunContext.Loaded (sessdb's preloads
// return the tokens the server issued). A GoDriver either has a Gen (a
// CommandGen: one RESP command per request) or a Conn that builds each
// connection's Workload: an OpGen (several commands per operation, sent
// together), or a Phased workload whose operations read their replies and
// may take further round trips (capture a token, rotate a pool of live
// tokens, delete what SMEMBERS returned).
package main
