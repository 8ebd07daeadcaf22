package csvscan

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var (
	batchSizes = []int{1, 2, 3, 7, 1024}
	splitSizes = []int64{1, 7, 100, 1 << 30}
)

// formatRow renders row i of rec as comma-separated values: NULL, numbers
// as Go prints them, dates as YYYY-MM-DD and strings Go-quoted.
func formatRow(rec arrow.Record, i int) string {
	vals := make([]string, rec.NumCols())
	for c, col := range rec.Columns() {
		if col.IsNull(i) {
			vals[c] = "NULL"
			continue
		}
		switch a := col.(type) {
		case *array.Int64:
			vals[c] = strconv.FormatInt(a.Value(i), 10)
		case *array.Float64:
			vals[c] = strconv.FormatFloat(a.Value(i), 'g', -1, 64)
		case *array.Boolean:
			vals[c] = strconv.FormatBool(a.Value(i))
		case *array.Date32:
			vals[c] = a.Value(i).FormattedString()
		case *array.String:
			vals[c] = strconv.Quote(a.Value(i))
		default:
			vals[c] = "?" + col.DataType().String()
		}
	}
	return strings.Join(vals, ",")
}

// scanAll reads the file through the ranges Splits makes for target, one
// reader per range in order, and returns the rows. Zero-column batches give
// one empty string per row. A bufLen > 0 starts each reader with a read
// buffer that small, so records straddle buffer ends everywhere.
func scanAll(t *testing.T, path string, f Format, cols []int, target int64, batch, bufLen int) ([]string, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, rg := range Splits(f, st.Size(), target) {
		rd, err := NewReader(path, f, cols, rg, mem, batch)
		if err != nil {
			return nil, err
		}
		if bufLen > 0 {
			rd.buf = make([]byte, bufLen)
		}
		for {
			rec, err := rd.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				rd.Close()
				return nil, err
			}
			if n := int(rec.NumRows()); n > batch || n == 0 {
				t.Fatalf("batch of %d rows with batch size %d", n, batch)
			}
			if !rec.Schema().Equal(rd.Schema()) || int(rec.NumCols()) != len(cols) {
				t.Fatalf("batch schema %v, reader schema %v", rec.Schema(), rd.Schema())
			}
			for i := range int(rec.NumRows()) {
				rows = append(rows, formatRow(rec, i))
			}
		}
		if err := rd.Close(); err != nil {
			t.Fatal(err)
		}
		if err := rd.Close(); err != nil {
			t.Fatal("second Close:", err)
		}
	}
	return rows, nil
}

func allColumns(f Format) []int {
	cols := make([]int, len(f.Header))
	for i := range cols {
		cols[i] = i
	}
	return cols
}

func TestRead(t *testing.T) {
	cases := []struct {
		name, content string
		cols          []int // nil: all
		want          []string
	}{
		{
			name:    "types and nulls",
			content: "i,d,b,dt,s\n1,1.5,true,2024-02-29,x\n,,,,\n-7,2,FALSE,1970-01-01,hello world\n",
			want: []string{
				`1,1.5,true,2024-02-29,"x"`,
				`NULL,NULL,NULL,NULL,NULL`,
				`-7,2,false,1970-01-01,"hello world"`,
			},
		},
		{
			name:    "projection reorders",
			content: "a|b|c|d\n1|x|2.5|q\n2|y|3|r\n",
			cols:    []int{2, 0},
			want:    []string{`2.5,1`, `3,2`},
		},
		{
			name:    "zero columns count rows",
			content: "a,b\n1,2\n3,4\n\n5,6\n",
			cols:    []int{},
			want:    []string{``, ``, ``},
		},
		{
			name:    "CRLF, BOM, no final newline",
			content: "\xEF\xBB\xBFa,b\r\n1,x\r\n2,\r\n3,z",
			want:    []string{`1,"x"`, `2,NULL`, `3,"z"`},
		},
		{
			name:    "blank lines skipped",
			content: "a,b\n1,x\n\r\n\n2,y\n\n\n\r\n",
			want:    []string{`1,"x"`, `2,"y"`},
		},
		{
			name:    "quoted delimiters and quotes",
			content: "a,b,c\n\"x,y\",1,\"\"\n\"say \"\"hi\"\"\",\"2\",\n\"\"\"\",3,\"a\"\"\"\"b\"\r\n",
			want:    []string{`"x,y",1,""`, `"say \"hi\"",2,NULL`, `"\"",3,"a\"\"b"`},
		},
		{
			name:    "quoted newlines",
			content: "a,b\n\"line1\nline2\",1\n\"x\r\n\"\"y\"\"\n\",2\nplain,3\n\"\n\",4",
			want:    []string{`"line1\nline2",1`, `"x\r\n\"y\"\n",2`, `"plain",3`, `"\n",4`},
		},
		{
			name:    "quotes inside unquoted fields are bytes",
			content: "a,b\n5\" disk,1\nx\"\"y,2\n",
			want:    []string{`"5\" disk",1`, `"x\"\"y",2`},
		},
		{
			name:    "header only",
			content: "a,b\n",
			want:    nil,
		},
		{
			name:    "trailing fields skipped fast",
			content: "a,b,c,d\n1,x,y,z\n2,\"q,r\",\"s\",t\n",
			cols:    []int{0},
			want:    []string{`1`, `2`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "t.csv", c.content)
			f, err := Sniff(path)
			if err != nil {
				t.Fatal(err)
			}
			cols := c.cols
			if cols == nil {
				cols = allColumns(f)
			}
			for _, split := range splitSizes {
				for _, batch := range batchSizes {
					for _, bufLen := range []int{0, 1, 9} {
						got, err := scanAll(t, path, f, cols, split, batch, bufLen)
						if err != nil {
							t.Fatalf("split %d, batch %d, buffer %d: %v", split, batch, bufLen, err)
						}
						if !reflect.DeepEqual(got, c.want) {
							t.Fatalf("split %d, batch %d, buffer %d:\n got %q\nwant %q", split, batch, bufLen, got, c.want)
						}
					}
				}
			}
		})
	}
}

