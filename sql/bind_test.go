package sql

import (
	"strings"
	"testing"

	"github.com/quernsql/quern/planner"
)

type testCatalog map[string]*planner.Table

func (c testCatalog) Table(name string) (*planner.Table, error) {
	if t, ok := c[strings.ToLower(name)]; ok {
		return t, nil
	}
	return nil, NoTable("unknown table '%s'", name)
}

func (c testCatalog) TableNames() []string {
	var out []string
	for n := range c {
		out = append(out, n)
	}
	return out
}

func catalogForTests() testCatalog {
	return testCatalog{
		"words": {Name: "words", Format: planner.FormatText, Files: []planner.File{{Path: "w.txt", Size: 100}},
			Schema: planner.Schema{{Name: "word", Type: planner.String}}},
		"t": {Name: "t", Format: planner.FormatCSV, Files: []planner.File{{Path: "t.csv", Size: 100}},
			Schema: planner.Schema{{Name: "a", Type: planner.Int}, {Name: "b", Type: planner.Float}, {Name: "s", Type: planner.String}, {Name: "d", Type: planner.Date}}},
	}
}

func bindPlan(t *testing.T, q string) string {
	t.Helper()
	s := NewSession(catalogForTests())
	st, err := s.Bind(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return planner.FormatPlan(st.(*Query).Plan)
}

func TestBindShapes(t *testing.T) {
	cases := []struct{ q, want string }{
		{"SELECT word, count(*) AS n FROM words GROUP BY word ORDER BY n DESC, word LIMIT 20",
			"Limit 20\n  Sort n DESC, word\n    Project word, COUNT(*) AS n\n      Aggregate group by [word] compute [COUNT(*)]\n        Scan words [word]\n"},
		{"SELECT a + 1 AS x FROM t WHERE b > 2 ORDER BY s",
			"Project x\n  Sort s\n    Project (a + 1) AS x, s\n      Filter (b > 2)\n        Scan t [a, b, s, d]\n"},
		{"SELECT count(*), sum(a), min(s) FROM t",
			"Project COUNT(*) AS count(*), SUM(a) AS sum(a), MIN(s) AS min(s)\n  Aggregate group by [] compute [COUNT(*), SUM(a), MIN(s)]\n    Scan t [a, b, s, d]\n"},
		{"SELECT a, count(*) FROM t GROUP BY 1 HAVING count(*) > 1",
			"Project a, COUNT(*) AS count(*)\n  Filter (COUNT(*) > 1)\n    Aggregate group by [a] compute [COUNT(*)]\n      Scan t [a, b, s, d]\n"},
	}
	for _, c := range cases {
		got := bindPlan(t, c.q)
		if got != c.want {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", c.q, got, c.want)
		}
	}
}

func TestBindErrors(t *testing.T) {
	cases := []struct{ q, want string }{
		{"SELECT wrd FROM words", "unknown column 'wrd' in field list at line 1, column 8; did you mean 'word'?"},
		{"SELECT word FROM wrds", "unknown table 'wrds' at line 1, column 18; did you mean words?"},
		{"SELECT word FROM words GROUP BY 2", "unknown column '2' in GROUP BY at line 1, column 33"},
		{"SELECT a, s FROM t GROUP BY a", "expression 's' is neither in GROUP BY nor inside an aggregate (sql_mode=only_full_group_by) at line 1, column 11"},
		{"SELECT * FROM t WHERE a IN (SELECT count(*) FROM words WHERE word = s)", "not supported: correlated IN subquery at line 1, column 28"},
		{"SELECT a FROM t EXCEPT SELECT a FROM t", "not supported: EXCEPT"},
		{"SELECT a FROM t WHERE a > ANY (SELECT a FROM t)", "not supported: ANY/ALL subquery"},
		{"SELECT count(*) FROM t WHERE sum(a) > 1", "invalid use of aggregate SUM in WHERE at line 1, column 30"},
		{"SELEC 1", "syntax error near \"SELEC\" at line 1, column 1"},
		{"SELECT a FROM t WHERE", "syntax error: unexpected end of input at line 1, column 22"},
		{"SELECT a FROM t\nWHERE a = = 1", "syntax error near \"=\" at line 2, column 11"},
		{"SELECT foo(a) FROM t", "not supported: function FOO at line 1, column 8"},
	}
	for _, c := range cases {
		s := NewSession(catalogForTests())
		_, err := s.Bind(c.q)
		if err == nil {
			t.Errorf("%s: no error", c.q)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s:\ngot:  %v\nwant: %s", c.q, err, c.want)
		}
	}
}

// TestReservedWordAlias: a reserved word after AS is read as an alias.
func TestReservedWordAlias(t *testing.T) {
	got := bindPlan(t, "SELECT count(*) AS groups FROM t")
	if !strings.Contains(got, "AS groups") {
		t.Errorf("plan:\n%s", got)
	}
	if _, err := NewSession(catalogForTests()).Bind("SELECT groups FROM t"); err == nil {
		t.Error("a reserved word outside an alias was accepted")
	}
}
