// Command gos3lua runs Lua scripts with batteries for sysadmin chores.
package main

import "os"

func main() { os.Exit(Main(os.Args[1:])) }
