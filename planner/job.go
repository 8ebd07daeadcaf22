package planner

import (
	"encoding/json"
	"fmt"
)

// OpKind names a physical operator in a stage fragment.
type OpKind string

const (
	OpScan        OpKind = "scan"         // read one split of Table: Columns, then Filter
	OpWordCount   OpKind = "word_count"   // text scan fused with COUNT(*) GROUP BY word (the combiner)
	OpFilter      OpKind = "filter"       // keep rows where Cond is true
	OpProject     OpKind = "project"      // compute Exprs
	OpAggregate   OpKind = "aggregate"    // hash aggregation in Mode
	OpSort        OpKind = "sort"         // full sort by Keys
	OpTopK        OpKind = "topk"         // the first Limit rows by Keys
	OpLimit       OpKind = "limit"        // skip Offset, keep Limit
	OpShuffleRead OpKind = "shuffle_read" // read this task's partition from every task of stage From (Broadcast: partition 0 of each)
	OpValues      OpKind = "values"       // literal rows
	OpHashJoin    OpKind = "hash_join"    // join Input (probe) with Build on ProbeKeys = BuildKeys
	OpUnion       OpKind = "union"        // Input's rows, then Build's
)

// AggMode says which part of an aggregate's split an Aggregate op runs.
type AggMode string

const (
	AggPartial  AggMode = "partial"  // raw rows → group keys + partial states (the combiner)
	AggFinal    AggMode = "final"    // group keys + partial states → group keys + results
	AggComplete AggMode = "complete" // raw rows → group keys + results, in one place
)

// Op is one operator of a stage fragment: plain data, so that a worker in
// another process rebuilds exactly the operators the planner meant.
type Op struct {
	Kind   OpKind `json:"kind"`
	Input  *Op    `json:"input,omitempty"`
	Schema Schema `json:"schema"` // the op's output

	Table   *Table `json:"table,omitempty"`   // scan, word_count
	Columns []int  `json:"columns,omitempty"` // scan: indexes into Table.Schema
	Cond    *Expr  `json:"cond,omitempty"`    // scan (pushed-down filter), filter

	Exprs []*Expr `json:"exprs,omitempty"` // project

	Groups []*Expr   `json:"groups,omitempty"` // aggregate: group keys over the input (AggFinal: the first len(Groups) input columns)
	Aggs   []AggCall `json:"aggs,omitempty"`   // aggregate: Args are over the raw input; in AggFinal the states follow the groups
	Mode   AggMode   `json:"mode,omitempty"`

	Keys   []SortKey `json:"keys,omitempty"`   // sort, topk
	Offset int64     `json:"offset,omitempty"` // limit
	Limit  int64     `json:"limit,omitempty"`  // limit, topk

	Rows [][]*Expr `json:"rows,omitempty"` // values

	From      int  `json:"from,omitempty"`      // shuffle_read: the upstream stage
	Broadcast bool `json:"broadcast,omitempty"` // shuffle_read: every task's partition 0

	Build     *Op   `json:"build,omitempty"`      // hash_join: the side held in memory; union: the second input
	ProbeKeys []int `json:"probe_keys,omitempty"` // hash_join: key columns of Input
	BuildKeys []int `json:"build_keys,omitempty"` // hash_join: key columns of Build
	LeftJoin  bool  `json:"left_join,omitempty"`  // hash_join: keep unmatched probe rows
}

// Reads lists the shuffle reads in a fragment.
func (o *Op) Reads() []*Op {
	var out []*Op
	var walk func(*Op)
	walk = func(o *Op) {
		if o == nil {
			return
		}
		if o.Kind == OpShuffleRead {
			out = append(out, o)
		}
		walk(o.Input)
		walk(o.Build)
	}
	walk(o)
	return out
}

// Split is the part of a table one map task reads: a part of one file
// (Path with a byte range or row groups), several whole files (Files, read
// one after another: small files grouped up to the split size), or rows of
// an in-memory table. Parts() lists the file parts either way.
type Split struct {
	Path      string `json:"path,omitempty"`
	Start     int64  `json:"start,omitempty"`
	End       int64  `json:"end,omitempty"`        // byte range [Start, End) for text formats
	RowGroups []int  `json:"row_groups,omitempty"` // Parquet; none: every row group
	MemID     string `json:"mem_id,omitempty"`     // in-memory table
	RowStart  int64  `json:"row_start,omitempty"`  // in-memory rows [RowStart, RowEnd)
	RowEnd    int64  `json:"row_end,omitempty"`
	// Files, when set, are the parts the task reads in order, and Path is
	// empty.
	Files []FileRange `json:"files,omitempty"`
}

