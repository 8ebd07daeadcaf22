package agg

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/planner"
)

// Spec describes one hash aggregation over the columns of its input.
type Spec struct {
	// Groups are the input columns that form the group key, in output order.
	Groups []int
	Aggs   []Agg
	Mode   planner.AggMode
	Knobs  TestingKnobs
}

// Agg is one aggregate call of a Spec.
type Agg struct {
	// Call names the function (a key of planner.Aggregates) and carries the
	// argument types (Args[i].Type), DISTINCT, the result type and the
	// output name.
	Call planner.AggCall
	// Args are the input columns of the arguments (Partial and Complete).
	Args []int
	// States are the input columns holding the partial state (Final), in
	// the order of Call.StateTypes().
	States []int
}

// TestingKnobs change behaviour for tests; the zero value is production.
type TestingKnobs struct {
	// DisablePassThrough keeps Partial mode aggregating whatever the
	// reduction it achieves.
	DisablePassThrough bool
	// PassThroughCheckRows overrides DefaultPassThroughCheckRows.
	PassThroughCheckRows int
}

// Partial mode gives up aggregating when, after DefaultPassThroughCheckRows
// input rows, it holds more than PassThroughRatio groups per row: such a
// combiner barely shrinks its output, and passing rows on as states (each
// row its own group) spends no memory or hashing on the map side. The
// decision is taken once; the reduce side's Final mode is unaffected.
//
// The ratio is DataFusion's (0.8), not lower: a key with as many distinct
// values as the check has rows shows ~63% new groups there (1-1/e) and
// still shrinks a map task of millions of rows many times over (h2o's
// id3 and id6: 100K values, 10M rows; at 0.5 the combiner switched off
// and the whole table went through the shuffle).
const (
	DefaultPassThroughCheckRows = 100_000
	PassThroughRatio            = 0.8
)

