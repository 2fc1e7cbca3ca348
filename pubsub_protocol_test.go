package sessdb_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// The Pub/Sub tests drive sessdb and, when it is installed, a real
// redis-server with the same raw RESP and the same expectations, byte for
// byte: confirmations, message frames, the subscribed-mode rules, RESP3
// pushes and the keyspace events of every command sessdb has.

// psBulk renders a bulk string.
func psBulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

// psFrame renders a Pub/Sub frame of bulk strings: an array in RESP2, a push in RESP3.
func psFrame(resp3 bool, parts ...string) string {
	head := "*"
	if resp3 {
		head = ">"
	}
	var b strings.Builder
	b.WriteString(head + strconv.Itoa(len(parts)) + "\r\n")
	for _, p := range parts {
		b.WriteString(psBulk(p))
	}
	return b.String()
}

// psConfirm renders a (un)subscribe confirmation; channel "" is the null
// channel of an unsubscribe that had nothing to remove.
func psConfirm(resp3 bool, kind, channel string, count int) string {
	head, null := "*3\r\n", "$-1\r\n"
	if resp3 {
		head, null = ">3\r\n", "_\r\n"
	}
	ch := null
	if channel != "" {
		ch = psBulk(channel)
	}
	return head + psBulk(kind) + ch + ":" + strconv.Itoa(count) + "\r\n"
}

func psMessage(ch, msg string) string       { return psFrame(false, "message", ch, msg) }
func psPMessage(pat, ch, msg string) string { return psFrame(false, "pmessage", pat, ch, msg) }

// psRaw sends one command whose replies are several frames.
func psRaw(cmd string, want ...string) step {
	return raw(string(encodeCommand(strings.Fields(cmd))), want...)
}

// psContext is the error of a command refused in RESP2 subscribed mode.
func psContext(name string) string {
	return "-ERR Can't execute '" + name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
}

var pubsubHelp = []string{
	"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CHANNELS [<pattern>]",
	"    Return the currently active channels matching a <pattern> (default: '*').",
	"NUMPAT",
	"    Return number of subscriptions to patterns.",
	"NUMSUB [<channel> ...]",
	"    Return the number of subscribers for the specified channels, excluding",
	"    pattern subscriptions(default: no channels).",
	"SHARDCHANNELS [<pattern>]",
	"    Return the currently active shard level channels matching a <pattern> (default: '*').",
	"SHARDNUMSUB [<shardchannel> ...]",
	"    Return the number of subscribers for the specified shard level channel(s)",
	"HELP",
	"    Prints this help.",
}

func psHelpReply() string {
	s := "*" + strconv.Itoa(len(pubsubHelp)) + "\r\n"
	for _, l := range pubsubHelp {
		s += "+" + l + "\r\n"
	}
	return s
}

