package csvscan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// scanSkipping is scanAll for IgnoreErrors: it also returns the records
// skipped over all ranges and the first range's first skip error.
func scanSkipping(t *testing.T, path string, f Format, cols []int, target int64, batch, bufLen int) (rows []string, skipped int64, first error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, rg := range Splits(f, st.Size(), target) {
		rd, err := NewReader(path, f, cols, rg, mem, batch)
		if err != nil {
			t.Fatal(err)
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
				t.Fatalf("split %d batch %d buffer %d: %v", target, batch, bufLen, err)
			}
			if n := int(rec.NumRows()); n > batch || n == 0 {
				t.Fatalf("batch of %d rows with batch size %d", n, batch)
			}
			for i := range int(rec.NumRows()) {
				rows = append(rows, formatRow(rec, i))
			}
		}
		n, err := rd.Skipped()
		skipped += n
		if first == nil {
			first = err
		}
		if (n == 0) != (err == nil) {
			t.Fatalf("Skipped() = %d, %v", n, err)
		}
		rd.Close()
	}
	return rows, skipped, first
}

// TestIgnoreErrors: with IgnoreErrors a malformed record is dropped and
// counted, whatever the split points, batch sizes and buffer sizes, and the
// rows around it are read as usual.
func TestIgnoreErrors(t *testing.T) {
	f := Format{Delim: ',', Quoted: true, Header: []string{"a", "b", "c"}, Types: []Type{BigInt, Varchar, Double}, SampleRows: 2, IgnoreErrors: true}
	cases := []struct {
		name, content string
		cols          []int
		want          []string
		skipped       int64
		first         string // the first skip's error, after the directory
	}{
		{"clean", "a,b,c\n1,x,1.5\n2,y,\n", nil, []string{`1,"x",1.5`, `2,"y",NULL`}, 0, ""},
		{"bad values", "a,b,c\n1,x,1.5\nq,y,2\n3,z,w\n4,\"\",4\n", nil,
			[]string{`1,"x",1.5`, `4,"",4`}, 2, `t.csv:3:1: column 1 (a): cannot read "q" as BIGINT; the type was inferred from the first 2 rows`},
		{"field counts", "a,b,c\n1,x\n2,y,2,9\n3,z,3\n", nil,
			[]string{`3,"z",3`}, 2, `t.csv:2: expected 3 fields as in the header, found 2`},
		{"broken quotes", "a,b,c\n1,\"x\"y,1\n2,\"open,2\n3,z,3\n", nil,
			[]string{`3,"z",3`}, 2, `t.csv:2:6: unexpected 'y' after a closing quote; a quote inside a quoted field is written as two quotes ("")`},
		{"every row bad", "a,b,c\nx,1,1\ny,2,2\nz,3,3\nw,4,4\n", nil, nil, 4, `t.csv:2:1: column 1 (a): cannot read "x" as BIGINT; the type was inferred from the first 2 rows`},
		{"bad value in an unread column stays", "a,b,c\n1,x,1\nq,y,2\n", []int{2, 1},
			[]string{`1,"x"`, `2,"y"`}, 0, ""},
		{"mixed", "a,b,c\n1,a,1\n2,b\nx,c,3\n4,\"d\"\"\",4\n5,e,5e\n6,f,6\n", []int{2, 0},
			[]string{`1,1`, `4,4`, `6,6`}, 3, `t.csv:3: expected 3 fields as in the header, found 2`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "t.csv", c.content)
			cols := c.cols
			if cols == nil {
				cols = allColumns(f)
			}
			for _, split := range splitSizes {
				for _, batch := range batchSizes {
					for _, bufLen := range []int{0, 1, 9} {
						rows, skipped, first := scanSkipping(t, path, f, cols, split, batch, bufLen)
						if !reflect.DeepEqual(rows, c.want) || skipped != c.skipped {
							t.Fatalf("split %d batch %d buffer %d: rows %q, %d skipped; want %q, %d", split, batch, bufLen, rows, skipped, c.want, c.skipped)
						}
						if split == 1<<30 {
							got := ""
							if first != nil {
								got = strings.TrimPrefix(first.Error(), strings.TrimSuffix(path, "t.csv"))
							}
							if got != c.first {
								t.Fatalf("batch %d buffer %d: first skip\n got %s\nwant %s", batch, bufLen, got, c.first)
							}
						}
					}
				}
			}
		})
	}
}

