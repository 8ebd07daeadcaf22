package agg

import (
	"encoding/binary"
	"unsafe"
)

// Both tables use open addressing with linear probing over a power-of-two
// slot array and grow at 3/4 load. Group ids are dense and given in order of
// first appearance, so state arrays are indexed by them directly and output
// order is deterministic.
//
// A key's home slot is the top bits of its hash (h >> shift). Growing by two
// then sends the slots of one old cache line to two adjacent new ones, so
// a table is rebuilt in one sequential pass, and the bytes table can read
// every home off the 32 hash bits its slots keep, without touching the keys
// or a per-group hash (one cache miss per group, the costliest part of
// building a table of millions of groups).

const (
	minSlots = 256
	minShift = 64 - 8 // log2(minSlots) == 8
)

// intTable maps 64-bit keys to group ids. A slot holds the key itself, so a
// probe touches one cache line and never the group store.
type intTable struct {
	slots []intSlot
	mask  uint64   // len(slots)-1: probes wrap with it
	shift uint     // 64 - log2(len(slots)): a key's home is its hash >> shift
	keys  []uint64 // key of each group
	n     int      // groups in slots (the NULL group is not)
	done  int      // groups emitted: keys[:done] are given back
}

type intSlot struct {
	key uint64
	gid uint32 // group id + 1; 0 marks an empty slot
}

func newIntTable() *intTable {
	return &intTable{slots: make([]intSlot, minSlots), mask: minSlots - 1, shift: minShift}
}

// find returns the group of k, adding a group when k is new.
func (t *intTable) find(k uint64) uint32 { return t.findHashed(k, hashInt(k)) }

// findHashed is find with k's hash h given.
func (t *intTable) findHashed(k, h uint64) uint32 {
	i := h >> t.shift
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
	t.keys = append(bigGrow(t.keys, 1), k)
	t.slots[i] = intSlot{key: k, gid: g + 1}
	t.n++
	if t.n*4 >= len(t.slots)*3 {
		t.grow()
	}
	return g
}

// prefetchNext is bytesTable.prefetchNext for the 16-byte slots of t.
func (t *intTable) prefetchNext(hs []uint64, lo int) {
	pf := func(hs []uint64) {
		if len(hs) > 0 {
			prefetchSlots(unsafe.Pointer(&t.slots[0]), t.shift, 4, &hs[0], len(hs))
		}
	}
	if lo == 0 {
		pf(hs[:min(prefetchBlock, len(hs))])
	}
	if next := lo + prefetchBlock; next < len(hs) {
		pf(hs[next:min(next+prefetchBlock, len(hs))])
	}
}

// size is the bytes of the table's arrays.
func (t *intTable) size() int64 {
	return int64(cap(t.slots))*int64(unsafe.Sizeof(intSlot{})) + heldBytes(t.keys, t.done)
}

// seal gives back the slots once no key will be looked up any more: the
// groups are emitted from keys alone.
func (t *intTable) seal() {
	bigFree(t.slots)
	t.slots = nil
}

// emitted gives back the keys of groups [0, n), which have been emitted.
func (t *intTable) emitted(n int) {
	bigRelease(t.keys, t.done, n)
	t.done = n
}

// addOutside adds a group that lives outside the slots (the NULL group).
func (t *intTable) addOutside() uint32 {
	t.keys = append(t.keys, 0)
	return uint32(len(t.keys) - 1)
}

// free gives back the table's big arrays; t must not be used afterwards.
func (t *intTable) free() {
	bigFree(t.slots)
	bigFree(t.keys)
	t.slots, t.keys = nil, nil
}

func (t *intTable) grow() {
	old := t.slots
	defer bigFree(old)
	t.slots = bigMake[intSlot](2 * len(old))
	t.mask = uint64(len(t.slots) - 1)
	t.shift--
	for _, s := range old {
		if s.gid == 0 {
			continue
		}
		i := hashInt(s.key) >> t.shift
		for t.slots[i].gid != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = s
	}
}