// TestReadSplitsAgree reads a generated file with awkward content (quoted
// fields, CRLF and LF mixed, long and empty lines) whole and in many splits.
func TestReadSplitsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var b strings.Builder
	b.WriteString("id,name,score,day,flag\n")
	const n = 200
	for i := range n {
		name := []string{"plain", "\"quoted, with comma\"", "", "\"\"", "\"a \"\"b\"\"\"", strings.Repeat("long", 30)}[rng.IntN(6)]
		score := []string{strconv.Itoa(rng.IntN(1000)) + ".25", "", "-3", "1e5"}[rng.IntN(4)]
		eol := []string{"\n", "\r\n"}[rng.IntN(2)]
		fmt.Fprintf(&b, "%d,%s,%s,2024-01-%02d,%v%s", i, name, score, 1+rng.IntN(28), rng.IntN(2) == 0, eol)
		if rng.IntN(50) == 0 {
			b.WriteString("\n")
		}
	}
	path := writeFile(t, "g.csv", b.String())
	f, err := Sniff(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Type{BigInt, Varchar, Double, Date, Boolean}; !reflect.DeepEqual(f.Types, want) {
		t.Fatalf("types %v, want %v", f.Types, want)
	}
	want, err := scanAll(t, path, f, allColumns(f), 1<<30, 1024, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != n {
		t.Fatalf("%d rows, want %d", len(want), n)
	}
	// The projection of the whole-file read, built independently of the reader.
	wantProj := make([]string, n)
	for i, row := range want {
		var vals []string
		for v := range strings.SplitSeq(row, ",") {
			vals = append(vals, v)
		}
		wantProj[i] = vals[len(vals)-1] + "," + strings.Join(vals[1:len(vals)-3], ",") + "," + vals[0]
	}
	for _, split := range []int64{1, 7, 100, 4096, 1 << 30} {
		for _, batch := range batchSizes {
			if split == 1 && batch > 1 && batch < 1024 {
				continue // a reader per byte is slow; 1 and 1024 cover it
			}
			got, err := scanAll(t, path, f, []int{4, 1, 0}, split, batch, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("split %d batch %d: %d rows, want %d", split, batch, len(got), len(want))
			}
			for i := range got {
				if got[i] != wantProj[i] {
					t.Fatalf("split %d batch %d row %d: %s, want %s", split, batch, i, got[i], wantProj[i])
				}
			}
			if batch == 1024 {
				small, err := scanAll(t, path, f, []int{4, 1, 0}, split, batch, 1)
				if err != nil || !reflect.DeepEqual(small, got) {
					t.Fatalf("split %d batch %d: with a 1-byte starting buffer: %v", split, batch, err)
				}
			}
			counts, err := scanAll(t, path, f, nil, split, batch, 0)
			if err != nil || len(counts) != len(want) {
				t.Fatalf("split %d batch %d: zero-column scan gave %d rows, %v", split, batch, len(counts), err)
			}
		}
	}
}

func TestReadErrors(t *testing.T) {
	i3 := Format{Delim: ',', Quoted: true, Header: []string{"a", "b", "c"}, Types: []Type{BigInt, Varchar, Varchar}, SampleRows: 2}
	with := func(f Format, types ...Type) Format { f.Types = types; return f }
	cases := []struct {
		name, content string
		format        Format
		want          string
	}{
		{"int", "a,b,c\n1,x,y\n2,x,y\n12x,x,y\n", i3,
			`t.csv:4:1: column 1 (a): cannot read "12x" as BIGINT; the type was inferred from the first 2 rows`},
		{"double", "a,b,c\n1,x,2\n2,x,1.5.1\n", with(i3, BigInt, Varchar, Double),
			`t.csv:3:5: column 3 (c): cannot read "1.5.1" as DOUBLE; the type was inferred from the first 2 rows`},
		{"bool", "a,b,c\r\n1,true,y\r\n2,yes,y\r\n", with(i3, BigInt, Boolean, Varchar),
			`t.csv:3:3: column 2 (b): cannot read "yes" as BOOLEAN; the type was inferred from the first 2 rows`},
		{"date", "a,b,c\n1,x,2024-02-30\n", with(i3, BigInt, Varchar, Date),
			`t.csv:2:5: column 3 (c): cannot read "2024-02-30" as DATE; the type was inferred from the first 2 rows`},
		{"quoted value", "a,b,c\n1,x,y\n\"1\"\"\",x,y\n", i3,
			`t.csv:3:1: column 1 (a): cannot read "1\"" as BIGINT; the type was inferred from the first 2 rows`},
		{"after multiline field", "a,b,c\n1,\"x\ny\",z\n7,\"p\nq\",bad\n", with(Format{Delim: ',', Quoted: true, MultilineQuotes: true, Header: i3.Header, SampleRows: 2}, BigInt, Varchar, BigInt),
			`t.csv:3:4: column 3 (c): cannot read "z" as BIGINT; the type was inferred from the first 2 rows`},
		{"long value", "a,b,c\n1,x,y\n" + strings.Repeat("9", 100) + ",x,y\n", i3,
			`t.csv:3:1: column 1 (a): cannot read "` + strings.Repeat("9", 80) + `…" as BIGINT; the type was inferred from the first 2 rows`},
		{"too few fields", "a,b,c\n1,x,y\n2,x\n", i3,
			`t.csv:3: expected 3 fields as in the header, found 2`},
		{"too many fields", "a,b,c\n1,x,y\n2,x,y,z\n", i3,
			`t.csv:3: expected 3 fields as in the header, found 4`},
		{"header changed", "a,b\n1,x\n", i3,
			`t.csv:1: the header names the columns (a, b) but the table has (a, b, c) (has the file changed since it was sniffed?)`},
		{"byte after quote", "a,b,c\n1,\"x\"y,z\n", i3,
			`t.csv:2:6: unexpected 'y' after a closing quote; a quote inside a quoted field is written as two quotes ("")`},
		{"quote spans lines", "a,b,c\n1,\"x\ny\",z\n", i3,
			`t.csv:2:3: quoted field is not closed on its line; line breaks inside quotes are only read from files that show one in their first 1 MiB`},
		{"unterminated", "a,b,c\n1,x,\"y", with(Format{Delim: ',', Quoted: true, MultilineQuotes: true, Header: i3.Header, SampleRows: 2}, BigInt, Varchar, Varchar),
			`t.csv:2:5: quoted field is not closed before the end of the file`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "t.csv", c.content)
			for _, split := range splitSizes {
				for _, batch := range batchSizes {
					for _, bufLen := range []int{0, 1, 9} {
						_, err := scanAll(t, path, c.format, allColumns(c.format), split, batch, bufLen)
						if err == nil {
							t.Fatalf("split %d batch %d buffer %d: no error", split, batch, bufLen)
						}
						var pe *ParseError
						if !errors.As(err, &pe) {
							t.Fatalf("not a *ParseError: %v", err)
						}
						if got := strings.TrimPrefix(err.Error(), filepath.Dir(path)+string(filepath.Separator)); got != c.want {
							t.Fatalf("split %d batch %d buffer %d:\n got %s\nwant %s", split, batch, bufLen, got, c.want)
						}
					}
				}
			}
		})
	}
}

