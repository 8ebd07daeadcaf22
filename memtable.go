package quern

import (
	"fmt"

	"github.com/quernsql/quern/exec"
)

// memStore holds the rows of in-memory tables for map tasks.
type memStore struct{}

func (m *memStore) Scan(id string, start, end int64, columns []int, env exec.Env) (exec.Operator, error) {
	return nil, fmt.Errorf("internal: no in-memory table %s", id)
}
