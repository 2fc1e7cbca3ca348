package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// The SESS.* rows: each session command against the Redis pattern an
// application builds by hand for the same job (issue 4, "Benchmark"):
//
//	SESS.CREATE          MULTI, HSET sess:<id> (6 fields), EXPIRE sess:<id> 1800, SADD user:<u> <id>, EXEC
//	SESS.GET (sliding)   HGETALL sess:<id> + PEXPIRE sess:<id> 1800000, pipelined
//	SESS.GET NOTOUCH     HGETALL sess:<id>
//	SESS.ROTATE          HGETALL old; then MULTI, HSET new …, EXPIRE new, SADD user new, SREM user old, DEL old, EXEC
//	SESS.REVOKEUSER      SMEMBERS user:<u>; then DEL sess:<id> for each member + DEL user:<u>, pipelined
//
// A session on both sides carries the same data: user, created, last_seen,
// auth_time and device metadata ip and ua (sessdb keeps the id, the secret's
// hash and both deadlines besides). A Redis session id is 22 characters,
// like sessdb's public id: the preloaded ones are the zero-padded index, new
// ones 22 random base64url characters drawn from the connection's rng (the
// application's crypto/rand and hashing are not part of Redis's cost, while
// sessdb's token generation is part of its own).

const (
	sessIdle    = 1800 // seconds: session-idle-timeout's default, and the Redis TTL
	sessIP      = "203.0.113.42"
	sessUA      = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
	sessIDLen   = 22 // sessdb's public id: 16 bytes, base64url
	sessPerUser = 4  // sessions per user in the SESS.GET/ROTATE preloads
	// revokeSessions is the number of sessions of each user SESS.REVOKEUSER
	// ends (the row's Keyspace).
	revokeSessions = 1000
)

// sessScenarios is the table of SESS.* rows: durable on both sides (sessdb
// --appendfsync always, Redis appendfsync always), at 50 clients and at one
// client, pipeline 1. Default request counts aim at ~3 s against Redis on
// the 2-core reference machine.
func sessScenarios() []Scenario {
	var all []Scenario
	row := func(key, workload string, keyspace int, pre Preload, b Bench, rpre Preload, rb Bench, shapes ...shape) {
		for _, s := range durable(key, workload, keyspace, b, shapes...) {
			s.Preload, s.RedisPreload, s.RedisBench = pre, rpre, rb
			all = append(all, s)
		}
	}
	// Keyspace: the users new sessions are spread over.
	row("sess-create", "SESS.CREATE vs MULTI HSET+EXPIRE+SADD", 100_000,
		nil, GoDriver{Desc: "SESS.CREATE u<rand> IDLE 1800 META ip … ua …", Conn: sessCreateConn, FailOnNil: true},
		nil, GoDriver{Desc: "MULTI, HSET sess:<new> user created last_seen auth_time ip ua, EXPIRE 1800, SADD user:<u>, EXEC", Conn: redisCreateConn, FailOnNil: true},
		shape{50, 1, 30_000}, shape{1, 1, 2_500})
	// Keyspace: the preloaded sessions read (or rotated).
	row("sess-get", "SESS.GET (sliding) vs HGETALL+PEXPIRE", 10_000,
		preloadSessTokens, GoDriver{Desc: "SESS.GET <token>", Conn: sessGetConn(false), FailOnNil: true},
		preloadRedisSessions, GoDriver{Desc: "HGETALL sess:<id> + PEXPIRE sess:<id> 1800000, pipelined", Conn: redisGetConn(true), FailOnNil: true},
		shape{50, 1, 80_000}, shape{1, 1, 5_000})
	row("sess-get-notouch", "SESS.GET NOTOUCH vs HGETALL", 10_000,
		preloadSessTokens, GoDriver{Desc: "SESS.GET <token> NOTOUCH", Conn: sessGetConn(true), FailOnNil: true},
		preloadRedisSessions, GoDriver{Desc: "HGETALL sess:<id>", Conn: redisGetConn(false), FailOnNil: true},
		shape{50, 1, 150_000}, shape{1, 1, 50_000})
	row("sess-rotate", "SESS.ROTATE vs HGETALL; MULTI … EXEC", 10_000,
		preloadSessTokens, GoDriver{Desc: "SESS.ROTATE <token> over a per-connection pool of live tokens", Conn: sessRotateConn, FailOnNil: true},
		preloadRedisSessions, GoDriver{Desc: "HGETALL sess:<old>; MULTI, HSET sess:<new> …, EXPIRE, SADD user:<u> new, SREM user:<u> old, DEL sess:<old>, EXEC", Conn: redisRotateConn, FailOnNil: true},
		shape{50, 1, 30_000}, shape{1, 1, 5_000})
	// Keyspace: sessions per user. Every request revokes a different user,
	// so the preload is requests × 1,000 sessions on each server, and the
	// default request counts are small for that reason: the runs take
	// about 1 s against Redis, while sessdb's preload (SESS.CREATE at
	// ~12k/s pipelined with fsync always on the reference machine) takes
	// ~25 s for 300 users. -quick's minimum of 100 requests preloads
	// 100,000 sessions.
	row("sess-revokeuser", "SESS.REVOKEUSER (1,000 sessions) vs SMEMBERS+DEL", revokeSessions,
		preloadRevokeSessdb, GoDriver{Desc: "SESS.REVOKEUSER ru<i> (each request a different user with 1,000 sessions)", Conn: sessRevokeConn, FailOnNil: true},
		preloadRevokeRedis, GoDriver{Desc: "SMEMBERS user:ru<i>; DEL sess:<id> × 1,000 + DEL user:ru<i>, pipelined", Conn: redisRevokeConn, FailOnNil: true},
		shape{50, 1, 300}, shape{1, 1, 100})
	return all
}

