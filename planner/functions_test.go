package planner

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func lInt(i int64) *Expr     { return Lit(Value{I: i}, Int) }
func lUint(u uint64) *Expr   { return Lit(Value{U: u}, Uint) }
func lFloat(f float64) *Expr { return Lit(Value{F: f}, Float) }
func lStr(s string) *Expr    { return Lit(Value{S: s}, String) }
func lBool(b bool) *Expr     { return boolLit(b) }
func lNull() *Expr           { return NullLit(Null) }
func lDec(s string) *Expr {
	t := strings.TrimPrefix(s, "-")
	scale := 0
	if i := strings.IndexByte(t, '.'); i >= 0 {
		scale = len(t) - i - 1
	}
	prec := len(strings.Replace(t, ".", "", 1))
	n, _ := ParseDecimalPrefix(s, prec, scale)
	return Lit(DecValue(n), Decimal(prec, scale))
}

var (
	cInt   = Col(0, "a", Int)
	cInt2  = Col(1, "b", Int)
	cDec   = Col(2, "p", Decimal(15, 2))
	cFloat = Col(3, "f", Float)
	cStr   = Col(4, "s", String)
	cDate  = Col(5, "d", Date)
	cTs    = Col(6, "ts", Datetime)
	cBool  = Col(7, "c", Bool)
	cUint  = Col(8, "u", Uint)
	cDec2  = Col(9, "q", Decimal(10, 4))
)

func rc(t *testing.T, name string, args ...*Expr) *Expr {
	t.Helper()
	e, err := ResolveCall(name, args)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return e
}

