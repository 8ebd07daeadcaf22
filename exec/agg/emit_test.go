package agg

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/planner"
)

// emitShape is one key shape of TestEmitGivesMemoryBack: how group g's key
// is written into the input and read back from the output.
type emitShape struct {
	name     string
	keys     []planner.Type
	put      func(bs []array.Builder, g int, buf []byte) []byte
	group    func(rec arrow.Record, i int) int
	distinct bool // add COUNT(DISTINCT v)
}

var emitShapes = []emitShape{
	{
		// intTable: slots and keys.
		name: "int", keys: []planner.Type{planner.Int}, distinct: true,
		put: func(bs []array.Builder, g int, buf []byte) []byte {
			bs[0].(*array.Int64Builder).Append(int64(g) * 3)
			return buf
		},
		group: func(rec arrow.Record, i int) int { return int(rec.Column(0).(*array.Int64).Value(i) / 3) },
	},
	{
		// bytesTable with keyRefs, each key's last 18 bytes in the pages.
		name: "string", keys: []planner.Type{planner.String},
		put: func(bs []array.Builder, g int, buf []byte) []byte {
			buf = strconv.AppendInt(append(buf[:0], "group-key-"...), int64(g)+1e11, 10)
			bs[0].(*array.StringBuilder).BinaryBuilder.Append(buf)
			return buf
		},
		group: func(rec arrow.Record, i int) int {
			s := rec.Column(0).(*array.String).Value(i)
			n, _ := strconv.Atoi(s[len("group-key-"):])
			return n - 1e11
		},
	},
	{
		// bytesTable of fixed 17-byte packed keys: bare locations.
		name: "int+int", keys: []planner.Type{planner.Int, planner.Int},
		put: func(bs []array.Builder, g int, buf []byte) []byte {
			bs[0].(*array.Int64Builder).Append(int64(g / 1000))
			bs[1].(*array.Int64Builder).Append(int64(g % 1000))
			return buf
		},
		group: func(rec arrow.Record, i int) int {
			return int(rec.Column(0).(*array.Int64).Value(i)*1000 + rec.Column(1).(*array.Int64).Value(i))
		},
	},
}

