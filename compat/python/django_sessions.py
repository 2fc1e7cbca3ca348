#!/usr/bin/env python3
"""Django cache-backed sessions (django-redis) against sessdb.

Issue 3 compatibility row "Django cache sessions". Standalone: Django is
configured in-process with settings.configure(), no project needed.

Usage: django_sessions.py <port>

Prints "PASS ..." lines; on any failure prints "FAIL ..." and exits 1.

Verified with Debian 12 packages python3-django 3.2.25, python3-django-redis
5.2.0, python3-redis 4.3.4 (use /usr/bin/python3: a pyenv python3 does not
see Debian's dist-packages).
"""

import sys
import time
import traceback

if len(sys.argv) != 2:
    print("usage: django_sessions.py <port>", file=sys.stderr)
    sys.exit(2)

PORT = int(sys.argv[1])
COOKIE_AGE = 1234

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(
    DEBUG=False,
    SECRET_KEY="sessdb-compat-not-secret",
    ALLOWED_HOSTS=["*"],
    INSTALLED_APPS=["django.contrib.sessions"],
    CACHES={
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:%d/1" % PORT,
            "KEY_PREFIX": "dj",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5},
        }
    },
    SESSION_ENGINE="django.contrib.sessions.backends.cache",
    SESSION_COOKIE_AGE=COOKIE_AGE,
    MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
    USE_TZ=True,
)
django.setup()

import redis  # noqa: E402
import django_redis  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.contrib.sessions.backends.cache import SessionStore  # noqa: E402
from django.contrib.sessions.middleware import SessionMiddleware  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402

# Plain client on db 1 used to check what actually landed in sessdb.
R = redis.Redis(host="127.0.0.1", port=PORT, db=1, socket_timeout=5)


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def find_keys(pattern):
    return sorted(k.decode() for k in R.scan_iter(match=pattern, count=100))


def session_redis_key(session_key):
    keys = find_keys("*" + session_key)
    check(len(keys) == 1, "SCAN MATCH *%s: want 1 key, got %r" % (session_key, keys))
    return keys[0]


def ttl_near(key, want, slack=5):
    ttl = R.ttl(key)
    check(want - slack <= ttl <= want, "TTL %s = %r, want ~%d" % (key, ttl, want))
    return ttl


