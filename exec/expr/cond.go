package expr

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

var condBuilders = map[string]builder{
	"greatest": buildGreatest, "least": buildGreatest,
}

// srcBits is the validity of one source of assemble.
type srcBits struct {
	bits []byte // nil: no NULL
	off  int
	null bool // a NULL constant
}

func validityOf(v vec) srcBits {
	if v.arr == nil {
		return srcBits{null: v.c.Null}
	}
	if v.arr.NullN() == 0 {
		return srcBits{}
	}
	if len(v.arr.NullBitmapBytes()) == 0 {
		return srcBits{null: true}
	}
	return srcBits{bits: v.arr.NullBitmapBytes(), off: v.arr.Data().Offset()}
}

func (s srcBits) valid(i int) bool {
	if s.bits == nil {
		return !s.null
	}
	return bitutil.BitIsSet(s.bits, s.off+i)
}

func pickFixed[T any](srcs []vec, get func(vec) ([]T, int), pick []int32, out []T) {
	vals := make([][]T, len(srcs))
	masks := make([]int, len(srcs))
	for k, s := range srcs {
		vals[k], masks[k] = get(s)
	}
	for i, k := range pick {
		if k >= 0 {
			out[i] = vals[k][i&masks[k]]
		}
	}
}

// assemble builds an array of type t whose row i is row i of
// srcs[pick[i]], or NULL where pick[i] < 0. Every source has type t (a
// DECIMAL of t's scale).
func assemble(ec *evalCtx, t planner.Type, srcs []vec, pick []int32) (arrow.Array, error) {
	n := ec.n
	vs := make([]srcBits, len(srcs))
	for k, s := range srcs {
		vs[k] = validityOf(s)
	}
	valid := newBuf(ec.alloc, bitmapLen(n))
	vb := valid.Bytes()
	for i, k := range pick {
		bitutil.SetBitTo(vb, i, k >= 0 && vs[k].valid(i))
	}
	dt := t.Arrow()
	switch t.Kind {
	case planner.KindBool:
		buf, out := newBits(ec.alloc, n)
		ins := make([]boolIn, len(srcs))
		for k, s := range srcs {
			ins[k] = boolOperand(s)
		}
		for i, k := range pick {
			bitutil.SetBitTo(out, i, k >= 0 && ins[k].at(i))
		}
		return makeArr(dt, n, valid, buf), nil
	case planner.KindInt:
		buf, out := newI64(ec.alloc, n)
		pickFixed(srcs, i64Op, pick, out)
		return makeArr(dt, n, valid, buf), nil
	case planner.KindDatetime:
		buf, out := newI64(ec.alloc, n)
		pickFixed(srcs, tsOp, pick, out)
		return makeArr(dt, n, valid, buf), nil
	case planner.KindUint:
		buf, out := newU64(ec.alloc, n)
		pickFixed(srcs, u64Op, pick, out)
		return makeArr(dt, n, valid, buf), nil
	case planner.KindFloat:
		buf, out := newF64(ec.alloc, n)
		pickFixed(srcs, f64Op, pick, out)
		return makeArr(dt, n, valid, buf), nil
	case planner.KindDecimal:
		buf, out := newD128(ec.alloc, n)
		pickFixed(srcs, d128Op, pick, out)
		return makeArr(dt, n, valid, buf), nil
	case planner.KindDate:
		buf, out := newI32(ec.alloc, n)
		pickFixed(srcs, date32Op, pick, out)
		return makeArr(dt, n, valid, buf), nil
	case planner.KindString:
		ins := make([]strIn, len(srcs))
		for k, s := range srcs {
			ins[k] = strOperand(s)
		}
		o := newStrOut(ec, nil)
		for _, k := range pick {
			if k >= 0 {
				o.data = append(o.data, ins[k].at(o.i)...)
			}
			o.end()
		}
		return o.finish(ec, valid)
	case planner.KindNull:
		valid.Release()
		return Constant(ec.alloc, planner.Value{Null: true}, t, n), nil
	}
	valid.Release()
	return nil, fmt.Errorf("internal: cannot assemble %s", t)
}

// caseNode: CASE WHEN c1 THEN v1 ... [ELSE e] END (IF(c, a, b) is the
// same). A value is evaluated only when some row takes its branch; if it
// fails, it is evaluated again on the rows that take it.
type caseNode struct {
	e     *planner.Expr
	conds []node
	vals  []node
	els   node // nil: no ELSE
}

