package repl

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/quernsql/quern"
)

// scriptedReader plays lines as if typed; "^C" is Ctrl-C at that line.
type scriptedReader struct {
	lines   []string
	prompts []string
	history []string
}

func (r *scriptedReader) Readline(prompt string) (string, error) {
	r.prompts = append(r.prompts, prompt)
	if len(r.lines) == 0 {
		return "", io.EOF
	}
	line := r.lines[0]
	r.lines = r.lines[1:]
	if line == "^C" {
		return "", errInterrupt
	}
	return line, nil
}

func (r *scriptedReader) AddHistory(entry string) { r.history = append(r.history, entry) }
func (r *scriptedReader) Close() error            { return nil }

func openTestDB(t *testing.T) *quern.DB {
	t.Helper()
	cfg := quern.DefaultConfig()
	cfg.Workers, cfg.Reducers = 2, 2
	db, err := quern.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// runSession types lines into a shell and returns what it printed.
func runSession(t *testing.T, db *quern.DB, lines ...string) (stdout, stderr string, r *scriptedReader) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := newShell(db, ShellOptions{Stdout: &out, Stderr: &errOut})
	r = &scriptedReader{lines: lines}
	s.in = r
	s.loop(context.Background())
	return out.String(), errOut.String(), r
}

const people = "`../testdata/tables/people.csv`"

