package fuse

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"time"
)

// A FUSE daemon that touches its own mount can deadlock when it is killed:
// a thread waiting for the answer to a request the daemon already read waits
// uninterruptibly, so the process never finishes dying, keeps /dev/fuse
// open, and every access to the mount hangs (go-fuse's WaitMount opens a
// file in the new mount, so a SIGKILL right after mounting is enough). The
// kernel's way out is fusectl: writing to /sys/fs/fuse/connections/N/abort
// ends the connection, the stuck thread gets ENOTCONN and the process exits.

const fusectlDir = "/sys/fs/fuse/connections"

// abortConnection aborts the FUSE connection mounted at dir (an absolute
// path), mounting fusectl first when it is not (root only). It reports
// whether it wrote the abort.
func abortConnection(dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	minor := ""
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		// 36 35 0:40 / /mnt/x rw,... - fuse.gos3lua src ...
		if len(f) > 4 && unescapeMountinfo(f[4]) == dir {
			if _, mn, ok := strings.Cut(f[2], ":"); ok && isFuseLine(f) {
				minor = mn // the last mount on dir is the one on top
			}
		}
	}
	if minor == "" {
		return false
	}
	abort := fusectlDir + "/" + minor + "/abort"
	if _, err := os.Stat(abort); err != nil && os.Geteuid() == 0 {
		syscall.Mount("fusectl", fusectlDir, "fusectl", 0, "")
	}
	return os.WriteFile(abort, []byte("1"), 0) == nil
}

func isFuseLine(f []string) bool {
	for i, x := range f {
		if x == "-" && i+1 < len(f) {
			return f[i+1] == "fuse" || strings.HasPrefix(f[i+1], "fuse.")
		}
	}
	return false
}

// unescapeMountinfo undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

var errStatHung = errors.New("no answer from the filesystem mounted there")

// statWithin is os.Stat that gives up after d (the stat itself may stay
// blocked in the kernel until the mount is aborted).
func statWithin(path string, d time.Duration) (os.FileInfo, error) {
	type result struct {
		fi  os.FileInfo
		err error
	}
	ch := make(chan result, 1)
	go func() {
		fi, err := os.Stat(path)
		ch <- result{fi, err}
	}()
	select {
	case r := <-ch:
		return r.fi, r.err
	case <-time.After(d):
		return nil, errStatHung
	}
}