// New returns the aggregation operator. It reads its whole input before
// producing its first batch (except in Partial pass-through, see
// DefaultPassThroughCheckRows) and emits groups in order of first
// appearance, env.BatchSize rows at a time. Closing it closes input.
func New(input exec.Operator, spec Spec, env exec.Env) (exec.Operator, error) {
	o := &operator{input: input, spec: spec, mem: env.Alloc, batch: env.BatchSize}
	if o.mem == nil {
		o.mem = memory.DefaultAllocator
	}
	if o.batch <= 0 {
		o.batch = exec.DefaultBatchSize
	}
	if err := o.init(); err != nil {
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	return o, nil
}

type phase uint8

const (
	phaseConsume phase = iota // reading input into the table
	phaseEmit                 // emitting the table's groups
	phasePass                 // Partial pass-through: converting input batches
	phaseDone
)

type operator struct {
	input  exec.Operator
	spec   Spec
	mem    memory.Allocator
	batch  int
	schema *arrow.Schema

	keys  groupKeys
	aggs  []*aggState
	gids  []uint32
	ident []uint32 // 0, 1, 2, … for pass-through conversion

	phase   phase
	pos     int // next group to emit
	rowsIn  int64
	checked bool // the pass-through decision is taken
	pass    bool
	out     arrow.Record
	err     error
	closed  bool
}

// aggState is the runtime side of one Agg.
type aggState struct {
	cols     []int // input columns: Args, or States in Final mode
	acc      accumulator
	distinct *distinctFilter // DISTINCT in Complete mode: its acc is shifted by one group
	row      accumulator     // Partial pass-through: converts raw rows to states
	argv     []arrow.Array   // scratch
}

func (o *operator) init() error {
	in := o.input.Schema()
	mode := o.spec.Mode
	switch mode {
	case planner.AggPartial, planner.AggFinal, planner.AggComplete:
	default:
		return fmt.Errorf("internal: unknown mode %q", mode)
	}
	var fields []arrow.Field
	keyTypes := make([]arrow.DataType, len(o.spec.Groups))
	for i, c := range o.spec.Groups {
		if c < 0 || c >= in.NumFields() {
			return fmt.Errorf("internal: group key column %d out of range (input has %d)", c, in.NumFields())
		}
		f := in.Field(c)
		keyTypes[i] = f.Type
		fields = append(fields, arrow.Field{Name: f.Name, Type: f.Type, Nullable: true})
	}
	keys, err := newGroupKeys(keyTypes, mode != planner.AggPartial)
	if err != nil {
		return err
	}
	o.keys = keys
	for i, a := range o.spec.Aggs {
		st, outFields, err := o.initAgg(a, in)
		if err != nil {
			return fmt.Errorf("%s (aggregate %d): %w", a.Call, i+1, err)
		}
		o.aggs = append(o.aggs, st)
		fields = append(fields, outFields...)
	}
	o.schema = arrow.NewSchema(fields, nil)
	return nil
}

func (o *operator) initAgg(a Agg, in *arrow.Schema) (*aggState, []arrow.Field, error) {
	decl, ok := planner.Aggregates[a.Call.Func]
	k, ok2 := kernels[a.Call.Func]
	if !ok || !ok2 {
		return nil, nil, fmt.Errorf("not supported: aggregate %q", a.Call.Func)
	}
	mode := o.spec.Mode
	argTypes := a.Call.ArgTypes()
	if len(argTypes) == 0 && len(a.Args) > 0 && mode != planner.AggFinal {
		for _, c := range a.Args {
			if c < 0 || c >= in.NumFields() {
				return nil, nil, fmt.Errorf("internal: argument column %d out of range", c)
			}
			t, err := planner.TypeFromArrow(in.Field(c).Type)
			if err != nil {
				return nil, nil, err
			}
			argTypes = append(argTypes, t)
		}
	}
	if decl.Arity >= 0 && len(argTypes) != decl.Arity || decl.Arity < 0 && len(argTypes) == 0 {
		return nil, nil, fmt.Errorf("internal: %d arguments", len(argTypes))
	}
	result, err := decl.Result(argTypes)
	if err != nil {
		return nil, nil, err
	}
	if a.Call.Type != (planner.Type{}) && a.Call.Type != result {
		return nil, nil, fmt.Errorf("internal: result type %s, but %s of %v is %s", a.Call.Type, a.Call.Func, argTypes, result)
	}
	stateTypes := decl.State(argTypes)
	if a.Call.Distinct && mode != planner.AggComplete {
		return nil, nil, fmt.Errorf("not supported: DISTINCT aggregate in %s mode (plan it in complete mode over rows shuffled on the group key)", mode)
	}
	st := &aggState{}
	newAcc := func() (accumulator, error) { return k.build(a.Call, argTypes, result) }
	if st.acc, err = newAcc(); err != nil {
		return nil, nil, err
	}
	// Check the input columns against the declared types: the kernels read
	// the Arrow buffers directly and trust them.
	want := argTypes
	st.cols = a.Args
	if mode == planner.AggFinal {
		want, st.cols = stateTypes, a.States
	}
	if len(st.cols) != len(want) {
		return nil, nil, fmt.Errorf("internal: %d input columns for %d expected", len(st.cols), len(want))
	}
	for j, c := range st.cols {
		if c < 0 || c >= in.NumFields() {
			return nil, nil, fmt.Errorf("internal: input column %d out of range", c)
		}
		if got := in.Field(c).Type; !arrow.TypeEqual(got, want[j].Arrow()) {
			return nil, nil, fmt.Errorf("internal: input column %d is %s, want %s (%s)", c, got, want[j].Arrow(), want[j])
		}
	}
	st.argv = make([]arrow.Array, len(st.cols))
	if a.Call.Distinct {
		parts := make([]keyPart, len(argTypes))
		for j, t := range argTypes {
			if parts[j], err = partOf(t.Arrow()); err != nil {
				return nil, nil, err
			}
		}
		st.distinct = newDistinctFilter(parts)
	}
	name := a.Call.Name
	if name == "" {
		name = a.Call.String()
	}
	if mode != planner.AggPartial {
		return st, []arrow.Field{{Name: name, Type: result.Arrow(), Nullable: true}}, nil
	}
	if st.row, err = newAcc(); err != nil {
		return nil, nil, err
	}
	fields := make([]arrow.Field, len(stateTypes))
	for j, t := range stateTypes {
		// The planner names partial states the same way (lower.go).
		fields[j] = arrow.Field{Name: fmt.Sprintf("%s.state%d", name, j), Type: t.Arrow(), Nullable: true}
	}
	return st, fields, nil
}

func (o *operator) Schema() *arrow.Schema { return o.schema }

func (o *operator) Next(ctx context.Context) (arrow.Record, error) {
	if o.out != nil {
		o.out.Release()
		o.out = nil
	}
	if o.err != nil {
		return nil, o.err
	}
	if o.closed {
		return nil, errors.New("internal: aggregate: Next after Close")
	}
	rec, err := o.next(ctx)
	if err != nil {
		if err != io.EOF {
			err = fmt.Errorf("aggregate: %w", err)
		}
		o.err = err
		return nil, err
	}
	o.out = rec
	return rec, nil
}

func (o *operator) next(ctx context.Context) (arrow.Record, error) {
	for {
		switch o.phase {
		case phaseConsume:
			if err := o.consume(ctx); err != nil {
				return nil, err
			}
			// Groups can exist without rows (no keys, empty input).
			for _, a := range o.aggs {
				if a.distinct != nil {
					a.acc.resize(o.keys.groups() + 1)
				} else {
					a.acc.resize(o.keys.groups())
				}
			}
			o.phase = phaseEmit
		case phaseEmit:
			if n := o.keys.groups(); o.pos < n {
				to := min(o.pos+o.batch, n)
				rec, err := o.emit(o.pos, to)
				o.pos = to
				return rec, err
			}
			o.phase = phaseDone
			if o.pass {
				o.phase = phasePass
			}
			o.dropTable()
		case phasePass:
			in, err := o.input.Next(ctx)
			if err != nil {
				return nil, err
			}
			return o.convert(in)
		case phaseDone:
			return nil, io.EOF
		}
	}
}

// consume reads input into the table until EOF or until Partial mode decides
// to pass rows through.
func (o *operator) consume(ctx context.Context) error {
	checkRows := int64(o.spec.Knobs.PassThroughCheckRows)
	if checkRows <= 0 {
		checkRows = DefaultPassThroughCheckRows
	}
	adaptive := o.spec.Mode == planner.AggPartial && !o.spec.Knobs.DisablePassThrough
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := o.input.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := o.add(rec); err != nil {
			return err
		}
		o.rowsIn += rec.NumRows()
		if adaptive && !o.checked && o.rowsIn >= checkRows {
			o.checked = true
			if float64(o.keys.groups()) > PassThroughRatio*float64(o.rowsIn) {
				o.pass = true
				return nil
			}
		}
	}
}

