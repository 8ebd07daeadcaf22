package quern

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quernsql/quern/planner"
	"github.com/quernsql/quern/sql"
)

// okResult is the result of a statement that returns no rows.
func okResult() *Result { return &Result{RecordReader: emptyResult()} }

func (db *DB) createTable(ctx context.Context, s *sql.CreateTable) (*Result, error) {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if _, err := db.catalog.Table(s.Name); err == nil {
		if s.IfNotExists {
			return okResult(), nil
		}
		return nil, fmt.Errorf("table '%s' already exists", s.Name)
	}
	if s.AsSelect == nil {
		t := db.mem.create(s.Name, s.Columns)
		db.catalog.register(s.Name, t.table())
		return okResult(), nil
	}
	// CREATE TABLE … AS SELECT: the columns are the query's.
	var cols []sql.ColumnDef
	for _, c := range s.AsSelect.Schema() {
		t := c.Type
		if t.Kind == planner.KindNull {
			t = planner.String
		}
		cols = append(cols, sql.ColumnDef{Name: c.Name, Type: t, Declared: t.String()})
	}
	t := db.mem.create(s.Name, cols)
	targets := make([]int, len(cols))
	for i := range targets {
		targets[i] = i
	}
	if err := db.insertQuery(ctx, t, targets, s.AsSelect); err != nil {
		db.mem.drop(t.id)
		return nil, err
	}
	db.catalog.register(s.Name, t.table())
	return okResult(), nil
}

func (db *DB) memTableOf(pt *planner.Table) (*memTable, error) {
	t := db.mem.get(pt.MemID)
	if t == nil {
		return nil, fmt.Errorf("table '%s' no longer exists", pt.Name)
	}
	return t, nil
}

func (db *DB) insert(ctx context.Context, s *sql.Insert) (*Result, error) {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	t, err := db.memTableOf(s.Table)
	if err != nil {
		return nil, err
	}
	if s.Select != nil {
		if err := db.insertQuery(ctx, t, s.Targets, s.Select); err != nil {
			return nil, err
		}
	} else {
		rec, err := db.mem.buildRows(ctx, t, s.Targets, s.Rows)
		if err != nil {
			return nil, err
		}
		db.mem.appendChunk(t, rec)
	}
	db.catalog.register(t.name, t.table())
	return okResult(), nil
}

// insertQuery runs a query and appends its rows to t: all of them, or none
// when any row fails its column's checks.
func (db *DB) insertQuery(ctx context.Context, t *memTable, targets []int, plan planner.Node) error {
	plan, err := db.resolveSubqueries(ctx, plan)
	if err != nil {
		return err
	}
	job, err := db.planJob(plan)
	if err != nil {
		return err
	}
	res, err := db.engine.run(ctx, job)
	if err != nil {
		return err
	}
	defer res.Release()
	var recs []arrow.Record
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	var n int64
	for res.Next() {
		rec, err := db.mem.conform(ctx, t, targets, res.Record(), n)
		if err != nil {
			return err
		}
		n += rec.NumRows()
		recs = append(recs, rec)
	}
	if err := res.Err(); err != nil {
		return err
	}
	for _, r := range recs {
		r.Retain()
		db.mem.appendChunk(t, r)
	}
	return nil
}

func (db *DB) dropTable(s *sql.DropTable) (*Result, error) {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	for _, name := range s.Names {
		t, err := db.catalog.Table(name)
		if err != nil || !db.catalog.isRegistered(name) {
			if s.IfExists {
				continue
			}
			return nil, fmt.Errorf("unknown table '%s'", name)
		}
		db.catalog.drop(name)
		if t.Format == planner.FormatMemory {
			db.mem.drop(t.MemID)
		}
	}
	return okResult(), nil
}

func (db *DB) showTables() *Result {
	return &Result{RecordReader: stringsResult(db, []string{"table"}, func(add func(...string)) {
		for _, n := range db.catalog.TableNames() {
			add(n)
		}
	})}
}

func (db *DB) describe(t *planner.Table) *Result {
	var defs []sql.ColumnDef
	if t.Format == planner.FormatMemory {
		if mt := db.mem.get(t.MemID); mt != nil {
			defs = mt.cols
		}
	}
	return &Result{RecordReader: stringsResult(db, []string{"column", "type", "null", "default"}, func(add func(...string)) {
		for i, c := range t.Schema {
			typ, null, def := c.Type.String(), "YES", "NULL"
			if defs != nil {
				typ = defs[i].Declared
				if defs[i].NotNull {
					null = "NO"
				}
				if defs[i].Default != nil {
					def = defs[i].Default.String()
				}
			}
			add(c.Name, typ, null, def)
		}
	})}
}

// stringsResult builds a small all-VARCHAR result.
func stringsResult(db *DB, names []string, rows func(add func(...string))) array.RecordReader {
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		fields[i] = arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(db.cfg.Allocator, schema)
	defer b.Release()
	rows(func(vals ...string) {
		for i, v := range vals {
			b.Field(i).(*array.StringBuilder).Append(v)
		}
	})
	rec := b.NewRecord()
	defer rec.Release()
	rr, _ := array.NewRecordReader(schema, []arrow.Record{rec})
	return rr
}

func (c *catalog) isRegistered(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.tables[strings.ToLower(name)]
	return ok
}
