package server

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessdb/sessdb/storage"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, on a
// gopher-lua VM. A script runs entirely inside the one storage transaction
// its command was dispatched with (EVAL and EVALSHA: an Update; the _RO
// forms: a View), so no other command interleaves with it and its writes
// reach the disk in one commit. As in Redis, the writes a script made before
// it failed are kept. redis.call runs commands through the same command
// table as clients, as a client of its own whose replies are captured and
// converted to Lua values with Redis's rules.
//
// A script that runs longer than busy-reply-threshold is busy: other
// clients get BUSY, and SCRIPT KILL stops it unless it has written
// (script_busy.go). The cjson library is script_cjson.go. The cmsgpack,
// bit and struct libraries, redis.log's output, redis.setresp and
// redis.set_repl are not provided.

func init() {
	ev := []string{"noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys"}
	ro := []string{"readonly", "noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys"}
	register(
		&command{name: "eval", arity: -3, flags: ev, access: accessWrite, group: "scripting", summary: "Executes a server-side Lua script.", since: "2.6.0", run: cmdEval},
		&command{name: "evalsha", arity: -3, flags: ev, access: accessWrite, group: "scripting", summary: "Executes a server-side Lua script by SHA1 digest.", since: "2.6.0", run: cmdEvalsha},
		&command{name: "eval_ro", arity: -3, flags: ro, access: accessRead, group: "scripting", summary: "Executes a read-only server-side Lua script.", since: "7.0.0", run: cmdEvalRO},
		&command{name: "evalsha_ro", arity: -3, flags: ro, access: accessRead, group: "scripting", summary: "Executes a read-only server-side Lua script by SHA1 digest.", since: "7.0.0", run: cmdEvalshaRO},
		&command{name: "script", arity: -2, group: "scripting", summary: "A container for Lua scripts management commands.", since: "2.6.0", subs: map[string]*command{
			"load":   {name: "script|load", arity: 3, flags: []string{"noscript", "stale"}, group: "scripting", summary: "Loads a server-side Lua script to the script cache.", since: "2.6.0", run: cmdScriptLoad},
			"exists": {name: "script|exists", arity: -3, flags: []string{"noscript"}, group: "scripting", summary: "Determines whether server-side Lua scripts exist in the script cache.", since: "2.6.0", run: cmdScriptExists},
			"flush":  {name: "script|flush", arity: -2, flags: []string{"noscript"}, group: "scripting", summary: "Removes all server-side Lua scripts from the script cache.", since: "2.6.0", run: cmdScriptFlush},
			"kill":   {name: "script|kill", arity: 2, flags: []string{"noscript", "allow_busy"}, group: "scripting", summary: "Terminates a server-side Lua script during execution.", since: "2.6.0", run: cmdScriptKill},
			"debug":  {name: "script|debug", arity: 3, flags: []string{"noscript"}, group: "scripting", summary: "Sets the debug mode of server-side Lua scripts.", since: "3.2.0", run: cmdScriptDebug},
			"help":   {name: "script|help", arity: 2, flags: []string{"loading", "stale"}, group: "scripting", summary: "Returns helpful text about the different subcommands.", since: "5.0.0", run: cmdScriptHelp},
		}},
	)
}

// scriptDenied are the commands Redis refuses in a script that sessdb's
// table does not flag noscript.
var scriptDenied = map[string]bool{
	"subscribe": true, "psubscribe": true, "ssubscribe": true,
	"unsubscribe": true, "punsubscribe": true, "sunsubscribe": true,
	"shutdown": true, "monitor": true, "sync": true, "psync": true,
}

// scriptCache holds the scripts EVAL and SCRIPT LOAD compiled, by SHA1.
type scriptCache struct {
	mu sync.Mutex
	m  map[string]*lua.FunctionProto
}

func (sc *scriptCache) get(sha string) *lua.FunctionProto {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.m[sha]
}

