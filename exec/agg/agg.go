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
// DefaultPassThroughCheckRows, and Partial flushes) and emits groups in
// order of first appearance, env.BatchSize rows at a time — unless it
// spilled, when the order is by spill partition, then first appearance
// within one. Closing it closes input.
//
// With env.Budget set the operator keeps a reservation named "aggregate"
// at its estimated size, checked after every input batch. When the budget
// refuses more, Partial mode flushes its groups as output and starts
// again; Final and Complete modes spill to env.SpillDir (see spill.go)
// and fail with a *exec.MemoryLimitError only when they cannot: a DISTINCT
// aggregate (its filter has no partial state), or one group alone over
// the limit.
func New(input exec.Operator, spec Spec, env exec.Env) (exec.Operator, error) {
	o, err := newOperator(input, spec, env, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	return o, nil
}

// newOperator is New at a spill level; argTypes, when set, gives each
// aggregate's argument types (a spill merge has only their states).
func newOperator(input exec.Operator, spec Spec, env exec.Env, level int, argTypes [][]planner.Type) (*operator, error) {
	o := &operator{input: input, spec: spec, env: env, mem: env.Alloc, batch: env.BatchSize, level: level, argTypes: argTypes}
	if o.mem == nil {
		o.mem = memory.DefaultAllocator
	}
	if o.batch <= 0 {
		o.batch = exec.DefaultBatchSize
	}
	if err := o.init(); err != nil {
		return nil, err
	}
	if env.Budget != nil {
		o.res = env.Budget.NewReservation("aggregate")
		o.res.Resize(o.size())
	}
	return o, nil
}

type phase uint8

const (
	phaseConsume phase = iota // reading input into the table
	phaseEmit                 // emitting the table's groups
	phasePass                 // Partial pass-through: converting input batches
	phaseMerge                // after a spill: merging one partition after the other
	phaseDone
)

type operator struct {
	input  exec.Operator
	spec   Spec
	env    exec.Env
	mem    memory.Allocator
	batch  int
	schema *arrow.Schema
	// states is the schema of keys and partial states: the output in
	// Partial mode, the spill files' in the others.
	states   *arrow.Schema
	keyTypes []arrow.DataType
	argTypes [][]planner.Type // per aggregate, when given to newOperator

	keys  groupKeys
	aggs  []*aggState
	gids  []uint32
	ident []uint32 // 0, 1, 2, … for pass-through conversion

	res   *exec.Reservation // nil without a budget
	level int               // spill recursion: 0 for New's operator, +1 per merge of a partition
	spill *spiller          // from the first spill on
	part  int               // phaseMerge: the partition child merges
	child *operator         // phaseMerge: the merge of partition part

	phase     phase
	pos       int   // next group to emit
	rowsIn    int64 // input rows so far
	flushed   int64 // Partial: groups emitted by flushes so far
	inputDone bool  // input reached EOF
	checked   bool  // the pass-through decision is taken
	pass      bool
	out       arrow.Record
	err       error
	closed    bool
}

// aggState is the runtime side of one Agg.
type aggState struct {
	cols       []int // input columns: Args, or States in Final mode
	acc        accumulator
	newAcc     func() (accumulator, error)
	distinct   *distinctFilter // DISTINCT in Complete mode: its acc is shifted by one group
	parts      []keyPart       // DISTINCT: the arguments' encoding
	row        accumulator     // Partial pass-through: converts raw rows to states
	argv       []arrow.Array   // scratch
	argTypes   []planner.Type
	stateTypes []planner.Type
}

func (o *operator) init() error {
	in := o.input.Schema()
	mode := o.spec.Mode
	switch mode {
	case planner.AggPartial, planner.AggFinal, planner.AggComplete:
	default:
		return fmt.Errorf("internal: unknown mode %q", mode)
	}
	var fields, stateFields []arrow.Field
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
	o.keys, o.keyTypes = keys, keyTypes
	stateFields = append(stateFields, fields...)
	for i, a := range o.spec.Aggs {
		var given []planner.Type
		if o.argTypes != nil {
			given = o.argTypes[i]
		}
		st, outFields, err := o.initAgg(a, in, given)
		if err != nil {
			return fmt.Errorf("%s (aggregate %d): %w", a.Call, i+1, err)
		}
		o.aggs = append(o.aggs, st)
		fields = append(fields, outFields...)
		stateFields = append(stateFields, stateFieldsOf(a.Call, st.stateTypes)...)
	}
	o.schema = arrow.NewSchema(fields, nil)
	o.states = arrow.NewSchema(stateFields, nil)
	return nil
}

// stateFieldsOf names the partial-state columns of call as the planner
// does (lower.go).
func stateFieldsOf(call planner.AggCall, types []planner.Type) []arrow.Field {
	name := call.Name
	if name == "" {
		name = call.String()
	}
	fields := make([]arrow.Field, len(types))
	for j, t := range types {
		fields[j] = arrow.Field{Name: fmt.Sprintf("%s.state%d", name, j), Type: t.Arrow(), Nullable: true}
	}
	return fields
}

func (o *operator) initAgg(a Agg, in *arrow.Schema, given []planner.Type) (*aggState, []arrow.Field, error) {
	decl, ok := planner.Aggregates[a.Call.Func]
	k, ok2 := kernels[a.Call.Func]
	if !ok || !ok2 {
		return nil, nil, fmt.Errorf("not supported: aggregate %q", a.Call.Func)
	}
	mode := o.spec.Mode
	argTypes := a.Call.ArgTypes()
	if given != nil {
		argTypes = given
	}
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
		if !avgWithIncrement(a.Call, argTypes) {
			return nil, nil, fmt.Errorf("internal: result type %s, but %s of %v is %s", a.Call.Type, a.Call.Func, argTypes, result)
		}
		result = a.Call.Type // the session's div_precision_increment
	}
	stateTypes := decl.State(argTypes)
	if a.Call.Distinct && mode != planner.AggComplete {
		return nil, nil, fmt.Errorf("not supported: DISTINCT aggregate in %s mode (plan it in complete mode over rows shuffled on the group key)", mode)
	}
	st := &aggState{argTypes: argTypes, stateTypes: stateTypes}
	newAcc := func() (accumulator, error) { return k.build(a.Call, argTypes, result) }
	st.newAcc = newAcc
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
		st.parts = parts
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
	return st, stateFieldsOf(a.Call, stateTypes), nil
}

