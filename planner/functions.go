package planner

// Scalar functions: the MySQL 8 type rules that turn a call into a typed
// Call node, the conversions between types (for folding literal casts at
// plan time; exec/expr uses the same helpers for strings and dates), and
// the table of every function quern knows.
//
// Every resolver leaves its arguments in the kinds its kernel expects, by
// wrapping them in Cast nodes, so exec never guesses a conversion. The
// encodings that are not obvious from the SQL:
//
//	case      [cond1, val1, cond2, val2, ..., else?]  conds BOOLEAN, vals of the result type
//	if        [cond, then, else]                       same encoding as case
//	ifnull    [a, b]                                   same kernel as coalesce
//	in        [lhs, item1, item2, ...]
//	like      [str, pattern, escape?]                  escape a string literal of at most one character
//	round     [x, d]  truncate [x, d]                  d always present (BIGINT)
//	locate    [substr, str, pos?]                      INSTR(s, sub) becomes LOCATE(sub, s)
//	trim      [str, remstr?]  ltrim/rtrim likewise     TRIM(BOTH/LEADING/TRAILING r FROM s) → trim/ltrim/rtrim(s, r)
//	date_add  [d, n, unit]   date_sub likewise         unit a lower-case string literal ('day', 'month', ...);
//	                                                   composite units ('day_hour', …) are folded into 'month' or
//	                                                   'microsecond' with the amount a BIGINT literal
//	extract   [d, unit]                                unit a lower-case string literal; EXTRACT(unit FROM d) binds as extract(unit, d)
//	str_to_date [s, format]                            DATE or DATETIME by the format's specifiers
//	nullif    [a, b]                                   a and b uncast; exec compares them with the = rules
//	neg       [x]                                      unary minus
//	isnull, isnotnull, istrue, isfalse, isnottrue, isnotfalse  [x]
//
// Decimal kernels: + - % and comparisons receive operands of equal scale;
// * and / receive any scales; case/if/coalesce/greatest/least receive values
// of the result's scale (precision may be narrower).

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// DivPrecisionIncrement is MySQL's default div_precision_increment: the
// digits of scale `/` adds to its dividend's (7/2 is 3.5000).
const DivPrecisionIncrement = 4

// DivideWith retypes e, a call of / as ResolveCall returns it, for a
// session whose div_precision_increment is inc (0 to 30) rather than the
// default: a DECIMAL quotient has the dividend's scale plus inc, at most
// MaxDecimalScale. The kernel divides to whatever scale the type says.
func DivideWith(e *Expr, inc int) *Expr {
	if inc == DivPrecisionIncrement || e.Kind != ExprCall || e.Name != "/" || e.Type.Kind != KindDecimal || len(e.Args) != 2 {
		return e
	}
	a, b := e.Args[0].Type, e.Args[1].Type
	e.Type = divideType(a, b, inc)
	return e
}

func divideType(a, b Type, inc int) Type {
	return Decimal(a.Prec+b.Scale+inc, min(a.Scale+inc, MaxDecimalScale))
}

// MaxDecimalScale is the largest scale MySQL gives a computed DECIMAL.
const MaxDecimalScale = 30

// ErrUnsupported is wrapped by errors about valid MySQL that quern does not
// run (errors.Is(err, ErrUnsupported)).
var ErrUnsupported = errors.New("not supported")

type unsupportedError struct{ what string }

func (e *unsupportedError) Error() string   { return "not supported: " + e.what }
func (e *unsupportedError) Is(t error) bool { return t == ErrUnsupported }

// TypeError says the argument types of an expression do not fit it. The
// message names the expression; the binder adds the position.
type TypeError struct{ Msg string }

func (e *TypeError) Error() string { return e.Msg }

type scalarFunc struct {
	minArgs, maxArgs int // maxArgs < 0: no upper bound
	resolve          func(c *call) (*Expr, error)
}

// scalarFuncs is the table of every scalar function and operator, by the
// canonical (lower-case) name that Call nodes carry. It is filled in init
// because resolvers call back into ResolveCall.
var scalarFuncs map[string]*scalarFunc

// funcAliases maps other spellings to canonical names.
var funcAliases = map[string]string{
	"!=": "<>", "mod": "%", "ceiling": "ceil", "power": "pow", "substr": "substring", "mid": "substring",
	"lcase": "lower", "ucase": "upper", "octet_length": "length", "character_length": "char_length",
	"dayofmonth": "day", "rlike": "regexp", "regexp_like": "regexp", "adddate": "date_add", "subdate": "date_sub",
}

func init() {
	f := func(lo, hi int, r func(*call) (*Expr, error)) *scalarFunc {
		return &scalarFunc{minArgs: lo, maxArgs: hi, resolve: r}
	}
	scalarFuncs = map[string]*scalarFunc{
		"+": f(2, 2, resolveArith), "-": f(2, 2, resolveArith), "*": f(2, 2, resolveArith),
		"/": f(2, 2, resolveArith), "div": f(2, 2, resolveArith), "%": f(2, 2, resolveArith),
		"neg": f(1, 1, resolveNeg),
		"=":   f(2, 2, resolveCompare), "<>": f(2, 2, resolveCompare), "<": f(2, 2, resolveCompare),
		"<=": f(2, 2, resolveCompare), ">": f(2, 2, resolveCompare), ">=": f(2, 2, resolveCompare),
		"<=>": f(2, 2, resolveCompare),
		"and": f(2, 2, resolveLogic), "or": f(2, 2, resolveLogic), "xor": f(2, 2, resolveLogic),
		"not":    f(1, 1, resolveLogic),
		"isnull": f(1, 1, resolveIsNull), "isnotnull": f(1, 1, resolveIsNull),
		"istrue": f(1, 1, resolveIsTrue), "isfalse": f(1, 1, resolveIsTrue),
		"isnottrue": f(1, 1, resolveIsTrue), "isnotfalse": f(1, 1, resolveIsTrue),
		"in":       f(2, -1, resolveIn),
		"like":     f(2, 3, resolveLike),
		"regexp":   f(2, 2, resolveRegexp),
		"case":     f(1, -1, resolveCase),
		"if":       f(3, 3, resolveCase),
		"ifnull":   f(2, 2, resolveCoalesce),
		"coalesce": f(1, -1, resolveCoalesce),
		"nullif":   f(2, 2, resolveNullIf),
		"greatest": f(2, -1, resolveGreatest), "least": f(2, -1, resolveGreatest),
		"abs": f(1, 1, resolveAbs), "sign": f(1, 1, resolveSign),
		"round": f(1, 2, resolveRound), "truncate": f(2, 2, resolveRound),
		"floor": f(1, 1, resolveFloor), "ceil": f(1, 1, resolveFloor),
		"pow": f(2, 2, resolveFloatFunc), "sqrt": f(1, 1, resolveFloatFunc), "exp": f(1, 1, resolveFloatFunc),
		"ln": f(1, 1, resolveFloatFunc), "log": f(1, 2, resolveFloatFunc), "log10": f(1, 1, resolveFloatFunc),
		"log2":  f(1, 1, resolveFloatFunc),
		"lower": f(1, 1, resolveString), "upper": f(1, 1, resolveString), "reverse": f(1, 1, resolveString),
		"length": f(1, 1, resolveString), "char_length": f(1, 1, resolveString),
		"trim": f(1, 2, resolveString), "ltrim": f(1, 2, resolveString), "rtrim": f(1, 2, resolveString),
		"concat": f(1, -1, resolveString), "concat_ws": f(2, -1, resolveString),
		"substring": f(2, 3, resolveString), "left": f(2, 2, resolveString), "right": f(2, 2, resolveString),
		"replace": f(3, 3, resolveString), "locate": f(2, 3, resolveString), "instr": f(2, 2, resolveString),
		"lpad": f(3, 3, resolveString), "rpad": f(3, 3, resolveString), "repeat": f(2, 2, resolveString),
		"year": f(1, 1, resolveDatePart), "month": f(1, 1, resolveDatePart), "day": f(1, 1, resolveDatePart),
		"dayofweek": f(1, 1, resolveDatePart), "weekday": f(1, 1, resolveDatePart),
		"dayofyear": f(1, 1, resolveDatePart), "quarter": f(1, 1, resolveDatePart),
		"hour": f(1, 1, resolveDatePart), "minute": f(1, 1, resolveDatePart), "second": f(1, 1, resolveDatePart),
		"microsecond": f(1, 1, resolveDatePart),
		"datediff":    f(2, 2, resolveDateDiff),
		"date_add":    f(3, 3, resolveDateAdd), "date_sub": f(3, 3, resolveDateAdd),
		"date_format": f(2, 2, resolveDateFormat),
		"extract":     f(2, 2, resolveExtract),
		"str_to_date": f(2, 2, resolveStrToDate),
		"convert":     f(2, 2, resolveConvert),
	}
}

// KnownFunction reports whether name (lower-case) is a scalar function or
// operator ResolveCall accepts.
func KnownFunction(name string) bool {
	if _, ok := funcAliases[name]; ok {
		return true
	}
	_, ok := scalarFuncs[name]
	return ok
}

