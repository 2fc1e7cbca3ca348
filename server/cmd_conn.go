package server

import (
	"fmt"
	"strings"
	"time"

	"github.com/sessdb/sessdb/storage"
)

func init() {
	register(
		&command{name: "ping", arity: -1, flags: []string{"fast"}, group: "connection", summary: "Returns the server's liveliness response.", since: "1.0.0", run: cmdPing},
		&command{name: "echo", arity: 2, flags: []string{"fast"}, group: "connection", summary: "Returns the given string.", since: "1.0.0", run: cmdEcho},
		&command{name: "quit", arity: -1, flags: []string{"allow_busy", "noscript", "loading", "stale", "fast", "no_auth"}, group: "connection", summary: "Closes the connection.", since: "1.0.0", noAuth: true, noMulti: true, run: cmdQuit},
		&command{name: "reset", arity: 1, flags: []string{"noscript", "loading", "stale", "fast", "no_auth", "allow_busy"}, group: "connection", summary: "Resets the connection.", since: "6.2.0", noAuth: true, noMulti: true, run: cmdReset},
		&command{name: "hello", arity: -1, flags: []string{"noscript", "loading", "stale", "fast", "no_auth", "allow_busy"}, group: "connection", summary: "Handshakes with the Redis server.", since: "6.0.0", noAuth: true, run: cmdHello},
		&command{name: "auth", arity: -2, flags: []string{"noscript", "loading", "stale", "fast", "no_auth", "allow_busy"}, group: "connection", summary: "Authenticates the connection.", since: "1.0.0", noAuth: true, run: cmdAuth},
		&command{name: "select", arity: 2, flags: []string{"loading", "stale", "fast"}, group: "connection", summary: "Changes the selected database.", since: "1.0.0", run: cmdSelect},
		&command{name: "client", arity: -2, flags: []string{}, group: "connection", summary: "A container for client connection commands.", since: "2.4.0", subs: map[string]*command{
			"id":                  {name: "client|id", arity: 2, flags: []string{"noscript", "loading", "stale"}, group: "connection", summary: "Returns the unique client ID of the connection.", since: "5.0.0", run: cmdClientID},
			"setname":             {name: "client|setname", arity: 3, flags: []string{"noscript", "loading", "stale"}, group: "connection", summary: "Sets the connection name.", since: "2.6.9", run: cmdClientSetname},
			"getname":             {name: "client|getname", arity: 2, flags: []string{"noscript", "loading", "stale"}, group: "connection", summary: "Returns the name of the connection.", since: "2.6.9", run: cmdClientGetname},
			"setinfo":             {name: "client|setinfo", arity: 4, flags: []string{"noscript", "loading", "stale"}, group: "connection", summary: "Sets information specific to the client or connection.", since: "7.2.0", run: cmdClientSetinfo},
			"list":                {name: "client|list", arity: -2, flags: []string{"admin", "noscript", "loading", "stale"}, group: "connection", summary: "Lists open connections.", since: "2.4.0", run: cmdClientList},
			"info":                {name: "client|info", arity: 2, flags: []string{"noscript", "loading", "stale"}, group: "connection", summary: "Returns information about the connection.", since: "6.2.0", run: cmdClientInfo},
			"kill":                {name: "client|kill", arity: -3, flags: []string{"admin", "noscript", "loading", "stale"}, group: "connection", summary: "Terminates open connections.", since: "2.4.0", run: cmdClientKill},
			"no-evict":            {name: "client|no-evict", arity: 3, flags: []string{"admin", "noscript", "loading", "stale"}, group: "connection", summary: "Sets the client eviction mode of the connection.", since: "7.0.0", run: cmdClientOnOff},
			"no-touch":            {name: "client|no-touch", arity: 3, flags: []string{"noscript", "loading", "stale"}, group: "connection", summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", since: "7.2.0", run: cmdClientOnOff},
			"tracking":            {name: "client|tracking", arity: -3, flags: []string{"noscript", "loading", "stale"}, group: "connection", summary: "Controls server-assisted client-side caching for the connection (sessdb: OFF only).", since: "6.0.0", run: cmdClientTracking},
			"maint_notifications": {name: "client|maint_notifications", arity: -2, flags: []string{"noscript", "loading", "stale"}, group: "connection", summary: "Accepted and ignored: sessdb sends no maintenance notifications.", since: "8.2.0", run: cmdClientMaintNotifications},
			"help":                {name: "client|help", arity: 2, flags: []string{"loading", "stale"}, group: "connection", summary: "Returns helpful text about the different subcommands.", since: "5.0.0", run: cmdClientHelp},
		}},
	)
}

func cmdPing(c *Client, _ *storage.Tx, args [][]byte) {
	if c.resp == 2 && c.subscribed() && len(args) <= 2 {
		// A RESP2 subscriber's PING looks like a message, as in Redis.
		c.writeArray(2)
		c.writeBulkString("pong")
		if len(args) == 2 {
			c.writeBulk(args[1])
		} else {
			c.writeBulkString("")
		}
		return
	}
	switch len(args) {
	case 1:
		c.writeSimple(msgPong)
	case 2:
		c.writeBulk(args[1])
	default:
		c.writeError(fmt.Sprintf(errWrongArgs, "ping"))
	}
}

func cmdEcho(c *Client, _ *storage.Tx, args [][]byte) { c.writeBulk(args[1]) }

// cmdQuit answers OK; serveCommand closes the connection once the batch's
// replies (and a subscriber's queued messages) are written, and ignores the
// commands that follow, as Redis does.
func cmdQuit(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeOK()
	c.quitting = true
}

func cmdReset(c *Client, _ *storage.Tx, _ [][]byte) {
	c.resetState()
	c.writeSimple(msgReset)
}

// cmdAuth is Redis's AUTH: one argument authenticates the default user,
// two name a user. Failures are counted and throttled (auth.go).
func cmdAuth(c *Client, tx *storage.Tx, args [][]byte) {
	if len(args) > 3 {
		c.writeError(errSyntax)
		return
	}
	user, pass := []byte("default"), args[len(args)-1]
	if len(args) == 3 {
		user = args[1]
	} else if c.srv.acl.defaultNoPass() {
		c.writeError(errAuthNoPass)
		return
	}
	if !c.authenticate(args[0], user, pass, tx != nil) {
		c.writeError(errWrongPass)
		return
	}
	c.writeOK()
}

func cmdHello(c *Client, tx *storage.Tx, args [][]byte) {
	ver := c.resp
	i := 1
	if len(args) >= 2 {
		n, ok := parseInt(args[1])
		if !ok {
			c.writeError("ERR Protocol version is not an integer or out of range")
			return
		}
		if n < 2 || n > 3 {
			c.writeError(errNoProto)
			return
		}
		ver = int(n)
		i = 2
	}
	var name *string
	var user, pass []byte
	authed := c.authed
	for ; i < len(args); i++ {
		opt := strings.ToLower(string(args[i]))
		switch {
		case opt == "auth" && i+2 < len(args):
			user, pass = args[i+1], args[i+2]
			i += 2
		case opt == "setname" && i+1 < len(args):
			n := string(args[i+1])
			if !validClientName(n) {
				c.writeError(errClientName)
				return
			}
			name = &n
			i++
		default:
			c.writeError(fmt.Sprintf("ERR Syntax error in HELLO option '%s'", args[i]))
			return
		}
	}
	if user != nil {
		if !c.authenticate(args[0], user, pass, tx != nil) {
			c.writeError(errWrongPass)
			return
		}
		authed = true
	}
	if !authed {
		c.writeError(errHelloNoAuth)
		return
	}
	c.authed = true
	if name != nil {
		c.setName(*name)
	}
	c.setResp(ver)
	c.writeMap(7)
	c.writeBulkString("server")
	c.writeBulkString("redis")
	c.writeBulkString("version")
	c.writeBulkString(RedisVersion)
	c.writeBulkString("proto")
	c.writeInt(int64(ver))
	c.writeBulkString("id")
	c.writeInt(c.id)
	c.writeBulkString("mode")
	c.writeBulkString("standalone")
	c.writeBulkString("role")
	c.writeBulkString("master")
	c.writeBulkString("modules")
	c.writeArray(0)
}

func cmdSelect(c *Client, _ *storage.Tx, args [][]byte) {
	n, ok := c.intArg(args[1])
	if !ok {
		return
	}
	if n < 0 || n >= int64(c.srv.cfg.Databases()) {
		c.writeError(errDBIndex)
		return
	}
	c.db = int(n)
	c.writeOK()
}

func validClientName(n string) bool {
	for i := 0; i < len(n); i++ {
		if n[i] < '!' || n[i] > '~' {
			return false
		}
	}
	return true
}

func cmdClientID(c *Client, _ *storage.Tx, _ [][]byte) { c.writeInt(c.id) }

func cmdClientSetname(c *Client, _ *storage.Tx, args [][]byte) {
	n := string(args[2])
	if !validClientName(n) {
		c.writeError(errClientName)
		return
	}
	c.setName(n)
	c.writeOK()
}

func cmdClientGetname(c *Client, _ *storage.Tx, _ [][]byte) {
	if n := c.Name(); n != "" {
		c.writeBulkString(n)
	} else {
		c.writeNull()
	}
}

// cmdClientSetinfo checks the attribute, then its value, as Redis 7.2 does;
// the error names the attribute as the client spelled it.
func cmdClientSetinfo(c *Client, _ *storage.Tx, args [][]byte) {
	var dst *string
	switch strings.ToLower(string(args[2])) {
	case "lib-name":
		dst = &c.libName
	case "lib-ver":
		dst = &c.libVer
	default:
		c.writeError(fmt.Sprintf("ERR Unrecognized option '%s'", args[2]))
		return
	}
	val := string(args[3])
	if !validClientName(val) {
		c.writeError(fmt.Sprintf("ERR %s cannot contain spaces, newlines or special characters.", args[2]))
		return
	}
	*dst = val
	c.writeOK()
}

// cmdClientOnOff serves NO-EVICT and NO-TOUCH. sessdb neither evicts
// clients nor tracks key access times, so either mode changes nothing.
func cmdClientOnOff(c *Client, _ *storage.Tx, args [][]byte) {
	if !equalFold(args[2], "on") && !equalFold(args[2], "off") {
		c.writeError(errSyntax)
		return
	}
	c.writeOK()
}

// cmdClientTracking refuses to turn tracking on: sessdb sends no
// invalidation messages, and a client that believed it did would serve stale
// cached values. Turning it off is what it already is, so that answers OK.
func cmdClientTracking(c *Client, _ *storage.Tx, args [][]byte) {
	switch {
	case equalFold(args[2], "off"):
		c.writeOK()
	case equalFold(args[2], "on"):
		c.writeError(errTrackingUnsupported)
	default:
		c.writeError(errSyntax)
	}
}

// cmdClientMaintNotifications tolerates the handshake newer clients send:
// sessdb has no maintenance events to announce, so any request is fine.
func cmdClientMaintNotifications(c *Client, _ *storage.Tx, _ [][]byte) { c.writeOK() }

// clientType is the client's CLIENT LIST / KILL TYPE: pubsub while it has a
// subscription, else normal.
func (c *Client) clientType() string {
	if sub, psub, ssub, _ := c.subCounts(); sub+psub+ssub > 0 {
		return "pubsub"
	}
	return "normal"
}

// infoLine renders a client as CLIENT LIST does.
func (c *Client) infoLine(self *Client, now time.Time) string {
	sub, psub, ssub, omem := c.subCounts()
	flags := ""
	if sub+psub+ssub > 0 {
		flags += "P"
	}
	if c.multi {
		flags += "x"
	}
	if flags == "" {
		flags = "N"
	}
	cmd := "NULL"
	if p := c.cmdName.Load(); p != nil {
		cmd = *p
	}
	db, multi, resp := c.db, -1, c.resp
	if c.multi {
		multi = len(c.queue)
	}
	last := c.lastCmd.Load()
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=8 name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=%d multi=%d qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=%d rbs=16384 rbp=0 obl=0 oll=0 omem=%d tot-mem=0 events=r cmd=%s user=%s redir=-1 resp=%d lib-name=%s lib-ver=%s",
		c.id, c.addr, c.laddr, c.Name(), int64(now.Sub(c.created).Seconds()), (now.UnixMilli()-last)/1000, flags, db, sub, psub, ssub, multi, c.queueBytes, omem, cmd, c.user, resp, c.libName, c.libVer)
}

