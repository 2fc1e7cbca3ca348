package sessdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/sessdb/sessdb/storage"
)

// Server-side sessions: what sessdb is for.
//
// A token is "<id>.<secret>": 16 and 32 bytes from crypto/rand, base64url
// without padding. The store keeps the id and a SHA-256 of the secret, never
// the secret. Sessions live in the internal database storage.InternalDB(0),
// which SELECT, FLUSHALL and SWAPDB never reach:
//
//	"s:"+id    a hash: the session's fields below, "m:"+name (META),
//	           "d:"+name (the data bag), "g:"+alias (its grace aliases);
//	           its deadline is min(last_seen + idle, absolute deadline)
//	"s:"+id    or, for a token rotated with a grace period, an alias hash
//	           {u, h, r: new id} that lives until the grace ends
//	"u:"+user  a set of the user's live session ids
//
// Every change to a session and to its user's index happens in one
// transaction, hence one commit: on create, rotate, revoke, eviction by the
// per-user limit, and expiry (through the storage Expired hook).

// The limits on what a session may hold.
const (
	// MaxUserLen is the longest user name, in bytes.
	MaxUserLen = 512
	// MaxSessionFields is the most fields META, and separately the data bag, may hold.
	MaxSessionFields = 64
	// MaxFieldNameLen is the longest META or data field name, in bytes.
	MaxFieldNameLen = 256
	// MaxFieldValueLen is the longest META or data value, in bytes.
	MaxFieldValueLen = 4096
	// MaxSessionDuration bounds idle timeouts, absolute lifetimes and grace periods.
	MaxSessionDuration = 10 * 365 * 24 * time.Hour
)

// The errors of the session API. A token that is unknown, malformed, wrong,
// expired or revoked is always ErrNoSession, so that callers cannot tell
// those cases apart either.
var (
	// ErrNoSession is returned when a token does not name a live session.
	ErrNoSession = errors.New("sessdb: no such session")
	// ErrSessionLimit is returned by Create when the user has reached the
	// session limit and the policy is LimitRefuse.
	ErrSessionLimit = errors.New("sessdb: too many sessions for user")
	// ErrInvalidUser is returned for an empty user or one over MaxUserLen bytes.
	ErrInvalidUser = errors.New("sessdb: user must be 1 to 512 bytes")
	// ErrTooManyFields is returned when META or the data bag would exceed MaxSessionFields.
	ErrTooManyFields = errors.New("sessdb: too many session fields (max 64)")
	// ErrFieldTooLong is returned for a field name over MaxFieldNameLen or a
	// value over MaxFieldValueLen bytes.
	ErrFieldTooLong = errors.New("sessdb: session field name or value too long (max 256 and 4096 bytes)")
	// ErrInvalidDuration is returned for a duration over MaxSessionDuration.
	ErrInvalidDuration = errors.New("sessdb: session duration out of range")
)

// LimitPolicy says what Create does when a user already has the maximum
// number of sessions.
type LimitPolicy string

// The limit policies, named as the session-limit-policy directive.
const (
	// LimitEvictOldest revokes the user's oldest sessions (by creation) to make room.
	LimitEvictOldest LimitPolicy = "evict-oldest"
	// LimitRefuse fails Create with ErrSessionLimit.
	LimitRefuse LimitPolicy = "refuse"
)

// SessionOptions are the session defaults of a DB (Options.Sessions).
type SessionOptions struct {
	// Idle is the default idle timeout. Zero means 30 minutes, negative none.
	Idle time.Duration
	// Absolute is the default absolute lifetime. Zero means 12 hours, negative none.
	Absolute time.Duration
	// MaxPerUser is the default cap on a user's live sessions; zero or negative: none.
	MaxPerUser int
	// Policy applies when the cap is reached. Default LimitEvictOldest.
	Policy LimitPolicy
	// Events, if set, is subscribed to the session events at Open.
	Events func(Event)
}

// CreateOptions tune one session. Zero values take the DB's SessionOptions.
type CreateOptions struct {
	// Idle is the idle timeout: the session ends after this long unused.
	// Zero: the default; negative: none.
	Idle time.Duration
	// Absolute is the absolute lifetime, which never slides; only Reauth
	// restarts it. Zero: the default; negative: none.
	Absolute time.Duration
	// Limit caps the user's live sessions. Zero: the default; negative: no cap.
	Limit int
	// Policy applies when the cap is reached. Empty: the default.
	Policy LimitPolicy
	// Meta is device metadata (ip, user agent, …), shown by List.
	Meta map[string]string
}

// Session is a live session as Get and List return it. It never holds the secret.
type Session struct {
	// ID is the token's public part: List shows it and RevokeID takes it.
	ID string
	// User is the user the session belongs to.
	User string
	// Created is when the session was created (rotation keeps it).
	Created time.Time
	// LastSeen is the last use (Get with touch, Touch, Reauth), exact in memory.
	LastSeen time.Time
	// AuthTime is the last (re-)authentication: creation or Reauth.
	AuthTime time.Time
	// IdleDeadline is when the session ends unless used; zero when it has no idle timeout.
	IdleDeadline time.Time
	// AbsoluteDeadline is when the session ends however it is used; zero when none.
	AbsoluteDeadline time.Time
	// Meta is the device metadata given at creation.
	Meta map[string]string
	// Data is the session's data bag (nil in List).
	Data map[string]string
}

// Event is one audit event. It never contains a secret.
type Event struct {
	// Event is create, rotate, touch-refused, revoke or expire.
	Event string `json:"event"`
	// User is the session's user.
	User string `json:"user"`
	// ID is the session's public id (for rotate, the old one).
	ID string `json:"id"`
	// At is the event's time in unix milliseconds.
	At int64 `json:"at"`
	// Reason details the event: for rotate "to:<new id>"; for revoke
	// revoke, revoke-id, revoke-user or limit; for expire idle or absolute;
	// for touch-refused secret-mismatch; empty for create.
	Reason string `json:"reason"`
}

// The event names.
const (
	EventCreate       = "create"
	EventRotate       = "rotate"
	EventTouchRefused = "touch-refused"
	EventRevoke       = "revoke"
	EventExpire       = "expire"
)

