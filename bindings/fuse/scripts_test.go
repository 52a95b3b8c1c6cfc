package fuse

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// randomfs: listings are random but stable for their path, ls twice agrees.
func TestRandomFS(t *testing.T) {
	s := runScript(t, nil, "randomfs.lua")
	lsR := "ls -R . 2>/dev/null | head -n 300"
	first := sh(t, s.dir, lsR)
	if n := strings.Count(first, "\n"); n < 300 {
		t.Fatalf("ls -R of an infinite tree gave only %d lines:\n%s", n, first)
	}
	if again := sh(t, s.dir, lsR); again != first {
		t.Fatalf("ls -R differs between runs:\n%s\n---\n%s", first, again)
	}
	find := "find . -maxdepth 4 -printf '%y %s %TY-%Tm-%Td %p\\n' | sort"
	tree := sh(t, s.dir, find)
	lines := strings.Split(strings.TrimSpace(tree), "\n")
	if len(lines) < 50 {
		t.Fatalf("find -maxdepth 4 found only %d entries", len(lines))
	}
	if again := sh(t, s.dir, find); again != tree {
		t.Fatal("find -maxdepth 4 differs between runs")
	}
	files, dirs := 0, 0
	var file string
	for _, l := range lines {
		switch l[0] {
		case 'f':
			files++
			file = l[strings.LastIndexByte(l, ' ')+1:]
		case 'd':
			dirs++
		}
	}
	if files == 0 || dirs < 10 {
		t.Fatalf("%d files, %d dirs", files, dirs)
	}
	// Files hold stable random text of their stated size.
	b, err := os.ReadFile(s.path(file))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(s.path(file))
	if int64(len(b)) != st.Size() || len(b) == 0 {
		t.Fatalf("%s: read %d bytes, size %d", file, len(b), st.Size())
	}
	if b2, _ := os.ReadFile(s.path(file)); string(b2) != string(b) {
		t.Fatal("content changed between reads")
	}
	// Read-only.
	wantErrno(t, os.WriteFile(s.path("new.txt"), []byte("x"), 0644), syscall.EROFS)
	// A remount shows the same tree.
	s.cmd.Process.Signal(os.Interrupt)
	<-s.exited
	s2 := runScript(t, nil, "randomfs.lua")
	if again := sh(t, s2.dir, find); again != tree {
		t.Fatal("the tree changed across a remount")
	}
	// Another seed, another tree.
	s3 := runScript(t, nil, "randomfs.lua", "--seed", "7")
	if other := sh(t, s3.dir, find); other == tree {
		t.Fatal("--seed 7 gave the same tree")
	}
}

// Ctrl-C unmounts cleanly: exit status 130, nothing left in /proc/mounts.
func TestInterruptUnmounts(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		s := runScript(t, nil, "randomfs.lua")
		sh(t, s.dir, "ls >/dev/null")
		s.cmd.Process.Signal(sig)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: still running", sig)
		}
		want := 130
		if sig == syscall.SIGTERM {
			want = 143
		}
		if code := s.cmd.ProcessState.ExitCode(); code != want {
			t.Errorf("%v: exit status %d, want %d\n%s", sig, code, want, s.stderr)
		}
		if mounted(s.dir) {
			t.Errorf("%v: still mounted", sig)
		}
		if strings.Contains(s.stderr.String(), "error") {
			t.Errorf("%v: stderr: %s", sig, s.stderr)
		}
	}
}