func cmdClientList(c *Client, _ *storage.Tx, args [][]byte) {
	var ids map[int64]bool
	if len(args) > 2 {
		if len(args) >= 4 && equalFold(args[2], "id") {
			ids = map[int64]bool{}
			for _, a := range args[3:] {
				n, ok := parseInt(a)
				if !ok || n <= 0 {
					c.writeError("ERR Invalid client ID")
					return
				}
				ids[n] = true
			}
		} else if len(args) == 4 && equalFold(args[2], "type") {
			t := strings.ToLower(string(args[3]))
			if t != "normal" && t != "master" && t != "replica" && t != "pubsub" {
				c.writeError(fmt.Sprintf("ERR Unknown client type '%s'", args[3]))
				return
			}
			ids = map[int64]bool{}
			for _, o := range c.srv.sortedClients() {
				if o.clientType() == t {
					ids[o.id] = true
				}
			}
		} else {
			c.writeError(errSyntax)
			return
		}
	}
	now := time.Now()
	var b strings.Builder
	for _, other := range c.srv.sortedClients() {
		if ids != nil && !ids[other.id] {
			continue
		}
		b.WriteString(other.infoLine(c, now))
		b.WriteByte('\n')
	}
	c.writeVerbatim(b.String())
}

func cmdClientInfo(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeVerbatim(c.infoLine(c, time.Now()) + "\n")
}

