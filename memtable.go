package quern

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/exec/expr"
	"github.com/quernsql/quern/planner"
	"github.com/quernsql/quern/sql"
)

// memStore holds the rows of in-memory tables (CREATE TABLE / INSERT).
// A table's rows are a list of immutable record chunks: an INSERT appends
// one chunk whole or not at all, and a running job reads the rows that
// existed when it was planned.
type memStore struct {
	alloc memory.Allocator
	mu    sync.Mutex
	seq   int
	byID  map[string]*memTable
}

type memTable struct {
	id     string
	name   string
	cols   []sql.ColumnDef
	schema planner.Schema
	chunks []arrow.Record
	rows   int64
}

func newMemStore(alloc memory.Allocator) *memStore {
	return &memStore{alloc: alloc, byID: map[string]*memTable{}}
}

func (m *memStore) create(name string, cols []sql.ColumnDef) *memTable {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	t := &memTable{id: fmt.Sprintf("%s#%d", strings.ToLower(name), m.seq), name: name, cols: cols}
	for _, c := range cols {
		t.schema = append(t.schema, planner.Column{Name: c.Name, Type: c.Type})
	}
	m.byID[t.id] = t
	return t
}

func (m *memStore) get(id string) *memTable {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byID[id]
}

func (m *memStore) drop(id string) {
	m.mu.Lock()
	t := m.byID[id]
	delete(m.byID, id)
	m.mu.Unlock()
	if t != nil {
		for _, c := range t.chunks {
			c.Release()
		}
	}
}

func (m *memStore) close() {
	m.mu.Lock()
	ids := make([]string, 0, len(m.byID))
	for id := range m.byID {
		ids = append(ids, id)
	}
	m.mu.Unlock()
	for _, id := range ids {
		m.drop(id)
	}
}

// table describes a memory table to the planner as of now.
func (t *memTable) table() *planner.Table {
	return &planner.Table{Name: t.name, Format: planner.FormatMemory, Schema: t.schema, MemID: t.id, MemRows: t.rows}
}

// appendChunk adds rows (already checked) to the table.
func (m *memStore) appendChunk(t *memTable, rec arrow.Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t.chunks = append(t.chunks, rec)
	t.rows += rec.NumRows()
}

// Scan implements task.MemTables: rows [start, end) of a table, projected.
func (m *memStore) Scan(id string, start, end int64, columns []int, env exec.Env) (exec.Operator, error) {
	m.mu.Lock()
	t := m.byID[id]
	var chunks []arrow.Record
	if t != nil {
		chunks = append(chunks, t.chunks...)
		for _, c := range chunks {
			c.Retain()
		}
	}
	m.mu.Unlock()
	if t == nil {
		return nil, fmt.Errorf("table %s was dropped while a query read it", strings.SplitN(id, "#", 2)[0])
	}
	fields := make([]arrow.Field, len(columns))
	as := t.schema.Arrow()
	for i, c := range columns {
		fields[i] = as.Field(c)
	}
	return &memScan{chunks: chunks, start: start, end: end, columns: columns, schema: arrow.NewSchema(fields, nil), batch: env.BatchSize}, nil
}

// memScan reads a row range of a table's chunks as zero-copy slices.
type memScan struct {
	chunks     []arrow.Record
	start, end int64
	columns    []int
	schema     *arrow.Schema
	batch      int
	chunk      int
	base       int64 // row number of chunks[chunk]'s first row
	pos        int64 // next row to read
	out        arrow.Record
}

func (s *memScan) Schema() *arrow.Schema { return s.schema }

