package quern

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quernsql/quern/planner"
	"github.com/quernsql/quern/sql"
)

// RegisterRecords makes an in-memory table of Arrow records under name,
// replacing a table of that name. The table keeps (retains) the records;
// their columns must be of types quern reads (integers, floating point,
// decimal128, strings, booleans, date32, timestamps).
func (db *DB) RegisterRecords(name string, schema *arrow.Schema, recs []arrow.Record) error {
	ps, err := planner.SchemaFromArrow(schema)
	if err != nil {
		return fmt.Errorf("table %s: %w", name, err)
	}
	cols := make([]sql.ColumnDef, len(ps))
	for i, c := range ps {
		cols[i] = sql.ColumnDef{Name: c.Name, Type: c.Type, Declared: c.Type.String()}
	}
	want := ps.Arrow()
	for _, r := range recs {
		if !r.Schema().Equal(want) && !sameTypes(r.Schema(), want) {
			return fmt.Errorf("table %s: record schema %s differs from %s (quern reads integers as BIGINT, floating point as DOUBLE)", name, r.Schema(), want)
		}
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if old, err := db.catalog.Table(name); err == nil && db.catalog.isRegistered(name) {
		db.catalog.drop(name)
		if old.Format == planner.FormatMemory {
			db.mem.drop(old.MemID)
		}
	}
	t := db.mem.create(name, cols)
	for _, r := range recs {
		if r.NumRows() == 0 {
			continue
		}
		rec := array.NewRecord(want, r.Columns(), r.NumRows())
		db.mem.appendChunk(t, rec)
	}
	db.catalog.register(name, t.table())
	return nil
}

// RegisterReader reads an Arrow record reader to the end into an
// in-memory table under name.
func (db *DB) RegisterReader(name string, rr array.RecordReader) error {
	var recs []arrow.Record
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for rr.Next() {
		r := rr.Record()
		r.Retain()
		recs = append(recs, r)
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("table %s: %w", name, err)
	}
	return db.RegisterRecords(name, rr.Schema(), recs)
}

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

// applySet carries out a SET statement's effect on the engine.
func (db *DB) applySet(s *sql.SetVariable) error {
	switch s.Name {
	case "broadcast_join_bytes":
		n, err := strconv.ParseInt(s.Value, 10, 64)
		if err != nil {
			return fmt.Errorf("SET broadcast_join_bytes: %q is not a number of bytes", s.Value)
		}
		db.mu.Lock()
		db.cfg.BroadcastJoinBytes = n
		db.mu.Unlock()
	case "csv_ignore_errors":
		db.catalog.setIgnoreErrors(s.Value == "1")
	case "query_timeout":
		return db.setQueryTimeout(s.Value)
	case "max_result_rows":
		return db.setMaxResultRows(s.Value)
	case "memory_limit":
		n, err := strconv.ParseInt(s.Value, 10, 64)
		if err != nil {
			return fmt.Errorf("SET memory_limit: %q is not a number of bytes", s.Value)
		}
		if n <= 0 {
			n = -1 // no limit
		}
		db.mu.Lock()
		db.cfg.MemoryLimit = n
		db.mu.Unlock()
	}
	return nil
}

// Progress returns the statistics of the jobs running now on the local
// pool: per stage, tasks done and running, attempts, rows and bytes so
// far (nil in cluster-client mode).
func (db *DB) Progress() []JobStats {
	if db.engine == nil || db.engine.pool == nil {
		return nil
	}
	return db.engine.pool.Progress()
}

// inputBytes is what a job's map stages read from files (byte-range
// splits; Parquet row groups are not counted).
func inputBytes(job *planner.Job) int64 {
	var n int64
	for _, st := range job.Stages {
		for _, sp := range st.Splits {
			n += sp.Bytes()
		}
	}
	return n
}

// RegisterTable names a table from any source quern reads: a file path or
// glob (string), an Arrow record reader (read to the end now), or a slice
// of Arrow records with one schema.
func (db *DB) RegisterTable(name string, source any) error {
	switch src := source.(type) {
	case string:
		return db.RegisterFile(name, src)
	case array.RecordReader:
		return db.RegisterReader(name, src)
	case []arrow.Record:
		if len(src) == 0 {
			return fmt.Errorf("table %s: no records, so no schema; use RegisterRecords", name)
		}
		return db.RegisterRecords(name, src[0].Schema(), src)
	}
	return fmt.Errorf("table %s: cannot register a %T (give a path, an array.RecordReader or []arrow.Record)", name, source)
}