// bytesTable maps byte-string keys to group ids. A slot packs the upper 32
// bits of the hash with the group id, so most mismatches are rejected without
// touching the key. Each group has a 16-byte reference (keyRef) that holds a
// key of up to inlineKey bytes itself: a probe that finds its group then
// reads one line beyond the slot, where one held in the pages would read
// three (location, length, bytes), each a cache miss in a table of 100K+
// groups. Longer keys live back to back in pages that never move: a new
// group costs no allocation of its own, and a table of millions of groups
// never copies its keys to grow (one contiguous arena that doubles copied
// each key twice on average, into freshly faulted memory). Fixed-width keys
// longer than inlineKey gain nothing from a reference and keep a bare
// location (8 bytes a group, not 16).
type bytesTable struct {
	slots    []uint64 // hash>>32<<32 | group id + 1; 0 marks an empty slot
	mask     uint64   // len(slots)-1: probes wrap with it
	shift    uint     // 64 - log2(len(slots)) (at least 32: the home is in the tag)
	refs     []keyRef // per group, unless width > inlineKey
	loc      []uint64 // per group when width > inlineKey: page<<32 | offset of its key
	pages    [][]byte
	pagedCap int    // total capacity of pages
	width    int    // > 0: every key has this width
	n        int    // groups in slots
	scratch  []byte // key: a long key's prefix and rest put back together
	// While the groups are emitted (after seal): groups [0, done) are
	// out and their refs or locations given back, pages [0, freed) are
	// unmapped, and nextPaged is the first group from done on whose key
	// lies in the pages (groups() when none does).
	done, freed, nextPaged int
}

// inlineKey is the longest key a keyRef holds itself.
const inlineKey = 12

// keyRef is a group's key: bytes 0–3 its length (little-endian), then the
// key zero-padded when it is at most inlineKey bytes, else its first 4
// bytes and the location of the rest in the pages (page<<32 | offset,
// little-endian): a long key then costs what a bare location and length
// did, 12 bytes and its bytes. The first 8 bytes tell most keys of equal
// hash tag apart, and, for an inline key, the whole reference compares as
// two words.
type keyRef [16]byte

// refWords returns the words of k's keyRef, the second meaningful only when
// k is inline. A probe computes them once and then compares words, never
// bytes, for an inline key.
func refWords(k []byte) (w0, w1 uint64) {
	w0 = uint64(uint32(len(k)))
	if len(k) < 4 {
		return w0 | loadShort(k)<<32, 0
	}
	w0 |= uint64(binary.LittleEndian.Uint32(k)) << 32
	rest := k[4:]
	switch {
	case len(rest) >= 8:
		return w0, binary.LittleEndian.Uint64(rest)
	case len(rest) >= 4:
		// Two overlapping loads; the bytes they share are equal.
		lo := uint64(binary.LittleEndian.Uint32(rest))
		hi := uint64(binary.LittleEndian.Uint32(rest[len(rest)-4:]))
		return w0, lo | hi<<(8*(len(rest)-4))
	}
	return w0, loadShort(rest)
}

// loadShort loads 0–3 bytes zero-padded, little-endian.
func loadShort(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	n := len(b)
	return uint64(b[0]) | uint64(b[n/2])<<(8*(n/2)) | uint64(b[n-1])<<(8*(n-1))
}

// maxPage is the size key pages grow to (doubling from small, so that the
// many small tables of small inputs stay small).
const maxPage = 4 << 20

func newBytesTable(width int) *bytesTable {
	return &bytesTable{slots: make([]uint64, minSlots), mask: minSlots - 1, shift: minShift, width: width}
}

// located reports whether the table keeps bare locations instead of refs.
func (t *bytesTable) located() bool { return t.width > inlineKey }

func (t *bytesTable) groups() int {
	if t.located() {
		return len(t.loc)
	}
	return len(t.refs)
}

