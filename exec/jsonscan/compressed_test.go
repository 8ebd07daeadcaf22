package jsonscan

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec/compressed"
)

// TestCompressed: plain, gzipped and zstd-compressed copies of a file sniff
// alike and read the same rows; errors count decompressed lines; a damaged
// file is an error naming it.
func TestCompressed(t *testing.T) {
	var b strings.Builder
	for i := range 20_000 {
		fmt.Fprintf(&b, `{"id": %d, "name": "n%d", "x": %d.5}`+"\n", i, i%13, i)
	}
	good := b.String()
	bad := good + `{"id": "seven"}` + "\n"
	dir := t.TempDir()
	var want []string
	for _, name := range []string{"t.jsonl", "t.jsonl.gz", "t.ndjson.zst"} {
		path := filepath.Join(dir, name)
		if err := compressed.WriteFile(path, []byte(good)); err != nil {
			t.Fatal(err)
		}
		f, err := Sniff(path)
		if err != nil {
			t.Fatal(err)
		}
		wantFormat := Format{Columns: []string{"id", "name", "x"}, Types: []Type{BigInt, Varchar, Double}, Source: path}
		if !reflect.DeepEqual(f, wantFormat) {
			t.Fatalf("%s: format %+v", name, f)
		}
		st, _ := os.Stat(path)
		for _, bs := range []int{7, 1024} {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			rd, err := NewReader(path, f, []int{2, 0, 1}, Range{0, st.Size()}, mem, bs)
			if err != nil {
				t.Fatal(err)
			}
			rows, _, err := readAll(t, rd, bs)
			rd.Close()
			mem.AssertSize(t, 0)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if want == nil {
				want = rows
				if len(rows) != 20_000 {
					t.Fatalf("plain: %d rows", len(rows))
				}
			} else if !reflect.DeepEqual(rows, want) {
				t.Fatalf("%s batch %d: rows differ from the plain file's", name, bs)
			}
		}

		badPath := filepath.Join(dir, "bad-"+name)
		if err := compressed.WriteFile(badPath, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		st, _ = os.Stat(badPath)
		rd, err := NewReader(badPath, f, []int{0}, Range{0, st.Size()}, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = readAll(t, rd, 16*1024)
		rd.Close()
		wantErr := badPath + `:20001: column "id": value "seven" is not a BIGINT`
		if err == nil || !strings.HasPrefix(err.Error(), wantErr) {
			t.Errorf("%s: error %v\nwant %s…", name, err, wantErr)
		}

		if compressed.Of(name) != compressed.None {
			raw, _ := os.ReadFile(path)
			if err := os.WriteFile(badPath, raw[:len(raw)/2], 0o644); err != nil {
				t.Fatal(err)
			}
			rd, err := NewReader(badPath, f, []int{0}, Range{0, 1}, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = readAll(t, rd, 16*1024)
			rd.Close()
			if !errors.Is(err, compressed.ErrCorrupt) || !strings.HasPrefix(err.Error(), "jsonscan: "+badPath+": ") {
				t.Errorf("%s truncated: %v", name, err)
			}
		}
	}
}

// TestGlobKeys: a file read with a Format sniffed from another must not
// bring keys the Format lacks on its first line.
func TestGlobKeys(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "a.jsonl")
	os.WriteFile(first, []byte(`{"id": 1, "name": "x"}`+"\n"), 0o644)
	f, err := Sniff(first)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		content, err string
	}{
		{"\n" + `{"name": "y"}` + "\n" + `{"id": 3, "other": 1}` + "\n", ""}, // fewer keys first, and only the first line is checked
		{`{"id": 2, "title": "y"}` + "\n", `b.jsonl:1: key "title" is not a column of the table, whose columns come from ` + first + `; the files of a glob must have the same keys`},
	} {
		path := filepath.Join(dir, "b.jsonl")
		os.WriteFile(path, []byte(c.content), 0o644)
		rd, err := NewReader(path, f, []int{0}, Range{0, int64(len(c.content))}, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = readAll(t, rd, 16*1024)
		rd.Close()
		if c.err == "" && err != nil || c.err != "" && (err == nil || !errors.Is(err, ErrSchema) || err.Error() != filepath.Join(dir, c.err)) {
			t.Errorf("%q: error %v, want %s", c.content, err, c.err)
		}
	}
}
