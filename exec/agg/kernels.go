package agg

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

// ErrOutOfRange marks a SUM or AVG whose value does not fit its DECIMAL
// result type (38 digits).
var ErrOutOfRange = errors.New("out of range")

// accumulator holds the state of one aggregate call for every group, in
// arrays indexed by group id. Every method works on a whole batch, so the
// per-row work is a typed loop inside one call.
type accumulator interface {
	// resize makes room for groups [0, n); new groups start empty.
	resize(n int)
	// update folds the argument columns of a batch into the groups named by
	// gids (Partial and Complete mode).
	update(gids []uint32, args []arrow.Array) error
	// merge folds partial-state columns into the groups named by gids
	// (Final mode).
	merge(gids []uint32, states []arrow.Array) error
	// states emits the partial-state columns of groups [from, to), typed as
	// planner.Aggregates declares.
	states(mem memory.Allocator, from, to int) ([]arrow.Array, error)
	// result emits the finished values of groups [from, to).
	result(mem memory.Allocator, from, to int) (arrow.Array, error)
	// emitted says that groups [0, n) have been emitted, n never less than
	// in the call before: their state goes back (bigRelease; a Go heap
	// value per group is dropped), and so does the scratch of update and
	// merge. After the first call only states, result, emitted, free and
	// size may be called, states and result for groups n and up.
	emitted(n int)
	// reset forgets every group and keeps the capacity.
	reset()
	// free gives back the state arrays (big ones are mapped outside the
	// Go heap, see growState); nothing may be called after it.
	free()
	// size estimates the bytes the state of every group holds, in O(1):
	// it is asked after every batch when a memory budget applies.
	size() int64
}

// kernel implements one entry of planner.Aggregates.
type kernel struct {
	// newAcc returns the accumulator for a call with these argument types and
	// result type (both already validated against planner.Aggregates).
	newAcc func(args []planner.Type, result planner.Type) (accumulator, error)
	// newCallAcc, when set, replaces newAcc for aggregates whose
	// accumulator depends on more of the call than its types
	// (GROUP_CONCAT's ORDER BY directions).
	newCallAcc func(call planner.AggCall, args []planner.Type) (accumulator, error)
}

// build returns a new accumulator for call.
func (k kernel) build(call planner.AggCall, args []planner.Type, result planner.Type) (accumulator, error) {
	if k.newCallAcc != nil {
		return k.newCallAcc(call, args)
	}
	return k.newAcc(args, result)
}

// kernels is the one place that tells aggregates apart by name; the planner
// owns the matching declarations (state and result types) in
// planner.Aggregates.
var kernels = map[string]kernel{
	"count_star": {newAcc: func([]planner.Type, planner.Type) (accumulator, error) {
		return &countAcc{star: true}, nil
	}},
	"count": {newAcc: func([]planner.Type, planner.Type) (accumulator, error) {
		return &countAcc{}, nil
	}},
	"sum": {newAcc: func(args []planner.Type, _ planner.Type) (accumulator, error) {
		return newSum(args[0])
	}},
	"avg": {newAcc: newAvg},
	"min": {newAcc: func(args []planner.Type, result planner.Type) (accumulator, error) {
		return newMinMax(args[0], result, false)
	}},
	"max": {newAcc: func(args []planner.Type, result planner.Type) (accumulator, error) {
		return newMinMax(args[0], result, true)
	}},
	// ANY_VALUE may return any value of the group; returning the least
	// non-NULL one makes the answer independent of how rows were split over
	// map tasks, so every pool configuration agrees.
	"any_value": {newAcc: func(args []planner.Type, result planner.Type) (accumulator, error) {
		return newMinMax(args[0], result, false)
	}},
	"var_pop":      {newAcc: varianceKernel("var_pop")},
	"var_samp":     {newAcc: varianceKernel("var_samp")},
	"stddev_pop":   {newAcc: varianceKernel("stddev_pop")},
	"stddev_samp":  {newAcc: varianceKernel("stddev_samp")},
	"bit_and":      {newAcc: bitKernel("bit_and")},
	"bit_or":       {newAcc: bitKernel("bit_or")},
	"bit_xor":      {newAcc: bitKernel("bit_xor")},
	"group_concat": {newCallAcc: newGroupConcat},
}

func varianceKernel(name string) func([]planner.Type, planner.Type) (accumulator, error) {
	return func([]planner.Type, planner.Type) (accumulator, error) { return newVariance(name), nil }
}

func bitKernel(name string) func([]planner.Type, planner.Type) (accumulator, error) {
	return func([]planner.Type, planner.Type) (accumulator, error) { return newBits(name), nil }
}

// growTo extends s to n elements, zeroing the new ones.
func growTo[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	if n <= cap(s) {
		old := len(s)
		s = s[:n]
		clear(s[old:])
		return s
	}
	ns := make([]T, n, max(n, 2*cap(s)))
	copy(ns, s)
	return ns
}

// capBytes is the bytes of the backing array of s.
func capBytes[T any](s []T) int64 {
	var z T
	return int64(cap(s)) * int64(unsafe.Sizeof(z))
}

func errArgType(name string, t planner.Type) error {
	return fmt.Errorf("not supported: %s of %s", name, t)
}