// pubsubCases run on one connection each.
var pubsubCases = []protoCase{
	{name: "subscribe and unsubscribe confirmations", steps: []step{
		psRaw("SUBSCRIBE a b", psConfirm(false, "subscribe", "a", 1), psConfirm(false, "subscribe", "b", 2)),
		psRaw("PSUBSCRIBE p*", psConfirm(false, "psubscribe", "p*", 3)),
		psRaw("SUBSCRIBE a", psConfirm(false, "subscribe", "a", 3)),
		psRaw("SSUBSCRIBE s", psConfirm(false, "ssubscribe", "s", 1)),
		psRaw("UNSUBSCRIBE b", psConfirm(false, "unsubscribe", "b", 2)),
		psRaw("UNSUBSCRIBE nope", psConfirm(false, "unsubscribe", "nope", 2)),
		psRaw("PUNSUBSCRIBE nope*", psConfirm(false, "punsubscribe", "nope*", 2)),
		psRaw("UNSUBSCRIBE", psConfirm(false, "unsubscribe", "a", 1)),
		psRaw("UNSUBSCRIBE", psConfirm(false, "unsubscribe", "", 1)),
		psRaw("PUNSUBSCRIBE", psConfirm(false, "punsubscribe", "p*", 0)),
		psRaw("PUNSUBSCRIBE", psConfirm(false, "punsubscribe", "", 0)),
		psRaw("SUNSUBSCRIBE", psConfirm(false, "sunsubscribe", "s", 0)),
		psRaw("SUNSUBSCRIBE", psConfirm(false, "sunsubscribe", "", 0)),
		do("GET k", "$-1\r\n"),
		do("PING", "+PONG\r\n"),
	}},
	{name: "unsubscribe without subscriptions", steps: []step{
		psRaw("UNSUBSCRIBE", psConfirm(false, "unsubscribe", "", 0)),
		psRaw("UNSUBSCRIBE x y", psConfirm(false, "unsubscribe", "x", 0), psConfirm(false, "unsubscribe", "y", 0)),
		psRaw("PUNSUBSCRIBE", psConfirm(false, "punsubscribe", "", 0)),
		psRaw("SUNSUBSCRIBE", psConfirm(false, "sunsubscribe", "", 0)),
		do("GET k", "$-1\r\n"),
	}},
	{name: "RESP2 subscribed mode allows only the Pub/Sub commands", steps: []step{
		psRaw("SUBSCRIBE a", psConfirm(false, "subscribe", "a", 1)),
		do("GET k", psContext("get")),
		do("SET k v", psContext("set")),
		do("CLIENT LIST", psContext("client|list")),
		do("PUBSUB NUMPAT", psContext("pubsub|numpat")),
		do("PUBLISH a m", psContext("publish")),
		do("MULTI", psContext("multi")),
		do("PING", "*2\r\n$4\r\npong\r\n$0\r\n\r\n"),
		do("PING hi", "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"),
		do("PING a b", "-ERR wrong number of arguments for 'ping' command\r\n"),
		do("NOSUCH", "-ERR unknown command 'NOSUCH', with args beginning with: \r\n"),
		do("SUBSCRIBE", "-ERR wrong number of arguments for 'subscribe' command\r\n"),
		psRaw("PSUBSCRIBE x*", psConfirm(false, "psubscribe", "x*", 2)),
		do("RESET", "+RESET\r\n"),
		do("GET k", "$-1\r\n"),
		do("PUBSUB NUMSUB a", "*2\r\n$1\r\na\r\n:0\r\n"),
		do("PUBSUB NUMPAT", ":0\r\n"),
		psRaw("SUBSCRIBE a", psConfirm(false, "subscribe", "a", 1)),
		do("QUIT", "+OK\r\n"),
	}},
	{name: "PUBSUB introspection and errors", steps: []step{
		do("PUBLISH nobody m", ":0\r\n"),
		do("SPUBLISH nobody m", ":0\r\n"),
		do("PUBSUB CHANNELS", "*0\r\n"),
		do("PUBSUB CHANNELS a*", "*0\r\n"),
		do("PUBSUB NUMSUB", "*0\r\n"),
		do("PUBSUB NUMSUB a b", "*4\r\n$1\r\na\r\n:0\r\n$1\r\nb\r\n:0\r\n"),
		do("PUBSUB NUMPAT", ":0\r\n"),
		do("PUBSUB SHARDCHANNELS", "*0\r\n"),
		do("PUBSUB SHARDNUMSUB s", "*2\r\n$1\r\ns\r\n:0\r\n"),
		do("PUBSUB HELP", psHelpReply()),
		do("PUBSUB", "-ERR wrong number of arguments for 'pubsub' command\r\n"),
		do("PUBSUB FOO", "-ERR unknown subcommand 'FOO'. Try PUBSUB HELP.\r\n"),
		do("PUBSUB CHANNELS a b", "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n"),
		do("PUBSUB NUMPAT x", "-ERR wrong number of arguments for 'pubsub|numpat' command\r\n"),
		do("PUBLISH a", "-ERR wrong number of arguments for 'publish' command\r\n"),
		do("PSUBSCRIBE", "-ERR wrong number of arguments for 'psubscribe' command\r\n"),
	}},
	{name: "SUBSCRIBE inside MULTI", steps: []step{
		do("MULTI", "+OK\r\n"),
		do("SUBSCRIBE a", "+QUEUED\r\n"),
		do("GET x", "+QUEUED\r\n"),
		do("EXEC", "*2\r\n"+psConfirm(false, "subscribe", "a", 1)+"$-1\r\n"),
		do("GET x", psContext("get")),
		do("EXEC", "-EXECABORT Transaction discarded because of: Can't execute 'exec': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"),
	}},
	{name: "RESP3 push frames", resp3: true, steps: []step{
		psRaw("SUBSCRIBE a", psConfirm(true, "subscribe", "a", 1)),
		psRaw("PSUBSCRIBE a*", psConfirm(true, "psubscribe", "a*", 2)),
		do("GET k", "_\r\n"),
		do("PING", "+PONG\r\n"),
		psRaw("PUBLISH a hi", psFrame(true, "message", "a", "hi"), psFrame(true, "pmessage", "a*", "a", "hi"), ":2\r\n"),
		psRaw("PUBLISH ab x", psFrame(true, "pmessage", "a*", "ab", "x"), ":1\r\n"),
		do("PUBSUB NUMSUB a", "*2\r\n$1\r\na\r\n:1\r\n"),
		psRaw("SSUBSCRIBE s", psConfirm(true, "ssubscribe", "s", 1)),
		psRaw("SPUBLISH s m", psFrame(true, "smessage", "s", "m"), ":1\r\n"),
		psRaw("UNSUBSCRIBE", psConfirm(true, "unsubscribe", "a", 1)),
		psRaw("UNSUBSCRIBE", psConfirm(true, "unsubscribe", "", 1)),
		psRaw("PUNSUBSCRIBE", psConfirm(true, "punsubscribe", "a*", 0)),
		psRaw("SUNSUBSCRIBE", psConfirm(true, "sunsubscribe", "s", 0)),
		do("MULTI", "+OK\r\n"),
		do("SUBSCRIBE z", "+QUEUED\r\n"),
		do("PUBLISH z x", "+QUEUED\r\n"),
		// Redis writes a push where it happens, inside EXEC's array (a
		// reader that does not set pushes aside counts it as an element).
		raw(string(encodeCommand([]string{"EXEC"})), "*2\r\n"+psConfirm(true, "subscribe", "z", 1)+psFrame(true, "message", "z", "x"), ":1\r\n"),
		do("QUIT", "+OK\r\n"),
	}},
	{name: "RESP3 keyspace events on the subscriber's own connection", resp3: true, steps: []step{
		do("CONFIG SET notify-keyspace-events KEA", "+OK\r\n"),
		psRaw("SUBSCRIBE __keyspace@0__:k", psConfirm(true, "subscribe", "__keyspace@0__:k", 1)),
		// The event of a command comes before its reply, as in Redis.
		psRaw("SET k v", psFrame(true, "message", "__keyspace@0__:k", "set"), "+OK\r\n"),
		do("GET k", "$1\r\nv\r\n"),
		psRaw("APPEND k w", psFrame(true, "message", "__keyspace@0__:k", "append"), ":2\r\n"),
		do("MULTI", "+OK\r\n"),
		do("SET k x", "+QUEUED\r\n"),
		do("DEL k", "+QUEUED\r\n"),
		raw(string(encodeCommand([]string{"EXEC"})), "*2\r\n"+psFrame(true, "message", "__keyspace@0__:k", "set")+"+OK\r\n",
			psFrame(true, "message", "__keyspace@0__:k", "del"), ":1\r\n"),
		do(args("CONFIG", "SET", "notify-keyspace-events", ""), "+OK\r\n"),
		do("SET k v", "+OK\r\n"),
	}},
}

