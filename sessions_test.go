package sessdb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/storage"
	"github.com/stretchr/testify/require"
)

// sessClock is the fake clock of the session tests.
type sessClock struct {
	mu sync.Mutex
	t  time.Time
}

func newSessClock() *sessClock { return &sessClock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *sessClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *sessClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func (c *sessClock) Ms() int64 { return c.Now().UnixMilli() }

func openSessDB(t *testing.T, path string, clock *sessClock, so sessdb.SessionOptions) *sessdb.DB {
	t.Helper()
	db, err := sessdb.Open(path, &sessdb.Options{Now: clock.Now, ReapInterval: -1, Sessions: so})
	require.NoError(t, err)
	return db
}

// newSessFixture opens a fresh database with the fake clock.
func newSessFixture(t *testing.T) (*sessdb.DB, *sessdb.Sessions, *sessClock, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sessdb.db")
	clock := newSessClock()
	db := openSessDB(t, path, clock, sessdb.SessionOptions{})
	t.Cleanup(func() { _ = db.Close() })
	return db, db.Sessions(), clock, path
}

var sessTokenShape = regexp.MustCompile(`^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$`)

func sessCreate(t *testing.T, s *sessdb.Sessions, user string, o sessdb.CreateOptions) string {
	t.Helper()
	tok, err := s.Create(context.Background(), user, o)
	require.NoError(t, err)
	require.Regexp(t, sessTokenShape, tok)
	return tok
}

func sessID(token string) string { return token[:22] }

// sessIndex returns the members of user's index set as stored.
func sessIndex(t *testing.T, db *sessdb.DB, user string) []string {
	t.Helper()
	var out []string
	require.NoError(t, db.View(func(tx *sessdb.Tx) error {
		v, err := tx.LookupSet(storage.InternalDB(0), "u:"+user)
		if v != nil {
			for m := range v.Members() {
				out = append(out, m)
			}
		}
		return err
	}))
	sort.Strings(out)
	return out
}

func sessListIDs(t *testing.T, s *sessdb.Sessions, user string) []string {
	t.Helper()
	list, err := s.List(user)
	require.NoError(t, err)
	out := []string{}
	for _, x := range list {
		out = append(out, x.ID)
	}
	sort.Strings(out)
	return out
}

func sessGet(t *testing.T, s *sessdb.Sessions, token string) *sessdb.Session {
	t.Helper()
	x, err := s.Get(token, false)
	require.NoError(t, err)
	return x
}

// Ensure that Create issues a well-formed token whose session Get returns
// with every documented field, and that a bad token of any kind is nil.
func TestSessions_CreateAndGet(t *testing.T) {
	_, s, clock, _ := newSessFixture(t)
	now := clock.Now()
	tok := sessCreate(t, s, "alice", sessdb.CreateOptions{
		Idle: 10 * time.Minute, Absolute: time.Hour,
		Meta: map[string]string{"ip": "10.0.0.1", "ua": "curl"},
	})
	got := sessGet(t, s, tok)
	require.NotNil(t, got)
	require.Equal(t, sessID(tok), got.ID)
	require.Equal(t, "alice", got.User)
	require.Equal(t, now.UnixMilli(), got.Created.UnixMilli())
	require.Equal(t, now.UnixMilli(), got.LastSeen.UnixMilli())
	require.Equal(t, now.UnixMilli(), got.AuthTime.UnixMilli())
	require.Equal(t, now.Add(10*time.Minute).UnixMilli(), got.IdleDeadline.UnixMilli())
	require.Equal(t, now.Add(time.Hour).UnixMilli(), got.AbsoluteDeadline.UnixMilli())
	require.Equal(t, map[string]string{"ip": "10.0.0.1", "ua": "curl"}, got.Meta)
	require.Empty(t, got.Data)

	other := sessCreate(t, s, "alice", sessdb.CreateOptions{})
	require.NotEqual(t, tok, other)
	require.NotEqual(t, sessID(tok), sessID(other))

	// Defaults: 30 minutes idle, 12 hours absolute.
	d := sessGet(t, s, other)
	require.Equal(t, now.Add(30*time.Minute).UnixMilli(), d.IdleDeadline.UnixMilli())
	require.Equal(t, now.Add(12*time.Hour).UnixMilli(), d.AbsoluteDeadline.UnixMilli())

	before := s.Stats().InvalidLookups
	flip := func(b byte) byte {
		if b == 'A' {
			return 'B'
		}
		return 'A'
	}
	wrongSecret := tok[:30] + string(flip(tok[30])) + tok[31:]
	unknownID := string(flip(tok[0])) + tok[1:]
	for _, bad := range []string{
		"", "x", "not.a.token", tok + "A", tok[:len(tok)-1], wrongSecret, unknownID,
		sessID(tok), sessID(tok) + ".", strings.Replace(tok, ".", "_", 1),
		tok[:22] + "." + strings.Repeat("=", 43), strings.ToUpper(tok),
	} {
		x, err := s.Get(bad, true)
		require.NoError(t, err)
		require.Nil(t, x, "token %q", bad)
		ok, err := s.Touch(bad)
		require.NoError(t, err)
		require.False(t, ok)
	}
	require.Equal(t, before+24, s.Stats().InvalidLookups)

	// Invalid arguments.
	_, err := s.Create(context.Background(), "", sessdb.CreateOptions{})
	require.ErrorIs(t, err, sessdb.ErrInvalidUser)
	_, err = s.Create(context.Background(), strings.Repeat("u", sessdb.MaxUserLen+1), sessdb.CreateOptions{})
	require.ErrorIs(t, err, sessdb.ErrInvalidUser)
	sessCreate(t, s, strings.Repeat("u", sessdb.MaxUserLen), sessdb.CreateOptions{})
	big := map[string]string{}
	for i := 0; i <= sessdb.MaxSessionFields; i++ {
		big[fmt.Sprint("f", i)] = "v"
	}
	_, err = s.Create(context.Background(), "bob", sessdb.CreateOptions{Meta: big})
	require.ErrorIs(t, err, sessdb.ErrTooManyFields)
	_, err = s.Create(context.Background(), "bob", sessdb.CreateOptions{Meta: map[string]string{"ua": strings.Repeat("x", sessdb.MaxFieldValueLen+1)}})
	require.ErrorIs(t, err, sessdb.ErrFieldTooLong)
	_, err = s.Create(context.Background(), "bob", sessdb.CreateOptions{Meta: map[string]string{strings.Repeat("x", sessdb.MaxFieldNameLen+1): "v"}})
	require.ErrorIs(t, err, sessdb.ErrFieldTooLong)
	_, err = s.Create(context.Background(), "bob", sessdb.CreateOptions{Idle: sessdb.MaxSessionDuration + time.Second})
	require.ErrorIs(t, err, sessdb.ErrInvalidDuration)
	n, err := s.Count("bob")
	require.NoError(t, err)
	require.Zero(t, n, "a refused create leaves nothing behind")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Create(ctx, "bob", sessdb.CreateOptions{})
	require.ErrorIs(t, err, context.Canceled)
}

// Ensure that the idle deadline slides on use (GET, TOUCH) but not with
// NOTOUCH, and that the absolute deadline never slides.
func TestSessions_IdleSlidesAbsoluteDoesNot(t *testing.T) {
	db, s, clock, _ := newSessFixture(t)
	tok := sessCreate(t, s, "alice", sessdb.CreateOptions{Idle: 10 * time.Minute, Absolute: 25 * time.Minute})
	clock.Add(9 * time.Minute)
	require.NotNil(t, sessGet(t, s, tok))
	clock.Add(2 * time.Minute) // 11 minutes without a touch
	require.Nil(t, sessGet(t, s, tok), "NOTOUCH does not slide")

	tok = sessCreate(t, s, "alice", sessdb.CreateOptions{Idle: 10 * time.Minute, Absolute: 25 * time.Minute})
	start := clock.Ms()
	for i := 0; i < 2; i++ {
		clock.Add(9 * time.Minute)
		ok, err := s.Touch(tok)
		require.NoError(t, err)
		require.True(t, ok)
	}
	clock.Add(6 * time.Minute) // 24 minutes in, 6 since the last touch
	got, err := s.Get(tok, true)
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Equal(t, clock.Ms(), got.LastSeen.UnixMilli())
	require.Equal(t, clock.Ms()+10*60_000, got.IdleDeadline.UnixMilli())
	require.Equal(t, start+25*60_000, got.AbsoluteDeadline.UnixMilli(), "the absolute deadline never slides")

	clock.Add(time.Minute - time.Millisecond)
	require.NotNil(t, sessGet(t, s, tok))
	clock.Add(time.Millisecond) // exactly at the absolute deadline
	ok, err := s.Touch(tok)
	require.NoError(t, err)
	require.False(t, ok, "a session is dead from its absolute deadline on, however used")
	require.Equal(t, 1, db.Reap(0), "the first session, dead but not yet reclaimed")
	require.Empty(t, sessIndex(t, db, "alice"))
}

// Ensure that REAUTH resets auth_time and restarts the absolute lifetime.
func TestSessions_Reauth(t *testing.T) {
	_, s, clock, _ := newSessFixture(t)
	tok := sessCreate(t, s, "alice", sessdb.CreateOptions{Idle: time.Hour, Absolute: 2 * time.Hour})
	clock.Add(50 * time.Minute)
	_, err := s.Touch(tok)
	require.NoError(t, err)
	clock.Add(40 * time.Minute)
	require.NoError(t, s.Reauth(tok))
	got := sessGet(t, s, tok)
	require.Equal(t, clock.Ms(), got.AuthTime.UnixMilli())
	require.Equal(t, clock.Ms()+2*3600_000, got.AbsoluteDeadline.UnixMilli())
	clock.Add(59 * time.Minute)
	ok, err := s.Touch(tok)
	require.NoError(t, err)
	require.True(t, ok)
	clock.Add(59 * time.Minute) // 3h28m after creation, well past the first absolute deadline
	require.NotNil(t, sessGet(t, s, tok))
	require.ErrorIs(t, s.Reauth("bogus"), sessdb.ErrNoSession)
	clock.Add(2 * time.Hour)
	require.ErrorIs(t, s.Reauth(tok), sessdb.ErrNoSession)
}

// Ensure that the data bag is HSET-like, limited, and reachable only with a
// live token.
func TestSessions_DataBag(t *testing.T) {
	_, s, _, _ := newSessFixture(t)
	tok := sessCreate(t, s, "alice", sessdb.CreateOptions{})
	n, err := s.Set(tok, map[string]string{"cart": "3", "theme": "dark"})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = s.Set(tok, map[string]string{"cart": "4", "lang": "en"})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, map[string]string{"cart": "4", "theme": "dark", "lang": "en"}, sessGet(t, s, tok).Data)
	n, err = s.Del(tok, "cart", "missing")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, map[string]string{"theme": "dark", "lang": "en"}, sessGet(t, s, tok).Data)

	_, err = s.Set(tok, map[string]string{"big": strings.Repeat("x", sessdb.MaxFieldValueLen+1)})
	require.ErrorIs(t, err, sessdb.ErrFieldTooLong)
	many := map[string]string{}
	for i := 0; i < sessdb.MaxSessionFields-1; i++ {
		many[fmt.Sprint("k", i)] = "v"
	}
	_, err = s.Set(tok, many)
	require.ErrorIs(t, err, sessdb.ErrTooManyFields, "2 existing + 63 new > 64")
	require.Len(t, sessGet(t, s, tok).Data, 2, "a refused SET changes nothing")
	delete(many, "k0")
	n, err = s.Set(tok, many)
	require.NoError(t, err)
	require.Equal(t, 62, n)

	_, err = s.Set("bogus", map[string]string{"a": "b"})
	require.ErrorIs(t, err, sessdb.ErrNoSession)
	_, err = s.Del("bogus", "a")
	require.ErrorIs(t, err, sessdb.ErrNoSession)
}

