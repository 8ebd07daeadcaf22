package expr

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

// Evaluator computes one expression over record batches.
type Evaluator struct {
	expr *planner.Expr
	root node
}

// Compile prepares e for evaluation over batches with the given schema. It
// fails when e reads a column the schema does not have (or has with another
// Arrow type), or calls a function exec has no kernel for.
func Compile(e *planner.Expr, input *arrow.Schema) (*Evaluator, error) {
	c := &compiler{schema: input}
	root, err := c.compile(e)
	if err != nil {
		return nil, err
	}
	return &Evaluator{expr: e, root: root}, nil
}

// Type is the SQL type of the values Eval returns.
func (ev *Evaluator) Type() planner.Type { return ev.expr.Type }

// Eval computes the expression for every row of rec. The result has
// rec.NumRows() values of type Type().Arrow(); the caller releases it.
func (ev *Evaluator) Eval(ctx context.Context, rec arrow.Record, alloc memory.Allocator) (out arrow.Array, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	defer func() {
		// A kernel bug must not take the worker down: report it.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("internal: evaluating %s: %v", ev.expr, r)
		}
	}()
	ec := &evalCtx{ctx: ctx, rec: rec, alloc: alloc, n: int(rec.NumRows())}
	v, err := ev.root.eval(ec)
	if err != nil {
		return nil, err
	}
	if v.arr == nil {
		return Constant(alloc, v.c, ev.expr.Type, ec.n), nil
	}
	if want := ev.expr.Type.Arrow(); !arrow.TypeEqual(v.arr.DataType(), want) {
		// A DECIMAL of another precision or a timestamp with a zone, from
		// the input: same values, the declared type.
		r := retype(v.arr, want)
		v.arr.Release()
		return r, nil
	}
	return v.arr, nil
}

type evalCtx struct {
	ctx   context.Context
	rec   arrow.Record // nil while folding a constant
	alloc memory.Allocator
	n     int // rows
}

// vec is what a node yields: an array (owned by the receiver, who releases
// it) or, when arr is nil, the constant c for every row.
type vec struct {
	arr arrow.Array
	c   planner.Value
}

func (v vec) release() {
	if v.arr != nil {
		v.arr.Release()
	}
}

func (v vec) nullConst() bool { return v.arr == nil && v.c.Null }

func nullVec() vec { return vec{c: planner.Value{Null: true}} }

func releaseAll(vs []vec) {
	for _, v := range vs {
		v.release()
	}
}

type node interface {
	eval(ec *evalCtx) (vec, error)
}

// kernel computes a function over its evaluated arguments (at least one of
// which is an array) for ec.n rows.
type kernel func(ec *evalCtx, args []vec) (vec, error)

// builder picks the kernel for a call by its argument types. strict means
// a NULL argument makes the result NULL, so a NULL constant argument
// short-cuts the kernel.
type builder func(e *planner.Expr) (k kernel, strict bool, err error)

// builders is the table of kernels by function name (filled in init, since
// some builders compile sub-expressions).
var builders map[string]builder

// specials compile calls that control the evaluation of their arguments.
var specials map[string]func(c *compiler, e *planner.Expr) (node, error)

func init() {
	builders = map[string]builder{}
	for _, tab := range []map[string]builder{arithBuilders, compareBuilders, logicBuilders, castBuilders,
		mathBuilders, stringBuilders, timeBuilders, condBuilders} {
		for k, v := range tab {
			builders[k] = v
		}
	}
	specials = map[string]func(c *compiler, e *planner.Expr) (node, error){
		"case": compileCase, "if": compileCase, "coalesce": compileCoalesce, "ifnull": compileCoalesce,
		"and": compileAndOr, "or": compileAndOr, "nullif": compileNullIf, "in": compileIn,
	}
}

type compiler struct {
	schema *arrow.Schema
}