func compileCase(c *compiler, e *planner.Expr) (node, error) {
	args, err := c.compileAll(e.Args)
	if err != nil {
		return nil, err
	}
	n := &caseNode{e: e}
	for i := 0; i+1 < len(args); i += 2 {
		n.conds = append(n.conds, args[i])
		n.vals = append(n.vals, args[i+1])
	}
	if len(args)%2 == 1 {
		n.els = args[len(args)-1]
	}
	return n, nil
}

func (n *caseNode) eval(ec *evalCtx) (vec, error) {
	t := n.e.Type
	pick := make([]int32, ec.n)
	for i := range pick {
		pick[i] = -1
	}
	remaining := make([]byte, bitmapLen(ec.n))
	for i := range remaining {
		remaining[i] = 0xff
	}
	var srcs []vec
	defer func() { releaseAll(srcs) }()
	take := make([]byte, len(remaining))
	for b, cn := range n.conds {
		cv, err := cn.eval(ec)
		if err != nil {
			cv, err = evalOnRows(ec, cn, remaining, n.e.Args[2*b])
			if err != nil {
				return vec{}, err
			}
		}
		vals, valid := boolBits(cv, ec.n)
		hit := byte(0)
		for i := range take {
			take[i] = remaining[i] & vals[i] & allValid(valid, i)
			hit |= take[i]
		}
		cv.release()
		if hit == 0 || !anyRow(take, ec.n) {
			continue
		}
		v, err := evalBranch(ec, n.vals[b], take, n.e.Args[2*b+1])
		if err != nil {
			return vec{}, err
		}
		srcs = append(srcs, v)
		setPicks(pick, take, int32(len(srcs)-1))
		for i := range remaining {
			remaining[i] &^= take[i]
		}
	}
	if n.els != nil && anyRow(remaining, ec.n) {
		v, err := evalBranch(ec, n.els, remaining, n.e.Args[len(n.e.Args)-1])
		if err != nil {
			return vec{}, err
		}
		srcs = append(srcs, v)
		setPicks(pick, remaining, int32(len(srcs)-1))
	}
	if len(srcs) == 1 && allPicked(pick, 0) {
		v := srcs[0]
		srcs = nil
		return asType(v, t), nil
	}
	if len(srcs) == 0 {
		return nullVec(), nil
	}
	a, err := assemble(ec, t, srcs, pick)
	return vec{arr: a}, err
}

func anyRow(bits []byte, n int) bool {
	return bitutil.CountSetBits(bits, 0, n) > 0
}

func setPicks(pick []int32, rows []byte, k int32) {
	for i := range pick {
		if bitutil.BitIsSet(rows, i) {
			pick[i] = k
		}
	}
}

func allPicked(pick []int32, k int32) bool {
	for _, p := range pick {
		if p != k {
			return false
		}
	}
	return true
}

// evalBranch evaluates a branch over the batch, or over only the rows in
// need if that fails.
func evalBranch(ec *evalCtx, nd node, need []byte, pe *planner.Expr) (vec, error) {
	v, err := nd.eval(ec)
	if err == nil {
		return v, nil
	}
	return evalOnRows(ec, nd, need, pe)
}

// coalesceNode: COALESCE(a, b, ...) and IFNULL(a, b). Later arguments are
// evaluated only while some row is still NULL.
type coalesceNode struct {
	e    *planner.Expr
	args []node
}

func compileCoalesce(c *compiler, e *planner.Expr) (node, error) {
	args, err := c.compileAll(e.Args)
	if err != nil {
		return nil, err
	}
	return &coalesceNode{e: e, args: args}, nil
}

