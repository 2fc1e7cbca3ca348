<?php
// phpredis native session handler against sessdb (issue 3, compatibility
// suite, PHP row). Run by compat/php_test.go; usable by hand too:
//
//   php session.php basic  <port>
//   php session.php holder <port> <sid> <hold_ms>   (takes the lock, writes, holds, closes)
//   php session.php waiter <port> <sid>             (must block on the holder's lock)
//   php session.php after  <port> <sid>             (checks no _LOCK key, unlock script cached, destroys)
//
// Prints "PASS ..." lines; any failure prints "FAIL ..." and exits 1.

declare(strict_types=1);

const PREFIX = 'PHPREDIS_SESSION:';
const MAXLIFE = 1234;
// phpredis' lock release script (redis_session.c, LOCK_RELEASE_LUA_STR).
const UNLOCK_LUA = 'if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end';

// Output goes straight to STDOUT, not through PHP's output layer: echo would
// mark headers as sent and the next session_start() would refuse to run.
function out(string $line): void
{
    fwrite(STDOUT, $line . "\n");
}

function fail(string $msg): void
{
    out("FAIL $msg");
    exit(1);
}

function check(bool $ok, string $msg): void
{
    if (!$ok) {
        fail($msg);
    }
    out("PASS $msg");
}

function configure(int $port): void
{
    $ini = [
        'session.save_handler' => 'redis',
        // persistent=1: the handler reuses one pooled connection and checks it
        // with ECHO (redis.pconnect.echo_check_liveness) before reuse.
        'session.save_path' => "tcp://127.0.0.1:$port?timeout=2&read_timeout=5&persistent=1",
        'session.gc_maxlifetime' => (string)MAXLIFE,
        'session.use_cookies' => '0',
        'session.cache_limiter' => '',
        'session.use_strict_mode' => '1', // validate_sid sends EXISTS and needs exactly :1
        'session.lazy_write' => '1',      // unchanged data -> EXPIRE instead of SETEX
        'redis.session.locking_enabled' => '1',
        'redis.session.lock_expire' => '30',        // SET k_LOCK v NX PX/EX
        'redis.session.lock_retries' => '2000',
        'redis.session.lock_wait_time' => '5000',   // microseconds between tries (10 s max)
    ];
    foreach ($ini as $k => $v) {
        if (ini_set($k, $v) === false) {
            fail("ini_set $k=$v");
        }
    }
}

function client(int $port): Redis
{
    $r = new Redis();
    if (!$r->connect('127.0.0.1', $port, 2.0)) {
        fail("connect 127.0.0.1:$port");
    }
    return $r;
}

function start(?string $sid = null): void
{
    if ($sid !== null) {
        session_id($sid);
    }
    if (!session_start()) {
        fail('session_start' . ($sid !== null ? " ($sid)" : ''));
    }
}

function closeSession(): void
{
    if (!session_write_close()) {
        fail('session_write_close');
    }
}

if ($argc < 3) {
    fwrite(STDERR, "usage: php session.php basic|holder|waiter|after <port> [sid] [hold_ms]\n");
    exit(2);
}
$mode = $argv[1];
$port = (int)$argv[2];
$sid = $argv[3] ?? null;
configure($port);
$r = client($port);