// Ensure that sessdb answers every Pub/Sub case byte for byte like Redis.
func TestPubSub_Replies(t *testing.T) {
	t.Run("sessdb", func(t *testing.T) {
		runCases(t, startSessdb(t, t.TempDir()).addr, "", pubsubCases)
	})
	t.Run("redis", func(t *testing.T) {
		addr, version := startRedis(t)
		runCases(t, addr, version, pubsubCases)
	})
}

// psHello3 switches a raw connection to RESP3.
func psHello3(t *testing.T, c *respClient) {
	t.Helper()
	require.True(t, strings.HasPrefix(c.do("HELLO", "3"), "%7\r\n"))
}

// Ensure that messages reach channel and pattern subscribers on RESP2 and
// RESP3 connections, and that PUBSUB, INFO and CLIENT LIST count them.
func TestPubSub_Messages(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		sub2, sub3, pub := dialRESP(t, addr), dialRESP(t, addr), dialRESP(t, addr)
		psHello3(t, sub3)
		require.Equal(t, psConfirm(false, "subscribe", "news", 1), sub2.do("SUBSCRIBE", "news"))
		require.Equal(t, psConfirm(false, "psubscribe", "n*", 2), sub2.do("PSUBSCRIBE", "n*"))
		require.Equal(t, psConfirm(true, "subscribe", "news", 1), sub3.do("SUBSCRIBE", "news"))

		require.Equal(t, ":3\r\n", pub.do("PUBLISH", "news", "hello"))
		require.Equal(t, psMessage("news", "hello"), sub2.read())
		require.Equal(t, psPMessage("n*", "news", "hello"), sub2.read())
		require.Equal(t, psFrame(true, "message", "news", "hello"), sub3.read())

		// Messages are binary safe.
		odd := "a\r\nb\x00c"
		require.Equal(t, ":3\r\n", pub.do("PUBLISH", "news", odd))
		require.Equal(t, psMessage("news", odd), sub2.read())
		require.Equal(t, psPMessage("n*", "news", odd), sub2.read())
		require.Equal(t, psFrame(true, "message", "news", odd), sub3.read())
		require.Equal(t, ":3\r\n", pub.do("PUBLISH", "news", ""))
		require.Equal(t, psMessage("news", ""), sub2.read())
		require.Equal(t, psPMessage("n*", "news", ""), sub2.read())
		require.Equal(t, psFrame(true, "message", "news", ""), sub3.read())

		require.Equal(t, ":1\r\n", pub.do("PUBLISH", "nx", "y"))
		require.Equal(t, psPMessage("n*", "nx", "y"), sub2.read())
		require.Equal(t, ":0\r\n", pub.do("PUBLISH", "other", "z"))

		require.Equal(t, "*4\r\n$4\r\nnews\r\n:2\r\n$2\r\nnx\r\n:0\r\n", pub.do("PUBSUB", "NUMSUB", "news", "nx"))
		require.Equal(t, ":1\r\n", pub.do("PUBSUB", "NUMPAT"))
		require.Equal(t, "*1\r\n$4\r\nnews\r\n", pub.do("PUBSUB", "CHANNELS"))
		require.Equal(t, "*1\r\n$4\r\nnews\r\n", pub.do("PUBSUB", "CHANNELS", "n*"))
		require.Equal(t, "*0\r\n", pub.do("PUBSUB", "CHANNELS", "x*"))
		info := pub.do("INFO", "stats")
		require.Contains(t, info, "pubsub_channels:1\r\n")
		require.Contains(t, info, "pubsub_patterns:1\r\n")
		list := pub.do("CLIENT", "LIST", "TYPE", "pubsub")
		require.Regexp(t, `flags=P db=0 sub=1 psub=1 ssub=0 .*resp=2`, list)
		require.Regexp(t, `flags=P db=0 sub=1 psub=0 ssub=0 .*resp=3`, list)
		require.Equal(t, 2, strings.Count(list, "flags=P"))
		require.NotContains(t, pub.do("CLIENT", "LIST", "TYPE", "normal"), "flags=P")

		// Shard channels are a namespace of their own.
		require.Equal(t, psConfirm(true, "ssubscribe", "sh", 1), sub3.do("SSUBSCRIBE", "sh"))
		require.Equal(t, ":0\r\n", pub.do("PUBLISH", "sh", "m"))
		require.Equal(t, ":1\r\n", pub.do("SPUBLISH", "sh", "m"))
		require.Equal(t, psFrame(true, "smessage", "sh", "m"), sub3.read())
		require.Equal(t, "*1\r\n$2\r\nsh\r\n", pub.do("PUBSUB", "SHARDCHANNELS"))
		require.Equal(t, "*2\r\n$2\r\nsh\r\n:1\r\n", pub.do("PUBSUB", "SHARDNUMSUB", "sh"))
		require.Contains(t, pub.do("INFO", "stats"), "pubsubshard_channels:1\r\n")

		// After UNSUBSCRIBE only the pattern still reaches sub2.
		require.Equal(t, psConfirm(false, "unsubscribe", "news", 1), sub2.do("UNSUBSCRIBE"))
		require.Equal(t, ":2\r\n", pub.do("PUBLISH", "news", "again"))
		require.Equal(t, psPMessage("n*", "news", "again"), sub2.read())
		require.Equal(t, psFrame(true, "message", "news", "again"), sub3.read())

		// A closed subscriber is forgotten.
		require.NoError(t, sub3.conn.Close())
		require.Eventually(t, func() bool {
			return pub.do("PUBSUB", "NUMSUB", "news") == "*2\r\n$4\r\nnews\r\n:0\r\n"
		}, 3*time.Second, 5*time.Millisecond)
		require.Equal(t, "*0\r\n", pub.do("PUBSUB", "SHARDCHANNELS"))

		// CLIENT KILL TYPE pubsub ends the subscribers only.
		require.Equal(t, ":1\r\n", pub.do("CLIENT", "KILL", "TYPE", "pubsub"))
		require.NoError(t, sub2.conn.SetReadDeadline(time.Now().Add(5*time.Second)))
		_, err := sub2.r.ReadByte()
		require.ErrorIs(t, err, io.EOF)
		require.Equal(t, "+PONG\r\n", pub.do("PING"))
	})
}