func (o *operator) Schema() *arrow.Schema { return o.schema }

func (o *operator) Next(ctx context.Context) (arrow.Record, error) {
	rec, err := o.nextBatch(ctx)
	var mle *exec.MemoryLimitError
	var ie inputError
	switch {
	case err == nil || err == io.EOF:
	case errors.As(err, &ie):
		// The input's error (a reader's, naming file and line) is its own.
		err = ie.err
	case !errors.As(err, &mle): // a memory limit error names the operator itself
		err = fmt.Errorf("aggregate: %w", err)
	}
	return rec, err
}

// inputError carries an error of the operator's input through it
// unchanged: only the aggregate's own errors get its name.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

func fromInput(err error) error {
	if err == io.EOF {
		return err
	}
	return inputError{err}
}

// nextBatch is Next without the error's context, which a spill merge's
// parent adds once.
func (o *operator) nextBatch(ctx context.Context) (arrow.Record, error) {
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
		o.err = err
		if err != io.EOF {
			// Give back the memory and the disk at once: the caller may
			// be slow to Close.
			o.release()
		}
		return nil, err
	}
	o.out = rec
	return rec, nil
}

func (o *operator) next(ctx context.Context) (arrow.Record, error) {
	for {
		switch o.phase {
		case phaseConsume:
			eof, err := o.consume(ctx)
			if err != nil {
				return nil, err
			}
			o.inputDone = eof
			if eof && o.spill != nil {
				if err := o.spillRest(); err != nil {
					return nil, err
				}
				o.phase = phaseMerge
				o.part = -1
				continue
			}
			// Groups can exist without rows (no keys, empty input).
			for _, a := range o.aggs {
				if a.distinct != nil {
					a.acc.resize(o.keys.groups() + 1)
				} else {
					a.acc.resize(o.keys.groups())
				}
			}
			o.startEmit()
			o.phase = phaseEmit
		case phaseEmit:
			if n := o.keys.groups(); o.pos < n {
				to := min(o.pos+o.batch, n)
				rec, err := o.emit(o.pos, to)
				if err != nil {
					return nil, err
				}
				o.pos = to
				o.giveBack()
				return rec, nil
			}
			switch {
			case o.pass:
				o.dropTable()
				o.phase = phasePass
			case !o.inputDone:
				// A Partial flush: the reducers merge what we emitted
				// with whatever comes next.
				o.flushed += int64(o.keys.groups())
				if err := o.resetTable(); err != nil {
					return nil, err
				}
				o.phase = phaseConsume
			default:
				o.dropTable()
				o.phase = phaseDone
			}
		case phasePass:
			in, err := o.input.Next(ctx)
			if err != nil {
				return nil, fromInput(err)
			}
			return o.convert(in)
		case phaseMerge:
			if o.child == nil {
				if o.part = o.spill.next(o.part + 1); o.part < 0 {
					o.phase = phaseDone
					continue
				}
				if err := o.mergePartition(o.part); err != nil {
					return nil, err
				}
			}
			rec, err := o.child.nextBatch(ctx)
			if err == io.EOF {
				o.child.Close()
				o.child = nil
				continue
			}
			if err != nil {
				return nil, err
			}
			return array.NewRecordBatch(o.schema, rec.Columns(), rec.NumRows()), nil
		case phaseDone:
			return nil, io.EOF
		}
	}
}

