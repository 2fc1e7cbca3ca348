package server

import (
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// ACL users follow Redis 7.0's acl.c: every user has flags (on/off,
// nopass), SHA-256 password hashes, a bitmap of allowed commands (one bit
// per command and subcommand of the table), key patterns and channel
// patterns. Rules are applied one by one with Redis's semantics and error
// texts, and ACL GETUSER / LIST / SAVE describe a user with Redis's
// best-fit algorithm (+@all or -@all, then categories, then single
// commands). Selectors "(...)" are not supported.
//
// Users are immutable once published: a change builds a new user and a new
// map, which the store swaps in atomically, so the per-command check reads
// without a lock.

// redisACLCategoriesJSON maps every Redis 7.0 command ("config|get" for
// subcommands) to its ACL categories, as COMMAND INFO lists them.
// Regenerate with redis-server 7.0 running on port P:
//
//	redis-cli -p P --json COMMAND | python3 -c 'import json,sys
//	d=json.load(sys.stdin); o={}
//	def w(x):
//	    o[x[0]]=x[6]
//	    for s in x[9]: w(s)
//	for x in d: w(x)
//	json.dump(o,sys.stdout,separators=(",",":"),sort_keys=True)' > server/aclcategories.json
//
//go:embed aclcategories.json
var redisACLCategoriesJSON []byte

var redisACLCategories = func() map[string][]string {
	var m map[string][]string
	if err := json.Unmarshal(redisACLCategoriesJSON, &m); err != nil {
		panic("server: aclcategories.json: " + err.Error())
	}
	return m
}()

// aclCategoryNames is Redis's ACLCommandCategories order (ACL CAT) plus
// sessdb's own "session" category for the SESS.* commands.
var aclCategoryNames = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
	"connection", "transaction", "scripting", "session"}

// Key pattern permissions (%R~, %W~, ~).
const (
	keyRead  = 1
	keyWrite = 2
	keyAll   = keyRead | keyWrite
)

// The outcomes of a permission check, ordered as Redis ranks them.
const (
	aclOK = iota
	aclDeniedCmd
	aclDeniedKey
	aclDeniedChannel
)

// aclCatalog numbers every command and subcommand of the table: a user's
// allowed commands are a bitmap over these ids.
type aclCatalog struct {
	cmds   []*command          // by id, sorted by name
	ids    map[*command]int    // the inverse
	cats   []uint64            // category bits per id (bit i = aclCategoryNames[i])
	byName map[string]*command // "get", "config|get"
}

func newACLCatalog(t commandTable) *aclCatalog {
	cat := &aclCatalog{ids: map[*command]int{}, byName: map[string]*command{}}
	for _, cmd := range t {
		cat.cmds = append(cat.cmds, cmd)
		for _, sub := range cmd.subs {
			cat.cmds = append(cat.cmds, sub)
		}
	}
	sort.Slice(cat.cmds, func(i, j int) bool { return cat.cmds[i].name < cat.cmds[j].name })
	cat.cats = make([]uint64, len(cat.cmds))
	for i, cmd := range cat.cmds {
		cat.ids[cmd] = i
		cat.byName[cmd.name] = cmd
		for _, name := range cmdACLCategories(cmd) {
			if b := aclCategoryBit(strings.TrimPrefix(name, "@")); b != 0 {
				cat.cats[i] |= b
			}
		}
	}
	return cat
}

// cmdACLCategories returns a command's categories: Redis 7.0's own for the
// commands Redis has, else derived from the flags and group (SESS.* get
// @session plus @read or @write).
func cmdACLCategories(cmd *command) []string {
	if cats, ok := redisACLCategories[cmd.name]; ok {
		return cats
	}
	return cmd.aclCategories()
}

func aclCategoryBit(name string) uint64 {
	for i, n := range aclCategoryNames {
		if strings.EqualFold(n, name) {
			return 1 << i
		}
	}
	return 0
}

// lookup finds a command as ACL rules name it: "get", "config|get",
// case-insensitively.
func (cat *aclCatalog) lookup(name string) *command { return cat.byName[strings.ToLower(name)] }

type keyPattern struct {
	flags   int
	pattern string
}

func (p keyPattern) String() string {
	switch p.flags {
	case keyRead:
		return "%R~" + p.pattern
	case keyWrite:
		return "%W~" + p.pattern
	}
	return "~" + p.pattern
}