func (c *compiler) compile(e *planner.Expr) (node, error) {
	switch e.Kind {
	case planner.ExprColumn:
		if e.Index < 0 || e.Index >= c.schema.NumFields() {
			return nil, fmt.Errorf("internal: column %s (#%d) is not in the input (%d columns)", e.Name, e.Index, c.schema.NumFields())
		}
		if err := checkColumn(c.schema.Field(e.Index), e.Type); err != nil {
			return nil, err
		}
		return &colNode{idx: e.Index}, nil
	case planner.ExprLiteral:
		return &litNode{v: e.Value}, nil
	case planner.ExprCall:
		n, err := c.compileCall(e)
		if err != nil {
			return nil, err
		}
		if len(e.Columns(nil)) == 0 {
			return &constNode{inner: n, t: e.Type}, nil
		}
		return n, nil
	}
	return nil, fmt.Errorf("internal: expression kind %d", e.Kind)
}

func (c *compiler) compileCall(e *planner.Expr) (node, error) {
	if sp := specials[e.Name]; sp != nil {
		return sp(c, e)
	}
	b := builders[e.Name]
	if b == nil {
		return nil, fmt.Errorf("not supported: function %s", strings.ToUpper(e.Name))
	}
	k, strict, err := b(e)
	if err != nil {
		return nil, err
	}
	args, err := c.compileAll(e.Args)
	if err != nil {
		return nil, err
	}
	return &callNode{e: e, args: args, k: k, strict: strict, vals: make([]vec, 0, len(args))}, nil
}

