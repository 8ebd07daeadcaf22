#include "textflag.h"

// func prefetchSlots(base unsafe.Pointer, mask uint64, shift uint, hs *uint64, n int)
TEXT ·prefetchSlots(SB), NOSPLIT, $0-40
	MOVQ base+0(FP), AX
	MOVQ mask+8(FP), BX
	MOVQ shift+16(FP), CX
	MOVQ hs+24(FP), SI
	MOVQ n+32(FP), DI
	TESTQ DI, DI
	JLE done
loop:
	MOVQ (SI), DX
	ANDQ BX, DX
	SHLQ CX, DX
	PREFETCHT0 (AX)(DX*1)
	ADDQ $8, SI
	DECQ DI
	JNZ loop
done:
	RET