// FileRange is one file's part of a split: bytes [Start, End) of a text
// format, or RowGroups of a Parquet file (none listed: every row group,
// checking that the file has the table's columns).
type FileRange struct {
	Path      string `json:"path"`
	Start     int64  `json:"start,omitempty"`
	End       int64  `json:"end,omitempty"`
	RowGroups []int  `json:"row_groups,omitempty"`
}

// Parts lists the file parts s reads, in order (none for an in-memory or
// empty split).
func (s Split) Parts() []FileRange {
	if len(s.Files) > 0 {
		return s.Files
	}
	if s.Path == "" {
		return nil
	}
	return []FileRange{{Path: s.Path, Start: s.Start, End: s.End, RowGroups: s.RowGroups}}
}

// Bytes is how many file bytes s reads by byte range (Parquet row groups
// are not counted).
func (s Split) Bytes() int64 {
	var n int64
	for _, p := range s.Parts() {
		n += max(p.End-p.Start, 0)
	}
	return n
}

// Partitioning says how a stage's output is cut for the next stage:
// partition = hash(Keys) mod R. No keys with R = 1 sends everything to one
// reducer.
type Partitioning struct {
	Keys []int `json:"keys"`
	R    int   `json:"r"`
}

// StageKind tells map stages (reading splits) from reduce stages (reading
// the partitions of an upstream stage).
type StageKind string

const (
	StageMap    StageKind = "map"
	StageReduce StageKind = "reduce"
)

// StageInput is an upstream stage a stage reads: task i reads partition i
// of each upstream task, or with Broadcast every task reads partition 0 of
// each (the small side of a broadcast join).
type StageInput struct {
	Stage     int  `json:"stage"`
	Broadcast bool `json:"broadcast,omitempty"`
}

// Stage is a set of identical tasks running Root, each on its own input.
type Stage struct {
	ID        int           `json:"id"`
	Kind      StageKind     `json:"kind"`
	Splits    []Split       `json:"splits,omitempty"` // map: one task per split
	Inputs    []StageInput  `json:"inputs,omitempty"` // the upstream stages this one reads
	Tasks     int           `json:"tasks"`
	Root      *Op           `json:"root"`
	Partition *Partitioning `json:"partition,omitempty"` // nil: output goes to the final merge
	// Note explains a planning choice (for EXPLAIN).
	Note string `json:"note,omitempty"`
}

// Final is the merge of the last stage's outputs that the coordinator does
// before rows reach the client: a k-way merge by Keys when the task outputs
// are sorted, then Offset/Limit, then only the first Width columns.
type Final struct {
	Keys   []SortKey `json:"keys,omitempty"`
	Offset int64     `json:"offset,omitempty"`
	Limit  int64     `json:"limit"` // < 0: no limit
	Width  int       `json:"width"`
}

// Job is a query compiled to MapReduce stages (DESIGN.md §1).
type Job struct {
	Stages []*Stage `json:"stages"`
	Final  Final    `json:"final"`
	Schema Schema   `json:"schema"` // what the client sees
	// Run carries the settings every task of the job runs with, to
	// whichever worker runs it.
	Run RunSettings `json:"run,omitzero"`
}

// RunSettings are the per-query settings a job's tasks need wherever they
// run.
type RunSettings struct {
	// MemoryLimit is the query's memory budget in bytes on each process
	// that runs its tasks (0: unlimited).
	MemoryLimit int64 `json:"memory_limit,omitempty"`
	// BatchSize is the rows per batch operators aim for (0: the worker's
	// default).
	BatchSize int `json:"batch_size,omitempty"`
}

// Encode serializes the job.
func (j *Job) Encode() ([]byte, error) { return json.Marshal(j) }

// DecodeJob is the inverse of Encode.
func DecodeJob(b []byte) (*Job, error) {
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("internal: decoding job: %w", err)
	}
	return &j, nil
}

// Stage returns the stage with the given ID.
func (j *Job) Stage(id int) *Stage {
	for _, s := range j.Stages {
		if s.ID == id {
			return s
		}
	}
	return nil
}
