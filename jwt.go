package sessdb

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// JWTs as short-lived, signed views of live sessions.
//
// A JWT names its session (sid) and user (sub) and never outlives the
// session's deadlines. A verifier that only has the JWK Set checks the
// signature and the expiry (bounded staleness: at most the token's TTL after a
// revocation), plus, with one cheap lookup (NotBefore), a user's revoke-all.
// Verify, here or through SESS.VERIFY, also requires the session to be live,
// so a revoked session's tokens fail at once.

// The JWT limits.
const (
	// MaxJWTTTL is the hard cap on a JWT's lifetime, whatever jwt-max-ttl says.
	// A user's "not before" record is kept this long.
	MaxJWTTTL = 24 * time.Hour
	// MaxJWTLen is the longest token Verify parses.
	MaxJWTLen = 16 << 10
	// MaxJWTClaims is the most extra claims a token may carry.
	MaxJWTClaims = 32
)

// ReservedClaims are the claim names sessdb sets itself; IssueJWT refuses
// them as extra claims.
var ReservedClaims = []string{"iss", "sub", "sid", "iat", "nbf", "exp", "jti", "aud"}

// The JWT errors. A verification failure is a *JWTError.
var (
	// ErrJWTReservedClaim is returned when an extra claim uses a reserved name.
	ErrJWTReservedClaim = errors.New("sessdb: reserved claim name (iss, sub, sid, iat, nbf, exp, jti and aud are set by sessdb)")
	// ErrJWTClaims is returned for too many extra claims, or one too long.
	ErrJWTClaims = errors.New("sessdb: too many or too long JWT claims")
	// ErrJWTInvalid matches every *JWTError with errors.Is.
	ErrJWTInvalid = errors.New("sessdb: invalid JWT")
)

// The reasons a JWT is refused, as SESS.VERIFY reports them (-INVALID reason).
const (
	ReasonMalformed = "malformed" // not a compact JWS, bad JSON, missing sub/sid/exp
	ReasonAlg       = "alg"       // none, HS*, or not the key's own algorithm
	ReasonKid       = "kid"       // no kid, or not a key of the current JWK Set
	ReasonSignature = "signature" // the signature does not verify
	ReasonExpired   = "expired"   // exp has passed
	ReasonNotBefore = "nbf"       // nbf is in the future
	ReasonAudience  = "aud"       // the required audience is missing
	ReasonIssuer    = "iss"       // another issuer
	ReasonRevoked   = "revoked"   // the session is no longer live, or the user revoked all before iat
)

// JWTError is a verification failure and its reason.
type JWTError struct{ Reason string }

// Error returns "invalid JWT: reason".
func (e *JWTError) Error() string { return "invalid JWT: " + e.Reason }

// Is makes errors.Is(err, ErrJWTInvalid) true.
func (e *JWTError) Is(target error) bool { return target == ErrJWTInvalid }

func invalid(reason string) error { return &JWTError{reason} }

// JWTOptions configure OpenJWT; zero values take the defaults.
type JWTOptions struct {
	// Issuer is the iss claim. Default "sessdb".
	Issuer string
	// Alg is the signing algorithm for new keys: AlgEdDSA (default) or
	// AlgES256. Opening with another algorithm than the current key's
	// rotates to a new key.
	Alg string
	// DefaultTTL is a token's lifetime when none is asked for. Default 5 minutes.
	DefaultTTL time.Duration
	// MaxTTL caps every token's lifetime. Default 1 hour, at most MaxJWTTTL.
	MaxTTL time.Duration
	// Audience is the aud of tokens issued without one, and what Verify
	// requires when not asked for another. Empty: none.
	Audience string
	// Passphrase, when set, encrypts the private keys at rest
	// (AES-256-GCM, key from argon2id). Keys stored in plain are sealed
	// when a passphrase is first given.
	Passphrase string
}

// IssueOptions tune one token.
type IssueOptions struct {
	// TTL is the lifetime; zero takes the default. It is capped by MaxTTL
	// and by the session's own deadlines.
	TTL time.Duration
	// Audience is the aud claim; empty takes JWTOptions.Audience.
	Audience string
	// Claims are extra string claims; reserved names are refused.
	Claims map[string]string
}