func TestShellSessions(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "q.sql")
	if err := os.WriteFile(script, []byte("SELECT 1 AS one;\n\nSELECT nope FROM "+people+";\nSELECT 3 AS three;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(dir, "out.csv")

	for _, tc := range []struct {
		name        string
		lines       []string
		stdout      string // exact, unless it starts with "~", then a regexp
		stderr      string // a regexp the whole of stderr must match
		prompts     []string
		history     []string
		fileContent string // of outFile, when set
	}{
		{
			name:    "multi-line statement runs at ';'",
			lines:   []string{"SELECT 1 AS a,", "  'x' AS b", ";"},
			stdout:  "+---+---+\n| a | b |\n+---+---+\n| 1 | x |\n+---+---+\n(1 row)\n",
			prompts: []string{primaryPrompt, continuationPrompt, continuationPrompt, primaryPrompt},
			history: []string{"SELECT 1 AS a, 'x' AS b ;"},
		},
		{
			name:    "several statements on a line, the last one continued",
			lines:   []string{".mode csv", "SELECT 1 AS x; SELECT 2 AS y; SELECT", "3 AS z;"},
			stdout:  "x\n1\ny\n2\nz\n3\n",
			prompts: []string{primaryPrompt, primaryPrompt, continuationPrompt, primaryPrompt},
			history: []string{".mode csv", "SELECT 1 AS x; SELECT 2 AS y;", "SELECT 3 AS z;"},
		},
		{
			name:    "Ctrl-C discards the statement being typed",
			lines:   []string{".mode csv", "SELECT 1 AS a,", "^C", "SELECT 5 AS b;"},
			stdout:  "b\n5\n",
			prompts: []string{primaryPrompt, primaryPrompt, continuationPrompt, primaryPrompt, primaryPrompt},
		},
		{
			name:   "an error shows a caret and the session goes on",
			lines:  []string{".mode csv", "SELECT nme FROM " + people + ";", "SELECT 'still here' AS s;"},
			stdout: "s\nstill here\n",
			stderr: `^Error: unknown column 'nme' in field list at line 1, column 8; did you mean 'name'\?\n  SELECT nme FROM ` + "`" + `\.\./testdata/tables/people\.csv` + "`" + `\n         \^\n$`,
		},
		{
			name:   "a caret on the second line of a statement",
			lines:  []string{"SELECT name", "FROM " + people + " WHERE agee > 1;"},
			stderr: `unknown column 'agee'.*\n  FROM .* WHERE agee > 1\n {2}` + strings.Repeat(" ", len("FROM "+people+" WHERE ")) + `\^\n$`,
		},
		{
			name:    "a comment alone does not start a statement",
			lines:   []string{"-- just a note", "/* and another */", ".mode csv", "SELECT 7 AS n; -- trailing"},
			stdout:  "n\n7\n",
			prompts: []string{primaryPrompt, primaryPrompt, primaryPrompt, primaryPrompt, primaryPrompt},
		},
		{
			name:   "csv without headers, then json, jsonl, tsv, markdown and line",
			lines:  []string{".mode csv", ".headers off", "SELECT 1 AS a, 'p,q' AS b;", ".headers on", ".mode json", "SELECT 1 AS a;", ".mode jsonl", "SELECT 2 AS a;", ".mode tsv", "SELECT 3 AS a;", ".mode markdown", "SELECT 4 AS a;", ".mode line", "SELECT 5 AS a;", ".mode"},
			stdout: "1,\"p,q\"\n[\n{\"a\":1}\n]\n{\"a\":2}\na\n3\n| a |\n|---:|\n| 4 |\na = 5\nmode: line\n",
		},
		{
			name:   "timer footer",
			lines:  []string{".timer on", ".mode csv", "SELECT word, count(*) AS n FROM `../testdata/sample.txt` GROUP BY word ORDER BY n DESC, word LIMIT 2;"},
			stdout: `~^word,n\nby,37\n(each|into),27\n2 rows · [0-9.]+ (ms|s) · [0-9.]+ KB scanned · 1 map / 2 reduce tasks\n$`,
		},
		{
			name:   "tables, open, schema",
			lines:  []string{".tables", ".open ../testdata/tables", ".tables", ".schema people"},
			stdout: "empty\nevents\npeople\nsales\nwords\nCREATE TABLE people (\n  id BIGINT,\n  name VARCHAR,\n  city VARCHAR,\n  age BIGINT,\n  score DOUBLE,\n  joined DATE\n);\n",
			stderr: `^No tables registered: .*\nRegistered 5 tables: empty, events, people, sales, words\n$`,
		},
		{
			name:   "schema of a file path",
			lines:  []string{".schema `../testdata/tables/sales.tsv`"},
			stdout: "CREATE TABLE `../testdata/tables/sales.tsv` (\n  region VARCHAR,\n  product VARCHAR,\n  qty BIGINT,\n  price DOUBLE\n);\n",
		},
		{
			name:   ".read reports file:line and goes on",
			lines:  []string{".mode csv", ".read " + script},
			stdout: "one\n1\nthree\n3\n",
			stderr: `^Error: ` + regexp.QuoteMeta(script) + `:3: unknown column 'nope' in field list at line 3, column 8; did you mean 'name'\?\n  SELECT nope FROM .*\n         \^\n$`,
		},
		{
			name:        ".output to a file and back",
			lines:       []string{".mode csv", ".output " + outFile, "SELECT 1 AS in_file;", ".output", "SELECT 2 AS onscreen;"},
			stdout:      "onscreen\n2\n",
			fileContent: "in_file\n1\n",
		},
		{
			name:   ".explain, EXPLAIN and .workers",
			lines:  []string{".explain SELECT word, count(*) FROM `../testdata/sample.txt` GROUP BY word", ".workers"},
			stdout: `~(?s)^Stage 0: map, 1 task.*Stage 1: reduce, 2 tasks.*local pool: 2 workers, 2 reduce partitions`,
		},
		{
			name:   "help, unknown commands, .cluster",
			lines:  []string{".help", ".frob", ".cluster 127.0.0.1:1", ".mode xml", ".timer maybe"},
			stdout: `~(?s)^\.help .*\.mode MODE +set the output mode: table, csv, tsv, json, jsonl, markdown, line\n.*\.quit `,
			stderr: `^Error: unknown command \.frob; \.help lists the commands\nError: \.cluster: 127\.0\.0\.1:1: .*\nError: \.mode: unknown output format "xml".*\nError: \.timer: want on or off, not "maybe"\n$`,
		},
		{
			name:    ".quit ends the session",
			lines:   []string{".quit", "SELECT 1;"},
			prompts: []string{primaryPrompt},
		},
		{
			name:    "exit ends the session",
			lines:   []string{"exit", "SELECT 1;"},
			prompts: []string{primaryPrompt},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTestDB(t)
			stdout, stderr, r := runSession(t, db, tc.lines...)
			if strings.HasPrefix(tc.stdout, "~") {
				if !regexp.MustCompile(tc.stdout[1:]).MatchString(stdout) {
					t.Errorf("stdout:\n%s\nwant a match for %s", stdout, tc.stdout[1:])
				}
			} else if stdout != tc.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tc.stdout)
			}
			if tc.stderr == "" && stderr != "" || tc.stderr != "" && !regexp.MustCompile(tc.stderr).MatchString(stderr) {
				t.Errorf("stderr:\n%s\nwant a match for %s", stderr, tc.stderr)
			}
			if tc.prompts != nil && !slices.Equal(r.prompts, tc.prompts) {
				t.Errorf("prompts %q, want %q", r.prompts, tc.prompts)
			}
			if tc.history != nil && !slices.Equal(r.history, tc.history) {
				t.Errorf("history %q, want %q", r.history, tc.history)
			}
			if tc.fileContent != "" {
				b, err := os.ReadFile(outFile)
				if err != nil || string(b) != tc.fileContent {
					t.Errorf("%s holds %q (%v), want %q", outFile, b, err, tc.fileContent)
				}
			}
		})
	}
}

