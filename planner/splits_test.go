package planner

import "testing"

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