// userName is the user of index u: prefix followed by u zero-padded to 12
// digits ("u000000000042"), on both sides.
func userName(prefix string, u int) string {
	return string(appendPadded(nil, prefix, u, 12))
}

// redisID is the id of the i-th preloaded Redis session: i zero-padded to
// sessIDLen digits.
func redisID(i int) string { return string(appendPadded(nil, "", i, sessIDLen)) }

// appendPadded appends prefix and n zero-padded to width digits (raw bytes,
// not RESP).
func appendPadded(dst []byte, prefix string, n, width int) []byte {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], int64(n), 10)
	dst = append(dst, prefix...)
	for range width - len(d) {
		dst = append(dst, '0')
	}
	return append(dst, d...)
}

const base64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// randID is a new Redis session id: sessIDLen random base64url characters.
func randID(rng *rand.Rand) string {
	var b [sessIDLen]byte
	for i := 0; i < sessIDLen; i += 10 { // 10 characters from 60 bits
		x := rng.Uint64()
		for j := i; j < min(i+10, sessIDLen); j++ {
			b[j] = base64url[x&63]
			x >>= 6
		}
	}
	return string(b[:])
}

// appendSessCreate appends SESS.CREATE user IDLE 1800 META ip … ua …, plus
// the extra META pairs.
func appendSessCreate(dst []byte, user string) []byte {
	return appendCommand(dst, "SESS.CREATE", user, "IDLE", strconv.Itoa(sessIdle), "META", "ip", sessIP, "ua", sessUA)
}

// appendRedisSession appends the three commands that store one session the
// hand-built way: HSET sess:<id> with user, created, last_seen, auth_time,
// ip, ua (and data, if not empty), EXPIRE sess:<id> 1800, and SADD
// user:<user> <id>.
func appendRedisSession(dst []byte, id, user string, nowMs int64, data string) []byte {
	now := strconv.FormatInt(nowMs, 10)
	key := "sess:" + id
	args := []string{"HSET", key, "user", user, "created", now, "last_seen", now, "auth_time", now, "ip", sessIP, "ua", sessUA}
	if data != "" {
		args = append(args, "data", data)
	}
	dst = appendCommand(dst, args...)
	dst = appendCommand(dst, "EXPIRE", key, strconv.Itoa(sessIdle))
	return appendCommand(dst, "SADD", "user:"+user, id)
}

// appendRedisCreate appends the Redis create pattern: the session's three
// commands inside MULTI … EXEC, five commands in all.
func appendRedisCreate(dst []byte, id, user string, nowMs int64) ([]byte, int) {
	dst = appendCommand(dst, "MULTI")
	dst = appendRedisSession(dst, id, user, nowMs, "")
	return appendCommand(dst, "EXEC"), 5
}

// --- SESS.CREATE ---------------------------------------------------------

func sessCreateConn(rc RunContext, _ int) (Workload, error) {
	users := rc.Keyspace
	return CommandGen(func(_ int, rng *rand.Rand, dst []byte) []byte {
		return appendSessCreate(dst, userName("u", rng.IntN(users)))
	}), nil
}

