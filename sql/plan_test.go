package sql

import (
	"reflect"
	"strings"
	"testing"

	"github.com/quernsql/quern/planner"
)

func planJob(t *testing.T, cat testCatalog, q string, cfg planner.LowerConfig) *planner.Job {
	t.Helper()
	s := NewSession(cat)
	st, err := s.Bind(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	job, err := planner.Plan(st.(*Query).Plan, cfg)
	if err != nil {
		t.Fatalf("%s: plan: %v", q, err)
	}
	return job
}

func TestExplainWordCount(t *testing.T) {
	cat := catalogForTests()
	cat["big"] = &planner.Table{Name: "big.txt", Format: planner.FormatText, Files: []planner.File{{Path: "big.txt", Size: 100 << 20}},
		Schema: planner.Schema{{Name: "word", Type: planner.String}}}
	job := planJob(t, cat, "SELECT word, count(*) AS n FROM big GROUP BY word ORDER BY n DESC, word LIMIT 20",
		planner.LowerConfig{Reducers: 4, SplitSize: 32 << 20})
	got := planner.Explain(job)
	want := `Stage 0: map, 4 tasks (4 splits of 1 file)
  -- word count: scan and partial aggregate fused
  WordCount big.txt: scan → partial aggregate (combiner) group by [word] compute [COUNT(*)], fused
  → shuffle: hash(word) mod 4
Stage 1: reduce, 4 tasks (one per partition of stage 0)
  ShuffleRead this task's partition from every task of stage 0
  → Aggregate final (merge partials) group by [word] compute [COUNT(*)]
  → Project word, COUNT(*) AS n
  → TopK 20 by n DESC, word
Final: merge 4 sorted outputs by n DESC, word, limit 20
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestExplainShapes(t *testing.T) {
	cfg := planner.LowerConfig{Reducers: 3, SplitSize: 40}
	cases := []struct{ q, want string }{
		{"SELECT a, b FROM t WHERE a > 1", `Stage 0: map, 3 tasks (3 splits of 1 file)
  -- map-only
  Scan t (csv) [a, b] filter (a > 1)
  → Project a, b
Final: concatenate 3 outputs
`},
		{"SELECT s, sum(a) AS total FROM t WHERE d >= DATE '2024-01-01' GROUP BY s HAVING sum(a) > 10 ORDER BY total DESC", `Stage 0: map, 3 tasks (3 splits of 1 file)
  Scan t (csv) [a, s, d] filter (d >= DATE '2024-01-01')
  → Project s, a
  → Aggregate partial (combiner) group by [s] compute [SUM(a)]
  → shuffle: hash(s) mod 3
Stage 1: reduce, 3 tasks (one per partition of stage 0)
  ShuffleRead this task's partition from every task of stage 0
  → Aggregate final (merge partials) group by [s] compute [SUM(a)]
  → Filter (SUM(a) > 10)
  → Project s, SUM(a) AS total
  → Sort by total DESC
Final: merge 3 sorted outputs by total DESC
`},
		{"SELECT count(*) FROM t", `Stage 0: map, 3 tasks (3 splits of 1 file)
  Scan t (csv) []
  → Project 
  → Aggregate partial (combiner) group by [] compute [COUNT(*)]
  → shuffle: all rows to 1 partition
Stage 1: reduce, 1 task (one per partition of stage 0)
  ShuffleRead this task's partition from every task of stage 0
  → Aggregate final (merge partials) group by [] compute [COUNT(*)]
  → Project COUNT(*) AS count(*)
Final: concatenate 1 output
`},
		{"SELECT s, count(DISTINCT a) FROM t GROUP BY s", `Stage 0: map, 3 tasks (3 splits of 1 file)
  -- DISTINCT aggregate: (group keys, argument) pairs are deduplicated on both sides of the shuffle, then aggregated in the reducer
  Scan t (csv) [a, s]
  → Project s, a
  → Aggregate partial (combiner) group by [s, a] compute []
  → shuffle: hash(s) mod 3
Stage 1: reduce, 3 tasks (one per partition of stage 0)
  ShuffleRead this task's partition from every task of stage 0
  → Aggregate final (merge partials) group by [s, a] compute []
  → Aggregate complete group by [s] compute [COUNT(a)]
  → Project s, COUNT(DISTINCT a) AS count(DISTINCT a)
Final: concatenate 3 outputs
`},
		{"SELECT s, count(DISTINCT a), count(*) FROM t GROUP BY s", `Stage 0: map, 3 tasks (3 splits of 1 file)
  -- DISTINCT aggregate: rows are shuffled on the group keys and aggregated once in the reducer
  Scan t (csv) [a, s]
  → Project s, a
  → shuffle: hash(s) mod 3
Stage 1: reduce, 3 tasks (one per partition of stage 0)
  ShuffleRead this task's partition from every task of stage 0
  → Aggregate complete group by [s] compute [COUNT(DISTINCT a), COUNT(*)]
  → Project s, COUNT(DISTINCT a) AS count(DISTINCT a), COUNT(*) AS count(*)
Final: concatenate 3 outputs
`},
	}
	for _, c := range cases {
		got := planner.Explain(planJob(t, catalogForTests(), c.q, cfg))
		if got != c.want {
			t.Errorf("%s\ngot:\n%s\nwant:\n%s", c.q, got, c.want)
		}
	}
}

// TestJobRoundTrip: a job encodes and decodes losslessly, so that it can
// travel to workers in other processes.
func TestJobRoundTrip(t *testing.T) {
	queries := []string{
		"SELECT word, count(*) AS n FROM words GROUP BY word ORDER BY n DESC, word LIMIT 20",
		"SELECT s, sum(a) AS total, avg(b), min(d), max(s) FROM t WHERE d >= DATE '2024-01-01' AND s LIKE 'x%' GROUP BY s HAVING sum(a) > 1.5 ORDER BY total DESC LIMIT 3 OFFSET 1",
		"SELECT a * 2 + 1, s FROM t WHERE a IN (1, 2, NULL) OR b BETWEEN 1 AND 2.5 ORDER BY 1",
		"SELECT count(DISTINCT a), count(*) FROM t",
		"SELECT 1 + 1, 'x'",
	}
	for _, q := range queries {
		job := planJob(t, catalogForTests(), q, planner.DefaultLowerConfig())
		b, err := job.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := planner.DecodeJob(b)
		if err != nil {
			t.Fatal(err)
		}
		// nil and empty slices encode alike, so compare decoded with decoded.
		again, err := planner.DecodeJob(b)
		if err != nil || !reflect.DeepEqual(again, back) {
			t.Errorf("%s: decoding is not deterministic", q)
		}
		b2, _ := back.Encode()
		if string(b) != string(b2) {
			t.Errorf("%s: re-encoding differs", q)
		}
		if planner.Explain(back) != planner.Explain(job) {
			t.Errorf("%s: EXPLAIN differs after the round trip", q)
		}
	}
	if _, err := planner.DecodeJob([]byte("{bad")); err == nil || !strings.Contains(err.Error(), "decoding job") {
		t.Errorf("bad job decoded: %v", err)
	}
}

// TestJoinStrategies: the threshold picks broadcast or reduce-side joins.
func TestJoinStrategies(t *testing.T) {
	q := "SELECT s, count(*) FROM t JOIN words ON t.s = words.word GROUP BY s"
	bc := planner.Explain(planJob(t, catalogForTests(), q, planner.LowerConfig{Reducers: 2, SplitSize: 1 << 20, BroadcastBytes: 0}))
	rs := planner.Explain(planJob(t, catalogForTests(), q, planner.LowerConfig{Reducers: 2, SplitSize: 1 << 20, BroadcastBytes: -1}))
	if !strings.Contains(bc, "broadcast join") || !strings.Contains(bc, "BroadcastRead all of stage 0's output") || strings.Contains(bc, "reduce-side join") {
		t.Errorf("threshold 0 did not broadcast:\n%s", bc)
	}
	if !strings.Contains(rs, "reduce-side join: both inputs partitioned on the join keys") || strings.Contains(rs, "BroadcastRead") ||
		!strings.Contains(rs, "shuffle: hash(s) mod 2") || !strings.Contains(rs, "shuffle: hash(word) mod 2") {
		t.Errorf("threshold -1 did not plan a reduce-side join:\n%s", rs)
	}
}

// TestJoinThenGroupSharesShuffle: grouping by the join key after a
// reduce-side join needs no second shuffle; grouping by another column does.
func TestJoinThenGroupSharesShuffle(t *testing.T) {
	cfg := planner.LowerConfig{Reducers: 2, SplitSize: 1 << 20, BroadcastBytes: -1}
	shared := planner.Explain(planJob(t, catalogForTests(), "SELECT s, count(*) FROM t JOIN words ON t.s = words.word GROUP BY s", cfg))
	if !strings.Contains(shared, "aggregate shares the shuffle above") || strings.Count(shared, "Stage ") != 3 {
		t.Errorf("group by the join key:\n%s", shared)
	}
	other := planner.Explain(planJob(t, catalogForTests(), "SELECT a, count(*) FROM t JOIN words ON t.s = words.word GROUP BY a", cfg))
	if strings.Contains(other, "shares the shuffle") || strings.Count(other, "Stage ") != 4 {
		t.Errorf("group by another column:\n%s", other)
	}
}

// TestJoinReadsOnlyUsedColumns: below a join each side scans (and shuffles)
// only what the plan above, the keys and the condition read.
func TestJoinReadsOnlyUsedColumns(t *testing.T) {
	cfg := planner.LowerConfig{Reducers: 2, SplitSize: 1 << 20, BroadcastBytes: -1}
	cases := []struct{ q, scan string }{
		{"SELECT a, count(*) FROM t JOIN words ON t.s = words.word GROUP BY a", "Scan t (csv) [a, s]"},
		{"SELECT words.word FROM t JOIN words ON t.s = words.word AND t.b > t.a", "Scan t (csv) [a, b, s]"},
		{"SELECT count(*) FROM t LEFT JOIN words ON t.s = words.word AND words.word <> t.s", "Scan t (csv) [s]"},
	}
	for _, c := range cases {
		got := planner.Explain(planJob(t, catalogForTests(), c.q, cfg))
		if !strings.Contains(got, c.scan) {
			t.Errorf("%s: want %q in\n%s", c.q, c.scan, got)
		}
	}
}