// load compiles body (or finds it compiled) and returns its SHA1; msg is
// the error reply when it does not compile.
func (sc *scriptCache) load(body []byte) (string, *lua.FunctionProto, string) {
	sum := sha1.Sum(body)
	sha := hex.EncodeToString(sum[:])
	if p := sc.get(sha); p != nil {
		return sha, p, ""
	}
	chunk, err := parse.Parse(strings.NewReader(string(body)), scriptSource)
	if err != nil {
		return "", nil, fmt.Sprintf(errScriptCompile, compileMessage(err.Error(), body))
	}
	proto, err := lua.Compile(chunk, scriptSource)
	if err != nil {
		return "", nil, fmt.Sprintf(errScriptCompile, compileMessage(err.Error(), body))
	}
	sc.mu.Lock()
	if sc.m == nil {
		sc.m = map[string]*lua.FunctionProto{}
	}
	sc.m[sha] = proto
	sc.mu.Unlock()
	return sha, proto, ""
}

func (sc *scriptCache) flush() {
	sc.mu.Lock()
	sc.m = nil
	sc.mu.Unlock()
}

const scriptSource = "user_script"

var parseErrRe = regexp.MustCompile(`line:(\d+)\(column:\d+\) near '(.*)':\s*(.*)`)

// compileMessage words a gopher-lua parse error like Lua's:
// "user_script:1: syntax error near '<eof>'".
func compileMessage(msg string, body []byte) string {
	msg = strings.TrimSpace(msg)
	if strings.Contains(msg, " at EOF:") {
		return fmt.Sprintf("%s:%d: syntax error near '<eof>'", scriptSource, 1+strings.Count(string(body), "\n"))
	}
	if m := parseErrRe.FindStringSubmatch(msg); m != nil {
		near := m[2]
		if near == "EOF" {
			near = "<eof>"
		}
		return fmt.Sprintf("%s:%s: %s near '%s'", scriptSource, m[1], m[3], near)
	}
	return msg
}

func cmdEval(c *Client, tx *storage.Tx, args [][]byte)      { evalGeneric(c, tx, args, false, false) }
func cmdEvalsha(c *Client, tx *storage.Tx, args [][]byte)   { evalGeneric(c, tx, args, true, false) }
func cmdEvalRO(c *Client, tx *storage.Tx, args [][]byte)    { evalGeneric(c, tx, args, false, true) }
func cmdEvalshaRO(c *Client, tx *storage.Tx, args [][]byte) { evalGeneric(c, tx, args, true, true) }

func evalGeneric(c *Client, tx *storage.Tx, args [][]byte, bySHA, readOnly bool) {
	// Registered first, so that other clients wait on the script gate, not
	// on the lock this command holds, from as early as possible.
	run := &scriptRun{caller: c, readOnly: readOnly, exclusive: !readOnly || c.ran == nil || c.ran.access != accessRead}
	c.srv.scriptStart(run)
	defer c.srv.scriptEnd(run)
	n, ok := parseInt(args[2])
	if !ok {
		c.writeError(errNotInteger)
		return
	}
	if n > int64(len(args)-3) {
		c.writeError(errNumKeysGreater)
		return
	}
	if n < 0 {
		c.writeError(errNumKeysNegative)
		return
	}
	var sha string
	var proto *lua.FunctionProto
	if bySHA {
		sha = strings.ToLower(string(args[1]))
		if len(sha) == 40 {
			proto = c.srv.scripts.get(sha)
		}
		if proto == nil {
			c.writeError(errNoScript)
			return
		}
	} else {
		var msg string
		sha, proto, msg = c.srv.scripts.load(args[1])
		if proto == nil {
			c.writeError(msg)
			return
		}
	}
	keys, argv := args[3:3+n], args[3+n:]
	vm := vmPool.Get().(*scriptVM)
	c.srv.scriptNamed(run, sha)
	killed := vm.runScript(run, tx, proto, keys, argv)
	if !killed && vm.pristine() {
		vmPool.Put(vm)
	} else {
		vm.L.Close()
	}
}