func redisCreateConn(rc RunContext, _ int) (Workload, error) {
	users := rc.Keyspace
	return OpGen(func(_ int, rng *rand.Rand, dst []byte) ([]byte, int) {
		return appendRedisCreate(dst, randID(rng), userName("u", rng.IntN(users)), time.Now().UnixMilli())
	}), nil
}

// --- preloads ------------------------------------------------------------

// tokenCapture creates session i (user i/perUser) on sessdb and keeps the
// token it returns in tokens[i]: the phased workload of preloadSessTokens.
type tokenCapture struct {
	tokens  []string
	perUser int
	user    string // user name prefix
	index   []int  // the operation index in flight in each pipeline slot
}

func (w *tokenCapture) Op(slot, i int, _ *rand.Rand, dst []byte) ([]byte, int) {
	w.index[slot] = i
	return appendSessCreate(dst, userName(w.user, i/w.perUser)), 1
}

func (w *tokenCapture) Next(slot int, r []Value, dst []byte) ([]byte, int, error) {
	if r[0].Kind != '$' || r[0].Null {
		return dst, 0, fmt.Errorf("SESS.CREATE replied %s, want a token", r[0])
	}
	w.tokens[w.index[slot]] = r[0].Str
	return dst, 0, nil
}

// createTokens creates n sessions on sessdb (sessPerUser per user, users
// named prefix+index), pipelined, and returns their tokens.
func createTokens(ctx context.Context, addr string, n int, prefix string) ([]string, error) {
	tokens := make([]string, n)
	err := preloadOps(ctx, addr, n, func(int) (Workload, error) {
		return &tokenCapture{tokens: tokens, perUser: sessPerUser, user: prefix, index: make([]int, 256)}, nil
	})
	return tokens, err
}

// preloadSessTokens creates rc.Keyspace sessions on sessdb; the bench gets
// their tokens as rc.Loaded ([]string).
func preloadSessTokens(ctx context.Context, rc RunContext) (any, error) {
	return createTokens(ctx, rc.Addr, rc.Keyspace, "u")
}

// preloadRedisSessions stores the same rc.Keyspace sessions the hand-built
// way (HSET + EXPIRE + SADD, sessPerUser per user) under sess:<redisID(i)>.
func preloadRedisSessions(ctx context.Context, rc RunContext) (any, error) {
	now := time.Now().UnixMilli()
	return nil, preloadOps(ctx, rc.Addr, rc.Keyspace, func(int) (Workload, error) {
		return OpGen(func(i int, _ *rand.Rand, dst []byte) ([]byte, int) {
			return appendRedisSession(dst, redisID(i), userName("u", i/sessPerUser), now, ""), 3
		}), nil
	})
}

// preloadRevokeSessdb creates rc.Keyspace (1,000) sessions for each of
// rc.Requests users ru<0>, ru<1>, … on sessdb: one user per request.
func preloadRevokeSessdb(ctx context.Context, rc RunContext) (any, error) {
	per := rc.Keyspace
	return nil, preloadOps(ctx, rc.Addr, rc.Requests*per, func(int) (Workload, error) {
		return CommandGen(func(i int, _ *rand.Rand, dst []byte) []byte {
			return appendSessCreate(dst, userName("ru", i/per))
		}), nil
	})
}

// preloadRevokeRedis stores the same sessions as preloadRevokeSessdb the
// hand-built way.
func preloadRevokeRedis(ctx context.Context, rc RunContext) (any, error) {
	per := rc.Keyspace
	now := time.Now().UnixMilli()
	return nil, preloadOps(ctx, rc.Addr, rc.Requests*per, func(int) (Workload, error) {
		return OpGen(func(i int, _ *rand.Rand, dst []byte) ([]byte, int) {
			return appendRedisSession(dst, redisID(i), userName("ru", i/per), now, ""), 3
		}), nil
	})
}

// loadedTokens is the token list a sessdb preload returned.
func loadedTokens(rc RunContext) ([]string, error) {
	tokens, ok := rc.Loaded.([]string)
	if !ok || len(tokens) == 0 {
		return nil, errors.New("no preloaded session tokens")
	}
	return tokens, nil
}

// --- SESS.GET ------------------------------------------------------------

