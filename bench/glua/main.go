// Command glua is bare gopher-lua (no host, no modules): the ceiling the
// host's CPU-bound and start-up figures are compared with in bench/host.sh.
package main

import (
	"fmt"
	"os"

	lua "github.com/yuin/gopher-lua"
)

func main() {
	// Growable registry, as the host has: the fixed default overflows on
	// large table.concat, which would make the comparison meaningless.
	L := lua.NewState(lua.Options{RegistrySize: 256, RegistryMaxSize: 1 << 26, RegistryGrowStep: 4096})
	defer L.Close()
	var err error
	switch {
	case len(os.Args) == 3 && os.Args[1] == "-e":
		err = L.DoString(os.Args[2])
	case len(os.Args) == 2:
		err = L.DoFile(os.Args[1])
	default:
		fmt.Fprintln(os.Stderr, "usage: glua -e CODE | glua FILE")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
