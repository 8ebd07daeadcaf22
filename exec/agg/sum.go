package agg

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

// newSum follows planner's sumType: exact arguments sum into DECIMAL(38, s),
// approximate ones (and strings, converted as MySQL does) into DOUBLE.
func newSum(arg planner.Type) (accumulator, error) {
	switch arg.Kind {
	case planner.KindInt, planner.KindUint, planner.KindBool, planner.KindNull:
		return newDecSum(0), nil
	case planner.KindDecimal:
		return newDecSum(int32(arg.Scale)), nil
	case planner.KindFloat, planner.KindString:
		return &floatSum{}, nil
	}
	return nil, errArgType("SUM", arg)
}

// decSum sums exact numbers into a 128-bit decimal. BIGINT arguments first
// go into an int64 per group; when one addition would overflow, that group's
// int64 is moved into the 128-bit lane (allocated on first need), so the
// common case costs one add and one compare per row.
type decSum struct {
	dt    arrow.DataType
	scale int32
	small []int64
	big   []decimal128.Num // nil until a group overflows int64 or a wide value arrives
	seen  []bool
	done  int // groups emitted and given back
}

func newDecSum(scale int32) *decSum {
	return &decSum{scale: scale, dt: &arrow.Decimal128Type{Precision: planner.MaxDecimalPrecision, Scale: scale}}
}

func (a *decSum) resize(n int) {
	a.small = growState(a.small, n)
	a.seen = growState(a.seen, n)
	if a.big != nil {
		a.big = growState(a.big, n)
	}
}

func (a *decSum) reset() {
	a.small = resetState(a.small)
	a.seen = resetState(a.seen)
	if a.big != nil {
		a.big = resetState(a.big)
	}
	a.done = 0
}

func (a *decSum) emitted(n int) {
	bigRelease(a.small, a.done, n)
	bigRelease(a.seen, a.done, n)
	bigRelease(a.big, a.done, n)
	a.done = n
}

func (a *decSum) free() {
	bigFree(a.small)
	bigFree(a.seen)
	bigFree(a.big)
	a.small, a.seen, a.big = nil, nil, nil
}

func (a *decSum) size() int64 {
	return heldBytes(a.small, a.done) + heldBytes(a.big, a.done) + heldBytes(a.seen, a.done)
}

func (a *decSum) needBig() {
	if a.big == nil {
		a.big = growState([]decimal128.Num(nil), len(a.seen))
	}
}

func (a *decSum) overflow() error {
	return fmt.Errorf("%w: SUM exceeds DECIMAL(%d,%d)", ErrOutOfRange, planner.MaxDecimalPrecision, a.scale)
}

func (a *decSum) update(gids []uint32, args []arrow.Array) error {
	col := args[0]
	v := validityOf(col)
	if v.all {
		return nil
	}
	small, seen := a.small, a.seen
	switch col.DataType().ID() {
	case arrow.INT64:
		vals := fixedValues[int64](col)
		for i, g := range gids {
			if v.bm != nil && !bitutil.BitIsSet(v.bm, v.off+i) {
				continue
			}
			x, s := vals[i], small[g]
			r := s + x
			if (s^r)&(x^r) < 0 {
				a.needBig()
				a.big[g] = a.big[g].Add(decimal128.FromI64(s))
				r = x
			}
			small[g] = r
			seen[g] = true
		}
	case arrow.BOOL:
		bm, off := boolBits(col)
		for i, g := range gids {
			if v.bm != nil && !bitutil.BitIsSet(v.bm, v.off+i) {
				continue
			}
			if bitutil.BitIsSet(bm, off+i) {
				small[g]++ // cannot overflow before 2^63 rows
			}
			seen[g] = true
		}
	case arrow.UINT64:
		a.needBig()
		big := a.big
		vals := fixedValues[uint64](col)
		for i, g := range gids {
			if v.bm != nil && !bitutil.BitIsSet(v.bm, v.off+i) {
				continue
			}
			r, ok := addChecked(big[g], decimal128.FromU64(vals[i]))
			if !ok {
				return a.overflow()
			}
			big[g] = r
			seen[g] = true
		}
	case arrow.DECIMAL128:
		return a.addDecimals(gids, col, v)
	default:
		return fmt.Errorf("internal: SUM kernel got Arrow type %s", col.DataType())
	}
	return nil
}

func (a *decSum) addDecimals(gids []uint32, col arrow.Array, v validity) error {
	a.needBig()
	big, seen := a.big, a.seen
	vals := fixedValues[decimal128.Num](col)
	for i, g := range gids {
		if v.bm != nil && !bitutil.BitIsSet(v.bm, v.off+i) {
			continue
		}
		r, ok := addChecked(big[g], vals[i])
		if !ok {
			return a.overflow()
		}
		big[g] = r
		seen[g] = true
	}
	return nil
}

func (a *decSum) merge(gids []uint32, states []arrow.Array) error {
	v := validityOf(states[0])
	if v.all {
		return nil
	}
	return a.addDecimals(gids, states[0], v)
}

// total returns the sum of group g (valid only when seen[g]).
func (a *decSum) total(g int) (decimal128.Num, error) {
	t := decimal128.FromI64(a.small[g])
	if a.big != nil {
		var ok bool
		if t, ok = addChecked(a.big[g], t); !ok {
			return t, a.overflow()
		}
	}
	if !t.FitsInPrecision(planner.MaxDecimalPrecision) {
		return t, a.overflow()
	}
	return t, nil
}

func (a *decSum) states(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	r, err := a.result(mem, from, to)
	if err != nil {
		return nil, err
	}
	return []arrow.Array{r}, nil
}

