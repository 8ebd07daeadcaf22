package shuffle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/exec/gather"
)

// bufferBudget bounds the rows a Writer holds in memory across all its
// partitions (a partition is flushed at a batch of rows or at its share of
// the budget, but never below 1 MiB, so batches stay worth writing).
const bufferBudget = 64 << 20

// PartitionInfo describes one published partition file.
type PartitionInfo struct {
	Path  string
	Rows  int64
	Bytes int64
}

// Writer cuts a map task's output into R partitions and appends each to its
// own Arrow IPC stream file. Files are written as <path>.tmp and renamed to
// their final names only by Commit, so a reader never sees a partial file
// under a final name; Abort removes everything the writer created. A Writer
// is used by one goroutine.
type Writer struct {
	schema     *arrow.Schema
	keys       []int
	r          int
	mem        memory.Allocator
	flush      int // rows buffered per partition before they are written
	flushBytes int // or bytes: the buffers of all partitions stay near bufferBudget

	parts []*partWriter
	h     hasher
	dst   []int32 // partition of each row of the current batch
	order []int32 // row indices grouped by partition
	start []int   // partition p's rows are order[start[p]:start[p+1]]
	ident []int32 // 0, 1, 2, …
	done  bool    // committed or aborted
	ok    bool    // committed

	dirReady bool
	madeDir  string // the directory, when this writer created it

	spool  *Spool       // where partitions may stay in memory (nil: files only)
	result *exec.Budget // HoldResult's budget, or nil
}

// UseSpool lets the writer keep partitions in s while it has room; call it
// before the first Write.
func (w *Writer) UseSpool(s *Spool) { w.spool = s }

// HoldResult says the writer's output is the query's result, read once by
// the final merge: its partitions stay in the spool (UseSpool) while b
// grants their bytes (without the floors operators get: past b's limit
// they go to their files), instead of within the spool's own budget.
func (w *Writer) HoldResult(b *exec.Budget) { w.result = b }

type partWriter struct {
	path      string
	f         *FileWriter   // the open <path>.tmp
	b         *gather.Batch // the rows buffered, in the writer's allocator
	rows      int64         // written and buffered
	held      int           // rows buffered in b
	heldBytes int           // about how many bytes they take
	out       bool          // published under path

	mem      []arrow.Record // batches kept for the spool (until disk)
	memBytes int64
	res      *exec.Reservation // under HoldResult: what mem is charged to
	disk     bool              // the partition has a file (it never lives in the spool)
}

// size is the partition's bytes: its file's, or what it holds in the spool.
func (pw *partWriter) size() int64 {
	if pw.f != nil {
		return pw.f.Size()
	}
	return pw.memBytes
}

// PartitionPath is the final name of partition p of the output called name.
func PartitionPath(dir, name string, p int) string {
	return filepath.Join(dir, fmt.Sprintf("%s-p%05d.arrow", name, p))
}

// NewWriter prepares r partition files under dir (created if missing) named
// after name (see PartitionPath). Rows go to partition hash(keys) mod r
// (HashPartition); with no keys, all go to partition 0. Nothing is created
// on disk before the first batch is flushed or Commit.
func NewWriter(dir, name string, schema *arrow.Schema, keys []int, r int, env exec.Env) (*Writer, error) {
	if r < 1 {
		return nil, fmt.Errorf("internal: shuffle writer with %d partitions", r)
	}
	if err := CheckKeyTypes(schema, keys); err != nil {
		return nil, err
	}
	if err := gather.Copyable(schema); err != nil {
		return nil, err
	}
	w := &Writer{schema: schema, keys: keys, r: r, mem: env.Alloc, flush: env.BatchSize}
	if w.mem == nil {
		w.mem = memory.DefaultAllocator
	}
	if w.flush <= 0 {
		w.flush = exec.DefaultBatchSize
	}
	w.flushBytes = max(1<<20, bufferBudget/r)
	for p := 0; p < r; p++ {
		w.parts = append(w.parts, &partWriter{path: PartitionPath(dir, name, p)})
	}
	w.start = make([]int, r+1)
	return w, nil
}