// scriptVM is one Lua state with the sandboxed libraries and the redis
// table; run is the script it is running. VMs are reused, so a VM whose
// script changed a shared table (a global, a library, a metatable) is
// dropped instead: no script sees another's changes.
type scriptVM struct {
	L     *lua.LState
	run   *scriptRun
	shape []tableShape
}

// tableShape is the content of one shared table when the VM was made.
type tableShape struct {
	t  *lua.LTable
	mt lua.LValue
	kv map[lua.LValue]lua.LValue
}

func shapeOf(L *lua.LState, t *lua.LTable) tableShape {
	sh := tableShape{t: t, mt: L.GetMetatable(t), kv: map[lua.LValue]lua.LValue{}}
	t.ForEach(func(k, v lua.LValue) { sh.kv[k] = v })
	return sh
}

// pristine reports whether no shared table changed since the VM was made.
func (vm *scriptVM) pristine() bool {
	for _, sh := range vm.shape {
		if vm.L.GetMetatable(sh.t) != sh.mt {
			return false
		}
		n, same := 0, true
		sh.t.ForEach(func(k, v lua.LValue) {
			n++
			if w, ok := sh.kv[k]; !ok || w != v {
				same = false
			}
		})
		if !same || n != len(sh.kv) {
			return false
		}
	}
	return true
}

// scriptRun is the context of one script execution.
type scriptRun struct {
	caller    *Client
	client    *Client // the client redis.call runs as
	conn      *captureConn
	tx        *storage.Tx
	sha       string // set by scriptNamed; guarded by scriptState.mu until the script runs
	readOnly  bool
	exclusive bool // it holds the store's write lock (EVAL, or any script inside EXEC)
	oom       bool // memory was over maxmemory when the script started

	state   atomic.Int32 // scriptClean, scriptDirty or scriptKilled (script_busy.go)
	ctx     *killCtx     // cancelled by SCRIPT KILL
	started time.Time
	timer   *time.Timer // marks the script busy at busy-reply-threshold
	busy    bool        // past busy-reply-threshold; guarded by scriptState.mu
}

var vmPool = sync.Pool{New: func() any { return newScriptVM() }}

func newScriptVM() *scriptVM {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, RegistryMaxSize: 1 << 20})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	for _, name := range []string{"dofile", "loadfile", "load", "loadstring", "module", "require", "print", "_printregs", "newproxy"} {
		g.RawSetString(name, lua.LNil)
	}
	// error() with no argument raises nil, as Lua 5.1 does.
	g.RawSetString("error", L.NewFunction(func(L *lua.LState) int {
		L.Error(L.Get(1), L.OptInt(2, 1))
		return 0
	}))
	// As in Redis 7, pcall hands the script the message of a redis.call
	// error, not its table.
	basePcall := g.RawGetString("pcall")
	g.RawSetString("pcall", L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		L.Push(basePcall)
		for i := 1; i <= n; i++ {
			L.Push(L.Get(i))
		}
		L.Call(n, lua.MultRet)
		nret := L.GetTop() - n
		if nret >= 2 && L.Get(n+1) == lua.LFalse {
			if t, ok := L.Get(n + 2).(*lua.LTable); ok {
				if e, ok := t.RawGetString("err").(lua.LString); ok {
					L.Replace(n+2, e)
				}
			}
		}
		return nret
	}))
	vm := &scriptVM{L: L}
	r := L.NewTable()
	r.RawSetString("call", L.NewFunction(func(L *lua.LState) int { return vm.call(L, true) }))
	r.RawSetString("pcall", L.NewFunction(func(L *lua.LState) int { return vm.call(L, false) }))
	r.RawSetString("error_reply", L.NewFunction(luaErrorReply))
	r.RawSetString("status_reply", L.NewFunction(luaStatusReply))
	r.RawSetString("sha1hex", L.NewFunction(luaSHA1Hex))
	r.RawSetString("log", L.NewFunction(func(*lua.LState) int { return 0 }))
	for i, lvl := range []string{"LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING"} {
		r.RawSetString(lvl, lua.LNumber(i))
	}
	g.RawSetString("redis", r)
	cj := openCJSON(L)
	g.RawSetString("cjson", cj)
	cjmt := L.NewTable()
	cjmt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError(errScriptReadonly)
		return 0
	}))
	L.SetMetatable(cj, cjmt)
	// Globals are read only, and reading a missing one is an error, as in Redis 7.
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError(errScriptGlobalRead, L.CheckAny(2).String())
		return 0
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError(errScriptReadonly)
		return 0
	}))
	L.SetMetatable(g, mt)
	vm.shape = append(vm.shape, shapeOf(L, g), shapeOf(L, mt), shapeOf(L, r), shapeOf(L, cj))
	for _, name := range []string{lua.TabLibName, lua.StringLibName, lua.MathLibName} {
		vm.shape = append(vm.shape, shapeOf(L, g.RawGetString(name).(*lua.LTable)))
	}
	if smt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		vm.shape = append(vm.shape, shapeOf(L, smt))
	}
	return vm
}

