package shuffle

import (
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/quernsql/quern/exec"
)

// Spool keeps shuffle partitions in memory when the tasks that write and
// read them share a process (the local pool), up to a byte budget. A
// partition that does not fit goes to its file as usual, so a Spool only
// changes where bytes live, never what a reader sees. Partitions are keyed
// by the path their file would have.
//
// The query's result (the last stage's output, read once by the final
// merge) is held apart from that budget: it is charged to the query's
// memory budget instead (Writer.HoldResult), and its reader takes it out of
// the spool, giving each batch back as it goes (NewTakingReader), so a
// large result costs no file writes and no more memory than its consumer
// holds anyway. Map outputs are never taken: a reduce attempt that fails
// after reading some of them must find them again on its retry.
type Spool struct {
	mu     sync.Mutex
	budget int64
	used   int64
	parts  map[string]*spooled
}

type spooled struct {
	recs  []arrow.Record
	bytes int64
	res   *exec.Reservation // a result's charge (not in the spool's budget), or nil
}

// drop releases the partition's batches and what they were charged to.
func (p *spooled) drop() {
	for _, r := range p.recs {
		r.Release()
	}
	p.recs = nil
	if p.res != nil {
		p.res.Free()
	}
}

// NewSpool returns a spool holding at most budget bytes.
func NewSpool(budget int64) *Spool {
	return &Spool{budget: budget, parts: map[string]*spooled{}}
}

// Used returns the bytes the spool holds or has promised to writers.
func (s *Spool) Used() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

func (s *Spool) reserve(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used+n > s.budget {
		return false
	}
	s.used += n
	return true
}

func (s *Spool) unreserve(n int64) {
	s.mu.Lock()
	s.used -= n
	s.mu.Unlock()
}

// publish makes a committed partition readable; it takes over recs, and
// res when the bytes were charged to it rather than to the spool.
func (s *Spool) publish(path string, recs []arrow.Record, bytes int64, res *exec.Reservation) {
	s.mu.Lock()
	old := s.parts[path]
	s.parts[path] = &spooled{recs: recs, bytes: bytes, res: res}
	if old != nil && old.res == nil {
		s.used -= old.bytes
	}
	s.mu.Unlock()
	if old != nil {
		old.drop()
	}
}

// take removes a partition from the spool and hands it to the caller,
// who releases its batches and reservation (a result read once).
func (s *Spool) take(path string) (*spooled, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.parts[path]
	if !ok {
		return nil, false
	}
	delete(s.parts, path)
	if p.res == nil {
		s.used -= p.bytes
	}
	return p, true
}

// get returns a partition's batches, retained for the caller.
func (s *Spool) get(path string) ([]arrow.Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.parts[path]
	if !ok {
		return nil, false
	}
	out := make([]arrow.Record, len(p.recs))
	for i, r := range p.recs {
		r.Retain()
		out[i] = r
	}
	return out, true
}

// Has reports whether the spool holds the partition at path.
func (s *Spool) Has(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.parts[path]
	return ok
}

// RemovePrefix drops every partition whose path starts with prefix (a
// discarded attempt's directory, a finished job's).
func (s *Spool) RemovePrefix(prefix string) {
	var drop []*spooled
	s.mu.Lock()
	for path, p := range s.parts {
		if strings.HasPrefix(path, prefix) {
			drop = append(drop, p)
			if p.res == nil {
				s.used -= p.bytes
			}
			delete(s.parts, path)
		}
	}
	s.mu.Unlock()
	for _, p := range drop {
		p.drop()
	}
}