// key returns the stored key of group g. The slice is valid until the next
// call of key or add.
func (t *bytesTable) key(g int) []byte {
	if t.located() {
		return t.paged(t.loc[g], t.width)
	}
	r := &t.refs[g]
	n := int(binary.LittleEndian.Uint32(r[:4]))
	if n <= inlineKey {
		return r[4 : 4+n]
	}
	t.scratch = append(append(t.scratch[:0], r[4:8]...), t.paged(binary.LittleEndian.Uint64(r[8:]), n-4)...)
	return t.scratch
}

// paged returns the n bytes at location l of the pages.
func (t *bytesTable) paged(l uint64, n int) []byte {
	o := int(uint32(l))
	return t.pages[l>>32][o : o+n]
}

// keyBytes is the total size of the keys of groups [from, to).
func (t *bytesTable) keyBytes(from, to int) int {
	if t.width > 0 {
		return (to - from) * t.width
	}
	n := 0
	for i := range t.refs[from:to] {
		n += int(binary.LittleEndian.Uint32(t.refs[from+i][:4]))
	}
	return n
}

// store appends k to the pages and returns its location.
func (t *bytesTable) store(k []byte) uint64 {
	last := len(t.pages) - 1
	if last < 0 || cap(t.pages[last])-len(t.pages[last]) < len(k) {
		size := 256
		if last >= 0 {
			size = min(2*cap(t.pages[last]), maxPage)
		}
		t.pages = append(t.pages, bigMake[byte](max(size, len(k)))[:0])
		t.pagedCap += cap(t.pages[len(t.pages)-1])
		last++
	}
	p := t.pages[last]
	t.pages[last] = append(p, k...)
	return uint64(last)<<32 | uint64(len(p))
}

// size is the bytes of the table's arrays and key pages.
func (t *bytesTable) size() int64 {
	return 8*int64(cap(t.slots)) + heldBytes(t.loc, t.done) + heldBytes(t.refs, t.done) + 24*int64(cap(t.pages)) + int64(t.pagedCap) + int64(cap(t.scratch))
}

// seal gives back the slots once no key will be looked up any more: the
// groups are emitted from their refs or locations and the pages alone.
func (t *bytesTable) seal() {
	bigFree(t.slots)
	t.slots = nil
}

// emitted gives back what held the keys of groups [0, n), which have been
// emitted: their refs or locations, and every page that holds none of the
// keys still to come. Keys are stored in group order (pages fill one after
// the other as groups are added), so the pages before the one holding the
// key of the first paged group from n on hold keys of groups below n alone.
func (t *bytesTable) emitted(n int) {
	bigRelease(t.loc, t.done, n)
	bigRelease(t.refs, t.done, n)
	t.done = n
	keep := len(t.pages)
	if g := t.firstPaged(n); g < t.groups() {
		keep = int(t.location(g) >> 32)
	}
	for ; t.freed < keep; t.freed++ {
		t.pagedCap -= cap(t.pages[t.freed])
		bigFree(t.pages[t.freed])
		t.pages[t.freed] = nil // a read of it now fails loudly
	}
}

// firstPaged returns the first group from n on whose key lies (in part) in
// the pages, or groups() when none does. The scan resumes where the last
// one stopped: over the whole emission it reads each ref once.
func (t *bytesTable) firstPaged(n int) int {
	g := max(t.nextPaged, n)
	if !t.located() {
		for g < len(t.refs) && binary.LittleEndian.Uint32(t.refs[g][:4]) <= inlineKey {
			g++
		}
	}
	t.nextPaged = g
	return g
}

// location is where the paged part of group g's key lies (page<<32 |
// offset); g's key must be paged.
func (t *bytesTable) location(g int) uint64 {
	if t.located() {
		return t.loc[g]
	}
	return binary.LittleEndian.Uint64(t.refs[g][8:])
}

// hashes writes the hash of the key of each group of [from, to) into dst.
func (t *bytesTable) hashes(from, to int, dst []uint64) {
	for g := from; g < to; g++ {
		dst[g-from] = hashBytes(t.key(g))
	}
}