// Ensure that Rotate issues a new token and id, keeps the session's
// contents and deadlines, and kills the old token now or after GRACE,
// keeping the index in step.
func TestSessions_Rotate(t *testing.T) {
	db, s, clock, _ := newSessFixture(t)
	old := sessCreate(t, s, "alice", sessdb.CreateOptions{Idle: 10 * time.Minute, Meta: map[string]string{"ip": "1.2.3.4"}})
	_, err := s.Set(old, map[string]string{"cart": "1"})
	require.NoError(t, err)
	before := sessGet(t, s, old)

	// Without grace the old token dies at once.
	clock.Add(time.Minute)
	nt, err := s.Rotate(old, 0)
	require.NoError(t, err)
	require.Regexp(t, sessTokenShape, nt)
	require.NotEqual(t, sessID(old), sessID(nt))
	require.Nil(t, sessGet(t, s, old))
	after := sessGet(t, s, nt)
	require.Equal(t, sessID(nt), after.ID)
	require.Equal(t, before.Created, after.Created)
	require.Equal(t, before.AuthTime, after.AuthTime)
	require.Equal(t, before.LastSeen, after.LastSeen, "rotation is not a use")
	require.Equal(t, before.IdleDeadline, after.IdleDeadline)
	require.Equal(t, before.AbsoluteDeadline, after.AbsoluteDeadline)
	require.Equal(t, before.Meta, after.Meta)
	require.Equal(t, before.Data, after.Data)
	require.Equal(t, []string{sessID(nt)}, sessListIDs(t, s, "alice"))
	require.Equal(t, []string{sessID(nt)}, sessIndex(t, db, "alice"))
	_, err = s.Rotate(old, 0)
	require.ErrorIs(t, err, sessdb.ErrNoSession)

	// With grace the old token reaches the new session until the grace ends.
	n2, err := s.Rotate(nt, 30*time.Second)
	require.NoError(t, err)
	viaOld := sessGet(t, s, nt)
	require.NotNil(t, viaOld)
	require.Equal(t, sessID(n2), viaOld.ID, "the old token reaches the new session")
	require.Equal(t, []string{sessID(n2)}, sessListIDs(t, s, "alice"), "a grace alias is not a session")
	c, err := s.Count("alice")
	require.NoError(t, err)
	require.Equal(t, 1, c)
	_, err = s.Rotate(nt, 0)
	require.ErrorIs(t, err, sessdb.ErrNoSession, "a token in its grace cannot rotate again")
	_, err = s.Set(nt, map[string]string{"cart": "2"})
	require.NoError(t, err)
	require.Equal(t, "2", sessGet(t, s, n2).Data["cart"], "writes through the old token land in the new session")

	// A second rotation within the grace keeps the first alias pointing at
	// the current session.
	n3, err := s.Rotate(n2, 30*time.Second)
	require.NoError(t, err)
	require.Equal(t, sessID(n3), sessGet(t, s, nt).ID)
	require.Equal(t, sessID(n3), sessGet(t, s, n2).ID)

	clock.Add(30 * time.Second)
	require.Nil(t, sessGet(t, s, nt))
	require.Nil(t, sessGet(t, s, n2))
	require.NotNil(t, sessGet(t, s, n3))
	require.Equal(t, 2, db.Reap(0), "both aliases are reclaimed")
	require.Equal(t, []string{sessID(n3)}, sessIndex(t, db, "alice"))

	// Revoking through an old token in its grace ends the session and the alias.
	n4, err := s.Rotate(n3, time.Minute)
	require.NoError(t, err)
	ok, err := s.Revoke(n3)
	require.NoError(t, err)
	require.True(t, ok)
	require.Nil(t, sessGet(t, s, n4))
	require.Nil(t, sessGet(t, s, n3))
	require.Empty(t, sessIndex(t, db, "alice"))
	require.Zero(t, db.Reap(0), "nothing is left to expire")
	require.Equal(t, int64(0), s.Stats().Live)

	// The grace never outlives the session.
	short := sessCreate(t, s, "bob", sessdb.CreateOptions{Idle: 10 * time.Second})
	rot, err := s.Rotate(short, time.Hour)
	require.NoError(t, err)
	clock.Add(10 * time.Second)
	require.Nil(t, sessGet(t, s, short))
	require.Nil(t, sessGet(t, s, rot))
	db.Reap(0)
	require.Empty(t, sessIndex(t, db, "bob"))
	require.NoError(t, db.View(func(tx *sessdb.Tx) error {
		keys, _ := tx.Size(storage.InternalDB(0))
		require.Zero(t, keys, "session, alias and index are all gone")
		return nil
	}))
}

