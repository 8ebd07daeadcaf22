package sql

import (
	"strings"
	"testing"
	"time"

	"github.com/quernsql/quern/planner"
)

// FuzzFrontEnd: the parser, binder and planner never panic and finish
// quickly, whatever the text; they either plan or return an error.
func FuzzFrontEnd(f *testing.F) {
	seeds := []string{
		"SELECT word, count(*) AS n FROM words GROUP BY word ORDER BY n DESC, word LIMIT 20",
		"SELECT a + 1, s FROM t WHERE b > 2 AND s LIKE 'x%' OR d BETWEEN '2020-01-01' AND '2021-01-01' ORDER BY 1",
		"SELECT s, sum(a), avg(b), count(DISTINCT a) FROM t GROUP BY s HAVING sum(a) > 1.5",
		"SELECT t.a, w.word FROM t JOIN words w ON t.s = w.word LEFT JOIN t AS u USING (a)",
		"SELECT (SELECT max(a) FROM t), EXISTS (SELECT 1 FROM t AS x WHERE x.a < t.a) FROM t",
		"WITH c AS (SELECT a FROM t) SELECT * FROM c UNION ALL SELECT 1",
		"SELECT CASE WHEN a > 1 THEN 'x' ELSE NULL END, CAST(b AS DECIMAL(10,2)), - - + a FROM t",
		"CREATE TABLE q (a INT NOT NULL DEFAULT 3, b VARCHAR(4))",
		"INSERT INTO t VALUES (1, 2.5, 'x', '2020-01-01')",
		"SET SESSION sql_mode = (SELECT REPLACE(@@sql_mode, 'ONLY_FULL_GROUP_BY', ''))",
		"SELECT DISTINCT a FROM (SELECT a FROM t ORDER BY a LIMIT 3) AS z",
		"SELECT date '1998-12-01' - interval '90' day, 7 / 2, 7 DIV 2, -7 % 3",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 4096 {
			return
		}
		start := time.Now()
		s := NewSession(catalogForTests())
		st, err := s.Bind(q)
		if err == nil {
			if query, ok := st.(*Query); ok {
				job, err := planner.Plan(query.Plan, planner.LowerConfig{Reducers: 3, SplitSize: 40, BroadcastBytes: 50})
				if err == nil {
					if _, err := job.Encode(); err != nil {
						t.Fatalf("%q: encode: %v", q, err)
					}
					_ = planner.Explain(job)
				}
			}
		} else if strings.Contains(err.Error(), "internal:") && !strings.Contains(q, "internal") {
			t.Logf("%q: %v", q, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%q took %v", q, d)
		}
	})
}

// TestDeepNesting: expressions nested past a limit are a clear error, not a
// stack overflow.
func TestDeepNesting(t *testing.T) {
	q := "SELECT " + strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000)
	_, err := NewSession(catalogForTests()).Bind(q)
	if err == nil || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("5000 nested parentheses: %v", err)
	}
	q = "SELECT " + strings.Repeat("-", 3000) + "1"
	if _, err := NewSession(catalogForTests()).Bind(q); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("3000 unary minus: %v", err)
	}
}
