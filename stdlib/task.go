package stdlib

import (
	"time"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// task: spawn/wait, bounded pools, sleep and channels, all on the host's
// scheduler. Nothing here blocks the Lua thread: waiting parks the task.
var taskFuncs = map[string]lua.LGFunction{
	"spawn":   taskSpawn,
	"pool":    taskPool,
	"sleep":   taskSleep,
	"channel": taskChannel,
	"yield":   taskYield,
}

// TaskLoader is require("task").
func TaskLoader(L *lua.LState) int {
	host.NewClass(L, "task", map[string]lua.LGFunction{"wait": handleWait, "done": handleDone})
	host.NewClass(L, "pool", map[string]lua.LGFunction{"spawn": poolSpawn, "wait": poolWait})
	host.NewClass(L, "channel", map[string]lua.LGFunction{"send": chanSend, "recv": chanRecv, "close": chanClose})
	L.Push(host.Module(L, taskFuncs))
	return 1
}

func taskSleep(L *lua.LState) int {
	s := float64(L.CheckNumber(1))
	return host.Sleep(L, time.Duration(s*float64(time.Second)))
}

func taskYield(L *lua.LState) int { return host.Sleep(L, 0) }

func spawnArgs(L *lua.LState, first int) (*lua.LFunction, []lua.LValue) {
	fn := L.CheckFunction(first)
	var args []lua.LValue
	for i := first + 1; i <= L.GetTop(); i++ {
		args = append(args, L.Get(i))
	}
	return fn, args
}

func taskSpawn(L *lua.LState) int {
	fn, args := spawnArgs(L, 1)
	t := host.From(L).Spawn(fn, args...)
	L.Push(host.NewObject(L, "task", t))
	return 1
}

func handleDone(L *lua.LState) int {
	t := host.Check[*host.Task](L, 1, "task")
	L.Push(lua.LBool(t.Done()))
	return 1
}

// wait() → the task's results, or its error raised again.
func handleWait(L *lua.LState) int {
	t := host.Check[*host.Task](L, 1, "task")
	h := host.From(L)
	if t.Done() {
		t.OnDone(func(*host.Task) {})
		if t.Err != nil {
			L.Error(t.Err.Value, 0)
		}
		for _, v := range t.Rets {
			L.Push(v)
		}
		return len(t.Rets)
	}
	cur := h.Current()
	t.OnDone(func(t *host.Task) {
		if t.Err != nil {
			h.WakeError(cur, t.Err)
			return
		}
		h.Wake(cur, t.Rets...)
	})
	return host.Park(L)
}

type spawner struct {
	t    *host.Task
	fn   *lua.LFunction
	args []lua.LValue
}

type pool struct {
	n        int
	inflight int
	spawners []spawner    // parked in spawn, waiting for a slot
	waiters  []*host.Task // parked in wait
	firstErr *host.LuaError
	failed   []*host.Task // failed since the last wait: observed once it raises
}

// raised marks the failures a wait is raising as observed (a pool nobody
// waits for leaves them to fail the run).
func (p *pool) raised() {
	for _, t := range p.failed {
		t.Observe()
	}
	p.failed = nil
}

func taskPool(L *lua.LState) int {
	n := L.CheckInt(1)
	if n < 1 {
		L.ArgError(1, "pool size must be at least 1")
	}
	L.Push(host.NewObject(L, "pool", &pool{n: n}))
	return 1
}

func (p *pool) launch(h *host.Host, fn *lua.LFunction, args []lua.LValue) *host.Task {
	p.inflight++
	t := h.Spawn(fn, args...)
	t.Watch(func(t *host.Task) {
		p.inflight--
		if t.Err != nil {
			p.failed = append(p.failed, t)
			if p.firstErr == nil {
				p.firstErr = t.Err
			}
		}
		if len(p.spawners) > 0 {
			s := p.spawners[0]
			p.spawners = p.spawners[1:]
			nt := p.launch(h, s.fn, s.args)
			h.Wake(s.t, host.NewObject(h.L, "task", nt))
		}
		if p.inflight == 0 && len(p.spawners) == 0 && len(p.waiters) > 0 {
			ws, err := p.waiters, p.firstErr
			p.waiters, p.firstErr = nil, nil
			p.raised()
			for _, w := range ws {
				if err != nil {
					h.WakeError(w, err)
				} else {
					h.Wake(w)
				}
			}
		}
	})
	return t
}

// spawn(fn, ...) starts fn as a task once fewer than n are in flight;
// until then the caller waits. Returns the task handle.
func poolSpawn(L *lua.LState) int {
	p := host.Check[*pool](L, 1, "pool")
	fn, args := spawnArgs(L, 2)
	h := host.From(L)
	if p.inflight < p.n && len(p.spawners) == 0 {
		L.Push(host.NewObject(L, "task", p.launch(h, fn, args)))
		return 1
	}
	// Park until a slot frees; the slot is then taken on our behalf.
	p.spawners = append(p.spawners, spawner{h.Current(), fn, args})
	return host.Park(L) // resumed with the handle once a finishing task frees a slot
}

// wait() waits until every task of the pool has finished, then raises the
// first error any of them raised.
func poolWait(L *lua.LState) int {
	p := host.Check[*pool](L, 1, "pool")
	if p.inflight == 0 && len(p.spawners) == 0 {
		if err := p.firstErr; err != nil {
			p.firstErr = nil
			p.raised()
			L.Error(err.Value, 0)
		}
		return 0
	}
	h := host.From(L)
	p.waiters = append(p.waiters, h.Current())
	return host.Park(L)
}

type channel struct {
	cap      int
	buf      []lua.LValue
	closed   bool
	recvs    []*host.Task
	sends    []*host.Task
	sendVals []lua.LValue
}

func taskChannel(L *lua.LState) int {
	n := L.OptInt(1, 0)
	if n < 0 {
		L.ArgError(1, "capacity must not be negative")
	}
	L.Push(host.NewObject(L, "channel", &channel{cap: n}))
	return 1
}

var errClosed = &host.Error{Kind: "closed", Message: "send on a closed channel"}

// send(v) hands v to a receiver or the buffer; waits while the buffer is full.
func chanSend(L *lua.LState) int {
	c := host.Check[*channel](L, 1, "channel")
	v := L.Get(2)
	h := host.From(L)
	if c.closed {
		return host.Raise(L, errClosed)
	}
	if len(c.recvs) > 0 {
		r := c.recvs[0]
		c.recvs = c.recvs[1:]
		h.Wake(r, v, lua.LTrue)
		return 0
	}
	if len(c.buf) < c.cap {
		c.buf = append(c.buf, v)
		return 0
	}
	c.sends = append(c.sends, h.Current())
	c.sendVals = append(c.sendVals, v)
	return host.Park(L)
}

// recv() → value, true; or nil, false once the channel is closed and empty.
func chanRecv(L *lua.LState) int {
	c := host.Check[*channel](L, 1, "channel")
	h := host.From(L)
	if len(c.buf) > 0 {
		v := c.buf[0]
		c.buf = c.buf[1:]
		if len(c.sends) > 0 {
			c.buf = append(c.buf, c.sendVals[0])
			h.Wake(c.sends[0])
			c.sends, c.sendVals = c.sends[1:], c.sendVals[1:]
		}
		L.Push(v)
		L.Push(lua.LTrue)
		return 2
	}
	if len(c.sends) > 0 {
		v := c.sendVals[0]
		h.Wake(c.sends[0])
		c.sends, c.sendVals = c.sends[1:], c.sendVals[1:]
		L.Push(v)
		L.Push(lua.LTrue)
		return 2
	}
	if c.closed {
		L.Push(lua.LNil)
		L.Push(lua.LFalse)
		return 2
	}
	c.recvs = append(c.recvs, h.Current())
	return host.Park(L)
}

// close() wakes every receiver with nil, false; parked senders get an error.
func chanClose(L *lua.LState) int {
	c := host.Check[*channel](L, 1, "channel")
	h := host.From(L)
	if c.closed {
		return 0
	}
	c.closed = true
	for _, r := range c.recvs {
		h.Wake(r, lua.LNil, lua.LFalse)
	}
	c.recvs = nil
	for _, s := range c.sends {
		h.WakeError(s, errClosed)
	}
	c.sends, c.sendVals = nil, nil
	return 0
}
