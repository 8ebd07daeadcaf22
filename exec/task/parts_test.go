package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/exec/compressed"
	"github.com/quernsql/quern/exec/csvscan"
	"github.com/quernsql/quern/planner"
)

// TestScanParts: a split of several files reads them in order, whatever
// the batch size, for every text format, compressed or not; a CSV scan
// with IgnoreErrors sums the rows its files dropped.
func TestScanParts(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) planner.FileRange {
		path := filepath.Join(dir, name)
		if err := compressed.WriteFile(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(path)
		return planner.FileRange{Path: path, End: st.Size()}
	}
	csvParts := []planner.FileRange{
		write("a.csv", "n,s\n1,x\n2,y\n"),
		write("b.csv.gz", "n,s\nbad,z\n3,w\n"),
		write("c.csv", "n,s\n"),
		write("d.csv.zst", "n,s\n4,v\n5\n"),
	}
	f, err := csvscan.Sniff(csvParts[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	f.IgnoreErrors = true
	opts, _ := json.Marshal(f)
	schema := planner.Schema{{Name: "n", Type: planner.Int}, {Name: "s", Type: planner.String}}
	csvTable := &planner.Table{Name: "t", Format: planner.FormatCSV, Schema: schema, Options: opts}

	textParts := []planner.FileRange{write("a.txt", "one two"), write("b.txt.gz", "three"), write("c.txt", ""), write("d.txt", "four, five.")}
	textTable := &planner.Table{Name: "w", Format: planner.FormatText, Schema: planner.Schema{{Name: "word", Type: planner.String}}}

	for _, c := range []struct {
		name    string
		op      *planner.Op
		parts   []planner.FileRange
		want    []string
		skipped int64
	}{
		{"csv", &planner.Op{Kind: planner.OpScan, Table: csvTable, Columns: []int{1, 0}, Schema: schema}, csvParts,
			[]string{"x 1", "y 2", "w 3", "v 4"}, 2},
		{"text", &planner.Op{Kind: planner.OpScan, Table: textTable, Columns: []int{0}, Schema: textTable.Schema}, textParts,
			[]string{"one", "two", "three", "four", "five"}, 0},
	} {
		for _, batch := range []int{1, 2, 3, 7, 1024} {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			op, err := scan(c.op, planner.Split{Files: c.parts}, exec.Env{Alloc: mem, BatchSize: batch}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for {
				rec, err := op.Next(context.Background())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%s batch %d: %v", c.name, batch, err)
				}
				for i := range int(rec.NumRows()) {
					var vals []string
					for _, col := range rec.Columns() {
						vals = append(vals, col.(interface{ ValueStr(int) string }).ValueStr(i))
					}
					got = append(got, strings.Join(vals, " "))
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s batch %d: rows %q, want %q", c.name, batch, got, c.want)
			}
			if c.skipped > 0 {
				n, first := op.(skipCounter).Skipped()
				if n != c.skipped || first == nil || !strings.Contains(first.Error(), "b.csv.gz:2:1: column 1 (n)") {
					t.Errorf("%s: skipped %d, %v; want %d", c.name, n, first, c.skipped)
				}
			}
			if err := op.Close(); err != nil {
				t.Fatal(err)
			}
			if err := op.Close(); err != nil {
				t.Fatal("second Close:", err)
			}
			mem.AssertSize(t, 0)
		}
	}

	// The fused word count counts the words of every file once.
	wc := &planner.Op{Kind: planner.OpWordCount, Table: textTable, Schema: planner.Schema{{Name: "word", Type: planner.String}, {Name: "n", Type: planner.Int}}}
	op, err := Build(wc, Input{Split: planner.Split{Files: append(textParts, textParts[0])}}, exec.Env{BatchSize: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for {
		rec, err := op.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		w, n := rec.Column(0).(*array.String), rec.Column(1).(*array.Int64)
		for i := range w.Len() {
			counts[w.Value(i)] += n.Value(i)
		}
	}
	op.Close()
	if fmt.Sprint(counts) != "map[five:1 four:1 one:2 three:1 two:2]" {
		t.Errorf("word counts %v", counts)
	}

	// A missing later file fails the scan naming it, after the rows before it.
	missing := append(csvParts[:1:1], planner.FileRange{Path: filepath.Join(dir, "gone.csv"), End: 10})
	op, err = scan(&planner.Op{Kind: planner.OpScan, Table: csvTable, Columns: []int{0}, Schema: schema[:1]}, planner.Split{Files: missing}, exec.DefaultEnv(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	for err == nil {
		_, err = op.Next(context.Background())
	}
	if !strings.Contains(err.Error(), "gone.csv") {
		t.Errorf("missing file: %v", err)
	}
}
