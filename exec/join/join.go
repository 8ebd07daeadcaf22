package join

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/exec/expr"
	"github.com/quernsql/quern/exec/gather"
	"github.com/quernsql/quern/planner"
)

// Spec describes a hash join. The output is the probe columns followed by
// the build columns.
type Spec struct {
	ProbeKeys, BuildKeys []int
	// Left keeps probe rows without a match (build columns NULL).
	Left bool
	// Cond, over the output columns, must also hold for a pair to match.
	Cond *planner.Expr
	// Schema is the output schema.
	Schema *arrow.Schema
}

// HashJoin joins a probe input against a build input held in memory.
//
// The build side is charged to the query's memory budget (env.Budget) as
// it is read, batch by batch: its batches, the copy they are concatenated
// into and an estimate of the hash table. It is not spilled: a build side
// over the limit fails the query with an *exec.MemoryLimitError for the
// "hash join build side". The planner keeps build sides small (a broadcast
// join only for a small input; otherwise the reduce-side join, whose
// inputs are hash-partitioned by key, so each task builds on one
// partition); more partitions are the remedy for a partition over the
// limit.
type HashJoin struct {
	probe, build exec.Operator
	spec         Spec
	env          exec.Env
	cond         *expr.Evaluator
	res          *exec.Reservation // nil without a budget
	err          error             // the build's failure, returned again

	built    bool
	buildRec arrow.Record // every build row
	table    map[string][]int32
	ints     *intTable // instead of table, for one integer-like key
	bits     []uint64  // scratch: a batch's keys for ints
	key      []byte
	rows     gather.Rows

	out arrow.Record
}

// New returns the join operator; it reads the build input on first Next.
func New(probe, build exec.Operator, spec Spec, env exec.Env) (*HashJoin, error) {
	if len(spec.ProbeKeys) != len(spec.BuildKeys) {
		return nil, fmt.Errorf("internal: join with %d probe keys and %d build keys", len(spec.ProbeKeys), len(spec.BuildKeys))
	}
	j := &HashJoin{probe: probe, build: build, spec: spec, env: env}
	if spec.Cond != nil {
		ev, err := expr.Compile(spec.Cond, spec.Schema)
		if err != nil {
			return nil, err
		}
		j.cond = ev
	}
	return j, nil
}

func (j *HashJoin) Schema() *arrow.Schema { return j.spec.Schema }

// tableRowBytes estimates what the hash table costs per build row beyond
// its key bytes: a map entry (string and slice headers, bucket overhead at
// Go's load factor) when the key is new, and the row's index in a slice
// that grows by doubling.
const tableRowBytes = 72

// buildTable reads the build input and indexes its rows by key.
func (j *HashJoin) buildTable(ctx context.Context) error {
	var recs []arrow.Record
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	if j.env.Budget != nil && j.res == nil {
		j.res = j.env.Budget.NewReservation("hash join build side")
	}
	for {
		rec, err := j.build.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if j.res != nil {
			// Held, copied by the concatenation below, and indexed.
			need := 2*exec.RecordBytes(rec) + keyBytes(rec, j.spec.BuildKeys) + rec.NumRows()*tableRowBytes
			if !j.res.Grow(need) {
				return j.res.Exceeded(need)
			}
		}
		rec.Retain()
		recs = append(recs, rec)
	}
	schema := j.build.Schema()
	cols := make([]arrow.Array, schema.NumFields())
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	for c := range cols {
		parts := make([]arrow.Array, len(recs))
		for i, r := range recs {
			parts[i] = r.Column(c)
		}
		if len(parts) == 0 {
			cols[c] = array.MakeArrayOfNull(j.env.Alloc, schema.Field(c).Type, 0)
			continue
		}
		a, err := array.Concatenate(parts, j.env.Alloc)
		if err != nil {
			for _, x := range cols[:c] {
				x.Release()
			}
			return err
		}
		cols[c] = a
	}
	j.buildRec = array.NewRecord(schema, cols, n)
	for _, c := range cols {
		c.Release()
	}
	for _, r := range recs {
		r.Release()
	}
	recs = nil
	keys := j.keyCols(j.buildRec, j.spec.BuildKeys)
	if j.intKeys() {
		j.ints = newIntTable(int(n))
		j.bits = keyBits(keys[0], j.bits)
		for i, k := range j.bits {
			if keys[0].IsValid(i) {
				j.ints.add(k, int32(i))
			}
		}
		if j.res != nil {
			if held := exec.RecordBytes(j.buildRec) + j.ints.bytes(); !j.res.Resize(held) {
				return j.res.Exceeded(held - j.res.Held())
			}
		}
		j.built = true
		return nil
	}
	j.table = make(map[string][]int32)
	var keyLen int64
	for i := 0; i < int(n); i++ {
		k, ok := j.encode(keys, i)
		if !ok {
			continue
		}
		rows, seen := j.table[string(k)]
		if !seen {
			keyLen += int64(len(k))
		}
		j.table[string(k)] = append(rows, int32(i))
	}
	if j.res != nil {
		// What is held from now on: the one copy and the table.
		if held := exec.RecordBytes(j.buildRec) + keyLen + n*tableRowBytes; !j.res.Resize(held) {
			return j.res.Exceeded(held - j.res.Held())
		}
	}
	j.built = true
	return nil
}

