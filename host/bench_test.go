package host_test

import (
	"fmt"
	"testing"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// BenchmarkRoundTrip: 10,000 tasks each doing 10 host round trips (a Go
// call on its own goroutine, yield, resume). Reported per round trip.
func BenchmarkRoundTrip(b *testing.B) {
	const tasks, trips = 10000, 10
	code := fmt.Sprintf(`
		local task, echo = require("task"), require("probe").echo
		local p = task.pool(%d)
		for i = 1, %d do p:spawn(function() for j = 1, %d do echo(j) end end) end
		p:wait()`, tasks, tasks, trips)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := host.New(host.Options{})
		if _, err := h.RunString(code, "bench"); err != nil {
			b.Fatal(err)
		}
		h.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tasks*trips), "ns/roundtrip")
}

// BenchmarkPcallYield: pcall around a host call (a coroutine per pcall).
func BenchmarkPcallYield(b *testing.B) {
	h := host.New(host.Options{})
	defer h.Close()
	fn, _ := h.Compile(`local echo, n = require("probe").echo, ... for i = 1, n do pcall(echo, i) end`, "bench")
	b.ResetTimer()
	if _, err := h.Run(fn, lua.LNumber(b.N)); err != nil {
		b.Fatal(err)
	}
}

const fib = `local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end return fib(27)`

// BenchmarkFibHost and BenchmarkFibBare compare CPU-bound Lua under the
// host with bare gopher-lua: the host must add nothing.
func BenchmarkFibHost(b *testing.B) {
	h := host.New(host.Options{})
	defer h.Close()
	fn, _ := h.Compile(fib, "fib")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.Run(fn); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFibBare(b *testing.B) {
	L := lua.NewState()
	defer L.Close()
	fn, _ := L.LoadString(fib)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		L.Push(fn)
		L.Call(0, 1)
		L.Pop(1)
	}
}