// JWTClaims are a verified token's claims.
type JWTClaims struct {
	Issuer    string
	Subject   string // the user
	SessionID string // sid
	Audience  []string
	IssuedAt  time.Time
	NotBefore time.Time
	Expires   time.Time
	ID        string            // jti
	KeyID     string            // the header's kid
	Extra     map[string]string // the other claims (strings as issued; others as JSON)
}

// JWT issues and verifies the JWTs of a DB's sessions and keeps their
// signing keys. Open one with OpenJWT; it is safe for concurrent use.
type JWT struct {
	db   *DB
	opts JWTOptions

	mu      sync.RWMutex // guards keys, current, cipher
	keys    map[string]*signingKey
	current *signingKey
	cipher  *keyCipher
	maxExp  sync.Map // kid -> *atomic.Int64: the latest exp (unix s) issued, for rotation
}

// OpenJWT loads the DB's signing keys, creating the first one (durably) if
// there is none. It fails when the keys are encrypted and the passphrase is
// missing or wrong. Open one JWT per DB and share it: a JWT keeps the key
// set in memory, so a second one would not see the first one's rotations.
// (The server opens its own: use Server.JWT rather than a second OpenJWT.)
func OpenJWT(db *DB, o JWTOptions) (*JWT, error) {
	if o.Issuer == "" {
		o.Issuer = "sessdb"
	}
	if o.Alg == "" {
		o.Alg = AlgEdDSA
	}
	if o.Alg != AlgEdDSA && o.Alg != AlgES256 {
		return nil, ErrJWTAlg
	}
	if o.MaxTTL <= 0 {
		o.MaxTTL = time.Hour
	}
	o.MaxTTL = min(o.MaxTTL, MaxJWTTTL)
	if o.DefaultTTL <= 0 {
		o.DefaultTTL = 5 * time.Minute
	}
	o.DefaultTTL = min(o.DefaultTTL, o.MaxTTL)
	j := &JWT{db: db, opts: o}
	var stored []byte
	_ = db.View(func(tx *Tx) error {
		if b, ok, _ := tx.LookupString(sessionsDB, keyJWTKeys); ok {
			stored = append([]byte(nil), b...)
		}
		return nil
	})
	rewrite := stored == nil
	if stored != nil {
		keys, current, c, sealed, err := decodeKeySet(stored, o.Passphrase)
		if err != nil {
			return nil, err
		}
		j.setKeys(keys, current)
		j.cipher = c
		if !sealed && o.Passphrase != "" {
			rewrite = true // seal the plain keys now
		}
	}
	if o.Passphrase != "" && j.cipher == nil {
		c, err := newKeyCipher(o.Passphrase, nil)
		if err != nil {
			return nil, err
		}
		j.cipher = c
	}
	if j.current == nil || j.current.alg != o.Alg {
		if err := db.Update(func(tx *Tx) error { return j.RotateTx(tx) }); err != nil {
			return nil, err
		}
		rewrite = false
	}
	if rewrite {
		if err := db.Update(func(tx *Tx) error { return j.store(tx) }); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// Options returns the options in force (defaults filled in).
func (j *JWT) Options() JWTOptions {
	o := j.opts
	o.Passphrase = ""
	return o
}

func (j *JWT) setKeys(keys []*signingKey, current string) {
	j.keys = make(map[string]*signingKey, len(keys))
	j.current = nil
	for _, k := range keys {
		j.keys[k.kid] = k
		if k.kid == current {
			j.current = k
		}
	}
}

// store writes the key set in tx; the caller holds j.mu or is OpenJWT.
func (j *JWT) store(tx *Tx) error {
	keys := make([]*signingKey, 0, len(j.keys))
	for _, k := range j.keys {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return keys[a].created < keys[b].created })
	cur := ""
	if j.current != nil {
		cur = j.current.kid
	}
	b, err := encodeKeySet(keys, cur, j.cipher)
	if err != nil {
		return err
	}
	tx.SetString(sessionsDB, keyJWTKeys, b, 0)
	return nil
}

// Now returns the DB's clock (Options.Now), which Verify uses.
func (j *JWT) Now() time.Time { return time.UnixMilli(j.nowMs()) }

func (j *JWT) nowMs() int64 {
	if j.db.opts.Now != nil {
		return j.db.opts.Now().UnixMilli()
	}
	return time.Now().UnixMilli()
}

// RotateKeys makes a new signing key current, durably. The old key stays
// in the JWK Set until every token it signed has expired.
func (j *JWT) RotateKeys() error {
	return j.db.Update(func(tx *Tx) error { return j.RotateTx(tx) })
}

// RotateTx rotates inside the caller's transaction (SESS.KEYS ROTATE); the
// new key is used at once and is durable with the transaction's commit.
func (j *JWT) RotateTx(tx *Tx) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := tx.Now()
	k, err := generateKey(j.opts.Alg, now)
	if err != nil {
		return err
	}
	if old := j.current; old != nil {
		old.retired = now
		// Listed until the last token it signed (or could have signed, up to
		// MaxTTL from now) has expired.
		old.drop = now + j.opts.MaxTTL.Milliseconds()
		if v, ok := j.maxExp.Load(old.kid); ok {
			old.drop = max(old.drop, v.(*atomic.Int64).Load()*1000)
		}
	}
	for kid, o := range j.keys {
		if o.drop != 0 && o.drop <= now {
			delete(j.keys, kid)
			j.maxExp.Delete(kid)
		}
	}
	if j.keys == nil {
		j.keys = map[string]*signingKey{}
	}
	j.keys[k.kid] = k
	j.current = k
	return j.store(tx)
}

