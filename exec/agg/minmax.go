package agg

import (
	"bytes"
	"cmp"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

// MIN and MAX keep the best value so far; their state is that value, so
// merging partial states is the same loop as updating from raw rows.

func newMinMax(arg, result planner.Type, isMax bool) (accumulator, error) {
	switch arg.Kind {
	case planner.KindInt, planner.KindDatetime:
		return &mmFixed[int64]{dt: arg.Arrow(), max: isMax}, nil
	case planner.KindUint:
		return &mmFixed[uint64]{dt: arg.Arrow(), max: isMax}, nil
	case planner.KindFloat:
		return &mmFixed[float64]{dt: arg.Arrow(), max: isMax}, nil
	case planner.KindDate:
		return &mmFixed[int32]{dt: arg.Arrow(), max: isMax}, nil
	case planner.KindDecimal:
		return &mmDecimal{dt: arg.Arrow(), max: isMax}, nil
	case planner.KindBool:
		return &mmBool{max: isMax}, nil
	case planner.KindString:
		return &mmString{max: isMax}, nil
	case planner.KindNull:
		return &mmNull{out: result.Arrow()}, nil
	}
	name := "MIN"
	if isMax {
		name = "MAX"
	}
	return nil, errArgType(name, arg)
}

// mmFixed handles every argument held as a plain number: BIGINT, DATETIME
// (µs), BIGINT UNSIGNED, DOUBLE and DATE (days).
type mmFixed[T cmp.Ordered] struct {
	dt  arrow.DataType
	max bool
	groupVals[T]
}

func (a *mmFixed[T]) update(gids []uint32, args []arrow.Array) error {
	col := args[0]
	v := validityOf(col)
	if v.all {
		return nil
	}
	xs := fixedValues[T](col)
	vals, seen := a.vals, a.seen
	if a.max {
		for i, g := range gids {
			if v.bm != nil && !bitutil.BitIsSet(v.bm, v.off+i) {
				continue
			}
			if x := xs[i]; !seen[g] || x > vals[g] {
				vals[g] = x
				seen[g] = true
			}
		}
		return nil
	}
	for i, g := range gids {
		if v.bm != nil && !bitutil.BitIsSet(v.bm, v.off+i) {
			continue
		}
		if x := xs[i]; !seen[g] || x < vals[g] {
			vals[g] = x
			seen[g] = true
		}
	}
	return nil
}

func (a *mmFixed[T]) merge(gids []uint32, states []arrow.Array) error {
	return a.update(gids, states)
}

func (a *mmFixed[T]) states(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	r, err := a.result(mem, from, to)
	return []arrow.Array{r}, err
}

func (a *mmFixed[T]) result(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return buildFixed(mem, a.dt, a.vals[from:to], a.seen[from:to]), nil
}

// mmDecimal handles DECIMAL arguments (all of one scale, so the unscaled
// integers compare directly).
type mmDecimal struct {
	dt  arrow.DataType
	max bool
	groupVals[decimal128.Num]
}

func (a *mmDecimal) update(gids []uint32, args []arrow.Array) error {
	col := args[0]
	v := validityOf(col)
	if v.all {
		return nil
	}
	xs := fixedValues[decimal128.Num](col)
	want := -1
	if a.max {
		want = 1
	}
	vals, seen := a.vals, a.seen
	for i, g := range gids {
		if v.bm != nil && !bitutil.BitIsSet(v.bm, v.off+i) {
			continue
		}
		if x := xs[i]; !seen[g] || x.Cmp(vals[g]) == want {
			vals[g] = x
			seen[g] = true
		}
	}
	return nil
}

func (a *mmDecimal) merge(gids []uint32, states []arrow.Array) error {
	return a.update(gids, states)
}

func (a *mmDecimal) states(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	r, err := a.result(mem, from, to)
	return []arrow.Array{r}, err
}

func (a *mmDecimal) result(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return buildFixed(mem, a.dt, a.vals[from:to], a.seen[from:to]), nil
}

// mmBool handles BOOLEAN: MIN is AND, MAX is OR over the non-NULL values.
type mmBool struct {
	max bool
	groupVals[bool]
}

func (a *mmBool) update(gids []uint32, args []arrow.Array) error {
	col := args[0]
	v := validityOf(col)
	if v.all {
		return nil
	}
	bm, off := boolBits(col)
	vals, seen := a.vals, a.seen
	for i, g := range gids {
		if v.bm != nil && !bitutil.BitIsSet(v.bm, v.off+i) {
			continue
		}
		x := bitutil.BitIsSet(bm, off+i)
		if !seen[g] {
			vals[g], seen[g] = x, true
		} else if a.max {
			vals[g] = vals[g] || x
		} else {
			vals[g] = vals[g] && x
		}
	}
	return nil
}

func (a *mmBool) merge(gids []uint32, states []arrow.Array) error {
	return a.update(gids, states)
}

func (a *mmBool) states(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	r, err := a.result(mem, from, to)
	return []arrow.Array{r}, err
}

func (a *mmBool) result(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return buildBool(mem, a.vals[from:to], a.seen[from:to]), nil
}

// mmString handles strings, compared byte-wise. The current best of every
// group lives in one arena: a shorter-or-equal replacement is written in
// place, a longer one appended; when more than half the arena is dead space
// it is compacted. The arena is not in group order, so while the groups are
// emitted it stays whole (only the per-group arrays shrink).
type mmString struct {
	max   bool
	arena []byte
	off   []int
	ln    []int32 // length of the current value
	room  []int32 // bytes reserved at off
	seen  []bool
	waste int
	done  int // groups emitted and given back
}

func (a *mmString) resize(n int) {
	a.off = growState(a.off, n)
	a.ln = growState(a.ln, n)
	a.room = growState(a.room, n)
	a.seen = growState(a.seen, n)
}

func (a *mmString) reset() {
	a.arena = a.arena[:0]
	a.off = resetState(a.off)
	a.ln = resetState(a.ln)
	a.room = resetState(a.room)
	a.seen = resetState(a.seen)
	a.waste, a.done = 0, 0
}

func (a *mmString) emitted(n int) {
	bigRelease(a.off, a.done, n)
	bigRelease(a.ln, a.done, n)
	bigRelease(a.room, a.done, n)
	bigRelease(a.seen, a.done, n)
	a.done = n
}

func (a *mmString) free() {
	bigFree(a.off)
	bigFree(a.ln)
	bigFree(a.room)
	bigFree(a.seen)
	a.arena, a.off, a.ln, a.room, a.seen = nil, nil, nil, nil, nil
}

func (a *mmString) size() int64 {
	return capBytes(a.arena) + heldBytes(a.off, a.done) + heldBytes(a.ln, a.done) + heldBytes(a.room, a.done) + heldBytes(a.seen, a.done)
}

func (a *mmString) value(g int) []byte {
	return a.arena[a.off[g] : a.off[g]+int(a.ln[g])]
}

func (a *mmString) set(g int, x []byte) {
	if int(a.room[g]) >= len(x) {
		copy(a.arena[a.off[g]:], x)
		a.ln[g] = int32(len(x))
		return
	}
	a.waste += int(a.room[g])
	a.off[g] = len(a.arena)
	a.arena = append(a.arena, x...)
	a.ln[g] = int32(len(x))
	a.room[g] = int32(len(x))
}

func (a *mmString) update(gids []uint32, args []arrow.Array) error {
	col := args[0]
	v := validityOf(col)
	if v.all {
		return nil
	}
	offs, data := stringParts(col)
	want := -1
	if a.max {
		want = 1
	}
	for i, g := range gids {
		if v.bm != nil && !bitutil.BitIsSet(v.bm, v.off+i) {
			continue
		}
		x := data[offs[i]:offs[i+1]]
		if len(x) > 1<<31-1 {
			return fmt.Errorf("not supported: a string of %d bytes in MIN/MAX", len(x))
		}
		if !a.seen[g] {
			a.set(int(g), x)
			a.seen[g] = true
		} else if bytes.Compare(x, a.value(int(g))) == want {
			a.set(int(g), x)
		}
	}
	if a.waste > 1<<20 && a.waste > len(a.arena)/2 {
		a.compact()
	}
	return nil
}

func (a *mmString) compact() {
	arena := make([]byte, 0, len(a.arena)-a.waste)
	for g := range a.off {
		if !a.seen[g] {
			continue
		}
		x := a.value(g)
		a.off[g] = len(arena)
		a.room[g] = int32(len(x))
		arena = append(arena, x...)
	}
	a.arena = arena
	a.waste = 0
}

func (a *mmString) merge(gids []uint32, states []arrow.Array) error {
	return a.update(gids, states)
}

func (a *mmString) states(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	r, err := a.result(mem, from, to)
	if err != nil {
		return nil, err
	}
	return []arrow.Array{r}, nil
}

func (a *mmString) result(mem memory.Allocator, from, to int) (arrow.Array, error) {
	total := 0
	for g := from; g < to; g++ {
		if a.seen[g] {
			total += int(a.ln[g])
		}
	}
	b, err := newStringBuilder(mem, to-from, total)
	if err != nil {
		return nil, err
	}
	for g := from; g < to; g++ {
		if a.seen[g] {
			b.append(a.value(g), true)
		} else {
			b.append(nil, false)
		}
	}
	return b.finish(mem), nil
}

// mmNull handles MIN/MAX of a bare NULL: the state is the Null type and the
// result NULL of the declared result type.
type mmNull struct {
	out arrow.DataType
	n   int
}

func (a *mmNull) resize(n int) { a.n = max(a.n, n) }
func (a *mmNull) reset()       { a.n = 0 }
func (a *mmNull) emitted(int)  {}
func (a *mmNull) free()        {}
func (a *mmNull) size() int64  { return 0 }

func (a *mmNull) update([]uint32, []arrow.Array) error { return nil }
func (a *mmNull) merge([]uint32, []arrow.Array) error  { return nil }

func (a *mmNull) states(_ memory.Allocator, from, to int) ([]arrow.Array, error) {
	return []arrow.Array{nullsOf(nil, arrow.Null, to-from)}, nil
}

func (a *mmNull) result(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return nullsOf(mem, a.out, to-from), nil
}
