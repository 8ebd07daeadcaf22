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

	"github.com/quernsql/quern/exec/compressed"
)

// readWhole reads a whole file with one reader, as a map task reads a
// compressed file.
func readWhole(t *testing.T, path string, f Format, batch int) ([]string, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := NewReader(path, f, allColumns(f), Range{0, st.Size()}, mem, batch)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var rows []string
	for {
		rec, err := rd.Next(context.Background())
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		for i := range int(rec.NumRows()) {
			rows = append(rows, formatRow(rec, i))
		}
	}
}

// TestCompressed: the same table stored plain, gzipped and zstd-compressed
// sniffs to the same Format and reads the same rows; errors count lines of
// the decompressed text.
func TestCompressed(t *testing.T) {
	var b strings.Builder
	b.WriteString("id\tday\tname\n")
	for i := range 30_000 { // more than one read buffer, decompressed
		fmt.Fprintf(&b, "%d\t2024-01-%02d\tn%d \"q\"\n", i, i%28+1, i%97)
	}
	good := b.String()
	bad := good + "x\t2024-01-01\tlast\n"
	dir := t.TempDir()
	var want []string
	var wantFormat Format
	for _, name := range []string{"t.tsv", "t.tsv.gz", "t.tsv.zst"} {
		path := filepath.Join(dir, name)
		if err := compressed.WriteFile(path, []byte(good)); err != nil {
			t.Fatal(err)
		}
		f, err := Sniff(path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Source != path {
			t.Errorf("%s: Source %q", name, f.Source)
		}
		f.Source = ""
		if want == nil {
			wantFormat = f
			if f.Delim != '\t' || !reflect.DeepEqual(f.Types, []Type{BigInt, Date, Varchar}) {
				t.Fatalf("plain format %+v", f)
			}
		} else if !reflect.DeepEqual(f, wantFormat) {
			t.Fatalf("%s: format %+v, plain %+v", name, f, wantFormat)
		}
		for _, batch := range []int{7, 1024} {
			rows, err := readWhole(t, path, f, batch)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if want == nil {
				want = rows
				if len(rows) != 30_000 {
					t.Fatalf("plain: %d rows", len(rows))
				}
			} else if !reflect.DeepEqual(rows, want) {
				t.Fatalf("%s batch %d: rows differ from the plain file's", name, batch)
			}
		}

		badPath := filepath.Join(dir, "bad-"+name)
		if err := compressed.WriteFile(badPath, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		_, err = readWhole(t, badPath, f, 1024)
		wantErr := badPath + `:30002:1: column 1 (id): cannot read "x" as BIGINT; the type was inferred from the first 30000 rows`
		if err == nil || err.Error() != wantErr {
			t.Errorf("%s: error %v\nwant %s", name, err, wantErr)
		}
		if compressed.Of(name) != compressed.None {
			if _, err := NewReader(path, f, nil, Range{10, 20}, nil, 0); err == nil || !strings.HasPrefix(err.Error(), "internal:") {
				t.Errorf("%s: a range inside a compressed file: %v", name, err)
			}
		}
	}
}

// TestCompressedCorrupt: a damaged compressed file fails the sniff or the
// read with an error naming it, never with fewer rows.
func TestCompressedCorrupt(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a,b\n")
	for i := range 50_000 {
		fmt.Fprintf(&b, "%d,%d\n", i, i*7)
	}
	for _, name := range []string{"c.csv.gz", "c.csv.zst"} {
		path := filepath.Join(dir, name)
		if err := compressed.WriteFile(path, []byte(b.String())); err != nil {
			t.Fatal(err)
		}
		f, err := Sniff(path)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(path)
		if err := os.WriteFile(path, raw[:len(raw)*3/4], 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = readWhole(t, path, f, 1024)
		if !errors.Is(err, compressed.ErrCorrupt) || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("%s truncated: %v", name, err)
		}
		if err := os.WriteFile(path, []byte("a,b\n1,2\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Sniff(path); !errors.Is(err, compressed.ErrCorrupt) || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("%s not compressed: sniff error %v", name, err)
		}
	}
}