// Ensure that Revoke, RevokeID and RevokeUser (with and without EXCEPT) end
// exactly the sessions they name, and the index with them.
func TestSessions_Revoke(t *testing.T) {
	db, s, _, _ := newSessFixture(t)
	a1 := sessCreate(t, s, "alice", sessdb.CreateOptions{})
	a2 := sessCreate(t, s, "alice", sessdb.CreateOptions{})
	a3 := sessCreate(t, s, "alice", sessdb.CreateOptions{})
	a4 := sessCreate(t, s, "alice", sessdb.CreateOptions{})
	b1 := sessCreate(t, s, "bob", sessdb.CreateOptions{})

	ok, err := s.Revoke(a1)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.Revoke(a1)
	require.NoError(t, err)
	require.False(t, ok)
	require.Nil(t, sessGet(t, s, a1))

	ok, err = s.RevokeID("bob", sessID(a2))
	require.NoError(t, err)
	require.False(t, ok, "an id of another user")
	ok, err = s.RevokeID("alice", "not-an-id")
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = s.RevokeID("alice", sessID(a2))
	require.NoError(t, err)
	require.True(t, ok)
	require.Nil(t, sessGet(t, s, a2))

	n, err := s.RevokeUser("alice", a3)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NotNil(t, sessGet(t, s, a3))
	require.Nil(t, sessGet(t, s, a4))
	require.Equal(t, []string{sessID(a3)}, sessIndex(t, db, "alice"))

	n, err = s.RevokeUser("alice", b1)
	require.NoError(t, err)
	require.Equal(t, 1, n, "EXCEPT with another user's token keeps nothing")
	require.Empty(t, sessIndex(t, db, "alice"))
	require.NotNil(t, sessGet(t, s, b1))
	n, err = s.RevokeUser("alice", "")
	require.NoError(t, err)
	require.Zero(t, n)
	st := s.Stats()
	require.Equal(t, int64(1), st.Live)
	require.Equal(t, int64(1), st.Users)
	require.Equal(t, int64(4), st.Revoked)
	require.Equal(t, int64(5), st.Created)
}