// JWKS returns the public JWK Set (JSON) of every key still valid for
// verification: the current key and retired keys whose tokens may live.
func (j *JWT) JWKS() []byte {
	now := j.nowMs()
	j.mu.RLock()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	set.Keys = append(set.Keys, j.current.jwk)
	for _, k := range j.sortedKeys() {
		if k != j.current && k.listed(now) {
			set.Keys = append(set.Keys, k.jwk)
		}
	}
	j.mu.RUnlock()
	b, err := json.Marshal(set)
	if err != nil {
		panic("sessdb: JWKS: " + err.Error())
	}
	return b
}

// KeyIDs returns the ids of the listed keys, current first.
func (j *JWT) KeyIDs() []string {
	now := j.nowMs()
	j.mu.RLock()
	defer j.mu.RUnlock()
	out := []string{j.current.kid}
	for _, k := range j.sortedKeys() {
		if k != j.current && k.listed(now) {
			out = append(out, k.kid)
		}
	}
	return out
}

// CurrentKeyID returns the id of the key new tokens are signed with.
func (j *JWT) CurrentKeyID() string {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.current.kid
}

// sortedKeys returns the keys newest first; the caller holds j.mu.
func (j *JWT) sortedKeys() []*signingKey {
	out := make([]*signingKey, 0, len(j.keys))
	for _, k := range j.keys {
		out = append(out, k)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].created != out[b].created {
			return out[a].created > out[b].created
		}
		return out[a].kid < out[b].kid
	})
	return out
}

// Issue signs a JWT for the live session token names. It returns
// ErrNoSession when the session is not live. The session is read under the
// store's read lock; the signing happens outside it.
func (j *JWT) Issue(token string, o IssueOptions) (string, error) {
	var claims jwt.MapClaims
	err := j.db.View(func(tx *Tx) error {
		var err error
		claims, err = j.claimsTx(tx, token, o)
		return err
	})
	if err != nil {
		return "", err
	}
	return j.sign(claims)
}

// IssueTx is Issue inside the caller's transaction (a View is enough).
func (j *JWT) IssueTx(tx *Tx, token string, o IssueOptions) (string, error) {
	claims, err := j.claimsTx(tx, token, o)
	if err != nil {
		return "", err
	}
	return j.sign(claims)
}

