package compat_test

// A Spring-Session-like flow written in Go (issue 3, "The compatibility
// suite"): what Spring Session's RedisIndexedSessionRepository sends, replayed
// through go-redis v9 in db 0 and in a non-zero db, on RESP2 and RESP3.
//
// Layout (Spring Session's defaults, namespace "spring:session"):
//   - spring:session:sessions:<id>             hash: creationTime, lastAccessedTime,
//     maxInactiveInterval, sessionAttr:*; TTL = maxInactiveInterval + 5 min
//   - spring:session:sessions:expires:<id>     the shadow key: APPEND "" + PEXPIRE
//     maxInactiveInterval; its expired/del events drive the cleanup
//   - spring:session:expirations:<minute>      set of "expires:<id>" (SADD/SREM/SMEMBERS,
//     PEXPIREAT minute + 5 min), the 2.x cleanup index
//   - spring:session:sessions:expirations      sorted set id -> expiry ms (ZADD/ZREM,
//     ZREVRANGEBYSCORE ... LIMIT), the 3.x cleanup index
//   - spring:session:index:...PRINCIPAL_NAME_INDEX_NAME:<user>  set of session ids
//
// One subscriber connection PSUBSCRIBEs __keyevent@*:expired and
// spring:session:event:<db>:created:*, and SUBSCRIBEs __keyevent@<db>__:del;
// the handler keeps the principal index in step, as Spring's onMessage does.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

const (
	springNS          = "spring:session:"
	springSessions    = springNS + "sessions:"
	springExpires     = springNS + "sessions:expires:"
	springExpirations = springNS + "expirations:"
	springZIndex      = springNS + "sessions:expirations"
	springPrincipal   = springNS + "index:org.springframework.session.FindByIndexNameSessionRepository.PRINCIPAL_NAME_INDEX_NAME:"
	springMaxInactive = 30 * time.Minute
)

// springEvent is one message the subscriber's handler processed.
type springEvent struct {
	kind    string // "expired", "del", "created" or "other"
	channel string
	payload string
	handled bool // the handler acted on it (right db, a shadow key)
}

type springRepo struct {
	t      *testing.T
	c      *goredis.Client
	db     int
	events chan springEvent
	live   map[string]string // session id -> principal, what the test expects alive
}

func springSessionKey(id string) string { return springSessions + id }
func springExpiresKey(id string) string { return springExpires + id }
func springMinuteKey(ms int64) string {
	return springExpirations + strconv.FormatInt((ms/60000+1)*60000, 10)
}

// create is RedisIndexedSessionRepository.save of a new session plus the
// created event.
func (r *springRepo) create(ctx context.Context, id, user string) {
	now := time.Now().UnixMilli()
	c := r.c
	require.NoError(r.t, c.HMSet(ctx, springSessionKey(id),
		"creationTime", now, "lastAccessedTime", now,
		"maxInactiveInterval", int(springMaxInactive/time.Second),
		"sessionAttr:SPRING_SECURITY_CONTEXT", "ctx-"+user,
		"sessionAttr:"+"org.springframework.session.FindByIndexNameSessionRepository.PRINCIPAL_NAME_INDEX_NAME", user,
	).Err())
	require.NoError(r.t, c.SAdd(ctx, springPrincipal+user, id).Err())
	r.touchExpiry(ctx, id, now)
	n, err := c.Publish(ctx, fmt.Sprintf("spring:session:event:%d:created:%s", r.db, id), "created").Result()
	require.NoError(r.t, err)
	require.EqualValues(r.t, 1, n, "the subscriber's created:* pattern receives the PUBLISH")
	r.waitFor("created", id, true)
	r.live[id] = user
}

// touchExpiry is RedisSessionExpirationPolicy.onExpirationUpdated.
func (r *springRepo) touchExpiry(ctx context.Context, id string, now int64) {
	c := r.c
	exp := now + springMaxInactive.Milliseconds()
	minute := springMinuteKey(exp)
	require.NoError(r.t, c.SAdd(ctx, minute, "expires:"+id).Err())
	require.True(r.t, c.PExpireAt(ctx, minute, time.UnixMilli(exp).Add(5*time.Minute)).Val())
	require.NoError(r.t, c.ZAdd(ctx, springZIndex, goredis.Z{Score: float64(exp), Member: id}).Err())
	n, err := c.Append(ctx, springExpiresKey(id), "").Result()
	require.NoError(r.t, err)
	require.Zero(r.t, n, "APPEND k \"\" leaves an empty string")
	require.True(r.t, c.PExpire(ctx, springExpiresKey(id), springMaxInactive).Val())
	require.True(r.t, c.PExpire(ctx, springSessionKey(id), springMaxInactive+5*time.Minute).Val())
}