// Ensure that the per-user cap evicts the oldest sessions or refuses, as
// configured, and that the index follows.
func TestSessions_Limit(t *testing.T) {
	db, s, clock, _ := newSessFixture(t)
	var toks []string
	for i := 0; i < 3; i++ {
		toks = append(toks, sessCreate(t, s, "alice", sessdb.CreateOptions{Limit: 3}))
		clock.Add(time.Second)
	}
	t4 := sessCreate(t, s, "alice", sessdb.CreateOptions{Limit: 3})
	require.Nil(t, sessGet(t, s, toks[0]), "the oldest is evicted")
	want := []string{sessID(toks[1]), sessID(toks[2]), sessID(t4)}
	sort.Strings(want)
	require.Equal(t, want, sessListIDs(t, s, "alice"))
	require.Equal(t, want, sessIndex(t, db, "alice"))

	t5 := sessCreate(t, s, "alice", sessdb.CreateOptions{Limit: 1})
	require.Equal(t, []string{sessID(t5)}, sessListIDs(t, s, "alice"), "a lower cap evicts down to it")

	_, err := s.Create(context.Background(), "alice", sessdb.CreateOptions{Limit: 1, Policy: sessdb.LimitRefuse})
	require.ErrorIs(t, err, sessdb.ErrSessionLimit)
	require.Equal(t, []string{sessID(t5)}, sessListIDs(t, s, "alice"))
	sessCreate(t, s, "alice", sessdb.CreateOptions{Limit: -1, Policy: sessdb.LimitRefuse})

	// Expired sessions do not count against the cap.
	short := sessCreate(t, s, "carol", sessdb.CreateOptions{Idle: time.Second, Limit: 1, Policy: sessdb.LimitRefuse})
	clock.Add(time.Second)
	long := sessCreate(t, s, "carol", sessdb.CreateOptions{Limit: 1, Policy: sessdb.LimitRefuse})
	require.Nil(t, sessGet(t, s, short))
	require.Equal(t, []string{sessID(long)}, sessIndex(t, db, "carol"))

	// The DB-wide default applies when the create does not say.
	path := filepath.Join(t.TempDir(), "limit.db")
	db2 := openSessDB(t, path, clock, sessdb.SessionOptions{MaxPerUser: 1, Policy: sessdb.LimitRefuse})
	defer db2.Close()
	sessCreate(t, db2.Sessions(), "dave", sessdb.CreateOptions{})
	_, err = db2.Sessions().Create(context.Background(), "dave", sessdb.CreateOptions{})
	require.ErrorIs(t, err, sessdb.ErrSessionLimit)
}

// Ensure that expiry by the reaper and by lookup removes the session from
// its user's index in the same transaction, and is counted.
func TestSessions_ExpiryKeepsIndex(t *testing.T) {
	db, s, clock, _ := newSessFixture(t)
	a := sessCreate(t, s, "alice", sessdb.CreateOptions{Idle: time.Minute})
	b := sessCreate(t, s, "alice", sessdb.CreateOptions{Idle: 2 * time.Minute})
	sessCreate(t, s, "bob", sessdb.CreateOptions{Idle: time.Minute, Absolute: -1})
	clock.Add(time.Minute)
	require.Equal(t, []string{sessID(b)}, sessListIDs(t, s, "alice"), "LIST never shows a dead session, reaped or not")
	n, _ := s.Count("alice")
	require.Equal(t, 1, n)
	require.Len(t, sessIndex(t, db, "alice"), 2, "not reaped yet")
	ok, _ := s.Touch(a) // a writable lookup deletes it
	require.False(t, ok)
	require.Equal(t, []string{sessID(b)}, sessIndex(t, db, "alice"))
	require.Equal(t, 1, db.Reap(0)) // bob's
	require.Empty(t, sessIndex(t, db, "bob"))
	clock.Add(time.Minute)
	require.Equal(t, 1, db.Reap(0))
	require.Empty(t, sessIndex(t, db, "alice"))
	st := s.Stats()
	require.Equal(t, int64(0), st.Live)
	require.Equal(t, int64(0), st.Users)
	require.Equal(t, int64(3), st.Expired)

	// No idle and no absolute timeout: the session never expires.
	forever := sessCreate(t, s, "eve", sessdb.CreateOptions{Idle: -1, Absolute: -1})
	clock.Add(100 * 365 * 24 * time.Hour)
	got := sessGet(t, s, forever)
	require.NotNil(t, got)
	require.True(t, got.IdleDeadline.IsZero())
	require.True(t, got.AbsoluteDeadline.IsZero())
}

// Ensure that audit events are delivered in order, once committed, as the
// documented JSON object, and never contain a secret.
func TestSessions_Events(t *testing.T) {
	db, s, clock, _ := newSessFixture(t)
	var mu sync.Mutex
	var got []sessdb.Event
	seen := make(chan struct{}, 100)
	cancel := s.Subscribe(func(e sessdb.Event) {
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
		seen <- struct{}{}
	})
	waitN := func(n int) {
		for i := 0; i < n; i++ {
			select {
			case <-seen:
			case <-time.After(10 * time.Second):
				t.Fatalf("event %d of %d not delivered", i+1, n)
			}
		}
	}
	tok := sessCreate(t, s, "alice", sessdb.CreateOptions{Idle: time.Minute})
	wrong := tok[:30] + map[bool]string{true: "B", false: "A"}[tok[30] == 'A'] + tok[31:]
	_, _ = s.Touch(wrong)
	nt, err := s.Rotate(tok, 0)
	require.NoError(t, err)
	_, _ = s.Revoke(nt)
	ex := sessCreate(t, s, "bob", sessdb.CreateOptions{Idle: time.Minute, Absolute: 30 * time.Second})
	clock.Add(30 * time.Second)
	require.Equal(t, 1, db.Reap(0))
	waitN(6)
	mu.Lock()
	evs := append([]sessdb.Event(nil), got...)
	mu.Unlock()
	at := clock.Ms() - 30_000
	require.Equal(t, []sessdb.Event{
		{Event: "create", User: "alice", ID: sessID(tok), At: at},
		{Event: "touch-refused", User: "alice", ID: sessID(tok), At: at, Reason: "secret-mismatch"},
		{Event: "rotate", User: "alice", ID: sessID(tok), At: at, Reason: "to:" + sessID(nt)},
		{Event: "revoke", User: "alice", ID: sessID(nt), At: at, Reason: "revoke"},
		{Event: "create", User: "bob", ID: sessID(ex), At: at},
		{Event: "expire", User: "bob", ID: sessID(ex), At: at + 30_000, Reason: "absolute"},
	}, evs)
	for _, e := range evs {
		var m map[string]any
		require.NoError(t, json.Unmarshal(e.JSON(), &m))
		require.Len(t, m, 5)
		for _, k := range []string{"event", "user", "id", "at", "reason"} {
			require.Contains(t, m, k)
		}
		for _, tk := range []string{tok, nt, ex} {
			require.NotContains(t, string(e.JSON()), tk[23:])
		}
	}
	cancel()
	sessCreate(t, s, "carol", sessdb.CreateOptions{})
	require.NoError(t, db.Sync())

	// The Events option subscribes at Open, and an idle expiry says so.
	ch := make(chan sessdb.Event, 10)
	db2 := openSessDB(t, filepath.Join(t.TempDir(), "ev.db"), clock, sessdb.SessionOptions{Events: func(e sessdb.Event) { ch <- e }})
	defer db2.Close()
	sessCreate(t, db2.Sessions(), "dan", sessdb.CreateOptions{Idle: time.Second})
	clock.Add(time.Second)
	require.Equal(t, 1, db2.Reap(0))
	require.Equal(t, "create", (<-ch).Event)
	e := <-ch
	require.Equal(t, "expire", e.Event)
	require.Equal(t, "idle", e.Reason)
}