// claimsTx checks the request and builds the claims of a token for the
// live session token names.
func (j *JWT) claimsTx(tx *Tx, token string, o IssueOptions) (jwt.MapClaims, error) {
	if len(o.Claims) > MaxJWTClaims {
		return nil, ErrJWTClaims
	}
	for name, v := range o.Claims {
		if isReserved(name) {
			return nil, ErrJWTReservedClaim
		}
		if len(name) > MaxFieldNameLen || len(v) > MaxFieldValueLen {
			return nil, ErrJWTClaims
		}
	}
	s := j.db.Sessions().Tx(tx).Get(token, false)
	if s == nil {
		return nil, ErrNoSession
	}
	nowMs := tx.Now()
	ttl := o.TTL
	if ttl <= 0 {
		ttl = j.opts.DefaultTTL
	}
	ttl = min(ttl, j.opts.MaxTTL)
	expMs := nowMs + ttl.Milliseconds()
	for _, d := range []time.Time{s.IdleDeadline, s.AbsoluteDeadline} {
		if !d.IsZero() && d.UnixMilli() < expMs {
			expMs = d.UnixMilli()
		}
	}
	now := nowMs / 1000
	exp := expMs / 1000
	if exp <= now {
		return nil, ErrNoSession // the session ends within the second
	}
	// A token minted in the same second as a revoke-all carries the
	// not-before second as iat, so that the lookup does not refuse it.
	iat := max(now, notBefore(tx, s.User))
	claims := jwt.MapClaims{
		"iss": j.opts.Issuer,
		"sub": s.User,
		"sid": s.ID,
		"iat": iat,
		"nbf": now,
		"exp": exp,
		"jti": newJTI(),
	}
	aud := o.Audience
	if aud == "" {
		aud = j.opts.Audience
	}
	if aud != "" {
		claims["aud"] = aud
	}
	for name, v := range o.Claims {
		claims[name] = v
	}
	return claims, nil
}

// sign signs claims with the current key and notes the latest exp the key
// signed.
func (j *JWT) sign(claims jwt.MapClaims) (string, error) {
	exp, _ := claims["exp"].(int64)
	j.mu.RLock()
	k := j.current
	j.mu.RUnlock()
	t := jwt.NewWithClaims(signingMethod(k.alg), claims)
	t.Header["kid"] = k.kid
	signed, err := t.SignedString(k.priv)
	if err != nil {
		return "", err
	}
	v, _ := j.maxExp.LoadOrStore(k.kid, new(atomic.Int64))
	m := v.(*atomic.Int64)
	for {
		cur := m.Load()
		if exp <= cur || m.CompareAndSwap(cur, exp) {
			break
		}
	}
	return signed, nil
}

func isReserved(name string) bool {
	for _, r := range ReservedClaims {
		if name == r {
			return true
		}
	}
	return false
}

func signingMethod(alg string) jwt.SigningMethod {
	if alg == AlgES256 {
		return jwt.SigningMethodES256
	}
	return jwt.SigningMethodEdDSA
}

