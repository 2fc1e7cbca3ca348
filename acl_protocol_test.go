package sessdb_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
)

// The ACL protocol test runs the same scripts of AUTH, HELLO, ACL and
// permission checks against sessdb and, when installed, redis-server 7.0,
// byte for byte, on several connections at once.

// startSessdbWith serves a new database in t.TempDir() with extra
// configuration directives ("--name", "value", ...) on 127.0.0.1, and
// returns the server and its address.
func startSessdbWith(t *testing.T, extra ...string) (*server.Server, string) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(append([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir}, extra...))
	require.NoError(t, err)
	db, err := sessdb.Open(filepath.Join(dir, cfg.DBFilename()), &sessdb.Options{Databases: cfg.Databases()})
	require.NoError(t, err)
	srv := server.New(cfg, db, nil)
	if err := srv.Listen(); err != nil {
		db.Close()
		require.NoError(t, err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		require.NoError(t, srv.Close())
		require.NoError(t, <-done)
		require.NoError(t, db.Close())
	})
	return srv, srv.Addr().String()
}

// aclStep is one step of an ACL script, on connection conn (0, 1, 2 …,
// each dialled on first use). closed expects the server to have closed it,
// push a message to arrive without a command.
type aclStep struct {
	conn   int
	step   step
	closed bool
	push   string
}

func on(conn int, s step) aclStep { return aclStep{conn: conn, step: s} }

