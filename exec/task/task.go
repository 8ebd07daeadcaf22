package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/exec/agg"
	"github.com/quernsql/quern/exec/csvscan"
	"github.com/quernsql/quern/exec/join"
	"github.com/quernsql/quern/exec/jsonscan"
	"github.com/quernsql/quern/exec/order"
	"github.com/quernsql/quern/exec/parquetscan"
	"github.com/quernsql/quern/exec/shuffle"
	"github.com/quernsql/quern/exec/textscan"
	"github.com/quernsql/quern/planner"
)

// MemTables gives map tasks the rows of in-memory tables.
type MemTables interface {
	// Scan returns an operator over rows [start, end) of table id,
	// projected to columns.
	Scan(id string, start, end int64, columns []int, env exec.Env) (exec.Operator, error)
}

// Input is what one task reads.
type Input struct {
	// Split is a map task's part of its table.
	Split planner.Split
	// Partitions are the partition files a task reads, by upstream stage:
	// one per task of that stage.
	Partitions map[int][]string
	// Spool, when set, holds partitions in memory instead of files (the
	// local pool), for both this task's input and its output.
	Spool *shuffle.Spool
	// Results, with Spool, is the budget the last stage's output (the
	// query's result) may stay in memory within, for the final merge to
	// take (nil: it goes to files like any partition past the spool).
	Results *exec.Budget

	// skips collects the scans that drop malformed rows (Run reports
	// their count).
	skips *[]skipCounter
	// Access, when set, vets the split's files before they are opened: a
	// worker's allowed directories, enforced whoever planned the task.
	Access PathChecker
}

// PathChecker refuses paths a task may not open (internal/sandbox.Dirs).
type PathChecker interface {
	Check(path string) error
}

// checkSplit applies in.Access to every file a map task reads.
func checkSplit(in Input) error {
	if in.Access == nil {
		return nil
	}
	for _, part := range in.Split.Parts() {
		if err := in.Access.Check(part.Path); err != nil {
			return err
		}
	}
	return nil
}

// Build makes the operator tree of a fragment for one task's input.
func Build(op *planner.Op, in Input, env exec.Env, mem MemTables) (exec.Operator, error) {
	var child exec.Operator
	if op.Input != nil {
		c, err := Build(op.Input, in, env, mem)
		if err != nil {
			return nil, err
		}
		child = c
	}
	o, err := build(op, child, in, env, mem)
	if err != nil && child != nil {
		child.Close()
	}
	return o, err
}

func build(op *planner.Op, child exec.Operator, in Input, env exec.Env, mem MemTables) (exec.Operator, error) {
	schema := op.Schema.Arrow()
	switch op.Kind {
	case planner.OpScan:
		if err := checkSplit(in); err != nil {
			return nil, err
		}
		scan, err := scan(op, in.Split, env, mem)
		if err != nil {
			return nil, err
		}
		if sk, ok := scan.(skipCounter); ok && in.skips != nil {
			*in.skips = append(*in.skips, sk)
		}
		if scan, err = exec.NewRename(scan, schema); err != nil {
			return nil, err
		}
		if op.Cond == nil {
			return scan, nil
		}
		f, err := exec.NewFilter(scan, op.Cond, env)
		if err != nil {
			scan.Close()
			return nil, err
		}
		return f, nil
	case planner.OpWordCount:
		if err := checkSplit(in); err != nil {
			return nil, err
		}
		parts := in.Split.Parts()
		if len(parts) == 0 {
			return exec.NewEmpty(schema), nil
		}
		tp := make([]textscan.Part, len(parts))
		for i, p := range parts {
			tp[i] = textscan.Part{Path: p.Path, Range: textscan.Range{Start: p.Start, End: p.End}}
		}
		c, err := textscan.NewPartsCounter(tp, env.Alloc, env.BatchSize)
		if err != nil {
			return nil, err
		}
		return exec.NewRename(c, schema)
	case planner.OpFilter:
		return exec.NewFilter(child, op.Cond, env)
	case planner.OpProject:
		return exec.NewProject(child, op.Exprs, op.Schema, env)
	case planner.OpAggregate:
		spec, err := aggSpec(op)
		if err != nil {
			return nil, err
		}
		return agg.New(child, spec, env)
	case planner.OpSort:
		return order.NewSort(child, op.Keys, env)
	case planner.OpTopK:
		return order.NewTopK(child, op.Keys, op.Limit, env)
	case planner.OpLimit:
		return order.NewLimit(child, op.Offset, op.Limit, env), nil
	case planner.OpShuffleRead:
		if in.Spool != nil {
			return shuffle.NewSpoolReader(in.Spool, in.Partitions[op.From], schema, env)
		}
		return shuffle.NewReader(in.Partitions[op.From], schema, env)
	case planner.OpHashJoin:
		build, err := Build(op.Build, in, env, mem)
		if err != nil {
			return nil, err
		}
		j, err := join.New(child, build, join.Spec{ProbeKeys: op.ProbeKeys, BuildKeys: op.BuildKeys, Left: op.LeftJoin, Cond: op.Cond, Schema: schema}, env)
		if err != nil {
			build.Close()
			return nil, err
		}
		return j, nil
	case planner.OpUnion:
		second, err := Build(op.Build, in, env, mem)
		if err != nil {
			return nil, err
		}
		return exec.NewConcat(schema, child, second), nil
	case planner.OpValues:
		return exec.NewValues(int64(len(op.Rows))), nil
	}
	return nil, fmt.Errorf("internal: unknown operator %q", op.Kind)
}