def test_session_store():
    s = SessionStore()
    s["user_id"] = 42
    s["cart"] = ["a", "b"]
    s.save()
    skey = s.session_key
    check(skey, "no session key after save()")
    rkey = session_redis_key(skey)
    check(rkey == "dj:1:django.contrib.sessions.cache" + skey, "unexpected redis key %r" % rkey)
    ttl = ttl_near(rkey, COOKIE_AGE)
    print("PASS session save: key %s in db 1, TTL %d" % (rkey, ttl))

    # Not in db 0.
    r0 = redis.Redis(host="127.0.0.1", port=PORT, db=0, socket_timeout=5)
    check(r0.exists(rkey) == 0, "session key leaked into db 0")
    r0.close()

    loaded = SessionStore(session_key=skey)
    check(loaded.get("user_id") == 42, "load: user_id=%r" % loaded.get("user_id"))
    check(loaded["cart"] == ["a", "b"], "load: cart=%r" % loaded.get("cart"))
    check(SessionStore().exists(skey), "exists(%s) false" % skey)
    print("PASS session load by key")

    # Unknown key: empty session, and a new key on save (no session fixation).
    ghost = SessionStore(session_key="x" * 32)
    check(dict(ghost.items()) == {}, "unknown key loaded data %r" % dict(ghost.items()))
    check(not SessionStore().exists("x" * 32), "exists() true for unknown key")
    print("PASS unknown session key loads empty")

    loaded["user_id"] = 43
    loaded.save()
    check(SessionStore(session_key=skey)["user_id"] == 43, "modified value not saved")
    print("PASS session modify + save")

    # cycle_key: new key, old key gone, data kept.
    loaded.cycle_key()
    nkey = loaded.session_key
    check(nkey and nkey != skey, "cycle_key kept the key")
    check(find_keys("*" + skey) == [], "old key still present after cycle_key")
    nrkey = session_redis_key(nkey)
    ttl_near(nrkey, COOKIE_AGE)
    again = SessionStore(session_key=nkey)
    check(again.get("user_id") == 43 and again.get("cart") == ["a", "b"], "cycle_key lost data: %r" % dict(again.items()))
    check(dict(SessionStore(session_key=skey).items()) == {}, "old key still loads data")
    print("PASS cycle_key: %s -> %s, data kept, old key gone" % (skey, nkey))

    # set_expiry changes the TTL.
    again.set_expiry(300)
    again.save()
    ttl = ttl_near(nrkey, 300)
    check(SessionStore(session_key=nkey).get_expiry_age() == 300, "stored expiry age not 300")
    print("PASS set_expiry(300): TTL %d" % ttl)
    again.set_expiry(None)
    again.save()
    ttl = ttl_near(nrkey, COOKIE_AGE)
    print("PASS set_expiry(None): TTL back to %d" % ttl)
    again.set_expiry(2)
    again.save()
    ttl_near(nrkey, 2, slack=2)
    # Do not wait two seconds: bring the deadline forward, then poll (bounded).
    R.pexpire(nrkey, 1)
    check(wait_gone(nrkey), "session with set_expiry(2) still exists after its deadline")
    check(dict(SessionStore(session_key=nkey).items()) == {}, "expired session still loads")
    print("PASS set_expiry(2): session expired")

    # delete(): key removed.
    d = SessionStore()
    d["x"] = 1
    d.save()
    dk = d.session_key
    session_redis_key(dk)
    d.delete()
    check(find_keys("*" + dk) == [], "delete() left the key")
    print("PASS delete() removes key")

    # flush(): key removed, session emptied, new key not saved until used.
    f = SessionStore()
    f["x"] = 1
    f.save()
    fk = f.session_key
    session_redis_key(fk)
    f.flush()
    check(find_keys("*" + fk) == [], "flush() left the key")
    check(f.session_key is None and dict(f.items()) == {}, "flush() kept data/key")
    print("PASS flush() removes key")


def test_middleware():
    rf = RequestFactory()

    def view_set(request):
        request.session["visits"] = request.session.get("visits", 0) + 1
        return HttpResponse("visits=%d" % request.session["visits"])

    def view_logout(request):
        request.session.flush()
        return HttpResponse("bye")

    name = settings.SESSION_COOKIE_NAME

    req = rf.get("/")
    resp = SessionMiddleware(view_set)(req)
    check(resp.content == b"visits=1", "first request: %r" % resp.content)
    check(name in resp.cookies, "no session cookie set")
    cookie = resp.cookies[name]
    sid = cookie.value
    check(int(cookie["max-age"]) == COOKIE_AGE, "cookie max-age %r" % cookie["max-age"])
    ttl_near(session_redis_key(sid), COOKIE_AGE)

    req = rf.get("/")
    req.COOKIES[name] = sid
    resp = SessionMiddleware(view_set)(req)
    check(resp.content == b"visits=2", "second request: %r" % resp.content)
    check(SessionStore(session_key=sid)["visits"] == 2, "visits not persisted")

    req = rf.get("/")
    req.COOKIES[name] = sid
    resp = SessionMiddleware(view_logout)(req)
    check(resp.cookies[name].value == "", "logout did not clear the cookie")
    check(find_keys("*" + sid) == [], "logout left the session key")
    print("PASS SessionMiddleware: cookie %s, visits 1->2, flush on logout" % sid)


