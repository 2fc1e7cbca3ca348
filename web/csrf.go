package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"sort"
)

// CSRF protection. A session cookie is sent with every request the browser
// makes to the site, including those a hostile page triggers, so every
// request that changes something must prove it comes from the site's own
// pages. The CSRF middleware checks two things on every unsafe request
// (anything but GET, HEAD, OPTIONS and TRACE):
//
//  1. Fetch metadata: a Sec-Fetch-Site header other than "same-origin" or
//     "none" (a typed URL, a bookmark) is refused. Browsers without fetch
//     metadata send Origin on cross-origin POSTs; an Origin whose host is not
//     the request's Host is refused.
//  2. A double-submit token: the form field CSRFField (or the header
//     CSRFHeader, for fetch/XHR) must equal the CSRF cookie, compared in
//     constant time. The cookie is random (crypto/rand), HttpOnly and
//     __Host- prefixed, so a sibling subdomain cannot plant one; a hostile
//     page can neither read it nor set it, hence cannot submit a match.
//
// Put CSRFToken(r) in a hidden field of every form that POSTs. GET requests
// must never change state. SameSite=Lax on the session cookie is a third,
// independent layer: browsers do not send it on cross-site POSTs at all.

// The names the CSRF token travels under.
const (
	// CSRFField is the form field that carries the token.
	CSRFField = "csrf_token"
	// CSRFHeader is the request header that carries the token (fetch, XHR).
	CSRFHeader = "X-CSRF-Token"
	// DefaultCSRFCookieName is the CSRF cookie's name (without the __Host-
	// prefix when Options.Insecure).
	DefaultCSRFCookieName = "__Host-sessdb-csrf"
)

// maxFormBytes bounds the body parsed to find the token.
const maxFormBytes = 1 << 20

// csrfState is the request's CSRF token, shared by pointer so that Login
// can renew it for the page it renders or redirects to.
type csrfState struct {
	cookie *http.Cookie // a template: name and attributes
	token  string
}

func (m *Manager) csrfCookieName() string {
	if m.opts.Insecure {
		return "sessdb-csrf"
	}
	return DefaultCSRFCookieName
}

// CSRF returns middleware that refuses cross-site and token-less unsafe
// requests with 403 Forbidden, and makes CSRFToken available to handlers.
// It works with and without a session, so it also protects the login form.
func (m *Manager) CSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs := &csrfState{cookie: m.baseCookie(m.csrfCookieName(), "")}
		cs.cookie.SameSite = http.SameSiteStrictMode
		if c, err := r.Cookie(cs.cookie.Name); err == nil && len(c.Value) == csrfTokenLen {
			cs.token = c.Value
		}
		if !safeMethod(r.Method) {
			if err := SameOrigin(r); err != nil {
				http.Error(w, "Forbidden: "+err.Error(), http.StatusForbidden)
				return
			}
			sent := r.Header.Get(CSRFHeader)
			if sent == "" {
				r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
				sent = r.PostFormValue(CSRFField)
			}
			if cs.token == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(cs.token)) != 1 {
				http.Error(w, "Forbidden: missing or wrong CSRF token", http.StatusForbidden)
				return
			}
		}
		if cs.token == "" {
			cs.issue(w)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), csrfKey, cs)))
	})
}

// CSRFToken returns the token to put in the CSRFField of the request's forms
// (or in the CSRFHeader of its scripts' requests). It is "" when the CSRF
// middleware did not run.
func CSRFToken(r *http.Request) string {
	if cs, ok := r.Context().Value(csrfKey).(*csrfState); ok {
		return cs.token
	}
	return ""
}

// csrfTokenLen is the length of a token: 32 random bytes, base64url.
const csrfTokenLen = 43

func (cs *csrfState) issue(w http.ResponseWriter) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("web: crypto/rand: " + err.Error())
	}
	cs.token = base64.RawURLEncoding.EncodeToString(b[:])
	c := *cs.cookie
	c.Value = cs.token
	setCookie(w, &c)
}

// renewCSRF gives the request a new CSRF token when the CSRF middleware runs:
// a token seen before login is not the one used after it.
func renewCSRF(w http.ResponseWriter, r *http.Request) {
	if cs, ok := r.Context().Value(csrfKey).(*csrfState); ok {
		cs.issue(w)
	}
}

func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// SameOrigin returns an error when r comes from another site according to
// its fetch metadata (Sec-Fetch-Site other than same-origin or none) or, for
// browsers without it, its Origin header (not the request's Host). A request
// with neither header (curl, old browsers) passes: the CSRF token is the
// check that covers it. The CSRF middleware calls it for unsafe methods.
func SameOrigin(r *http.Request) error {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "same-origin", "none":
		return nil
	case "":
	default:
		return errors.New("cross-site request (Sec-Fetch-Site: " + site + ")")
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	if u, err := url.Parse(origin); origin == "null" || err != nil || u.Host != r.Host {
		return errors.New("cross-origin request (Origin does not match Host)")
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