// TestResolveTypes pins result types and the casts the rules insert.
func TestResolveTypes(t *testing.T) {
	for _, c := range []struct {
		e    func(t *testing.T) *Expr
		typ  Type
		text string
	}{
		// Comparisons pick MySQL's comparison type.
		{func(t *testing.T) *Expr { return rc(t, "=", cInt, lDec("1.5")) }, Bool, "(CAST(a AS DECIMAL(20,1)) = 1.5)"},
		{func(t *testing.T) *Expr { return rc(t, "=", cInt, lDec("2.0")) }, Bool, "(a = 2)"},
		{func(t *testing.T) *Expr { return rc(t, "=", cInt, lStr("3")) }, Bool, "(CAST(a AS DOUBLE) = 3)"},
		{func(t *testing.T) *Expr { return rc(t, "<=", cDate, lStr("1998-09-02")) }, Bool, "(d <= DATE '1998-09-02')"},
		{func(t *testing.T) *Expr { return rc(t, "<", cDate, lStr("1998-09-02 10:00")) }, Bool, "(CAST(d AS DATETIME) < TIMESTAMP '1998-09-02 10:00:00')"},
		{func(t *testing.T) *Expr { return rc(t, "=", cDate, cStr) }, Bool, "(CAST(d AS DATETIME) = CAST(s AS DATETIME))"},
		{func(t *testing.T) *Expr { return rc(t, "=", cDate, lInt(20200101)) }, Bool, "(CAST(d AS BIGINT) = 20200101)"},
		{func(t *testing.T) *Expr { return rc(t, "=", cStr, lStr("x")) }, Bool, "(s = 'x')"},
		{func(t *testing.T) *Expr { return rc(t, "=", cStr, lInt(1)) }, Bool, "(CAST(s AS DOUBLE) = 1)"},
		{func(t *testing.T) *Expr { return rc(t, "=", cBool, lBool(true)) }, Bool, "(CAST(c AS BIGINT) = 1)"},
		{func(t *testing.T) *Expr { return rc(t, "<", cDec, cDec2) }, Bool, "(CAST(p AS DECIMAL(17,4)) < q)"},
		{func(t *testing.T) *Expr { return rc(t, "=", cUint, lInt(5)) }, Bool, "(u = 5)"},
		{func(t *testing.T) *Expr { return rc(t, "=", cUint, cInt) }, Bool, "(CAST(u AS DECIMAL(20,0)) = CAST(a AS DECIMAL(19,0)))"},
		{func(t *testing.T) *Expr { return rc(t, "=", cInt, lNull()) }, Bool, "NULL"},
		{func(t *testing.T) *Expr { return rc(t, "<=>", cInt, lNull()) }, Bool, "ISNULL(a)"},
		{func(t *testing.T) *Expr { return rc(t, "<=>", lNull(), lNull()) }, Bool, "TRUE"},
		{func(t *testing.T) *Expr { return rc(t, "in", cInt, lInt(1), lDec("2.5"), lNull()) }, Bool,
			"IN(CAST(a AS DECIMAL(20,1)), 1.0, 2.5, NULL)"},
		{func(t *testing.T) *Expr { return rc(t, "in", cDate, lStr("2020-01-01")) }, Bool, "IN(d, DATE '2020-01-01')"},
		// Arithmetic result types.
		{func(t *testing.T) *Expr { return rc(t, "+", cInt, cInt2) }, Int, "(a + b)"},
		{func(t *testing.T) *Expr { return rc(t, "+", cInt, cDec) }, Decimal(22, 2), "(CAST(a AS DECIMAL(21,2)) + p)"},
		{func(t *testing.T) *Expr { return rc(t, "+", cInt, cFloat) }, Float, "(CAST(a AS DOUBLE) + f)"},
		{func(t *testing.T) *Expr { return rc(t, "/", lInt(7), lInt(2)) }, Decimal(5, 4), "(7 / 2)"},
		{func(t *testing.T) *Expr { return rc(t, "/", cDec, cInt) }, Decimal(19, 6), "(p / CAST(a AS DECIMAL(19,0)))"},
		{func(t *testing.T) *Expr { return rc(t, "/", cFloat, cInt) }, Float, "(f / CAST(a AS DOUBLE))"},
		{func(t *testing.T) *Expr { return rc(t, "*", cDec, cDec) }, Decimal(30, 4), "(p * p)"},
		{func(t *testing.T) *Expr { return rc(t, "-", cDec, cDec2) }, Decimal(18, 4), "(CAST(p AS DECIMAL(17,4)) - q)"},
		{func(t *testing.T) *Expr { return rc(t, "%", cDec, lInt(3)) }, Decimal(15, 2), "(p % 3.00)"},
		{func(t *testing.T) *Expr { return rc(t, "div", cInt, cInt2) }, Int, "(a DIV b)"},
		{func(t *testing.T) *Expr { return rc(t, "div", cDec, lInt(2)) }, Int, "(p DIV 2)"},
		{func(t *testing.T) *Expr { return rc(t, "+", cUint, cInt) }, Uint, "(u + a)"},
		{func(t *testing.T) *Expr { return rc(t, "%", cInt, cUint) }, Int, "(a % u)"},
		{func(t *testing.T) *Expr { return rc(t, "+", cStr, lInt(1)) }, Float, "(CAST(s AS DOUBLE) + 1)"},
		{func(t *testing.T) *Expr { return rc(t, "+", cDate, lInt(1)) }, Int, "(CAST(d AS BIGINT) + 1)"},
		{func(t *testing.T) *Expr { return rc(t, "+", lNull(), lInt(1)) }, Int, "NULL"},
		{func(t *testing.T) *Expr { return rc(t, "mod", cInt, lInt(2)) }, Int, "(a % 2)"},
		// TPC-H Q1: the precision clamps at 38 digits.
		{func(t *testing.T) *Expr {
			return rc(t, "*", rc(t, "*", cDec, rc(t, "-", lInt(1), cDec)), rc(t, "+", lInt(1), cDec))
		}, Decimal(38, 6), "((p * (1.00 - p)) * (1.00 + p))"},
		// Unary minus of literals as MySQL types them.
		{func(t *testing.T) *Expr { return rc(t, "neg", lInt(98)) }, Int, "-98"},
		{func(t *testing.T) *Expr { return rc(t, "neg", rc(t, "neg", lInt(98))) }, Decimal(2, 0), "98"},
		{func(t *testing.T) *Expr { return rc(t, "neg", rc(t, "neg", rc(t, "neg", lInt(98)))) }, Decimal(2, 0), "-98"},
		{func(t *testing.T) *Expr { return rc(t, "neg", lUint(9223372036854775808)) }, Int, "-9223372036854775808"},
		{func(t *testing.T) *Expr { return rc(t, "neg", lUint(9223372036854775809)) }, Decimal(20, 0), "-9223372036854775809"},
		{func(t *testing.T) *Expr { return rc(t, "neg", lDec("1.50")) }, Decimal(3, 2), "-1.50"},
		{func(t *testing.T) *Expr { return rc(t, "neg", cInt) }, Int, "NEG(a)"},
		{func(t *testing.T) *Expr { return rc(t, "neg", cUint) }, Int, "NEG(u)"},
		// Logic.
		{func(t *testing.T) *Expr { return rc(t, "and", cInt, cBool) }, Bool, "(CAST(a AS BOOLEAN) AND c)"},
		{func(t *testing.T) *Expr { return rc(t, "not", lNull()) }, Bool, "NULL"},
		{func(t *testing.T) *Expr { return rc(t, "not", lInt(0)) }, Bool, "TRUE"},
		{func(t *testing.T) *Expr { return rc(t, "isnull", lNull()) }, Bool, "TRUE"},
		{func(t *testing.T) *Expr { return rc(t, "istrue", lNull()) }, Bool, "FALSE"},
		{func(t *testing.T) *Expr { return rc(t, "like", cStr, lStr("a%")) }, Bool, "(s LIKE 'a%')"},
		{func(t *testing.T) *Expr { return rc(t, "like", cInt, lStr("1%")) }, Bool, "(CAST(a AS VARCHAR) LIKE '1%')"},
		// Type aggregation of conditionals.
		{func(t *testing.T) *Expr { return rc(t, "case", cBool, lInt(1), lStr("a")) }, String, "CASE(c, '1', 'a')"},
		{func(t *testing.T) *Expr { return rc(t, "case", lBool(false), lInt(1), cBool, lInt(2)) }, Int, "CASE(c, 2)"},
		{func(t *testing.T) *Expr { return rc(t, "case", lBool(true), cInt, cBool, lInt(2)) }, Int, "a"},
		{func(t *testing.T) *Expr { return rc(t, "case", cBool, lNull()) }, Null, "NULL"},
		{func(t *testing.T) *Expr { return rc(t, "if", cBool, cDate, lInt(1)) }, String, "IF(c, CAST(d AS VARCHAR), '1')"},
		{func(t *testing.T) *Expr { return rc(t, "if", cBool, cDate, cTs) }, Datetime, "IF(c, CAST(d AS DATETIME), ts)"},
		{func(t *testing.T) *Expr { return rc(t, "coalesce", cInt, cDec) }, Decimal(21, 2), "COALESCE(CAST(a AS DECIMAL(21,2)), p)"},
		{func(t *testing.T) *Expr { return rc(t, "coalesce", lNull(), cInt, lInt(3), cInt2) }, Int, "COALESCE(a, 3)"},
		{func(t *testing.T) *Expr { return rc(t, "ifnull", lNull(), cStr) }, String, "s"},
		{func(t *testing.T) *Expr { return rc(t, "coalesce", cUint, cInt) }, Decimal(20, 0), "COALESCE(CAST(u AS DECIMAL(20,0)), CAST(a AS DECIMAL(20,0)))"},
		{func(t *testing.T) *Expr { return rc(t, "nullif", cInt, lStr("1")) }, Int, "NULLIF(a, '1')"},
		{func(t *testing.T) *Expr { return rc(t, "greatest", cBool, cBool) }, Int, "GREATEST(CAST(c AS BIGINT), CAST(c AS BIGINT))"},
		{func(t *testing.T) *Expr { return rc(t, "least", cInt, lStr("b")) }, String, "LEAST(CAST(a AS VARCHAR), 'b')"},
		// Math.
		{func(t *testing.T) *Expr { return rc(t, "round", cDec2, lInt(2)) }, Decimal(9, 2), "ROUND(q, 2)"},
		{func(t *testing.T) *Expr { return rc(t, "truncate", cDec2, lInt(2)) }, Decimal(8, 2), "TRUNCATE(q, 2)"},
		{func(t *testing.T) *Expr { return rc(t, "round", cDec2, cInt) }, Decimal(11, 4), "ROUND(q, a)"},
		{func(t *testing.T) *Expr { return rc(t, "round", cInt) }, Int, "ROUND(a, 0)"},
		{func(t *testing.T) *Expr { return rc(t, "round", cFloat, lInt(1)) }, Float, "ROUND(f, 1)"},
		{func(t *testing.T) *Expr { return rc(t, "floor", cDec) }, Int, "FLOOR(p)"},
		{func(t *testing.T) *Expr { return rc(t, "ceil", Col(0, "w", Decimal(38, 2))) }, Decimal(37, 0), "CEIL(w)"},
		{func(t *testing.T) *Expr { return rc(t, "floor", cInt) }, Int, "a"},
		{func(t *testing.T) *Expr { return rc(t, "ceiling", cFloat) }, Float, "CEIL(f)"},
		{func(t *testing.T) *Expr { return rc(t, "abs", cDec) }, Decimal(15, 2), "ABS(p)"},
		{func(t *testing.T) *Expr { return rc(t, "sign", cFloat) }, Int, "SIGN(f)"},
		{func(t *testing.T) *Expr { return rc(t, "power", cInt, lInt(2)) }, Float, "POW(CAST(a AS DOUBLE), 2)"},
		// Strings and dates.
		{func(t *testing.T) *Expr { return rc(t, "concat", cStr, cInt, cDec) }, String, "CONCAT(s, CAST(a AS VARCHAR), CAST(p AS VARCHAR))"},
		{func(t *testing.T) *Expr { return rc(t, "concat_ws", lStr(","), lNull(), cStr) }, String, "CONCAT_WS(',', s)"},
		{func(t *testing.T) *Expr { return rc(t, "substr", cStr, lStr("2")) }, String, "SUBSTRING(s, 2)"},
		{func(t *testing.T) *Expr { return rc(t, "instr", cStr, lStr("x")) }, Int, "LOCATE('x', s)"},
		{func(t *testing.T) *Expr { return rc(t, "length", cInt) }, Int, "LENGTH(CAST(a AS VARCHAR))"},
		{func(t *testing.T) *Expr { return rc(t, "year", lStr("2020-01-02")) }, Int, "YEAR(TIMESTAMP '2020-01-02 00:00:00')"},
		{func(t *testing.T) *Expr { return rc(t, "month", cDate) }, Int, "MONTH(d)"},
		{func(t *testing.T) *Expr { return rc(t, "hour", cDate) }, Int, "HOUR(CAST(d AS DATETIME))"},
		{func(t *testing.T) *Expr { return rc(t, "datediff", cTs, lStr("2020-01-01")) }, Int, "DATEDIFF(CAST(ts AS DATE), DATE '2020-01-01')"},
		{func(t *testing.T) *Expr { return rc(t, "date_add", cDate, lInt(1), lStr("day")) }, Date, "DATE_ADD(d, 1, 'day')"},
		{func(t *testing.T) *Expr { return rc(t, "date_sub", cDate, lInt(1), lStr("HOUR")) }, Datetime, "DATE_SUB(CAST(d AS DATETIME), 1, 'hour')"},
		{func(t *testing.T) *Expr { return rc(t, "date_add", lStr("1998-12-01"), lInt(-90), lStr("day")) }, Date, "DATE_ADD(DATE '1998-12-01', -90, 'day')"},
		{func(t *testing.T) *Expr { return rc(t, "date_format", cDate, lStr("%Y")) }, String, "DATE_FORMAT(CAST(d AS DATETIME), '%Y')"},
		// Composite and fractional INTERVALs fold into one simple unit.
		{func(t *testing.T) *Expr { return rc(t, "date_add", cDate, lStr("1 2"), lStr("day_hour")) }, Datetime, "DATE_ADD(CAST(d AS DATETIME), 93600000000, 'microsecond')"},
		{func(t *testing.T) *Expr { return rc(t, "date_sub", cDate, lStr("1-2"), lStr("year_month")) }, Date, "DATE_SUB(d, 14, 'month')"},
		{func(t *testing.T) *Expr { return rc(t, "date_add", cTs, lNull(), lStr("hour_minute")) }, Datetime, "NULL"},
		{func(t *testing.T) *Expr { return rc(t, "date_add", cTs, lDec("1.5"), lStr("second")) }, Datetime, "DATE_ADD(ts, 1500000, 'microsecond')"},
		{func(t *testing.T) *Expr { return rc(t, "date_add", cTs, cDec, lStr("second")) }, Datetime,
			"DATE_ADD(ts, CAST((CAST(p AS DECIMAL(32,6)) * 1000000) AS BIGINT), 'microsecond')"},
		{func(t *testing.T) *Expr { return rc(t, "date_add", cDate, lDec("1.5"), lStr("day")) }, Date, "DATE_ADD(d, 2, 'day')"},
		// EXTRACT(unit FROM d) binds as extract('unit', d).
		{func(t *testing.T) *Expr { return rc(t, "extract", lStr("YEAR_MONTH"), cDate) }, Int, "EXTRACT(d, 'year_month')"},
		{func(t *testing.T) *Expr { return rc(t, "extract", lStr("day_minute"), cDate) }, Int, "EXTRACT(CAST(d AS DATETIME), 'day_minute')"},
		{func(t *testing.T) *Expr { return rc(t, "extract", lStr("hour"), lNull()) }, Int, "NULL"},
		// STR_TO_DATE is DATE or DATETIME by its format.
		{func(t *testing.T) *Expr { return rc(t, "str_to_date", cStr, lStr("%d/%m/%Y")) }, Date, "STR_TO_DATE(s, '%d/%m/%Y')"},
		{func(t *testing.T) *Expr { return rc(t, "str_to_date", cStr, lStr("%Y-%m-%d %H")) }, Datetime, "STR_TO_DATE(s, '%Y-%m-%d %H')"},
		{func(t *testing.T) *Expr { return rc(t, "str_to_date", cStr, lStr("no specifiers")) }, Date, "STR_TO_DATE(s, 'no specifiers')"},
		{func(t *testing.T) *Expr { return rc(t, "str_to_date", cStr, cStr) }, Datetime, "STR_TO_DATE(s, s)"},
		{func(t *testing.T) *Expr { return rc(t, "convert", cInt, lStr("utf8mb4")) }, String, "CAST(a AS VARCHAR)"},
	} {
		e := c.e(t)
		if e.Type != c.typ || e.String() != c.text {
			t.Errorf("got %s of type %s, want %s of type %s", e, e.Type, c.text, c.typ)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	for _, c := range []struct {
		name        string
		args        []*Expr
		want        string
		unsupported bool
	}{
		{"=", []*Expr{cDate, lBool(true)}, "cannot compare DATE and BOOLEAN in (d = TRUE)", false},
		{"in", []*Expr{cTs, lInt(1), cBool}, "", false},
		{"in", []*Expr{cTs, cBool}, "cannot compare DATETIME and BOOLEAN in IN(ts, c)", false},
		{"frobnicate", []*Expr{cInt}, "not supported: function FROBNICATE", true},
		{"left", []*Expr{cStr}, "wrong number of arguments to LEFT: got 1, want 2", false},
		{"coalesce", nil, "wrong number of arguments to COALESCE: got 0, want at least 1", false},
		{"round", []*Expr{cInt, cInt, cInt}, "want 1 to 2", false},
		{"like", []*Expr{cStr, lStr("a"), cStr}, "ESCAPE must be a constant string of at most one character in LIKE(s, 'a', s)", false},
		{"date_add", []*Expr{cDate, lInt(1), lStr("fortnight")}, "not supported: INTERVAL unit FORTNIGHT", true},
		{"date_add", []*Expr{cDate, lInt(1), cStr}, "the INTERVAL unit must be a keyword", false},
		{"date_add", []*Expr{cDate, cStr, lStr("day_hour")}, "not supported: a non-constant INTERVAL of unit DAY_HOUR", true},
		{"date_add", []*Expr{cDate, lStr("99999999999999999999 1"), lStr("day_hour")}, "INTERVAL value '99999999999999999999 1' out of range", false},
		{"extract", []*Expr{lStr("fortnight"), cDate}, "not supported: EXTRACT unit FORTNIGHT", true},
		{"extract", []*Expr{cStr, cDate}, "the EXTRACT unit must be a keyword", false},
		{"str_to_date", []*Expr{cStr, lStr("%H:%i")}, "not supported: STR_TO_DATE with only time specifiers", true},
		{"convert", []*Expr{cStr, lStr("latin1")}, "not supported: CONVERT to character set latin1", true},
	} {
		_, err := ResolveCall(c.name, c.args)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
			continue
		}
		if errors.Is(err, ErrUnsupported) != c.unsupported {
			t.Errorf("%s: errors.Is(err, ErrUnsupported) = %v", c.name, !c.unsupported)
		}
	}
}

func TestCastValue(t *testing.T) {
	for _, c := range []struct {
		v      *Expr
		to     Type
		want   string // FormatLiteral of the result
		lossy  bool
		strict string // CastStrict error, if any
	}{
		{lStr("12abc"), Int, "12", true, "incorrect BIGINT value: '12abc'"},
		{lStr(" -7 "), Int, "-7", false, ""},
		{lStr("1.9"), Int, "1", true, ""}, // CAST cuts; storing rounds to 2 (strict accepts it)
		{lStr("abc"), Int, "0", true, ""},
		{lStr("99999999999999999999"), Int, "9223372036854775807", true, ""},
		{lStr("-1"), Uint, "18446744073709551615", true, ""},
		{lStr("1e3"), Float, "1000", false, ""},
		{lStr(".5x"), Float, "0.5", true, ""},
		{lStr("1e999"), Float, "1.7976931348623157e+308", true, ""},
		{lStr("12.345"), Decimal(5, 2), "12.35", false, ""},
		{lStr("-12.345e1"), Decimal(6, 2), "-123.45", false, ""},
		{lStr("123456"), Decimal(5, 2), "999.99", true, ""},
		{lStr("2020-02-29 13:14:15.5"), Datetime, "TIMESTAMP '2020-02-29 13:14:15.500000'", false, ""},
		{lStr("2021-02-29"), Date, "NULL", true, "incorrect DATE value"},
		{lStr("2021-02-28 junk"), Date, "DATE '2021-02-28'", true, ""},
		{lStr("0"), Bool, "FALSE", false, ""},
		{lDec("2.5"), Int, "3", false, ""},
		{lDec("-2.5"), Int, "-3", false, ""},
		{lDec("1.25"), Decimal(3, 1), "1.3", false, ""},
		{lDec("100.25"), Decimal(3, 1), "99.9", true, "incorrect DECIMAL(3,1) value: 100.25"},
		{lFloat(2.5), Int, "2", false, ""},
		{lFloat(-2.5), Int, "-2", false, ""},
		{lFloat(1e30), Int, "9223372036854775807", true, ""},
		{lFloat(0.1), Decimal(20, 18), "0.100000000000000000", false, ""},
		{lFloat(1.005), Decimal(5, 2), "1.01", false, ""},
		{lInt(-1), Uint, "18446744073709551615", true, ""},
		{lUint(18446744073709551615), Int, "-1", true, ""},
		{lInt(12345), Decimal(4, 0), "9999", true, ""},
		{lInt(20200101), Date, "DATE '2020-01-01'", false, ""},
		{lInt(991231), Date, "DATE '1999-12-31'", false, ""},
		{lInt(20201301), Date, "NULL", true, ""},
		{lInt(20200101123456), Datetime, "TIMESTAMP '2020-01-01 12:34:56'", false, ""},
		{Lit(Value{I: DayNumber(1998, 9, 2)}, Date), Int, "19980902", false, ""},
		{Lit(Value{I: DayNumber(1998, 9, 2)}, Date), String, "'1998-09-02'", false, ""},
		{Lit(Value{I: DayNumber(1969, 12, 31)*86_400_000_000 + 1}, Datetime), String, "'1969-12-31 00:00:00.000001'", false, ""},
		{lFloat(1e15), String, "'1e15'", false, ""},
		{lFloat(123456789012345), String, "'123456789012345'", false, ""},
		{lFloat(-0.00001), String, "'-1e-5'", false, ""},
		{lFloat(0.001), String, "'0.001'", false, ""},
		{lDec("-0.05"), String, "'-0.05'", false, ""},
		{lBool(true), String, "'1'", false, ""},
		{lNull(), Int, "NULL", false, ""},
	} {
		v, ok := CastValue(c.v.Value, c.v.Type, c.to)
		if got := FormatLiteral(v, c.to); got != c.want || ok == c.lossy {
			t.Errorf("CAST(%s AS %s) = %s (exact %v), want %s (exact %v)", c.v, c.to, got, ok, c.want, !c.lossy)
		}
		_, err := CastStrict(c.v, c.to)
		switch {
		case c.strict != "" && (err == nil || !strings.Contains(err.Error(), c.strict)):
			t.Errorf("strict CAST(%s AS %s): got %v, want %q", c.v, c.to, err, c.strict)
		case c.strict == "" && !c.lossy && err != nil:
			t.Errorf("strict CAST(%s AS %s): %v", c.v, c.to, err)
		}
	}
	if e, err := CastStrict(lStr(" 1.9"), Int); err != nil || e.Value.I != 2 {
		t.Errorf("storing '1.9' as BIGINT: %v, %v; want 2", e, err)
	}
	if e := Cast(cInt, Int); e != cInt {
		t.Error("a cast to the same type is not a no-op")
	}
	if e := Cast(cInt, Float); e.String() != "CAST(a AS DOUBLE)" {
		t.Errorf("Cast(a, DOUBLE) = %s", e)
	}
}

func TestParseDatetime(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    string
		hasTime bool
		ok      bool
	}{
		{"1998-09-02", "1998-09-02 00:00:00", false, true},
		{" 1998-9-2 ", "1998-09-02 00:00:00", false, true},
		{"98/09/02", "1998-09-02 00:00:00", false, true},
		{"19980902", "1998-09-02 00:00:00", false, true},
		{"980902", "1998-09-02 00:00:00", false, true},
		{"20200229101112", "2020-02-29 10:11:12", true, true},
		{"2020-02-29T10:11:12.25", "2020-02-29 10:11:12.250000", true, true},
		{"2020-02-29 10:11", "2020-02-29 10:11:00", true, true},
		{"0000-01-01", "0000-01-01 00:00:00", false, true},
		{"2021-02-29", "", false, false},
		{"2020-13-01", "", false, false},
		{"2020-01-01 24:00:00", "", false, false},
		{"2020", "", false, false},
		{"hello", "", false, false},
		{"", "", false, false},
	} {
		us, hasTime, ok := ParseDatetime(c.in)
		got := ""
		if ok || us != 0 {
			got = string(AppendDatetime(nil, us))
		}
		if got != c.want || hasTime != c.hasTime || ok != c.ok {
			t.Errorf("ParseDatetime(%q) = %q, %v, %v; want %q, %v, %v", c.in, got, hasTime, ok, c.want, c.hasTime, c.ok)
		}
	}
}

