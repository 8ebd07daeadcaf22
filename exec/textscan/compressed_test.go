package textscan

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec/compressed"
)

// TestCompressed: a gzipped or zstd-compressed copy of a text reads the same
// words, in order, as the plain file, with the reader and the counter; the
// range is ignored past its start, since a compressed file is read whole.
func TestCompressed(t *testing.T) {
	data := genText(7, 3<<20, true) // several chunks
	want := refWords(data)
	dir := t.TempDir()
	for _, name := range []string{"w.txt.gz", "w.txt.zst"} {
		path := filepath.Join(dir, name)
		if err := compressed.WriteFile(path, data); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(path)
		for _, batch := range []int{7, 1024} {
			got := readAll(t, path, []Range{{0, st.Size()}}, batch, testingKnobs{})
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s batch %d: %d words, want %d", name, batch, len(got), len(want))
			}
		}
		if got := countAll(t, path, []Range{{0, 1}}, 1024, testingKnobs{}); !reflect.DeepEqual(got, tally(want)) {
			t.Fatalf("%s: counts differ", name)
		}
		if _, err := NewReader(path, Range{5, 10}, nil, 0); err == nil || !strings.HasPrefix(err.Error(), "internal:") {
			t.Errorf("%s: a range inside a compressed file: %v", name, err)
		}
		raw, _ := os.ReadFile(path)
		cut := filepath.Join(dir, "cut-"+name)
		os.WriteFile(cut, raw[:len(raw)/2], 0o644)
		c, err := NewCounter(cut, Range{0, 1}, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Next(context.Background())
		c.Close()
		if !errors.Is(err, compressed.ErrCorrupt) || !strings.HasPrefix(err.Error(), "textscan: "+cut+": ") {
			t.Errorf("%s truncated: %v", name, err)
		}
	}
}

// TestPartsCounter: one counter over the ranges of several files counts
// what separate counters count, each word once; files of one byte-run do
// not join into one word across files.
func TestPartsCounter(t *testing.T) {
	dir := t.TempDir()
	texts := []string{"the cat", "sat on", "", "the mat\nthe end", "xyz"}
	var parts []Part
	var all []string
	for i, text := range texts {
		path := filepath.Join(dir, string(rune('a'+i))+".txt")
		if i == 3 {
			path += ".gz"
		}
		if err := compressed.WriteFile(path, []byte(text)); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, Part{path, Range{0, int64(len(text))}})
		all = append(all, refWords([]byte(text))...)
	}
	parts = append(parts, Part{parts[0].Path, Range{4, 100}}) // "cat" again, from a later range
	all = append(all, "cat")
	for _, batch := range batchSizes {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		c, err := NewPartsCounter(parts, mem, batch)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for {
			rec, err := c.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			w, n := rec.Column(0).(*array.String), rec.Column(1).(*array.Int64)
			for i := 0; i < w.Len(); i++ {
				if got[w.Value(i)] != 0 {
					t.Fatalf("word %q emitted twice", w.Value(i))
				}
				got[w.Value(i)] = n.Value(i)
			}
		}
		c.Close()
		mem.AssertSize(t, 0)
		if !reflect.DeepEqual(got, tally(all)) {
			t.Fatalf("batch %d: counts %v, want %v", batch, got, tally(all))
		}
	}
	missing := append(parts[:1:1], Part{filepath.Join(dir, "nope.txt"), Range{0, 5}})
	c, err := NewPartsCounter(missing, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Next(context.Background()); err == nil || !strings.Contains(err.Error(), "nope.txt") {
		t.Errorf("missing second file: %v", err)
	}
	c.Close()
}
