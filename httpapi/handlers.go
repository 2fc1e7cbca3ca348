package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sessdb/sessdb"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/jwks.json", s.jwks)
	mux.HandleFunc("/oauth2/introspect", s.introspect)
	mux.HandleFunc("/oauth2/revoke", s.revoke)
	mux.HandleFunc("/healthz", s.healthz)
	mux.HandleFunc("/readyz", s.readyz)
	if s.opts.Metrics != nil {
		mux.Handle("/metrics", s.opts.Metrics)
	}
	if s.opts.Admin != nil {
		mux.Handle("/admin/", s.opts.Admin)
	}
	return s.limit(mux)
}

// limit caps requests in flight and request bodies.
func (s *Server) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
		default:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many requests in flight", http.StatusServiceUnavailable)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError is RFC 6749 §5.2's error response.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.closing.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if err := s.opts.Ready(); err != nil {
		s.opts.Logger.Printf("readyz: %v", err)
		http.Error(w, "storage is not committing", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// jwks serves the JWK Set. Its max-age is at most the JWT lifetime cap; the
// ETag lets a verifier revalidate cheaply, and a verifier that meets an
// unknown kid should refetch (as jose's createRemoteJWKSet does).
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	body := s.opts.JWT.JWKS()
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(s.opts.JWKSMaxAge/time.Second))+", must-revalidate")
	h.Set("ETag", etag)
	h.Set("Access-Control-Allow-Origin", "*")
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// authenticate checks the client credentials (HTTP Basic, or a Bearer
// secret) and returns the client id. RFC 6749 §2.3.1 has clients
// form-encode id and secret before the Basic encoding, which many clients
// (curl -u) do not, so both readings are tried. Every configured client is
// compared, in constant time, whatever matches.
func (s *Server) authenticate(r *http.Request) (string, bool) {
	type cred struct{ id, secret string }
	var creds []cred
	auth := r.Header.Get("Authorization")
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		creds = append(creds, cred{"", strings.TrimSpace(auth[7:])})
	} else if u, p, ok := r.BasicAuth(); ok {
		creds = append(creds, cred{u, p})
		uu, err1 := url.QueryUnescape(u)
		pu, err2 := url.QueryUnescape(p)
		if err1 == nil && err2 == nil && (uu != u || pu != p) {
			creds = append(creds, cred{uu, pu})
		}
	}
	found := ""
	for _, c := range creds {
		if c.secret == "" {
			continue
		}
		sum := sha256.Sum256([]byte(c.secret))
		for cid, h := range s.clients {
			idOK := c.id == "" || subtle.ConstantTimeCompare([]byte(c.id), []byte(cid)) == 1
			if subtle.ConstantTimeCompare(sum[:], h[:]) == 1 && idOK {
				found = cid
			}
		}
	}
	return found, found != ""
}

// challenge answers an authentication failure as RFC 6749 §5.2 says: 401,
// a WWW-Authenticate challenge for the scheme the client tried, and
// invalid_client.
func challenge(w http.ResponseWriter, r *http.Request) {
	scheme := "Basic"
	if a := r.Header.Get("Authorization"); len(a) >= 6 && strings.EqualFold(a[:6], "bearer") {
		scheme = "Bearer"
	}
	w.Header().Set("WWW-Authenticate", scheme+` realm="sessdb"`)
	oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
}

// tokenParam reads the POSTed form's token; it answers the request and
// returns false when the request is not acceptable.
func (s *Server) tokenParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	if !allow(w, r, http.MethodPost) {
		return "", false
	}
	if _, ok := s.authenticate(r); !ok {
		challenge(w, r)
		return "", false
	}
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return "", false
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			oauthError(w, http.StatusRequestEntityTooLarge, "invalid_request", "request body too large")
			return "", false
		}
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return "", false
	}
	token := r.PostForm.Get("token")
	if token == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the token parameter is required")
		return "", false
	}
	return token, true
}

// isJWT tells a compact JWS (three dot-separated parts) from a session
// token (two).
func isJWT(token string) bool { return strings.Count(token, ".") == 2 }

// introspect implements RFC 7662. An inactive, unknown or malformed token
// gets {"active":false} and nothing else. Introspecting a session token
// does not slide its idle deadline.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	token, ok := s.tokenParam(w, r)
	if !ok {
		return
	}
	inactive := map[string]bool{"active": false}
	if isJWT(token) {
		c, err := s.opts.JWT.Verify(token, "")
		if err != nil {
			writeJSON(w, http.StatusOK, inactive)
			return
		}
		out := map[string]any{
			"active":     true,
			"token_type": "jwt",
			"iss":        c.Issuer,
			"sub":        c.Subject,
			"sid":        c.SessionID,
			"iat":        c.IssuedAt.Unix(),
			"nbf":        c.NotBefore.Unix(),
			"exp":        c.Expires.Unix(),
			"jti":        c.ID,
		}
		if len(c.Audience) == 1 {
			out["aud"] = c.Audience[0]
		} else if len(c.Audience) > 1 {
			out["aud"] = c.Audience
		}
		for _, name := range []string{"client_id", "scope", "username"} {
			if v, ok := c.Extra[name]; ok {
				out[name] = v
			}
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	sess, err := s.opts.DB.Sessions().Get(token, false)
	if err != nil || sess == nil {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	out := map[string]any{
		"active":     true,
		"token_type": "session",
		"sub":        sess.User,
		"sid":        sess.ID,
		"iat":        sess.Created.Unix(),
	}
	if exp := sessionDeadline(sess); !exp.IsZero() {
		out["exp"] = exp.Unix()
	}
	writeJSON(w, http.StatusOK, out)
}

func sessionDeadline(s *sessdb.Session) time.Time {
	d := s.IdleDeadline
	if !s.AbsoluteDeadline.IsZero() && (d.IsZero() || s.AbsoluteDeadline.Before(d)) {
		d = s.AbsoluteDeadline
	}
	return d
}

// revoke implements RFC 7009: it ends the session behind a session token,
// or behind a valid JWT's sid, and answers 200 even for unknown tokens. A
// token_type_hint is accepted and not needed.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	token, ok := s.tokenParam(w, r)
	if !ok {
		return
	}
	var err error
	if isJWT(token) {
		var c *sessdb.JWTClaims
		if c, err = s.opts.JWT.VerifySignature(token, "", s.opts.JWT.Now()); err == nil {
			_, err = s.opts.DB.Sessions().RevokeID(c.Subject, c.SessionID)
		} else {
			err = nil // not ours or not valid: nothing to revoke
		}
	} else {
		_, err = s.opts.DB.Sessions().Revoke(token)
	}
	if err != nil {
		s.opts.Logger.Printf("revoke: %v", err)
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the revocation could not be made durable")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
