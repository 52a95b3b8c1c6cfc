package fuse

// gos3lua patch: was init; run by initPrintTables after the tables of
// print.go are filled, as this init ran after they were initialised.
func initPlatformPrintTables() {
	initUnixPrintTables()
	initFlagNames.set(CAP_NO_OPENDIR_SUPPORT, "NO_OPENDIR_SUPPORT")
}