// FunctionNames lists the functions callable by name (operators left out),
// sorted, for "did you mean" suggestions.
func FunctionNames() []string {
	var out []string
	operators := map[string]bool{"neg": true, "in": true, "and": true, "or": true, "xor": true, "not": true,
		"like": true, "regexp": true, "rlike": true, "div": true, "case": true, "isnotnull": true,
		"istrue": true, "isfalse": true, "isnottrue": true, "isnotfalse": true}
	add := func(n string) {
		if n[0] >= 'a' && n[0] <= 'z' && !operators[n] {
			out = append(out, n)
		}
	}
	for n := range scalarFuncs {
		add(n)
	}
	for n := range funcAliases {
		add(n)
	}
	sort.Strings(out)
	return out
}

// ResolveCall type-checks a call of the scalar function or operator name
// (lower-case) and returns the typed node, with Cast nodes around arguments
// whose kind the kernel does not take and literal arguments folded.
func ResolveCall(name string, args []*Expr) (*Expr, error) {
	if a, ok := funcAliases[name]; ok {
		name = a
	}
	f := scalarFuncs[name]
	if f == nil {
		return nil, &unsupportedError{what: "function " + strings.ToUpper(name)}
	}
	c := &call{name: name, args: args}
	if len(args) < f.minArgs || (f.maxArgs >= 0 && len(args) > f.maxArgs) {
		want := strconv.Itoa(f.minArgs)
		switch {
		case f.maxArgs < 0:
			want = "at least " + want
		case f.maxArgs != f.minArgs:
			want += " to " + strconv.Itoa(f.maxArgs)
		}
		return nil, &TypeError{Msg: fmt.Sprintf("wrong number of arguments to %s: got %d, want %s", strings.ToUpper(name), len(args), want)}
	}
	return f.resolve(c)
}

// Cast converts e to t with MySQL's CAST rules: e itself when it already has
// type t, a folded literal when e is a literal, else a "cast" node. Every
// pair of types converts (an impossible value becomes NULL, as MySQL's
// CAST does with a warning).
func Cast(e *Expr, t Type) *Expr {
	if n, ok := hexNumber(e); ok && t.Kind != KindString {
		e = n
	}
	if e.Type == t {
		return e
	}
	if e.Kind == ExprLiteral {
		v, _ := CastValue(e.Value, e.Type, t)
		return Lit(v, t)
	}
	return Call("cast", t, e)
}

// CastStrict is Cast for strict contexts (storing into a typed column): a
// value that does not convert exactly (a string that is not a number, an
// out-of-range number, an invalid date) is an error instead of a warning. A
// literal is checked now; other values at run time ("cast_strict" node).
func CastStrict(e *Expr, t Type) (*Expr, error) {
	if e.Type == t {
		return e, nil
	}
	if e.Kind == ExprLiteral {
		v, ok := castValue(e.Value, e.Type, t, true)
		if !ok {
			return nil, fmt.Errorf("incorrect %s value: %s", t, FormatLiteral(e.Value, e.Type))
		}
		return Lit(v, t), nil
	}
	return Call("cast_strict", t, e), nil
}

// call is a call being resolved.
type call struct {
	name string
	args []*Expr
}

func (c *call) String() string { return Call(c.name, Null, c.args...).String() }

func (c *call) errorf(format string, a ...any) error {
	return &TypeError{Msg: fmt.Sprintf(format, a...) + " in " + c.String()}
}

func (c *call) node(t Type, args ...*Expr) *Expr { return Call(c.name, t, args...) }

// --- type helpers ---

func isNullLit(e *Expr) bool { return e.Kind == ExprLiteral && e.Value.Null }

func anyNullLit(es ...*Expr) bool {
	for _, e := range es {
		if isNullLit(e) {
			return true
		}
	}
	return false
}

func isTemporal(k Kind) bool { return k == KindDate || k == KindDatetime }

func boolLit(b bool) *Expr {
	v := Value{}
	if b {
		v.I = 1
	}
	return Lit(v, Bool)
}

// hexNumber returns a hexadecimal or bit literal as the BIGINT UNSIGNED it
// is in numeric context: its bytes big-endian, and past 64 bits the
// largest value (MySQL clips it so, with a warning).
func hexNumber(e *Expr) (*Expr, bool) {
	if e.Kind != ExprLiteral || !e.Hex || e.Value.Null {
		return nil, false
	}
	b := []byte(e.Value.S)
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) > 8 {
		return Lit(Value{U: math.MaxUint64}, Uint), true
	}
	var u uint64
	for _, c := range b {
		u = u<<8 | uint64(c)
	}
	return Lit(Value{U: u}, Uint), true
}

// numOperand converts an arithmetic operand to a number the way MySQL does:
// booleans and dates as integers (a date as YYYYMMDD), strings as DOUBLE.
func numOperand(e *Expr) *Expr {
	if n, ok := hexNumber(e); ok {
		return n
	}
	switch e.Type.Kind {
	case KindBool, KindDate, KindDatetime:
		return Cast(e, Int)
	case KindString:
		return Cast(e, Float)
	}
	return e
}

// decPrec is the number of digits e has as a DECIMAL operand: a literal
// integer counts its own digits, as MySQL's decimal_precision() does.
func decPrec(e *Expr) int {
	switch e.Type.Kind {
	case KindDecimal:
		return e.Type.Prec
	case KindInt:
		if e.Kind == ExprLiteral && !e.Value.Null {
			return digitsU(absU(e.Value.I))
		}
		return 19
	case KindUint:
		if e.Kind == ExprLiteral && !e.Value.Null {
			return digitsU(e.Value.U)
		}
		return 20
	case KindBool:
		return 1
	case KindDate:
		return 8
	case KindDatetime:
		return 14
	}
	return 19
}

func absU(i int64) uint64 {
	if i < 0 {
		return uint64(-(i + 1)) + 1
	}
	return uint64(i)
}

func digitsU(u uint64) int {
	n := 1
	for u >= 10 {
		u /= 10
		n++
	}
	return n
}

// toDecimalScale converts an exact operand to a DECIMAL of scale s.
func toDecimalScale(e *Expr, s int) *Expr {
	if e.Type.Kind == KindDecimal {
		if e.Type.Scale == s {
			return e
		}
		return Cast(e, Decimal(e.Type.Prec-e.Type.Scale+s, s))
	}
	return Cast(e, Decimal(decPrec(e)+s, s))
}

func toDecimal(e *Expr) *Expr {
	if e.Type.Kind == KindDecimal {
		return e
	}
	return toDecimalScale(e, 0)
}

// castLike converts e to t, leaving a DECIMAL of t's scale alone: kernels
// that pick values from several inputs need one physical scale only.
func castLike(e *Expr, t Type) *Expr {
	if t.Kind == KindDecimal && e.Type.Kind == KindDecimal && e.Type.Scale == t.Scale {
		return e
	}
	return Cast(e, t)
}

// unifyTypes is MySQL's type aggregation for CASE, IF, COALESCE, GREATEST
// and friends: strings win, temporals mixed with numbers become strings,
// numbers widen to DOUBLE or a DECIMAL wide enough for every argument. It
// returns Null when every argument is NULL.
func unifyTypes(args []*Expr) Type {
	var str, date, datetime, boolean, integer, unsigned, dec, float bool
	intDigits, scale := 0, 0
	for _, a := range args {
		switch a.Type.Kind {
		case KindNull:
			continue
		case KindString:
			str = true
		case KindDate:
			date = true
		case KindDatetime:
			datetime = true
		case KindBool:
			boolean = true
		case KindInt:
			integer = true
		case KindUint:
			unsigned = true
		case KindDecimal:
			dec = true
		case KindFloat:
			float = true
		}
		if a.Type.IsNumeric() {
			s := 0
			if a.Type.Kind == KindDecimal {
				s = a.Type.Scale
			}
			intDigits = max(intDigits, decPrec(a)-s)
			scale = max(scale, s)
		}
	}
	numeric := boolean || integer || unsigned || dec || float
	temporal := date || datetime
	switch {
	case str || (temporal && numeric):
		return String
	case datetime:
		return Datetime
	case date:
		return Date
	case float:
		return Float
	case dec || (integer && unsigned):
		return Decimal(intDigits+scale, scale)
	case unsigned:
		return Uint
	case integer:
		return Int
	case boolean:
		return Bool
	}
	return Null
}

// --- arithmetic ---

func decimalResult(op string, a, b Type) Type {
	switch op {
	case "+", "-":
		s := max(a.Scale, b.Scale)
		return Decimal(max(a.Prec-a.Scale, b.Prec-b.Scale)+s+1, s)
	case "*":
		return Decimal(a.Prec+b.Prec, min(a.Scale+b.Scale, MaxDecimalScale))
	case "%":
		s := max(a.Scale, b.Scale)
		return Decimal(max(a.Prec-a.Scale, b.Prec-b.Scale)+s, s)
	case "/":
		return divideType(a, b, DivPrecisionIncrement)
	}
	return Int // div
}

