package exec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
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
	parent  *Budget // a task's view of its query's budget (see Task)
	limit   int64
	used    atomic.Int64
	peak    atomic.Int64
	spilled atomic.Int64
}

// NewBudget returns a budget of limit bytes (<= 0: unlimited, but still
// counting what is reserved and spilled).
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// Sub returns a budget of limit bytes (<= 0: no limit of its own) that
// also draws on b: a reservation must fit both. The local pool gives each
// query a Sub of the pool's budget, and each task a Sub of its query's
// with no limit of its own (see Task).
func (b *Budget) Sub(limit int64) *Budget { return &Budget{parent: b, limit: limit} }

// Task returns a view of b for one task: reservations draw on b, and what
// the task spills counts both in b and in the view, so the task can
// report its own spilled bytes.
func (b *Budget) Task() *Budget {
	if b == nil {
		return nil
	}
	return b.Sub(0)
}

// Limit is the smallest limit on the way up from b (<= 0: unlimited).
func (b *Budget) Limit() int64 {
	if b == nil {
		return 0
	}
	p := b.parent.Limit()
	if b.limit > 0 && (p <= 0 || b.limit < p) {
		return b.limit
	}
	return p
}

// Used is the bytes reserved now under b.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Peak is the most bytes ever reserved at once under b.
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
		b.parent.AddSpilled(n)
	}
}

// reserve takes n bytes if they fit under b's limit and every parent's.
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
			break
		}
	}
	if !b.parent.reserve(n) {
		b.used.Add(-n)
		return false
	}
	for now := b.used.Load(); ; {
		p := b.peak.Load()
		if now <= p || b.peak.CompareAndSwap(p, now) {
			return true
		}
	}
}

func (b *Budget) release(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
		b.parent.release(n)
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

// ParseBytes reads a byte count as people write it: 1048576, 512MB, 2GB,
// 1.5GiB, 64k. Decimal and binary units both mean powers of 1024, as
// memory limits are usually meant (DuckDB reads them the same way).
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, "b"), "i")
	shift, ok := map[string]uint{"": 0, "k": 10, "m": 20, "g": 30, "t": 40}[unit]
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a size (write it as 2GB, 512MB or a number of bytes)", s)
	}
	v *= float64(uint64(1) << shift)
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(v), nil
}
