package slt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// fakeEngine answers SQL from a table of canned results. Each answer builds
// fresh Arrow data on the checked allocator, so a leak in the runner shows.
type fakeEngine struct {
	mem     memory.Allocator
	answers map[string]func(memory.Allocator) (array.RecordReader, error)
	calls   []string
}

func (e *fakeEngine) Exec(ctx context.Context, sql string) (array.RecordReader, error) {
	e.calls = append(e.calls, sql)
	f, ok := e.answers[sql]
	if !ok {
		return nil, fmt.Errorf("fake engine: unexpected SQL %q", sql)
	}
	return f(e.mem)
}

// col is one column of a canned result: its type and values (nil = NULL).
type col struct {
	typ  arrow.DataType
	vals []any
}

// rows returns an answer with the given columns, split into batches of at
// most batch rows so multi-batch reading is exercised.
func rows(batch int, cols ...col) func(memory.Allocator) (array.RecordReader, error) {
	return func(mem memory.Allocator) (array.RecordReader, error) {
		fields := make([]arrow.Field, len(cols))
		for i, c := range cols {
			fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: c.typ, Nullable: true}
		}
		schema := arrow.NewSchema(fields, nil)
		n := 0
		if len(cols) > 0 {
			n = len(cols[0].vals)
		}
		var recs []arrow.Record
		for start := 0; start < n || (n == 0 && start == 0); start += batch {
			end := min(start+batch, n)
			b := array.NewRecordBuilder(mem, schema)
			for ci, c := range cols {
				for _, v := range c.vals[start:end] {
					appendAny(b.Field(ci), v)
				}
			}
			recs = append(recs, b.NewRecordBatch())
			b.Release()
			if n == 0 {
				break
			}
		}
		rr, err := array.NewRecordReader(schema, recs)
		for _, r := range recs {
			r.Release()
		}
		return rr, err
	}
}

func appendAny(b array.Builder, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.Int64Builder:
		b.Append(int64(v.(int)))
	case *array.Uint64Builder:
		b.Append(v.(uint64))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.Decimal128Builder:
		b.Append(decimal128.FromI64(int64(v.(int))))
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.Date32Builder:
		b.Append(arrow.Date32(v.(int)))
	default:
		panic(fmt.Sprintf("appendAny: %T", b))
	}
}

func ints(vs ...any) col   { return col{arrow.PrimitiveTypes.Int64, vs} }
func floats(vs ...any) col { return col{arrow.PrimitiveTypes.Float64, vs} }
func strs(vs ...any) col   { return col{arrow.BinaryTypes.String, vs} }
func dec(scale int32, vs ...any) col {
	return col{&arrow.Decimal128Type{Precision: 20, Scale: scale}, vs}
}

func noResult(memory.Allocator) (array.RecordReader, error) { return nil, nil }

func fails(msg string) func(memory.Allocator) (array.RecordReader, error) {
	return func(memory.Allocator) (array.RecordReader, error) { return nil, errors.New(msg) }
}

