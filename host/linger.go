package host

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Cleanup that must outlive the run: when a run is cancelled the host
// abandons Go work that does not return within a second, and the process
// exits soon after; an S3 upload's abort, which frees the parts already
// stored, would die with it. Linger marks such work, and the command waits
// for it before the process exits (WaitLingering).
var linger struct {
	mu      sync.Mutex
	next    int
	active  map[int]string
	changed chan struct{} // closed and replaced on every change
}

// LingerMax bounds how long WaitLingering waits.
const LingerMax = 15 * time.Second

// Linger marks the start of cleanup work (what: "aborting the upload of
// KEY") that the process should finish before it exits, however the run
// ended; call done when it has. Safe from any goroutine.
func Linger(what string) (done func()) {
	linger.mu.Lock()
	defer linger.mu.Unlock()
	if linger.active == nil {
		linger.active = map[int]string{}
		linger.changed = make(chan struct{})
	}
	id := linger.next
	linger.next++
	linger.active[id] = what
	var once sync.Once
	return func() {
		once.Do(func() {
			linger.mu.Lock()
			defer linger.mu.Unlock()
			delete(linger.active, id)
			close(linger.changed)
			linger.changed = make(chan struct{})
		})
	}
}

// WaitLingering waits up to max for lingering cleanup, saying on stderr
// what it waits for when that takes more than a moment. The command calls
// it before the process exits; hosts in the same process (a test run)
// do not wait for each other.
func WaitLingering(max time.Duration) {
	deadline := time.After(max)
	told := time.After(200 * time.Millisecond)
	for {
		linger.mu.Lock()
		if len(linger.active) == 0 {
			linger.mu.Unlock()
			return
		}
		ch := linger.changed
		var whats []string
		for _, w := range linger.active {
			whats = append(whats, w)
		}
		linger.mu.Unlock()
		select {
		case <-ch:
		case <-told:
			sort.Strings(whats)
			fmt.Fprintf(os.Stderr, "gos3lua: finishing before exit: %s (Ctrl-C to quit at once)\n", strings.Join(whats, "; "))
			told = nil
		case <-deadline:
			sort.Strings(whats)
			fmt.Fprintf(os.Stderr, "gos3lua: gave up after %v waiting for: %s\n", max, strings.Join(whats, "; "))
			return
		}
	}
}