// Ensure that sessions live in an internal database that SELECT-visible
// commands (keys, FLUSHALL) never reach.
func TestSessions_InternalDatabase(t *testing.T) {
	db, s, _, _ := newSessFixture(t)
	tok := sessCreate(t, s, "alice", sessdb.CreateOptions{})
	require.NoError(t, db.Update(func(tx *sessdb.Tx) error {
		for i := 0; i < tx.Databases(); i++ {
			require.Zero(t, tx.Count(i))
		}
		tx.FlushAll()
		return nil
	}))
	require.NotNil(t, sessGet(t, s, tok))
	require.Equal(t, []string{sessID(tok)}, sessIndex(t, db, "alice"))
}

// Ensure that touches within the coalescing window change memory only, that
// the disk catches up once last_seen moved by the window, and that a crash
// (the file as last committed) can only make a session expire early by that
// window, never late.
func TestSessions_CoalescedTouch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessdb.db")
	clock := newSessClock()
	// No background fold: the file must not change while it is copied.
	db, err := sessdb.Open(path, &sessdb.Options{Now: clock.Now, ReapInterval: -1, Storage: storage.Options{IdleFold: time.Hour}})
	require.NoError(t, err)
	defer db.Close()
	s := db.Sessions()
	tok := sessCreate(t, s, "alice", sessdb.CreateOptions{Idle: 10 * time.Minute, Absolute: -1})
	require.NoError(t, db.Sync())
	records := func() uint64 { require.NoError(t, db.Sync()); return db.Store().Stats().Records }
	base := records()

	// 10 minutes idle: the window is max(1 s, 1% of 600 s) = 6 s.
	for i := 0; i < 5; i++ {
		clock.Add(time.Second)
		ok, err := s.Touch(tok)
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.Equal(t, base, records(), "five touches within the window write nothing")
	got := sessGet(t, s, tok)
	require.Equal(t, clock.Ms(), got.LastSeen.UnixMilli(), "memory is exact")
	memDeadline := got.IdleDeadline

	crashed := sessSnapshot(t, db, path)
	clock.Add(time.Second)
	ok, err := s.Touch(tok)
	require.NoError(t, err)
	require.True(t, ok)
	require.Greater(t, records(), base, "6 s after the last record the touch is written")

	// The snapshot taken before that: the session ends early, within the window.
	cdb := openSessDB(t, crashed, clock, sessdb.SessionOptions{})
	cs := sessGet(t, cdb.Sessions(), tok)
	require.NotNil(t, cs)
	require.False(t, cs.IdleDeadline.After(memDeadline), "never late")
	require.LessOrEqual(t, memDeadline.Sub(cs.IdleDeadline), 6*time.Second, "early by at most the window")
	require.NoError(t, cdb.Close())

	// A short idle timeout: the window is 1 s.
	short := sessCreate(t, s, "bob", sessdb.CreateOptions{Idle: 10 * time.Second})
	base = records()
	clock.Add(999 * time.Millisecond)
	_, _ = s.Touch(short)
	require.Equal(t, base, records())
	clock.Add(time.Millisecond)
	_, _ = s.Touch(short)
	require.Greater(t, records(), base)

	// A clean Close records what memory holds: nothing is lost.
	clock.Add(500 * time.Millisecond)
	_, _ = s.Touch(short)
	want := sessGet(t, s, short)
	require.NoError(t, db.Close())
	db2 := openSessDB(t, path, clock, sessdb.SessionOptions{})
	defer db2.Close()
	require.Equal(t, want, sessGet(t, db2.Sessions(), short))
}

// sessSnapshot copies the database file as committed so far: what a crash
// right now would leave on disk.
func sessSnapshot(t *testing.T, db *sessdb.DB, path string) string {
	t.Helper()
	require.NoError(t, db.Sync())
	dst := filepath.Join(t.TempDir(), "crash.db")
	in, err := os.Open(path)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.Create(dst)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
	return dst
}