// Write appends the rows of rec to their partitions. rec is not retained.
func (w *Writer) Write(rec arrow.Record) error {
	if w.done {
		return errors.New("internal: shuffle Write after Commit or Abort")
	}
	if !sameTypes(rec.Schema(), w.schema) {
		return fmt.Errorf("internal: shuffle writer got schema %s, want %s", rec.Schema(), w.schema)
	}
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	if w.r == 1 || len(w.keys) == 0 {
		return w.writeAll(w.parts[0], rec)
	}
	if cap(w.dst) < n {
		w.dst = make([]int32, n)
		w.order = make([]int32, n)
	}
	dst, order := w.dst[:n], w.order[:n]
	w.h.partition(rec, w.keys, w.r, dst)
	// Counting sort of the row indices by partition.
	start := w.start
	clear(start)
	for _, p := range dst {
		start[p+1]++
	}
	for p := 1; p <= w.r; p++ {
		start[p] += start[p-1]
	}
	for i, p := range dst {
		order[start[p]] = int32(i)
		start[p]++
	}
	for p := w.r; p > 0; p-- {
		start[p] = start[p-1]
	}
	start[0] = 0
	for p, pw := range w.parts {
		rows := order[start[p]:start[p+1]]
		if len(rows) == 0 {
			continue
		}
		if len(rows) == n {
			if err := w.writeAll(pw, rec); err != nil {
				return err
			}
			continue
		}
		if err := w.buffer(pw, rec, rows); err != nil {
			return err
		}
	}
	return nil
}

// writeAll sends a whole batch to one partition: large batches go straight
// to the file without a copy.
func (w *Writer) writeAll(pw *partWriter, rec arrow.Record) error {
	n := int(rec.NumRows())
	if pw.held == 0 && n >= w.flush {
		pw.rows += int64(n)
		return w.emit(pw, rec)
	}
	for len(w.ident) < n {
		w.ident = append(w.ident, int32(len(w.ident)))
	}
	return w.buffer(pw, rec, w.ident[:n])
}

// buffer copies rows of rec into partition pw's buffers and flushes them
// once they hold a batch's worth, so that small slices are coalesced.
func (w *Writer) buffer(pw *partWriter, rec arrow.Record, rows []int32) error {
	if pw.b == nil {
		b, err := gather.NewBatch(w.mem, w.schema)
		if err != nil {
			return err
		}
		pw.b = b
	}
	size, err := pw.b.Append(rec, rows)
	if err != nil {
		return err
	}
	pw.heldBytes += size
	pw.held += len(rows)
	pw.rows += int64(len(rows))
	if pw.held >= w.flush || pw.heldBytes >= w.flushBytes {
		return w.flushPart(pw)
	}
	return nil
}

func (w *Writer) flushPart(pw *partWriter) error {
	if pw.held == 0 {
		return nil
	}
	rec := pw.b.NewRecord()
	defer rec.Release()
	pw.held, pw.heldBytes = 0, 0
	return w.emit(pw, rec)
}

// emit writes one batch to pw's file, opening it on first use, or keeps it
// in the spool while the spool has room.
func (w *Writer) emit(pw *partWriter, rec arrow.Record) error {
	if w.inSpool(pw) {
		size := exec.RecordBytes(rec)
		if w.spoolReserve(pw, size) {
			if !rec.Schema().Equal(w.schema) {
				rec = array.NewRecordBatch(w.schema, rec.Columns(), rec.NumRows())
			} else {
				rec.Retain()
			}
			pw.mem = append(pw.mem, rec)
			pw.memBytes += size
			return nil
		}
		// No room: this partition goes to its file, with what it kept.
		if err := w.open(pw); err != nil {
			return err
		}
		kept := pw.mem
		pw.mem = nil
		w.spoolUnreserve(pw)
		for i, r := range kept {
			err := pw.f.Write(r)
			r.Release()
			if err != nil {
				for _, rest := range kept[i+1:] {
					rest.Release()
				}
				return err
			}
		}
	}
	if err := w.open(pw); err != nil {
		return err
	}
	if !rec.Schema().Equal(w.schema) {
		// Same types under other names (checked by Write): the file
		// carries the writer's names.
		rec = array.NewRecordBatch(w.schema, rec.Columns(), rec.NumRows())
		defer rec.Release()
	}
	return pw.f.Write(rec)
}