// Ensure that QUIT on a subscribed connection answers OK after the frames
// queued before it, runs nothing after it and closes the connection.
func TestPubSub_QuitClosesAfterReplies(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		for _, resp3 := range []bool{false, true} {
			c := dialRESP(t, addr)
			if resp3 {
				psHello3(t, c)
			}
			ch := fmt.Sprintf("q%v", resp3) // the previous connection may not be gone yet
			c.write([]byte("SUBSCRIBE " + ch + "\r\nPUBLISH " + ch + " x\r\nQUIT\r\nSET after-quit 1\r\n"))
			require.Equal(t, psConfirm(resp3, "subscribe", ch, 1), c.read())
			if resp3 {
				require.Equal(t, psFrame(true, "message", ch, "x"), c.read())
				require.Equal(t, ":1\r\n", c.read())
			} else {
				require.Equal(t, psContext("publish"), c.read())
			}
			require.Equal(t, "+OK\r\n", c.read())
			require.NoError(t, c.conn.SetReadDeadline(time.Now().Add(5*time.Second)))
			_, err := c.r.ReadByte()
			require.ErrorIs(t, err, io.EOF)
		}
		require.Equal(t, "$-1\r\n", dialRESP(t, addr).do("GET", "after-quit"))
	})
}

// psEvent is one keyspace event: its name, key and database.
type psEvent struct {
	name, key string
	db        int
}

func ev(name, key string) psEvent { return psEvent{name: name, key: key} }

// psEventClass is the notify-keyspace-events letter of each event name.
var psEventClass = map[string]byte{
	"del": 'g', "expire": 'g', "rename_from": 'g', "rename_to": 'g', "persist": 'g', "copy_to": 'g',
	"move_from": 'g', "move_to": 'g', "expired": 'x', "new": 'n',
	"set": '$', "incrby": '$', "incrbyfloat": '$', "append": '$', "setrange": '$',
	"hset": 'h', "hdel": 'h', "hincrby": 'h', "hincrbyfloat": 'h',
	"sadd": 's', "srem": 's', "spop": 's', "sinterstore": 's', "sunionstore": 's', "sdiffstore": 's',
}