var luaErrHandler = func(L *lua.LState) int {
	e := L.Get(1)
	t, ok := e.(*lua.LTable)
	if !ok {
		t = L.NewTable()
		s := "nil"
		if e != lua.LNil {
			s = lua.LVAsString(e)
			if s == "" && e.Type() != lua.LTString {
				s = e.String()
			}
		}
		t.RawSetString("err", lua.LString("ERR "+s))
	}
	// The position is that of the innermost Lua function of the script.
	for lvl := 0; ; lvl++ {
		dbg, ok := L.GetStack(lvl)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			continue
		}
		if dbg.What != "G" && dbg.CurrentLine > 0 {
			t.RawSetString("source", lua.LString("@"+scriptSource))
			t.RawSetString("line", lua.LNumber(dbg.CurrentLine))
			break
		}
	}
	L.Push(t)
	return 1
}

// runScript runs proto as run (registered by evalGeneric) and writes its
// reply; it reports whether the script was killed (its VM is then not
// reused).
func (vm *scriptVM) runScript(run *scriptRun, tx *storage.Tx, proto *lua.FunctionProto, keys, argv [][]byte) (killed bool) {
	L, c, sha := vm.L, run.caller, run.sha
	conn := newCaptureConn(c.addr)
	sc := &Client{srv: c.srv, conn: conn, id: c.id, addr: c.addr, laddr: c.laddr, db: c.db, authed: true, user: c.user, created: c.created}
	sc.setResp(2)
	run.client, run.conn, run.tx, run.oom = sc, conn, tx, c.srv.memoryOverLimit()
	vm.run = run
	L.SetContext(run.ctx)
	defer func() {
		L.RemoveContext()
		vm.run = nil
		L.SetTop(0)
	}()

	g := L.G.Global
	g.RawSetString("KEYS", luaStrings(L, keys))
	g.RawSetString("ARGV", luaStrings(L, argv))
	L.Push(L.NewFunctionFromProto(proto))
	err := L.PCall(0, 1, L.NewFunction(luaErrHandler))
	g.RawSetString("KEYS", lua.LNil)
	g.RawSetString("ARGV", lua.LNil)
	if err != nil {
		var ev lua.LValue = lua.LNil
		if ae, ok := err.(*lua.ApiError); ok {
			ev = ae.Object
		}
		if run.state.Load() == scriptKilled {
			c.srv.logger.Printf("Lua script killed by user with SCRIPT KILL.")
			ev = killedError(L, ev)
		}
		c.writeError(scriptFailure(sha, ev, err))
		return run.state.Load() == scriptKilled
	}
	luaToReply(c, L.Get(-1), 0)
	return false
}

// killedError is the error a killed script fails with, as Redis's:
// "ERR Script killed by user with SCRIPT KILL..." at the line it reached.
func killedError(L *lua.LState, ev lua.LValue) lua.LValue {
	t := L.NewTable()
	t.RawSetString("err", lua.LString(errScriptKilled))
	if old, ok := ev.(*lua.LTable); ok {
		t.RawSetString("source", old.RawGetString("source"))
		t.RawSetString("line", old.RawGetString("line"))
	}
	return t
}