switch ($mode) {
case 'basic':
    // 1. New session (strict mode: the server-side id), write, close.
    start();
    $id = session_id();
    check($id !== '' && $id !== false, "basic: new session id $id");
    $_SESSION['user'] = 'alice';
    $_SESSION['n'] = 1;
    closeSession();
    $key = PREFIX . $id;
    check($r->exists($key) === 1, "basic: key $key exists after write");
    check($r->exists($key . '_LOCK') === 0, 'basic: lock released after first close');
    $ttl = $r->ttl($key);
    check($ttl > MAXLIFE - 5 && $ttl <= MAXLIFE, "basic: TTL $ttl matches gc_maxlifetime " . MAXLIFE);

    // 2. Same id again: EXISTS must say :1 or strict mode would mint a new id.
    $r->expire($key, 100);
    start($id);
    check(session_id() === $id, 'basic: strict mode kept the existing id (EXISTS :1)');
    check(($_SESSION['user'] ?? null) === 'alice' && ($_SESSION['n'] ?? null) === 1, 'basic: read back ' . json_encode($_SESSION));
    closeSession(); // unchanged data + lazy_write -> EXPIRE refresh
    $ttl = $r->ttl($key);
    check($ttl > MAXLIFE - 5 && $ttl <= MAXLIFE, "basic: unchanged session refreshed TTL to $ttl");

    // 3. Modify, check the stored value.
    start($id);
    $_SESSION['n']++;
    closeSession();
    $raw = $r->get($key);
    check(is_string($raw) && strpos($raw, 'n|i:2;') !== false, "basic: stored data updated: $raw");

    // 4. Unknown id under strict mode is replaced by a fresh one.
    start('nosuchsession' . bin2hex(random_bytes(4)));
    $other = session_id();
    check(strpos($other, 'nosuchsession') !== 0, "basic: unknown id rejected by strict mode (new id $other)");
    session_destroy();

    // 5. Destroy deletes the key (and the lock).
    start($id);
    check(session_destroy(), 'basic: session_destroy');
    check($r->exists($key) === 0, "basic: $key deleted by session_destroy");
    check($r->exists($key . '_LOCK') === 0, 'basic: no _LOCK key after destroy');
    break;

case 'holder':
    $hold = (int)($argv[4] ?? 1000);
    $key = PREFIX . $sid;
    // Seed the session so strict mode accepts the id.
    $r->setex($key, MAXLIFE, 'seed|s:1:"y";');
    start($sid);
    check(session_id() === $sid, "holder: session $sid started");
    $mine = $r->get($key . '_LOCK');
    check(is_string($mine) && $mine !== '', 'holder: holds ' . $key . '_LOCK = ' . json_encode($mine));
    $pttl = $r->pttl($key . '_LOCK');
    check($pttl > 0 && $pttl <= 30000, "holder: lock has expiry (PTTL $pttl)");
    out('LOCKED');
    usleep($hold * 1000);
    $_SESSION['holder'] = 'done';
    $_SESSION['order'] = ($_SESSION['order'] ?? '') . 'H';
    closeSession();
    // The waiter may take the lock the instant it is freed, so check that
    // *our* lock value is gone rather than that no lock key exists.
    $now = $r->get($key . '_LOCK');
    check($now !== $mine, 'holder: released its lock on close (lock now ' . json_encode($now) . ')');
    break;

case 'waiter':
    $t0 = microtime(true);
    start($sid);
    $waited = (int)round((microtime(true) - $t0) * 1000);
    out("waited {$waited}ms");
    check(($_SESSION['holder'] ?? null) === 'done', "waiter: saw the holder's write after waiting {$waited}ms");
    $_SESSION['waiter'] = 'done';
    $_SESSION['order'] = ($_SESSION['order'] ?? '') . 'W';
    closeSession();
    break;

case 'after':
    $key = PREFIX . $sid;
    check($r->exists($key . '_LOCK') === 0, 'after: no _LOCK key remains');
    $r->close();
    $r = client($port);
    start($sid);
    check(($_SESSION['order'] ?? null) === 'HW' && ($_SESSION['waiter'] ?? null) === 'done',
        'after: both writes kept in order ' . json_encode($_SESSION));
    $sha = sha1(UNLOCK_LUA);
    $exists = $r->script('exists', $sha);
    check($exists === [1], "after: unlock script $sha is in the script cache (EVALSHA/EVAL ran)");
    check(session_destroy(), 'after: session_destroy');
    check($r->exists($key) === 0 && $r->exists($key . '_LOCK') === 0, "after: $key and its lock deleted");
    break;

default:
    fail("unknown mode $mode");
}
out("PASS $mode done");
