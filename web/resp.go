package web

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessdb/sessdb"
)

// RESP returns a Store that talks to a sessdb server with the SESS.* commands
// through a go-redis client (RESP2 or RESP3, a single client, a ring or a
// cluster client alike).
//
// CreateOptions.Policy has no SESS.CREATE option: over RESP the server's
// session-limit-policy applies. Durations are sent in whole seconds, rounded up.
func RESP(c Doer) Store { return respStore{c} }

// Doer is the part of a go-redis client that RESP needs: *redis.Client,
// *redis.ClusterClient and *redis.Ring all have it.
type Doer interface {
	Do(ctx context.Context, args ...any) *redis.Cmd
}

type respStore struct{ c Doer }

var _ Store = respStore{}

// seconds renders a CreateOptions duration: negative means none (0 on the wire).
func seconds(d time.Duration) string {
	if d < 0 {
		return "0"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

func (r respStore) Create(ctx context.Context, user string, o sessdb.CreateOptions) (string, error) {
	args := []any{"SESS.CREATE", user}
	if o.Idle != 0 {
		args = append(args, "IDLE", seconds(o.Idle))
	}
	if o.Absolute != 0 {
		args = append(args, "ABSOLUTE", seconds(o.Absolute))
	}
	if o.Limit != 0 {
		args = append(args, "LIMIT", strconv.Itoa(max(o.Limit, 0)))
	}
	if len(o.Meta) > 0 {
		args = append(args, "META")
		for _, k := range sortedKeys(o.Meta) {
			args = append(args, k, o.Meta[k])
		}
	}
	tok, err := r.c.Do(ctx, args...).Text()
	return tok, mapError(err)
}

func (r respStore) Get(ctx context.Context, token string) (*sessdb.Session, error) {
	v, err := r.c.Do(ctx, "SESS.GET", token).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, mapError(err)
	}
	s, err := parseSession(v, true)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func (r respStore) Rotate(ctx context.Context, token string, grace time.Duration) (string, error) {
	args := []any{"SESS.ROTATE", token}
	if grace > 0 {
		args = append(args, "GRACE", seconds(grace))
	}
	tok, err := r.c.Do(ctx, args...).Text()
	if errors.Is(err, redis.Nil) {
		return "", sessdb.ErrNoSession
	}
	return tok, mapError(err)
}

func (r respStore) Reauth(ctx context.Context, token string) error {
	err := r.c.Do(ctx, "SESS.REAUTH", token).Err()
	if errors.Is(err, redis.Nil) {
		return sessdb.ErrNoSession
	}
	return mapError(err)
}

func (r respStore) Revoke(ctx context.Context, token string) (bool, error) {
	n, err := r.c.Do(ctx, "SESS.REVOKE", token).Int64()
	return n == 1, mapError(err)
}

func (r respStore) RevokeID(ctx context.Context, user, id string) (bool, error) {
	n, err := r.c.Do(ctx, "SESS.REVOKEID", user, id).Int64()
	return n == 1, mapError(err)
}

func (r respStore) RevokeUser(ctx context.Context, user, exceptToken string) (int, error) {
	args := []any{"SESS.REVOKEUSER", user}
	if exceptToken != "" {
		args = append(args, "EXCEPT", exceptToken)
	}
	n, err := r.c.Do(ctx, args...).Int64()
	return int(n), mapError(err)
}

func (r respStore) List(ctx context.Context, user string) ([]sessdb.Session, error) {
	v, err := r.c.Do(ctx, "SESS.LIST", user).Result()
	if err != nil {
		return nil, mapError(err)
	}
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("web: SESS.LIST replied %T", v)
	}
	out := make([]sessdb.Session, 0, len(items))
	for _, it := range items {
		s, err := parseSession(it, false)
		if err != nil {
			return nil, err
		}
		s.User = user
		out = append(out, s)
	}
	return out, nil
}

// mapError turns the server's session errors back into the embedded API's
// sentinel errors, so that callers handle both Stores alike.
func mapError(err error) error {
	var re redis.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re) && strings.HasPrefix(re.Error(), "LIMIT "):
		return fmt.Errorf("%w (%v)", sessdb.ErrSessionLimit, err)
	case errors.As(err, &re) && strings.HasPrefix(re.Error(), "ERR invalid user"):
		return fmt.Errorf("%w (%v)", sessdb.ErrInvalidUser, err)
	case errors.As(err, &re) && strings.HasPrefix(re.Error(), "ERR too many session fields"):
		return fmt.Errorf("%w (%v)", sessdb.ErrTooManyFields, err)
	case errors.As(err, &re) && strings.HasPrefix(re.Error(), "ERR session field name or value too long"):
		return fmt.Errorf("%w (%v)", sessdb.ErrFieldTooLong, err)
	}
	return err
}

// parseSession reads a SESS.GET or SESS.LIST entry: a RESP3 map or a RESP2
// flat array of field/value pairs. Times are unix milliseconds; 0 is "none".
func parseSession(v any, withData bool) (sessdb.Session, error) {
	pairs := map[string]any{}
	switch x := v.(type) {
	case map[any]any:
		for k, val := range x {
			ks, ok := k.(string)
			if !ok {
				return sessdb.Session{}, fmt.Errorf("web: session field name %T", k)
			}
			pairs[ks] = val
		}
	case map[string]any:
		pairs = x
	case []any:
		if len(x)%2 != 0 {
			return sessdb.Session{}, errors.New("web: session reply has an odd number of elements")
		}
		for i := 0; i < len(x); i += 2 {
			ks, ok := x[i].(string)
			if !ok {
				return sessdb.Session{}, fmt.Errorf("web: session field name %T", x[i])
			}
			pairs[ks] = x[i+1]
		}
	default:
		return sessdb.Session{}, fmt.Errorf("web: session reply %T", v)
	}
	s := sessdb.Session{Meta: map[string]string{}}
	if withData {
		s.Data = map[string]string{}
	}
	for k, val := range pairs {
		switch {
		case k == "id":
			s.ID = str(val)
		case k == "user":
			s.User = str(val)
		case k == "created":
			s.Created = millis(val)
		case k == "last_seen":
			s.LastSeen = millis(val)
		case k == "auth_time":
			s.AuthTime = millis(val)
		case k == "idle_deadline":
			s.IdleDeadline = millis(val)
		case k == "absolute_deadline":
			s.AbsoluteDeadline = millis(val)
		case strings.HasPrefix(k, "meta."):
			s.Meta[k[len("meta."):]] = str(val)
		case withData && strings.HasPrefix(k, "data."):
			s.Data[k[len("data."):]] = str(val)
		}
	}
	if s.ID == "" {
		return sessdb.Session{}, errors.New("web: session reply without an id")
	}
	return s, nil
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return fmt.Sprint(v)
}

// millis turns a unix-millisecond reply into a time; 0 (none) is the zero time.
func millis(v any) time.Time {
	var ms int64
	switch x := v.(type) {
	case int64:
		ms = x
	case string:
		ms, _ = strconv.ParseInt(x, 10, 64)
	}
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