// scriptFailure words the reply to a script that raised an error as Redis
// 7.0: "<err> script: <sha>, on @user_script:<line>."
func scriptFailure(sha string, ev lua.LValue, err error) string {
	t, ok := ev.(*lua.LTable)
	if !ok {
		msg := err.Error()
		if s, ok := ev.(lua.LString); ok {
			msg = string(s)
		}
		return "ERR Error running script " + sha + ", " + msg
	}
	msg := lua.LVAsString(t.RawGetString("err"))
	if line, ok := t.RawGetString("line").(lua.LNumber); ok {
		src := lua.LVAsString(t.RawGetString("source"))
		msg += fmt.Sprintf(" script: %s, on %s:%d.", sha, src, int64(line))
	}
	return msg
}

func luaStrings(L *lua.LState, a [][]byte) *lua.LTable {
	t := L.CreateTable(len(a), 0)
	for i, s := range a {
		t.RawSetInt(i+1, lua.LString(s))
	}
	return t
}

// call is redis.call (raise) and redis.pcall.
func (vm *scriptVM) call(L *lua.LState, raise bool) int {
	run := vm.run
	fail := func(msg string) int {
		t := L.NewTable()
		t.RawSetString("err", lua.LString(msg))
		if raise {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	n := L.GetTop()
	if n == 0 {
		return fail("ERR " + errScriptNoArgs)
	}
	args := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			args[i-1] = []byte(v)
		case lua.LNumber:
			args[i-1] = []byte(luaNumberString(float64(v)))
		default:
			return fail("ERR " + errScriptArgType)
		}
	}
	if run == nil {
		return fail("ERR " + errScriptNotAllowed)
	}
	cmd := run.client.srv.table.lookup(args[0])
	if cmd == nil {
		return fail("ERR " + errScriptUnknownCmd)
	}
	if cmd.subs != nil && len(args) >= 2 {
		sub := cmd.subs[strings.ToLower(string(args[1]))]
		if sub == nil {
			return fail("ERR " + errScriptUnknownCmd)
		}
		cmd = sub
	}
	if !cmd.checkArity(len(args)) {
		return fail("ERR " + errScriptWrongArgs)
	}
	top := cmd
	if cmd.parent != nil {
		top = cmd.parent
	}
	if hasFlag(cmd, "noscript") || hasFlag(top, "noscript") || scriptDenied[top.name] {
		return fail("ERR " + errScriptNotAllowed)
	}
	if msg := run.client.scriptACL(cmd, args); msg != "" {
		return fail(msg)
	}
	if run.readOnly && (hasFlag(cmd, "write") || cmd.access == accessWrite) {
		return fail(errScriptWriteInRO)
	}
	// As Redis's scriptVerifyOOM: a script that has not written yet may not
	// start growing memory while it is over maxmemory.
	if run.oom && run.state.Load() == scriptClean && hasFlag(cmd, "denyoom") {
		return fail(errOOM)
	}
	// As Redis, a script is dirty (SCRIPT KILL refuses to stop it) from its
	// first write command on, even one that fails.
	if (cmd.access == accessWrite || hasFlag(cmd, "write")) && !run.markDirty() {
		L.RaiseError("%s", errScriptKilled) // killed just before its first write
	}
	run.client.cmdName.Store(&cmd.name)
	cmd.run(run.client, run.tx, args)
	raw := run.conn.take()
	v, _ := respToLua(L, raw)
	if t, ok := v.(*lua.LTable); ok && raise {
		if e, ok := t.RawGetString("err").(lua.LString); ok && len(raw) > 0 && raw[0] == '-' {
			return fail(string(e))
		}
	}
	L.Push(v)
	return 1
}

func hasFlag(cmd *command, flag string) bool {
	for _, f := range cmd.flags {
		if f == flag {
			return true
		}
	}
	return false
}

// luaNumberString formats a Lua number argument as Lua's tostring (%.14g).
func luaNumberString(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}