// TestReadLateContradiction puts a bad value past the sniffed sample, so
// the type comes from a real Sniff and the error from a later split.
func TestReadLateContradiction(t *testing.T) {
	var b strings.Builder
	b.WriteString("n,v\n")
	rows := 0
	for b.Len() < sampleBytes+100_000 {
		fmt.Fprintf(&b, "%d,%d\n", rows, rows*3)
		rows++
	}
	b.WriteString("x,1\n\"2\",3\n")
	path := writeFile(t, "late.csv", b.String())
	f, err := Sniff(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Types[0] != BigInt || f.SampleRows >= rows {
		t.Fatalf("format %+v", f)
	}
	want := fmt.Sprintf(`late.csv:%d:1: column 1 (n): cannot read "x" as BIGINT; the type was inferred from the first %d rows`, rows+2, f.SampleRows)
	for _, split := range []int64{256 << 10, 1 << 30} {
		_, err := scanAll(t, path, f, []int{0}, split, 1024, 0)
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("split %d: error %v, want %s", split, err, want)
		}
		// Without column n the bad value is never parsed.
		got, err := scanAll(t, path, f, []int{1}, split, 1024, 0)
		if err != nil || len(got) != rows+2 {
			t.Errorf("split %d: column v gave %d rows, %v", split, len(got), err)
		}
	}
}