// psKeyspaceScript is a sequence of commands and the events Redis emits
// for each, with every class enabled.
var psKeyspaceScript = []struct {
	cmd    []string
	events []psEvent
}{
	{args("SET", "a", "1"), []psEvent{ev("new", "a"), ev("set", "a")}},
	{args("SET", "a", "2", "EX", "100"), []psEvent{ev("set", "a"), ev("expire", "a")}},
	{args("SET", "a", "3", "KEEPTTL"), []psEvent{ev("set", "a")}},
	{args("SET", "a", "3", "NX"), nil},
	{args("SET", "b", "1", "XX"), nil},
	{args("SET", "a", "4", "GET"), []psEvent{ev("set", "a")}},
	{args("SETEX", "a", "100", "x"), []psEvent{ev("set", "a"), ev("expire", "a")}},
	{args("PSETEX", "a", "100000", "x"), []psEvent{ev("set", "a"), ev("expire", "a")}},
	{args("SETNX", "a", "1"), nil},
	{args("SETNX", "c", "1"), []psEvent{ev("new", "c"), ev("set", "c")}},
	{args("GETSET", "c", "2"), []psEvent{ev("set", "c")}},
	{args("GETSET", "gs", "2"), []psEvent{ev("new", "gs"), ev("set", "gs")}},
	{args("GETDEL", "c"), []psEvent{ev("del", "c")}},
	{args("GETDEL", "c"), nil},
	{args("GETEX", "a", "EX", "100"), []psEvent{ev("expire", "a")}},
	{args("GETEX", "a", "PERSIST"), []psEvent{ev("persist", "a")}},
	{args("GETEX", "a", "PERSIST"), nil},
	{args("GETEX", "a", "EXAT", "1"), []psEvent{ev("del", "a")}},
	{args("MSET", "a", "1", "b", "2"), []psEvent{ev("new", "a"), ev("set", "a"), ev("new", "b"), ev("set", "b")}},
	{args("MSETNX", "a", "1", "z", "2"), nil},
	{args("MSETNX", "y", "1", "z", "2"), []psEvent{ev("new", "y"), ev("set", "y"), ev("new", "z"), ev("set", "z")}},
	{args("INCR", "a"), []psEvent{ev("incrby", "a")}},
	{args("DECRBY", "a", "5"), []psEvent{ev("incrby", "a")}},
	{args("INCR", "fresh"), []psEvent{ev("new", "fresh"), ev("incrby", "fresh")}},
	{args("INCRBYFLOAT", "a", "1.5"), []psEvent{ev("incrbyfloat", "a")}},
	{args("INCR", "a"), nil}, // not an integer any more: an error, no event
	{args("APPEND", "a", "x"), []psEvent{ev("append", "a")}},
	{args("APPEND", "e", ""), []psEvent{ev("new", "e"), ev("append", "e")}},
	{args("SETRANGE", "a", "0", "zz"), []psEvent{ev("setrange", "a")}},
	{args("SETRANGE", "a", "0", ""), nil},
	{args("SETRANGE", "sr", "2", "x"), []psEvent{ev("new", "sr"), ev("setrange", "sr")}},
	{args("DEL", "a", "b", "e", "nokey"), []psEvent{ev("del", "a"), ev("del", "b"), ev("del", "e")}},
	{args("UNLINK", "y"), []psEvent{ev("del", "y")}},
	{args("SET", "a", "1"), []psEvent{ev("new", "a"), ev("set", "a")}},
	{args("EXPIRE", "a", "100"), []psEvent{ev("expire", "a")}},
	{args("PEXPIREAT", "a", "99999999999999"), []psEvent{ev("expire", "a")}},
	{args("EXPIRE", "a", "100", "NX"), nil},
	{args("PERSIST", "a"), []psEvent{ev("persist", "a")}},
	{args("PERSIST", "a"), nil},
	{args("EXPIRE", "a", "-1"), []psEvent{ev("del", "a")}},
	{args("EXPIRE", "a", "100"), nil},
	{args("SET", "a", "1"), []psEvent{ev("new", "a"), ev("set", "a")}},
	{args("RENAME", "a", "b"), []psEvent{ev("new", "b"), ev("rename_from", "a"), ev("rename_to", "b")}},
	{args("RENAME", "b", "b"), nil},
	{args("RENAME", "nokey", "b"), nil},
	{args("SET", "a", "1"), []psEvent{ev("new", "a"), ev("set", "a")}},
	{args("RENAMENX", "a", "b"), nil},
	{args("RENAMENX", "a", "c"), []psEvent{ev("new", "c"), ev("rename_from", "a"), ev("rename_to", "c")}},
	{args("COPY", "c", "d"), []psEvent{ev("new", "d"), ev("copy_to", "d")}},
	{args("COPY", "c", "d"), nil},
	{args("COPY", "c", "d", "REPLACE"), []psEvent{ev("new", "d"), ev("copy_to", "d")}},
	{args("COPY", "c", "d", "DB", "1"), []psEvent{{"new", "d", 1}, {"copy_to", "d", 1}}},
	{args("MOVE", "c", "2"), []psEvent{{"new", "c", 2}, {"move_from", "c", 0}, {"move_to", "c", 2}}},
	{args("MOVE", "d", "1"), nil},
	{args("HSET", "h", "f", "1", "g", "2"), []psEvent{ev("new", "h"), ev("hset", "h")}},
	{args("HSET", "h", "f", "1"), []psEvent{ev("hset", "h")}},
	{args("HMSET", "h", "f", "2"), []psEvent{ev("hset", "h")}},
	{args("HSETNX", "h", "f", "1"), nil},
	{args("HSETNX", "h", "z", "1"), []psEvent{ev("hset", "h")}},
	{args("HDEL", "h", "nope"), nil},
	{args("HDEL", "h", "f", "g"), []psEvent{ev("hdel", "h")}},
	{args("HDEL", "h", "z"), []psEvent{ev("hdel", "h"), ev("del", "h")}},
	{args("HINCRBY", "h", "n", "1"), []psEvent{ev("new", "h"), ev("hincrby", "h")}},
	{args("HINCRBYFLOAT", "h", "m", "1.5"), []psEvent{ev("hincrbyfloat", "h")}},
	{args("HSET", "d", "f", "1"), nil}, // WRONGTYPE
	{args("SADD", "s", "a", "b"), []psEvent{ev("new", "s"), ev("sadd", "s")}},
	{args("SADD", "s", "a"), nil},
	{args("SREM", "s", "x"), nil},
	{args("SREM", "s", "a"), []psEvent{ev("srem", "s")}},
	{args("SREM", "s", "b"), []psEvent{ev("srem", "s"), ev("del", "s")}},
	{args("SADD", "s", "a", "b", "c"), []psEvent{ev("new", "s"), ev("sadd", "s")}},
	{args("SPOP", "s"), []psEvent{ev("spop", "s")}},
	{args("SPOP", "s", "0"), nil},
	{args("SPOP", "s", "5"), []psEvent{ev("spop", "s"), ev("del", "s")}},
	{args("SADD", "s", "a", "b"), []psEvent{ev("new", "s"), ev("sadd", "s")}},
	{args("SADD", "t", "x"), []psEvent{ev("new", "t"), ev("sadd", "t")}},
	{args("SMOVE", "s", "t", "a"), []psEvent{ev("srem", "s"), ev("sadd", "t")}},
	{args("SMOVE", "s", "u", "b"), []psEvent{ev("srem", "s"), ev("del", "s"), ev("new", "u"), ev("sadd", "u")}},
	{args("SMOVE", "t", "t", "x"), nil},
	{args("SMOVE", "u", "t", "nope"), nil},
	{args("SADD", "s", "1", "2"), []psEvent{ev("new", "s"), ev("sadd", "s")}},
	{args("SADD", "t", "2", "3"), []psEvent{ev("sadd", "t")}},
	{args("SINTERSTORE", "dst", "s", "t"), []psEvent{ev("new", "dst"), ev("sinterstore", "dst")}},
	{args("SUNIONSTORE", "dst", "s", "t"), []psEvent{ev("sunionstore", "dst")}},
	{args("SDIFFSTORE", "dst", "s", "t"), []psEvent{ev("sdiffstore", "dst")}},
	{args("SINTERSTORE", "dst", "s", "nokey"), []psEvent{ev("del", "dst")}},
	{args("SINTERSTORE", "dst", "s", "nokey"), nil},
	{args("SDIFFSTORE", "dst", "s", "s"), nil},
	{args("SET", "str", "x"), []psEvent{ev("new", "str"), ev("set", "str")}},
	{args("SUNIONSTORE", "str", "s"), []psEvent{ev("sunionstore", "str")}},
	{args("MULTI"), nil},
	{args("SET", "m", "1"), nil},
	{args("DEL", "m"), nil},
	{args("EXEC"), []psEvent{ev("new", "m"), ev("set", "m"), ev("del", "m")}},
	{args("FLUSHALL"), nil},
}

