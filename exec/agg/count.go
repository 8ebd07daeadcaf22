package agg

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// countAcc implements COUNT(*) (star) and COUNT(x, …), which counts the rows
// where every argument is non-NULL. Its state is the count itself, merged by
// summing; an empty group counts 0, never NULL.
type countAcc struct {
	star   bool
	counts []int64
	live   []bool // scratch: rows whose arguments are all non-NULL
	done   int    // groups emitted and given back
}

func (a *countAcc) resize(n int) { a.counts = growState(a.counts, n) }
func (a *countAcc) reset()       { a.counts, a.done = resetState(a.counts), 0 }
func (a *countAcc) free()        { bigFree(a.counts); a.counts = nil }
func (a *countAcc) size() int64  { return heldBytes(a.counts, a.done) + capBytes(a.live) }

func (a *countAcc) emitted(n int) {
	bigRelease(a.counts, a.done, n)
	a.done, a.live = n, nil
}

func (a *countAcc) update(gids []uint32, args []arrow.Array) error {
	counts := a.counts
	if a.star {
		for _, g := range gids {
			counts[g]++
		}
		return nil
	}
	var bms []validity
	for _, arg := range args {
		v := validityOf(arg)
		if v.all {
			return nil
		}
		if v.bm != nil {
			bms = append(bms, v)
		}
	}
	switch len(bms) {
	case 0:
		for _, g := range gids {
			counts[g]++
		}
	case 1:
		v := bms[0]
		for i, g := range gids {
			if bitutil.BitIsSet(v.bm, v.off+i) {
				counts[g]++
			}
		}
	default:
		a.live = growTo(a.live[:0], len(gids))
		live := a.live
		for i := range live {
			live[i] = true
		}
		for _, v := range bms {
			for i := range live {
				live[i] = live[i] && bitutil.BitIsSet(v.bm, v.off+i)
			}
		}
		for i, g := range gids {
			if live[i] {
				counts[g]++
			}
		}
	}
	return nil
}

func (a *countAcc) merge(gids []uint32, states []arrow.Array) error {
	v := validityOf(states[0])
	if v.all {
		return nil
	}
	vals := fixedValues[int64](states[0])
	counts := a.counts
	for i, g := range gids {
		if v.bm == nil || bitutil.BitIsSet(v.bm, v.off+i) {
			counts[g] += vals[i]
		}
	}
	return nil
}

func (a *countAcc) states(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	r, err := a.result(mem, from, to)
	if err != nil {
		return nil, err
	}
	return []arrow.Array{r}, nil
}

func (a *countAcc) result(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return buildFixed(mem, arrow.PrimitiveTypes.Int64, a.counts[from:to], nil), nil
}
