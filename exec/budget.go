package exec

import (
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/quernsql/quern/planner"
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

// OperatorBudget is the part of a query's memory limit its operators'
// reservations may take: 60%. The rest is for what no reservation counts
// (batches in flight between operators, readers' and writers' buffers, the
// shuffle spool, the collector's slack), so that the process as a whole
// stays near the limit. Zero or less is no limit.
func OperatorBudget(limit int64) int64 {
	if limit <= 0 {
		return 0
	}
	return limit / 10 * 6
}

// RecordBytes is the size of rec's buffers (of the whole buffers when rec
// is a slice: that is what holding it keeps), the measure reservations
// charge for a batch held.
func RecordBytes(rec arrow.Record) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += int64(c.Data().SizeInBytes())
	}
	return n
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
	b.notePeak(b.used.Load())
	return true
}

// notePeak raises the peak to now if now is higher.
func (b *Budget) notePeak(now int64) {
	for {
		p := b.peak.Load()
		if now <= p || b.peak.CompareAndSwap(p, now) {
			return
		}
	}
}

// force takes n bytes whatever the limit says (see Grow).
func (b *Budget) force(n int64) {
	for ; b != nil; b = b.parent {
		b.notePeak(b.used.Add(n))
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
//
// Two grants ignore what other operators hold, because the budget is
// shared by every task of the query and an operator that starts late
// must still make progress (it could spill, but only after holding
// something): an operator may always hold up to an eighth of the limit,
// and one holding nothing gets a first bite of up to half of it (one
// batch of a sort). The overshoot is bounded by those floors times the
// operators running at once; what an operator needs beyond them is
// refused, and past the whole limit it cannot be granted at all.
func (r *Reservation) Grow(n int64) bool {
	if limit := r.budget.Limit(); limit > 0 && n > 0 && (r.held+n <= limit/8 || r.held == 0 && n <= limit/2) {
		r.budget.force(n)
		r.held += n
		return true
	}
	return r.Try(n)
}

// Try asks for n more bytes without the floors of Grow, and reports
// whether they were granted: for memory that has somewhere else to go (a
// query result that can stay in its file), which must never take the
// query past its limit.
func (r *Reservation) Try(n int64) bool {
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
	Limit    int64 // the operators' budget in bytes (see OperatorBudget)
	Needed   int64 // the bytes the operator asked for
	Held     int64 // the bytes it already held
}

func (e *MemoryLimitError) Error() string {
	return fmt.Sprintf("memory limit exceeded: %s needs %s more while holding %s, over the operators' budget of %s (60%% of the query's memory limit; raise it with SET memory_limit or --memory-limit)",
		e.Operator, planner.FormatBytes(e.Needed), planner.FormatBytes(e.Held), planner.FormatBytes(e.Limit))
}
