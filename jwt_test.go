package sessdb

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jwtClock is the fake clock of the JWT tests.
type jwtClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *jwtClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *jwtClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type jwtFixture struct {
	t     *testing.T
	path  string
	clock *jwtClock
	db    *DB
	jwt   *JWT
}

func newJWTFixture(t *testing.T, o JWTOptions) *jwtFixture {
	t.Helper()
	f := &jwtFixture{t: t, path: filepath.Join(t.TempDir(), "sessdb.db"), clock: &jwtClock{t: time.Unix(1_800_000_000, 0)}}
	f.open(o)
	t.Cleanup(func() { _ = f.db.Close() })
	return f
}

func (f *jwtFixture) open(o JWTOptions) {
	f.t.Helper()
	db, err := Open(f.path, &Options{Now: f.clock.Now, ReapInterval: -1})
	require.NoError(f.t, err)
	f.db = db
	j, err := OpenJWT(db, o)
	require.NoError(f.t, err)
	f.jwt = j
}

func (f *jwtFixture) reopen(o JWTOptions) {
	f.t.Helper()
	require.NoError(f.t, f.db.Close())
	f.open(o)
}

func (f *jwtFixture) session(user string, o CreateOptions) string {
	f.t.Helper()
	tok, err := f.db.Sessions().Create(context.Background(), user, o)
	require.NoError(f.t, err)
	return tok
}

func (f *jwtFixture) issue(token string, o IssueOptions) string {
	f.t.Helper()
	s, err := f.jwt.Issue(token, o)
	require.NoError(f.t, err)
	return s
}

func reasonOf(t *testing.T, err error) string {
	t.Helper()
	var je *JWTError
	require.ErrorAs(t, err, &je)
	require.ErrorIs(t, err, ErrJWTInvalid)
	return je.Reason
}

// Ensure that a JWT carries the session's user and id, the issuer, a kid
// and the requested claims, and verifies while the session is live.
func TestJWT_IssueAndVerify(t *testing.T) {
	f := newJWTFixture(t, JWTOptions{Issuer: "https://auth.example"})
	tok := f.session("alice", CreateOptions{Idle: 2 * time.Hour})
	signed := f.issue(tok, IssueOptions{TTL: time.Minute, Audience: "api", Claims: map[string]string{"role": "admin"}})

	c, err := f.jwt.Verify(signed, "api")
	require.NoError(t, err)
	now := f.clock.Now().Unix()
	assert.Equal(t, "https://auth.example", c.Issuer)
	assert.Equal(t, "alice", c.Subject)
	assert.Equal(t, tok[:22], c.SessionID)
	assert.Equal(t, []string{"api"}, c.Audience)
	assert.Equal(t, now, c.IssuedAt.Unix())
	assert.Equal(t, now, c.NotBefore.Unix())
	assert.Equal(t, now+60, c.Expires.Unix())
	assert.Len(t, c.ID, 22)
	assert.Equal(t, "admin", c.Extra["role"])
	assert.Equal(t, f.jwt.CurrentKeyID(), c.KeyID)

	p, _, err := jwt.NewParser().ParseUnverified(signed, jwt.MapClaims{})
	require.NoError(t, err)
	assert.Equal(t, "EdDSA", p.Header["alg"])
	assert.Equal(t, f.jwt.CurrentKeyID(), p.Header["kid"])

	// Default TTL, capped TTL, and no audience required when none configured.
	c, err = f.jwt.Verify(f.issue(tok, IssueOptions{}), "")
	require.NoError(t, err)
	assert.Equal(t, now+300, c.Expires.Unix())
	c, err = f.jwt.Verify(f.issue(tok, IssueOptions{TTL: 48 * time.Hour}), "")
	require.NoError(t, err)
	assert.Equal(t, now+3600, c.Expires.Unix())

	_, err = f.jwt.Issue("nope.nope", IssueOptions{})
	require.ErrorIs(t, err, ErrNoSession)
}

// Ensure that a token never outlives its session's idle or absolute deadline.
func TestJWT_ExpNeverPastSessionDeadline(t *testing.T) {
	f := newJWTFixture(t, JWTOptions{})
	idle := f.session("bob", CreateOptions{Idle: 90 * time.Second, Absolute: time.Hour})
	abs := f.session("bob", CreateOptions{Idle: time.Hour, Absolute: 45 * time.Second})
	now := f.clock.Now().Unix()
	for tok, want := range map[string]int64{idle: now + 90, abs: now + 45} {
		c, err := f.jwt.Verify(f.issue(tok, IssueOptions{TTL: 10 * time.Minute}), "")
		require.NoError(t, err)
		assert.Equal(t, want, c.Expires.Unix())
	}
}