func TestCivilDays(t *testing.T) {
	for _, d := range []int64{-719528, -1, 0, 1, 10957, 2932896} {
		y, m, dd := CivilFromDays(d)
		if back := DayNumber(y, m, dd); back != d {
			t.Errorf("day %d → %d-%d-%d → %d", d, y, m, dd, back)
		}
	}
	if got := DayNumber(1998, 9, 2); got != int64(DaysFromCivil(1998, 9, 2)) {
		t.Errorf("DayNumber(1998-09-02) = %d, DaysFromCivil says %d", got, DaysFromCivil(1998, 9, 2))
	}
}

func TestParseDecimalPrefix(t *testing.T) {
	n, ok := ParseDecimalPrefix("1e-40", 38, 2)
	if n.Sign() != 0 || !ok {
		t.Errorf("1e-40 → %v, %v", n, ok)
	}
	n, _ = ParseDecimalPrefix("-9e99", 5, 1)
	if got := string(AppendDecimal(nil, n, 1)); got != "-9999.9" {
		t.Errorf("-9e99 as DECIMAL(5,1) = %s", got)
	}
	if f, ok := ParseFloatPrefix("  -"); f != 0 || ok {
		t.Errorf("'  -' → %v, %v", f, ok)
	}
	if f, ok := ParseFloatPrefix("-0x10"); f != 0 || ok {
		t.Errorf("'-0x10' → %v, %v", f, ok)
	}
}