func (s *memScan) Next(ctx context.Context) (arrow.Record, error) {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	if s.pos < s.start {
		s.pos = s.start
	}
	for s.chunk < len(s.chunks) && s.pos < s.end {
		c := s.chunks[s.chunk]
		if s.pos >= s.base+c.NumRows() {
			s.base += c.NumRows()
			s.chunk++
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lo := s.pos - s.base
		hi := min(c.NumRows(), s.end-s.base)
		if s.batch > 0 && hi-lo > int64(s.batch) {
			hi = lo + int64(s.batch)
		}
		cols := make([]arrow.Array, len(s.columns))
		for i, ci := range s.columns {
			cols[i] = array.NewSlice(c.Column(ci), lo, hi)
		}
		s.out = array.NewRecord(s.schema, cols, hi-lo)
		for _, a := range cols {
			a.Release()
		}
		s.pos = s.base + hi
		return s.out, nil
	}
	return nil, io.EOF
}

func (s *memScan) Close() error {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	for _, c := range s.chunks {
		c.Release()
	}
	s.chunks = nil
	return nil
}

// buildRows evaluates INSERT … VALUES rows into one record of the table's
// schema, checking every value against its column.
func (m *memStore) buildRows(ctx context.Context, t *memTable, targets []int, rows [][]*planner.Expr) (arrow.Record, error) {
	one := array.NewRecord(arrow.NewSchema(nil, nil), nil, 1)
	defer one.Release()
	cols := make([]arrow.Array, len(t.cols))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	pos := make(map[int]int, len(targets))
	for i, c := range targets {
		pos[c] = i
	}
	for ci, def := range t.cols {
		parts := make([]arrow.Array, 0, len(rows))
		release := func() {
			for _, p := range parts {
				p.Release()
			}
		}
		for ri, row := range rows {
			e := def.Default
			if i, ok := pos[ci]; ok && row[i] != nil {
				e = row[i]
			}
			if e == nil {
				e = planner.NullLit(def.Type)
			}
			ce, err := planner.CastStrict(e, def.Type)
			if err != nil {
				release()
				if (def.Type.Kind == planner.KindInt || def.Type.Kind == planner.KindUint) && e.Type.IsNumeric() {
					return nil, fmt.Errorf("out of range value for column '%s' %s at row %d", def.Name, def.Declared, ri+1)
				}
				return nil, fmt.Errorf("column '%s' at row %d: %w", def.Name, ri+1, err)
			}
			ev, err := expr.Compile(ce, one.Schema())
			if err != nil {
				release()
				return nil, err
			}
			a, err := ev.Eval(ctx, one, m.alloc)
			if err != nil {
				release()
				if (def.Type.Kind == planner.KindInt || def.Type.Kind == planner.KindUint) && e.Type.IsNumeric() {
					return nil, fmt.Errorf("out of range value for column '%s' %s at row %d", def.Name, def.Declared, ri+1)
				}
				return nil, fmt.Errorf("column '%s' at row %d: %w", def.Name, ri+1, err)
			}
			parts = append(parts, a)
		}
		col, err := array.Concatenate(parts, m.alloc)
		release()
		if err != nil {
			return nil, err
		}
		cols[ci] = col
	}
	if err := checkColumns(t.cols, cols, 0); err != nil {
		return nil, err
	}
	rec := array.NewRecord(t.schema.Arrow(), cols, int64(len(rows)))
	return rec, nil
}

// conform casts and checks the columns of a query result for t (INSERT …
// SELECT, CREATE TABLE … AS SELECT); targets maps result columns to table
// columns, the others get their defaults.
func (m *memStore) conform(ctx context.Context, t *memTable, targets []int, rec arrow.Record, firstRow int64) (arrow.Record, error) {
	n := rec.NumRows()
	pos := make(map[int]int, len(targets))
	for i, c := range targets {
		pos[c] = i
	}
	inSchema := rec.Schema()
	cols := make([]arrow.Array, len(t.cols))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for ci, def := range t.cols {
		var e *planner.Expr
		if i, ok := pos[ci]; ok && arrow.TypeEqual(inSchema.Field(i).Type, def.Type.Arrow()) {
			// Already of the column's type: no conversion, no copy.
			col := rec.Column(i)
			col.Retain()
			cols[ci] = col
			continue
		}
		if i, ok := pos[ci]; ok {
			typ, err := planner.TypeFromArrow(inSchema.Field(i).Type)
			if err != nil {
				return nil, err
			}
			e = planner.Col(i, inSchema.Field(i).Name, typ)
		} else if def.Default != nil {
			e = def.Default
		} else {
			e = planner.NullLit(def.Type)
		}
		ce, err := planner.CastStrict(e, def.Type)
		if err != nil {
			return nil, fmt.Errorf("column '%s': %w", def.Name, err)
		}
		ev, err := expr.Compile(ce, inSchema)
		if err != nil {
			return nil, err
		}
		a, err := ev.Eval(ctx, rec, m.alloc)
		if err != nil {
			return nil, err
		}
		cols[ci] = a
	}
	if err := checkColumns(t.cols, cols, firstRow); err != nil {
		return nil, err
	}
	return array.NewRecord(t.schema.Arrow(), cols, n), nil
}

// checkColumns enforces NOT NULL, integer ranges and VARCHAR(n) lengths.
func checkColumns(defs []sql.ColumnDef, cols []arrow.Array, firstRow int64) error {
	for ci, def := range defs {
		a := cols[ci]
		if !def.NotNull && def.Max == 0 && def.UMax == 0 && def.MaxChars == 0 {
			continue // nothing to check (CREATE TABLE … AS SELECT columns)
		}
		for i := 0; i < a.Len(); i++ {
			row := firstRow + int64(i) + 1
			if a.IsNull(i) {
				if def.NotNull {
					return fmt.Errorf("column '%s' cannot be null (row %d)", def.Name, row)
				}
				continue
			}
			switch v := a.(type) {
			case *array.Int64:
				if x := v.Value(i); def.Max != 0 && (x < def.Min || x > def.Max) {
					return fmt.Errorf("out of range value %d for column '%s' %s at row %d", x, def.Name, def.Declared, row)
				}
			case *array.Uint64:
				if x := v.Value(i); def.UMax != 0 && x > def.UMax {
					return fmt.Errorf("out of range value %d for column '%s' %s at row %d", x, def.Name, def.Declared, row)
				}
			case *array.String:
				if def.MaxChars > 0 && utf8.RuneCountInString(v.Value(i)) > def.MaxChars {
					return fmt.Errorf("data too long for column '%s' %s at row %d", def.Name, def.Declared, row)
				}
			}
		}
	}
	return nil
}