// Ensure that the claims sessdb sets cannot be given as extra claims.
func TestJWT_ReservedClaimsRefused(t *testing.T) {
	f := newJWTFixture(t, JWTOptions{})
	tok := f.session("carol", CreateOptions{})
	for _, name := range ReservedClaims {
		_, err := f.jwt.Issue(tok, IssueOptions{Claims: map[string]string{name: "x"}})
		require.ErrorIs(t, err, ErrJWTReservedClaim, name)
	}
}

// Ensure that revoking the session makes its JWT fail at once, and that a
// revoke-all records a not-before that refuses older tokens even of a
// session kept with EXCEPT, while tokens minted afterwards verify.
func TestJWT_RevocationAndNotBefore(t *testing.T) {
	f := newJWTFixture(t, JWTOptions{})
	s := f.db.Sessions()
	tok := f.session("dave", CreateOptions{})
	signed := f.issue(tok, IssueOptions{})
	_, err := f.jwt.Verify(signed, "")
	require.NoError(t, err)
	ok, err := s.Revoke(tok)
	require.NoError(t, err)
	require.True(t, ok)
	_, err = f.jwt.Verify(signed, "")
	assert.Equal(t, ReasonRevoked, reasonOf(t, err))
	// The signature alone still checks out: a local verifier (JWK Set only)
	// accepts the token until its exp, and not a second longer.
	_, err = f.jwt.VerifySignature(signed, "", f.clock.Now().Add(299*time.Second))
	require.NoError(t, err)
	_, err = f.jwt.VerifySignature(signed, "", f.clock.Now().Add(300*time.Second))
	assert.Equal(t, ReasonExpired, reasonOf(t, err))

	keep := f.session("dave", CreateOptions{})
	other := f.session("dave", CreateOptions{})
	oldKeep, oldOther := f.issue(keep, IssueOptions{}), f.issue(other, IssueOptions{})
	assert.Zero(t, f.jwt.NotBefore("dave"))
	f.clock.Add(1500 * time.Millisecond)
	n, err := s.RevokeUser("dave", keep)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	nb := f.jwt.NotBefore("dave")
	assert.Equal(t, f.clock.Now().Unix()+1, nb)
	_, err = f.jwt.Verify(oldOther, "")
	assert.Equal(t, ReasonRevoked, reasonOf(t, err))
	_, err = f.jwt.Verify(oldKeep, "")
	assert.Equal(t, ReasonRevoked, reasonOf(t, err))
	// Minted in the same second as the revoke: iat is the not-before second.
	fresh := f.issue(keep, IssueOptions{})
	c, err := f.jwt.Verify(fresh, "")
	require.NoError(t, err)
	assert.Equal(t, nb, c.IssuedAt.Unix())
	// The record outlives every token it refuses, then goes.
	f.clock.Add(MaxJWTTTL + time.Second)
	assert.Zero(t, f.jwt.NotBefore("dave"))
}

// Ensure that rotation is durable: after a restart the new key signs, the
// old one still verifies its tokens, and both are in the JWK Set.
func TestJWT_RotationSurvivesRestart(t *testing.T) {
	f := newJWTFixture(t, JWTOptions{})
	tok := f.session("erin", CreateOptions{})
	first := f.jwt.CurrentKeyID()
	old := f.issue(tok, IssueOptions{})
	require.NoError(t, f.jwt.RotateKeys())
	second := f.jwt.CurrentKeyID()
	require.NotEqual(t, first, second)

	f.reopen(JWTOptions{})
	assert.Equal(t, second, f.jwt.CurrentKeyID())
	assert.Equal(t, []string{second, first}, f.jwt.KeyIDs())
	c, err := f.jwt.Verify(old, "")
	require.NoError(t, err)
	assert.Equal(t, first, c.KeyID)
	c, err = f.jwt.Verify(f.issue(tok, IssueOptions{}), "")
	require.NoError(t, err)
	assert.Equal(t, second, c.KeyID)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(f.jwt.JWKS(), &set))
	require.Len(t, set.Keys, 2)
	for _, k := range set.Keys {
		assert.Equal(t, "OKP", k["kty"])
		assert.Equal(t, "Ed25519", k["crv"])
		assert.Equal(t, "EdDSA", k["alg"])
		assert.Equal(t, "sig", k["use"])
		assert.NotContains(t, k, "d", "a private part leaked into the JWK Set")
	}
}