// aclCase is a script run on a fresh server started with args (both
// sessdb and redis-server accept them); files are written into a
// directory first, whose path replaces "$DIR" in args and in the replies.
type aclCase struct {
	name       string
	args       []string
	files      map[string]string
	steps      []aclStep
	sessdbOnly string // why Redis is not asked: its answer differs by design
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func bulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

func bulks(ss ...string) string {
	out := fmt.Sprintf("*%d\r\n", len(ss))
	for _, s := range ss {
		out += bulk(s)
	}
	return out
}

// getuser is ACL GETUSER's RESP2 reply for a user without selectors.
func getuser(flags []string, passwords []string, commands, keys, channels string) string {
	return "*12\r\n" + bulk("flags") + bulks(flags...) + bulk("passwords") + bulks(passwords...) +
		bulk("commands") + bulk(commands) + bulk("keys") + bulk(keys) + bulk("channels") + bulk(channels) +
		bulk("selectors") + "*0\r\n"
}

const (
	nopermKeys = "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"
	wrongpass  = "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
	noauth     = "-NOAUTH Authentication required.\r\n"
)

func nopermCmd(name string) string {
	return "-NOPERM this user has no permissions to run the '" + name + "' command\r\n"
}

func setuserErr(rule, reason string) string {
	return "-ERR Error in ACL SETUSER modifier '" + rule + "': " + reason + "\r\n"
}

var secretHash = sha("secret")

// aclLogEntry is the pattern of one ACL LOG entry in RESP2 (the age and the
// client's CLIENT LIST line vary).
func aclLogEntry(count int, reason, context, object, user string) string {
	q := func(s string) string { return regexp.QuoteMeta(bulk(s)) }
	return `\*14\r\n` + q("count") + fmt.Sprintf(`:%d\r\n`, count) + q("reason") + q(reason) + q("context") + q(context) +
		q("object") + q(object) + q("username") + q(user) + q("age-seconds") + `\$\d+\r\n[0-9.e-]+\r\n` +
		q("client-info") + `\$\d+\r\nid=\d+ addr=127\.0\.0\.1:\d+ [^\r]* user=[^\r]*\r\n`
}

var aclCases = []aclCase{
	{name: "setuser, getuser, list and users", steps: []aclStep{
		on(0, do(args("ACL", "SETUSER", "app", "on", ">secret", "~sess:*", "+@read", "-keys"), "+OK\r\n")),
		on(0, do("ACL GETUSER app", getuser([]string{"on"}, []string{secretHash}, "-@all +@read -keys", "~sess:*", ""))),
		on(0, do("ACL LIST", bulks("user app on #"+secretHash+" ~sess:* resetchannels -@all +@read -keys", "user default on nopass ~* &* +@all"))),
		on(0, do("ACL USERS", bulks("app", "default"))),
		on(0, do("ACL GETUSER default", getuser([]string{"on", "nopass"}, nil, "+@all", "~*", "&*"))),
		on(0, do("ACL GETUSER nosuch", "$-1\r\n")),
		on(0, do("ACL SETUSER app >other <secret %R~r:* %W~w:* &news.*", "+OK\r\n")),
		on(0, do("ACL GETUSER app", getuser([]string{"on"}, []string{sha("other")}, "-@all +@read -keys", "~sess:* %R~r:* %W~w:*", "&news.*"))),
		on(0, do("ACL SETUSER app reset", "+OK\r\n")),
		on(0, do("ACL LIST", bulks("user app off sanitize-payload resetchannels -@all", "user default on nopass ~* &* +@all"))),
		on(0, do("ACL SETUSER app allcommands -flushall", "+OK\r\n")),
		on(0, do("ACL GETUSER app", getuser([]string{"off", "sanitize-payload"}, nil, "+@all -flushall", "", ""))),
		on(0, do("ACL SETUSER app nocommands +@hash +@set -smembers", "+OK\r\n")),
		on(0, do("ACL GETUSER app", getuser([]string{"off", "sanitize-payload"}, nil, "-@all +@hash +@set -smembers", "", ""))),
		on(0, do("ACL SETUSER app -@all +config|get allkeys nopass", "+OK\r\n")),
		on(0, do("ACL GETUSER app", getuser([]string{"off", "nopass", "sanitize-payload"}, nil, "-@all +config|get", "~*", ""))),
		on(0, do("ACL DELUSER app nosuch", ":1\r\n")),
		on(0, do("ACL USERS", bulks("default"))),
	}},
	{name: "setuser errors", steps: []aclStep{
		on(0, do(args("ACL", "SETUSER", "a b"), "-ERR Usernames can't contain spaces or null characters\r\n")),
		on(0, do(args("ACL", "SETUSER", "u", "~a b"), setuserErr("~a b", "Syntax error"))),
		on(0, do("ACL SETUSER u foo", setuserErr("foo", "Syntax error"))),
		on(0, do("ACL SETUSER u +nosuch", setuserErr("+nosuch", "Unknown command or category name in ACL"))),
		on(0, do("ACL SETUSER u +@nosuch", setuserErr("+@nosuch", "Unknown command or category name in ACL"))),
		on(0, do("ACL SETUSER u #abc", setuserErr("#abc", "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"))),
		on(0, do("ACL SETUSER u <nope", setuserErr("<nope", "The password you are trying to remove from the user does not exist"))),
		on(0, do("ACL SETUSER u ~* ~a", setuserErr("~a", "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"))),
		on(0, do("ACL SETUSER u &* &a", setuserErr("&a", "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"))),
		on(0, do("ACL SETUSER u +acl|whoami|x", setuserErr("+acl|whoami|x", "Allowing first-arg of a subcommand is not supported"))),
		on(0, do("ACL SETUSER u +get|", setuserErr("+get|", "Syntax error"))),
		on(0, do("ACL SETUSER u on (~a", "-ERR Unmatched parenthesis in acl selector starting at '(~a'.\r\n")),
		// A refused rule changes nothing: u was never created.
		on(0, do("ACL USERS", bulks("default"))),
		on(0, do("ACL DELUSER default", "-ERR The 'default' user cannot be removed\r\n")),
		on(0, do("ACL CAT nosuch", "-ERR Unknown category 'nosuch'\r\n")),
		on(0, do("ACL CAT a b", "-ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP.\r\n")),
		on(0, do("ACL GENPASS 0", "-ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096\r\n")),
		on(0, like("ACL GENPASS", `^\$64\r\n[0-9a-f]{64}\r\n$`)),
		on(0, like("ACL GENPASS 7", `^\$2\r\n[0-9a-f]{2}\r\n$`)),
		on(0, do("ACL FOO", "-ERR unknown subcommand 'FOO'. Try ACL HELP.\r\n")),
		on(0, do("ACL SETUSER", "-ERR wrong number of arguments for 'acl|setuser' command\r\n")),
		on(0, do("ACL WHOAMI x", "-ERR wrong number of arguments for 'acl|whoami' command\r\n")),
		on(0, do("ACL WHOAMI", bulk("default"))),
		on(0, do("ACL SAVE", "-ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.\r\n")),
		on(0, do("ACL LOAD", "-ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.\r\n")),
	}},
	{name: "auth and hello with users", steps: []aclStep{
		on(1, do("AUTH x", "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n")),
		on(1, do("AUTH nosuch x", wrongpass)),
		on(0, do("ACL SETUSER u on >p ~* +@all -@dangerous", "+OK\r\n")),
		on(1, do("AUTH u bad", wrongpass)),
		on(1, do("ACL WHOAMI", bulk("default"))),
		on(1, do("AUTH u p", "+OK\r\n")),
		on(1, do("ACL WHOAMI", bulk("u"))),
		on(1, do("ACL USERS", nopermCmd("acl|users"))),
		on(2, do("HELLO 3 AUTH u bad", wrongpass)),
		on(2, hello("HELLO 2 AUTH u p", "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$?\r\n?\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:?\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n")),
		on(2, do("ACL WHOAMI", bulk("u"))),
		on(0, do("ACL SETUSER u off", "+OK\r\n")),
		on(3, do("AUTH u p", wrongpass)),
		on(0, do("ACL SETUSER u on nopass", "+OK\r\n")),
		on(3, do("AUTH u anything", "+OK\r\n")),
		on(3, do("RESET", "+RESET\r\n")),
		on(3, do("ACL WHOAMI", bulk("default"))),
	}},
	{name: "requirepass sets the default user's password", args: []string{"--requirepass", "s3cret"}, steps: []aclStep{
		on(0, do("PING", noauth)),
		on(0, do("ACL WHOAMI", noauth)),
		on(0, do("AUTH wrong", wrongpass)),
		on(0, do("AUTH default wrong", wrongpass)),
		on(0, do("AUTH s3cret", "+OK\r\n")),
		on(0, do("ACL LIST", bulks("user default on #"+sha("s3cret")+" ~* &* +@all"))),
		// Redis 7.2 added "<proto>" to the text; sessdb follows 7.2.
		on(1, like("HELLO 3", `^-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO (<proto> )?AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n$`)),
		on(1, do("AUTH default s3cret", "+OK\r\n")),
		on(0, do(args("CONFIG", "SET", "requirepass", ""), "+OK\r\n")),
		on(0, do("ACL LIST", bulks("user default on nopass ~* &* +@all"))),
		on(2, do("PING", "+PONG\r\n")),
		on(0, do("ACL SETUSER default resetpass >viaacl", "+OK\r\n")),
		on(3, do("PING", noauth)),
		on(3, do("AUTH viaacl", "+OK\r\n")),
	}},
	{name: "command and key permissions", steps: []aclStep{
		on(0, do("ACL SETUSER app on nopass ~sess:* +@read +@write -keys -flushall", "+OK\r\n")),
		on(1, do("AUTH app any", "+OK\r\n")),
		on(1, do("GET foo", nopermKeys)),
		on(1, do("GET sess:1", "$-1\r\n")),
		on(1, do("KEYS *", nopermCmd("keys"))),
		on(1, do("CONFIG GET port", nopermCmd("config|get"))),
		on(1, do("SET sess:1 v", "+OK\r\n")),
		on(1, do("MGET sess:1 x", nopermKeys)),
		on(1, do("FLUSHALL", nopermCmd("flushall"))),
		on(1, do("ACL WHOAMI", nopermCmd("acl|whoami"))),
		on(1, do("PING", nopermCmd("ping"))),
		on(1, do("QUIT", "+OK\r\n")),
		on(0, do("ACL SETUSER rw on nopass %R~r:* %W~w:* +@all", "+OK\r\n")),
		on(2, do("AUTH rw x", "+OK\r\n")),
		on(2, do("GET r:1", "$-1\r\n")),
		on(2, do("SET r:1 x", nopermKeys)),
		on(2, do("SET w:1 x", "+OK\r\n")),
		on(2, do("GET w:1", nopermKeys)),
		on(2, do("DEL w:1", ":1\r\n")),
		on(0, do("ACL SETUSER sel on nopass allkeys -@all +select|0 +get", "+OK\r\n")),
		on(3, do("AUTH sel x", "+OK\r\n")),
		on(3, do("SELECT 0", "+OK\r\n")),
		on(3, do("SELECT 1", nopermCmd("select"))),
		on(0, do("ACL SETUSER chan on nopass allkeys allcommands resetchannels &news.*", "+OK\r\n")),
		on(4, do("AUTH chan x", "+OK\r\n")),
		on(4, do("PUBLISH news.today hi", ":0\r\n")),
		on(4, do("PUBLISH sport hi", "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n")),
		on(4, do("PSUBSCRIBE news.t*", "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n")),
		on(5, do("AUTH chan x", "+OK\r\n")),
		on(5, do("SUBSCRIBE news.today", "*3\r\n$9\r\nsubscribe\r\n$10\r\nnews.today\r\n:1\r\n")),
		on(6, do("AUTH chan x", "+OK\r\n")),
		on(6, do("PSUBSCRIBE news.*", "*3\r\n$10\r\npsubscribe\r\n$6\r\nnews.*\r\n:1\r\n")),
		on(0, do("ACL SETUSER chan resetchannels &news.today", "+OK\r\n")),
		// The pattern subscription is no longer allowed: that subscriber is
		// disconnected, the other one stays.
		{conn: 6, closed: true},
		on(0, do("PUBLISH news.today hello", ":1\r\n")),
		{conn: 5, push: "*3\r\n$7\r\nmessage\r\n$10\r\nnews.today\r\n$5\r\nhello\r\n"},
		on(0, do("ACL SETUSER chan resetchannels &sport", "+OK\r\n")),
		{conn: 5, closed: true},
		on(0, do("ACL SETUSER dr on nopass ~sess:* +@read -keys resetchannels &news +publish", "+OK\r\n")),
		on(0, do("ACL DRYRUN dr keys *", bulk("This user has no permissions to run the 'keys' command"))),
		on(0, do("ACL DRYRUN dr config get port", bulk("This user has no permissions to run the 'config|get' command"))),
		on(0, do("ACL DRYRUN dr mget sess:1 foo", bulk("This user has no permissions to access the 'foo' key"))),
		on(0, do("ACL DRYRUN dr publish sport x", bulk("This user has no permissions to access the 'sport' channel"))),
		on(0, do("ACL DRYRUN dr get sess:1", "+OK\r\n")),
		on(0, do("ACL DRYRUN nosuch get x", "-ERR User 'nosuch' not found\r\n")),
		on(0, do("ACL DRYRUN dr nosuchcmd x", "-ERR Command 'nosuchcmd' not found\r\n")),
	}},
	{name: "transactions", steps: []aclStep{
		on(0, do("ACL SETUSER tx on nopass ~* +@read +@transaction -keys", "+OK\r\n")),
		on(1, do("AUTH tx x", "+OK\r\n")),
		on(1, do("MULTI", "+OK\r\n")),
		on(1, do("GET k", "+QUEUED\r\n")),
		on(1, do("KEYS *", nopermCmd("keys"))),
		on(1, do("EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n")),
		on(1, do("MULTI", "+OK\r\n")),
		on(1, do("GET k", "+QUEUED\r\n")),
		on(0, do("ACL SETUSER tx -get", "+OK\r\n")),
		on(1, do("EXEC", "*1\r\n-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand\r\n")),
		on(0, do("ACL SETUSER tx -exec", "+OK\r\n")),
		on(1, do("MULTI", "+OK\r\n")),
		on(1, do("EXEC", "-EXECABORT Transaction discarded because of: NOPERM this user has no permissions to run the 'exec' command\r\n")),
	}},
	{name: "scripts", steps: []aclStep{
		on(0, do("SET sess:1 v", "+OK\r\n")),
		on(0, do("ACL SETUSER scr on nopass ~sess:* +@read +@scripting -keys", "+OK\r\n")),
		on(1, do("AUTH scr x", "+OK\r\n")),
		on(1, do(args("EVAL", "return redis.call('get',KEYS[1])", "1", "sess:1"), bulk("v"))),
		on(1, do(args("EVAL", "return redis.call('get',KEYS[1])", "1", "foo"), nopermKeys)),
		on(1, like(args("EVAL", "return redis.call('get','foo')", "0"), `^-ERR The user executing the script can't access at least one of the keys mentioned in the command arguments script: [0-9a-f]{40}, on @user_script:1\.\r\n$`)),
		on(1, do(args("EVAL", "return redis.pcall('keys','*')", "0"), "-ERR The user executing the script can't run this command or subcommand\r\n")),
		on(1, like(args("EVAL", "return redis.call('set','sess:1','x')", "0"), `^-ERR The user executing the script can't run this command or subcommand script: [0-9a-f]{40}, on @user_script:1\.\r\n$`)),
	}},
	{name: "acl log", steps: []aclStep{
		on(0, do("ACL SETUSER app on >secret ~sess:* +@read -keys", "+OK\r\n")),
		on(1, do("auth app wrong", wrongpass)),
		on(1, do("AUTH app wrong", wrongpass)),
		on(1, do("AUTH app wrong", wrongpass)),
		on(1, do("AUTH app secret", "+OK\r\n")),
		on(1, do("GET foo", nopermKeys)),
		on(1, do("KEYS *", nopermCmd("keys"))),
		on(1, do("MULTI", nopermCmd("multi"))),
		on(1, do("KEYS *", nopermCmd("keys"))),
		on(0, like("ACL LOG", `^\*5\r\n`+aclLogEntry(2, "command", "toplevel", "keys", "app")+aclLogEntry(1, "command", "toplevel", "multi", "app")+
			aclLogEntry(1, "key", "toplevel", "foo", "app")+aclLogEntry(2, "auth", "toplevel", "AUTH", "app")+aclLogEntry(1, "auth", "toplevel", "auth", "app")+`$`)),
		on(0, like("ACL LOG 1", `^\*1\r\n`+aclLogEntry(2, "command", "toplevel", "keys", "app")+`$`)),
		on(0, do("ACL LOG x", "-ERR value is not an integer or out of range\r\n")),
		on(0, do("ACL LOG -1", "*0\r\n")),
		on(0, do("ACL LOG RESET", "+OK\r\n")),
		on(0, do("ACL LOG", "*0\r\n")),
	}},
	{name: "deleting a user closes its connections", steps: []aclStep{
		on(0, do("ACL SETUSER gone on nopass ~* +@all", "+OK\r\n")),
		on(1, do("AUTH gone x", "+OK\r\n")),
		on(0, do("ACL DELUSER gone", ":1\r\n")),
		{conn: 1, closed: true},
		on(2, do("AUTH gone x", wrongpass)),
	}},
	{name: "aclfile", args: []string{"--aclfile", "$DIR/users.acl"},
		files: map[string]string{"users.acl": "user app on #" + secretHash + " ~sess:* resetchannels -@all +@read\n\nuser default on nopass ~* &* +@all\n"},
		steps: []aclStep{
			on(0, do("ACL LIST", bulks("user app on #"+secretHash+" ~sess:* resetchannels -@all +@read", "user default on nopass ~* &* +@all"))),
			on(1, do("AUTH app secret", "+OK\r\n")),
			on(1, do("GET sess:1", "$-1\r\n")),
			on(0, do("ACL SETUSER bob on >pw allkeys +@all -@dangerous", "+OK\r\n")),
			on(0, do("ACL SAVE", "+OK\r\n")),
			on(0, do("ACL SETUSER carol on", "+OK\r\n")),
			on(0, do("ACL LOAD", "+OK\r\n")),
			// ACL LOAD replaces the users: app's connection is closed.
			{conn: 1, closed: true},
			on(0, do("ACL USERS", bulks("app", "bob", "default"))),
			on(0, do("ACL LIST", bulks("user app on #"+secretHash+" ~sess:* resetchannels -@all +@read",
				"user bob on #"+sha("pw")+" ~* resetchannels +@all -@dangerous", "user default on nopass ~* &* +@all"))),
		}},
}

// Ensure that AUTH, HELLO AUTH, every ACL subcommand and the permission
// checks (commands, keys, channels, MULTI/EXEC, scripts) answer byte for
// byte like Redis 7.0.
func TestACLProtocol_Replies(t *testing.T) {
	for _, tc := range aclCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("sessdb", func(t *testing.T) {
				dir := writeACLFiles(t, tc.files)
				_, addr := startSessdbWith(t, expandDir(tc.args, dir)...)
				runACLSteps(t, addr, tc.steps)
			})
			t.Run("redis", func(t *testing.T) {
				if tc.sessdbOnly != "" {
					t.Skip(tc.sessdbOnly)
				}
				dir := writeACLFiles(t, tc.files)
				addr := startRedisWith(t, expandDir(tc.args, dir)...)
				runACLSteps(t, addr, tc.steps)
			})
		})
	}
}