// aclUser is one ACL user. It is never modified once published.
type aclUser struct {
	name        string
	enabled     bool
	nopass      bool
	sanitize    string   // "", "sanitize-payload" or "skip-sanitize-payload"
	passwords   []string // lower-case hex SHA-256, in the order added
	future      bool     // +@all was given: future commands are allowed (Redis's reserved bit)
	allCommands bool     // SELECTOR_FLAG_ALLCOMMANDS: no bit was cleared since +@all
	allowed     []uint64 // command bitmap by catalog id
	firstArgs   map[int][]string
	allKeys     bool
	keys        []keyPattern
	allChannels bool
	channels    []string
}

func newACLUser(name string, ncmds int) *aclUser {
	return &aclUser{name: name, allowed: make([]uint64, (ncmds+63)/64)}
}

func (u *aclUser) clone() *aclUser {
	v := *u
	v.passwords = append([]string(nil), u.passwords...)
	v.allowed = append([]uint64(nil), u.allowed...)
	v.keys = append([]keyPattern(nil), u.keys...)
	v.channels = append([]string(nil), u.channels...)
	if u.firstArgs != nil {
		v.firstArgs = map[int][]string{}
		for k, a := range u.firstArgs {
			v.firstArgs[k] = append([]string(nil), a...)
		}
	}
	return &v
}

func (u *aclUser) bit(id int) bool { return u.allowed[id/64]&(1<<(id%64)) != 0 }

func (u *aclUser) setBit(id int, on bool) {
	if on {
		u.allowed[id/64] |= 1 << (id % 64)
	} else {
		u.allowed[id/64] &^= 1 << (id % 64)
		u.allCommands = false
	}
}

// unrestricted reports whether the user may run anything on any key and
// channel: the check has nothing to do.
func (u *aclUser) unrestricted() bool { return u.allCommands && u.allKeys && u.allChannels }

// hashPassword is Redis's ACLHashPassword: lower-case hex SHA-256.
func hashPassword(p []byte) string {
	sum := sha256.Sum256(p)
	return hex.EncodeToString(sum[:])
}

func validPasswordHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < 'a' || c > 'f') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// checkPassword compares the hash of pass with every stored hash in constant
// time (it looks at all of them whichever matches).
func (u *aclUser) checkPassword(pass []byte) bool {
	if u.nopass {
		return true
	}
	h := []byte(hashPassword(pass))
	ok := 0
	for _, p := range u.passwords {
		ok |= subtle.ConstantTimeCompare(h, []byte(p))
	}
	return ok == 1
}

// aclRuleError is the reason ACLSetUser gives for a refused rule, in Redis's
// wording (ACLSetUserStringError).
type aclRuleError string

func (e aclRuleError) Error() string { return string(e) }

const (
	errRuleUnknown     aclRuleError = "Unknown command or category name in ACL"
	errRuleSyntax      aclRuleError = "Syntax error"
	errRuleAfterAll    aclRuleError = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	errRuleAfterAllCh  aclRuleError = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
	errRuleNoPass      aclRuleError = "The password you are trying to remove from the user does not exist"
	errRuleBadHash     aclRuleError = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	errRuleSubFirstArg aclRuleError = "Allowing first-arg of a subcommand is not supported"
	errRuleSelectors   aclRuleError = "Selectors are not supported by sessdb"
)

func hasSpaces(s string) bool {
	for _, r := range s {
		if r == 0 || unicode.IsSpace(r) {
			return true
		}
	}
	return false
}

// apply applies one rule to u (which the caller owns), as Redis's ACLSetUser.
func (cat *aclCatalog) apply(u *aclUser, op string) error {
	lower := strings.ToLower(op)
	switch {
	case op == "":
		return nil
	case lower == "on":
		u.enabled = true
	case lower == "off":
		u.enabled = false
	case lower == "skip-sanitize-payload" || lower == "sanitize-payload":
		u.sanitize = lower
	case lower == "nopass":
		u.nopass, u.passwords = true, nil
	case lower == "resetpass":
		u.nopass, u.passwords = false, nil
	case op[0] == '>' || op[0] == '#':
		h := op[1:]
		if op[0] == '>' {
			h = hashPassword([]byte(op[1:]))
		} else if !validPasswordHash(h) {
			return errRuleBadHash
		}
		found := false
		for _, p := range u.passwords {
			found = found || p == h
		}
		if !found {
			u.passwords = append(u.passwords, h)
		}
		u.nopass = false
	case op[0] == '<' || op[0] == '!':
		h := op[1:]
		if op[0] == '<' {
			h = hashPassword([]byte(op[1:]))
		} else if !validPasswordHash(h) {
			return errRuleBadHash
		}
		for i, p := range u.passwords {
			if p == h {
				u.passwords = append(u.passwords[:i:i], u.passwords[i+1:]...)
				if len(u.passwords) == 0 {
					u.passwords = nil // the same state as a user that never had one
				}
				return nil
			}
		}
		return errRuleNoPass
	case op[0] == '(' && op[len(op)-1] == ')':
		return errRuleSelectors
	case lower == "clearselectors":
	case lower == "reset":
		for _, r := range []string{"resetpass", "resetkeys", "resetchannels", "off", "sanitize-payload", "-@all"} {
			_ = cat.apply(u, r)
		}
	default:
		return cat.applySelector(u, op, lower)
	}
	return nil
}

