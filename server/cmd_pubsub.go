package server

import (
	"fmt"
	"strings"

	"github.com/sessdb/sessdb/storage"
)

func init() {
	sub := []string{"pubsub", "noscript", "loading", "stale"}
	pub := []string{"pubsub", "loading", "stale", "fast"}
	info := []string{"pubsub", "loading", "stale"}
	p := func(c *command) *command {
		c.group = "pubsub"
		return c
	}
	shard := func(c *command, last int) *command {
		c.firstKey, c.lastKey, c.step, c.group = 1, last, 1, "pubsub"
		return c
	}
	register(
		p(&command{name: "subscribe", arity: -2, flags: sub, summary: "Listens for messages published to channels.", since: "2.0.0", run: cmdSubscribe}),
		p(&command{name: "unsubscribe", arity: -1, flags: sub, summary: "Stops listening to messages posted to channels.", since: "2.0.0", run: cmdSubscribe}),
		p(&command{name: "psubscribe", arity: -2, flags: sub, summary: "Listens for messages published to channels that match one or more patterns.", since: "2.0.0", run: cmdSubscribe}),
		p(&command{name: "punsubscribe", arity: -1, flags: sub, summary: "Stops listening to messages published to channels that match one or more patterns.", since: "2.0.0", run: cmdSubscribe}),
		shard(&command{name: "ssubscribe", arity: -2, flags: sub, summary: "Listens for messages published to shard channels.", since: "7.0.0", run: cmdSubscribe}, -1),
		shard(&command{name: "sunsubscribe", arity: -1, flags: sub, summary: "Stops listening to messages posted to shard channels.", since: "7.0.0", run: cmdSubscribe}, -1),
		p(&command{name: "publish", arity: 3, flags: pub, summary: "Posts a message to a channel.", since: "2.0.0", run: cmdPublish}),
		shard(&command{name: "spublish", arity: 3, flags: pub, summary: "Post a message to a shard channel", since: "7.0.0", run: cmdPublish}, 1),
		&command{name: "pubsub", arity: -2, group: "pubsub", summary: "A container for Pub/Sub commands.", since: "2.8.0", subs: map[string]*command{
			"channels":      {name: "pubsub|channels", arity: -2, flags: info, group: "pubsub", summary: "Returns the active channels.", since: "2.8.0", run: cmdPubsubChannels},
			"numsub":        {name: "pubsub|numsub", arity: -2, flags: info, group: "pubsub", summary: "Returns a count of subscribers to channels.", since: "2.8.0", run: cmdPubsubNumsub},
			"numpat":        {name: "pubsub|numpat", arity: 2, flags: info, group: "pubsub", summary: "Returns a count of unique pattern subscriptions.", since: "2.8.0", run: cmdPubsubNumpat},
			"shardchannels": {name: "pubsub|shardchannels", arity: -2, flags: info, group: "pubsub", summary: "Returns the active shard channels.", since: "7.0.0", run: cmdPubsubChannels},
			"shardnumsub":   {name: "pubsub|shardnumsub", arity: -2, flags: info, group: "pubsub", summary: "Returns the count of subscribers of shard channels.", since: "7.0.0", run: cmdPubsubNumsub},
			"help":          {name: "pubsub|help", arity: 2, flags: []string{"loading", "stale"}, group: "pubsub", summary: "Returns helpful text about the different subcommands.", since: "6.2.0", run: cmdPubsubHelp},
		}},
	)
}

// pubsubAllowed are the commands a RESP2 connection may run while subscribed.
var pubsubAllowed = map[string]bool{
	"subscribe": true, "unsubscribe": true, "psubscribe": true, "punsubscribe": true,
	"ssubscribe": true, "sunsubscribe": true, "ping": true, "quit": true, "reset": true,
}

// subscribeArgs is a (un)subscribe command parsed: its namespace, its
// direction and its channels (nil: all of them, for an unsubscribe).
type subscribeArgs struct {
	kind  subKind
	unsub bool
	names [][]byte
}

func parseSubscribe(args [][]byte) subscribeArgs {
	name := strings.ToLower(string(args[0]))
	a := subscribeArgs{unsub: strings.Contains(name, "unsubscribe")}
	switch name {
	case "psubscribe", "punsubscribe":
		a.kind = subPattern
	case "ssubscribe", "sunsubscribe":
		a.kind = subShard
	}
	if len(args) > 1 {
		a.names = args[1:]
	}
	return a
}

func cmdSubscribe(c *Client, _ *storage.Tx, args [][]byte) {
	a := parseSubscribe(args)
	if a.unsub {
		c.srv.unsubscribe(c, a.kind, a.names, true)
	} else {
		c.srv.subscribe(c, a.kind, a.names)
	}
}

func cmdPublish(c *Client, _ *storage.Tx, args [][]byte) {
	kind := subChannel
	if equalFold(args[0], "spublish") {
		kind = subShard
	}
	c.queueReplies() // inside EXEC, the replies before this one precede the message
	c.writeInt(int64(c.srv.publish(kind, string(args[1]), string(args[2]))))
}

func cmdPubsubChannels(c *Client, _ *storage.Tx, args [][]byte) {
	if len(args) > 3 {
		c.writeError(fmt.Sprintf(errSubSyntax, args[1], "PUBSUB"))
		return
	}
	kind := subChannel
	if equalFold(args[1], "shardchannels") {
		kind = subShard
	}
	pat := ""
	if len(args) == 3 {
		pat = string(args[2])
	}
	c.writeStrings(c.srv.activeNames(kind, pat))
}

func cmdPubsubNumsub(c *Client, _ *storage.Tx, args [][]byte) {
	kind := subChannel
	if equalFold(args[1], "shardnumsub") {
		kind = subShard
	}
	c.writeArray(2 * (len(args) - 2))
	for _, ch := range args[2:] {
		c.writeBulk(ch)
		c.writeInt(int64(c.srv.numSub(kind, string(ch))))
	}
}

func cmdPubsubNumpat(c *Client, _ *storage.Tx, _ [][]byte) {
	_, patterns, _, _ := c.srv.pubsubCounts()
	c.writeInt(int64(patterns))
}

func cmdPubsubHelp(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeHelp([]string{
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
	})
}
