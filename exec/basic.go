package exec

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quernsql/quern/exec/expr"
	"github.com/quernsql/quern/planner"
)

// Filter keeps the rows of its input for which a boolean expression is
// true (NULL counts as false).
type Filter struct {
	input Operator
	cond  *expr.Evaluator
	env   Env
	out   arrow.Record
}

// NewFilter compiles cond against the input's schema.
func NewFilter(input Operator, cond *planner.Expr, env Env) (*Filter, error) {
	ev, err := expr.Compile(cond, input.Schema())
	if err != nil {
		return nil, err
	}
	return &Filter{input: input, cond: ev, env: env}, nil
}

func (f *Filter) Schema() *arrow.Schema { return f.input.Schema() }

func (f *Filter) Next(ctx context.Context) (arrow.Record, error) {
	f.release()
	for {
		rec, err := f.input.Next(ctx)
		if err != nil {
			return nil, err
		}
		mask, err := f.cond.Eval(ctx, rec, f.env.alloc())
		if err != nil {
			return nil, err
		}
		out, err := expr.FilterRecord(rec, mask, f.env.alloc())
		mask.Release()
		if err != nil {
			return nil, err
		}
		if out.NumRows() == 0 {
			out.Release()
			continue
		}
		f.out = out
		return out, nil
	}
}

func (f *Filter) release() {
	if f.out != nil {
		f.out.Release()
		f.out = nil
	}
}

func (f *Filter) Close() error {
	f.release()
	return f.input.Close()
}

// Project computes one expression per output column.
type Project struct {
	input  Operator
	exprs  []*expr.Evaluator
	schema *arrow.Schema
	env    Env
	out    arrow.Record
}

// NewProject compiles exprs against the input's schema; out names and
// types the result columns.
func NewProject(input Operator, exprs []*planner.Expr, out planner.Schema, env Env) (*Project, error) {
	p := &Project{input: input, schema: out.Arrow(), env: env}
	for _, e := range exprs {
		ev, err := expr.Compile(e, input.Schema())
		if err != nil {
			return nil, err
		}
		p.exprs = append(p.exprs, ev)
	}
	return p, nil
}

func (p *Project) Schema() *arrow.Schema { return p.schema }

func (p *Project) Next(ctx context.Context) (arrow.Record, error) {
	p.release()
	rec, err := p.input.Next(ctx)
	if err != nil {
		return nil, err
	}
	cols := make([]arrow.Array, len(p.exprs))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, ev := range p.exprs {
		c, err := ev.Eval(ctx, rec, p.env.alloc())
		if err != nil {
			return nil, err
		}
		if !arrow.TypeEqual(c.DataType(), p.schema.Field(i).Type) {
			return nil, fmt.Errorf("internal: column %s evaluated to %s, planned as %s", p.schema.Field(i).Name, c.DataType(), p.schema.Field(i).Type)
		}
		cols[i] = c
	}
	p.out = array.NewRecord(p.schema, cols, rec.NumRows())
	return p.out, nil
}

func (p *Project) release() {
	if p.out != nil {
		p.out.Release()
		p.out = nil
	}
}

func (p *Project) Close() error {
	p.release()
	return p.input.Close()
}

// Values produces n rows with no columns: the input of SELECT without FROM,
// whose projection computes the values.
type Values struct {
	schema *arrow.Schema
	rows   int64
	done   bool
	out    arrow.Record
}

// NewValues returns an operator producing one batch of rows zero-column rows.
func NewValues(rows int64) *Values {
	return &Values{schema: arrow.NewSchema(nil, nil), rows: rows}
}

func (v *Values) Schema() *arrow.Schema { return v.schema }

func (v *Values) Next(ctx context.Context) (arrow.Record, error) {
	if v.done {
		return nil, io.EOF
	}
	v.done = true
	v.out = array.NewRecord(v.schema, nil, v.rows)
	return v.out, nil
}

func (v *Values) Close() error {
	if v.out != nil {
		v.out.Release()
		v.out = nil
	}
	return nil
}

// Empty produces no rows of a schema (the map task of an input with no
// files).
type Empty struct{ schema *arrow.Schema }

// NewEmpty returns an operator with no rows.
func NewEmpty(s *arrow.Schema) *Empty { return &Empty{schema: s} }

func (e *Empty) Schema() *arrow.Schema                      { return e.schema }
func (e *Empty) Next(context.Context) (arrow.Record, error) { return nil, io.EOF }
func (e *Empty) Close() error                               { return nil }

// Rename presents its input under another schema with the same types
// (readers name columns their own way; the plan names them its way).
type Rename struct {
	input  Operator
	schema *arrow.Schema
	out    arrow.Record
}

// NewRename checks that the types match and returns the renaming operator.
func NewRename(input Operator, schema *arrow.Schema) (Operator, error) {
	in := input.Schema()
	if in.NumFields() != schema.NumFields() {
		return nil, fmt.Errorf("internal: reader gives %d columns, plan expects %d", in.NumFields(), schema.NumFields())
	}
	same := true
	for i := range in.Fields() {
		if !arrow.TypeEqual(in.Field(i).Type, schema.Field(i).Type) {
			return nil, fmt.Errorf("internal: reader gives %s as %s, plan expects %s", schema.Field(i).Name, in.Field(i).Type, schema.Field(i).Type)
		}
		same = same && in.Field(i).Name == schema.Field(i).Name
	}
	if same {
		return input, nil
	}
	return &Rename{input: input, schema: schema}, nil
}

func (r *Rename) Schema() *arrow.Schema { return r.schema }

func (r *Rename) Next(ctx context.Context) (arrow.Record, error) {
	if r.out != nil {
		r.out.Release()
		r.out = nil
	}
	rec, err := r.input.Next(ctx)
	if err != nil {
		return nil, err
	}
	r.out = array.NewRecord(r.schema, rec.Columns(), rec.NumRows())
	return r.out, nil
}

func (r *Rename) Close() error {
	if r.out != nil {
		r.out.Release()
		r.out = nil
	}
	return r.input.Close()
}

// Concat reads its inputs one after the other (UNION ALL).
type Concat struct {
	schema *arrow.Schema
	inputs []Operator
	i      int
	out    arrow.Record
}

// NewConcat returns the concatenation of inputs with the same column types,
// presented under schema.
func NewConcat(schema *arrow.Schema, inputs ...Operator) *Concat {
	return &Concat{schema: schema, inputs: inputs}
}

func (c *Concat) Schema() *arrow.Schema { return c.schema }

func (c *Concat) Next(ctx context.Context) (arrow.Record, error) {
	if c.out != nil {
		c.out.Release()
		c.out = nil
	}
	for c.i < len(c.inputs) {
		rec, err := c.inputs[c.i].Next(ctx)
		if err == io.EOF {
			c.i++
			continue
		}
		if err != nil {
			return nil, err
		}
		c.out = array.NewRecord(c.schema, rec.Columns(), rec.NumRows())
		return c.out, nil
	}
	return nil, io.EOF
}

func (c *Concat) Close() error {
	if c.out != nil {
		c.out.Release()
		c.out = nil
	}
	var first error
	for _, in := range c.inputs {
		if err := in.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