// psExpected renders the frames a PSUBSCRIBE __key*__:* subscriber receives
// for events under flags, as Redis's notifyKeyspaceEvent does.
func psExpected(flags string, events []psEvent) []string {
	on := func(class byte) bool {
		if strings.IndexByte(flags, class) >= 0 {
			return true
		}
		return class != 'n' && strings.IndexByte(flags, 'A') >= 0
	}
	var out []string
	for _, e := range events {
		if !on(psEventClass[e.name]) {
			continue
		}
		db := strconv.Itoa(e.db)
		if strings.Contains(flags, "K") {
			out = append(out, psPMessage("__key*__:*", "__keyspace@"+db+"__:"+e.key, e.name))
		}
		if strings.Contains(flags, "E") {
			out = append(out, psPMessage("__key*__:*", "__keyevent@"+db+"__:"+e.name, e.key))
		}
	}
	return out
}

// Ensure that every command emits exactly Redis's keyspace events, in
// Redis's order, for each notify-keyspace-events setting.
func TestPubSub_KeyspaceEvents(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		for _, flags := range []string{"KEA", "Egx", "KEAn", "Ks$", "Eh"} {
			t.Run(flags, func(t *testing.T) {
				ctl, sub := dialRESP(t, addr), dialRESP(t, addr)
				require.Equal(t, "+OK\r\n", ctl.do("FLUSHALL"))
				require.Equal(t, "+OK\r\n", ctl.do("CONFIG", "SET", "notify-keyspace-events", flags))
				t.Cleanup(func() { ctl.do("CONFIG", "SET", "notify-keyspace-events", "") })
				require.Equal(t, psConfirm(false, "psubscribe", "__key*__:*", 1), sub.do("PSUBSCRIBE", "__key*__:*"))
				require.Equal(t, psConfirm(false, "subscribe", "marker", 2), sub.do("SUBSCRIBE", "marker"))
				inMulti := false
				for i, s := range psKeyspaceScript {
					ctl.do(s.cmd...)
					switch strings.ToUpper(s.cmd[0]) {
					case "MULTI":
						inMulti = true
					case "EXEC":
						inMulti = false
					}
					if inMulti {
						continue // queued: the events come with EXEC
					}
					// Every frame before the marker is an event of this command.
					mark := strconv.Itoa(i)
					require.Equal(t, ":1\r\n", ctl.do("PUBLISH", "marker", mark))
					var got []string
					for {
						f := sub.read()
						if f == psMessage("marker", mark) {
							break
						}
						got = append(got, f)
					}
					require.Equal(t, psExpected(flags, s.events), got, "%q", s.cmd)
				}
			})
		}
	})
}

