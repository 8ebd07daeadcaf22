package exec

import (
	"fmt"
	"sync/atomic"
)

// Budget is one query's memory limit in one process, shared by every
// operator of every task of that query running there. Operators that hold
// memory in proportion to their input (hash tables, sort buffers, join
// build sides, shuffle buffers) reserve from it through a Reservation
// before they grow; when a reservation is refused they spill to disk or,
// when nothing can be spilled, fail with a *MemoryLimitError.
//
// Nobody waits for memory: a refused reservation is answered at once, so
// tasks sharing a budget cannot deadlock. A nil *Budget is unlimited, and
// so is a Budget with a limit of zero or less.
type Budget struct {
	limit   int64
	used    atomic.Int64
	peak    atomic.Int64
	spilled atomic.Int64
}

// NewBudget returns a budget of limit bytes (<= 0: unlimited, but still
// counting what is reserved and spilled).
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// Limit is the budget's size in bytes (<= 0: unlimited).
func (b *Budget) Limit() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

// Used is the bytes reserved now.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Peak is the most bytes ever reserved at once.
func (b *Budget) Peak() int64 {
	if b == nil {
		return 0
	}
	return b.peak.Load()
}

// Spilled is the bytes operators wrote to spill files under this budget.
func (b *Budget) Spilled() int64 {
	if b == nil {
		return 0
	}
	return b.spilled.Load()
}

// AddSpilled counts n bytes written to a spill file.
func (b *Budget) AddSpilled(n int64) {
	if b != nil && n > 0 {
		b.spilled.Add(n)
	}
}

// reserve takes n bytes if they fit under the limit.
func (b *Budget) reserve(n int64) bool {
	if b == nil || n <= 0 {
		return true
	}
	for {
		used := b.used.Load()
		if b.limit > 0 && used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			for {
				p := b.peak.Load()
				if used+n <= p || b.peak.CompareAndSwap(p, used+n) {
					return true
				}
			}
		}
	}
}

func (b *Budget) release(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// NewReservation starts an empty reservation for the named operator
// ("aggregate", "sort", "hash join build side", …); the name goes into
// the error when the limit is exceeded.
func (b *Budget) NewReservation(operator string) *Reservation {
	return &Reservation{budget: b, operator: operator}
}

// Reservation is one operator's share of a Budget. It is not safe for
// concurrent use; each operator owns its own.
type Reservation struct {
	budget   *Budget
	operator string
	held     int64
}

// Held is the bytes this reservation holds.
func (r *Reservation) Held() int64 { return r.held }

// Grow asks for n more bytes and reports whether they were granted.
func (r *Reservation) Grow(n int64) bool {
	if !r.budget.reserve(n) {
		return false
	}
	if n > 0 {
		r.held += n
	}
	return true
}

// Resize makes the reservation hold total bytes: shrinking always
// succeeds, growing reports whether the difference was granted (on
// refusal the reservation keeps what it held).
func (r *Reservation) Resize(total int64) bool {
	if total < 0 {
		total = 0
	}
	if total <= r.held {
		r.budget.release(r.held - total)
		r.held = total
		return true
	}
	return r.Grow(total - r.held)
}

// Free returns everything the reservation holds; it may be called more
// than once and the reservation may grow again afterwards.
func (r *Reservation) Free() {
	r.budget.release(r.held)
	r.held = 0
}

// Exceeded returns the error an operator reports when it needs more
// bytes and has nothing left to spill.
func (r *Reservation) Exceeded(need int64) error {
	return &MemoryLimitError{Operator: r.operator, Limit: r.budget.Limit(), Needed: need, Held: r.held}
}

// MemoryLimitError says a query needed more memory than its limit in an
// operator that could not spill what it held. It is deterministic: the
// same query fails the same way on any worker.
type MemoryLimitError struct {
	Operator string
	Limit    int64 // the query's limit in bytes
	Needed   int64 // the bytes the operator asked for
	Held     int64 // the bytes it already held
}

func (e *MemoryLimitError) Error() string {
	return fmt.Sprintf("memory limit exceeded: %s needs %s more while holding %s, over the query's limit of %s (raise it with SET memory_limit or --memory-limit)",
		e.Operator, FormatBytes(e.Needed), FormatBytes(e.Held), FormatBytes(e.Limit))
}

// FormatBytes prints a byte count the way people read them: 512B, 3.0KiB,
// 256.0MiB.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
