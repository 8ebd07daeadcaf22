package agg

import "bytes"

// Both tables use open addressing with linear probing over a power-of-two
// slot array and grow at 3/4 load. Group ids are dense and given in order of
// first appearance, so state arrays are indexed by them directly and output
// order is deterministic.

const minSlots = 256

// intTable maps 64-bit keys to group ids. A slot holds the key itself, so a
// probe touches one cache line and never the group store.
type intTable struct {
	slots []intSlot
	mask  uint64
	keys  []uint64 // key of each group
	n     int      // groups in slots (the NULL group is not)
}

type intSlot struct {
	key uint64
	gid uint32 // group id + 1; 0 marks an empty slot
}

func newIntTable() *intTable {
	return &intTable{slots: make([]intSlot, minSlots), mask: minSlots - 1}
}

// find returns the group of k, adding a group when k is new.
func (t *intTable) find(k uint64) uint32 {
	i := hashInt(k) & t.mask
	for {
		s := &t.slots[i]
		if s.gid == 0 {
			break
		}
		if s.key == k {
			return s.gid - 1
		}
		i = (i + 1) & t.mask
	}
	g := uint32(len(t.keys))
	t.keys = append(reserve(t.keys, 1), k)
	t.slots[i] = intSlot{key: k, gid: g + 1}
	t.n++
	if t.n*4 >= len(t.slots)*3 {
		t.grow()
	}
	return g
}

// addOutside adds a group that lives outside the slots (the NULL group).
func (t *intTable) addOutside() uint32 {
	t.keys = append(t.keys, 0)
	return uint32(len(t.keys) - 1)
}

func (t *intTable) grow() {
	old := t.slots
	t.slots = make([]intSlot, 2*len(old))
	t.mask = uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.gid == 0 {
			continue
		}
		i := hashInt(s.key) & t.mask
		for t.slots[i].gid != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = s
	}
}

// bytesTable maps byte-string keys to group ids. A slot packs the upper 32
// bits of the hash with the group id, so most mismatches are rejected without
// touching the key bytes; keys live back to back in one arena, so a new group
// costs no allocation of its own.
type bytesTable struct {
	slots  []uint64 // hash>>32<<32 | group id + 1; 0 marks an empty slot
	mask   uint64
	hashes []uint64 // per group, to rehash without rereading keys
	arena  []byte
	offs   []int // variable width: group g is arena[offs[g]:offs[g+1]]
	width  int   // > 0: every key has this width and group g starts at g*width
	n      int   // groups in slots
}

func newBytesTable(width int) *bytesTable {
	t := &bytesTable{slots: make([]uint64, minSlots), mask: minSlots - 1, width: width}
	if width == 0 {
		t.offs = []int{0}
	}
	return t
}

func (t *bytesTable) groups() int { return len(t.hashes) }

// key returns the stored key of group g.
func (t *bytesTable) key(g int) []byte {
	if t.width > 0 {
		return t.arena[g*t.width : (g+1)*t.width]
	}
	return t.arena[t.offs[g]:t.offs[g+1]]
}

// find returns the group of key k with hash h, adding a group when k is new;
// added reports which.
func (t *bytesTable) find(h uint64, k []byte) (gid uint32, added bool) {
	tag := h >> 32 << 32
	i := h & t.mask
	for {
		s := t.slots[i]
		if s == 0 {
			break
		}
		if s&^0xffffffff == tag {
			g := uint32(s) - 1
			if bytes.Equal(t.key(int(g)), k) {
				return g, false
			}
		}
		i = (i + 1) & t.mask
	}
	g := uint32(len(t.hashes))
	t.hashes = append(reserve(t.hashes, 1), h)
	t.arena = append(reserve(t.arena, len(k)), k...)
	if t.width == 0 {
		t.offs = append(reserve(t.offs, 1), len(t.arena))
	}
	t.slots[i] = tag | uint64(g+1)
	t.n++
	if t.n*4 >= len(t.slots)*3 {
		t.grow()
	}
	return g, true
}

// addOutside adds a group with an empty key that no probe finds (the NULL
// group of a single string key).
func (t *bytesTable) addOutside() uint32 {
	g := uint32(len(t.hashes))
	t.hashes = append(t.hashes, 0)
	if t.width > 0 {
		t.arena = append(t.arena, make([]byte, t.width)...)
	} else {
		t.offs = append(t.offs, len(t.arena))
	}
	return g
}

func (t *bytesTable) grow() {
	old := t.slots
	t.slots = make([]uint64, 2*len(old))
	t.mask = uint64(len(t.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := t.hashes[uint32(s)-1] & t.mask
		for t.slots[i] != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = s
	}
}

// reserve makes room for n more elements, doubling the capacity: append alone
// grows large slices by 1.25×, which copies a big table's arena many times.
func reserve[T any](s []T, n int) []T {
	if len(s)+n <= cap(s) {
		return s
	}
	ns := make([]T, len(s), max(2*cap(s), len(s)+n, 64))
	copy(ns, s)
	return ns
}