func (c *compiler) compileAll(es []*planner.Expr) ([]node, error) {
	out := make([]node, len(es))
	for i, a := range es {
		n, err := c.compile(a)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// checkColumn verifies that a column carries the Arrow type the plan
// expects (a DECIMAL of the same scale and any precision, a timestamp in
// microseconds with any zone).
func checkColumn(f arrow.Field, t planner.Type) error {
	want := t.Arrow()
	if arrow.TypeEqual(f.Type, want) {
		return nil
	}
	switch got := f.Type.(type) {
	case *arrow.Decimal128Type:
		if t.Kind == planner.KindDecimal && int(got.Scale) == t.Scale {
			return nil
		}
	case *arrow.TimestampType:
		if t.Kind == planner.KindDatetime && got.Unit == arrow.Microsecond {
			return nil
		}
	}
	return fmt.Errorf("internal: column %s is %s, the plan says %s", f.Name, f.Type, t)
}

type colNode struct{ idx int }

func (n *colNode) eval(ec *evalCtx) (vec, error) {
	a := ec.rec.Column(n.idx)
	a.Retain()
	return vec{arr: a}, nil
}

type litNode struct{ v planner.Value }

func (n *litNode) eval(*evalCtx) (vec, error) { return vec{c: n.v}, nil }

// constNode evaluates a column-free call once, on first use with rows.
type constNode struct {
	inner node
	t     planner.Type
	done  bool
	v     planner.Value
}

func (n *constNode) eval(ec *evalCtx) (vec, error) {
	if !n.done {
		if ec.n == 0 {
			return nullVec(), nil
		}
		v, err := n.inner.eval(&evalCtx{ctx: ec.ctx, alloc: ec.alloc, n: 1})
		if err != nil {
			// Not cached: a conditional may retry on rows that never
			// reach this value.
			return vec{}, err
		}
		if v.arr != nil {
			n.v = ValueAt(v.arr, 0)
			v.release()
		} else {
			n.v = v.c
		}
		n.done = true
	}
	return vec{c: n.v}, nil
}

// callNode applies a kernel to its evaluated arguments.
type callNode struct {
	e      *planner.Expr
	args   []node
	k      kernel
	strict bool
	vals   []vec // scratch
}

func (n *callNode) eval(ec *evalCtx) (vec, error) {
	vals, err := evalArgs(ec, n.args, n.vals[:0])
	if err != nil {
		return vec{}, err
	}
	defer releaseAll(vals)
	allConst := true
	for _, v := range vals {
		if n.strict && v.nullConst() {
			return nullVec(), nil
		}
		allConst = allConst && v.arr == nil
	}
	if allConst {
		// Only reached while folding a constant (one row): kernels always
		// see at least one array.
		for i := range vals {
			vals[i] = vec{arr: Constant(ec.alloc, vals[i].c, n.e.Args[i].Type, ec.n)}
		}
	}
	return n.k(ec, vals)
}

func evalArgs(ec *evalCtx, args []node, dst []vec) ([]vec, error) {
	for _, a := range args {
		v, err := a.eval(ec)
		if err != nil {
			releaseAll(dst)
			return nil, err
		}
		dst = append(dst, v)
	}
	return dst, nil
}

// --- values and constants ---

// ValueAt returns row i of a as a planner.Value (strings copied).
func ValueAt(a arrow.Array, i int) planner.Value {
	if a.IsNull(i) {
		return planner.Value{Null: true}
	}
	switch a := a.(type) {
	case *array.Boolean:
		if a.Value(i) {
			return planner.Value{I: 1}
		}
		return planner.Value{}
	case *array.Int64:
		return planner.Value{I: a.Value(i)}
	case *array.Uint64:
		return planner.Value{U: a.Value(i)}
	case *array.Float64:
		return planner.Value{F: a.Value(i)}
	case *array.Decimal128:
		return planner.DecValue(a.Value(i))
	case *array.String:
		return planner.Value{S: strings.Clone(a.Value(i))}
	case *array.Date32:
		return planner.Value{I: int64(a.Value(i))}
	case *array.Timestamp:
		return planner.Value{I: int64(a.Value(i))}
	}
	return planner.Value{Null: true}
}

// Constant returns an array of n copies of v, of type t.
func Constant(alloc memory.Allocator, v planner.Value, t planner.Type, n int) arrow.Array {
	if t.Kind == planner.KindNull {
		return array.NewNull(n)
	}
	var valid *memory.Buffer
	if v.Null {
		valid = newBuf(alloc, bitmapLen(n))
		clear(valid.Bytes())
	}
	dt := t.Arrow()
	switch t.Kind {
	case planner.KindBool:
		b := newBuf(alloc, bitmapLen(n))
		fill := byte(0)
		if v.I != 0 {
			fill = 0xff
		}
		for i := range b.Bytes() {
			b.Bytes()[i] = fill
		}
		return makeArr(dt, n, valid, b)
	case planner.KindInt, planner.KindDatetime:
		b, s := newI64(alloc, n)
		for i := range s {
			s[i] = v.I
		}
		return makeArr(dt, n, valid, b)
	case planner.KindUint:
		b, s := newU64(alloc, n)
		for i := range s {
			s[i] = v.U
		}
		return makeArr(dt, n, valid, b)
	case planner.KindFloat:
		b, s := newF64(alloc, n)
		for i := range s {
			s[i] = v.F
		}
		return makeArr(dt, n, valid, b)
	case planner.KindDecimal:
		b, s := newD128(alloc, n)
		d := v.Dec()
		for i := range s {
			s[i] = fromDec(d)
		}
		return makeArr(dt, n, valid, b)
	case planner.KindDate:
		b, s := newI32(alloc, n)
		for i := range s {
			s[i] = int32(v.I)
		}
		return makeArr(dt, n, valid, b)
	case planner.KindString:
		ob, offs := newI32(alloc, n+1)
		sz := len(v.S)
		if v.Null {
			sz = 0
		}
		db := newBuf(alloc, sz*n)
		data := db.Bytes()
		for i := 0; i < n; i++ {
			offs[i] = int32(i * sz)
			copy(data[i*sz:], v.S[:sz])
		}
		offs[n] = int32(n * sz)
		return makeArr(dt, n, valid, ob, db)
	}
	panic(fmt.Sprintf("internal: no constant of type %s", t))
}

// --- buffers ---

func bitmapLen(n int) int { return (n + 7) / 8 }

func newBuf(alloc memory.Allocator, size int) *memory.Buffer {
	b := memory.NewResizableBuffer(alloc)
	b.Resize(size)
	return b
}

func newI64(alloc memory.Allocator, n int) (*memory.Buffer, []int64) {
	b := newBuf(alloc, n*8)
	return b, arrow.Int64Traits.CastFromBytes(b.Bytes())
}

func newU64(alloc memory.Allocator, n int) (*memory.Buffer, []uint64) {
	b := newBuf(alloc, n*8)
	return b, arrow.Uint64Traits.CastFromBytes(b.Bytes())
}

func newF64(alloc memory.Allocator, n int) (*memory.Buffer, []float64) {
	b := newBuf(alloc, n*8)
	return b, arrow.Float64Traits.CastFromBytes(b.Bytes())
}

func newI32(alloc memory.Allocator, n int) (*memory.Buffer, []int32) {
	b := newBuf(alloc, n*4)
	return b, arrow.Int32Traits.CastFromBytes(b.Bytes())
}

func newD128(alloc memory.Allocator, n int) (*memory.Buffer, []num) {
	b := newBuf(alloc, n*16)
	return b, castNums(b.Bytes())
}

func newBits(alloc memory.Allocator, n int) (*memory.Buffer, []byte) {
	b := newBuf(alloc, bitmapLen(n))
	return b, b.Bytes()
}

// makeArr wraps buffers (consumed) into an array; valid may be nil.
func makeArr(dt arrow.DataType, n int, valid *memory.Buffer, bufs ...*memory.Buffer) arrow.Array {
	nulls := 0
	if valid != nil {
		nulls = n - bitutil.CountSetBits(valid.Bytes(), 0, n)
		if nulls == 0 {
			valid.Release()
			valid = nil
		}
	}
	all := make([]*memory.Buffer, 0, 1+len(bufs))
	all = append(all, valid)
	all = append(all, bufs...)
	data := array.NewData(dt, n, all, nil, nulls, 0)
	a := array.MakeFromData(data)
	data.Release()
	for _, b := range all {
		if b != nil {
			b.Release()
		}
	}
	return a
}

// --- validity ---

// andValidity returns a fresh bitmap of the rows where every array argument
// is valid, or nil when no argument has a NULL.
func andValidity(alloc memory.Allocator, n int, args []vec) *memory.Buffer {
	var out *memory.Buffer
	for _, a := range args {
		if a.arr == nil || a.arr.NullN() == 0 {
			continue
		}
		bm, off := a.arr.NullBitmapBytes(), a.arr.Data().Offset()
		if len(bm) == 0 { // a NULL-typed array has no bitmap: no row is valid
			if out == nil {
				out = newBuf(alloc, bitmapLen(n))
			}
			clear(out.Bytes())
			continue
		}
		if out == nil {
			out = newBuf(alloc, bitmapLen(n))
			bitutil.CopyBitmap(bm, off, n, out.Bytes(), 0)
			continue
		}
		if off%8 == 0 {
			o, s := out.Bytes(), bm[off/8:]
			for i := range o {
				o[i] &= s[i]
			}
			continue
		}
		tmp := newBuf(alloc, bitmapLen(n))
		bitutil.BitmapAnd(out.Bytes(), bm, 0, int64(off), tmp.Bytes(), 0, int64(n))
		out.Release()
		out = tmp
	}
	return out
}

// validBits is a validity bitmap a kernel may add NULLs to.
type validBits struct {
	buf  *memory.Buffer
	bits []byte
}

func newValidBits(alloc memory.Allocator, n int, args []vec) validBits {
	b := andValidity(alloc, n, args)
	if b == nil {
		return validBits{}
	}
	return validBits{buf: b, bits: b.Bytes()}
}

func (v *validBits) valid(i int) bool { return v.bits == nil || bitutil.BitIsSet(v.bits, i) }

// setNull marks row i NULL, allocating the bitmap on first use.
func (v *validBits) setNull(alloc memory.Allocator, n, i int) {
	if v.buf == nil {
		v.buf = newBuf(alloc, bitmapLen(n))
		v.bits = v.buf.Bytes()
		for j := range v.bits {
			v.bits[j] = 0xff
		}
	}
	bitutil.ClearBit(v.bits, i)
}

func (v *validBits) release() {
	if v.buf != nil {
		v.buf.Release()
	}
}

// rowValid reports whether row i of a vec is not NULL.
func rowValid(v vec, i int) bool {
	if v.arr == nil {
		return !v.c.Null
	}
	return v.arr.IsValid(i)
}

// --- typed operands ---

// Operands read a constant through the same loop as an array: index i&mask
// with mask 0 for a constant (one element) and -1 for an array.

func i64Op(v vec) ([]int64, int) {
	if v.arr == nil {
		return []int64{v.c.I}, 0
	}
	return v.arr.(*array.Int64).Int64Values(), -1
}

func u64Op(v vec) ([]uint64, int) {
	if v.arr == nil {
		return []uint64{v.c.U}, 0
	}
	return v.arr.(*array.Uint64).Uint64Values(), -1
}

func f64Op(v vec) ([]float64, int) {
	if v.arr == nil {
		return []float64{v.c.F}, 0
	}
	return v.arr.(*array.Float64).Float64Values(), -1
}

func d128Op(v vec) ([]num, int) {
	if v.arr == nil {
		return []num{fromDec(v.c.Dec())}, 0
	}
	return decValues(v.arr), -1
}

func date32Op(v vec) ([]int32, int) {
	if v.arr == nil {
		return []int32{int32(v.c.I)}, 0
	}
	return date32Values(v.arr), -1
}

func tsOp(v vec) ([]int64, int) {
	if v.arr == nil {
		return []int64{v.c.I}, 0
	}
	return tsValues(v.arr), -1
}

func date32Values(a arrow.Array) []int32 {
	d := a.(*array.Date32).Date32Values()
	return arrow.Int32Traits.CastFromBytes(arrow.Date32Traits.CastToBytes(d))
}

func tsValues(a arrow.Array) []int64 {
	d := a.(*array.Timestamp).TimestampValues()
	return arrow.Int64Traits.CastFromBytes(arrow.TimestampTraits.CastToBytes(d))
}

// boolOp reads booleans: the bitmap, its bit offset, and for a constant
// its value.
type boolIn struct {
	bits    []byte
	off     int
	c       bool
	isConst bool
}

func boolOperand(v vec) boolIn {
	if v.arr == nil {
		return boolIn{c: !v.c.Null && v.c.I != 0, isConst: true}
	}
	return boolIn{bits: v.arr.Data().Buffers()[1].Bytes(), off: v.arr.Data().Offset()}
}

func (b *boolIn) at(i int) bool {
	if b.isConst {
		return b.c
	}
	return bitutil.BitIsSet(b.bits, b.off+i)
}

// strIn reads strings from an array or a constant.
type strIn struct {
	offs    []int32
	data    []byte
	c       []byte
	isConst bool
}

func strOperand(v vec) strIn {
	if v.arr == nil {
		return strIn{c: []byte(v.c.S), isConst: true}
	}
	a := v.arr.(*array.String)
	var data []byte
	if b := a.Data().Buffers()[2]; b != nil {
		data = b.Bytes()
	}
	return strIn{offs: a.ValueOffsets(), data: data}
}

func (s *strIn) at(i int) []byte {
	if s.isConst {
		return s.c
	}
	return s.data[s.offs[i]:s.offs[i+1]]
}

// strOut builds a string array: bytes go to a Go scratch slice (reused
// across batches by the kernel) and are copied into Arrow memory at the end.
type strOut struct {
	offBuf *memory.Buffer
	offs   []int32
	data   []byte
	i      int
}

func newStrOut(ec *evalCtx, scratch []byte) *strOut {
	ob, offs := newI32(ec.alloc, ec.n+1)
	offs[0] = 0
	return &strOut{offBuf: ob, offs: offs, data: scratch[:0]}
}

// end closes the current row.
func (o *strOut) end() {
	o.i++
	o.offs[o.i] = int32(len(o.data))
}

func (o *strOut) finish(ec *evalCtx, valid *memory.Buffer) (arrow.Array, error) {
	if len(o.data) > math.MaxInt32 {
		o.offBuf.Release()
		if valid != nil {
			valid.Release()
		}
		return nil, fmt.Errorf("string result over 2 GiB in one batch")
	}
	db := newBuf(ec.alloc, len(o.data))
	copy(db.Bytes(), o.data)
	return makeArr(arrow.BinaryTypes.String, ec.n, valid, o.offBuf, db), nil
}
