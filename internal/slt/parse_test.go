package slt

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// corpusDir is the shared sqllogictest corpus (see its README.md). Set
// QUERN_SLT_DIR to point elsewhere.
func corpusDir() string {
	if d := os.Getenv("QUERN_SLT_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "testdata", "slt")
}

// TestParseCorpus parses the real scripts and checks the record counts
// against the table in the corpus README.
func TestParseCorpus(t *testing.T) {
	dir := corpusDir()
	if _, err := os.Stat(filepath.Join(dir, "select3.test")); err != nil {
		t.Skipf("corpus not found in %s: %v", dir, err)
	}
	tests := []struct {
		file                         string
		statements, queries, mysqlQs int
	}{
		{"random/aggregates/slt_good_0.test", 12, 13910, 10000},
		{"random/aggregates/slt_good_65.test", 12, 13969, 10000},
		{"random/aggregates/slt_good_129.test", 12, 1134, 790},
		{"random/groupby/slt_good_2.test", 13, 10672, 10000},
		{"random/groupby/slt_good_5.test", 13, 10804, 10000},
		{"random/groupby/slt_good_8.test", 13, 10626, 10000},
		{"select3.test", 31, 3320, 3320},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			recs, err := Parse(tc.file, f)
			if err != nil {
				t.Fatal(err)
			}
			var stmts, queries, mysql, hashed int
			for i := range recs {
				r := &recs[i]
				switch r.Kind {
				case Statement:
					stmts++
				case Query:
					queries++
					if !r.SkippedFor("mysql") {
						mysql++
					}
					if r.Hash != "" {
						hashed++
					}
					if !r.HasResult || len(r.Types) == 0 || r.SQL == "" {
						t.Errorf("%s: incomplete query record %+v", r.Pos(), r)
					}
				}
			}
			if stmts != tc.statements || queries != tc.queries || mysql != tc.mysqlQs {
				t.Errorf("statements, queries, queries for mysql = %d, %d, %d; README says %d, %d, %d",
					stmts, queries, mysql, tc.statements, tc.queries, tc.mysqlQs)
			}
			if hashed == 0 {
				t.Errorf("no hashed results parsed")
			}
			if first := recs[0]; first.Kind != HashThreshold || first.Threshold != 8 || first.Line != 1 {
				t.Errorf("first record = %+v; want hash-threshold 8 at line 1", first)
			}
		})
	}
}

const sampleScript = `# a comment before everything
hash-threshold 8

statement ok
CREATE TABLE t1(a INTEGER, b INTEGER);

skipif postgresql # PostgreSQL needs AS
onlyif MySQL
query II rowsort label-1
SELECT a,
# a comment inside the SQL
  b FROM t1
----
1
2

query R
SELECT 1
----
9 values hashing to 75c998aa53ac83218cbf2feb962d0a49

statement error not supported
SELECT x

query T nosort
SELECT 'no result given'

halt
`

func TestParse(t *testing.T) {
	recs, err := Parse("s.test", strings.NewReader(strings.ReplaceAll(sampleScript, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{
		{Kind: HashThreshold, File: "s.test", Line: 2, Start: 2, End: 2, Threshold: 8},
		{Kind: Statement, File: "s.test", Line: 4, Start: 4, End: 5, SQL: "CREATE TABLE t1(a INTEGER, b INTEGER)"},
		{Kind: Query, File: "s.test", Line: 9, Start: 7, End: 15,
			Conditions: []Condition{{Only: false, Engine: "postgresql"}, {Only: true, Engine: "mysql"}},
			SQL:        "SELECT a,\n  b FROM t1", Types: "II", Sort: RowSort, Label: "label-1",
			HasResult: true, SepLine: 13, Expected: []string{"1", "2"}},
		{Kind: Query, File: "s.test", Line: 17, Start: 17, End: 20, SQL: "SELECT 1", Types: "R",
			HasResult: true, SepLine: 19, HashCount: 9, Hash: "75c998aa53ac83218cbf2feb962d0a49"},
		{Kind: Statement, File: "s.test", Line: 22, Start: 22, End: 23, SQL: "SELECT x",
			ExpectError: true, ErrorContains: "not supported"},
		{Kind: Query, File: "s.test", Line: 25, Start: 25, End: 26, SQL: "SELECT 'no result given'", Types: "T"},
		{Kind: Halt, File: "s.test", Line: 28, Start: 28, End: 28},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d: %+v", len(recs), len(want), recs)
	}
	for i := range want {
		if !reflect.DeepEqual(recs[i], want[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, recs[i], want[i])
		}
	}
	if !recs[2].SkippedFor("postgresql") || recs[2].SkippedFor("mysql") || !recs[2].SkippedFor("sqlite") {
		t.Errorf("conditions of %s applied wrongly", recs[2].Pos())
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		script string
		line   int
		msg    string
	}{
		{"statement ok\n\n", 1, "without SQL"},
		{"statement maybe\nSELECT 1\n", 1, "statement ok"},
		{"\nquery IX\nSELECT 1\n", 2, "I, R or T"},
		{"query I somesort\nSELECT 1\n", 1, "unknown sort mode"},
		{"query I nosort label extra\nSELECT 1\n", 1, "want \"query"},
		{"skipif mysql\n\nstatement ok\nSELECT 1\n", 2, "without a record"},
		{"onlyif\nstatement ok\nSELECT 1\n", 1, "one engine name"},
		{"select 1\n", 1, "unknown record type"},
		{"hash-threshold x\n", 1, "hash-threshold N"},
		{"halt\nSELECT 1\n", 2, "unexpected line"},
	}
	for _, tc := range tests {
		_, err := Parse("bad.test", strings.NewReader(tc.script))
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != tc.line || pe.File != "bad.test" || !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("Parse(%q) error = %v; want bad.test:%d: …%s…", tc.script, err, tc.line, tc.msg)
		}
	}
}