// add folds one input batch into the table: first the group of every row,
// then each aggregate over the whole batch.
func (o *operator) add(rec arrow.Record) error {
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	o.gids = growTo(o.gids[:0], n)
	gids := o.gids[:n]
	keyCols := make([]arrow.Array, len(o.spec.Groups))
	for i, c := range o.spec.Groups {
		keyCols[i] = rec.Column(c)
	}
	o.keys.groupIDs(keyCols, n, gids)
	groups := o.keys.groups()
	for _, a := range o.aggs {
		for j, c := range a.cols {
			a.argv[j] = rec.Column(c)
		}
		var err error
		switch {
		case a.distinct != nil:
			a.acc.resize(groups + 1)
			err = a.acc.update(a.distinct.filter(gids, a.argv), a.argv)
		case o.spec.Mode == planner.AggFinal:
			a.acc.resize(groups)
			err = a.acc.merge(gids, a.argv)
		default:
			a.acc.resize(groups)
			err = a.acc.update(gids, a.argv)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// emit builds the output batch of groups [from, to).
func (o *operator) emit(from, to int) (arrow.Record, error) {
	cols, err := o.keys.emit(o.mem, from, to)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for _, a := range o.aggs {
		f, t := from, to
		if a.distinct != nil {
			f, t = f+1, t+1 // group 0 of a DISTINCT accumulator collects duplicates
		}
		if o.spec.Mode == planner.AggPartial {
			st, err := a.acc.states(o.mem, f, t)
			if err != nil {
				return nil, err
			}
			cols = append(cols, st...)
			continue
		}
		r, err := a.acc.result(o.mem, f, t)
		if err != nil {
			return nil, err
		}
		cols = append(cols, r)
	}
	return array.NewRecordBatch(o.schema, cols, int64(to-from)), nil
}

// convert turns one raw input batch into the Partial output form, each row
// its own group.
func (o *operator) convert(in arrow.Record) (arrow.Record, error) {
	n := int(in.NumRows())
	for len(o.ident) < n {
		o.ident = append(o.ident, uint32(len(o.ident)))
	}
	ident := o.ident[:n]
	cols := make([]arrow.Array, 0, o.schema.NumFields())
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for _, c := range o.spec.Groups {
		col := in.Column(c)
		col.Retain()
		cols = append(cols, col)
	}
	for _, a := range o.aggs {
		for j, c := range a.cols {
			a.argv[j] = in.Column(c)
		}
		a.row.reset()
		a.row.resize(n)
		if err := a.row.update(ident, a.argv); err != nil {
			return nil, err
		}
		st, err := a.row.states(o.mem, 0, n)
		if err != nil {
			return nil, err
		}
		cols = append(cols, st...)
	}
	return array.NewRecordBatch(o.schema, cols, int64(n)), nil
}

// dropTable lets the hash table and states go once they are emitted.
func (o *operator) dropTable() {
	o.keys.free()
	o.keys = &noKeys{}
	for _, a := range o.aggs {
		a.acc = nil
		if a.distinct != nil {
			a.distinct.t.free()
			a.distinct = nil
		}
	}
}

func (o *operator) Close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	if o.out != nil {
		o.out.Release()
		o.out = nil
	}
	o.dropTable()
	return o.input.Close()
}