// startRedisWith runs redis-server 7 on a free port with extra directives
// (which may require a password, so it is not queried), or skips the test.
func startRedisWith(t *testing.T, extra ...string) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip(noRedisServer)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	require.NoError(t, ln.Close())
	var out strings.Builder
	cmd := exec.Command(path, append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--daemonize", "no"}, extra...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", port)
	require.Eventually(t, func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err == nil
	}, 5*time.Second, 10*time.Millisecond, "redis-server did not start: %s", &out)
	return addr
}

func writeACLFiles(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	return dir
}

func expandDir(args []string, dir string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, "$DIR", dir)
	}
	return out
}

func runACLSteps(t *testing.T, addr string, steps []aclStep) {
	conns := map[int]*respClient{}
	for i, s := range steps {
		c := conns[s.conn]
		if c == nil {
			c = dialRESP(t, addr)
			conns[s.conn] = c
		}
		if s.push != "" {
			require.Equal(t, s.push, c.read(), "step %d", i)
			continue
		}
		if s.closed {
			require.NoError(t, c.conn.SetReadDeadline(time.Now().Add(5*time.Second)))
			_, err := c.r.ReadByte()
			require.ErrorIs(t, err, io.EOF, "step %d: connection %d should be closed", i, s.conn)
			continue
		}
		s.step.check(t, c)
	}
}