func (a *decSum) result(mem memory.Allocator, from, to int) (arrow.Array, error) {
	vals := make([]decimal128.Num, to-from)
	for g := from; g < to; g++ {
		if !a.seen[g] {
			continue
		}
		t, err := a.total(g)
		if err != nil {
			return nil, err
		}
		vals[g-from] = t
	}
	return buildFixed(mem, a.dt, vals, a.seen[from:to]), nil
}

// floatSum sums DOUBLE arguments, and strings converted to DOUBLE by their
// longest numeric prefix as MySQL does ('12abc' is 12, 'abc' is 0).
type floatSum struct {
	groupVals[float64]
	scratch []float64
}

func (a *floatSum) emitted(n int) {
	a.groupVals.emitted(n)
	a.scratch = nil
}

func (a *floatSum) size() int64 { return a.groupVals.size() + capBytes(a.scratch) }

func (a *floatSum) update(gids []uint32, args []arrow.Array) error {
	col := args[0]
	v := validityOf(col)
	if v.all {
		return nil
	}
	var xs []float64
	switch col.DataType().ID() {
	case arrow.FLOAT64:
		xs = fixedValues[float64](col)
	case arrow.STRING:
		a.scratch = growTo(a.scratch[:0], len(gids))
		xs = a.scratch
		offs, data := stringParts(col)
		for i := range xs {
			if v.bm == nil || bitutil.BitIsSet(v.bm, v.off+i) {
				xs[i] = parseNumberPrefix(data[offs[i]:offs[i+1]])
			}
		}
	default:
		return fmt.Errorf("internal: SUM kernel got Arrow type %s", col.DataType())
	}
	vals, seen := a.vals, a.seen
	for i, g := range gids {
		if v.bm == nil || bitutil.BitIsSet(v.bm, v.off+i) {
			vals[g] += xs[i]
			seen[g] = true
		}
	}
	return nil
}

func (a *floatSum) merge(gids []uint32, states []arrow.Array) error {
	return a.update(gids, states)
}

func (a *floatSum) states(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	r, err := a.result(mem, from, to)
	if err != nil {
		return nil, err
	}
	return []arrow.Array{r}, nil
}

func (a *floatSum) result(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return buildFixed(mem, arrow.PrimitiveTypes.Float64, a.vals[from:to], a.seen[from:to]), nil
}

// parseNumberPrefix converts the longest prefix of s that reads as a number
// (after leading blanks) to float64, as MySQL converts strings in numeric
// context; no prefix is 0.
func parseNumberPrefix(s []byte) float64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			i = j
		}
	}
	// The prefix is well formed; ParseFloat only fails on range, where it
	// returns ±Inf or 0, which is the value we want.
	f, _ := strconv.ParseFloat(string(s[start:i]), 64)
	return f
}

// avgAcc carries a SUM and a COUNT of the non-NULL arguments; its state is
// the two of them and its result their quotient, NULL for an empty group.
type avgAcc struct {
	sum   accumulator
	count countAcc
	dec   *decSum // sum, when exact
	flt   *floatSum
	resDT arrow.DataType
	shift int // exact: result scale minus sum scale
}

func newAvg(args []planner.Type, result planner.Type) (accumulator, error) {
	s, err := newSum(args[0])
	if err != nil {
		return nil, errArgType("AVG", args[0])
	}
	a := &avgAcc{sum: s, resDT: result.Arrow()}
	switch s := s.(type) {
	case *decSum:
		a.dec = s
		if result.Kind != planner.KindDecimal || result.Scale < int(s.scale) {
			return nil, fmt.Errorf("internal: AVG of %s cannot have type %s", args[0], result)
		}
		a.shift = result.Scale - int(s.scale)
	case *floatSum:
		a.flt = s
	}
	return a, nil
}

func (a *avgAcc) resize(n int) {
	a.sum.resize(n)
	a.count.resize(n)
}

func (a *avgAcc) reset() {
	a.sum.reset()
	a.count.reset()
}

func (a *avgAcc) emitted(n int) {
	a.sum.emitted(n)
	a.count.emitted(n)
}

func (a *avgAcc) free() {
	a.sum.free()
	a.count.free()
}

func (a *avgAcc) size() int64 { return a.sum.size() + a.count.size() }

func (a *avgAcc) update(gids []uint32, args []arrow.Array) error {
	if err := a.sum.update(gids, args); err != nil {
		return err
	}
	return a.count.update(gids, args)
}

func (a *avgAcc) merge(gids []uint32, states []arrow.Array) error {
	if err := a.sum.merge(gids, states[:1]); err != nil {
		return err
	}
	return a.count.merge(gids, states[1:2])
}

func (a *avgAcc) states(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	s, err := a.sum.states(mem, from, to)
	if err != nil {
		return nil, err
	}
	c, _ := a.count.result(mem, from, to)
	return append(s, c), nil
}

func (a *avgAcc) result(mem memory.Allocator, from, to int) (arrow.Array, error) {
	n := to - from
	valid := make([]bool, n)
	counts := a.count.counts
	if a.flt != nil {
		vals := make([]float64, n)
		for g := from; g < to; g++ {
			if c := counts[g]; c > 0 {
				vals[g-from] = a.flt.vals[g] / float64(c)
				valid[g-from] = true
			}
		}
		return buildFixed(mem, a.resDT, vals, valid), nil
	}
	vals := make([]decimal128.Num, n)
	for g := from; g < to; g++ {
		c := counts[g]
		if c == 0 {
			continue
		}
		t, err := a.dec.total(g)
		if err != nil {
			return nil, err
		}
		q, ok := divRound(t, a.shift, uint64(c))
		if !ok {
			return nil, fmt.Errorf("%w: AVG exceeds %s", ErrOutOfRange, a.resDT)
		}
		vals[g-from] = q
		valid[g-from] = true
	}
	return buildFixed(mem, a.resDT, vals, valid), nil
}