// JSON returns the event as one JSON object, as published on __sessions__.
func (e Event) JSON() []byte {
	b, _ := json.Marshal(e)
	return b
}

// SessionStats are the session counters INFO reports. Live and Users are
// current; the others count since Open.
type SessionStats struct {
	Live           int64
	Users          int64
	Created        int64
	Revoked        int64
	Expired        int64
	InvalidLookups int64
}

// Sessions is the session API of a DB; get it with DB.Sessions. Its methods
// are safe for concurrent use, and each runs in its own transaction whose
// changes are durable (per the DB's Fsync policy) when it returns.
type Sessions struct {
	db    *DB
	opts  SessionOptions
	dummy [sha256.Size]byte // compared against when no stored hash exists

	live, users, created, revoked, expired, invalid atomic.Int64

	// Guarded by the store's write lock (they change only in writable
	// transactions and their hooks): api counts the session operations in
	// progress; outside is how many changes to a session or index key were
	// made outside them (raw writes through a Tx) since Open, less the
	// deletions by expiry (lastOutside is the latest such key, cancelled by
	// the Expired hook that follows its deletion). See cleanMark.
	api         int
	outside     int
	lastOutside string
	// fullRepair records whether Open ran the full repair (tests).
	fullRepair bool

	evMu    sync.Mutex
	subs    []subscriber
	nextSub int
	queue   []Event
	hasSubs atomic.Bool
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	closed  sync.Once
}

type subscriber struct {
	id int
	fn func(Event)
}

// sessionsDB is the internal database that holds sessions and their index.
var sessionsDB = storage.InternalDB(0)

// The keys and the compact field names of the stored layout.
const (
	keySession = "s:"
	keyUser    = "u:"

	fUser    = "u" // user
	fHash    = "h" // SHA-256 of the secret, 32 raw bytes
	fCreated = "c" // unix ms
	fSeen    = "l" // last_seen as last recorded, unix ms
	fSeenMem = "t" // last_seen in memory when ahead of fSeen: volatile, never on disk
	fAuth    = "a" // auth_time, unix ms
	fIdle    = "i" // idle timeout, ms; 0: none
	fLife    = "j" // absolute lifetime, ms; 0: none (Reauth restarts it)
	fAbs     = "x" // absolute deadline, unix ms; 0: none
	fTarget  = "r" // alias only: id of the session the rotated token reaches
	pMeta    = "m:"
	pData    = "d:"
	pAlias   = "g:" // + id of a grace alias that points at this session
)

// The token's shape.
const (
	idBytes     = 16
	secretBytes = 32
	idLen       = 22 // base64url of 16 bytes, no padding
	secretLen   = 43 // base64url of 32 bytes, no padding
	tokenLen    = idLen + 1 + secretLen
)

var b64 = base64.RawURLEncoding.Strict()

// seenWindow is how far last_seen may run ahead of the disk: a touch is
// recorded once last_seen moved by at least max(1 s, 1% of the idle timeout)
// since it was last recorded; in between it changes memory only.
func seenWindow(idle int64) int64 {
	if w := idle / 100; w > 1000 {
		return w
	}
	return 1000
}

func newSessions(db *DB, o SessionOptions) *Sessions {
	if o.Idle == 0 {
		o.Idle = 30 * time.Minute
	}
	if o.Absolute == 0 {
		o.Absolute = 12 * time.Hour
	}
	if o.Policy == "" {
		o.Policy = LimitEvictOldest
	}
	s := &Sessions{
		db:   db,
		opts: o,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	if _, err := rand.Read(s.dummy[:]); err != nil {
		panic("sessdb: crypto/rand: " + err.Error())
	}
	if o.Events != nil {
		s.Subscribe(o.Events)
	}
	go s.dispatch()
	return s
}

// Sessions returns the session API.
func (db *DB) Sessions() *Sessions { return db.sessions }

// Stats returns the session counters.
func (s *Sessions) Stats() SessionStats {
	return SessionStats{
		Live:           s.live.Load(),
		Users:          s.users.Load(),
		Created:        s.created.Load(),
		Revoked:        s.revoked.Load(),
		Expired:        s.expired.Load(),
		InvalidLookups: s.invalid.Load(),
	}
}

// Subscribe calls fn for every session event, in order, from one goroutine,
// once the change the event reports is committed. fn must not block for
// long. The returned function cancels the subscription.
func (s *Sessions) Subscribe(fn func(Event)) (cancel func()) {
	s.evMu.Lock()
	s.nextSub++
	id := s.nextSub
	s.subs = append(s.subs, subscriber{id, fn})
	s.hasSubs.Store(true)
	s.evMu.Unlock()
	return func() {
		s.evMu.Lock()
		for i, sub := range s.subs {
			if sub.id == id {
				s.subs = append(s.subs[:i:i], s.subs[i+1:]...)
				break
			}
		}
		s.hasSubs.Store(len(s.subs) > 0)
		s.evMu.Unlock()
	}
}

// emit queues an event; it may run under the store's lock, so it never blocks.
func (s *Sessions) emit(tx *Tx, event, user, id, reason string) {
	if !s.hasSubs.Load() {
		return
	}
	s.evMu.Lock()
	s.queue = append(s.queue, Event{Event: event, User: user, ID: id, At: tx.Now(), Reason: reason})
	s.evMu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Sessions) dispatch() {
	defer close(s.done)
	for {
		select {
		case <-s.wake:
			s.deliver()
		case <-s.stop:
			s.deliver()
			return
		}
	}
}

func (s *Sessions) deliver() {
	s.evMu.Lock()
	q := s.queue
	s.queue = nil
	subs := append([]subscriber(nil), s.subs...)
	s.evMu.Unlock()
	if len(q) == 0 {
		return
	}
	// Report only what the disk holds: wait for the commits queued so far.
	_ = s.db.store.Sync()
	for _, ev := range q {
		for _, sub := range subs {
			sub.fn(ev)
		}
	}
}

// close records the last_seen times still held only in memory, so that a
// clean shutdown loses no sliding, and delivers the pending events. The DB
// calls it before closing the store.
func (s *Sessions) close() error {
	var err error
	s.closed.Do(func() {
		err = s.db.Update(func(tx *Tx) error {
			s.enter()
			defer s.leave()
			var ids []string
			tx.ForEach(sessionsDB, func(k string, v *storage.Value) bool {
				if _, ok := v.HGet(fSeenMem); ok && strings.HasPrefix(k, keySession) {
					ids = append(ids, k[len(keySession):])
				}
				return true
			})
			st := s.Tx(tx)
			for _, id := range ids {
				if v := tx.Lookup(sessionsDB, keySession+id); v != nil {
					st.recordSeen(id, v, seenOf(fieldsOf(v)))
				}
			}
			return nil
		})
		close(s.stop)
		<-s.done
	})
	return err
}

// The clean-shutdown path. A full repair (below) at every Open took most of
// a restart. Every session operation keeps the index and the sessions in
// step in one transaction, so after a clean shutdown only two things need
// the repair: the sessions and aliases that expired while the server was
// down, which the storage load dropped without the Expired hook, and the
// Live and Users counts. So Close leaves, through the storage's
// clean-shutdown mark (storage/clean.go), the counts, and only when no
// session or index key was changed outside the session operations since
// Open (a raw write through a Tx, as TestSessions_RepairFixesIndexOnOpen
// makes, may break the index). The mark is void once anything is committed
// after it, so a crash after Open has written anything always finds no
// mark, and Open runs the full repair.

// cleanMarkV1 tags the payload of the clean-shutdown mark: then uvarint
// Live and Users.
const cleanMarkV1 = 1

// cleanMark is the store's close-mark function: the counts, or nil when a
// session or index key was changed outside the session operations.
func (s *Sessions) cleanMark() []byte {
	if s.outside != 0 {
		return nil
	}
	b := []byte{cleanMarkV1}
	b = binary.AppendUvarint(b, uint64(s.live.Load()))
	return binary.AppendUvarint(b, uint64(s.users.Load()))
}

// parseCleanMark decodes a cleanMark payload.
func parseCleanMark(b []byte) (live, users int64, ok bool) {
	if len(b) < 1 || b[0] != cleanMarkV1 {
		return 0, 0, false
	}
	b = b[1:]
	l, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0, false
	}
	u, m := binary.Uvarint(b[n:])
	if m <= 0 || n+m != len(b) {
		return 0, 0, false
	}
	return int64(l), int64(u), true
}