// aggSpec reads an aggregate op: its group keys are columns of its input,
// and so are its arguments (the planner projects them below) or, in final
// mode, its states, which follow the groups in order.
func aggSpec(op *planner.Op) (agg.Spec, error) {
	spec := agg.Spec{Mode: op.Mode}
	for _, g := range op.Groups {
		if g.Kind != planner.ExprColumn {
			return spec, fmt.Errorf("internal: group key %s is not a column", g)
		}
		spec.Groups = append(spec.Groups, g.Index)
	}
	next := len(op.Groups)
	for _, c := range op.Aggs {
		a := agg.Agg{Call: c}
		for _, e := range c.Args {
			if e.Kind != planner.ExprColumn {
				return spec, fmt.Errorf("internal: aggregate argument %s is not a column", e)
			}
			a.Args = append(a.Args, e.Index)
		}
		if op.Mode == planner.AggFinal {
			for range c.StateTypes() {
				a.States = append(a.States, next)
				next++
			}
		}
		spec.Aggs = append(spec.Aggs, a)
	}
	return spec, nil
}

// scan opens the readers of a map task's split: one reader over one part of
// a file, or, for a split of several files, an operator that reads them one
// after another (see partsScan).
func scan(op *planner.Op, sp planner.Split, env exec.Env, mem MemTables) (exec.Operator, error) {
	t := op.Table
	if t.Format == planner.FormatMemory {
		return mem.Scan(sp.MemID, sp.RowStart, sp.RowEnd, op.Columns, env)
	}
	parts := sp.Parts()
	if len(parts) == 0 {
		return exec.NewEmpty(op.Schema.Arrow()), nil
	}
	open, err := partOpener(op, env)
	if err != nil {
		return nil, err
	}
	if len(parts) == 1 {
		return open(parts[0])
	}
	return newPartsScan(parts, open)
}

