package fuse

import (
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
)

// gos3lua patch: fd 3 is reserved by reserveFD3, which mount() calls
// before anything else (before mountDirect opens /dev/fuse and before
// fusermount is started), instead of by a package init, which did two
// os.Pipe (and so set up the runtime's poller) at every process start, FUSE
// or not. It runs at every mount rather than once, so that an fd <= 3 that
// was taken at the first mount and freed since is reserved before the next
// mount too; once nothing <= 3 is free it costs one pipe. A pipe failure is
// returned by mount() instead of panicking.
var (
	reservedFDsMu sync.Mutex
	reservedFDs   []*os.File
)

func reserveFD3() error {
	reservedFDsMu.Lock()
	defer reservedFDsMu.Unlock()
	// Both Darwin and Linux invoke a subprocess with one
	// inherited file descriptor to create the mount. To protect
	// against deadlock, we must ensure that file descriptor 3
	// never points to a FUSE filesystem. We do this by simply
	// grabbing fd 3 and never releasing it. (This is not
	// completely foolproof: a preceding init routine could grab fd 3,
	// and then release it later.)
	for {
		r, w, err := os.Pipe()
		if err != nil {
			return fmt.Errorf("os.Pipe(): %v", err)
		}
		w.Close()
		if r.Fd() > 3 {
			r.Close()
			break
		}
		reservedFDs = append(reservedFDs, r)
	}
	return nil
}

func getConnection(local *os.File) (int, error) {
	conn, err := net.FileConn(local)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	unixConn := conn.(*net.UnixConn)

	var data [4]byte
	control := make([]byte, 4*256)

	_, oobn, _, _, err := unixConn.ReadMsgUnix(data[:], control[:])
	if err != nil {
		return 0, err
	}

	messages, err := syscall.ParseSocketControlMessage(control[:oobn])
	if err != nil {
		return 0, err
	}
	if len(messages) != 1 {
		return 0, fmt.Errorf("getConnection: expect 1 control message, got %#v", messages)
	}
	message := messages[0]

	fds, err := syscall.ParseUnixRights(&message)
	if err != nil {
		return 0, err
	}
	if len(fds) != 1 {
		return 0, fmt.Errorf("getConnection: expect 1 fd, got %#v", fds)
	}
	fd := fds[0]

	if fd < 0 {
		return 0, fmt.Errorf("getConnection: fd < 0: %d", fd)
	}
	return fd, nil
}
