package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The JWT rows (issue 5, "Benchmark"): SESS.JWT and SESS.VERIFY over RESP
// against doing the same work in-process in Go with golang-jwt, as an API
// gateway holding the JWK Set would: signing, or checking signature, alg,
// iss, aud, nbf and exp of an EdDSA token with sessdb's claims. The
// difference is the price of the round trip plus the live-session check
// (SESS.VERIFY also refuses a revoked session's token at once, which local
// verification cannot).
//
// In these rows the "redis" column is the in-process Go figure: no Redis
// command is involved (the harness still starts a redis-server, unused).

// SideInProcess labels the JWT rows: the comparison is Go in-process.
const SideInProcess Side = "in-process Go (golang-jwt)"

// jwtKeyspace is the number of sessions (and tokens) the JWT rows draw from.
const jwtKeyspace = 1000

func jwtScenarios() []Scenario {
	none := func(context.Context, RunContext) (any, error) { return nil, nil }
	row := func(key, workload string, pre Preload, b, inproc Bench, shapes ...shape) []Scenario {
		return expand(Scenario{Key: key, Workload: workload, Side: SideInProcess, SessdbFsync: "everysec",
			Keyspace: jwtKeyspace, Preload: pre, Bench: b, RedisPreload: none, RedisBench: inproc}, shapes...)
	}
	var all []Scenario
	all = append(all, row("jwt-issue", "SESS.JWT vs in-process sign", preloadSessTokens,
		GoDriver{Desc: "SESS.JWT <token> AUD api", Conn: jwtIssueConn, FailOnNil: true},
		inProcessJWT{verify: false},
		shape{50, 1, 60_000}, shape{1, 1, 15_000})...)
	all = append(all, row("jwt-verify", "SESS.VERIFY vs in-process verify", preloadJWTs,
		GoDriver{Desc: "SESS.VERIFY <jwt> AUD api", Conn: jwtVerifyConn, FailOnNil: true},
		inProcessJWT{verify: true},
		shape{50, 1, 60_000}, shape{1, 1, 15_000})...)
	return all
}

func jwtIssueConn(rc RunContext, _ int) (Workload, error) {
	tokens, err := loadedTokens(rc)
	if err != nil {
		return nil, err
	}
	return CommandGen(func(_ int, rng *mrand.Rand, dst []byte) []byte {
		return appendCommand(dst, "SESS.JWT", tokens[rng.IntN(len(tokens))], "AUD", "api")
	}), nil
}

func jwtVerifyConn(rc RunContext, _ int) (Workload, error) {
	jwts, err := loadedTokens(rc)
	if err != nil {
		return nil, err
	}
	return CommandGen(func(_ int, rng *mrand.Rand, dst []byte) []byte {
		return appendCommand(dst, "SESS.VERIFY", jwts[rng.IntN(len(jwts))], "AUD", "api")
	}), nil
}

// jwtCapture asks for a JWT of tokens[i] and keeps it in jwts[i].
type jwtCapture struct {
	tokens, jwts []string
	index        []int
}

func (w *jwtCapture) Op(slot, i int, _ *mrand.Rand, dst []byte) ([]byte, int) {
	w.index[slot] = i
	return appendCommand(dst, "SESS.JWT", w.tokens[i], "TTL", "3600", "AUD", "api"), 1
}

func (w *jwtCapture) Next(slot int, r []Value, dst []byte) ([]byte, int, error) {
	if r[0].Kind != '$' || r[0].Null {
		return dst, 0, fmt.Errorf("SESS.JWT replied %s, want a JWT", r[0])
	}
	w.jwts[w.index[slot]] = r[0].Str
	return dst, 0, nil
}

// preloadJWTs creates rc.Keyspace sessions and one JWT for each; the bench
// gets the JWTs as rc.Loaded.
func preloadJWTs(ctx context.Context, rc RunContext) (any, error) {
	tokens, err := createTokens(ctx, rc.Addr, rc.Keyspace, "u")
	if err != nil {
		return nil, err
	}
	jwts := make([]string, len(tokens))
	err = preloadOps(ctx, rc.Addr, len(tokens), func(int) (Workload, error) {
		return &jwtCapture{tokens: tokens, jwts: jwts, index: make([]int, 256)}, nil
	})
	return jwts, err
}

// inProcessJWT signs or verifies EdDSA tokens with sessdb's claims in this
// process, on rc.Clients goroutines, rc.Requests operations in all.
type inProcessJWT struct{ verify bool }

func (b inProcessJWT) Describe() string {
	if b.verify {
		return "in-process golang-jwt ParseWithClaims (EdDSA pinned, iss, aud, exp, nbf)"
	}
	return "in-process golang-jwt SignedString (EdDSA, sessdb's claims)"
}

func (b inProcessJWT) Run(ctx context.Context, rc RunContext) (Result, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Result{}, err
	}
	claims := func(i int) jwt.MapClaims {
		now := time.Now().Unix()
		var sid [16]byte
		_, _ = rand.Read(sid[:])
		return jwt.MapClaims{"iss": "sessdb", "sub": userName("u", i), "sid": base64.RawURLEncoding.EncodeToString(sid[:]),
			"iat": now, "nbf": now, "exp": now + 3600, "jti": base64.RawURLEncoding.EncodeToString(sid[:]), "aud": "api"}
	}
	sign := func(c jwt.MapClaims) (string, error) {
		t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
		t.Header["kid"] = "bench"
		return t.SignedString(priv)
	}
	jwts := make([]string, jwtKeyspace)
	for i := range jwts {
		if jwts[i], err = sign(claims(i)); err != nil {
			return Result{}, err
		}
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer("sessdb"),
		jwt.WithAudience("api"), jwt.WithExpirationRequired())
	keyfunc := func(t *jwt.Token) (any, error) {
		if t.Header["kid"] != "bench" {
			return nil, errors.New("unknown kid")
		}
		return pub, nil
	}
	op := func(i int, rng *mrand.Rand) error {
		if b.verify {
			_, err := parser.ParseWithClaims(jwts[rng.IntN(len(jwts))], jwt.MapClaims{}, keyfunc)
			return err
		}
		_, err := sign(claims(i))
		return err
	}

	workers := max(rc.Clients, 1)
	var next atomic.Int64
	lats := make([][]int64, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(1, uint64(w)))
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= rc.Requests {
					return
				}
				t0 := time.Now()
				if err := op(i, rng); err != nil {
					errs[w] = err
					return
				}
				lats[w] = append(lats[w], int64(time.Since(t0)))
			}
		}(w)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if err := errors.Join(errs...); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	var all []int64
	var sum int64
	for _, l := range lats {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	for _, l := range all {
		sum += l
	}
	if len(all) == 0 {
		return Result{}, errors.New("no operations")
	}
	return Result{
		Requests: len(all),
		Seconds:  secs,
		RPS:      float64(len(all)) / secs,
		AvgMs:    nsToMs(sum / int64(len(all))),
		P50Ms:    nsToMs(percentile(all, 50)),
		P95Ms:    nsToMs(percentile(all, 95)),
		P99Ms:    nsToMs(percentile(all, 99)),
		MaxMs:    nsToMs(all[len(all)-1]),
	}, nil
}