// consume reads input into the table until EOF (eof), or until Partial mode
// decides to pass rows through or has to flush its groups.
func (o *operator) consume(ctx context.Context) (eof bool, err error) {
	checkRows := int64(o.spec.Knobs.PassThroughCheckRows)
	if checkRows <= 0 {
		checkRows = DefaultPassThroughCheckRows
	}
	partial := o.spec.Mode == planner.AggPartial
	adaptive := partial && !o.spec.Knobs.DisablePassThrough
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		rec, err := o.input.Next(ctx)
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, fromInput(err)
		}
		if err := o.add(rec); err != nil {
			return false, err
		}
		o.rowsIn += rec.NumRows()
		// Once per batch, never per row: the estimate is a sum of
		// capacities.
		if o.res != nil && !o.res.Resize(o.size()) {
			if partial {
				return false, nil
			}
			if err := o.spillTable(); err != nil {
				return false, err
			}
		}
		if adaptive && !o.checked && o.rowsIn >= checkRows {
			o.checked = true
			// Flushed groups count: they are rows the combiner sent on.
			if float64(o.flushed+int64(o.keys.groups())) > PassThroughRatio*float64(o.rowsIn) {
				o.pass = true
				return false, nil
			}
		}
	}
}

// startEmit gives back, once the table takes no more rows, what only
// taking them needed: the key table's slots and probe scratch, DISTINCT
// filters (their accumulators are final), the batch's group ids. This is
// the emission of a Final or Complete operator, of a spill partition's
// merge (an operator of its own), and of Partial's flushes and end.
func (o *operator) startEmit() {
	o.keys.seal()
	for _, a := range o.aggs {
		if a.distinct != nil {
			a.distinct.free()
		}
	}
	o.gids = nil
	if o.res != nil {
		o.res.Resize(o.size()) // a shrink: granted
	}
}

// giveBack returns the memory of the groups emitted so far, [0, o.pos),
// after each batch: whole pages of the key table's per-group arrays and of
// the state arrays, key pages that hold no key still to come (see
// bytesTable.emitted), GROUP_CONCAT lists. The table then shrinks about as
// fast as the output grows, and the reservation with it, instead of the
// two coexisting until the last group is out. Per batch, not per row: the
// work is a few system calls at most, and nothing at all for a table on
// the Go heap (small).
func (o *operator) giveBack() {
	o.keys.emitted(o.pos)
	for _, a := range o.aggs {
		if a.distinct != nil {
			a.acc.emitted(o.pos + 1) // shifted by one, see build
		} else {
			a.acc.emitted(o.pos)
		}
	}
	if o.res != nil {
		o.res.Resize(o.size()) // a shrink: granted
	}
}

// avgWithIncrement reports whether call is an AVG typed for some session
// div_precision_increment other than the default.
func avgWithIncrement(call planner.AggCall, args []planner.Type) bool {
	if call.Func != "avg" {
		return false
	}
	for inc := 0; inc <= planner.MaxDecimalScale; inc++ {
		if t, err := planner.AvgType(args, inc); err == nil && t == call.Type {
			return true
		}
	}
	return false
}

// size estimates the bytes the operator holds.
func (o *operator) size() int64 {
	n := o.keys.size() + capBytes(o.gids)
	for _, a := range o.aggs {
		if a.acc != nil {
			n += a.acc.size()
		}
		if a.distinct != nil {
			n += a.distinct.size()
		}
	}
	if o.spill != nil {
		n += o.spill.size()
	}
	if o.child != nil {
		n += spillReadBuf
	}
	return n
}