// Ensure that the JWK Set keeps a retired key until the last token it can
// have signed has expired, then drops it (and Verify refuses its tokens).
func TestJWT_JWKSDropsRetiredKeyAfterLastToken(t *testing.T) {
	f := newJWTFixture(t, JWTOptions{MaxTTL: 10 * time.Minute})
	tok := f.session("frank", CreateOptions{Idle: 24 * time.Hour, Absolute: 24 * time.Hour})
	first := f.jwt.CurrentKeyID()
	signed := f.issue(tok, IssueOptions{TTL: 10 * time.Minute})
	f.clock.Add(5 * time.Minute)
	require.NoError(t, f.jwt.RotateKeys())
	second := f.jwt.CurrentKeyID()
	assert.Equal(t, []string{second, first}, f.jwt.KeyIDs())

	f.clock.Add(10*time.Minute - time.Second) // the old key's grace: until rotation + MaxTTL
	assert.Equal(t, []string{second, first}, f.jwt.KeyIDs())
	f.clock.Add(time.Second)
	assert.Equal(t, []string{second}, f.jwt.KeyIDs())
	assert.NotContains(t, string(f.jwt.JWKS()), first)
	_, err := f.jwt.Verify(signed, "")
	assert.Equal(t, ReasonKid, reasonOf(t, err))

	// The next rotation removes it from storage too.
	require.NoError(t, f.jwt.RotateKeys())
	f.reopen(JWTOptions{MaxTTL: 10 * time.Minute})
	assert.Len(t, f.jwt.keys, 2)
	assert.NotContains(t, f.jwt.keys, first)
}

// Ensure that with a passphrase the private keys are sealed in the file,
// that the keys cannot be opened without it or with a wrong one, and that
// plain keys are sealed once a passphrase is given.
func TestJWT_KeysEncryptedAtRest(t *testing.T) {
	const pass = "correct horse battery staple"
	defer func(t, m uint32) { kdfTime, kdfMemory = t, m }(kdfTime, kdfMemory)
	kdfTime, kdfMemory = 1, 8*1024 // the stored cost is what opening uses
	f := newJWTFixture(t, JWTOptions{})
	kid := f.jwt.CurrentKeyID()

	f.reopen(JWTOptions{Passphrase: pass})
	assert.Equal(t, kid, f.jwt.CurrentKeyID(), "sealing keeps the key")
	require.NoError(t, f.jwt.RotateKeys())
	seed := f.jwt.current.priv.(ed25519.PrivateKey).Seed()
	ids := f.jwt.KeyIDs()

	f.reopen(JWTOptions{Passphrase: pass})
	assert.Equal(t, ids, f.jwt.KeyIDs())
	var stored []byte
	_ = f.db.View(func(tx *Tx) error {
		b, _, _ := tx.LookupString(sessionsDB, keyJWTKeys)
		stored = append([]byte(nil), b...)
		return nil
	})
	assert.Contains(t, string(stored), `"kdf":{"name":"argon2id"`)
	assert.NotContains(t, string(stored), `"sealed":false`)
	var set storedKeySet
	require.NoError(t, json.Unmarshal(stored, &set))
	for _, k := range set.Keys {
		assert.True(t, k.Sealed, k.KID)
	}
	_, err := OpenJWT(f.db, JWTOptions{})
	require.ErrorIs(t, err, ErrJWTKeysEncrypted)
	_, err = OpenJWT(f.db, JWTOptions{Passphrase: "wrong"})
	require.ErrorIs(t, err, ErrJWTPassphrase)
	require.NoError(t, f.db.Close())

	// The key made while sealed was never written in plain: its seed is
	// nowhere in the file. (The first key was written in plain before the
	// passphrase was set, and bbolt's free pages may still hold that copy.)
	raw, err := os.ReadFile(f.path)
	require.NoError(t, err)
	assert.False(t, bytes.Contains(raw, seed), "a sealed key's seed is in the file")
	f.open(JWTOptions{Passphrase: pass})
}