// Also while a file is open on the mount (the unmount is busy).
func TestInterruptWhileBusy(t *testing.T) {
	s := runScript(t, nil, "adventurefs.lua")
	fh, err := os.Open(s.path("story.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("still running")
	}
	if mounted(s.dir) {
		t.Error("still mounted")
	}
}

func TestAdventureFS(t *testing.T) {
	s := runScript(t, nil, "adventurefs.lua")
	story := sh(t, s.dir, "cat story.txt")
	if !strings.Contains(story, "The Night Shift") || !strings.Contains(story, "cd answer-the-pager") {
		t.Fatalf("story.txt:\n%s", story)
	}
	if got := sh(t, s.dir, "ls"); got != "answer-the-pager\ngo-back-to-sleep\nstory.txt\n" {
		t.Errorf("ls: %q", got)
	}
	st, err := os.Stat(s.path("story.txt"))
	if err != nil || st.Size() != int64(len(story)) || st.Mode().Perm() != 0444 {
		t.Fatalf("stat: %v %v", st, err)
	}
	if got := sh(t, s.dir, "dd if=story.txt bs=1 skip=3 count=17 status=none"); got != story[3:20] {
		t.Errorf("dd skip=3: %q", got)
	}
	if got := sh(t, s.dir, "dd if=story.txt bs=8 skip=2 count=2 status=none"); got != story[16:32] {
		t.Errorf("dd bs=8 skip=2: %q", got)
	}
	// Play to an ending: no choices there.
	end := "answer-the-pager/move-it-to-s3/wait-for-the-upload/fix-the-cron-job/go-to-bed"
	if got := sh(t, s.dir, "ls "+end); got != "story.txt\n" {
		t.Errorf("an ending has choices: %q", got)
	}
	if got := sh(t, s.dir, "cat "+end+"/story.txt"); !strings.Contains(got, "THE END") {
		t.Errorf("ending: %s", got)
	}
	// Scenes that lead back make the tree deep.
	if _, err := os.Stat(s.path("go-back-to-sleep/pick-up-the-phone/open-the-laptop/find-the-big-files/ask-on-the-team-chat/wait-for-an-answer/pick-up-the-phone/story.txt")); err != nil {
		t.Error(err)
	}
	_, err = os.Stat(s.path("answer-the-pager/no-such-choice"))
	wantErrno(t, err, syscall.ENOENT)
	// At least 12 scenes are reachable.
	scenes := map[string]bool{}
	for _, line := range strings.Split(sh(t, s.dir, "find . -maxdepth 9 -name story.txt -exec head -n 1 {} +"), "\n") {
		if strings.HasPrefix(line, "== ") {
			scenes[line] = true
		}
	}
	if len(scenes) < 12 {
		t.Errorf("%d scenes reachable: %v", len(scenes), scenes)
	}
}

func TestAdventureFSOwnStory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mine.lua")
	os.WriteFile(file, []byte(`return {
  title = "Tiny", start = "hall",
  scenes = {
    hall = {text = "A hall with two doors.", choices = {["left-door"] = "kitchen", ["right-door"] = "hall"}},
    kitchen = {text = "Cake. The end."},
  },
}`), 0644)
	s := runScript(t, nil, "adventurefs.lua", "--story", file)
	if got := sh(t, s.dir, "ls right-door/right-door"); got != "left-door\nright-door\nstory.txt\n" {
		t.Errorf("ls: %q", got)
	}
	if got := sh(t, s.dir, "cat left-door/story.txt"); !strings.Contains(got, "== Tiny ==") || !strings.Contains(got, "Cake. The end.") {
		t.Errorf("story: %q", got)
	}
	// A broken story is refused with a one-line reason, exit status 2.
	for src, want := range map[string]string{
		`return {start = "a", scenes = {a = {text = "x", choices = {{"go", "nowhere"}}}}}`: "scene a: choice go leads to unknown scene nowhere",
		`return {start = "a", scenes = {a = {text = 1}}}`:                                  "scene a needs a text",
		`return 42`:           "a story is a table",
		`return {`:            "syntax error",
		`error("my mistake")`: ": my mistake",
	} {
		os.WriteFile(file, []byte(src), 0644)
		cmd := exec.Command(gos3lua(t), filepath.Join(repoRoot(), "scripts", "adventurefs.lua"), "--story", file, t.TempDir())
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.HasPrefix(string(out), "adventurefs.lua: story "+file+": ") ||
			!strings.Contains(string(out), want) || strings.Count(string(out), "\n") != 1 {
			t.Errorf("story %s: exit %d, want 2 and one line with %q:\n%s", src, code, want, out)
		}
	}
}