func TestFunctionNames(t *testing.T) {
	names := FunctionNames()
	for _, n := range []string{"substring", "substr", "coalesce", "date_add", "round", "ceiling", "isnull"} {
		if !slices.Contains(names, n) || !KnownFunction(n) {
			t.Errorf("%s is not listed", n)
		}
	}
	for _, n := range []string{"+", "neg", "istrue", "in", "case"} {
		if slices.Contains(names, n) {
			t.Errorf("operator %s is listed as a function", n)
		}
	}
	if !KnownFunction("+") || !KnownFunction("!=") || KnownFunction("between") || KnownFunction("frob") {
		t.Error("KnownFunction disagrees with the table")
	}
	if !slices.IsSorted(names) {
		t.Error("names are not sorted")
	}
}

func TestParseCompositeInterval(t *testing.T) {
	for _, c := range []struct {
		s, unit string
		want    int64
		ok      bool
	}{
		{"1:1", "minute_second", 61_000_000, true},
		{"1 1:1:1", "day_second", 90_061_000_000, true},
		{"-1 10", "day_hour", -(86_400_000_000 + 36_000_000_000), true},
		{"1.999999", "second_microsecond", 1_999_999, true},
		{"1.5", "second_microsecond", 1_500_000, true},
		{"1:10", "hour_second", 70_000_000, true}, // too short: the rightmost fields
		{"  2-3", "year_month", 27, true},
		{"5", "year_month", 5, true},
		{"1 2 3", "day_hour", 86_400_000_000 + 7_200_000_000, true}, // extra numbers are ignored
		{"", "day_hour", 0, true},
		{"99999999999999999999", "day_hour", 0, false},
		{"1", "day", 0, false}, // not a composite unit
	} {
		got, ok := ParseCompositeInterval(c.s, c.unit)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("ParseCompositeInterval(%q, %s) = %d, %v; want %d, %v", c.s, c.unit, got, ok, c.want, c.ok)
		}
	}
}
