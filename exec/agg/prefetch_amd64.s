#include "textflag.h"

// func prefetchSlots(base unsafe.Pointer, shift uint, size uint, hs *uint64, n int)
TEXT ·prefetchSlots(SB), NOSPLIT, $0-40
	MOVQ base+0(FP), AX
	MOVQ shift+8(FP), R8
	MOVQ size+16(FP), R9
	MOVQ hs+24(FP), SI
	MOVQ n+32(FP), DI
	TESTQ DI, DI
	JLE done
loop:
	MOVQ (SI), DX
	MOVQ R8, CX
	SHRQ CX, DX
	MOVQ R9, CX
	SHLQ CX, DX
	PREFETCHT0 (AX)(DX*1)
	ADDQ $8, SI
	DECQ DI
	JNZ loop
done:
	RET