// Ensure that a reopened database has the same sessions, index, deadlines
// and data, that revoked sessions stay revoked, and that sessions which
// expired while it was closed leave the index.
func TestSessions_Restart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessdb.db")
	clock := newSessClock()
	db := openSessDB(t, path, clock, sessdb.SessionOptions{})
	s := db.Sessions()
	keep := sessCreate(t, s, "alice", sessdb.CreateOptions{Idle: time.Hour, Meta: map[string]string{"ua": "firefox"}})
	_, err := s.Set(keep, map[string]string{"cart": "7"})
	require.NoError(t, err)
	gone := sessCreate(t, s, "alice", sessdb.CreateOptions{})
	short := sessCreate(t, s, "alice", sessdb.CreateOptions{Idle: 5 * time.Minute})
	rotated := sessCreate(t, s, "bob", sessdb.CreateOptions{})
	rnew, err := s.Rotate(rotated, 10*time.Minute)
	require.NoError(t, err)
	_, err = s.Revoke(gone)
	require.NoError(t, err)
	clock.Add(time.Minute)
	_, err = s.Touch(keep)
	require.NoError(t, err)
	wantKeep := sessGet(t, s, keep)
	wantR := sessGet(t, s, rnew)
	require.NoError(t, db.Close())

	clock.Add(5 * time.Minute) // short expires while the database is closed
	db = openSessDB(t, path, clock, sessdb.SessionOptions{})
	defer db.Close()
	s = db.Sessions()
	require.Equal(t, wantKeep, sessGet(t, s, keep))
	require.Nil(t, sessGet(t, s, gone), "revoked stays revoked")
	require.Nil(t, sessGet(t, s, short))
	require.Equal(t, wantR, sessGet(t, s, rnew))
	require.Equal(t, sessID(rnew), sessGet(t, s, rotated).ID, "a grace alias survives a restart")
	require.Equal(t, []string{sessID(keep)}, sessIndex(t, db, "alice"), "the index lost the session that expired while closed")
	require.Equal(t, []string{sessID(rnew)}, sessIndex(t, db, "bob"))
	st := s.Stats()
	require.Equal(t, int64(2), st.Live)
	require.Equal(t, int64(2), st.Users)
	clock.Add(5 * time.Minute)
	require.Nil(t, sessGet(t, s, rotated), "the grace still ends")
	require.Equal(t, 1, db.Reap(0))
}

// Ensure that the database file never contains a secret: neither the
// token's secret part nor its decoded bytes, neither while open (after a
// sync, log and folded buckets alike) nor after Close.
func TestSessions_NoSecretInFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessdb.db")
	clock := newSessClock()
	db, err := sessdb.Open(path, &sessdb.Options{Now: clock.Now, ReapInterval: -1,
		Storage: storage.Options{FoldThreshold: 50, FoldChunk: 10}})
	require.NoError(t, err)
	s := db.Sessions()
	var tokens []string
	for i := 0; i < 200; i++ {
		tok := sessCreate(t, s, fmt.Sprint("user", i%7), sessdb.CreateOptions{Meta: map[string]string{"ip": "10.0.0.1"}})
		tokens = append(tokens, tok)
		switch i % 4 {
		case 1:
			nt, err := s.Rotate(tok, time.Minute)
			require.NoError(t, err)
			tokens = append(tokens, nt)
		case 2:
			_, err := s.Set(tok, map[string]string{"k": "v"})
			require.NoError(t, err)
		case 3:
			_, err := s.Revoke(tok)
			require.NoError(t, err)
		}
		clock.Add(2 * time.Second)
		_, _ = s.Touch(tok)
	}
	check := func(when string) {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, tok := range tokens {
			secret := tok[23:]
			require.False(t, bytes.Contains(raw, []byte(secret)), "%s: secret of %s found", when, sessID(tok))
			dec, err := sessB64(secret)
			require.NoError(t, err)
			require.False(t, bytes.Contains(raw, dec), "%s: decoded secret found", when)
			require.False(t, bytes.Contains(raw, []byte(tok)), "%s: token found", when)
		}
		require.True(t, bytes.Contains(raw, []byte(sessID(tokens[0]))), "the ids are stored (sanity check of the grep)")
	}
	require.NoError(t, db.Sync())
	check("after sync")
	require.NoError(t, db.Close())
	check("after close")
}

// ---- the property test ----

type sessModelSession struct {
	id, user, token string
	created, seen   int64
	idle, abs       int64 // ms, unix ms; 0: none
}

func (m *sessModelSession) deadline() int64 {
	var d int64
	if m.idle > 0 {
		d = m.seen + m.idle
	}
	if m.abs > 0 && (d == 0 || m.abs < d) {
		d = m.abs
	}
	return d
}

type sessModelAlias struct {
	target string
	until  int64
}

type sessModel struct {
	sessions map[string]*sessModelSession // by id
	aliases  map[string]*sessModelAlias   // by old token
}

func (m *sessModel) live(id string, now int64) *sessModelSession {
	s := m.sessions[id]
	if s == nil {
		return nil
	}
	if d := s.deadline(); d != 0 && d <= now {
		return nil
	}
	return s
}

// resolve returns the live session token reaches and whether through an alias.
func (m *sessModel) resolve(token string, now int64) (*sessModelSession, bool) {
	if a := m.aliases[token]; a != nil {
		if a.until <= now {
			return nil, false
		}
		return m.live(a.target, now), true
	}
	if len(token) < 22 {
		return nil, false
	}
	s := m.live(token[:22], now)
	if s == nil || s.token != token {
		return nil, false
	}
	return s, false
}

func (m *sessModel) end(id string) {
	delete(m.sessions, id)
	for tok, a := range m.aliases {
		if a.target == id {
			delete(m.aliases, tok)
		}
	}
}

func (m *sessModel) liveIDs(user string, now int64) []string {
	out := []string{}
	for id, s := range m.sessions {
		if s.user == user && m.live(id, now) != nil {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// Ensure that under random interleavings of create, rotate, revoke,
// revokeuser, revokeid, touch and time passing (with and without reaping),
// every session validates exactly when a simple model says so, and the user
// index always equals the set of live sessions, as LIST and COUNT (embedded
// and over RESP) show it; and that all of it survives a restart.
func TestSessions_PropertyIndexEqualsLiveSessions(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runSessionProperty(t, seed, 400) })
	}
}