func TestHistoryEntry(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1;\n", "SELECT 1;"},
		{"SELECT a,\n    b\nFROM t;\n", "SELECT a, b FROM t;"},
		{"SELECT a -- the key\nFROM t;", "SELECT a /* the key */ FROM t;"},
		{"SELECT a # hash comment\nFROM t;", "SELECT a /* hash comment */ FROM t;"},
		{"SELECT a -- has */ inside\nFROM t;", "SELECT a FROM t;"},
		{"SELECT 'two\nlines', \"x\ry\";", `SELECT 'two\nlines', "x\ry";`},
		{"SELECT /* multi\n   line */ 1;", "SELECT /* multi line */ 1;"},
		{"SELECT 1--1;", "SELECT 1--1;"},
		{"SELECT 'it''s -- not a comment';", "SELECT 'it''s -- not a comment';"},
		{"SELECT '\xff';", "SELECT '\xff';"},
	} {
		if got := historyEntry(tc.in); got != tc.want {
			t.Errorf("historyEntry(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCompleteStatements(t *testing.T) {
	for _, tc := range []struct {
		src  string
		done []string
		rest string
	}{
		{"SELECT 1\n", nil, "SELECT 1\n"},
		{"SELECT 1;\n", []string{"SELECT 1"}, "\n"},
		{"SELECT 1 ; SELECT 2;", []string{"SELECT 1", "SELECT 2"}, ""},
		{"SELECT ';'\n", nil, "SELECT ';'\n"},
		{"SELECT 1; -- done;\n", []string{"SELECT 1"}, " -- done;\n"},
		{"SELECT 1 /* ; */\n", nil, "SELECT 1 /* ; */\n"},
		{"SELECT 1 -- x;\n;", []string{"SELECT 1 -- x;"}, ""},
		{"SELECT `a;b`; SELECT", []string{"SELECT `a;b`"}, " SELECT"},
	} {
		done, rest := completeStatements(tc.src)
		var got []string
		for _, st := range done {
			got = append(got, st.SQL)
		}
		if !slices.Equal(got, tc.done) || rest != tc.rest {
			t.Errorf("completeStatements(%q) = %q, %q; want %q, %q", tc.src, got, rest, tc.done, tc.rest)
		}
	}
}

func TestFooter(t *testing.T) {
	st := &quern.JobStats{}
	st.Stages = resize(st.Stages, 2)
	st.Stages[0].Tasks, st.Stages[0].Launched = 16, 16
	st.Stages[1].Tasks, st.Stages[1].Launched = 4, 5
	for _, tc := range []struct {
		o    outcome
		want string
	}{
		{outcome{rows: 20, stats: st}, "20 rows · 1.84 s · 16 map / 4 reduce tasks (1 re-run)"},
		{outcome{rows: 1}, "1 row · 1.84 s"},
	} {
		if got := footer(tc.o, 1840*1e6); got != tc.want {
			t.Errorf("footer = %q, want %q", got, tc.want)
		}
	}
}

// resize makes a slice of n zero elements of s's type (the stats types live
// in package cluster, which this package does not import).
func resize[S ~[]E, E any](s S, n int) S { return make(S, n) }