// handle is RedisIndexedSessionRepository.onMessage: for a shadow key of
// this db that was deleted or expired, read the session, clean the principal
// index and the cleanup indexes, and delete the hash.
func (r *springRepo) handle(ctx context.Context, msg *goredis.Message) springEvent {
	ev := springEvent{kind: "other", channel: msg.Channel, payload: msg.Payload}
	prefix := fmt.Sprintf("__keyevent@%d__:", r.db)
	switch {
	case strings.HasPrefix(msg.Channel, fmt.Sprintf("spring:session:event:%d:created:", r.db)):
		ev.kind, ev.payload, ev.handled = "created", strings.TrimPrefix(msg.Channel, fmt.Sprintf("spring:session:event:%d:created:", r.db)), true
		return ev
	case strings.HasSuffix(msg.Channel, ":expired"):
		ev.kind = "expired"
	case strings.HasSuffix(msg.Channel, ":del"):
		ev.kind = "del"
	}
	if !strings.HasPrefix(msg.Channel, prefix) || !strings.HasPrefix(msg.Payload, springExpires) {
		return ev // another db, or not a shadow key (e.g. the hash's own del)
	}
	id := strings.TrimPrefix(msg.Payload, springExpires)
	fields, err := r.c.HGetAll(ctx, springSessionKey(id)).Result()
	if err == nil && len(fields) > 0 {
		if user := fields["sessionAttr:org.springframework.session.FindByIndexNameSessionRepository.PRINCIPAL_NAME_INDEX_NAME"]; user != "" {
			r.c.SRem(ctx, springPrincipal+user, id)
		}
		if v, err := strconv.ParseInt(fields["lastAccessedTime"], 10, 64); err == nil {
			r.c.SRem(ctx, springMinuteKey(v+springMaxInactive.Milliseconds()), "expires:"+id)
		}
		r.c.ZRem(ctx, springZIndex, id)
		r.c.Del(ctx, springSessionKey(id))
	}
	ev.payload, ev.handled = id, true
	return ev
}

// waitFor reads processed events until one of kind for id arrives (bounded
// at 3 s); other events are checked not to have been acted on wrongly.
func (r *springRepo) waitFor(kind, id string, handled bool) springEvent {
	r.t.Helper()
	deadline := time.NewTimer(3 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case ev := <-r.events:
			if ev.kind == kind && ev.payload == id && ev.handled == handled {
				return ev
			}
		case <-deadline.C:
			r.t.Fatalf("no %s event for %q within 3s", kind, id)
		}
	}
}

// checkIndex asserts the principal index holds exactly the live sessions.
func (r *springRepo) checkIndex(ctx context.Context, users ...string) {
	r.t.Helper()
	for _, u := range users {
		var want []string
		for id, owner := range r.live {
			if owner == u {
				want = append(want, id)
			}
		}
		got, err := r.c.SMembers(ctx, springPrincipal+u).Result()
		require.NoError(r.t, err)
		require.ElementsMatch(r.t, want, got, "principal index of %q", u)
		for _, id := range got {
			require.EqualValues(r.t, 1, r.c.Exists(ctx, springSessionKey(id)).Val(), "indexed session %q exists", id)
		}
	}
}

func TestSpringSessionIndexed(t *testing.T) {
	for _, tc := range []struct{ db, proto int }{{0, 3}, {0, 2}, {3, 3}, {3, 2}} {
		t.Run(fmt.Sprintf("db%d/RESP%d", tc.db, tc.proto), func(t *testing.T) {
			springFlow(t, tc.db, tc.proto)
		})
	}
}