// Ensure that an ACL SAVE writes Redis's aclfile format, byte for byte the
// same file as Redis writes for the same users, readable only by its owner.
func TestACLProtocol_SaveFile(t *testing.T) {
	script := [][]string{
		{"ACL", "SETUSER", "app", "on", ">secret", "resetkeys", "-@all", "+@read", "~sess:*"},
		{"ACL", "SETUSER", "ops", "on", "#" + sha("x"), "allkeys", "allchannels", "+@all", "-@dangerous"},
		{"ACL", "SAVE"},
	}
	save := func(t *testing.T, addr, path string) string {
		c := dialRESP(t, addr)
		for _, cmd := range script {
			require.Equal(t, "+OK\r\n", c.do(cmd...), "%q", cmd)
		}
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		return string(data)
	}
	dir := writeACLFiles(t, map[string]string{"users.acl": ""})
	path := filepath.Join(dir, "users.acl")
	srv, addr := startSessdbWith(t, "--aclfile", path)
	_ = srv
	got := save(t, addr, path)
	assert.Equal(t, "user app on #"+secretHash+" ~sess:* resetchannels -@all +@read\n"+
		"user default on nopass ~* &* +@all\n"+
		"user ops on #"+sha("x")+" ~* &* +@all -@dangerous\n", got)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.NotContains(t, got, "secret", "only hashes are stored")

	t.Run("redis", func(t *testing.T) {
		rdir := writeACLFiles(t, map[string]string{"users.acl": ""})
		rpath := filepath.Join(rdir, "users.acl")
		raddr, _ := harnessStartRedis(t, "--aclfile", rpath)
		assert.Equal(t, save(t, raddr, rpath), got)
	})
}