// TestSniffLongOpenQuote: a stray quote early in a file bigger than the
// sample must not make Sniff believe the rest is one quoted field.
func TestSniffLongOpenQuote(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,b\n\"x,1\n")
	for i := 0; b.Len() < sampleBytes+10; i++ {
		fmt.Fprintf(&b, "y%d,%d\n", i, i)
	}
	f, err := Sniff(writeFile(t, "q.csv", b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if f.Quoted || f.Delim != ',' || f.Types[1] != BigInt {
		t.Errorf("format %+v", f)
	}
}

func TestReaderContract(t *testing.T) {
	path := writeFile(t, "c.csv", "a\n1\n2\n")
	f, err := Sniff(path)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	for _, cols := range [][]int{{1}, {-1}, {0, 0}} {
		if _, err := NewReader(path, f, cols, Range{0, 100}, mem, 10); err == nil {
			t.Errorf("columns %v accepted", cols)
		}
	}
	if _, err := NewReader(filepath.Join(t.TempDir(), "gone.csv"), f, nil, Range{0, 100}, mem, 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}

	rd, err := NewReader(path, f, []int{0}, Range{0, 100}, mem, 10)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := rd.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Next: %v", err)
	}
	rec, err := rd.Next(context.Background())
	if err != nil || rec.NumRows() != 2 {
		t.Fatalf("Next: %v", err)
	}
	rec.Retain() // a consumer keeping the batch past Close
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
	if got := formatRow(rec, 1); got != "2" {
		t.Errorf("retained batch row 1 = %s", got)
	}
	rec.Release()
	if _, err := rd.Next(context.Background()); err == nil {
		t.Error("Next after Close succeeded")
	}
	if err := rd.Close(); err != nil {
		t.Error("second Close:", err)
	}
}

// TestReadMatchesEncodingCSV compares every value against encoding/csv plus
// strconv and time, on a lineitem-shaped file (or on the file named by
// CSVSCAN_CROSSCHECK), read in several splits.
func TestReadMatchesEncodingCSV(t *testing.T) {
	path := os.Getenv("CSVSCAN_CROSSCHECK")
	if path == "" {
		path = writeFile(t, "lineitem.csv", fakeLineitem(3000))
	}
	f, err := Sniff(path)
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	cr := csv.NewReader(bufio.NewReaderSize(file, 1<<20))
	cr.Comma = rune(f.Delim)
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil {
		t.Fatal(err)
	}
	var want []string
	vals := make([]string, len(f.Header))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range rec {
			if v == "" {
				vals[i] = "NULL"
				continue
			}
			switch f.Types[i] {
			case BigInt:
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				vals[i] = strconv.FormatInt(n, 10)
			case Double:
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				vals[i] = strconv.FormatFloat(x, 'g', -1, 64)
			case Boolean:
				vals[i] = strconv.FormatBool(strings.EqualFold(v, "true"))
			case Date:
				d, err := time.Parse("2006-01-02", v)
				if err != nil {
					t.Fatal(err)
				}
				vals[i] = d.Format("2006-01-02")
			default:
				vals[i] = strconv.Quote(v)
			}
		}
		want = append(want, strings.Join(vals, ","))
	}
	st, _ := os.Stat(path)
	for _, split := range []int64{st.Size() / 7, st.Size()} {
		got, err := scanAll(t, path, f, allColumns(f), split, DefaultBatchSize, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("split %d: %d rows, encoding/csv read %d", split, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("split %d: row %d\n got %s\nwant %s", split, i, got[i], want[i])
			}
		}
	}
}