func runSessionProperty(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 42))
	path := filepath.Join(t.TempDir(), "sessdb.db")
	clock := newSessClock()
	db := openSessDB(t, path, clock, sessdb.SessionOptions{})
	s := db.Sessions()
	rc := newSessRESP(t, db)
	users := []string{"ann", "ben", "cat", "dov"}
	m := &sessModel{sessions: map[string]*sessModelSession{}, aliases: map[string]*sessModelAlias{}}
	var tokens []string // every token ever issued, live or not
	pickToken := func() string {
		if len(tokens) == 0 || rng.IntN(20) == 0 {
			return "garbage." + fmt.Sprint(rng.IntN(100))
		}
		return tokens[rng.IntN(len(tokens))]
	}
	durations := []int64{5_000, 30_000, 120_000}
	check := func(step int, op string, reaped bool) {
		now := clock.Ms()
		for _, u := range users {
			want := m.liveIDs(u, now)
			require.Equal(t, want, sessListIDs(t, s, u), "step %d %s: LIST %s", step, op, u)
			n, err := s.Count(u)
			require.NoError(t, err)
			require.Equal(t, len(want), n, "step %d %s: COUNT %s", step, op, u)
			require.Equal(t, want, rc.sessListIDs(u), "step %d %s: SESS.LIST %s", step, op, u)
			require.Equal(t, int64(len(want)), rc.count(u), "step %d %s: SESS.COUNT %s", step, op, u)
			if reaped {
				require.Equal(t, want, sessOrEmpty(sessIndex(t, db, u)), "step %d %s: index of %s", step, op, u)
			}
		}
		if reaped {
			total := 0
			for _, u := range users {
				total += len(m.liveIDs(u, now))
			}
			require.Equal(t, int64(total), s.Stats().Live, "step %d %s: sessions_live", step, op)
		}
		// A sample of tokens validates exactly when the model says so.
		for i := 0; i < 5 && len(tokens) > 0; i++ {
			tok := tokens[rng.IntN(len(tokens))]
			ms, _ := m.resolve(tok, now)
			got := sessGet(t, s, tok)
			if ms == nil {
				require.Nil(t, got, "step %d %s: token of %s should be dead", step, op, sessID(tok))
				continue
			}
			require.NotNil(t, got, "step %d %s: token of %s should be live", step, op, sessID(tok))
			require.Equal(t, ms.id, got.ID)
			require.Equal(t, ms.seen, got.LastSeen.UnixMilli())
		}
	}
	for step := 0; step < steps; step++ {
		now := clock.Ms()
		op := ""
		reaped := false
		switch r := rng.IntN(100); {
		case r < 25:
			op = "create"
			u := users[rng.IntN(len(users))]
			o := sessdb.CreateOptions{Idle: time.Duration(durations[rng.IntN(3)]) * time.Millisecond}
			if rng.IntN(2) == 0 {
				o.Absolute = time.Duration(durations[rng.IntN(3)]*2) * time.Millisecond
			} else {
				o.Absolute = -1
			}
			if rng.IntN(3) == 0 {
				o.Limit = 2
			}
			tok, err := s.Create(context.Background(), u, o)
			require.NoError(t, err)
			if o.Limit > 0 {
				var live []*sessModelSession
				for _, id := range m.liveIDs(u, now) {
					live = append(live, m.sessions[id])
				}
				sort.Slice(live, func(i, j int) bool {
					if live[i].created != live[j].created {
						return live[i].created < live[j].created
					}
					return live[i].id < live[j].id
				})
				for len(live) >= o.Limit {
					m.end(live[0].id)
					live = live[1:]
				}
			}
			ms := &sessModelSession{id: sessID(tok), user: u, token: tok, created: now, seen: now, idle: o.Idle.Milliseconds()}
			if o.Absolute > 0 {
				ms.abs = now + o.Absolute.Milliseconds()
			}
			m.sessions[ms.id] = ms
			tokens = append(tokens, tok)
		case r < 40:
			op = "touch"
			tok := pickToken()
			ms, _ := m.resolve(tok, now)
			ok, err := s.Touch(tok)
			require.NoError(t, err)
			require.Equal(t, ms != nil, ok, "step %d touch", step)
			if ms != nil {
				ms.seen = now
			}
		case r < 52:
			op = "rotate"
			tok := pickToken()
			ms, alias := m.resolve(tok, now)
			grace := time.Duration(rng.IntN(2)) * 10 * time.Second
			nt, err := s.Rotate(tok, grace)
			if ms == nil || alias {
				require.ErrorIs(t, err, sessdb.ErrNoSession, "step %d rotate", step)
				break
			}
			require.NoError(t, err)
			ns := *ms
			ns.id, ns.token = sessID(nt), nt
			delete(m.sessions, ms.id)
			m.sessions[ns.id] = &ns
			for _, a := range m.aliases {
				if a.target == ms.id {
					a.target = ns.id
				}
			}
			if grace > 0 {
				until := now + grace.Milliseconds()
				if d := ms.deadline(); d != 0 && d < until {
					until = d
				}
				m.aliases[tok] = &sessModelAlias{target: ns.id, until: until}
			}
			tokens = append(tokens, nt)
		case r < 62:
			op = "revoke"
			tok := pickToken()
			ms, _ := m.resolve(tok, now)
			ok, err := s.Revoke(tok)
			require.NoError(t, err)
			require.Equal(t, ms != nil, ok, "step %d revoke", step)
			if ms != nil {
				m.end(ms.id)
			}
		case r < 67:
			op = "revokeid"
			tok := pickToken()
			u := users[rng.IntN(len(users))]
			id := tok
			if len(tok) >= 22 {
				id = tok[:22]
			}
			ms := m.live(id, now)
			ok, err := s.RevokeID(u, id)
			require.NoError(t, err)
			want := ms != nil && ms.user == u
			require.Equal(t, want, ok, "step %d revokeid", step)
			if want {
				m.end(id)
			}
		case r < 72:
			op = "revokeuser"
			u := users[rng.IntN(len(users))]
			except := ""
			if rng.IntN(2) == 0 {
				except = pickToken()
			}
			keep := ""
			if ms, _ := m.resolve(except, now); ms != nil && ms.user == u {
				keep = ms.id
			}
			want := 0
			for _, id := range m.liveIDs(u, now) {
				if id != keep {
					m.end(id)
					want++
				}
			}
			n, err := s.RevokeUser(u, except)
			require.NoError(t, err)
			require.Equal(t, want, n, "step %d revokeuser", step)
		case r < 90:
			op = "advance"
			clock.Add(time.Duration(rng.IntN(40_000)) * time.Millisecond)
		default:
			op = "reap"
			db.Reap(0)
			reaped = true
		}
		// Forget what the model knows to be dead for good.
		now = clock.Ms()
		for id := range m.sessions {
			if m.live(id, now) == nil {
				m.end(id)
			}
		}
		for tok, a := range m.aliases {
			if a.until <= now || m.sessions[a.target] == nil {
				delete(m.aliases, tok)
			}
		}
		check(step, op, reaped)
	}
	require.NoError(t, db.Close())
	db = openSessDB(t, path, clock, sessdb.SessionOptions{})
	defer db.Close()
	s = db.Sessions()
	now := clock.Ms()
	for _, u := range users {
		require.Equal(t, m.liveIDs(u, now), sessListIDs(t, s, u), "after restart: LIST %s", u)
		require.Equal(t, m.liveIDs(u, now), sessOrEmpty(sessIndex(t, db, u)), "after restart: index of %s", u)
	}
	for _, tok := range tokens {
		ms, _ := m.resolve(tok, now)
		got := sessGet(t, s, tok)
		require.Equal(t, ms != nil, got != nil, "after restart: token of %s", sessID(tok))
	}
}

func sessOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Ensure that Open repairs an index that disagrees with the sessions (a
// live session missing from its user's set, entries for a revoked id and for
// another user's session, an alias whose session is gone, a g: field no
// alias answers) and recounts live sessions and users.
func TestSessions_RepairFixesIndexOnOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessdb.db")
	clock := newSessClock()
	db := openSessDB(t, path, clock, sessdb.SessionOptions{})
	s := db.Sessions()
	a1 := sessCreate(t, s, "alice", sessdb.CreateOptions{})
	a2 := sessCreate(t, s, "alice", sessdb.CreateOptions{})
	b1 := sessCreate(t, s, "bob", sessdb.CreateOptions{})
	b2 := sessCreate(t, s, "bob", sessdb.CreateOptions{})
	b3, err := s.Rotate(b2, time.Hour) // b2 is now an alias of b3
	require.NoError(t, err)
	sdb := storage.InternalDB(0)
	require.NoError(t, db.Update(func(tx *sessdb.Tx) error {
		_, _ = tx.SRem(sdb, "u:alice", sessID(a2))               // missing from the index
		_, _ = tx.SAdd(sdb, "u:alice", "AAAAAAAAAAAAAAAAAAAAAA") // a revoked id
		_, _ = tx.SAdd(sdb, "u:carol", sessID(b1))               // another user's session
		_, _ = tx.HSet(sdb, "s:"+sessID(b3), "g:BBBBBBBBBBBBBBBBBBBBBB", []byte{})
		tx.Delete(sdb, "s:"+sessID(a1)) // ends a1 behind the index's back
		_, _ = tx.HSet(sdb, "s:CCCCCCCCCCCCCCCCCCCCCC", "r", []byte(sessID(a1)))
		_, _ = tx.HSet(sdb, "s:CCCCCCCCCCCCCCCCCCCCCC", "u", []byte("alice"))
		return nil
	}))
	require.NoError(t, db.Close())

	db = openSessDB(t, path, clock, sessdb.SessionOptions{})
	defer db.Close()
	s = db.Sessions()
	require.Equal(t, []string{sessID(a2)}, sessIndex(t, db, "alice"))
	require.ElementsMatch(t, []string{sessID(b1), sessID(b3)}, sessIndex(t, db, "bob"))
	require.Empty(t, sessIndex(t, db, "carol"))
	require.NoError(t, db.View(func(tx *sessdb.Tx) error {
		require.Nil(t, tx.Lookup(sdb, "s:CCCCCCCCCCCCCCCCCCCCCC"), "an alias of a gone session is deleted")
		v := tx.Lookup(sdb, "s:"+sessID(b3))
		_, dangling := v.HGet("g:BBBBBBBBBBBBBBBBBBBBBB")
		require.False(t, dangling)
		_, alias := v.HGet("g:" + sessID(b2))
		require.True(t, alias, "a real alias stays listed")
		return nil
	}))
	require.Equal(t, sessID(b3), sessGet(t, s, b2).ID)
	st := s.Stats()
	require.Equal(t, int64(3), st.Live)
	require.Equal(t, int64(2), st.Users)
}

// Ensure that SessionsTx.View reads what Get returns (fields in name order,
// times in unix ms), slides only with touch, reuses its slices, and reports
// an unknown token as false.
func TestSessions_ViewMatchesGet(t *testing.T) {
	db, s, clock, _ := newSessFixture(t)
	tok := sessCreate(t, s, "alice", sessdb.CreateOptions{
		Idle: 10 * time.Minute, Absolute: time.Hour,
		Meta: map[string]string{"ua": "curl", "ip": "10.0.0.1"},
	})
	_, err := s.Set(tok, map[string]string{"b": "2", "a": "1"})
	require.NoError(t, err)
	clock.Add(time.Minute)
	want := sessGet(t, s, tok)
	var sv sessdb.SessionView
	require.NoError(t, db.View(func(tx *sessdb.Tx) error {
		require.True(t, s.Tx(tx).View(tok, false, &sv))
		require.Equal(t, want.ID, sv.ID)
		require.Equal(t, want.User, sv.User)
		require.Equal(t, want.Created.UnixMilli(), sv.Created)
		require.Equal(t, want.LastSeen.UnixMilli(), sv.LastSeen)
		require.Equal(t, want.AuthTime.UnixMilli(), sv.AuthTime)
		require.Equal(t, want.IdleDeadline.UnixMilli(), sv.IdleDeadline)
		require.Equal(t, want.AbsoluteDeadline.UnixMilli(), sv.AbsoluteDeadline)
		require.Equal(t, []sessdb.SessionField{{Name: "ip", Value: []byte("10.0.0.1")}, {Name: "ua", Value: []byte("curl")}}, sv.Meta)
		require.Equal(t, []sessdb.SessionField{{Name: "a", Value: []byte("1")}, {Name: "b", Value: []byte("2")}}, sv.Data)
		require.False(t, s.Tx(tx).View("nope", false, &sv))
		return nil
	}))
	meta := &sv.Meta[0]
	require.NoError(t, db.Update(func(tx *sessdb.Tx) error {
		require.True(t, s.Tx(tx).View(tok, true, &sv))
		require.Same(t, meta, &sv.Meta[0], "the slices are reused")
		require.Equal(t, clock.Ms(), sv.LastSeen)
		require.Equal(t, clock.Ms()+10*60_000, sv.IdleDeadline)
		return nil
	}))
	require.Equal(t, clock.Ms(), sessGet(t, s, tok).LastSeen.UnixMilli(), "touch slid the session")
}
