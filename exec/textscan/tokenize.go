package textscan

import (
	"encoding/binary"
	"math/bits"
)

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// sepMask returns the separator bytes of the 8 little-endian bytes in x as a
// mask with bit 7 of each separator byte set, using a couple dozen integer
// operations on the whole word (SWAR) instead of a lookup per byte.
//
// Separators are 09-0D, 20-2F, 3A-40, 5B-60 and 7B-7E. For y < 0x80,
// y + (0x80-c) has bit 7 set exactly when y >= c and never carries into the
// next byte, so "c <= y < d" is bit 7 of ge(c) &^ ge(d).
func sepMask(x uint64) uint64 {
	y := x &^ msb
	m := (y + 0x77*lsb) &^ (y + 0x72*lsb) // 09-0D
	m |= (y + 0x60*lsb) &^ (y + 0x50*lsb) // 20-2F
	m |= (y + 0x46*lsb) &^ (y + 0x3f*lsb) // 3A-40
	m |= (y + 0x25*lsb) &^ (y + 0x1f*lsb) // 5B-60
	m |= (y + 0x05*lsb) &^ (y + 0x01*lsb) // 7B-7E
	return m & msb &^ x                   // bytes >= 0x80 are word bytes
}

// sepBits returns bit q set for each separator byte b[q], q < 64.
func sepBits(b []byte) uint64 {
	_ = b[63]
	var s uint64
	for q := 0; q < 64; q += 8 {
		// Gather bit 7 of each byte into one byte (a movemask by multiply).
		m := sepMask(binary.LittleEndian.Uint64(b[q:]))
		s |= ((m >> 7) * 0x0102040810204080 >> 56) << q
	}
	return s
}

// windows is how many 64-byte windows tokenize classifies at a time: enough
// to pay for a call, few enough that little is wasted when toks fills up.
const windows = 8

// classifyGeneric is classify without SIMD. The windows may run past len(b)
// into its padding.
func classifyGeneric(b []byte, nw int, out *[windows]uint64) {
	b = b[:cap(b)]
	for k := range nw {
		out[k] = sepBits(b[64*k : 64*k+64])
	}
}

// token is one word found by tokenize: where it starts in the chunk, its
// length and its first 16 bytes as two zero-padded little-endian integers
// (all of a word of up to 16 bytes: the Counter compares and hashes them and
// the Reader stores them with two 8-byte writes). h is the Counter's
// scratch.
type token struct {
	k0, k1 uint64
	pos, w int
	h      uint32
}

// loMask[w] and hiMask[w] keep the bytes of a word of w bytes (w <= 16;
// 16 stands for longer words too) within its first and second 8 bytes.
var loMask, hiMask = func() (lo, hi [17]uint64) {
	for w := range lo {
		lo[w] = byteMask(min(w, 8))
		hi[w] = byteMask(max(w-8, 0))
	}
	return
}()

func byteMask(n int) uint64 {
	if n == 8 {
		return ^uint64(0)
	}
	return 1<<(8*n) - 1
}

// tokenize finds the words of b from offset i on and fills toks with up to
// len(toks) of them. It returns how many it found and the offset to continue
// from: the start of the first word it had no room for, or len(b). b[i] must
// start a word or be a separator (or i == 0), and cap(b) must reach pad bytes
// past len(b).
//
// It classifies 64 bytes at a time into a separator bitmap, from which word
// starts and ends fall out with shifts: no branch per byte, about one per
// word, and a word running across windows is carried, not rescanned.
func tokenize(b []byte, i int, toks []token) (int, int) {
	n := len(b)
	b = b[:n+pad]
	k := 0
	open := -1           // start of a word that runs past the last window
	prevSep := uint64(1) // whether the byte before the window is a separator
	prevWord := uint64(0)
	var sb [windows]uint64 // separator bitmaps of the windows from i on
	w, nw := 0, 0
	for ; i < n; i += 64 {
		if w == nw {
			w, nw = 0, min(windows, (n-i+63)/64)
			classify(b[i:], nw, &sb)
		}
		s := sb[w]
		w++
		if n-i < 64 {
			s |= ^uint64(0) << (n - i) // the end of b ends the last word
		}
		words := ^s
		starts := words & (s<<1 | prevSep) // b[q] starts a word
		ends := s & (words<<1 | prevWord)  // a word ends just before b[q]
		prevSep, prevWord = s>>63, words>>63
		if open >= 0 {
			if ends == 0 {
				continue // the whole window is inside the word
			}
			e := i + bits.TrailingZeros64(ends)
			ends &= ends - 1
			if k == len(toks) {
				return k, open
			}
			toks[k].set(b, open, e-open)
			k++
			open = -1
		}
		for starts != 0 {
			st := i + bits.TrailingZeros64(starts)
			if ends == 0 {
				open = st
				break
			}
			if k == len(toks) {
				return k, st
			}
			toks[k].set(b, st, i+bits.TrailingZeros64(ends)-st)
			k++
			starts &= starts - 1
			ends &= ends - 1
		}
	}
	if open >= 0 { // b ends inside a word exactly at a window's end
		if k == len(toks) {
			return k, open
		}
		toks[k].set(b, open, n-open)
		k++
	}
	return k, n
}

func (t *token) set(b []byte, pos, w int) {
	m := min(w, 16)
	t.pos, t.w = pos, w
	t.k0 = binary.LittleEndian.Uint64(b[pos:]) & loMask[m]
	t.k1 = binary.LittleEndian.Uint64(b[pos+8:]) & hiMask[m]
}
