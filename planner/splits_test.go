package planner

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestTableSplitsTaskCap checks the map-task sizing rule: SplitSize on small
// inputs (however tiny the splits asked for), at most MapTasksPerWorker
// tasks per worker on big ones, TextTasksPerWorker over text, whole row
// groups for Parquet.
func TestTableSplitsTaskCap(t *testing.T) {
	const mib = 1 << 20
	file := func(format Format, size int64, groups int) *Table {
		f := File{Path: "f", Size: size}
		for g := range groups {
			f.RowGroups = append(f.RowGroups, int64(g))
		}
		return &Table{Format: format, Files: []File{f}}
	}
	for _, tc := range []struct {
		name  string
		table *Table
		cfg   LowerConfig
		tasks int
	}{
		{"small csv keeps tiny splits", file(FormatCSV, 10_000, 0), LowerConfig{Reducers: 3, Workers: 4, SplitSize: 64}, 157},
		{"csv under the cap", file(FormatCSV, 100*mib, 0), LowerConfig{Reducers: 2, SplitSize: 32 * mib}, 4},
		{"big csv capped per worker", file(FormatCSV, 771*mib, 0), LowerConfig{Reducers: 2, SplitSize: 32 * mib}, 8},
		{"workers over reducers", file(FormatCSV, 771*mib, 0), LowerConfig{Reducers: 8, Workers: 1, SplitSize: 32 * mib}, 4},
		{"big text capped harder", file(FormatText, 1024*mib, 0), LowerConfig{Reducers: 2, SplitSize: 32 * mib}, 4},
		{"parquet groups", file(FormatParquet, 217*mib, 49), LowerConfig{Reducers: 2, SplitSize: 32 * mib}, 7},
		{"big parquet capped", file(FormatParquet, 2048*mib, 400), LowerConfig{Reducers: 2, SplitSize: 32 * mib}, 8},
		{"no workers known", file(FormatCSV, 771*mib, 0), LowerConfig{SplitSize: 32 * mib}, 25},
	} {
		got := TableSplits(tc.table, tc.cfg)
		if len(got) != tc.tasks {
			t.Errorf("%s: %d splits, want %d", tc.name, len(got), tc.tasks)
		}
		var covered int64
		for _, s := range got {
			covered += s.End - s.Start
		}
		if tc.table.Format != FormatParquet && covered != tc.table.Bytes() {
			t.Errorf("%s: splits cover %d bytes of %d", tc.name, covered, tc.table.Bytes())
		}
	}
}

// TestTableSplitsGroupFiles checks that small files share splits up to the
// target, in order, each read whole; big files are still cut; a group of
// one file keeps the one-file form; and every byte is read once.
func TestTableSplitsGroupFiles(t *testing.T) {
	files := func(sizes ...int64) []File {
		out := make([]File, len(sizes))
		for i, s := range sizes {
			out[i] = File{Path: fmt.Sprintf("f%d", i), Size: s}
		}
		return out
	}
	many := make([]int64, 3000)
	for i := range many {
		many[i] = 1000 + int64(i%7)*10
	}
	cfg := LowerConfig{Reducers: 2, Workers: 2, SplitSize: 100_000}
	for _, tc := range []struct {
		name  string
		table *Table
		want  []string // each split: its parts as path[start,end) or path{groups}
	}{
		{"small files grouped", &Table{Format: FormatCSV, Files: files(40_000, 40_000, 40_000, 10)},
			[]string{"f0[0,40000) f1[0,40000)", "f2[0,40000) f3[0,10)"}},
		{"a big file between small ones is cut", &Table{Format: FormatText, Files: files(10, 250_000, 20)},
			[]string{"f1[0,83334)", "f1[83334,166668)", "f1[166668,250000)", "f0[0,10) f2[0,20)"}},
		{"unsplittable files are whole", &Table{Format: FormatJSONL, Unsplittable: true, Files: files(250_000, 5, 6)},
			[]string{"f0[0,250000)", "f1[0,5) f2[0,6)"}},
		{"one small file", &Table{Format: FormatCSV, Files: files(10)}, []string{"f0[0,10)"}},
		{"parquet: uninspected files whole, small ones grouped", &Table{Format: FormatParquet, Files: []File{
			{Path: "a", Size: 300_000}, {Path: "b", Size: 300_000, RowGroups: []int64{1, 1, 1}}, {Path: "c", Size: 50, RowGroups: []int64{1, 1}}, {Path: "d", Size: 60}}},
			[]string{"a{}", "b{0}", "b{1}", "b{2}", "c{0,1} d{}"}},
	} {
		got := TableSplits(tc.table, cfg)
		var desc []string
		for _, sp := range got {
			var parts []string
			for _, p := range sp.Parts() {
				if tc.table.Format == FormatParquet {
					parts = append(parts, fmt.Sprintf("%s%v", p.Path, strings.ReplaceAll(fmt.Sprint(p.RowGroups), " ", ",")))
				} else {
					parts = append(parts, fmt.Sprintf("%s[%d,%d)", p.Path, p.Start, p.End))
				}
			}
			if len(sp.Files) == 1 {
				t.Errorf("%s: a one-file group %v is not in the one-file form", tc.name, sp)
			}
			desc = append(desc, strings.Join(parts, " "))
		}
		for i := range desc {
			desc[i] = strings.NewReplacer("[]", "{}", "[", "{", "]", "}").Replace(desc[i])
			if tc.table.Format != FormatParquet {
				desc[i] = strings.NewReplacer("{", "[", "}", ")").Replace(desc[i])
			}
		}
		if strings.Join(desc, " | ") != strings.Join(tc.want, " | ") {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, strings.Join(desc, " | "), strings.Join(tc.want, " | "))
		}
	}

	// 3000 small files: about total / target splits, every byte once.
	tbl := &Table{Format: FormatCSV, Files: files(many...)}
	got := TableSplits(tbl, cfg)
	want := int((tbl.Bytes() + cfg.SplitSize - 1) / cfg.SplitSize)
	if len(got) < want || len(got) > want+1 {
		t.Errorf("3000 files of %d bytes: %d splits, want about %d", tbl.Bytes(), len(got), want)
	}
	var covered int64
	seen := map[string]bool{}
	for _, sp := range got {
		covered += sp.Bytes()
		for _, p := range sp.Parts() {
			seen[p.Path] = true
		}
	}
	if covered != tbl.Bytes() || len(seen) != len(many) {
		t.Errorf("splits cover %d bytes of %d, %d files of %d", covered, tbl.Bytes(), len(seen), len(many))
	}

	// Splits survive the job encoding, and old one-file splits decode as before.
	job := &Job{Stages: []*Stage{{Kind: StageMap, Splits: got[:2]}}}
	enc, err := job.Encode()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := DecodeJob(enc)
	if err != nil || !reflect.DeepEqual(dec.Stages[0].Splits, got[:2]) {
		t.Fatalf("decoded splits differ: %v", err)
	}
	old, err := DecodeJob([]byte(`{"stages":[{"id":0,"kind":"map","tasks":1,"root":null,"splits":[{"path":"x.csv","start":5,"end":9}]}],"final":{"limit":-1,"width":0},"schema":null}`))
	if err != nil || !reflect.DeepEqual(old.Stages[0].Splits[0].Parts(), []FileRange{{Path: "x.csv", Start: 5, End: 9}}) {
		t.Fatalf("old split: %+v, %v", old, err)
	}
}
