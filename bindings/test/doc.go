// Package test is the Lua `test` module and the runner behind `gos3lua test`.
//
// A test file (*_test.lua) runs in its own Host: loading it registers tests
// (test(name, fn), test.describe), then each test body runs as a task, so a
// test may call any module that suspends (S3, DNS, task.sleep). Assertions
// raise a failure value that records FILE:LINE, expected and actual; the
// runner collects the results of each file, runs files in parallel and prints
// them prove-style, as TAP or as JUnit XML. `--doc` also runs `-- >>> expr`
// examples found in comments of any .lua file.
//
// What it must never do: touch a Host from any goroutine but its scheduler's
// (results are copied out under a mutex, so an abandoned, hung file can still
// be reported), or let one file's failure, os.exit or endless loop stop the
// run of the others.
package test