// sessGetConn reads random preloaded sessions by token.
func sessGetConn(notouch bool) func(RunContext, int) (Workload, error) {
	return func(rc RunContext, _ int) (Workload, error) {
		tokens, err := loadedTokens(rc)
		if err != nil {
			return nil, err
		}
		return CommandGen(func(_ int, rng *rand.Rand, dst []byte) []byte {
			tok := tokens[rng.IntN(len(tokens))]
			if notouch {
				return appendCommand(dst, "SESS.GET", tok, "NOTOUCH")
			}
			return appendCommand(dst, "SESS.GET", tok)
		}), nil
	}
}

// redisGetConn reads random preloaded session hashes, and with slide also
// moves their TTL (PEXPIRE in the same write: one operation, two replies).
func redisGetConn(slide bool) func(RunContext, int) (Workload, error) {
	return func(rc RunContext, _ int) (Workload, error) {
		n := rc.Keyspace
		ttl := strconv.Itoa(sessIdle * 1000)
		return OpGen(func(_ int, rng *rand.Rand, dst []byte) ([]byte, int) {
			k := rng.IntN(n)
			dst = appendArrayHeader(dst, 2)
			dst = appendBulk(dst, "HGETALL")
			dst = appendBulkPadded(dst, "sess:", k, sessIDLen)
			if !slide {
				return dst, 1
			}
			dst = appendArrayHeader(dst, 3)
			dst = appendBulk(dst, "PEXPIRE")
			dst = appendBulkPadded(dst, "sess:", k, sessIDLen)
			return appendBulk(dst, ttl), 2
		}), nil
	}
}

// --- SESS.ROTATE ---------------------------------------------------------

// connPool is this connection's share of the preloaded sessions: every
// clients-th one, starting at conn. A pool must be at least as large as the
// pipeline, so that no two operations in flight rotate the same session.
func connPool[T any](all []T, rc RunContext, conn int) ([]T, error) {
	var pool []T
	for i := conn; i < len(all); i += rc.Clients {
		pool = append(pool, all[i])
	}
	if len(pool) < rc.Pipeline {
		return nil, fmt.Errorf("pool of %d sessions for connection %d, need at least the pipeline depth %d (raise the keyspace)", len(pool), conn, rc.Pipeline)
	}
	return pool, nil
}

// sessRotate rotates the tokens of its pool in turn, each time replacing
// the token with the one SESS.ROTATE returned, so every operation rotates a
// live session.
type sessRotate struct {
	pool []string
	next int
	slot []int // pool index in flight per pipeline slot
}

func sessRotateConn(rc RunContext, conn int) (Workload, error) {
	tokens, err := loadedTokens(rc)
	if err != nil {
		return nil, err
	}
	pool, err := connPool(tokens, rc, conn)
	if err != nil {
		return nil, err
	}
	return &sessRotate{pool: pool, slot: make([]int, rc.Pipeline)}, nil
}

func (w *sessRotate) Op(slot, _ int, _ *rand.Rand, dst []byte) ([]byte, int) {
	k := w.next % len(w.pool)
	w.next++
	w.slot[slot] = k
	return appendCommand(dst, "SESS.ROTATE", w.pool[k]), 1
}

func (w *sessRotate) Next(slot int, r []Value, dst []byte) ([]byte, int, error) {
	if r[0].Kind != '$' || r[0].Null {
		return dst, 0, fmt.Errorf("SESS.ROTATE replied %s, want a new token", r[0])
	}
	w.pool[w.slot[slot]] = r[0].Str
	return dst, 0, nil
}

// redisRotate is the hand-built rotation: read the old hash, then write it
// under a new id and move the user index entry, atomically:
//
//	HGETALL sess:<old>
//	MULTI
//	HSET sess:<new> <every field of old>
//	EXPIRE sess:<new> 1800
//	SADD user:<u> <new>
//	SREM user:<u> <old>
//	DEL sess:<old>
//	EXEC
//
// (RENAME sess:<old> sess:<new> would replace HGETALL + HSET + DEL and keep
// the TTL, but the application needs the hash anyway to learn the user for
// the index, and an application that rotates also validates first: this is
// the pattern the issue names. A WATCH for concurrent rotation of the same
// session would add one command to the first write and no round trip.)
type redisRotate struct {
	pool  []string
	next  int
	slots []redisRotateSlot
}

type redisRotateSlot struct {
	k     int    // pool index
	phase int    // 0: HGETALL sent, 1: MULTI … EXEC sent
	newID string // the id it gets
}

func redisRotateConn(rc RunContext, conn int) (Workload, error) {
	ids := make([]string, rc.Keyspace)
	for i := range ids {
		ids[i] = redisID(i)
	}
	pool, err := connPool(ids, rc, conn)
	if err != nil {
		return nil, err
	}
	return &redisRotate{pool: pool, slots: make([]redisRotateSlot, rc.Pipeline)}, nil
}