func resolveArith(c *call) (*Expr, error) {
	a, b := numOperand(c.args[0]), numOperand(c.args[1])
	switch {
	case a.Type.Kind == KindNull && b.Type.Kind == KindNull:
		a, b = Cast(a, Int), Cast(b, Int)
	case a.Type.Kind == KindNull:
		a = Cast(a, b.Type)
	case b.Type.Kind == KindNull:
		b = Cast(b, a.Type)
	}
	ka, kb := a.Type.Kind, b.Type.Kind
	var t Type
	switch {
	case ka == KindFloat || kb == KindFloat:
		a, b, t = Cast(a, Float), Cast(b, Float), Float
		if c.name == "div" {
			t = Int
		}
	case ka == KindDecimal || kb == KindDecimal || c.name == "/":
		da, db := toDecimal(a), toDecimal(b)
		t = decimalResult(c.name, da.Type, db.Type)
		if c.name == "+" || c.name == "-" || c.name == "%" {
			// These kernels take operands of one scale.
			s := max(da.Type.Scale, db.Type.Scale)
			da, db = toDecimalScale(a, s), toDecimalScale(b, s)
		}
		a, b = da, db
	case c.name == "%":
		// MySQL: the sign and signedness of MOD follow the dividend.
		t = Int
		if ka == KindUint {
			t = Uint
		}
	case ka == KindUint || kb == KindUint:
		t = Uint
	default:
		t = Int
	}
	if anyNullLit(a, b) {
		return NullLit(t), nil
	}
	return c.node(t, a, b), nil
}

func resolveNeg(c *call) (*Expr, error) {
	a := numOperand(c.args[0])
	switch {
	case a.Type.Kind == KindNull:
		return NullLit(Int), nil
	case a.Kind == ExprLiteral:
		return foldNeg(a), nil
	}
	t := a.Type
	if t.Kind == KindUint {
		t = Int
	}
	return c.node(t, a), nil
}

// foldNeg negates a numeric literal the way MySQL types a negated constant:
// an integer stays BIGINT unless the constant was negative already, which
// makes the result DECIMAL (so "- - 98" is DECIMAL 98).
func foldNeg(l *Expr) *Expr {
	v := l.Value
	if v.Null {
		return l
	}
	switch l.Type.Kind {
	case KindInt:
		if v.I < 0 {
			n := decimal128.FromI64(v.I).Negate()
			return Lit(DecValue(n), Decimal(digitsU(absU(v.I)), 0))
		}
		return Lit(Value{I: -v.I}, Int)
	case KindUint:
		if v.U <= 1<<63 {
			return Lit(Value{I: -int64(v.U)}, Int)
		}
		return Lit(DecValue(decimal128.FromU64(v.U).Negate()), Decimal(20, 0))
	case KindFloat:
		return Lit(Value{F: -v.F}, Float)
	case KindDecimal:
		return Lit(DecValue(v.Dec().Negate()), l.Type)
	}
	return l
}

// --- comparisons ---

// cmpType picks the type two operands compare as (MySQL's
// Arg_comparator): strings as strings, a temporal against a string as that
// temporal (a DATE against a string with a time of day as DATETIME), a
// string against a number as DOUBLE, exact numbers as DECIMAL when one is
// DECIMAL. A Decimal result only says "DECIMAL"; comparable picks the scale.
func (c *call) cmpType(a, b *Expr) (Type, error) {
	ta, tb := a.Type, b.Type
	switch {
	case ta.Kind == KindNull && tb.Kind == KindNull:
		return Int, nil
	case ta.Kind == KindNull:
		ta = tb
	case tb.Kind == KindNull:
		tb = ta
	}
	ka, kb := ta.Kind, tb.Kind
	if isTemporal(ka) || isTemporal(kb) {
		switch {
		case ka == KindBool || kb == KindBool:
			return Type{}, c.errorf("cannot compare %s and %s", a.Type, b.Type)
		case isTemporal(ka) && isTemporal(kb):
			if ka == kb {
				return ta, nil
			}
			return Datetime, nil
		case ka == KindString || kb == KindString:
			t, s := ta, b
			if isTemporal(kb) {
				t, s = tb, a
			}
			if t.Kind == KindDate && s.Kind == ExprLiteral {
				if _, hasTime, ok := ParseDatetime(s.Value.S); !ok || !hasTime {
					return Date, nil
				}
			}
			return Datetime, nil
		}
		// A temporal against a number compares as numbers (YYYYMMDD).
		if isTemporal(ka) {
			ka = KindInt
		}
		if isTemporal(kb) {
			kb = KindInt
		}
	}
	if ka == KindBool {
		ka = KindInt
	}
	if kb == KindBool {
		kb = KindInt
	}
	switch {
	case ka == KindString && kb == KindString:
		return String, nil
	case ka == KindString || kb == KindString || ka == KindFloat || kb == KindFloat:
		return Float, nil
	case ka == KindDecimal || kb == KindDecimal || (ka == KindUint) != (kb == KindUint):
		return Type{Kind: KindDecimal}, nil
	case ka == KindUint:
		return Uint, nil
	}
	return Int, nil
}

// numCmpOperand turns booleans and temporals into integers for a numeric
// comparison.
func numCmpOperand(e *Expr) *Expr {
	switch e.Type.Kind {
	case KindBool, KindDate, KindDatetime:
		return Cast(e, Int)
	}
	return e
}

// comparable converts a and b to the type they compare as.
func (c *call) comparable(a, b *Expr) (*Expr, *Expr, error) {
	t, err := c.cmpType(a, b)
	if err != nil {
		return nil, nil, err
	}
	if t.Kind != KindDecimal {
		return Cast(a, t), Cast(b, t), nil
	}
	a, b = numCmpOperand(a), numCmpOperand(b)
	if a.Type.Kind == KindNull {
		a = Cast(a, b.Type)
	}
	if b.Type.Kind == KindNull {
		b = Cast(b, a.Type)
	}
	if x, y, ok := narrowLiteral(a, b); ok {
		return x, y, nil
	}
	if y, x, ok := narrowLiteral(b, a); ok {
		return x, y, nil
	}
	s := max(scaleOf(a), scaleOf(b))
	return toDecimalScale(a, s), toDecimalScale(b, s), nil
}

func scaleOf(e *Expr) int {
	if e.Type.Kind == KindDecimal {
		return e.Type.Scale
	}
	return 0
}

// narrowLiteral compares an integer column with a literal as integers when
// the literal is a whole number of the column's kind, which saves converting
// every row to DECIMAL (int_col = 2.0, uint_col = 5).
func narrowLiteral(col, lit *Expr) (*Expr, *Expr, bool) {
	if lit.Kind != ExprLiteral || lit.Value.Null {
		return nil, nil, false
	}
	switch col.Type.Kind {
	case KindInt:
		switch lit.Type.Kind {
		case KindDecimal:
			q, r := new(big.Int).QuoRem(lit.Value.Dec().BigInt(), pow10Big(lit.Type.Scale), new(big.Int))
			if r.Sign() == 0 && q.IsInt64() {
				return col, Lit(Value{I: q.Int64()}, Int), true
			}
		case KindUint:
			if lit.Value.U <= math.MaxInt64 {
				return col, Lit(Value{I: int64(lit.Value.U)}, Int), true
			}
		}
	case KindUint:
		if lit.Type.Kind == KindInt && lit.Value.I >= 0 {
			return col, Lit(Value{U: uint64(lit.Value.I)}, Uint), true
		}
	}
	return nil, nil, false
}

func resolveCompare(c *call) (*Expr, error) {
	x, y := c.args[0], c.args[1]
	a, b, err := c.comparable(x, y)
	if err != nil {
		return nil, err
	}
	if c.name == "<=>" {
		switch {
		case isNullLit(x) && isNullLit(y):
			return boolLit(true), nil
		case isNullLit(x):
			return Call("isnull", Bool, y), nil
		case isNullLit(y):
			return Call("isnull", Bool, x), nil
		}
	} else if anyNullLit(a, b) {
		return NullLit(Bool), nil
	}
	return c.node(Bool, a, b), nil
}

func resolveIn(c *call) (*Expr, error) {
	cur := c.args[0]
	for _, it := range c.args[1:] {
		t, err := c.cmpType(cur, it)
		if err != nil {
			return nil, err
		}
		cur = &Expr{Kind: ExprColumn, Type: t}
	}
	t := cur.Type
	out := make([]*Expr, len(c.args))
	if t.Kind == KindDecimal {
		s := 0
		for i, a := range c.args {
			out[i] = numCmpOperand(a)
			s = max(s, scaleOf(out[i]))
		}
		for i := range out {
			if out[i].Type.Kind == KindNull {
				out[i] = NullLit(Decimal(1+s, s))
				continue
			}
			out[i] = toDecimalScale(out[i], s)
		}
	} else {
		for i, a := range c.args {
			out[i] = Cast(a, t)
		}
	}
	if isNullLit(out[0]) {
		return NullLit(Bool), nil
	}
	allNull := true
	for _, it := range out[1:] {
		allNull = allNull && isNullLit(it)
	}
	if allNull {
		return NullLit(Bool), nil
	}
	return c.node(Bool, out...), nil
}

