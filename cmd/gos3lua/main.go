// Command gos3lua runs Lua scripts with batteries for sysadmin chores.
package main

import (
	"os"

	"github.com/gos3lua/gos3lua/host"
)

func main() { exit(Main(os.Args[1:])) }

// exit ends the process once cleanup that must outlive the run (an S3
// upload's abort) has finished; a signal meanwhile exits at once.
func exit(code int) {
	host.WaitLingering(host.LingerMax)
	os.Exit(code)
}
