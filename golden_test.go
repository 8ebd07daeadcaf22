package quern_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/internal/slt"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden query files with quern's answers (read the diff before committing)")

// poolConfigs are the configurations every golden file runs under; their
// answers must agree.
var poolConfigs = []struct {
	name string
	cfg  func() quern.Config
}{
	{"1worker", func() quern.Config {
		c := quern.DefaultConfig()
		c.Workers, c.Reducers = 1, 1
		return c
	}},
	{"4workers-tiny-batches", func() quern.Config {
		c := quern.DefaultConfig()
		c.Workers, c.Reducers = 4, 3
		c.BatchSize = 3
		c.SplitSize = 64          // many map tasks even for small files
		c.ShuffleMemory = 0       // every partition through its Arrow IPC file
		c.BroadcastJoinBytes = -1 // every join reduce-side
		return c
	}},
	{"2workers-small-spool", func() quern.Config {
		c := quern.DefaultConfig()
		c.Workers, c.Reducers = 2, 2
		c.BatchSize = 7
		c.SplitSize = 200
		c.ShuffleMemory = 600    // some partitions in memory, the rest spill to files
		c.BroadcastJoinBytes = 0 // every join broadcast
		return c
	}},
}

type sltDB struct{ db *quern.DB }

func (e sltDB) Exec(ctx context.Context, sql string) (array.RecordReader, error) {
	rs, err := e.db.Run(ctx, sql)
	if err != nil {
		return nil, err
	}
	if rs.Schema().NumFields() == 0 {
		for rs.Next() {
		}
		err := rs.Err()
		rs.Release()
		return nil, err
	}
	return rs, nil
}

// TestGoldenQueries runs testdata/queries/*.test under every pool
// configuration.
func TestGoldenQueries(t *testing.T) {
	files, err := filepath.Glob("testdata/queries/*.test")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, path := range files {
		for _, pc := range poolConfigs {
			t.Run(filepath.Base(path)+"/"+pc.name, func(t *testing.T) {
				src, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				records, err := slt.Parse(path, bytes.NewReader(src))
				if err != nil {
					t.Fatal(err)
				}
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				cfg := pc.cfg()
				cfg.Allocator = mem
				cfg.TempDir = t.TempDir()
				db, err := quern.Open(cfg)
				if err != nil {
					t.Fatal(err)
				}
				res := slt.Run(context.Background(), sltDB{db}, records, slt.Options{MaxFailures: -1, KeepActual: *rewrite})
				if err := db.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
				mem.AssertSize(t, 0)
				if *rewrite && pc.name == poolConfigs[0].name {
					var out bytes.Buffer
					if err := slt.Rewrite(&out, bytes.NewReader(src), records, res.Actual); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				tot := res.Total()
				for _, f := range res.Failures {
					t.Errorf("%s:%d: %s\n%s\n  expected: %q\n  got:      %q", f.File, f.Line, f.Err, f.SQL, f.Expected, f.Got)
				}
				for _, u := range res.UnsupportedList {
					t.Errorf("%s:%d: unexpected 'not supported': %s\n%s", u.File, u.Line, u.Err, u.SQL)
				}
				if tot.Passed == 0 {
					t.Errorf("no record passed")
				}
				t.Logf("%d passed, %d failed, %d skipped", tot.Passed, tot.Failed, tot.Skipped)
			})
		}
	}
}