func (w *redisRotate) Op(slot, _ int, rng *rand.Rand, dst []byte) ([]byte, int) {
	k := w.next % len(w.pool)
	w.next++
	w.slots[slot] = redisRotateSlot{k: k, newID: randID(rng)}
	return appendCommand(dst, "HGETALL", "sess:"+w.pool[k]), 1
}

func (w *redisRotate) Next(slot int, r []Value, dst []byte) ([]byte, int, error) {
	st := &w.slots[slot]
	old := w.pool[st.k]
	if st.phase == 1 {
		if exec := r[len(r)-1]; exec.Null || len(exec.Elems) != 5 {
			return dst, 0, fmt.Errorf("rotate of sess:%s: EXEC replied %s", old, exec)
		}
		w.pool[st.k] = st.newID
		return dst, 0, nil
	}
	h := r[0].Elems
	user := ""
	args := make([]string, 0, 2+len(h))
	args = append(args, "HSET", "sess:"+st.newID)
	for j := 0; j+1 < len(h); j += 2 {
		if h[j].Str == "user" {
			user = h[j+1].Str
		}
		args = append(args, h[j].Str, h[j+1].Str)
	}
	if user == "" {
		return dst, 0, fmt.Errorf("rotate: sess:%s has no user field (%s)", old, r[0])
	}
	st.phase = 1
	dst = appendCommand(dst, "MULTI")
	dst = appendCommand(dst, args...)
	dst = appendCommand(dst, "EXPIRE", "sess:"+st.newID, strconv.Itoa(sessIdle))
	dst = appendCommand(dst, "SADD", "user:"+user, st.newID)
	dst = appendCommand(dst, "SREM", "user:"+user, old)
	dst = appendCommand(dst, "DEL", "sess:"+old)
	return appendCommand(dst, "EXEC"), 7, nil
}

// --- SESS.REVOKEUSER -----------------------------------------------------

// sessRevoke revokes user ru<i> for operation i and checks that it ended
// all of the user's preloaded sessions.
type sessRevoke struct{ per int }

func sessRevokeConn(rc RunContext, _ int) (Workload, error) {
	return sessRevoke{per: rc.Keyspace}, nil
}

func (w sessRevoke) Op(_, i int, _ *rand.Rand, dst []byte) ([]byte, int) {
	return appendCommand(dst, "SESS.REVOKEUSER", userName("ru", i)), 1
}

func (w sessRevoke) Next(_ int, r []Value, dst []byte) ([]byte, int, error) {
	if n, err := r[0].Int(); err != nil || n != int64(w.per) {
		return dst, 0, fmt.Errorf("SESS.REVOKEUSER replied %s, want %d", r[0], w.per)
	}
	return dst, 0, nil
}

// redisRevoke is the hand-built revoke-all: read the user's index, then
// delete every session and the index in one pipelined write.
type redisRevoke struct {
	per   int
	user  []string // user in flight per slot
	phase []int
}

func redisRevokeConn(rc RunContext, _ int) (Workload, error) {
	return &redisRevoke{per: rc.Keyspace, user: make([]string, rc.Pipeline), phase: make([]int, rc.Pipeline)}, nil
}

func (w *redisRevoke) Op(slot, i int, _ *rand.Rand, dst []byte) ([]byte, int) {
	w.user[slot], w.phase[slot] = userName("ru", i), 0
	return appendCommand(dst, "SMEMBERS", "user:"+w.user[slot]), 1
}

func (w *redisRevoke) Next(slot int, r []Value, dst []byte) ([]byte, int, error) {
	user := w.user[slot]
	if w.phase[slot] == 1 {
		for _, v := range r {
			if n, err := v.Int(); err != nil || n != 1 {
				return dst, 0, fmt.Errorf("revoke %s: DEL replied %s, want 1", user, v)
			}
		}
		return dst, 0, nil
	}
	ids := r[0].Elems
	if len(ids) != w.per {
		return dst, 0, fmt.Errorf("revoke %s: SMEMBERS gave %d ids, want %d", user, len(ids), w.per)
	}
	w.phase[slot] = 1
	for _, id := range ids {
		dst = appendCommand(dst, "DEL", "sess:"+id.Str)
	}
	return appendCommand(dst, "DEL", "user:"+user), len(ids) + 1, nil
}