func newJTI() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("sessdb: crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Verify checks token's signature, algorithm, kid, issuer, audience (aud,
// or JWTOptions.Audience when empty), nbf and exp, and that the session it
// names is still live and was not revoked by a revoke-all after iat. A
// failure is a *JWTError whose Reason says which check failed. The
// signature is checked outside the store's lock; only the session lookup
// takes it.
func (j *JWT) Verify(token, aud string) (*JWTClaims, error) {
	c, err := j.VerifySignature(token, aud, j.Now())
	if err != nil {
		return nil, err
	}
	_ = j.db.View(func(tx *Tx) error {
		err = checkSession(tx, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// VerifyTx is Verify inside the caller's transaction (a View is enough),
// at the transaction's time.
func (j *JWT) VerifyTx(tx *Tx, token, aud string) (*JWTClaims, error) {
	c, err := j.VerifySignature(token, aud, time.UnixMilli(tx.Now()))
	if err != nil {
		return nil, err
	}
	if err := checkSession(tx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// checkSession refuses claims whose session is no longer live, or whose
// user revoked all sessions after iat.
func checkSession(tx *Tx, c *JWTClaims) error {
	if !sessionLive(tx, c.Subject, c.SessionID) || c.IssuedAt.Unix() < notBefore(tx, c.Subject) {
		return invalid(ReasonRevoked)
	}
	return nil
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// VerifySignature checks everything Verify checks except the session: what
// a verifier holding only the JWK Set can check, at time now.
func (j *JWT) VerifySignature(token, aud string, now time.Time) (*JWTClaims, error) {
	if len(token) > MaxJWTLen || strings.Count(token, ".") != 2 {
		return nil, invalid(ReasonMalformed)
	}
	raw, err := base64.RawURLEncoding.DecodeString(token[:strings.IndexByte(token, '.')])
	if err != nil {
		return nil, invalid(ReasonMalformed)
	}
	var h jwtHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, invalid(ReasonMalformed)
	}
	if h.Alg != AlgEdDSA && h.Alg != AlgES256 {
		return nil, invalid(ReasonAlg) // none, HS*, RS*, …
	}
	j.mu.RLock()
	k := j.keys[h.Kid]
	j.mu.RUnlock()
	if h.Kid == "" || k == nil || !k.listed(now.UnixMilli()) {
		return nil, invalid(ReasonKid)
	}
	if h.Alg != k.alg {
		return nil, invalid(ReasonAlg) // pinned to the key's own algorithm
	}
	if aud == "" {
		aud = j.opts.Audience
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{k.alg}),
		jwt.WithIssuer(j.opts.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithStrictDecoding(),
	}
	if aud != "" {
		opts = append(opts, jwt.WithAudience(aud))
	}
	mc := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(token, mc, func(*jwt.Token) (any, error) { return k.pub, nil }, opts...)
	if err != nil {
		return nil, invalid(parseReason(err))
	}
	c, ok := claimsOf(mc)
	if !ok {
		return nil, invalid(ReasonMalformed)
	}
	c.KeyID = k.kid
	return c, nil
}

// parseReason maps golang-jwt's errors to a reason; the signature is
// checked before the claims, so a forged expired token is "signature".
func parseReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return ReasonSignature
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ReasonMalformed
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return ReasonAlg
	case errors.Is(err, jwt.ErrTokenExpired):
		return ReasonExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return ReasonNotBefore
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return ReasonAudience
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return ReasonIssuer
	}
	return ReasonMalformed
}

func claimsOf(mc jwt.MapClaims) (*JWTClaims, bool) {
	c := &JWTClaims{Extra: map[string]string{}}
	str := func(name string) string { s, _ := mc[name].(string); return s }
	c.Issuer, c.Subject, c.SessionID, c.ID = str("iss"), str("sub"), str("sid"), str("jti")
	if c.Subject == "" || c.SessionID == "" {
		return nil, false
	}
	aud, err := mc.GetAudience()
	if err != nil {
		return nil, false
	}
	c.Audience = aud
	times := []struct {
		name string
		dst  *time.Time
	}{{"iat", &c.IssuedAt}, {"nbf", &c.NotBefore}, {"exp", &c.Expires}}
	for _, t := range times {
		f, ok := mc[t.name].(float64)
		if !ok {
			if t.name == "exp" {
				return nil, false
			}
			continue
		}
		*t.dst = time.Unix(int64(f), 0)
	}
	for name, v := range mc {
		if isReserved(name) {
			continue
		}
		if s, ok := v.(string); ok {
			c.Extra[name] = s
			continue
		}
		b, _ := json.Marshal(v)
		c.Extra[name] = string(b)
	}
	return c, true
}

// sessionLive reports whether user's session id is live: its index holds it
// (the index never holds a dead session) and its hash has not expired.
func sessionLive(tx *Tx, user, id string) bool {
	if tx.Lookup(sessionsDB, keySession+id) == nil {
		return false
	}
	set, _ := tx.LookupSet(sessionsDB, keyUser+user)
	if set == nil {
		return false
	}
	return set.IsMember(id)
}

// NotBefore returns user's "not before" (unix seconds; 0 when none): tokens
// with an iat before it were issued before a revoke-all and are refused.
// It is the one cheap lookup a local verifier needs (SESS.NOTBEFORE).
func (j *JWT) NotBefore(user string) int64 {
	var n int64
	_ = j.db.View(func(tx *Tx) error {
		n = notBefore(tx, user)
		return nil
	})
	return n
}

// NotBeforeTx is NotBefore inside the caller's transaction.
func NotBeforeTx(tx *Tx, user string) int64 { return notBefore(tx, user) }

func notBefore(tx *Tx, user string) int64 {
	b, ok, _ := tx.LookupString(sessionsDB, keyNotBefore+user)
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(string(b), 10, 64)
	return n
}

// recordNotBefore records, in the revoking transaction, that user's tokens
// issued before now are void: the next whole second, so that a token minted
// earlier in this second is refused too. It is kept for MaxJWTTTL, after
// which every token it could refuse has expired.
func recordNotBefore(tx *Tx, user string) {
	if len(user) == 0 || len(user) > MaxUserLen {
		return
	}
	nb := tx.Now()/1000 + 1
	if nb <= notBefore(tx, user) {
		return
	}
	tx.SetString(sessionsDB, keyNotBefore+user, strconv.AppendInt(nil, nb, 10), tx.Now()+MaxJWTTTL.Milliseconds())
}
