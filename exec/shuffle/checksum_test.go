package shuffle

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/quernsql/quern/exec"
)

// readFile reads every batch of one partition file; the error is whatever
// stopped it (nil at a clean end).
func readFile(path string, schema *arrow.Schema, env exec.Env) (rows []string, err error) {
	rd, err := NewReader([]string{path}, schema, env)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	for {
		rec, err := rd.Next(context.Background())
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, rowsOf(rec)...)
	}
}

// smallPartition writes a partition file of a few batches (strings, NULLs,
// decimals …) and returns its path and rows.
func smallPartition(t *testing.T, env exec.Env, n int) (string, *arrow.Schema, []string) {
	t.Helper()
	rec := testData(env.Alloc, n, 7)
	defer rec.Release()
	w, err := NewWriter(t.TempDir(), "m", rec.Schema(), nil, 1, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	infos, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(infos[0].Path); err != nil || st.Size() != infos[0].Bytes {
		t.Fatalf("PartitionInfo.Bytes = %d, file: %v %v", infos[0].Bytes, st, err)
	}
	return infos[0].Path, rec.Schema(), rowsOf(rec)
}

// wantFetchError fails unless err is a *FetchError naming path.
func wantFetchError(t *testing.T, what string, err error, path string) {
	t.Helper()
	var fe *FetchError
	if !errors.As(fmt.Errorf("reduce: %w", err), &fe) || fe.Path != path {
		t.Fatalf("%s: err = %v, want a *FetchError naming %s", what, err, path)
	}
}

func TestEveryBitFlipIsAFetchError(t *testing.T) {
	mem := checkedMem(t)
	env := exec.Env{Alloc: mem, BatchSize: 4}
	path, schema, want := smallPartition(t, env, 10)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := readFile(path, schema, env); err != nil || !slices.Equal(got, want) {
		t.Fatalf("intact file: %d rows, err %v", len(got), err)
	}
	bad := filepath.Join(t.TempDir(), "flipped.arrow")
	for off := range good {
		b := slices.Clone(good)
		b[off] ^= 1 << (off % 8)
		if err := os.WriteFile(bad, b, 0o644); err != nil {
			t.Fatal(err)
		}
		rows, err := readFile(bad, schema, env)
		wantFetchError(t, fmt.Sprintf("bit flipped at byte %d of %d", off, len(good)), err, bad)
		// Batches before the damaged block may have been read, and they
		// must be the right ones: a reduce task fails as a whole anyway.
		if !slices.Equal(rows, want[:len(rows)]) {
			t.Fatalf("bit flipped at byte %d: rows read before the error differ", off)
		}
	}
}

func TestEveryTruncationIsAFetchError(t *testing.T) {
	mem := checkedMem(t)
	env := exec.Env{Alloc: mem, BatchSize: 3}
	path, schema, _ := smallPartition(t, env, 7)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.arrow")
	for n := 0; n < len(good); n++ {
		if err := os.WriteFile(cut, good[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := readFile(cut, schema, env)
		wantFetchError(t, fmt.Sprintf("cut at %d of %d bytes", n, len(good)), err, cut)
	}
}

func TestUncheckedFilesAreRefused(t *testing.T) {
	mem := checkedMem(t)
	env := exec.Env{Alloc: mem, BatchSize: 8}
	rec := testData(mem, 20, 3)
	defer rec.Release()
	dir := t.TempDir()

	t.Run("a plain Arrow IPC stream", func(t *testing.T) {
		p := filepath.Join(dir, "plain.arrow")
		f, _ := os.Create(p)
		w := ipc.NewWriter(f, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(mem))
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		w.Close()
		f.Close()
		_, err := readFile(p, rec.Schema(), env)
		wantFetchError(t, "plain stream", err, p)
	})
	t.Run("bytes after the end of stream, under valid checksums", func(t *testing.T) {
		p := filepath.Join(dir, "extra.arrow")
		f, _ := os.Create(p)
		buf := bufio.NewWriter(f)
		sum := blockSummer{w: buf}
		w := ipc.NewWriter(&sum, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(mem))
		w.Write(rec)
		w.Close()
		sum.endBlock()
		sum.Write([]byte("smuggled"))
		if err := sum.writeTrailer(); err != nil {
			t.Fatal(err)
		}
		buf.Flush()
		f.Close()
		_, err := readFile(p, rec.Schema(), env)
		wantFetchError(t, "extra bytes", err, p)
	})
}

func TestFileWriter(t *testing.T) {
	mem := checkedMem(t)
	env := exec.Env{Alloc: mem, BatchSize: 8}
	dir := t.TempDir()
	recs := []arrow.Record{testData(mem, 5, 1), testData(mem, 0, 2), testData(mem, 9, 3)}
	var want []string
	for _, r := range recs {
		defer r.Release()
		want = append(want, rowsOf(r)...)
	}
	schema := recs[0].Schema()

	p := filepath.Join(dir, "copy.arrow")
	fw, err := CreateFile(p, schema, mem)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := fw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Size() != fw.Size() {
		t.Fatalf("Size() = %d, file has %d bytes", fw.Size(), st.Size())
	}
	if got, err := readFile(p, schema, env); err != nil || !slices.Equal(got, want) {
		t.Fatalf("read back %d rows (err %v), want %d", len(got), err, len(want))
	}
	if err := fw.Write(recs[0]); err == nil {
		t.Fatal("Write after Close succeeded")
	}

	// Any Arrow reader still sees a stream: the trailer follows its end.
	f, _ := os.Open(p)
	defer f.Close()
	plain, err := ipc.NewReader(f, ipc.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for plain.Next() {
		n += plain.RecordBatch().NumRows()
	}
	if plain.Err() != nil || n != int64(len(want)) {
		t.Fatalf("plain Arrow reader: %d rows, err %v", n, plain.Err())
	}
	plain.Release()

	t.Run("abort removes the file", func(t *testing.T) {
		p := filepath.Join(dir, "aborted.arrow")
		fw, err := CreateFile(p, schema, mem)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(recs[0])
		fw.Abort()
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("aborted file still there: %v", err)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		p := filepath.Join(dir, "empty.arrow")
		fw, err := CreateFile(p, schema, mem)
		if err != nil {
			t.Fatal(err)
		}
		if err := fw.Close(); err != nil {
			t.Fatal(err)
		}
		if got, err := readFile(p, schema, env); err != nil || len(got) != 0 {
			t.Fatalf("empty file: %d rows, err %v", len(got), err)
		}
	})
}