func (n *coalesceNode) eval(ec *evalCtx) (vec, error) {
	pick := make([]int32, ec.n)
	for i := range pick {
		pick[i] = -1
	}
	need := make([]byte, bitmapLen(ec.n))
	for i := range need {
		need[i] = 0xff
	}
	var srcs []vec
	defer func() { releaseAll(srcs) }()
	for k, a := range n.args {
		var v vec
		var err error
		if k == 0 {
			v, err = a.eval(ec)
		} else {
			v, err = evalBranch(ec, a, need, n.e.Args[k])
		}
		if err != nil {
			return vec{}, err
		}
		srcs = append(srcs, v)
		vs := validityOf(v)
		left := false
		for i := range pick {
			if pick[i] < 0 && vs.valid(i) {
				pick[i] = int32(k)
				bitutil.ClearBit(need, i)
			}
			left = left || pick[i] < 0
		}
		if !left {
			break
		}
	}
	if allPicked(pick, 0) {
		v := srcs[0]
		srcs = srcs[1:]
		return asType(v, n.e.Type), nil
	}
	a, err := assemble(ec, n.e.Type, srcs, pick)
	return vec{arr: a}, err
}

// nullIfNode: NULLIF(a, b) is a, or NULL where a = b (compared with the
// rules of =).
type nullIfNode struct {
	e      *planner.Expr
	a, cmp node
}

func compileNullIf(c *compiler, e *planner.Expr) (node, error) {
	eq, err := planner.ResolveCall("=", e.Args)
	if err != nil {
		return nil, fmt.Errorf("internal: %s: %w", e, err)
	}
	a, err := c.compile(e.Args[0])
	if err != nil {
		return nil, err
	}
	cmp, err := c.compile(eq)
	if err != nil {
		return nil, err
	}
	return &nullIfNode{e: e, a: a, cmp: cmp}, nil
}

func (n *nullIfNode) eval(ec *evalCtx) (vec, error) {
	a, err := n.a.eval(ec)
	if err != nil {
		return vec{}, err
	}
	defer a.release()
	c, err := n.cmp.eval(ec)
	if err != nil {
		return vec{}, err
	}
	defer c.release()
	vals, valid := boolBits(c, ec.n)
	pick := make([]int32, ec.n)
	for i := range pick {
		if bitutil.BitIsSet(vals, i) && (valid == nil || bitutil.BitIsSet(valid, i)) {
			pick[i] = -1
		}
	}
	out, err := assemble(ec, n.e.Type, []vec{a}, pick)
	return vec{arr: out}, err
}

// buildGreatest: GREATEST / LEAST, NULL when any argument is NULL. The
// first of equal values wins.
func buildGreatest(e *planner.Expr) (kernel, bool, error) {
	t := e.Type
	op := ">"
	if e.Name == "least" {
		op = "<"
	}
	return func(ec *evalCtx, args []vec) (vec, error) {
		pick := make([]int32, ec.n)
		bits := make([]byte, bitmapLen(ec.n))
		best := args[0]
		var owned arrow.Array
		defer func() {
			if owned != nil {
				owned.Release()
			}
		}()
		for k := 1; k < len(args); k++ {
			if err := compareInto(op, t.Kind, args[k], best, bits, ec.n); err != nil {
				return vec{}, err
			}
			for i := range pick {
				pick[i] = 1
				if !bitutil.BitIsSet(bits, i) {
					pick[i] = 0
				}
			}
			a, err := assemble(ec, t, []vec{best, args[k]}, pick)
			if err != nil {
				return vec{}, err
			}
			if owned != nil {
				owned.Release()
			}
			owned, best = a, vec{arr: a}
		}
		valid := andValidity(ec.alloc, ec.n, args)
		res := withValidity(ec.alloc, best.arr, valid)
		return vec{arr: res}, nil
	}, true, nil
}

// withValidity returns a copy of a's data with the given validity bitmap
// (consumed; nil keeps a's own).
func withValidity(alloc memory.Allocator, a arrow.Array, valid *memory.Buffer) arrow.Array {
	if valid == nil {
		a.Retain()
		return a
	}
	idx := make([]int32, a.Len())
	vb := valid.Bytes()
	for i := range idx {
		idx[i] = int32(i)
		if !bitutil.BitIsSet(vb, i) {
			idx[i] = -1
		}
	}
	valid.Release()
	out, _ := take(alloc, a, idx)
	return out
}

// asType gives a DECIMAL array the declared precision of t (values of a
// narrower DECIMAL of the same scale need no change).
func asType(v vec, t planner.Type) vec {
	if v.arr == nil || t.Kind != planner.KindDecimal || arrow.TypeEqual(v.arr.DataType(), t.Arrow()) {
		return v
	}
	r := retype(v.arr, t.Arrow())
	v.arr.Release()
	return vec{arr: r}
}
