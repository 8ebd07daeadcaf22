package compressed

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	for _, c := range []struct {
		path  string
		codec Codec
		strip string
	}{
		{"a/x.csv", None, "a/x.csv"},
		{"a/x.csv.gz", Gzip, "a/x.csv"},
		{"x.JSONL.GZ", Gzip, "x.JSONL"},
		{"x.txt.zst", Zstd, "x.txt"},
		{"x.gz.txt", None, "x.gz.txt"},
		{"gz", None, "gz"},
	} {
		if got := Of(c.path); got != c.codec {
			t.Errorf("Of(%q) = %q, want %q", c.path, got, c.codec)
		}
		if got := Strip(c.path); got != c.strip {
			t.Errorf("Strip(%q) = %q, want %q", c.path, got, c.strip)
		}
	}
}

func sample() []byte {
	var b bytes.Buffer
	for i := range 50_000 {
		fmt.Fprintf(&b, "line %d of the sample, with some words\n", i)
	}
	return b.Bytes()
}

// TestReadAt reads every codec at increasing, repeated, skipped and
// earlier offsets and compares with the plain bytes.
func TestReadAt(t *testing.T) {
	data := sample()
	dir := t.TempDir()
	for _, name := range []string{"s.txt", "s.txt.gz", "s.txt.zst"} {
		path := filepath.Join(dir, name)
		if err := WriteFile(path, data); err != nil {
			t.Fatal(err)
		}
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Compressed() != (name != "s.txt") {
			t.Errorf("%s: Compressed() = %v", name, f.Compressed())
		}
		// In order, then a skip forward, then back to the start, then past the end.
		offs := []struct{ off, n int }{{0, 100}, {100, 70_000}, {70_100, 1}, {500_000, 4096}, {10, 10}, {len(data) - 5, 10}, {len(data) + 3, 10}}
		for _, o := range offs {
			buf := make([]byte, o.n)
			n, err := f.ReadAt(buf, int64(o.off))
			want := data[min(o.off, len(data)):min(o.off+o.n, len(data))]
			if !bytes.Equal(buf[:n], want) {
				t.Fatalf("%s: ReadAt(%d, %d) read %d bytes that differ", name, o.off, o.n, n)
			}
			if wantEOF := o.off+o.n > len(data); wantEOF != (err == io.EOF) || (!wantEOF && err != nil) {
				t.Fatalf("%s: ReadAt(%d, %d): %v", name, o.off, o.n, err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal("second Close:", err)
		}
		if _, err := f.ReadAt(make([]byte, 1), 0); err == nil {
			t.Fatal("read after Close succeeded")
		}
	}
}

// TestGzipMembers: concatenated gzip members read as one stream, as gzip
// -d reads them.
func TestGzipMembers(t *testing.T) {
	var b bytes.Buffer
	for _, part := range []string{"one\n", "two\n"} {
		w := gzip.NewWriter(&b)
		w.Write([]byte(part))
		w.Close()
	}
	path := filepath.Join(t.TempDir(), "m.txt.gz")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil || string(got) != "one\ntwo\n" {
		t.Fatalf("read %q, %v", got, err)
	}
}

// TestCorrupt: damaged or truncated data is an ErrCorrupt naming the file
// and the decompressed line where decoding stopped.
func TestCorrupt(t *testing.T) {
	data := sample()
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		damage func([]byte) []byte
		want   string // in the error, after the path
	}{
		{"t.txt.gz", func(b []byte) []byte { return b[:len(b)/2] }, "truncated"},
		{"t.txt.zst", func(b []byte) []byte { return b[:len(b)/2] }, "truncated"},
		{"f.txt.gz", func(b []byte) []byte { b[len(b)/2] ^= 0x55; b[len(b)/2+1] ^= 0x55; return b }, "corrupt compressed data (gzip) at line"},
		{"f.txt.zst", func(b []byte) []byte { b[len(b)/2] ^= 0x55; b[len(b)/2+1] ^= 0x55; return b }, "corrupt compressed data (zstd) at line"},
		{"h.txt.gz", func(b []byte) []byte { return []byte("not gzip at all\n") }, "corrupt compressed data (gzip) at line 1, decompressed byte 0"},
		{"e.txt.gz", func(b []byte) []byte { return nil }, "corrupt compressed data (gzip) at line 1, decompressed byte 0"},
	} {
		path := filepath.Join(dir, c.name)
		if err := WriteFile(path, data); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, c.damage(raw), 0o644); err != nil {
			t.Fatal(err)
		}
		var got []byte
		f, err := Open(path)
		if err == nil {
			got, err = io.ReadAll(f)
			f.Close()
		}
		if err == nil || !errors.Is(err, ErrCorrupt) || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: read %d bytes, error %v; want ErrCorrupt with %q", c.name, len(got), err, c.want)
		}
		// Flipped bits can decode to wrong bytes before a checksum
		// catches them, but a cut file is right up to the cut.
		if c.want == "truncated" && !bytes.HasPrefix(data, got) {
			t.Errorf("%s: the bytes before the damage differ", c.name)
		}
	}
}

// FuzzOpen: any bytes stored as a .gz or .zst file decode or fail with an
// ErrCorrupt naming the file; reading again from the start gives the same
// bytes; never a panic or a hang.
func FuzzOpen(f *testing.F) {
	for _, name := range []string{"s.gz", "s.zst"} {
		path := filepath.Join(f.TempDir(), name)
		if err := WriteFile(path, []byte("a,b\n1,2\nsome words here\n")); err != nil {
			f.Fatal(err)
		}
		raw, _ := os.ReadFile(path)
		f.Add(raw, name == "s.zst")
	}
	f.Fuzz(func(t *testing.T, data []byte, zst bool) {
		path := filepath.Join(t.TempDir(), "f.gz")
		if zst {
			path = filepath.Join(t.TempDir(), "f.zst")
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		file, err := Open(path)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) || !strings.HasPrefix(err.Error(), path+": ") {
				t.Fatalf("Open: %v", err)
			}
			return
		}
		defer file.Close()
		var first []byte
		buf := make([]byte, 1000)
		var off int64
		for off < 1<<22 {
			n, err := file.ReadAt(buf, off)
			first = append(first, buf[:n]...)
			off += int64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				if !errors.Is(err, ErrCorrupt) || !strings.HasPrefix(err.Error(), path+": ") {
					t.Fatalf("ReadAt: %v", err)
				}
				return
			}
		}
		again := make([]byte, len(first))
		n, err := file.ReadAt(again, 0)
		if n != len(first) || !bytes.Equal(again[:n], first) || err != nil && err != io.EOF {
			t.Fatalf("reading again from the start: %d of %d bytes, %v", n, len(first), err)
		}
	})
}