// Ensure that a broken aclfile is refused whole, with Redis's error naming
// the file and line, at ACL LOAD (nothing changes) and at startup (the
// server does not start).
func TestACLProtocol_LoadErrors(t *testing.T) {
	dir := writeACLFiles(t, map[string]string{"users.acl": "user app on >x +@read\n"})
	path := filepath.Join(dir, "users.acl")
	_, addr := startSessdbWith(t, "--aclfile", path)
	c := dialRESP(t, addr)
	require.Equal(t, bulks("app", "default"), c.do("ACL", "USERS"))

	broken := "user app on >x +nosuch\nfoo bar\nuser app on\n"
	require.NoError(t, os.WriteFile(path, []byte(broken), 0o600))
	want := "-ERR " + path + ":1: Error in applying operation '+nosuch': Unknown command or category name in ACL. " + path + ":2 should start with user keyword followed by the username. WARNING: Duplicate user 'app' found on line 3. WARNING: ACL errors detected, no change to the previously active ACL rules was performed\r\n"
	require.Equal(t, want, c.do("ACL", "LOAD"))
	require.Equal(t, bulks("app", "default"), c.do("ACL", "USERS"), "a failed LOAD changes nothing")

	t.Run("redis", func(t *testing.T) {
		rdir := writeACLFiles(t, map[string]string{"users.acl": "user app on >x +@read\n"})
		rpath := filepath.Join(rdir, "users.acl")
		raddr, _ := harnessStartRedis(t, "--aclfile", rpath)
		rc := dialRESP(t, raddr)
		require.NoError(t, os.WriteFile(rpath, []byte(broken), 0o600))
		require.Equal(t, strings.ReplaceAll(want, path, rpath), rc.do("ACL", "LOAD"))
	})

	t.Run("startup", func(t *testing.T) {
		cfg, err := config.Load([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", t.TempDir(), "--aclfile", path})
		require.NoError(t, err)
		db, err := sessdb.Open(filepath.Join(cfg.Dir(), cfg.DBFilename()), nil)
		require.NoError(t, err)
		defer db.Close()
		err = server.New(cfg, db, nil).Listen()
		require.Error(t, err)
		assert.Contains(t, err.Error(), path+":1: Error in applying operation '+nosuch': Unknown command or category name in ACL")

		cfg, err = config.Load([]string{"--port", "0", "--bind", "127.0.0.1", "--aclfile", filepath.Join(t.TempDir(), "missing.acl")})
		require.NoError(t, err)
		err = server.New(cfg, db, nil).Listen()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "No such file or directory")
	})
}

// Ensure that an application user limited to the session commands
// ("-@all +@session") can create and read sessions but can run nothing
// else: not GET, KEYS, FLUSHALL or CONFIG.
func TestACLProtocol_SessionOnlyUser(t *testing.T) {
	_, addr := startSessdbWith(t, "--requirepass", "adminpw")
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: addr, Password: "adminpw"})
	defer admin.Close()
	require.NoError(t, admin.Do(ctx, "ACL", "SETUSER", "app", "reset", "on", ">apppw", "-@all", "+@session").Err())
	require.NoError(t, admin.Set(ctx, "secret-key", "v", 0).Err())
	users, err := admin.Do(ctx, "ACL", "LIST").StringSlice()
	require.NoError(t, err)
	assert.Contains(t, users, "user app on sanitize-payload #"+sha("apppw")+" resetchannels -@all +@session")

	app := redis.NewClient(&redis.Options{Addr: addr, Username: "app", Password: "apppw", Protocol: 2})
	defer app.Close()
	tok, err := app.Do(ctx, "SESS.CREATE", "alice").Text()
	require.NoError(t, err)
	sess, err := app.Do(ctx, "SESS.GET", tok).Slice()
	require.NoError(t, err)
	assert.Contains(t, sess, any("alice"))
	n, err := app.Do(ctx, "SESS.REVOKE", tok).Int()
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	deniedBefore := aclInfoCounter(t, admin, "acl_access_denied_cmd")
	for _, cmd := range [][]any{{"GET", "secret-key"}, {"KEYS", "*"}, {"FLUSHALL"}, {"CONFIG", "GET", "requirepass"}, {"ACL", "SETUSER", "app", "+@all"}, {"EVAL", "return 1", "0"}} {
		err := app.Do(ctx, cmd...).Err()
		require.Error(t, err, "%v", cmd)
		assert.True(t, strings.HasPrefix(err.Error(), "NOPERM this user has no permissions to run the '"), "%v: %v", cmd, err)
	}
	v, err := admin.Get(ctx, "secret-key").Result()
	require.NoError(t, err)
	assert.Equal(t, "v", v, "the denied FLUSHALL did nothing")
	assert.Equal(t, deniedBefore+6, aclInfoCounter(t, admin, "acl_access_denied_cmd"))

	// A wrong password for the app user is refused with Redis's error and
	// counted (go-redis tries HELLO AUTH, then AUTH).
	authBefore := aclInfoCounter(t, admin, "acl_access_denied_auth")
	bad := redis.NewClient(&redis.Options{Addr: addr, Username: "app", Password: "nope", MaxRetries: -1})
	defer bad.Close()
	err = bad.Ping(ctx).Err()
	require.Error(t, err)
	assert.Equal(t, "WRONGPASS invalid username-password pair or user is disabled.", err.Error())
	assert.Greater(t, aclInfoCounter(t, admin, "acl_access_denied_auth"), authBefore)
}

// aclInfoCounter reads one integer field of INFO stats.
func aclInfoCounter(t *testing.T, c *redis.Client, field string) int {
	t.Helper()
	info, err := c.Info(context.Background(), "stats").Result()
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^` + field + `:(\d+)\r$`).FindStringSubmatch(info)
	require.NotNil(t, m, "INFO stats lacks %s: %q", field, info)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return n
}
