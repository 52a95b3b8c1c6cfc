package stdlib

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/term"
)

// progress: a one-line bar on stderr with bytes, rate and ETA, redrawn at
// most ten times a second, and only when stderr is a terminal: in cron
// jobs and pipes it prints nothing.
var progressFuncs = map[string]lua.LGFunction{
	"new":     progressNew,     // new{total=, label=, unit="bytes"|"items"} → bar
	"enabled": progressEnabled, // enabled() → whether bars are drawn
}

// ProgressLoader is require("progress").
func ProgressLoader(L *lua.LState) int {
	host.NewClass(L, "progress", map[string]lua.LGFunction{
		"add":   barAdd,
		"set":   barSet,
		"total": barTotal,
		"done":  barDone,
		"value": barValue,
	})
	L.Push(host.Module(L, progressFuncs))
	return 1
}

// Where bars are drawn, and whether: tests swap these.
var (
	barOut     io.Writer = os.Stderr
	barEnabled           = func() bool {
		switch os.Getenv("GOS3LUA_PROGRESS") {
		case "0":
			return false
		case "1":
			return true
		}
		return term.IsTerminal(int(os.Stderr.Fd()))
	}
	barWidth = func() int {
		if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil && w > 20 {
			return w
		}
		return 80
	}
	barInterval = 100 * time.Millisecond
)

// The bar on screen now (one line, shared by every bar and by log).
var (
	screenMu sync.Mutex
	shown    *bar
)

// withBarCleared runs write (a log line) with the bar line erased first
// and redrawn after, so log lines and a bar interleave cleanly.
func withBarCleared(write func()) {
	screenMu.Lock()
	defer screenMu.Unlock()
	if shown == nil {
		write()
		return
	}
	io.WriteString(barOut, "\r\033[K")
	write()
	io.WriteString(barOut, shown.line())
}

type bar struct {
	label    string
	unit     string
	total    float64
	n        float64
	start    time.Time
	lastDraw time.Time
	finished bool
	on       bool
}

func (b *bar) String() string { return "progress(" + b.label + ")" }

func progressEnabled(L *lua.LState) int {
	L.Push(lua.LBool(barEnabled()))
	return 1
}

func progressNew(L *lua.LState) int {
	o := host.OptTable(L, 1)
	b := &bar{start: time.Now(), unit: "bytes", on: barEnabled()}
	switch v := o.RawGetString("total").(type) {
	case lua.LNumber:
		b.total = float64(v)
	case *lua.LNilType:
	default:
		L.ArgError(1, "total: number expected, got "+host.TypeName(v))
	}
	switch v := o.RawGetString("label").(type) {
	case lua.LString:
		b.label = string(v)
	case *lua.LNilType:
	default:
		L.ArgError(1, "label: string expected, got "+host.TypeName(v))
	}
	switch u := o.RawGetString("unit").(type) {
	case lua.LString:
		if u != "bytes" && u != "items" {
			L.ArgError(1, fmt.Sprintf("unit: %q is neither \"bytes\" nor \"items\"", string(u)))
		}
		b.unit = string(u)
	case *lua.LNilType:
	default:
		L.ArgError(1, "unit: string expected, got "+host.TypeName(u))
	}
	L.Push(host.NewObject(L, "progress", b))
	return 1
}

func barArg(L *lua.LState) *bar { return host.Check[*bar](L, 1, "progress") }

func barAdd(L *lua.LState) int {
	b := barArg(L)
	b.n += float64(L.CheckNumber(2))
	b.draw(false)
	return 0
}

func barSet(L *lua.LState) int {
	b := barArg(L)
	b.n = float64(L.CheckNumber(2))
	b.draw(false)
	return 0
}

// total(n) changes the expected total (e.g. once it becomes known).
func barTotal(L *lua.LState) int {
	b := barArg(L)
	b.total = float64(L.CheckNumber(2))
	b.draw(false)
	return 0
}

// value() → the count so far.
func barValue(L *lua.LState) int {
	L.Push(lua.LNumber(barArg(L).n))
	return 1
}

// done() draws the final state and ends the line.
func barDone(L *lua.LState) int {
	b := barArg(L)
	if b.finished {
		return 0
	}
	b.finished = true
	if !b.on {
		return 0
	}
	screenMu.Lock()
	defer screenMu.Unlock()
	io.WriteString(barOut, b.line()+"\n")
	if shown == b {
		shown = nil
	}
	return 0
}

func (b *bar) draw(force bool) {
	if !b.on || b.finished {
		return
	}
	now := time.Now()
	if !force && now.Sub(b.lastDraw) < barInterval {
		return
	}
	b.lastDraw = now
	screenMu.Lock()
	defer screenMu.Unlock()
	shown = b
	io.WriteString(barOut, b.line())
}

// line renders "\r label [####....]  45%  12.3 MiB / 27.0 MiB  5.2 MiB/s  ETA 0:03".
func (b *bar) line() string {
	el := time.Since(b.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = b.n / el
	}
	var right []string
	if b.total > 0 {
		right = append(right, fmt.Sprintf("%3.0f%%", 100*min(b.n/b.total, 1)))
		right = append(right, b.amount(b.n)+" / "+b.amount(b.total))
	} else {
		right = append(right, b.amount(b.n))
	}
	right = append(right, b.amount(rate)+"/s")
	switch {
	case b.finished:
		right = append(right, "in "+clock(el))
	case b.total > 0 && rate > 0 && b.n < b.total:
		right = append(right, "ETA "+clock((b.total-b.n)/rate))
	default:
		right = append(right, clock(el))
	}
	tail := "  " + strings.Join(right, "  ")
	label := b.label
	if label != "" {
		label += " "
	}
	room := barWidth() - 1 - len(label) - len(tail) - 2
	var mid string
	if b.total > 0 && room >= 10 {
		w := min(room, 30) // a fixed width unless the terminal is narrow, so it does not jitter
		fill := int(float64(w) * min(b.n/b.total, 1))
		mid = "[" + strings.Repeat("#", fill) + strings.Repeat(".", w-fill) + "]"
	}
	line := label + mid + tail
	if mid == "" {
		line = label + strings.TrimLeft(tail, " ")
	}
	return "\r\033[K" + line
}

// amount is fixed-width so that the bar does not jitter as digits change.
func (b *bar) amount(v float64) string {
	if b.unit == "items" {
		return fmt.Sprintf("%6.0f", v)
	}
	return fmt.Sprintf("%10s", HumanBytes(v))
}

// HumanBytes renders a byte count with binary units: 512 B, 1.5 KiB, 10.0 MiB.
func HumanBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

func clock(s float64) string {
	t := int(s + 0.5)
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}
