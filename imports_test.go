package quern_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection keeps DESIGN.md §2 true: who may import whom.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/quernsql/quern"
	type pkg struct {
		ImportPath string
		Imports    []string
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 8 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	top := func(path string) string {
		rest := strings.TrimPrefix(strings.TrimPrefix(path, mod), "/")
		if rest == "" {
			return "quern"
		}
		return strings.SplitN(rest, "/", 2)[0]
	}
	// allowed[a][b]: a package under top-level folder a may import one under b.
	allowed := map[string]map[string]bool{
		"planner":  {"planner": true},
		"sql":      {"sql": true, "planner": true},
		"exec":     {"exec": true, "planner": true},
		"cluster":  {"cluster": true, "planner": true, "exec": true},
		"quern":    {"planner": true, "sql": true, "exec": true, "cluster": true, "internal": true},
		"repl":     {"repl": true, "quern": true, "sql": true, "planner": true, "internal": true},
		"internal": {"internal": true},
		"cmd":      {"quern": true, "repl": true, "cluster": true, "internal": true, "sql": true},
		"driver":   {"quern": true},
	}
	checked := 0
	for _, p := range pkgs {
		from := top(p.ImportPath)
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "github.com/pingcap/tidb/") && from != "sql" {
				t.Errorf("%s imports TiDB's parser (%s): only sql/ may", p.ImportPath, imp)
			}
			if imp == "github.com/chzyer/readline" && from != "repl" {
				t.Errorf("%s imports readline: only repl/ may", p.ImportPath)
			}
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			to := top(imp)
			checked++
			if rules, ok := allowed[from]; !ok || !rules[to] {
				t.Errorf("%s imports %s: %s/ may not import %s/", p.ImportPath, imp, from, to)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no quern imports checked")
	}
}
