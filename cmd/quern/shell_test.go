//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair of 100 columns by 30 rows.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("naming the pty: %v", err)
	}
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: 30, Col: 100}); err != nil {
		t.Fatalf("sizing the pty: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening the pty's terminal: %v", err)
	}
	return m, s
}

// terminal is a person at a keyboard in front of quern: it types, and
// waits for what the screen shows.
type terminal struct {
	t      *testing.T
	master *os.File
	mu     sync.Mutex
	screen bytes.Buffer // everything quern wrote, escapes removed
	seen   int          // screen offset after the last expectation met
}

var escapes = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\r|\x08`)

func (tm *terminal) read() {
	buf := make([]byte, 4096)
	for {
		n, err := tm.master.Read(buf)
		tm.mu.Lock()
		tm.screen.Write(buf[:n])
		tm.mu.Unlock()
		if err != nil {
			return // EIO once quern exits
		}
	}
}

func (tm *terminal) typeKeys(s string) {
	tm.t.Helper()
	if _, err := tm.master.Write([]byte(s)); err != nil {
		tm.t.Fatalf("typing %q: %v", s, err)
	}
}

// expect waits until the screen after the last expectation matches re and
// returns the match; the next expectation looks after it.
func (tm *terminal) expect(re string) string {
	tm.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(10 * time.Second)
	for {
		tm.mu.Lock()
		text := escapes.ReplaceAllString(tm.screen.String()[tm.seen:], "")
		loc := rx.FindStringIndex(text)
		if loc != nil {
			// Move past the match in the raw screen: find how much raw text
			// holds the cleaned text up to the match's end.
			raw := tm.screen.String()
			k := tm.seen
			for clean := 0; k < len(raw) && clean < loc[1]; {
				if m := escapes.FindStringIndex(raw[k:]); m != nil && m[0] == 0 {
					k += m[1]
					continue
				}
				k++
				clean++
			}
			tm.seen = k
			tm.mu.Unlock()
			return text[loc[0]:loc[1]]
		}
		tm.mu.Unlock()
		if time.Now().After(deadline) {
			tm.t.Fatalf("the screen never showed %q; it shows:\n%s", re, text)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestShellInTerminal drives the interactive shell in a pseudo-terminal
// the way a person would: a statement over two lines, the up arrow to run
// it again, Tab to complete a table, a column and a file path, .mode csv,
// a mistake shown with a caret, Ctrl-C while typing and while a slow query
// runs (the query stops, the shell stays), and Ctrl-D to leave.
func TestShellInTerminal(t *testing.T) {
	home := t.TempDir()
	// A text file whose scan with a costly filter takes seconds on one worker.
	slow := filepath.Join(home, "slow.txt")
	line := strings.Repeat("w123 w456 w789 w1011 ", 5) + "\n"
	if err := os.WriteFile(slow, []byte(strings.Repeat(line, 60000)), 0o644); err != nil {
		t.Fatal(err)
	}

	master, slave := openPTY(t)
	defer master.Close()
	cmd := quernCommand(t, "../..", "--workers", "1")
	cmd.Env = append(cmd.Env, "TERM=xterm")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = append(cmd.Env, "HOME="+home) // later entries win
	// quern leads a session whose controlling terminal is the pty, so the
	// terminal's Ctrl-C reaches it as SIGINT.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	}()

	tm := &terminal{t: t, master: master}
	go tm.read()
	tm.expect(`Type \.help for help`)
	tm.expect(`quern> `)

	// A statement over two lines runs at ';', after a continuation prompt.
	tm.typeKeys("SELECT 1 AS a,\r")
	tm.expect(`\.\.> `)
	tm.typeKeys("'x' AS b;\r")
	tm.expect(`\| a \| b \|\n\+---\+---\+\n\| 1 \| x \|`)

	// The up arrow recalls it, as one line, and Enter runs it again.
	tm.expect(`quern> `)
	tm.typeKeys("\x1b[A")
	tm.expect(`quern> SELECT 1 AS a, 'x' AS b;`)
	tm.typeKeys("\r")
	tm.expect(`\| 1 \| x \|`)

	// Tab completes a table name, a column of that table, a keyword and a
	// file path inside backquotes.
	tm.typeKeys(".open testdata/tables\r")
	tm.expect(`Registered 5 tables: empty, events, people, sales, words`)
	tm.typeKeys("SELECT name FROM peo\t")
	tm.expect(`FROM people $`)
	tm.typeKeys("WHERE ci\t = 'Lima' ORD\tBY name;\r")
	tm.expect(`WHERE city = 'Lima' ORDER BY name;\n`)
	tm.expect(`\| Dee  \|\n\| Hal  \|`)
	tm.typeKeys("SELECT count(*) AS n FROM `testdata/tables/sal\t")
	tm.expect("`testdata/tables/sales.tsv`$")
	tm.typeKeys(";\r")
	tm.expect(`\| 6 \|`)

	// .mode csv.
	tm.typeKeys(".mode csv\r")
	tm.typeKeys("SELECT 2 AS two;\r")
	tm.expect(`two\n2\n`)

	// A mistake: the message, the statement and a caret under the column.
	tm.typeKeys("SELECT nme FROM people;\r")
	tm.expect(`Error: unknown column 'nme' in field list at line 1, column 8; did you mean 'name'\?\n  SELECT nme FROM people\n         \^\n`)

	// Ctrl-C while typing drops the line.
	tm.typeKeys("SELECT oops,")
	tm.typeKeys("\x03")
	tm.expect(`\^C`)
	tm.typeKeys("SELECT 3 AS three;\r")
	tm.expect(`three\n3\n`)

	// Ctrl-C while a query runs cancels it and the shell carries on.
	tm.typeKeys("SELECT count(*) FROM `" + slow + "` WHERE regexp_like(repeat(word, 40), '(w[0-9]+)*7x');\r")
	tm.expect(`running · stage [0-9]+/[0-9]+ · tasks [0-9]+/[0-9]+ \([0-9]+ running\) · [0-9.]+ s · Ctrl-C cancels`) // the progress line, after half a second
	start := time.Now()
	tm.typeKeys("\x03")
	tm.expect(`Cancelled after [0-9.]+ (ms|s)\.`)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the query took %v to stop after Ctrl-C", d)
	}
	tm.typeKeys("SELECT 4 AS four;\r")
	tm.expect(`four\n4\n`)

	// Ctrl-D leaves, with status 0.
	tm.typeKeys("\x04")
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("quern exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("quern did not exit after Ctrl-D")
	}

	// The two-line statement is one history entry.
	hist, err := os.ReadFile(filepath.Join(home, ".quern_history"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(hist), "\nSELECT 1 AS a, 'x' AS b;\n") && !strings.HasPrefix(string(hist), "SELECT 1 AS a, 'x' AS b;\n") {
		t.Errorf("~/.quern_history:\n%s\nwant the two-line statement on one line", hist)
	}
}