func springFlow(t *testing.T, db, proto int) {
	addr := startSessdb(t)
	ctx := context.Background()
	c := newGoRedis(t, addr, proto, db, "")

	// CONFIG SET / GET notify-keyspace-events, as ConfigureNotifyKeyspaceEventsAction
	// does: it reads the value, adds E g x, and writes it back.
	cur, err := c.ConfigGet(ctx, "notify-keyspace-events").Result()
	require.NoError(t, err)
	require.Equal(t, map[string]string{"notify-keyspace-events": ""}, cur)
	require.NoError(t, c.ConfigSet(ctx, "notify-keyspace-events", "Egx").Err())
	cur, err = c.ConfigGet(ctx, "notify-keyspace-events").Result()
	require.NoError(t, err)
	require.Equal(t, map[string]string{"notify-keyspace-events": "gxE"}, cur, "Redis normalises Egx to gxE")

	// One subscriber connection with both patterns and a channel.
	ps := c.PSubscribe(ctx, "__keyevent@*:expired", fmt.Sprintf("spring:session:event:%d:created:*", db))
	t.Cleanup(func() { _ = ps.Close() })
	require.NoError(t, ps.Subscribe(ctx, fmt.Sprintf("__keyevent@%d__:del", db)))
	// Wait for all three confirmations so no event is missed.
	for i := 0; i < 3; i++ {
		m, err := ps.ReceiveTimeout(ctx, 3*time.Second)
		require.NoError(t, err)
		require.IsType(t, &goredis.Subscription{}, m)
	}
	r := &springRepo{t: t, c: c, db: db, events: make(chan springEvent, 256), live: map[string]string{}}
	handlerCtx, stop := context.WithCancel(ctx)
	handlerDone := make(chan struct{})
	go func() {
		defer close(handlerDone)
		ch := ps.Channel()
		for {
			select {
			case m, ok := <-ch:
				if !ok {
					return
				}
				select {
				case r.events <- r.handle(handlerCtx, m):
				case <-handlerCtx.Done():
					return
				}
			case <-handlerCtx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() { stop(); _ = ps.Close(); <-handlerDone })
	users := []string{"alice", "bob"}

	// Create three sessions.
	r.create(ctx, "s1", "alice")
	r.create(ctx, "s2", "alice")
	r.create(ctx, "s3", "bob")
	r.checkIndex(ctx, users...)

	// Read: EXISTS + HGETALL, and the TTLs Spring sets.
	require.EqualValues(t, 1, c.Exists(ctx, springSessionKey("s1")).Val())
	fields, err := c.HGetAll(ctx, springSessionKey("s1")).Result()
	require.NoError(t, err)
	require.Equal(t, "1800", fields["maxInactiveInterval"])
	require.Equal(t, "ctx-alice", fields["sessionAttr:SPRING_SECURITY_CONTEXT"])
	require.Len(t, fields, 5)
	requireTTL(t, c, springSessionKey("s1"), springMaxInactive+5*time.Minute)
	requireTTL(t, c, springExpiresKey("s1"), springMaxInactive)
	v, err := c.Get(ctx, springExpiresKey("s1")).Result()
	require.NoError(t, err)
	require.Equal(t, "", v)
	now := time.Now().UnixMilli()
	minute := springMinuteKey(now + springMaxInactive.Milliseconds())
	mem, err := c.SMembers(ctx, minute).Result()
	require.NoError(t, err)
	if len(mem) != 3 { // creation straddled a minute boundary: check the union instead
		mem = append(mem, c.SMembers(ctx, springMinuteKey(now+springMaxInactive.Milliseconds()-60000)).Val()...)
	}
	require.ElementsMatch(t, []string{"expires:s1", "expires:s2", "expires:s3"}, mem)
	// The 3.x cleanup: the sessions due before now+max, newest first, in pages.
	due, err := c.ZRevRangeByScore(ctx, springZIndex, &goredis.ZRangeBy{
		Max: strconv.FormatInt(now+springMaxInactive.Milliseconds()+60000, 10), Min: "0", Offset: 0, Count: 2,
	}).Result()
	require.NoError(t, err)
	require.Len(t, due, 2)
	require.Equal(t, "s3", due[0], "newest first")
	none, err := c.ZRevRangeByScore(ctx, springZIndex, &goredis.ZRangeBy{Max: strconv.FormatInt(now-1000, 10), Min: "-inf", Count: 100}).Result()
	require.NoError(t, err)
	require.Empty(t, none, "nothing is due yet")

	// Access: HMSET lastAccessedTime and refresh the expiries.
	now = time.Now().UnixMilli()
	require.NoError(t, c.HMSet(ctx, springSessionKey("s1"), "lastAccessedTime", now, "sessionAttr:cart", "3 items").Err())
	r.touchExpiry(ctx, "s1", now)
	r.checkIndex(ctx, users...)

	// changeSessionId: RENAME the hash and the shadow key, keeping the TTLs,
	// and move the id in the indexes.
	pttlBefore := c.PTTL(ctx, springSessionKey("s1")).Val()
	require.NoError(t, c.Rename(ctx, springSessionKey("s1"), springSessionKey("s1b")).Err())
	require.NoError(t, c.Rename(ctx, springExpiresKey("s1"), springExpiresKey("s1b")).Err())
	pttlAfter := c.PTTL(ctx, springSessionKey("s1b")).Val()
	require.Greater(t, pttlAfter, springMaxInactive, "RENAME keeps the TTL")
	require.LessOrEqual(t, pttlAfter, pttlBefore)
	require.Greater(t, pttlAfter, pttlBefore-5*time.Second)
	requireTTL(t, c, springExpiresKey("s1b"), springMaxInactive)
	requireGone(t, c, springSessionKey("s1"))
	// Spring renames the shadow key too and ignores this exact error when it is gone.
	err = c.Rename(ctx, springExpiresKey("s1"), springExpiresKey("s1c")).Err()
	require.Error(t, err)
	require.Equal(t, "ERR no such key", err.Error())
	require.NoError(t, c.SRem(ctx, springPrincipal+"alice", "s1").Err())
	require.NoError(t, c.SAdd(ctx, springPrincipal+"alice", "s1b").Err())
	require.NoError(t, c.ZRem(ctx, springZIndex, "s1").Err())
	require.NoError(t, c.ZAdd(ctx, springZIndex, goredis.Z{Score: float64(now + springMaxInactive.Milliseconds()), Member: "s1b"}).Err())
	delete(r.live, "s1")
	r.live["s1b"] = "alice"
	r.checkIndex(ctx, users...)

	// A session that never expires (maxInactiveInterval < 0): APPEND "" and
	// PERSIST the shadow key and the hash; then back to a deadline by PEXPIREAT.
	require.NoError(t, c.HSet(ctx, springSessionKey("s2"), "maxInactiveInterval", -1).Err())
	_, err = c.Append(ctx, springExpiresKey("s2"), "").Result()
	require.NoError(t, err)
	require.True(t, c.Persist(ctx, springExpiresKey("s2")).Val())
	require.True(t, c.Persist(ctx, springSessionKey("s2")).Val())
	require.False(t, c.Persist(ctx, springSessionKey("s2")).Val(), "PERSIST with no TTL is 0")
	require.Equal(t, time.Duration(-1), c.PTTL(ctx, springExpiresKey("s2")).Val())
	require.Equal(t, time.Duration(-1), c.PTTL(ctx, springSessionKey("s2")).Val())
	at := time.Now().Add(springMaxInactive)
	require.True(t, c.PExpireAt(ctx, springExpiresKey("s2"), at).Val())
	require.True(t, c.PExpireAt(ctx, springSessionKey("s2"), at.Add(5*time.Minute)).Val())
	requireTTL(t, c, springExpiresKey("s2"), springMaxInactive)
	requireTTL(t, c, springSessionKey("s2"), springMaxInactive+5*time.Minute)
	r.checkIndex(ctx, users...)

	// deleteById: DEL the shadow key; the subscriber gets del on this db's
	// channel and the handler removes the principal index entry and the hash.
	require.EqualValues(t, 1, c.Del(ctx, springExpiresKey("s2")).Val())
	ev := r.waitFor("del", "s2", true)
	require.Equal(t, fmt.Sprintf("__keyevent@%d__:del", db), ev.channel)
	delete(r.live, "s2")
	r.checkIndex(ctx, users...)
	requireGone(t, c, springSessionKey("s2"))
	require.NotContains(t, c.ZRange(ctx, springZIndex, 0, -1).Val(), "s2")

	// Expiry: the shadow key's deadline passes; the subscriber gets expired
	// for this db (bounded wait, no sleeping) and the handler cleans up.
	if db != 0 {
		// An expiry in db 0 reaches the __keyevent@*:expired pattern too, under
		// db 0's name, and the handler of this db leaves it alone.
		c0 := newGoRedis(t, addr, proto, 0, "")
		require.NoError(t, c0.Set(ctx, springExpiresKey("s3"), "", time.Millisecond).Err())
		ev := r.waitFor("expired", springExpiresKey("s3"), false)
		require.Equal(t, "__keyevent@0__:expired", ev.channel)
		require.False(t, ev.handled)
		r.checkIndex(ctx, users...)
	}
	require.True(t, c.PExpire(ctx, springExpiresKey("s3"), time.Millisecond).Val())
	ev = r.waitFor("expired", "s3", true)
	require.Equal(t, fmt.Sprintf("__keyevent@%d__:expired", db), ev.channel)
	delete(r.live, "s3")
	r.checkIndex(ctx, users...)
	requireGone(t, c, springSessionKey("s3"))
	requireGone(t, c, springExpiresKey("s3"))
	require.Empty(t, c.SMembers(ctx, springPrincipal+"bob").Val())
	require.Equal(t, []string{"s1b"}, c.ZRange(ctx, springZIndex, 0, -1).Val())

	// What is left is exactly the renamed session.
	require.ElementsMatch(t, []string{springSessionKey("s1b"), springExpiresKey("s1b"), springZIndex, springPrincipal + "alice"},
		springKeys(t, c, "spring:session:[si]*"))
}

func springKeys(t *testing.T, c *goredis.Client, pattern string) []string {
	t.Helper()
	var keys []string
	iter := c.Scan(context.Background(), 0, pattern, 100).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	require.NoError(t, iter.Err())
	return keys
}