// Ensure that every kind of forged or unacceptable token is refused with
// the reason that names the failed check.
func TestJWT_VerifyReasons(t *testing.T) {
	f := newJWTFixture(t, JWTOptions{Audience: "api"})
	tok := f.session("gina", CreateOptions{})
	good := f.issue(tok, IssueOptions{})
	k := f.jwt.current
	now := f.clock.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "sessdb", "sub": "gina", "sid": tok[:22], "aud": "api",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Unix() + 60, "jti": "x"}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(m jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
		tk := jwt.NewWithClaims(m, c)
		if kid != "" {
			tk.Header["kid"] = kid
		}
		s, err := tk.SignedString(key)
		require.NoError(t, err)
		return s
	}
	_, stranger, _ := ed25519.GenerateKey(nil)
	pub := []byte(k.pub.(ed25519.PublicKey))
	cases := map[string]struct {
		token, aud, want string
	}{
		"none":              {sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, k.kid, claims(nil)), "", ReasonAlg},
		"HS256 with pubkey": {sign(jwt.SigningMethodHS256, pub, k.kid, claims(nil)), "", ReasonAlg},
		"ES256 header":      {forgeHeader(good, `{"alg":"ES256","kid":"`+k.kid+`"}`), "", ReasonAlg},
		"no kid":            {sign(jwt.SigningMethodEdDSA, stranger, "", claims(nil)), "", ReasonKid},
		"unknown kid":       {sign(jwt.SigningMethodEdDSA, stranger, "nope", claims(nil)), "", ReasonKid},
		"stranger's key":    {sign(jwt.SigningMethodEdDSA, stranger, k.kid, claims(nil)), "", ReasonSignature},
		"tampered payload":  {tamper(good), "", ReasonSignature},
		"wrong iss":         {sign(jwt.SigningMethodEdDSA, k.priv, k.kid, claims(func(c jwt.MapClaims) { c["iss"] = "evil" })), "", ReasonIssuer},
		"wrong aud":         {good, "other", ReasonAudience},
		"default aud":       {sign(jwt.SigningMethodEdDSA, k.priv, k.kid, claims(func(c jwt.MapClaims) { c["aud"] = "x" })), "", ReasonAudience},
		"expired":           {sign(jwt.SigningMethodEdDSA, k.priv, k.kid, claims(func(c jwt.MapClaims) { c["exp"] = now.Unix() - 1 })), "", ReasonExpired},
		"no exp":            {sign(jwt.SigningMethodEdDSA, k.priv, k.kid, claims(func(c jwt.MapClaims) { delete(c, "exp") })), "", ReasonMalformed},
		"not yet valid":     {sign(jwt.SigningMethodEdDSA, k.priv, k.kid, claims(func(c jwt.MapClaims) { c["nbf"] = now.Unix() + 30 })), "", ReasonNotBefore},
		"no sid":            {sign(jwt.SigningMethodEdDSA, k.priv, k.kid, claims(func(c jwt.MapClaims) { delete(c, "sid") })), "", ReasonMalformed},
		"unknown session":   {sign(jwt.SigningMethodEdDSA, k.priv, k.kid, claims(func(c jwt.MapClaims) { c["sid"] = "AAAAAAAAAAAAAAAAAAAAAA" })), "", ReasonRevoked},
		"other user":        {sign(jwt.SigningMethodEdDSA, k.priv, k.kid, claims(func(c jwt.MapClaims) { c["sub"] = "mallory" })), "", ReasonRevoked},
		"garbage":           {"a.b.c", "", ReasonMalformed},
		"two parts":         {"abc.def", "", ReasonMalformed},
	}
	for name, tc := range cases {
		_, err := f.jwt.Verify(tc.token, tc.aud)
		assert.Equal(t, tc.want, reasonOf(t, err), name)
	}
	_, err := f.jwt.Verify(good, "")
	require.NoError(t, err)
}

// forgeHeader replaces a token's header.
func forgeHeader(token, header string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(header)) + token[strings.IndexByte(token, '.'):]
}

// tamper changes a token's payload (sub becomes mallory), keeping the signature.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["sub"] = "mallory"
	b, _ = json.Marshal(m)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}

// SetJWTKDFCost lowers the argon2id cost of new passphrase keys for the
// external tests (package sessdb_test) and returns the restore function.
func SetJWTKDFCost(time, memoryKiB uint32) (restore func()) {
	t, m := kdfTime, kdfMemory
	kdfTime, kdfMemory = time, memoryKiB
	return func() { kdfTime, kdfMemory = t, m }
}