// --- logic ---

func resolveLogic(c *call) (*Expr, error) {
	args := make([]*Expr, len(c.args))
	for i, a := range c.args {
		args[i] = Cast(a, Bool)
	}
	switch c.name {
	case "not":
		a := args[0]
		if a.Kind == ExprLiteral {
			if a.Value.Null {
				return a, nil
			}
			return boolLit(a.Value.I == 0), nil
		}
	case "xor":
		if anyNullLit(args...) {
			return NullLit(Bool), nil
		}
	}
	return c.node(Bool, args...), nil
}

func resolveIsNull(c *call) (*Expr, error) {
	a := c.args[0]
	if a.Kind == ExprLiteral {
		return boolLit(a.Value.Null == (c.name == "isnull")), nil
	}
	return c.node(Bool, a), nil
}

func resolveIsTrue(c *call) (*Expr, error) {
	a := Cast(c.args[0], Bool)
	if a.Kind == ExprLiteral {
		var r bool
		switch c.name {
		case "istrue":
			r = !a.Value.Null && a.Value.I != 0
		case "isfalse":
			r = !a.Value.Null && a.Value.I == 0
		case "isnottrue":
			r = a.Value.Null || a.Value.I == 0
		case "isnotfalse":
			r = a.Value.Null || a.Value.I != 0
		}
		return boolLit(r), nil
	}
	return c.node(Bool, a), nil
}

// --- pattern matching ---

func resolveLike(c *call) (*Expr, error) {
	args := []*Expr{Cast(c.args[0], String), Cast(c.args[1], String)}
	if len(c.args) == 3 {
		e := Cast(c.args[2], String)
		if e.Kind != ExprLiteral || e.Value.Null || utf8.RuneCountInString(e.Value.S) > 1 {
			return nil, c.errorf("ESCAPE must be a constant string of at most one character")
		}
		args = append(args, e)
	}
	if anyNullLit(args[0], args[1]) {
		return NullLit(Bool), nil
	}
	return c.node(Bool, args...), nil
}

func resolveRegexp(c *call) (*Expr, error) {
	a, b := Cast(c.args[0], String), Cast(c.args[1], String)
	if anyNullLit(a, b) {
		return NullLit(Bool), nil
	}
	return c.node(Bool, a, b), nil
}

// --- conditionals ---

func resolveCase(c *call) (*Expr, error) {
	args := c.args
	var vals []*Expr
	for i := 1; i < len(args); i += 2 {
		vals = append(vals, args[i])
	}
	hasElse := len(args)%2 == 1
	var elseVal *Expr
	if hasElse {
		elseVal = args[len(args)-1]
		vals = append(vals, elseVal)
	}
	t := unifyTypes(vals)
	if t.Kind == KindNull {
		return NullLit(Null), nil
	}
	var out []*Expr
	for i := 0; i+1 < len(args); i += 2 {
		cond := Cast(args[i], Bool)
		if cond.Kind == ExprLiteral {
			if cond.Value.Null || cond.Value.I == 0 {
				continue // never taken
			}
			// Always taken: it is the else of what precedes it.
			elseVal, hasElse = args[i+1], true
			break
		}
		out = append(out, cond, castLike(args[i+1], t))
	}
	if len(out) == 0 {
		if !hasElse {
			return NullLit(t), nil
		}
		return Cast(elseVal, t), nil
	}
	if hasElse {
		out = append(out, castLike(elseVal, t))
	}
	if c.name == "if" && len(out) != 3 {
		c = &call{name: "case"}
	}
	return c.node(t, out...), nil
}

func resolveCoalesce(c *call) (*Expr, error) {
	t := unifyTypes(c.args)
	if t.Kind == KindNull {
		return NullLit(Null), nil
	}
	var out []*Expr
	for _, a := range c.args {
		if isNullLit(a) {
			continue
		}
		out = append(out, castLike(a, t))
		if a.Kind == ExprLiteral {
			break // never NULL: later arguments are never reached
		}
	}
	switch len(out) {
	case 0:
		return NullLit(t), nil
	case 1:
		return Cast(out[0], t), nil
	}
	return c.node(t, out...), nil
}

func resolveNullIf(c *call) (*Expr, error) {
	a, b := c.args[0], c.args[1]
	if _, _, err := c.comparable(a, b); err != nil {
		return nil, err
	}
	switch {
	case isNullLit(a):
		return a, nil
	case isNullLit(b):
		return a, nil
	}
	return c.node(a.Type, a, b), nil
}

func resolveGreatest(c *call) (*Expr, error) {
	t := unifyTypes(c.args)
	switch t.Kind {
	case KindNull:
		return NullLit(Null), nil
	case KindBool:
		t = Int
	}
	out := make([]*Expr, len(c.args))
	for i, a := range c.args {
		if isNullLit(a) {
			return NullLit(t), nil
		}
		out[i] = castLike(a, t)
	}
	return c.node(t, out...), nil
}

// --- math ---

func resolveAbs(c *call) (*Expr, error) {
	a := numOperand(c.args[0])
	if a.Type.Kind == KindNull || isNullLit(a) {
		return NullLit(a.Type.orInt()), nil
	}
	return c.node(a.Type, a), nil
}

func (t Type) orInt() Type {
	if t.Kind == KindNull {
		return Int
	}
	return t
}

func resolveSign(c *call) (*Expr, error) {
	a := numOperand(c.args[0])
	if a.Type.Kind == KindNull || isNullLit(a) {
		return NullLit(Int), nil
	}
	return c.node(Int, a), nil
}

// resolveRound types ROUND(x, d) and TRUNCATE(x, d) like MySQL: an integer
// stays an integer, a DOUBLE a DOUBLE, and a DECIMAL gets scale d when d is
// a constant (one more digit for ROUND's carry).
func resolveRound(c *call) (*Expr, error) {
	x := numOperand(c.args[0])
	d := Lit(Value{}, Int)
	if len(c.args) == 2 {
		d = Cast(c.args[1], Int)
	}
	t := x.Type.orInt()
	if t.Kind == KindDecimal {
		p, s := t.Prec, t.Scale
		if d.Kind == ExprLiteral && !d.Value.Null {
			ds := int(min(max(d.Value.I, 0), MaxDecimalScale))
			carry := 0
			if ds < s && c.name == "round" {
				carry = 1
			}
			t = Decimal(p-s+ds+carry, ds)
		} else {
			t = Decimal(p+1, s)
		}
	}
	if x.Type.Kind == KindNull || anyNullLit(x, d) {
		return NullLit(t), nil
	}
	return c.node(t, x, d), nil
}

func resolveFloor(c *call) (*Expr, error) {
	x := numOperand(c.args[0])
	switch t := x.Type; t.Kind {
	case KindNull:
		return NullLit(Int), nil
	case KindInt, KindUint:
		return x, nil
	case KindDecimal:
		if t.Scale == 0 {
			return x, nil
		}
		rt := Int
		if t.Prec-t.Scale >= 18 {
			rt = Decimal(t.Prec-t.Scale+1, 0)
		}
		if isNullLit(x) {
			return NullLit(rt), nil
		}
		return c.node(rt, x), nil
	}
	if isNullLit(x) {
		return NullLit(Float), nil
	}
	return c.node(Float, x), nil
}

func resolveFloatFunc(c *call) (*Expr, error) {
	args := make([]*Expr, len(c.args))
	for i, a := range c.args {
		args[i] = Cast(a, Float)
	}
	if anyNullLit(args...) {
		return NullLit(Float), nil
	}
	return c.node(Float, args...), nil
}

// --- strings ---

// stringSig gives each string function's argument kinds ('s' VARCHAR, 'i'
// BIGINT) and its result.
var stringSig = map[string]struct {
	args   string // per argument; the last letter repeats
	result Type
}{
	"lower": {"s", String}, "upper": {"s", String}, "reverse": {"s", String},
	"length": {"s", Int}, "char_length": {"s", Int},
	"trim": {"s", String}, "ltrim": {"s", String}, "rtrim": {"s", String},
	"concat": {"s", String}, "concat_ws": {"s", String},
	"substring": {"sii", String}, "left": {"si", String}, "right": {"si", String},
	"replace": {"s", String}, "locate": {"ssi", Int},
	"lpad": {"sis", String}, "rpad": {"sis", String}, "repeat": {"si", String},
}

func resolveString(c *call) (*Expr, error) {
	if c.name == "instr" {
		return ResolveCall("locate", []*Expr{c.args[1], c.args[0]})
	}
	sig := stringSig[c.name]
	args := make([]*Expr, len(c.args))
	for i, a := range c.args {
		k := sig.args[min(i, len(sig.args)-1)]
		if k == 'i' {
			args[i] = Cast(a, Int)
		} else {
			args[i] = Cast(a, String)
		}
	}
	if c.name == "concat_ws" {
		// NULL values are skipped; only a NULL separator makes it NULL.
		if isNullLit(args[0]) {
			return NullLit(String), nil
		}
		kept := args[:1]
		for _, a := range args[1:] {
			if !isNullLit(a) {
				kept = append(kept, a)
			}
		}
		if len(kept) == 1 {
			return Lit(Value{S: ""}, String), nil
		}
		return c.node(String, kept...), nil
	}
	if anyNullLit(args...) {
		return NullLit(sig.result), nil
	}
	return c.node(sig.result, args...), nil
}