// emitInput is groups keys of shape, each once in order, then every fourth
// once more, with v = the group's number.
func emitInput(mem memory.Allocator, shape emitShape, groups, batch int) (*arrow.Schema, []arrow.Record) {
	var fields []arrow.Field
	for i, t := range shape.keys {
		fields = append(fields, arrow.Field{Name: fmt.Sprint("k", i), Type: t.Arrow(), Nullable: true})
	}
	fields = append(fields, arrow.Field{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	schema := arrow.NewSchema(fields, nil)
	rows := groups + (groups+3)/4
	var recs []arrow.Record
	var buf []byte
	for from := 0; from < rows; from += batch {
		rb := array.NewRecordBuilder(mem, schema)
		for r := from; r < min(from+batch, rows); r++ {
			g := r
			if r >= groups {
				g = (r - groups) * 4
			}
			buf = shape.put(rb.Fields()[:len(shape.keys)], g, buf)
			rb.Field(len(shape.keys)).(*array.Int64Builder).Append(int64(g))
		}
		recs = append(recs, rb.NewRecordBatch())
		rb.Release()
	}
	return schema, recs
}

// TestEmitGivesMemoryBack runs aggregations of a few million groups and
// checks that the reservation falls as the groups come out: the slots go
// when emission starts, and the keys and states of the groups already
// emitted go with each batch (whole huge pages of the mapped arrays, whole
// key pages). Every row is checked too: a group must never see memory
// given back before it was emitted (it would read zeros, or fault).
func TestEmitGivesMemoryBack(t *testing.T) {
	if testing.Short() {
		t.Skip("millions of groups")
	}
	const groups, batch = 2_000_000, 4093
	for _, shape := range emitShapes {
		t.Run(shape.name, func(t *testing.T) {
			mem := checkedMem(t)
			schema, recs := emitInput(mem, shape, groups, batch)
			nk := len(shape.keys)
			spec := Spec{Mode: planner.AggComplete}
			for i := range nk {
				spec.Groups = append(spec.Groups, i)
			}
			v := planner.Col(nk, "v", planner.Int)
			spec.Aggs = []Agg{
				{Call: call("sum", false, "s", v), Args: []int{nk}},
				{Call: call("count_star", false, "c")},
			}
			if shape.distinct {
				spec.Aggs = append(spec.Aggs, Agg{Call: call("count", true, "d", v), Args: []int{nk}})
			}
			budget := exec.NewBudget(0)
			src := &slicer{schema: schema, recs: recs, batch: batch, owned: true}
			op, err := New(src, spec, exec.Env{Alloc: mem, BatchSize: batch, Budget: budget})
			if err != nil {
				t.Fatal(err)
			}
			defer op.Close()
			seen := make([]bool, groups)
			var out, first, half int64
			for {
				rec, err := op.Next(context.Background())
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				sums := rec.Column(nk).(*array.Decimal128)
				counts := rec.Column(nk + 1).(*array.Int64)
				for i := range int(rec.NumRows()) {
					g := shape.group(rec, i)
					if g < 0 || g >= groups || seen[g] {
						t.Fatalf("row %d: group %d out of range or seen twice", out+int64(i), g)
					}
					seen[g] = true
					c := int64(1)
					if g%4 == 0 {
						c = 2
					}
					if s := sums.Value(i); !sums.IsValid(i) || s.LowBits() != uint64(c*int64(g)) || s.HighBits() != 0 {
						t.Fatalf("group %d: sum %s, want %d", g, s.ToString(0), c*int64(g))
					}
					if n := counts.Value(i); n != c {
						t.Fatalf("group %d: count %d, want %d", g, n, c)
					}
					if shape.distinct {
						if d := rec.Column(nk + 2).(*array.Int64).Value(i); d != 1 {
							t.Fatalf("group %d: count distinct %d, want 1", g, d)
						}
					}
				}
				if out == 0 {
					first = budget.Used()
				}
				out += rec.NumRows()
				if half == 0 && out >= groups/2 {
					half = budget.Used()
				}
			}
			if out != groups {
				t.Fatalf("%d rows, want %d", out, groups)
			}
			peak := budget.Peak()
			t.Logf("reserved: peak %s, after the first batch %s, after half the groups %s",
				planner.FormatBytes(peak), planner.FormatBytes(first), planner.FormatBytes(half))
			// The slots alone are a quarter of the table or more. Half the
			// rest is out at half way, give or take what is never given back
			// before the end (a huge page per array, a key page, the
			// capacity past the last group).
			if first > peak*7/8 {
				t.Errorf("after the first batch %d bytes reserved, want the slots (and any DISTINCT filter) given back from a peak of %d", first, peak)
			}
			if slack := int64(16 << 20); half > first/2+slack {
				t.Errorf("half the groups out: %d bytes reserved, want about half of the %d after the first batch", half, first)
			}
			if err := op.Close(); err != nil {
				t.Fatal(err)
			}
			if budget.Used() != 0 {
				t.Errorf("%d bytes still reserved after Close", budget.Used())
			}
		})
	}
}

// TestEmitCloseMidway closes an operator half way through emitting a big
// table, whose front has been given back: Close must free the rest once,
// and nothing of the input or output may leak.
func TestEmitCloseMidway(t *testing.T) {
	if testing.Short() {
		t.Skip("a million groups")
	}
	const groups, batch = 1_000_000, 8192
	for _, shape := range emitShapes[1:] {
		t.Run(shape.name, func(t *testing.T) {
			mem := checkedMem(t)
			schema, recs := emitInput(mem, shape, groups, batch)
			nk := len(shape.keys)
			spec := Spec{Mode: planner.AggComplete, Aggs: []Agg{
				{Call: call("max", false, "m", planner.Col(nk, "v", planner.Int)), Args: []int{nk}},
			}}
			for i := range nk {
				spec.Groups = append(spec.Groups, i)
			}
			budget := exec.NewBudget(0)
			src := &slicer{schema: schema, recs: recs, batch: batch, owned: true}
			op, err := New(src, spec, exec.Env{Alloc: mem, BatchSize: batch, Budget: budget})
			if err != nil {
				t.Fatal(err)
			}
			for out := 0; out < groups/2; {
				rec, err := op.Next(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				out += int(rec.NumRows())
			}
			if err := op.Close(); err != nil {
				t.Fatal(err)
			}
			if budget.Used() != 0 {
				t.Errorf("%d bytes still reserved after Close", budget.Used())
			}
		})
	}
}
