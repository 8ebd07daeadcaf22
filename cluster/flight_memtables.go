package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/quernsql/quern/exec"
	exectask "github.com/quernsql/quern/exec/task"
	"github.com/quernsql/quern/planner"
)

// In-memory tables (CREATE TABLE / INSERT) live in the coordinator's
// process. A job over one carries the rows its map tasks scan: for every
// split of a memory table, the coordinator reads the rows with the
// projection the task will ask for and ships them, as Arrow IPC, with the
// job; the worker answers the task's Scan from them.

// memKey names the rows one memory scan reads.
func memKey(id string, start, end int64, columns []int) string {
	return fmt.Sprintf("%s:%d:%d:%v", id, start, end, columns)
}

// memRowsOf reads the rows of every memory-table split of job.
func memRowsOf(job *planner.Job, mem exectask.MemTables, env exec.Env) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, st := range job.Stages {
		if st.Kind != planner.StageMap {
			continue
		}
		var scans []*planner.Op
		var walk func(op *planner.Op)
		walk = func(op *planner.Op) {
			if op == nil {
				return
			}
			if op.Kind == planner.OpScan && op.Table != nil && op.Table.Format == planner.FormatMemory {
				scans = append(scans, op)
			}
			walk(op.Input)
			walk(op.Build)
		}
		walk(st.Root)
		for _, sp := range st.Splits {
			if sp.MemID == "" {
				continue
			}
			for _, op := range scans {
				key := memKey(sp.MemID, sp.RowStart, sp.RowEnd, op.Columns)
				if _, done := out[key]; done {
					continue
				}
				if mem == nil {
					return nil, fmt.Errorf("internal: job reads in-memory table %s but the pool has no tables", sp.MemID)
				}
				b, err := encodeRows(mem, sp, op.Columns, env)
				if err != nil {
					return nil, err
				}
				out[key] = b
			}
		}
	}
	return out, nil
}

func encodeRows(mem exectask.MemTables, sp planner.Split, columns []int, env exec.Env) ([]byte, error) {
	op, err := mem.Scan(sp.MemID, sp.RowStart, sp.RowEnd, columns, env)
	if err != nil {
		return nil, err
	}
	defer op.Close()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(op.Schema()), ipc.WithAllocator(env.Alloc))
	for {
		rec, err := op.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			w.Close()
			return nil, err
		}
		if err := w.Write(rec); err != nil {
			w.Close()
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// shippedTables answers a worker's memory scans from the rows that came
// with the jobs. Entries are counted per job, since two jobs may read the
// same rows.
type shippedTables struct {
	mu   sync.Mutex
	rows map[string]*shippedRows
}

type shippedRows struct {
	b    []byte
	refs int
}

func newShippedTables() *shippedTables { return &shippedTables{rows: map[string]*shippedRows{}} }

func (t *shippedTables) add(rows map[string][]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, b := range rows {
		if e := t.rows[k]; e != nil {
			e.refs++
			continue
		}
		t.rows[k] = &shippedRows{b: b, refs: 1}
	}
}

func (t *shippedTables) remove(keys []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if e := t.rows[k]; e != nil {
			if e.refs--; e.refs <= 0 {
				delete(t.rows, k)
			}
		}
	}
}

// Scan implements exectask.MemTables.
func (t *shippedTables) Scan(id string, start, end int64, columns []int, env exec.Env) (exec.Operator, error) {
	t.mu.Lock()
	e := t.rows[memKey(id, start, end, columns)]
	t.mu.Unlock()
	if e == nil {
		return nil, DeterministicError(fmt.Errorf("internal: rows %d-%d of in-memory table %s did not come with the job", start, end, id))
	}
	rd, err := ipc.NewReader(bytes.NewReader(e.b), ipc.WithAllocator(env.Alloc))
	if err != nil {
		return nil, fmt.Errorf("internal: rows of in-memory table %s: %w", id, err)
	}
	return &ipcScan{rd: rd}, nil
}

// ipcScan is an operator over an in-memory Arrow IPC stream.
type ipcScan struct {
	rd *ipc.Reader
}

func (s *ipcScan) Schema() *arrow.Schema { return s.rd.Schema() }

func (s *ipcScan) Next(ctx context.Context) (arrow.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.rd.Next() {
		return s.rd.RecordBatch(), nil
	}
	if err := s.rd.Err(); err != nil {
		return nil, err
	}
	return nil, io.EOF
}

func (s *ipcScan) Close() error {
	if s.rd != nil {
		s.rd.Release()
		s.rd = nil
	}
	return nil
}
