// Package fuse is the fuse module: filesystems in userspace written as a
// table of path-based Lua callbacks, served by hanwen/go-fuse/v2.
//
// Every kernel request arrives on a go-fuse goroutine; it is handed to the
// scheduler (host.Submit), which starts the callback as a task, and the
// go-fuse goroutine waits for the task's result. So the Lua state stays
// single-threaded while callbacks may call s3 or dns and suspend only
// themselves. What this package must never do: let a callback's error
// vanish (it is an errno for the kernel and a logged traceback for the
// user), or leave a mount behind when the run ends.
package fuse

import (
	"syscall"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

var funcs = map[string]lua.LGFunction{
	"mount": luaMount, // mount(mountpoint, ops, opts) → handle with serve(), unmount(), mountpoint()
}

var methods = map[string]lua.LGFunction{
	"serve":      luaServe,      // serve() waits until unmounted (unmount(), umount, Ctrl-C)
	"unmount":    luaUnmount,    // unmount() undoes the mount; serve() then returns
	"mountpoint": luaMountpoint, // mountpoint() → the directory
}

// errnos are the fuse.E* constants: error(fuse.ENOENT) in a callback
// answers the kernel with that errno.
var errnos = map[string]syscall.Errno{
	"EPERM": syscall.EPERM, "ENOENT": syscall.ENOENT, "EIO": syscall.EIO, "ENXIO": syscall.ENXIO,
	"EBADF": syscall.EBADF, "EAGAIN": syscall.EAGAIN, "ENOMEM": syscall.ENOMEM, "EACCES": syscall.EACCES,
	"EBUSY": syscall.EBUSY, "EEXIST": syscall.EEXIST, "EXDEV": syscall.EXDEV, "ENOTDIR": syscall.ENOTDIR,
	"EISDIR": syscall.EISDIR, "EINVAL": syscall.EINVAL, "ENFILE": syscall.ENFILE, "EMFILE": syscall.EMFILE,
	"EFBIG": syscall.EFBIG, "ENOSPC": syscall.ENOSPC, "ESPIPE": syscall.ESPIPE, "EROFS": syscall.EROFS,
	"EMLINK": syscall.EMLINK, "ERANGE": syscall.ERANGE, "ENAMETOOLONG": syscall.ENAMETOOLONG,
	"ENOSYS": syscall.ENOSYS, "ENOTEMPTY": syscall.ENOTEMPTY, "ELOOP": syscall.ELOOP,
	"ENODATA": syscall.ENODATA, "ENOTSUP": syscall.ENOTSUP, "ETIMEDOUT": syscall.ETIMEDOUT,
	"EINTR": syscall.EINTR, "ECONNREFUSED": syscall.ECONNREFUSED, "EHOSTUNREACH": syscall.EHOSTUNREACH,
	"EDQUOT": syscall.EDQUOT, "ESTALE": syscall.ESTALE, "ETXTBSY": syscall.ETXTBSY,
}

// errnoNames is the reverse of errnos, for debug lines.
var errnoNames = func() map[syscall.Errno]string {
	m := map[syscall.Errno]string{}
	for n, e := range errnos {
		m[e] = n
	}
	m[syscall.ENOTSUP] = "ENOTSUP"
	return m
}()

func errnoName(e syscall.Errno) string {
	if e == 0 {
		return "ok"
	}
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return e.Error()
}

// Loader is require("fuse").
func Loader(L *lua.LState) int {
	host.NewClass(L, "fuse.mount", methods)
	t := host.Module(L, funcs)
	for name, e := range errnos {
		t.RawSetString(name, lua.LNumber(e))
	}
	L.Push(t)
	return 1
}

// Register makes require("fuse") available.
func Register() { host.Register("fuse", Loader) }