def test_cache_api():
    cache.delete_many(["a", "b", "c", "nx", "px", "persist"])

    # add -> SET NX PX
    check(cache.add("nx", "first", timeout=100) is True, "add on missing key returned False")
    check(cache.add("nx", "second", timeout=100) is False, "add on existing key returned True")
    check(cache.get("nx") == "first", "add overwrote: %r" % cache.get("nx"))
    ttl_near("dj:1:nx", 100)
    print("PASS cache.add (SET NX PX)")

    # set with timeout -> SET PX; get; has_key -> EXISTS
    cache.set("px", {"k": [1, 2]}, timeout=60)
    check(cache.get("px") == {"k": [1, 2]}, "get after set: %r" % cache.get("px"))
    ttl_near("dj:1:px", 60)
    pttl = R.pttl("dj:1:px")
    check(55000 <= pttl <= 60000, "PTTL %r" % pttl)
    check(cache.has_key("px"), "has_key false after set")
    check("px" in cache, "'px' in cache false")
    check(cache.get("missing", "dflt") == "dflt", "get default")
    check(not cache.has_key("missing"), "has_key true for missing key")
    print("PASS cache.set(timeout) / get / has_key (SET PX, GET, EXISTS)")

    # integers are stored unpickled by django-redis; check raw value
    cache.set("c", 7, timeout=60)
    check(R.get("dj:1:c") == b"7", "raw int value %r" % R.get("dj:1:c"))
    check(cache.get("c") == 7, "int roundtrip")

    # timeout=None -> no expiry; touch -> PEXPIRE / PERSIST
    cache.set("persist", "v", timeout=None)
    check(R.ttl("dj:1:persist") == -1, "timeout=None TTL %r" % R.ttl("dj:1:persist"))
    check(cache.touch("persist", 30) is True, "touch returned False")
    ttl_near("dj:1:persist", 30)
    check(cache.touch("persist", None) is True, "touch(None) returned False")
    check(R.ttl("dj:1:persist") == -1, "touch(None) TTL %r" % R.ttl("dj:1:persist"))
    check(cache.touch("missing", 30) is False, "touch on missing key returned True")
    print("PASS cache.touch (PEXPIRE, PERSIST)")

    # set_many (pipeline) / get_many (MGET)
    cache.set_many({"a": 1, "b": "two", "c": [3]}, timeout=90)
    got = cache.get_many(["a", "b", "c", "missing"])
    check(got == {"a": 1, "b": "two", "c": [3]}, "get_many %r" % got)
    for k in ("a", "b", "c"):
        ttl_near("dj:1:" + k, 90)
    print("PASS cache.set_many / get_many (pipeline SET PX, MGET)")

    # timeout <= 0 deletes (django-redis), delete / delete_many -> DEL
    cache.set("a", "gone", timeout=0)
    check(R.exists("dj:1:a") == 0, "set(timeout=0) did not delete")
    check(cache.delete("b") is True, "delete existing returned False")
    check(cache.delete("b") is False, "delete missing returned True")
    cache.delete_many(["c", "nx", "px", "persist"])
    check(cache.get_many(["a", "b", "c", "nx", "px", "persist"]) == {}, "keys left after delete_many")
    print("PASS cache.delete / delete_many (DEL)")

    # short timeout really expires
    cache.set("short", "v", timeout=0.5)
    check(cache.get("short") == "v", "short get")
    check(0 < R.pttl("dj:1:short") <= 500, "0.5s timeout not set as PX 500")
    R.pexpire("dj:1:short", 1)
    check(wait_gone("dj:1:short"), "short key did not expire")
    check(cache.get("short") is None, "expired key still readable")
    print("PASS cache.set(timeout=0.5) expires")


def wait_gone(key, limit=3.0):
    """Polls (bounded) until key is gone; the server expires it, nothing waits for a TTL to run out."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if R.exists(key) == 0:
            return True
        time.sleep(0.005)
    return False


def main():
    print(
        "INFO django %s, django-redis %s, redis-py %s, python %s"
        % (django.get_version(), django_redis.__version__, redis.__version__, sys.version.split()[0])
    )
    step = "setup"
    try:
        R.ping()
        for step, fn in (
            ("session store", test_session_store),
            ("middleware", test_middleware),
            ("cache api", test_cache_api),
        ):
            fn()
        left = find_keys("dj:*")
        check(left == [], "keys left behind: %r" % left)
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        print("FAIL %s: %s: %s" % (step, type(e).__name__, e))
        sys.exit(1)
    print("PASS django sessions done")


if __name__ == "__main__":
    main()