// TestValueErrorFields: a value error carries the field number, column
// name and value for callers that want them apart from the message.
func TestValueErrorFields(t *testing.T) {
	f := Format{Delim: '|', Header: []string{"id", "day"}, Types: []Type{BigInt, Date}, SampleRows: 1}
	path := writeFile(t, "t.csv", "id|day\n1|2024-01-01\n2|2024-13-01\n")
	_, err := scanAll(t, path, f, []int{1}, 1<<30, 1024, 0)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *ParseError", err)
	}
	if pe.Path != path || pe.Line != 3 || pe.Col != 3 || pe.Field != 2 || pe.Column != "day" || pe.Value != "2024-13-01" {
		t.Fatalf("got %+v", *pe)
	}
}

// TestGlobHeaders: a file read with a Format sniffed from another file must
// name the same columns, and errors about its values say where the types
// came from.
func TestGlobHeaders(t *testing.T) {
	dir := t.TempDir()
	first := writeFileIn(t, dir, "a.csv", "id,name\n1,x\n")
	f, err := Sniff(first)
	if err != nil {
		t.Fatal(err)
	}
	same := writeFileIn(t, dir, "b.csv", "id,name\nzz,y\n")
	_, err = scanAll(t, same, f, []int{0}, 1<<30, 1024, 0)
	want := same + `:2:1: column 1 (id): cannot read "zz" as BIGINT; the type was inferred from the first 1 rows of ` + first
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	other := writeFileIn(t, dir, "c.csv", "id,title\n1,y\n")
	_, err = scanAll(t, other, f, []int{0}, 1<<30, 1024, 0)
	want = other + `:1: the header names the columns (id, title) but the table has (id, name), from ` + first + `; the files of a glob must have the same columns`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func writeFileIn(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSniffIgnoringErrors: with IgnoreErrors, Sniff leaves malformed records
// of the sample out instead of failing, and the Format reads past them.
func TestSniffIgnoringErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,name,score\n")
	for i := range 40 {
		switch i {
		case 5:
			b.WriteString("5,short\n")
		case 9:
			b.WriteString("9,\"bro\"ken,1.5\n")
		case 30:
			b.WriteString("30,x,1,extra\n")
		default:
			fmt.Fprintf(&b, "%d,n%d,%d.5\n", i, i, i)
		}
	}
	path := writeFile(t, "r.csv", b.String())
	if _, err := Sniff(path); err == nil {
		t.Fatal("strict Sniff read a ragged file")
	}
	f, err := SniffWith(path, SniffOptions{IgnoreErrors: true})
	if err != nil {
		t.Fatal(err)
	}
	want := Format{Delim: ',', Quoted: true, Header: []string{"id", "name", "score"}, Types: []Type{BigInt, Varchar, Double},
		SampleRows: 37, Source: path, IgnoreErrors: true}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("format %+v\nwant %+v", f, want)
	}
	rows, skipped, _ := scanSkipping(t, path, f, []int{0}, 100, 7, 0)
	if len(rows) != 37 || skipped != 3 {
		t.Errorf("%d rows, %d skipped; want 37, 3", len(rows), skipped)
	}

	// Mostly ragged is still an error: the delimiter is not what it seems.
	path = writeFile(t, "m.csv", "a,b\n1\n2\n3,4\n5\n")
	if _, err := SniffWith(path, SniffOptions{IgnoreErrors: true}); err == nil {
		t.Errorf("a mostly ragged file sniffed")
	}
}
