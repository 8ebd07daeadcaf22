package repl

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf8"
)

func TestComplete(t *testing.T) {
	db := openTestDB(t)
	if err := db.RegisterDir("../testdata/tables"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"logs-2024.csv", "logs-2025.csv", "notes.md"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("a\n1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		pending string
		line    string // '|' marks the cursor; at the end when absent
		want    []string
		length  int
	}{
		{"", "SEL", []string{"ECT "}, 3},
		{"", "sel", []string{"ect "}, 3},
		{"", "SELECT coun", []string{"t("}, 4},
		{"", "SELECT COUN", []string{"T("}, 4},
		{"", "SELECT * FROM peo", []string{"ple "}, 3},
		{"", "SELECT * FROM ", []string{"empty ", "events ", "people ", "sales ", "words "}, 0},
		{"", "SELECT ci| FROM people", []string{"ty"}, 2},
		{"", "SELECT people.na| FROM people", []string{"me"}, 2},
		{"", "SELECT | FROM sales", []string{"price", "product", "qty", "region"}, 0},
		{"SELECT *\nFROM people\n", "WHERE ag", []string{"e"}, 2},
		{"", "SELECT reg| FROM `../testdata/tables/sales.tsv`", []string{"ion", "exp ", "exp_like("}, 3},
		{"", "SELECT * FROM `../testdata/tables/peo", []string{"ple.csv`"}, 3},
		{"", "SELECT * FROM `../testdata/tab", []string{"les/"}, 3},
		{"", "SELECT * FROM `" + dir + "/lo", []string{"gs-2024.csv`", "gs-2025.csv`", "gs/"}, 2},
		{"", "SELECT 'FRO", nil, 0},
		{"", "SELECT 1 -- peo", nil, 0},
		{"", ".mo", []string{"de "}, 2},
		{"", ".t", []string{"ables", "imer "}, 1},
		{"", ".mode j", []string{"son", "sonl"}, 1},
		{"", ".timer o", []string{"n", "ff"}, 1},
		{"", ".schema pe", []string{"ople"}, 2},
		{"", ".open " + dir + "/l", []string{"ogs/"}, 1},
		{"", ".read " + dir + "/n", []string{"otes.md"}, 1},
		{"", ".explain SELECT * FROM sal", []string{"es "}, 3},
		{"SELECT 1\n", ".mo", nil, 0}, // a continuation line is SQL, not a dot command
	} {
		s := newShell(db, ShellOptions{})
		s.pending = tc.pending
		line, pos := tc.line, utf8.RuneCountInString(tc.line)
		if i := indexRune(tc.line, '|'); i >= 0 {
			line = tc.line[:i] + tc.line[i+1:]
			pos = utf8.RuneCountInString(tc.line[:i])
		}
		got, n := s.complete(line, pos)
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) || (len(want) > 0 && n != tc.length) {
			t.Errorf("complete(%q after %q) = %q, %d; want %q, %d", tc.line, tc.pending, got, n, want, tc.length)
		}
	}
}

func indexRune(s string, r rune) int {
	for i, c := range s {
		if c == r {
			return i
		}
	}
	return -1
}

func TestLexStateAtEnd(t *testing.T) {
	for _, tc := range []struct {
		src   string
		quote byte
		start int
	}{
		{"SELECT 1", 0, 0},
		{"SELECT 'a", '\'', 7},
		{"SELECT 'a'", 0, 0},
		{`SELECT 'a\'`, '\'', 7},
		{`SELECT 'a\\'`, 0, 0},
		{"SELECT `x", '`', 7},
		{"SELECT `x`", 0, 0},
		{"SELECT `x`` y", '`', 7},
		{"SELECT 1 -- c", '-', 9},
		{"SELECT 1 -- c\n", 0, 0},
		{"SELECT /* c", '-', 7},
		{"SELECT /* c */ `", '`', 15},
	} {
		q, start := lexStateAtEnd(tc.src)
		if q != tc.quote || start != tc.start {
			t.Errorf("lexStateAtEnd(%q) = %q, %d; want %q, %d", tc.src, q, start, tc.quote, tc.start)
		}
	}
}