// add records a new group with key k and returns its id.
func (t *bytesTable) add(k []byte) uint32 {
	if t.located() {
		g := uint32(len(t.loc))
		t.loc = append(bigGrow(t.loc, 1), t.store(k))
		return g
	}
	var r keyRef
	binary.LittleEndian.PutUint32(r[:4], uint32(len(k)))
	if len(k) <= inlineKey {
		copy(r[4:], k)
	} else {
		copy(r[4:8], k)
		binary.LittleEndian.PutUint64(r[8:], t.store(k[4:]))
	}
	g := uint32(len(t.refs))
	t.refs = append(bigGrow(t.refs, 1), r)
	return g
}

// find returns the group of key k with hash h, adding a group when k is new;
// added reports which.
func (t *bytesTable) find(h uint64, k []byte) (gid uint32, added bool) {
	tag := h >> 32 << 32
	i := h >> t.shift
	if t.located() {
		for {
			s := t.slots[i]
			if s == 0 {
				break
			}
			if s&^0xffffffff == tag {
				g := uint32(s) - 1
				if string(t.paged(t.loc[g], t.width)) == string(k) {
					return g, false
				}
			}
			i = (i + 1) & t.mask
		}
	} else {
		w0, w1 := refWords(k)
		for {
			s := t.slots[i]
			if s == 0 {
				break
			}
			if s&^0xffffffff == tag {
				g := uint32(s) - 1
				r := &t.refs[g]
				if binary.LittleEndian.Uint64(r[:8]) == w0 {
					if len(k) <= inlineKey {
						if binary.LittleEndian.Uint64(r[8:]) == w1 {
							return g, false
						}
					} else if string(t.paged(binary.LittleEndian.Uint64(r[8:]), len(k)-4)) == string(k[4:]) {
						return g, false
					}
				}
			}
			i = (i + 1) & t.mask
		}
	}
	g := t.add(k)
	t.slots[i] = tag | uint64(g+1)
	t.n++
	if t.n*4 >= len(t.slots)*3 {
		t.grow()
	}
	return g, true
}

// prefetch starts loading the home slots of hashes hs (see prefetchAhead).
func (t *bytesTable) prefetch(hs []uint64) {
	if len(hs) > 0 {
		prefetchSlots(unsafe.Pointer(&t.slots[0]), t.shift, 3, &hs[0], len(hs))
	}
}

// addOutside adds a group with an empty key that no probe finds (the NULL
// group of a single string key).
func (t *bytesTable) addOutside() uint32 {
	return t.add(make([]byte, t.width))
}

// free gives back the table's big arrays; t must not be used afterwards.
func (t *bytesTable) free() {
	bigFree(t.slots)
	bigFree(t.refs)
	bigFree(t.loc)
	for _, p := range t.pages {
		bigFree(p)
	}
	*t = bytesTable{width: t.width}
}

func (t *bytesTable) grow() {
	old := t.slots
	defer bigFree(old)
	if t.shift == 32 {
		panic("internal: aggregate hash table past 2^32 slots")
	}
	t.slots = bigMake[uint64](2 * len(old))
	t.mask = uint64(len(t.slots) - 1)
	t.shift--
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := s >> t.shift // the tag is the hash's top 32 bits
		for t.slots[i] != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = s
	}
}

// prefetchBlock is how many rows ahead a batch's home slots are
// prefetched: the home slot of a key in a big table is a cache miss of its
// own, and a probe loop waits for each in turn, while prefetches retire at
// once and overlap. A block ahead is far enough for the misses to overlap,
// near enough that the lines are still in cache when their rows come.
const prefetchBlock = 128

// prefetchNext prefetches, at the start of the block of rows at lo, the home
// slots of the block after it (and of this block too when lo is 0). The
// keyRef a probe reads next is not prefetched: reading the slots a block
// ahead to find their groups cost more than it saved (the misses of a
// block's keyRefs already overlap, and the extra pass does not).
func (t *bytesTable) prefetchNext(hs []uint64, lo int) {
	if lo == 0 {
		t.prefetch(hs[:min(prefetchBlock, len(hs))])
	}
	if next := lo + prefetchBlock; next < len(hs) {
		t.prefetch(hs[next:min(next+prefetchBlock, len(hs))])
	}
}
