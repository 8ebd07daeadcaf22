package quern

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/exec/task"
	"github.com/quernsql/quern/planner"
)

// TestCSVIgnoringErrors: the table csvIgnoringErrors returns reads past
// the malformed rows of every file of a many-file split; the table it came
// from still fails on them.
func TestCSVIgnoringErrors(t *testing.T) {
	dir := t.TempDir()
	for i, content := range []string{
		"id,name\n1,a\n2,b\n",
		"id,name\nx,c\n4,d\n5\n",
		"id,name\n6,\"e\"f\n7,g\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.csv", i)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := newCatalog()
	strict, err := c.fileTable(filepath.Join(dir, "f*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lenient, err := csvIgnoringErrors(strict)
	if err != nil {
		t.Fatal(err)
	}
	splits := planner.TableSplits(lenient, planner.LowerConfig{SplitSize: 1 << 20})
	if len(splits) != 1 || len(splits[0].Parts()) != 3 {
		t.Fatalf("splits %+v, want one over 3 files", splits)
	}
	scan := func(tbl *planner.Table) (rows int64, err error) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		op := &planner.Op{Kind: planner.OpScan, Table: tbl, Columns: []int{0, 1}, Schema: tbl.Schema}
		root, err := task.Build(op, task.Input{Split: splits[0]}, exec.Env{Alloc: mem, BatchSize: 2}, nil)
		if err != nil {
			return 0, err
		}
		defer root.Close()
		for {
			rec, err := root.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return rows, err
			}
			rows += rec.NumRows()
		}
		return rows, nil
	}
	rows, err := scan(lenient)
	if err != nil || rows != 4 {
		t.Errorf("lenient: %d rows, %v; want 4", rows, err)
	}
	_, err = scan(strict)
	if err == nil || !strings.Contains(err.Error(), `f1.csv:2:1: column 1 (id): cannot read "x" as BIGINT`) {
		t.Errorf("strict: %v", err)
	}
}

// TestFileTableIgnoringErrors: with csvIgnoreErrors a file whose sampled
// rows include malformed ones is sniffed, skipping them, where the strict
// catalog refuses it; the two are cached apart.
func TestFileTableIgnoringErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,name\n")
	for i := range 30 {
		if i == 7 {
			b.WriteString("7\n")
			continue
		}
		fmt.Fprintf(&b, "%d,n%d\n", i, i)
	}
	path := filepath.Join(t.TempDir(), "r.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newCatalog()
	if _, err := c.fileTable(path); err == nil || !strings.Contains(err.Error(), path+":9: expected 2 fields") {
		t.Errorf("strict: %v", err)
	}
	lenient, err := c.fileTableWith(path, fileOptions{csvIgnoreErrors: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(lenient.Options), `"IgnoreErrors":true`) || len(lenient.Schema) != 2 || lenient.Schema[0].Type != planner.Int {
		t.Errorf("lenient table %+v, options %s", lenient, lenient.Options)
	}
	if _, err := c.fileTable(path); err == nil {
		t.Error("the strict catalog took the lenient sniff from the cache")
	}
}