func TestRenderColumn(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tests := []struct {
		name   string
		col    col
		letter byte
		want   []string
	}{
		{"int as I", ints(-3102, nil, 0), 'I', []string{"-3102", "NULL", "0"}},
		{"int as R", ints(37, -1), 'R', []string{"37.000", "-1.000"}},
		{"int as T", ints(5), 'T', []string{"5"}},
		{"uint as I", col{arrow.PrimitiveTypes.Uint64, []any{uint64(math.MaxUint64)}}, 'I', []string{"18446744073709551615"}},
		{"double as R", floats(-0.5, 2.0/3, 1e20, 0.0005, nil), 'R', []string{"-0.500", "0.667", "100000000000000000000.000", "0.001", "NULL"}},
		{"double as I truncates toward zero", floats(2.7, -2.7, 1e30, math.NaN()), 'I', []string{"2", "-2", "9223372036854775807", "0"}},
		{"double as T", floats(0.1, 1e20), 'T', []string{"0.1", "1e20"}},
		{"decimal as R", dec(2, 19900, -50, nil), 'R', []string{"199.000", "-0.500", "NULL"}},
		{"decimal as I truncates toward zero", dec(2, 399, -399, 5), 'I', []string{"3", "-3", "0"}},
		{"decimal as T keeps scale", dec(3, 3500), 'T', []string{"3.500"}},
		{"bool as I", col{arrow.FixedWidthTypes.Boolean, []any{true, false}}, 'I', []string{"1", "0"}},
		{"text as T", strs("", "a\tb\xffc", "plain ~", nil), 'T', []string{"(empty)", "a@b@c", "plain ~", "NULL"}},
		{"text as I takes the leading integer", strs("12ab", "ab", " -7", "99999999999999999999"), 'I', []string{"12", "0", "-7", "9223372036854775807"}},
		{"text as R takes the leading number", strs("1.5e1x", "x", "-.25"), 'R', []string{"15.000", "0.000", "-0.250"}},
		{"date as T", col{arrow.FixedWidthTypes.Date32, []any{19724}}, 'T', []string{"2024-01-02"}},
		{"null type", col{arrow.Null, []any{nil, nil}}, 'I', []string{"NULL", "NULL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rr, err := rows(1024, tc.col)(mem)
			if err != nil {
				t.Fatal(err)
			}
			defer rr.Release()
			rr.Next()
			got := make([]string, len(tc.want))
			renderColumn(rr.RecordBatch().Column(0), tc.letter, got, 0, 0, 1)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

// TestWorkedExample is the README's example: rows sorted as strings, then
// flattened and hashed.
func TestWorkedExample(t *testing.T) {
	vals := strings.Fields("75 67 58 46 51 23 64 77 40")
	sortValues(vals, 3, RowSort)
	if got, want := hashValues(vals), "75c998aa53ac83218cbf2feb962d0a49"; got != want {
		t.Errorf("hash of %v = %s; want %s", vals, got, want)
	}
}

func TestSortValues(t *testing.T) {
	vals := []string{"9", "b", "10", "a", "-5", "c", "-50", "d", "0", "e"}
	rows := append([]string(nil), vals...)
	sortValues(rows, 2, RowSort)
	if want := "[-5 c -50 d 0 e 10 a 9 b]"; fmt.Sprint(rows) != want {
		t.Errorf("rowsort = %v; want %v", rows, want)
	}
	sortValues(vals, 2, ValueSort)
	if want := "[-5 -50 0 10 9 a b c d e]"; fmt.Sprint(vals) != want {
		t.Errorf("valuesort = %v; want %v", vals, want)
	}
}

const runScript = `hash-threshold 8

statement ok
CREATE TABLE tab2(col0 INTEGER, col1 INTEGER, col2 INTEGER)

query III rowsort
SELECT DISTINCT * FROM tab2 WHERE - col2 + col1 IS NOT NULL
----
9 values hashing to 75c998aa53ac83218cbf2feb962d0a49

query I rowsort
SELECT sorted
----
-5
-50
10
9

query IR nosort
SELECT rows_per_line
----
1 2.500
NULL NULL

query I nosort
SELECT wrong
----
1
2

query I nosort
SELECT wrong_hash
----
9 values hashing to 00000000000000000000000000000000

query II nosort
SELECT too_few_columns
----
1

onlyif sqlite
query I nosort
SELECT only_for_sqlite
----
1

skipif mysql
statement ok
SELECT skipped_for_mysql

statement ok
SELECT correlated

query I nosort
SELECT known
----
1

statement ok
SELECT broken

statement error
SELECT bad

statement error must mention this
SELECT bad_other

statement error
SELECT fine

query I nosort
SELECT no_result_set
----

query I nosort
SELECT panics
----
1

onlyif mysql
halt

query I nosort
SELECT after_halt
----
1
`

func runEngine(mem memory.Allocator) *fakeEngine {
	return &fakeEngine{mem: mem, answers: map[string]func(memory.Allocator) (array.RecordReader, error){
		"CREATE TABLE tab2(col0 INTEGER, col1 INTEGER, col2 INTEGER)": noResult,
		// The README's worked example, in an order rowsort must fix, split
		// over batches.
		"SELECT DISTINCT * FROM tab2 WHERE - col2 + col1 IS NOT NULL": rows(2, ints(75, 46, 64), ints(67, 51, 77), ints(58, 23, 40)),
		"SELECT sorted":          rows(1, ints(9, -50, 10, -5)),
		"SELECT rows_per_line":   rows(1, ints(1, nil), dec(1, 25, nil)),
		"SELECT wrong":           rows(7, ints(1, 3)),
		"SELECT wrong_hash":      rows(7, ints(1, 2, 3, 4, 5, 6, 7, 8, 9)),
		"SELECT too_few_columns": rows(7, ints(1)),
		"SELECT correlated":      fails("not supported: correlated subquery"),
		"SELECT known":           fails("should never run"),
		"SELECT broken":          fails("internal: boom"),
		"SELECT bad":             fails("sql: unknown column bad"),
		"SELECT bad_other":       fails("sql: unknown column bad_other"),
		"SELECT fine":            noResult,
		"SELECT no_result_set":   noResult,
		"SELECT panics": func(memory.Allocator) (array.RecordReader, error) {
			panic("engine bug")
		},
	}}
}

func TestRun(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs, err := Parse("run.test", strings.NewReader(runScript))
	if err != nil {
		t.Fatal(err)
	}
	known, err := ParseKnown("known.txt", strings.NewReader(`
# known differences
run.test:"SELECT   known"  the fake engine refuses it
other.test:5  not for this file
`))
	if err != nil {
		t.Fatal(err)
	}
	eng := runEngine(mem)
	res := Run(context.Background(), eng, recs, Options{Known: known})

	want := FileResult{File: "run.test", Counts: Counts{Passed: 5, Failed: 8, Skipped: 2, Unsupported: 1, Known: 1, OtherEngine: 2}}
	if len(res.Files) != 1 || res.Files[0] != want {
		t.Fatalf("counts = %+v; want %+v", res.Files, want)
	}
	for _, sql := range eng.calls {
		if sql == "SELECT after_halt" || sql == "SELECT known" || sql == "SELECT only_for_sqlite" {
			t.Errorf("ran %q, which should have been skipped", sql)
		}
	}
	type brief struct {
		line     int
		err      string
		got      string
		expected string
	}
	wantFailures := []brief{
		{25, "", "[1 3]", "[1 2]"},
		{31, "", "[9 values hashing to " + hashValues(strings.Fields("1 2 3 4 5 6 7 8 9")) + " 1 2 3 4 5 6 7 8 9]", "[9 values hashing to 00000000000000000000000000000000]"},
		{36, "query has 1 columns, the record declares 2 (II)", "[]", "[1]"},
		{59, "internal: boom", "[]", "[]"},
		{65, `expected an error containing "must mention this", got: sql: unknown column bad_other`, "[]", "[]"},
		{68, "expected an error, got none", "[]", "[]"},
		{71, "query returned no result set", "[]", "[]"},
		{75, "panic: engine bug", "[]", "[]"},
	}
	if len(res.Failures) != len(wantFailures) {
		t.Fatalf("got %d failures, want %d: %+v", len(res.Failures), len(wantFailures), res.Failures)
	}
	for i, w := range wantFailures {
		f := res.Failures[i]
		gotHash := fmt.Sprint(f.Got)
		errLine, _, _ := strings.Cut(f.Err, "\n")
		if f.Line != w.line || errLine != w.err || gotHash != w.got || fmt.Sprint(f.Expected) != w.expected || f.File != "run.test" {
			t.Errorf("failure %d = line %d err %q got %s expected %v; want %+v", i, f.Line, errLine, gotHash, f.Expected, w)
		}
	}
	if f := res.Failures[0]; f.SQL != "SELECT wrong" || f.Kind != Query {
		t.Errorf("failure 0 SQL/kind = %q/%v", f.SQL, f.Kind)
	}
	if res.UnsupportedReasons["not supported: correlated subquery"] != 1 || len(res.UnsupportedList) != 1 || res.UnsupportedList[0].Line != 51 {
		t.Errorf("unsupported = %v %+v", res.UnsupportedReasons, res.UnsupportedList)
	}
	if len(res.Skips) != 1 || res.Skips[0].Line != 54 || res.Skips[0].Reason != "the fake engine refuses it" {
		t.Errorf("skips = %+v", res.Skips)
	}
	if un := known.Unused(&res); len(un) != 0 {
		t.Errorf("Unused = %+v; want none (other.test was not run)", un)
	}

	var out bytes.Buffer
	if err := WriteSummary(&out, &res, true); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	for _, s := range []string{
		"FAIL run.test:25: query\n    SELECT wrong\n  expected:\n    1\n    2\n  got:\n    1\n    3\n",
		"FAIL run.test:59: statement\n    SELECT broken\n  error: internal: boom\n",
		"UNSUPPORTED run.test:51: statement\n",
		"SKIP run.test:54: the fake engine refuses it\n",
		"unsupported:\n       1  not supported: correlated subquery\n",
		"run.test: passed=5 failed=8 skipped=2 (unsupported=1 known=1) other-engine=2\n",
	} {
		if !strings.Contains(report, s) {
			t.Errorf("report lacks %q:\n%s", s, report)
		}
	}
	if !strings.HasSuffix(report, "\n5 passed, 8 failed, 2 skipped\n") {
		t.Errorf("report does not end with the total line:\n%s", report)
	}
}

func TestRunOptions(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	script := "query R nosort\nSELECT x\n----\n1.000\n\nquery I nosort\nSELECT y\n----\n2\n"
	recs, err := Parse("opts.test", strings.NewReader(script))
	if err != nil {
		t.Fatal(err)
	}
	eng := &fakeEngine{mem: mem, answers: map[string]func(memory.Allocator) (array.RecordReader, error){
		"SELECT x": rows(1, ints(1)),   // an integer where R is declared
		"SELECT y": rows(1, dec(0, 2)), // a decimal where I is declared
	}}
	if res := Run(context.Background(), eng, recs, Options{}); res.Total().Passed != 2 {
		t.Errorf("lenient run: %+v; want both to pass", res.Total())
	}
	res := Run(context.Background(), eng, recs, Options{StrictTypes: true, MaxFailures: 1})
	if tot := res.Total(); tot.Failed != 2 || len(res.Failures) != 1 || !strings.Contains(res.Failures[0].Err, "declared R") {
		t.Errorf("strict run: %+v %+v; want 2 failures, 1 kept, about R", tot, res.Failures)
	}
	res = Run(context.Background(), eng, recs, Options{EngineName: "postgresql"})
	if res.Total().Passed != 2 {
		t.Errorf("engine name changed the outcome: %+v", res.Total())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res = Run(ctx, eng, recs, Options{})
	if !errors.Is(res.Err, context.Canceled) || res.Total().Passed != 0 {
		t.Errorf("canceled run: %+v err %v", res.Total(), res.Err)
	}
	var out bytes.Buffer
	WriteSummary(&out, &res, false)
	if !strings.Contains(out.String(), "run stopped early: context canceled") {
		t.Errorf("summary hides the early stop:\n%s", out.String())
	}

	var merged Result
	a := Run(context.Background(), eng, recs, Options{StrictTypes: true})
	merged.Merge(a)
	merged.Merge(a)
	if tot := merged.Total(); tot.Failed != 4 || len(merged.Files) != 1 || len(merged.Failures) != 4 {
		t.Errorf("merged = %+v, %d failures", tot, len(merged.Failures))
	}
}

func TestKnownFormat(t *testing.T) {
	k, err := ParseKnown("k.txt", strings.NewReader("a/b.test:12\tsome reason  here\nc.test:\"SELECT \\\"x\\\"\\nFROM t\" why\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []KnownEntry{
		{File: "a/b.test", Line: 12, Reason: "some reason  here", Source: "k.txt:1"},
		{File: "c.test", SQL: "SELECT \"x\"\nFROM t", Reason: "why", Source: "k.txt:2"},
	}
	if got := k.Entries(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("entries = %+v; want %+v", got, want)
	}
	for _, tc := range []struct {
		file, sql string
		line      int
		hit       bool
	}{
		{"/x/a/b.test", "", 12, true},
		{"a/b.test", "", 12, true},
		{"xa/b.test", "", 12, false},
		{"a/b.test", "", 13, false},
		{"dir/c.test", "SELECT  \"x\" FROM\tt", 99, true},
		{"dir/c.test", "SELECT 1", 99, false},
	} {
		rec := &Record{File: tc.file, Line: tc.line, SQL: tc.sql}
		if got := k.Lookup(rec) != nil; got != tc.hit {
			t.Errorf("Lookup(%s:%d %q) = %v; want %v", tc.file, tc.line, tc.sql, got, tc.hit)
		}
	}
	for _, bad := range []string{"a.test:12\n", "a.test:x reason\n", "a.test reason\n", `a.test:"unterminated reason` + "\n", "a.test:12reason\n"} {
		if _, err := ParseKnown("k.txt", strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "k.txt:1") {
			t.Errorf("ParseKnown(%q) error = %v; want one at k.txt:1", bad, err)
		}
	}
}

func TestRewrite(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	script := `hash-threshold 3

# results to regenerate
query I rowsort
SELECT three
----
7

query I nosort
SELECT many
----
1 values hashing to 00000000000000000000000000000000

query T nosort
SELECT unset

statement ok
SELECT 1

query I nosort
SELECT errs
----
5

query I nosort
SELECT last
----`
	recs, err := Parse("golden.test", strings.NewReader(script))
	if err != nil {
		t.Fatal(err)
	}
	eng := &fakeEngine{mem: mem, answers: map[string]func(memory.Allocator) (array.RecordReader, error){
		"SELECT three": rows(2, ints(3, 1, 2)),
		"SELECT many":  rows(2, ints(1, 2, 3, 4)),
		"SELECT unset": rows(2, strs("", "x")),
		"SELECT 1":     noResult,
		"SELECT errs":  fails("internal: boom"),
		"SELECT last":  rows(1, ints(nil)),
	}}
	res := Run(context.Background(), eng, recs, Options{KeepActual: true})
	var out bytes.Buffer
	if err := Rewrite(&out, strings.NewReader(script), recs, res.Actual); err != nil {
		t.Fatal(err)
	}
	want := `hash-threshold 3

# results to regenerate
query I rowsort
SELECT three
----
1
2
3

query I nosort
SELECT many
----
4 values hashing to ` + hashValues([]string{"1", "2", "3", "4"}) + `

query T nosort
SELECT unset
----
(empty)
x

statement ok
SELECT 1

query I nosort
SELECT errs
----
5

query I nosort
SELECT last
----
NULL
`
	if out.String() != want {
		t.Fatalf("rewritten:\n%s\nwant:\n%s", out.String(), want)
	}
	// The rewritten script passes, except the query that errors.
	recs2, err := Parse("golden.test", strings.NewReader(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	if tot := Run(context.Background(), eng, recs2, Options{}).Total(); tot.Passed != 5 || tot.Failed != 1 {
		t.Errorf("rerun of the rewritten script: %+v; want 5 passed, 1 failed", tot)
	}
}

// echoEngine answers each query of a real script with the values the
// script expects, typed by the query's letters (I as int64, R as float64),
// so the runner's parse → render → sort → compare path is checked against
// real expectations. Statements succeed.
type echoEngine struct {
	mem     memory.Allocator
	answers map[string]*Record
}

func (e *echoEngine) Exec(_ context.Context, sql string) (array.RecordReader, error) {
	rec, ok := e.answers[sql]
	if !ok {
		return nil, nil
	}
	fields := make([]arrow.Field, len(rec.Types))
	for c, l := range rec.Types {
		typ := arrow.DataType(arrow.PrimitiveTypes.Int64)
		if l == 'R' {
			typ = arrow.PrimitiveTypes.Float64
		}
		fields[c] = arrow.Field{Name: fmt.Sprint("c", c), Type: typ, Nullable: true}
	}
	b := array.NewRecordBuilder(e.mem, arrow.NewSchema(fields, nil))
	defer b.Release()
	for i, v := range rec.Expected {
		fb := b.Field(i % len(rec.Types))
		if v == "NULL" {
			fb.AppendNull()
			continue
		}
		switch fb := fb.(type) {
		case *array.Int64Builder:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", rec.Pos(), err)
			}
			fb.Append(n)
		case *array.Float64Builder:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", rec.Pos(), err)
			}
			fb.Append(f)
		}
	}
	batch := b.NewRecordBatch()
	defer batch.Release()
	return array.NewRecordReader(batch.Schema(), []arrow.Record{batch})
}

func TestRunCorpusEcho(t *testing.T) {
	dir := corpusDir()
	for _, file := range []string{"select3.test", "random/aggregates/slt_good_129.test"} {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			t.Skipf("corpus not found: %v", err)
		}
		recs, err := Parse(file, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		eng := &echoEngine{mem: mem, answers: map[string]*Record{}}
		known := &Known{}
		queries, hashed := 0, 0
		for i := range recs {
			r := &recs[i]
			if r.Kind != Query || r.SkippedFor("mysql") {
				continue
			}
			queries++
			if r.Hash != "" {
				// The values behind a hash are unknown: skip it by line.
				known.Add(KnownEntry{File: file, Line: r.Line, Reason: "hashed"})
				hashed++
				continue
			}
			eng.answers[r.SQL] = r
		}
		res := Run(context.Background(), eng, recs, Options{Known: known})
		tot := res.Total()
		if tot.Failed != 0 || tot.Passed != queries-hashed+countStatements(recs) || tot.Known != hashed {
			var out bytes.Buffer
			WriteSummary(&out, &res, false)
			t.Errorf("%s: %+v (queries %d, hashed %d)\n%s", file, tot, queries, hashed, out.String())
		}
		t.Logf("%s: %+v (queries %d, hashed %d)", file, tot, queries, hashed)
		mem.AssertSize(t, 0)
	}
}

func countStatements(recs []Record) int {
	n := 0
	for i := range recs {
		if recs[i].Kind == Statement && !recs[i].SkippedFor("mysql") {
			n++
		}
	}
	return n
}
