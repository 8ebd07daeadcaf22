package agg

import (
	"errors"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/exec/gather"
	"github.com/quernsql/quern/exec/spill"
)

// When a Final or Complete aggregation outgrows its reservation it writes
// the groups it holds, as partial states, into spillFanout files chosen by
// a hash of the key, and starts an empty table. At the end of its input
// each file holds every state of the keys that hash there, so it is merged
// on its own by a Final aggregation one level down, which spills again,
// with other hash bits, if even that does not fit.
const (
	spillBits   = 4
	spillFanout = 1 << spillBits
	// maxSpillDepth bounds the recursion: 16^4 partitions of partitions
	// is far past what a skew-free input needs, and a group too big alone
	// is caught before (it fails at once).
	maxSpillDepth = 4
	// spillChunk is the rows emitted from the table at a time while
	// spilling, whatever the batch size: a one-row batch per IPC message
	// would make files mostly metadata.
	spillChunk = 4096
	// spillWriteBuf is each open file's write buffer; the reservation
	// counts them (spillFanout of them while a spill level is open).
	spillWriteBuf = 4 << 10
	spillReadBuf  = 16 << 10
)

// spillSeeds make the partition of a key at each level independent of
// the others and of the table's home slot (the top bits of the same hash).
var spillSeeds = [maxSpillDepth]uint64{hk1, hk2, hk3, hk4}

// spillPartition is the file, at spill level level, of a key with hash h.
func spillPartition(h uint64, level int) int {
	return int(fold(h^spillSeeds[level], hk0) >> (64 - spillBits))
}

// spiller owns one level's partition files, from the first spill until
// each file has been merged or the operator fails or closes.
type spiller struct {
	dir    string
	mem    memory.Allocator
	budget *exec.Budget
	schema *arrow.Schema // group keys, then state columns
	level  int
	parts  [spillFanout]spillPart
	rows   [spillFanout][]int32 // scratch: a chunk's rows per partition
	hs     []uint64
	copier gather.Rows
}

// spillPart is one partition file; file is open while it is being
// written, and path names it until a reader takes it over.
type spillPart struct {
	path string
	file *spill.File
	rows int64
}

func newSpiller(env exec.Env, mem memory.Allocator, schema *arrow.Schema, level int) *spiller {
	dir := env.SpillDir
	if dir == "" {
		dir = os.TempDir()
	}
	return &spiller{dir: dir, mem: mem, budget: env.Budget, schema: schema, level: level}
}

// size is the bytes of the open files' buffers.
func (s *spiller) size() int64 {
	n := int64(0)
	for i := range s.parts {
		if s.parts[i].file != nil {
			n += spillWriteBuf
		}
	}
	return n + capBytes(s.hs)
}

// write appends the groups of o's table, as keys and partial states, to
// the partition files of their keys.
func (s *spiller) write(o *operator) error {
	n := o.keys.groups()
	for from := 0; from < n; from += spillChunk {
		to := min(from+spillChunk, n)
		s.hs = growTo(s.hs[:0], to-from)
		hs := s.hs[:to-from]
		o.keys.hashes(from, to, hs)
		for p := range s.rows {
			s.rows[p] = s.rows[p][:0]
		}
		for i, h := range hs {
			p := spillPartition(h, s.level)
			s.rows[p] = append(s.rows[p], int32(i))
		}
		rec, err := o.build(s.schema, from, to, true)
		if err != nil {
			return err
		}
		err = s.writeChunk(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// writeChunk cuts rec by the partitions in s.rows.
func (s *spiller) writeChunk(rec arrow.Record) error {
	for p, rows := range s.rows {
		if len(rows) == 0 {
			continue
		}
		if len(rows) == int(rec.NumRows()) {
			return s.append(p, rec)
		}
		part, err := s.copier.Record(s.mem, rec, rows)
		if err != nil {
			return err
		}
		err = s.append(p, part)
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// append writes rec to partition p's file, creating it on first use.
func (s *spiller) append(p int, rec arrow.Record) error {
	sp := &s.parts[p]
	if sp.file == nil {
		if sp.path != "" {
			return errors.New("internal: spill partition written after it was finished")
		}
		f, err := spill.Create(s.dir, "quern-aggregate-*.arrows", s.schema, s.mem, spillWriteBuf, s.budget)
		if err != nil {
			return err
		}
		sp.path, sp.file = f.Path(), f
	}
	if err := sp.file.Write(rec); err != nil {
		return err
	}
	sp.rows += rec.NumRows()
	return nil
}

// finish ends every file so that it can be read.
func (s *spiller) finish() error {
	for p := range s.parts {
		sp := &s.parts[p]
		if sp.file == nil {
			continue
		}
		err := sp.file.Finish()
		sp.file = nil
		if err != nil {
			sp.path = "" // Finish removed it
			return err
		}
	}
	return nil
}

// next returns the first partition from p on that holds rows, or -1.
func (s *spiller) next(p int) int {
	for ; p < spillFanout; p++ {
		if s.parts[p].rows > 0 {
			return p
		}
	}
	return -1
}

// open returns a reader of finished partition p; closing it removes the
// file.
func (s *spiller) open(p int) (*spill.Reader, error) {
	sp := &s.parts[p]
	r, err := spill.Open(sp.path, s.schema, s.mem, spillReadBuf, true)
	if err != nil {
		return nil, err
	}
	sp.path = "" // the reader owns the file now
	return r, nil
}

// remove closes and deletes every file the spiller still owns; it may be
// called more than once.
func (s *spiller) remove() {
	for p := range s.parts {
		sp := &s.parts[p]
		if sp.file != nil {
			sp.file.Abort()
		} else if sp.path != "" {
			os.Remove(sp.path)
		}
		*sp = spillPart{}
	}
}