// --- dates ---

// dateArg converts the argument of a date-part function to DATE or
// DATETIME: strings parse as DATETIME, numbers as YYYYMMDD[hhmmss].
func dateArg(e *Expr, wantTime bool) *Expr {
	switch e.Type.Kind {
	case KindDatetime, KindNull:
		return e
	case KindDate:
		if wantTime {
			return Cast(e, Datetime)
		}
		return e
	case KindString:
		return Cast(e, Datetime)
	}
	if wantTime || (e.Kind == ExprLiteral && absU(e.Value.I) > 99991231) {
		return Cast(e, Datetime)
	}
	return Cast(e, Date)
}

var timeParts = map[string]bool{"hour": true, "minute": true, "second": true, "microsecond": true}

func resolveDatePart(c *call) (*Expr, error) {
	a := dateArg(c.args[0], timeParts[c.name])
	if a.Type.Kind == KindNull || isNullLit(a) {
		return NullLit(Int), nil
	}
	return c.node(Int, a), nil
}

func resolveDateDiff(c *call) (*Expr, error) {
	a, b := Cast(dateArg(c.args[0], false), Date), Cast(dateArg(c.args[1], false), Date)
	if anyNullLit(a, b) {
		return NullLit(Int), nil
	}
	return c.node(Int, a, b), nil
}

// IntervalUnits lists the units DATE_ADD and DATE_SUB take; true marks the
// units that keep a DATE a DATE.
var IntervalUnits = map[string]bool{
	"microsecond": false, "second": false, "minute": false, "hour": false,
	"day": true, "week": true, "month": true, "quarter": true, "year": true,
}

// compositeUnits lists the multi-field INTERVAL units with the size of
// each field, in months for YEAR_MONTH and in microseconds for the others.
var compositeUnits = map[string][]int64{
	"year_month":         {12, 1},
	"day_hour":           {86_400_000_000, 3_600_000_000},
	"day_minute":         {86_400_000_000, 3_600_000_000, 60_000_000},
	"day_second":         {86_400_000_000, 3_600_000_000, 60_000_000, 1_000_000},
	"day_microsecond":    {86_400_000_000, 3_600_000_000, 60_000_000, 1_000_000, 1},
	"hour_minute":        {3_600_000_000, 60_000_000},
	"hour_second":        {3_600_000_000, 60_000_000, 1_000_000},
	"hour_microsecond":   {3_600_000_000, 60_000_000, 1_000_000, 1},
	"minute_second":      {60_000_000, 1_000_000},
	"minute_microsecond": {60_000_000, 1_000_000, 1},
	"second_microsecond": {1_000_000, 1},
}

// ParseCompositeInterval reads the amount of a composite INTERVAL unit as
// MySQL does: an optional '-', then numbers separated by any non-digits;
// when fewer numbers than fields are given, they fill the rightmost fields
// ('1:10' HOUR_SECOND is 1 minute 10 seconds), and a microsecond field is
// the digits of a fraction ('1.5' SECOND_MICROSECOND is 1.5 s). It returns
// the total in the unit's base (months or microseconds).
func ParseCompositeInterval(s, unit string) (int64, bool) {
	sizes := compositeUnits[unit]
	if sizes == nil {
		return 0, false
	}
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	for i < len(s) && !isDigit(s[i]) {
		i++
	}
	n := len(sizes)
	micros := sizes[n-1] == 1 && unit != "year_month"
	vals := make([]int64, n)
	got := 0
	for got < n {
		start := i
		var v int64
		for i < len(s) && isDigit(s[i]) {
			if v > (math.MaxInt64-10)/10 {
				return 0, false
			}
			v = v*10 + int64(s[i]-'0')
			i++
		}
		if micros && got == n-1 {
			// A fraction of a second: '5' is 500000 microseconds.
			w := i - start
			for ; w < 6; w++ {
				v *= 10
			}
			for ; w > 6; w-- {
				v /= 10
			}
		}
		vals[got] = v
		got++
		for i < len(s) && !isDigit(s[i]) {
			i++
		}
		if i == len(s) {
			break
		}
	}
	// Fewer numbers than fields: they are the rightmost fields.
	copy(vals[n-got:], vals[:got])
	clear(vals[:n-got])
	total := new(big.Int)
	for k, v := range vals {
		total.Add(total, new(big.Int).Mul(big.NewInt(v), big.NewInt(sizes[k])))
	}
	if !total.IsInt64() {
		return 0, false
	}
	if neg {
		return -total.Int64(), true
	}
	return total.Int64(), true
}

func resolveDateAdd(c *call) (*Expr, error) {
	u := c.args[2]
	if u.Kind != ExprLiteral || u.Type.Kind != KindString {
		return nil, c.errorf("the INTERVAL unit must be a keyword")
	}
	unit := strings.ToLower(u.Value.S)
	amount := c.args[1]
	if _, ok := compositeUnits[unit]; ok {
		// Fold 'd h' DAY_HOUR and friends into one simple unit.
		if amount.Kind != ExprLiteral {
			return nil, &unsupportedError{what: "a non-constant INTERVAL of unit " + strings.ToUpper(unit)}
		}
		base := "microsecond"
		if unit == "year_month" {
			base = "month"
		}
		if amount.Value.Null {
			amount = NullLit(Int)
		} else {
			sv, _ := CastValue(amount.Value, amount.Type, String)
			n, ok := ParseCompositeInterval(sv.S, unit)
			if !ok {
				return nil, c.errorf("INTERVAL value %s out of range", FormatLiteral(amount.Value, amount.Type))
			}
			amount = Lit(Value{I: n}, Int)
		}
		c = &call{name: c.name, args: []*Expr{c.args[0], amount, Lit(Value{S: base}, String)}}
		unit = base
	}
	dateUnit, ok := IntervalUnits[unit]
	if !ok {
		return nil, &unsupportedError{what: "INTERVAL unit " + strings.ToUpper(unit)}
	}
	if unit == "second" {
		switch amount.Type.Kind {
		case KindDecimal, KindFloat, KindString:
			// A fractional number of seconds keeps its fraction
			// (INTERVAL 1.5 SECOND), where other units round to whole ones.
			secs := Cast(amount, Decimal(MaxDecimalPrecision-6, 6))
			var us *Expr
			switch {
			case secs.Kind == ExprLiteral && secs.Value.Null:
				us = NullLit(Int)
			case secs.Kind == ExprLiteral:
				// The unscaled DECIMAL(…, 6) is the number of microseconds.
				b := secs.Value.Dec().BigInt()
				if !b.IsInt64() {
					return nil, c.errorf("INTERVAL value %s out of range", FormatLiteral(amount.Value, amount.Type))
				}
				us = Lit(Value{I: b.Int64()}, Int)
			default:
				var err error
				if us, err = ResolveCall("*", []*Expr{secs, Lit(Value{I: 1_000_000}, Int)}); err != nil {
					return nil, err
				}
			}
			c = &call{name: c.name, args: []*Expr{c.args[0], us, Lit(Value{S: "microsecond"}, String)}}
			unit = "microsecond"
		}
	}
	d := c.args[0]
	switch d.Type.Kind {
	case KindDate:
		if !dateUnit {
			d = Cast(d, Datetime)
		}
	case KindDatetime, KindNull:
	case KindString:
		_, hasTime, ok := ParseDatetime(d.Value.S)
		if d.Kind == ExprLiteral && dateUnit && ok && !hasTime {
			d = Cast(d, Date)
		} else {
			d = Cast(d, Datetime)
		}
	default:
		if dateUnit {
			d = Cast(d, Date)
		} else {
			d = Cast(d, Datetime)
		}
	}
	t := d.Type
	if t.Kind == KindNull {
		t = Datetime
	}
	n := Cast(c.args[1], Int)
	if anyNullLit(d, n) || d.Type.Kind == KindNull {
		return NullLit(t), nil
	}
	return c.node(t, d, n, Lit(Value{S: unit}, String)), nil
}

func resolveDateFormat(c *call) (*Expr, error) {
	d, f := dateArg(c.args[0], true), Cast(c.args[1], String)
	if d.Type.Kind == KindNull || anyNullLit(d, f) {
		return NullLit(String), nil
	}
	return c.node(String, d, f), nil
}

// extractUnits lists EXTRACT's units; true marks those that read the time
// of day.
var extractUnits = map[string]bool{
	"year": false, "quarter": false, "month": false, "week": false, "day": false, "year_month": false,
	"hour": true, "minute": true, "second": true, "microsecond": true,
	"day_hour": true, "day_minute": true, "day_second": true, "day_microsecond": true,
	"hour_minute": true, "hour_second": true, "hour_microsecond": true,
	"minute_second": true, "minute_microsecond": true, "second_microsecond": true,
}

