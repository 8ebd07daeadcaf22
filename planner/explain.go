package planner

import (
	"fmt"
	"strings"
)

// Explain prints a job: each stage with its task count and its operators in
// the order data flows through them, the shuffle between stages, and the
// final merge.
func Explain(j *Job) string {
	var b strings.Builder
	for _, s := range j.Stages {
		switch s.Kind {
		case StageMap:
			fmt.Fprintf(&b, "Stage %d: map, %d task%s%s\n", s.ID, s.Tasks, plural(s.Tasks), splitSummary(s))
		case StageReduce:
			from := make([]string, len(s.Inputs))
			for i, in := range s.Inputs {
				from[i] = fmt.Sprint(in.Stage)
			}
			fmt.Fprintf(&b, "Stage %d: reduce, %d task%s (one per partition of stage %s)\n", s.ID, s.Tasks, plural(s.Tasks), strings.Join(from, " and "))
		}
		if s.Note != "" {
			fmt.Fprintf(&b, "  -- %s\n", s.Note)
		}
		for _, line := range pipeline(s.Root) {
			b.WriteString("  " + line + "\n")
		}
		if p := s.Partition; p != nil {
			if len(p.Keys) == 0 {
				fmt.Fprintf(&b, "  → shuffle: all rows to 1 partition\n")
			} else {
				names := make([]string, len(p.Keys))
				for i, k := range p.Keys {
					names[i] = s.Root.Schema[k].Name
				}
				fmt.Fprintf(&b, "  → shuffle: hash(%s) mod %d\n", strings.Join(names, ", "), p.R)
			}
		}
	}
	last := j.Stages[len(j.Stages)-1]
	f := "Final: "
	if len(j.Final.Keys) > 0 {
		f += fmt.Sprintf("merge %d sorted output%s by %s", last.Tasks, plural(last.Tasks), sortKeys(j.Final.Keys, last.Root.Schema))
	} else {
		f += fmt.Sprintf("concatenate %d output%s", last.Tasks, plural(last.Tasks))
	}
	if j.Final.Limit >= 0 || j.Final.Offset > 0 {
		f += ", limit " + limitString(j.Final.Offset, j.Final.Limit)
	}
	if j.Final.Width < len(last.Root.Schema) {
		f += fmt.Sprintf(", keep %d column%s", j.Final.Width, plural(j.Final.Width))
	}
	b.WriteString(f + "\n")
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func splitSummary(s *Stage) string {
	files := map[string]bool{}
	for _, sp := range s.Splits {
		for _, part := range sp.Parts() {
			files[part.Path] = true
		}
	}
	if len(files) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d split%s of %d file%s)", len(s.Splits), plural(len(s.Splits)), len(files), plural(len(files)))
}

// pipeline lists the ops of a fragment from source to sink.
func pipeline(op *Op) []string {
	var chain []*Op
	for o := op; o != nil; o = o.Input {
		chain = append(chain, o)
	}
	out := make([]string, 0, len(chain))
	for i := len(chain) - 1; i >= 0; i-- {
		prefix := "→ "
		if i == len(chain)-1 {
			prefix = ""
		}
		out = append(out, prefix+describeOp(chain[i]))
	}
	return out
}

func describeOp(o *Op) string {
	var in Schema
	if o.Input != nil {
		in = o.Input.Schema
	}
	switch o.Kind {
	case OpScan:
		s := fmt.Sprintf("Scan %s (%s) [%s]", o.Table.Name, o.Table.Format, o.Table.Schema.names(o.Columns))
		if o.Cond != nil {
			s += " filter " + o.Cond.String()
		}
		return s
	case OpWordCount:
		return fmt.Sprintf("WordCount %s: scan → partial aggregate (combiner) group by [word] compute [COUNT(*)], fused", o.Table.Name)
	case OpFilter:
		return "Filter " + o.Cond.String()
	case OpProject:
		return "Project " + exprList(o.Exprs, o.Schema.namesAll())
	case OpAggregate:
		aggs := make([]string, len(o.Aggs))
		for i, a := range o.Aggs {
			aggs[i] = a.String()
		}
		role := map[AggMode]string{AggPartial: "partial (combiner)", AggFinal: "final (merge partials)", AggComplete: "complete"}[o.Mode]
		return fmt.Sprintf("Aggregate %s group by [%s] compute [%s]", role, strings.Join(o.Schema[:len(o.Groups)].namesAll(), ", "), strings.Join(aggs, ", "))
	case OpSort:
		return "Sort by " + sortKeys(o.Keys, in)
	case OpTopK:
		return fmt.Sprintf("TopK %d by %s", o.Limit, sortKeys(o.Keys, in))
	case OpLimit:
		return fmt.Sprintf("Limit %d", o.Limit)
	case OpShuffleRead:
		if o.Broadcast {
			return fmt.Sprintf("BroadcastRead all of stage %d's output", o.From)
		}
		return fmt.Sprintf("ShuffleRead this task's partition from every task of stage %d", o.From)
	case OpHashJoin:
		kind := "inner"
		if o.LeftJoin {
			kind = "left outer"
		}
		var keys []string
		for i := range o.ProbeKeys {
			keys = append(keys, o.Input.Schema[o.ProbeKeys[i]].Name+" = "+o.Build.Schema[o.BuildKeys[i]].Name)
		}
		s := fmt.Sprintf("HashJoin %s on [%s] build: %s", kind, strings.Join(keys, ", "), describeOp(o.Build))
		if len(keys) == 0 {
			s = fmt.Sprintf("HashJoin %s cross build: %s", kind, describeOp(o.Build))
		}
		if o.Cond != nil {
			s += " where " + o.Cond.String()
		}
		return s
	case OpUnion:
		return "Union all with " + describeOp(o.Build)
	case OpValues:
		return fmt.Sprintf("Values %d row(s)", len(o.Rows))
	}
	return string(o.Kind)
}

func (s Schema) namesAll() []string {
	out := make([]string, len(s))
	for i, c := range s {
		out[i] = c.Name
	}
	return out
}
