// gos3lua patch: this file is not upstream. FreeBSD has no platform opcodes
// (upstream has no opcode_freebsd.go and so no init there), but
// initOperationHandlersOnce calls this on every platform.

package fuse

func initPlatformOperationHandlers() {}