// resolveExtract types EXTRACT(unit FROM d), bound as extract(unit, d), into
// the node extract(d, unit).
func resolveExtract(c *call) (*Expr, error) {
	u := c.args[0]
	if u.Kind != ExprLiteral || u.Type.Kind != KindString {
		return nil, c.errorf("the EXTRACT unit must be a keyword")
	}
	unit := strings.ToLower(u.Value.S)
	wantTime, ok := extractUnits[unit]
	if !ok {
		return nil, &unsupportedError{what: "EXTRACT unit " + strings.ToUpper(unit)}
	}
	d := dateArg(c.args[1], wantTime)
	if d.Type.Kind == KindNull || isNullLit(d) {
		return NullLit(Int), nil
	}
	return c.node(Int, d, Lit(Value{S: unit}, String)), nil
}

// StrToDateType is the type STR_TO_DATE returns for a constant format, as
// MySQL decides it from the specifiers: DATETIME when there are date and
// time specifiers, DATE when only date ones (or none). timeOnly reports a
// format with only time specifiers, whose result (TIME) quern lacks.
func StrToDateType(format string) (t Type, timeOnly bool) {
	date, tod := false, false
	for i := 0; i+1 < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		switch format[i] {
		case 'a', 'b', 'c', 'D', 'd', 'e', 'j', 'M', 'm', 'U', 'u', 'V', 'v', 'W', 'w', 'X', 'x', 'Y', 'y':
			date = true
		case 'f', 'H', 'h', 'I', 'i', 'k', 'l', 'p', 'r', 'S', 's', 'T':
			tod = true
		}
	}
	switch {
	case tod && date:
		return Datetime, false
	case tod:
		return Datetime, true
	}
	return Date, false
}

func resolveStrToDate(c *call) (*Expr, error) {
	s, f := Cast(c.args[0], String), Cast(c.args[1], String)
	t := Datetime
	if f.Kind == ExprLiteral && !f.Value.Null {
		var timeOnly bool
		if t, timeOnly = StrToDateType(f.Value.S); timeOnly {
			return nil, &unsupportedError{what: "STR_TO_DATE with only time specifiers (a TIME result)"}
		}
	}
	if anyNullLit(s, f) {
		return NullLit(t), nil
	}
	return c.node(t, s, f), nil
}

// resolveConvert types CONVERT(s USING charset), bound as convert(s,
// 'charset'): quern's strings are bytes taken as UTF-8, so the UTF-8 and
// binary character sets leave the value as it is (a string).
func resolveConvert(c *call) (*Expr, error) {
	cs := c.args[1]
	if cs.Kind != ExprLiteral || cs.Type.Kind != KindString {
		return nil, c.errorf("CONVERT … USING needs a character set name")
	}
	switch strings.ToLower(cs.Value.S) {
	case "utf8mb4", "utf8", "utf8mb3", "binary":
		return Cast(c.args[0], String), nil
	}
	return nil, &unsupportedError{what: "CONVERT to character set " + cs.Value.S}
}

// --- conversions ---

// CastValue converts the constant v of type from to type to with MySQL's
// rules for CAST in a query: strings convert by their longest numeric
// prefix (else 0), numbers round half away from zero into exact types (a
// DOUBLE rounds half to even into an integer, as MySQL's rint does),
// out-of-range values clamp, and what cannot be a date is NULL. ok is false
// when the value did not convert cleanly: text ignored, out of range, not a
// date (rounding away fraction digits is fine, as when MySQL stores).
func CastValue(v Value, from, to Type) (Value, bool) {
	return castValue(v, from, to, false)
}

func castValue(v Value, from, to Type, strict bool) (out Value, ok bool) {
	if v.Null || from.Kind == KindNull {
		return Value{Null: true}, true
	}
	if from == to {
		return v, true
	}
	switch to.Kind {
	case KindNull:
		return Value{Null: true}, true
	case KindBool:
		return castToBool(v, from)
	case KindInt:
		return castToInt(v, from, strict)
	case KindUint:
		return castToUint(v, from, strict)
	case KindFloat:
		return castToFloat(v, from)
	case KindDecimal:
		return castToDecimal(v, from, to)
	case KindString:
		return Value{S: string(AppendValue(nil, v, from))}, true
	case KindDate:
		return castToDate(v, from)
	case KindDatetime:
		return castToDatetime(v, from)
	}
	return Value{Null: true}, false
}

func bv(b bool) Value {
	if b {
		return Value{I: 1}
	}
	return Value{}
}

func castToBool(v Value, from Type) (Value, bool) {
	switch from.Kind {
	case KindInt:
		return bv(v.I != 0), true
	case KindUint:
		return bv(v.U != 0), true
	case KindFloat:
		return bv(v.F != 0), true
	case KindDecimal:
		return bv(v.Hi != 0 || v.Lo != 0), true
	case KindString:
		f, ok := ParseFloatPrefix(v.S)
		return bv(f != 0), ok
	}
	return bv(true), true // a valid date is never zero
}

// TemporalNumber is a date as the number MySQL uses in numeric context:
// YYYYMMDD for a DATE and YYYYMMDDhhmmss for a DATETIME (whose fraction of
// a second is returned apart, in microseconds).
func TemporalNumber(v int64, k Kind) (n int64, micros int64) {
	days := v
	if k == KindDatetime {
		days = floorDiv(v, 86_400_000_000)
	}
	y, m, d := CivilFromDays(days)
	n = int64(y)*10000 + int64(m)*100 + int64(d)
	if k == KindDatetime {
		us := v - days*86_400_000_000
		secs := us / 1_000_000
		n = n*1_000_000 + (secs/3600)*10000 + (secs/60%60)*100 + secs%60
		micros = us % 1_000_000
	}
	return n, micros
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func castToInt(v Value, from Type, strict bool) (Value, bool) {
	switch from.Kind {
	case KindBool:
		return Value{I: v.I}, true
	case KindUint:
		return Value{I: int64(v.U)}, v.U <= math.MaxInt64
	case KindFloat:
		return Value{I: FloatToInt(v.F, strict)}, !math.IsNaN(v.F) && v.F >= -(1<<63) && v.F < 1<<63
	case KindDecimal:
		i, ok := DecimalToInt(v.Dec(), from.Scale)
		return Value{I: i}, ok
	case KindString:
		if strict {
			// Storing rounds a string's fraction, where CAST cuts it.
			d, ok := ParseDecimalPrefix(v.S, MaxDecimalPrecision, 0)
			i, fits := DecimalToInt(d, 0)
			return Value{I: i}, ok && fits
		}
		i, ok := ParseIntPrefix(v.S)
		return Value{I: i}, ok
	case KindDate, KindDatetime:
		n, _ := TemporalNumber(v.I, from.Kind)
		return Value{I: n}, true
	}
	return Value{I: v.I}, true
}

// FloatToInt converts a DOUBLE to BIGINT: rounding half to even (MySQL's
// rint) for CAST, half away from zero when storing (strict), clamping to
// the BIGINT range.
func FloatToInt(f float64, halfAway bool) int64 {
	if halfAway {
		f = math.Round(f)
	} else {
		f = math.RoundToEven(f)
	}
	switch {
	case math.IsNaN(f):
		return 0
	case f >= 1<<63:
		return math.MaxInt64
	case f < -(1 << 63):
		return math.MinInt64
	}
	return int64(f)
}

// DecimalToInt rounds an unscaled decimal of the given scale half away from
// zero to BIGINT, clamping (ok false) when out of range.
func DecimalToInt(n decimal128.Num, scale int) (int64, bool) {
	b := roundBig(n.BigInt(), scale, 0)
	switch {
	case b.IsInt64():
		return b.Int64(), true
	case b.Sign() > 0:
		return math.MaxInt64, false
	}
	return math.MinInt64, false
}

func castToUint(v Value, from Type, strict bool) (Value, bool) {
	switch from.Kind {
	case KindBool:
		return Value{U: uint64(v.I)}, true
	case KindInt:
		return Value{U: uint64(v.I)}, v.I >= 0
	case KindFloat:
		if v.F >= 1<<63 {
			if v.F >= 1<<64 {
				return Value{U: math.MaxUint64}, false
			}
			return Value{U: uint64(math.RoundToEven(v.F))}, true
		}
		return Value{U: uint64(FloatToInt(v.F, strict))}, v.F >= 0
	case KindDecimal:
		b := roundBig(v.Dec().BigInt(), from.Scale, 0)
		switch {
		case b.IsUint64():
			return Value{U: b.Uint64()}, true
		case b.Sign() > 0:
			return Value{U: math.MaxUint64}, false
		case b.IsInt64():
			return Value{U: uint64(b.Int64())}, false
		}
		return Value{U: 1 << 63}, false
	case KindString:
		u, ok := ParseUintPrefix(v.S)
		return Value{U: u}, ok
	case KindDate, KindDatetime:
		n, _ := TemporalNumber(v.I, from.Kind)
		return Value{U: uint64(n)}, true
	}
	return Value{U: v.U}, true
}

func castToFloat(v Value, from Type) (Value, bool) {
	switch from.Kind {
	case KindBool, KindInt:
		return Value{F: float64(v.I)}, true
	case KindUint:
		return Value{F: float64(v.U)}, true
	case KindDecimal:
		return Value{F: DecimalToFloat(v.Dec(), from.Scale)}, true
	case KindString:
		f, ok := ParseFloatPrefix(v.S)
		return Value{F: f}, ok
	case KindDate, KindDatetime:
		n, us := TemporalNumber(v.I, from.Kind)
		return Value{F: float64(n) + float64(us)/1e6}, true
	}
	return Value{F: v.F}, true
}

// DecimalToFloat converts an unscaled decimal to the nearest DOUBLE.
func DecimalToFloat(n decimal128.Num, scale int) float64 {
	if n.HighBits() == 0 && n.LowBits() < 1<<53 && scale <= 22 {
		return float64(n.LowBits()) / pow10f[scale]
	}
	if n.HighBits() == -1 && int64(n.LowBits()) > -(1<<53) && int64(n.LowBits()) < 0 && scale <= 22 {
		return float64(int64(n.LowBits())) / pow10f[scale]
	}
	f, _ := strconv.ParseFloat(string(AppendDecimal(nil, n, scale)), 64)
	return f
}

var pow10f = func() (t [23]float64) {
	t[0] = 1
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * 10
	}
	return t
}()

