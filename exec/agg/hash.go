package agg

import (
	"encoding/binary"
	"math/bits"
)

// The group hash only has to be good and fast inside one process. It must not
// be the partitioning hash of exec/shuffle: a reduce task sees only keys whose
// partition hash is ≡ r (mod R), and reusing that hash would pile them into a
// fraction of the table's slots. The constants are the hexadecimal digits of
// π (all odd where they multiply).
const (
	hk0 = 0x243f6a8885a308d3
	hk1 = 0x13198a2e03707345
	hk2 = 0xa4093822299f31d1
	hk3 = 0x082efa98ec4e6c89
	hk4 = 0x452821e638d01377
)

// fold multiplies to 128 bits and folds the halves together.
func fold(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hashInt hashes one 64-bit key.
func hashInt(k uint64) uint64 {
	return fold(k^hk0, hk1) ^ k
}

// hashBytes hashes a byte string; the length takes part so that a key and
// the same key followed by zero bytes differ.
func hashBytes(b []byte) uint64 {
	h := uint64(len(b))*hk2 ^ hk0
	for len(b) > 16 {
		h = fold(binary.LittleEndian.Uint64(b)^hk1, binary.LittleEndian.Uint64(b[8:])^h)
		b = b[16:]
	}
	var x, y uint64
	switch n := len(b); {
	case n > 8:
		x = binary.LittleEndian.Uint64(b)
		y = binary.LittleEndian.Uint64(b[n-8:])
	case n >= 4:
		x = uint64(binary.LittleEndian.Uint32(b))
		y = uint64(binary.LittleEndian.Uint32(b[n-4:]))
	case n > 0:
		x = uint64(b[0])<<16 | uint64(b[n/2])<<8 | uint64(b[n-1])
	}
	return fold(fold(x^hk3, y^h^hk4), h^hk1)
}