// applySelector is Redis's ACLSetSelector: command, key and channel rules.
func (cat *aclCatalog) applySelector(u *aclUser, op, lower string) error {
	switch {
	case lower == "allkeys" || op == "~*":
		u.allKeys, u.keys = true, nil
	case lower == "resetkeys":
		u.allKeys, u.keys = false, nil
	case lower == "allchannels" || op == "&*":
		u.allChannels, u.channels = true, nil
	case lower == "resetchannels":
		u.allChannels, u.channels = false, nil
	case lower == "allcommands" || lower == "+@all":
		for i := range u.allowed {
			u.allowed[i] = ^uint64(0)
		}
		u.future, u.allCommands, u.firstArgs = true, true, nil
	case lower == "nocommands" || lower == "-@all":
		for i := range u.allowed {
			u.allowed[i] = 0
		}
		u.future, u.allCommands, u.firstArgs = false, false, nil
	case op[0] == '~' || op[0] == '%':
		if u.allKeys {
			return errRuleAfterAll
		}
		flags, off := keyAll, 1
		if op[0] == '%' {
			flags = 0
			for ; off < len(op); off++ {
				c := op[off] &^ 0x20 // upper case
				if c == 'R' && flags&keyRead == 0 {
					flags |= keyRead
				} else if c == 'W' && flags&keyWrite == 0 {
					flags |= keyWrite
				} else if op[off] == '~' {
					off++
					break
				} else {
					return errRuleSyntax
				}
			}
		}
		pat := op[min(off, len(op)):]
		if hasSpaces(pat) {
			return errRuleSyntax
		}
		for i, p := range u.keys {
			if p.pattern == pat {
				u.keys[i].flags |= flags
				return nil
			}
		}
		u.keys = append(u.keys, keyPattern{flags, pat})
	case op[0] == '&':
		if u.allChannels {
			return errRuleAfterAllCh
		}
		pat := op[1:]
		if hasSpaces(pat) {
			return errRuleSyntax
		}
		for _, p := range u.channels {
			if p == pat {
				return nil
			}
		}
		u.channels = append(u.channels, pat)
	case (op[0] == '+' || op[0] == '-') && len(op) > 1 && op[1] == '@':
		b := aclCategoryBit(op[2:])
		if b == 0 {
			return errRuleUnknown
		}
		for id, cats := range cat.cats {
			if cats&b != 0 {
				cat.changePerm(u, cat.cmds[id], op[0] == '+')
			}
		}
	case op[0] == '+':
		name := op[1:]
		i := strings.LastIndexByte(name, '|')
		if i < 0 {
			cmd := cat.lookup(name)
			if cmd == nil {
				return errRuleUnknown
			}
			cat.changePerm(u, cmd, true)
			return nil
		}
		cmd := cat.lookup(name[:i])
		switch {
		case cmd == nil:
			return errRuleUnknown
		case cmd.parent != nil:
			return errRuleSubFirstArg
		case i == len(name)-1:
			return errRuleSyntax
		case cmd.subs != nil:
			sub := cat.lookup(name)
			if sub == nil {
				return errRuleUnknown
			}
			cat.changePerm(u, sub, true)
		default:
			id := cat.ids[cmd]
			arg := name[i+1:]
			for _, a := range u.firstArgs[id] {
				if strings.EqualFold(a, arg) {
					return nil
				}
			}
			if u.firstArgs == nil {
				u.firstArgs = map[int][]string{}
			}
			u.firstArgs[id] = append(u.firstArgs[id], arg)
		}
	case op[0] == '-':
		cmd := cat.lookup(op[1:])
		if cmd == nil {
			return errRuleUnknown
		}
		cat.changePerm(u, cmd, false)
	default:
		return errRuleSyntax
	}
	return nil
}