func cmdClientKill(c *Client, _ *storage.Tx, args [][]byte) {
	var match func(o *Client) bool
	oldStyle := len(args) == 3
	if oldStyle {
		addr := string(args[2])
		match = func(o *Client) bool { return o.addr == addr }
	} else {
		if (len(args)-2)%2 != 0 {
			c.writeError(errSyntax)
			return
		}
		var conds []func(o *Client) bool
		skipMe := true
		for i := 2; i < len(args); i += 2 {
			val := string(args[i+1])
			switch strings.ToLower(string(args[i])) {
			case "id":
				n, ok := parseInt(args[i+1])
				if !ok || n <= 0 {
					c.writeError("ERR client-id should be greater than 0")
					return
				}
				conds = append(conds, func(o *Client) bool { return o.id == n })
			case "addr":
				conds = append(conds, func(o *Client) bool { return o.addr == val })
			case "laddr":
				conds = append(conds, func(o *Client) bool { return o.laddr == val })
			case "user":
				conds = append(conds, func(o *Client) bool { return o.user == val })
			case "type":
				t := strings.ToLower(val)
				if t != "normal" && t != "master" && t != "replica" && t != "pubsub" {
					c.writeError(fmt.Sprintf("ERR Unknown client type '%s'", val))
					return
				}
				conds = append(conds, func(o *Client) bool { return o.clientType() == t })
			case "skipme":
				switch strings.ToLower(val) {
				case "yes":
					skipMe = true
				case "no":
					skipMe = false
				default:
					c.writeError(errSyntax)
					return
				}
			case "maxage":
				n, ok := parseInt(args[i+1])
				if !ok {
					c.writeError(errNotInteger)
					return
				}
				conds = append(conds, func(o *Client) bool { return time.Since(o.created) >= time.Duration(n)*time.Second })
			default:
				c.writeError(errSyntax)
				return
			}
		}
		match = func(o *Client) bool {
			if skipMe && o == c {
				return false
			}
			for _, f := range conds {
				if !f(o) {
					return false
				}
			}
			return true
		}
	}
	killed := 0
	for _, o := range c.srv.sortedClients() {
		if match(o) {
			killed++
			o.kill()
		}
	}
	if oldStyle {
		if killed == 0 {
			c.writeError(errNoSuchClient)
		} else {
			c.writeOK()
		}
		return
	}
	c.writeInt(int64(killed))
}

// kill closes a client's connection from any goroutine.
func (c *Client) kill() {
	c.killed.Store(true)
	_ = c.conn.NetConn().Close()
}

func cmdClientHelp(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeHelp([]string{
		"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"ID", "    Return the ID of the current connection.",
		"INFO", "    Return information about the current client connection.",
		"KILL <ip:port>", "    Kill connection made from <ip:port>.",
		"LIST [options ...]", "    Return information about client connections.",
		"GETNAME", "    Return the name of the current connection.",
		"SETNAME <name>", "    Assign the name <name> to the current connection.",
		"SETINFO <option> <value>", "    Set client meta attr.",
		"NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
		"NO-TOUCH (ON|OFF)", "    Will not touch LRU/LFU stats when this mode is on.",
		"TRACKING (ON|OFF) [...]", "    sessdb: OFF only; client-side caching is not supported.",
		"HELP", "    Prints this help.",
	})
}