// psReader collects the frames a connection receives, in the background.
type psReader struct {
	mu     sync.Mutex
	frames []string
	err    error
}

func psCollect(t *testing.T, c *respClient) *psReader {
	r := &psReader{}
	go func() {
		for {
			_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, err := parseRESP(c.r)
			r.mu.Lock()
			if err != nil {
				r.err = err
				r.mu.Unlock()
				return
			}
			r.frames = append(r.frames, n.String())
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *psReader) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.frames...)
}

// Ensure that a key given a deadline by PX is reported expired, promptly,
// on the right database, and that Egx sends only generic and expiry events.
func TestPubSub_ExpiredEvent(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		ctl, sub := dialRESP(t, addr), dialRESP(t, addr)
		require.Equal(t, "+OK\r\n", ctl.do("CONFIG", "SET", "notify-keyspace-events", "Egx"))
		t.Cleanup(func() { ctl.do("CONFIG", "SET", "notify-keyspace-events", "") })
		require.Equal(t, psConfirm(false, "subscribe", "__keyevent@0__:expired", 1), sub.do("SUBSCRIBE", "__keyevent@0__:expired"))
		require.Equal(t, psConfirm(false, "subscribe", "__keyevent@0__:del", 2), sub.do("SUBSCRIBE", "__keyevent@0__:del"))
		require.Equal(t, psConfirm(false, "psubscribe", "__keyevent@1__:*", 3), sub.do("PSUBSCRIBE", "__keyevent@1__:*"))
		frames := psCollect(t, sub)

		require.Equal(t, "+OK\r\n", ctl.do("SET", "gone", "1"))
		require.Equal(t, ":1\r\n", ctl.do("DEL", "gone"))
		require.Equal(t, "+OK\r\n", ctl.do("SET", "session:1", "v", "PX", "100"))
		require.Equal(t, "+OK\r\n", ctl.do("SELECT", "1"))
		require.Equal(t, "+OK\r\n", ctl.do("SET", "session:2", "v", "PX", "150"))
		want := []string{
			psMessage("__keyevent@0__:del", "gone"),
			psPMessage("__keyevent@1__:*", "__keyevent@1__:expire", "session:2"),
			psMessage("__keyevent@0__:expired", "session:1"),
			psPMessage("__keyevent@1__:*", "__keyevent@1__:expired", "session:2"),
		}
		require.Eventually(t, func() bool { return len(frames.got()) >= len(want) }, 3*time.Second, 5*time.Millisecond,
			"got %q", frames.got())
		got := frames.got()
		require.Equal(t, want[:2], got[:2])
		require.ElementsMatch(t, want[2:], got[2:]) // the two expiries may come in either order
		require.Equal(t, "$-1\r\n", ctl.do("GET", "session:2"))
	})
}

// Ensure that a go-redis v9 subscriber with one PSUBSCRIBE and one
// SUBSCRIBE on a single connection, as Spring Session's indexed repository
// uses, receives the expired and del events of the right database.
func TestPubSub_GoRedisKeyEvents(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
				ctx := context.Background()
				open := func(db int) *redis.Client {
					rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto, DB: db, MaxRetries: -1})
					t.Cleanup(func() { _ = rdb.Close() })
					return rdb
				}
				rdb, rdb1 := open(0), open(1)
				require.NoError(t, rdb.FlushAll(ctx).Err())
				require.NoError(t, rdb.ConfigSet(ctx, "notify-keyspace-events", "Egx").Err())
				t.Cleanup(func() { rdb.ConfigSet(ctx, "notify-keyspace-events", "") })
				cfg, err := rdb.ConfigGet(ctx, "notify-keyspace-events").Result()
				require.NoError(t, err)
				require.Equal(t, "gxE", cfg["notify-keyspace-events"])

				ps := rdb.PSubscribe(ctx, "__keyevent@*__:expired")
				t.Cleanup(func() { _ = ps.Close() })
				require.NoError(t, ps.Subscribe(ctx, "__keyevent@0__:del", "marker"))
				for i := 0; i < 3; i++ {
					m, err := ps.ReceiveTimeout(ctx, 5*time.Second)
					require.NoError(t, err)
					require.IsType(t, &redis.Subscription{}, m)
				}
				msgs := ps.Channel()

				// Deletions in db 1 and plain writes are not reported; a
				// deletion in db 0 is.
				require.NoError(t, rdb1.Set(ctx, "spring:session:sessions:x", "v", 0).Err())
				require.NoError(t, rdb1.Del(ctx, "spring:session:sessions:x").Err())
				require.NoError(t, rdb.HSet(ctx, "spring:session:sessions:a", "lastAccessedTime", "1").Err())
				require.NoError(t, rdb.Del(ctx, "spring:session:sessions:a").Err())
				require.NoError(t, rdb.Publish(ctx, "marker", "1").Err())
				var got []string
				for m := range msgs {
					if m.Channel == "marker" {
						break
					}
					got = append(got, m.Pattern+" "+m.Channel+" "+m.Payload)
				}
				require.Equal(t, []string{" __keyevent@0__:del spring:session:sessions:a"}, got)

				// Expiries are reported from both databases, with the db in the channel.
				require.NoError(t, rdb.Set(ctx, "spring:session:sessions:expires:a", "", 100*time.Millisecond).Err())
				require.NoError(t, rdb1.Set(ctx, "spring:session:sessions:expires:b", "", 100*time.Millisecond).Err())
				got = nil
				timeout := time.After(5 * time.Second)
				for len(got) < 2 {
					select {
					case m := <-msgs:
						got = append(got, m.Pattern+" "+m.Channel+" "+m.Payload)
					case <-timeout:
						t.Fatalf("expired events not received: %q", got)
					}
				}
				require.ElementsMatch(t, []string{
					"__keyevent@*__:expired __keyevent@0__:expired spring:session:sessions:expires:a",
					"__keyevent@*__:expired __keyevent@1__:expired spring:session:sessions:expires:b",
				}, got)
			})
		}
	})
}

