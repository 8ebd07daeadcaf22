package textscan

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// slot is one distinct word and its count: 32 bytes, two to a cache line,
// so counting a word the table has seen costs one cache line. Words of up to
// 16 bytes (almost every word of natural text) live in k0/k1, zero-padded,
// and are compared as two integers; a longer word keeps its first 8 bytes in
// k0 and its arena offset in k1.
type slot struct {
	k0, k1 uint64
	n      uint32 // word length; 0 marks an empty slot (there are no empty words)
	h      uint32 // the hash: the home slot when the table grows
	count  uint64
}

// wordTable counts words with open addressing and linear probing.
type wordTable struct {
	slots []slot
	mask  uint64
	used  int
	arena []byte // bytes of words longer than 16
	// touched sums the prefetching loads so the compiler keeps them.
	touched uint32
	blk     [2][block]token // countChunk's words: one block counted while the next is prefetched
	hs      [block]uint32   // hashBlock's scratch
}

const (
	seed0 = 0xa0761d6478bd642f
	seed1 = 0xe7037ed1a0b428db
	seed2 = 0x8ebc6af09c88c6e3
)

func newWordTable(hint int) *wordTable {
	n := 16
	for n < hint {
		n <<= 1
	}
	return &wordTable{slots: allocSlots(n), mask: uint64(n - 1)}
}

// mix folds the 128-bit product of its arguments (wyhash's mum): cheap, and
// every output bit depends on every input bit.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hashShort and hashLong return 32 bits: the low bits pick the home slot, and
// a slot keeps all 32 to find its home again when the table grows.
func hashShort(k0, k1 uint64, n int) uint32 {
	return uint32(mix(k0^seed0, k1^seed1^uint64(n)))
}

func hashLong(w []byte) uint32 {
	h := uint64(len(w)) ^ seed2
	i := 0
	for ; i+8 <= len(w); i += 8 {
		h = mix(h^binary.LittleEndian.Uint64(w[i:]), seed1)
	}
	var last uint64
	for j := len(w) - 1; j >= i; j-- {
		last = last<<8 | uint64(w[j])
	}
	return uint32(mix(h^last^seed0, seed1^uint64(len(w))))
}

// block is how many words countChunk tokenizes at a time. The slots of rare
// words are cold (a miss costs ~100-250 ns), so their misses must overlap
// with each other and with other work: countChunk tokenizes and hashes block
// k+1 and prefetches its home slots before it counts block k, so by the
// time a word is counted its slot is usually in cache.
const block = 256

// countChunk counts every word of b. Words end at len(b): the chunker never
// cuts one. b's capacity must reach pad bytes past its end.
func (t *wordTable) countChunk(b []byte) {
	var k [2]int
	cur, i := 0, 0
	k[0], i = tokenize(b, 0, t.blk[0][:])
	t.hashBlock(b, t.blk[0][:k[0]])
	for k[cur] > 0 {
		nxt := cur ^ 1
		k[nxt] = 0
		if i < len(b) {
			k[nxt], i = tokenize(b, i, t.blk[nxt][:])
			t.hashBlock(b, t.blk[nxt][:k[nxt]])
		}
		t.addBlock(b, t.blk[cur][:k[cur]])
		cur = nxt
	}
}

// hashBlock hashes the words of toks and starts loading their home slots.
func (t *wordTable) hashBlock(b []byte, toks []token) {
	hs := t.hs[:len(toks)]
	for i := range toks {
		p := &toks[i]
		if p.w <= 16 {
			p.h = hashShort(p.k0, p.k1, p.w)
		} else {
			p.h = hashLong(b[p.pos : p.pos+p.w])
		}
		hs[i] = p.h
	}
	if len(toks) == 0 {
		return
	}
	if hasPrefetch {
		prefetchSlots(unsafe.Pointer(&t.slots[0]), t.mask, &hs[0], len(hs))
		return
	}
	// Without a prefetch instruction, plain loads in a loop this short
	// still keep many misses in flight at once.
	slots, mask := t.slots, t.mask
	var touch uint32
	for _, h := range hs {
		touch += slots[uint64(h)&mask].n
	}
	t.touched += touch
}

// addBlock counts the hashed words of toks.
func (t *wordTable) addBlock(b []byte, toks []token) {
	slots, mask := t.slots, t.mask
	for i := range toks {
		p := &toks[i]
		// The common case inline: a short word found in its home slot.
		if s := &slots[uint64(p.h)&mask]; s.k0 == p.k0 && s.k1 == p.k1 && s.n == uint32(p.w) && p.w <= 16 {
			s.count++
			continue
		}
		if p.w <= 16 {
			t.addShort(p.k0, p.k1, p.h, p.w)
		} else {
			t.addLong(b[p.pos:p.pos+p.w], p.h)
		}
		slots, mask = t.slots, t.mask // the table may have grown
	}
}

func (t *wordTable) addShort(k0, k1 uint64, h uint32, w int) {
	for i := uint64(h) & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.k0 == k0 && s.k1 == k1 && s.n == uint32(w) {
			s.count++
			return
		}
		if s.n == 0 {
			*s = slot{k0: k0, k1: k1, n: uint32(w), h: h, count: 1}
			t.inserted()
			return
		}
	}
}

func (t *wordTable) addLong(w []byte, h uint32) {
	k0 := binary.LittleEndian.Uint64(w)
	for i := uint64(h) & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.n == uint32(len(w)) && s.h == h && s.k0 == k0 &&
			string(t.arena[s.k1:s.k1+uint64(len(w))]) == string(w) {
			s.count++
			return
		}
		if s.n == 0 {
			*s = slot{k0: k0, k1: uint64(len(t.arena)), n: uint32(len(w)), h: h, count: 1}
			t.arena = append(t.arena, w...)
			t.inserted()
			return
		}
	}
}

// free releases the slots; the table must not be used afterwards.
func (t *wordTable) free() {
	freeSlots(t.slots)
	t.slots, t.arena = nil, nil
}

func (t *wordTable) word(s *slot) []byte { return t.arena[s.k1 : s.k1+uint64(s.n)] }

// inserted keeps the load under 3/4: linear probing stays short there with a
// well-mixed hash.
func (t *wordTable) inserted() {
	t.used++
	if t.used*4 > len(t.slots)*3 {
		t.grow()
	}
}

// grow doubles the table. A slot's new home is its old home or that plus
// the old size, so walking the old table in order from an empty slot (where
// no probe run wraps around) fills the new one almost sequentially instead of
// missing the cache once per word.
func (t *wordTable) grow() {
	old := t.slots
	defer freeSlots(old)
	t.slots = allocSlots(2 * len(old))
	t.mask = uint64(len(t.slots) - 1)
	start := 0
	for old[start].n != 0 {
		start++
	}
	for k := range old {
		s := &old[(start+k)&(len(old)-1)]
		if s.n == 0 {
			continue
		}
		i := uint64(s.h) & t.mask
		for t.slots[i].n != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = *s
	}
}