func castToDecimal(v Value, from, to Type) (Value, bool) {
	var b *big.Int
	switch from.Kind {
	case KindBool, KindInt:
		b = big.NewInt(v.I)
		b.Mul(b, pow10Big(to.Scale))
	case KindUint:
		b = new(big.Int).SetUint64(v.U)
		b.Mul(b, pow10Big(to.Scale))
	case KindFloat:
		if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
			return DecValue(decimal128.Num{}), false
		}
		return parseDecimalValue(strconv.FormatFloat(v.F, 'e', -1, 64), to)
	case KindDecimal:
		b = roundBig(v.Dec().BigInt(), from.Scale, to.Scale)
	case KindString:
		return parseDecimalValue(v.S, to)
	case KindDate, KindDatetime:
		n, us := TemporalNumber(v.I, from.Kind)
		b = new(big.Int).Mul(big.NewInt(n), big.NewInt(1_000_000))
		b.Add(b, big.NewInt(us))
		b = roundBig(b, 6, to.Scale)
	}
	n, fits := clampDecimal(b, to.Prec)
	return DecValue(n), fits
}

func parseDecimalValue(s string, to Type) (Value, bool) {
	n, ok := ParseDecimalPrefix(s, to.Prec, to.Scale)
	return DecValue(n), ok
}