// touched is the DB's Touched hook for the internal databases: it counts
// the changes to session and index keys made outside session operations.
func (s *Sessions) touched(db int, key string) {
	s.lastOutside = ""
	if s.api > 0 || db != sessionsDB || !(strings.HasPrefix(key, keySession) || strings.HasPrefix(key, keyUser)) {
		return
	}
	s.outside++
	s.lastOutside = key
}

// open brings the sessions into step with the loaded store: after a clean
// shutdown it takes the counts from the mark and removes what expired while
// the server was down; otherwise it runs the full repair.
func (s *Sessions) open() error {
	dropped := s.db.store.DroppedAtOpen()
	live, users, ok := parseCleanMark(s.db.store.CleanMark())
	if !ok {
		s.fullRepair = true
		return s.repair()
	}
	s.live.Store(live)
	s.users.Store(users)
	if len(dropped) == 0 {
		return nil
	}
	return s.db.Update(func(tx *Tx) error {
		s.enter()
		defer s.leave()
		st := s.Tx(tx)
		for _, d := range dropped {
			if d.DB != sessionsDB || !strings.HasPrefix(d.Key, keySession) || d.V.Kind() != storage.KindHash {
				continue
			}
			id := d.Key[len(keySession):]
			if target, alias := d.V.HGet(fTarget); alias {
				// Its session, if still live, forgets it.
				if tv := tx.Lookup(sessionsDB, keySession+string(target)); tv != nil && tv.Kind() == storage.KindHash {
					_, _ = tx.HDel(sessionsDB, keySession+string(target), pAlias+id)
				}
				continue
			}
			// As the Expired hook, without the event and the counter:
			// it expired before this Open.
			st.dropAliases(d.V)
			st.indexRemove(string(fieldsOf(d.V).get(fUser)), id)
			s.live.Add(-1)
		}
		return nil
	})
}

// repair makes the index agree with the sessions after Open: sessions that
// expired while the server was down were dropped by the storage load without
// the Expired hook. It also recounts Live and Users, and mends whatever
// writes outside the session operations left inconsistent.
func (s *Sessions) repair() error {
	return s.db.Update(func(tx *Tx) error {
		s.enter()
		defer s.leave()
		// Reap whatever is already due, so that the hooks run for it.
		tx.Count(sessionsDB)
		// One pass that checks every reference where it is found, by a
		// lookup, and collects only what is wrong (rare), instead of maps
		// of every session and index entry: at a million sessions those
		// maps were a quarter of the restart.
		type pair struct{ user, id string }
		var (
			live, users int
			indexed     int      // index entries that name a live session of their user
			missing     []pair   // a live session absent from its user's index
			stale       []pair   // an index entry that is not user's live session
			orphans     []string // aliases whose session is gone
			dangling    []pair   // {session id, alias id}: a g: field no alias answers
		)
		session := func(id string) *storage.Value {
			v := tx.Lookup(sessionsDB, keySession+id)
			if v == nil || v.Kind() != storage.KindHash {
				return nil
			}
			return v
		}
		tx.ForEach(sessionsDB, func(k string, v *storage.Value) bool {
			switch {
			case strings.HasPrefix(k, keySession):
				id := k[len(keySession):]
				if target, ok := v.HGet(fTarget); ok {
					if tv := session(string(target)); tv == nil || fieldsOf(tv).get(fTarget) != nil {
						orphans = append(orphans, id)
					}
					return true
				}
				live++
				for f := range v.HashFields() {
					if a, ok := strings.CutPrefix(f, pAlias); ok {
						if av := session(a); av == nil || string(fieldsOf(av).get(fTarget)) != id {
							dangling = append(dangling, pair{id, a})
						}
					}
				}
			case strings.HasPrefix(k, keyUser):
				users++
				user := k[len(keyUser):]
				for id := range v.SetMembers() {
					if sv := session(id); sv == nil || fieldsOf(sv).get(fTarget) != nil || string(fieldsOf(sv).get(fUser)) != user {
						stale = append(stale, pair{user, id})
					} else {
						indexed++
					}
				}
			}
			return true
		})
		// A valid index entry names a live session of that very user, so
		// distinct entries name distinct sessions: when there are as many
		// as live sessions, none is missing from the index and the second
		// pass (a set lookup per session) is not needed.
		if indexed != live {
			tx.ForEach(sessionsDB, func(k string, v *storage.Value) bool {
				id, ok := strings.CutPrefix(k, keySession)
				if !ok {
					return true
				}
				if _, alias := v.HGet(fTarget); alias {
					return true
				}
				user := fieldsOf(v).get(fUser)
				set, _ := tx.LookupSet(sessionsDB, keyUser+string(user))
				if set == nil || !set.IsMember(id) {
					missing = append(missing, pair{string(user), id})
				}
				return true
			})
		}
		hadIndex := func(user string) bool {
			v, _ := tx.LookupSet(sessionsDB, keyUser+user)
			return v != nil
		}
		before := map[string]bool{}
		for _, p := range append(stale, missing...) {
			if _, ok := before[p.user]; !ok {
				before[p.user] = hadIndex(p.user)
			}
		}
		for _, p := range stale {
			_, _ = tx.SRem(sessionsDB, keyUser+p.user, p.id)
		}
		for _, p := range missing {
			_, _ = tx.SAdd(sessionsDB, keyUser+p.user, p.id)
		}
		for user, had := range before {
			switch has := hadIndex(user); {
			case has && !had:
				users++
			case had && !has:
				users--
			}
		}
		for _, a := range orphans {
			tx.Delete(sessionsDB, keySession+a)
		}
		for _, d := range dangling {
			_, _ = tx.HDel(sessionsDB, keySession+d.user, pAlias+d.id)
		}
		s.live.Store(int64(live))
		s.users.Store(int64(users))
		return nil
	})
}

