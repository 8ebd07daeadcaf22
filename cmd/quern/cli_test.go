package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The tests run this test binary as the quern command: with
// QUERN_TEST_AS_QUERN=1 in its environment it is quern, from main.
func init() {
	if os.Getenv("QUERN_TEST_AS_QUERN") == "1" {
		main()
		os.Exit(0)
	}
}

// quernCommand returns a command that runs quern with args in dir.
func quernCommand(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "QUERN_TEST_AS_QUERN=1", "HOME="+dir)
	return cmd
}

// TestCLIScripts runs the scripts in testdata/cli: each is a list of
// commands, then the files they use. Commands:
//
//	quern ARGS…            run quern (in a fresh directory holding the files)
//	stdin FILE             feed FILE to the next quern's standard input
//	status N               the last quern exited with status N
//	cmp stdout|stderr|PATH FILE   the output (or a file quern wrote) equals FILE
//	stdout RE | stderr RE  the output matches the regular expression RE
//	! stdout RE | ! stderr RE     … does not match RE
//	json stdout            the output is a stream of JSON arrays
//
// Arguments are split on spaces; 'single quotes' keep spaces and
// $TESTDATA is the repository's testdata directory. A line "-- NAME --"
// starts the file NAME, as in txtar archives.
func TestCLIScripts(t *testing.T) {
	scripts, err := filepath.Glob("testdata/cli/*.txt")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts in testdata/cli (%v)", err)
	}
	testdata, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range scripts {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cmds, files := parseScript(string(src))
			dir := t.TempDir()
			for name, content := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			runScript(t, path, dir, testdata, cmds, files)
		})
	}
}

type scriptLine struct {
	line int
	args []string
}

func parseScript(src string) (cmds []scriptLine, files map[string]string) {
	files = map[string]string{}
	current := ""
	for i, line := range strings.SplitAfter(src, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			current = strings.TrimSpace(trimmed[3 : len(trimmed)-3])
			files[current] = ""
			continue
		}
		if current != "" {
			files[current] += line
			continue
		}
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		cmds = append(cmds, scriptLine{i + 1, splitArgs(trimmed)})
	}
	return cmds, files
}

// splitArgs splits on spaces, keeping 'quoted' text together.
func splitArgs(s string) []string {
	var args []string
	var cur strings.Builder
	inQuote, have := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			inQuote = !inQuote
			have = true
		case r == ' ' && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}

func runScript(t *testing.T, path, dir, testdata string, cmds []scriptLine, files map[string]string) {
	var stdout, stderr string
	status := -1
	stdin := ""
	hasStdin := false
	for _, c := range cmds {
		where := fmt.Sprintf("%s:%d", path, c.line)
		args := make([]string, len(c.args))
		for i, a := range c.args {
			args[i] = strings.ReplaceAll(a, "$TESTDATA", testdata)
		}
		neg := args[0] == "!"
		if neg {
			args = args[1:]
		}
		output := func(name string) string {
			switch name {
			case "stdout":
				return stdout
			case "stderr":
				return stderr
			}
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			return string(b)
		}
		switch args[0] {
		case "quern":
			cmd := quernCommand(t, dir, args[1:]...)
			if hasStdin {
				cmd.Stdin = strings.NewReader(stdin)
			}
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			err := cmd.Run()
			var exit *exec.ExitError
			switch {
			case err == nil:
				status = 0
			case errors.As(err, &exit):
				status = exit.ExitCode()
			default:
				t.Fatalf("%s: %v", where, err)
			}
			stdout, stderr = o.String(), strings.ReplaceAll(e.String(), dir+string(filepath.Separator), "$WORK/")
			hasStdin = false
		case "stdin":
			stdin, hasStdin = files[args[1]], true
		case "status":
			want, _ := strconv.Atoi(args[1])
			if status != want {
				t.Errorf("%s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", where, status, want, stdout, stderr)
			}
		case "cmp":
			want, ok := files[args[2]]
			if !ok {
				t.Fatalf("%s: no file %s in the script", where, args[2])
			}
			if got := output(args[1]); got != want {
				t.Errorf("%s: %s differs\n--- got:\n%s--- want:\n%s", where, args[1], got, want)
			}
		case "stdout", "stderr":
			re, err := regexp.Compile(args[1])
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			if got := output(args[0]); re.MatchString(got) == neg {
				t.Errorf("%s: %s:\n%s\nmatches %q: %v, want %v", where, args[0], got, args[1], neg, !neg)
			}
		case "json":
			if err := jsonArrays(output(args[1])); err != nil {
				t.Errorf("%s: %s is not a stream of JSON arrays: %v\n%s", where, args[1], err, output(args[1]))
			}
		default:
			t.Fatalf("%s: unknown command %q", where, args[0])
		}
	}
}

// jsonArrays checks that s is a sequence of JSON arrays of objects, and
// nothing else.
func jsonArrays(s string) error {
	dec := json.NewDecoder(strings.NewReader(s))
	n := 0
	for {
		var v []map[string]any
		err := dec.Decode(&v)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return errors.New("no arrays")
	}
	return nil
}

// TestJSONOutputIsValid checks `quern -c … --format json` with values that
// are hard to encode: quotes, backslashes, control characters, bytes that
// are not UTF-8, NULLs, decimals, doubles, dates, booleans, and an empty
// result; each statement gives one array, typed as the Arrow types map to
// JSON.
func TestJSONOutputIsValid(t *testing.T) {
	dir := t.TempDir()
	csv := "name,note\n\"a \"\"quoted\"\" \\ name\",\"tab\there\"\nbad \xff byte,\n"
	if err := os.WriteFile(filepath.Join(dir, "t.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := quernCommand(t, dir, "--format", "json", "-c",
		"SELECT name, note FROM `t.csv`; "+
			"SELECT 1 AS i, 2.50 AS amount, 0.5e0 AS d, 1 = 1 AS b, CAST('2024-02-29' AS DATE) AS day, NULL AS n; "+
			"SELECT name FROM `t.csv` WHERE name = 'nobody'")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	dec := json.NewDecoder(&out)
	dec.UseNumber()
	var results [][]map[string]any
	for {
		var v []map[string]any
		if err := dec.Decode(&v); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out.String())
		}
		results = append(results, v)
	}
	want := []string{
		`[{"name":"a \"quoted\" \\ name","note":"tab\there"},{"name":"bad ` + "\uFFFD" + ` byte","note":null}]`,
		`[{"amount":2.50,"b":true,"d":0.5,"day":"2024-02-29","i":1,"n":null}]`,
		`[]`,
	}
	if len(results) != len(want) {
		t.Fatalf("%d results, want %d:\n%s", len(results), len(want), out.String())
	}
	for i, r := range results {
		b, _ := json.Marshal(r)
		if string(b) != want[i] {
			t.Errorf("result %d = %s\nwant        %s", i, b, want[i])
		}
	}
}
