package quern_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/internal/slt"
)

// sltCorpusDir is the shared sqllogictest corpus beside the checkout (CI
// has it); QUERN_SLT_DIR points elsewhere.
func sltCorpusDir() string {
	if d := os.Getenv("QUERN_SLT_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "shared", "testdata", "slt")
}

// TestSLTCorpus runs the sqllogictest corpus: every record that applies to
// mysql must pass, except those listed in testdata/slt-known.txt.
func TestSLTCorpus(t *testing.T) {
	dir := sltCorpusDir()
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".test") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Skipf("no sqllogictest corpus in %s", dir)
	}
	known, err := slt.LoadKnown("testdata/slt-known.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			records, err := slt.Parse(path, f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			cfg := quern.DefaultConfig()
			cfg.Allocator, cfg.TempDir = mem, t.TempDir()
			db, err := quern.Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			res := slt.Run(context.Background(), sltDB{db}, records, slt.Options{MaxFailures: 20, Known: known})
			db.Close()
			mem.AssertSize(t, 0)
			tot := res.Total()
			for _, f := range res.Failures {
				t.Errorf("%s:%d: %s\n%s\n  expected: %q\n  got:      %q", f.File, f.Line, f.Err, f.SQL, f.Expected, f.Got)
			}
			for reason, n := range res.UnsupportedReasons {
				t.Errorf("%d records fail with %q", n, reason)
			}
			if tot.Passed == 0 {
				t.Error("no record passed")
			}
			t.Logf("%d passed, %d failed, %d skipped (%d not supported, %d known differences)", tot.Passed, tot.Failed, tot.Skipped, tot.Unsupported, tot.Known)
		})
	}
}