// intKeys reports whether the join has one key, of the same integer-like
// type on both sides (see intTable).
func (j *HashJoin) intKeys() bool {
	if len(j.spec.BuildKeys) != 1 {
		return false
	}
	b := j.build.Schema().Field(j.spec.BuildKeys[0]).Type
	p := j.probe.Schema().Field(j.spec.ProbeKeys[0]).Type
	return intKeyed(b) && arrow.TypeEqual(b, p)
}

// keyBytes estimates the bytes of rec's encoded keys.
func keyBytes(rec arrow.Record, keys []int) int64 {
	var n int64
	for _, k := range keys {
		n += int64(rec.Column(k).Data().SizeInBytes())
	}
	return n
}

func (j *HashJoin) keyCols(rec arrow.Record, keys []int) []arrow.Array {
	out := make([]arrow.Array, len(keys))
	for i, k := range keys {
		out[i] = rec.Column(k)
	}
	return out
}

// encode writes row i's key as bytes; ok is false when a key is NULL.
func (j *HashJoin) encode(cols []arrow.Array, i int) ([]byte, bool) {
	b := j.key[:0]
	for _, c := range cols {
		if c.IsNull(i) {
			return nil, false
		}
		switch a := c.(type) {
		case *array.Int64:
			b = binary.LittleEndian.AppendUint64(b, uint64(a.Value(i)))
		case *array.Uint64:
			b = binary.LittleEndian.AppendUint64(b, a.Value(i))
		case *array.Float64:
			v := a.Value(i)
			if v == 0 {
				v = 0 // -0 = 0
			}
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		case *array.Date32:
			b = binary.LittleEndian.AppendUint32(b, uint32(a.Value(i)))
		case *array.Timestamp:
			b = binary.LittleEndian.AppendUint64(b, uint64(a.Value(i)))
		case *array.Boolean:
			if a.Value(i) {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		case *array.Decimal128:
			v := a.Value(i)
			b = binary.LittleEndian.AppendUint64(b, v.LowBits())
			b = binary.LittleEndian.AppendUint64(b, uint64(v.HighBits()))
		case *array.String:
			s := a.Value(i)
			b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
		}
	}
	j.key = b
	return b, true
}

func (j *HashJoin) Next(ctx context.Context) (arrow.Record, error) {
	if j.out != nil {
		j.out.Release()
		j.out = nil
	}
	if j.err != nil {
		return nil, j.err
	}
	if !j.built {
		if err := j.buildTable(ctx); err != nil {
			j.err = err
			return nil, err
		}
	}
	for {
		rec, err := j.probe.Next(ctx)
		if err != nil {
			return nil, err
		}
		out, err := j.joinBatch(ctx, rec)
		if err != nil {
			return nil, err
		}
		if out.NumRows() == 0 {
			out.Release()
			continue
		}
		j.out = out
		return out, nil
	}
}

// joinBatch matches one probe batch.
func (j *HashJoin) joinBatch(ctx context.Context, rec arrow.Record) (arrow.Record, error) {
	keys := j.keyCols(rec, j.spec.ProbeKeys)
	var pIdx, bIdx []int32
	n := int(rec.NumRows())
	if j.ints != nil {
		col := keys[0]
		nulls := col.NullN() > 0
		j.bits = keyBits(col, j.bits)
		for i, k := range j.bits {
			if nulls && col.IsNull(i) {
				continue
			}
			for m := j.ints.first(k); m >= 0; m = j.ints.next[m] {
				pIdx = append(pIdx, int32(i))
				bIdx = append(bIdx, m)
			}
		}
	} else {
		for i := 0; i < n; i++ {
			k, ok := j.encode(keys, i)
			if !ok {
				continue
			}
			for _, m := range j.table[string(k)] {
				pIdx = append(pIdx, int32(i))
				bIdx = append(bIdx, m)
			}
		}
	}
	pairs, err := j.assemble(rec, pIdx, bIdx)
	if err != nil {
		return nil, err
	}
	if j.cond != nil {
		mask, err := j.cond.Eval(ctx, pairs, j.env.Alloc)
		if err != nil {
			pairs.Release()
			return nil, err
		}
		kept, err := expr.FilterRecord(pairs, mask, j.env.Alloc)
		if err == nil && j.spec.Left {
			// Which pairs survived, to find the probe rows left unmatched.
			m := mask.(*array.Boolean)
			keep := pIdx[:0:0]
			for i := range pIdx {
				if m.IsValid(i) && m.Value(i) {
					keep = append(keep, pIdx[i])
				}
			}
			pIdx = keep
		}
		mask.Release()
		pairs.Release()
		if err != nil {
			return nil, err
		}
		pairs = kept
	}
	if !j.spec.Left {
		return pairs, nil
	}
	// LEFT: add the probe rows that matched nothing.
	matched := make([]bool, n)
	for _, p := range pIdx {
		matched[p] = true
	}
	var lone []int32
	for i := 0; i < n; i++ {
		if !matched[i] {
			lone = append(lone, int32(i))
		}
	}
	if len(lone) == 0 {
		return pairs, nil
	}
	extra, err := j.assemble(rec, lone, nil)
	if err != nil {
		pairs.Release()
		return nil, err
	}
	defer pairs.Release()
	defer extra.Release()
	return concatRecords(j.env, j.spec.Schema, pairs, extra)
}

// assemble builds output rows from probe rows pIdx and build rows bIdx
// (nil bIdx: NULL build columns), each side gathered column by column in
// one typed loop (gather.Rows.Record).
func (j *HashJoin) assemble(rec arrow.Record, pIdx, bIdx []int32) (arrow.Record, error) {
	probe, err := j.rows.Record(j.env.Alloc, rec, pIdx)
	if err != nil {
		return nil, err
	}
	defer probe.Release()
	cols := append(make([]arrow.Array, 0, j.spec.Schema.NumFields()), probe.Columns()...)
	if bIdx == nil {
		// Unmatched LEFT rows: the build side is all NULL.
		for c := 0; c < int(j.buildRec.NumCols()); c++ {
			a := array.MakeArrayOfNull(j.env.Alloc, j.buildRec.Column(c).DataType(), len(pIdx))
			defer a.Release()
			cols = append(cols, a)
		}
	} else {
		build, err := j.rows.Record(j.env.Alloc, j.buildRec, bIdx)
		if err != nil {
			return nil, err
		}
		defer build.Release()
		cols = append(cols, build.Columns()...)
	}
	return array.NewRecord(j.spec.Schema, cols, int64(len(pIdx))), nil
}

func concatRecords(env exec.Env, schema *arrow.Schema, a, b arrow.Record) (arrow.Record, error) {
	cols := make([]arrow.Array, schema.NumFields())
	for c := range cols {
		x, err := array.Concatenate([]arrow.Array{a.Column(c), b.Column(c)}, env.Alloc)
		if err != nil {
			for _, y := range cols[:c] {
				y.Release()
			}
			return nil, err
		}
		cols[c] = x
	}
	out := array.NewRecord(schema, cols, a.NumRows()+b.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

func (j *HashJoin) Close() error {
	if j.out != nil {
		j.out.Release()
		j.out = nil
	}
	if j.buildRec != nil {
		j.buildRec.Release()
		j.buildRec = nil
	}
	j.table, j.ints = nil, nil
	if j.res != nil {
		j.res.Free()
	}
	err := j.probe.Close()
	if err2 := j.build.Close(); err == nil {
		err = err2
	}
	return err
}