// spoolReserve charges n bytes of pw's to the spool, or to the query's
// budget under HoldResult, and reports whether they were granted.
func (w *Writer) spoolReserve(pw *partWriter, n int64) bool {
	if w.result == nil {
		return w.spool.reserve(n)
	}
	if pw.res == nil {
		pw.res = w.result.NewReservation("query result")
	}
	return pw.res.Try(n)
}

// spoolUnreserve gives back what pw's kept batches were charged.
func (w *Writer) spoolUnreserve(pw *partWriter) {
	if pw.res != nil {
		pw.res.Free()
	} else if pw.memBytes > 0 {
		w.spool.unreserve(pw.memBytes)
	}
	pw.memBytes = 0
}

func (w *Writer) open(pw *partWriter) error {
	if pw.f != nil {
		return nil
	}
	pw.disk = true
	if !w.dirReady {
		dir := filepath.Dir(pw.path)
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			w.madeDir = dir
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating shuffle directory: %w", err)
		}
		w.dirReady = true
	}
	f, err := CreateFile(pw.path+".tmp", w.schema, w.mem)
	if err != nil {
		return err
	}
	pw.f = f
	return nil
}

// Commit flushes every partition, closes the files and publishes them under
// their final names (partitions that got no rows are published as empty
// streams, so every reducer finds its file). On error everything written is
// removed.
func (w *Writer) Commit() ([]PartitionInfo, error) {
	if w.done {
		return nil, errors.New("internal: shuffle Commit after Commit or Abort")
	}
	infos := make([]PartitionInfo, len(w.parts))
	for p, pw := range w.parts {
		if err := w.closePart(pw); err != nil {
			w.Abort()
			return nil, err
		}
		infos[p] = PartitionInfo{Path: pw.path, Rows: pw.rows, Bytes: pw.size()}
	}
	for _, pw := range w.parts {
		if w.inSpool(pw) {
			w.spool.publish(pw.path, pw.mem, pw.memBytes, pw.res)
			pw.mem, pw.memBytes, pw.res = nil, 0, nil
			pw.out = true
			continue
		}
		if err := os.Rename(pw.path+".tmp", pw.path); err != nil {
			w.Abort()
			return nil, fmt.Errorf("publishing shuffle file: %w", err)
		}
		pw.out = true
	}
	w.done, w.ok = true, true
	w.release()
	return infos, nil
}

// inSpool reports whether partition pw lives in the spool (it never
// needed its file).
func (w *Writer) inSpool(pw *partWriter) bool { return w.spool != nil && !pw.disk }

func (w *Writer) closePart(pw *partWriter) error {
	if err := w.flushPart(pw); err != nil {
		return err
	}
	if w.inSpool(pw) {
		return nil
	}
	if err := w.open(pw); err != nil {
		return err
	}
	return pw.f.Close()
}

// Abort drops everything: buffered rows, temporary files, and files already
// published by a failed Commit. It may be called more than once, and does
// nothing after a successful Commit (so it can be deferred).
func (w *Writer) Abort() {
	if w.ok {
		return
	}
	w.done = true
	w.release()
	for _, pw := range w.parts {
		for _, r := range pw.mem {
			r.Release()
		}
		pw.mem = nil
		w.spoolUnreserve(pw)
		if pw.out && w.spool != nil && w.spool.Has(pw.path) {
			w.spool.RemovePrefix(pw.path)
			pw.out = false
		}
		if pw.f != nil {
			pw.f.Abort() // closes and removes <path>.tmp
		}
		os.Remove(pw.path + ".tmp")
		if pw.out {
			os.Remove(pw.path)
			pw.out = false
		}
	}
	if w.madeDir != "" {
		os.Remove(w.madeDir) // only if empty: it may be shared with other tasks
	}
}

// release frees the rows buffered.
func (w *Writer) release() {
	for _, pw := range w.parts {
		if pw.b != nil {
			pw.b.Release()
			pw.b = nil
		}
	}
}