// luaErrorTable builds the error table of redis.error_reply as Redis's
// luaPushErrorBuff: "-CODE msg" keeps its code, anything else gets ERR.
func luaErrorTable(L *lua.LState, s string) *lua.LTable {
	code, msg := "ERR", s
	if strings.HasPrefix(s, "-") {
		if i := strings.IndexByte(s, ' '); i < 0 {
			msg = s[1:]
		} else {
			code, msg = s[1:i], s[i+1:]
		}
	}
	msg = strings.Trim(msg, "\r\n")
	t := L.NewTable()
	t.RawSetString("err", lua.LString(code+" "+msg))
	return t
}

func luaErrorReply(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(luaErrorTable(L, errScriptLibArgs))
		return 1
	}
	str := string(s)
	if !strings.HasPrefix(str, "-") {
		str = "-" + str
	}
	L.Push(luaErrorTable(L, str))
	return 1
}

func luaStatusReply(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(luaErrorTable(L, errScriptLibArgs))
		return 1
	}
	t := L.NewTable()
	t.RawSetString("ok", s)
	L.Push(t)
	return 1
}

func luaSHA1Hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.RaiseError("wrong number of arguments")
		return 0
	}
	sum := sha1.Sum([]byte(lua.LVAsString(L.Get(1))))
	L.Push(lua.LString(hex.EncodeToString(sum[:])))
	return 1
}

// luaToReply writes a script's result with Redis's Lua-to-RESP rules:
// number → integer (truncated), string → bulk, true → 1, false and nil →
// null, {ok=…} → status, {err=…} → error, table → array up to its first nil.
func luaToReply(c *Client, v lua.LValue, depth int) {
	if depth > 1000 {
		c.writeError(errScriptNestingLimit)
		return
	}
	switch v := v.(type) {
	case lua.LString:
		c.writeBulk([]byte(v))
	case lua.LNumber:
		c.writeInt(int64(float64(v)))
	case lua.LBool:
		if v {
			c.writeInt(1)
		} else {
			c.writeNull()
		}
	case *lua.LTable:
		if e, ok := v.RawGetString("err").(lua.LString); ok {
			c.writeError(string(e))
			return
		}
		if s, ok := v.RawGetString("ok").(lua.LString); ok {
			c.writeSimple(sanitizeLine(string(s)))
			return
		}
		n := 0
		for v.RawGetInt(n+1) != lua.LNil {
			n++
		}
		c.writeArray(n)
		for i := 1; i <= n; i++ {
			luaToReply(c, v.RawGetInt(i), depth+1)
		}
	default:
		c.writeNull()
	}
}

func cmdScriptLoad(c *Client, _ *storage.Tx, args [][]byte) {
	sha, _, msg := c.srv.scripts.load(args[2])
	if msg != "" {
		c.writeError(msg)
		return
	}
	c.writeBulkString(sha)
}

func cmdScriptExists(c *Client, _ *storage.Tx, args [][]byte) {
	c.writeArray(len(args) - 2)
	for _, a := range args[2:] {
		c.writeBool01(c.srv.scripts.get(strings.ToLower(string(a))) != nil)
	}
}

func cmdScriptFlush(c *Client, _ *storage.Tx, args [][]byte) {
	if len(args) > 3 || (len(args) == 3 && !equalFold(args[2], "sync") && !equalFold(args[2], "async")) {
		c.writeError(errScriptFlushOption)
		return
	}
	c.srv.scripts.flush()
	c.writeOK()
}

func cmdScriptKill(c *Client, _ *storage.Tx, _ [][]byte) {
	if msg := c.srv.scriptKill(); msg != "" {
		c.writeError(msg)
		return
	}
	c.writeOK()
}

func cmdScriptDebug(c *Client, _ *storage.Tx, _ [][]byte) { c.writeError(errScriptDebug) }

func cmdScriptHelp(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeHelp([]string{
		"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DEBUG (YES|SYNC|NO)",
		"    Set the debug mode for subsequent scripts executed.",
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script.",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
		"HELP",
		"    Prints this help.",
	})
}
