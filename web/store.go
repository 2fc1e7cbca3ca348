package web

import (
	"context"
	"errors"
	"time"

	"github.com/sessdb/sessdb"
)

// Store is what the middleware needs from sessdb. Embedded and RESP implement
// it with the same behaviour, so an application can move from the embedded API
// to a sessdb server by changing one line.
//
// A token that names no live session is never an error: Get returns nil, and
// Rotate and Reauth return sessdb.ErrNoSession, as the embedded API does.
type Store interface {
	// Create starts a session for user and returns its token.
	Create(ctx context.Context, user string, o sessdb.CreateOptions) (string, error)
	// Get returns the session token names and slides its idle deadline, or
	// nil when the token names no live session.
	Get(ctx context.Context, token string) (*sessdb.Session, error)
	// Rotate gives the session a new token; the old one dies now, or after grace.
	Rotate(ctx context.Context, token string, grace time.Duration) (string, error)
	// Reauth records a re-authentication (auth_time and the absolute lifetime restart).
	Reauth(ctx context.Context, token string) error
	// Revoke ends the session token names and reports whether it was live.
	Revoke(ctx context.Context, token string) (bool, error)
	// RevokeID ends user's session with the public id and reports whether it was live.
	RevokeID(ctx context.Context, user, id string) (bool, error)
	// RevokeUser ends every session of user except the one exceptToken names ("" for none).
	RevokeUser(ctx context.Context, user, exceptToken string) (int, error)
	// List returns user's live sessions, oldest first, without their data bags.
	List(ctx context.Context, user string) ([]sessdb.Session, error)
}

// Embedded returns a Store backed by the embedded API of an open DB
// (db.Sessions()): no network, same process.
func Embedded(s *sessdb.Sessions) Store { return embedded{s} }

type embedded struct{ s *sessdb.Sessions }

var _ Store = embedded{}

func (e embedded) Create(ctx context.Context, user string, o sessdb.CreateOptions) (string, error) {
	return e.s.Create(ctx, user, o)
}

func (e embedded) Get(ctx context.Context, token string) (*sessdb.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return e.s.Get(token, true)
}

func (e embedded) Rotate(ctx context.Context, token string, grace time.Duration) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return e.s.Rotate(token, grace)
}

func (e embedded) Reauth(ctx context.Context, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return e.s.Reauth(token)
}

func (e embedded) Revoke(ctx context.Context, token string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return e.s.Revoke(token)
}

func (e embedded) RevokeID(ctx context.Context, user, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return e.s.RevokeID(user, id)
}

func (e embedded) RevokeUser(ctx context.Context, user, exceptToken string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return e.s.RevokeUser(user, exceptToken)
}

func (e embedded) List(ctx context.Context, user string) ([]sessdb.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return e.s.List(user)
}

// errorIsNoSession reports whether err means "no live session".
func errorIsNoSession(err error) bool { return errors.Is(err, sessdb.ErrNoSession) }
