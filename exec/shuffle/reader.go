package shuffle

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

// FetchError reports a map output that cannot be read: missing, truncated
// or corrupt. The scheduler answers it by re-running the map task that wrote
// Path (DESIGN.md §4), so it must stay recognisable with errors.As through
// every wrapping.
type FetchError struct {
	Path string
	Err  error
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("fetch failed: shuffle file %s: %v", e.Path, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// Reader streams the batches of several partition files, one file after
// the other, in the order given.
type Reader struct {
	paths   []string
	schema  *arrow.Schema
	mem     memory.Allocator
	i       int
	file    *os.File
	msgs    *blockMessages // the current file's verified blocks
	rd      *ipc.Reader
	relabel bool         // the file's column names differ from schema's
	out     arrow.Record // the relabelled current batch
	closed  bool

	spool   *Spool
	spooled []arrow.Record // batches of the current spooled partition
	memAt   int
	consume bool     // take partitions out of the spool (NewTakingReader)
	taken   *spooled // the partition taken, whose charge shrinks as it is read
}

// NewSpoolReader is NewReader for partitions that may be held in spool.
func NewSpoolReader(spool *Spool, paths []string, schema *arrow.Schema, env exec.Env) (exec.Operator, error) {
	op, err := NewReader(paths, schema, env)
	if err != nil {
		return nil, err
	}
	op.(*Reader).spool = spool
	return op, nil
}

// NewTakingReader is NewSpoolReader for a partition read exactly once, the
// query's result (see Writer.HoldResult): it takes each spooled partition
// out of the spool and releases every batch, and its charge, as soon as
// the next one is asked for. A partition taken is gone for any later
// reader, who gets a *FetchError as for a lost file.
func NewTakingReader(spool *Spool, paths []string, schema *arrow.Schema, env exec.Env) (exec.Operator, error) {
	op, err := NewSpoolReader(spool, paths, schema, env)
	if err != nil {
		return nil, err
	}
	op.(*Reader).consume = true
	return op, nil
}

// NewReader returns an operator over the batches of paths, each an Arrow IPC
// stream of schema. Files are opened one at a time as the reader reaches
// them; a problem with one is a *FetchError naming it.
func NewReader(paths []string, schema *arrow.Schema, env exec.Env) (exec.Operator, error) {
	mem := env.Alloc
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &Reader{paths: paths, schema: schema, mem: mem}, nil
}

func (r *Reader) Schema() *arrow.Schema { return r.schema }

// Next returns the next batch, owned by the reader until the next call.
func (r *Reader) Next(ctx context.Context) (arrow.Record, error) {
	if r.closed {
		return nil, errors.New("internal: shuffle reader: Next after Close")
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r.spooled != nil {
			if r.consume && r.memAt > 0 {
				r.giveBack(r.memAt - 1)
			}
			if r.memAt < len(r.spooled) {
				rec := r.spooled[r.memAt]
				r.memAt++
				if r.relabel {
					if r.out != nil {
						r.out.Release()
					}
					r.out = array.NewRecordBatch(r.schema, rec.Columns(), rec.NumRows())
					return r.out, nil
				}
				return rec, nil
			}
			r.closeFile()
			r.i++
			continue
		}
		if r.rd == nil {
			if r.i >= len(r.paths) {
				return nil, io.EOF
			}
			if r.consume {
				if p, ok := r.spool.take(r.paths[r.i]); ok {
					r.taken = p
					r.spooled, r.memAt = p.recs, 0
					if r.spooled == nil {
						r.spooled = []arrow.Record{}
					}
					r.relabel = len(p.recs) > 0 && !p.recs[0].Schema().Equal(r.schema)
					continue
				}
			} else if r.spool != nil {
				if recs, ok := r.spool.get(r.paths[r.i]); ok {
					r.spooled, r.memAt = recs, 0
					if r.spooled == nil {
						r.spooled = []arrow.Record{}
					}
					r.relabel = len(recs) > 0 && !recs[0].Schema().Equal(r.schema)
					continue
				}
			}
			if err := r.open(r.paths[r.i]); err != nil {
				return nil, err
			}
		}
		if r.rd.Next() {
			rec := r.rd.RecordBatch()
			if r.relabel {
				// Same columns under the reader's names; no copy.
				if r.out != nil {
					r.out.Release()
				}
				r.out = array.NewRecordBatch(r.schema, rec.Columns(), rec.NumRows())
				return r.out, nil
			}
			return rec, nil
		}
		path := r.paths[r.i]
		err := r.rd.Err()
		if err == nil && !r.msgs.drained() {
			err = errors.New("corrupt: data after the end-of-stream marker")
		}
		r.closeFile()
		if err != nil {
			return nil, &FetchError{Path: path, Err: err}
		}
		r.i++
	}
}

// giveBack releases batch i of a taken partition, and its charge.
func (r *Reader) giveBack(i int) {
	rec := r.spooled[i]
	if rec == nil {
		return
	}
	if r.out != nil {
		r.out.Release() // the relabelled view of rec
		r.out = nil
	}
	n := exec.RecordBytes(rec)
	rec.Release()
	r.spooled[i] = nil
	if res := r.taken.res; res != nil {
		res.Resize(res.Held() - n)
	}
}

func (r *Reader) open(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &FetchError{Path: path, Err: err}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return &FetchError{Path: path, Err: err}
	}
	blocks, err := readTrailer(f, st.Size())
	if err != nil {
		f.Close()
		return &FetchError{Path: path, Err: err}
	}
	msgs := newBlockMessages(bufio.NewReaderSize(f, 64<<10), blocks, r.mem)
	rd, err := ipc.NewReaderFromMessageReader(msgs, ipc.WithAllocator(r.mem)) // rd owns msgs
	if err != nil {
		f.Close()
		return &FetchError{Path: path, Err: err}
	}
	if !sameTypes(rd.Schema(), r.schema) {
		rd.Release()
		f.Close()
		return fmt.Errorf("internal: shuffle file %s has schema %s, want %s", path, rd.Schema(), r.schema)
	}
	r.file, r.rd, r.msgs = f, rd, msgs
	r.relabel = !rd.Schema().Equal(r.schema)
	return nil
}

// sameTypes reports whether two schemas have the same column types; names
// are the planner's business and may differ between what a map stage wrote
// and what its reducer calls the columns.
func sameTypes(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.Fields() {
		if !arrow.TypeEqual(a.Field(i).Type, b.Field(i).Type) {
			return false
		}
	}
	return true
}

func (r *Reader) closeFile() {
	if r.out != nil {
		r.out.Release()
		r.out = nil
	}
	for _, rec := range r.spooled {
		if rec != nil {
			rec.Release()
		}
	}
	r.spooled, r.memAt = nil, 0
	if r.taken != nil {
		r.taken.recs = nil // released above
		r.taken.drop()
		r.taken = nil
	}
	if r.rd != nil {
		r.rd.Release()
		r.rd, r.msgs = nil, nil
	}
	if r.file != nil {
		r.file.Close()
		r.file = nil
	}
}

// Close releases the current batch and file; it may be called more than once.
func (r *Reader) Close() error {
	r.closed = true
	r.closeFile()
	return nil
}