// expiredHook keeps the index in step when the storage deletes an expired
// key of the sessions database, inside the deleting transaction.
func (s *Sessions) expiredHook(tx *Tx, db int, key string, v *storage.Value) {
	if key == s.lastOutside && db == sessionsDB {
		// The deletion touched just counted is this expiry's, not a raw write.
		s.outside--
		s.lastOutside = ""
	}
	s.enter()
	defer s.leave()
	if db != sessionsDB || !strings.HasPrefix(key, keySession) || v.Kind() != storage.KindHash {
		return
	}
	id := key[len(keySession):]
	h := fieldsOf(v)
	if target, ok := v.HGet(fTarget); ok {
		// A grace alias ran out: its session forgets it.
		_, _ = tx.HDel(sessionsDB, keySession+string(target), pAlias+id)
		return
	}
	user := string(h.get(fUser))
	st := s.Tx(tx)
	st.dropAliases(v)
	st.indexRemove(user, id)
	s.live.Add(-1)
	s.expired.Add(1)
	reason := "idle"
	if abs := num(h, fAbs); abs != 0 && v.Deadline() >= abs {
		reason = "absolute"
	}
	s.emit(tx, EventExpire, user, id, reason)
}

// ---- the embedded API: one transaction per call ----

// Create starts a session for user and returns its token, once durable.
// ctx is checked before the work starts; the commit itself is not cancellable.
func (s *Sessions) Create(ctx context.Context, user string, o CreateOptions) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var token string
	err := s.db.Update(func(tx *Tx) error {
		var err error
		token, err = s.Tx(tx).Create(user, o)
		return err
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// Get returns the session token names, or nil when it names no live
// session. With touch it slides the idle deadline.
func (s *Sessions) Get(token string, touch bool) (*Session, error) {
	var out *Session
	fn := func(tx *Tx) error {
		out = s.Tx(tx).Get(token, touch)
		return nil
	}
	var err error
	if touch {
		err = s.db.Update(fn)
	} else {
		err = s.db.View(fn)
	}
	return out, err
}

// Touch slides the session's idle deadline and reports whether it is live.
func (s *Sessions) Touch(token string) (bool, error) {
	var ok bool
	err := s.db.Update(func(tx *Tx) error {
		ok = s.Tx(tx).Touch(token)
		return nil
	})
	return ok, err
}

// Set sets fields of the session's data bag and returns how many were new.
func (s *Sessions) Set(token string, fields map[string]string) (int, error) {
	var n int
	err := s.db.Update(func(tx *Tx) error {
		var err error
		n, err = s.Tx(tx).Set(token, fields)
		return err
	})
	return n, err
}

// Del removes fields of the session's data bag and returns how many existed.
func (s *Sessions) Del(token string, fields ...string) (int, error) {
	var n int
	err := s.db.Update(func(tx *Tx) error {
		var err error
		n, err = s.Tx(tx).Del(token, fields...)
		return err
	})
	return n, err
}

// Rotate replaces the session's token with a new one (and a new id), keeping
// everything else. The old token dies now, or after grace, during which it
// reaches the new session but cannot be rotated again.
func (s *Sessions) Rotate(token string, grace time.Duration) (string, error) {
	var out string
	err := s.db.Update(func(tx *Tx) error {
		var err error
		out, err = s.Tx(tx).Rotate(token, grace)
		return err
	})
	return out, err
}

// Reauth records a re-authentication: it resets auth_time and restarts the
// absolute lifetime.
func (s *Sessions) Reauth(token string) error {
	return s.db.Update(func(tx *Tx) error { return s.Tx(tx).Reauth(token) })
}

// Revoke ends the session and reports whether it was live.
func (s *Sessions) Revoke(token string) (bool, error) {
	var ok bool
	err := s.db.Update(func(tx *Tx) error {
		ok = s.Tx(tx).Revoke(token)
		return nil
	})
	return ok, err
}

// RevokeID ends user's session by its public id (as List shows it).
func (s *Sessions) RevokeID(user, id string) (bool, error) {
	var ok bool
	err := s.db.Update(func(tx *Tx) error {
		ok = s.Tx(tx).RevokeID(user, id)
		return nil
	})
	return ok, err
}

// RevokeUser ends every session of user except the one exceptToken names
// (if it is user's live session; pass "" for none) and returns how many.
func (s *Sessions) RevokeUser(user, exceptToken string) (int, error) {
	var n int
	err := s.db.Update(func(tx *Tx) error {
		n = s.Tx(tx).RevokeUser(user, exceptToken)
		return nil
	})
	return n, err
}

// List returns user's live sessions, oldest first, without their data bags.
func (s *Sessions) List(user string) ([]Session, error) {
	var out []Session
	err := s.db.View(func(tx *Tx) error {
		out = s.Tx(tx).List(user)
		return nil
	})
	return out, err
}

// Count returns the number of user's live sessions.
func (s *Sessions) Count(user string) (int, error) {
	var n int
	err := s.db.View(func(tx *Tx) error {
		n = s.Tx(tx).Count(user)
		return nil
	})
	return n, err
}

// ---- the same operations inside a caller's transaction ----

// SessionsTx runs session operations inside an open Update (or, for Get
// without touch, List and Count, a View): the server uses it so that SESS.*
// commands join its pipelines and MULTI blocks. Its results are durable when
// the enclosing transaction's commit is.
type SessionsTx struct {
	s  *Sessions
	tx *Tx
}

// Tx returns the session operations bound to tx.
func (s *Sessions) Tx(tx *Tx) SessionsTx { return SessionsTx{s, tx} }

// enter and leave bracket a session operation that may write (see
// Sessions.touched); only in an Update, under the store's write lock.
func (s *Sessions) enter() { s.api++ }

func (s *Sessions) leave() { s.api-- }

// fields reads a session hash. Its values are views of the hash: copy what
// must outlive the transaction.
type fields struct{ v *storage.Value }

func fieldsOf(v *storage.Value) fields { return fields{v} }

func (h fields) get(f string) []byte {
	b, _ := h.v.HGet(f)
	return b
}

func num(h fields, f string) int64 { return parseMs(h.get(f)) }

func itoa(n int64) []byte { return strconv.AppendInt(nil, n, 10) }

// seenOf returns the session's last_seen as memory knows it.
func seenOf(h fields) int64 {
	seen := num(h, fSeen)
	if t, ok := h.v.HGet(fSeenMem); ok {
		if m, _ := strconv.ParseInt(string(t), 10, 64); m > seen {
			seen = m
		}
	}
	return seen
}

// deadlineOf is min(seen + idle, abs), with 0 meaning none.
func deadlineOf(seen, idle, abs int64) int64 {
	var d int64
	if idle > 0 {
		d = seen + idle
	}
	if abs > 0 && (d == 0 || abs < d) {
		d = abs
	}
	return d
}

func newToken() (id, token string, hash [sha256.Size]byte) {
	var raw [idBytes + secretBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic("sessdb: crypto/rand: " + err.Error())
	}
	var buf [tokenLen]byte
	b64.Encode(buf[:idLen], raw[:idBytes])
	buf[idLen] = '.'
	b64.Encode(buf[idLen+1:], raw[idBytes:])
	hash = sha256.Sum256(raw[idBytes:])
	clear(raw[:])
	return string(buf[:idLen]), string(buf[:]), hash
}

// parseToken splits a token into its id and decoded secret. Whatever the
// input, it returns a secret of the same size, so the caller's hashing work
// does not depend on the token's shape.
func parseToken(token string) (id string, secret [secretBytes]byte, ok bool) {
	if len(token) != tokenLen || token[idLen] != '.' {
		return "", secret, false
	}
	var rawID [idBytes]byte
	n1, err1 := b64.Decode(rawID[:], []byte(token[:idLen]))
	n2, err2 := b64.Decode(secret[:], []byte(token[idLen+1:]))
	if err1 != nil || err2 != nil || n1 != idBytes || n2 != secretBytes {
		return "", secret, false
	}
	return token[:idLen], secret, true
}

func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	var raw [idBytes]byte
	n, err := b64.Decode(raw[:], []byte(id))
	return err == nil && n == idBytes
}

// resolve validates token and returns the live session it reaches,
// following a grace alias (alias reports that). Unknown id, malformed token,
// wrong secret and expired session all return nil after the same hashing
// and a constant-time comparison.
func (st SessionsTx) resolve(token string) (id string, v *storage.Value, alias bool) {
	tid, secret, shapeOK := parseToken(token)
	sum := sha256.Sum256(secret[:])
	stored := st.s.dummy[:]
	var tv *storage.Value
	if shapeOK {
		tv = st.tx.Lookup(sessionsDB, keySession+tid)
		if tv != nil && tv.Kind() == storage.KindHash {
			if h, _ := tv.HGet(fHash); len(h) == sha256.Size {
				stored = h
			}
		}
	} else {
		// The same map lookup as for a well-formed token, of a key that
		// cannot exist (an id is never shorter than idLen).
		st.tx.Lookup(sessionsDB, keySession)
	}
	if subtle.ConstantTimeCompare(sum[:], stored) != 1 || tv == nil {
		st.s.invalid.Add(1)
		if tv != nil {
			st.s.emit(st.tx, EventTouchRefused, string(fieldsOf(tv).get(fUser)), tid, "secret-mismatch")
		}
		return "", nil, false
	}
	target, isAlias := tv.HGet(fTarget)
	if !isAlias {
		return tid, tv, false
	}
	sv := st.tx.Lookup(sessionsDB, keySession+string(target))
	if sv == nil || sv.Kind() != storage.KindHash || fieldsOf(sv).get(fTarget) != nil {
		st.s.invalid.Add(1)
		return "", nil, false
	}
	return string(target), sv, true
}

// checkFields checks the size of every field name and value.
func checkFields(fields map[string]string) error {
	for f, v := range fields {
		if len(f) > MaxFieldNameLen || len(v) > MaxFieldValueLen {
			return ErrFieldTooLong
		}
	}
	return nil
}

func checkDuration(d time.Duration) error {
	if d > MaxSessionDuration {
		return ErrInvalidDuration
	}
	return nil
}

func (st SessionsTx) indexAdd(user, id string) {
	key := keyUser + user
	if v, _ := st.tx.LookupSet(sessionsDB, key); v == nil {
		st.s.users.Add(1)
	}
	_, _ = st.tx.SAdd(sessionsDB, key, id)
}

func (st SessionsTx) indexRemove(user, id string) {
	key := keyUser + user
	if gone, _ := st.tx.SRem(sessionsDB, key, id); gone {
		if v, _ := st.tx.LookupSet(sessionsDB, key); v == nil {
			st.s.users.Add(-1)
		}
	}
}

// dropAliases deletes the grace aliases a session's hash refers to.
func (st SessionsTx) dropAliases(v *storage.Value) {
	var as []string
	for f := range v.HashFields() {
		if strings.HasPrefix(f, pAlias) {
			as = append(as, f[len(pAlias):])
		}
	}
	for _, a := range as {
		st.tx.Delete(sessionsDB, keySession+a)
	}
}

// end revokes a live session: the session, its aliases and its index entry
// go in the same transaction.
func (st SessionsTx) end(id string, v *storage.Value, reason string) {
	st.indexRemove(string(fieldsOf(v).get(fUser)), id)
	st.endKeepIndex(id, v, reason)
}

// endKeepIndex ends a session but leaves its user's index to the caller,
// which may replace the whole index at once (REVOKEUSER).
func (st SessionsTx) endKeepIndex(id string, v *storage.Value, reason string) {
	user := string(fieldsOf(v).get(fUser))
	st.dropAliases(v)
	st.tx.Delete(sessionsDB, keySession+id)
	st.s.live.Add(-1)
	st.s.revoked.Add(1)
	st.s.emit(st.tx, EventRevoke, user, id, reason)
}

type liveSession struct {
	id      string
	created int64
	v       *storage.Value
}

// liveSessions returns user's live sessions, oldest first. In a writable
// transaction looking them up deletes the expired ones (and, through the
// hook, their index entries).
func (st SessionsTx) liveSessions(user string) []liveSession {
	set, _ := st.tx.LookupSet(sessionsDB, keyUser+user)
	if set == nil {
		return nil
	}
	ids := make([]string, 0, set.Len())
	for id := range set.SetMembers() {
		ids = append(ids, id)
	}
	out := make([]liveSession, 0, len(ids))
	for _, id := range ids {
		v := st.tx.Lookup(sessionsDB, keySession+id)
		if v == nil || v.Kind() != storage.KindHash || string(fieldsOf(v).get(fUser)) != user {
			continue
		}
		out = append(out, liveSession{id, num(fieldsOf(v), fCreated), v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].created != out[j].created {
			return out[i].created < out[j].created
		}
		return out[i].id < out[j].id
	})
	return out
}

// Create starts a session; see Sessions.Create.
func (st SessionsTx) Create(user string, o CreateOptions) (string, error) {
	st.s.enter()
	defer st.s.leave()
	if len(user) == 0 || len(user) > MaxUserLen {
		return "", ErrInvalidUser
	}
	if len(o.Meta) > MaxSessionFields {
		return "", ErrTooManyFields
	}
	if err := checkFields(o.Meta); err != nil {
		return "", err
	}
	def := st.s.opts
	idle, life, limit, policy := o.Idle, o.Absolute, o.Limit, o.Policy
	if idle == 0 {
		idle = def.Idle
	}
	if life == 0 {
		life = def.Absolute
	}
	if limit == 0 {
		limit = def.MaxPerUser
	}
	if policy == "" {
		policy = def.Policy
	}
	if err := checkDuration(idle); err != nil {
		return "", err
	}
	if err := checkDuration(life); err != nil {
		return "", err
	}
	tx := st.tx
	if limit > 0 {
		live := st.liveSessions(user)
		if len(live) >= limit {
			if policy == LimitRefuse {
				return "", ErrSessionLimit
			}
			for _, ls := range live[:len(live)-limit+1] {
				st.end(ls.id, ls.v, "limit")
			}
		}
	}
	id, token, hash := newToken()
	for tx.Lookup(sessionsDB, keySession+id) != nil {
		id, token, hash = newToken() // 128 random bits: never in practice
	}
	now := tx.Now()
	var idleMs, lifeMs, abs int64
	if idle > 0 {
		idleMs = idle.Milliseconds()
	}
	if life > 0 {
		lifeMs = life.Milliseconds()
		abs = now + lifeMs
	}
	key := keySession + id
	nowB := itoa(now)
	hset := func(f string, v []byte) { _, _ = tx.HSet(sessionsDB, key, f, v) }
	hset(fUser, []byte(user))
	hset(fHash, hash[:])
	hset(fCreated, nowB)
	hset(fSeen, nowB)
	hset(fAuth, nowB)
	hset(fIdle, itoa(idleMs))
	hset(fLife, itoa(lifeMs))
	hset(fAbs, itoa(abs))
	for f, v := range o.Meta {
		hset(pMeta+f, []byte(v))
	}
	if d := deadlineOf(now, idleMs, abs); d != 0 {
		tx.SetDeadline(sessionsDB, key, d)
	}
	st.indexAdd(user, id)
	st.s.live.Add(1)
	st.s.created.Add(1)
	st.s.emit(tx, EventCreate, user, id, "")
	return token, nil
}

// slide moves last_seen to now and the deadline with it. Memory changes at
// once; the disk is written only when last_seen moved by seenWindow since
// it was last recorded.
func (st SessionsTx) slide(id string, v *storage.Value) {
	h := fieldsOf(v)
	now := st.tx.Now()
	if now <= seenOf(h) {
		return
	}
	if now-num(h, fSeen) >= seenWindow(num(h, fIdle)) {
		st.recordSeen(id, v, now)
		return
	}
	key := keySession + id
	st.tx.HSetVolatile(sessionsDB, key, fSeenMem, itoa(now))
	if d := deadlineOf(now, num(h, fIdle), num(h, fAbs)); d != v.Deadline() {
		st.tx.SetDeadlineVolatile(sessionsDB, key, d)
	}
}

// recordSeen records last_seen = seen and the deadline it implies.
func (st SessionsTx) recordSeen(id string, v *storage.Value, seen int64) {
	h := fieldsOf(v)
	key := keySession + id
	_, _ = st.tx.HSet(sessionsDB, key, fSeen, itoa(seen))
	st.tx.HDelVolatile(sessionsDB, key, fSeenMem)
	if d := deadlineOf(seen, num(h, fIdle), num(h, fAbs)); d != 0 {
		st.tx.SetDeadline(sessionsDB, key, d)
	}
}

func sessionOf(id string, h fields, withData bool) Session {
	var sv SessionView
	sv.read(id, h, withData)
	s := Session{
		ID:       id,
		User:     strings.Clone(sv.User),
		Created:  time.UnixMilli(sv.Created),
		LastSeen: time.UnixMilli(sv.LastSeen),
		AuthTime: time.UnixMilli(sv.AuthTime),
		Meta:     make(map[string]string, len(sv.Meta)),
	}
	if sv.IdleDeadline > 0 {
		s.IdleDeadline = time.UnixMilli(sv.IdleDeadline)
	}
	if sv.AbsoluteDeadline > 0 {
		s.AbsoluteDeadline = time.UnixMilli(sv.AbsoluteDeadline)
	}
	for _, f := range sv.Meta {
		s.Meta[f.Name] = string(f.Value)
	}
	if withData {
		s.Data = make(map[string]string, len(sv.Data))
		for _, f := range sv.Data {
			s.Data[f.Name] = string(f.Value)
		}
	}
	return s
}

// SessionView is a session as Session describes it, for a caller that is
// done with it before its transaction ends (the server writing a reply):
// times are unix milliseconds (0: none), and User and the fields are views
// of the stored session, valid only inside the transaction. Meta and Data
// are in field-name order; their slices are reused by the next read into
// the same SessionView.
type SessionView struct {
	ID, User                       string
	Created, LastSeen, AuthTime    int64
	IdleDeadline, AbsoluteDeadline int64
	Meta, Data                     []SessionField
}

// SessionField is one metadata or data field of a SessionView.
type SessionField struct {
	Name  string
	Value []byte
}

// read fills sv from a session hash in one pass (a compact hash is a list:
// an HGet per field would walk it again each time).
func (sv *SessionView) read(id string, h fields, withData bool) {
	var seen, seenMem, idle int64
	*sv = SessionView{ID: id, Meta: sv.Meta[:0], Data: sv.Data[:0]}
	for f, v := range h.v.HashFields() {
		switch {
		case f == fUser:
			sv.User = unsafe.String(unsafe.SliceData(v), len(v))
		case f == fCreated:
			sv.Created = parseMs(v)
		case f == fSeen:
			seen = parseMs(v)
		case f == fSeenMem:
			seenMem = parseMs(v)
		case f == fAuth:
			sv.AuthTime = parseMs(v)
		case f == fIdle:
			idle = parseMs(v)
		case f == fAbs:
			sv.AbsoluteDeadline = parseMs(v)
		case strings.HasPrefix(f, pMeta):
			sv.Meta = append(sv.Meta, SessionField{f[len(pMeta):], v})
		case withData && strings.HasPrefix(f, pData):
			sv.Data = append(sv.Data, SessionField{f[len(pData):], v})
		}
	}
	sv.LastSeen = max(seen, seenMem) // as seenOf
	if idle > 0 {
		sv.IdleDeadline = sv.LastSeen + idle
	}
	sortFields(sv.Meta)
	sortFields(sv.Data)
}

func sortFields(fs []SessionField) {
	slices.SortFunc(fs, func(a, b SessionField) int { return strings.Compare(a.Name, b.Name) })
}

// parseMs parses a stored decimal field (0 when malformed).
func parseMs(b []byte) int64 {
	n, _ := strconv.ParseInt(string(b), 10, 64)
	return n
}

// View is Get for a caller that reads the session before the transaction
// ends: it fills sv (reusing its slices) and reports whether token names a
// live session, sliding it when touch is set, as Get does.
func (st SessionsTx) View(token string, touch bool, sv *SessionView) bool {
	id, v, _ := st.resolve(token)
	if v == nil {
		return false
	}
	if touch {
		st.slide(id, v)
	}
	sv.read(id, fieldsOf(v), true)
	return true
}

// Get returns the session token names (nil when none); see Sessions.Get.
// Without touch it also works in a View.
func (st SessionsTx) Get(token string, touch bool) *Session {
	if touch {
		st.s.enter()
		defer st.s.leave()
	}
	id, v, _ := st.resolve(token)
	if v == nil {
		return nil
	}
	if touch {
		st.slide(id, v)
	}
	s := sessionOf(id, fieldsOf(v), true)
	return &s
}

// Touch slides the session's idle deadline; see Sessions.Touch.
func (st SessionsTx) Touch(token string) bool {
	st.s.enter()
	defer st.s.leave()
	id, v, _ := st.resolve(token)
	if v == nil {
		return false
	}
	st.slide(id, v)
	return true
}

// Set sets data bag fields; see Sessions.Set.
func (st SessionsTx) Set(token string, fields map[string]string) (int, error) {
	st.s.enter()
	defer st.s.leave()
	id, v, _ := st.resolve(token)
	if v == nil {
		return 0, ErrNoSession
	}
	have, added := 0, 0
	for f := range v.HashFields() {
		if strings.HasPrefix(f, pData) {
			have++
		}
	}
	for f := range fields {
		if _, ok := v.HGet(pData + f); !ok {
			added++
		}
	}
	if have+added > MaxSessionFields {
		return 0, ErrTooManyFields
	}
	if err := checkFields(fields); err != nil {
		return 0, err
	}
	key := keySession + id
	for f, val := range fields {
		_, _ = st.tx.HSet(sessionsDB, key, pData+f, []byte(val))
	}
	return added, nil
}

// Del removes data bag fields; see Sessions.Del.
func (st SessionsTx) Del(token string, fields ...string) (int, error) {
	st.s.enter()
	defer st.s.leave()
	id, v, _ := st.resolve(token)
	if v == nil {
		return 0, ErrNoSession
	}
	n := 0
	for _, f := range fields {
		if gone, _ := st.tx.HDel(sessionsDB, keySession+id, pData+f); gone {
			n++
		}
	}
	return n, nil
}

// Rotate replaces the token; see Sessions.Rotate.
func (st SessionsTx) Rotate(token string, grace time.Duration) (string, error) {
	st.s.enter()
	defer st.s.leave()
	if err := checkDuration(grace); err != nil {
		return "", err
	}
	oldID, v, alias := st.resolve(token)
	if v == nil || alias {
		return "", ErrNoSession
	}
	tx := st.tx
	h := fieldsOf(v)
	user := string(h.get(fUser))
	oldHash := h.get(fHash)
	seen := seenOf(h)
	deadline := deadlineOf(seen, num(h, fIdle), num(h, fAbs))

	newID, token, hash := newToken()
	for tx.Lookup(sessionsDB, keySession+newID) != nil {
		newID, token, hash = newToken()
	}
	newKey := keySession + newID
	var aliases []string
	for f, val := range v.HashFields() {
		switch {
		case f == fHash || f == fSeen || f == fSeenMem || f == fTarget:
		case strings.HasPrefix(f, pAlias):
			aliases = append(aliases, f[len(pAlias):])
		default:
			_, _ = tx.HSet(sessionsDB, newKey, f, val)
		}
	}
	_, _ = tx.HSet(sessionsDB, newKey, fHash, hash[:])
	_, _ = tx.HSet(sessionsDB, newKey, fSeen, itoa(seen))
	if deadline != 0 {
		tx.SetDeadline(sessionsDB, newKey, deadline)
	}
	st.indexAdd(user, newID)
	oldKey := keySession + oldID
	tx.Delete(sessionsDB, oldKey)
	st.indexRemove(user, oldID)
	if grace > 0 {
		until := tx.Now() + grace.Milliseconds()
		if deadline != 0 && deadline < until {
			until = deadline
		}
		_, _ = tx.HSet(sessionsDB, oldKey, fUser, []byte(user))
		_, _ = tx.HSet(sessionsDB, oldKey, fHash, oldHash)
		_, _ = tx.HSet(sessionsDB, oldKey, fTarget, []byte(newID))
		tx.SetDeadline(sessionsDB, oldKey, until)
		_, _ = tx.HSet(sessionsDB, newKey, pAlias+oldID, []byte{})
	}
	// Earlier tokens still in their grace now reach the new session.
	for _, a := range aliases {
		av := tx.Lookup(sessionsDB, keySession+a)
		if av == nil || string(fieldsOf(av).get(fTarget)) != oldID {
			continue
		}
		_, _ = tx.HSet(sessionsDB, keySession+a, fTarget, []byte(newID))
		_, _ = tx.HSet(sessionsDB, newKey, pAlias+a, []byte{})
	}
	st.s.emit(tx, EventRotate, user, oldID, "to:"+newID)
	return token, nil
}

// Reauth restarts the absolute lifetime; see Sessions.Reauth.
func (st SessionsTx) Reauth(token string) error {
	st.s.enter()
	defer st.s.leave()
	id, v, _ := st.resolve(token)
	if v == nil {
		return ErrNoSession
	}
	tx := st.tx
	h := fieldsOf(v)
	now := tx.Now()
	var abs int64
	if life := num(h, fLife); life > 0 {
		abs = now + life
	}
	key := keySession + id
	_, _ = tx.HSet(sessionsDB, key, fAuth, itoa(now))
	_, _ = tx.HSet(sessionsDB, key, fAbs, itoa(abs))
	_, _ = tx.HSet(sessionsDB, key, fSeen, itoa(now))
	tx.HDelVolatile(sessionsDB, key, fSeenMem)
	tx.SetDeadline(sessionsDB, key, deadlineOf(now, num(h, fIdle), abs))
	return nil
}

// Revoke ends the session; see Sessions.Revoke.
func (st SessionsTx) Revoke(token string) bool {
	st.s.enter()
	defer st.s.leave()
	id, v, _ := st.resolve(token)
	if v == nil {
		return false
	}
	st.end(id, v, "revoke")
	return true
}

// RevokeID ends user's session id; see Sessions.RevokeID.
func (st SessionsTx) RevokeID(user, id string) bool {
	st.s.enter()
	defer st.s.leave()
	if !validID(id) {
		return false
	}
	v := st.tx.Lookup(sessionsDB, keySession+id)
	if v == nil || v.Kind() != storage.KindHash {
		return false
	}
	if _, alias := v.HGet(fTarget); alias || string(fieldsOf(v).get(fUser)) != user {
		return false
	}
	st.end(id, v, "revoke-id")
	return true
}

// RevokeUser ends user's sessions; see Sessions.RevokeUser.
func (st SessionsTx) RevokeUser(user, exceptToken string) int {
	st.s.enter()
	defer st.s.leave()
	recordNotBefore(st.tx, user) // jwt.go: JWTs issued before now are void
	var keep string
	if exceptToken != "" {
		if id, v, _ := st.resolve(exceptToken); v != nil && string(fieldsOf(v).get(fUser)) == user {
			keep = id
		}
	}
	n := 0
	for _, ls := range st.liveSessions(user) {
		if ls.id == keep {
			continue
		}
		st.endKeepIndex(ls.id, ls.v, "revoke-user")
		n++
	}
	if n == 0 {
		return 0
	}
	// One record for the whole index instead of one per revoked session.
	key := keyUser + user
	st.tx.Delete(sessionsDB, key)
	if keep != "" {
		_, _ = st.tx.SAdd(sessionsDB, key, keep)
	} else {
		st.s.users.Add(-1)
	}
	return n
}

// List returns user's live sessions; see Sessions.List.
func (st SessionsTx) List(user string) []Session {
	live := st.liveSessions(user)
	out := make([]Session, 0, len(live))
	for _, ls := range live {
		out = append(out, sessionOf(ls.id, fieldsOf(ls.v), false))
	}
	return out
}

// ViewList is List for a caller that reads the sessions before the
// transaction ends: start gets how many there are, then each gets every
// session in List's order, read into sv (without Data).
func (st SessionsTx) ViewList(user string, sv *SessionView, start func(n int), each func(sv *SessionView)) {
	live := st.liveSessions(user)
	start(len(live))
	for _, ls := range live {
		sv.read(ls.id, fieldsOf(ls.v), false)
		each(sv)
	}
}

// Count returns the number of user's live sessions; see Sessions.Count.
func (st SessionsTx) Count(user string) int {
	set, _ := st.tx.LookupSet(sessionsDB, keyUser+user)
	if set == nil {
		return 0
	}
	n := 0
	for id := range set.SetMembers() {
		if st.tx.Lookup(sessionsDB, keySession+id) != nil {
			n++
		}
	}
	return n
}
