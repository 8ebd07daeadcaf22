package quern_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern"
)

func TestRegisterRecordsAndSet(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cfg := quern.DefaultConfig()
	cfg.Allocator, cfg.TempDir = mem, t.TempDir()
	db, err := quern.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true}, {Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"x", "y", "x"}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	rec := b.NewRecord()
	b.Release()
	rr, _ := array.NewRecordReader(schema, []arrow.Record{rec})
	rec.Release()
	if err := db.RegisterReader("kv", rr); err != nil {
		t.Fatal(err)
	}
	rr.Release()
	ctx := context.Background()
	for _, set := range []string{"SET broadcast_join_bytes = 0", "SET broadcast_join_bytes = -1"} {
		if err := db.Exec(ctx, set); err != nil {
			t.Fatal(err)
		}
		plan, err := db.Explain(ctx, "SELECT a.k, sum(b.v) FROM kv a JOIN kv b ON a.k = b.k GROUP BY a.k")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(plan, "broadcast join") != strings.HasSuffix(set, "= 0") {
			t.Errorf("%s gave the plan\n%s", set, plan)
		}
		res, err := db.Query(ctx, "SELECT a.k, sum(b.v) FROM kv a JOIN kv b ON a.k = b.k GROUP BY a.k ORDER BY a.k")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for res.Next() {
			r := res.Record()
			for i := 0; i < int(r.NumRows()); i++ {
				got = append(got, r.Column(0).ValueStr(i)+"="+r.Column(1).ValueStr(i))
			}
		}
		res.Release()
		// x joins x twice (2 × 2 pairs): sum of v over pairs = 2*(1+3) = 8; y: 2.
		if strings.Join(got, ",") != "x=8,y=2" {
			t.Errorf("%s: got %v", set, got)
		}
	}
	if err := db.Exec(ctx, "SET broadcast_join_bytes = 'lots'"); err == nil {
		t.Error("a non-numeric threshold was accepted")
	}
}

func TestRegisterTable(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cfg := quern.DefaultConfig()
	cfg.Allocator, cfg.TempDir = mem, t.TempDir()
	db, err := quern.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.RegisterTable("people", "testdata/tables/people.csv"); err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{4, 5}, nil)
	rec := b.NewRecord()
	b.Release()
	err = db.RegisterTable("nums", []arrow.Record{rec})
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterTable("bad", 42); err == nil {
		t.Error("an int was accepted as a table")
	}
	res, err := db.Query(context.Background(), "SELECT (SELECT count(*) FROM people), (SELECT sum(v) FROM nums)")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	res.Next()
	r := res.Record()
	if got := r.Column(0).ValueStr(0) + " " + r.Column(1).ValueStr(0); got != "8 9" {
		t.Errorf("got %s", got)
	}
}
