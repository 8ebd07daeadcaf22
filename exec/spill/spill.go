// Package spill writes and reads the files operators spill to when a
// query's memory budget is reached: one Arrow IPC stream per file, in the
// task's spill directory, every byte written counted as spilled in the
// budget. A file belongs to the operator that made it, which removes it
// (Reader.Close does when asked to, File.Abort always does).
package spill

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
)

// File is a spill file being written.
type File struct {
	path   string
	f      *os.File
	buf    *bufio.Writer
	cnt    countingWriter
	w      *ipc.Writer
	budget *exec.Budget
}

// Create makes a new file named after pattern (os.CreateTemp's) in dir
// (empty: the system temp directory, created if missing) for batches of
// schema, written through a buffer of bufSize bytes.
func Create(dir, pattern string, schema *arrow.Schema, mem memory.Allocator, bufSize int, budget *exec.Budget) (*File, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the spill directory: %w", err)
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("creating a spill file: %w", err)
	}
	s := &File{path: f.Name(), f: f, buf: bufio.NewWriterSize(f, bufSize), budget: budget}
	s.cnt.w = s.buf
	s.w = ipc.NewWriter(&s.cnt, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	return s, nil
}

// Path is the file's name.
func (s *File) Path() string { return s.path }

// Write appends one batch.
func (s *File) Write(rec arrow.Record) error {
	before := s.cnt.n
	err := s.w.Write(rec)
	s.budget.AddSpilled(s.cnt.n - before)
	if err != nil {
		return fmt.Errorf("writing spill file %s: %w", s.path, err)
	}
	return nil
}

// Finish ends the stream and closes the file, which can then be opened;
// on error the file is removed.
func (s *File) Finish() error {
	before := s.cnt.n
	err := s.w.Close()
	s.budget.AddSpilled(s.cnt.n - before)
	if err == nil {
		err = s.buf.Flush()
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(s.path)
		return fmt.Errorf("writing spill file %s: %w", s.path, err)
	}
	return nil
}

// Abort closes and removes the file.
func (s *File) Abort() {
	s.w.Close()
	s.f.Close()
	os.Remove(s.path)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Reader reads a finished spill file back as an operator. Its batches
// carry the schema it was opened with (not the decoded copy), so that an
// operator passing them on returns one schema throughout.
type Reader struct {
	schema *arrow.Schema
	path   string
	remove bool
	f      *os.File
	rd     *ipc.Reader
	out    arrow.Record
}

// Open opens the file at path through a read buffer of bufSize bytes;
// with remove, Close deletes it.
func Open(path string, schema *arrow.Schema, mem memory.Allocator, bufSize int, remove bool) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading a spill file: %w", err)
	}
	rd, err := ipc.NewReader(bufio.NewReaderSize(f, bufSize), ipc.WithAllocator(mem), ipc.WithSchema(schema))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("reading spill file %s: %w", path, err)
	}
	return &Reader{schema: schema, path: path, remove: remove, f: f, rd: rd}, nil
}

func (r *Reader) Schema() *arrow.Schema { return r.schema }

func (r *Reader) Next(ctx context.Context) (arrow.Record, error) {
	if r.out != nil {
		r.out.Release()
		r.out = nil
	}
	if r.rd == nil {
		return nil, errors.New("internal: spill file read after Close")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !r.rd.Next() {
		if err := r.rd.Err(); err != nil {
			return nil, fmt.Errorf("reading spill file %s: %w", r.path, err)
		}
		return nil, io.EOF
	}
	rec := r.rd.RecordBatch()
	r.out = array.NewRecordBatch(r.schema, rec.Columns(), rec.NumRows())
	return r.out, nil
}

// Close releases the reader and, if asked at Open, removes the file; it
// may be called more than once.
func (r *Reader) Close() error {
	if r.out != nil {
		r.out.Release()
		r.out = nil
	}
	if r.rd == nil {
		return nil
	}
	r.rd.Release()
	r.rd = nil
	err := r.f.Close()
	if r.remove {
		os.Remove(r.path)
	}
	return err
}