// Ensure that a subscriber that never reads is disconnected once its queue
// passes the pubsub output limit, while other clients go on unaffected.
func TestPubSub_SlowSubscriberDisconnected(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		slow, fast, pub := dialRESP(t, addr), dialRESP(t, addr), dialRESP(t, addr)
		require.Equal(t, psConfirm(false, "subscribe", "big", 1), slow.do("SUBSCRIBE", "big"))
		require.Equal(t, psConfirm(false, "subscribe", "big", 1), fast.do("SUBSCRIBE", "big"))

		var mu sync.Mutex
		received := 0
		readErr := make(chan error, 1)
		go func() {
			for {
				_ = fast.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
				if _, err := parseRESP(fast.r); err != nil {
					readErr <- err
					return
				}
				mu.Lock()
				received++
				mu.Unlock()
			}
		}()

		payload := strings.Repeat("x", 1<<20)
		published := 0
		for ; published < 200; published++ {
			n := pub.do("PUBLISH", "big", payload)
			if n == ":1\r\n" {
				break // only the fast subscriber is left
			}
			require.Equal(t, ":2\r\n", n)
		}
		require.Less(t, published, 200, "the slow subscriber was never disconnected")
		require.Equal(t, "*2\r\n$3\r\nbig\r\n:1\r\n", pub.do("PUBSUB", "NUMSUB", "big"))

		// The slow connection is closed: what it holds is followed by EOF.
		require.NoError(t, slow.conn.SetReadDeadline(time.Now().Add(10*time.Second)))
		_, err := io.Copy(io.Discard, slow.conn)
		var ne net.Error
		require.False(t, errors.As(err, &ne) && ne.Timeout(), "the slow subscriber's connection is still open")

		// Everyone else is served: the fast subscriber got every message.
		require.Equal(t, "+OK\r\n", pub.do("SET", "k", "v"))
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return received == published+1
		}, 10*time.Second, 5*time.Millisecond)
		select {
		case err := <-readErr:
			t.Fatalf("fast subscriber: %v", err)
		default:
		}
	})
}

// Ensure that the sessions layer's audit events are published as JSON on
// __sessions__ while someone listens (sessdb only: Redis has no sessions).
func TestPubSub_SessionEvents(t *testing.T) {
	ts := startSessdb(t, t.TempDir())
	addr := ts.addr
	ctl, sub, psub := dialRESP(t, addr), dialRESP(t, addr), dialRESP(t, addr)
	require.Equal(t, psConfirm(false, "subscribe", "__sessions__", 1), sub.do("SUBSCRIBE", "__sessions__"))
	require.Equal(t, psConfirm(false, "psubscribe", "__sess*", 1), psub.do("PSUBSCRIBE", "__sess*"))

	token := ctl.do("SESS.CREATE", "alice")
	require.True(t, strings.HasPrefix(token, "$"), token)
	token = strings.Split(token, "\r\n")[1]
	require.Equal(t, ":1\r\n", ctl.do("SESS.REVOKE", token))

	decode := func(frame string, pattern bool) map[string]any {
		parts := strings.Split(frame, "\r\n")
		if pattern {
			require.Equal(t, []string{"*4", "$8", "pmessage", "$7", "__sess*", "$12", "__sessions__"}, parts[:7])
			parts = parts[2:]
		} else {
			require.Equal(t, []string{"*3", "$7", "message", "$12", "__sessions__"}, parts[:5])
		}
		var ev map[string]any
		require.NoError(t, json.Unmarshal([]byte(parts[6]), &ev), frame)
		return ev
	}
	for _, c := range []struct {
		conn    *respClient
		pattern bool
	}{{sub, false}, {psub, true}} {
		created := decode(c.conn.read(), c.pattern)
		require.Equal(t, "create", created["event"])
		require.Equal(t, "alice", created["user"])
		revoked := decode(c.conn.read(), c.pattern)
		require.Equal(t, "revoke", revoked["event"])
		require.Equal(t, created["id"], revoked["id"])
		require.NotContains(t, fmt.Sprint(revoked), strings.Split(token, ".")[1], "an event never carries the secret")
	}

	// The server-internal API reaches the same subscribers.
	require.Equal(t, 2, ts.srv.Publish("__sessions__", "{}"))
	require.Equal(t, psMessage("__sessions__", "{}"), sub.read())
	require.Equal(t, psPMessage("__sess*", "__sessions__", "{}"), psub.read())
}
