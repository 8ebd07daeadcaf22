package exec

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Operator is the one interface every vectorized operator implements.
//
// Next returns the next batch, or io.EOF when there are no more. The returned
// record is owned by the operator and valid until the next call to Next or
// Close; a caller that keeps it longer must Retain it (and later Release it).
// A record with zero rows may be returned; callers must tolerate it.
// Close releases everything the operator holds and may be called more than
// once. Errors are values: no operator panics across this boundary.
type Operator interface {
	Schema() *arrow.Schema
	Next(ctx context.Context) (arrow.Record, error)
	Close() error
}

// DefaultBatchSize is the number of rows an operator aims to put in a batch
// when nothing else asks for a size.
const DefaultBatchSize = 16 * 1024

// Env carries what every operator needs from the task that runs it.
type Env struct {
	Alloc     memory.Allocator
	BatchSize int
	// Budget is the query's memory limit in this process (nil: unlimited);
	// operators that grow with their input reserve from it.
	Budget *Budget
	// SpillDir is where operators write spill files (the task's own
	// directory, removed with it); empty means the system temp directory.
	SpillDir string
}

// DefaultEnv returns an Env with Go's allocator and the default batch size.
func DefaultEnv() Env { return Env{Alloc: memory.DefaultAllocator, BatchSize: DefaultBatchSize} }

func (e Env) batchSize() int {
	if e.BatchSize <= 0 {
		return DefaultBatchSize
	}
	return e.BatchSize
}

func (e Env) alloc() memory.Allocator {
	if e.Alloc == nil {
		return memory.DefaultAllocator
	}
	return e.Alloc
}