// changePerm is ACLChangeSelectorPerm: a container takes its subcommands
// along.
func (cat *aclCatalog) changePerm(u *aclUser, cmd *command, allow bool) {
	id := cat.ids[cmd]
	u.setBit(id, allow)
	delete(u.firstArgs, id)
	for _, sub := range cmd.subs {
		u.setBit(cat.ids[sub], allow)
	}
}

// describeCommands is Redis's ACLDescribeSelectorCommandRules: +@all or
// -@all, then the categories that fit best, then single commands (in name
// order, where Redis follows its hash table's order).
func (cat *aclCatalog) describeCommands(u *aclUser) string {
	var b strings.Builder
	fake := newACLUser("", len(cat.cmds))
	additive := !u.future
	if additive {
		b.WriteString("-@all ")
	} else {
		b.WriteString("+@all ")
		_ = cat.applySelector(fake, "+@all", "+@all")
	}
	temp := u.clone()
	applied := make([]bool, len(aclCategoryNames))
	for {
		best, minDiff, maxSame := -1, int(^uint(0)>>1), 0
		for j, name := range aclCategoryNames {
			if applied[j] {
				continue
			}
			on, off := 0, 0
			bit := aclCategoryBit(name)
			for id, cats := range cat.cats {
				if cats&bit != 0 {
					if temp.bit(id) {
						on++
					} else {
						off++
					}
				}
			}
			diff, same := on, off
			if additive {
				diff, same = off, on
			}
			if same > diff && (diff < minDiff || diff == minDiff && same > maxSame) {
				best, minDiff, maxSame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		sign, inv := "+@", "-@"
		if !additive {
			sign, inv = "-@", "+@"
		}
		op := sign + aclCategoryNames[best]
		_ = cat.applySelector(fake, op, op)
		_ = cat.applySelector(temp, inv+aclCategoryNames[best], inv+aclCategoryNames[best])
		b.WriteString(op + " ")
		applied[best] = true
	}
	for id, cmd := range cat.cmds {
		ub, fb := u.bit(id), fake.bit(id)
		if ub != fb {
			if ub {
				b.WriteString("+")
			} else {
				b.WriteString("-")
			}
			b.WriteString(cmd.name + " ")
			cat.changePerm(fake, cmd, ub)
		}
		if !ub {
			for _, a := range u.firstArgs[id] {
				b.WriteString("+" + cmd.name + "|" + a + " ")
			}
		}
	}
	return strings.TrimSuffix(b.String(), " ")
}

// flags returns the user's flags in Redis's order.
func (u *aclUser) flags() []string {
	var out []string
	if u.enabled {
		out = append(out, "on")
	} else {
		out = append(out, "off")
	}
	if u.nopass {
		out = append(out, "nopass")
	}
	if u.sanitize != "" {
		out = append(out, u.sanitize)
	}
	return out
}

func (u *aclUser) keysString() string {
	if u.allKeys {
		return "~*"
	}
	parts := make([]string, len(u.keys))
	for i, p := range u.keys {
		parts[i] = p.String()
	}
	return strings.Join(parts, " ")
}

func (u *aclUser) channelsString() string {
	if u.allChannels {
		return "&*"
	}
	parts := make([]string, len(u.channels))
	for i, p := range u.channels {
		parts[i] = "&" + p
	}
	return strings.Join(parts, " ")
}

// describe is Redis's ACLDescribeUser: the rules that rebuild the user, as
// ACL LIST and the aclfile show them.
func (cat *aclCatalog) describe(u *aclUser) string {
	var b strings.Builder
	for _, f := range u.flags() {
		b.WriteString(f + " ")
	}
	for _, p := range u.passwords {
		b.WriteString("#" + p + " ")
	}
	if u.allKeys {
		b.WriteString("~* ")
	} else {
		for _, p := range u.keys {
			b.WriteString(p.String() + " ")
		}
	}
	if u.allChannels {
		b.WriteString("&* ")
	} else {
		b.WriteString("resetchannels ")
		for _, p := range u.channels {
			b.WriteString("&" + p + " ")
		}
	}
	b.WriteString(cat.describeCommands(u))
	return b.String()
}

// aclStore holds the users. Readers load the map without locking; writers
// serialise on mu and publish a new map.
type aclStore struct {
	cat   *aclCatalog
	mu    sync.Mutex
	users atomic.Pointer[map[string]*aclUser]
}

func newACLStore(t commandTable) *aclStore {
	st := &aclStore{cat: newACLCatalog(t)}
	m := map[string]*aclUser{"default": st.newDefaultUser()}
	st.users.Store(&m)
	return st
}

// newDefaultUser is ACLCreateDefaultUser: on nopass ~* &* +@all.
func (st *aclStore) newDefaultUser() *aclUser {
	u := newACLUser("default", len(st.cat.cmds))
	for _, r := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		_ = st.cat.apply(u, r)
	}
	return u
}

func (st *aclStore) user(name string) *aclUser { return (*st.users.Load())[name] }

// sortedUsers returns every user ordered by name (Redis's rax order).
func (st *aclStore) sortedUsers() []*aclUser {
	m := *st.users.Load()
	out := make([]*aclUser, 0, len(m))
	for _, u := range m {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// update applies rules to a copy of user name (a new user if there is
// none) and publishes it; nothing changes when a rule is refused, whose
// text and error are returned.
func (st *aclStore) update(name string, rules []string) (string, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	old := *st.users.Load()
	var u *aclUser
	if cur := old[name]; cur != nil {
		u = cur.clone()
	} else {
		u = newACLUser(name, len(st.cat.cmds))
	}
	for _, r := range rules {
		if err := st.cat.apply(u, r); err != nil {
			return r, err
		}
	}
	st.publish(old, func(m map[string]*aclUser) { m[name] = u })
	return "", nil
}

// publish copies old, lets change edit the copy and stores it.
func (st *aclStore) publish(old map[string]*aclUser, change func(map[string]*aclUser)) {
	m := make(map[string]*aclUser, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	change(m)
	st.users.Store(&m)
}

// setDefaultPassword is ACLUpdateDefaultUserPassword, which requirepass
// drives: resetpass, then >pass or nopass.
func (st *aclStore) setDefaultPassword(pass string) {
	rule := "nopass"
	if pass != "" {
		rule = ">" + pass
	}
	_, _ = st.update("default", []string{"resetpass", rule})
}

// authRequired is Redis's authRequired without the per-client part: the
// default user needs a password, or is disabled.
func (st *aclStore) authRequired() bool {
	u := st.user("default")
	return u == nil || !u.nopass || !u.enabled
}

// defaultNoPass reports whether the default user is enabled and needs no
// password (protected mode's condition).
func (st *aclStore) defaultNoPass() bool {
	u := st.user("default")
	return u != nil && u.nopass
}

// authenticate checks a username and password as ACLCheckUserCredentials.
func (st *aclStore) authenticate(name string, pass []byte) bool {
	u := st.user(name)
	if u == nil {
		// Do the same hashing work as for a real user, so that timing does
		// not tell which user names exist.
		_ = (&aclUser{passwords: []string{strings.Repeat("0", 64)}}).checkPassword(pass)
		return false
	}
	return u.checkPassword(pass) && u.enabled
}

// checkACL returns the NOPERM error when the connection's user may not run
// cmd with args, or "" when it may.
func (c *Client) checkACL(cmd *command, args [][]byte) string {
	res, arg := c.srv.acl.check(c.user, cmd, args)
	if res == aclOK {
		return ""
	}
	ctx := "toplevel"
	if c.multi {
		ctx = "multi"
	}
	c.aclDenied(res, cmd, arg, ctx)
	switch res {
	case aclDeniedCmd:
		return "NOPERM this user has no permissions to run the '" + cmd.name + "' command"
	case aclDeniedKey:
		return errNoPermKey
	default:
		return errNoPermChannel
	}
}

// aclDenied counts a refusal in INFO and records it in the ACL log.
func (c *Client) aclDenied(res int, cmd *command, arg []byte, ctx string) {
	reason, object := "command", cmd.name
	switch res {
	case aclDeniedCmd:
		c.srv.stats.aclDeniedCmd.Add(1)
	case aclDeniedKey:
		c.srv.stats.aclDeniedKey.Add(1)
		reason, object = "key", string(arg)
	default:
		c.srv.stats.aclDeniedChannel.Add(1)
		reason, object = "channel", string(arg)
	}
	c.srv.aclLog.add(c, reason, ctx, object, c.user)
}

// check is ACLCheckAllUserCommandPerm for one user. For a denied key or
// channel it also returns that argument.
func (st *aclStore) check(name string, cmd *command, args [][]byte) (int, []byte) {
	u := st.user(name)
	if u == nil {
		return aclDeniedCmd, nil // a deleted user: its connections are being closed
	}
	if u.unrestricted() {
		return aclOK, nil
	}
	top := cmd
	if cmd.parent != nil {
		top = cmd.parent
	}
	if !u.allCommands && !top.noAuth {
		id := st.cat.ids[cmd]
		if !u.bit(id) {
			idx := 1
			if cmd.parent != nil {
				idx = 2
			}
			ok := false
			if idx < len(args) {
				for _, a := range u.firstArgs[id] {
					ok = ok || strings.EqualFold(a, string(args[idx]))
				}
			}
			if !ok {
				return aclDeniedCmd, nil
			}
		}
	}
	if !u.allKeys {
		need := keyNeed(cmd)
		for _, k := range aclKeys(cmd, args) {
			if !u.keyAllowed(k, need) {
				return aclDeniedKey, k
			}
		}
	}
	if !u.allChannels {
		chans, literal := aclChannels(cmd, args)
		for _, ch := range chans {
			if !u.channelAllowed(ch, literal) {
				return aclDeniedChannel, ch
			}
		}
	}
	return aclOK, nil
}

// keyNeed is the access a command's keys need: read for read-only
// commands, write for writing ones.
func keyNeed(cmd *command) int {
	need := 0
	if hasFlag(cmd, "readonly") {
		need |= keyRead
	}
	if hasFlag(cmd, "write") {
		need |= keyWrite
	}
	return need
}

func (u *aclUser) keyAllowed(key []byte, need int) bool {
	for _, p := range u.keys {
		if p.flags&need == need && globMatch(p.pattern, string(key), false) {
			return true
		}
	}
	return false
}

func (u *aclUser) channelAllowed(ch []byte, literal bool) bool {
	for _, p := range u.channels {
		if literal && p == string(ch) || !literal && globMatch(p, string(ch), false) {
			return true
		}
	}
	return false
}

// aclKeys returns the key arguments the ACL checks: the key spec's, or
// for EVAL and friends the numkeys keys.
func aclKeys(cmd *command, args [][]byte) [][]byte {
	switch cmd.name {
	case "eval", "evalsha", "eval_ro", "evalsha_ro":
		if len(args) < 3 {
			return nil
		}
		n, ok := parseInt(args[2])
		if !ok || n <= 0 || n > int64(len(args)-3) {
			return nil
		}
		return args[3 : 3+n]
	}
	return cmd.keys(args)
}

// aclChannels returns the channels a Pub/Sub command names; literal is
// true for PSUBSCRIBE, whose patterns must equal an allowed pattern.
func aclChannels(cmd *command, args [][]byte) ([][]byte, bool) {
	switch cmd.name {
	case "publish", "spublish":
		return args[1:2], false
	case "subscribe", "ssubscribe":
		return args[1:], false
	case "psubscribe":
		return args[1:], true
	}
	return nil, false
}

// authRequired is Redis's authRequired without the per-client part: the
// default user needs a password or is disabled. A Server assembled without
// New (unit tests of the protocol guard) falls back to requirepass.
func (s *Server) authRequired() bool {
	if s.acl == nil {
		return s.cfg.RequirePass() != ""
	}
	return s.acl.authRequired()
}

// execACL checks a queued command again at EXEC, as Redis does: the user's
// rules may have changed since it was queued.
func (c *Client) execACL(cmd *command, args [][]byte) string {
	res, arg := c.srv.acl.check(c.user, cmd, args)
	if res == aclOK {
		return ""
	}
	c.aclDenied(res, cmd, arg, "multi")
	switch res {
	case aclDeniedCmd:
		return fmt.Sprintf(errNoPermExec, msgNoPermExecCmd)
	case aclDeniedKey:
		return fmt.Sprintf(errNoPermExec, msgNoPermExecKey)
	default:
		return fmt.Sprintf(errNoPermExec, msgNoPermExecChannel)
	}
}

// scriptACL checks a command a script calls (redis.call / pcall) against
// the rules of the user running the script.
func (c *Client) scriptACL(cmd *command, args [][]byte) string {
	res, arg := c.srv.acl.check(c.user, cmd, args)
	if res == aclOK {
		return ""
	}
	c.aclDenied(res, cmd, arg, "lua")
	switch res {
	case aclDeniedCmd:
		return errScriptNoPermCmd
	case aclDeniedKey:
		return errScriptNoPermKey
	default:
		return errScriptNoPermChan
	}
}
