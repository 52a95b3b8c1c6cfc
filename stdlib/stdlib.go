// Package stdlib holds the general modules (task, fs, path, time, log, args,
// hash, json, inspect, progress): ordinary Go behind thin Lua glue.
package stdlib

import "github.com/gos3lua/gos3lua/host"

// Register registers every stdlib module with the host.
func Register() {
	host.Register("task", TaskLoader)
	host.Register("inspect", InspectLoader)
	host.Register("args", ArgsLoader)
	host.Register("fs", FSLoader)
	host.Register("path", PathLoader)
	host.Register("time", TimeLoader)
	host.Register("hash", HashLoader)
	host.Register("json", JSONLoader)
	host.Register("log", LogLoader)
	host.Register("progress", ProgressLoader)
}
