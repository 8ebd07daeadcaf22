package exec

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestBudgetReservations(t *testing.T) {
	b := NewBudget(100)
	r1, r2 := b.NewReservation("aggregate"), b.NewReservation("sort")
	if !r1.Grow(60) || r2.Grow(51) || !r2.Grow(40) {
		t.Fatalf("grants: used %d", b.Used())
	}
	if b.Used() != 100 || b.Peak() != 100 {
		t.Fatalf("used %d peak %d, want 100 100", b.Used(), b.Peak())
	}
	late := b.NewReservation("hash join build side")
	if !late.Grow(30) || b.Used() != 130 || late.Grow(1) {
		t.Fatalf("an operator holding nothing gets a first bite of up to half the limit: used %d", b.Used())
	}
	late.Free()
	if !late.Grow(5) || !late.Grow(7) || late.Grow(1) || b.Used() != 112 {
		t.Fatalf("an operator may always hold an eighth of the limit, no more: used %d", b.Used())
	}
	late.Free()
	if b.NewReservation("x").Grow(51) {
		t.Fatal("a first bite over half the limit must be refused when the budget is full")
	}
	if !r1.Resize(10) || b.Used() != 50 {
		t.Fatalf("shrink: used %d, want 50", b.Used())
	}
	if r1.Resize(80) || r1.Held() != 10 {
		t.Fatalf("refused growth must keep the old size, held %d", r1.Held())
	}
	r1.Free()
	r1.Free()
	r2.Free()
	if b.Used() != 0 || b.Peak() != 130 {
		t.Fatalf("after Free: used %d peak %d", b.Used(), b.Peak())
	}
	err := r1.Exceeded(1 << 20)
	var me *MemoryLimitError
	if !errors.As(err, &me) || me.Operator != "aggregate" || !strings.Contains(err.Error(), "memory limit exceeded: aggregate needs 1.0MiB") {
		t.Fatalf("error: %v", err)
	}
}

// TestBudgetTry: Try grants only what fits, with no floors.
func TestBudgetTry(t *testing.T) {
	b := NewBudget(100)
	op := b.NewReservation("aggregate")
	if !op.Grow(95) {
		t.Fatal("refused")
	}
	res := b.NewReservation("query result")
	if res.Try(10) || res.Held() != 0 || b.Used() != 95 {
		t.Fatalf("Try past the limit was granted (an eighth would be under Grow's floor): held %d, used %d", res.Held(), b.Used())
	}
	if !res.Try(5) || res.Held() != 5 || b.Used() != 100 {
		t.Fatalf("Try within the limit: held %d, used %d", res.Held(), b.Used())
	}
	res.Free()
	op.Free()
	if b.Used() != 0 {
		t.Fatalf("used %d after Free", b.Used())
	}
}

func TestBudgetHierarchy(t *testing.T) {
	pool := NewBudget(100)
	q1, q2 := pool.Sub(70), pool.Sub(0)
	task := q1.Task()
	r := task.NewReservation("sort")
	if r.Grow(71) {
		t.Fatal("a query's own limit must hold")
	}
	if !r.Grow(70) || q2.NewReservation("x").Grow(51) {
		t.Fatal("the pool's limit must hold across queries")
	}
	if pool.Used() != 70 || q1.Used() != 70 || task.Used() != 70 || q1.Limit() != 70 || q2.Limit() != 100 {
		t.Fatalf("used pool %d q1 %d task %d; limits %d %d", pool.Used(), q1.Used(), task.Used(), q1.Limit(), q2.Limit())
	}
	task.AddSpilled(5)
	if task.Spilled() != 5 || q1.Spilled() != 5 || pool.Spilled() != 5 || q2.Spilled() != 0 {
		t.Fatal("spilled bytes must count up the chain")
	}
	r.Free()
	if pool.Used() != 0 || q1.Used() != 0 {
		t.Fatalf("after Free: pool %d q1 %d", pool.Used(), q1.Used())
	}
}

func TestBudgetNilIsUnlimited(t *testing.T) {
	var b *Budget
	r := b.NewReservation("sort")
	if !r.Grow(1<<40) || b.Limit() != 0 || b.Used() != 0 {
		t.Fatal("a nil budget grants everything")
	}
	r.Free()
	b.AddSpilled(3)
	if b.Task() != nil {
		t.Fatal("Task of nil is nil")
	}
}

func TestBudgetConcurrent(t *testing.T) {
	b := NewBudget(1000)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := b.Task().NewReservation("x")
			for range 1000 {
				if r.Grow(7) {
					r.Resize(r.Held() - 3)
				}
				if b.Used() > 1000+8*125 { // the limit and one first bite per operator
					t.Error("over the limit")
				}
			}
			r.Free()
		}()
	}
	wg.Wait()
	if b.Used() != 0 || b.Peak() > 1000+8*125 {
		t.Fatalf("used %d peak %d", b.Used(), b.Peak())
	}
}
