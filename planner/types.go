package planner

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Kind is the family of a SQL type. Each kind has exactly one Arrow
// representation, so operators switch on the Arrow type and the planner on
// the Kind, and the two never disagree.
type Kind uint8

const (
	KindNull     Kind = iota // the type of a bare NULL literal
	KindBool                 // BOOLEAN: arrow boolean
	KindInt                  // BIGINT (and every smaller integer): arrow int64
	KindUint                 // BIGINT UNSIGNED: arrow uint64
	KindFloat                // DOUBLE/FLOAT/REAL: arrow float64
	KindDecimal              // DECIMAL(p,s): arrow decimal128(p,s)
	KindString               // VARCHAR/CHAR/TEXT: arrow utf8, compared byte-wise
	KindDate                 // DATE: arrow date32
	KindDatetime             // DATETIME/TIMESTAMP: arrow timestamp(µs), no zone
)

// MaxDecimalPrecision is the widest DECIMAL quern computes with (Arrow's
// decimal128 holds 38 digits).
const MaxDecimalPrecision = 38

// Type is a SQL type. Prec and Scale apply to DECIMAL only.
type Type struct {
	Kind  Kind `json:"k"`
	Prec  int  `json:"p,omitempty"`
	Scale int  `json:"s,omitempty"`
}

// Convenience values for the common types.
var (
	Null     = Type{Kind: KindNull}
	Bool     = Type{Kind: KindBool}
	Int      = Type{Kind: KindInt}
	Uint     = Type{Kind: KindUint}
	Float    = Type{Kind: KindFloat}
	String   = Type{Kind: KindString}
	Date     = Type{Kind: KindDate}
	Datetime = Type{Kind: KindDatetime}
)

// Decimal returns DECIMAL(prec, scale), clamped to what quern can hold.
func Decimal(prec, scale int) Type {
	if prec > MaxDecimalPrecision {
		prec = MaxDecimalPrecision
	}
	if scale > prec {
		scale = prec
	}
	if prec < 1 {
		prec = 1
	}
	return Type{Kind: KindDecimal, Prec: prec, Scale: scale}
}

// IsNumeric reports whether the type takes part in arithmetic as a number.
func (t Type) IsNumeric() bool {
	switch t.Kind {
	case KindInt, KindUint, KindFloat, KindDecimal, KindBool:
		return true
	}
	return false
}

// String prints the type as SQL spells it.
func (t Type) String() string {
	switch t.Kind {
	case KindNull:
		return "NULL"
	case KindBool:
		return "BOOLEAN"
	case KindInt:
		return "BIGINT"
	case KindUint:
		return "BIGINT UNSIGNED"
	case KindFloat:
		return "DOUBLE"
	case KindDecimal:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Prec, t.Scale)
	case KindString:
		return "VARCHAR"
	case KindDate:
		return "DATE"
	case KindDatetime:
		return "DATETIME"
	}
	return fmt.Sprintf("type(%d)", t.Kind)
}

// Arrow returns the Arrow type that carries values of t.
func (t Type) Arrow() arrow.DataType {
	switch t.Kind {
	case KindNull:
		return arrow.Null
	case KindBool:
		return arrow.FixedWidthTypes.Boolean
	case KindInt:
		return arrow.PrimitiveTypes.Int64
	case KindUint:
		return arrow.PrimitiveTypes.Uint64
	case KindFloat:
		return arrow.PrimitiveTypes.Float64
	case KindDecimal:
		return &arrow.Decimal128Type{Precision: int32(t.Prec), Scale: int32(t.Scale)}
	case KindString:
		return arrow.BinaryTypes.String
	case KindDate:
		return arrow.FixedWidthTypes.Date32
	case KindDatetime:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	}
	panic(fmt.Sprintf("internal: no Arrow type for kind %d", t.Kind))
}

// TypeFromArrow maps an Arrow type produced by a reader back to its SQL type.
func TypeFromArrow(dt arrow.DataType) (Type, error) {
	switch dt.ID() {
	case arrow.NULL:
		return Null, nil
	case arrow.BOOL:
		return Bool, nil
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		return Int, nil
	case arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return Uint, nil
	case arrow.FLOAT32, arrow.FLOAT64:
		return Float, nil
	case arrow.DECIMAL128:
		d := dt.(*arrow.Decimal128Type)
		return Decimal(int(d.Precision), int(d.Scale)), nil
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		return String, nil
	case arrow.DATE32:
		return Date, nil
	case arrow.TIMESTAMP:
		return Datetime, nil
	}
	return Type{}, fmt.Errorf("not supported: column of Arrow type %s", dt)
}

// Column is one column of a schema. Every column is nullable.
type Column struct {
	Name  string `json:"name"`
	Table string `json:"table,omitempty"` // qualifier used for name resolution only
	Type  Type   `json:"type"`
}

// Schema is the ordered list of columns a plan node produces.
type Schema []Column

// Arrow returns the Arrow schema for s.
func (s Schema) Arrow() *arrow.Schema {
	fields := make([]arrow.Field, len(s))
	for i, c := range s {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type.Arrow(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// SchemaFromArrow converts an Arrow schema into a quern schema.
func SchemaFromArrow(as *arrow.Schema) (Schema, error) {
	out := make(Schema, as.NumFields())
	for i, f := range as.Fields() {
		t, err := TypeFromArrow(f.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		out[i] = Column{Name: f.Name, Type: t}
	}
	return out, nil
}