// spillTable writes the table to the spill files and starts an empty one,
// or says why it cannot.
func (o *operator) spillTable() error {
	need := o.size() - o.res.Held()
	for _, a := range o.aggs {
		if a.distinct != nil {
			return o.res.Exceeded(need) // the filter has no partial state to write
		}
	}
	if o.keys.groups() <= 1 || o.level >= maxSpillDepth {
		return o.res.Exceeded(need)
	}
	if o.spill == nil {
		o.spill = newSpiller(o.env, o.mem, o.states, o.level)
	}
	if err := o.spill.write(o); err != nil {
		return fmt.Errorf("spilling: %w", err)
	}
	return o.resetTable()
}

// spillRest writes what the table holds at the end of input after earlier
// spills, and finishes the files for merging.
func (o *operator) spillRest() error {
	if o.keys.groups() > 0 {
		if err := o.spill.write(o); err != nil {
			return fmt.Errorf("spilling: %w", err)
		}
	}
	o.dropTable()
	if err := o.spill.finish(); err != nil {
		return fmt.Errorf("spilling: %w", err)
	}
	o.res.Resize(o.size()) // the write buffers are gone: a shrink
	return nil
}

// mergePartition starts the Final merge of spill partition p, one level
// down; it owns the partition's file from then on.
func (o *operator) mergePartition(p int) error {
	src, err := o.spill.open(p)
	if err != nil {
		return fmt.Errorf("spilling: %w", err)
	}
	spec := Spec{Mode: planner.AggFinal, Knobs: o.spec.Knobs}
	for i := range o.keyTypes {
		spec.Groups = append(spec.Groups, i)
	}
	pos := len(o.keyTypes)
	argTypes := make([][]planner.Type, len(o.aggs))
	for i, a := range o.aggs {
		ag := Agg{Call: o.spec.Aggs[i].Call}
		for range a.stateTypes {
			ag.States = append(ag.States, pos)
			pos++
		}
		spec.Aggs = append(spec.Aggs, ag)
		argTypes[i] = a.argTypes
	}
	child, err := newOperator(src, spec, o.env, o.level+1, argTypes)
	if err != nil {
		src.Close()
		return fmt.Errorf("internal: merging a spill partition: %w", err)
	}
	o.child = child
	// The read buffer is ours to count; refused or not, the merge goes
	// ahead (the child reserves its table itself).
	o.res.Resize(o.size())
	return nil
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
	return o.build(o.schema, from, to, o.spec.Mode == planner.AggPartial)
}

// build makes a batch of groups [from, to) of schema: the keys, then each
// aggregate's states or result.
func (o *operator) build(schema *arrow.Schema, from, to int, states bool) (arrow.Record, error) {
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
		if states {
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
	return array.NewRecordBatch(schema, cols, int64(to-from)), nil
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

// resetTable replaces the table and states with empty ones (after a flush
// or a spill), giving the old memory back.
func (o *operator) resetTable() error {
	o.dropTable()
	keys, err := newGroupKeys(o.keyTypes, o.spec.Mode != planner.AggPartial)
	if err != nil {
		return err
	}
	o.keys = keys
	for _, a := range o.aggs {
		if a.acc, err = a.newAcc(); err != nil {
			return err
		}
		if a.parts != nil {
			a.distinct = newDistinctFilter(a.parts)
		}
	}
	o.pos = 0
	if o.res != nil {
		o.res.Resize(o.size()) // a shrink: granted
	}
	return nil
}

// dropTable lets the hash table and states go once they are emitted.
func (o *operator) dropTable() {
	o.keys.free()
	o.keys = &noKeys{}
	for _, a := range o.aggs {
		if a.acc != nil {
			a.acc.free()
			a.acc = nil
		}
		if a.distinct != nil {
			a.distinct.t.free()
			a.distinct = nil
		}
	}
	if o.res != nil {
		o.res.Resize(o.size())
	}
}

// release gives back everything but the input: the table, the
// reservation, a running merge and the spill files.
func (o *operator) release() {
	if o.child != nil {
		o.child.Close()
		o.child = nil
	}
	if o.spill != nil {
		o.spill.remove()
	}
	o.dropTable()
	for _, a := range o.aggs {
		if a.row != nil {
			a.row.free()
			a.row = nil
		}
	}
	if o.res != nil {
		o.res.Free()
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
	o.release()
	return o.input.Close()
}