// partOpener decodes a table's reader options once and returns what opens
// the reader of one file part.
func partOpener(op *planner.Op, env exec.Env) (func(planner.FileRange) (exec.Operator, error), error) {
	t := op.Table
	switch t.Format {
	case planner.FormatText:
		return func(p planner.FileRange) (exec.Operator, error) {
			r, err := textscan.NewReader(p.Path, textscan.Range{Start: p.Start, End: p.End}, env.Alloc, env.BatchSize)
			if err != nil {
				return nil, err
			}
			if len(op.Columns) == 0 {
				return newCountOnly(r), nil
			}
			return r, nil
		}, nil
	case planner.FormatCSV:
		var f csvscan.Format
		if err := json.Unmarshal(t.Options, &f); err != nil {
			return nil, fmt.Errorf("internal: CSV options of %s: %w", t.Name, err)
		}
		return func(p planner.FileRange) (exec.Operator, error) {
			return csvscan.NewReader(p.Path, f, op.Columns, csvscan.Range{Start: p.Start, End: p.End}, env.Alloc, env.BatchSize)
		}, nil
	case planner.FormatJSONL:
		var f jsonscan.Format
		if err := json.Unmarshal(t.Options, &f); err != nil {
			return nil, fmt.Errorf("internal: JSON options of %s: %w", t.Name, err)
		}
		return func(p planner.FileRange) (exec.Operator, error) {
			return jsonscan.NewReader(p.Path, f, op.Columns, jsonscan.Range{Start: p.Start, End: p.End}, env.Alloc, env.BatchSize)
		}, nil
	case planner.FormatParquet:
		want := t.Schema.Arrow()
		return func(p planner.FileRange) (exec.Operator, error) {
			if len(p.RowGroups) == 0 {
				// A whole file the catalog did not inspect: its columns
				// are checked against the table's.
				return parquetscan.NewFileReader(p.Path, want, op.Columns, env.Alloc, env.BatchSize)
			}
			return parquetscan.NewReader(p.Path, p.RowGroups, op.Columns, env.Alloc, env.BatchSize)
		}, nil
	}
	return nil, fmt.Errorf("internal: no reader for format %q", t.Format)
}

// Output is what a committed task wrote.
type Output struct {
	Partitions []shuffle.PartitionInfo
	Rows       int64
	Bytes      int64
	// SkippedRows are the malformed input rows the task's readers dropped
	// (CSV read with ignore_errors).
	SkippedRows int64
}

// Run runs one task of stage: it builds the stage's operators over in and
// writes their output into dir, cut into the stage's partitions (one
// partition when the output goes to the final merge).
func Run(ctx context.Context, stage *planner.Stage, in Input, dir string, env exec.Env, mem MemTables) (out Output, err error) {
	pool := newBufferPool(env.Alloc)
	defer pool.close()
	env.Alloc = pool
	var skips []skipCounter
	in.skips = &skips
	root, err := Build(stage.Root, in, env, mem)
	if err != nil {
		return out, err
	}
	defer root.Close()
	keys, r := []int(nil), 1
	if stage.Partition != nil {
		keys, r = stage.Partition.Keys, stage.Partition.R
	}
	w, err := shuffle.NewWriter(dir, "part", root.Schema(), keys, r, env)
	if err != nil {
		return out, err
	}
	if in.Spool != nil {
		w.UseSpool(in.Spool)
		if stage.Partition == nil && in.Results != nil {
			w.HoldResult(in.Results)
		}
	}
	committed := false
	defer func() {
		if !committed {
			w.Abort()
		}
	}()
	for {
		rec, err := root.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, err
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if rec.NumRows() == 0 {
			continue
		}
		if err := w.Write(rec); err != nil {
			return out, err
		}
	}
	parts, err := w.Commit()
	if err != nil {
		return out, err
	}
	committed = true
	out.Partitions = parts
	for _, sk := range skips {
		n, _ := sk.Skipped()
		out.SkippedRows += n
	}
	for _, p := range parts {
		out.Rows += p.Rows
		out.Bytes += p.Bytes
	}
	return out, nil
}

// countOnly drops every column but keeps row counts (COUNT(*) over words).
type countOnly struct {
	input  exec.Operator
	schema *arrow.Schema
	out    arrow.Record
}

func newCountOnly(in exec.Operator) exec.Operator {
	return &countOnly{input: in, schema: arrow.NewSchema(nil, nil)}
}

func (c *countOnly) Schema() *arrow.Schema { return c.schema }
func (c *countOnly) Next(ctx context.Context) (arrow.Record, error) {
	if c.out != nil {
		c.out.Release()
		c.out = nil
	}
	rec, err := c.input.Next(ctx)
	if err != nil {
		return nil, err
	}
	c.out = arrowRecord(c.schema, rec.NumRows())
	return c.out, nil
}
func (c *countOnly) Close() error {
	if c.out != nil {
		c.out.Release()
		c.out = nil
	}
	return c.input.Close()
}

func arrowRecord(s *arrow.Schema, rows int64) arrow.Record {
	return array.NewRecord(s, nil, rows)
}