// pow10Big returns 10^n.
func pow10Big(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// roundBig rescales the unscaled b from scale from to scale to, rounding
// half away from zero.
func roundBig(b *big.Int, from, to int) *big.Int {
	if to >= from {
		return new(big.Int).Mul(b, pow10Big(to-from))
	}
	d := pow10Big(from - to)
	q, r := new(big.Int).QuoRem(b, d, new(big.Int))
	r.Abs(r).Mul(r, big.NewInt(2))
	if r.Cmp(d) >= 0 {
		if b.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// clampDecimal limits b to prec digits, as MySQL clamps an out-of-range
// DECIMAL to the largest value of the type.
func clampDecimal(b *big.Int, prec int) (decimal128.Num, bool) {
	lim := pow10Big(prec)
	if new(big.Int).Abs(b).Cmp(lim) < 0 {
		return decimal128.FromBigInt(b), true
	}
	m := decimal128.FromBigInt(lim.Sub(lim, big.NewInt(1)))
	if b.Sign() < 0 {
		m = m.Negate()
	}
	return m, false
}

func castToDate(v Value, from Type) (Value, bool) {
	switch from.Kind {
	case KindDatetime:
		return Value{I: floorDiv(v.I, 86_400_000_000)}, true
	case KindString:
		us, _, ok := ParseDatetime(v.S)
		if !ok && us == 0 {
			return Value{Null: true}, false
		}
		return Value{I: floorDiv(us, 86_400_000_000)}, ok
	}
	n, ok := numberForDate(v, from)
	if !ok {
		return Value{Null: true}, false
	}
	us, ok := NumberToDatetime(n)
	if !ok {
		return Value{Null: true}, false
	}
	return Value{I: floorDiv(us, 86_400_000_000)}, true
}

func castToDatetime(v Value, from Type) (Value, bool) {
	switch from.Kind {
	case KindDate:
		return Value{I: v.I * 86_400_000_000}, true
	case KindString:
		us, _, ok := ParseDatetime(v.S)
		if !ok && us == 0 {
			return Value{Null: true}, false
		}
		return Value{I: us}, ok
	}
	n, ok := numberForDate(v, from)
	if !ok {
		return Value{Null: true}, false
	}
	us, ok := NumberToDatetime(n)
	if !ok {
		return Value{Null: true}, false
	}
	return Value{I: us}, true
}

func numberForDate(v Value, from Type) (int64, bool) {
	switch from.Kind {
	case KindBool, KindInt:
		return v.I, true
	case KindUint:
		return int64(v.U), v.U <= math.MaxInt64
	case KindFloat:
		return int64(v.F), v.F >= 0 && v.F < 1e15
	case KindDecimal:
		q := new(big.Int).Quo(v.Dec().BigInt(), pow10Big(from.Scale))
		return q.Int64(), q.IsInt64()
	}
	return 0, false
}

// NumberToDatetime reads a number as MySQL does in date context:
// YYYYMMDD, YYMMDD, YYYYMMDDhhmmss or YYMMDDhhmmss (two-digit years 70-99
// are 19xx, 00-69 20xx). It returns microseconds since the epoch.
func NumberToDatetime(n int64) (int64, bool) {
	var date, tod int64
	switch {
	case n < 101:
		return 0, false
	case n <= 691231:
		date = n + 20000000
	case n < 700101:
		return 0, false
	case n <= 991231:
		date = n + 19000000
	case n < 10000101:
		return 0, false
	case n <= 99991231:
		date = n
	case n < 101000000:
		return 0, false
	case n <= 691231235959:
		date, tod = n/1000000+20000000, n%1000000
	case n < 700101000000:
		return 0, false
	case n <= 991231235959:
		date, tod = n/1000000+19000000, n%1000000
	case n < 10000101000000:
		return 0, false
	case n <= 99991231235959:
		date, tod = n/1000000, n%1000000
	default:
		return 0, false
	}
	y, m, d := int(date/10000), int(date/100%100), int(date%100)
	hh, mm, ss := int(tod/10000), int(tod/100%100), int(tod%100)
	if !validDate(y, m, d) || hh > 23 || mm > 59 || ss > 59 {
		return 0, false
	}
	return DayNumber(y, m, d)*86_400_000_000 + int64(hh*3600+mm*60+ss)*1_000_000, true
}

func validDate(y, m, d int) bool {
	return y >= 0 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= DaysInMonth(y, m)
}

// DaysInMonth returns the length of month m of year y.
func DaysInMonth(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// DayNumber returns the days since 1970-01-01 of a proleptic Gregorian date
// (Howard Hinnant's days_from_civil; no allocation, any year).
func DayNumber(y, m, d int) int64 {
	yy := int64(y)
	if m <= 2 {
		yy--
	}
	era := floorDiv(yy, 400)
	yoe := yy - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// CivilFromDays is the inverse of DayNumber.
func CivilFromDays(days int64) (y, m, d int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	yy := yoe + era*400
	if m <= 2 {
		yy++
	}
	return int(yy), m, d
}

// --- parsing strings ---

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v') {
		i++
	}
	return i
}

// numberPrefix finds the longest prefix of s (after white space) that is a
// number: sign, digits, fraction, exponent. It returns its bounds and
// whether the rest of s is only white space.
func numberPrefix(s string, allowFrac bool) (start, end int, clean bool) {
	i := skipSpace(s, 0)
	start = i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if allowFrac && i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
			digits++
		}
		if digits > 0 {
			i = j
		}
	}
	if digits == 0 {
		return start, start, false
	}
	if allowFrac && i < len(s) && (s[i] == 'e' || s[i] == 'E') {
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
	return start, i, skipSpace(s, i) == len(s)
}

// ParseFloatPrefix converts a string to DOUBLE as MySQL does: the longest
// numeric prefix, 0 when there is none. ok is false when characters were
// ignored or the value overflowed.
func ParseFloatPrefix(s string) (float64, bool) {
	start, end, clean := numberPrefix(s, true)
	if start == end {
		return 0, false
	}
	f, err := strconv.ParseFloat(s[start:end], 64)
	if err != nil { // out of range: ParseFloat returned ±Inf
		if f > 0 {
			return math.MaxFloat64, false
		}
		return -math.MaxFloat64, false
	}
	return f, clean
}

// ParseIntPrefix converts a string to BIGINT as CAST(s AS SIGNED) does: the
// leading integer (a fraction is cut, not rounded), 0 when there is none,
// clamped to the BIGINT range.
func ParseIntPrefix(s string) (int64, bool) {
	start, end, clean := numberPrefix(s, false)
	if start == end {
		return 0, false
	}
	i, err := strconv.ParseInt(s[start:end], 10, 64)
	return i, clean && err == nil
}

// ParseUintPrefix is ParseIntPrefix for CAST(s AS UNSIGNED): a negative
// number wraps around as MySQL's does.
func ParseUintPrefix(s string) (uint64, bool) {
	start, end, clean := numberPrefix(s, false)
	if start == end {
		return 0, false
	}
	if s[start] == '-' {
		i, err := strconv.ParseInt(s[start:end], 10, 64)
		_ = err
		return uint64(i), false
	}
	u, err := strconv.ParseUint(strings.TrimPrefix(s[start:end], "+"), 10, 64)
	return u, clean && err == nil
}

// ParseDecimalPrefix converts the numeric prefix of s (exponent allowed) to
// an unscaled DECIMAL(prec, scale), rounding half away from zero and
// clamping to the type.
func ParseDecimalPrefix(s string, prec, scale int) (decimal128.Num, bool) {
	start, end, clean := numberPrefix(s, true)
	if start == end {
		return decimal128.Num{}, false
	}
	t := s[start:end]
	exp := 0
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		e, err := strconv.Atoi(t[i+1:])
		if err != nil || e > 100 || e < -100 {
			if t[0] == '-' {
				return decimal128.GetMaxValue(int32(prec)).Negate(), false
			}
			if e < 0 {
				return decimal128.Num{}, false
			}
			return decimal128.GetMaxValue(int32(prec)), false
		}
		exp, t = e, t[:i]
	}
	frac := 0
	if i := strings.IndexByte(t, '.'); i >= 0 {
		frac = len(t) - i - 1
		t = t[:i] + t[i+1:]
	}
	b, _ := new(big.Int).SetString(strings.TrimPrefix(t, "+"), 10)
	from := frac - exp
	if from < 0 {
		b.Mul(b, pow10Big(-from))
		from = 0
	}
	r := roundBig(b, from, scale)
	n, fits := clampDecimal(r, prec)
	return n, fits && clean
}

// ParseDatetime reads a MySQL date or datetime string: 'YYYY-MM-DD',
// 'YY-MM-DD' (any punctuation between parts), 'YYYYMMDD', 'YYMMDD', with an
// optional time 'hh:mm:ss[.ffffff]' after a space or 'T', or the all-digit
// forms YYYYMMDDhhmmss and YYMMDDhhmmss. It returns microseconds since the
// epoch and whether a non-zero time of day was given. ok is false for an
// invalid date, or (with a valid result) when trailing text was ignored.
func ParseDatetime(s string) (us int64, hasTime, ok bool) {
	s = strings.TrimSpace(s)
	var f [7]int // year, month, day, hour, minute, second, micros
	yearDigits, i, n := 0, 0, 0
	k := 0
	for k < len(s) && s[k] >= '0' && s[k] <= '9' {
		k++
	}
	if k == len(s) || (s[k] == '.' && (k == 12 || k == 14)) {
		switch k {
		case 6, 12:
			yearDigits = 2
		case 8, 14:
			yearDigits = 4
		default:
			return 0, false, false
		}
		f[0] = atoiN(s[:yearDigits])
		n = 1
		for p := yearDigits; p < k; p += 2 {
			f[n] = atoiN(s[p : p+2])
			n++
		}
		i = k
	} else {
		// Delimited: up to six numbers separated by punctuation, with
		// spaces or a 'T' between the date and the time.
		for n < 6 {
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i || (n == 0 && j-i > 4) || (n > 0 && j-i > 2) {
				break
			}
			if n == 0 {
				yearDigits = j - i
			}
			f[n] = atoiN(s[i:j])
			n++
			i = j
			if n == 6 || i >= len(s) {
				break
			}
			c := s[i]
			switch {
			case n == 3 && (c == ' ' || c == 'T'):
				i++
				for i < len(s) && s[i] == ' ' {
					i++
				}
			case n != 3 && c < 0x80 && c > ' ' && !isAlnum(c):
				i++
			default:
				n += 10 // stop here
			}
		}
		if n >= 10 {
			n -= 10
		}
		if n < 3 {
			return 0, false, false
		}
	}
	if n == 6 && i < len(s) && s[i] == '.' {
		j := i + 1
		scale := 100000
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			f[6] += int(s[j]-'0') * scale
			scale /= 10
			j++
		}
		i = j
	}
	if yearDigits <= 2 {
		if f[0] < 70 {
			f[0] += 2000
		} else {
			f[0] += 1900
		}
	}
	if !validDate(f[0], f[1], f[2]) || f[3] > 23 || f[4] > 59 || f[5] > 59 {
		return 0, false, false
	}
	tod := int64(f[3]*3600+f[4]*60+f[5])*1_000_000 + int64(f[6])
	us = DayNumber(f[0], f[1], f[2])*86_400_000_000 + tod
	return us, tod != 0, strings.TrimSpace(s[i:]) == ""
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func atoiN(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// --- formatting ---

// AppendValue appends v of type t in the text form CAST(v AS CHAR) gives.
func AppendValue(dst []byte, v Value, t Type) []byte {
	switch t.Kind {
	case KindBool, KindInt:
		return strconv.AppendInt(dst, v.I, 10)
	case KindUint:
		return strconv.AppendUint(dst, v.U, 10)
	case KindFloat:
		return AppendFloat(dst, v.F)
	case KindDecimal:
		return AppendDecimal(dst, v.Dec(), t.Scale)
	case KindString:
		return append(dst, v.S...)
	case KindDate:
		return AppendDate(dst, v.I)
	case KindDatetime:
		return AppendDatetime(dst, v.I)
	}
	return dst
}

// AppendFloat formats a DOUBLE as MySQL prints one: the shortest digits
// that read back exactly, in positional notation unless the exponent is
// below -4 or at least 15 ("1e15", "1.5e-7").
func AppendFloat(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0')
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.AppendFloat(dst, f, 'g', -1, 64)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	k := len(e) - 1
	for e[k] != 'e' {
		k--
	}
	exp, _ := strconv.Atoi(string(e[k+1:]))
	mant := e[:k]
	neg := mant[0] == '-'
	if neg {
		mant = mant[1:]
		dst = append(dst, '-')
	}
	digits := make([]byte, 0, 20)
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	if exp < -4 || exp >= 15 {
		dst = append(dst, digits[0])
		if len(digits) > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'e')
		return strconv.AppendInt(dst, int64(exp), 10)
	}
	if exp < 0 {
		dst = append(dst, '0', '.')
		for i := -1; i > exp; i-- {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	if len(digits) <= exp+1 {
		dst = append(dst, digits...)
		for i := len(digits); i <= exp; i++ {
			dst = append(dst, '0')
		}
		return dst
	}
	dst = append(dst, digits[:exp+1]...)
	dst = append(dst, '.')
	return append(dst, digits[exp+1:]...)
}

// AppendDecimal formats an unscaled decimal of the given scale, always
// with scale digits after the point ("-0.50").
func AppendDecimal(dst []byte, n decimal128.Num, scale int) []byte {
	var digs []byte
	var buf [40]byte
	neg := n.Sign() < 0
	if neg {
		n = n.Negate()
	}
	if n.HighBits() == 0 {
		digs = strconv.AppendUint(buf[:0], n.LowBits(), 10)
	} else {
		digs = n.BigInt().Append(buf[:0], 10)
	}
	if neg {
		dst = append(dst, '-')
	}
	if scale <= 0 {
		return append(dst, digs...)
	}
	if len(digs) <= scale {
		dst = append(dst, '0', '.')
		for i := len(digs); i < scale; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digs...)
	}
	dst = append(dst, digs[:len(digs)-scale]...)
	dst = append(dst, '.')
	return append(dst, digs[len(digs)-scale:]...)
}

func append2(dst []byte, v int) []byte { return append(dst, byte('0'+v/10), byte('0'+v%10)) }

// AppendDate formats days since the epoch as YYYY-MM-DD.
func AppendDate(dst []byte, days int64) []byte {
	y, m, d := CivilFromDays(days)
	if y < 0 || y > 9999 {
		dst = strconv.AppendInt(dst, int64(y), 10)
	} else {
		dst = append2(append2(dst, y/100), y%100)
	}
	dst = append2(append(dst, '-'), m)
	return append2(append(dst, '-'), d)
}

// AppendDatetime formats microseconds since the epoch as
// YYYY-MM-DD hh:mm:ss, with .ffffff when the fraction is not zero.
func AppendDatetime(dst []byte, us int64) []byte {
	days := floorDiv(us, 86_400_000_000)
	tod := us - days*86_400_000_000
	return appendTime(AppendDate(dst, days), int(tod/1_000_000), int(tod%1_000_000))
}

func appendTime(dst []byte, secs, micros int) []byte {
	dst = append(dst, ' ')
	dst = append2(dst, secs/3600)
	dst = append2(append(dst, ':'), secs/60%60)
	dst = append2(append(dst, ':'), secs%60)
	if micros != 0 {
		dst = append(dst, '.')
		for d := 100000; d > 0; d /= 10 {
			dst = append(dst, byte('0'+micros/d%10))
		}
	}
	return dst
}
