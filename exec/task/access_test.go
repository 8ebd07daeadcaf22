package task

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/planner"
)

// denyAll refuses every path and remembers which it was asked about.
type denyAll struct{ asked []string }

var errDenied = errors.New("denied")

func (d *denyAll) Check(path string) error {
	d.asked = append(d.asked, path)
	return errDenied
}

// TestAccessIsCheckedBeforeOpening: a scan and a word count ask Access
// about every file of their split before opening any, and fail with its
// error; without Access they read as usual.
func TestAccessIsCheckedBeforeOpening(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte("x y\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := &planner.Table{Name: "t", Format: planner.FormatText, Schema: planner.Schema{{Name: "word", Type: planner.String}}}
	ops := map[string]*planner.Op{
		"scan":       {Kind: planner.OpScan, Table: text, Columns: []int{0}, Schema: text.Schema},
		"word count": {Kind: planner.OpWordCount, Table: text, Schema: planner.Schema{{Name: "word", Type: planner.String}, {Name: "n", Type: planner.Int}}},
	}
	splits := map[string]planner.Split{
		"one file":   {Path: a, End: 4},
		"file parts": {Files: []planner.FileRange{{Path: a, End: 4}, {Path: b, End: 4}}},
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	env := exec.Env{Alloc: mem, BatchSize: 7}
	for on, op := range ops {
		for sn, sp := range splits {
			d := &denyAll{}
			if _, err := Build(op, Input{Split: sp, Access: d}, env, nil); !errors.Is(err, errDenied) {
				t.Errorf("%s of %s: err = %v, want the Access error", on, sn, err)
			}
			if want := []string{sp.Parts()[0].Path}; !slices.Equal(d.asked, want) {
				t.Errorf("%s of %s: asked about %v, want %v (then refused)", on, sn, d.asked, want)
			}
		}
		if on == "scan" {
			o, err := Build(op, Input{Split: splits["one file"]}, env, nil)
			if err != nil {
				t.Fatalf("scan without Access: %v", err)
			}
			o.Close()
		}
	}
}