// A run killed outright (SIGKILL) leaves its mount behind ("transport
// endpoint is not connected"); the next mount on the directory clears it.
func TestStaleMountCleared(t *testing.T) {
	s := runScript(t, nil, "randomfs.lua")
	s.cmd.Process.Kill()
	select {
	case <-s.exited:
		// The usual case: the connection died with the process.
		statErr := make(chan error, 1)
		go func() { _, err := os.Stat(s.dir); statErr <- err }()
		select {
		case err := <-statErr:
			if errnoOfErr(err) != syscall.ENOTCONN {
				t.Fatalf("after SIGKILL: %v (want ENOTCONN)", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("stat of the dead mount hangs: the kernel did not abort the connection")
		}
	case <-time.After(3 * time.Second):
		// Killed while one of its threads waited on its own mount (go-fuse's
		// WaitMount opens a file there): it cannot finish dying, and the
		// mount does not answer. The next mount must clear this too.
		t.Log("the killed run is stuck on its own mount; the next mount must abort it")
	}
	cmd := exec.Command(gos3lua(t), filepath.Join(repoRoot(), "scripts", "adventurefs.lua"), s.dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		forceUnmount(s.dir)
		forceUnmount(s.dir) // the killed run's mount, if it was never cleared
	}()
	waitFor(t, "the new mount", func() bool {
		_, err := os.Stat(filepath.Join(s.dir, "story.txt"))
		return err == nil
	})
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the killed run is still alive after the new mount cleared its connection")
	}
}

// Every script answers --help (exit 0, usage on stdout) and refuses bad
// usage with a one-line reason and exit status 2, mounting nothing.
func TestScriptsUsage(t *testing.T) {
	bin := gos3lua(t)
	// A mountpoint of its own: should a bad usage slip through and mount,
	// it hides nothing anyone else needs (runScript's cleanup is not here).
	mnt := t.TempDir()
	t.Cleanup(func() { forceUnmount(mnt) })
	for _, c := range []struct {
		script string
		args   []string
		code   int
		want   string
	}{
		{"randomfs.lua", []string{"--help"}, 0, "usage: randomfs.lua [options] MOUNTPOINT"},
		{"adventurefs.lua", []string{"-h"}, 0, "usage: adventurefs.lua [options] MOUNTPOINT"},
		{"s3fs.lua", []string{"--help"}, 0, "usage: s3fs.lua [options] MOUNTPOINT"},
		{"randomfs.lua", nil, 2, "randomfs.lua: missing argument MOUNTPOINT"},
		{"randomfs.lua", []string{"--seed", "x", mnt}, 2, "randomfs.lua: "},
		{"randomfs.lua", []string{"--bogus", mnt}, 2, "unknown option '--bogus'"},
		{"adventurefs.lua", nil, 2, "adventurefs.lua: missing argument MOUNTPOINT"},
		{"adventurefs.lua", []string{"--story", "/nonexistent.lua", mnt}, 2, "/nonexistent.lua"},
		{"s3fs.lua", []string{mnt}, 2, "s3fs.lua: missing required option '--bucket'"},
		{"s3fs.lua", []string{"-b", "x", "--block-size", "lots", mnt}, 2, "s3fs.lua: "},
	} {
		cmd := exec.Command(bin, append([]string{filepath.Join(repoRoot(), "scripts", c.script)}, c.args...)...)
		cmd.Env = append(os.Environ(), "GOS3LUA_BUCKET=")
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Run()
		out := stdout.String()
		if c.code != 0 {
			out = stderr.String()
		}
		if code := cmd.ProcessState.ExitCode(); code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%s %q: exit %d, want %d with %q\nstdout: %s\nstderr: %s", c.script, c.args, code, c.code, c.want, stdout.String(), stderr.String())
		}
	}
}
